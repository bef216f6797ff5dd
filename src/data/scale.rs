//! Feature standardization with training-set statistics, robust to extreme magnitudes, and
//! the guard against inputs the training rows never showed: a feature constant on the
//! training rows maps to 0 whatever its value, and values are clipped to (a margin beyond)
//! the training range before standardizing. A ReLU network is linear outside its data, so a
//! single far-out value would otherwise move a prediction without bound.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Per-feature affine map x ↦ (x − mean) / scale, with the training range it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// [min, max] of each feature on the training rows. Empty in model files written before
    /// anmin 0.2, whose inputs are then never clipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub range: Vec<[f64; 2]>,
    /// Features constant on the training rows (to rounding): standardized to 0 for any value,
    /// since nothing about them could have been learned. Empty in older model files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constant: Vec<bool>,
    /// Values are clipped to [min − m·(max − min), max + m·(max − min)] for this margin m;
    /// None: no clipping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_margin: Option<f64>,
}

/// Standardized features, and how many rows had a value clipped to the training range.
#[derive(Debug, Clone)]
pub struct Standardized {
    pub z: DMatrix<f64>,
    pub clipped_rows: usize,
}

impl Standardizer {
    /// Statistics of each column of `x`, without clipping. A constant column gets a scale
    /// that maps it to (about) zero instead of dividing by zero, and is marked constant.
    pub fn fit(x: &DMatrix<f64>) -> Standardizer {
        let stats: Vec<ColumnStats> = x
            .column_iter()
            .map(|c| column_stats(c.as_slice()))
            .collect();
        Standardizer {
            mean: stats.iter().map(|s| s.mean).collect(),
            scale: stats.iter().map(|s| s.scale).collect(),
            range: stats.iter().map(|s| s.range).collect(),
            constant: stats.iter().map(|s| s.constant).collect(),
            clip_margin: None,
        }
    }

    /// The same map, clipping inputs to `margin` (a fraction of each feature's training
    /// range) beyond the training range; None turns clipping off.
    pub fn with_clip(mut self, margin: Option<f64>) -> Standardizer {
        self.clip_margin = margin;
        self
    }

    /// The clipping interval of feature `j`, if any.
    fn clip_bounds(&self, j: usize) -> Option<(f64, f64)> {
        let margin = self.clip_margin?;
        let [lo, hi] = *self.range.get(j)?;
        let pad = margin * (hi - lo);
        Some((lo - pad, hi + pad))
    }

    fn is_constant(&self, j: usize) -> bool {
        self.constant.get(j).copied().unwrap_or(false)
    }

    /// Standardizes `x`; Err(column index) when a value cannot be represented as an f64 after
    /// scaling.
    pub fn transform(&self, x: &DMatrix<f64>) -> Result<Standardized, usize> {
        let mut z = x.clone();
        let mut clipped = vec![false; x.nrows()];
        for (j, mut col) in z.column_iter_mut().enumerate() {
            if self.is_constant(j) {
                col.fill(0.0);
                continue;
            }
            let (m, s) = (self.mean[j], self.scale[j]);
            let bounds = self.clip_bounds(j);
            for (i, v) in col.iter_mut().enumerate() {
                if let Some((lo, hi)) = bounds {
                    if *v < lo || *v > hi {
                        *v = v.clamp(lo, hi);
                        clipped[i] = true;
                    }
                }
                // Dividing first keeps x − mean from overflowing when both are near ±f64::MAX.
                *v = *v / s - m / s;
                if !v.is_finite() {
                    return Err(j);
                }
            }
        }
        Ok(Standardized {
            z,
            clipped_rows: clipped.iter().filter(|c| **c).count(),
        })
    }

    /// True when every statistic is finite and every scale positive.
    pub fn is_valid(&self) -> bool {
        let d = self.mean.len();
        self.scale.len() == d
            && self.mean.iter().all(|m| m.is_finite())
            && self.scale.iter().all(|s| s.is_finite() && *s > 0.0)
            && (self.range.is_empty() || self.range.len() == d)
            && self
                .range
                .iter()
                .all(|[lo, hi]| lo.is_finite() && hi.is_finite() && lo <= hi)
            && (self.constant.is_empty() || self.constant.len() == d)
            && self.clip_margin.is_none_or(|m| m.is_finite() && m >= 0.0)
    }
}

struct ColumnStats {
    mean: f64,
    scale: f64,
    range: [f64; 2],
    constant: bool,
}

/// Mean, scale and range of one column, computed on values divided by their largest
/// magnitude so that sums cannot overflow even for values near ±1e308.
fn column_stats(values: &[f64]) -> ColumnStats {
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max_abs == 0.0 || values.is_empty() {
        let range = if values.is_empty() {
            [0.0, 0.0]
        } else {
            [min, max]
        };
        return ColumnStats {
            mean: 0.0,
            scale: 1.0,
            range,
            constant: true,
        };
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
    ColumnStats {
        mean: mean_u * max_abs,
        scale,
        range: [min, max],
        constant: std_u <= 1e-12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizes_to_zero_mean_unit_variance() {
        let x = DMatrix::from_column_slice(4, 2, &[1., 2., 3., 4., 10., 10., 10., 10.]);
        let s = Standardizer::fit(&x);
        let z = s.transform(&x).unwrap().z;
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
        let z = s.transform(&x).unwrap().z;
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
            let z = s.transform(&x).unwrap().z;
            assert!(
                z.iter().all(|v| v.abs() <= (n as f64).sqrt()),
                "{column:?}: {z}"
            );
        }
    }

    #[test]
    fn a_column_constant_on_the_training_rows_maps_to_zero_for_any_value() {
        // keggdirected's x8: one value on every training row, another on one test row.
        let train = DMatrix::from_column_slice(4, 2, &[-2e-5, -2e-5, -2e-5, -2e-5, 1., 2., 3., 4.]);
        for clip in [None, Some(0.0)] {
            let s = Standardizer::fit(&train).with_clip(clip);
            assert_eq!(s.constant, vec![true, false]);
            let new = DMatrix::from_column_slice(3, 2, &[0.99998, -1e300, -2e-5, 2., 2., 2.]);
            let z = s.transform(&new).unwrap();
            assert!(z.z.column(0).iter().all(|v| *v == 0.0), "{clip:?}: {}", z.z);
            // The constant column alone never counts as clipped.
            assert_eq!(z.clipped_rows, 0);
        }
    }

    #[test]
    fn clipping_bounds_values_to_the_widened_training_range() {
        let train = DMatrix::from_column_slice(3, 1, &[0.0, 5.0, 10.0]);
        let fitted = Standardizer::fit(&train);
        let new = DMatrix::from_column_slice(4, 1, &[-100.0, 3.0, 11.0, 1e6]);
        let standardize = |v: f64| (v - fitted.mean[0]) / fitted.scale[0];

        let none = fitted.clone().transform(&new).unwrap();
        assert_eq!(none.clipped_rows, 0);
        assert!((none.z[(3, 0)] - standardize(1e6)).abs() < 1e-9);

        let range = fitted.clone().with_clip(Some(0.0)).transform(&new).unwrap();
        assert_eq!(range.clipped_rows, 3);
        let expected = [
            standardize(0.0),
            standardize(3.0),
            standardize(10.0),
            standardize(10.0),
        ];
        for (got, want) in range.z.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }

        // A margin of 0.5 widens [0, 10] to [-5, 15]: 11 is inside.
        let margin = fitted.clone().with_clip(Some(0.5)).transform(&new).unwrap();
        assert_eq!(margin.clipped_rows, 2);
        assert!((margin.z[(0, 0)] - standardize(-5.0)).abs() < 1e-12);
        assert!((margin.z[(2, 0)] - standardize(11.0)).abs() < 1e-12);
        assert!((margin.z[(3, 0)] - standardize(15.0)).abs() < 1e-12);
    }

    #[test]
    fn model_files_without_ranges_still_read() {
        // A standardizer as anmin 0.1 saved it: no range, no constant flags, no clipping.
        let old: Standardizer = serde_json::from_str(r#"{"mean":[1.0],"scale":[2.0]}"#).unwrap();
        assert!(old.is_valid());
        let z = old.transform(&DMatrix::from_element(1, 1, 101.0)).unwrap();
        assert_eq!((z.z[(0, 0)], z.clipped_rows), (50.0, 0));
    }
}
