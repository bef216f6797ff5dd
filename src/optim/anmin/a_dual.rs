//! The A-step in its dual form, for wide data (fewer residuals n·k than hidden weights
//! p = h(d+1)).
//!
//! With the pattern G and the output layer fixed, the A-step minimizes
//! ‖J a − r‖² + λ‖a‖² + s‖a − a₀‖² over the stacked hidden weights a, where r_(i,c) = y_ic − b0_c, row (i, c) of
//! the Jacobian J is [B_cj g_ij x̃_iᵀ]_j, λ is the ridge penalty and s the proximal shift (see
//! [`super::a_system::solve`]). With μ = λ + s and the center c = (s/μ) a₀ this is
//! ‖J a − r‖² + μ‖a − c‖², whose minimizer is, exactly,
//!
//! ```text
//!   a = c + Jᵀ z,   (J Jᵀ + μ I) z = r − J c
//! ```
//!
//! an (n·k)-square system instead of a p-square one. J Jᵀ is never formed from J: its entry
//! ((i, c), (i', c')) is (x̃_iᵀ x̃_i') · Σ_j B_cj B_c'j g_ij g_i'j, the kernel matrix X̃ X̃ᵀ
//! (computed once per run) times G diag(B_c ∘ B_c') Gᵀ. J a₀ is B σ(A₀ x̃_i) without b0, and
//! Jᵀ z = (G ∘ (Z B))ᵀ X̃ with Z the n × k matrix of z. A step costs about k²·n²·h flops plus
//! (n·k)³/3 for Cholesky, and memory (n·k)², instead of n·p² and p².

use faer::{Mat, Par};
use nalgebra::DMatrix;

use super::a_system::{AProblem, AStep};
use crate::linalg::{Shift, gram_lower, mean_diagonal, solve_psd_shifted, view};

/// X̃ X̃ᵀ of the training inputs, which do not change during a run (both triangles).
pub struct Kernel(Mat<f64>);

impl Kernel {
    pub fn new(x: &DMatrix<f64>, par: Par) -> Kernel {
        let n = x.nrows();
        let mut k = Mat::<f64>::zeros(n, n);
        gram_lower(k.as_mut(), view(x).transpose(), false, par);
        for j in 0..n {
            for i in j + 1..n {
                k[(j, i)] = k[(i, j)];
            }
        }
        Kernel(k)
    }
}

/// Flops of a dual A-step with n samples, h hidden units and k outputs.
pub fn flops(n: usize, h: usize, k: usize) -> f64 {
    let (n, h, k) = (n as f64, h as f64, k as f64);
    k * k * n * n * h + (n * k).powi(3) / 3.0
}

/// Solves the A-step of `net` on (x, y) in the dual form; the penalty and the relative shift
/// mean what they mean for [`super::a_system::solve`], and the answer is the same. None when
/// the system is not finite.
pub fn solve(kernel: &Kernel, problem: &AProblem<'_>) -> Option<AStep> {
    let AProblem {
        net,
        x,
        y,
        penalty,
        rel_shift,
        par,
    } = *problem;
    let (n, d1) = x.shape();
    let (k, h) = net.b.shape();
    let p = h * d1;
    let big = n * k;

    let pre = x * net.a.transpose();
    let g = pre.map(|z| net.slope(z));
    // J a₀ = B σ(A₀ x̃_i): the network's output without b0.
    let ja0 = g.component_mul(&pre) * net.b.transpose();

    // The lower triangle of J Jᵀ, in blocks of n rows per output.
    let mut system = Mat::<f64>::zeros(big, big);
    for c in 0..k {
        for c2 in 0..=c {
            let weighted =
                DMatrix::from_fn(n, h, |i, j| g[(i, j)] * net.b[(c, j)] * net.b[(c2, j)]);
            let mut block = Mat::<f64>::zeros(n, n);
            faer::linalg::matmul::matmul(
                block.as_mut(),
                faer::Accum::Replace,
                view(&weighted),
                view(&g).transpose(),
                1.0,
                par,
            );
            for j in 0..n {
                // On the diagonal blocks only the lower triangle is needed.
                let first = if c == c2 { j } else { 0 };
                for i in first..n {
                    system[(c * n + i, c2 * n + j)] = block[(i, j)] * kernel.0[(i, j)];
                }
            }
        }
    }

    // The shift the primal solve would use: relative to the mean diagonal of its matrix,
    // whose trace is that of J Jᵀ plus p·λ.
    let trace: f64 = (0..big).map(|i| system[(i, i)]).sum::<f64>() + p as f64 * penalty;
    let shift = rel_shift * mean_diagonal(trace, p);
    let mu = penalty + shift;
    let toward_current = if mu > 0.0 { shift / mu } else { 1.0 };

    for i in 0..big {
        system[(i, i)] += penalty;
    }
    let mut z = Mat::<f64>::from_fn(big, 1, |row, _| {
        let (c, i) = (row / n, row % n);
        y[(i, c)] - net.b0[c] - toward_current * ja0[(i, c)]
    });
    // solve_psd_shifted adds rel × (its own mean diagonal): choose rel to add `shift`.
    let dual_scale = mean_diagonal((0..big).map(|i| system[(i, i)]).sum(), big);
    let zero = Mat::<f64>::zeros(big, 1);
    let used = solve_psd_shifted(&mut system, &mut z, shift / dual_scale, zero.as_ref(), par)?;

    // a = c + (G ∘ (Z B))ᵀ X̃.
    let z = DMatrix::from_fn(n, k, |i, c| z[(c * n + i, 0)]);
    let v = (z * &net.b).component_mul(&g);
    let a = &net.a * toward_current + v.transpose() * x;
    a.iter().all(|v| v.is_finite()).then_some(AStep {
        a,
        shift: Shift {
            value: used.value,
            escalations: used.escalations,
        },
        // The factor is of the dual system, not the p-square one chord steps need.
        factor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Network;
    use crate::optim::anmin::a_system;
    use nalgebra::DVector;

    fn problem(
        n: usize,
        d1: usize,
        h: usize,
        k: usize,
        alpha: f64,
    ) -> (Network, DMatrix<f64>, DMatrix<f64>) {
        let wave = |s: f64| s.sin() + 0.3 * (2.7 * s).cos();
        let x = DMatrix::from_fn(n, d1, |i, c| {
            if c + 1 == d1 {
                1.0
            } else {
                wave((i * d1 + c) as f64 * 0.91)
            }
        });
        let y = DMatrix::from_fn(n, k, |i, c| wave(i as f64 * 0.37 + c as f64));
        let net = Network {
            a: DMatrix::from_fn(h, d1, |j, c| wave((j * 7 + c * 3) as f64 * 1.3)),
            b: DMatrix::from_fn(k, h, |c, j| wave((c * 11 + j) as f64 * 0.53)),
            b0: DVector::from_fn(k, |c, _| 0.1 * c as f64 - 0.2),
            alpha,
        };
        (net, x, y)
    }

    #[test]
    fn dual_step_equals_the_primal_step() {
        // n·k < p: J Jᵀ is regular, the primal matrix singular but for the shift.
        for (k, alpha, penalty, rel_shift) in [
            (1, 0.0, 0.0, 1e-6),
            (1, 0.1, 0.0, 1e-6),
            (2, 0.0, 0.5, 1e-12),
            (3, 0.2, 0.05, 1e-8),
        ] {
            let (net, x, y) = problem(24, 6, 9, k, alpha);
            let primal = a_system::solve(
                a_system::assemble(&net, &x, &y, Par::Seq),
                &net.a,
                penalty,
                rel_shift,
                Par::Seq,
            )
            .expect("primal solves");
            let kernel = Kernel::new(&x, Par::Seq);
            let problem = AProblem {
                net: &net,
                x: &x,
                y: &y,
                penalty,
                rel_shift,
                par: Par::Seq,
            };
            let dual = solve(&kernel, &problem).expect("dual solves");
            let error = (&dual.a - &primal.a).amax() / primal.a.amax();
            assert!(
                error < 1e-7,
                "k {k}, alpha {alpha}, penalty {penalty}: {error:e}"
            );
            let shift_error = (dual.shift.value - primal.shift.value).abs() / primal.shift.value;
            assert!(
                shift_error < 1e-12,
                "{} vs {}",
                dual.shift.value,
                primal.shift.value
            );
        }
    }
}
