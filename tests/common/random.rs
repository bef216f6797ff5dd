//! Random problems for the numerical tests: standard-normal matrices, inputs with the ones
//! column, random networks.

use anmin::model::Network;
use anmin::rng::Rng;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

pub fn gaussian(rows: usize, cols: usize, rng: &mut Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// n samples of d standard-normal features with the ones column appended.
pub fn inputs(n: usize, d: usize, rng: &mut Rng) -> DMatrix<f64> {
    gaussian(n, d, rng).insert_column(d, 1.0)
}

/// A network with every weight standard normal.
pub fn random_net(d1: usize, h: usize, k: usize, alpha: f64, rng: &mut Rng) -> Network {
    Network {
        a: gaussian(h, d1, rng),
        b: gaussian(k, h, rng),
        b0: DVector::from_iterator(k, gaussian(k, 1, rng).iter().copied()),
        alpha,
    }
}
