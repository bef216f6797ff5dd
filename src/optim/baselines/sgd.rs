//! Stochastic gradient descent with momentum, as PyTorch's `torch.optim.SGD` (no dampening,
//! no Nesterov): v ← μ·v + g, p ← p − lr·v.

use super::gradient::Params;
use super::minibatch::UpdateRule;

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
}

impl SgdConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: SgdConfig = SgdConfig {
        lr: 1e-3,
        momentum: 0.9,
    };
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl SgdConfig {}

pub struct Sgd {
    cfg: SgdConfig,
    velocity: Option<Params>,
}

impl Sgd {
    pub fn new(cfg: SgdConfig) -> Sgd {
        Sgd {
            cfg,
            velocity: None,
        }
    }
}

impl UpdateRule for Sgd {
    fn update(&mut self, params: &mut Params, grad: &Params) {
        let (lr, momentum) = (self.cfg.lr, self.cfg.momentum);
        // PyTorch starts the buffer at the first gradient, which equals μ·0 + g.
        let velocity = self.velocity.get_or_insert_with(|| grad.zeros_like());
        for ((p, v), g) in params
            .slices_mut()
            .into_iter()
            .zip(velocity.slices_mut())
            .zip(grad.slices())
        {
            update_slice(p, v, g, lr, momentum);
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::to_value(self.cfg).expect("config serializes")
    }
}

/// One momentum update of a block of parameters (its own function so the slices are known
/// not to alias and the loop vectorizes). With μ = 0 the velocity is just the gradient.
#[inline(never)]
fn update_slice(p: &mut [f64], v: &mut [f64], g: &[f64], lr: f64, momentum: f64) {
    let n = p.len();
    let (v, g) = (&mut v[..n], &g[..n]);
    for i in 0..n {
        v[i] = momentum * v[i] + g[i];
        p[i] -= lr * v[i];
    }
}
