//! Levenberg–Marquardt with MATLAB `trainlm`'s μ rule, a baseline over all weights (A, B, b0).
//!
//! One step (one history entry) assembles the Gauss–Newton normal equations once, J ᵀJ and
//! Jᵀr with J the Jacobian of the residual r = vec(Y − f(X)), then tries
//!
//! ```text
//!   (JᵀJ + P + μD) δ = −(Jᵀr + P w)
//! ```
//!
//! for μ, μ·mu_inc, μ·mu_inc², …: the first δ that lowers the objective is taken and μ becomes
//! μ·mu_dec (never below [`MU_MIN`], as in `trainlm`); a rejected μ costs one factorization of
//! the same matrix, never a new assembly. When μ exceeds mu_max the step reports convergence
//! and leaves the network unchanged. A factorization that fails (the damped matrix is not
//! numerically positive definite) counts as a rejected μ.
//!
//! **Units and objective.** Like the other baselines ([`crate::optim::gradient`]) the
//! optimizer works on standardized targets y_s = (y − mean)/σ, so that μ means the same for a
//! target in any unit. Its objective is MSE(y_s) + λ(‖A‖² + ‖B_s‖²), the mean over all n·k
//! entries as in `gradient.rs`: exactly the run's objective MSE + λ(σ²‖A‖² + ‖B‖²)
//! ([`crate::optim::Penalty::relative`]) divided by σ². The normal equations are those of
//! n·k times it (the sum of squares, as `trainlm`'s JᵀJ and Jᵀe), so P = n·k·λ on the entries
//! of A and B (b0 is not penalized).
//!
//! **Damping.** D = I (`trainlm`), or D = diag(JᵀJ + P) (Marquardt's scaling). A zero diagonal
//! entry (a dead unit's weights, a constant input column) would leave its direction undamped,
//! so Marquardt's D_ii is max(diag_ii, [`MARQUARDT_FLOOR`] · max diag).
//!
//! **Assembly.** The A-block of JᵀJ and the A-part of Jᵀr are ANMIN's A-system for targets r
//! with no output bias ([`crate::optim::a_system::assemble`], the pattern-aware pair form,
//! threads as given). The (B, b0)-block is I_k ⊗ [H 1]ᵀ[H 1] and the cross block for output
//! c is diag(B_c ⊗ 1) Φᵀ[H 1]; both come from one blocked pass over the rows
//! ([`crate::rows::fold_row_blocks`], deterministic whatever the thread count). The matrix is
//! dense, P × P with P = h(d+1) + k(h+1): memory and the P³/3 factorization per trial bound
//! the sizes this baseline suits.
//!
//! Nothing here is timed; the training loop measures wall time.

use faer::{Accum, Mat, MatMut, Par};
use nalgebra::{DMatrix, DVector};

use crate::choice::Choice;
use crate::data::Samples;
use crate::linalg::{at_b, gram_lower, view};
use crate::model::Network;
use crate::optim::anmin::a_system;
use crate::optim::target_scale::TargetScale;
use crate::optim::{Optimizer, StepStatus};
use crate::rows::fold_row_blocks;

/// The smallest μ an accepted step leaves (`trainlm`'s floor of 1e-20).
pub const MU_MIN: f64 = 1e-20;

/// Marquardt damping's floor on a diagonal entry, relative to the largest one.
pub const MARQUARDT_FLOOR: f64 = 1e-12;

/// The damping matrix D added as μD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Damping {
    /// D = I, as MATLAB's `trainlm`.
    Identity,
    /// D = diag(JᵀJ + P), floored (see the module notes).
    Marquardt,
}

crate::choice!(Damping {
    Identity => ("identity", "D = I, as MATLAB's trainlm"),
    Marquardt => ("marquardt", "D = diag(JᵀJ + P), floored: Marquardt's scaling"),
});

/// Settings of Levenberg–Marquardt (names and defaults of `trainlm`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LmConfig {
    /// Initial μ.
    pub mu: f64,
    /// μ is multiplied by this after an accepted step, in (0, 1).
    pub mu_dec: f64,
    /// μ is multiplied by this after a rejected one, > 1.
    pub mu_inc: f64,
    /// Converged when μ exceeds this.
    pub mu_max: f64,
    pub damping: Damping,
    /// Relative L2 penalty λ on A and B (the same objective as ANMIN's `--ridge`).
    pub ridge: f64,
}

impl LmConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: LmConfig = LmConfig {
        mu: 1e-3,
        mu_dec: 0.1,
        mu_inc: 10.0,
        mu_max: 1e10,
        damping: Damping::Identity,
        ridge: 0.0,
    };
}

impl Default for LmConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

// Parameter layout: P = h(d+1) + k(h+1) entries. First the rows of A stacked (A[j, m] at
// j(d+1) + m, the A-system's order), then for each output c its row of B and its bias:
// B[c, t] at h(d+1) + c(h+1) + t, b0[c] at h(d+1) + c(h+1) + h.

/// The number of parameters P = h(d+1) + k(h+1).
pub fn parameter_count(net: &Network) -> usize {
    net.hidden() * net.d_aug() + net.outputs() * (net.hidden() + 1)
}

/// The parameters of `net` flattened: rows of A, then per output c (B[c, ·], b0[c]).
pub fn parameters(net: &Network) -> DVector<f64> {
    let (h, d1) = (net.hidden(), net.d_aug());
    let p = h * d1;
    DVector::from_fn(parameter_count(net), |i, _| {
        if i < p {
            net.a[(i / d1, i % d1)]
        } else {
            let (c, t) = ((i - p) / (h + 1), (i - p) % (h + 1));
            if t < h { net.b[(c, t)] } else { net.b0[c] }
        }
    })
}

/// Overwrites `net`'s weights from `w` laid out as [`parameters`].
pub fn set_parameters(net: &mut Network, w: &[f64]) {
    let (h, d1, k) = (net.hidden(), net.d_aug(), net.outputs());
    assert_eq!(w.len(), parameter_count(net), "parameter vector length");
    let p = h * d1;
    for j in 0..h {
        for m in 0..d1 {
            net.a[(j, m)] = w[j * d1 + m];
        }
    }
    for c in 0..k {
        let off = p + c * (h + 1);
        for t in 0..h {
            net.b[(c, t)] = w[off + t];
        }
        net.b0[c] = w[off + h];
    }
}

/// The Gauss–Newton normal equations of the sum of squares ‖vec(Y − f(X))‖² at a network.
pub struct NormalEquations {
    /// JᵀJ, P × P, both triangles filled.
    pub jtj: Mat<f64>,
    /// Jᵀr, P × 1: half the gradient of the sum of squares.
    pub jtr: Mat<f64>,
    /// The sum of squared residuals.
    pub sse: f64,
}

/// Partial sums of one block of rows: [H 1]ᵀ[H 1] (lower), [H 1]ᵀ r, Φᵀ[H 1].
struct BlockSums {
    hth: Mat<f64>,
    htr: Mat<f64>,
    cross: Mat<f64>,
}

impl BlockSums {
    fn add(&mut self, other: BlockSums) {
        self.hth += other.hth;
        self.htr += other.htr;
        self.cross += other.cross;
    }
}

/// JᵀJ and Jᵀr for the residual r = vec(Y − f(X)) of `net` on rows `x` (with the ones column)
/// and targets `y`, in the layout of [`parameters`] (J = −∂vec(f)/∂w, columns of vec in
/// output-major order; JᵀJ and Jᵀr do not depend on that order).
pub fn assemble(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, par: Par) -> NormalEquations {
    let (n, d1) = x.shape();
    let (h, k) = (net.hidden(), net.outputs());
    let p = h * d1;
    let total = parameter_count(net);
    let residual = y - net.predict_par(x, par);
    let sse = residual.norm_squared();

    // A-block: ANMIN's A-system for targets r and no output bias is (∂f/∂a)ᵀ(∂f/∂a), (∂f/∂a)ᵀr.
    let no_bias = Network {
        b0: DVector::zeros(k),
        ..net.clone()
    };
    let system = a_system::assemble(&no_bias, x, &residual, par);

    let empty = BlockSums {
        hth: Mat::zeros(h + 1, h + 1),
        htr: Mat::zeros(h + 1, k),
        cross: Mat::zeros(p, h + 1),
    };
    let (xv, rv) = (view(x), view(&residual));
    let a_t = net.a.transpose();
    let sums = fold_row_blocks(
        n,
        par,
        empty,
        |start, rows| {
            let x_blk = xv.subrows(start, rows);
            let mut z = Mat::<f64>::zeros(rows, h);
            faer::linalg::matmul::matmul(
                z.as_mut(),
                Accum::Replace,
                x_blk,
                view(&a_t),
                1.0,
                Par::Seq,
            );
            // [H 1] and Φ (column j(d+1) + m is g_·j ∘ x̃_·m) of this block.
            let mut hh = Mat::<f64>::zeros(rows, h + 1);
            let mut phi = Mat::<f64>::zeros(rows, p);
            for j in 0..h {
                for i in 0..rows {
                    let g = net.slope(z[(i, j)]);
                    hh[(i, j)] = g * z[(i, j)];
                    z[(i, j)] = g;
                }
                for m in 0..d1 {
                    let col = phi.as_mut().col_mut(j * d1 + m);
                    for ((out, g), xv) in
                        col.iter_mut().zip(z.col(j).iter()).zip(x_blk.col(m).iter())
                    {
                        *out = g * xv;
                    }
                }
            }
            hh.as_mut().col_mut(h).fill(1.0);
            let mut sums = BlockSums {
                hth: Mat::zeros(h + 1, h + 1),
                htr: Mat::zeros(h + 1, k),
                cross: Mat::zeros(p, h + 1),
            };
            gram_lower(sums.hth.as_mut(), hh.as_ref(), false, Par::Seq);
            at_b(
                sums.htr.as_mut(),
                hh.as_ref(),
                rv.subrows(start, rows),
                false,
                Par::Seq,
            );
            at_b(
                sums.cross.as_mut(),
                phi.as_ref(),
                hh.as_ref(),
                false,
                Par::Seq,
            );
            sums
        },
        BlockSums::add,
    );

    let mut jtj = Mat::<f64>::zeros(total, total);
    let mut jtr = Mat::<f64>::zeros(total, 1);
    let set = |m: &mut MatMut<'_, f64>, i: usize, j: usize, v: f64| {
        m[(i, j)] = v;
        m[(j, i)] = v;
    };
    {
        let mut m = jtj.as_mut();
        for col in 0..p {
            for row in col..p {
                set(&mut m, row, col, system.matrix[(row, col)]);
            }
            jtr[(col, 0)] = -system.rhs[(col, 0)];
        }
        for c in 0..k {
            let off = p + c * (h + 1);
            for s in 0..=h {
                for t in s..=h {
                    set(&mut m, off + t, off + s, sums.hth[(t, s)]);
                }
                jtr[(off + s, 0)] = -sums.htr[(s, c)];
                for j in 0..h {
                    let b = net.b[(c, j)];
                    for mm in 0..d1 {
                        let a = j * d1 + mm;
                        set(&mut m, off + s, a, b * sums.cross[(a, s)]);
                    }
                }
            }
        }
    }
    NormalEquations { jtj, jtr, sse }
}

/// [`assemble`] as nalgebra values: (JᵀJ, Jᵀr) in the layout of [`parameters`].
pub fn normal_equations(
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    par: Par,
) -> (DMatrix<f64>, DVector<f64>) {
    let ne = assemble(net, x, y, par);
    let p = ne.jtj.nrows();
    (
        DMatrix::from_fn(p, p, |i, j| ne.jtj[(i, j)]),
        DVector::from_fn(p, |i, _| ne.jtr[(i, 0)]),
    )
}

/// Solves (`matrix` + diag(`add`)) x = `rhs` by Cholesky (the lower triangle of `matrix` is
/// read). None when the factorization fails or the solution is not finite.
fn cholesky_solve(matrix: &Mat<f64>, add: &[f64], rhs: &Mat<f64>, par: Par) -> Option<Mat<f64>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt;

    let p = matrix.nrows();
    let mut s = matrix.clone();
    for (i, v) in add.iter().enumerate() {
        s[(i, i)] += v;
    }
    let mut buffer = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
        p,
        par,
        Default::default(),
    ));
    llt::factor::cholesky_in_place(
        s.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut buffer),
        Default::default(),
    )
    .ok()?;
    let mut x = rhs.clone();
    // Sequential triangular solves, as in crate::linalg: cheap, and thread-count independent.
    let mut scratch = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(p, 1, Par::Seq));
    llt::solve::solve_in_place(
        s.as_ref(),
        x.as_mut(),
        Par::Seq,
        MemStack::new(&mut scratch),
    );
    (0..p).all(|i| x[(i, 0)].is_finite()).then_some(x)
}

/// Counters reported in the run JSON.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LmStats {
    pub accepted_steps: usize,
    /// Trials with a μ whose step did not lower the objective (failed factorizations included).
    pub rejected_steps: usize,
    pub factorizations: usize,
    /// Factorizations that failed (counted as rejected steps too).
    pub failed_factorizations: usize,
    /// Assemblies of the normal equations (one per step).
    pub assemblies: usize,
}

/// The training problem in the optimizer's units.
struct Problem {
    /// Standardized training targets.
    y: DMatrix<f64>,
    scale: TargetScale,
    /// The network in standardized target units (B_s = B/σ, b0_s = (b0 − mean)/σ).
    net: Network,
    /// The objective at `net`.
    objective: f64,
}

/// Levenberg–Marquardt as an [`Optimizer`].
pub struct Lm {
    cfg: LmConfig,
    par: Par,
    /// The current μ.
    mu: f64,
    stats: LmStats,
    problem: Option<Problem>,
}

impl Lm {
    pub fn new(cfg: LmConfig, par: Par) -> Lm {
        Lm {
            cfg,
            par,
            mu: cfg.mu,
            stats: LmStats::default(),
            problem: None,
        }
    }

    /// The current μ.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    pub fn stats(&self) -> LmStats {
        self.stats
    }
}

/// MSE(y_s) + λ(‖A‖² + ‖B_s‖²) of a network in standardized units.
fn objective(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, ridge: f64, par: Par) -> f64 {
    let mse = crate::metrics::mse(&net.predict_par(x, par), y);
    mse + ridge * (net.a.norm_squared() + net.b.norm_squared())
}

impl Optimizer for Lm {
    fn init(&mut self, net: &mut Network, train: &Samples) {
        let scale = TargetScale::fit(&train.y);
        let y = scale.standardize(&train.y);
        let params = scale.to_internal(net);
        let internal = Network {
            a: params.a,
            b: params.b,
            b0: params.b0,
            alpha: net.alpha,
        };
        let objective = objective(&internal, &train.x, &y, self.cfg.ridge, self.par);
        self.mu = self.cfg.mu;
        self.problem = Some(Problem {
            y,
            scale,
            net: internal,
            objective,
        });
    }

    fn step(&mut self, net: &mut Network, train: &Samples) -> StepStatus {
        let problem = self.problem.as_mut().expect("init runs before step");
        let x = &train.x;
        if self.mu > self.cfg.mu_max {
            return StepStatus::Converged;
        }
        let mut ne = assemble(&problem.net, x, &problem.y, self.par);
        self.stats.assemblies += 1;
        let total = ne.jtj.nrows();
        if !(0..total).all(|i| ne.jtr[(i, 0)].is_finite() && ne.jtj[(i, i)].is_finite()) {
            return StepStatus::Diverged;
        }
        // The penalty of n·k times the objective: P = n·k·λ on A and B, not on b0.
        let w = parameters(&problem.net);
        let (h, k) = (problem.net.hidden(), problem.net.outputs());
        let p_a = h * problem.net.d_aug();
        let weight = (train.n() * k) as f64 * self.cfg.ridge;
        if weight > 0.0 {
            for i in 0..total {
                let is_bias = i >= p_a && (i - p_a) % (h + 1) == h;
                if !is_bias {
                    ne.jtj[(i, i)] += weight;
                    ne.jtr[(i, 0)] += weight * w[i];
                }
            }
        }
        let damping: Vec<f64> = match self.cfg.damping {
            Damping::Identity => vec![1.0; total],
            Damping::Marquardt => {
                let diag: Vec<f64> = (0..total).map(|i| ne.jtj[(i, i)]).collect();
                let largest = diag.iter().copied().fold(0.0, f64::max);
                let floor = if largest > 0.0 {
                    MARQUARDT_FLOOR * largest
                } else {
                    1.0
                };
                diag.into_iter().map(|v| v.max(floor)).collect()
            }
        };
        let neg_grad = Mat::from_fn(total, 1, |i, _| -ne.jtr[(i, 0)]);
        while self.mu <= self.cfg.mu_max {
            let add: Vec<f64> = damping.iter().map(|d| self.mu * d).collect();
            self.stats.factorizations += 1;
            let Some(delta) = cholesky_solve(&ne.jtj, &add, &neg_grad, self.par) else {
                self.stats.failed_factorizations += 1;
                self.stats.rejected_steps += 1;
                self.mu *= self.cfg.mu_inc;
                continue;
            };
            let trial_w = DVector::from_fn(total, |i, _| w[i] + delta[(i, 0)]);
            let mut trial = problem.net.clone();
            set_parameters(&mut trial, trial_w.as_slice());
            let value = objective(&trial, x, &problem.y, self.cfg.ridge, self.par);
            if value < problem.objective {
                problem.net = trial;
                problem.objective = value;
                self.mu = (self.mu * self.cfg.mu_dec).max(MU_MIN);
                self.stats.accepted_steps += 1;
                write_network(&problem.scale, &problem.net, net);
                return StepStatus::Continue;
            }
            self.stats.rejected_steps += 1;
            self.mu *= self.cfg.mu_inc;
        }
        StepStatus::Converged
    }

    fn diagnostics(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.stats).expect("stats serialize");
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("mu".into(), serde_json::json!(self.mu));
            map.insert("damping".into(), self.cfg.damping.name().into());
            map.insert("mu_min".into(), serde_json::json!(MU_MIN));
            if self.cfg.damping == Damping::Marquardt {
                map.insert("marquardt_floor".into(), serde_json::json!(MARQUARDT_FLOOR));
            }
            if let Some(problem) = &self.problem {
                map.insert("target_mean".into(), serde_json::json!(problem.scale.mean));
                map.insert(
                    "target_scale".into(),
                    serde_json::json!(problem.scale.scale),
                );
            }
        }
        v
    }
}

/// Writes a network in standardized units into `net` in the targets' units.
fn write_network(scale: &TargetScale, internal: &Network, net: &mut Network) {
    net.a.copy_from(&internal.a);
    net.b = &internal.b * scale.scale;
    net.b0 = DVector::from_fn(internal.b0.len(), |c, _| {
        internal.b0[c] * scale.scale + scale.mean[c]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip() {
        let net = Network {
            a: DMatrix::from_fn(3, 4, |i, j| (i * 4 + j) as f64),
            b: DMatrix::from_fn(2, 3, |i, j| 100.0 + (i * 3 + j) as f64),
            b0: DVector::from_vec(vec![-1.0, -2.0]),
            alpha: 0.0,
        };
        let w = parameters(&net);
        assert_eq!(w.len(), 12 + 2 * 4);
        assert_eq!(w[5], net.a[(1, 1)]);
        assert_eq!(w[12 + 4 + 2], net.b[(1, 2)]);
        assert_eq!(w[12 + 4 + 3], -2.0);
        let mut other = net.clone();
        other.a.fill(0.0);
        other.b.fill(0.0);
        other.b0.fill(0.0);
        set_parameters(&mut other, w.as_slice());
        assert_eq!(other, net);
    }

    #[test]
    fn damping_parses_by_name() {
        assert_eq!("marquardt".parse(), Ok(Damping::Marquardt));
        assert!("other".parse::<Damping>().is_err());
    }
}
