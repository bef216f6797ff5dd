//! The library API: a run described by a `TrainRequest` and executed by a `Trainer` on
//! numbers already in memory gives bit for bit what `anmin train` gives on the same numbers
//! written as CSV.

use anmin::data::{Dataset, Layout, MatrixRef};
use anmin::model::SavedModel;
use anmin::optim::OptimizerKind;
use anmin::train::{Ridge, TrainRequest, Trainer};
use serde_json::json;

mod common;

use common::{anmin, planted, read_json, scratch, write};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn in_memory_training_equals_the_cli_on_the_same_numbers() {
    let n = 150;
    let (x, y, csv) = planted(n);
    let dir = scratch();
    let csv_path = write(dir.path(), "planted.csv", csv.as_bytes());
    let x = MatrixRef {
        values: &x,
        rows: n,
        cols: 2,
        layout: Layout::RowMajor,
    };
    let y = MatrixRef {
        values: &y,
        rows: n,
        cols: 1,
        layout: Layout::RowMajor,
    };
    let data = Dataset::from_matrix("arrays", (x, &names(&["a", "b"])), (y, &names(&["target"])))
        .expect("valid arrays");

    for (kind, flags, ridge) in [
        (
            OptimizerKind::Anmin,
            vec!["--iters", "12"],
            Ridge::Fixed(0.0),
        ),
        (
            OptimizerKind::Adam,
            vec!["--epochs", "7"],
            Ridge::Fixed(0.0),
        ),
        (
            OptimizerKind::Anmin,
            vec!["--iters", "10", "--ridge", "auto"],
            Ridge::Auto,
        ),
    ] {
        let model_path = dir.path().join("model.json");
        let out_path = dir.path().join("run.json");
        anmin()
            .args([
                "train",
                "--quiet",
                "--seed",
                "3",
                "--hidden",
                "7",
                "--optimizer",
            ])
            .arg(anmin::choice::Choice::name(kind))
            .args(&flags)
            .arg("--data")
            .arg(&csv_path)
            .arg("--save-model")
            .arg(&model_path)
            .arg("--out")
            .arg(&out_path)
            .assert()
            .success();
        let cli = SavedModel::load(&model_path).expect("model loads");
        let cli_report = read_json(&out_path);

        let steps: usize = flags[1].parse().unwrap();
        let mut request = TrainRequest::new(kind);
        request.split.seed = 3;
        request.network.hidden = 7;
        request.steps = Some(steps);
        request.ridge = ridge;
        let request = request.resolve().expect("a valid request");
        let trained = Trainer::new(&request)
            .threads(1)
            .run(&data)
            .expect("trains");
        let ours = trained.saved_model(&data);
        assert_eq!(
            ours.network(),
            cli.network(),
            "{kind:?} {flags:?}: the same network"
        );
        assert_eq!(
            serde_json::to_value(trained.report.final_entry.train_mse).unwrap(),
            cli_report["final"]["train_mse"],
            "{kind:?}: the same final training MSE"
        );
        assert_eq!(
            trained.report.history.len(),
            cli_report["history"].as_array().unwrap().len()
        );
    }
}

#[test]
fn a_request_from_json_is_checked_and_names_the_bad_setting() {
    let ok = TrainRequest::from_json(
        r#"{"optimizer": "adam", "settings": {"lr": 0.01, "epochs": 4},
            "network": {"hidden": 5}, "ridge": "auto", "split": {"test_frac": 0.0}}"#,
    )
    .expect("valid");
    assert_eq!(ok.steps(), 4);
    assert_eq!(ok.ridge, Ridge::Auto);
    assert_eq!(ok.network.hidden, 5);
    assert_eq!(ok.val_frac().unwrap(), 0.2);
    let config = ok.config_json();
    assert_eq!(config["lr"], json!(0.01));
    assert_eq!(config["optimizer"], json!("adam"));
    assert_eq!(config["iters"], json!(4));
    // Preprocessing at its defaults is not recorded (earlier runs' configs stay as they were).
    assert!(config.get("scaling").is_none());
    let robust =
        TrainRequest::from_json(r#"{"preprocess": {"scaling": "robust", "one_hot_integers": 12}}"#)
            .expect("valid");
    assert_eq!(robust.preprocess.scaling, anmin::data::Scaling::Robust);
    let config = robust.config_json();
    assert_eq!(config["scaling"], json!("robust"));
    assert_eq!(config["one_hot_integers"], json!(12));
    assert_eq!(config["one_hot_few"], json!(0));

    for (text, message) in [
        (
            r#"{"network": {"hidden": 0}}"#,
            "hidden must be a whole number from 1 to 1000000",
        ),
        (
            r#"{"split": {"test_frac": 1.5}}"#,
            "test_frac must be a number at least 0 and below 1",
        ),
        (
            r#"{"optimizer": "adam", "settings": {"lr": -1}}"#,
            "lr must be a positive number",
        ),
        (
            r#"{"settings": {"momentum": 0.5}}"#,
            "momentum does not apply to optimizer anmin",
        ),
        (
            r#"{"optimizer": "newton"}"#,
            "\"newton\" is not one of anmin, anmin-plain",
        ),
        (r#"{"ridge": "often"}"#, "ridge is a number or \"auto\""),
        (
            r#"{"ridge": "auto", "split": {"val_frac": 0.0}}"#,
            "--val-frac must be above 0",
        ),
        (r#"{"hiden": 3}"#, "unknown field `hiden`"),
        (
            r#"{"preprocess": {"scaling": "minmax"}}"#,
            "unknown variant `minmax`",
        ),
        (
            r#"{"preprocess": {"one_hot": 3}}"#,
            "unknown field `one_hot`",
        ),
    ] {
        let e = TrainRequest::from_json(text).unwrap_err().to_string();
        assert!(e.contains(message), "{text}: {e}");
    }
}
