//! The A-step of ANMIN (Theorem 1 of Barbu 2023): with the activation pattern G, the output
//! layer (B, b0) and the data fixed, the loss Σ_i ‖y_i − B G_i A x̃_i − b0‖² is a convex
//! quadratic in the hidden weights A. Its minimizer solves
//!
//! ```text
//!   [ Σ_i (G_i Bᵀ B G_i) ⊗ (x̃_i x̃_iᵀ) ] a = Σ_i (G_i Bᵀ (y_i − b0)) ⊗ x̃_i
//! ```
//!
//! with a the rows of A stacked. The Kronecker products are never formed: with Φ the n × h(d+1)
//! matrix whose row i is [g_i1 x̃_iᵀ, …, g_ih x̃_iᵀ], the system matrix is (ΦᵀΦ) ∘ (BᵀB ⊗ 11ᵀ)
//! and block j of the right-hand side is Σ_i g_ij (Bᵀ(y_i − b0))_j x̃_i. ΦᵀΦ is accumulated
//! over row blocks in pair form, one product per unit over its active rows
//! ([`super::pair_gram`]), so memory does not grow with n; [`dense_gram`] keeps the dense
//! rank-k update as the reference.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef, Par};
use nalgebra::DMatrix;

use super::pair_gram::{self, PairGram};
use crate::linalg::{Shift, at_b, gram_lower, solve_psd_shifted, view};
use crate::model::Network;

/// Bytes of Φ materialized at a time.
const PHI_BLOCK_BYTES: usize = 8 << 20;

/// The assembled normal equations of one A-step.
pub struct ASystem {
    /// p × p, p = h(d+1); only the lower triangle is meaningful.
    pub matrix: Mat<f64>,
    /// p × 1.
    pub rhs: Mat<f64>,
}

/// Rows of Φ per block: enough for efficient rank-k updates, few enough to bound memory.
pub(crate) fn block_rows(n: usize, p: usize) -> usize {
    (PHI_BLOCK_BYTES / (8 * p.max(1)))
        .clamp(256, 8192)
        .min(n.max(1))
}

/// Writes the activation pattern of `net` on the rows `x_blk` into `g` (rows × h): 1 where
/// the pre-activation is positive, α elsewhere.
pub(crate) fn pattern_block(
    net: &Network,
    a_t: MatRef<'_, f64>,
    x_blk: MatRef<'_, f64>,
    g: MatMut<'_, f64>,
) {
    let mut g = g;
    faer::linalg::matmul::matmul(g.rb_mut(), faer::Accum::Replace, x_blk, a_t, 1.0, Par::Seq);
    for j in 0..g.ncols() {
        for z in g.rb_mut().col_mut(j).iter_mut() {
            *z = net.slope(*z);
        }
    }
}

/// Adds this block's share of the right-hand side, X̃ᵀ (G ∘ ((Y − 1 b0ᵀ) B)), to `rhs_blocks`
/// (d1 × h: column j is block j). `work` is scratch of at least rows × h.
pub(crate) fn add_rhs_block(
    net: &Network,
    x_blk: MatRef<'_, f64>,
    y_blk: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    rhs_blocks: MatMut<'_, f64>,
    accumulate: bool,
    work: MatMut<'_, f64>,
) {
    let mut work = work;
    let rows = x_blk.nrows();
    let (k, h) = net.b.shape();
    // (Y − 1 b0ᵀ) B, one output at a time: k is small.
    let mut v = work.rb_mut().subrows_mut(0, rows);
    v.fill(0.0);
    for c in 0..k {
        let bias = net.b0[c];
        for j in 0..h {
            let b = net.b[(c, j)];
            let col = v.rb_mut().col_mut(j);
            for (out, y) in col.iter_mut().zip(y_blk.col(c).iter()) {
                *out += (y - bias) * b;
            }
        }
    }
    for j in 0..h {
        for (out, g) in v.rb_mut().col_mut(j).iter_mut().zip(g.col(j).iter()) {
            *out *= g;
        }
    }
    at_b(rhs_blocks, x_blk, v.rb(), accumulate, Par::Seq);
}

/// Streams the samples in row blocks of `nb`: computes each block's activation pattern g
/// (rows × h) for `net`, hands it to `visit(first row, x̃ rows, g)`, and accumulates the
/// right-hand side, which it returns as d1 × h blocks. The one pass every A-step makes.
pub(crate) fn pattern_pass(
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    nb: usize,
    mut visit: impl FnMut(usize, MatRef<'_, f64>, MatRef<'_, f64>),
) -> Mat<f64> {
    let (n, d1) = x.shape();
    let h = net.hidden();
    let a_t = net.a.transpose();
    let mut rhs_blocks = Mat::<f64>::zeros(d1, h);
    let mut g = Mat::<f64>::zeros(nb, h);
    let mut work = Mat::<f64>::zeros(nb, h);
    let (x_all, y_all) = (view(x), view(y));
    for (block, start) in (0..n).step_by(nb).enumerate() {
        let rows = nb.min(n - start);
        let x_blk = x_all.subrows(start, rows);
        let mut g_blk = g.as_mut().subrows_mut(0, rows);
        pattern_block(net, view(&a_t), x_blk, g_blk.rb_mut());
        visit(start, x_blk, g_blk.rb());
        add_rhs_block(
            net,
            x_blk,
            y_all.subrows(start, rows),
            g_blk.rb(),
            rhs_blocks.as_mut(),
            block > 0,
            work.as_mut(),
        );
    }
    rhs_blocks
}

/// Assembles the A-system for the pattern of `net`'s current hidden weights, its output
/// layer, and samples (x with the ones column, y).
pub fn assemble(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, par: Par) -> ASystem {
    let (gram, rhs) = PatternGram::assemble(net, x, y, par);
    gram.system(net, rhs)
}

/// ΦᵀΦ for one activation pattern (in pair form, see [`PairGram`]), kept between iterations
/// so that the next pattern's Gram matrix can be had by correcting only the samples and units
/// whose activation flipped: with D = Φ' − Φ (nonzero only in flipped entries),
///
/// ```text
///   Φ'ᵀΦ' = ΦᵀΦ + DᵀΦ' + ΦᵀD
/// ```
///
/// costs about 2·(flips)·(d+1)²/2·h flops instead of a fresh assembly. Late in a run a few
/// percent of the entries flip per iteration, so this is many times cheaper.
#[derive(Clone)]
pub struct PatternGram {
    gram: PairGram,
    /// Whether unit j is active on sample i, at index i·h + j (a sample's pattern is
    /// contiguous: corrections gather whole rows of it).
    active: Vec<bool>,
    /// Incremental corrections since the last full assembly.
    corrections: usize,
}

/// After this many incremental corrections the Gram matrix is assembled afresh, so that
/// rounding cannot accumulate.
const MAX_CORRECTIONS: usize = 16;

/// Above this fraction of flipped (sample, unit) entries a full assembly is cheaper, for up to
/// 64 hidden units. The correction's products are thin ((d+1)² × |R| by |R| × h per unit) and
/// its gathers grow with h, so for wider layers the break-even fraction falls, about as
/// √(64/h): measured at 12% for h = 64 (abalone) and 5% for h = 384 (n = 32000, d = 8).
fn max_flip_fraction(hidden: usize) -> f64 {
    0.12 * (64.0 / hidden.max(1) as f64).sqrt().min(1.0)
}

/// Bytes of the moments of a block of rows in the pair-form assembly. Each unit gathers its
/// active rows' moments from the block, so the block should stay in cache: 1 MiB assembled
/// sml's shape (3310 × 27, h = 64) in 76 ms against 102 ms with 8 MiB, and abalone's as fast.
const PAIR_BLOCK_BYTES: usize = 1 << 20;

/// Rows per block of the pair-form assembly (at least 256, so the per-unit products keep
/// long inner dimensions).
fn pair_block_rows(n: usize, d1: usize, h: usize) -> usize {
    (PAIR_BLOCK_BYTES / (8 * pair_gram::moments(d1).max(h)))
        .clamp(256, 8192)
        .min(n.max(1))
}

impl PatternGram {
    /// A Gram matrix of no pattern yet: the first [`PatternGram::update`] assembles afresh.
    pub fn empty() -> PatternGram {
        PatternGram {
            gram: PairGram::zeros(0, 0),
            active: Vec::new(),
            corrections: 0,
        }
    }

    /// The Gram matrix of `net`'s pattern on `x`, and the right-hand side for `y` (d1 × h).
    pub fn assemble(
        net: &Network,
        x: &DMatrix<f64>,
        y: &DMatrix<f64>,
        par: Par,
    ) -> (PatternGram, Mat<f64>) {
        let (n, d1) = x.shape();
        let h = net.hidden();
        let mut gram = PairGram::zeros(d1, h);
        let mut active = vec![false; n * h];
        let nb = pair_block_rows(n, d1, h);
        let rhs_blocks = pattern_pass(net, x, y, nb, |start, x_blk, g_blk| {
            for j in 0..h {
                for (i, gv) in g_blk.col(j).iter().enumerate() {
                    active[(start + i) * h + j] = *gv == 1.0;
                }
            }
            gram.add_relu_block(x_blk, g_blk, par);
        });
        gram.make_leaky(net.alpha);
        let gram = PatternGram {
            gram,
            active,
            corrections: 0,
        };
        (gram, rhs_blocks)
    }

    /// Moves to the pattern of `net` (incrementally when few entries flipped, else afresh)
    /// and returns the right-hand side for `y`.
    pub fn update(
        &mut self,
        net: &Network,
        x: &DMatrix<f64>,
        y: &DMatrix<f64>,
        par: Par,
    ) -> Mat<f64> {
        let (n, d1) = x.shape();
        let h = net.hidden();
        if self.active.len() != n * h || self.corrections >= MAX_CORRECTIONS {
            return self.reassemble(net, x, y, par);
        }
        // One pass for the new pattern, its flips, and the right-hand side.
        let mut flipped: Vec<Vec<usize>> = vec![Vec::new(); h];
        let mut new_active = vec![false; n * h];
        let rhs_blocks = pattern_pass(net, x, y, block_rows(n, h * d1), |start, _, g_blk| {
            for (j, flips) in flipped.iter_mut().enumerate() {
                for (i, gv) in g_blk.col(j).iter().enumerate() {
                    let at = (start + i) * h + j;
                    new_active[at] = *gv == 1.0;
                    if new_active[at] != self.active[at] {
                        flips.push(start + i);
                    }
                }
            }
        });
        let total: usize = flipped.iter().map(Vec::len).sum();
        if total as f64 > max_flip_fraction(h) * (n * h) as f64 {
            return self.reassemble(net, x, y, par);
        }
        let old_active = std::mem::replace(&mut self.active, new_active);
        let alpha = net.alpha;
        let slope = |on: bool| if on { 1.0 } else { alpha };
        for (u, rows) in flipped.iter().enumerate() {
            let new = &self.active;
            self.gram.correct_unit(
                u,
                rows,
                x,
                |i, l| slope(new[i * h + l]),
                |i, j| slope(old_active[i * h + j]),
            );
        }
        self.corrections += 1;
        rhs_blocks
    }

    /// Incremental corrections since the last full assembly.
    pub fn corrections(&self) -> usize {
        self.corrections
    }

    fn reassemble(
        &mut self,
        net: &Network,
        x: &DMatrix<f64>,
        y: &DMatrix<f64>,
        par: Par,
    ) -> Mat<f64> {
        let (fresh, rhs) = PatternGram::assemble(net, x, y, par);
        *self = fresh;
        rhs
    }

    /// The A-system: this Gram matrix ∘ (BᵀB ⊗ 11ᵀ) with the right-hand side `rhs_blocks`
    /// (d1 × h, as from [`PatternGram::assemble`] or [`PatternGram::update`]).
    pub fn system(&self, net: &Network, rhs_blocks: Mat<f64>) -> ASystem {
        let d1 = rhs_blocks.nrows();
        let p = net.hidden() * d1;
        let c = net.b.transpose() * &net.b;
        let s = self.gram.expand(&c);
        // rhs_blocks is d1 × h column-major, i.e. already stacked as rows of A.
        let rhs = Mat::from_fn(p, 1, |r, _| rhs_blocks[(r % d1, r / d1)]);
        ASystem { matrix: s, rhs }
    }
}

/// The lower triangle of ΦᵀΦ for `net`'s pattern by the dense symmetric rank-k update over row
/// blocks of Φ (n·p² flops): the reference the pair-form assembly is tested and benchmarked
/// against.
pub fn dense_gram(net: &Network, x: &DMatrix<f64>, y: &DMatrix<f64>, par: Par) -> Mat<f64> {
    let (n, d1) = x.shape();
    let p = net.hidden() * d1;
    let nb = block_rows(n, p);
    let mut gram = Mat::<f64>::zeros(p, p);
    let mut phi = Mat::<f64>::zeros(nb, p);
    pattern_pass(net, x, y, nb, |start, x_blk, g_blk| {
        let rows = x_blk.nrows();
        fill_phi(g_blk, x_blk, phi.as_mut().subrows_mut(0, rows));
        gram_lower(gram.as_mut(), phi.as_ref().subrows(0, rows), start > 0, par);
    });
    gram
}

/// Φ's rows for a block: column j(d+1)+c is g_·j ∘ x̃_·c.
fn fill_phi(g: MatRef<'_, f64>, x_blk: MatRef<'_, f64>, mut phi: MatMut<'_, f64>) {
    let d1 = x_blk.ncols();
    for j in 0..g.ncols() {
        for c in 0..d1 {
            let col = phi.rb_mut().col_mut(j * d1 + c);
            for ((out, g), x) in col.iter_mut().zip(g.col(j).iter()).zip(x_blk.col(c).iter()) {
                *out = g * x;
            }
        }
    }
}

/// The solved A-step: new hidden weights and how the system was regularized.
pub struct AStep {
    pub a: DMatrix<f64>,
    pub shift: Shift,
    /// The Cholesky factor of the shifted system (lower triangle), for chord steps
    /// ([`chord_direction`]); None from the matrix-free solver.
    pub factor: Option<Mat<f64>>,
}

/// One A-step's problem, the same for every solver: the network whose pattern and output
/// layer are held fixed, the training rows, the ridge weight added to the system's diagonal
/// (in the system's own units), the relative proximal shift, and the threads.
#[derive(Clone, Copy)]
pub struct AProblem<'a> {
    pub net: &'a Network,
    pub x: &'a DMatrix<f64>,
    pub y: &'a DMatrix<f64>,
    pub penalty: f64,
    pub rel_shift: f64,
    pub par: Par,
}

/// Solves `system` + `penalty`·I for the hidden weights, with a proximal shift of relative
/// size `rel_shift` toward the current weights (see [`solve_psd_shifted`]). None when the
/// system is not finite.
pub fn solve(
    mut system: ASystem,
    current: &DMatrix<f64>,
    penalty: f64,
    rel_shift: f64,
    par: Par,
) -> Option<AStep> {
    let (h, d1) = current.shape();
    let p = h * d1;
    for i in 0..p {
        system.matrix[(i, i)] += penalty;
    }
    let a_t = current.transpose();
    let center = MatRef::from_column_major_slice(a_t.as_slice(), p, 1);
    let mut sol = system.rhs;
    let shift = solve_psd_shifted(&mut system.matrix, &mut sol, rel_shift, center, par)?;
    let a = DMatrix::from_fn(h, d1, |j, c| sol[(j * d1 + c, 0)]);
    Some(AStep {
        a,
        shift,
        factor: Some(system.matrix),
    })
}

/// A chord step: the Gauss–Newton direction at `net` with the A-system matrix of an earlier
/// point, given by its Cholesky `factor` (from [`solve`], same `penalty`): δ = S⁻¹(Ψᵀr −
/// penalty·a), with r = y − f(x) and Ψ of `net`'s own pattern and output layer. It costs a
/// pass over the data (about 4·n·h·(d+1) flops) and two triangular solves, against the
/// assembly and factorization of a fresh A-step.
pub fn chord_direction(
    factor: &Mat<f64>,
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    penalty: f64,
) -> DMatrix<f64> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt;

    let (h, d1) = net.a.shape();
    let p = h * d1;
    let residual = y - net.predict(x);
    // Ψᵀr is the right-hand side of the A-system for targets r with no output bias.
    let no_bias = Network {
        b0: nalgebra::DVector::zeros(net.outputs()),
        ..net.clone()
    };
    let blocks = pattern_pass(
        &no_bias,
        x,
        &residual,
        block_rows(x.nrows(), p),
        |_, _, _| {},
    );
    let mut g = Mat::from_fn(p, 1, |r, _| {
        blocks[(r % d1, r / d1)] - penalty * net.a[(r / d1, r % d1)]
    });
    // Sequential, as in solve_psd_shifted: results must not depend on the thread count.
    let mut scratch = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(p, 1, Par::Seq));
    llt::solve::solve_in_place(
        factor.as_ref(),
        g.as_mut(),
        Par::Seq,
        MemStack::new(&mut scratch),
    );
    DMatrix::from_fn(h, d1, |j, c| g[(j * d1 + c, 0)])
}
