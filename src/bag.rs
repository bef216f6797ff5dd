//! Bagging over folds (`--bag K`), wrapped around the training loop and the penalty
//! selection the way a cross-validation wraps an estimator: it never enters an optimizer.
//!
//! The training rows are cut into K folds. Member k starts from its own random network,
//! trains on the other K − 1 folds and stops early on fold k; under `--ridge auto` it also
//! walks the penalty path on fold k ([`select::select`]) and keeps its chosen iterate. Every
//! training row is held out by exactly one member, so the K choices replace one noisy
//! hold-out on small tables, and no member is refitted. Members after the first walk a shorter
//! path, from just above the penalties the earlier members chose ([`narrow`]); the run JSON's
//! `solver` lists the path each member walked.
//!
//! The ensemble predicts the members' mean, which is itself one two-layer network: the members'
//! hidden layers stacked (K·h units) and their output weights divided by K ([`average`]). The
//! saved model, `predict`, the run JSON and the Python package therefore treat the ensemble as
//! one network. The run's history has one entry per member added: entry 0 is the first
//! member's initial network, entry k the mean of the first k members, on all training rows
//! and the test rows, timed cumulatively.

use std::time::{Duration, Instant};

use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::Samples;
use crate::history::StopReason;
use crate::model::Network;
use crate::optim::{self, Limits, Observer, RunOutcome, Sets, Silent};
use crate::rng::{Stream, seeded};
use crate::select::{self, PathSettings, Run};

/// A member trains on at most this many rows, drawn at random from its K − 1 folds: on large
/// tables the members then cost what a mid-size table costs, and differ in their rows as well
/// as in their folds (bagging proper). Its fold is held out whole. Measured on the anchors'
/// sets (seeds 0–2): 8192 cost keggdirected 7 % of test MSE against one `--ridge auto`
/// network on all ~42,000 rows (0.01476 against 0.01377); 16384 gives 0.01362, for 1.8× the
/// time (30 s → 53 s, one thread).
pub const MAX_MEMBER_ROWS: usize = 16384;

/// How many members: a number given, or the prediction preset's rule by the training rows
/// ([`Bag::by_rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bag {
    Members(usize),
    ByRows,
}

/// Up to this many training rows the preset trains [`SMALL_MEMBERS`] members, above it
/// [`MEMBERS`]. Measured on the anchors' sets (seeds 0–2, docs/RESULTS.md): 10 members instead
/// of 5 lowered the median test MSE on 10 of the 11 sets of at most 2000 training rows
/// (airfoil 3.19 → 2.68, servo 0.121 → 0.097, machine 0.159 → 0.135), for twice the time.
pub const SMALL_ROWS: usize = 2000;
pub const SMALL_MEMBERS: usize = 10;
pub const MEMBERS: usize = 5;

impl Bag {
    /// The members for `n_train` training rows.
    pub fn members(self, n_train: usize) -> usize {
        match self {
            Bag::Members(k) => k,
            Bag::ByRows if n_train <= SMALL_ROWS => SMALL_MEMBERS,
            Bag::ByRows => MEMBERS,
        }
    }

    /// Whether the run trains more than one network.
    pub fn is_ensemble(self) -> bool {
        self != Bag::Members(1)
    }
}

impl Default for Bag {
    fn default() -> Self {
        Bag::Members(1)
    }
}

/// A number, or "auto" for the rule by rows.
impl Serialize for Bag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Bag::Members(k) => s.serialize_u64(*k as u64),
            Bag::ByRows => s.serialize_str("auto"),
        }
    }
}

/// The rows (indices into the training rows) of each of `k` folds of `n` rows: a seeded
/// shuffle dealt out in turn, so fold sizes differ by at most one.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut seeded(seed, Stream::Folds));
    let mut folds = vec![Vec::with_capacity(n / k.max(1) + 1); k];
    for (i, row) in order.into_iter().enumerate() {
        folds[i % k].push(row);
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    folds
}

/// The mean of networks of one input width, output width and slope, as one network: hidden
/// layers stacked, output weights divided by their number, output biases averaged.
pub fn average(members: &[Network]) -> Network {
    let first = &members[0];
    let m = members.len() as f64;
    let hidden: usize = members.iter().map(Network::hidden).sum();
    let (d_aug, k) = (first.d_aug(), first.outputs());
    let mut a = DMatrix::zeros(hidden, d_aug);
    let mut b = DMatrix::zeros(k, hidden);
    let mut b0 = DVector::zeros(k);
    let mut at = 0;
    for net in members {
        let h = net.hidden();
        a.rows_mut(at, h).copy_from(&net.a);
        b.columns_mut(at, h).copy_from(&(&net.b / m));
        b0 += &net.b0;
        at += h;
    }
    Network {
        a,
        b,
        b0: b0 / m,
        alpha: first.alpha,
    }
}

/// What one member did, for the run JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Rows it trained on and rows it stopped (and chose its penalty) on.
    pub n_fit: usize,
    pub n_val: usize,
    /// The relative penalty it kept (`--ridge auto`), or the fixed one.
    pub lambda: f64,
    /// Steps from its initial network to the iterate it kept.
    pub steps: usize,
    /// Its validation MSE and R² on its own fold.
    pub val_mse: Option<f64>,
    pub val_r2: Option<f64>,
    /// Seconds it took.
    pub seconds: f64,
    pub stop_reason: StopReason,
}

/// The `bagging` object of the run JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BagReport {
    pub folds: usize,
    /// The penalty path each member walked (`--ridge auto`), else null.
    pub path: Option<PathSettings>,
    pub members: Vec<Member>,
    /// Mean of the members' validation MSEs: a cross-validated estimate of one member's
    /// test MSE.
    pub cv_mse: Option<f64>,
    /// Each member's fold (row indices into the training rows) and its outputs on it: the
    /// ensemble's held-out predictions (a classification's temperature is fitted on them).
    #[serde(skip)]
    pub out_of_fold: Vec<(Vec<usize>, nalgebra::DMatrix<f64>)>,
    /// How the preprocessing was chosen (`--scaling auto`), else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<Screening>,
}

/// A choice between preprocessings by the bag's first members: each candidate trains them
/// on the same folds from the same random networks, and the lowest sum of their validation
/// MSEs continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// Members each candidate trained before the choice; 0 when the table had too few rows
    /// to screen, and the first candidate was kept.
    pub members: usize,
    pub candidates: Vec<Candidate>,
    /// The candidate kept (its name).
    pub chosen: String,
}

/// One candidate of a [`Screening`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// What it is (for scaling: `standard` or `robust`).
    pub name: String,
    /// Its screened members' validation MSEs.
    pub val_mse: Vec<f64>,
    /// Seconds its screened members took.
    pub seconds: f64,
}

/// How each member is trained: with a penalty path (`--ridge auto`) or with the request's
/// fixed penalty and early stopping.
#[derive(Clone, Copy)]
pub enum Fit<'a> {
    Path(&'a PathSettings),
    Fixed { lambda: f64 },
}

/// What a bag does with the training rows: its folds (of [`folds`]), how each member trains,
/// and the seed of the members' row draws.
#[derive(Clone, Copy)]
pub struct Plan<'a> {
    pub folds: &'a [Vec<usize>],
    pub fit: Fit<'a>,
    pub seed: u64,
}

/// Trains one member per fold of `all.train` from `nets` (one random network each, in fold
/// order) and returns the ensemble's outcome on `all` with the report. `run.limits` bound
/// the whole bag: members are not started after an interruption or once time is up.
pub fn bag(
    run: &Run<'_>,
    nets: Vec<Network>,
    all: Sets<'_>,
    plan: Plan<'_>,
    observer: &mut dyn Observer,
) -> (RunOutcome, BagReport) {
    let first = nets.first().expect("a bag has at least one member").clone();
    let mut ensemble = Ensemble::start(run, first, all, plan, observer);
    for net in nets {
        if !ensemble.add(net, observer) {
            break;
        }
    }
    ensemble.finish()
}

/// A bag being trained, one member at a time: [`bag`] adds every member in turn; a screening
/// of preprocessings ([`crate::train`]) adds the first few members to one ensemble per
/// candidate and continues the best.
pub struct Ensemble<'a> {
    run: Run<'a>,
    all: Sets<'a>,
    plan: Plan<'a>,
    /// The members' row draws (the same for every candidate of one seed).
    draws: crate::rng::Rng,
    /// Training time so far (the history's clock).
    elapsed: Duration,
    members: Vec<Network>,
    reports: Vec<Member>,
    solver: Vec<serde_json::Value>,
    out_of_fold: Vec<(Vec<usize>, DMatrix<f64>)>,
    history: Vec<crate::history::HistoryEntry>,
    networks: Vec<Network>,
    stop_reason: StopReason,
}

impl<'a> Ensemble<'a> {
    /// The bag before its first member: entry 0 is `first`'s random network (the first
    /// member's) with its output layer fitted on all training rows.
    pub fn start(
        run: &Run<'a>,
        first: Network,
        all: Sets<'a>,
        plan: Plan<'a>,
        observer: &mut dyn Observer,
    ) -> Ensemble<'a> {
        let started = Instant::now();
        let initial = optim::initial_network(first, all.train, run.par);
        let elapsed = started.elapsed();
        let entry = optim::entry_of(&initial, all, 0, elapsed);
        observer.on_entry(&entry);
        Ensemble {
            run: *run,
            all,
            draws: seeded(plan.seed, Stream::MemberRows),
            plan,
            elapsed,
            members: Vec::new(),
            reports: Vec::new(),
            solver: Vec::new(),
            out_of_fold: Vec::new(),
            history: vec![entry],
            networks: vec![initial],
            stop_reason: StopReason::MaxIters,
        }
    }

    /// Trains the next member (on the next fold) from `net`; false when the bag stops
    /// instead (every fold has its member, an interruption, time is up).
    pub fn add(&mut self, net: Network, observer: &mut dyn Observer) -> bool {
        let Some(fold) = self.plan.folds.get(self.members.len()) else {
            return false;
        };
        let limits = self.run.limits;
        if let Some(reason) = stopped(&limits, self.elapsed) {
            self.stop_reason = reason;
            return false;
        }
        let member_started = Instant::now();
        let (fit_rows, val) = held_out(self.all.train, fold, &mut self.draws);
        let remaining = limits
            .max_seconds
            .map(|s| (s - self.elapsed.as_secs_f64()).max(0.0));
        let member_run = Run {
            limits: Limits {
                max_seconds: remaining,
                ..limits
            },
            ..self.run
        };
        let narrowed;
        let member_fit = match self.plan.fit {
            Fit::Path(path) => {
                narrowed = narrow(path, &self.reports);
                Fit::Path(&narrowed)
            }
            Fit::Fixed { lambda } => Fit::Fixed { lambda },
        };
        let (network, report, member_solver, reason) =
            train_member(&member_run, net, (&fit_rows, &val), &member_fit);
        self.elapsed += member_started.elapsed();
        self.out_of_fold
            .push((fold.clone(), network.predict(&val.x)));
        self.members.push(network);
        self.reports.push(Member {
            seconds: member_started.elapsed().as_secs_f64(),
            ..report
        });
        self.solver.push(member_solver);
        // Measuring the ensemble is reporting, not training: `elapsed` leaves it out.
        let ensemble = average(&self.members);
        let entry = optim::entry_of(&ensemble, self.all, self.members.len(), self.elapsed);
        observer.on_entry(&entry);
        self.history.push(entry);
        self.networks.push(ensemble);
        if matches!(reason, StopReason::Interrupted | StopReason::MaxSeconds) {
            self.stop_reason = reason;
            return false;
        }
        true
    }

    /// The members' validation MSEs so far, in fold order.
    pub fn val_mses(&self) -> Vec<f64> {
        self.reports
            .iter()
            .map(|m| m.val_mse.unwrap_or(f64::INFINITY))
            .collect()
    }

    /// Adds `time` spent on this bag's behalf elsewhere (the candidates a screening
    /// dropped) to its clock, from the next member on.
    pub fn charge(&mut self, time: Duration) {
        self.elapsed += time;
    }

    /// The training time so far.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Hands the history so far to `observer` (for a bag trained silently until now).
    pub fn replay(&self, observer: &mut dyn Observer) {
        for entry in &self.history {
            observer.on_entry(entry);
        }
    }

    /// The ensemble's outcome on the sets and the bag's report.
    pub fn finish(self) -> (RunOutcome, BagReport) {
        let cv: Vec<f64> = self.reports.iter().filter_map(|m| m.val_mse).collect();
        let report = BagReport {
            folds: self.plan.folds.len(),
            path: match self.plan.fit {
                Fit::Path(p) => Some(p.clone()),
                Fit::Fixed { .. } => None,
            },
            cv_mse: (!cv.is_empty() && cv.len() == self.members.len())
                .then(|| cv.iter().sum::<f64>() / cv.len() as f64),
            members: self.reports,
            out_of_fold: self.out_of_fold,
            screening: None,
        };
        let outcome = optim::finished(optim::Finished {
            history: self.history,
            networks: self.networks,
            stop_reason: self.stop_reason,
            solver: serde_json::Value::Array(self.solver),
            sets: self.all,
        });
        (outcome, report)
    }
}

/// Members after the first walk the path from this many stages above the median of the
/// earlier members' chosen stages ([`narrow`])...
pub const NARROW_MARGIN: usize = 2;
/// ...and stop it this many stages past their best (the first member: the path's own rule).
pub const NARROWED_PAST_BEST: usize = 2;

/// The path of the next member. The first walks all of `path`. The next ones start
/// [`NARROW_MARGIN`] stages above the median of the earlier members' chosen stages and stop
/// [`NARROWED_PAST_BEST`] stages past their best, unless that median is among the path's last
/// [`NARROW_MARGIN`] + 1 stages: there the members chose the weakest penalties, whose fit
/// needs the steps of the whole path (on sml, starting two stages above took the median test
/// MSE from 0.101 to 0.131).
///
/// Measured on the anchors' sets (seeds 0–2, 2026-12-04): the path steps of the ten members
/// fell by 20 % (airfoil) to 36 % (energy; concrete 34 %, servo 26 %, pendulum 24 %, wine
/// 18 %), while the median test MSE moved by less than the seeds do (airfoil 2.683 → 2.699,
/// concrete 23.91 → 21.82, energy 0.141 → 0.154, servo 0.0970 → 0.0993; docs/RESULTS.md).
fn narrow(path: &PathSettings, earlier: &[Member]) -> PathSettings {
    let mut chosen: Vec<usize> = earlier
        .iter()
        .map(|m| {
            path.lambdas
                .iter()
                .position(|&l| l == m.lambda)
                .unwrap_or(0)
        })
        .collect();
    chosen.sort_unstable();
    let Some(&median) = chosen.get(chosen.len().saturating_sub(1) / 2) else {
        return path.clone();
    };
    if median + NARROW_MARGIN + 1 >= path.lambdas.len() {
        return path.clone();
    }
    PathSettings {
        lambdas: path.lambdas[median.saturating_sub(NARROW_MARGIN)..].to_vec(),
        stages_past_best: NARROWED_PAST_BEST.min(path.stages_past_best),
        ..path.clone()
    }
}

/// Why the bag stops before its next member, if it does.
fn stopped(limits: &Limits<'_>, elapsed: Duration) -> Option<StopReason> {
    if limits
        .interrupt
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    {
        return Some(StopReason::Interrupted);
    }
    limits
        .max_seconds
        .is_some_and(|s| elapsed.as_secs_f64() >= s)
        .then_some(StopReason::MaxSeconds)
}

/// The training rows without `fold` (at most [`MAX_MEMBER_ROWS`] of them, drawn with
/// `rng`), and the rows of `fold`.
fn held_out(train: &Samples, fold: &[usize], rng: &mut crate::rng::Rng) -> (Samples, Samples) {
    let mut in_fold = vec![false; train.n()];
    for &i in fold {
        in_fold[i] = true;
    }
    let mut rest: Vec<usize> = (0..train.n()).filter(|&i| !in_fold[i]).collect();
    if rest.len() > MAX_MEMBER_ROWS {
        rest.shuffle(rng);
        rest.truncate(MAX_MEMBER_ROWS);
        rest.sort_unstable();
    }
    (train.select(&rest), train.select(fold))
}

/// One member: its kept network, its report (seconds filled in by the caller), the
/// optimizer's facts and why it stopped.
fn train_member(
    run: &Run<'_>,
    net: Network,
    (fit_rows, val): (&Samples, &Samples),
    fit: &Fit<'_>,
) -> (Network, Member, serde_json::Value, StopReason) {
    let mut silent = Silent;
    match fit {
        Fit::Path(path) => {
            let selection = select::select(run, net, (fit_rows, val), path, &mut silent);
            let member = Member {
                n_fit: fit_rows.n(),
                n_val: val.n(),
                lambda: selection.lambda(),
                steps: selection.steps(),
                val_mse: selection.entry.val_mse,
                val_r2: selection.entry.val_r2,
                seconds: 0.0,
                stop_reason: selection.stop_reason,
            };
            let facts = serde_json::json!({
                "path": selection.stages.iter().map(|s| s.lambda).collect::<Vec<_>>(),
            });
            (selection.network, member, facts, selection.stop_reason)
        }
        Fit::Fixed { lambda } => {
            let mut opt = run.spec.with_ridge(*lambda).build(run.par);
            let sets = Sets {
                train: fit_rows,
                val: Some(val),
                test: None,
            };
            let out = optim::train_with_validation(
                opt.as_mut(),
                net,
                sets,
                run.limits,
                run.par,
                &mut silent,
            );
            let member = Member {
                n_fit: fit_rows.n(),
                n_val: val.n(),
                lambda: *lambda,
                steps: out.final_entry.iter,
                val_mse: out.final_entry.val_mse,
                val_r2: out.final_entry.val_r2,
                seconds: 0.0,
                stop_reason: out.stop_reason,
            };
            (out.network, member, out.solver, out.stop_reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use rand::SeedableRng;

    #[test]
    fn folds_partition_the_rows_evenly() {
        for (n, k) in [(10, 3), (7, 7), (100, 5), (5, 2)] {
            let f = folds(n, k, 3);
            assert_eq!(f.len(), k);
            let mut all: Vec<usize> = f.concat();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            let (min, max) = (
                f.iter().map(Vec::len).min().unwrap(),
                f.iter().map(Vec::len).max().unwrap(),
            );
            assert!(max - min <= 1, "{n} rows in {k} folds: sizes {min}..{max}");
        }
        assert_eq!(folds(50, 5, 1), folds(50, 5, 1));
        assert_ne!(folds(50, 5, 1), folds(50, 5, 2));
    }

    fn member(lambda: f64) -> Member {
        Member {
            n_fit: 10,
            n_val: 2,
            lambda,
            steps: 1,
            val_mse: Some(1.0),
            val_r2: None,
            seconds: 0.0,
            stop_reason: StopReason::MaxIters,
        }
    }

    #[test]
    fn later_members_start_the_path_above_the_earlier_choices() {
        let path = PathSettings::default_for(10);
        let l = &path.lambdas;
        assert_eq!(l.len(), 13);
        // The first member walks all of it.
        assert_eq!(narrow(&path, &[]), path);
        // Chosen stages 6, 8, 3 (and λ = 0, the initial network, as stage 0): the lower
        // median of [0, 3, 6, 8] is 3, so the path starts at stage 1.
        let earlier = [member(l[6]), member(l[8]), member(l[3]), member(0.0)];
        let next = narrow(&path, &earlier);
        assert_eq!(next.lambdas, l[1..].to_vec());
        assert_eq!(next.stages_past_best, NARROWED_PAST_BEST);
        assert_eq!(next.stage_steps, path.stage_steps);
        let next = narrow(&path, &earlier[..2]);
        assert_eq!(next.lambdas, l[4..].to_vec());
        // Near the weak end, the whole path again.
        assert_eq!(narrow(&path, &[member(l[10])]), path);
        assert_eq!(narrow(&path, &[member(l[9])]).lambdas, l[7..].to_vec());
    }

    #[test]
    fn the_stacked_network_predicts_the_members_mean() {
        let mut rng = Rng::seed_from_u64(9);
        let members: Vec<Network> = (0..3)
            .map(|i| {
                let mut net = Network::random(4, 5 + i, 2, 0.1, &mut rng);
                net.b = DMatrix::from_fn(2, 5 + i, |r, c| (r + 2 * c + i) as f64 * 0.3 - 1.0);
                net.b0 = DVector::from_vec(vec![i as f64, -2.0 * i as f64 + 0.5]);
                net
            })
            .collect();
        let x = DMatrix::from_fn(7, 4, |r, c| {
            ((r * 5 + c * 3) % 7) as f64 - 3.0 + 0.1 * c as f64
        });
        let mean = members
            .iter()
            .map(|n| n.predict(&x))
            .fold(DMatrix::zeros(7, 2), |acc, p| acc + p)
            / 3.0;
        let stacked = average(&members);
        assert_eq!(stacked.hidden(), 5 + 6 + 7);
        let got = stacked.predict(&x);
        assert!(
            (got - mean).abs().max() < 1e-12,
            "the stacked network must predict the mean of its members"
        );
    }
}
