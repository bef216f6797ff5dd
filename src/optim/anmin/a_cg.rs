//! The matrix-free A-step: preconditioned conjugate gradients on the Theorem 1 system, for
//! networks where h(d+1) is large enough that forming and factoring the p × p matrix (n·p²
//! and p³/3 flops, p² memory) costs more than a few hundred products with the data.
//!
//! The operator is applied without forming Φ: with D an h × (d+1) direction,
//!
//! ```text
//!   M·vec(D) = vec( [G ∘ ((G ∘ (X̃ Dᵀ)) BᵀB)]ᵀ X̃ )
//! ```
//!
//! streamed over row blocks, so one product costs about 4·n·h·(d+1 + k) flops and memory
//! stays O(n·h) bits for the pattern plus O(block·h) numbers. The preconditioner is the
//! diagonal of M. (It was M's block diagonal, one (d+1)-square block per hidden unit: 2·h·(d+1)²
//! numbers, 4.1 GB at d = 2000, for about 20% fewer iterations; wide data now takes the dual
//! form, and CG the remaining problems whose h(d+1)-square matrix is too large, where those
//! blocks would be too.) CG starts from the current A and stops when the residual has shrunk
//! by `tol` relative to its initial size.

use faer::prelude::ReborrowMut;
use faer::{Accum, Mat, Par};
use nalgebra::DMatrix;

use super::a_system::{AProblem, AStep, block_rows, pattern_pass};
use crate::linalg::{Shift, mean_diagonal, view};
use crate::model::Network;

/// How a conjugate-gradient A-step went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgReport {
    pub iterations: usize,
    /// Final residual norm relative to the initial one.
    pub relative_residual: f64,
}

/// The activation pattern of every sample, one byte per (sample, unit).
struct Pattern {
    active: Vec<bool>,
    alpha: f64,
    n: usize,
}

impl Pattern {
    /// Writes the pattern of rows start..start+rows into `g` (rows × h).
    fn fill(&self, start: usize, g: faer::MatMut<'_, f64>) {
        let mut g = g;
        for j in 0..g.ncols() {
            let offset = j * self.n + start;
            for (i, out) in g.rb_mut().col_mut(j).iter_mut().enumerate() {
                *out = if self.active[offset + i] {
                    1.0
                } else {
                    self.alpha
                };
            }
        }
    }
}

/// The system M + (penalty + shift)·I, applied block by block.
struct Operator<'a> {
    net: &'a Network,
    x: &'a DMatrix<f64>,
    pattern: Pattern,
    diagonal_shift: f64,
    block: usize,
    par: Par,
}

impl Operator<'_> {
    /// out = (M + shift·I) d for d and out both h × (d+1). The blocks of rows run in
    /// parallel when `par` allows and their sums are added in block order, so the product is
    /// bitwise the same whatever the number of threads.
    fn apply(&self, d: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        let (n, d1) = self.x.shape();
        let h = self.net.hidden();
        let d_t = d.transpose();
        let r_t = crate::rows::fold_blocks(
            n,
            self.block,
            self.par,
            Mat::<f64>::zeros(d1, h),
            |start, rows| self.block_product(&d_t, start, rows),
            |acc, part| *acc += part,
        );
        for j in 0..h {
            for c in 0..d1 {
                out[(j, c)] = r_t[(c, j)] + self.diagonal_shift * d[(j, c)];
            }
        }
    }

    /// X̃ᵀ V of rows start..start+rows, V = G ∘ ((G ∘ (X̃ Dᵀ)) BᵀB): (d+1) × h.
    fn block_product(&self, d_t: &DMatrix<f64>, start: usize, rows: usize) -> Mat<f64> {
        let d1 = self.x.ncols();
        let h = self.net.hidden();
        let k = self.net.outputs();
        let x_blk = view(self.x).subrows(start, rows);
        let mut g = Mat::<f64>::zeros(rows, h);
        self.pattern.fill(start, g.as_mut());
        // U = G ∘ (X̃ Dᵀ)
        let mut u = Mat::<f64>::zeros(rows, h);
        let seq = Par::Seq;
        faer::linalg::matmul::matmul(u.as_mut(), Accum::Replace, x_blk, view(d_t), 1.0, seq);
        hadamard(u.as_mut(), g.as_ref());
        // V = G ∘ (U BᵀB), through the k outputs: U Bᵀ is rows × k.
        let mut s = Mat::<f64>::zeros(rows, k);
        let b = view(&self.net.b);
        faer::linalg::matmul::matmul(
            s.as_mut(),
            Accum::Replace,
            u.as_ref(),
            b.transpose(),
            1.0,
            seq,
        );
        faer::linalg::matmul::matmul(u.as_mut(), Accum::Replace, s.as_ref(), b, 1.0, seq);
        hadamard(u.as_mut(), g.as_ref());
        let mut r_t = Mat::<f64>::zeros(d1, h);
        faer::linalg::matmul::matmul(
            r_t.as_mut(),
            Accum::Replace,
            x_blk.transpose(),
            u.as_ref(),
            1.0,
            seq,
        );
        r_t
    }
}

fn hadamard(mut a: faer::MatMut<'_, f64>, b: faer::MatRef<'_, f64>) {
    for j in 0..a.ncols() {
        for (x, g) in a.rb_mut().col_mut(j).iter_mut().zip(b.col(j).iter()) {
            *x *= g;
        }
    }
}

/// Solves the A-step by preconditioned conjugate gradients. `penalty` is added to the
/// diagonal (the ridge term), and a proximal shift of `rel_shift` × (mean diagonal) pulls
/// undetermined directions toward the current weights, as in the Cholesky A-step. None when
/// the system is not finite.
pub fn solve(problem: &AProblem<'_>, tol: f64, max_iters: usize) -> Option<(AStep, CgReport)> {
    let AProblem {
        net,
        x,
        y,
        penalty,
        rel_shift,
        par,
    } = *problem;
    let (n, d1) = x.shape();
    let h = net.hidden();
    let p = h * d1;
    let block = block_rows(n, p.max(h * 8));

    // One pass: the pattern, the right-hand side, and Σ_i g_ij² x̃_ic², the diagonal of
    // unit j's block of ΦᵀΦ (h × (d+1)).
    let mut active = vec![false; n * h];
    let mut diagonal = DMatrix::<f64>::zeros(h, d1);
    let rhs_blocks = pattern_pass(net, x, y, block, |start, x_blk, g_blk| {
        for j in 0..h {
            for (i, gv) in g_blk.col(j).iter().enumerate() {
                active[j * n + start + i] = *gv == 1.0;
            }
            for c in 0..d1 {
                diagonal[(j, c)] += g_blk
                    .col(j)
                    .iter()
                    .zip(x_blk.col(c).iter())
                    .map(|(g, x)| (g * x) * (g * x))
                    .sum::<f64>();
            }
        }
    });

    let btb = net.b.transpose() * &net.b;
    let trace: f64 = (0..h).map(|j| btb[(j, j)] * diagonal.row(j).sum()).sum();
    let scale = mean_diagonal(trace, p);
    let shift = rel_shift * scale;
    let diagonal_shift = penalty + shift;

    // Jacobi preconditioner: the diagonal of the shifted system (kept positive).
    let inverse = DMatrix::from_fn(h, d1, |j, c| {
        let m = btb[(j, j)] * diagonal[(j, c)] + diagonal_shift;
        if m > 0.0 && m.is_finite() {
            1.0 / m
        } else {
            1.0 / scale
        }
    });
    let precondition = |r: &DMatrix<f64>| r.component_mul(&inverse);

    let operator = Operator {
        net,
        x,
        pattern: Pattern {
            active,
            alpha: net.alpha,
            n,
        },
        diagonal_shift,
        block,
        par,
    };
    // b = rhs + shift·A_current; start from A_current.
    let rhs = DMatrix::from_fn(h, d1, |j, c| rhs_blocks[(c, j)] + shift * net.a[(j, c)]);
    let mut sol = net.a.clone();
    let mut q = DMatrix::zeros(h, d1);
    operator.apply(&sol, &mut q);
    let mut r = &rhs - &q;
    let r0 = r.norm();
    if !r0.is_finite() {
        return None;
    }
    let mut z = precondition(&r);
    let mut dir = z.clone();
    let mut rz = r.dot(&z);
    let mut iterations = 0;
    let mut residual = r0;
    while residual > tol * r0 && iterations < max_iters {
        operator.apply(&dir, &mut q);
        let curvature = dir.dot(&q);
        // Non-positive (or NaN) curvature: the direction carries no more information.
        if curvature.is_nan() || curvature <= 0.0 {
            break;
        }
        let step = rz / curvature;
        sol += &dir * step;
        r -= &q * step;
        residual = r.norm();
        iterations += 1;
        z = precondition(&r);
        let rz_next = r.dot(&z);
        let beta = rz_next / rz;
        rz = rz_next;
        dir = &z + &dir * beta;
    }
    if !sol.iter().all(|v| v.is_finite()) {
        return None;
    }
    let report = CgReport {
        iterations,
        relative_residual: if r0 > 0.0 { residual / r0 } else { 0.0 },
    };
    Some((
        AStep {
            a: sol,
            shift: Shift {
                value: shift,
                escalations: 0,
            },
            factor: None,
        },
        report,
    ))
}
