//! Optimizers behind one trait, and the one training loop that drives them.
//!
//! An [`Optimizer`] performs one step (an ANMIN iteration, an epoch, an LBFGS outer
//! iteration) on the network. [`train`] owns everything else: the common initial network,
//! timing, metrics, the history, the best iterate, stopping, and progress reporting.

pub mod anmin;
pub mod baselines;
pub mod output_layer;
pub mod residual;
pub mod target_scale;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use faer::Par;

use crate::classify::{self, ClassMetrics};
use crate::data::Samples;
use crate::history::{HistoryEntry, StopReason};
use crate::metrics::{self, Metrics};
use crate::model::Network;

/// The L2 penalty in target units. `--ridge λ` is relative (scale-free): the objective is
///
/// ```text
///   MSE + λ(σ²‖A‖² + ‖B‖²)  =  σ² · [ MSE/σ² + λ(‖A‖² + ‖B/σ‖²) ]
/// ```
///
/// with σ² the mean variance of the training targets: λ weighs both layers alike on targets
/// divided by σ. Multiplying the targets by c multiplies σ by c, and the network (A, cB, cb0)
/// has c² times the objective of (A, B, b0): every step, and so the whole run, scales exactly,
/// and the same λ suits a target in any unit.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Penalty {
    /// Weight of ‖A‖²_F: λσ².
    pub a: f64,
    /// Weight of ‖B‖²_F: λ.
    pub b: f64,
}

impl Penalty {
    /// The penalty of relative weight `lambda` for training targets `y`.
    pub fn relative(lambda: f64, y: &nalgebra::DMatrix<f64>) -> Penalty {
        let sigma = target_scale::TargetScale::fit(y).scale;
        Penalty {
            a: lambda * sigma * sigma,
            b: lambda,
        }
    }

    /// The penalty's value at `net`.
    pub fn value(&self, net: &Network) -> f64 {
        if self.a == 0.0 && self.b == 0.0 {
            return 0.0;
        }
        self.a * net.a.norm_squared() + self.b * net.b.norm_squared()
    }
}

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
    /// Prepares for training from the (common) initial network.
    fn init(&mut self, net: &mut Network, train: &Samples);

    /// Performs one step, updating `net` in place.
    fn step(&mut self, net: &mut Network, train: &Samples) -> StepStatus;

    /// Solver facts for the run JSON.
    fn diagnostics(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// The optimizers, each named once (in the run JSON, on the command line, in Python).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Anmin,
    AnminPlain,
    Sgd,
    Adam,
    Lbfgs,
    Lm,
}

crate::choice!(OptimizerKind {
    Anmin => ("anmin", "ANMIN (the variant is chosen with --variant)"),
    AnminPlain => ("anmin-plain", "ANMIN with the paper's plain iteration (same as --optimizer anmin --variant plain)"),
    Sgd => ("sgd", "Mini-batch SGD with momentum (PyTorch semantics)"),
    Adam => ("adam", "Mini-batch Adam (PyTorch semantics)"),
    Lbfgs => ("lbfgs", "Full-batch L-BFGS with a strong-Wolfe line search (PyTorch semantics)"),
    Lm => ("lm", "Full-batch Levenberg–Marquardt (MATLAB trainlm's rule)"),
});

impl OptimizerKind {
    /// The steps a run takes unless told otherwise: ANMIN iterations, epochs of SGD and
    /// Adam, LBFGS outer iterations. The only place these defaults are written.
    pub const fn default_steps(self) -> usize {
        match self {
            OptimizerKind::Anmin | OptimizerKind::AnminPlain => 30,
            OptimizerKind::Sgd | OptimizerKind::Adam => 300,
            OptimizerKind::Lbfgs | OptimizerKind::Lm => 100,
        }
    }

    /// The optimizer with every setting at its default (each from its config's `Default`).
    pub fn default_spec(self) -> OptimizerSpec {
        use baselines::{adam::AdamConfig, lbfgs::LbfgsConfig, sgd::SgdConfig};
        let batch = baselines::minibatch::BatchConfig::default();
        match self {
            OptimizerKind::Anmin => OptimizerSpec::Anmin(anmin::AnminConfig::default()),
            OptimizerKind::AnminPlain => OptimizerSpec::Anmin(anmin::AnminConfig {
                variant: anmin::Variant::Plain,
                ..anmin::AnminConfig::default()
            }),
            OptimizerKind::Sgd => OptimizerSpec::Sgd {
                rule: SgdConfig::default(),
                batch,
            },
            OptimizerKind::Adam => OptimizerSpec::Adam {
                rule: AdamConfig::default(),
                batch,
            },
            OptimizerKind::Lbfgs => OptimizerSpec::Lbfgs(LbfgsConfig::default()),
            OptimizerKind::Lm => OptimizerSpec::Lm(baselines::lm::LmConfig::default()),
        }
    }
}

/// A fully resolved choice of optimizer and its settings.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum OptimizerSpec {
    Anmin(anmin::AnminConfig),
    Sgd {
        #[serde(flatten)]
        rule: baselines::sgd::SgdConfig,
        #[serde(flatten)]
        batch: baselines::minibatch::BatchConfig,
    },
    Adam {
        #[serde(flatten)]
        rule: baselines::adam::AdamConfig,
        #[serde(flatten)]
        batch: baselines::minibatch::BatchConfig,
    },
    Lbfgs(baselines::lbfgs::LbfgsConfig),
    Lm(baselines::lm::LmConfig),
}

impl OptimizerSpec {
    pub fn build(&self, par: Par) -> Box<dyn Optimizer> {
        use baselines::{adam::Adam, lbfgs::Lbfgs, minibatch::MiniBatch, sgd::Sgd};
        match self {
            OptimizerSpec::Anmin(cfg) => Box::new(anmin::Anmin::new(*cfg, par)),
            OptimizerSpec::Sgd { rule, batch } => Box::new(MiniBatch::new(Sgd::new(*rule), *batch)),
            OptimizerSpec::Adam { rule, batch } => {
                Box::new(MiniBatch::new(Adam::new(*rule), *batch))
            }
            OptimizerSpec::Lbfgs(cfg) => Box::new(Lbfgs::new(*cfg)),
            OptimizerSpec::Lm(cfg) => Box::new(baselines::lm::Lm::new(*cfg, par)),
        }
    }

    /// The same optimizer with relative penalty `ridge`.
    pub fn with_ridge(&self, ridge: f64) -> OptimizerSpec {
        let mut spec = self.clone();
        match &mut spec {
            OptimizerSpec::Anmin(cfg) => cfg.ridge = ridge,
            OptimizerSpec::Sgd { batch, .. } | OptimizerSpec::Adam { batch, .. } => {
                batch.ridge = ridge
            }
            OptimizerSpec::Lbfgs(cfg) => cfg.ridge = ridge,
            OptimizerSpec::Lm(cfg) => cfg.ridge = ridge,
        }
        spec
    }

    /// The same optimizer seeded with `seed` (ANMIN's row samples, the mini-batch shuffles).
    pub fn with_seed(&self, seed: u64) -> OptimizerSpec {
        let mut spec = self.clone();
        match &mut spec {
            OptimizerSpec::Anmin(cfg) => cfg.seed = seed,
            OptimizerSpec::Sgd { batch, .. } | OptimizerSpec::Adam { batch, .. } => {
                batch.seed = seed
            }
            OptimizerSpec::Lbfgs(_) | OptimizerSpec::Lm(_) => {}
        }
        spec
    }

    /// Which optimizer this is.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            OptimizerSpec::Anmin(cfg) if cfg.variant == anmin::Variant::Plain => {
                OptimizerKind::AnminPlain
            }
            OptimizerSpec::Anmin(_) => OptimizerKind::Anmin,
            OptimizerSpec::Sgd { .. } => OptimizerKind::Sgd,
            OptimizerSpec::Adam { .. } => OptimizerKind::Adam,
            OptimizerSpec::Lbfgs(_) => OptimizerKind::Lbfgs,
            OptimizerSpec::Lm(_) => OptimizerKind::Lm,
        }
    }

    /// The name in run reports.
    pub fn name(&self) -> &'static str {
        crate::choice::Choice::name(self.kind())
    }
}

/// When the loop stops, besides convergence and divergence.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits<'a> {
    pub max_iters: usize,
    pub max_seconds: Option<f64>,
    /// Set (e.g. by a SIGINT handler) to stop after the current step with reason
    /// `interrupted`.
    pub interrupt: Option<&'a AtomicBool>,
    /// With a validation set: stop (reason `patience`) after this many steps without a lower
    /// validation MSE.
    pub patience: Option<usize>,
}

impl Limits<'_> {
    /// At most `max_iters` steps, no other limit.
    pub fn iters(max_iters: usize) -> Limits<'static> {
        Limits {
            max_iters,
            ..Limits::default()
        }
    }
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
    /// The entry of `network`: the last iterate; with a validation set, the iterate with the
    /// lowest validation MSE; after divergence, the best iterate.
    pub final_entry: HistoryEntry,
    /// The last iterate's entry.
    pub last_entry: HistoryEntry,
    /// The entry with the lowest training MSE.
    pub best_entry: HistoryEntry,
    /// The parameters the run returns: the last iterate, or the best one after divergence.
    pub network: Network,
    /// The parameters of `best_entry`.
    pub best_network: Network,
    /// The parameters of `last_entry`.
    pub last_network: Network,
    /// The network the run started from (iteration 0: the one every optimizer starts from).
    pub initial_network: Network,
    pub stop_reason: StopReason,
    /// The optimizer's facts for the run JSON ([`Optimizer::diagnostics`]) at the end.
    pub solver: serde_json::Value,
    /// Metrics of `network` on the training and test sets, per output.
    pub final_train: Metrics,
    pub final_test: Option<Metrics>,
}

/// The network every optimizer starts from for a given random hidden layer: the output layer
/// fitted by least squares (a B-step without penalty).
pub fn initial_network(mut net: Network, train: &Samples, par: Par) -> Network {
    let fit = output_layer::fit_network(&net, &train.x, &train.y, 0.0, par, false);
    net.b = fit.b;
    net.b0 = fit.b0;
    net
}

/// The history entry of `net` on `sets` (an entry made outside the loop, e.g. an ensemble's).
pub fn entry_of(net: &Network, sets: Sets<'_>, iter: usize, elapsed: Duration) -> HistoryEntry {
    measure(net, sets).entry(iter, elapsed)
}

/// A run whose history was made outside the loop (an ensemble's): one network per entry; the
/// run returns the last.
pub struct Finished<'a> {
    pub history: Vec<HistoryEntry>,
    pub networks: Vec<Network>,
    pub stop_reason: StopReason,
    pub solver: serde_json::Value,
    pub sets: Sets<'a>,
}

/// The outcome of a [`Finished`] run.
pub fn finished(run: Finished<'_>) -> RunOutcome {
    let Finished {
        history,
        mut networks,
        stop_reason,
        solver,
        sets,
    } = run;
    assert_eq!(history.len(), networks.len(), "one network per entry");
    let last = history.last().cloned().expect("a history has entry 0");
    let best = (0..history.len())
        .filter(|&i| history[i].train_mse.is_some())
        .min_by(|&i, &j| {
            history[i]
                .train_mse
                .partial_cmp(&history[j].train_mse)
                .expect("finite")
        })
        .unwrap_or(history.len() - 1);
    let measured = measure(networks.last().expect("entry 0"), sets);
    let network = networks.pop().expect("entry 0");
    RunOutcome {
        final_entry: last.clone(),
        last_entry: last,
        best_entry: history[best].clone(),
        best_network: networks
            .get(best)
            .cloned()
            .unwrap_or_else(|| network.clone()),
        last_network: network.clone(),
        initial_network: networks.first().cloned().unwrap_or_else(|| network.clone()),
        network,
        history,
        stop_reason,
        solver,
        final_train: measured.train,
        final_test: measured.test,
    }
}

fn measure(net: &Network, sets: Sets<'_>) -> Measured {
    let outputs = |samples: &Samples| net.predict(&samples.x);
    let train_out = outputs(sets.train);
    let val_out = sets.val.map(outputs);
    let test_out = sets.test.map(outputs);
    let classes = sets.train.classify.then(|| {
        // Train and test at the temperature fitted on the training rows; validation at its
        // own (the calibrated log loss the held-out rows allow).
        let (t, train) = classify::fit_and_evaluate(&train_out, &sets.train.y);
        Classes {
            train,
            val: val_out
                .as_ref()
                .zip(sets.val)
                .map(|(o, v)| classify::fit_and_evaluate(o, &v.y).1),
            test: test_out
                .as_ref()
                .zip(sets.test)
                .map(|(o, s)| classify::evaluate(o, &s.y, t)),
        }
    });
    Measured {
        train: metrics::evaluate(&train_out, &sets.train.y),
        val: val_out
            .zip(sets.val)
            .map(|(o, v)| metrics::evaluate(&o, &v.y)),
        test: test_out
            .zip(sets.test)
            .map(|(o, t)| metrics::evaluate(&o, &t.y)),
        classes,
    }
}

/// Metrics of one network on the training set and, when present, validation and test sets.
struct Measured {
    train: Metrics,
    val: Option<Metrics>,
    test: Option<Metrics>,
    /// Classification's accuracy and log loss.
    classes: Option<Classes>,
}

/// Accuracy and log loss on each set.
struct Classes {
    train: ClassMetrics,
    val: Option<ClassMetrics>,
    test: Option<ClassMetrics>,
}

impl Measured {
    fn entry(&self, iter: usize, elapsed: Duration) -> HistoryEntry {
        let c = self.classes.as_ref();
        HistoryEntry {
            iter,
            time_s: elapsed.as_secs_f64(),
            train_mse: self.train.mse,
            test_mse: self.test.as_ref().and_then(|m| m.mse),
            train_r2: self.train.r2,
            test_r2: self.test.as_ref().and_then(|m| m.r2),
            val_mse: self.val.as_ref().and_then(|m| m.mse),
            val_r2: self.val.as_ref().and_then(|m| m.r2),
            train_accuracy: c.and_then(|c| c.train.accuracy),
            test_accuracy: c.and_then(|c| c.test.and_then(|m| m.accuracy)),
            train_log_loss: c.and_then(|c| c.train.log_loss),
            test_log_loss: c.and_then(|c| c.test.and_then(|m| m.log_loss)),
            val_log_loss: c.and_then(|c| c.val.and_then(|m| m.log_loss)),
        }
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

/// The samples a run sees: it fits `train`, early-stops on `val` and reports on `test`.
#[derive(Debug, Clone, Copy)]
pub struct Sets<'a> {
    pub train: &'a Samples,
    pub val: Option<&'a Samples>,
    pub test: Option<&'a Samples>,
}

/// Trains `net` (random hidden layer) with `opt`: builds the common initial network, then
/// steps until a limit, convergence or divergence.
pub fn train(
    opt: &mut dyn Optimizer,
    net: Network,
    train: &Samples,
    test: Option<&Samples>,
    limits: Limits<'_>,
    par: Par,
    observer: &mut dyn Observer,
) -> RunOutcome {
    let sets = Sets {
        train,
        val: None,
        test,
    };
    train_with_validation(opt, net, sets, limits, par, observer)
}

/// [`train`] with an optional validation set for early stopping: the run then returns the
/// iterate with the lowest validation MSE (the earliest on ties) instead of the last one.
pub fn train_with_validation(
    opt: &mut dyn Optimizer,
    net: Network,
    sets: Sets<'_>,
    limits: Limits<'_>,
    par: Par,
    observer: &mut dyn Observer,
) -> RunOutcome {
    let started = Instant::now();
    let net = initial_network(net, sets.train, par);
    let clock = Clock {
        elapsed: started.elapsed(),
        iter: 0,
    };
    continue_training(opt, net, sets, clock, limits, observer)
}

/// Where a run continues from: the time already spent and the last iteration's number, so
/// that runs chained on one network (a penalty path) share one time axis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    pub elapsed: Duration,
    pub iter: usize,
}

/// Trains `net` as it is (no initial output-layer fit) with `opt`, numbering entries from
/// `clock.iter` and timing from `clock.elapsed`. Entry `clock.iter` is `net` itself.
/// `limits.max_iters` counts the steps of this call.
pub fn continue_training(
    opt: &mut dyn Optimizer,
    mut net: Network,
    sets: Sets<'_>,
    clock: Clock,
    limits: Limits<'_>,
    observer: &mut dyn Observer,
) -> RunOutcome {
    let Sets { train, val, .. } = sets;
    let started = Instant::now();
    let initial = net.clone();
    opt.init(&mut net, train);
    let mut elapsed = clock.elapsed + started.elapsed();

    let measure = |net: &Network| measure(net, sets);
    let explosion = explosion_threshold(&train.y);
    let first = measure(&net).entry(clock.iter, elapsed);
    observer.on_entry(&first);
    let mut history = vec![first.clone()];
    let mut best = (first.clone(), net.clone());
    // The iterate early stopping keeps (validation runs only).
    let mut kept = val.map(|_| (first, net.clone()));
    let mut since_kept = 0;

    let mut stop_reason = StopReason::MaxIters;
    for iter in clock.iter + 1..=clock.iter + limits.max_iters {
        if limits
            .interrupt
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            stop_reason = StopReason::Interrupted;
            break;
        }
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

        let current = measure(&net).entry(iter, elapsed);
        observer.on_entry(&current);
        history.push(current.clone());
        let exploded = current.train_mse.is_none_or(|mse| mse > explosion);
        if status == StepStatus::Diverged || exploded || !net.is_finite() {
            stop_reason = StopReason::Diverged;
            break;
        }
        if current.train_mse < best.0.train_mse || best.0.train_mse.is_none() {
            best = (current.clone(), net.clone());
        }
        if let Some((kept_entry, kept_net)) = &mut kept {
            since_kept += 1;
            if current.val_loss().is_some()
                && (kept_entry.val_loss().is_none() || current.val_loss() < kept_entry.val_loss())
            {
                *kept_entry = current;
                *kept_net = net.clone();
                since_kept = 0;
            }
        }
        if status == StepStatus::Converged {
            stop_reason = StopReason::Converged;
            break;
        }
        if limits
            .patience
            .is_some_and(|p| kept.is_some() && since_kept >= p)
        {
            stop_reason = StopReason::Patience;
            break;
        }
    }

    let last_entry = history
        .last()
        .cloned()
        .expect("history has the first entry");
    let (best_entry, best_network) = best;
    let (final_entry, network) = match kept {
        Some(kept) => kept,
        None if stop_reason == StopReason::Diverged => (best_entry.clone(), best_network.clone()),
        None => (last_entry.clone(), net.clone()),
    };
    let final_metrics = measure(&network);
    RunOutcome {
        history,
        final_entry,
        last_entry,
        best_entry,
        network,
        best_network,
        last_network: net,
        initial_network: initial,
        stop_reason,
        solver: opt.diagnostics(),
        final_train: final_metrics.train,
        final_test: final_metrics.test,
    }
}
