//! The B-step: with the hidden layer fixed, (B, b0) is the least-squares fit of the targets on
//! [H 1], optionally with an L2 penalty on B (never on b0).

use faer::{Mat, Par};
use nalgebra::{DMatrix, DVector};

use crate::linalg::{at_b, gram_lower, solve_psd_shifted, view, view_mut};

/// A fitted output layer and its sum of squared errors on the fitting data.
#[derive(Debug, Clone)]
pub struct OutputFit {
    /// k × h.
    pub b: DMatrix<f64>,
    pub b0: DVector<f64>,
    /// Σ_i ‖y_i − B h_i − b0‖², computed from the residuals themselves.
    pub sse: f64,
}

/// Relative shift added to the unit-diagonal normal matrix: far below any meaningful
/// eigenvalue, enough to make exactly collinear hidden units (duplicates) solvable.
const NORMAL_SHIFT: f64 = 1e-13;

/// Solves min over (B, b0) of Σ_i ‖y_i − B h_i − b0‖² + `penalty`·‖B‖²_F, consuming the hidden
/// outputs `h` (n × h) as workspace.
///
/// The intercept is eliminated by centering; the centered normal equations are scaled to unit
/// diagonal and solved by Cholesky. A hidden unit whose output does not vary over the samples
/// (a dead ReLU) gets output weight 0: any weight fits equally well, and 0 is the
/// minimum-norm choice.
pub fn fit(mut h: DMatrix<f64>, y: &DMatrix<f64>, penalty: f64, par: Par) -> OutputFit {
    let (n, width) = h.shape();
    let k = y.ncols();
    let h_mean: Vec<f64> = h.column_iter().map(|c| c.mean()).collect();
    let y_mean: Vec<f64> = y.column_iter().map(|c| c.mean()).collect();
    for (mut col, m) in h.column_iter_mut().zip(&h_mean) {
        col.add_scalar_mut(-m);
    }
    let mut y_c = y.clone();
    for (mut col, m) in y_c.column_iter_mut().zip(&y_mean) {
        col.add_scalar_mut(-m);
    }

    let mut gram = Mat::<f64>::zeros(width, width);
    gram_lower(gram.as_mut(), view(&h), false, par);
    let mut rhs = Mat::<f64>::zeros(width, k);
    at_b(rhs.as_mut(), view(&h), view(&y_c), false, par);

    // Unit-diagonal scaling; columns with no variation are left out.
    let norms: Vec<f64> = (0..width).map(|j| gram[(j, j)].max(0.0).sqrt()).collect();
    let max_norm = norms.iter().fold(0.0f64, |m, v| m.max(*v));
    let active: Vec<usize> = (0..width)
        .filter(|&j| norms[j] > 1e-12 * max_norm && norms[j] > 0.0)
        .collect();
    let m = active.len();
    let mut s = Mat::<f64>::from_fn(m, m, |a, b| {
        if a >= b {
            let (i, j) = (active[a], active[b]);
            gram[(i, j)] / (norms[i] * norms[j])
        } else {
            0.0
        }
    });
    for (a, &j) in active.iter().enumerate() {
        s[(a, a)] += penalty / (norms[j] * norms[j]);
    }
    let mut gamma = Mat::<f64>::from_fn(m, k, |a, c| rhs[(active[a], c)] / norms[active[a]]);
    let zero = Mat::<f64>::zeros(m, k);
    let solved = solve_psd_shifted(&mut s, &mut gamma, NORMAL_SHIFT, zero.as_ref(), par);

    let mut b = DMatrix::zeros(k, width);
    if solved.is_some() {
        for (a, &j) in active.iter().enumerate() {
            for c in 0..k {
                b[(c, j)] = gamma[(a, c)] / norms[j];
            }
        }
    }
    let b0 = DVector::from_fn(k, |c, _| {
        y_mean[c] - (0..width).map(|j| b[(c, j)] * h_mean[j]).sum::<f64>()
    });

    // Residuals of the centered problem equal those of the original one.
    let mut resid = y_c;
    {
        let b_t = b.transpose();
        faer::linalg::matmul::matmul(
            view_mut(&mut resid),
            faer::Accum::Add,
            view(&h),
            view(&b_t),
            -1.0,
            // Sequential: faer's parallel product rounded differently from its sequential one
            // here (n × h by h × k), and results must not depend on the thread count.
            Par::Seq,
        );
    }
    let sse = if n == 0 { 0.0 } else { resid.norm_squared() };
    OutputFit { b, b0, sse }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_unit_gets_zero_weight() {
        let h = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]);
        let y = DMatrix::from_column_slice(4, 1, &[3.0, 5.0, 7.0, 9.0]);
        let fit = fit(h, &y, 0.0, Par::Seq);
        assert!((fit.b[(0, 0)] - 2.0).abs() < 1e-9);
        assert_eq!(fit.b[(0, 1)], 0.0);
        assert!((fit.b0[0] - 1.0).abs() < 1e-9);
        assert!(fit.sse < 1e-18);
    }
}
