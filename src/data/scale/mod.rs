//! Feature preprocessing fitted on the training rows, and the guard against inputs the
//! training rows never showed.
//!
//! In order: the derived features of [`Derive`] (frequency encoding, median imputation with
//! missing indicators, integer levels; each only when the data needs it), then per feature an
//! affine map x ↦ (x − centre) / scale: the mean and standard deviation (`standard`, the
//! default), or the median and interquartile range followed by the smooth clip
//! x ↦ x / √(1 + (x/3)²) (`robust`, RealMLP's default). Under `robust`, 0/1 features (one-hot
//! categories, missing indicators, integer levels) are left as they are: centring would make
//! them dense, and a 0/1 feature already has the scale of a clipped one.
//!
//! A feature constant on the training rows maps to 0 whatever its value, and values are
//! clipped to (a margin beyond) the training range before scaling. A ReLU network is linear
//! outside its data, so a single far-out value would otherwise move a prediction without
//! bound. A value still missing after the derived features (a model whose training rows had
//! none) maps to 0, the centre.

mod derive;
mod stats;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

pub use derive::{Derive, DeriveNotes, Frequencies, Levels, OneHotLevels};
use stats::{ColumnStats, column_stats, robust_centre_scale, sorted_present};

use crate::data::encode::{Encoding, FeatureKind};

/// How features are centred and scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// Mean and standard deviation of the training rows.
    #[default]
    Standard,
    /// Median and interquartile range of the training rows, then x / √(1 + (x/3)²); 0/1
    /// features as they are.
    Robust,
    /// Standard or robust, chosen by a bag's first members (`crate::train`); one network
    /// takes standard. The training layer resolves it before it scales the data it trains
    /// on; scaled as given here, it is standard.
    Auto,
}

crate::choice!(Scaling {
    Standard => ("standard", "Centre on the training mean, divide by the standard deviation"),
    Robust => ("robust", "Centre on the training median, divide by the interquartile range, then clip smoothly: x/√(1+(x/3)²) (RealMLP's default); 0/1 features as they are"),
    Auto => ("auto", "Standard or robust, whichever the bag's first members validate better on their folds (as many as a fifth of the members, the same folds and starting networks for both); standard for one network"),
});

impl Scaling {
    /// The scaling of a run of one network: `auto` takes standard.
    pub fn single(self) -> Scaling {
        match self {
            Scaling::Auto => Scaling::Standard,
            other => other,
        }
    }

    /// The scalings a run tries: both under `auto`, else the one given.
    pub fn candidates(self) -> &'static [Scaling] {
        match self {
            Scaling::Auto => &[Scaling::Standard, Scaling::Robust],
            Scaling::Standard => &[Scaling::Standard],
            Scaling::Robust => &[Scaling::Robust],
        }
    }
}

/// The preprocessing settings of a run: how features are derived and scaled, all fitted on
/// the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessSettings {
    pub scaling: Scaling,
    /// Integer-valued numeric features with 3 to this many distinct training values are also
    /// one-hot encoded (the number stays a feature too); 0 turns it off.
    pub one_hot_integers: usize,
    /// Numeric features with 3 to this many distinct training values, whole numbers or not,
    /// are also one-hot encoded (the number stays a feature too); 0 turns it off. (Data sets
    /// that were centred keep few distinct values but lose whole numbers.)
    pub one_hot_few: usize,
}

impl PreprocessSettings {
    pub fn is_default(&self) -> bool {
        *self == PreprocessSettings::default()
    }

    fn one_hot(&self) -> OneHotLevels {
        OneHotLevels {
            integers: self.one_hot_integers,
            few: self.one_hot_few,
        }
    }
}

/// The preprocessing of the encoded features: derived features, then per feature
/// x ↦ (x − mean) / scale (smoothly clipped where `smooth_clip` says), with the training
/// range it was fitted on. `mean`, `scale`, `range` and `constant` describe the features
/// after derivation.
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
    /// Features whose scaled value x becomes x / √(1 + (x/3)²) (robust scaling); empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smooth_clip: Vec<bool>,
    /// The derived features, fitted on the training rows; empty when there are none.
    #[serde(default, skip_serializing_if = "Derive::is_empty")]
    pub derive: Derive,
}

/// Standardized features, how many rows had a value clipped to the training range, and what
/// the derived features met.
#[derive(Debug, Clone)]
pub struct Standardized {
    pub z: DMatrix<f64>,
    pub clipped_rows: usize,
    pub notes: DeriveNotes,
}

/// x / √(1 + (x/3)²): the identity near 0, bounded by ±3.
pub fn smooth_clip(x: f64) -> f64 {
    let r = x / 3.0;
    // For |x| past 1e154, r² overflows: the limit is ±3.
    if r.abs() > 1e150 {
        return 3.0 * r.signum();
    }
    x / (1.0 + r * r).sqrt()
}

impl Standardizer {
    /// Statistics of each column of `x` (all numeric), standard scaling, without clipping.
    /// A constant column gets a scale that maps it to (about) zero instead of dividing by
    /// zero, and is marked constant.
    pub fn fit(x: &DMatrix<f64>) -> Standardizer {
        let kinds = vec![FeatureKind::Numeric; x.ncols()];
        Standardizer::fit_with(x, &kinds, PreprocessSettings::default())
    }

    /// The preprocessing of the encoded training rows `x`, whose features are of `kinds`
    /// (see [`Encoding::feature_kinds`]), as `settings` ask; without clipping.
    pub fn fit_with(
        x: &DMatrix<f64>,
        kinds: &[FeatureKind],
        settings: PreprocessSettings,
    ) -> Standardizer {
        let derive = Derive::fit(x, kinds, settings.one_hot());
        let derived;
        let x = if derive.is_empty() {
            x
        } else {
            derived = derive.apply(x).0;
            &derived
        };
        let mut kinds = kinds.to_vec();
        kinds.extend(derive.extra_kinds());
        let stats: Vec<ColumnStats> = x
            .column_iter()
            .map(|c| column_stats(c.as_slice()))
            .collect();
        let mut s = Standardizer {
            mean: stats.iter().map(|s| s.mean).collect(),
            scale: stats.iter().map(|s| s.scale).collect(),
            range: stats.iter().map(|s| s.range).collect(),
            constant: stats.iter().map(|s| s.constant).collect(),
            clip_margin: None,
            smooth_clip: Vec::new(),
            derive,
        };
        if settings.scaling == Scaling::Robust {
            s.smooth_clip = kinds.iter().map(|k| *k != FeatureKind::OneHot).collect();
            for (j, column) in x.column_iter().enumerate() {
                (s.mean[j], s.scale[j]) = if s.smooth_clip[j] {
                    robust_centre_scale(&sorted_present(column.iter().copied()))
                } else {
                    (0.0, 1.0)
                };
            }
        }
        s
    }

    /// The same map, clipping inputs to `margin` (a fraction of each feature's training
    /// range) beyond the training range; None turns clipping off.
    pub fn with_clip(mut self, margin: Option<f64>) -> Standardizer {
        self.clip_margin = margin;
        self
    }

    /// Number of encoded features the map takes.
    pub fn n_inputs(&self) -> usize {
        if self.derive.is_empty() {
            self.mean.len()
        } else {
            self.derive.inputs
        }
    }

    /// Number of features it gives: the network's inputs less the constant one.
    pub fn n_outputs(&self) -> usize {
        self.mean.len()
    }

    /// Names of the features it gives: the encoding's, then the derived ones.
    pub fn feature_names(&self, encoding: &Encoding) -> Vec<String> {
        let mut names = encoding.feature_names();
        let derived = self.derive.names(&names);
        names.extend(derived);
        names
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

    fn is_smooth(&self, j: usize) -> bool {
        self.smooth_clip.get(j).copied().unwrap_or(false)
    }

    /// Standardizes the encoded rows `x` (NaN where missing); Err(feature index) when a
    /// value cannot be represented as an f64 after scaling.
    pub fn transform(&self, x: &DMatrix<f64>) -> Result<Standardized, usize> {
        let (mut z, notes) = self.derive.apply(x);
        let mut clipped = vec![false; x.nrows()];
        for (j, mut col) in z.column_iter_mut().enumerate() {
            if self.is_constant(j) {
                col.fill(0.0);
                continue;
            }
            let (m, s) = (self.mean[j], self.scale[j]);
            let bounds = self.clip_bounds(j);
            let smooth = self.is_smooth(j);
            for (i, v) in col.iter_mut().enumerate() {
                if v.is_nan() {
                    // Missing, and no training median: the centre.
                    *v = 0.0;
                    continue;
                }
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
                if smooth {
                    *v = smooth_clip(*v);
                }
            }
        }
        Ok(Standardized {
            z,
            clipped_rows: clipped.iter().filter(|c| **c).count(),
            notes,
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
            && (self.smooth_clip.is_empty() || self.smooth_clip.len() == d)
            && self.clip_margin.is_none_or(|m| m.is_finite() && m >= 0.0)
            && self.derive.is_valid(d)
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

    #[test]
    fn robust_scaling_centres_on_the_median_and_clips_smoothly() {
        // Column 0: median 3, IQR 2; column 1: a one-hot feature, left as it is.
        let x = DMatrix::from_column_slice(5, 2, &[1., 2., 3., 4., 10., 0., 1., 0., 0., 1.]);
        let settings = PreprocessSettings {
            scaling: Scaling::Robust,
            ..Default::default()
        };
        let s = Standardizer::fit_with(&x, &[FeatureKind::Numeric, FeatureKind::OneHot], settings);
        assert_eq!(
            (s.mean.clone(), s.scale.clone()),
            (vec![3.0, 0.0], vec![2.0, 1.0])
        );
        assert_eq!(s.smooth_clip, vec![true, false]);
        let z = s.transform(&x).unwrap().z;
        let expected = |v: f64| {
            let u: f64 = (v - 3.0) / 2.0;
            u / (1.0 + (u / 3.0).powi(2)).sqrt()
        };
        for i in 0..5 {
            assert_eq!(z[(i, 0)], expected(x[(i, 0)]), "row {i}");
            assert_eq!(z[(i, 1)], x[(i, 1)]);
        }
        // 10 → 3.5 → 3.5 / √(1 + (3.5/3)²) ≈ 2.2778: bounded by 3.
        assert!((z[(4, 0)] - 2.27777).abs() < 1e-5, "{}", z[(4, 0)]);
        assert_eq!(smooth_clip(1e300), 3.0);
        assert_eq!(smooth_clip(-1e300), -3.0);
        assert_eq!(smooth_clip(0.0), 0.0);
        // Stored and read back.
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Standardizer>(&text).unwrap(), s);
        assert!(s.is_valid());
    }

    #[test]
    fn imputation_and_indicators_are_fitted_on_the_training_rows_only() {
        let nan = f64::NAN;
        let kinds = [FeatureKind::Numeric; 3];
        // Column 0 misses values in training, column 1 does not, column 2 only in new rows.
        let train = DMatrix::from_row_slice(
            5,
            3,
            &[1., 5., 0., nan, 6., 1., 3., 7., 2., 8., 8., 3., nan, 9., 4.],
        );
        let s = Standardizer::fit_with(&train, &kinds, PreprocessSettings::default());
        assert_eq!(s.derive.fill, vec![3.0, 7.0, 2.0]);
        assert_eq!(s.derive.indicators, vec![0]);
        assert_eq!(s.n_inputs(), 3);
        assert_eq!(s.n_outputs(), 4);
        // The indicator's statistics: 2 of 5 training rows missing.
        assert!((s.mean[3] - 0.4).abs() < 1e-15);
        // The imputed column is scaled with its imputed training values: mean of 1, 3, 3, 8, 3.
        assert!((s.mean[0] - 3.6).abs() < 1e-12);
        let new = DMatrix::from_row_slice(2, 3, &[nan, nan, nan, 100., 6., 2.]);
        let out = s.transform(&new).unwrap();
        // Row 0: every value imputed with the training medians, indicator 1.
        let expected0 = [
            (3.0 - s.mean[0]) / s.scale[0],
            (7.0 - s.mean[1]) / s.scale[1],
        ];
        assert!((out.z[(0, 0)] - expected0[0]).abs() < 1e-12);
        assert!((out.z[(0, 1)] - expected0[1]).abs() < 1e-12);
        assert!((out.z[(0, 3)] - (1.0 - 0.4) / s.scale[3]).abs() < 1e-12);
        // Columns 1 and 2 had no missing training value: reported.
        assert_eq!(out.notes.imputed, vec![(1, 1), (2, 1)]);
    }

    #[test]
    fn held_out_rows_do_not_move_the_fitted_preprocessing() {
        use crate::data::{Dataset, Layout, MatrixRef, prepare_with_validation};
        let n = 40;
        let mut x: Vec<f64> = (0..2 * n).map(|i| ((i * 7) % 11) as f64).collect();
        for r in [3, 8, 15, 22, 30] {
            x[2 * r] = f64::NAN;
        }
        for r in [6, 19, 27, 33] {
            x[2 * r + 1] = f64::NAN;
        }
        let y: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let names = |p: &str, k: usize| (0..k).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
        let data = |x: &[f64]| {
            let xm = MatrixRef {
                values: x,
                rows: n,
                cols: 2,
                layout: Layout::RowMajor,
            };
            let ym = MatrixRef {
                values: &y,
                rows: n,
                cols: 1,
                layout: Layout::RowMajor,
            };
            Dataset::from_matrix("t", (xm, &names("x", 2)), (ym, &names("y", 1))).unwrap()
        };
        let settings = PreprocessSettings {
            scaling: Scaling::Robust,
            one_hot_integers: 12,
            one_hot_few: 0,
        };
        let prepare = |d: &Dataset| prepare_with_validation(d, 0.3, 0.2, 5, Some(0.0), settings);
        let before = prepare(&data(&x)).unwrap();
        // Every held-out row (test and validation) changed: far out, or missing.
        let mut changed = x.clone();
        for (k, &row) in before
            .split
            .test
            .iter()
            .chain(&before.split.val)
            .enumerate()
        {
            changed[2 * row] = if k % 2 == 0 { 1e6 } else { f64::NAN };
            changed[2 * row + 1] = f64::NAN;
        }
        let after = prepare(&data(&changed)).unwrap();
        assert_eq!(after.split.train, before.split.train);
        assert_eq!(after.scaler, before.scaler);
        assert_eq!(after.train.x, before.train.x);
        // Indicators exactly where the training rows had missing values.
        let missing_in_training: Vec<usize> = (0..2)
            .filter(|&j| before.split.train.iter().any(|&r| x[2 * r + j].is_nan()))
            .collect();
        assert_eq!(before.scaler.derive.indicators, missing_in_training);
        assert!(!missing_in_training.is_empty());
    }

    #[test]
    fn complete_training_rows_impute_new_missing_values_at_the_centre() {
        let train = DMatrix::from_column_slice(4, 1, &[1., 2., 3., 10.]);
        for scaling in [Scaling::Standard, Scaling::Robust] {
            let settings = PreprocessSettings {
                scaling,
                ..Default::default()
            };
            let s = Standardizer::fit_with(&train, &[FeatureKind::Numeric], settings);
            // The model file is as before: nothing derived.
            assert!(s.derive.is_empty());
            let out = s.transform(&DMatrix::from_element(1, 1, f64::NAN)).unwrap();
            assert_eq!(out.z[(0, 0)], 0.0);
            assert_eq!(out.notes.imputed, vec![(0, 1)]);
        }
        let json = serde_json::to_value(Standardizer::fit(&train)).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["constant", "mean", "range", "scale"]);
    }
}
