//! Adam, as PyTorch's `torch.optim.Adam` (no weight decay, no AMSGrad): bias-corrected first
//! and second moment estimates, p ← p − (lr/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε).

use super::gradient::Params;
use super::minibatch::UpdateRule;

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

/// PyTorch's defaults.
impl AdamConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: AdamConfig = AdamConfig {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl AdamConfig {
    /// PyTorch's defaults for the moments and ε, with learning rate `lr`.
    pub fn with_lr(lr: f64) -> AdamConfig {
        AdamConfig {
            lr,
            ..AdamConfig::default()
        }
    }
}

pub struct Adam {
    cfg: AdamConfig,
    step: i32,
    moments: Option<(Params, Params)>,
}

impl Adam {
    pub fn new(cfg: AdamConfig) -> Adam {
        Adam {
            cfg,
            step: 0,
            moments: None,
        }
    }
}

impl UpdateRule for Adam {
    fn update(&mut self, params: &mut Params, grad: &Params) {
        self.step += 1;
        let step_size = self.cfg.lr / (1.0 - self.cfg.beta1.powi(self.step));
        let correction2_sqrt = (1.0 - self.cfg.beta2.powi(self.step)).sqrt();
        let (m, v) = self
            .moments
            .get_or_insert_with(|| (grad.zeros_like(), grad.zeros_like()));
        for (((p, m), v), g) in params
            .slices_mut()
            .into_iter()
            .zip(m.slices_mut())
            .zip(v.slices_mut())
            .zip(grad.slices())
        {
            update_slice(p, m, v, g, &self.cfg, step_size, correction2_sqrt);
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::to_value(self.cfg).expect("config serializes")
    }
}

/// One Adam update of a block of parameters. A function of its own so that the slices are
/// known not to alias, which lets the compiler vectorize the loop.
#[inline(never)]
fn update_slice(
    p: &mut [f64],
    m: &mut [f64],
    v: &mut [f64],
    g: &[f64],
    cfg: &AdamConfig,
    step_size: f64,
    correction2_sqrt: f64,
) {
    let n = p.len();
    let (m, v, g) = (&mut m[..n], &mut v[..n], &g[..n]);
    // One division per parameter instead of PyTorch's two (it divides √v by the correction);
    // the results differ only in rounding.
    let inv_correction2 = 1.0 / correction2_sqrt;
    for i in 0..n {
        m[i] = cfg.beta1 * m[i] + (1.0 - cfg.beta1) * g[i];
        v[i] = cfg.beta2 * v[i] + (1.0 - cfg.beta2) * g[i] * g[i];
        p[i] -= step_size * m[i] / (v[i].sqrt() * inv_correction2 + cfg.eps);
    }
}
