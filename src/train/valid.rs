//! A request checked once ([`TrainRequest::resolve`]) into a [`ValidRequest`], the only
//! kind of request a [`super::Trainer`] takes (linfa's params → checked params). Every range
//! is the settings' description's, with its message.

use serde_json::json;

use super::TrainRequest;
use crate::error::{Error, Result};
use crate::settings::catalogue::{
    ALPHA, BAG, CLIP, HIDDEN, MAX_SECONDS, ONE_HOT_FEW, ONE_HOT_INTEGERS, RIDGE, SEED, TEST_FRAC,
    VAL_FRAC,
};
use crate::settings::{self, Owner};

/// A [`TrainRequest`] that a run can carry out: every setting in its range, the optimizer's
/// settings its own. Read it as a `TrainRequest`; change it only through its methods.
#[derive(Debug, Clone)]
pub struct ValidRequest(TrainRequest);

impl std::ops::Deref for ValidRequest {
    type Target = TrainRequest;

    fn deref(&self) -> &TrainRequest {
        &self.0
    }
}

impl ValidRequest {
    /// The same run on another split: the seed has no range to leave.
    pub fn with_seed(&self, seed: u64) -> ValidRequest {
        let mut request = self.0.clone();
        request.split.seed = seed;
        ValidRequest(request)
    }

    /// The same run, recording its split or not.
    pub fn with_record_split(&self, record_split: bool) -> ValidRequest {
        let mut request = self.0.clone();
        request.record_split = record_split;
        ValidRequest(request)
    }

    /// The validation fraction in effect (see [`TrainRequest::val_frac`]).
    pub fn val_frac_in_effect(&self) -> f64 {
        self.0.val_frac().expect("checked by resolve")
    }

    pub fn into_inner(self) -> TrainRequest {
        self.0
    }
}

impl TrainRequest {
    /// Checks the request once: a request no run can carry out is an error naming the
    /// setting, with the message of its declaration.
    pub fn resolve(self) -> Result<ValidRequest> {
        self.check().map_err(Error::usage)?;
        self.val_frac()?;
        Ok(ValidRequest(self))
    }

    fn check(&self) -> std::result::Result<(), String> {
        let s = &self.split;
        TEST_FRAC.check_real(s.test_frac)?;
        SEED.check_count(s.seed)?;
        if let Some(v) = s.val_frac {
            VAL_FRAC.check_real(v)?;
        }
        CLIP.check(&json!(s.clip))?;
        HIDDEN.check_count(self.network.hidden as u64)?;
        ALPHA.check_real(self.network.alpha)?;
        let kind = self.optimizer.kind();
        if let Some(steps) = self.steps {
            let budget = settings::of_optimizer(kind)
                .find(|s| s.owner == Owner::Steps(kind))
                .expect("every optimizer declares its step budget");
            budget.check_count(steps as u64)?;
        }
        RIDGE.check(&json!(self.ridge))?;
        if let crate::bag::Bag::Members(k) = self.bag {
            BAG.check_count(k as u64)?;
        }
        ONE_HOT_INTEGERS.check_count(self.preprocess.one_hot_integers as u64)?;
        ONE_HOT_FEW.check_count(self.preprocess.one_hot_few as u64)?;
        if let Some(seconds) = self.max_seconds {
            MAX_SECONDS.check_real(seconds)?;
        }
        settings::check_spec(&self.optimizer)
    }
}
