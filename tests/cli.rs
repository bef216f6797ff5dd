//! End-to-end tests of the `anmin` binary: bad input is reported clearly with exit code 2,
//! runs are reproducible, and saved models reproduce the training metrics.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

mod common;

use common::{
    anmin, expect_error, files_in, read_json, run_json, scratch, small_csv, stdout_of, write,
};

/// Runs `anmin train --data <file> <extra>` and expects exit code 2 with `message` on stderr.
fn expect_data_error(file_bytes: &[u8], extra: &[&str], message: &str) {
    let dir = scratch();
    let path = write(dir.path(), "in.csv", file_bytes);
    expect_error(
        anmin().arg("train").arg("--data").arg(&path).args(extra),
        2,
        message,
    );
}

#[test]
fn missing_file() {
    anmin()
        .args(["train", "--data", "/no/such/file.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/no/such/file.csv: cannot read file",
        ));
}

#[test]
fn unreadable_file() {
    let dir = scratch();
    // A directory cannot be read as a file, whoever runs the test.
    anmin()
        .arg("train")
        .arg("--data")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read file"));
}

#[test]
fn empty_file() {
    expect_data_error(b"", &[], "in.csv: file is empty");
}

#[test]
fn header_only() {
    expect_data_error(b"a,b,y\n", &[], "has a header row but no data rows");
}

#[test]
fn ragged_row() {
    expect_data_error(
        b"a,b,y\n1,2,3\n4,5\n",
        &[],
        "in.csv:3: row has 2 fields, but the header has 3 columns",
    );
}

#[test]
fn duplicate_column_names() {
    expect_data_error(
        b"a,b,a\n1,2,3\n",
        &[],
        "in.csv:1:3: duplicate column name \"a\" (also column 1)",
    );
}

#[test]
fn unknown_target() {
    expect_data_error(
        small_csv().as_bytes(),
        &["--target", "price"],
        "no column named \"price\" (given as --target)",
    );
}

#[test]
fn unknown_feature() {
    expect_data_error(
        small_csv().as_bytes(),
        &["--features", "x1,x9"],
        "no column named \"x9\" (given as --features)",
    );
}

#[test]
fn non_numeric_target() {
    expect_data_error(
        small_csv().as_bytes(),
        &["--target", "color", "--task", "regress"],
        "in.csv:2:1: target column \"color\" must be numeric, found \"red\"",
    );
}

#[test]
fn binary_content() {
    expect_data_error(
        b"a,b\n1,2\n\x89PNG\x00\xff\n",
        &[],
        "in.csv:3:1: not UTF-8 text (binary content?)",
    );
}

#[test]
fn too_few_rows() {
    expect_data_error(b"a,y\n1,2\n", &[], "too few rows");
}

#[test]
fn missing_values_are_imputed_unless_dropped() {
    let text = b"a,b,y\n1,2,3\n4,NA,6\n7,8,9\n1,1,1\n5,5,5\n";
    let dir = scratch();
    let path = write(dir.path(), "in.csv", text);
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&path)
        .args(["--hidden", "2", "--iters", "2", "--test-frac", "0", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("dropped").not());
    let run = read_json(&out);
    assert_eq!(run["dataset"]["rows"], 5);
    assert_eq!(run["dataset"]["dropped_rows"], 0);
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&path)
        .args(["--drop-missing", "--hidden", "2", "--iters", "2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("dropped 1 of 5 rows"));
    let run = read_json(&out);
    assert_eq!(run["dataset"]["rows"], 4);
    assert_eq!(run["dataset"]["dropped_rows"], 1);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        &["--alpha", "1.0"][..],
        &["--test-frac", "-0.1"],
        &["--hidden", "0"],
        &["--ridge", "nan"],
        &["--optimizer", "anmin-plain", "--variant", "safeguarded"],
    ] {
        anmin()
            .arg("train")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

/// The run JSON with every time measurement removed.
fn without_times(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("time_s");
                map.remove("out");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

#[test]
fn json_contract_and_reproducibility() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let a = run_json(
        dir.path(),
        &data,
        &["--hidden", "8", "--iters", "5", "--seed", "3"],
    );
    let b = run_json(
        dir.path(),
        &data,
        &["--hidden", "8", "--iters", "5", "--seed", "3", "-q"],
    );

    for key in [
        "anmin_version",
        "command",
        "optimizer",
        "config",
        "dataset",
        "split",
        "history",
        "final",
        "best",
        "stop_reason",
    ] {
        assert!(a.get(key).is_some(), "missing top-level key {key}");
    }
    let entry_keys = [
        "iter",
        "time_s",
        "train_mse",
        "test_mse",
        "train_r2",
        "test_r2",
    ];
    for e in a["history"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&a["final"], &a["best"]])
    {
        for key in entry_keys {
            assert!(e.get(key).is_some(), "history entry lacks {key}");
        }
    }
    assert_eq!(a["history"][0]["iter"], 0);
    assert_eq!(a["command"], "train");
    assert_eq!(a["optimizer"], "anmin");
    assert_eq!(a["config"]["hidden"], 8);
    assert_eq!(a["config"]["iters"], 5);
    assert_eq!(a["config"]["variant"], "safeguarded");
    assert_eq!(a["config"]["alpha"], 0.0);
    assert_eq!(a["dataset"]["features"][0], "color=blue");
    assert_eq!(
        a["dataset"]["categorical"]["color"],
        serde_json::json!(["blue", "green", "red"])
    );
    assert_eq!(a["split"]["n_train"], 48);
    assert_eq!(a["split"]["n_test"], 12);

    let mut a_cmp = without_times(a);
    let mut b_cmp = without_times(b);
    // Only the --quiet flag differs.
    a_cmp["config"]["quiet"] = Value::Null;
    b_cmp["config"]["quiet"] = Value::Null;
    assert_eq!(a_cmp, b_cmp, "same seed, same JSON apart from times");

    let c = run_json(
        dir.path(),
        &data,
        &["--hidden", "8", "--iters", "5", "--seed", "4"],
    );
    assert_ne!(
        c["history"][0]["train_mse"],
        a_cmp["history"][0]["train_mse"]
    );
}

#[test]
fn no_test_set_gives_null_test_metrics() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let run = run_json(
        dir.path(),
        &data,
        &["--hidden", "4", "--iters", "2", "--test-frac", "0"],
    );
    assert_eq!(run["split"]["n_test"], 0);
    assert!(run["final"]["test_mse"].is_null());
    assert!(run["final"]["test_r2"].is_null());
    assert!(run["final"]["train_mse"].is_number());
    // Why they are null, for the run and per output; defined metrics are not listed.
    let reasons = serde_json::json!({ "test_mse": "no_test_set", "test_r2": "no_test_set" });
    assert_eq!(run["undefined_metrics"], reasons);
    assert_eq!(run["per_output"][0]["undefined_metrics"], reasons);
    // The history entries keep exactly their keys.
    let keys: Vec<&String> = run["final"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "iter",
            "test_mse",
            "test_r2",
            "time_s",
            "train_mse",
            "train_r2"
        ]
    );

    let with_test = run_json(dir.path(), &data, &["--hidden", "4", "--iters", "2"]);
    assert!(with_test.get("undefined_metrics").is_none(), "{with_test}");
}

#[test]
fn many_targets_are_abbreviated_in_the_summary() {
    let dir = scratch();
    let names: Vec<String> = (0..12).map(|j| format!("p{j}")).collect();
    let mut text = format!("x1,x2,{}\n", names.join(","));
    for i in 0..40 {
        let (x1, x2) = ((i as f64 * 0.3).sin(), (i as f64 * 0.7).cos());
        let ys: Vec<String> = (0..12).map(|j| (x1 * j as f64 + x2).to_string()).collect();
        text.push_str(&format!("{x1},{x2},{}\n", ys.join(",")));
    }
    let data = write(dir.path(), "wide.csv", text.as_bytes());
    let first_line = |targets: &[&str]| {
        let stdout = stdout_of(
            anmin()
                .arg("train")
                .arg("--data")
                .arg(&data)
                .args(targets)
                .args(["--hidden", "3", "--iters", "1", "-q"]),
        );
        stdout.lines().next().unwrap().to_owned()
    };
    let line = first_line(&["--target-prefix", "p"]);
    assert!(line.ends_with("2 features, 12 targets: p0 … p11"), "{line}");
    // A handful is listed in full.
    let line = first_line(&[
        "--target",
        "p0,p1,p2",
        "--drop",
        "p3,p4,p5,p6,p7,p8,p9,p10,p11",
    ]);
    assert!(line.ends_with("targets p0, p1, p2"), "{line}");
}

#[test]
fn predict_reproduces_the_training_mse() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let model = dir.path().join("model.json");
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(["--hidden", "6", "--iters", "8", "--test-frac", "0", "--out"])
        .arg(&out)
        .arg("--save-model")
        .arg(&model)
        .assert()
        .success();
    let run = read_json(&out);
    let trained_mse = run["final"]["train_mse"].as_f64().unwrap();

    let preds = dir.path().join("preds.csv");
    let assert = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&preds)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("MSE"), "{stdout}");

    let text = std::fs::read_to_string(&preds).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("predicted_y"));
    let predicted: Vec<f64> = lines.map(|l| l.parse().unwrap()).collect();
    assert_eq!(predicted.len(), 60);
    let truth: Vec<f64> = small_csv()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let mse = predicted
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / 60.0;
    assert!(
        (mse - trained_mse).abs() <= 1e-9 * trained_mse.max(1e-12),
        "predict MSE {mse} vs reported {trained_mse}"
    );
}

#[test]
fn predict_answers_unknown_categories_and_missing_columns() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let model = dir.path().join("model.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(["--hidden", "3", "--iters", "1", "-q", "--save-model"])
        .arg(&model)
        .assert()
        .success();
    let new = write(dir.path(), "new.csv", b"color,x1,x2\npurple,0.1,0.2\n");
    // An unknown category is answered (none of the known categories) and said on stderr.
    anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&new)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("predicted_y\n"))
        .stderr(predicate::str::contains(
            "warning: column \"color\": 1 row with a category the model never saw, encoded as \
             none of its categories (first at ",
        ))
        .stderr(predicate::str::contains("new.csv:2:1: \"purple\")"));
    let new = write(dir.path(), "new2.csv", b"color,x1\nred,0.1\n");
    anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&new)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "column \"x2\", a model input, is not in ",
        ));
    let bad_model = write(dir.path(), "bad.json", b"{\"format\": 1}");
    anmin()
        .args(["predict", "--model"])
        .arg(&bad_model)
        .arg("--data")
        .arg(&new)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an anmin model file"));
}

#[test]
fn default_dataset_runs_and_output_is_written_whole() {
    let dir = scratch();
    let out = dir.path().join("run.json");
    let assert = anmin()
        .args(["train", "--iters", "2", "--hidden", "8", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("winequality-red.csv"), "{stdout}");
    assert!(stdout.contains("final"), "{stdout}");
    let run = read_json(&out);
    assert_eq!(run["dataset"]["rows"], 1599);
    assert_eq!(run["dataset"]["targets"][0], "quality");
    // No temporary or probe files are left beside the output.
    assert_eq!(files_in(dir.path()), ["run.json"]);
}

#[test]
fn inapplicable_optimizer_flags_are_rejected() {
    for (args, message) in [
        (
            &["--optimizer", "anmin", "--lr", "0.1"][..],
            "--lr does not apply to --optimizer anmin (it applies to sgd, adam, lbfgs)",
        ),
        (
            &["--optimizer", "adam", "--iters", "5"],
            "--iters does not apply to --optimizer adam",
        ),
        (
            &["--optimizer", "lbfgs", "--momentum", "0.5"],
            "--momentum does not apply",
        ),
        (
            &["--optimizer", "sgd", "--variant", "plain"],
            "--variant does not apply",
        ),
        (
            &["--epochs", "10"],
            "--epochs does not apply to --optimizer anmin",
        ),
    ] {
        anmin()
            .arg("train")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn gradient_baselines_share_the_contract_and_the_initial_network() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let reference = run_json(dir.path(), &data, &["--hidden", "8", "--iters", "2"]);
    for (optimizer, budget, entries) in [
        ("sgd", "--epochs", 4),
        ("adam", "--epochs", 4),
        ("lbfgs", "--iters", 3),
    ] {
        let run = run_json(
            dir.path(),
            &data,
            &[
                "--hidden",
                "8",
                "--optimizer",
                optimizer,
                budget,
                &(entries - 1).to_string(),
            ],
        );
        assert_eq!(run["optimizer"], optimizer);
        assert_eq!(
            run["history"].as_array().unwrap().len(),
            entries,
            "{optimizer}"
        );
        assert_eq!(
            run["history"][0]["train_mse"], reference["history"][0]["train_mse"],
            "{optimizer} starts from the same network as ANMIN"
        );
        assert!(
            run["config"]["lr"].is_number(),
            "{optimizer} records its learning rate"
        );
    }
    let sgd = run_json(
        dir.path(),
        &data,
        &[
            "--hidden",
            "8",
            "--optimizer",
            "sgd",
            "--epochs",
            "2",
            "--seed",
            "5",
        ],
    );
    assert_eq!(sgd["config"]["momentum"], 0.9);
    assert_eq!(sgd["config"]["batch_size"], 32);
    assert_eq!(sgd["config"]["iters"], 2);
}

#[test]
fn diverging_run_keeps_the_best_and_writes_no_nan() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args([
            "--optimizer",
            "sgd",
            "--lr",
            "1e6",
            "--epochs",
            "50",
            "-q",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let run: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(run["stop_reason"], "diverged");
    assert_eq!(run["final"], run["best"]);
    assert!(run["best"]["train_mse"].is_number());
}

#[test]
fn validation_split_keeps_the_iterate_with_the_lowest_validation_mse() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let plain = run_json(dir.path(), &data, &["--hidden", "12", "--iters", "8"]);
    let run = run_json(
        dir.path(),
        &data,
        &["--hidden", "12", "--iters", "8", "--val-frac", "0.25"],
    );
    // The test split does not depend on the validation split.
    assert_eq!(run["split"]["n_test"], plain["split"]["n_test"]);
    assert_eq!(run["split"]["n_val"], 12);
    assert_eq!(run["split"]["n_train"], 36);
    let history = run["history"].as_array().unwrap();
    let lowest = history
        .iter()
        .map(|e| e["val_mse"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(run["final"]["val_mse"].as_f64().unwrap(), lowest);
    let kept = history
        .iter()
        .find(|e| e["val_mse"].as_f64().unwrap() == lowest)
        .unwrap();
    assert_eq!(
        run["final"], *kept,
        "the earliest iterate with the lowest validation MSE"
    );
    assert_eq!(run["last"], *history.last().unwrap());
    assert!(plain.get("last").is_none() && plain["history"][0].get("val_mse").is_none());
}

#[test]
fn saved_model_holds_the_final_iterate() {
    let dir = scratch();
    let data = write(dir.path(), "small.csv", small_csv().as_bytes());
    let model = dir.path().join("model.json");
    let run = {
        let out = dir.path().join("run.json");
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args([
                "--optimizer",
                "adam",
                "--epochs",
                "7",
                "--hidden",
                "6",
                "-q",
                "--save-model",
            ])
            .arg(&model)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        serde_json::from_str::<Value>(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    let saved = read_json(&model);
    assert_eq!(saved["training"]["iter"], run["final"]["iter"]);
    assert_eq!(saved["training"]["iter"], 7);
    assert_eq!(saved["training"]["train_mse"], run["final"]["train_mse"]);
}

#[cfg(unix)]
#[test]
fn outputs_get_the_usual_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let out = dir.path().join("run.json");
    anmin()
        .args(["train", "--iters", "1", "--hidden", "2", "-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    // The same mode as a file created directly under this process's umask.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), mode(&reference));
}
