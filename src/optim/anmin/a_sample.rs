//! The sampled A-step, for tall data (n ≫ p = h(d+1)).
//!
//! Assembling the A-system M costs n·p² flops. From m random rows, m a multiple of p, the
//! sample's system M_s is an unbiased estimate of the whole one scaled by m/n. Solving the
//! sample's own least-squares problem would give a step whose error is set by the residuals
//! of the rows left out, however close A already is; instead the right-hand side is the
//! gradient of the fixed-pattern loss on all rows, g = Σ_i G_i Bᵀ r_i ⊗ x̃_i (from the last
//! B-step's pass over the data, [`super::residual`]), and the step from the current weights
//! a₀ solves
//!
//! ```text
//!   ((n/m) M_s + λ I + μ I) Δ = g − λ a₀,   a = a₀ + Δ
//! ```
//!
//! (λ the ridge penalty, μ the proximal shift): one step of the iterative Hessian sketch
//! (Pilanci and Wainwright, 2016), whose error shrinks with the distance to the exact A-step
//! rather than with the residuals. With every row sampled it is the exact A-step. The line
//! search then tries the step on all rows: the B-step and the loss stay exact, so the true
//! objective still never increases, and an iteration's cost stops growing with n except for
//! the O(n·h·(d+h)) passes over the data.

use faer::Mat;
use nalgebra::DMatrix;
use rand::seq::index::sample;
use serde::Serialize;

use super::a_system::{self, AProblem, AStep, PatternGram};
use crate::model::Network;
use crate::optim::residual;
use crate::rng::{Rng, Stream, seeded};

/// Whether the rows stay the same for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleMode {
    /// One sample drawn at the start: the Gram matrix can then be corrected for flipped
    /// activations instead of assembled afresh. With the gradient on all rows, a fixed
    /// sample's steps still converge to the exact A-step's fixed point (it only
    /// preconditions them).
    Fixed,
    /// A new sample every iteration.
    Fresh,
}

crate::choice!(SampleMode {
    Fixed => ("fixed", "One sample drawn at the start; its Gram matrix is corrected for flipped activations"),
    Fresh => ("fresh", "A new sample every iteration"),
});

/// The sampled A-steps of a run: the rows of each, drawn reproducibly from the run's seed,
/// and the sample's Gram matrix (kept, and corrected for flipped activations, while the rows
/// stay the same).
pub struct RowSample {
    n: usize,
    m: usize,
    mode: SampleMode,
    rng: Rng,
    rows: Vec<usize>,
    gram: PatternGram,
    /// A network and its gradient on all rows, from [`RowSample::remember`].
    known: Option<(Network, DMatrix<f64>)>,
}

impl RowSample {
    /// Samples of `m` of `n` rows (all of them when m ≥ n).
    pub fn new(n: usize, m: usize, mode: SampleMode, seed: u64) -> RowSample {
        RowSample {
            n,
            m: m.min(n),
            mode,
            rng: seeded(seed, Stream::ASample),
            rows: Vec::new(),
            gram: PatternGram::empty(),
            known: None,
        }
    }

    /// Rows per sample.
    pub fn size(&self) -> usize {
        self.m
    }

    /// The rows for the next A-step, ascending, and whether they differ from the last ones.
    fn next_rows(&mut self) -> (&[usize], bool) {
        let changed = self.rows.is_empty() || (self.mode == SampleMode::Fresh && self.m < self.n);
        if changed {
            self.rows = if self.m == self.n {
                (0..self.n).collect()
            } else {
                sample(&mut self.rng, self.n, self.m).into_vec()
            };
            self.rows.sort_unstable();
        }
        (&self.rows, changed)
    }

    /// The sampled A-step of `net` on (x, y). `penalty` and `rel_shift` mean what they mean
    /// for [`a_system::solve`] on all rows.
    pub fn step(&mut self, problem: &AProblem<'_>) -> Option<AStep> {
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
        let (rows, changed) = self.next_rows();
        let (xs, ys) = (x.select_rows(rows), y.select_rows(rows));
        let scale = rows.len() as f64 / n as f64;
        if changed {
            // Other rows: the last pattern's Gram matrix says nothing about them.
            self.gram = PatternGram::empty();
        }
        // Only the sample's matrix is used; its right-hand side is not.
        let _ = self.gram.update(net, &xs, &ys, par);
        let g = match self.known.take() {
            Some((at, g)) if at == *net => g,
            _ => residual::pass(net, x, y, true, par)
                .gradient
                .expect("asked for"),
        };
        // Both sides scaled by m/n: the sample's matrix as it is, the penalty with it.
        let rhs = Mat::from_fn(d1, h, |c, j| scale * (g[(j, c)] - penalty * net.a[(j, c)]));
        let system = self.gram.system(net, rhs);
        let toward = DMatrix::zeros(h, d1);
        let step = a_system::solve(system, &toward, scale * penalty, rel_shift, par)?;
        // The factor is of the sample's system: chord steps would need the whole one's.
        Some(AStep {
            a: &net.a + step.a,
            shift: step.shift,
            factor: None,
        })
    }

    /// Keeps `gradient`, the fixed-pattern gradient at `net` on all rows of the training set
    /// this sample is of (as [`residual::pass`] gives it), for the next step if it starts from
    /// `net`: the B-step's last pass over the data computes it with the loss.
    pub fn remember(&mut self, net: &Network, gradient: DMatrix<f64>) {
        self.known = Some((net.clone(), gradient));
    }

    /// Incremental corrections of the sample's Gram matrix since its last full assembly.
    pub fn corrections(&self) -> usize {
        self.gram.corrections()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_rows_from_the_seed() {
        let mut fresh = RowSample::new(1000, 64, SampleMode::Fresh, 3);
        let first = fresh.next_rows().0.to_vec();
        assert_eq!(first.len(), 64);
        assert!(first.windows(2).all(|w| w[0] < w[1]) && first[63] < 1000);
        let (second, changed) = fresh.next_rows();
        assert!(changed && second != first);
        let mut again = RowSample::new(1000, 64, SampleMode::Fresh, 3);
        assert_eq!(again.next_rows().0, first, "the seed fixes the samples");

        let mut fixed = RowSample::new(1000, 64, SampleMode::Fixed, 3);
        assert_eq!(fixed.next_rows(), (&first[..], true));
        assert_eq!(fixed.next_rows(), (&first[..], false));
        let mut all = RowSample::new(10, 64, SampleMode::Fresh, 0);
        let every: Vec<usize> = (0..10).collect();
        assert_eq!(all.next_rows(), (&every[..], true));
        assert_eq!(
            all.next_rows(),
            (&every[..], false),
            "all rows do not change"
        );
    }
}
