//! The affine map between a run's original targets and standardized ones: one common scale σ
//! for every output. The penalty's units ([`super::Penalty::relative`]) and the baselines'
//! internal targets both come from it.

use nalgebra::DMatrix;

/// The affine map between original and standardized targets.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetScale {
    pub mean: Vec<f64>,
    pub scale: f64,
}

impl TargetScale {
    /// Per-output means and one common scale from the training targets.
    pub fn fit(y: &DMatrix<f64>) -> TargetScale {
        let mean: Vec<f64> = y.column_iter().map(|c| c.mean()).collect();
        let mean_var = y
            .column_iter()
            .zip(&mean)
            .map(|(c, m)| c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / c.len().max(1) as f64)
            .sum::<f64>()
            / y.ncols().max(1) as f64;
        let scale = mean_var.sqrt();
        TargetScale {
            mean,
            scale: if scale > 0.0 && scale.is_finite() {
                scale
            } else {
                1.0
            },
        }
    }

    pub fn standardize(&self, y: &DMatrix<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(y.nrows(), y.ncols(), |i, c| {
            (y[(i, c)] - self.mean[c]) / self.scale
        })
    }
}
