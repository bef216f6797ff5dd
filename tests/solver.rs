//! Properties of the ANMIN building blocks that fail if the math is wrong: the A-step is the
//! exact minimizer of the fixed-pattern loss, the B-step is the exact least-squares fit, and
//! the whole solver recovers a planted network and never increases the loss.

use anmin::data::Samples;
use anmin::model::Network;
use anmin::optim::anmin::line_search::StepRule;
use anmin::optim::anmin::{Anmin, AnminConfig, Variant};
use anmin::optim::anmin::{a_cg, a_system};
use anmin::optim::output_layer;
use anmin::optim::{self, Limits, Silent};
use anmin::report::StopReason;
use anmin::rng::{Stream, seeded};
use faer::Par;
use nalgebra::DMatrix;

mod common;

use common::random::{gaussian, inputs, random_net};

/// Σ_i ‖y_i − B (G_i ∘ (A x̃_i)) − b0‖² with the pattern G held fixed.
fn fixed_pattern_loss(
    a: &DMatrix<f64>,
    g: &DMatrix<f64>,
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let z = x * a.transpose();
    let h = g.component_mul(&z);
    let mut pred = h * net.b.transpose();
    for (mut col, b) in pred.column_iter_mut().zip(net.b0.iter()) {
        col.add_scalar_mut(*b);
    }
    (pred - y).norm_squared()
}

/// Central finite-difference gradient of the fixed-pattern loss in A. The loss is quadratic
/// in A, so central differences are exact up to rounding.
fn fd_gradient(
    a: &DMatrix<f64>,
    g: &DMatrix<f64>,
    net: &Network,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> DMatrix<f64> {
    let step = 1e-3;
    DMatrix::from_fn(a.nrows(), a.ncols(), |r, c| {
        let mut plus = a.clone();
        plus[(r, c)] += step;
        let mut minus = a.clone();
        minus[(r, c)] -= step;
        (fixed_pattern_loss(&plus, g, net, x, y) - fixed_pattern_loss(&minus, g, net, x, y))
            / (2.0 * step)
    })
}

#[test]
fn a_step_zeroes_the_fixed_pattern_gradient() {
    for (k, alpha) in [(1, 0.0), (1, 0.1), (3, 0.0), (3, 0.1)] {
        let mut rng = seeded(11 + k as u64, Stream::Init);
        let (n, d, h) = (300, 4, 6);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, k, &mut rng);
        let net = random_net(d + 1, h, k, alpha, &mut rng);
        let g = (&x * net.a.transpose()).map(|z| net.slope(z));

        let before = fd_gradient(&net.a, &g, &net, &x, &y);
        let system = a_system::assemble(&net, &x, &y, Par::Seq);
        let step = a_system::solve(system, &net.a, 0.0, 0.0, Par::Seq).expect("solvable");
        assert_eq!(step.shift.value, 0.0, "a well-posed system needs no shift");
        let after = fd_gradient(&step.a, &g, &net, &x, &y);

        let scale = before.amax();
        assert!(
            scale > 1.0,
            "the starting point should not already be optimal"
        );
        assert!(
            after.amax() < 1e-7 * scale,
            "k={k} alpha={alpha}: gradient {:e} at the A-step solution (scale {scale:e})",
            after.amax()
        );
        // And it is a minimum: the loss dropped.
        assert!(
            fixed_pattern_loss(&step.a, &g, &net, &x, &y)
                < fixed_pattern_loss(&net.a, &g, &net, &x, &y)
        );
    }
}

#[test]
fn a_step_assembly_uses_the_lower_triangle_only() {
    // Assembled matrix equals Ψᵀ Ψ built densely (k = 1: Ψ = Φ scaled blockwise by b_j).
    let mut rng = seeded(5, Stream::Init);
    let (n, d, h) = (50, 2, 3);
    let x = inputs(n, d, &mut rng);
    let y = gaussian(n, 1, &mut rng);
    let mut net = random_net(d + 1, h, 1, 0.2, &mut rng);
    // Output weights of both signs, so that the BᵀB scaling of off-diagonal blocks matters.
    net.b = DMatrix::from_row_slice(1, 3, &[1.5, -0.7, 2.0]);
    let d1 = d + 1;
    let psi = DMatrix::from_fn(n, h * d1, |i, col| {
        let (j, c) = (col / d1, col % d1);
        let z: f64 = (0..d1).map(|t| net.a[(j, t)] * x[(i, t)]).sum();
        net.b[(0, j)] * net.slope(z) * x[(i, c)]
    });
    let dense = psi.transpose() * &psi;
    let rhs = psi.transpose() * (&y - DMatrix::from_element(n, 1, net.b0[0]));
    let system = a_system::assemble(&net, &x, &y, Par::Seq);
    for c in 0..h * d1 {
        assert!((system.rhs[(c, 0)] - rhs[(c, 0)]).abs() < 1e-9 * rhs.amax());
        for r in c..h * d1 {
            assert!((system.matrix[(r, c)] - dense[(r, c)]).abs() < 1e-9 * dense.amax());
        }
    }
}

#[test]
fn pattern_aware_assembly_equals_the_dense_gram() {
    // The pair-form assembly (one product per unit over its active rows, leaky ReLU from the
    // ReLU pairs) against an explicit ΦᵀΦ and against the dense rank-k update, for ReLU and
    // leaky slopes, with a dead unit and an always-active one, in one row block and in two
    // (blocks hold at most 8192 rows).
    for (alpha, (n, d, h)) in [0.0, 0.1, 0.7]
        .into_iter()
        .flat_map(|alpha| [(alpha, (700, 6, 7)), (alpha, (9000, 2, 5))])
    {
        let mut rng = seeded(41, Stream::Init);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, 1, &mut rng);
        let mut net = random_net(d + 1, h, 1, alpha, &mut rng);
        net.a.row_mut(1).fill(0.0);
        net.a[(1, d)] = -50.0;
        net.a.row_mut(4).fill(0.0);
        net.a[(4, d)] = 50.0;
        let d1 = d + 1;
        let z = net.pre_activations(&x);
        let phi = DMatrix::from_fn(n, h * d1, |i, col| {
            net.slope(z[(i, col / d1)]) * x[(i, col % d1)]
        });
        let explicit = phi.transpose() * &phi;
        let dense = a_system::dense_gram(&net, &x, &y, Par::Seq);
        // With B = 1 the system matrix is ΦᵀΦ itself.
        net.b = DMatrix::from_element(1, h, 1.0);
        let system = a_system::assemble(&net, &x, &y, Par::Seq);
        let scale = explicit.amax();
        for c in 0..h * d1 {
            for r in c..h * d1 {
                let err = (system.matrix[(r, c)] - explicit[(r, c)]).abs();
                assert!(
                    err <= 1e-13 * scale,
                    "alpha {alpha}: ({r},{c}) off by {err:e}"
                );
                let err = (system.matrix[(r, c)] - dense[(r, c)]).abs();
                assert!(
                    err <= 1e-13 * scale,
                    "alpha {alpha}: ({r},{c}) vs dense {err:e}"
                );
            }
        }
    }
}

#[test]
fn b_step_is_the_least_squares_solution() {
    let mut rng = seeded(3, Stream::Init);
    for (n, h, k, penalty) in [(40, 7, 1, 0.0), (100, 12, 3, 0.0), (60, 5, 2, 2.5)] {
        let hidden = gaussian(n, h, &mut rng).map(|v| v + 0.5);
        let y = gaussian(n, k, &mut rng);
        let fit = output_layer::fit(hidden.clone(), &y, penalty, Par::Seq);

        // Reference by SVD on [H 1], with the penalty as extra rows √λ·[I 0] (none on b0).
        let design = hidden.clone().insert_column(h, 1.0);
        let mut augmented = design.clone().insert_rows(n, h, 0.0);
        let mut y_aug = y.clone().insert_rows(n, h, 0.0);
        for j in 0..h {
            augmented[(n + j, j)] = penalty.sqrt();
        }
        if penalty == 0.0 {
            augmented = design.clone();
            y_aug = y.clone();
        }
        let beta = augmented.svd(true, true).solve(&y_aug, 1e-14).unwrap();
        for c in 0..k {
            for j in 0..h {
                assert!((fit.b[(c, j)] - beta[(j, c)]).abs() < 1e-9, "B[{c},{j}]");
            }
            assert!((fit.b0[c] - beta[(h, c)]).abs() < 1e-9, "b0[{c}]");
        }
        let resid = &design * &beta - &y;
        assert!((fit.sse - resid.norm_squared()).abs() < 1e-9 * resid.norm_squared());
        // Optimality: the residual is orthogonal to the design (normal equations).
        if penalty == 0.0 {
            let normal = design.transpose() * resid;
            assert!(normal.amax() < 1e-9 * y.norm() * design.norm());
        }
    }
}

fn anmin_run(net: Network, train: &Samples, iters: usize, variant: Variant) -> optim::RunOutcome {
    let cfg = AnminConfig {
        variant,
        tol: 0.0,
        ..AnminConfig::default()
    };
    anmin_run_with(net, train, iters, cfg)
}

fn anmin_run_with(
    net: Network,
    train: &Samples,
    iters: usize,
    cfg: AnminConfig,
) -> optim::RunOutcome {
    let mut opt = Anmin::new(cfg, Par::Seq);
    optim::train(
        &mut opt,
        net,
        train,
        None,
        Limits::iters(iters),
        Par::Seq,
        &mut Silent,
    )
}

#[test]
fn recovers_a_planted_teacher() {
    let (n, d, teacher_h, student_h) = (1000, 5, 4, 16);
    for seed in 0..4 {
        let mut rng = seeded(100 + seed, Stream::Split);
        let x = inputs(n, d, &mut rng);
        let teacher = random_net(d + 1, teacher_h, 1, 0.0, &mut rng);
        let y = teacher.predict(&x);
        let train = Samples {
            x,
            y,
            classify: false,
        };
        let var = train.y.column(0).variance();

        let student = Network::random(d + 1, student_h, 1, 0.0, &mut seeded(seed, Stream::Init));
        let run = anmin_run(student, &train, 50, Variant::Safeguarded);
        let rel = run.best_entry.train_mse.unwrap() / var;
        assert!(
            rel < 1e-6,
            "seed {seed}: relative training MSE {rel:e} after 50 iterations"
        );
    }
}

#[test]
fn safeguarded_never_increases_the_loss() {
    for (k, alpha) in [(1, 0.0), (3, 0.1)] {
        let mut rng = seeded(21, Stream::Split);
        let (n, d) = (400, 6);
        let x = inputs(n, d, &mut rng);
        // A target no small network fits exactly, so the iteration keeps working.
        let y = DMatrix::from_fn(n, k, |i, c| {
            (x[(i, 0)] * (c + 1) as f64).sin() + x[(i, 1)].abs() * x[(i, 2)]
        });
        let train = Samples {
            x,
            y,
            classify: false,
        };
        // Every step rule, with and without chord steps.
        for (step, refine) in [
            (StepRule::Halving, 0),
            (StepRule::Search, 0),
            (StepRule::Halving, 3),
        ] {
            let net = Network::random(d + 1, 24, k, alpha, &mut seeded(1, Stream::Init));
            let cfg = AnminConfig {
                tol: 0.0,
                step,
                refine,
                ..AnminConfig::default()
            };
            let run = anmin_run_with(net, &train, 25, cfg);
            let losses: Vec<f64> = run.history.iter().map(|e| e.train_mse.unwrap()).collect();
            for w in losses.windows(2) {
                assert!(w[1] <= w[0], "{step:?}, refine {refine}: loss rose {w:?}");
            }
            assert!(losses.last() < losses.first());
        }
    }
}

#[test]
fn chord_direction_is_the_a_step_at_its_own_point() {
    // At the point where the factor was computed, the chord step is the A-step itself:
    // A + S⁻¹(Ψᵀr − λa) = S⁻¹Ψᵀ(y − b0) when Ψa = f(x) − b0.
    for (k, alpha, penalty) in [(1, 0.0, 0.0), (2, 0.1, 0.5)] {
        let mut rng = seeded(57, Stream::Init);
        let (n, d, h) = (300, 4, 6);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, k, &mut rng);
        let net = random_net(d + 1, h, k, alpha, &mut rng);
        let system = a_system::assemble(&net, &x, &y, Par::Seq);
        let step = a_system::solve(system, &net.a, penalty, 0.0, Par::Seq).unwrap();
        let factor = step.factor.as_ref().unwrap();
        let chord = a_system::chord_direction(factor, &net, &x, &y, penalty);
        let err = (&net.a + chord - &step.a).amax();
        assert!(err < 1e-9 * step.a.amax(), "k={k}: off by {err:e}");
    }
}

#[test]
fn plain_variant_keeps_the_best_iterate() {
    let mut rng = seeded(8, Stream::Split);
    let (n, d) = (300, 4);
    let x = inputs(n, d, &mut rng);
    let y = DMatrix::from_fn(n, 1, |i, _| (2.0 * x[(i, 0)]).sin() + x[(i, 1)] * x[(i, 2)]);
    let train = Samples {
        x,
        y,
        classify: false,
    };
    let net = Network::random(d + 1, 32, 1, 0.0, &mut seeded(2, Stream::Init));
    let run = anmin_run(net, &train, 20, Variant::Plain);
    let min = run
        .history
        .iter()
        .filter_map(|e| e.train_mse)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(run.best_entry.train_mse, Some(min));
    let best_mse = anmin::metrics::mse(&run.best_network.predict(&train.x), &train.y);
    assert!((best_mse - min).abs() <= 1e-12 * min);
}

fn assert_finite_run(run: &optim::RunOutcome, what: &str) {
    assert_ne!(run.stop_reason, StopReason::Diverged, "{what}");
    assert!(run.network.is_finite(), "{what}: non-finite parameters");
    for e in &run.history {
        assert!(e.train_mse.is_some_and(f64::is_finite), "{what}: {e:?}");
    }
}

#[test]
fn singular_systems_stay_finite() {
    let mut rng = seeded(4, Stream::Split);

    // A dead neuron: its pre-activation is negative on every sample.
    let (n, d) = (200, 3);
    let x = inputs(n, d, &mut rng);
    let y = DMatrix::from_fn(n, 1, |i, _| x[(i, 0)].max(0.0) - x[(i, 1)]);
    let train = Samples {
        x: x.clone(),
        y: y.clone(),
        classify: false,
    };
    let mut net = Network::random(d + 1, 8, 1, 0.0, &mut seeded(0, Stream::Init));
    net.a.row_mut(3).fill(0.0);
    net.a[(3, d)] = -100.0;
    let run = anmin_run(net, &train, 10, Variant::Safeguarded);
    assert_finite_run(&run, "dead neuron");
    assert!(
        (run.network.a[(3, d)] + 100.0).abs() < 1e-9,
        "a dead neuron keeps its weights"
    );

    // More unknowns than samples: h(d+1) = 64 > n = 20.
    let x_small = inputs(20, 3, &mut rng);
    let y_small = gaussian(20, 1, &mut rng);
    let train = Samples {
        x: x_small,
        y: y_small,
        classify: false,
    };
    let net = Network::random(4, 16, 1, 0.0, &mut seeded(0, Stream::Init));
    let run = anmin_run(net, &train, 10, Variant::Safeguarded);
    assert_finite_run(&run, "h(d+1) > n");

    // A constant feature (standardized to zero) next to informative ones.
    let mut x_const = x.clone();
    x_const.column_mut(2).fill(0.0);
    let train = Samples {
        x: x_const,
        y,
        classify: false,
    };
    let net = Network::random(d + 1, 8, 1, 0.1, &mut seeded(0, Stream::Init));
    let run = anmin_run(net, &train, 10, Variant::Plain);
    assert_finite_run(&run, "constant feature");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Large enough that the parallel kernels actually split work.
    let mut rng = seeded(9, Stream::Split);
    let (n, d) = (2000, 10);
    let x = inputs(n, d, &mut rng);
    let y = DMatrix::from_fn(n, 1, |i, _| x[(i, 0)].sin() + x[(i, 1)] * x[(i, 2)]);
    let train = Samples {
        x,
        y,
        classify: false,
    };
    for cfg in [
        AnminConfig::default(),
        AnminConfig {
            step: StepRule::Search,
            refine: 2,
            ..AnminConfig::default()
        },
    ] {
        let run = |par: Par| {
            let net = Network::random(d + 1, 48, 1, 0.0, &mut seeded(0, Stream::Init));
            let mut opt = Anmin::new(cfg, par);
            let limits = Limits::iters(4);
            optim::train(&mut opt, net, &train, None, limits, par, &mut Silent)
        };
        let seq = run(Par::Seq);
        let par = run(Par::rayon(2));
        assert_eq!(seq.network, par.network, "bitwise identical parameters");
    }
}

#[test]
fn conjugate_gradients_agree_with_cholesky() {
    for (k, alpha, penalty) in [(1, 0.0, 0.0), (2, 0.1, 0.0), (2, 0.0, 0.3)] {
        let mut rng = seeded(31 + k as u64, Stream::Init);
        let (n, d, h) = (400, 5, 10);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, k, &mut rng);
        let mut net = random_net(d + 1, h, k, alpha, &mut rng);
        // A unit with a negative pre-activation everywhere: for ReLU it is dead, its block
        // is singular, and without a penalty it must stay where it is.
        net.a.row_mut(2).fill(0.0);
        net.a[(2, d)] = -50.0;
        let system = a_system::assemble(&net, &x, &y, Par::Seq);
        let exact = a_system::solve(system, &net.a, penalty, 1e-12, Par::Seq).unwrap();
        let problem = |par| a_system::AProblem {
            net: &net,
            x: &x,
            y: &y,
            penalty,
            rel_shift: 1e-12,
            par,
        };
        let (cg, report) = a_cg::solve(&problem(Par::Seq), 1e-12, 500).unwrap();
        // Threads split the products over blocks of rows; the sums are added in block order.
        let (threaded, _) = a_cg::solve(&problem(Par::rayon(2)), 1e-12, 500).unwrap();
        assert_eq!(cg.a, threaded.a, "bitwise the same on two threads");
        assert!(report.relative_residual <= 1e-12, "{report:?}");
        let err = (&cg.a - &exact.a).amax() / exact.a.amax();
        assert!(
            err < 1e-8,
            "k={k}: CG differs from Cholesky by {err:e} after {} iterations",
            report.iterations
        );
        if penalty == 0.0 && alpha == 0.0 {
            assert!(
                (cg.a[(2, d)] + 50.0).abs() < 1e-9,
                "the dead unit keeps its weights"
            );
        }
    }
}

#[test]
fn planted_teacher_with_conjugate_gradients() {
    let (n, d) = (1000, 5);
    let mut rng = seeded(100, Stream::Split);
    let x = inputs(n, d, &mut rng);
    let teacher = random_net(d + 1, 4, 1, 0.0, &mut rng);
    let y = teacher.predict(&x);
    let train = Samples {
        x,
        y,
        classify: false,
    };
    let var = train.y.column(0).variance();
    let cfg = AnminConfig {
        a_solver: anmin::optim::anmin::ASolver::Cg,
        tol: 0.0,
        ..AnminConfig::default()
    };
    let mut opt = Anmin::new(cfg, Par::Seq);
    let student = Network::random(d + 1, 16, 1, 0.0, &mut seeded(0, Stream::Init));
    let limits = Limits::iters(50);
    let run = optim::train(
        &mut opt,
        student,
        &train,
        None,
        limits,
        Par::Seq,
        &mut Silent,
    );
    let rel = run.best_entry.train_mse.unwrap() / var;
    assert!(rel < 1e-6, "relative training MSE {rel:e} with CG A-steps");
}

#[test]
fn incremental_pattern_gram_matches_a_fresh_assembly() {
    for alpha in [0.0, 0.2] {
        let mut rng = seeded(77, Stream::Init);
        let (n, d, h) = (500, 4, 9);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, 2, &mut rng);
        let mut net = random_net(d + 1, h, 2, alpha, &mut rng);
        let (mut gram, _) = a_system::PatternGram::assemble(&net, &x, &y, Par::Seq);
        // Small moves flip a few percent of the activations; each is corrected incrementally.
        for step in 0..5 {
            net.a += gaussian(h, d + 1, &mut rng) * 0.05;
            let rhs = gram.update(&net, &x, &y, Par::Seq);
            let corrected = gram.system(&net, rhs);
            let fresh = a_system::assemble(&net, &x, &y, Par::Seq);
            let p = h * (d + 1);
            let scale = (0..p)
                .map(|i| fresh.matrix[(i, i)].abs())
                .fold(0.0, f64::max);
            for c in 0..p {
                assert_eq!(corrected.rhs[(c, 0)], fresh.rhs[(c, 0)]);
                for r in c..p {
                    let err = (corrected.matrix[(r, c)] - fresh.matrix[(r, c)]).abs();
                    assert!(
                        err <= 1e-12 * scale,
                        "alpha {alpha} step {step}: ({r},{c}) off by {err:e}"
                    );
                }
            }
        }
        assert_eq!(gram.corrections(), 5, "every update was incremental");
    }
}

#[test]
fn b_step_does_not_depend_on_the_thread_count() {
    // Its residual product, run in parallel, rounded differently in 29 of these 50 cases.
    let mut rng = seeded(9, Stream::Split);
    for _ in 0..50 {
        let hidden = gaussian(2000, 48, &mut rng).map(|v: f64| v.max(0.0));
        let y = gaussian(2000, 1, &mut rng);
        let seq = output_layer::fit(hidden.clone(), &y, 0.0, Par::Seq);
        let par = output_layer::fit(hidden, &y, 0.0, Par::rayon(2));
        assert_eq!((seq.b, seq.b0, seq.sse), (par.b, par.b0, par.sse));
    }
}
