//! The gradient baselines: exact gradients (against central finite differences), convergence
//! of SGD, Adam and LBFGS to the least-squares solution on a convex problem, and divergence
//! handled without NaN.

use anmin::data::Samples;
use anmin::model::Network;
use anmin::optim::baselines::adam::AdamConfig;
use anmin::optim::baselines::gradient::{Objective, Params, Workspace, loss_and_grad};
use anmin::optim::baselines::lbfgs::LbfgsConfig;
use anmin::optim::baselines::minibatch::BatchConfig;
use anmin::optim::baselines::sgd::SgdConfig;
use anmin::optim::output_layer;
use anmin::optim::{self, Limits, OptimizerSpec, Silent};
use anmin::report::StopReason;
use anmin::rng::{Stream, seeded};
use faer::Par;
use nalgebra::{DMatrix, DVector};

mod common;

use common::random::{gaussian, inputs};

#[test]
fn gradient_matches_central_differences() {
    for (k, alpha, ridge) in [(1, 0.0, 0.0), (1, 0.1, 0.0), (3, 0.0, 0.3), (3, 0.1, 0.05)] {
        let mut rng = seeded(40 + k as u64, Stream::Init);
        let (m, d, h) = (25, 4, 7);
        let x = inputs(m, d, &mut rng);
        let y = gaussian(m, k, &mut rng);
        let params = Params {
            a: gaussian(h, d + 1, &mut rng),
            b: gaussian(k, h, &mut rng),
            b0: DVector::from_iterator(k, gaussian(k, 1, &mut rng).iter().copied()),
        };
        let objective = Objective::new(alpha, ridge);
        let mut ws = Workspace::default();
        let mut grad = params.zeros_like();
        let loss = loss_and_grad(&params, &objective, &x, &y, &mut ws, &mut grad);
        assert!(loss.is_finite() && loss > 0.0);

        let analytic = grad.to_flat();
        let flat = params.to_flat();
        let step = 1e-6;
        let mut scratch = params.clone();
        let mut unused = params.zeros_like();
        let mut eval = |v: &DVector<f64>| {
            scratch.set_flat(v.as_slice());
            loss_and_grad(&scratch, &objective, &x, &y, &mut ws, &mut unused)
        };
        let mut worst: f64 = 0.0;
        for i in 0..flat.len() {
            let mut plus = flat.clone();
            plus[i] += step;
            let mut minus = flat.clone();
            minus[i] -= step;
            let numeric = (eval(&plus) - eval(&minus)) / (2.0 * step);
            worst = worst.max((numeric - analytic[i]).abs() / (1.0 + analytic[i].abs()));
        }
        assert!(
            worst < 1e-6,
            "k={k} alpha={alpha} ridge={ridge}: worst relative error {worst:e}"
        );
    }
}

/// A regression problem and an initial network whose hidden layer, once frozen, makes the
/// training problem convex: ridge regression in (B, b0). The common initial network fits
/// (B, b0) without the penalty, so it starts away from the penalized optimum.
fn convex_problem() -> (Samples, Network) {
    let mut rng = seeded(7, Stream::Split);
    let (n, d, h) = (160, 3, 8);
    let x = inputs(n, d, &mut rng);
    let y = DMatrix::from_fn(n, 2, |i, c| {
        (x[(i, 0)] * (c + 1) as f64).sin() + 3.0 * x[(i, 1)] + 10.0
    });
    let net = Network::random(d + 1, h, 2, 0.1, &mut seeded(1, Stream::Init));
    (
        Samples {
            x,
            y,
            classify: false,
        },
        net,
    )
}

const RIDGE: f64 = 0.05;

/// MSE + λ(σ²‖A‖² + ‖B‖²), the objective every optimizer minimizes, written out from its
/// definition (σ² is the mean variance of the training targets).
fn objective(net: &Network, train: &Samples) -> f64 {
    let k = train.y.ncols() as f64;
    let sigma2 = train.y.column_iter().map(|c| c.variance()).sum::<f64>() / k;
    anmin::metrics::mse(&net.predict(&train.x), &train.y)
        + RIDGE * (sigma2 * net.a.norm_squared() + net.b.norm_squared())
}

/// Trains with the hidden layer frozen; returns the reached and the optimal objective.
fn train_frozen(spec: &OptimizerSpec, iters: usize) -> (f64, f64, f64) {
    let (train, net) = convex_problem();
    let mut opt = spec.build(Par::Seq);
    let limits = Limits::iters(iters);
    let run = optim::train(
        opt.as_mut(),
        net.clone(),
        &train,
        None,
        limits,
        Par::Seq,
        &mut Silent,
    );
    assert_eq!(
        run.network.a, net.a,
        "the frozen hidden layer must not move"
    );
    let nk = train.y.len() as f64;
    let fit = output_layer::fit(net.hidden_outputs(&train.x), &train.y, nk * RIDGE, Par::Seq);
    let optimal = Network {
        b: fit.b,
        b0: fit.b0,
        ..net.clone()
    };
    let start = objective(&optim::initial_network(net, &train, Par::Seq), &train);
    (
        start,
        objective(&run.network, &train),
        objective(&optimal, &train),
    )
}

fn frozen_batch(batch_size: usize) -> BatchConfig {
    BatchConfig {
        batch_size,
        ridge: RIDGE,
        seed: 0,
        freeze_hidden: true,
    }
}

fn assert_converged(name: &str, (start, reached, optimum): (f64, f64, f64), rel: f64) {
    assert!(
        start > optimum * (1.0 + 1e-3),
        "{name}: the start must not already be optimal"
    );
    assert!(
        (reached - optimum) / optimum < rel,
        "{name}: reached {reached}, optimum {optimum} (start {start})"
    );
}

#[test]
fn sgd_converges_to_least_squares_on_a_convex_problem() {
    let spec = OptimizerSpec::Sgd {
        rule: SgdConfig {
            lr: 0.05,
            momentum: 0.9,
        },
        batch: frozen_batch(160),
    };
    assert_converged("SGD", train_frozen(&spec, 3000), 1e-9);
}

#[test]
fn adam_converges_to_least_squares_on_a_convex_problem() {
    let spec = OptimizerSpec::Adam {
        rule: AdamConfig::with_lr(1e-2),
        batch: frozen_batch(160),
    };
    assert_converged("Adam", train_frozen(&spec, 3000), 1e-6);
}

#[test]
fn lbfgs_converges_to_least_squares_on_a_convex_problem() {
    let cfg = LbfgsConfig {
        freeze_hidden: true,
        ..LbfgsConfig::new(1.0, 10, RIDGE)
    };
    // PyTorch's stopping rule (a loss change below 1e-9 in standardized units) ends the run
    // within about 1e-8 of the optimum.
    assert_converged("LBFGS", train_frozen(&OptimizerSpec::Lbfgs(cfg), 20), 1e-7);
}

#[test]
fn every_method_lowers_the_loss_from_the_common_start() {
    let (train, net) = convex_problem();
    let batch = BatchConfig {
        freeze_hidden: false,
        ..frozen_batch(32)
    };
    for spec in [
        OptimizerSpec::Sgd {
            rule: SgdConfig {
                lr: 1e-2,
                momentum: 0.9,
            },
            batch,
        },
        OptimizerSpec::Adam {
            rule: AdamConfig::with_lr(1e-2),
            batch,
        },
        OptimizerSpec::Lbfgs(LbfgsConfig::new(1.0, 10, 0.0)),
    ] {
        let mut opt = spec.build(Par::Seq);
        let limits = Limits::iters(30);
        let run = optim::train(
            opt.as_mut(),
            net.clone(),
            &train,
            None,
            limits,
            Par::Seq,
            &mut Silent,
        );
        let start = run.history[0].train_mse.unwrap();
        let end = run.best_entry.train_mse.unwrap();
        assert!(end < 0.9 * start, "{}: {start} -> {end}", spec.name());
        assert_ne!(run.stop_reason, StopReason::Diverged, "{}", spec.name());
    }
}

#[test]
fn huge_learning_rate_diverges_cleanly() {
    let (train, net) = convex_problem();
    let spec = OptimizerSpec::Sgd {
        rule: SgdConfig {
            lr: 1e4,
            momentum: 0.9,
        },
        batch: BatchConfig {
            freeze_hidden: false,
            ..frozen_batch(32)
        },
    };
    let mut opt = spec.build(Par::Seq);
    let limits = Limits::iters(50);
    let run = optim::train(
        opt.as_mut(),
        net.clone(),
        &train,
        None,
        limits,
        Par::Seq,
        &mut Silent,
    );
    assert_eq!(run.stop_reason, StopReason::Diverged);
    assert!(run.network.is_finite());
    assert_eq!(
        run.final_entry, run.best_entry,
        "after divergence the best iterate is kept"
    );
    assert_eq!(
        run.best_entry.iter, 0,
        "no epoch at this rate improves on the start"
    );
}
