//! Model files validated as a whole (issue 25, rows 9 and 10): two inputs of one name, a
//! target that is also an input, a `training` record of the wrong shape or with a seed out of
//! range are refused by `anmin predict` with exit code 2 and a message naming the problem.

use std::path::Path;

use serde_json::{Value, json};

mod common;

use common::{anmin, scratch, small_csv, write};

/// A model file trained on the small table, as JSON.
fn model(dir: &Path) -> Value {
    let data = write(dir, "s.csv", small_csv().as_bytes());
    let path = dir.join("m.json");
    anmin()
        .args([
            "train", "--quiet", "--iters", "1", "--hidden", "3", "--data",
        ])
        .arg(&data)
        .arg("--save-model")
        .arg(&path)
        .assert()
        .success();
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `anmin predict` with the model file `text`: its exit code and stderr.
fn predict(dir: &Path, text: &str) -> (Option<i32>, String) {
    let path = write(dir, "bad.json", text.as_bytes());
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&path)
        .arg("--data")
        .arg(dir.join("s.csv"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_valid_model_predicts() {
    let dir = scratch();
    let m = model(dir.path());
    let (code, err) = predict(dir.path(), &m.to_string());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn two_inputs_of_one_name_are_refused() {
    let dir = scratch();
    let mut m = model(dir.path());
    let first = m["encoding"]["inputs"][1]["name"].clone();
    m["encoding"]["inputs"][2]["name"] = first;
    let (code, err) = predict(dir.path(), &m.to_string());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("input column \"x1\" appears twice"), "{err}");
}

#[test]
fn a_target_that_is_an_input_is_refused() {
    let dir = scratch();
    let mut m = model(dir.path());
    m["encoding"]["targets"] = json!(["x2"]);
    let (code, err) = predict(dir.path(), &m.to_string());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("target \"x2\" is also an input column"),
        "{err}"
    );
}

#[test]
fn a_training_record_of_the_wrong_shape_or_seed_is_refused() {
    let dir = scratch();
    let m = model(dir.path());
    let text = m.to_string();
    let seed = format!("\"seed\":{}", m["training"]["seed"]);
    assert!(text.contains(&seed), "{text}");
    for (bad, message) in [
        (
            text.replace(
                &format!("\"training\":{}", m["training"]),
                "\"training\":[1,2]",
            ),
            "training must be an object",
        ),
        (text.replace(&seed, "\"seed\":-5"), "training.seed must be"),
        (
            text.replace(&seed, "\"seed\":1180591620717411303424"),
            "training.seed must be a whole number from 0 to 18446744073709551615, not 1.1805916207174113e21",
        ),
    ] {
        assert_ne!(bad, text);
        let (code, err) = predict(dir.path(), &bad);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(message), "{err}");
    }
}

/// No message prints a 300-digit decimal (issue 25, row 11).
fn no_long_number(text: &str) {
    let longest = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest < 25, "a {longest}-digit number: {text}");
}

#[test]
fn huge_numbers_in_messages_are_scientific() {
    let dir = scratch();
    let data = write(dir.path(), "s.csv", small_csv().as_bytes());
    let out = anmin()
        .args([
            "train",
            "--optimizer",
            "lm",
            "--iters",
            "1",
            "--mu",
            "1e308",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be at least mu (1e308)"), "{err}");
    no_long_number(&err);
}

#[test]
fn a_prediction_that_overflows_names_the_row_and_the_input() {
    // The case: clipping off, an input of 1.7e308 on the shared wine data.
    let dir = scratch();
    let wine = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/winequality-red.csv"),
    )
    .unwrap();
    let rows: Vec<&str> = wine.lines().take(41).collect();
    let data = write(dir.path(), "w.csv", (rows.join("\n") + "\n").as_bytes());
    let model = dir.path().join("m.json");
    anmin()
        .args([
            "train", "--quiet", "--iters", "1", "--hidden", "3", "--clip", "none",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--save-model")
        .arg(&model)
        .assert()
        .success();
    let first = rows[1].split_once(',').unwrap().1;
    let bad = format!("{}\n1.7e308,{first}\n", rows[0]);
    let bad = write(dir.path(), "bad.csv", bad.as_bytes());
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "data row 1: the prediction overflows f64: input \"fixed acidity\" is 1.7e308"
        ),
        "{err}"
    );
    no_long_number(&err);
}
