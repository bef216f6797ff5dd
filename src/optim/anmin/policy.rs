//! Which A-step solver `auto` picks for a problem's size, and the thresholds behind it.

use serde::Serialize;

use super::a_dual;

/// How the A-step's linear system is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ASolver {
    /// By size: dual when there are fewer residuals n·k than hidden weights h(d+1) and it is
    /// cheaper; sampled when n exceeds 4 samples' worth of rows and assembling the system
    /// would cost far more than a pass over the data; Cholesky while the h(d+1)-square matrix
    /// fits in 1 GiB; conjugate gradients above.
    Auto,
    /// Assemble the h(d+1) × h(d+1) matrix and factor it: exact, O((h(d+1))²) memory.
    Cholesky,
    /// Matrix-free preconditioned conjugate gradients, warm-started from the current A.
    Cg,
    /// The exact dual form: an (n·k)-square system, for wide data (n·k < h(d+1)).
    Dual,
    /// The system of a random sample of rows (--a-sample-factor × h(d+1)) with the gradient
    /// on all rows, for tall data; the line search on all rows keeps the loss monotone.
    Sampled,
}

crate::choice!(ASolver {
    Auto => ("auto", "By size: dual when n·k < h(d+1) and cheaper, sampled for tall data whose assembly dominates, Cholesky while the h(d+1)-square matrix fits in 1 GiB, conjugate gradients above"),
    Cholesky => ("cholesky", "Assemble the h(d+1)-square matrix and factor it: exact"),
    Cg => ("cg", "Matrix-free preconditioned conjugate gradients, warm-started from the current A"),
    Dual => ("dual", "The exact dual form, an (n·k)-square system, for wide data"),
    Sampled => ("sampled", "The system of a random sample of rows with the gradient on all rows, for tall data"),
});

/// Above this many hidden weights `auto` switches to conjugate gradients: the p × p matrix
/// would exceed 1 GiB. Below it Cholesky is also the faster solver in our measurements: the
/// A-systems are ill-conditioned, and Jacobi-preconditioned CG needs hundreds of iterations (each about
/// 4·n·p flops) per A-step, which costs as much as the n·p² assembly even at p ≈ 3500.
pub const AUTO_CG_ABOVE: usize = 11585;

/// `auto` samples rows when there are more than this many samples' worth of them...
pub const AUTO_SAMPLE_ABOVE: usize = 4;

/// ...and when assembling the A-system costs this many times a pass over the data. Per row,
/// the assembly costs p² = (h(d+1))² flops and the passes every iteration makes anyway
/// (forward pass and B-step) about h(2(d+1) + h): their ratio does not depend on n. Sampling
/// pays where the assembly dominates: 190 times at d = 16, h = 64 (a 1M-row teacher: about
/// 40 times faster per iteration); not at 8 times (the image experiment's shape decoder,
/// 16384 rows, d = 2, h = 64, where the exact A-step was both faster and deeper, measured).
const AUTO_SAMPLE_WHEN_ASSEMBLY_COSTS: usize = 32;

/// `auto` uses the dual form only while its (n·k)-square matrix fits in 1 GiB.
const AUTO_DUAL_MAX: usize = 11585;

/// The sizes that choose a solver.
#[derive(Debug, Clone, Copy)]
pub struct ProblemSize {
    /// Training samples n.
    pub rows: usize,
    pub hidden: usize,
    /// Inputs per sample, d + 1.
    pub d_aug: usize,
    pub outputs: usize,
}

impl ASolver {
    /// The solver actually used for a problem of `size` when a sampled A-step would assemble
    /// `sample_rows` rows.
    pub fn resolve(self, size: ProblemSize, sample_rows: usize) -> ASolver {
        let ProblemSize {
            rows: n,
            hidden: h,
            d_aug: d1,
            outputs: k,
        } = size;
        let p = h * d1;
        let primal = n as f64 * (p as f64).powi(2) + (p as f64).powi(3) / 3.0;
        let dual_fits = n * k < p && n * k <= AUTO_DUAL_MAX;
        match self {
            ASolver::Auto if dual_fits && a_dual::flops(n, h, k) < primal => ASolver::Dual,
            ASolver::Auto if p > AUTO_CG_ABOVE => ASolver::Cg,
            ASolver::Auto
                if n > AUTO_SAMPLE_ABOVE * sample_rows
                    && p * p > AUTO_SAMPLE_WHEN_ASSEMBLY_COSTS * h * (2 * d1 + h) =>
            {
                ASolver::Sampled
            }
            ASolver::Auto => ASolver::Cholesky,
            other => other,
        }
    }
}
