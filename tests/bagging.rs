//! `--bag K` and the `--auto` preset from the outside: the members the run reports, the
//! model it saves (the members stacked, predicting their mean, so predicting with it gives
//! the run's own test MSE), and the settings that do not go together.

use serde_json::Value;

mod common;

use common::{anmin, planted, predictions, read_json, scratch, write};

/// The planted problem's CSV text.
fn planted_csv(n: usize) -> String {
    planted(n).2
}

fn column(report: &Value, key: &str) -> Vec<usize> {
    report["split"][key]
        .as_array()
        .unwrap_or_else(|| panic!("split.{key} recorded"))
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn a_bagged_run_reports_its_members_and_its_model_predicts_its_test_mse() {
    let dir = scratch();
    let (_, y, csv) = planted(200);
    let data = write(dir.path(), "planted.csv", csv.as_bytes());
    let (out, model) = (dir.path().join("run.json"), dir.path().join("model.json"));
    anmin()
        .args([
            "train", "--quiet", "--hidden", "6", "--bag", "3", "--iters", "6",
        ])
        .args(["--ridge", "1e-4", "--record-split", "--seed", "2"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .arg("--save-model")
        .arg(&model)
        .assert()
        .success();
    let report = read_json(&out);
    let bagging = &report["bagging"];
    let members = bagging["members"].as_array().expect("members");
    assert_eq!(members.len(), 3);
    let n_train = report["split"]["n_train"].as_u64().unwrap();
    // Each training row is held out by exactly one member.
    let held_out: u64 = members.iter().map(|m| m["n_val"].as_u64().unwrap()).sum();
    assert_eq!(held_out, n_train);
    for m in members {
        assert_eq!(
            m["n_fit"].as_u64().unwrap() + m["n_val"].as_u64().unwrap(),
            n_train
        );
        assert_eq!(m["lambda"], 1e-4);
        assert!(m["steps"].as_u64().unwrap() <= 6);
    }
    // The cross-validated MSE is the members' mean validation MSE.
    let mean = members
        .iter()
        .map(|m| m["val_mse"].as_f64().unwrap())
        .sum::<f64>()
        / 3.0;
    assert!((bagging["cv_mse"].as_f64().unwrap() - mean).abs() <= 1e-12 * mean);
    // One history entry per member added, after the initial network.
    assert_eq!(report["history"].as_array().unwrap().len(), 4);
    assert_eq!(report["config"]["bag"], 3);

    // The saved model is the members stacked (3 × 6 units) and reproduces the test MSE.
    let saved = read_json(&model);
    assert_eq!(saved["hidden_weights"].as_array().unwrap().len(), 18);
    assert_eq!(saved["training"]["bag"], 3);
    let predicted = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(predicted.status.success());
    let predictions = predictions(&String::from_utf8(predicted.stdout).unwrap());
    let test = column(&report, "test_rows");
    let mse = test
        .iter()
        .map(|&i| (predictions[i] - y[i]).powi(2))
        .sum::<f64>()
        / test.len() as f64;
    let reported = report["final"]["test_mse"].as_f64().unwrap();
    assert!(
        (mse - reported).abs() <= 1e-9 * reported,
        "predict's test MSE {mse} vs the run's {reported}"
    );
}

#[test]
fn auto_is_ridge_auto_ten_or_five_members_and_ten_iterations_each_overridable() {
    let dir = scratch();
    let train = |data: &std::path::Path, name: &str, flags: &[&str]| {
        let model = dir.path().join(name);
        anmin()
            .args(["train", "--quiet", "--hidden", "4"])
            .args(flags)
            .arg("--data")
            .arg(data)
            .arg("--save-model")
            .arg(&model)
            .assert()
            .success();
        read_json(&model)["hidden_weights"].clone()
    };
    // 150 rows, 120 for training: ten members (at most 2000 training rows).
    let small = write(dir.path(), "small.csv", planted_csv(150).as_bytes());
    let auto = train(&small, "auto.json", &["--auto"]);
    let spelled = train(
        &small,
        "spelled.json",
        &[
            "--ridge",
            "auto",
            "--bag",
            "10",
            "--iters",
            "10",
            "--scaling",
            "auto",
        ],
    );
    assert_eq!(auto, spelled);
    assert_eq!(auto.as_array().unwrap().len(), 10 * 4);
    let two = train(&small, "two.json", &["--auto", "--bag", "2"]);
    assert_eq!(two.as_array().unwrap().len(), 2 * 4);
    let single = train(&small, "single.json", &["--auto", "--bag", "1"]);
    let single_spelled = train(
        &small,
        "single2.json",
        &["--ridge", "auto", "--iters", "10"],
    );
    assert_eq!(single, single_spelled);
    // 2600 rows, 2080 for training: five.
    let large = write(dir.path(), "large.csv", planted_csv(2600).as_bytes());
    let auto = train(&large, "large.json", &["--auto", "--iters", "2"]);
    let spelled = train(
        &large,
        "large2.json",
        &[
            "--ridge",
            "auto",
            "--bag",
            "5",
            "--iters",
            "2",
            "--scaling",
            "auto",
        ],
    );
    assert_eq!(auto, spelled);
    assert_eq!(auto.as_array().unwrap().len(), 5 * 4);
}

#[test]
fn scaling_auto_keeps_the_candidate_its_first_members_validate_better() {
    let dir = scratch();
    // Heavy-tailed inputs, where the two scalings differ; 320 training rows, so that two
    // folds of ten hold at least 50 rows.
    let (_, _, csv) = planted(400);
    let mut lines = csv.lines();
    let mut text = format!("{}\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        cells[0] = cells[0].powi(3) * if i % 7 == 0 { 20.0 } else { 1.0 };
        let cells: Vec<String> = cells.iter().map(f64::to_string).collect();
        text.push_str(&format!("{}\n", cells.join(",")));
    }
    let data = write(dir.path(), "tails.csv", text.as_bytes());
    let base = ["--quiet", "--hidden", "5", "--iters", "6", "--seed", "4"];
    let run = |scaling: &str, bag: &str| {
        let mut flags = base.to_vec();
        flags.extend(["--auto", "--bag", bag, "--scaling", scaling]);
        common::run_json(dir.path(), &data, &flags)
    };
    for bag in ["10", "5", "3"] {
        let auto = run("auto", bag);
        let screening = &auto["bagging"]["screening"];
        let screened = screening["members"].as_u64().unwrap() as usize;
        assert_eq!(screened, (bag.parse::<usize>().unwrap() / 5).max(1));
        let candidates = screening["candidates"].as_array().unwrap();
        let names: Vec<&str> = candidates
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["standard", "robust"]);
        let sums: Vec<f64> = candidates
            .iter()
            .map(|c| {
                let v = c["val_mse"].as_array().unwrap();
                assert_eq!(v.len(), screened);
                v.iter().map(|x| x.as_f64().unwrap()).sum()
            })
            .collect();
        let chosen = screening["chosen"].as_str().unwrap();
        assert_eq!(
            chosen,
            if sums[1] < sums[0] {
                "robust"
            } else {
                "standard"
            }
        );
        // Each candidate's screened members are the first members of its own bag, and the
        // chosen candidate's bag is the whole run: same members, same predictions.
        for (name, candidate) in names.iter().zip(candidates) {
            let alone = run(name, bag);
            let first: Vec<&Value> = alone["bagging"]["members"]
                .as_array()
                .unwrap()
                .iter()
                .take(screened)
                .map(|m| &m["val_mse"])
                .collect();
            assert_eq!(
                first,
                candidate["val_mse"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .collect::<Vec<_>>()
            );
            if *name == chosen {
                assert_eq!(alone["final"]["test_mse"], auto["final"]["test_mse"]);
                let timeless = |run: &Value| {
                    let mut members = run["bagging"]["members"].clone();
                    for m in members.as_array_mut().unwrap() {
                        m.as_object_mut().unwrap().remove("seconds");
                    }
                    members
                };
                assert_eq!(timeless(&alone), timeless(&auto));
            }
        }
        // The run's time counts every candidate's screened members.
        let screened_s: f64 = candidates
            .iter()
            .map(|c| c["seconds"].as_f64().unwrap())
            .sum();
        assert!(auto["final"]["time_s"].as_f64().unwrap() >= screened_s - 1e-9);
    }
    // Too few rows to screen (two folds of ten hold 16 of 80 training rows): standard.
    let few = write(dir.path(), "few.csv", planted_csv(100).as_bytes());
    let mut flags = base.to_vec();
    flags.extend(["--auto"]);
    let auto = common::run_json(dir.path(), &few, &flags);
    assert_eq!(auto["bagging"]["screening"]["members"], 0);
    assert_eq!(auto["bagging"]["screening"]["chosen"], "standard");
    flags.extend(["--scaling", "standard"]);
    let standard = common::run_json(dir.path(), &few, &flags);
    assert_eq!(auto["final"]["test_mse"], standard["final"]["test_mse"]);
    // One network: standard.
    let flags = |scaling: &'static str| {
        let mut f = base.to_vec();
        f.extend(["--ridge", "auto", "--scaling", scaling]);
        f
    };
    let auto = common::run_json(dir.path(), &data, &flags("auto"));
    let standard = common::run_json(dir.path(), &data, &flags("standard"));
    assert_eq!(auto["final"]["test_mse"], standard["final"]["test_mse"]);
    assert!(auto.get("bagging").is_none_or(Value::is_null));
}

#[test]
fn bagging_refuses_validation_rows_and_too_few_rows() {
    let dir = scratch();
    let data = write(dir.path(), "planted.csv", planted_csv(40).as_bytes());
    let run = |flags: &[&str]| {
        let out = anmin()
            .args(["train", "--quiet", "--hidden", "3", "--iters", "2"])
            .args(flags)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(&["--bag", "3", "--val-frac", "0.1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--val-frac does not apply"), "{err}");
    // 40 rows, 32 for training: 33 folds cannot each hold a row.
    let (code, err) = run(&["--bag", "33"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--bag 33 needs at least 33 training rows"),
        "{err}"
    );
    let (code, err) = run(&["--bag", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("bag must be a whole number from 1 to 1000"),
        "{err}"
    );
}
