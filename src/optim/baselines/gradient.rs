//! What the gradient methods (SGD, Adam, LBFGS) share: the objective in standardized target
//! units, its exact gradient computed with matrix products, and conversion between the
//! internal parameters and the [`Network`] the training loop reports.
//!
//! Gradient methods' learning rates depend on the scale of the target, so they work on
//! y_s = (y − μ)/σ with μ the per-output training mean and σ one common scale (the root mean
//! of the outputs' training variances). The penalty is scale-free (see [`crate::optim::Penalty`]), so
//! the internal objective is exactly the original one divided by σ²:
//!
//! ```text
//!   MSE(y) + λ(σ²‖A‖² + ‖B‖²) = σ² · [ MSE(y_s) + λ(‖A‖² + ‖B_s‖²) ]
//! ```
//!
//! with B = σ B_s and b0 = σ b0_s + μ, so every method minimizes the same objective as ANMIN.

use faer::{Accum, Par};
use nalgebra::{DMatrix, DVector};

use crate::data::Samples;
use crate::linalg::{view, view_mut};
use crate::model::Network;
use crate::optim::target_scale::TargetScale;

/// Parameters in standardized target units.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// h × (d+1).
    pub a: DMatrix<f64>,
    /// k × h.
    pub b: DMatrix<f64>,
    pub b0: DVector<f64>,
}

impl Params {
    pub fn zeros_like(&self) -> Params {
        Params {
            a: DMatrix::zeros(self.a.nrows(), self.a.ncols()),
            b: DMatrix::zeros(self.b.nrows(), self.b.ncols()),
            b0: DVector::zeros(self.b0.len()),
        }
    }

    pub fn len(&self) -> usize {
        self.a.len() + self.b.len() + self.b0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All parameters, A then B then b0 (each column-major), as mutable slices.
    pub fn slices_mut(&mut self) -> [&mut [f64]; 3] {
        [
            self.a.as_mut_slice(),
            self.b.as_mut_slice(),
            self.b0.as_mut_slice(),
        ]
    }

    pub fn slices(&self) -> [&[f64]; 3] {
        [self.a.as_slice(), self.b.as_slice(), self.b0.as_slice()]
    }

    /// The parameters as one flat vector (A, B, b0).
    pub fn to_flat(&self) -> DVector<f64> {
        DVector::from_iterator(self.len(), self.slices().into_iter().flatten().copied())
    }

    /// Overwrites the parameters from a flat vector laid out as [`Params::to_flat`].
    pub fn set_flat(&mut self, flat: &[f64]) {
        let mut rest = flat;
        for part in self.slices_mut() {
            let (head, tail) = rest.split_at(part.len());
            part.copy_from_slice(head);
            rest = tail;
        }
    }

    pub fn is_finite(&self) -> bool {
        self.slices().into_iter().flatten().all(|v| v.is_finite())
    }
}

/// The baselines' internal parameters: the network on standardized targets.
impl TargetScale {
    /// Internal parameters of a network given in original units.
    pub fn to_internal(&self, net: &Network) -> Params {
        Params {
            a: net.a.clone(),
            b: &net.b / self.scale,
            b0: DVector::from_fn(net.b0.len(), |c, _| (net.b0[c] - self.mean[c]) / self.scale),
        }
    }

    /// Writes internal parameters into `net` in original units.
    pub fn write_network(&self, params: &Params, net: &mut Network) {
        net.a.copy_from(&params.a);
        net.b = &params.b * self.scale;
        net.b0 = DVector::from_fn(params.b0.len(), |c, _| {
            params.b0[c] * self.scale + self.mean[c]
        });
    }
}

/// The internal objective: batch MSE on standardized targets plus the penalty, with the
/// penalty weights that make it the original objective divided by σ².
#[derive(Debug, Clone, Copy)]
pub struct Objective {
    pub alpha: f64,
    /// λ on ‖B_s‖².
    pub penalty_b: f64,
    /// λ on ‖A‖².
    pub penalty_a: f64,
}

impl Objective {
    /// `ridge` is the relative penalty λ of [`crate::optim::Penalty`]: in standardized target units
    /// it weighs both layers alike.
    pub fn new(alpha: f64, ridge: f64) -> Objective {
        Objective {
            alpha,
            penalty_b: ridge,
            penalty_a: ridge,
        }
    }
}

/// Reusable buffers for one batch size.
#[derive(Debug, Default)]
pub struct Workspace {
    /// m × h: pre-activations, then activations.
    hidden: DMatrix<f64>,
    /// m × k: residuals, then the output gradient.
    output: DMatrix<f64>,
    /// m × h: gradient with respect to the pre-activations.
    hidden_grad: DMatrix<f64>,
}

impl Workspace {
    fn resize(&mut self, m: usize, h: usize, k: usize) {
        if self.hidden.shape() != (m, h) {
            self.hidden = DMatrix::zeros(m, h);
            self.hidden_grad = DMatrix::zeros(m, h);
        }
        if self.output.shape() != (m, k) {
            self.output = DMatrix::zeros(m, k);
        }
    }
}

/// The objective on rows `x` (m × (d+1)), `y` (m × k, standardized) and its gradient, written
/// to `grad`. The mean is over the m·k entries, as PyTorch's MSELoss. ReLU's derivative at 0
/// is taken as α (0 for ReLU), matching [`Network::slope`].
pub fn loss_and_grad(
    params: &Params,
    objective: &Objective,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    ws: &mut Workspace,
    grad: &mut Params,
) -> f64 {
    let (m, _) = x.shape();
    let (k, h) = params.b.shape();
    ws.resize(m, h, k);
    let alpha = objective.alpha;

    // Forward: H = σ(X Aᵀ), P = H Bᵀ + b0; residual R = P − Y.
    faer::linalg::matmul::matmul(
        view_mut(&mut ws.hidden),
        Accum::Replace,
        view(x),
        view(&params.a).transpose(),
        1.0,
        Par::Seq,
    );
    // Element loops run over contiguous slices: nalgebra's matrix iterators are strided and
    // do not vectorize.
    // The slopes are selected without branches: about half the units are active, so a branch
    // would mispredict constantly.
    for z in ws.hidden.as_mut_slice() {
        *z *= if *z > 0.0 { 1.0 } else { alpha };
    }
    for (c, mut col) in ws.output.column_iter_mut().enumerate() {
        let bias = params.b0[c];
        for (o, t) in col.iter_mut().zip(y.column(c).iter()) {
            *o = bias - t;
        }
    }
    faer::linalg::matmul::matmul(
        view_mut(&mut ws.output),
        Accum::Add,
        view(&ws.hidden),
        view(&params.b).transpose(),
        1.0,
        Par::Seq,
    );
    let count = (m * k) as f64;
    let mut loss = ws.output.norm_squared() / count;

    // Backward: dP = 2R/(mk); dB = dPᵀ H; db0 = Σ_i dP_i; dZ = (dP B) ∘ g; dA = dZᵀ X.
    ws.output *= 2.0 / count;
    faer::linalg::matmul::matmul(
        view_mut(&mut grad.b),
        Accum::Replace,
        view(&ws.output).transpose(),
        view(&ws.hidden),
        1.0,
        Par::Seq,
    );
    for (c, col) in ws.output.column_iter().enumerate() {
        grad.b0[c] = col.sum();
    }
    faer::linalg::matmul::matmul(
        view_mut(&mut ws.hidden_grad),
        Accum::Replace,
        view(&ws.output),
        view(&params.b),
        1.0,
        Par::Seq,
    );
    // The activation is positive exactly where the pre-activation was, so it gives the slope.
    for (g, act) in ws
        .hidden_grad
        .as_mut_slice()
        .iter_mut()
        .zip(ws.hidden.as_slice())
    {
        *g *= if *act > 0.0 { 1.0 } else { alpha };
    }
    faer::linalg::matmul::matmul(
        view_mut(&mut grad.a),
        Accum::Replace,
        view(&ws.hidden_grad).transpose(),
        view(x),
        1.0,
        Par::Seq,
    );

    if objective.penalty_a > 0.0 || objective.penalty_b > 0.0 {
        loss += objective.penalty_a * params.a.norm_squared()
            + objective.penalty_b * params.b.norm_squared();
        grad.a += &params.a * (2.0 * objective.penalty_a);
        grad.b += &params.b * (2.0 * objective.penalty_b);
    }
    loss
}

/// Training data in the form the gradient methods use.
#[derive(Debug, Clone)]
pub struct ScaledTrain {
    pub x: DMatrix<f64>,
    /// Standardized targets.
    pub y: DMatrix<f64>,
    pub scale: TargetScale,
}

impl ScaledTrain {
    pub fn new(train: &Samples) -> ScaledTrain {
        let scale = TargetScale::fit(&train.y);
        ScaledTrain {
            x: train.x.clone(),
            y: scale.standardize(&train.y),
            scale,
        }
    }
}

/// Copies rows `rows` of `src` into `dst` (resized to rows.len() × src.ncols()).
pub fn gather_rows(src: &DMatrix<f64>, rows: &[usize], dst: &mut DMatrix<f64>) {
    let cols = src.ncols();
    if dst.shape() != (rows.len(), cols) {
        *dst = DMatrix::zeros(rows.len(), cols);
    }
    for c in 0..cols {
        let from = src.column(c);
        let mut to = dst.column_mut(c);
        for (i, &r) in rows.iter().enumerate() {
            to[i] = from[r];
        }
    }
}
