//! Choosing the penalty on held-out rows (`--ridge auto`) and guarding predictions against
//! inputs the training rows never showed: the schedule the selection records reproduces its
//! network exactly, the choice is scale-free, the run JSON records the path, and constant or
//! out-of-range inputs cannot move a prediction.

mod common;

use common::random::gaussian;

use std::path::Path;

use anmin::data::Samples;
use anmin::model::Network;
use anmin::optim::anmin::AnminConfig;
use anmin::optim::{self, Limits, OptimizerSpec, Penalty, Silent};
use anmin::rng::{Stream, seeded};
use anmin::select::{self, PathSettings};
use common::{anmin, read_json, scratch, train, write};
use faer::Par;
use predicates::prelude::*;
use serde_json::Value;

/// A noisy planted network: n samples of d standardized features (with the ones column).
fn teacher(n: usize, d: usize, seed: u64) -> Samples {
    let mut rng = seeded(seed, Stream::Split);
    let x = gaussian(n, d, &mut rng).insert_column(d, 1.0);
    let planted = Network::random(d + 1, 5, 1, 0.0, &mut rng);
    let b = gaussian(1, 5, &mut rng);
    let net = Network { b, ..planted };
    let noise = gaussian(n, 1, &mut rng) * 0.3;
    Samples {
        y: net.predict(&x) + noise,
        x,
        classify: false,
    }
}

/// The path of `spec` with a budget of 30 steps, on one thread.
fn run(spec: &OptimizerSpec) -> select::Run<'_> {
    select::Run {
        spec,
        limits: Limits::iters(30),
        par: Par::Seq,
    }
}

#[test]
fn the_schedule_replays_the_chosen_network_exactly() {
    // The selection hands each λ's iterate on to the next and records how many steps it took;
    // replaying those steps on the same rows must land on the very network it chose. This is
    // what makes the refit on all training rows a faithful copy of the chosen (λ, step).
    let fit = teacher(240, 4, 1);
    let val = teacher(80, 4, 2);
    let spec = OptimizerSpec::Anmin(AnminConfig::default());
    let net = Network::random(5, 8, 1, 0.0, &mut seeded(3, Stream::Init));
    let settings = PathSettings::default_for(30);
    let selection = select::select(
        &run(&spec),
        net.clone(),
        (&fit, &val),
        &settings,
        &mut Silent,
    );
    assert!(
        selection.chosen.is_some(),
        "some λ beats the initial network"
    );
    assert!(selection.steps() > 0);
    let sets = optim::Sets {
        train: &fit,
        val: None,
        test: Some(&val),
    };
    let replayed = select::refit(&run(&spec), net, sets, &selection, &mut Silent);
    assert_eq!(replayed.network, selection.network);
    assert_eq!(replayed.final_entry.iter, selection.steps());
    // The validation MSE the selection recorded is the replayed network's error on those rows.
    let val_mse = anmin::metrics::mse(&replayed.network.predict(&val.x), &val.y);
    assert_eq!(Some(val_mse), selection.entry.val_mse);
    // One history over the whole schedule: consecutive iterations, times that never go back,
    // and all of them after the selection's own time.
    for (i, pair) in replayed.history.windows(2).enumerate() {
        assert_eq!(pair[1].iter, pair[0].iter + 1, "entry {i}");
        assert!(pair[1].time_s >= pair[0].time_s);
    }
    assert!(replayed.history[0].time_s >= selection.elapsed.as_secs_f64());
}

#[test]
fn the_chosen_point_has_the_lowest_validation_mse_of_the_path() {
    let fit = teacher(240, 4, 4);
    let val = teacher(80, 4, 5);
    let spec = OptimizerSpec::Anmin(AnminConfig::default());
    let net = Network::random(5, 8, 1, 0.0, &mut seeded(6, Stream::Init));
    let settings = PathSettings::default_for(30);
    let selection = select::select(&run(&spec), net, (&fit, &val), &settings, &mut Silent);
    let chosen = selection.entry.val_mse.unwrap();
    assert!(chosen <= selection.start.val_mse.unwrap());
    for stage in &selection.stages {
        assert!(chosen <= stage.val_mse.unwrap(), "{stage:?}");
        assert!(stage.steps_kept <= stage.steps_run);
        assert!(stage.steps_run <= settings.stage_steps);
        assert_eq!(
            stage.lambda_target_units,
            Penalty::relative(stage.lambda, &fit.y).a
        );
    }
    // Strongest first.
    let lambdas: Vec<f64> = selection.stages.iter().map(|s| s.lambda).collect();
    assert!(lambdas.windows(2).all(|w| w[0] > w[1]), "{lambdas:?}");
}

/// A table whose target is multiplied by `scale`; the target has three decimals, so that
/// multiplying it by 1000 is exact in the CSV text.
fn table(scale: f64) -> String {
    let mut s = String::from("x1,x2,x3,y\n");
    for i in 0..160 {
        let (x1, x2, x3) = (
            (i as f64 * 0.37).sin(),
            (i as f64 * 0.11).cos(),
            ((i * 7) % 13) as f64,
        );
        let y =
            ((2.0 * x1 - x2 + 0.1 * x3 + 0.5 * (5.0 * x1 * x2).sin()) * 1000.0).round() / 1000.0;
        s.push_str(&format!("{x1},{x2},{x3},{}\n", y * scale));
    }
    s
}

/// The run JSON of `anmin train --data <data> <extra>`.
fn train_json(dir: &Path, data: &Path, name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--data", data.to_str().expect("UTF-8 path")];
    args.extend(extra);
    read_json(&train(dir, &format!("{name}.json"), &args))
}

fn predictions(model: &Path, data: &Path, extra: &[&str]) -> (Vec<f64>, String) {
    let assert = anmin()
        .args(["predict", "--model"])
        .arg(model)
        .arg("--data")
        .arg(data)
        .args(extra)
        .assert()
        .success();
    let out = assert.get_output();
    let values = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    (values, String::from_utf8(out.stderr.clone()).unwrap())
}

#[test]
fn the_penalty_is_scale_free() {
    let dir = scratch();
    let flags = ["--ridge", "auto", "--hidden", "6", "--iters", "10"];
    let mut runs = Vec::new();
    for (name, scale) in [("unit", 1.0), ("milli", 1000.0)] {
        let data = write(dir.path(), &format!("{name}.csv"), table(scale).as_bytes());
        let model = dir.path().join(format!("{name}-model.json"));
        let mut extra = flags.to_vec();
        extra.extend(["--save-model", model.to_str().unwrap()]);
        let run = train_json(dir.path(), &data, name, &extra);
        let (predicted, _) = predictions(&model, &data, &[]);
        runs.push((run, predicted));
    }
    let (unit, unit_pred) = &runs[0];
    let (milli, milli_pred) = &runs[1];
    // The same relative λ and schedule; λ in target units scales with the variance.
    let sel = |r: &Value, key: &str| r["selection"][key].clone();
    assert_eq!(sel(unit, "lambda"), sel(milli, "lambda"));
    assert_eq!(sel(unit, "schedule"), sel(milli, "schedule"));
    let units = |r: &Value| r["selection"]["lambda_target_units"].as_f64().unwrap();
    assert!((units(milli) / units(unit) - 1e6).abs() < 1e-6 * 1e6);
    assert!(unit["selection"]["steps"].as_u64().unwrap() > 0);
    // Predictions 1000× larger, to rounding.
    assert_eq!(unit_pred.len(), 160);
    for (a, b) in unit_pred.iter().zip(milli_pred) {
        assert!(
            (b - 1000.0 * a).abs() <= 1e-9 * b.abs().max(1.0),
            "{a} vs {b}"
        );
    }
    // MSE scales by 10⁶, R² not at all.
    let metric = |r: &Value, key: &str| r["final"][key].as_f64().unwrap();
    let ratio = metric(milli, "test_mse") / metric(unit, "test_mse");
    assert!((ratio - 1e6).abs() < 1e-6 * 1e6, "{ratio}");
    assert!((metric(milli, "test_r2") - metric(unit, "test_r2")).abs() < 1e-9);
}

#[test]
fn the_run_json_records_the_path_and_times_include_it() {
    let dir = scratch();
    let data = write(dir.path(), "t.csv", table(1.0).as_bytes());
    let run = train_json(
        dir.path(),
        &data,
        "auto",
        &["--ridge", "auto", "--hidden", "6", "--iters", "10"],
    );
    let selection = &run["selection"];
    let path = selection["path"].as_array().unwrap();
    assert!(path.len() >= 2);
    for stage in path {
        for key in [
            "lambda",
            "lambda_target_units",
            "val_mse",
            "steps_kept",
            "steps_run",
            "time_s",
        ] {
            assert!(!stage[key].is_null(), "{key} in {stage}");
        }
    }
    // 20% of the 128 training rows judge the path; the refit uses all 128.
    assert_eq!(selection["n_val"], 26);
    assert_eq!(selection["n_fit"], 102);
    assert_eq!(run["split"]["n_train"], 128);
    assert_eq!(run["config"]["ridge"], "auto");
    assert_eq!(run["config"]["val_frac"], 0.2);
    // The history is the refit: as many steps as the schedule, timed after the selection.
    let history = run["history"].as_array().unwrap();
    assert_eq!(
        history.last().unwrap()["iter"].as_u64().unwrap(),
        selection["steps"].as_u64().unwrap()
    );
    let seconds = selection["seconds"].as_f64().unwrap();
    assert!(history[0]["time_s"].as_f64().unwrap() >= seconds);
    let lambda = selection["lambda"].as_f64().unwrap();
    assert!(path.iter().any(|s| s["lambda"].as_f64() == Some(lambda)));
    // One solver report per λ of the refit.
    assert_eq!(
        run["solver"].as_array().unwrap().len(),
        selection["schedule"].as_array().unwrap().len()
    );
}

#[test]
fn selection_flags_are_checked() {
    let dir = scratch();
    let data = write(dir.path(), "t.csv", table(1.0).as_bytes());
    for (extra, message) in [
        (
            &["--ridge", "auto", "--val-frac", "0"][..],
            "--val-frac must be above 0",
        ),
        (
            &["--ridge", "often"][..],
            "ridge must be a non-negative number or \"auto\"",
        ),
        (
            &["--clip", "wide"][..],
            "clip must be a non-negative number or \"none\"",
        ),
    ] {
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

/// Rows x,c,y with c = 5 on every row: constant on any training rows.
fn constant_column_table() -> String {
    let mut s = String::from("x,c,y\n");
    for i in 0..80 {
        let x = i as f64 / 8.0;
        s.push_str(&format!("{x},5,{}\n", (x * 0.9).sin() * 3.0 + x));
    }
    s
}

#[test]
fn inputs_the_training_rows_never_showed_cannot_move_a_prediction() {
    let dir = scratch();
    let data = write(dir.path(), "train.csv", constant_column_table().as_bytes());
    let model = dir.path().join("model.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args([
            "--hidden",
            "6",
            "--iters",
            "10",
            "--test-frac",
            "0",
            "--save-model",
        ])
        .arg(&model)
        .assert()
        .success();
    // x spans [0, 9.875] in training. c was always 5.
    let new = write(
        dir.path(),
        "new.csv",
        b"x,c\n9.875,5\n9.875,-1e6\n500,5\n0,5\n-3,7\n",
    );
    let (clipped, note) = predictions(&model, &new, &[]);
    // A constant column is ignored whatever its value.
    assert_eq!(clipped[0], clipped[1]);
    // x beyond the range predicts as at its end.
    assert_eq!(clipped[2], clipped[0]);
    assert_eq!(clipped[4], clipped[3]);
    assert!(note.contains("clipped 2 of 5 rows"), "{note}");

    // Without clipping the network extrapolates, but the constant column still cannot matter.
    let (free, note) = predictions(&model, &new, &["--clip", "none"]);
    assert_eq!(free[0], free[1]);
    assert_ne!(free[2], free[0]);
    assert!(!note.contains("clipped"), "{note}");
    // A margin widens the range: 500 is still beyond 9.875 + 1 × 9.875.
    let (wide, note) = predictions(&model, &new, &["--clip", "1"]);
    assert_ne!(wide[2], clipped[2]);
    assert!(note.contains("clipped 1 of 5 rows"), "{note}");
}

#[test]
fn a_column_constant_on_the_training_rows_does_not_move_test_metrics() {
    // As keggdirected's x8: constant on the training rows, far off on a test row. Its test
    // metrics must equal those of the same table with the column constant everywhere.
    let dir = scratch();
    let base = constant_column_table();
    let find_test_row = |run: &Value| run["split"]["test_rows"][0].as_u64().unwrap() as usize;
    let plain = write(dir.path(), "plain.csv", base.as_bytes());
    let flags = [
        "--hidden",
        "6",
        "--iters",
        "10",
        "--record-split",
        "--clip",
        "none",
    ];
    let reference = train_json(dir.path(), &plain, "plain", &flags);
    let row = find_test_row(&reference);
    let odd: String = base
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == row + 1 {
                line.replacen(",5,", ",99999,", 1) + "\n"
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let odd_path = write(dir.path(), "odd.csv", odd.as_bytes());
    let run = train_json(dir.path(), &odd_path, "odd", &flags);
    assert_eq!(run["final"]["test_mse"], reference["final"]["test_mse"]);
    assert_eq!(run["final"]["train_mse"], reference["final"]["train_mse"]);
}
