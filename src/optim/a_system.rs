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
    /// B was divided by this power of two before assembly, so both sides are divided by its
    /// square (same solution); a penalty added to the matrix must be too. 1 unless B is
    /// huge: see [`output_scale`].
    pub b_scale: f64,
}

/// max |B| beyond 2^BIG_EXPONENT is scaled to about 1 before assembly.
const BIG_EXPONENT: i32 = 64;

/// The power of two s that B is divided by before assembly. The A-system grows like ‖B‖²
/// and overflows f64 for targets near 1e154 (accepted: their squared errors still sum).
/// Dividing B by s ≈ max |B| (and so the system by s²) keeps it near the scale of ‖x‖²
/// without changing the solution; division by a power of two is exact, and ordinary B is left
/// as is. (A tiny B only underflows towards a singular system, which the shift handles.)
fn output_scale(b: &DMatrix<f64>) -> f64 {
    let max = b.amax();
    if !max.is_finite() {
        return 1.0;
    }
    // At most the largest exponent of a normal number, so that 2^exponent is exact.
    let exponent = (max.log2().round() as i32).min(f64::MAX_EXP - 1);
    if exponent <= BIG_EXPONENT {
        return 1.0;
    }
    f64::from_bits(((exponent + 1023) as u64) << 52)
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

    // With B̂ = B/s the system divided by s² is (ΦᵀΦ) ∘ (B̂ᵀB̂ ⊗ 11ᵀ) with W as below.
    let b_scale = output_scale(&net.b);
    let b_scaled = &net.b / b_scale;
    // W = (Y − 1 b0ᵀ) B / s²: column j holds (Bᵀ(y_i − b0))_j / s².
    let mut resid = y.clone();
    for (mut col, bias) in resid.column_iter_mut().zip(net.b0.iter()) {
        col.add_scalar_mut(-bias);
        col /= b_scale;
    }
    let w = &resid * &b_scaled;
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

    // Hadamard product with B̂ᵀB̂ ⊗ 11ᵀ on the lower triangle.
    let c = b_scaled.transpose() * &b_scaled;
    for col in 0..p {
        let jc = col / d1;
        for row in col..p {
            s[(row, col)] *= c[(row / d1, jc)];
        }
    }
    // rhs_blocks is d1 × h column-major, i.e. already stacked as rows of A.
    let rhs = Mat::from_fn(p, 1, |r, _| rhs_blocks[(r % d1, r / d1)]);
    ASystem {
        matrix: s,
        rhs,
        b_scale,
    }
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
        system.matrix[(i, i)] += penalty / system.b_scale / system.b_scale;
    }
    let a_t = current.transpose();
    let center = MatRef::from_column_major_slice(a_t.as_slice(), p, 1);
    let mut sol = system.rhs;
    let shift = solve_psd_shifted(&mut system.matrix, &mut sol, rel_shift, center, par)?;
    let a = DMatrix::from_fn(h, d1, |j, c| sol[(j * d1 + c, 0)]);
    Some(AStep { a, shift })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    #[test]
    fn huge_output_weights_give_the_same_step() {
        // Scaling the targets and the output layer by c leaves the A-step unchanged (with the
        // penalty scaled by c² too). At c = 1e153 the unscaled system overflowed f64 and the
        // step failed, so training on targets near the accepted limit diverged at once.
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
        for penalty in [0.0, 3.0] {
            let step = |net: &Network, y: &DMatrix<f64>, penalty: f64| {
                let system = assemble(net, &x, y, Par::Seq);
                solve(system, &net.a, penalty, 1e-12, Par::Seq).expect("solvable")
            };
            let reference = step(&net, &y, penalty);
            let scaled = step(&big, &(&y * c), penalty * c * c);
            let error = (&scaled.a - &reference.a).amax();
            assert!(
                error <= 1e-9 * reference.a.amax(),
                "penalty {penalty}: {error:e}"
            );
        }
    }
}
