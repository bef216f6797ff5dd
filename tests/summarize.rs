//! End-to-end tests of `anmin summarize`: run files from `anmin train --out` aggregated into
//! a table, a JSON report and an SVG figure; files that cannot be aggregated are rejected.

use std::path::Path;

use serde_json::Value;

mod common;

use common::{anmin, expect_error, read_json, train};

#[test]
fn summarize_aggregates_runs_into_table_json_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for optimizer in ["anmin", "anmin-plain"] {
        for seed in ["0", "1", "2"] {
            runs.push(train(
                dir.path(),
                &format!("{optimizer}-{seed}.json"),
                &[
                    "--optimizer",
                    optimizer,
                    "--seed",
                    seed,
                    "--hidden",
                    "8",
                    "--iters",
                    "3",
                ],
            ));
        }
    }
    let summary_path = dir.path().join("summary.json");
    let figure_path = dir.path().join("figure.svg");
    let assert = anmin()
        .arg("summarize")
        .args(&runs)
        .arg("--out")
        .arg(&summary_path)
        .arg("--plot")
        .arg(&figure_path)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("winequality-red.csv, h = 8: 6 runs on 3 splits"),
        "{stdout}"
    );
    assert!(stdout.contains("| anmin "), "{stdout}");
    assert!(stdout.contains("| anmin-plain "), "{stdout}");

    let summary = read_json(&summary_path);
    assert_eq!(summary["command"], "summarize");
    assert_eq!(summary["config"]["hidden"], 8);
    assert_eq!(summary["runs"].as_array().unwrap().len(), 6);
    for optimizer in ["anmin", "anmin-plain"] {
        let aggregate = &summary["aggregates"][optimizer];
        assert_eq!(aggregate["n_runs"], 3, "{optimizer}");
        let finals: Vec<f64> = runs
            .iter()
            .map(|path| read_json(path))
            .filter(|run| run["optimizer"] == optimizer)
            .map(|run| run["final"]["train_mse"].as_f64().unwrap())
            .collect();
        assert_eq!(finals.len(), 3);
        let expected = finals.iter().sum::<f64>() / 3.0;
        let mean = aggregate["train_mse"]["mean"].as_f64().unwrap();
        assert!(
            (mean - expected).abs() <= 1e-12 * expected,
            "{optimizer}: mean train MSE {mean}, from the run files {expected}"
        );
        let wins = aggregate["wins_train"].as_u64().unwrap();
        assert!(wins <= 3);
        let curve = &summary["curves"][optimizer]["train_mse"];
        let grid_points = summary["curves"]["time_s"].as_array().unwrap().len();
        assert_eq!(grid_points, 100);
        assert_eq!(curve["mean"].as_array().unwrap().len(), grid_points);
        // Every run has ended by the last grid time and is held there.
        assert_eq!(curve["n"][grid_points - 1], 3);
    }
    // Every seed is won by at least one of the two optimizers.
    let total_wins = summary["aggregates"]["anmin"]["wins_train"]
        .as_u64()
        .unwrap()
        + summary["aggregates"]["anmin-plain"]["wins_train"]
            .as_u64()
            .unwrap();
    assert!(total_wins >= 3);

    let svg = std::fs::read_to_string(&figure_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the figure is well-formed XML");
    let colors = anmin::plot::optimizer_colors(["anmin", "anmin-plain"]);
    for optimizer in ["anmin", "anmin-plain"] {
        let c = colors[optimizer];
        let stroke = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        let curves = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(&stroke))
            .count();
        assert!(curves >= 4, "{optimizer}: {curves} curves");
        let named = doc
            .descendants()
            .any(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(optimizer));
        assert!(named, "legend does not name {optimizer}");
    }
}

#[test]
fn summarize_rejects_what_it_cannot_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let small = ["--hidden", "4", "--iters", "1"];
    let run = train(
        dir.path(),
        "run.json",
        &[&small[..], &["--seed", "0"]].concat(),
    );
    let other_seed = train(
        dir.path(),
        "seed1.json",
        &[&small[..], &["--seed", "1"]].concat(),
    );

    let expect_error = |files: &[&Path], message: &str| {
        expect_error(anmin().arg("summarize").args(files), 2, message);
    };

    // Not run files: other JSON, CSV text, a missing file.
    let not_a_run = dir.path().join("other.json");
    std::fs::write(&not_a_run, b"{\"format\": 1}").unwrap();
    expect_error(&[&run, &not_a_run], "other.json: not an anmin run file");
    let csv = dir.path().join("data.csv");
    std::fs::write(&csv, b"a,y\n1,2\n3,4\n5,6\n").unwrap();
    expect_error(&[&csv], "data.csv: not an anmin run file");
    let binary = dir.path().join("image.json");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\x00\xff").unwrap();
    expect_error(&[&binary], "image.json: not an anmin run file");
    expect_error(
        &[&run, &dir.path().join("absent.json")],
        "absent.json: cannot read file",
    );

    // Another hidden size.
    let wider = train(dir.path(), "wider.json", &["--hidden", "5", "--iters", "1"]);
    expect_error(&[&run, &wider], "different hidden sizes (h = 4 and h = 5)");
    expect_error(&[&run, &wider], "wider.json");

    // Another test fraction.
    let all_rows = train(
        dir.path(),
        "all-rows.json",
        &[&small[..], &["--seed", "1", "--test-frac", "0"]].concat(),
    );
    expect_error(&[&run, &all_rows], "different test fractions (0.2 and 0)");

    // An aggregate instead of runs.
    let summary = dir.path().join("summary.json");
    anmin()
        .arg("summarize")
        .arg(&run)
        .arg("--out")
        .arg(&summary)
        .assert()
        .success();
    expect_error(&[&run, &summary], "summary.json: not an anmin run file");

    // Another dataset.
    let mut rows = String::from("x,y\n");
    for i in 0..20 {
        rows.push_str(&format!("{i},{}\n", (i * i) % 7));
    }
    let data = dir.path().join("small.csv");
    std::fs::write(&data, rows).unwrap();
    let elsewhere = dir.path().join("elsewhere.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(small)
        .args(["--quiet", "--out"])
        .arg(&elsewhere)
        .assert()
        .success();
    expect_error(&[&run, &elsewhere], "are runs with different datasets");

    // The same optimizer and seed twice.
    let copy = dir.path().join("copy.json");
    std::fs::copy(&run, &copy).unwrap();
    expect_error(
        &[&run, &other_seed, &copy],
        "are both runs of anmin on split seed 0",
    );
    expect_error(&[&run, &other_seed, &copy], "copy.json");
}

#[test]
fn runs_with_different_settings_get_a_row_each() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--hidden", "4", "--iters", "2"];
    let mut runs = Vec::new();
    for (ridge, seeds) in [("0", ["0", "1"]), ("0.01", ["0", "1"])] {
        for seed in seeds {
            let args = [&base[..], &["--ridge", ridge, "--seed", seed]].concat();
            runs.push(train(
                dir.path(),
                &format!("anmin-{ridge}-{seed}.json"),
                &args,
            ));
        }
    }
    // An Adam run with its own defaults (lr etc.) is one row: settings only split the runs
    // of one optimizer.
    runs.push(train(
        dir.path(),
        "adam.json",
        &["--hidden", "4", "--optimizer", "adam", "--epochs", "2"],
    ));
    let summary_path = dir.path().join("summary.json");
    let figure_path = dir.path().join("figure.svg");
    let assert = anmin()
        .arg("summarize")
        .args(&runs)
        .arg("--out")
        .arg(&summary_path)
        .arg("--plot")
        .arg(&figure_path)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("5 runs on 2 splits"), "{stdout}");
    for row in ["| adam ", "| anmin ridge=0.0 ", "| anmin ridge=0.01 "] {
        assert!(stdout.contains(row), "no row {row:?}: {stdout}");
    }

    let summary = read_json(&summary_path);
    let aggregates = summary["aggregates"].as_object().unwrap();
    let keys: Vec<&String> = aggregates.keys().collect();
    assert_eq!(keys, ["adam", "anmin ridge=0.0", "anmin ridge=0.01"]);
    let strong = &aggregates["anmin ridge=0.01"];
    assert_eq!(strong["optimizer"], "anmin");
    assert_eq!(strong["settings"], serde_json::json!({ "ridge": 0.01 }));
    assert_eq!(strong["n_runs"], 2);
    assert!(aggregates["adam"].get("settings").is_none());
    // Each row's statistics are of its own runs only.
    let mean_of = |ridge: &str| {
        let finals: Vec<f64> = ["0", "1"]
            .iter()
            .map(|seed| {
                let run = read_json(&dir.path().join(format!("anmin-{ridge}-{seed}.json")));
                run["final"]["train_mse"].as_f64().unwrap()
            })
            .collect();
        finals.iter().sum::<f64>() / 2.0
    };
    for (key, ridge) in [("anmin ridge=0.0", "0"), ("anmin ridge=0.01", "0.01")] {
        let mean = aggregates[key]["train_mse"]["mean"].as_f64().unwrap();
        assert!((mean - mean_of(ridge)).abs() <= 1e-12 * mean, "{key}");
    }
    // The rows compete for wins like optimizers: on each of the 2 splits someone wins.
    let wins: u64 = aggregates
        .values()
        .map(|a| a["wins_train"].as_u64().unwrap())
        .sum();
    assert!(wins >= 2);
    for key in keys {
        assert!(
            summary["curves"].get(key.as_str()).is_some(),
            "curves of {key}"
        );
    }
    let run_settings: Vec<&Value> = summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["settings"]["ridge"])
        .collect();
    assert_eq!(run_settings.len(), 5);

    // The figure's legend names each row.
    let svg = std::fs::read_to_string(&figure_path).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    for row in ["adam", "anmin ridge=0.0", "anmin ridge=0.01"] {
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(row)),
            "legend lacks {row}"
        );
    }

    // Two runs of one row on one seed are still refused.
    let copy = dir.path().join("copy.json");
    std::fs::copy(&runs[2], &copy).unwrap();
    expect_error(
        anmin().arg("summarize").args(&runs).arg(&copy),
        2,
        "are both runs of anmin ridge=0.01 on split seed 0",
    );
}
