//! Feature standardization with training-set statistics, robust to extreme magnitudes.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Per-feature affine map x ↦ (x − mean) / scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Statistics of each column of `x`. A constant column gets a scale that maps it to
    /// (about) zero instead of dividing by zero.
    pub fn fit(x: &DMatrix<f64>) -> Standardizer {
        let (mean, scale) = x.column_iter().map(|c| column_stats(c.as_slice())).unzip();
        Standardizer { mean, scale }
    }

    /// Standardizes `x`; Err(column index) when a value cannot be represented as an f64 after
    /// scaling.
    pub fn transform(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>, usize> {
        let mut out = x.clone();
        for (j, mut col) in out.column_iter_mut().enumerate() {
            let (m, s) = (self.mean[j], self.scale[j]);
            for v in col.iter_mut() {
                // Dividing first keeps x − mean from overflowing when both are near ±f64::MAX.
                *v = *v / s - m / s;
                if !v.is_finite() {
                    return Err(j);
                }
            }
        }
        Ok(out)
    }

    /// True when every statistic is finite and every scale positive.
    pub fn is_valid(&self) -> bool {
        self.mean.len() == self.scale.len()
            && self.mean.iter().all(|m| m.is_finite())
            && self.scale.iter().all(|s| s.is_finite() && *s > 0.0)
    }
}

/// (mean, scale) of one column, computed on values divided by their largest magnitude so
/// that sums cannot overflow even for values near ±1e308.
fn column_stats(values: &[f64]) -> (f64, f64) {
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max_abs == 0.0 || values.is_empty() {
        return (0.0, 1.0);
    }
    let n = values.len() as f64;
    let mean_u = values.iter().map(|v| v / max_abs).sum::<f64>() / n;
    let var_u = values
        .iter()
        .map(|v| (v / max_abs - mean_u).powi(2))
        .sum::<f64>()
        / n;
    let std_u = var_u.sqrt();
    // Spread at rounding level is a constant column: scale by its magnitude, so that its
    // standardized values are (about) zero rather than amplified rounding noise.
    let scale_u = if std_u > 1e-12 { std_u } else { 1.0 };
    // A spread among subnormal numbers rounds to few bits or to zero (0 and 5e-324 have a
    // standard deviation of 0 in f64). Never scale by less than the smallest normal number,
    // a power of two, so that dividing by it is exact and |z| stays within the usual bound.
    let scale = (scale_u * max_abs).max(f64::MIN_POSITIVE);
    (mean_u * max_abs, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizes_to_zero_mean_unit_variance() {
        let x = DMatrix::from_column_slice(4, 2, &[1., 2., 3., 4., 10., 10., 10., 10.]);
        let s = Standardizer::fit(&x);
        let z = s.transform(&x).unwrap();
        let col = z.column(0);
        assert!(col.mean().abs() < 1e-15);
        assert!((col.variance() - 1.0).abs() < 1e-12);
        // The constant column maps to zero, not to NaN.
        assert!(z.column(1).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn extreme_magnitudes_stay_finite() {
        let x = DMatrix::from_column_slice(3, 1, &[1e300, -1.7e308, 1.7e308]);
        let s = Standardizer::fit(&x);
        assert!(s.is_valid());
        let z = s.transform(&x).unwrap();
        assert!(z.iter().all(|v| v.is_finite()));
        assert!(z.column(0).mean().abs() < 1e-12);
    }

    #[test]
    fn subnormal_columns_standardize() {
        // The scale of [0, 5e-324] used to round to 0, and 0 / 0 made the column
        // "unrepresentable" on its own training rows.
        let tiny = f64::from_bits(1);
        for column in [
            vec![0.0, tiny],
            vec![tiny, 2.0 * tiny, 3.0 * tiny],
            vec![-1e-310, 0.0, 2.2e-308, 1.7e308],
            vec![tiny; 3],
        ] {
            let n = column.len();
            let x = DMatrix::from_column_slice(n, 1, &column);
            let s = Standardizer::fit(&x);
            assert!(s.is_valid(), "{column:?}: {s:?}");
            let z = s.transform(&x).unwrap();
            assert!(
                z.iter().all(|v| v.abs() <= (n as f64).sqrt()),
                "{column:?}: {z}"
            );
        }
    }
}
