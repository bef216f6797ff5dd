//! The B-step: with the hidden layer fixed, (B, b0) is the least-squares fit of the targets on
//! [H 1], optionally with an L2 penalty on B (never on b0).

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef, Par};
use nalgebra::{DMatrix, DVector};

use super::residual;
use crate::linalg::{at_b, gram_lower, solve_psd_shifted, view, view_mut};
use crate::model::Network;
use crate::rows::{ROW_BLOCK, fold_row_blocks, with_scratch};

/// A fitted output layer and its sum of squared errors on the fitting data.
#[derive(Debug, Clone)]
pub struct OutputFit {
    /// k × h.
    pub b: DMatrix<f64>,
    pub b0: DVector<f64>,
    /// Σ_i ‖y_i − B h_i − b0‖², computed from the residuals themselves.
    pub sse: f64,
    /// The fixed-pattern gradient at the fitted network (see [`residual::Residuals`]), when
    /// asked for.
    pub gradient: Option<DMatrix<f64>>,
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
    let n = h.nrows();
    // nalgebra's means (one running sum): the small sets this path serves keep the results
    // they had before the blocked path summed in lanes.
    let h_mean: Vec<f64> = h.column_iter().map(|c| c.mean()).collect();
    let y_mean: Vec<f64> = y.column_iter().map(|c| c.mean()).collect();
    let (moments, y_c) = Moments::centered(view_mut(&mut h), view(y), h_mean, y_mean, par);
    let (b, b0) = solve_centered(&moments, penalty, par);

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
    OutputFit {
        b,
        b0,
        sse,
        gradient: None,
    }
}

/// [`fit`] on the hidden outputs of `net` for inputs `x`, computed block by block of rows (in
/// parallel when `par` allows) so that the n × h hidden outputs are never all in memory. Up
/// to one block of rows it is exactly [`fit`]. With `gradient`, also the fixed-pattern
/// gradient at the fitted network (hidden weights of `net`, the fitted output layer): from the
/// same pass over the data as the loss when there is more than one block of rows, and always
/// bitwise equal to [`residual::pass`]'s.
pub fn fit_network(
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    penalty: f64,
    par: Par,
    gradient: bool,
) -> OutputFit {
    let n = x.nrows();
    let fitted = |b: &DMatrix<f64>, b0: &DVector<f64>| Network {
        b: b.clone(),
        b0: b0.clone(),
        ..net.clone()
    };
    if n <= ROW_BLOCK {
        let mut fit = fit(net.hidden_outputs(x), y, penalty, par);
        if gradient {
            fit.gradient = residual::pass(&fitted(&fit.b, &fit.b0), x, y, true, par).gradient;
        }
        return fit;
    }
    let (xv, yv) = (view(x), view(y));
    let moments = fold_row_blocks(
        n,
        par,
        Moments::empty(net.hidden(), y.ncols()),
        |start, rows| Moments::of_block(net, xv.subrows(start, rows), yv.subrows(start, rows)),
        Moments::merge,
    );
    let (b, b0) = solve_centered(&moments, penalty, par);
    let residuals = residual::pass(&fitted(&b, &b0), x, y, gradient, par);
    OutputFit {
        b,
        b0,
        sse: residuals.sse,
        gradient: residuals.gradient,
    }
}

/// Means and centered second moments of hidden outputs and targets over some rows.
struct Moments {
    rows: usize,
    h_mean: Vec<f64>,
    y_mean: Vec<f64>,
    /// Σ (h_i − h̄)(h_i − h̄)ᵀ, lower triangle.
    gram: Mat<f64>,
    /// Σ (h_i − h̄)(y_i − ȳ)ᵀ.
    cross: Mat<f64>,
}

impl Moments {
    fn empty(h: usize, k: usize) -> Moments {
        Moments {
            rows: 0,
            h_mean: vec![0.0; h],
            y_mean: vec![0.0; k],
            gram: Mat::zeros(h, h),
            cross: Mat::zeros(h, k),
        }
    }

    /// The moments of hidden outputs `h` and targets `y` whose column means are `h_mean` and
    /// `y_mean`, centering `h` in place; also returns the centered targets.
    fn centered(
        mut h: MatMut<'_, f64>,
        y: MatRef<'_, f64>,
        h_mean: Vec<f64>,
        y_mean: Vec<f64>,
        par: Par,
    ) -> (Moments, DMatrix<f64>) {
        let (rows, width) = h.shape();
        for (j, m) in h_mean.iter().enumerate() {
            for v in h.rb_mut().col_mut(j).iter_mut() {
                *v -= m;
            }
        }
        let y_c = DMatrix::from_fn(rows, y.ncols(), |i, c| y[(i, c)] - y_mean[c]);
        let mut gram = Mat::<f64>::zeros(width, width);
        gram_lower(gram.as_mut(), h.rb(), false, par);
        let mut cross = Mat::<f64>::zeros(width, y.ncols());
        at_b(cross.as_mut(), h.rb(), view(&y_c), false, par);
        let moments = Moments {
            rows,
            h_mean,
            y_mean,
            gram,
            cross,
        };
        (moments, y_c)
    }

    /// The moments of the hidden outputs of `net` for the block of inputs `x` and its targets
    /// `y`, in the thread's scratch buffer; the means are summed in lanes (see
    /// [`residual::lane_sum`]).
    fn of_block(net: &Network, x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Moments {
        let rows = x.nrows();
        let mean = |c: &[f64]| residual::lane_sum(c, |v| v) / rows as f64;
        with_scratch(rows * net.hidden(), |hidden| {
            net.hidden_into(x, hidden);
            let h_mean = hidden.chunks_exact(rows).map(mean).collect();
            let y_mean = (0..y.ncols())
                .map(|c| mean(y.col(c).try_as_col_major().expect("a column").as_slice()))
                .collect();
            let h = MatMut::from_column_major_slice_mut(hidden, rows, net.hidden());
            Moments::centered(h, y, h_mean, y_mean, Par::Seq).0
        })
    }

    /// Adds the rows of `other` (the pairwise update of Chan, Golub and LeVeque): centered
    /// sums of two parts add, plus the product of the differences of their means.
    fn merge(&mut self, other: Moments) {
        let (na, nb) = (self.rows as f64, other.rows as f64);
        let total = na + nb;
        let dh: Vec<f64> = (0..self.h_mean.len())
            .map(|j| other.h_mean[j] - self.h_mean[j])
            .collect();
        let dy: Vec<f64> = (0..self.y_mean.len())
            .map(|c| other.y_mean[c] - self.y_mean[c])
            .collect();
        let weight = na * nb / total;
        let h = dh.len();
        for col in 0..h {
            for row in col..h {
                self.gram[(row, col)] += other.gram[(row, col)] + weight * dh[row] * dh[col];
            }
            for (c, dy) in dy.iter().enumerate() {
                self.cross[(col, c)] += other.cross[(col, c)] + weight * dh[col] * dy;
            }
        }
        for (m, d) in self.h_mean.iter_mut().zip(&dh) {
            *m += d * nb / total;
        }
        for (m, d) in self.y_mean.iter_mut().zip(&dy) {
            *m += d * nb / total;
        }
        self.rows += other.rows;
    }
}

/// (B, b0) from the centered normal equations.
fn solve_centered(moments: &Moments, penalty: f64, par: Par) -> (DMatrix<f64>, DVector<f64>) {
    let Moments {
        h_mean,
        y_mean,
        gram,
        cross: rhs,
        ..
    } = moments;
    let (width, k) = rhs.shape();
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
    (b, b0)
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

    #[test]
    fn blocks_of_rows_give_the_one_pass_fit() {
        // Three and a half blocks of rows, with a dead unit and a large mean offset (the
        // merge of block moments must not lose the centered sums to cancellation).
        let n = 3 * ROW_BLOCK + ROW_BLOCK / 2;
        let x = DMatrix::from_fn(n, 3, |i, c| match c {
            0 => (i as f64 * 0.37).sin() * 3.0 + 100.0,
            1 => ((i * i) as f64 * 0.011).cos(),
            _ => 1.0,
        });
        let y = DMatrix::from_fn(n, 2, |i, c| {
            x[(i, 0)] * (c as f64 + 0.5) + (i as f64).sqrt()
        });
        let net = Network {
            a: DMatrix::from_row_slice(
                4,
                3,
                &[
                    0.5, 1.0, -40.0, -0.2, 0.3, 25.0, 0.0, 0.0, -1.0, 0.1, -0.7, -10.0,
                ],
            ),
            b: DMatrix::zeros(2, 4),
            b0: DVector::zeros(2),
            alpha: 0.0,
        };
        for penalty in [0.0, 10.0] {
            let one = fit(net.hidden_outputs(&x), &y, penalty, Par::Seq);
            for par in [Par::Seq, Par::rayon(2)] {
                let blocked = fit_network(&net, &x, &y, penalty, par, false);
                assert_eq!(blocked.b[(0, 2)], 0.0, "the dead unit");
                let scale = one.b.amax();
                assert!(
                    (&blocked.b - &one.b).amax() < 1e-9 * scale,
                    "{penalty}: {} vs {}",
                    blocked.b,
                    one.b
                );
                assert!((&blocked.b0 - &one.b0).amax() < 1e-9 * one.b0.amax());
                assert!((blocked.sse - one.sse).abs() < 1e-9 * one.sse);
            }
            let (seq, parallel) = (
                fit_network(&net, &x, &y, penalty, Par::Seq, false),
                fit_network(&net, &x, &y, penalty, Par::rayon(2), false),
            );
            assert_eq!(seq.b, parallel.b, "bitwise the same whatever the threads");
            assert_eq!(seq.sse.to_bits(), parallel.sse.to_bits());
            // Asked for the gradient too, the same fit, and the gradient of the residual pass
            // at the fitted network, on many blocks of rows and on one.
            for rows in [n, ROW_BLOCK / 2] {
                let (xr, yr) = (x.rows(0, rows).into_owned(), y.rows(0, rows).into_owned());
                let plain = fit_network(&net, &xr, &yr, penalty, Par::rayon(2), false);
                let with = fit_network(&net, &xr, &yr, penalty, Par::rayon(2), true);
                assert_eq!((&with.b, &with.b0), (&plain.b, &plain.b0));
                assert_eq!(with.sse.to_bits(), plain.sse.to_bits());
                let fitted = Network {
                    b: with.b.clone(),
                    b0: with.b0.clone(),
                    ..net.clone()
                };
                let pass = residual::pass(&fitted, &xr, &yr, true, Par::Seq);
                assert_eq!(with.gradient, pass.gradient, "{rows} rows");
            }
        }
    }
}
