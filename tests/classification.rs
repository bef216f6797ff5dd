//! Classification end to end: a text target is detected and trained on one output per class,
//! runs report accuracy and log loss, the saved model keeps the classes and the temperature,
//! and `predict` writes the class and one probability per class.

use serde_json::Value;

mod common;

use common::{anmin, expect_error, read_json, run_json, scratch, stdout_of, write};

/// Three classes of points in the plane (with a categorical input and empty cells), labelled
/// with text: `island,x1,x2,species`.
fn classes_csv(n: usize) -> String {
    let mut s = String::from("island,x1,x2,species\n");
    for i in 0..n {
        let x1 = (i as f64 * 0.37).sin() * 2.0;
        let x2 = (i as f64 * 0.11).cos() * 2.0;
        let species = if x1 + 0.3 * x2 > 0.5 {
            "Gentoo"
        } else if x2 > 0.0 {
            "Adelie"
        } else {
            "Chinstrap"
        };
        let island = ["Biscoe", "Dream", ""][i % 3];
        let x2 = if i % 17 == 5 {
            String::new()
        } else {
            x2.to_string()
        };
        s.push_str(&format!("{island},{x1},{x2},{species}\n"));
    }
    s
}

const HISTORY_KEYS: [&str; 6] = [
    "iter",
    "time_s",
    "train_mse",
    "test_mse",
    "train_r2",
    "test_r2",
];

#[test]
fn a_text_target_trains_a_classifier_that_predict_applies() {
    let dir = scratch();
    let data = write(dir.path(), "c.csv", classes_csv(150).as_bytes());
    let model = dir.path().join("model.json");
    let out = anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args([
            "--hidden",
            "16",
            "--iters",
            "5",
            "--val-frac",
            "0.2",
            "--quiet",
        ])
        .arg("--save-model")
        .arg(&model)
        .arg("--out")
        .arg(dir.path().join("run.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("holds text: classifying its 3 classes"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("train acc"), "{stdout}");
    let run = read_json(&dir.path().join("run.json"));
    let c = &run["classification"];
    assert_eq!(
        c["classes"],
        serde_json::json!(["Adelie", "Chinstrap", "Gentoo"])
    );
    assert_eq!(c["calibrated_on"], "validation");
    let t = c["temperature"].as_f64().unwrap();
    assert!(t > 0.0);
    for entry in run["history"].as_array().unwrap() {
        for key in HISTORY_KEYS {
            assert!(entry.get(key).is_some(), "{key} kept");
        }
        let acc = entry["train_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        assert!(entry["test_log_loss"].as_f64().unwrap() >= 0.0);
        assert!(entry["val_log_loss"].as_f64().is_some());
    }
    let final_entry = &run["final"];
    assert!(
        final_entry["test_accuracy"].as_f64().unwrap() > 0.8,
        "{final_entry}"
    );

    // The model keeps the classes and the temperature; predict writes classes and
    // probabilities that sum to one, the class being the most probable.
    let saved = read_json(&model);
    assert_eq!(saved["format_version"], 3);
    assert_eq!(saved["encoding"]["classes"], c["classes"]);
    assert_eq!(saved["temperature"].as_f64(), Some(t));
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("predicted_species,p_Adelie,p_Chinstrap,p_Gentoo")
    );
    let labels = ["Adelie", "Chinstrap", "Gentoo"];
    let mut correct = 0;
    let truth: Vec<String> = classes_csv(150)
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_owned())
        .collect();
    for (line, truth) in lines.zip(&truth) {
        let fields: Vec<&str> = line.split(',').collect();
        let p: Vec<f64> = fields[1..].iter().map(|v| v.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(fields[0], labels[best]);
        correct += usize::from(fields[0] == truth);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let accuracy = correct as f64 / truth.len() as f64;
    assert!(
        stderr.contains(&format!("accuracy {accuracy:.6}")),
        "{stderr} vs {accuracy}"
    );
}

#[test]
fn integer_labels_classify_with_the_flag_and_regress_without() {
    let dir = scratch();
    let mut csv = String::from("x,label\n");
    for i in 0..60 {
        let x = (i as f64 * 0.7).sin();
        csv.push_str(&format!(
            "{x},{}\n",
            if x > 0.2 {
                2
            } else if x > -0.3 {
                1
            } else {
                0
            }
        ));
    }
    let data = write(dir.path(), "ints.csv", csv.as_bytes());
    let quick = ["--hidden", "4", "--iters", "3", "--quiet"];
    let regress = run_json(dir.path(), &data, &quick);
    assert!(regress.get("classification").is_none());
    let entry = regress["final"].as_object().unwrap();
    let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    assert_eq!(
        keys.len(),
        HISTORY_KEYS.len(),
        "regression adds no keys: {keys:?}"
    );
    let mut args = quick.to_vec();
    args.extend(["--task", "classify"]);
    let classify = run_json(dir.path(), &data, &args);
    assert_eq!(
        classify["classification"]["classes"],
        serde_json::json!(["0", "1", "2"])
    );
    assert_eq!(classify["dataset"]["targets"], serde_json::json!(["label"]));
    assert_eq!(classify["per_output"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_classification_targets_are_clear_errors() {
    let dir = scratch();
    let data = write(dir.path(), "c.csv", classes_csv(30).as_bytes());
    expect_error(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args(["--task", "regress"]),
        2,
        "c.csv:2:4: target column \"species\" must be numeric",
    );
    let one = write(dir.path(), "one.csv", b"x,y\n1,a\n2,a\n3,a\n");
    expect_error(
        anmin().arg("train").arg("--data").arg(&one),
        2,
        "has 1 class: classification needs at least 2",
    );
    let two = write(dir.path(), "two.csv", b"x,y,z\n1,a,b\n2,a,c\n3,b,c\n");
    expect_error(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&two)
            .args(["--target", "y,z", "--task", "classify"]),
        2,
        "classification takes one target column",
    );
}

#[test]
fn the_prediction_preset_calibrates_on_out_of_fold_rows() {
    let dir = scratch();
    let data = write(dir.path(), "c.csv", classes_csv(120).as_bytes());
    let run = run_json(
        dir.path(),
        &data,
        &["--auto", "--hidden", "8", "--bag", "3", "--quiet"],
    );
    let c = &run["classification"];
    assert_eq!(c["calibrated_on"], "out_of_fold");
    // Every training row is in one fold.
    assert_eq!(c["n_calibration"], run["split"]["n_train"]);
    let final_entry: &Value = &run["final"];
    assert!(final_entry["test_log_loss"].as_f64().unwrap() < 3f64.ln());
    // The compare command trains the baselines on the same one-hot targets.
    let out = stdout_of(anmin().arg("compare").arg("--data").arg(&data).args([
        "--optimizers",
        "anmin,adam",
        "--splits",
        "2",
        "--hidden",
        "4",
        "--quiet",
    ]));
    assert!(out.contains("adam"), "{out}");
    // Its table adds the classifiers' test accuracy and log loss.
    assert!(
        out.contains("test accuracy") && out.contains("test log loss"),
        "{out}"
    );
}

#[test]
fn two_classes_train_one_output_read_as_two() {
    let dir = scratch();
    let mut csv = String::from("x1,x2,answer\n");
    for i in 0..80 {
        let (x1, x2) = ((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos());
        csv.push_str(&format!(
            "{x1},{x2},{}\n",
            if x1 - x2 > 0.0 { "yes" } else { "no" }
        ));
    }
    let data = write(dir.path(), "two.csv", csv.as_bytes());
    let model = dir.path().join("model.json");
    let run = run_json(
        dir.path(),
        &data,
        &[
            "--hidden",
            "8",
            "--iters",
            "5",
            "--val-frac",
            "0.25",
            "--quiet",
            "--save-model",
            model.to_str().unwrap(),
        ],
    );
    assert_eq!(
        run["classification"]["classes"],
        serde_json::json!(["no", "yes"])
    );
    let outputs = run["per_output"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "one output for two classes");
    assert_eq!(outputs[0]["target"], "answer=yes");
    assert!(run["final"]["train_accuracy"].as_f64().unwrap() > 0.8);
    let saved = read_json(&model);
    assert_eq!(saved["output_weights"].as_array().unwrap().len(), 1);
    let out = stdout_of(
        anmin()
            .args(["predict", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(&data),
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("predicted_answer,p_no,p_yes"));
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (no, yes): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert!((no + yes - 1.0).abs() < 1e-12);
        assert_eq!(f[0], if yes > no { "yes" } else { "no" });
    }
}
