//! The run JSON: the contract users' scripts read. Keys may be added, never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::history::{HistoryEntry, StopReason, Undefined};

/// The dataset as the run used it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub path: String,
    /// Rows used (after `--drop-missing`).
    pub rows: usize,
    /// Encoded feature names, in input order (`name=category` for one-hot features).
    pub features: Vec<String>,
    pub targets: Vec<String>,
    /// Categories of each categorical input column, in one-hot order.
    pub categorical: BTreeMap<String, Vec<String>>,
    /// Rows dropped for missing values.
    pub dropped_rows: usize,
    /// Features derived on the training rows after `features`, in the network's input
    /// order: missing indicators (`name(missing)`) and integer levels (`name=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_features: Vec<String>,
}

/// The train/test split.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SplitInfo {
    pub seed: u64,
    pub test_frac: f64,
    pub n_train: usize,
    pub n_test: usize,
    /// Fraction of the training rows held out for early stopping (with `--val-frac`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_frac: Option<f64>,
    /// Validation rows (with `--val-frac`); n_train counts the rows actually fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_val: Option<usize>,
    /// 0-based indices of the training rows among the rows used (with `--record-split`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rows: Option<Vec<usize>>,
    /// 0-based indices of the test rows (with `--record-split`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rows: Option<Vec<usize>>,
}

/// Final metrics of one output (target column).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputReport {
    pub target: String,
    pub train_mse: Option<f64>,
    pub test_mse: Option<f64>,
    pub train_r2: Option<f64>,
    pub test_r2: Option<f64>,
    /// Why each of this output's null metrics is null (absent when none is).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub undefined_metrics: BTreeMap<String, Undefined>,
}

/// Everything `anmin train --out` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub anmin_version: String,
    pub command: String,
    pub optimizer: String,
    /// Every setting of the run, defaults included.
    pub config: serde_json::Value,
    pub dataset: DatasetInfo,
    pub split: SplitInfo,
    pub history: Vec<HistoryEntry>,
    /// The entry of the parameters the run returns: the last iterate; with `--val-frac`, the
    /// iterate with the lowest validation MSE; after divergence, the best one.
    #[serde(rename = "final")]
    pub final_entry: HistoryEntry,
    /// The entry with the lowest train_mse.
    pub best: HistoryEntry,
    /// The last iterate's entry, when it differs from `final` by design (early stopping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<HistoryEntry>,
    pub stop_reason: StopReason,
    /// Why each metric that is null in some entry (history, final, best, last) is null, keyed
    /// like the entries' metrics (absent when none is).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub undefined_metrics: BTreeMap<String, Undefined>,
    /// What `time_s` measures.
    pub time_note: String,
    /// Per-target metrics of the returned parameters.
    pub per_output: Vec<OutputReport>,
    /// Optimizer-specific facts (regularization shifts, line-search trials, …); with
    /// `--ridge auto`, a list with the facts of each λ of the refit.
    pub solver: serde_json::Value,
    /// How `--ridge auto` chose the penalty (only with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::select::SelectionReport>,
    /// How the members of a bagged ensemble (`--bag K`) were trained (only with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bagging: Option<crate::bag::BagReport>,
    /// A classification's classes and the temperature of its probabilities (only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<crate::train::ClassificationReport>,
}

impl RunReport {
    /// Why `metric` (an entry key such as "test_mse") is null in this run: as recorded, or,
    /// for files that predate the record, "no test set" where there was none.
    pub fn why_undefined(&self, metric: &str) -> Undefined {
        match self.undefined_metrics.get(metric) {
            Some(&reason) => reason,
            None if metric.starts_with("test_") && self.split.n_test == 0 => Undefined::NoTestSet,
            None => Undefined::Unrecorded,
        }
    }
}

pub const TIME_NOTE: &str = "time_s is cumulative wall-clock seconds of training work \
    (initialization included), excluding the time spent computing the reported metrics";
