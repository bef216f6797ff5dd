//! `anmin compare`: counts and figure on the embedded dataset, and the same aggregates as a
//! shell loop of `anmin train` plus `anmin summarize` on the same seeds.

mod common;

use std::path::{Path, PathBuf};

use common::{anmin, read_json, timeless_aggregates, train};
use serde_json::Value;

const SETTINGS: [&str; 6] = ["--hidden", "8", "--iters", "3", "--epochs", "4"];

/// The flags of SETTINGS that `train --optimizer optimizer` takes (compare passes each
/// optimizer only the flags that apply to it).
fn train_flags(optimizer: &str) -> Vec<&'static str> {
    let budget = if matches!(optimizer, "sgd" | "adam") {
        ["--epochs", "4"]
    } else {
        ["--iters", "3"]
    };
    vec!["--hidden", "8", budget[0], budget[1]]
}

#[test]
fn compare_counts_figure_and_agreement_with_summarize() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp.json");
    let plot = dir.path().join("cmp.svg");
    let optimizers = ["anmin", "anmin-plain", "adam", "sgd", "lbfgs"];
    anmin()
        .args([
            "compare",
            "--splits",
            "3",
            "--jobs",
            "2",
            "--quiet",
            "--optimizers",
        ])
        .arg(optimizers.join(","))
        .args(SETTINGS)
        .arg("--out")
        .arg(&out)
        .arg("--plot")
        .arg(&plot)
        .assert()
        .success()
        .stdout(predicates::str::contains("| anmin "));
    let cmp = read_json(&out);
    assert_eq!(cmp["command"], "compare");
    assert_eq!(cmp["runs"].as_array().unwrap().len(), 15);
    for name in optimizers {
        assert_eq!(cmp["aggregates"][name]["n_runs"], 3, "{name}");
        for key in ["train_mse", "test_mse", "test_r2", "time_s"] {
            assert!(
                cmp["aggregates"][name][key]["mean"].is_number(),
                "{name} {key}"
            );
            assert!(
                cmp["aggregates"][name][key]["std"].is_number(),
                "{name} {key}"
            );
        }
        assert!(
            cmp["curves"][name]["train_mse"]["mean"].is_array(),
            "{name}"
        );
    }
    let wins: u64 = optimizers
        .iter()
        .map(|n| cmp["aggregates"][*n]["wins_train"].as_u64().unwrap())
        .sum();
    assert!(wins >= 3, "each split has at least one winner");
    // Every finished run is in the runs file, one per line.
    let runs_file = dir.path().join("cmp.json.runs.jsonl");
    let lines = std::fs::read_to_string(&runs_file).unwrap();
    assert_eq!(lines.lines().count(), 15);

    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the figure is XML");
    let curves = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") || n.has_tag_name("path"))
        .count();
    assert!(curves >= optimizers.len(), "{curves} curves");
    for name in optimizers {
        assert!(
            doc.descendants()
                .any(|n| n.text().is_some_and(|t| t.trim() == name)),
            "legend names {name}"
        );
    }

    // The same seeds through a shell loop of `train`, then `summarize`.
    let files = train_each(dir.path(), &optimizers, 3, &[]);
    assert_eq!(summarized(dir.path(), &files), timeless_aggregates(&cmp));
}

/// A shell loop of `anmin train` over `optimizers` and split seeds 0 … seeds−1, each with
/// `extra` and the flags of SETTINGS it takes: the run files, as `compare` would make them.
/// `anmin compare` of `optimizers` on two splits with SETTINGS and `extra`, written to
/// `dir/name`; its report.
fn compare_two_splits(dir: &Path, name: &str, optimizers: &[&str], extra: &[&str]) -> Value {
    let out = dir.join(name);
    anmin()
        .args(["compare", "--splits", "2", "--quiet"])
        .args(extra)
        .arg("--optimizers")
        .arg(optimizers.join(","))
        .args(SETTINGS)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    read_json(&out)
}

fn train_each(dir: &Path, optimizers: &[&str], seeds: usize, extra: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for optimizer in optimizers {
        for seed in 0..seeds {
            let seed = seed.to_string();
            let mut args = vec!["--optimizer", optimizer, "--seed", &seed];
            args.extend(extra);
            args.extend(train_flags(optimizer));
            files.push(train(dir, &format!("{optimizer}-{seed}.json"), &args));
        }
    }
    files
}

/// The aggregates, times aside, of `anmin summarize` over `files`.
fn summarized(dir: &std::path::Path, files: &[std::path::PathBuf]) -> serde_json::Value {
    let summary = dir.join("summary.json");
    anmin()
        .arg("summarize")
        .args(files)
        .arg("--out")
        .arg(&summary)
        .assert()
        .success();
    timeless_aggregates(&read_json(&summary))
}

/// The per-run summaries without their times.
fn timeless_runs(report: &Value) -> Value {
    let mut runs = report["runs"].clone();
    for run in runs.as_array_mut().unwrap() {
        let run = run.as_object_mut().unwrap();
        run.remove("time_s");
        for entry in ["final", "best"] {
            run[entry].as_object_mut().unwrap().remove("time_s");
        }
    }
    runs
}

#[test]
fn shards_merged_by_summarize_give_the_single_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let compare = |out: &Path, shard: Option<&str>| {
        let mut cmd = anmin();
        cmd.args([
            "compare",
            "--splits",
            "5",
            "--quiet",
            "--optimizers",
            "anmin,adam",
        ])
        .args(SETTINGS)
        .arg("--out")
        .arg(out);
        if let Some(shard) = shard {
            cmd.args(["--shard", shard]);
        }
        cmd.assert().success();
    };
    let single = dir.path().join("single.json");
    compare(&single, None);
    let mut runs_files = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = dir.path().join(format!("shard{}.json", &shard[..1]));
        compare(&out, Some(shard));
        runs_files.push(
            dir.path()
                .join(format!("shard{}.json.runs.jsonl", &shard[..1])),
        );
    }
    // Shard 1 of 2 runs seeds 0, 2, 4; shard 2 seeds 1, 3.
    let first = read_json(&dir.path().join("shard1.json"));
    assert_eq!(first["aggregates"]["anmin"]["n_runs"], 3);
    assert_eq!(first["config"]["shard"], "1/2");

    let merged = dir.path().join("merged.json");
    anmin()
        .arg("summarize")
        .args(&runs_files)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let (merged, single) = (read_json(&merged), read_json(&single));
    assert_eq!(timeless_aggregates(&merged), timeless_aggregates(&single));
    assert_eq!(timeless_runs(&merged), timeless_runs(&single));

    // The same shard twice is the same runs twice: refused, naming both lines.
    anmin()
        .arg("summarize")
        .args([&runs_files[0], &runs_files[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("shard1.json.runs.jsonl:1"));
    anmin()
        .args(["compare", "--splits", "2", "--shard", "3/3"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--shard 3/3 has no splits"));
    anmin().args(["compare", "--shard", "0/2"]).assert().code(2);
}

#[test]
fn ridge_auto_selects_on_every_split_as_train_does() {
    // Each optimizer chooses its own penalty on each split, on the same held-out rows, and
    // each run is the run `train` makes with the same flags.
    let dir = tempfile::tempdir().unwrap();
    let optimizers = ["anmin", "adam"];
    let cmp = compare_two_splits(dir.path(), "auto.json", &optimizers, &["--ridge", "auto"]);
    let runs = cmp["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    let runs_file = std::fs::read_to_string(dir.path().join("auto.json.runs.jsonl")).unwrap();
    for line in runs_file.lines() {
        let run: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(run["config"]["ridge"], "auto");
        assert!(
            run["selection"]["path"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        );
        assert_eq!(run["selection"]["n_val"], run["split"]["n_val"]);
    }

    let files = train_each(dir.path(), &optimizers, 2, &["--ridge", "auto"]);
    assert_eq!(summarized(dir.path(), &files), timeless_aggregates(&cmp));
}

#[test]
fn preprocessing_flags_reach_every_run_as_in_train() {
    // `--scaling robust` (and the other preprocessing flags) used to be recorded in compare's
    // config but not applied: its runs were standard-scaled.
    let dir = tempfile::tempdir().unwrap();
    let optimizers = ["anmin", "adam"];
    let cmp = compare_two_splits(
        dir.path(),
        "robust.json",
        &optimizers,
        &["--scaling", "robust"],
    );
    let robust = train_each(dir.path(), &optimizers, 2, &["--scaling", "robust"]);
    assert_eq!(summarized(dir.path(), &robust), timeless_aggregates(&cmp));
    let standard = train_each(dir.path(), &optimizers, 2, &[]);
    assert_ne!(summarized(dir.path(), &standard), timeless_aggregates(&cmp));
}
