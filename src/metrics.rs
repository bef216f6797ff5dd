//! Mean squared error and coefficient of determination, overall and per output.

use nalgebra::{DMatrix, Dyn, Matrix, Storage, U1};

/// Error measures of predictions against targets on one set of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Mean over samples and outputs of the squared error; None when not finite.
    pub mse: Option<f64>,
    /// 1 − Σ SS_res / Σ SS_tot over outputs (variance-weighted, equal to the usual R² for one
    /// output); None when the targets are constant or the value is not finite.
    pub r2: Option<f64>,
    pub per_output: Vec<OutputMetrics>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputMetrics {
    pub mse: Option<f64>,
    pub r2: Option<f64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Metrics of `pred` against `y` (both n × k).
pub fn evaluate(pred: &DMatrix<f64>, y: &DMatrix<f64>) -> Metrics {
    assert_eq!(
        pred.shape(),
        y.shape(),
        "prediction and target shapes differ"
    );
    let n = y.nrows();
    let mut total_res = 0.0;
    let mut total_tot = 0.0;
    let mut per_output = Vec::with_capacity(y.ncols());
    for (p, t) in pred.column_iter().zip(y.column_iter()) {
        let ss_res: f64 = p.iter().zip(t.iter()).map(|(a, b)| (a - b).powi(2)).sum();
        let ss_tot = sum_sq_dev(&t);
        total_res += ss_res;
        total_tot += ss_tot;
        per_output.push(OutputMetrics {
            mse: finite(ss_res / n as f64),
            r2: r2_from(ss_res, ss_tot, t.iter().copied()),
        });
    }
    Metrics {
        mse: finite(total_res / (n * y.ncols()) as f64),
        r2: r2_from(total_res, total_tot, y.iter().copied()),
        per_output,
    }
}

/// Σ (v − mean)² of one column of targets.
fn sum_sq_dev<S: Storage<f64, Dyn, U1>>(t: &Matrix<f64, Dyn, U1, S>) -> f64 {
    let mean = t.mean();
    t.iter().map(|v| (v - mean).powi(2)).sum()
}

/// Whether targets with this SS_tot vary enough to divide by: not when SS_tot is zero or, for
/// targets equal up to rounding, negligible against their magnitude.
fn varies(ss_tot: f64, values: impl Iterator<Item = f64>) -> bool {
    let scale = values.fold(0.0f64, |m, v| m.max(v.abs()));
    // Compared as square roots so that huge targets cannot overflow the threshold.
    !ss_tot.is_nan() && ss_tot.sqrt() > 1e-12 * scale
}

/// R² is undefined (None) when the targets do not vary (see [`varies`]).
fn r2_from(ss_res: f64, ss_tot: f64, values: impl Iterator<Item = f64>) -> Option<f64> {
    varies(ss_tot, values).then(|| finite(1.0 - ss_res / ss_tot))?
}

/// Whether R² is defined for targets `y` (n × k) overall, and for each output: false where
/// the targets do not vary, whatever the predictions. The same test as [`evaluate`]'s.
pub fn r2_defined(y: &DMatrix<f64>) -> (bool, Vec<bool>) {
    let per_output: Vec<(f64, bool)> = y
        .column_iter()
        .map(|t| {
            let ss_tot = sum_sq_dev(&t);
            (ss_tot, varies(ss_tot, t.iter().copied()))
        })
        .collect();
    let total: f64 = per_output.iter().map(|(ss_tot, _)| ss_tot).sum();
    (
        varies(total, y.iter().copied()),
        per_output.into_iter().map(|(_, v)| v).collect(),
    )
}

/// Mean squared error only (the training loss), without allocating per-output results.
pub fn mse(pred: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    assert_eq!(
        pred.shape(),
        y.shape(),
        "prediction and target shapes differ"
    );
    let ss: f64 = pred
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    ss / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let y = DMatrix::from_column_slice(4, 1, &[1., 2., 3., 4.]);
        let p = DMatrix::from_column_slice(4, 1, &[1., 2., 3., 5.]);
        let m = evaluate(&p, &y);
        assert_eq!(m.mse, Some(0.25));
        // SS_tot = 5, SS_res = 1.
        assert!((m.r2.unwrap() - 0.8).abs() < 1e-15);
        assert_eq!(mse(&p, &y), 0.25);
    }

    #[test]
    fn constant_target_has_no_r2() {
        let y = DMatrix::from_element(3, 1, 0.1);
        let m = evaluate(&y.clone(), &y);
        assert_eq!(m.mse, Some(0.0));
        assert_eq!(m.r2, None);
    }

    #[test]
    fn r2_is_defined_where_evaluate_gives_one() {
        // Output 0 varies, output 1 is constant.
        let y = DMatrix::from_column_slice(3, 2, &[1., 2., 4., 0.1, 0.1, 0.1]);
        let m = evaluate(&y.map(|v| v + 0.5), &y);
        let (overall, per_output) = r2_defined(&y);
        assert_eq!(overall, m.r2.is_some());
        assert_eq!(
            per_output,
            m.per_output
                .iter()
                .map(|o| o.r2.is_some())
                .collect::<Vec<_>>()
        );
        assert_eq!(per_output, [true, false]);
        assert_eq!(
            r2_defined(&DMatrix::from_element(4, 1, 3.0)),
            (false, vec![false])
        );
    }

    #[test]
    fn multi_output_is_variance_weighted() {
        let y = DMatrix::from_column_slice(2, 2, &[0., 2., 0., 4.]);
        let p = DMatrix::from_column_slice(2, 2, &[0., 1., 0., 4.]);
        let m = evaluate(&p, &y);
        assert_eq!(m.mse, Some(0.25));
        // SS_res = 1, SS_tot = 2 + 8.
        assert!((m.r2.unwrap() - 0.9).abs() < 1e-15);
        assert!((m.per_output[0].r2.unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(m.per_output[1].r2, Some(1.0));
    }
}
