//! ΦᵀΦ in pair form, assembled over each unit's active rows.
//!
//! Block (j, l) of ΦᵀΦ is Σ_i g_ij g_il x̃_i x̃_iᵀ: a symmetric (d+1) × (d+1) matrix. So the
//! whole Gram matrix is fixed by the d1(d1+1)/2 distinct moments x̃_ia x̃_ic (a ≥ c) of each
//! pair of units j ≥ l: a "moments × pairs" matrix K with about a quarter of ΦᵀΦ's entries,
//!
//! ```text
//!   K[(a,c), (j,l)] = Σ_i g_ij g_il x̃_ia x̃_ic,   i.e.  K = Qᵀ P,
//! ```
//!
//! with Q the n × d1(d1+1)/2 moments of the rows and P_i,(j,l) = g_ij g_il. For ReLU, P is 0/1
//! and unit j's pairs need only the rows S_j where j is active: the column block of pairs
//! (j, 0..=j) is Q_{S_j}ᵀ A_{S_j, 0..=j} (A the 0/1 pattern), one GEMM per unit. That costs
//! 2·|S_j|·d1(d1+1)/2·(j+1) flops, about n·p²/4 in all when half the activations are on,
//! against n·p² for the lower triangle of the dense rank-k update: half from the symmetry of
//! the blocks, half from the pattern's zeros. Leaky ReLU (g = α off) is the ReLU K of the same
//! pattern plus terms in its diagonal pairs and Σ_i q_i, by g_j g_l = α² + α(1−α)(a_j + a_l) +
//! (1−α)² a_j a_l and a_j² = a_j.

use faer::prelude::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use nalgebra::DMatrix;

/// Distinct moments x̃_a x̃_c (a ≥ c) of d1 inputs.
pub fn moments(d1: usize) -> usize {
    d1 * (d1 + 1) / 2
}

/// Unit pairs j ≥ l of h units.
pub fn pairs(h: usize) -> usize {
    h * (h + 1) / 2
}

/// Column of pair (j, l), j ≥ l: unit j's pairs (j, 0..=j) are contiguous.
#[inline]
fn pair(j: usize, l: usize) -> usize {
    j * (j + 1) / 2 + l
}

/// Row of moment (a, c), a ≥ c.
#[inline]
fn moment(a: usize, c: usize) -> usize {
    a * (a + 1) / 2 + c
}

/// Adds unit j's pairs (j, 0..=j) for units `first`.. (`units[t]` lists the active rows of
/// unit first + t) to `k`, whose column 0 is pair (first, 0): Q_{S_j}ᵀ A_{S_j, 0..=j}, with
/// the samples' moments `q` (moments × rows) and 0/1 pattern `on` (h × rows) as columns.
fn unit_products(
    mut k: MatMut<'_, f64>,
    first: usize,
    units: &[Vec<usize>],
    q: MatRef<'_, f64>,
    on: MatRef<'_, f64>,
) {
    let rows = q.ncols();
    let mut qs = Mat::<f64>::zeros(q.nrows(), rows);
    let mut ons = Mat::<f64>::zeros(on.nrows(), rows);
    let offset = pair(first, 0);
    for (t, s) in units.iter().enumerate() {
        let (j, m) = (first + t, s.len());
        if m == 0 {
            continue;
        }
        for (r, &i) in s.iter().enumerate() {
            qs.as_mut().col_mut(r).copy_from(q.col(i));
            ons.as_mut()
                .col_mut(r)
                .subrows_mut(0, j + 1)
                .copy_from(on.col(i).subrows(0, j + 1));
        }
        faer::linalg::matmul::matmul(
            k.rb_mut().subcols_mut(pair(j, 0) - offset, j + 1),
            Accum::Add,
            qs.as_ref().subcols(0, m),
            ons.as_ref().submatrix(0, 0, j + 1, m).transpose(),
            1.0,
            Par::Seq,
        );
    }
}

/// Writes the moments of each row of `x` (rows × d1) into `q` (rows × moments(d1)).
fn fill_moments(x: MatRef<'_, f64>, mut q: MatMut<'_, f64>) {
    let d1 = x.ncols();
    for a in 0..d1 {
        for c in 0..=a {
            let col = q.rb_mut().col_mut(moment(a, c));
            for ((out, xa), xc) in col.iter_mut().zip(x.col(a).iter()).zip(x.col(c).iter()) {
                *out = xa * xc;
            }
        }
    }
}

/// ΦᵀΦ of one activation pattern as moments × pairs.
#[derive(Clone)]
pub struct PairGram {
    /// moments(d1) × pairs(h).
    k: Mat<f64>,
    /// Σ_i q_i over all rows (moments × 1): independent of the pattern.
    sums: Mat<f64>,
    d1: usize,
    h: usize,
}

impl PairGram {
    pub fn zeros(d1: usize, h: usize) -> PairGram {
        PairGram {
            k: Mat::zeros(moments(d1), pairs(h)),
            sums: Mat::zeros(moments(d1), 1),
            d1,
            h,
        }
    }

    /// Flops of the ReLU assembly for `active` (sample, unit) pairs being on, each unit j's
    /// product costing 2·|S_j|·moments·(j+1): the figure the benchmark reports.
    pub fn relu_flops(active_per_unit: &[usize], d1: usize) -> f64 {
        active_per_unit
            .iter()
            .enumerate()
            .map(|(j, &m)| 2.0 * m as f64 * moments(d1) as f64 * (j + 1) as f64)
            .sum()
    }

    /// Adds the ReLU pairs of a block of rows: `x` (rows × d1) and `active` (rows × h, 1.0
    /// where the unit is on, anything else off).
    pub fn add_relu_block(&mut self, x: MatRef<'_, f64>, active: MatRef<'_, f64>, par: Par) {
        let rows = x.nrows();
        let (nm, h) = (moments(self.d1), self.h);
        // Samples as columns (moments × rows, pattern h × rows), so that gathering a unit's
        // active samples copies whole contiguous columns.
        let mut q = Mat::<f64>::zeros(nm, rows);
        fill_moments(x, q.as_mut().transpose_mut());
        for i in 0..rows {
            for (s, v) in self
                .sums
                .as_mut()
                .col_mut(0)
                .iter_mut()
                .zip(q.col(i).iter())
            {
                *s += v;
            }
        }
        let on = Mat::<f64>::from_fn(h, rows, |j, i| f64::from(u8::from(active[(i, j)] == 1.0)));
        let units: Vec<Vec<usize>> = (0..h)
            .map(|j| (0..rows).filter(|&i| on[(j, i)] == 1.0).collect())
            .collect();
        // Each unit's pairs are one sequential product whatever the thread count, so results
        // do not depend on it; with threads, the units are split in two halves of about equal
        // work (unit j costs ∝ |S_j|·(j+1)), whose pairs are disjoint column ranges of K.
        let (q, on) = (q.as_ref(), on.as_ref());
        if matches!(par, Par::Seq) {
            unit_products(self.k.as_mut(), 0, &units, q, on);
            return;
        }
        let work: Vec<f64> = units
            .iter()
            .enumerate()
            .map(|(j, s)| (s.len() * (j + 1)) as f64)
            .collect();
        let total: f64 = work.iter().sum();
        let mut split = 0;
        let mut done = 0.0;
        while split < h && done + work[split] <= total / 2.0 {
            done += work[split];
            split += 1;
        }
        let (lo, hi) = self.k.as_mut().split_at_col_mut(pair(split, 0));
        rayon::join(
            || unit_products(lo, 0, &units[..split], q, on),
            || unit_products(hi, split, &units[split..], q, on),
        );
    }

    /// Turns the ReLU K of a pattern, once every row was added, into the K of the same pattern
    /// with slope α off.
    pub fn make_leaky(&mut self, alpha: f64) {
        if alpha == 0.0 {
            return;
        }
        let nm = moments(self.d1);
        let diag: Vec<Vec<f64>> = (0..self.h)
            .map(|j| self.k.col(pair(j, j)).iter().copied().collect())
            .collect();
        let (a2, a1, a0) = (alpha * alpha, alpha * (1.0 - alpha), (1.0 - alpha).powi(2));
        for j in 0..self.h {
            for l in 0..=j {
                let col = self.k.as_mut().col_mut(pair(j, l));
                for (m, out) in col.iter_mut().enumerate().take(nm) {
                    *out = a2 * self.sums[(m, 0)] + a1 * (diag[j][m] + diag[l][m]) + a0 * *out;
                }
            }
        }
    }

    /// Adds Φ'ᵀΦ' − ΦᵀΦ = DᵀΦ' + ΦᵀD for unit `u` flipped on `rows` (D = Φ' − Φ is nonzero only
    /// there): pairs (u, l ≤ u) get Σ_i Δ_i g'_il q_i, pairs (j ≥ u, u) get Σ_i g_ij Δ_i q_i,
    /// where Δ_i = g'_iu − g_iu. `slope_new(i, l)`, `slope_old(i, j)` are the two patterns.
    pub fn correct_unit(
        &mut self,
        u: usize,
        rows: &[usize],
        x: &DMatrix<f64>,
        slope_new: impl Fn(usize, usize) -> f64,
        slope_old: impl Fn(usize, usize) -> f64,
    ) {
        let m = rows.len();
        if m == 0 {
            return;
        }
        let (d1, h) = (self.d1, self.h);
        let xr = Mat::<f64>::from_fn(m, d1, |r, c| x[(rows[r], c)]);
        let mut w = Mat::<f64>::zeros(m, moments(d1));
        fill_moments(xr.as_ref(), w.as_mut());
        for (r, &i) in rows.iter().enumerate() {
            let change = slope_new(i, u) - slope_old(i, u);
            w.as_mut().row_mut(r).iter_mut().for_each(|v| *v *= change);
        }
        let new = Mat::<f64>::from_fn(m, u + 1, |r, l| slope_new(rows[r], l));
        let old = Mat::<f64>::from_fn(m, h - u, |r, t| slope_old(rows[r], u + t));
        faer::linalg::matmul::matmul(
            self.k.as_mut().subcols_mut(pair(u, 0), u + 1),
            Accum::Add,
            w.transpose(),
            new.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut col_part = Mat::<f64>::zeros(moments(d1), h - u);
        faer::linalg::matmul::matmul(
            col_part.as_mut(),
            Accum::Replace,
            w.transpose(),
            old.as_ref(),
            1.0,
            Par::Seq,
        );
        for t in 0..h - u {
            let dst = self.k.as_mut().col_mut(pair(u + t, u));
            for (out, add) in dst.iter_mut().zip(col_part.col(t).iter()) {
                *out += add;
            }
        }
    }

    /// The lower triangle of the p × p A-system matrix ΦᵀΦ ∘ (C ⊗ 11ᵀ), C = BᵀB (h × h).
    pub fn expand(&self, c: &DMatrix<f64>) -> Mat<f64> {
        let d1 = self.d1;
        let p = self.h * d1;
        let mut s = Mat::<f64>::zeros(p, p);
        for l in 0..self.h {
            for cc in 0..d1 {
                let col = l * d1 + cc;
                let mut out = s.as_mut().col_mut(col);
                for j in l..self.h {
                    let scale = c[(j, l)];
                    let k = self.k.col(pair(j, l));
                    let first = if j == l { cc } else { 0 };
                    for a in first..d1 {
                        let m = if a >= cc {
                            moment(a, cc)
                        } else {
                            moment(cc, a)
                        };
                        out[j * d1 + a] = scale * k[m];
                    }
                }
            }
        }
        s
    }
}
