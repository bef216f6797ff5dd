//! The transforms fitted on the training rows before scaling, each empty unless the data
//! needs it: category codes to their share of the training rows (frequency encoding), missing
//! values imputed with the training median plus a 0/1 indicator per feature that had missing
//! training values, and integer features with few distinct values one-hot encoded as well.
//! The derived features are appended after the encoded ones: indicators first, then each
//! integer feature's levels.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::stats::{quantile, sorted_present};
use crate::data::encode::FeatureKind;

/// An integer feature's one-hot levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Levels {
    /// The encoded feature.
    pub feature: usize,
    /// Its distinct training values, ascending: one 0/1 feature each.
    pub values: Vec<f64>,
}

/// A frequency-encoded feature's map from category code to share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frequencies {
    /// The encoded feature (its values are category codes).
    pub feature: usize,
    /// Share of the training rows of each code; an unknown code maps to 0.
    pub shares: Vec<f64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Which numeric features also get one-hot levels (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OneHotLevels {
    /// Integer-valued features with 3 to this many distinct training values.
    pub integers: usize,
    /// Any features with 3 to this many distinct training values.
    pub few: usize,
}

/// Everything fitted on the training rows before scaling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Derive {
    /// Number of encoded features (inputs); 0 in model files without derived features,
    /// where it is the number of scaled features.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inputs: usize,
    /// The training median of each encoded feature, imputed for its missing values. Empty
    /// when the training rows had no missing value: a missing value is then imputed at the
    /// scaling's centre (standardized 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fill: Vec<f64>,
    /// Encoded features with a missing value on the training rows: each gets a 0/1 feature
    /// (1: missing), in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Levels>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frequencies: Vec<Frequencies>,
}

/// What applying the transforms to new rows met: per encoded feature, values missing where
/// the training rows had none, and integer values the training rows did not have.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeriveNotes {
    /// (encoded feature, rows) imputed without an indicator.
    pub imputed: Vec<(usize, usize)>,
    /// (encoded feature, rows) whose integer value has no level.
    pub unseen_levels: Vec<(usize, usize)>,
}

impl DeriveNotes {
    /// One line per note for a user: `names` are the encoded features' names, `source` the
    /// data's; `median` whether missing values were imputed with training medians (else with
    /// the training mean, the centre of standard scaling).
    pub fn messages(&self, names: &[String], source: &str, median: bool) -> Vec<String> {
        let rows = |n: usize| if n == 1 { "row" } else { "rows" };
        let with = if median {
            "the training median"
        } else {
            "the training mean (standardized 0)"
        };
        let imputed = self.imputed.iter().map(|&(j, n)| {
            format!(
                "{source}: column \"{}\": {n} {} with a missing value, which the training rows \
                 never had there, imputed with {with}",
                names[j].escape_debug(),
                rows(n)
            )
        });
        let unseen = self.unseen_levels.iter().map(|&(j, n)| {
            format!(
                "{source}: column \"{}\": {n} {} with an integer value the training rows did not \
                 have, encoded as none of its levels",
                names[j].escape_debug(),
                rows(n)
            )
        });
        imputed.chain(unseen).collect()
    }
}

/// Whether every value is a whole number that f64 holds exactly.
fn is_integer(v: f64) -> bool {
    v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0
}

impl Derive {
    /// Fits the transforms on the encoded training rows `x` with features of `kinds`.
    /// Numeric features get levels when their distinct training values number 3 to
    /// `one_hot.integers` and all are whole numbers, or 3 to `one_hot.few`.
    pub fn fit(x: &DMatrix<f64>, kinds: &[FeatureKind], one_hot: OneHotLevels) -> Derive {
        let d = x.ncols();
        let mut derive = Derive {
            inputs: d,
            ..Derive::default()
        };
        let n = x.nrows().max(1) as f64;
        for (j, kind) in kinds.iter().enumerate() {
            if let FeatureKind::Code(codes) = *kind {
                let mut counts = vec![0usize; codes];
                for &c in x.column(j).iter() {
                    if c >= 0.0 && (c as usize) < codes {
                        counts[c as usize] += 1;
                    }
                }
                derive.frequencies.push(Frequencies {
                    feature: j,
                    shares: counts.iter().map(|&c| c as f64 / n).collect(),
                });
            }
        }
        let has_missing: Vec<bool> = x
            .column_iter()
            .map(|c| c.iter().any(|v| v.is_nan()))
            .collect();
        if has_missing.iter().any(|&m| m) {
            derive.fill = x
                .column_iter()
                .map(|c| quantile(&sorted_present(c.iter().copied()), 0.5).unwrap_or(0.0))
                .collect();
            derive.indicators = (0..d).filter(|&j| has_missing[j]).collect();
        }
        if one_hot.integers >= 3 || one_hot.few >= 3 {
            for (j, kind) in kinds.iter().enumerate() {
                if *kind != FeatureKind::Numeric {
                    continue;
                }
                let mut values = sorted_present(x.column(j).iter().copied());
                let integers = values.iter().all(|&v| is_integer(v));
                values.dedup();
                let n = values.len();
                if (integers && (3..=one_hot.integers).contains(&n))
                    || (3..=one_hot.few).contains(&n)
                {
                    derive.levels.push(Levels { feature: j, values });
                }
            }
        }
        // Without derived features the model file stays as before.
        if derive.fill.is_empty() && derive.levels.is_empty() && derive.frequencies.is_empty() {
            derive.inputs = 0;
        }
        derive
    }

    pub fn is_empty(&self) -> bool {
        self.inputs == 0
    }

    /// Features appended to `d` encoded ones.
    pub fn extra(&self) -> usize {
        self.indicators.len() + self.levels.iter().map(|l| l.values.len()).sum::<usize>()
    }

    /// Whether each derived feature is a 0/1 feature (all are).
    pub fn extra_kinds(&self) -> Vec<FeatureKind> {
        vec![FeatureKind::OneHot; self.extra()]
    }

    /// Names of the derived features: `name(missing)` for an indicator, `name=value` for a
    /// level; `names` are the encoded features'.
    pub fn names(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self
            .indicators
            .iter()
            .map(|&j| format!("{}(missing)", names[j]))
            .collect();
        for level in &self.levels {
            out.extend(
                level
                    .values
                    .iter()
                    .map(|v| format!("{}={v}", names[level.feature])),
            );
        }
        out
    }

    /// The encoded rows `x` (n × inputs) with the transforms applied and the derived features
    /// appended: n × (inputs + extra). A value still missing (no training medians) stays NaN.
    pub fn apply(&self, x: &DMatrix<f64>) -> (DMatrix<f64>, DeriveNotes) {
        let (n, d) = x.shape();
        let mut notes = DeriveNotes::default();
        if self.is_empty() {
            // Count the missing values only: the scaling imputes them at its centre.
            for (j, c) in x.column_iter().enumerate() {
                let missing = c.iter().filter(|v| v.is_nan()).count();
                if missing > 0 {
                    notes.imputed.push((j, missing));
                }
            }
            return (x.clone(), notes);
        }
        let mut out = x.clone().resize_horizontally(d + self.extra(), 0.0);
        for f in &self.frequencies {
            for v in out.column_mut(f.feature).iter_mut() {
                *v = if *v >= 0.0 && (*v as usize) < f.shares.len() {
                    f.shares[*v as usize]
                } else {
                    0.0
                };
            }
        }
        let mut at = d;
        for &j in &self.indicators {
            for i in 0..n {
                out[(i, at)] = if out[(i, j)].is_nan() { 1.0 } else { 0.0 };
            }
            at += 1;
        }
        for level in &self.levels {
            let mut unseen = 0;
            for i in 0..n {
                let v = out[(i, level.feature)];
                if v.is_nan() {
                    continue;
                }
                match level.values.binary_search_by(|l| l.total_cmp(&v)) {
                    Ok(k) => out[(i, at + k)] = 1.0,
                    Err(_) => unseen += 1,
                }
            }
            if unseen > 0 {
                notes.unseen_levels.push((level.feature, unseen));
            }
            at += level.values.len();
        }
        for j in 0..d {
            let missing = out.column(j).iter().filter(|v| v.is_nan()).count();
            if missing == 0 {
                continue;
            }
            if !self.indicators.contains(&j) {
                notes.imputed.push((j, missing));
            }
            if let Some(&fill) = self.fill.get(j) {
                out.column_mut(j)
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = fill);
            }
        }
        (out, notes)
    }

    /// True when the fitted values are consistent with `scaled` scaled features.
    pub fn is_valid(&self, scaled: usize) -> bool {
        if self.is_empty() {
            return self.fill.is_empty()
                && self.indicators.is_empty()
                && self.levels.is_empty()
                && self.frequencies.is_empty();
        }
        let d = self.inputs;
        let increasing = |v: &[f64]| v.windows(2).all(|w| w[0] < w[1]);
        d + self.extra() == scaled
            && (self.fill.is_empty() || self.fill.len() == d)
            && self.fill.iter().all(|v| v.is_finite())
            && self.indicators.iter().all(|&j| j < d)
            && increasing(
                &self
                    .indicators
                    .iter()
                    .map(|&j| j as f64)
                    .collect::<Vec<_>>(),
            )
            && self.levels.iter().all(|l| {
                l.feature < d && l.values.iter().all(|v| v.is_finite()) && increasing(&l.values)
            })
            && self
                .frequencies
                .iter()
                .all(|f| f.feature < d && f.shares.iter().all(|s| (0.0..=1.0).contains(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: FeatureKind = FeatureKind::Numeric;

    #[test]
    fn medians_and_indicators_come_from_the_training_rows() {
        let nan = f64::NAN;
        // Column 0 misses one value, column 1 none.
        let train = DMatrix::from_row_slice(4, 2, &[1.0, 10.0, nan, 20.0, 3.0, 30.0, 8.0, 40.0]);
        let derive = Derive::fit(&train, &[N, N], OneHotLevels::default());
        assert_eq!(derive.fill, vec![3.0, 25.0]);
        assert_eq!(derive.indicators, vec![0]);
        assert_eq!(derive.extra(), 1);
        let new = DMatrix::from_row_slice(3, 2, &[nan, 1.0, 5.0, nan, nan, nan]);
        let (out, notes) = derive.apply(&new);
        assert_eq!(out.shape(), (3, 3));
        assert_eq!(
            out.row(0).iter().copied().collect::<Vec<_>>(),
            [3.0, 1.0, 1.0]
        );
        assert_eq!(
            out.row(1).iter().copied().collect::<Vec<_>>(),
            [5.0, 25.0, 0.0]
        );
        assert_eq!(
            out.row(2).iter().copied().collect::<Vec<_>>(),
            [3.0, 25.0, 1.0]
        );
        // Column 1 never missed in training: its two imputations are reported.
        assert_eq!(notes.imputed, vec![(1, 2)]);
        // Complete training rows derive nothing.
        let complete = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        assert!(Derive::fit(&complete, &[N, N], OneHotLevels::default()).is_empty());
        assert!(Derive::fit(&complete, &[N, N], OneHotLevels::default()).is_valid(2));
    }

    #[test]
    fn integer_levels_and_frequencies() {
        let train = DMatrix::from_row_slice(
            6,
            3,
            &[
                1.0, 0.5, 0.0, 2.0, 1.0, 0.0, 3.0, 2.0, 1.0, 1.0, 3.0, 2.0, 2.0, 4.0, 2.0, 3.0,
                5.0, 2.0,
            ],
        );
        let kinds = [N, N, FeatureKind::Code(4)];
        let integers = |n| OneHotLevels {
            integers: n,
            few: 0,
        };
        let derive = Derive::fit(&train, &kinds, integers(3));
        // Column 0: integers 1, 2, 3; column 1 is not integer-valued; column 2 is codes.
        assert_eq!(
            derive.levels,
            vec![Levels {
                feature: 0,
                values: vec![1.0, 2.0, 3.0]
            }]
        );
        assert_eq!(
            derive.frequencies[0].shares,
            vec![2.0 / 6.0, 1.0 / 6.0, 3.0 / 6.0, 0.0]
        );
        // Two distinct values are too few, four too many for N = 3.
        assert!(Derive::fit(&train.columns(0, 1).into_owned(), &[N], integers(2)).is_empty());
        // Column 1 has six distinct values, not whole: levels only by their number.
        let few = Derive::fit(
            &train,
            &[N, N, N],
            OneHotLevels {
                integers: 0,
                few: 6,
            },
        );
        assert_eq!(few.levels.len(), 3);
        assert_eq!(few.levels[1].values, vec![0.5, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let new = DMatrix::from_row_slice(2, 3, &[2.0, 0.0, 1.0, 7.0, 0.0, -1.0]);
        let (out, notes) = derive.apply(&new);
        assert_eq!(
            out.row(0).iter().copied().collect::<Vec<_>>(),
            [2.0, 0.0, 1.0 / 6.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(
            out.row(1).iter().copied().collect::<Vec<_>>(),
            [7.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(notes.unseen_levels, vec![(0, 1)]);
        assert!(derive.is_valid(6));
    }
}
