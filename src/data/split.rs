//! Random train/test splits, reproducible from a seed.

use rand::seq::SliceRandom;

use crate::rng::{Stream, seeded};

/// Row indices of the training, validation and test sets, each in ascending order.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    /// Empty unless a validation fraction was asked for.
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Shuffles 0..n with `seed` and puts round(n · test_frac) rows (at least one when
/// test_frac > 0) in the test set. Err explains why n rows are too few.
pub fn random_split(n: usize, test_frac: f64, seed: u64) -> Result<Split, String> {
    random_split_stream(n, test_frac, seed, Stream::Split)
}

/// The rows of `n` that a fraction `frac` holds out: round(n · frac), at least one when
/// `frac` > 0.
pub fn held_out_rows(n: usize, frac: f64) -> usize {
    if frac > 0.0 {
        ((n as f64 * frac).round() as usize).max(1)
    } else {
        0
    }
}

/// [`random_split`] drawing from another of the seed's streams.
pub fn random_split_stream(
    n: usize,
    test_frac: f64,
    seed: u64,
    stream: Stream,
) -> Result<Split, String> {
    let n_test = held_out_rows(n, test_frac);
    if n_test >= n {
        return Err(format!(
            "{n} usable row(s) cannot be split into a non-empty training set and a held-out \
             fraction {test_frac}"
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut seeded(seed, stream));
    let (test, train) = order.split_at_mut(n_test);
    test.sort_unstable();
    train.sort_unstable();
    Ok(Split {
        train: train.to_vec(),
        val: Vec::new(),
        test: test.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_reproducibility() {
        let s = random_split(100, 0.2, 7).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (80, 20));
        assert_eq!(s, random_split(100, 0.2, 7).unwrap());
        assert_ne!(s, random_split(100, 0.2, 8).unwrap());
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn edge_sizes() {
        assert_eq!(random_split(5, 0.0, 0).unwrap().train.len(), 5);
        assert_eq!(random_split(2, 0.01, 0).unwrap().test.len(), 1);
        assert!(random_split(1, 0.2, 0).is_err());
        assert!(random_split(1, 0.0, 0).is_ok());
    }
}
