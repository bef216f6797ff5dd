//! Numerical extremes through the real training code: the same preprocessing, initial
//! network, training loop and report the CLI uses (the library's `Trainer`), on data at the edges of
//! what f64 and the model can take, with every ANMIN variant and, more briefly, the gradient
//! baselines. Every run must finish without a panic and without a NaN or infinity anywhere:
//! history, final and best entries, per-output metrics, solver facts, parameters, the
//! standardizer and the saved model. A metric that is undefined is None (`null` in the JSON),
//! never NaN.

use std::collections::BTreeSet;

use anmin::DataError;
use anmin::aggregate::Metric;
use anmin::cli::{Cli, Command, TrainArgs};
use anmin::commands::train::request;
use anmin::data::{ColumnChoice, Dataset, Table, random_split};
use anmin::metrics::Metrics;
use anmin::model::SavedModel;
use anmin::predict::predict_table;
use anmin::report::{HistoryEntry, RunReport, StopReason, Undefined};
use anmin::train::{Trained, Trainer};
use clap::Parser;
use serde_json::Value;

mod common;

use common::{anmin, run_json, stdout_of};

/// `anmin train` arguments as the command line gives them.
fn train_args(flags: &[&str]) -> TrainArgs {
    let argv = ["anmin", "train", "--quiet"].iter().chain(flags);
    match Cli::try_parse_from(argv).expect("valid flags").command {
        Command::Train(args) => *args,
        other => panic!("not a train command: {other:?}"),
    }
}

fn dataset(csv: &str, args: &TrainArgs) -> Dataset {
    let table = Table::parse("extreme.csv", csv.as_bytes(), None).expect("parses");
    let choice = anmin::commands::column_choice(&args.data);
    Dataset::from_table(&table, &choice).expect("encodes")
}

/// Trains on `csv` with `flags` as `anmin train` would.
fn train(csv: &str, flags: &[&str]) -> anmin::Result<(Dataset, Trained)> {
    let args = train_args(flags);
    let data = dataset(csv, &args);
    let request = request(&args).expect("optimizer flags");
    let trained = Trainer::new(&request).threads(1).run(&data)?;
    Ok((data, trained))
}

/// One optimizer setting that every case is trained with.
struct Run {
    flags: &'static [&'static str],
    /// ANMIN must not diverge on any of these cases. A gradient method may (its step size is
    /// not tuned to these tiny tables; the same happens at ordinary magnitudes), keeping its
    /// best iterate, but without a NaN either.
    may_diverge: bool,
}

impl Run {
    const fn anmin(flags: &'static [&'static str]) -> Run {
        Run {
            flags,
            may_diverge: false,
        }
    }

    const fn gradient(flags: &'static [&'static str]) -> Run {
        Run {
            flags,
            may_diverge: true,
        }
    }

    fn is_anmin(&self) -> bool {
        !self.may_diverge
    }

    fn is_ridge(&self) -> bool {
        self.flags.contains(&"--ridge")
    }
}

/// Both ANMIN variants, ReLU and leaky with a ridge penalty, the matrix-free A-step, and the
/// gradient baselines.
const RUNS: [Run; 7] = [
    Run::anmin(&["--iters", "10"]),
    Run::anmin(&["--iters", "10", "--variant", "plain"]),
    Run::anmin(&["--iters", "10", "--alpha", "0.1", "--ridge", "1e-3"]),
    Run::anmin(&["--iters", "10", "--a-solver", "cg"]),
    Run::gradient(&["--optimizer", "sgd", "--epochs", "5"]),
    Run::gradient(&["--optimizer", "adam", "--epochs", "5"]),
    Run::gradient(&["--optimizer", "lbfgs", "--iters", "10"]),
];

/// Trains on `csv` with the case's `flags` and the run's, and checks that the whole run is
/// finite.
fn train_checked(csv: &str, flags: &[&str], run: &Run) -> Trained {
    let flags: Vec<&str> = flags.iter().chain(run.flags).copied().collect();
    let (data, trained) = train(csv, &flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let what = format!("{flags:?}");
    if !run.may_diverge {
        assert_ne!(trained.outcome.stop_reason, StopReason::Diverged, "{what}");
    }
    assert_finite_run(&trained, TestMse::Defined, &what);
    assert_saved_model_predicts(csv, &data, &trained);
    trained
}

/// What the test MSE of a run with a test set may be.
#[derive(Clone, Copy, PartialEq)]
enum TestMse {
    Defined,
    /// None where the squared errors of a test row overflow f64.
    MayOverflow,
}

fn finite_or_none(v: Option<f64>) -> bool {
    v.is_none_or(f64::is_finite)
}

fn assert_entry(e: &HistoryEntry, has_test: bool, test_mse: TestMse, what: &str) {
    assert!(e.time_s.is_finite() && e.time_s >= 0.0, "{what}: {e:?}");
    // The training MSE is always defined; the test metrics only with a test set.
    assert!(e.train_mse.is_some_and(f64::is_finite), "{what}: {e:?}");
    if has_test && test_mse == TestMse::Defined {
        assert!(e.test_mse.is_some(), "{what}: {e:?}");
    }
    if !has_test {
        assert_eq!((e.test_mse, e.test_r2), (None, None), "{what}: {e:?}");
    }
    for v in [e.test_mse, e.train_r2, e.test_r2] {
        assert!(finite_or_none(v), "{what}: {e:?}");
    }
}

fn assert_metrics(m: &Metrics, mse: TestMse, what: &str) {
    let mse_ok = |v: Option<f64>| match mse {
        TestMse::Defined => v.is_some_and(f64::is_finite),
        TestMse::MayOverflow => finite_or_none(v),
    };
    assert!(mse_ok(m.mse) && finite_or_none(m.r2), "{what}: {m:?}");
    for o in &m.per_output {
        assert!(mse_ok(o.mse) && finite_or_none(o.r2), "{what}: {m:?}");
    }
}

/// Every number of a JSON value is a finite number (serde_json writes NaN as null, so
/// non-finite values would show up as nulls where numbers belong).
fn assert_no_nulls(v: &Value, what: &str) {
    match v {
        Value::Null => panic!("{what}: null where a number belongs"),
        Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{what}"),
        Value::Array(items) => items.iter().for_each(|i| assert_no_nulls(i, what)),
        Value::Object(map) => map.values().for_each(|i| assert_no_nulls(i, what)),
        _ => {}
    }
}

fn assert_finite_run(trained: &Trained, test_mse: TestMse, what: &str) {
    let (report, outcome) = (&trained.report, &trained.outcome);
    let has_test = report.split.n_test > 0;
    assert!(!report.history.is_empty(), "{what}");
    for e in report
        .history
        .iter()
        .chain([&report.final_entry, &report.best])
    {
        assert_entry(e, has_test, test_mse, what);
    }
    assert!(outcome.network.is_finite(), "{what}: {:?}", outcome.network);
    assert!(outcome.best_network.is_finite(), "{what}");
    assert_metrics(&outcome.final_train, TestMse::Defined, what);
    if let Some(test) = &outcome.final_test {
        assert_metrics(test, test_mse, what);
    }
    for o in &report.per_output {
        assert!(o.train_mse.is_some_and(f64::is_finite), "{what}: {o:?}");
        for v in [o.test_mse, o.train_r2, o.test_r2] {
            assert!(finite_or_none(v), "{what}: {o:?}");
        }
        let nulls = [
            ("train_mse", o.train_mse),
            ("test_mse", o.test_mse),
            ("train_r2", o.train_r2),
            ("test_r2", o.test_r2),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(key, _)| key)
        .collect::<BTreeSet<_>>();
        assert_eq!(
            nulls,
            o.undefined_metrics.keys().map(String::as_str).collect(),
            "{what}: every null output metric, and only those, has its reason: {o:?}"
        );
    }
    assert_reasons_recorded(report, what);
    assert!(trained.prepared.scaler.is_valid(), "{what}");
    assert_no_nulls(&report.solver, what);
}

/// A metric is listed in `undefined_metrics` exactly when it is null in some entry, with a
/// reason that fits the run: no test set only without one, constant targets only for R².
fn assert_reasons_recorded(report: &RunReport, what: &str) {
    let entries = || {
        report
            .history
            .iter()
            .chain([&report.final_entry, &report.best])
            .chain(report.last.as_ref())
    };
    for metric in Metric::ALL {
        let key = metric.key();
        let null_somewhere = entries().any(|e| metric.of(e).is_none());
        let reason = report.undefined_metrics.get(key);
        assert_eq!(null_somewhere, reason.is_some(), "{what}: {key} {reason:?}");
        match reason {
            Some(Undefined::NoTestSet) => assert_eq!(report.split.n_test, 0, "{what}"),
            Some(Undefined::ConstantTarget) => assert!(key.ends_with("_r2"), "{what}"),
            _ => {}
        }
    }
}

/// The saved model loads (its loader rejects non-finite numbers) and predicts the training
/// file with the reported training MSE when there is no test set.
fn assert_saved_model_predicts(csv: &str, data: &Dataset, trained: &Trained) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("model.json");
    let model = SavedModel::new(
        &trained.outcome.best_network,
        &data.encoding,
        &trained.prepared.scaler,
        Value::Null,
    );
    anmin::outputs::write_json(&path, &model).expect("model written");
    let model = SavedModel::load(&path).expect("saved model is valid");
    let table = Table::parse("extreme.csv", csv.as_bytes(), None).expect("parses");
    let predictions = predict_table(&model, &table).expect("predicts the training file");
    assert!(predictions.values.iter().all(|v| v.is_finite()));
    if let Some(metrics) = &predictions.metrics {
        assert!(metrics.mse.is_some_and(f64::is_finite), "{metrics:?}");
    }
}

/// A CSV table: header, then rows from `row(i)` for i in 0..n.
fn csv(header: &str, n: usize, row: impl Fn(usize) -> String) -> String {
    let mut text = format!("{header}\n");
    for i in 0..n {
        text.push_str(&row(i));
        text.push('\n');
    }
    text
}

/// A smooth target of two inputs, so that the network has something to fit.
fn target(i: usize) -> f64 {
    let t = i as f64;
    (0.37 * t).sin() + 0.5 * (0.11 * t).cos()
}

#[test]
fn features_near_plus_minus_1e300() {
    let text = csv("big,mixed,y", 40, |i| {
        let sign = if i % 3 == 0 { -1.0 } else { 1.0 };
        let big = sign * 1e300 * (1.0 + (i % 7) as f64 / 7.0);
        // A column holding both 1e300 and 1e-300.
        let mixed = if i % 2 == 0 { 1e300 } else { 1e-300 };
        format!("{big:e},{mixed:e},{}", target(i))
    });
    // Near the end of the range, of both signs.
    let edge = csv("x,y", 30, |i| {
        let x = if i % 2 == 0 { 1.7e308 } else { -1.7e308 } * (1.0 - i as f64 / 100.0);
        format!("{x:e},{}", target(i))
    });
    for run in &RUNS {
        train_checked(&text, &["--hidden", "6"], run);
        train_checked(&edge, &["--hidden", "4"], run);
    }
}

#[test]
fn constant_target_has_no_r2_and_a_finite_mse() {
    let text = csv("a,b,y", 30, |i| format!("{},{},2.5", i, target(i)));
    for run in &RUNS {
        let trained = train_checked(&text, &["--hidden", "5"], run);
        let r = &trained.report;
        for e in r.history.iter().chain([&r.final_entry, &r.best]) {
            assert_eq!((e.train_r2, e.test_r2), (None, None), "{e:?}");
        }
    }
    // In the run JSON the undefined R² is null, the MSE a number.
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("constant.csv");
    std::fs::write(&data, &text).expect("write data");
    let run = run_json(dir.path(), &data, &["--hidden", "5", "--iters", "5"]);
    for e in [&run["history"][0], &run["final"], &run["best"]] {
        assert!(e["train_r2"].is_null() && e["test_r2"].is_null(), "{e}");
        assert!(e["train_mse"].is_f64() && e["test_mse"].is_f64(), "{e}");
    }
    assert!(run["per_output"][0]["train_r2"].is_null());
}

#[test]
fn a_single_training_row() {
    for run in &RUNS {
        // Two rows, half held out: one training row and one test row.
        let trained = train_checked(
            "a,b,y\n1,2,3\n4,5,6\n",
            &["--test-frac", "0.5", "--hidden", "3"],
            run,
        );
        let r = &trained.report;
        assert_eq!((r.split.n_train, r.split.n_test), (1, 1));
        // One row is fitted exactly, and the R² of one value is undefined.
        assert_eq!(r.final_entry.train_mse, Some(0.0));
        assert_eq!(r.final_entry.train_r2, None);

        // One row in all, no test set.
        let trained = train_checked("a,y\n1.5,-2\n", &["--test-frac", "0", "--hidden", "2"], run);
        assert_eq!(trained.report.split.n_train, 1);
        assert_eq!(trained.report.final_entry.train_mse, Some(0.0));
    }
}

#[test]
fn a_single_hidden_unit() {
    let text = csv("a,b,y", 50, |i| {
        format!("{},{},{}", (0.3 * i as f64).sin(), i % 5, target(i))
    });
    for run in &RUNS {
        train_checked(&text, &["--hidden", "1"], run);
    }
}

#[test]
fn a_single_feature() {
    let text = csv("x,y", 50, |i| format!("{},{}", i as f64 / 10.0, target(i)));
    for run in &RUNS {
        let trained = train_checked(&text, &["--hidden", "8"], run);
        assert_eq!(trained.report.dataset.features, ["x"]);
    }
}

#[test]
fn fewer_rows_than_hidden_weights() {
    // n = 8 training rows, h(d+1) = 16 · 4 = 64 unknowns in the A-step.
    let text = csv("a,b,c,y", 10, |i| {
        format!("{},{},{},{}", i, (i * i) % 7, (i as f64).sqrt(), target(i))
    });
    for run in &RUNS {
        train_checked(&text, &["--hidden", "16"], run);
    }
}

#[test]
fn every_input_column_categorical() {
    let text = csv("color,size,shape,y", 60, |i| {
        let color = ["red", "green", "blue"][i % 3];
        let size = ["S", "M", "L", "XL"][(i / 3) % 4];
        // A column with a single category: constant after one-hot encoding.
        let shape = "round";
        let y = (i % 3) as f64 + 0.5 * ((i / 3) % 4) as f64;
        format!("{color},{size},{shape},{y}")
    });
    for run in &RUNS {
        let trained = train_checked(&text, &["--hidden", "6"], run);
        let r = &trained.report;
        assert_eq!(r.dataset.features.len(), 3 + 4 + 1);
        if run.is_anmin() && !run.is_ridge() {
            assert!(r.final_entry.train_mse < r.history[0].train_mse);
        }
    }
}

#[test]
fn one_constant_output_among_several() {
    let text = csv("a,b,y1,y2,y3", 40, |i| {
        let y = target(i);
        format!("{},{y},{y},7,{}", i % 9, 2.0 * target(i + 3))
    });
    for run in &RUNS {
        let trained = train_checked(&text, &["--target", "y1,y2,y3", "--hidden", "6"], run);
        let outputs = &trained.report.per_output;
        assert_eq!(outputs.len(), 3);
        assert_eq!((outputs[1].train_r2, outputs[1].test_r2), (None, None));
        assert!(outputs[0].train_r2.is_some() && outputs[2].train_r2.is_some());
        // The overall (variance-weighted) R² is defined: the other outputs vary.
        assert!(trained.report.final_entry.train_r2.is_some());
    }
}

#[test]
fn targets_at_the_largest_accepted_magnitude() {
    // Σy² just below f64::MAX: the largest targets Dataset::from_table accepts. Their A-system
    // overflowed f64 until huge output layers were scaled for the A-step, and every ANMIN run
    // diverged at once.
    let text = csv("a,b,y", 40, |i| {
        format!("{},{},{:e}", i % 7, target(i), 2e153 * target(i))
    });
    for run in &RUNS {
        let trained = train_checked(&text, &["--hidden", "4"], run);
        let r = &trained.report;
        // (A ridge penalty in target units may trade training MSE for smaller weights.)
        if run.is_anmin() && !run.is_ridge() {
            assert!(
                r.final_entry.train_mse < r.history[0].train_mse,
                "{:?}",
                r.history
            );
        }
    }
    // Beyond that, a clear error.
    let text = csv("a,y", 40, |i| format!("{i},{:e}", 1e300 * target(i)));
    let table = Table::parse("extreme.csv", text.as_bytes(), None).expect("parses");
    let err = Dataset::from_table(&table, &ColumnChoice::default()).expect_err("too large");
    assert!(matches!(err, DataError::TargetTooLarge { .. }), "{err}");
}

#[test]
fn tiny_targets_and_features() {
    let text = csv("a,b,y", 40, |i| {
        let (a, b) = (1e-300 * (i % 7) as f64, 5e-324 * (i % 3) as f64);
        format!("{a:e},{b:e},{:e}", 1e-300 * target(i))
    });
    for run in &RUNS {
        train_checked(&text, &["--hidden", "4"], run);
    }
}

/// A table of one smooth column and a target, with `value` in column x of the first test row
/// of the split that `--test-frac 0.25 --seed 0` makes.
fn with_test_outlier(value: f64) -> String {
    let n = 40;
    let test_row = random_split(n, 0.25, 0).expect("splits").test[0];
    csv("x,y", n, |i| {
        let x = if i == test_row {
            value
        } else {
            (i as f64 * 0.1).sin() * 1e-300
        };
        format!("{x:e},{}", target(i))
    })
}

#[test]
fn a_test_row_far_outside_the_training_range() {
    let flags = [
        "--test-frac",
        "0.25",
        "--seed",
        "0",
        "--hidden",
        "4",
        "--iters",
        "5",
        "--clip",
        "none",
    ];
    // Clipped to the training range (the default), the outlier is harmless.
    let (_, clipped) = train(&with_test_outlier(1e300), &flags[..8]).expect("trains");
    assert!(
        clipped
            .report
            .final_entry
            .test_mse
            .is_some_and(f64::is_finite)
    );
    // Without clipping, training values within ±1e-300 scale the column by about 1e-300: 1e300
    // in the test set standardizes to about 1e600, which f64 cannot hold. A clear error, not
    // an inf.
    match train(&with_test_outlier(1e300), &flags) {
        Err(anmin::Error::Data(e @ DataError::Unrepresentable { .. })) => {
            assert!(e.to_string().contains("column \"x\""), "{e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a test value of 1e600 standard deviations was accepted"),
    }
    // 1e-200 standardizes (to about 1e100) but its squared error overflows: the test MSE is
    // then undefined (None, null in the JSON), and everything else stays finite.
    let (_, trained) = train(&with_test_outlier(1e-200), &flags).expect("trains");
    assert_ne!(trained.outcome.stop_reason, StopReason::Diverged);
    assert_finite_run(&trained, TestMse::MayOverflow, "test outlier");
}

#[test]
fn an_overflowing_test_mse_is_told_apart_from_no_test_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("outlier.csv");
    // 1e-140 standardizes to about 1e160 (training values are within ±1e-300): the
    // prediction is finite, its squared error is not.
    std::fs::write(&data, with_test_outlier(1e-140)).expect("written");
    let flags = [
        "--test-frac",
        "0.25",
        "--hidden",
        "4",
        "--iters",
        "5",
        "-q",
        "--clip",
        "none",
    ];
    let stdout = stdout_of(anmin().arg("train").arg("--data").arg(&data).args(flags));
    let final_row = stdout.lines().find(|l| l.starts_with("final")).unwrap();
    assert!(final_row.contains("overflow"), "{stdout}");
    assert!(
        stdout.contains("overflow: the value exceeds f64"),
        "{stdout}"
    );

    let overflowing = run_json(dir.path(), &data, &flags);
    assert!(overflowing["final"]["test_mse"].is_null());
    assert_eq!(overflowing["undefined_metrics"]["test_mse"], "overflow");
    assert_eq!(overflowing["undefined_metrics"]["test_r2"], "overflow");
    assert!(overflowing["undefined_metrics"].get("train_mse").is_none());
    let run_file = dir.path().join("overflowing.json");
    std::fs::write(&run_file, overflowing.to_string()).expect("written");

    // The same data without a test set: null for another reason.
    let no_test = run_json(
        dir.path(),
        &data,
        &["--test-frac", "0", "--hidden", "4", "-q"],
    );
    assert!(no_test["final"]["test_mse"].is_null());
    assert_eq!(no_test["undefined_metrics"]["test_mse"], "no_test_set");

    let table = stdout_of(anmin().arg("summarize").arg(&run_file));
    assert!(
        table.contains("Undefined test MSE (overflow): anmin 1 of 1."),
        "{table}"
    );
}
