//! The run JSON: the contract users' scripts read. Keys may be added, never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One point of a training curve. `iter` 0 is the initial network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// ANMIN iteration, SGD/Adam epoch, or LBFGS outer iteration.
    pub iter: usize,
    /// Cumulative wall-clock seconds of training work, metric evaluation excluded.
    pub time_s: f64,
    pub train_mse: Option<f64>,
    pub test_mse: Option<f64>,
    pub train_r2: Option<f64>,
    pub test_r2: Option<f64>,
    /// Validation MSE (only with `--val-frac`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mse: Option<f64>,
    /// Validation R² (only with `--val-frac`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_r2: Option<f64>,
}

/// Why a metric is `null`. A run records it for each metric that is null in any of its
/// entries, so that "no test set" and "too large for f64" are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undefined {
    /// There is no test set (`--test-frac 0`).
    NoTestSet,
    /// R² of targets that do not vary: it has no denominator.
    ConstantTarget,
    /// The value does not fit in f64: the squared errors of predictions very far from their
    /// targets (a test row far outside the training range) overflow.
    Overflow,
    /// Not recorded: a run file from before reasons were recorded, with a test set.
    Unrecorded,
}

impl Undefined {
    /// A few words for tables.
    pub fn label(self) -> &'static str {
        match self {
            Undefined::NoTestSet => "no test set",
            Undefined::ConstantTarget => "constant target",
            Undefined::Overflow => "overflow",
            Undefined::Unrecorded => "reason not recorded",
        }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The iteration (or epoch) budget was used up.
    MaxIters,
    /// The time budget was used up.
    MaxSeconds,
    /// The optimizer could make no further (relative) progress.
    Converged,
    /// The loss became non-finite or exploded; the best parameters were kept.
    Diverged,
    /// Stopped by SIGINT or SIGTERM; the history so far is kept.
    Interrupted,
    /// The validation MSE stopped improving (stages of a penalty path, `--ridge auto`).
    Patience,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::MaxIters => "max_iters",
            StopReason::MaxSeconds => "max_seconds",
            StopReason::Converged => "converged",
            StopReason::Diverged => "diverged",
            StopReason::Interrupted => "interrupted",
            StopReason::Patience => "patience",
        }
    }
}

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

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename,
/// so that readers never see a partial file and an existing file survives a failure. Errors
/// name `path`, never the temporary file.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    use std::io::Write;
    let err = |source| crate::Error::Write {
        path: path.to_path_buf(),
        source: crate::outputs::without_temporary_path(source),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".anmin-").suffix(".tmp");
    // Temporary files are private (0600); an output file gets the usual mode (0666 less the
    // umask), as if created directly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(crate::outputs::folder_of(path))
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Serializes `value` as pretty JSON and writes it atomically.
pub fn write_json<T: Serialize>(path: &std::path::Path, value: &T) -> crate::Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("report types serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_names_the_path_given_not_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("run.json");
        let e = write_atomic(&path, b"{}").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}: cannot write: ", path.display())),
            "{text}"
        );
        assert!(!text.contains(".anmin-"), "{text}");
        assert_eq!(e.exit_code(), 1);
    }
}
