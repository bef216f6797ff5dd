//! The rows of an aggregate. Runs are grouped by optimizer; where runs of one optimizer were
//! made with different settings (`--ridge`, `--val-frac`, `--lr`, …), pooling them would mix
//! different experiments, so each setting in which they differ joins the row's name:
//! `anmin ridge=0`, `anmin ridge=0.001`. Runs with the same settings share a row, and a
//! comparison of ridge values is then one table and one figure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::report::RunReport;
use crate::settings;

/// Config keys that never split a row: how the run was executed; the split seed (a row
/// averages over seeds); the optimizer (the row's first word); and what the runs of one
/// aggregate must share anyway (dataset, targets, test fraction, h; `summarize` checks them).
const NOT_ROW_SETTINGS: [&str; 7] = [
    "seed",
    "optimizer",
    "data",
    "target",
    "target_prefix",
    "test_frac",
    "hidden",
];

/// The runs of one row.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub optimizer: String,
    /// The settings in which runs of this optimizer differ, with this row's values (empty
    /// when they all agree).
    pub settings: BTreeMap<String, Value>,
    pub runs: Vec<&'a RunReport>,
}

/// A run's settings: its config without the keys that never split a row.
fn settings(run: &RunReport) -> BTreeMap<&str, &Value> {
    match &run.config {
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| {
                !settings::is_execution(key) && !NOT_ROW_SETTINGS.contains(&key.as_str())
            })
            .map(|(key, value)| (key.as_str(), value))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The runs grouped into rows, keyed (and so ordered) by the row's name: the optimizer, then
/// each distinguishing setting as `key=value` in key order. Within a row, runs are in seed
/// order.
pub fn group_into_rows<'a>(
    runs: impl IntoIterator<Item = &'a RunReport>,
) -> BTreeMap<String, Row<'a>> {
    let runs: Vec<&RunReport> = runs.into_iter().collect();
    let all_settings: Vec<BTreeMap<&str, &Value>> = runs.iter().map(|run| settings(run)).collect();
    // Per optimizer, the keys whose values are not all equal (a missing key counts as null):
    // those where some run differs from the optimizer's first run.
    let mut first_of: BTreeMap<&str, &BTreeMap<&str, &Value>> = BTreeMap::new();
    let mut differing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (run, run_settings) in runs.iter().zip(&all_settings) {
        let first = *first_of.entry(&run.optimizer).or_insert(run_settings);
        let keys: BTreeSet<&str> = first.keys().chain(run_settings.keys()).copied().collect();
        let differs = keys
            .into_iter()
            .filter(|key| first.get(key).copied() != run_settings.get(key).copied());
        differing.entry(&run.optimizer).or_default().extend(differs);
    }
    let mut rows: BTreeMap<String, Row<'a>> = BTreeMap::new();
    for (&run, run_settings) in runs.iter().zip(&all_settings) {
        let settings: BTreeMap<String, Value> = differing[run.optimizer.as_str()]
            .iter()
            .map(|&key| {
                let value = run_settings.get(key).map_or(Value::Null, |&v| v.clone());
                (key.to_owned(), value)
            })
            .collect();
        rows.entry(row_name(&run.optimizer, &settings))
            .or_insert_with(|| Row {
                optimizer: run.optimizer.clone(),
                settings,
                runs: Vec::new(),
            })
            .runs
            .push(run);
    }
    // Seed order, so that sums do not depend on the order the runs came in (shards merged
    // by `summarize` give bitwise the aggregates of one comparison).
    for row in rows.values_mut() {
        row.runs.sort_by_key(|r| r.split.seed);
    }
    rows
}

/// "anmin", or "anmin ridge=0.001 val_frac=0.2" for runs whose settings set them apart.
pub fn row_name(optimizer: &str, settings: &BTreeMap<String, Value>) -> String {
    let mut name = optimizer.to_owned();
    for (key, value) in settings {
        name.push_str(&format!(" {key}={}", value_text(value)));
    }
    name
}

/// A setting's value as written after `key=`: numbers and words as they are, lists joined
/// by commas, "none" for an unset option.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The optimizer a row name starts with.
pub fn optimizer_of(row_name: &str) -> &str {
    row_name.split(' ').next().unwrap_or(row_name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(optimizer: &str, seed: u64, config: Value) -> RunReport {
        let mut run = crate::aggregate::test_runs::final_only(optimizer, seed, 1.0, 2.0);
        run.config = config;
        run
    }

    fn names(rows: &BTreeMap<String, Row<'_>>) -> Vec<String> {
        rows.keys().cloned().collect()
    }

    #[test]
    fn runs_with_equal_settings_share_a_row_named_by_the_optimizer() {
        let config = json!({ "hidden": 4, "ridge": 0.0, "lr": null, "threads": 0 });
        let runs = vec![
            run("anmin", 0, config.clone()),
            run(
                "anmin",
                1,
                json!({ "hidden": 4, "ridge": 0.0, "lr": null, "threads": 2,
                                    "seed": 1, "out": "x.json" }),
            ),
            run("adam", 0, json!({ "hidden": 4, "ridge": 0.0, "lr": 0.001 })),
        ];
        let rows = group_into_rows(&runs);
        // Execution keys and the seed do not split a row; nor do settings that differ only
        // between optimizers (adam's lr).
        assert_eq!(names(&rows), ["adam", "anmin"]);
        assert_eq!(rows["anmin"].runs.len(), 2);
        assert!(rows["anmin"].settings.is_empty());
    }

    #[test]
    fn settings_that_differ_within_an_optimizer_name_its_rows() {
        let anmin = |seed, ridge: f64, val_frac: f64| {
            run(
                "anmin",
                seed,
                json!({ "ridge": ridge, "val_frac": val_frac, "iters": 30 }),
            )
        };
        let runs = vec![
            anmin(0, 0.0, 0.0),
            anmin(1, 0.0, 0.0),
            anmin(0, 0.001, 0.0),
            anmin(0, 0.001, 0.2),
            run("sgd", 0, json!({ "ridge": 0.5, "drop": ["a", "b"] })),
            run("sgd", 1, json!({ "ridge": 0.5 })),
        ];
        let rows = group_into_rows(&runs);
        assert_eq!(
            names(&rows),
            [
                "anmin ridge=0.0 val_frac=0.0",
                "anmin ridge=0.001 val_frac=0.0",
                "anmin ridge=0.001 val_frac=0.2",
                "sgd drop=a,b",
                "sgd drop=none",
            ]
        );
        let first = &rows["anmin ridge=0.0 val_frac=0.0"];
        assert_eq!(first.runs.len(), 2);
        assert_eq!(first.optimizer, "anmin");
        assert_eq!(first.settings["ridge"], json!(0.0));
        assert_eq!(optimizer_of("anmin ridge=0.001 val_frac=0.2"), "anmin");
        assert_eq!(optimizer_of("anmin-plain"), "anmin-plain");
    }
}
