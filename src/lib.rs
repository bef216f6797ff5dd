//! `anmin`: two-layer ReLU regression networks trained by ANMIN, the alternating analytic
//! solver of A. Barbu, "Training a Two Layer ReLU Network Analytically" (Sensors, 2023).
//!
//! The data flows one way: CSV → [`data::Table`] → [`data::Dataset`] → split and
//! standardized [`data::Samples`] → [`optim::train`] with an [`optim::Optimizer`] →
//! [`report::RunReport`] JSON; many runs → [`aggregate::AggregateReport`] → table and
//! [`plot`] figure.

pub mod aggregate;
pub mod bag;
pub mod choice;
pub mod classify;
pub mod cli;
pub mod commands;
pub mod data;
pub mod error;
pub mod history;
pub mod images;
pub mod limits;
pub mod linalg;
pub mod lock;
pub mod metrics;
pub mod model;
pub mod numbers;
pub mod optim;
pub mod outputs;
pub mod plot;
pub mod predict;
pub mod progress;
#[cfg(feature = "python")]
mod python;
pub mod report;
pub mod rng;
pub mod rows;
pub mod select;
pub mod settings;
pub mod train;

pub use error::{DataError, Error, Result};
