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

use faer::{Mat, MatRef, Par};
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
fn block_rows(n: usize, p: usize) -> usize {
    (PHI_BLOCK_BYTES / (8 * p.max(1)))
        .clamp(256, 8192)
        .min(n.max(1))
}

/// Assembles the A-system for the pattern of `net`'s current hidden weights, its output
/// layer, and samples (x with the ones column, y).
pub fn assemble(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, par: Par) -> ASystem {
    let (n, d1) = x.shape();
    let h = net.hidden();
    let p = h * d1;
    let nb = block_rows(n, p);

    // W = (Y − 1 b0ᵀ) B: column j holds (Bᵀ(y_i − b0))_j.
    let mut resid = y.clone();
    for (mut col, bias) in resid.column_iter_mut().zip(net.b0.iter()) {
        col.add_scalar_mut(-bias);
    }
    let w = &resid * &net.b;
    let a_t = net.a.transpose();

    let mut s = Mat::<f64>::zeros(p, p);
    let mut rhs_blocks = Mat::<f64>::zeros(d1, h);
    let mut phi = Mat::<f64>::zeros(nb, p);
    let mut v = Mat::<f64>::zeros(nb, h);
    let mut z = Mat::<f64>::zeros(nb, h);
    let x_all = view(x);
    let w_all = view(&w);
    for (block, start) in (0..n).step_by(nb).enumerate() {
        let rows = nb.min(n - start);
        let x_blk = x_all.subrows(start, rows);
        // Pre-activations of this block decide its pattern g.
        faer::linalg::matmul::matmul(
            z.as_mut().subrows_mut(0, rows),
            faer::Accum::Replace,
            x_blk,
            view(&a_t),
            1.0,
            Par::Seq,
        );
        for j in 0..h {
            for i in 0..rows {
                let g = net.slope(z[(i, j)]);
                v[(i, j)] = g * w_all[(start + i, j)];
                // Reuse z as the pattern for filling Φ below.
                z[(i, j)] = g;
            }
            for c in 0..d1 {
                let mut col = phi.col_mut(j * d1 + c);
                let xc = x_blk.col(c);
                for i in 0..rows {
                    col[i] = z[(i, j)] * xc[i];
                }
            }
        }
        let phi_blk = phi.as_ref().subrows(0, rows);
        gram_lower(s.as_mut(), phi_blk, block > 0, par);
        at_b(
            rhs_blocks.as_mut(),
            x_blk,
            v.as_ref().subrows(0, rows),
            block > 0,
            Par::Seq,
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
