//! The prediction preset (`--auto`, the Python estimator's defaults): what it sets where the
//! user gives nothing, applied to a request once ([`TrainRequest::with_preset`]).

use super::{Ridge, TrainRequest};
use crate::bag::Bag;
use crate::optim::OptimizerKind;

/// The recommended setting for prediction (`anmin train --auto`, the Python estimators'
/// defaults): each value applies where the user gives none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    pub ridge: Ridge,
    /// ANMIN's steps: with `--ridge auto`, half of them at most per penalty of the path.
    pub steps: usize,
    pub bag: Bag,
}

/// `--auto`.
pub const PREDICTION: Preset = Preset {
    ridge: Ridge::Auto,
    steps: 10,
    bag: Bag::ByRows,
};

impl TrainRequest {
    /// The penalty and bag as given; what is not given is the prediction preset's under
    /// `auto` (and so are the steps of ANMIN), else the plain default (no penalty, one
    /// network, the optimizer's own steps).
    pub fn with_preset(self, auto: bool, ridge: Option<Ridge>, bag: Option<usize>) -> Self {
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
            ..self
        }
    }
}
