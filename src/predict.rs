//! Prediction: a saved model applied to rows, with the model's own preprocessing (its encoding,
//! its standardization and clipping, then the network). `anmin predict`, `render`, `denoise`
//! and the Python package all call this.

use crate::classify::{self, ClassMetrics};
use crate::data::{DeriveNotes, Noted, Samples, Table};
use crate::error::{DataError, Result};
use crate::metrics;
use crate::model::SavedModel;

/// Predictions for every row of a table, in order, plus metrics when the table has the
/// model's target columns.
pub struct Predictions {
    pub targets: Vec<String>,
    /// n × k.
    pub values: nalgebra::DMatrix<f64>,
    pub metrics: Option<metrics::Metrics>,
    /// A classifier's predicted classes, probabilities and, with the label column, accuracy
    /// and log loss.
    pub classes: Option<ClassPredictions>,
    /// Rows with an input clipped to the training range.
    pub clipped_rows: usize,
    /// What the rows held that training never showed (unknown categories, missing values
    /// where training had none), each answered anyway: one line each, for stderr.
    pub notes: Vec<String>,
}

/// What a classifier adds to its outputs.
pub struct ClassPredictions {
    pub labels: Vec<String>,
    /// The predicted class of each row (an index into `labels`): the largest output.
    pub predicted: Vec<usize>,
    /// n × classes: softmax(outputs / the model's temperature).
    pub probabilities: nalgebra::DMatrix<f64>,
    pub metrics: Option<ClassMetrics>,
}

impl ClassPredictions {
    /// The classes and probabilities of `model`'s `outputs`, measured against one-hot `y`.
    pub fn of(
        model: &SavedModel,
        outputs: &nalgebra::DMatrix<f64>,
        y: Option<&nalgebra::DMatrix<f64>>,
    ) -> Option<ClassPredictions> {
        let labels = model.encoding.classes.clone()?;
        let t = model.temperature?;
        Some(ClassPredictions {
            labels,
            predicted: classify::argmax_rows(outputs),
            probabilities: classify::probabilities(outputs, t),
            metrics: y.map(|y| classify::evaluate(outputs, y, t)),
        })
    }
}

/// Applies `model` to `table`.
pub fn predict_table(model: &SavedModel, table: &Table) -> Result<Predictions> {
    let (x, encode_notes) = model.encoding.encode_inputs(table)?;
    let y = model.encoding.try_encode_targets(table);
    let (values, noted) = predict_noting(model, &x, &table.source)?;
    let metrics = y.as_ref().map(|y| metrics::evaluate(&values, y));
    let classes = ClassPredictions::of(model, &values, y.as_ref());
    let mut notes: Vec<String> = encode_notes.iter().map(ToString::to_string).collect();
    notes.extend(derive_messages(model, &noted.derive, &table.source));
    Ok(Predictions {
        targets: model.encoding.targets.clone(),
        values,
        metrics,
        classes,
        clipped_rows: noted.clipped_rows,
        notes,
    })
}

/// The lines for what the model's derived features met.
pub fn derive_messages(model: &SavedModel, notes: &DeriveNotes, source: &str) -> Vec<String> {
    // Without training medians a missing value is imputed at the scaling's centre: the
    // median under robust scaling, the mean under standard scaling.
    let s = &model.standardizer;
    let median = !s.derive.fill.is_empty() || !s.smooth_clip.is_empty();
    notes.messages(&model.encoding.feature_names(), source, median)
}

/// The model's outputs (n × k) for inputs already encoded in its feature order (n × d,
/// unscaled; NaN where missing): its preprocessing (with its clipping), the constant input,
/// the network. `source` names the data in errors: a value too far out to standardize, or a
/// prediction that is not finite.
pub fn predict_encoded(
    model: &SavedModel,
    x: &nalgebra::DMatrix<f64>,
    source: &str,
) -> Result<nalgebra::DMatrix<f64>> {
    predict_noting(model, x, source).map(|(values, _)| values)
}

/// [`predict_encoded`], and how many rows had an input clipped to the training range.
pub fn predict_counting_clipped(
    model: &SavedModel,
    x: &nalgebra::DMatrix<f64>,
    source: &str,
) -> Result<(nalgebra::DMatrix<f64>, usize)> {
    predict_noting(model, x, source).map(|(values, noted)| (values, noted.clipped_rows))
}

/// [`predict_encoded`], and what the preprocessing met (see [`Samples::noting`]).
pub fn predict_noting(
    model: &SavedModel,
    x: &nalgebra::DMatrix<f64>,
    source: &str,
) -> Result<(nalgebra::DMatrix<f64>, Noted)> {
    let k = model.encoding.outputs();
    // The targets are not needed to predict; Samples carries placeholders.
    let (samples, noted) = Samples::noting(
        x,
        nalgebra::DMatrix::zeros(x.nrows(), k),
        &model.standardizer,
        &model.encoding,
        source,
    )?;
    let values = model.network().predict(&samples.x);
    if let Some(row) = values
        .row_iter()
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        // The input farthest out names the cause.
        let names = model.encoding.feature_names();
        let (column, value) = (0..x.ncols())
            .map(|c| (c, x[(row, c)]))
            .filter(|(_, v)| v.is_finite())
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap_or((0, f64::NAN));
        return Err(DataError::PredictionOverflow {
            path: source.into(),
            row: row + 1,
            input: names.get(column).cloned().unwrap_or_default(),
            value: crate::numbers::shown(value),
        }
        .into());
    }
    Ok((values, noted))
}

/// Rows per block of [`predict_in_blocks`]: large enough for efficient matrix products, small
/// enough that a block's inputs and hidden outputs take a few megabytes.
const BLOCK_ROWS: usize = 4096;

/// Predicts rows 0 … n−1 a block at a time, so that memory does not grow with n (a 4096×4096
/// grid, or every patch of a large picture): `encode(rows)` gives the encoded inputs of those
/// rows (as for [`predict_encoded`]), and `consume(rows, outputs)` receives their outputs.
pub fn predict_in_blocks(
    model: &SavedModel,
    n: usize,
    source: &str,
    mut encode: impl FnMut(std::ops::Range<usize>) -> nalgebra::DMatrix<f64>,
    mut consume: impl FnMut(std::ops::Range<usize>, nalgebra::DMatrix<f64>),
) -> Result<()> {
    for start in (0..n).step_by(BLOCK_ROWS) {
        let rows = start..(start + BLOCK_ROWS).min(n);
        let outputs = predict_encoded(model, &encode(rows.clone()), source)?;
        consume(rows, outputs);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::data::{Encoding, InputColumn, Standardizer};
    use crate::model::Network;
    use crate::rng::{Stream, seeded};

    #[test]
    fn blocks_give_the_same_predictions_as_one_batch() {
        let encoding = Encoding {
            inputs: vec![
                InputColumn::Numeric { name: "a".into() },
                InputColumn::Numeric { name: "b".into() },
            ],
            targets: vec!["y1".into(), "y2".into()],
            classes: None,
        };
        let standardizer = Standardizer {
            mean: vec![1.0, -2.0],
            scale: vec![0.5, 3.0],
            range: vec![[-1.0, 1.0], [-1.0, 1.0]],
            constant: vec![false, false],
            clip_margin: Some(0.5),
            smooth_clip: Vec::new(),
            derive: Default::default(),
        };
        let mut net = Network::random(3, 5, 2, 0.0, &mut seeded(0, Stream::Init));
        net.b = DMatrix::from_fn(2, 5, |i, j| (i + j) as f64 - 2.0);
        let model = SavedModel::new(&net, &encoding, &standardizer, serde_json::Value::Null);
        // More rows than one block, and not a multiple of it.
        let n = 2 * BLOCK_ROWS + 7;
        let x = DMatrix::from_fn(n, 2, |i, j| ((i * (j + 3)) as f64 * 0.001).sin());
        let whole = predict_encoded(&model, &x, "test").unwrap();
        let mut blocks = DMatrix::zeros(n, 2);
        let mut calls = 0;
        predict_in_blocks(
            &model,
            n,
            "test",
            |rows| x.rows(rows.start, rows.len()).into_owned(),
            |rows, outputs| {
                calls += 1;
                blocks.rows_mut(rows.start, rows.len()).copy_from(&outputs);
            },
        )
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(blocks, whole);
    }
}
