//! Real tables through the command line: empty cells, text categories, ID-like integer
//! columns and mistyped cells train and predict with no flags; what the model never saw is
//! answered and said on stderr.

use predicates::prelude::*;
use serde_json::Value;

mod common;

use common::{anmin, expect_error, predictions, read_json, scratch, stdout_of, write};

/// A generated table (not from any real data set) as a user brings it: an ID-like integer
/// column `store` (6 values, the strongest signal), a text column `city` with empty cells, a
/// numeric column `size` with `NA` cells, a complete numeric column `age`, a text column
/// `grade`, and the target `sales`.
fn realistic_csv(rows: usize) -> String {
    let mut s = String::from("store,city,size,age,grade,sales\n");
    let effect = [0.0, 3.0, -2.0, 5.0, 1.0, -4.0];
    for i in 0..rows {
        let store = (i * 5 + i / 7) % 6;
        let city = ["Oslo", "Lima", "Pune", ""][(i * 3 + i / 7) % 4];
        let size = 10.0 + ((i * 37) % 23) as f64 * 0.7;
        let age = ((i * 13) % 17) as f64 + 0.5;
        let grade = ["A", "B", "C"][(i / 2) % 3];
        let sales = effect[store]
            + 0.2 * size
            + if city == "Lima" { 1.5 } else { 0.0 }
            + if grade == "A" { 0.7 } else { 0.0 }
            - 0.05 * age
            + 0.1 * ((i as f64) * 0.91).sin();
        let size = if i % 9 == 4 {
            "NA".to_owned()
        } else {
            format!("{size}")
        };
        s.push_str(&format!("{store},{city},{size},{age},{grade},{sales}\n"));
    }
    s
}

#[test]
fn a_table_with_empty_cells_and_categories_trains_and_predicts_with_no_flags() {
    let dir = scratch();
    let data = write(dir.path(), "shop.csv", realistic_csv(240).as_bytes());
    let model = dir.path().join("model.json");
    let run = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(["--hidden", "16", "--iters", "10", "-q", "--save-model"])
        .arg(&model)
        .arg("--out")
        .arg(&run)
        .assert()
        .success()
        // Nothing was dropped and nothing needs a warning: missing values are data.
        .stderr(predicate::str::contains("warning").not())
        .stderr(predicate::str::contains("dropped").not());
    let run = read_json(&run);
    assert_eq!(run["dataset"]["rows"], 240);
    assert_eq!(run["dataset"]["dropped_rows"], 0);
    let features: Vec<&str> = run["dataset"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(features.contains(&"city=(missing)"), "{features:?}");
    assert!(features.contains(&"city=Lima") && features.contains(&"size"));
    assert!(
        run["final"]["test_r2"].as_f64().unwrap() > 0.5,
        "{}",
        run["final"]
    );
    assert_eq!(
        run["dataset"]["derived_features"],
        serde_json::json!(["size(missing)"])
    );

    // The model carries the imputation: size's training median and its indicator, in a
    // format version earlier readers refuse rather than misread.
    let saved = read_json(&model);
    assert_eq!(saved["format_version"], 2);
    let derive = &saved["standardizer"]["derive"];
    let size = features.iter().position(|f| *f == "size").unwrap();
    assert_eq!(derive["indicators"], serde_json::json!([size]));
    assert_eq!(
        derive["fill"].as_array().unwrap().len(),
        features.len(),
        "{derive}"
    );

    // Its own rows predict as training did: no warnings.
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));

    // New rows: an unseen city, a missing age (never missing in training), an unseen grade,
    // a missing city and size (both seen missing in training).
    let new = write(
        dir.path(),
        "new.csv",
        b"store,city,size,age,grade\n1,Atlantis,12,3.5,A\n2,Oslo,14,,B\n3,,NA,7.5,Z\n4,Pune,11,,C\n",
    );
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&new)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let values = predictions(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(values.len(), 4);
    assert!(values.iter().all(|v| v.is_finite()));
    assert!(
        stderr.contains(
            "warning: column \"city\": 1 row with a category the model never saw, encoded as \
             none of its categories (first at"
        ) && stderr.contains("new.csv:2:2: \"Atlantis\")"),
        "{stderr}"
    );
    assert!(stderr.contains("new.csv:4:5: \"Z\")"), "{stderr}");
    assert!(
        stderr.contains(
            "new.csv: column \"age\": 2 rows with a missing value, which the training rows \
             never had there, imputed with the training median"
        ),
        "{stderr}"
    );
    // Seen-missing columns say nothing: that is what the indicator is for.
    assert!(!stderr.contains("column \"size\""), "{stderr}");
    assert_eq!(stderr.matches("warning").count(), 3, "{stderr}");
}

#[test]
fn missing_targets_drop_their_rows_with_a_note() {
    let dir = scratch();
    let mut text = realistic_csv(60);
    text.push_str("1,Oslo,12,3.5,A,\n2,Lima,13,4.5,B,NA\n");
    let data = write(dir.path(), "t.csv", text.as_bytes());
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(["--hidden", "4", "--iters", "2", "-q", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "dropped 2 rows whose target \"sales\" is missing (first at",
        ))
        .stderr(predicate::str::contains("t.csv:62:6"));
    assert_eq!(read_json(&out)["dataset"]["rows"], 60);
}

#[test]
fn drop_missing_still_drops_every_incomplete_row() {
    let dir = scratch();
    let data = write(dir.path(), "shop.csv", realistic_csv(90).as_bytes());
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args([
            "--drop-missing",
            "--hidden",
            "4",
            "--iters",
            "2",
            "-q",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("(--drop-missing)"));
    let run = read_json(&out);
    let dropped = run["dataset"]["dropped_rows"].as_u64().unwrap();
    // Rows with an empty city (one in four) or an NA size (one in nine).
    let expected = (0..90)
        .filter(|i| (i * 3 + i / 7) % 4 == 3 || i % 9 == 4)
        .count();
    assert_eq!(dropped as usize, expected);
    let features = run["dataset"]["features"].to_string();
    assert!(!features.contains("(missing)"), "{features}");
}

/// A numeric column with one mistyped cell (issue 25, row 8).
fn typo_csv() -> String {
    let mut s = String::from("a,b,y\n");
    for i in 0..60 {
        let b = if i == 17 {
            "6.12.51".to_owned()
        } else {
            format!("{}", (i as f64) * 0.1)
        };
        s.push_str(&format!("{},{b},{}\n", i % 7, (i as f64) * 0.3 + 1.0));
    }
    s
}

#[test]
fn a_mistyped_cell_in_a_numeric_column_is_read_as_missing_with_a_warning() {
    let dir = scratch();
    let data = write(dir.path(), "typo.csv", typo_csv().as_bytes());
    let out = dir.path().join("run.json");
    anmin()
        .arg("train")
        .arg("--data")
        .arg(&data)
        .args(["--hidden", "4", "--iters", "2", "-q", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: column \"b\" is numeric but 1 cell holds text, read as missing (first at ",
        ))
        .stderr(predicate::str::contains("typo.csv:19:2: \"6.12.51\""));
    let run = read_json(&out);
    // Two features (a and b), not 61 one-hot categories of b.
    assert_eq!(run["dataset"]["features"], serde_json::json!(["a", "b"]));
    assert_eq!(run["dataset"]["categorical"], serde_json::json!({}));
}

#[test]
fn numeric_makes_a_text_cell_an_error_naming_it() {
    let dir = scratch();
    let data = write(dir.path(), "typo.csv", typo_csv().as_bytes());
    expect_error(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args(["--numeric", "b"]),
        2,
        "typo.csv:19:2: column \"b\" must be numeric, found \"6.12.51\"",
    );
    expect_error(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args(["--numeric", "nope"]),
        2,
        "no column named \"nope\" (given as --numeric)",
    );
    // A column with many text cells stays categorical without --numeric, and fails with it.
    let text = b"c,y\nx,1\ny,2\n3,3\nx,4\n";
    let path = write(dir.path(), "c.csv", text);
    expect_error(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&path)
            .args(["--numeric", "c"]),
        2,
        "c.csv:2:1: column \"c\" must be numeric, found \"x\"",
    );
}

fn model_of(dir: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> Value {
    let model = dir.join(format!("m{}.json", extra.join("").replace('-', "")));
    anmin()
        .arg("train")
        .arg("--data")
        .arg(data)
        .args(["--hidden", "8", "--iters", "3", "-q", "--save-model"])
        .arg(&model)
        .args(extra)
        .assert()
        .success();
    read_json(&model)
}

#[test]
fn robust_scaling_and_integer_levels_are_stored_and_applied_by_predict() {
    let dir = scratch();
    let data = write(dir.path(), "shop.csv", realistic_csv(120).as_bytes());
    let plain = model_of(dir.path(), &data, &["--drop-missing"]);
    assert_eq!(plain["format_version"], 1);
    let d_plain = plain["hidden_weights"][0].as_array().unwrap().len();
    assert!(plain["standardizer"].get("smooth_clip").is_none());
    let m = model_of(
        dir.path(),
        &data,
        &[
            "--drop-missing",
            "--scaling",
            "robust",
            "--one-hot-integers",
            "8",
        ],
    );
    assert_eq!(m["format_version"], 2);
    // store has 6 integer values: 6 more inputs.
    assert_eq!(
        m["hidden_weights"][0].as_array().unwrap().len(),
        d_plain + 6
    );
    let levels = &m["standardizer"]["derive"]["levels"];
    assert_eq!(levels[0]["feature"], 0);
    assert_eq!(
        levels[0]["values"],
        serde_json::json!([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    );
    let smooth = m["standardizer"]["smooth_clip"].as_array().unwrap();
    // store is smoothly clipped, city's one-hot features are not.
    assert_eq!(smooth[0], true);
    assert_eq!(smooth[1], false);
    // Fewer distinct values than 3..=N: no levels.
    let few = model_of(dir.path(), &data, &["--one-hot-integers", "5"]);
    assert!(few["standardizer"]["derive"].get("levels").is_none());

    let path = dir.path().join("mrobust.json");
    std::fs::write(&path, serde_json::to_string(&m).unwrap()).unwrap();
    let new = write(
        dir.path(),
        "new.csv",
        b"store,city,size,age,grade\n9,Oslo,12,3.5,A\n2,Oslo,1e9,four,B\n",
    );
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&path)
        .arg("--data")
        .arg(&new)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "column \"store\": 1 row with an integer value the training rows did not have"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "warning: column \"age\": 1 row with text in a numeric column, read as missing \
             (first at "
        ) && stderr.contains("new.csv:3:4: \"four\")"),
        "{stderr}"
    );
    // Training had no missing value at all: imputed at the robust scaling's centre.
    assert!(
        stderr.contains("imputed with the training median"),
        "{stderr}"
    );
    // Under standard scaling, the centre is the training mean.
    let out = anmin()
        .args(["predict", "--model"])
        .arg(dir.path().join("mdropmissing.json"))
        .arg("--data")
        .arg(&new)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("imputed with the training mean (standardized 0)"),
        "{stderr}"
    );
    let values = predictions(&String::from_utf8(out.stdout).unwrap());
    assert!(values.iter().all(|v| v.is_finite()));
    // The run JSON records settings that are not the default.
    let run = dir.path().join("run.json");
    stdout_of(
        anmin()
            .arg("train")
            .arg("--data")
            .arg(&data)
            .args([
                "--hidden",
                "4",
                "--iters",
                "1",
                "-q",
                "--scaling",
                "robust",
                "--out",
            ])
            .arg(&run),
    );
    assert_eq!(read_json(&run)["config"]["scaling"], "robust");
}

#[test]
fn high_cardinality_text_columns_can_be_frequency_encoded() {
    let dir = scratch();
    let mut s = String::from("code,x,y\n");
    for i in 0..200 {
        s.push_str(&format!(
            "c{},{},{}\n",
            (i * 7) % 60,
            i as f64 * 0.01,
            (i % 5) as f64
        ));
    }
    let data = write(dir.path(), "codes.csv", s.as_bytes());
    let one_hot = model_of(dir.path(), &data, &[]);
    assert_eq!(one_hot["hidden_weights"][0].as_array().unwrap().len(), 62);
    let freq = model_of(dir.path(), &data, &["--max-one-hot", "50"]);
    assert_eq!(freq["hidden_weights"][0].as_array().unwrap().len(), 3);
    assert_eq!(freq["encoding"]["inputs"][0]["kind"], "frequency");
    let shares = freq["standardizer"]["derive"]["frequencies"][0]["shares"]
        .as_array()
        .unwrap();
    assert_eq!(shares.len(), 60);
    let total: f64 = shares.iter().map(|v| v.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
}

/// `csv` without its column `name`.
fn without_column(csv: &str, name: &str) -> String {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let drop = header.iter().position(|h| *h == name).unwrap();
    csv.lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let kept: Vec<&str> = cells
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != drop)
                .map(|(_, c)| *c)
                .collect();
            kept.join(",") + "\n"
        })
        .collect()
}

#[test]
fn a_model_input_absent_from_new_rows_is_read_as_missing_and_said() {
    let dir = scratch();
    let csv = realistic_csv(240);
    let data = write(dir.path(), "train.csv", csv.as_bytes());
    let model = dir.path().join("model.json");
    anmin()
        .args([
            "train",
            "--quiet",
            "--hidden",
            "6",
            "--iters",
            "3",
            "--save-model",
        ])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .assert()
        .success();
    // The numeric `age` and the text `city` (which had empty cells in training) are gone.
    let new = without_column(&without_column(&csv, "age"), "city");
    let new_path = write(dir.path(), "new.csv", new.as_bytes());
    let out = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&new_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    for name in ["age", "city"] {
        assert!(
            stderr.contains(&format!(
                "column \"{name}\", a model input, is not in {}: read as missing on all 240 rows",
                new_path.display()
            )),
            "{stderr}"
        );
    }
    // The same predictions as rows whose cells in those columns are all empty.
    let emptied: String = csv
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                return format!("{line}\n");
            }
            let mut cells: Vec<&str> = line.split(',').collect();
            cells[1] = "";
            cells[3] = "";
            cells.join(",") + "\n"
        })
        .collect();
    let emptied_path = write(dir.path(), "emptied.csv", emptied.as_bytes());
    let reference = anmin()
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&emptied_path)
        .output()
        .unwrap();
    assert!(reference.status.success());
    let ours = predictions(&String::from_utf8(out.stdout).unwrap());
    let theirs = predictions(&String::from_utf8(reference.stdout).unwrap());
    assert_eq!(ours.len(), 240);
    assert_eq!(ours, theirs);
    // Training still requires every column it names.
    expect_error(
        anmin()
            .args(["train", "--quiet", "--features", "age,size"])
            .arg("--data")
            .arg(&new_path),
        2,
        "age",
    );
}
