//! Classification on the square loss: the network's k outputs, trained on one-hot targets,
//! become a predicted class (the argmax) and probabilities (a softmax of the outputs divided
//! by a temperature fitted by log loss), with the measures the run reports: accuracy and log
//! loss.
//!
//! Two classes take one output, trained on the indicator of the second class: the network of
//! two outputs on the one-hot codes would have exactly opposite residuals (the B-step fits
//! the second output as one minus the first), the same predictions for the same objective up
//! to the weight of the penalty on B, at several times the cost of each A-step. Every
//! function here reads one output z as the two outputs (1 − z, z).

use std::borrow::Cow;

use nalgebra::DMatrix;

/// The outputs (or codes) one per class: a single column z as the two columns (1 − z, z).
pub fn per_class(m: &DMatrix<f64>) -> Cow<'_, DMatrix<f64>> {
    if m.ncols() == 1 {
        Cow::Owned(DMatrix::from_fn(m.nrows(), 2, |i, j| {
            if j == 0 { 1.0 - m[(i, 0)] } else { m[(i, 0)] }
        }))
    } else {
        Cow::Borrowed(m)
    }
}

/// The class of each row of one-hot targets (or of outputs): the index of its largest value,
/// the first on ties (one column: the second class where it is above ½).
pub fn argmax_rows(m: &DMatrix<f64>) -> Vec<usize> {
    let m = per_class(m);
    (0..m.nrows())
        .map(|i| {
            let mut best = 0;
            for j in 1..m.ncols() {
                if m[(i, j)] > m[(i, best)] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// The temperature a softmax of `outputs` needs to minimize the cross-entropy with the
/// classes `labels`, smoothed as Platt smooths them: a row of class c counts for
/// (N_c + 1)/(N_c + 2) towards c and the rest evenly towards the other classes, N_c the rows
/// of class c. Without it, outputs that separate the rows perfectly (common on the training
/// rows, and on small held-out sets) would take the temperature to 0 and every later mistake
/// to an infinite log loss. The result stays within [`MIN_TEMPERATURE`],
/// [`MAX_TEMPERATURE`]; outputs that carry no information give a large one (probabilities
/// near uniform).
pub fn fit_temperature(outputs: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let outputs = &*per_class(outputs);
    let k = outputs.ncols();
    let mut counts = vec![0usize; k];
    for &l in labels {
        counts[l] += 1;
    }
    let smoothed: Vec<f64> = counts
        .iter()
        .map(|&n| (n as f64 + 1.0) / (n as f64 + 2.0))
        .collect();
    let target = Target {
        labels,
        smoothed: &smoothed,
    };
    // The loss is convex in β = 1/T; its derivative, mean(E_p[z] − E_q[z]), grows with β.
    // Newton's method, safeguarded by a bracket of the derivative's sign change.
    let (mut lo, mut hi) = (1.0 / MAX_TEMPERATURE, 1.0 / MIN_TEMPERATURE);
    if target.derivatives(outputs, lo).0 >= 0.0 {
        return MAX_TEMPERATURE;
    }
    if target.derivatives(outputs, hi).0 <= 0.0 {
        return MIN_TEMPERATURE;
    }
    let mut beta = 1.0f64.clamp(lo, hi);
    for _ in 0..60 {
        let (g, h) = target.derivatives(outputs, beta);
        if g.abs() < 1e-12 {
            break;
        }
        if g < 0.0 {
            lo = beta;
        } else {
            hi = beta;
        }
        let newton = beta - g / h;
        beta = if h > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo < 1e-10 * hi {
            break;
        }
    }
    1.0 / beta
}

/// The smallest temperature [`fit_temperature`] returns.
pub const MIN_TEMPERATURE: f64 = 1e-4;
/// The largest temperature [`fit_temperature`] returns.
pub const MAX_TEMPERATURE: f64 = 1e4;

/// The smoothed classes a temperature is fitted to.
struct Target<'a> {
    labels: &'a [usize],
    /// The weight of its own class, per class.
    smoothed: &'a [f64],
}

impl Target<'_> {
    /// The mean cross-entropy's first and second derivatives in β at `beta`.
    fn derivatives(&self, outputs: &DMatrix<f64>, beta: f64) -> (f64, f64) {
        let (n, k) = outputs.shape();
        let (mut g, mut h) = (0.0, 0.0);
        let mut p = vec![0.0; k];
        for (i, &label) in self.labels.iter().enumerate() {
            softmax_row(outputs, i, beta, &mut p);
            let mean: f64 = (0..k).map(|j| p[j] * outputs[(i, j)]).sum();
            let second: f64 = (0..k).map(|j| p[j] * outputs[(i, j)].powi(2)).sum();
            let own = self.smoothed[label];
            let others = (1.0 - own) / (k - 1).max(1) as f64;
            let row_sum: f64 = (0..k).map(|j| outputs[(i, j)]).sum();
            let expected = own * outputs[(i, label)] + others * (row_sum - outputs[(i, label)]);
            g += mean - expected;
            h += (second - mean * mean).max(0.0);
        }
        (g / n as f64, h / n as f64)
    }
}

/// Row `i` of softmax(β · outputs) into `p`.
fn softmax_row(outputs: &DMatrix<f64>, i: usize, beta: f64, p: &mut [f64]) {
    let k = outputs.ncols();
    let max = (0..k)
        .map(|j| outputs[(i, j)])
        .fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (j, pj) in p.iter_mut().enumerate() {
        *pj = (beta * (outputs[(i, j)] - max)).exp();
        sum += *pj;
    }
    for pj in p.iter_mut() {
        *pj /= sum;
    }
}

/// The class probabilities (n × k): softmax(outputs / `temperature`) row by row.
pub fn probabilities(outputs: &DMatrix<f64>, temperature: f64) -> DMatrix<f64> {
    let outputs = &*per_class(outputs);
    let (n, k) = outputs.shape();
    let mut probs = DMatrix::zeros(n, k);
    let mut p = vec![0.0; k];
    for i in 0..n {
        softmax_row(outputs, i, 1.0 / temperature, &mut p);
        for j in 0..k {
            probs[(i, j)] = p[j];
        }
    }
    probs
}

/// Accuracy and log loss of outputs on one set of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMetrics {
    /// The fraction of rows whose argmax is their class; None for no rows.
    pub accuracy: Option<f64>,
    /// Mean −log p(class) under softmax(outputs / temperature); None when not finite.
    pub log_loss: Option<f64>,
}

/// [`ClassMetrics`] of `outputs` against one-hot `y` with `temperature`.
pub fn evaluate(outputs: &DMatrix<f64>, y: &DMatrix<f64>, temperature: f64) -> ClassMetrics {
    let labels = argmax_rows(y);
    evaluate_labels(outputs, &labels, temperature)
}

/// [`evaluate`] with the classes given as indices.
pub fn evaluate_labels(outputs: &DMatrix<f64>, labels: &[usize], temperature: f64) -> ClassMetrics {
    let n = labels.len();
    if n == 0 {
        return ClassMetrics {
            accuracy: None,
            log_loss: None,
        };
    }
    let outputs = &*per_class(outputs);
    let predicted = argmax_rows(outputs);
    let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    let k = outputs.ncols();
    let beta = 1.0 / temperature;
    let mut loss = 0.0;
    for (i, &label) in labels.iter().enumerate() {
        let max = (0..k)
            .map(|j| outputs[(i, j)])
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = (0..k).map(|j| (beta * (outputs[(i, j)] - max)).exp()).sum();
        loss += sum.ln() - beta * (outputs[(i, label)] - max);
    }
    let log_loss = loss / n as f64;
    ClassMetrics {
        accuracy: Some(correct as f64 / n as f64),
        log_loss: log_loss.is_finite().then_some(log_loss),
    }
}

/// The temperature fitted on `outputs` against one-hot `y`, and the metrics with it.
pub fn fit_and_evaluate(outputs: &DMatrix<f64>, y: &DMatrix<f64>) -> (f64, ClassMetrics) {
    let labels = argmax_rows(y);
    let t = fit_temperature(outputs, &labels);
    (t, evaluate_labels(outputs, &labels, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean log loss at temperature `t`, computed directly.
    fn loss(outputs: &DMatrix<f64>, labels: &[usize], t: f64) -> f64 {
        let p = probabilities(outputs, t);
        labels
            .iter()
            .enumerate()
            .map(|(i, &l)| -p[(i, l)].ln())
            .sum::<f64>()
            / labels.len() as f64
    }

    fn noisy() -> (DMatrix<f64>, Vec<usize>) {
        // Outputs near one-hot, with some rows wrong.
        let labels: Vec<usize> = (0..40).map(|i| i % 3).collect();
        let outputs = DMatrix::from_fn(40, 3, |i, j| {
            let hit = if i % 7 == 0 {
                (labels[i] + 1) % 3
            } else {
                labels[i]
            };
            f64::from(u8::from(j == hit)) * 0.8 + 0.1 * ((i * 3 + j) as f64).sin()
        });
        (outputs, labels)
    }

    /// The smoothed cross-entropy [`fit_temperature`] minimizes, computed directly.
    fn smoothed_loss(outputs: &DMatrix<f64>, labels: &[usize], t: f64) -> f64 {
        let p = probabilities(outputs, t);
        let k = outputs.ncols();
        let n_of = |c: usize| labels.iter().filter(|&&l| l == c).count() as f64;
        let mut total = 0.0;
        for (i, &l) in labels.iter().enumerate() {
            let own = (n_of(l) + 1.0) / (n_of(l) + 2.0);
            for j in 0..k {
                let q = if j == l {
                    own
                } else {
                    (1.0 - own) / (k - 1) as f64
                };
                total -= q * p[(i, j)].ln();
            }
        }
        total / labels.len() as f64
    }

    #[test]
    fn the_fitted_temperature_minimizes_the_smoothed_cross_entropy() {
        let (outputs, labels) = noisy();
        let t = fit_temperature(&outputs, &labels);
        let at = smoothed_loss(&outputs, &labels, t);
        for f in [0.9, 0.99, 1.01, 1.1] {
            assert!(
                at <= smoothed_loss(&outputs, &labels, t * f) + 1e-12,
                "{t} {f}"
            );
        }
        let at = loss(&outputs, &labels, t);
        let m = evaluate_labels(&outputs, &labels, t);
        assert!((m.log_loss.unwrap() - at).abs() < 1e-12);
        // Rows 0, 7, 14, 21, 28, 35 point elsewhere.
        assert_eq!(m.accuracy, Some(34.0 / 40.0));
    }

    #[test]
    fn separable_outputs_keep_a_temperature_and_uninformative_ones_hit_the_bound() {
        let labels = [0, 1, 0, 1];
        let perfect = DMatrix::from_row_slice(4, 2, &[1., 0., 0., 1., 1., 0., 0., 1.]);
        // Smoothed, two rows of a class count 3/4 for it: softmax(1/T, 0) = 3/4, T = 1/ln 3.
        let t = fit_temperature(&perfect, &labels);
        assert!((t - 1.0 / 3f64.ln()).abs() < 1e-9, "{t}");
        let constant = DMatrix::from_element(4, 2, 0.5);
        assert_eq!(fit_temperature(&constant, &labels), MAX_TEMPERATURE);
        let m = evaluate_labels(&constant, &labels, MAX_TEMPERATURE);
        assert!((m.log_loss.unwrap() - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn one_output_is_two_classes() {
        let z = DMatrix::from_column_slice(4, 1, &[0.9, 0.2, 0.5, 0.6]);
        let two = DMatrix::from_fn(
            4,
            2,
            |i, j| if j == 0 { 1.0 - z[(i, 0)] } else { z[(i, 0)] },
        );
        assert_eq!(argmax_rows(&z), [1, 0, 0, 1]);
        assert_eq!(argmax_rows(&z), argmax_rows(&two));
        assert_eq!(probabilities(&z, 0.3), probabilities(&two, 0.3));
        let labels = [1, 0, 1, 0];
        assert_eq!(fit_temperature(&z, &labels), fit_temperature(&two, &labels));
        assert_eq!(
            evaluate_labels(&z, &labels, 0.3),
            evaluate_labels(&two, &labels, 0.3)
        );
    }

    #[test]
    fn probabilities_sum_to_one_and_keep_the_argmax() {
        let (outputs, _) = noisy();
        let p = probabilities(&outputs, 0.3);
        for i in 0..p.nrows() {
            assert!((p.row(i).sum() - 1.0).abs() < 1e-12);
        }
        assert_eq!(argmax_rows(&p), argmax_rows(&outputs));
    }
}
