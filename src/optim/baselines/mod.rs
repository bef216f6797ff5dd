//! The gradient baselines on the same model and loss: mini-batch SGD and Adam (one epoch a
//! step), full-batch L-BFGS (one outer iteration a step), Levenberg–Marquardt (one iteration a
//! step), and the gradient they share.

pub mod adam;
pub mod gradient;
pub mod lbfgs;
pub mod lm;
pub mod minibatch;
pub mod sgd;
