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

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, Par};
use nalgebra::DMatrix;

use super::a_system::{AStep, block_rows, pattern_pass};
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
}

impl Operator<'_> {
    /// out = (M + shift·I) d for d and out both h × (d+1).
    fn apply(&self, d: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        let (n, d1) = self.x.shape();
        let h = self.net.hidden();
        let k = self.net.outputs();
        let d_t = d.transpose();
        let mut u = Mat::<f64>::zeros(self.block, h);
        let mut g = Mat::<f64>::zeros(self.block, h);
        let mut r_t = Mat::<f64>::zeros(d1, h);
        let mut s = Mat::<f64>::zeros(self.block, k);
        let x_all = view(self.x);
        for (b, start) in (0..n).step_by(self.block).enumerate() {
            let rows = self.block.min(n - start);
            let x_blk = x_all.subrows(start, rows);
            let mut g_blk = g.as_mut().subrows_mut(0, rows);
            self.pattern.fill(start, g_blk.rb_mut());
            let mut u_blk = u.as_mut().subrows_mut(0, rows);
            // U = G ∘ (X̃ Dᵀ)
            faer::linalg::matmul::matmul(
                u_blk.rb_mut(),
                Accum::Replace,
                x_blk,
                view(&d_t),
                1.0,
                Par::Seq,
            );
            hadamard(u_blk.rb_mut(), g_blk.rb());
            // V = G ∘ (U BᵀB), through the k outputs: U Bᵀ is rows × k.
            let mut s_blk = s.as_mut().subrows_mut(0, rows);
            faer::linalg::matmul::matmul(
                s_blk.rb_mut(),
                Accum::Replace,
                u_blk.rb(),
                view(&self.net.b).transpose(),
                1.0,
                Par::Seq,
            );
            faer::linalg::matmul::matmul(
                u_blk.rb_mut(),
                Accum::Replace,
                s_blk.rb(),
                view(&self.net.b),
                1.0,
                Par::Seq,
            );
            hadamard(u_blk.rb_mut(), g_blk.rb());
            // Rᵀ += X̃ᵀ V
            faer::linalg::matmul::matmul(
                r_t.as_mut(),
                if b == 0 { Accum::Replace } else { Accum::Add },
                x_blk.transpose(),
                u_blk.rb(),
                1.0,
                Par::Seq,
            );
        }
        for j in 0..h {
            for c in 0..d1 {
                out[(j, c)] = r_t[(c, j)] + self.diagonal_shift * d[(j, c)];
            }
        }
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
pub fn solve(
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    penalty: f64,
    rel_shift: f64,
    tol: f64,
    max_iters: usize,
) -> Option<(AStep, CgReport)> {
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
