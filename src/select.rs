//! Choosing the penalty on held-out rows (`--ridge auto`), wrapped around the training loop
//! the way a grid search wraps an estimator: it never enters an optimizer.
//!
//! A path of relative penalties λ (see [`crate::optim::Penalty`]) runs from strong to weak.
//! Each λ continues from the previous λ's last iterate (a warm start, as a regularization path
//! does), steps with early stopping on the validation rows, and remembers its iterate with the
//! lowest validation MSE. The path ends once several λ in a row have not beaten the best
//! validation MSE so far: weaker penalties only fit the training rows closer. The chosen point
//! is the (λ, step) with the lowest validation MSE; its *schedule* — how many steps each λ up
//! to it took — reproduces it from the initial network, and [`refit`] replays that schedule on
//! all training rows.

use std::time::{Duration, Instant};

use faer::Par;
use serde::{Deserialize, Serialize};

use crate::data::Samples;
use crate::history::{HistoryEntry, StopReason};
use crate::model::Network;
use crate::optim::{self, Clock, Limits, Observer, OptimizerSpec, Penalty, RunOutcome, Sets};

/// The optimizer a path runs, the limits of the whole path (time, interruption; not
/// `max_iters`, see [`PathSettings::stage_steps`]) and the threads.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    pub spec: &'a OptimizerSpec,
    pub limits: Limits<'a>,
    pub par: Par,
}

/// The penalty path and its stopping rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathSettings {
    /// Relative penalties, strongest first.
    pub lambdas: Vec<f64>,
    /// At most this many steps per λ.
    pub stage_steps: usize,
    /// A λ stops after this many steps without a lower validation MSE.
    pub patience: usize,
    /// The path stops after this many λ in a row without a lower validation MSE.
    pub stages_past_best: usize,
    /// Each λ starts from the previous λ's last iterate (a regularization path), rather than
    /// from the iterate it kept.
    pub warm_from_last: bool,
}

/// Strongest and weakest relative penalty of the default path, and values per decade.
const LAMBDA_MAX: f64 = 1e-2;
const LAMBDA_MIN: f64 = 1e-6;
const PER_DECADE: usize = 3;

impl PathSettings {
    /// The default path for an optimizer whose budget is `steps` (ANMIN's `--iters`, the
    /// epochs of SGD and Adam): λ from 1e-2 down to 1e-6, three values per decade, each λ at
    /// most half the budget, stopping after a third of that without a better validation MSE,
    /// and the path three λ past its best.
    pub fn default_for(steps: usize) -> PathSettings {
        let decades = (LAMBDA_MAX / LAMBDA_MIN).log10().round() as usize;
        let lambdas = (0..=decades * PER_DECADE)
            .map(|i| LAMBDA_MAX * 10f64.powf(-(i as f64) / PER_DECADE as f64))
            .collect();
        let stage_steps = steps.div_ceil(2).max(1);
        PathSettings {
            lambdas,
            stage_steps,
            patience: (stage_steps / 3).max(5),
            stages_past_best: 3,
            warm_from_last: true,
        }
    }
}

/// One λ of the path, as the run JSON records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The relative penalty λ.
    pub lambda: f64,
    /// The weight of ‖A‖² in target units, λσ² (that of ‖B‖² is λ itself).
    pub lambda_target_units: f64,
    /// The lowest validation MSE of this λ (at the kept step).
    pub val_mse: Option<f64>,
    pub val_r2: Option<f64>,
    /// Steps of this λ up to the kept iterate.
    pub steps_kept: usize,
    /// Steps this λ ran.
    pub steps_run: usize,
    /// Steps after which the next λ took over (`steps_kept` or `steps_run`, see
    /// [`PathSettings::warm_from_last`]).
    pub steps_handed_on: usize,
    /// Cumulative seconds of the selection at the end of this λ.
    pub time_s: f64,
    pub stop_reason: StopReason,
}

/// The outcome of a path on training and validation rows.
#[derive(Debug, Clone)]
pub struct Selection {
    pub stages: Vec<Stage>,
    /// Index of the chosen stage in `stages`; None when no λ improved on the initial network.
    pub chosen: Option<usize>,
    /// The chosen iterate, trained on the training rows without the validation rows.
    pub network: Network,
    /// Its entry (metrics on those rows and on the validation rows).
    pub entry: HistoryEntry,
    /// The initial network's entry, the candidate of no steps.
    pub start: HistoryEntry,
    /// Time the whole path took.
    pub elapsed: Duration,
    /// Why the path ended: max_iters when it ran out of λ or past the best, otherwise
    /// max_seconds, interrupted or diverged.
    pub stop_reason: StopReason,
}

impl Selection {
    /// The relative penalty chosen (0 when the initial network was kept).
    pub fn lambda(&self) -> f64 {
        self.chosen.map_or(0.0, |c| self.stages[c].lambda)
    }

    /// The (λ, steps) that lead from the initial network to the chosen iterate.
    pub fn schedule(&self) -> Vec<(f64, usize)> {
        let Some(chosen) = self.chosen else {
            return Vec::new();
        };
        let mut schedule: Vec<(f64, usize)> = self.stages[..chosen]
            .iter()
            .map(|s| (s.lambda, s.steps_handed_on))
            .collect();
        schedule.push((self.stages[chosen].lambda, self.stages[chosen].steps_kept));
        schedule.retain(|(_, steps)| *steps > 0);
        schedule
    }

    /// Steps in the schedule.
    pub fn steps(&self) -> usize {
        self.schedule().iter().map(|(_, steps)| steps).sum()
    }
}

/// Runs the penalty path for `spec` (its own `--ridge` is replaced by each λ) from the random
/// network `net` on the rows `fit`, early-stopping on `val`. `limits` bound the whole path
/// (time, interruption); `limits.max_iters` is not used (see `settings.stage_steps`).
pub fn select(
    run: &Run<'_>,
    net: Network,
    (fit, val): (&Samples, &Samples),
    settings: &PathSettings,
    observer: &mut dyn Observer,
) -> Selection {
    let Run { spec, limits, par } = *run;
    let started = Instant::now();
    let net = optim::initial_network(net, fit, par);
    let sets = Sets {
        train: fit,
        val: Some(val),
        test: None,
    };
    let mut clock = Clock {
        elapsed: started.elapsed(),
        iter: 0,
    };
    // The initial network is a candidate too: its entry, from a run of no steps.
    let mut opt = spec.build(par);
    let start = optim::continue_training(
        opt.as_mut(),
        net,
        sets,
        clock,
        Limits {
            max_iters: 0,
            ..limits
        },
        observer,
    );
    let start_entry = start.final_entry.clone();
    let mut best: (Option<usize>, HistoryEntry, Network) =
        (None, start.final_entry, start.network.clone());
    let mut net = start.network;
    let mut stages: Vec<Stage> = Vec::new();
    let mut stop_reason = StopReason::MaxIters;
    let stage_limits = Limits {
        max_iters: settings.stage_steps,
        patience: Some(settings.patience),
        ..limits
    };
    let mut since_best = 0;
    for &lambda in &settings.lambdas {
        let mut opt = spec.with_ridge(lambda).build(par);
        let out = optim::continue_training(opt.as_mut(), net, sets, clock, stage_limits, observer);
        let kept = out.final_entry.iter - clock.iter;
        let run = out.last_entry.iter - clock.iter;
        let end = secs(out.last_entry.time_s);
        let (handed_on, next) = if settings.warm_from_last {
            (run, out.last_network)
        } else {
            (kept, out.network.clone())
        };
        stages.push(Stage {
            lambda,
            lambda_target_units: Penalty::relative(lambda, &fit.y).a,
            val_mse: out.final_entry.val_mse,
            val_r2: out.final_entry.val_r2,
            steps_kept: kept,
            steps_run: run,
            steps_handed_on: handed_on,
            time_s: end.as_secs_f64(),
            stop_reason: out.stop_reason,
        });
        if lower(out.final_entry.val_loss(), best.1.val_loss()) {
            best = (Some(stages.len() - 1), out.final_entry, out.network);
            since_best = 0;
        } else if best.0.is_some() {
            // Counted only once some λ has beaten the initial network: the strongest
            // penalties are expected to fit worse than it.
            since_best += 1;
        }
        clock = Clock {
            elapsed: end,
            iter: clock.iter + handed_on,
        };
        net = next;
        if matches!(
            out.stop_reason,
            StopReason::Interrupted | StopReason::MaxSeconds | StopReason::Diverged
        ) {
            stop_reason = out.stop_reason;
            break;
        }
        if since_best >= settings.stages_past_best {
            break;
        }
    }
    let (chosen, entry, network) = best;
    Selection {
        stages,
        chosen,
        network,
        entry,
        start: start_entry,
        elapsed: clock.elapsed,
        stop_reason,
    }
}

/// Replays the schedule of `selection` from the random network `net` on `sets.train`
/// (reporting on `sets.test`), timed from the selection's end so that the history's times
/// include it. The history numbers steps continuously across the λ; `limits.max_iters` is
/// not used.
pub fn refit(
    run: &Run<'_>,
    net: Network,
    sets: Sets<'_>,
    selection: &Selection,
    observer: &mut dyn Observer,
) -> RunOutcome {
    let Run { spec, limits, par } = *run;
    let schedule = selection.schedule();
    let started = Instant::now();

    let net = optim::initial_network(net, sets.train, par);
    let clock = Clock {
        elapsed: selection.elapsed + started.elapsed(),
        iter: 0,
    };
    // The initial network as a run of no steps, so that an empty schedule has an outcome.
    let mut spec0 = spec
        .with_ridge(schedule.first().map_or(0.0, |s| s.0))
        .build(par);
    let mut merged = optim::continue_training(
        spec0.as_mut(),
        net,
        sets,
        clock,
        Limits {
            max_iters: 0,
            ..limits
        },
        observer,
    );
    for (lambda, steps) in schedule {
        let clock = Clock {
            elapsed: secs(merged.last_entry.time_s),
            iter: merged.last_entry.iter,
        };
        let mut opt = spec.with_ridge(lambda).build(par);
        let stage_limits = Limits {
            max_iters: steps,
            patience: None,
            ..limits
        };
        let out = optim::continue_training(
            opt.as_mut(),
            merged.network.clone(),
            sets,
            clock,
            stage_limits,
            observer,
        );
        let stop = out.stop_reason;
        merged = append(merged, out);
        // A λ that converges early hands over to the next; anything else ends the refit.
        if !matches!(stop, StopReason::MaxIters | StopReason::Converged) {
            break;
        }
    }
    if merged.stop_reason == StopReason::Converged {
        // Converging within a λ of the schedule is not the end of the run.
        merged.stop_reason = StopReason::MaxIters;
    }
    if !merged.solver.is_array() {
        // An empty schedule: no λ was replayed.
        merged.solver = serde_json::Value::Array(Vec::new());
    }
    merged
}

/// `earlier` followed by `later`, which continued from `earlier`'s network: one history (the
/// later run's first entry repeats the earlier run's last and is dropped), and the solver
/// facts of each λ in a list.
fn append(earlier: RunOutcome, later: RunOutcome) -> RunOutcome {
    let mut history = earlier.history;
    history.extend(later.history.into_iter().skip(1));
    let mut solver = match earlier.solver {
        serde_json::Value::Array(stages) => stages,
        // The run of no steps that starts a refit has nothing to report.
        _ => Vec::new(),
    };
    solver.push(later.solver);
    let (best_entry, best_network) =
        if lower(later.best_entry.train_mse, earlier.best_entry.train_mse) {
            (later.best_entry, later.best_network)
        } else {
            (earlier.best_entry, earlier.best_network)
        };
    RunOutcome {
        history,
        best_entry,
        best_network,
        initial_network: earlier.initial_network,
        solver: serde_json::Value::Array(solver),
        ..later
    }
}

/// Whether `a` is a defined value below `b` (or `b` is undefined).
fn lower(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        _ => false,
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// The `selection` object of the run JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionReport {
    /// The chosen relative penalty λ.
    pub lambda: f64,
    /// The chosen penalty's weight of ‖A‖² in target units for the refit, λσ² (that of ‖B‖²
    /// is λ).
    pub lambda_target_units: f64,
    /// Steps of the refit: the steps each λ of the path kept, up to the chosen one.
    pub steps: usize,
    /// The (λ, steps) replayed on all training rows.
    pub schedule: Vec<(f64, usize)>,
    /// The validation MSE of the chosen point (trained without the validation rows).
    pub val_mse: Option<f64>,
    pub val_r2: Option<f64>,
    /// Rows the path was trained on, and the validation rows it was judged on.
    pub n_fit: usize,
    pub n_val: usize,
    /// Seconds the path took; the history's times start after them.
    pub seconds: f64,
    /// Why the path ended (max_iters: it ran past the best λ or out of λ).
    pub stop_reason: StopReason,
    /// The path's settings.
    pub settings: PathSettings,
    /// Every λ the path ran, strongest first.
    pub path: Vec<Stage>,
}

impl SelectionReport {
    /// The report of `selection`, made with `settings` on `fit` and `val` rows; `refit` rows
    /// are those the returned network was trained on.
    pub fn new(
        selection: &Selection,
        settings: &PathSettings,
        (fit, val): (&Samples, &Samples),
        refit: &Samples,
    ) -> SelectionReport {
        SelectionReport {
            lambda: selection.lambda(),
            lambda_target_units: Penalty::relative(selection.lambda(), &refit.y).a,
            steps: selection.steps(),
            schedule: selection.schedule(),
            val_mse: selection.entry.val_mse,
            val_r2: selection.entry.val_r2,
            n_fit: fit.n(),
            n_val: val.n(),
            seconds: selection.elapsed.as_secs_f64(),
            stop_reason: selection.stop_reason,
            settings: settings.clone(),
            path: selection.stages.clone(),
        }
    }
}
