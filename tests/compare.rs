//! `anmin compare`: counts and figure on the embedded dataset, and the same aggregates as a
//! shell loop of `anmin train` plus `anmin summarize` on the same seeds.

mod common;

use common::{anmin, read_json, timeless_aggregates, train};

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
    let mut files = Vec::new();
    for optimizer in optimizers {
        for seed in 0..3 {
            let seed = seed.to_string();
            let mut args = vec!["--optimizer", optimizer, "--seed", &seed];
            args.extend(train_flags(optimizer));
            files.push(train(
                dir.path(),
                &format!("{optimizer}-{seed}.json"),
                &args,
            ));
        }
    }
    assert_eq!(summarized(dir.path(), &files), timeless_aggregates(&cmp));
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

#[test]
fn ridge_auto_selects_on_every_split_as_train_does() {
    // Each optimizer chooses its own penalty on each split, on the same held-out rows, and
    // each run is the run `train` makes with the same flags.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("auto.json");
    let optimizers = ["anmin", "adam"];
    anmin()
        .args(["compare", "--splits", "2", "--quiet", "--ridge", "auto"])
        .arg("--optimizers")
        .arg(optimizers.join(","))
        .args(SETTINGS)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let cmp = read_json(&out);
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

    let mut files = Vec::new();
    for optimizer in optimizers {
        for seed in ["0", "1"] {
            let mut args = vec!["--optimizer", optimizer, "--seed", seed, "--ridge", "auto"];
            args.extend(train_flags(optimizer));
            files.push(train(
                dir.path(),
                &format!("{optimizer}-{seed}.json"),
                &args,
            ));
        }
    }
    assert_eq!(summarized(dir.path(), &files), timeless_aggregates(&cmp));
}
