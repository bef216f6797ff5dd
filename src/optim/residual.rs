//! The residual pass over every row: a network's squared error and, fused with it when asked,
//! the gradient of that error in the hidden weights with the activation pattern fixed.
//!
//! The sampled A-step ([`super::anmin::a_sample`]) takes that gradient on all rows as its right-hand
//! side, and the B-step ([`super::output_layer`]) ends with this pass over its fitted network
//! to get the loss exactly. The accepted trial of a line search is exactly the network the
//! next A-step starts from, so the B-step can hand it the gradient from the same pass,
//! instead of the A-step making one more pass over the data (a forward product and the
//! residuals again) for it.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use nalgebra::DMatrix;

use crate::linalg::{at_b, view, view_mut};
use crate::model::Network;
use crate::rows::{fold_row_blocks, with_scratch};

/// What one residual pass gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Residuals {
    /// Σ_i ‖y_i − B h_i − b0‖², from the residuals themselves.
    pub sse: f64,
    /// Σ_i G_i Bᵀ r_i ⊗ x̃_i as h × (d+1): minus half the gradient in A of the squared error
    /// with the pattern G of the network fixed (when asked for).
    pub gradient: Option<DMatrix<f64>>,
}

/// The residual pass of `net` on inputs `x` (with the ones column) and targets `y`, in blocks
/// of rows (in parallel when `par` allows, folded in block order: the result does not depend
/// on the thread count), with the fixed-pattern gradient when `gradient`.
pub fn pass(
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    gradient: bool,
    par: Par,
) -> Residuals {
    let (n, d1) = x.shape();
    let empty = Residuals {
        sse: 0.0,
        gradient: gradient.then(|| DMatrix::zeros(net.hidden(), d1)),
    };
    let (x, y) = (view(x), view(y));
    fold_row_blocks(
        n,
        par,
        empty,
        |start, rows| {
            block(
                net,
                x.subrows(start, rows),
                y.subrows(start, rows),
                gradient,
            )
        },
        |sum, block| {
            sum.sse += block.sse;
            if let (Some(total), Some(part)) = (&mut sum.gradient, block.gradient) {
                *total += part;
            }
        },
    )
}

/// The residual pass over one block of rows.
fn block(net: &Network, x: MatRef<'_, f64>, y: MatRef<'_, f64>, gradient: bool) -> Residuals {
    let (rows, d1) = x.shape();
    let (k, h) = net.b.shape();
    with_scratch(rows * h, |hidden| {
        net.hidden_into(x, hidden);
        // R = Y − 1 b0ᵀ − H Bᵀ.
        let mut r = Mat::from_fn(rows, k, |i, c| y[(i, c)] - net.b0[c]);
        matmul(
            r.as_mut(),
            Accum::Add,
            MatRef::from_column_major_slice(hidden, rows, h),
            view(&net.b).transpose(),
            -1.0,
            Par::Seq,
        );
        let sse = (0..k)
            .map(|c| sum_of_squares(r.col(c).try_as_col_major().expect("owned").as_slice()))
            .sum();
        let gradient = gradient.then(|| {
            // V = G ∘ (R B) in place of H. The pattern is read off H's sign: σ(z) > 0 exactly
            // when z > 0, for every slope α in [0, 1).
            debug_assert!((0.0..1.0).contains(&net.alpha));
            for (j, column) in hidden.chunks_exact_mut(rows.max(1)).enumerate() {
                if k == 1 {
                    // The general loop's sum for one output, written so that it vectorizes.
                    let b = net.b[(0, j)];
                    let r = r.col(0).try_as_col_major().expect("owned").as_slice();
                    for (v, r) in column.iter_mut().zip(r) {
                        *v = net.slope(*v) * (0.0 + r * b);
                    }
                } else {
                    for (i, v) in column.iter_mut().enumerate() {
                        let rb: f64 = (0..k).fold(0.0, |s, c| s + r[(i, c)] * net.b[(c, j)]);
                        *v = net.slope(*v) * rb;
                    }
                }
            }
            let mut g = DMatrix::zeros(h, d1);
            at_b(
                view_mut(&mut g),
                MatRef::from_column_major_slice(hidden, rows, h),
                x,
                false,
                Par::Seq,
            );
            g
        });
        Residuals { sse, gradient }
    })
}

/// Σ v² in eight interleaved partial sums: a single running sum waits on each addition's
/// latency and cannot vectorize.
pub(crate) fn sum_of_squares(v: &[f64]) -> f64 {
    lane_sum(v, |x| x * x)
}

/// Σ f(v_i) in eight interleaved partial sums (see [`sum_of_squares`]).
pub(crate) fn lane_sum(v: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0; 8];
    let chunks = v.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += f(x);
        }
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h)) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::ROW_BLOCK;
    use nalgebra::DVector;

    /// A network and data with a dead unit, a leaky slope, and `k` outputs, over three and a
    /// half blocks of rows.
    fn problem(k: usize, alpha: f64) -> (Network, DMatrix<f64>, DMatrix<f64>) {
        let n = 3 * ROW_BLOCK + ROW_BLOCK / 2;
        let x = DMatrix::from_fn(n, 3, |i, c| match c {
            0 => (i as f64 * 0.37).sin() * 3.0,
            1 => ((i * i) as f64 * 0.011).cos(),
            _ => 1.0,
        });
        let y = DMatrix::from_fn(n, k, |i, c| {
            x[(i, 0)] * (c as f64 + 0.5) + (i as f64).sqrt()
        });
        let net = Network {
            a: DMatrix::from_row_slice(
                4,
                3,
                &[
                    0.5, 1.0, -0.4, -0.2, 0.3, 0.25, 0.0, 0.0, -1.0, 0.1, -0.7, 0.1,
                ],
            ),
            b: DMatrix::from_fn(k, 4, |c, j| (c + 2 * j) as f64 * 0.3 - 0.5),
            b0: DVector::from_fn(k, |c, _| c as f64 - 0.2),
            alpha,
        };
        (net, x, y)
    }

    #[test]
    fn the_pass_gives_the_loss_and_the_fixed_pattern_gradient() {
        for (k, alpha) in [(1, 0.0), (2, 0.0), (1, 0.1), (3, 0.2)] {
            let (net, x, y) = problem(k, alpha);
            // Reference: the whole matrices at once, by the definitions.
            let z = net.pre_activations(&x);
            let g = z.map(|v| net.slope(v));
            let r = &y - net.predict(&x);
            let v = (&r * &net.b).component_mul(&g);
            let want = v.transpose() * &x;
            let got = pass(&net, &x, &y, true, Par::Seq);
            let gradient = got.gradient.expect("asked for");
            let error = (&gradient - &want).amax();
            assert!(error < 1e-12 * want.amax(), "{k}, {alpha}: {error:e}");
            let sse = r.norm_squared();
            assert!((got.sse - sse).abs() < 1e-12 * sse, "{} vs {sse}", got.sse);
            // Without the gradient: the same loss, bitwise.
            let plain = pass(&net, &x, &y, false, Par::Seq);
            assert_eq!(
                (plain.sse.to_bits(), plain.gradient),
                (got.sse.to_bits(), None)
            );
            let parallel = pass(&net, &x, &y, true, Par::rayon(2));
            assert_eq!(
                parallel.sse.to_bits(),
                got.sse.to_bits(),
                "whatever the threads"
            );
            assert_eq!(parallel.gradient, Some(gradient));
        }
    }

    #[test]
    fn lane_sums_add_every_value() {
        for n in [0, 1, 7, 8, 9, 100] {
            let v: Vec<f64> = (0..n).map(|i| i as f64 - 3.0).collect();
            let want: f64 = v.iter().map(|x| x * x).sum();
            assert_eq!(sum_of_squares(&v), want, "{n}: exact on small integers");
            assert_eq!(lane_sum(&v, |x| x), v.iter().sum::<f64>());
        }
    }
}
