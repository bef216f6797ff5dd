//! SIGINT handling end to end: `train` writes the history so far with stop reason
//! `interrupted`; `compare` keeps every finished run, writes the aggregate over them, exits
//! with 130, and `--resume` completes it to exactly the uninterrupted result.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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
    let started = dir.path().join("started");
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
    let _ = std::fs::write(&started, b"");
    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let run: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(run["stop_reason"], "interrupted");
    let history = run["history"].as_array().unwrap();
    assert!(history.len() > 1, "some epochs ran before the interrupt");
    assert_eq!(run["final"], *history.last().unwrap());
}
