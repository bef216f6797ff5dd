//! SIGINT handling end to end: `train` writes the history so far with stop reason
//! `interrupted`; `compare` keeps every finished run, writes the aggregate over them, exits
//! with 130, and `--resume` completes it to exactly the uninterrupted result.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{read_json, timeless_aggregates};

fn anmin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("anmin"))
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until `ready` holds (polling), failing the test after a minute.
fn wait_for(mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn train_writes_the_history_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.json");
    // A long Adam run on the embedded data; stderr reports nothing until the interrupt.
    let mut child = anmin()
        .args([
            "train",
            "--optimizer",
            "adam",
            "--epochs",
            "1000000",
            "--hidden",
            "8",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to load the data and run some epochs.
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let run = read_json(&out);
    assert_eq!(run["stop_reason"], "interrupted");
    let history = run["history"].as_array().unwrap();
    assert!(history.len() > 1, "some epochs ran before the interrupt");
    assert_eq!(run["final"], *history.last().unwrap());
}

#[test]
fn compare_keeps_finished_runs_and_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp.json");
    let runs = dir.path().join("cmp.json.runs.jsonl");
    // Slow enough to be interrupted midway: one job, LBFGS and ANMIN on 12 splits.
    let args = [
        "compare",
        "--splits",
        "12",
        "--jobs",
        "1",
        "--optimizers",
        "anmin,lbfgs",
        "--hidden",
        "32",
        "--iters",
        "25",
        "--quiet",
    ];
    let child = anmin()
        .args(args)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(|| lines(&runs) >= 2);
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--resume"), "{stderr}");

    // Every line of the runs file is a whole run, and the aggregate covers exactly them.
    let finished = lines(&runs);
    assert!((2..24).contains(&finished), "{finished} runs finished");
    for line in std::fs::read_to_string(&runs).unwrap().lines() {
        let run: Value = serde_json::from_str(line).expect("a whole JSON run per line");
        assert_ne!(run["stop_reason"], "interrupted");
    }
    let partial = read_json(&out);
    assert_eq!(partial["runs"].as_array().unwrap().len(), finished);

    // Resume, then compare with an uninterrupted comparison.
    let status = anmin()
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(lines(&runs), 24);
    let resumed = read_json(&out);

    let fresh_out = dir.path().join("fresh.json");
    let status = anmin()
        .args(args)
        .arg("--out")
        .arg(&fresh_out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let fresh = read_json(&fresh_out);
    assert_eq!(timeless_aggregates(&resumed), timeless_aggregates(&fresh));
}
