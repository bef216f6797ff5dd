//! The run report of a finished run: the dataset and split as used, the history, why each
//! null metric is null, and per-target metrics.

use std::collections::BTreeMap;

use crate::bag::BagReport;
use crate::data::{Dataset, InputColumn, Prepared, Samples};
use crate::history::{HistoryEntry, Undefined};
use crate::metrics;
use crate::optim::RunOutcome;
use crate::report::{self, DatasetInfo, OutputReport, RunReport, SplitInfo};
use crate::select::SelectionReport;

use super::TrainRequest;

/// What a report is made of.
pub struct Parts<'a> {
    pub command: &'static str,
    pub request: &'a TrainRequest,
    pub dataset: &'a Dataset,
    pub prepared: &'a Prepared,
    pub outcome: &'a RunOutcome,
    pub selection: Option<SelectionReport>,
    pub bagging: Option<BagReport>,
    /// The validation fraction in effect.
    pub val_frac: f64,
}

/// The run JSON of a finished run.
pub fn run_report(parts: Parts<'_>) -> RunReport {
    let Parts {
        command,
        request,
        dataset,
        prepared,
        outcome,
        selection,
        bagging,
        val_frac,
    } = parts;
    let n_val = selection
        .as_ref()
        .map_or(prepared.split.val.len(), |s| s.n_val);
    // A bag holds out every training row once (in its own fold), not a validation set.
    let (val_frac, n_val) = if bagging.is_some() {
        (0.0, 0)
    } else {
        (val_frac, n_val)
    };
    let record = request.record_split;
    RunReport {
        anmin_version: env!("CARGO_PKG_VERSION").into(),
        command: command.into(),
        optimizer: request.optimizer.name().into(),
        config: request.config_json(),
        dataset: DatasetInfo {
            derived_features: prepared
                .scaler
                .derive
                .names(&dataset.encoding.feature_names()),
            ..dataset_info(dataset)
        },
        split: SplitInfo {
            seed: request.split.seed,
            test_frac: request.split.test_frac,
            n_train: prepared.split.train.len(),
            n_test: prepared.split.test.len(),
            val_frac: (val_frac > 0.0).then_some(val_frac),
            n_val: (n_val > 0).then_some(n_val),
            train_rows: record.then(|| prepared.split.train.clone()),
            test_rows: record.then(|| prepared.split.test.clone()),
        },
        history: outcome.history.clone(),
        final_entry: outcome.final_entry.clone(),
        best: outcome.best_entry.clone(),
        last: prepared.val.as_ref().map(|_| outcome.last_entry.clone()),
        stop_reason: outcome.stop_reason,
        undefined_metrics: undefined_metrics(outcome, prepared),
        time_note: report::TIME_NOTE.into(),
        per_output: per_output(dataset, outcome, prepared),
        solver: outcome.solver.clone(),
        selection,
        bagging,
        classification: None,
    }
}

pub fn dataset_info(dataset: &Dataset) -> DatasetInfo {
    let categorical: BTreeMap<String, Vec<String>> = dataset
        .encoding
        .inputs
        .iter()
        .filter_map(|input| match input {
            InputColumn::Categorical {
                name, categories, ..
            }
            | InputColumn::Frequency {
                name, categories, ..
            } => Some((name.clone(), categories.clone())),
            InputColumn::Numeric { .. } => None,
        })
        .collect();
    DatasetInfo {
        path: dataset.source.clone(),
        rows: dataset.n_rows(),
        features: dataset.encoding.feature_names(),
        targets: dataset.encoding.targets.clone(),
        categorical,
        dropped_rows: dataset.dropped_rows,
        derived_features: Vec::new(),
    }
}

/// Why a metric of a set is null: there is no such set (only the test set may be missing),
/// R² of targets that do not vary (`r2_defined` false), or else a value beyond f64.
fn why_null(r2_defined: Option<bool>, is_r2: bool) -> Undefined {
    match r2_defined {
        None => Undefined::NoTestSet,
        Some(false) if is_r2 => Undefined::ConstantTarget,
        Some(_) => Undefined::Overflow,
    }
}

type Getter = fn(&HistoryEntry) -> Option<f64>;

/// Why each metric that is null in some entry of the run is null.
fn undefined_metrics(outcome: &RunOutcome, prepared: &Prepared) -> BTreeMap<String, Undefined> {
    let r2_defined = |set: Option<&Samples>| set.map(|s| metrics::r2_defined(&s.y).0);
    let (train, val) = (
        r2_defined(Some(&prepared.train)),
        r2_defined(prepared.val.as_ref()),
    );
    let test = r2_defined(prepared.test.as_ref());
    let keys: [(&str, Option<bool>, bool, Getter); 6] = [
        ("train_mse", train, false, |e| e.train_mse),
        ("test_mse", test, false, |e| e.test_mse),
        ("train_r2", train, true, |e| e.train_r2),
        ("test_r2", test, true, |e| e.test_r2),
        ("val_mse", val, false, |e| e.val_mse),
        ("val_r2", val, true, |e| e.val_r2),
    ];
    let entries = || {
        outcome.history.iter().chain([
            &outcome.final_entry,
            &outcome.best_entry,
            &outcome.last_entry,
        ])
    };
    keys.into_iter()
        // Without a validation set the entries have no validation keys at all.
        .filter(|(key, set, ..)| set.is_some() || !key.starts_with("val_"))
        .filter(|(.., value)| entries().any(|e| value(e).is_none()))
        .map(|(key, set, is_r2, _)| (key.to_owned(), why_null(set, is_r2)))
        .collect()
}

fn per_output(dataset: &Dataset, outcome: &RunOutcome, prepared: &Prepared) -> Vec<OutputReport> {
    let (_, train_r2_defined) = metrics::r2_defined(&prepared.train.y);
    let test_r2_defined = prepared.test.as_ref().map(|s| metrics::r2_defined(&s.y).1);
    dataset
        .encoding
        .output_names()
        .into_iter()
        .enumerate()
        .map(|(j, target)| {
            let train = &outcome.final_train.per_output[j];
            let test = outcome.final_test.as_ref().map(|m| &m.per_output[j]);
            let (train_set, test_set) = (
                Some(train_r2_defined[j]),
                test_r2_defined.as_ref().map(|d| d[j]),
            );
            let mut output = OutputReport {
                target,
                train_mse: train.mse,
                test_mse: test.and_then(|m| m.mse),
                train_r2: train.r2,
                test_r2: test.and_then(|m| m.r2),
                undefined_metrics: BTreeMap::new(),
            };
            let values = [
                ("train_mse", output.train_mse, train_set, false),
                ("test_mse", output.test_mse, test_set, false),
                ("train_r2", output.train_r2, train_set, true),
                ("test_r2", output.test_r2, test_set, true),
            ];
            output.undefined_metrics = values
                .into_iter()
                .filter(|(_, value, ..)| value.is_none())
                .map(|(key, _, set, is_r2)| (key.to_owned(), why_null(set, is_r2)))
                .collect();
            output
        })
        .collect()
}
