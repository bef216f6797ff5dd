//! Passes over the samples in blocks of rows: memory O(block) instead of O(n), blocks worked on
//! in parallel, and results combined in block order, so that a pass gives bitwise the same
//! result whatever the number of threads.

use std::cell::Cell;

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
    acc: A,
    map: impl Fn(usize, usize) -> T + Sync,
    fold: impl FnMut(&mut A, T),
) -> A {
    fold_blocks(n, ROW_BLOCK, par, acc, map, fold)
}

/// [`fold_row_blocks`] with blocks of `block_rows` rows.
pub fn fold_blocks<T: Send, A>(
    n: usize,
    block_rows: usize,
    par: Par,
    mut acc: A,
    map: impl Fn(usize, usize) -> T + Sync,
    mut fold: impl FnMut(&mut A, T),
) -> A {
    let starts: Vec<usize> = (0..n).step_by(block_rows.max(1)).collect();
    let block = |&start: &usize| map(start, block_rows.min(n - start));
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

/// Runs `f` compiled for AVX2 and FMA when this CPU has them (detected at run time by pulp,
/// faer's own dispatcher, with its default features: AVX-512 would need pulp's `x86-v4`; the
/// baseline x86-64 build has only SSE2). For the element-wise loops of the passes over the data: the activation ran 7 times
/// faster (measured, h = 64). Results do not change with the instruction set: floating-point
/// operations are neither reordered nor fused by the compiler. Functions `f` calls are
/// compiled for the wider instructions only where they are inlined into it.
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

thread_local! {
    /// Each thread's buffer for [`with_scratch`].
    static SCRATCH: Cell<Vec<f64>> = const { Cell::new(Vec::new()) };
}

/// Calls `f` with a buffer of `len` values whose contents are unspecified (`f` must write
/// before it reads), reused by the thread from one block to the next. A block's hidden
/// outputs are 2 MiB at h = 64: allocated afresh for every block, their pages were faulted in
/// again each time, which cost as much as the block's forward product.
pub fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    // Taken out while in use, so that a nested call (none today) gets a buffer of its own.
    let mut buffer = SCRATCH.take();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    let result = f(&mut buffer[..len]);
    SCRATCH.set(buffer);
    result
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

    #[test]
    fn scratch_is_reused_and_nests() {
        let first = with_scratch(8, |b| {
            b.fill(1.0);
            // A nested call gets its own buffer, not the one in use.
            with_scratch(4, |inner| inner.fill(2.0));
            assert!(b.iter().all(|&v| v == 1.0));
            b.as_ptr() as usize
        });
        assert_eq!(with_scratch(8, |b| b.as_ptr() as usize), first);
        assert_eq!(with_scratch(3, |b| b.len()), 3);
    }
}
