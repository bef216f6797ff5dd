//! Bridges between nalgebra matrices (our storage) and faer's kernels, used where nalgebra has
//! no equivalent at speed: the symmetric rank-k update and blocked Cholesky. Both libraries
//! store column-major, so views are free.

use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use nalgebra::DMatrix;

/// A faer view of a nalgebra matrix.
pub fn view(m: &DMatrix<f64>) -> MatRef<'_, f64> {
    MatRef::from_column_major_slice(m.as_slice(), m.nrows(), m.ncols())
}

/// A mutable faer view of a nalgebra matrix.
pub fn view_mut(m: &mut DMatrix<f64>) -> MatMut<'_, f64> {
    let (r, c) = m.shape();
    MatMut::from_column_major_slice_mut(m.as_mut_slice(), r, c)
}

/// The lower triangle (diagonal included) of dst (+)= xᵀ x; the strict upper triangle of dst is
/// neither read nor written. Half the flops of a general product.
pub fn gram_lower(dst: MatMut<'_, f64>, x: MatRef<'_, f64>, accumulate: bool, par: Par) {
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    tri_matmul(
        dst,
        BlockStructure::TriangularLower,
        accum,
        x.transpose(),
        BlockStructure::Rectangular,
        x,
        BlockStructure::Rectangular,
        1.0,
        par,
    );
}

/// dst (+)= xᵀ y.
pub fn at_b(
    dst: MatMut<'_, f64>,
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    accumulate: bool,
    par: Par,
) {
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, accum, x.transpose(), y, 1.0, par);
}

/// How a symmetric positive semi-definite system was shifted to be solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// The multiple of the identity that was added.
    pub value: f64,
    /// How many times the first shift had to be enlarged before Cholesky succeeded.
    pub escalations: u32,
}

/// The mean diagonal trace / p of a p × p matrix, the scale its relative shifts refer to; 1
/// when the trace is not positive and finite.
pub fn mean_diagonal(trace: f64, p: usize) -> f64 {
    if trace > 0.0 && trace.is_finite() {
        trace / p.max(1) as f64
    } else {
        1.0
    }
}

/// Solves (S + μI) x = rhs + μ·center for symmetric positive semi-definite S given by its lower
/// triangle, overwriting `rhs` with x. μ = `rel_shift` · (mean diagonal of S): a proximal
/// term that keeps directions S does not determine (a zero block, a rank deficit) at `center`
/// and leaves a well-determined solution unchanged to within μ. When Cholesky meets a
/// non-positive pivot (or the solve overflows), μ grows a hundredfold, up to the mean diagonal
/// itself. None when even that fails (S is not finite). S is overwritten by its Cholesky
/// factor; its strict upper triangle is left unspecified.
pub fn solve_psd_shifted(
    s: &mut Mat<f64>,
    rhs: &mut Mat<f64>,
    rel_shift: f64,
    center: MatRef<'_, f64>,
    par: Par,
) -> Option<Shift> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt;

    let p = s.nrows();
    let scale = mean_diagonal((0..p).map(|i| s[(i, i)]).sum(), p);
    // The factorization overwrites the lower triangle, and a failed attempt also leaves parts
    // of the strict upper triangle changed (faer's blocked kernel works on whole diagonal
    // blocks; seen at p = 1344), so a retry starts from a packed copy of the lower triangle,
    // column by column: half the matrix again in memory, against a p³/3 factorization.
    let lower: Vec<f64> = (0..p)
        .flat_map(|j| (j..p).map(move |i| (i, j)))
        .map(|(i, j)| s[(i, j)])
        .collect();
    let restore = |s: &mut Mat<f64>| {
        let mut packed = lower.iter();
        for j in 0..p {
            for i in j..p {
                s[(i, j)] = *packed.next().expect("p(p+1)/2 values");
            }
        }
    };
    let mut buffer = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
        p,
        par,
        Default::default(),
    ));
    let mut rel = rel_shift;
    let mut escalations = 0;
    loop {
        let shift = rel * scale;
        for i in 0..p {
            s[(i, i)] += shift;
        }
        let factored = llt::factor::cholesky_in_place(
            s.as_mut(),
            Default::default(),
            par,
            MemStack::new(&mut buffer),
            Default::default(),
        );
        if factored.is_ok() {
            let mut x = rhs.to_owned();
            for j in 0..x.ncols() {
                for i in 0..p {
                    x[(i, j)] += shift * center[(i, j)];
                }
            }
            // The triangular solves are cheap (p² per column) and, run in parallel, round
            // differently from a sequential run; results must not depend on the thread count.
            let mut scratch = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(
                p,
                x.ncols(),
                Par::Seq,
            ));
            llt::solve::solve_in_place(
                s.as_ref(),
                x.as_mut(),
                Par::Seq,
                MemStack::new(&mut scratch),
            );
            // Pivots that only just passed can still overflow the solve: that too asks for a
            // larger shift.
            if (0..x.ncols()).all(|j| (0..p).all(|i| x[(i, j)].is_finite())) {
                *rhs = x;
                return Some(Shift {
                    value: shift,
                    escalations,
                });
            }
        }
        if rel >= 1.0 || !scale.is_finite() {
            return None;
        }
        restore(s);
        rel = (rel.max(1e-14) * 100.0).min(1.0);
        escalations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_solve_matches_dense_solution() {
        // S = LLᵀ-ish SPD matrix with known solution.
        let p = 5;
        let a = DMatrix::from_fn(8, p, |i, j| {
            ((i * 7 + j * 3) % 5) as f64 - 2.0 + (i == j) as u8 as f64
        });
        let s_full = a.transpose() * &a;
        let x_true = DMatrix::from_fn(p, 1, |i, _| i as f64 - 1.5);
        let b = &s_full * &x_true;
        let mut s = Mat::from_fn(p, p, |i, j| if i >= j { s_full[(i, j)] } else { f64::NAN });
        let mut rhs = Mat::from_fn(p, 1, |i, _| b[(i, 0)]);
        let center = Mat::<f64>::zeros(p, 1);
        let shift = solve_psd_shifted(&mut s, &mut rhs, 0.0, center.as_ref(), Par::Seq).unwrap();
        assert_eq!(shift.escalations, 0);
        for i in 0..p {
            assert!((rhs[(i, 0)] - x_true[(i, 0)]).abs() < 1e-9);
        }
    }

    #[test]
    fn singular_block_stays_at_center_after_escalation() {
        // Rank-deficient: the second coordinate is not determined at all, and with no shift the
        // factorization meets a zero pivot and must retry with a larger one.
        let mut s = Mat::from_fn(2, 2, |i, j| if i == 0 && j == 0 { 4.0 } else { 0.0 });
        let mut rhs = Mat::from_fn(2, 1, |i, _| if i == 0 { 8.0 } else { 0.0 });
        let center = Mat::from_fn(2, 1, |i, _| if i == 0 { 0.0 } else { 3.0 });
        let shift = solve_psd_shifted(&mut s, &mut rhs, 0.0, center.as_ref(), Par::Seq).unwrap();
        assert!(shift.escalations >= 1);
        assert!((rhs[(1, 0)] - 3.0).abs() < 1e-12);
        assert!((rhs[(0, 0)] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn escalation_starts_again_from_the_original_matrix() {
        // Large enough for faer's blocked Cholesky, which on failure changes entries of the
        // strict upper triangle too. S = VVᵀ of rank p/2, pushed slightly indefinite, so that
        // the first shifts fail and a later one must factor the original S, not a remnant.
        let (p, k) = (600, 300);
        let v = DMatrix::from_fn(p, k, |i, j| ((i * 31 + j * 17) as f64 * 0.37).sin());
        let mut s_full = &v * v.transpose();
        let eps = 1e-9 * s_full.trace() / p as f64;
        for i in 0..p {
            s_full[(i, i)] -= eps;
        }
        let b = DMatrix::from_fn(p, 1, |i, _| (i as f64 * 0.11).cos());
        let c = DMatrix::from_fn(p, 1, |i, _| (i as f64 * 0.07).sin());
        let mut s = Mat::from_fn(p, p, |i, j| s_full[(i, j)]);
        let mut rhs = Mat::from_fn(p, 1, |i, _| b[(i, 0)]);
        let center = Mat::from_fn(p, 1, |i, _| c[(i, 0)]);
        let shift = solve_psd_shifted(&mut s, &mut rhs, 1e-12, center.as_ref(), Par::Seq)
            .expect("a shift of a few ε makes S positive definite");
        assert!(shift.escalations >= 1, "{shift:?}");
        assert!(shift.value < 1e-4 * s_full.trace() / p as f64, "{shift:?}");
        // x solves (S + μI) x = b + μc, to a backward error of a stable solve.
        let x = DMatrix::from_fn(p, 1, |i, _| rhs[(i, 0)]);
        for i in 0..p {
            s_full[(i, i)] += shift.value;
        }
        let expected = &b + &c * shift.value;
        let residual = (&s_full * &x - &expected).norm();
        let backward = residual / (s_full.norm() * x.norm() + expected.norm());
        assert!(backward < 1e-12, "backward error {backward:e}, {shift:?}");
    }
}
