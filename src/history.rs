//! One point of a training curve and why a run stopped: the leaf every layer may use (the
//! optimizers record entries, the reports serialize them, the aggregates read them).

use serde::{Deserialize, Serialize};

/// One point of a training curve. `iter` 0 is the initial network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Classification only: the fraction of rows whose largest output is their class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Classification only: the mean −log p(class), p the softmax of the outputs with the
    /// temperature fitted on this entry's training rows (the `final` entry: the saved
    /// model's temperature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_log_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_log_loss: Option<f64>,
    /// Classification with validation rows: their log loss at the temperature fitted on
    /// them (what a calibrated model would reach), the early-stopping criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_log_loss: Option<f64>,
}

impl HistoryEntry {
    /// What early stopping and penalty selection minimize: the validation log loss of a
    /// classification, else the validation MSE.
    pub fn val_loss(&self) -> Option<f64> {
        self.val_log_loss.or(self.val_mse)
    }
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
