//! A classification run's last step: the temperature of its probabilities, fitted on rows the
//! returned network (or its members) did not train on, and the `final` entry's log losses at
//! that temperature (the saved model's).

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::bag::BagReport;
use crate::classify;
use crate::data::{Prepared, Samples};
use crate::model::Network;
use crate::optim::RunOutcome;

/// The `classification` object of the run JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// The class labels, in output order.
    pub classes: Vec<String>,
    /// The softmax temperature of the probabilities: p = softmax(outputs / temperature).
    pub temperature: f64,
    /// The rows it was fitted on: "out_of_fold" (each bag member on its own fold),
    /// "validation" (rows held out of the training rows) or "training".
    pub calibrated_on: String,
    pub n_calibration: usize,
}

/// Outputs on rows held out of training, with their one-hot classes.
pub struct HeldOut {
    outputs: DMatrix<f64>,
    y: DMatrix<f64>,
    source: &'static str,
}

impl HeldOut {
    /// `net`'s outputs on `rows` (validation rows it did not fit).
    pub fn of(net: &Network, rows: &Samples) -> Option<HeldOut> {
        rows.classify.then(|| HeldOut {
            outputs: net.predict(&rows.x),
            y: rows.y.clone(),
            source: "validation",
        })
    }

    /// A bag's members' outputs on their own folds of `train`.
    pub fn out_of_fold(bag: &BagReport, train: &Samples) -> Option<HeldOut> {
        if !train.classify || bag.out_of_fold.is_empty() {
            return None;
        }
        let rows: Vec<usize> = bag
            .out_of_fold
            .iter()
            .flat_map(|(f, _)| f.clone())
            .collect();
        let k = train.k();
        let mut outputs = DMatrix::zeros(rows.len(), k);
        let mut at = 0;
        for (_, out) in &bag.out_of_fold {
            outputs.rows_mut(at, out.nrows()).copy_from(out);
            at += out.nrows();
        }
        Some(HeldOut {
            outputs,
            y: train.y.select_rows(&rows),
            source: "out_of_fold",
        })
    }
}

/// Fits the temperature on `held_out` (else on the training rows) and sets the `final` entry's
/// log losses to the returned network's at it. None unless the run is a classification.
pub fn calibrate(
    outcome: &mut RunOutcome,
    prepared: &Prepared,
    classes: Option<&Vec<String>>,
    held_out: Option<HeldOut>,
) -> Option<ClassificationReport> {
    let classes = classes?;
    let net = &outcome.network;
    let train_out = net.predict(&prepared.train.x);
    let held_out = held_out.unwrap_or_else(|| HeldOut {
        outputs: train_out.clone(),
        y: prepared.train.y.clone(),
        source: "training",
    });
    let temperature =
        classify::fit_temperature(&held_out.outputs, &classify::argmax_rows(&held_out.y));
    let entry = &mut outcome.final_entry;
    entry.train_log_loss = classify::evaluate(&train_out, &prepared.train.y, temperature).log_loss;
    if let Some(test) = &prepared.test {
        entry.test_log_loss =
            classify::evaluate(&net.predict(&test.x), &test.y, temperature).log_loss;
    }
    Some(ClassificationReport {
        classes: classes.clone(),
        temperature,
        calibrated_on: held_out.source.into(),
        n_calibration: held_out.y.nrows(),
    })
}
