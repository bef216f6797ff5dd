//! The prediction preset (`--auto`, the Python estimator's defaults): what it sets where the
//! user gives nothing, applied to a request once ([`TrainRequest::with_preset`]).

use super::{Ridge, TrainRequest};
use crate::bag::Bag;
use crate::data::Scaling;
use crate::optim::OptimizerKind;

/// The recommended setting for prediction (`anmin train --auto`, the Python estimators'
/// defaults): each value applies where the user gives none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    pub ridge: Ridge,
    /// ANMIN's steps: with `--ridge auto`, half of them at most per penalty of the path.
    pub steps: usize,
    pub bag: Bag,
    pub scaling: Scaling,
}

/// The settings the preset fills in, as a user gave them (None: not given).
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub ridge: Option<Ridge>,
    pub bag: Option<usize>,
    pub scaling: Option<Scaling>,
}

/// `--auto`.
pub const PREDICTION: Preset = Preset {
    ridge: Ridge::Auto,
    steps: 10,
    bag: Bag::ByRows,
    scaling: Scaling::Auto,
};

impl TrainRequest {
    /// The penalty, bag and scaling as given; what is not given is the prediction preset's
    /// under `auto` (and so are the steps of ANMIN), else the plain default (no penalty, one
    /// network, standard scaling, the optimizer's own steps).
    pub fn with_preset(self, auto: bool, given: Given) -> Self {
        let Given {
            ridge,
            bag,
            scaling,
        } = given;
        let anmin = matches!(
            self.optimizer.kind(),
            OptimizerKind::Anmin | OptimizerKind::AnminPlain
        );
        TrainRequest {
            ridge: ridge
                .or(auto.then_some(PREDICTION.ridge))
                .unwrap_or_default(),
            bag: bag
                .map(Bag::Members)
                .or(auto.then_some(PREDICTION.bag))
                .unwrap_or_default(),
            steps: self.steps.or((auto && anmin).then_some(PREDICTION.steps)),
            preprocess: crate::data::PreprocessSettings {
                scaling: scaling
                    .or(auto.then_some(PREDICTION.scaling))
                    .unwrap_or_default(),
                ..self.preprocess
            },
            ..self
        }
    }
}
