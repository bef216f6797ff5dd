//! The rows a subsampled A-step is assembled from, for tall data (n ≫ p = h(d+1)).
//!
//! Assembling the A-system costs n·p² flops. From m random rows, m a multiple of p, the system
//! is an unbiased estimate of the whole one (scaled by m/n), and its solution a direction
//! that the safeguarded line search then tries on all rows: the B-step and the loss stay
//! exact, so the true objective still never increases, and an iteration's cost stops growing
//! with n except for the O(n·h·(d+h)) forward passes and B-steps.

use rand::seq::index::sample;
use serde::Serialize;

use crate::rng::{Rng, Stream, seeded};

/// Whether the rows stay the same for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SampleMode {
    /// One sample drawn at the start: the Gram matrix can then be corrected for flipped
    /// activations instead of assembled afresh.
    Fixed,
    /// A new sample every iteration: directions from different rows.
    Fresh,
}

impl SampleMode {
    pub fn name(self) -> &'static str {
        match self {
            SampleMode::Fixed => "fixed",
            SampleMode::Fresh => "fresh",
        }
    }
}

/// Draws the rows of each A-step, reproducibly from the run's seed.
pub struct RowSample {
    n: usize,
    m: usize,
    mode: SampleMode,
    rng: Rng,
    rows: Vec<usize>,
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
        }
    }

    /// Rows per sample.
    pub fn size(&self) -> usize {
        self.m
    }

    /// The rows for the next A-step, ascending, and whether they differ from the last ones.
    pub fn next_rows(&mut self) -> (&[usize], bool) {
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
