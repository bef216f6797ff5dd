//! Helpers shared by the end-to-end tests: the binary, scratch files, fixtures, and the
//! comparisons of JSON outputs that ignore timings.

// Each test file uses a part of these.
#![allow(dead_code)]

pub mod random;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// The `anmin` binary of this build.
pub fn anmin() -> Command {
    Command::cargo_bin("anmin").expect("binary builds")
}

/// A scratch directory removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// The names of the files in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A small regression table (60 rows) with a categorical column: color,x1,x2,y.
pub fn small_csv() -> String {
    let mut s = String::from("color,x1,x2,y\n");
    for i in 0..60 {
        let color = ["red", "green", "blue"][i % 3];
        let x1 = (i as f64 * 0.37).sin();
        let x2 = (i as f64 * 0.11).cos();
        let y =
            2.0 * x1 - x2 + if color == "red" { 1.0 } else { 0.0 } + 0.3 * (5.0 * x1 * x2).sin();
        s.push_str(&format!("{color},{x1},{x2},{y}\n"));
    }
    s
}

/// Runs `anmin train <args> --quiet --out dir/name` (on the embedded data unless `args` give
/// --data) and returns the run file's path.
pub fn train(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    anmin()
        .arg("train")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

/// Runs `anmin train --data <data> <extra>` (the progress bar as the flags say), writing the
/// run file into `dir` under a name made of the flags, and returns its run JSON.
pub fn run_json(dir: &Path, data: &Path, extra: &[&str]) -> Value {
    let out = dir.join(format!(
        "run-{}.json",
        extra.join("_").replace(['-', ' ', '/', '.'], "")
    ));
    anmin()
        .arg("train")
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    read_json(&out)
}

/// Runs `cmd`, expects success, and returns its stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("runs");
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs `cmd` and expects exit code `code`, nothing on stdout, `message` on stderr and no
/// panic.
pub fn expect_error(cmd: &mut Command, code: i32, message: &str) {
    cmd.assert()
        .code(code)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

/// The aggregates of a `summarize` or `compare` report without their timings: what must
/// agree between two routes to the same runs (compare and train + summarize; interrupted
/// and resumed, and uninterrupted).
pub fn timeless_aggregates(report: &Value) -> Value {
    let mut aggregates = report["aggregates"].clone();
    for (_, aggregate) in aggregates.as_object_mut().expect("aggregates object") {
        aggregate
            .as_object_mut()
            .expect("aggregate object")
            .remove("time_s");
    }
    aggregates
}

/// A planted two-input problem, row-major, with its CSV text (numbers printed exactly).
pub fn planted(n: usize) -> (Vec<f64>, Vec<f64>, String) {
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    let mut csv = String::from("a,b,target\n");
    for i in 0..n {
        let a = (i as f64 * 0.731).sin() * 3.0;
        let b = (i as f64 * 0.277).cos() + i as f64 / n as f64;
        let t = (a - b).max(0.0) * 2.0 - (0.5 * a + b).max(0.0) + 0.1 * (7.0 * a).sin();
        x.extend([a, b]);
        y.push(t);
        // `{:?}` prints the shortest text that parses back to the same f64.
        csv.push_str(&format!("{a:?},{b:?},{t:?}\n"));
    }
    (x, y, csv)
}

/// The predictions `anmin predict` writes on stdout (a header, then one number per row).
pub fn predictions(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .skip(1)
        .map(|l| l.parse().expect("a number"))
        .collect()
}
