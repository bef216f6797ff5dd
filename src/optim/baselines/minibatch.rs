//! The epoch loop SGD and Adam share: reshuffle the training rows from the seed, then one
//! parameter update per mini-batch, on standardized targets (see [`super::gradient`]).

use rand::seq::SliceRandom;

use super::gradient::{Objective, Params, ScaledTrain, Workspace, gather_rows, loss_and_grad};
use crate::data::Samples;
use crate::model::Network;
use crate::optim::{Optimizer, StepStatus};
use crate::rng::{Rng, Stream, seeded};

/// How a mini-batch method turns a gradient into a parameter change.
pub trait UpdateRule {
    fn update(&mut self, params: &mut Params, grad: &Params);
    /// Facts for the run JSON.
    fn describe(&self) -> serde_json::Value;
}

/// Settings every mini-batch method has.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BatchConfig {
    pub batch_size: usize,
    /// Relative L2 penalty λ on A and B (the same objective as ANMIN's `--ridge`).
    pub ridge: f64,
    /// Seed of the per-epoch shuffles.
    pub seed: u64,
    /// Train only the output layer (a convex problem; used by tests).
    #[serde(skip)]
    pub freeze_hidden: bool,
}

impl BatchConfig {
    /// Every setting at its default: the one place these values are written (the
    /// settings' description refers to them).
    pub const DEFAULT: BatchConfig = BatchConfig {
        batch_size: 32,
        ridge: 0.0,
        seed: 0,
        freeze_hidden: false,
    };
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl BatchConfig {}

/// A mini-batch method: an [`UpdateRule`] driven epoch by epoch.
pub struct MiniBatch<R> {
    rule: R,
    cfg: BatchConfig,
    state: Option<State>,
}

struct State {
    data: ScaledTrain,
    objective: Objective,
    params: Params,
    grad: Params,
    workspace: Workspace,
    order: Vec<usize>,
    rng: Rng,
    batch_x: nalgebra::DMatrix<f64>,
    batch_y: nalgebra::DMatrix<f64>,
}

impl<R: UpdateRule> MiniBatch<R> {
    pub fn new(rule: R, cfg: BatchConfig) -> Self {
        MiniBatch {
            rule,
            cfg,
            state: None,
        }
    }
}

impl<R: UpdateRule> Optimizer for MiniBatch<R> {
    fn init(&mut self, net: &mut Network, train: &Samples) {
        let data = ScaledTrain::new(train);
        let params = data.scale.to_internal(net);
        self.state = Some(State {
            objective: Objective::new(net.alpha, self.cfg.ridge),
            grad: params.zeros_like(),
            params,
            workspace: Workspace::default(),
            order: (0..train.n()).collect(),
            rng: seeded(self.cfg.seed, Stream::Shuffle),
            batch_x: Default::default(),
            batch_y: Default::default(),
            data,
        });
    }

    fn step(&mut self, net: &mut Network, _train: &Samples) -> StepStatus {
        let s = self.state.as_mut().expect("init runs before step");
        s.order.shuffle(&mut s.rng);
        for rows in s.order.chunks(self.cfg.batch_size) {
            gather_rows(&s.data.x, rows, &mut s.batch_x);
            gather_rows(&s.data.y, rows, &mut s.batch_y);
            loss_and_grad(
                &s.params,
                &s.objective,
                &s.batch_x,
                &s.batch_y,
                &mut s.workspace,
                &mut s.grad,
            );
            if self.cfg.freeze_hidden {
                s.grad.a.fill(0.0);
            }
            self.rule.update(&mut s.params, &s.grad);
        }
        if !s.params.is_finite() {
            return StepStatus::Diverged;
        }
        s.data.scale.write_network(&s.params, net);
        StepStatus::Continue
    }

    fn diagnostics(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.cfg).expect("config serializes");
        if let (serde_json::Value::Object(map), Some(s)) = (&mut v, &self.state) {
            map.insert("target_mean".into(), serde_json::json!(s.data.scale.mean));
            map.insert("target_scale".into(), serde_json::json!(s.data.scale.scale));
            map.insert("rule".into(), self.rule.describe());
        }
        v
    }
}
