//! Optimizers behind one trait, and the one training loop that drives them.
//!
//! An [`Optimizer`] performs one step (an ANMIN iteration, an epoch, an LBFGS outer
//! iteration) on the network. [`train`] owns everything else: the common initial network,
//! timing, metrics, the history, the best iterate, stopping, and progress reporting.

pub mod a_cg;
pub mod a_system;
pub mod adam;
pub mod anmin;
pub mod gradient;
pub mod lbfgs;
pub mod minibatch;
pub mod output_layer;
pub mod sgd;

use std::time::{Duration, Instant};

use faer::Par;

use crate::data::Samples;
use crate::metrics::{self, Metrics};
use crate::model::Network;
use crate::report::{HistoryEntry, StopReason};

/// What a step reports besides changing the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Continue,
    /// No further progress is possible or worthwhile; the network holds the last iterate.
    Converged,
    /// The optimizer hit a numerical failure (non-finite or exploding values).
    Diverged,
}

/// One optimization method. Implementations keep whatever state they need between steps.
pub trait Optimizer {
    /// The name used in the run JSON and on the command line.
    fn name(&self) -> &'static str;

    /// Prepares for training from the (common) initial network.
    fn init(&mut self, net: &mut Network, train: &Samples);

    /// Performs one step, updating `net` in place.
    fn step(&mut self, net: &mut Network, train: &Samples) -> StepStatus;

    /// Solver facts for the run JSON.
    fn diagnostics(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// A fully resolved choice of optimizer and its settings.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum OptimizerSpec {
    Anmin(anmin::AnminConfig),
    Sgd {
        #[serde(flatten)]
        rule: sgd::SgdConfig,
        #[serde(flatten)]
        batch: minibatch::BatchConfig,
    },
    Adam {
        #[serde(flatten)]
        rule: adam::AdamConfig,
        #[serde(flatten)]
        batch: minibatch::BatchConfig,
    },
    Lbfgs(lbfgs::LbfgsConfig),
}

impl OptimizerSpec {
    pub fn build(&self, par: Par) -> Box<dyn Optimizer> {
        match self {
            OptimizerSpec::Anmin(cfg) => Box::new(anmin::Anmin::new(*cfg, par)),
            OptimizerSpec::Sgd { rule, batch } => {
                Box::new(minibatch::MiniBatch::new(sgd::Sgd::new(*rule), *batch))
            }
            OptimizerSpec::Adam { rule, batch } => {
                Box::new(minibatch::MiniBatch::new(adam::Adam::new(*rule), *batch))
            }
            OptimizerSpec::Lbfgs(cfg) => Box::new(lbfgs::Lbfgs::new(*cfg)),
        }
    }

    /// The name in run reports.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerSpec::Anmin(cfg) => match cfg.variant {
                anmin::Variant::Safeguarded => "anmin",
                anmin::Variant::Plain => "anmin-plain",
            },
            OptimizerSpec::Sgd { .. } => "sgd",
            OptimizerSpec::Adam { .. } => "adam",
            OptimizerSpec::Lbfgs(_) => "lbfgs",
        }
    }
}

/// When the loop stops, besides convergence and divergence.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_iters: usize,
    pub max_seconds: Option<f64>,
}

/// Receives each history entry as it is recorded (progress bars, logs).
pub trait Observer {
    fn on_entry(&mut self, entry: &HistoryEntry);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn on_entry(&mut self, _: &HistoryEntry) {}
}

/// The result of a training run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub history: Vec<HistoryEntry>,
    /// The entry of `network`.
    pub final_entry: HistoryEntry,
    /// The entry with the lowest training MSE.
    pub best_entry: HistoryEntry,
    /// The parameters the run returns: the last iterate, or the best one after divergence.
    pub network: Network,
    /// The parameters of `best_entry`.
    pub best_network: Network,
    /// The network every optimizer starts from (iteration 0).
    pub initial_network: Network,
    pub stop_reason: StopReason,
    /// Metrics of `network` on the training and test sets, per output.
    pub final_train: Metrics,
    pub final_test: Option<Metrics>,
}

/// The network every optimizer starts from for a given random hidden layer: the output layer
/// fitted by least squares (a B-step without penalty).
pub fn initial_network(mut net: Network, train: &Samples, par: Par) -> Network {
    let fit = output_layer::fit(net.hidden_outputs(&train.x), &train.y, 0.0, par);
    net.b = fit.b;
    net.b0 = fit.b0;
    net
}

fn evaluate(net: &Network, samples: &Samples) -> Metrics {
    metrics::evaluate(&net.predict(&samples.x), &samples.y)
}

fn entry(iter: usize, elapsed: Duration, train: &Metrics, test: Option<&Metrics>) -> HistoryEntry {
    HistoryEntry {
        iter,
        time_s: elapsed.as_secs_f64(),
        train_mse: train.mse,
        test_mse: test.and_then(|m| m.mse),
        train_r2: train.r2,
        test_r2: test.and_then(|m| m.r2),
    }
}

/// A training MSE above this means the run has blown up: a million times the MSE of
/// predicting each output's mean (or, for constant targets, their mean square).
fn explosion_threshold(y: &nalgebra::DMatrix<f64>) -> f64 {
    let var: f64 = y.column_iter().map(|c| c.variance()).sum::<f64>() / y.ncols().max(1) as f64;
    let second_moment = y.norm_squared() / y.len().max(1) as f64;
    let reference = if var > 0.0 {
        var
    } else if second_moment > 0.0 {
        second_moment
    } else {
        1.0
    };
    1e6 * reference
}

/// Trains `net` (random hidden layer) with `opt`: builds the common initial network, then
/// steps until a limit, convergence or divergence.
pub fn train(
    opt: &mut dyn Optimizer,
    net: Network,
    train: &Samples,
    test: Option<&Samples>,
    limits: Limits,
    par: Par,
    observer: &mut dyn Observer,
) -> RunOutcome {
    let started = Instant::now();
    let mut net = initial_network(net, train, par);
    let initial = net.clone();
    opt.init(&mut net, train);
    let mut elapsed = started.elapsed();

    let measure = |net: &Network| (evaluate(net, train), test.map(|t| evaluate(net, t)));
    let explosion = explosion_threshold(&train.y);
    let (train_m, test_m) = measure(&net);
    let first = entry(0, elapsed, &train_m, test_m.as_ref());
    observer.on_entry(&first);
    let mut history = vec![first.clone()];
    let mut best = (first, net.clone());
    let mut last = (train_m, test_m);

    let mut stop_reason = StopReason::MaxIters;
    for iter in 1..=limits.max_iters {
        if limits
            .max_seconds
            .is_some_and(|s| elapsed.as_secs_f64() >= s)
        {
            stop_reason = StopReason::MaxSeconds;
            break;
        }
        let step_started = Instant::now();
        let status = opt.step(&mut net, train);
        elapsed += step_started.elapsed();

        let (train_m, test_m) = measure(&net);
        let current = entry(iter, elapsed, &train_m, test_m.as_ref());
        observer.on_entry(&current);
        history.push(current.clone());
        let exploded = current.train_mse.is_none_or(|mse| mse > explosion);
        if status == StepStatus::Diverged || exploded || !net.is_finite() {
            stop_reason = StopReason::Diverged;
            break;
        }
        if current.train_mse < best.0.train_mse || best.0.train_mse.is_none() {
            best = (current, net.clone());
        }
        last = (train_m, test_m);
        if status == StepStatus::Converged {
            stop_reason = StopReason::Converged;
            break;
        }
    }

    let (best_entry, best_network) = best;
    let (final_entry, network, (final_train, final_test)) = if stop_reason == StopReason::Diverged {
        let metrics = measure(&best_network);
        (best_entry.clone(), best_network.clone(), metrics)
    } else {
        (
            history.last().cloned().expect("history has entry 0"),
            net,
            last,
        )
    };
    RunOutcome {
        history,
        final_entry,
        best_entry,
        network,
        best_network,
        initial_network: initial,
        stop_reason,
        final_train,
        final_test,
    }
}
