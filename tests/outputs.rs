//! Output files: every command checks at start-up that its outputs can be created, before it
//! reads any input or trains; a write that still fails at the end comes after the summary;
//! messages name the user's path, never a temporary file.

use std::process::Stdio;
use std::time::{Duration, Instant};

use predicates::prelude::*;

mod common;

use common::{anmin, expect_error, files_in, scratch};

#[test]
fn every_command_checks_its_outputs_before_reading_or_training() {
    let dir = scratch();
    let missing = dir.path().join("missing");
    let out = |name: &str| missing.join(name).to_str().unwrap().to_owned();
    let (run_json, model, svg) = (out("run.json"), out("model.json"), out("fig.svg"));
    let (csv, png, man_dir) = (out("out.csv"), out("out.png"), out("man"));
    // Inputs that do not exist: were they read first, the error would name them.
    let absent = "/no/such/input";
    // Each case ends with the output's flag and path.
    let cases: Vec<Vec<&str>> = vec![
        vec!["train", "--data", absent, "--out", &run_json],
        vec!["train", "--save-model", &model],
        vec!["train", "--save-initial-model", &model],
        vec!["compare", "--data", absent, "--out", &run_json],
        vec!["compare", "--data", absent, "--plot", &svg],
        vec!["summarize", absent, "--out", &run_json],
        vec!["summarize", absent, "--plot", &svg],
        vec![
            "predict", "--model", absent, "--data", absent, "--out", &csv,
        ],
        vec!["gen", "sdf", "--out", &csv],
        vec!["gen", "dae", "--out", &csv],
        vec!["render", "--model", absent, "--out", &png],
        vec!["denoise", "--model", absent, "--out", &png],
        vec!["man", "--dir", &man_dir],
    ];
    for args in cases {
        let [.., flag, path] = args[..] else {
            unreachable!()
        };
        let assert = anmin()
            .args(&args)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(format!("error: {flag} {path}")))
            .stderr(predicate::str::contains("does not exist"))
            .stderr(predicate::str::contains(absent).not());
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(!stderr.contains(".anmin-"), "{args:?}: {stderr}");
    }

    // Before training: a run that would take hours fails at once.
    let started = Instant::now();
    expect_error(
        anmin()
            .args([
                "train",
                "--optimizer",
                "adam",
                "--epochs",
                "100000000",
                "--out",
            ])
            .arg(&run_json)
            .timeout(Duration::from_secs(60)),
        2,
        "does not exist",
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!missing.exists());
}

#[test]
fn an_output_that_is_a_folder_or_named_twice_is_refused() {
    let dir = scratch();
    let out = dir.path().join("cmp.json");
    // compare appends to <out>.runs.jsonl: a folder there is found before any run.
    let runs_file = dir.path().join("cmp.json.runs.jsonl");
    std::fs::create_dir(&runs_file).unwrap();
    expect_error(
        anmin()
            .args(["compare", "--splits", "1", "--out"])
            .arg(&out),
        2,
        &format!("{}: is a folder, not a file", runs_file.display()),
    );
    let run = dir.path().join("run.json");
    expect_error(
        anmin()
            .args(["train", "--out"])
            .arg(&run)
            .arg("--save-model")
            .arg(dir.path().join(".").join("run.json")),
        2,
        "--out and --save-model both name",
    );
    assert_eq!(files_in(dir.path()), ["cmp.json.runs.jsonl"]);
}

/// Runs `anmin <args, split at spaces> <a file in a new folder>` and removes that folder a
/// second after the start (the check at start-up takes milliseconds), while the command is
/// still working. Returns the exit code, stdout, stderr and the file's path.
#[cfg(unix)]
fn run_while_the_folder_disappears(
    args: &str,
    file: &str,
) -> (Option<i32>, String, String, String) {
    let dir = scratch();
    let folder = dir.path().join("results");
    std::fs::create_dir(&folder).unwrap();
    let out = folder.join(file);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("anmin"))
        .args(args.split_whitespace())
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    // The command may create a file (compare appends each finished run, creating the runs
    // file) between remove_dir_all's unlinking and its rmdir: try again.
    let mut attempts = 0;
    while let Err(e) = std::fs::remove_dir_all(&folder) {
        attempts += 1;
        assert!(attempts < 100, "cannot remove {}: {e}", folder.display());
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        out.display().to_string(),
    )
}

#[cfg(unix)]
#[test]
fn a_write_that_fails_at_the_end_comes_after_the_summary() {
    // A run of three seconds.
    let (code, stdout, stderr, out) = run_while_the_folder_disappears(
        "train --optimizer adam --epochs 100000000 --hidden 4 --max-seconds 3 --out",
        "run.json",
    );
    assert_eq!(code, Some(1), "{stderr}");
    // The run is not lost from the screen.
    assert!(stdout.contains("stopped (max_seconds)"), "{stdout}");
    assert!(stdout.contains("final"), "{stdout}");
    // The error names the path given, not the temporary file.
    assert!(
        stderr.contains(&format!("error: {out}: cannot write: ")),
        "{stderr}"
    );
    assert!(!stderr.contains(".anmin-"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn compare_prints_the_finished_runs_when_its_runs_file_fails() {
    // Many quick runs, one at a time.
    let (code, stdout, stderr, out) = run_while_the_folder_disappears(
        "compare --optimizers anmin --splits 100000 --jobs 1 --hidden 2 --iters 1 --quiet --out",
        "cmp.json",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("| anmin "),
        "the table of the finished runs: {stdout}"
    );
    assert!(
        stderr.contains(&format!("error: {out}.runs.jsonl: cannot write: ")),
        "{stderr}"
    );
}
