//! Passes over the samples in blocks of rows: memory O(block) instead of O(n), blocks worked on
//! in parallel, and results combined in block order, so that a pass gives bitwise the same
//! result whatever the number of threads.

use faer::Par;
use rayon::prelude::*;

/// Rows per block. A block of hidden outputs at h = 64 is 2 MiB.
pub const ROW_BLOCK: usize = 4096;

/// Blocks computed before their results are folded: bounds the results held at once.
const WAVE: usize = 16;

/// Splits 0..n into blocks of [`ROW_BLOCK`] rows, computes `map(start, rows)` for each (in
/// parallel when `par` allows) and folds the results into `acc` in block order.
pub fn fold_row_blocks<T: Send, A>(
    n: usize,
    par: Par,
    mut acc: A,
    map: impl Fn(usize, usize) -> T + Sync,
    mut fold: impl FnMut(&mut A, T),
) -> A {
    let starts: Vec<usize> = (0..n).step_by(ROW_BLOCK).collect();
    let block = |&start: &usize| map(start, ROW_BLOCK.min(n - start));
    for wave in starts.chunks(WAVE) {
        let results: Vec<T> = match par {
            Par::Seq => wave.iter().map(block).collect(),
            Par::Rayon(_) => wave.par_iter().map(block).collect(),
        };
        for result in results {
            fold(&mut acc, result);
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_rows_in_order() {
        for n in [0, 1, ROW_BLOCK, ROW_BLOCK + 1, WAVE * ROW_BLOCK * 2 + 7] {
            for par in [Par::Seq, Par::rayon(2)] {
                let seen = fold_row_blocks(
                    n,
                    par,
                    Vec::new(),
                    |start, rows| (start, rows),
                    |acc, b| acc.push(b),
                );
                let mut next = 0;
                for (start, rows) in seen {
                    assert_eq!(start, next);
                    assert!(rows > 0 && rows <= ROW_BLOCK);
                    next += rows;
                }
                assert_eq!(next, n);
            }
        }
    }
}
