//! ANMIN: alternate an exact A-step (Theorem 1, see [`a_system`]) with an exact
//! least-squares B-step ([`crate::optim::output_layer`]).
//!
//! The paper's plain iteration accepts every A-step; when many activations flip, the true loss
//! can rise and oscillate. The safeguarded variant (default) backtracks along the A-step,
//! A ← A + t(A_new − A) for t = 1, ½, ¼, …, until the loss after the B-step decreases, which
//! makes the iteration monotone. Each trial costs a forward pass and a B-step; the A-system is
//! assembled once per iteration.

use faer::Par;
use nalgebra::DMatrix;
use serde::Serialize;

pub mod a_cg;
pub mod a_dual;
pub mod a_sample;
pub mod a_system;
pub mod line_search;
pub mod pair_gram;
pub mod policy;

use crate::choice::Choice;
use crate::data::Samples;
use crate::model::Network;
use crate::optim::{Optimizer, Penalty, StepStatus, output_layer};
use a_sample::{RowSample, SampleMode};
use line_search::StepRule;
pub use policy::{ASolver, ProblemSize};

/// Which ANMIN iteration to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Backtracking on the A-step so that the training loss never increases.
    Safeguarded,
    /// The paper's iteration: every A-step accepted.
    Plain,
}

crate::choice!(Variant {
    Safeguarded => ("safeguarded", "Backtracking on the A-step so that the training loss never increases"),
    Plain => ("plain", "The paper's iteration: every A-step accepted"),
});

/// Settings of ANMIN.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AnminConfig {
    pub variant: Variant,
    /// Converged when an iteration lowers the objective by less than `tol` times its value.
    pub tol: f64,
    /// Relative L2 penalty λ: the objective is MSE + λ(σ²‖A‖²_F + ‖B‖²_F) (see
    /// [`crate::optim::Penalty`]).
    pub ridge: f64,
    /// Relative proximal shift of the A-system (see [`crate::linalg::solve_psd_shifted`]).
    pub a_shift: f64,
    /// Backtracking halvings tried before declaring that no step helps.
    pub max_halvings: u32,
    /// How the safeguarded variant chooses the step length.
    pub step: StepRule,
    /// At most this many chord steps after each safeguarded A-step (Cholesky only): the new
    /// point's Gauss–Newton direction solved with the A-step's factored matrix.
    pub refine: u32,
    pub a_solver: ASolver,
    /// Conjugate gradients stop when the residual has shrunk by this factor.
    pub cg_tol: f64,
    /// At most this many conjugate-gradient iterations per A-step.
    pub cg_max_iters: usize,
    /// The sampled A-step assembles `a_sample_factor` × h(d+1) rows.
    pub a_sample_factor: usize,
    pub a_sample: SampleMode,
    /// Seeds the sampled rows.
    pub seed: u64,
}

impl AnminConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: AnminConfig = AnminConfig {
        variant: Variant::Safeguarded,
        tol: 1e-8,
        ridge: 0.0,
        a_shift: 1e-12,
        max_halvings: 20,
        step: StepRule::Halving,
        refine: 0,
        a_solver: ASolver::Auto,
        cg_tol: 1e-3,
        cg_max_iters: 1000,
        a_sample_factor: 8,
        a_sample: SampleMode::Fixed,
        seed: 0,
    };
}

impl Default for AnminConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl AnminConfig {}

/// Counters reported in the run JSON.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnminStats {
    /// "cholesky", "cg", "dual" or "sampled", as `a_solver` resolved for this problem's size.
    pub a_solver: &'static str,
    /// Rows of each sampled A-system (sampled only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_sample_rows: Option<usize>,
    /// "fixed" or "fresh" (sampled only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_sample: Option<&'static str>,
    /// Conjugate-gradient iterations over all A-steps (CG only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cg_iterations: Option<usize>,
    /// Largest final relative residual of a CG solve (CG only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cg_max_relative_residual: Option<f64>,
    pub a_shift_rel: f64,
    /// Largest shift actually added to an A-system (absolute).
    pub a_shift_max: f64,
    /// A-systems whose factorization needed a larger shift than a_shift_rel.
    pub a_shift_escalations: u32,
    pub a_steps: u32,
    /// A-steps whose Gram matrix was assembled afresh (Cholesky only).
    pub full_assemblies: u32,
    /// A-steps whose Gram matrix was corrected for flipped activations instead (Cholesky only).
    pub incremental_assemblies: u32,
    /// B-steps (trial points) evaluated in line searches, accepted or not.
    pub line_search_trials: u32,
    /// Iterations whose accepted step was shorter than the A-step (t < 1).
    pub shortened_steps: u32,
    /// Iterations whose accepted step went past the A-step's solution (t > 1).
    pub extended_steps: u32,
    /// Smallest accepted step length.
    pub min_step: f64,
    /// Largest accepted step length.
    pub max_step: f64,
    /// Accepted chord steps (see `AnminConfig::refine`).
    pub chord_steps: u32,
}

pub struct Anmin {
    cfg: AnminConfig,
    par: Par,
    /// The objective at the current network.
    objective: f64,
    /// `cfg.ridge` in the training targets' units (in `init`).
    penalty: Penalty,
    stats: AnminStats,
    /// `cfg.a_solver` resolved for the problem's size (in `init`).
    solver: ASolver,
    /// ΦᵀΦ of the last A-step's pattern, corrected rather than rebuilt when few activations
    /// flip (Cholesky A-steps only; empty until the first one).
    gram: a_system::PatternGram,
    /// X̃X̃ᵀ of the training inputs (dual A-steps only; computed at the first).
    kernel: Option<a_dual::Kernel>,
    /// The rows of sampled A-steps (set in `init` when sampling).
    sample: Option<RowSample>,
    /// The last accepted step length, where `StepRule::Search` starts.
    last_step: f64,
}

impl Anmin {
    pub fn new(cfg: AnminConfig, par: Par) -> Anmin {
        Anmin {
            cfg,
            par,
            objective: f64::INFINITY,
            penalty: Penalty::default(),
            solver: cfg.a_solver,
            gram: a_system::PatternGram::empty(),
            kernel: None,
            sample: None,
            last_step: 1.0,
            stats: AnminStats {
                a_solver: "",
                a_shift_rel: cfg.a_shift,
                min_step: 1.0,
                max_step: 0.0,
                ..Default::default()
            },
        }
    }

    /// The objective MSE + λ(σ²‖A‖² + ‖B‖²) at `net`.
    pub fn objective(&self, net: &Network, train: &Samples) -> f64 {
        let mse = crate::metrics::mse(&net.predict_par(&train.x, self.par), &train.y);
        mse + self.penalty.value(net)
    }

    /// Sets hidden weights `a`, fits the output layer, and returns the objective there. With
    /// `gradient` (sampled A-steps), also the gradient the next A-step needs if it starts
    /// from this network, from the B-step's last pass over the data.
    fn with_hidden(
        &self,
        net: &mut Network,
        a: DMatrix<f64>,
        train: &Samples,
        gradient: bool,
    ) -> (f64, Option<DMatrix<f64>>) {
        net.a = a;
        let nk = (train.n() * train.k()) as f64;
        let penalty = nk * self.penalty.b;
        let fit = output_layer::fit_network(net, &train.x, &train.y, penalty, self.par, gradient);
        net.b = fit.b;
        net.b0 = fit.b0;
        (fit.sse / nk + self.penalty.value(net), fit.gradient)
    }

    /// Hands the sampled A-step the gradient at `net` (see [`Anmin::with_hidden`]).
    fn remember(&mut self, net: &Network, gradient: Option<DMatrix<f64>>) {
        if let (Some(sample), Some(gradient)) = (&mut self.sample, gradient) {
            sample.remember(net, gradient);
        }
    }

    /// Solves the A-step with the configured solver.
    fn a_step(&mut self, net: &Network, train: &Samples) -> Option<a_system::AStep> {
        let mut penalty = (train.n() * train.k()) as f64 * self.penalty.a;
        // The A-system grows like ‖B‖² and overflows f64 for targets near 1e154 (accepted:
        // their squared errors still sum). Its solution does not change when y, B and b0 are
        // divided by the same s and the penalty by s², so a huge B is brought to about 1 first
        // (the reported shift is then the scaled system's).
        let scaled;
        let (net, y) = match huge_output_scale(&net.b) {
            Some(s) => {
                penalty = penalty / s / s;
                scaled = (
                    Network {
                        b: &net.b / s,
                        b0: &net.b0 / s,
                        ..net.clone()
                    },
                    &train.y / s,
                );
                (&scaled.0, &scaled.1)
            }
            None => (net, &train.y),
        };
        let problem = a_system::AProblem {
            net,
            x: &train.x,
            y,
            penalty,
            rel_shift: self.cfg.a_shift,
            par: self.par,
        };
        match self.solver {
            ASolver::Cg => {
                let (step, report) = a_cg::solve(&problem, self.cfg.cg_tol, self.cfg.cg_max_iters)?;
                *self.stats.cg_iterations.get_or_insert(0) += report.iterations;
                let worst = self.stats.cg_max_relative_residual.get_or_insert(0.0);
                *worst = worst.max(report.relative_residual);
                Some(step)
            }
            ASolver::Dual => {
                let kernel = self
                    .kernel
                    .get_or_insert_with(|| a_dual::Kernel::new(&train.x, self.par));
                a_dual::solve(kernel, &problem)
            }
            ASolver::Sampled => {
                let sample = self.sample.as_mut().expect("set in init");
                let step = sample.step(&problem);
                let corrections = sample.corrections();
                self.count_assembly(corrections);
                step
            }
            ASolver::Cholesky | ASolver::Auto => self.cholesky_step(&problem),
        }
    }

    /// The A-step by assembling (or correcting) the Gram matrix on (x, y) and factoring.
    fn cholesky_step(&mut self, problem: &a_system::AProblem<'_>) -> Option<a_system::AStep> {
        let net = problem.net;
        let rhs = self.gram.update(net, problem.x, problem.y, problem.par);
        self.count_assembly(self.gram.corrections());
        let system = self.gram.system(net, rhs);
        a_system::solve(
            system,
            &net.a,
            problem.penalty,
            problem.rel_shift,
            problem.par,
        )
    }

    /// Counts a Gram matrix's last update (`corrections` since its last full assembly) as a
    /// full or an incremental assembly.
    fn count_assembly(&mut self, corrections: usize) {
        if corrections == 0 {
            self.stats.full_assemblies += 1;
        } else {
            self.stats.incremental_assemblies += 1;
        }
    }

    /// Searches A + t·`direction` with `rule` (`endpoint` is A + direction exactly, for
    /// t = 1; `halvings` overrides `cfg.max_halvings`) and moves `net` to the accepted trial;
    /// None (and `net` unchanged) when no length lowers the objective.
    fn line_search(
        &mut self,
        net: &mut Network,
        direction: &nalgebra::DMatrix<f64>,
        endpoint: Option<&nalgebra::DMatrix<f64>>,
        train: &Samples,
        rule: StepRule,
        halvings: Option<u32>,
    ) -> Option<line_search::Accepted> {
        let before = self.objective;
        // The network of the best trial so far: the line search returns the best length it
        // evaluated, whose network is then this one.
        let mut best: Option<(f64, Network, Option<DMatrix<f64>>)> = None;
        let mut trials = 0;
        let sampled = self.solver == ASolver::Sampled;
        let mut phi = |t: f64| {
            trials += 1;
            let a_t = match endpoint {
                Some(a) if t == 1.0 => a.clone(),
                _ => &net.a + direction * t,
            };
            let mut trial = net.clone();
            // The first trial is usually the one accepted: only it computes the gradient,
            // which another accepted trial leaves to the A-step.
            let (value, gradient) =
                self.with_hidden(&mut trial, a_t, train, sampled && trials == 1);
            if best.as_ref().is_none_or(|(v, ..)| value < *v) {
                best = Some((value, trial, gradient));
            }
            value
        };
        let accepted = match rule {
            StepRule::Halving => {
                line_search::halving(before, halvings.unwrap_or(self.cfg.max_halvings), &mut phi)
            }
            StepRule::Search => {
                line_search::search(before, self.last_step, self.cfg.max_halvings, &mut phi)
            }
        };
        self.stats.line_search_trials += trials;
        let accepted = accepted?;
        let (value, trial, gradient) = best.expect("an accepted step was evaluated");
        debug_assert_eq!(value, accepted.value);
        *net = trial;
        self.remember(net, gradient);
        self.objective = value;
        Some(accepted)
    }

    /// Chord steps after an A-step: the fresh Gauss–Newton direction at the new point with the
    /// A-step's factored matrix ([`a_system::chord_direction`]), while each lowers the
    /// objective by at least `REFINE_FRACTION` of the A-step's own decrease `gain`, at most
    /// `cfg.refine` of them. They cost a pass over the data and two triangular solves each.
    fn refine(&mut self, net: &mut Network, factor: &faer::Mat<f64>, train: &Samples, gain: f64) {
        if huge_output_scale(&net.b).is_some() {
            // The factor is of the rescaled system (see a_step); not worth the bookkeeping.
            return;
        }
        // The A-step's penalty, as in a_step.
        let penalty = (train.n() * train.k()) as f64 * self.penalty.a;
        for _ in 0..self.cfg.refine {
            let before = self.objective;
            let direction = a_system::chord_direction(factor, net, &train.x, &train.y, penalty);
            if !direction.iter().all(|v| v.is_finite()) {
                return;
            }
            let Some(_) = self.line_search(
                net,
                &direction,
                None,
                train,
                StepRule::Halving,
                Some(CHORD_HALVINGS),
            ) else {
                return;
            };
            self.stats.chord_steps += 1;
            if before - self.objective < REFINE_FRACTION * gain {
                return;
            }
        }
    }

    fn converged(&self, before: f64, after: f64) -> bool {
        (before - after).abs() <= self.cfg.tol * before.abs()
    }
}

/// Chord steps continue while each gains at least this fraction of the A-step's decrease.
const REFINE_FRACTION: f64 = 0.1;

/// A chord step is tried at lengths 1, ½, …, 1/16 only. Searched further (as A-steps are),
/// chord steps end on kinks of the pattern where the next A-step finds no descent: on sml the
/// run stopped at iteration 29 with MSE 0.0402 (0.0254 without chord steps).
const CHORD_HALVINGS: u32 = 4;

/// max |B| above 2^HUGE_OUTPUT_EXPONENT is scaled before an A-step.
const HUGE_OUTPUT_EXPONENT: i32 = 64;

/// For a huge B, the power of two s ≈ max |B| to divide the A-step's problem by (exactly);
/// None for any ordinary B, whose A-step is then solved exactly as assembled.
fn huge_output_scale(b: &nalgebra::DMatrix<f64>) -> Option<f64> {
    let max = b.amax();
    if !max.is_finite() {
        return None;
    }
    // At most the largest exponent of a normal number, so that 2^exponent is exact.
    let exponent = (max.log2().round() as i32).min(f64::MAX_EXP - 1);
    (exponent > HUGE_OUTPUT_EXPONENT).then(|| f64::from_bits(((exponent + 1023) as u64) << 52))
}

impl Optimizer for Anmin {
    fn init(&mut self, net: &mut Network, train: &Samples) {
        self.penalty = Penalty::relative(self.cfg.ridge, &train.y);
        self.objective = self.objective(net, train);
        let size = ProblemSize {
            rows: train.n(),
            hidden: net.hidden(),
            d_aug: net.d_aug(),
            outputs: net.outputs(),
        };
        let sample_rows = self.cfg.a_sample_factor * net.hidden() * net.d_aug();
        self.solver = self.cfg.a_solver.resolve(size, sample_rows);
        self.stats.a_solver = self.solver.name();
        if self.solver == ASolver::Sampled {
            let sample = RowSample::new(train.n(), sample_rows, self.cfg.a_sample, self.cfg.seed);
            self.stats.a_sample_rows = Some(sample.size());
            self.stats.a_sample = Some(self.cfg.a_sample.name());
            self.sample = Some(sample);
        }
    }

    fn step(&mut self, net: &mut Network, train: &Samples) -> StepStatus {
        let Some(step) = self.a_step(net, train) else {
            return StepStatus::Diverged;
        };
        self.stats.a_steps += 1;
        self.stats.a_shift_max = self.stats.a_shift_max.max(step.shift.value);
        self.stats.a_shift_escalations += u32::from(step.shift.escalations > 0);

        let before = self.objective;
        if self.cfg.variant == Variant::Plain {
            self.stats.line_search_trials += 1;
            let sampled = self.solver == ASolver::Sampled;
            let gradient;
            (self.objective, gradient) = self.with_hidden(net, step.a, train, sampled);
            self.remember(net, gradient);
            if !self.objective.is_finite() {
                return StepStatus::Diverged;
            }
            return if self.converged(before, self.objective) {
                StepStatus::Converged
            } else {
                StepStatus::Continue
            };
        }

        let direction = &step.a - &net.a;
        let Some(accepted) =
            self.line_search(net, &direction, Some(&step.a), train, self.cfg.step, None)
        else {
            // No step along the A-step direction lowers the loss: a fixed point.
            return StepStatus::Converged;
        };
        self.last_step = accepted.t;
        self.stats.min_step = self.stats.min_step.min(accepted.t);
        self.stats.max_step = self.stats.max_step.max(accepted.t);
        self.stats.shortened_steps += u32::from(accepted.t < 1.0);
        self.stats.extended_steps += u32::from(accepted.t > 1.0);
        if let Some(factor) = &step.factor {
            self.refine(net, factor, train, before - accepted.value);
        }
        if self.converged(before, self.objective) {
            StepStatus::Converged
        } else {
            StepStatus::Continue
        }
    }

    fn diagnostics(&self) -> serde_json::Value {
        serde_json::to_value(&self.stats).expect("stats serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn huge_output_layers_give_the_same_a_step() {
        // Dividing y, B and b0 by c leaves the A-step unchanged (the relative penalty scales
        // with the targets). At c = 1e153, about the largest targets Dataset::from_table
        // accepts, the unscaled system overflowed f64: the step failed and training diverged
        // at its first iteration.
        let (n, d1, h) = (60, 3, 4);
        let x = DMatrix::from_fn(n, d1, |i, c| {
            if c == d1 - 1 {
                1.0
            } else {
                ((i * (c + 2)) as f64 * 0.7).sin() * 2.0
            }
        });
        let y = DMatrix::from_fn(n, 1, |i, _| (i as f64 * 0.3).cos() + x[(i, 0)]);
        let net = Network {
            a: DMatrix::from_fn(h, d1, |j, c| ((j * d1 + c) as f64 * 1.3).sin()),
            b: DMatrix::from_row_slice(1, h, &[1.5, -0.7, 2.0, 0.4]),
            b0: DVector::from_element(1, 0.2),
            alpha: 0.0,
        };
        let c = 1e153;
        let big = Network {
            b: &net.b * c,
            b0: &net.b0 * c,
            ..net.clone()
        };
        let train = Samples {
            x: x.clone(),
            y: y.clone(),
            classify: false,
        };
        let big_train = Samples {
            x,
            y: &y * c,
            classify: false,
        };
        for (a_solver, ridge) in [
            (ASolver::Cholesky, 0.0),
            (ASolver::Cholesky, 0.01),
            (ASolver::Cg, 0.01),
        ] {
            let step = |net: &Network, train: &Samples, ridge: f64| {
                let cfg = AnminConfig {
                    a_solver,
                    ridge,
                    cg_tol: 1e-12,
                    ..AnminConfig::default()
                };
                let mut anmin = Anmin::new(cfg, Par::Seq);
                anmin.init(&mut net.clone(), train);
                anmin.a_step(net, train).expect("solvable").a
            };
            let reference = step(&net, &train, ridge);
            let scaled = step(&big, &big_train, ridge);
            let error = (&scaled - &reference).amax();
            assert!(
                error <= 1e-8 * reference.amax(),
                "{a_solver:?}, ridge {ridge}: {error:e}"
            );
        }
    }
}
