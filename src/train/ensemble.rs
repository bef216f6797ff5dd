//! A bagged run (`--bag K`, `--auto`): the training rows' folds, one bag on them, and under
//! `--scaling auto` the choice of the scaling by the bag's first members.
//!
//! **Screening.** Each candidate scaling (standard, robust) scales the same training rows its
//! own way and trains the bag's first members ([`screened_members`]: a fifth of them, at
//! least one) on the same folds, from the same random networks and the same row draws. The
//! candidate whose members have the lowest sum of validation MSEs on their folds continues
//! with the remaining members; the others' members are dropped. Measured on the anchors' sets
//! (seeds 0–2, 2026-12-04, docs/RESULTS.md): robust scaling lowered the median test MSE of
//! gas by 31 %, energy by 10 % and autompg by 6 %, and lost on airfoil, pendulum and
//! concreteslump, where the first members' folds chose standard on all seeds but
//! concreteslump's (103 rows: folds of ten).
//!
//! The history and the observer see the chosen candidate's members only; the dropped
//! candidates' time is added to the clock once the choice is made, so `final.time_s` is all
//! the training work.

use std::time::Duration;

use super::{Ridge, TrainRequest, samples};
use crate::bag::{self, BagReport, Candidate, Ensemble, Screening};
use crate::choice::Choice;
use crate::data::{Dataset, Prepared};
use crate::error::{Error, Result};
use crate::optim::{Observer, RunOutcome, Sets, Silent};
use crate::select::{PathSettings, Run};

/// The training and test rows of a preparation (a bag holds out its own rows).
fn sets(p: &Prepared) -> Sets<'_> {
    Sets {
        train: &p.train,
        val: None,
        test: p.test.as_ref(),
    }
}

/// Members each candidate scaling trains before the choice: a fifth of the bag (two of ten,
/// one of five), at least one.
pub fn screened_members(members: usize) -> usize {
    (members / 5).max(1)
}

/// The screened members must validate on at least this many rows, or `auto` takes standard
/// scaling without screening. On concreteslump (82 training rows: two folds of 8 rows) the
/// two members chose robust scaling on two of three seeds, and the median test MSE rose 29 %
/// (18.7 → 24.1, seeds 0–2); robust never won there by the whole bag's cross-validation
/// either. Tables of at least 250 training rows screen.
pub const MIN_SCREEN_ROWS: usize = 50;

/// Trains the bag `request` describes on `dataset` (split and scaled once per candidate
/// scaling) and returns the chosen candidate's preparation, the ensemble's outcome and the
/// bag's report.
pub(super) fn run_bag(
    request: &TrainRequest,
    dataset: &Dataset,
    run: &Run<'_>,
    observer: &mut dyn Observer,
) -> Result<(Prepared, RunOutcome, BagReport)> {
    let candidates = request.preprocess.scaling.candidates();
    let mut prepared = vec![request.prepare_scaled(dataset, 0.0, candidates[0])?];
    let n = prepared[0].train.n();
    let members = request.bag.members(n);
    let folds = bag::folds(n, members, request.split.seed);
    if folds.iter().any(Vec::is_empty) {
        return Err(Error::usage(format!(
            "--bag {members} needs at least {members} training rows, one per fold; got {}",
            samples(n)
        )));
    }
    let path = PathSettings::default_for(run.limits.max_iters);
    let plan = bag::Plan {
        folds: &folds,
        fit: match request.ridge {
            Ridge::Auto => bag::Fit::Path(&path),
            Ridge::Fixed(lambda) => bag::Fit::Fixed { lambda },
        },
        seed: request.split.seed,
    };
    let screen = screened_members(members).min(members);
    let screened_rows: usize = folds.iter().take(screen).map(Vec::len).sum();
    if candidates.len() == 1 || screened_rows < MIN_SCREEN_ROWS {
        let nets = request.random_networks(&prepared[0].train, members);
        let (outcome, mut report) = bag::bag(run, nets, sets(&prepared[0]), plan, observer);
        if candidates.len() > 1 {
            // Too few rows to choose by: the first candidate (standard), unscreened.
            report.screening = Some(Screening {
                members: 0,
                candidates: Vec::new(),
                chosen: candidates[0].name().to_string(),
            });
        }
        return Ok((prepared.remove(0), outcome, report));
    }

    // The other candidates' scalings of the same split, only when they are screened.
    for &scaling in &candidates[1..] {
        prepared.push(request.prepare_scaled(dataset, 0.0, scaling)?);
    }
    // Every candidate trains the first members silently.
    let mut bags: Vec<(Ensemble<'_>, std::vec::IntoIter<_>)> = prepared
        .iter()
        .map(|p| {
            let mut nets = request.random_networks(&p.train, members);
            let rest = nets.split_off(screen);
            let mut ensemble = Ensemble::start(run, nets[0].clone(), sets(p), plan, &mut Silent);
            for net in nets {
                if !ensemble.add(net, &mut Silent) {
                    break;
                }
            }
            (ensemble, rest.into_iter())
        })
        .collect();
    let scores: Vec<f64> = bags
        .iter()
        .map(|(e, _)| e.val_mses().iter().sum())
        .collect();
    let chosen = (0..bags.len())
        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .expect("two candidates");
    let screening = Screening {
        members: screen,
        candidates: candidates
            .iter()
            .zip(&bags)
            .map(|(scaling, (e, _))| Candidate {
                name: scaling.name().to_string(),
                val_mse: e.val_mses(),
                seconds: e.elapsed().as_secs_f64(),
            })
            .collect(),
        chosen: candidates[chosen].name().to_string(),
    };
    let dropped: Duration = bags
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != chosen)
        .map(|(_, (e, _))| e.elapsed())
        .sum();
    let (mut ensemble, rest) = bags.swap_remove(chosen);
    drop(bags);
    ensemble.charge(dropped);
    ensemble.replay(observer);
    for net in rest {
        if !ensemble.add(net, observer) {
            break;
        }
    }
    let (outcome, mut report) = ensemble.finish();
    report.screening = Some(screening);
    Ok((prepared.swap_remove(chosen), outcome, report))
}
