//! The two-layer network f(x) = B σ(A [x; 1]) + b0, its forward pass and activation pattern,
//! and the saved-model file that bundles it with its preprocessing.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use nalgebra::{DMatrix, DVector};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::data::{Encoding, InputColumn, Standardizer};
use crate::error::{Error, Result};
use crate::linalg::view;
use crate::rows::{ROW_BLOCK, fold_row_blocks, vectorized};

/// Where the hidden units' kinks start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Weights and biases drawn from N(0, 1/(d+1)).
    #[default]
    Random,
    /// Weights drawn so, each bias placing the unit's kink at a random mix of training rows
    /// ([`Network::place_kinks`]).
    Data,
}

crate::choice!(Init {
    Random => ("random", "Weights and biases drawn from N(0, 1/(d+1))"),
    Data => ("data", "Random weights; each unit's kink placed at a random mix of 5 training rows"),
});

/// Training rows mixed into each unit's kink point under [`Init::Data`].
pub const KINK_POINTS: usize = 5;

/// Network parameters. Inputs are augmented samples x̃ = [x; 1], so the hidden bias is the
/// last column of `a`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// h × (d+1) hidden weights.
    pub a: DMatrix<f64>,
    /// k × h output weights.
    pub b: DMatrix<f64>,
    /// k output biases.
    pub b0: DVector<f64>,
    /// Leaky slope α ∈ [0, 1): σ(u) = u for u > 0 and α·u otherwise (α = 0 is ReLU).
    pub alpha: f64,
}

impl Network {
    /// Hidden weights drawn from N(0, 1/(d+1)), so that pre-activations of standardized
    /// inputs have about unit variance; output layer zero (a B-step fits it).
    pub fn random(
        d_aug: usize,
        hidden: usize,
        k: usize,
        alpha: f64,
        rng: &mut crate::rng::Rng,
    ) -> Self {
        let sd = (1.0 / d_aug as f64).sqrt();
        let a = DMatrix::from_fn(hidden, d_aug, |_, _| {
            sd * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
        });
        Network {
            a,
            b: DMatrix::zeros(k, hidden),
            b0: DVector::zeros(k),
            alpha,
        }
    }

    /// Moves each unit's kink onto the data (RealMLP's data-dependent bias): unit j's bias
    /// becomes −w_j·p_j, where w_j are its input weights and p_j a random convex combination
    /// of `points` training rows of `x` (n × (d+1), the last column the constant), so that
    /// the unit's hyperplane passes through p_j and splits the training rows instead of
    /// missing them. The input weights are not changed.
    pub fn place_kinks(&mut self, x: &DMatrix<f64>, points: usize, rng: &mut crate::rng::Rng) {
        use rand::RngExt;
        let (n, d_aug) = x.shape();
        if n == 0 || d_aug != self.d_aug() {
            return;
        }
        let d = d_aug - 1;
        for j in 0..self.hidden() {
            let weights: Vec<f64> = (0..points).map(|_| rng.random::<f64>() + 1e-12).collect();
            let total: f64 = weights.iter().sum();
            let mut p = vec![0.0; d];
            for w in &weights {
                let row = rng.random_range(0..n);
                for (c, pc) in p.iter_mut().enumerate() {
                    *pc += w / total * x[(row, c)];
                }
            }
            let dot: f64 = (0..d).map(|c| self.a[(j, c)] * p[c]).sum();
            self.a[(j, d)] = -dot;
        }
    }

    pub fn hidden(&self) -> usize {
        self.a.nrows()
    }

    pub fn d_aug(&self) -> usize {
        self.a.ncols()
    }

    pub fn outputs(&self) -> usize {
        self.b.nrows()
    }

    /// The activation-pattern entry g for pre-activation z: 1 when z > 0, else α
    /// (the ReLU subgradient at 0 is taken as 0).
    #[inline]
    pub fn slope(&self, z: f64) -> f64 {
        if z > 0.0 { 1.0 } else { self.alpha }
    }

    /// Z = X̃ Aᵀ, n × h.
    pub fn pre_activations(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        x * self.a.transpose()
    }

    /// σ applied in place: Z becomes H = G ∘ Z.
    pub fn activate(&self, z: &mut DMatrix<f64>) {
        self.activate_slice(z.as_mut_slice());
    }

    /// σ applied in place to pre-activations stored in a slice: a plain loop, vectorized
    /// (nalgebra's `apply` was not, and cost as much as the forward product).
    pub fn activate_slice(&self, z: &mut [f64]) {
        let alpha = self.alpha;
        vectorized(move || {
            for v in z {
                *v *= if *v > 0.0 { 1.0 } else { alpha };
            }
        });
    }

    /// H = σ(X̃ Aᵀ) for the rows `x` (rows × (d+1)), written column-major into `out`
    /// (rows · h values): the kernel of the blocked passes over the data, with faer's product
    /// (faster than nalgebra's at this shape) and no allocation.
    pub fn hidden_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) {
        let rows = x.nrows();
        let z = MatMut::from_column_major_slice_mut(out, rows, self.hidden());
        matmul(
            z,
            Accum::Replace,
            x,
            view(&self.a).transpose(),
            1.0,
            Par::Seq,
        );
        self.activate_slice(out);
    }

    /// H = σ(X̃ Aᵀ), n × h.
    pub fn hidden_outputs(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let mut z = self.pre_activations(x);
        self.activate(&mut z);
        z
    }

    /// H Bᵀ + 1 b0ᵀ, n × k.
    pub fn output_from_hidden(&self, h: &DMatrix<f64>) -> DMatrix<f64> {
        let mut out = h * self.b.transpose();
        for (mut col, bias) in out.column_iter_mut().zip(self.b0.iter()) {
            col.add_scalar_mut(*bias);
        }
        out
    }

    /// Predictions for augmented inputs `x` (n × (d+1)), n × k.
    pub fn predict(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.predict_par(x, faer::Par::Seq)
    }

    /// [`Network::predict`] over blocks of rows, in parallel when `par` allows: the hidden
    /// outputs (n × h) are never all in memory at once.
    pub fn predict_par(&self, x: &DMatrix<f64>, par: faer::Par) -> DMatrix<f64> {
        let n = x.nrows();
        if n <= ROW_BLOCK {
            return self.output_from_hidden(&self.hidden_outputs(x));
        }
        let out = DMatrix::zeros(n, self.outputs());
        fold_row_blocks(
            n,
            par,
            out,
            |start, rows| {
                let mut z = x.rows(start, rows) * self.a.transpose();
                self.activate(&mut z);
                (start, self.output_from_hidden(&z))
            },
            |out, (start, block)| out.rows_mut(start, block.nrows()).copy_from(&block),
        )
    }

    pub fn is_finite(&self) -> bool {
        self.a
            .iter()
            .chain(self.b.iter())
            .chain(self.b0.iter())
            .all(|v| v.is_finite())
    }
}

/// The `--save-model` file: the network plus everything needed to turn a CSV row into its
/// input and the output into target units.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always "anmin-model".
    pub format: String,
    pub format_version: u32,
    pub anmin_version: String,
    pub encoding: Encoding,
    /// Standardization of the encoded features (training-set statistics).
    pub standardizer: Standardizer,
    pub alpha: f64,
    /// h rows of d+1 weights; the last weight of each row is the hidden bias.
    pub hidden_weights: Vec<Vec<f64>>,
    /// k rows of h weights.
    pub output_weights: Vec<Vec<f64>>,
    /// k biases.
    pub output_bias: Vec<f64>,
    /// Free-form record of how the model was trained.
    #[serde(default)]
    pub training: serde_json::Value,
    /// Classification: the softmax temperature of the class probabilities (the classes are
    /// `encoding.classes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
}

const MODEL_FORMAT: &str = "anmin-model";
/// The newest version this anmin reads and writes. Version 2 adds the preprocessing fitted on
/// the training rows (missing-value imputation and indicators, integer levels, frequency
/// encoding, robust scaling, a missing category); a model that uses none of it is written as
/// version 1, readable by earlier versions.
/// Version 3 adds classification (the encoding's classes, the temperature).
const MODEL_FORMAT_VERSION: u32 = 3;

/// Whether a model needs format version 2: an earlier reader would ignore its new fields
/// and predict wrongly (robust scaling) or fail on shapes.
fn needs_version_2(encoding: &Encoding, standardizer: &Standardizer) -> bool {
    let new_columns = encoding.inputs.iter().any(|input| match input {
        InputColumn::Numeric { .. } => false,
        InputColumn::Categorical { missing, .. } => *missing,
        InputColumn::Frequency { .. } => true,
    });
    new_columns || !standardizer.derive.is_empty() || !standardizer.smooth_clip.is_empty()
}

fn rows_of(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    m.row_iter().map(|r| r.iter().copied().collect()).collect()
}

impl SavedModel {
    pub fn new(
        net: &Network,
        encoding: &Encoding,
        standardizer: &Standardizer,
        training: serde_json::Value,
    ) -> SavedModel {
        SavedModel {
            format: MODEL_FORMAT.into(),
            format_version: if encoding.classes.is_some() {
                3
            } else if needs_version_2(encoding, standardizer) {
                2
            } else {
                1
            },
            anmin_version: env!("CARGO_PKG_VERSION").into(),
            encoding: encoding.clone(),
            standardizer: standardizer.clone(),
            alpha: net.alpha,
            hidden_weights: rows_of(&net.a),
            output_weights: rows_of(&net.b),
            output_bias: net.b0.iter().copied().collect(),
            training,
            temperature: None,
        }
    }

    /// Reads and checks a model file: format, shapes consistent with the encoding, and every
    /// number finite.
    pub fn load(path: &std::path::Path) -> Result<SavedModel> {
        let err = |message: String| Error::Model {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        SavedModel::from_json(&text, &path.display().to_string())
    }

    /// Parses and checks a model file's text (as [`SavedModel::load`]); `source` names it in
    /// errors.
    pub fn from_json(text: &str, source: &str) -> Result<SavedModel> {
        let err = |message: String| Error::Model {
            path: source.to_owned(),
            message,
        };
        let model: SavedModel =
            serde_json::from_str(text).map_err(|e| err(format!("not an anmin model file: {e}")))?;
        model.validate().map_err(err)?;
        Ok(model)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.format != MODEL_FORMAT || !(1..=MODEL_FORMAT_VERSION).contains(&self.format_version)
        {
            return Err(format!(
                "unsupported model format {:?} version {} (this anmin reads {MODEL_FORMAT} versions 1 to {MODEL_FORMAT_VERSION})",
                self.format, self.format_version
            ));
        }
        if let Some(classes) = &self.encoding.classes {
            let t = self.temperature.unwrap_or(f64::NAN);
            if classes.len() < 2 || self.encoding.targets.len() != 1 || !(t > 0.0 && t.is_finite())
            {
                return Err(
                    "a classifier needs one target, at least 2 classes and a positive \
                            temperature"
                        .into(),
                );
            }
        }
        let d = self.encoding.n_features();
        let k = self.encoding.outputs();
        let h = self.hidden_weights.len();
        if !self.standardizer.is_valid() || self.standardizer.n_inputs() != d {
            return Err(format!(
                "standardizer does not describe the {d} encoded features"
            ));
        }
        // The network's inputs: the scaled features (encoded and derived) and the constant.
        let d = self.standardizer.n_outputs();
        if h == 0 || self.hidden_weights.iter().any(|r| r.len() != d + 1) {
            return Err(format!(
                "hidden_weights must be h ≥ 1 rows of {} numbers",
                d + 1
            ));
        }
        if k == 0
            || self.output_weights.len() != k
            || self.output_weights.iter().any(|r| r.len() != h)
        {
            return Err(format!("output_weights must be {k} rows of {h} numbers"));
        }
        if self.output_bias.len() != k {
            return Err(format!("output_bias must have {k} numbers"));
        }
        if !(0.0..1.0).contains(&self.alpha) {
            return Err(format!("alpha {} is not in [0, 1)", self.alpha));
        }
        let all = self
            .hidden_weights
            .iter()
            .chain(&self.output_weights)
            .flatten()
            .chain(&self.output_bias);
        if all.into_iter().any(|v| !v.is_finite()) {
            return Err("a weight is not a finite number".into());
        }
        self.validate_names()?;
        validate_training(&self.training, h)
    }

    /// Input columns, features and targets each named once, and no target among the
    /// inputs: otherwise one input would be fed twice and another ignored.
    fn validate_names(&self) -> std::result::Result<(), String> {
        let inputs: Vec<&str> = self.encoding.inputs.iter().map(|c| c.name()).collect();
        let features = self.encoding.feature_names();
        let features: Vec<&str> = features.iter().map(String::as_str).collect();
        let targets: Vec<&str> = self.encoding.targets.iter().map(String::as_str).collect();
        for (what, names) in [
            ("input column", &inputs),
            ("encoded feature", &features),
            ("target", &targets),
        ] {
            if let Some(name) = first_repeated(names) {
                return Err(format!("{what} {name:?} appears twice"));
            }
        }
        if let Some(target) = targets.iter().find(|t| inputs.contains(t)) {
            return Err(format!("target {target:?} is also an input column"));
        }
        Ok(())
    }

    pub fn network(&self) -> Network {
        let matrix = |rows: &[Vec<f64>]| {
            let ncols = rows.first().map_or(0, Vec::len);
            DMatrix::from_fn(rows.len(), ncols, |i, j| rows[i][j])
        };
        Network {
            a: matrix(&self.hidden_weights),
            b: matrix(&self.output_weights),
            b0: DVector::from_vec(self.output_bias.clone()),
            alpha: self.alpha,
        }
    }
}

/// The first name that occurs twice.
fn first_repeated<'a>(names: &[&'a str]) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    names.iter().copied().find(|n| !seen.insert(*n))
}

/// The record of how a model was trained: absent, or an object whose known fields have their
/// types (`seed` a whole number from 0 to 2^64 − 1, as `--seed` takes; `bag` a divisor of
/// the hidden units, the members being stacked).
fn validate_training(
    training: &serde_json::Value,
    hidden: usize,
) -> std::result::Result<(), String> {
    use serde_json::Value;
    let fields = match training {
        Value::Null => return Ok(()),
        Value::Object(fields) => fields,
        other => {
            return Err(format!(
                "training must be an object (how the model was trained), not {}",
                json_kind(other)
            ));
        }
    };
    for (key, value) in fields {
        let ok = match key.as_str() {
            "optimizer" | "dataset" => value.is_string(),
            "iter" => value.is_u64(),
            // The members stacked: each has hidden/bag units.
            "bag" => value
                .as_u64()
                .is_some_and(|b| b >= 1 && hidden as u64 % b == 0),
            "seed" => value.is_u64() || value.is_null(),
            "train_mse" => value.is_number() || value.is_null(),
            "test_frac" => value.as_f64().is_some_and(|f| (0.0..1.0).contains(&f)),
            _ => true,
        };
        if !ok {
            let expected = match key.as_str() {
                "optimizer" | "dataset" => "a string",
                "iter" => "a whole number from 0",
                "bag" => "a whole number from 1 that divides the hidden units",
                "seed" => "a whole number from 0 to 18446744073709551615",
                "train_mse" => "a number or null",
                _ => "a number at least 0 and below 1",
            };
            return Err(format!(
                "training.{key} must be {expected}, not {}",
                crate::numbers::json_shown(value)
            ));
        }
    }
    Ok(())
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorized_activation_is_bitwise_the_scalar_one() {
        // Signed zeros, subnormals, infinities, NaN, and values around 0 and 1, in a slice
        // long enough for the vector loop and its remainder.
        let special = [
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            1e-300,
            -1e-300,
            f64::MAX,
            f64::MIN,
        ];
        let more = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1.0,
            -1.0,
            0.3,
            -0.7,
        ];
        let values: Vec<f64> = special
            .iter()
            .chain(&more)
            .copied()
            .chain((0..1000).map(|i| ((i * 7919) % 2003) as f64 / 97.0 - 10.0 + 1e-9 * i as f64))
            .collect();
        for alpha in [0.0, 0.01, 0.1, 0.3, 0.999] {
            let net = Network {
                a: DMatrix::zeros(1, 1),
                b: DMatrix::zeros(1, 1),
                b0: DVector::zeros(1),
                alpha,
            };
            for len in [values.len(), 3, 17] {
                let mut got = values[..len].to_vec();
                net.activate_slice(&mut got);
                for (v, g) in values.iter().zip(&got) {
                    let want = v * net.slope(*v);
                    assert_eq!(g.to_bits(), want.to_bits(), "{alpha}: σ({v:e})");
                }
            }
        }
    }

    #[test]
    fn forward_pass_matches_definition() {
        let net = Network {
            a: DMatrix::from_row_slice(2, 2, &[1.0, 0.0, -1.0, 0.5]),
            b: DMatrix::from_row_slice(1, 2, &[2.0, 3.0]),
            b0: DVector::from_vec(vec![0.5]),
            alpha: 0.1,
        };
        // x̃ = [2, 1]: z = (2, -1.5), σ(z) = (2, -0.15), f = 4 - 0.45 + 0.5.
        let x = DMatrix::from_row_slice(1, 2, &[2.0, 1.0]);
        let y = net.predict(&x);
        assert!((y[(0, 0)] - 4.05).abs() < 1e-12);
    }
}
