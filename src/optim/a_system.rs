//! The A-step of ANMIN (Theorem 1 of Barbu 2023): with the activation pattern G, the output
//! layer (B, b0) and the data fixed, the loss Σ_i ‖y_i − B G_i A x̃_i − b0‖² is a convex
//! quadratic in the hidden weights A. Its minimizer solves
//!
//! ```text
//!   [ Σ_i (G_i Bᵀ B G_i) ⊗ (x̃_i x̃_iᵀ) ] a = Σ_i (G_i Bᵀ (y_i − b0)) ⊗ x̃_i
//! ```
//!
//! with a the rows of A stacked. The Kronecker products are never formed: with Φ the n × h(d+1)
//! matrix whose row i is [g_i1 x̃_iᵀ, …, g_ih x̃_iᵀ], the system matrix is (ΦᵀΦ) ∘ (BᵀB ⊗ 11ᵀ)
//! and block j of the right-hand side is Σ_i g_ij (Bᵀ(y_i − b0))_j x̃_i. ΦᵀΦ is accumulated
//! over row blocks of Φ by symmetric rank-k updates of its lower triangle, so memory does not
//! grow with n.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef, Par};
use nalgebra::DMatrix;

use crate::linalg::{Shift, at_b, gram_lower, solve_psd_shifted, view};
use crate::model::Network;

/// Bytes of Φ materialized at a time.
const PHI_BLOCK_BYTES: usize = 8 << 20;

/// The assembled normal equations of one A-step.
pub struct ASystem {
    /// p × p, p = h(d+1); only the lower triangle is meaningful.
    pub matrix: Mat<f64>,
    /// p × 1.
    pub rhs: Mat<f64>,
}

/// Rows of Φ per block: enough for efficient rank-k updates, few enough to bound memory.
pub(crate) fn block_rows(n: usize, p: usize) -> usize {
    (PHI_BLOCK_BYTES / (8 * p.max(1)))
        .clamp(256, 8192)
        .min(n.max(1))
}

/// Writes the activation pattern of `net` on the rows `x_blk` into `g` (rows × h): 1 where
/// the pre-activation is positive, α elsewhere.
pub(crate) fn pattern_block(
    net: &Network,
    a_t: MatRef<'_, f64>,
    x_blk: MatRef<'_, f64>,
    g: MatMut<'_, f64>,
) {
    let mut g = g;
    faer::linalg::matmul::matmul(g.rb_mut(), faer::Accum::Replace, x_blk, a_t, 1.0, Par::Seq);
    for j in 0..g.ncols() {
        for z in g.rb_mut().col_mut(j).iter_mut() {
            *z = net.slope(*z);
        }
    }
}

/// Adds this block's share of the right-hand side, X̃ᵀ (G ∘ ((Y − 1 b0ᵀ) B)), to `rhs_blocks`
/// (d1 × h: column j is block j). `work` is scratch of at least rows × h.
pub(crate) fn add_rhs_block(
    net: &Network,
    x_blk: MatRef<'_, f64>,
    y_blk: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    rhs_blocks: MatMut<'_, f64>,
    accumulate: bool,
    work: MatMut<'_, f64>,
) {
    let mut work = work;
    let rows = x_blk.nrows();
    let (k, h) = net.b.shape();
    // (Y − 1 b0ᵀ) B, one output at a time: k is small.
    let mut v = work.rb_mut().subrows_mut(0, rows);
    v.fill(0.0);
    for c in 0..k {
        let bias = net.b0[c];
        for j in 0..h {
            let b = net.b[(c, j)];
            let col = v.rb_mut().col_mut(j);
            for (out, y) in col.iter_mut().zip(y_blk.col(c).iter()) {
                *out += (y - bias) * b;
            }
        }
    }
    for j in 0..h {
        for (out, g) in v.rb_mut().col_mut(j).iter_mut().zip(g.col(j).iter()) {
            *out *= g;
        }
    }
    at_b(rhs_blocks, x_blk, v.rb(), accumulate, Par::Seq);
}

/// Assembles the A-system for the pattern of `net`'s current hidden weights, its output
/// layer, and samples (x with the ones column, y).
pub fn assemble(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, par: Par) -> ASystem {
    let (n, d1) = x.shape();
    let h = net.hidden();
    let p = h * d1;
    let nb = block_rows(n, p);
    let a_t = net.a.transpose();

    let mut s = Mat::<f64>::zeros(p, p);
    let mut rhs_blocks = Mat::<f64>::zeros(d1, h);
    let mut phi = Mat::<f64>::zeros(nb, p);
    let mut g = Mat::<f64>::zeros(nb, h);
    let mut work = Mat::<f64>::zeros(nb, h);
    let (x_all, y_all) = (view(x), view(y));
    for (block, start) in (0..n).step_by(nb).enumerate() {
        let rows = nb.min(n - start);
        let x_blk = x_all.subrows(start, rows);
        let mut g_blk = g.as_mut().subrows_mut(0, rows);
        pattern_block(net, view(&a_t), x_blk, g_blk.rb_mut());
        // Φ's column j(d+1)+c is g_·j ∘ x̃_·c.
        for j in 0..h {
            for c in 0..d1 {
                let col = phi.as_mut().col_mut(j * d1 + c).subrows_mut(0, rows);
                for ((out, g), x) in col
                    .iter_mut()
                    .zip(g_blk.rb().col(j).iter())
                    .zip(x_blk.col(c).iter())
                {
                    *out = g * x;
                }
            }
        }
        gram_lower(s.as_mut(), phi.as_ref().subrows(0, rows), block > 0, par);
        add_rhs_block(
            net,
            x_blk,
            y_all.subrows(start, rows),
            g_blk.rb(),
            rhs_blocks.as_mut(),
            block > 0,
            work.as_mut(),
        );
    }

    // Hadamard product with BᵀB ⊗ 11ᵀ on the lower triangle.
    let c = net.b.transpose() * &net.b;
    for col in 0..p {
        let jc = col / d1;
        for row in col..p {
            s[(row, col)] *= c[(row / d1, jc)];
        }
    }
    // rhs_blocks is d1 × h column-major, i.e. already stacked as rows of A.
    let rhs = Mat::from_fn(p, 1, |r, _| rhs_blocks[(r % d1, r / d1)]);
    ASystem { matrix: s, rhs }
}

/// The solved A-step: new hidden weights and how the system was regularized.
pub struct AStep {
    pub a: DMatrix<f64>,
    pub shift: Shift,
}

/// Solves `system` + `penalty`·I for the hidden weights, with a proximal shift of relative
/// size `rel_shift` toward the current weights (see [`solve_psd_shifted`]). None when the
/// system is not finite.
pub fn solve(
    mut system: ASystem,
    current: &DMatrix<f64>,
    penalty: f64,
    rel_shift: f64,
    par: Par,
) -> Option<AStep> {
    let (h, d1) = current.shape();
    let p = h * d1;
    for i in 0..p {
        system.matrix[(i, i)] += penalty;
    }
    let a_t = current.transpose();
    let center = MatRef::from_column_major_slice(a_t.as_slice(), p, 1);
    let mut sol = system.rhs;
    let shift = solve_psd_shifted(&mut system.matrix, &mut sol, rel_shift, center, par)?;
    let a = DMatrix::from_fn(h, d1, |j, c| sol[(j * d1 + c, 0)]);
    Some(AStep { a, shift })
}
