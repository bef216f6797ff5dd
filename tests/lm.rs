//! Levenberg–Marquardt: the assembled normal equations against a finite-difference Jacobian,
//! the trajectory against a plain dense LM written here, monotonicity on a planted teacher,
//! and the checks of its settings.

use anmin::choice::Choice;
use anmin::data::Samples;
use anmin::model::Network;
use anmin::optim::baselines::lm::{self, Damping, LmConfig};
use anmin::optim::{self, Limits, OptimizerSpec, RunOutcome, Silent};
use anmin::report::StopReason;
use anmin::rng::{Stream, seeded};
use faer::Par;
use nalgebra::{DMatrix, DVector};

mod common;

use common::random::{gaussian, inputs, random_net};

fn max_relative(got: &DMatrix<f64>, want: &DMatrix<f64>) -> f64 {
    (got - want).amax() / want.amax().max(1e-300)
}

#[test]
fn normal_equations_match_a_finite_difference_jacobian() {
    for (k, alpha) in [(1, 0.0), (1, 0.1), (2, 0.0), (2, 0.1)] {
        let mut rng = seeded(300 + k as u64 + (alpha * 10.0) as u64, Stream::Init);
        let (n, d, h) = (20, 3, 4);
        let x = inputs(n, d, &mut rng);
        let y = gaussian(n, k, &mut rng);
        let net = random_net(d + 1, h, k, alpha, &mut rng);
        let w = lm::parameters(&net);
        let total = w.len();
        assert_eq!(total, h * (d + 1) + k * (h + 1));

        // r(w) = vec(Y − f(X)); f is linear in each single weight for a fixed pattern, so
        // central differences are exact up to rounding (unless a step crosses a kink).
        let residual = |w: &DVector<f64>| {
            let mut trial = net.clone();
            lm::set_parameters(&mut trial, w.as_slice());
            let r = &y - trial.predict(&x);
            DVector::from_column_slice(r.as_slice())
        };
        let step = 1e-6;
        let mut jac = DMatrix::zeros(n * k, total);
        for i in 0..total {
            let mut plus = w.clone();
            plus[i] += step;
            let mut minus = w.clone();
            minus[i] -= step;
            jac.set_column(i, &((residual(&plus) - residual(&minus)) / (2.0 * step)));
        }
        let jtj_fd = jac.transpose() * &jac;
        let jtr_fd =
            DMatrix::from_column_slice(total, 1, (jac.transpose() * residual(&w)).as_slice());

        for par in [Par::Seq, Par::rayon(2)] {
            let (jtj, jtr) = lm::normal_equations(&net, &x, &y, par);
            let jtr = DMatrix::from_column_slice(total, 1, jtr.as_slice());
            let (e_jtj, e_jtr) = (max_relative(&jtj, &jtj_fd), max_relative(&jtr, &jtr_fd));
            assert!(
                e_jtj < 1e-6 && e_jtr < 1e-6,
                "k={k} alpha={alpha} {par:?}: JᵀJ error {e_jtj:e}, Jᵀr error {e_jtr:e}"
            );
            assert_eq!(jtj, jtj.transpose(), "JᵀJ is exactly symmetric");
        }
    }
}

/// The LM rule written plainly: per-sample Jacobian rows from the closed-form derivatives,
/// parameters laid out as A (column-major), B (column-major), b0 — not the library's order.
struct Reference {
    x: DMatrix<f64>,
    /// Standardized targets.
    y: DMatrix<f64>,
    mean: Vec<f64>,
    sigma: f64,
    a: DMatrix<f64>,
    b: DMatrix<f64>,
    b0: DVector<f64>,
    alpha: f64,
    cfg: LmConfig,
    mu: f64,
}

impl Reference {
    fn new(net: &Network, train: &Samples, cfg: LmConfig) -> Reference {
        let (n, k) = train.y.shape();
        let mean: Vec<f64> = (0..k).map(|c| train.y.column(c).mean()).collect();
        let var: f64 = (0..k)
            .map(|c| {
                let col = train.y.column(c);
                col.iter().map(|v| (v - mean[c]).powi(2)).sum::<f64>() / n as f64
            })
            .sum::<f64>()
            / k as f64;
        let sigma = var.sqrt();
        Reference {
            x: train.x.clone(),
            y: DMatrix::from_fn(n, k, |i, c| (train.y[(i, c)] - mean[c]) / sigma),
            a: net.a.clone(),
            b: &net.b / sigma,
            b0: DVector::from_fn(k, |c, _| (net.b0[c] - mean[c]) / sigma),
            mean,
            sigma,
            alpha: net.alpha,
            cfg,
            mu: cfg.mu,
        }
    }

    fn unpack(&self, w: &DVector<f64>) -> (DMatrix<f64>, DMatrix<f64>, DVector<f64>) {
        let (h, d1) = self.a.shape();
        let k = self.b.nrows();
        let a = DMatrix::from_column_slice(h, d1, &w.as_slice()[..h * d1]);
        let b = DMatrix::from_column_slice(k, h, &w.as_slice()[h * d1..h * d1 + k * h]);
        let b0 = DVector::from_column_slice(&w.as_slice()[h * d1 + k * h..]);
        (a, b, b0)
    }

    fn pack(&self) -> DVector<f64> {
        let v: Vec<f64> = self
            .a
            .iter()
            .chain(self.b.iter())
            .chain(self.b0.iter())
            .copied()
            .collect();
        DVector::from_vec(v)
    }

    /// Predictions (n × k) in standardized units.
    fn predict(&self, a: &DMatrix<f64>, b: &DMatrix<f64>, b0: &DVector<f64>) -> DMatrix<f64> {
        let (n, k) = self.y.shape();
        let h = a.nrows();
        DMatrix::from_fn(n, k, |i, c| {
            let mut f = b0[c];
            for j in 0..h {
                let z = a.row(j).dot(&self.x.row(i));
                f += b[(c, j)] * if z > 0.0 { z } else { self.alpha * z };
            }
            f
        })
    }

    fn objective(&self, a: &DMatrix<f64>, b: &DMatrix<f64>, b0: &DVector<f64>) -> f64 {
        let r = &self.y - self.predict(a, b, b0);
        r.norm_squared() / r.len() as f64 + self.cfg.ridge * (a.norm_squared() + b.norm_squared())
    }

    /// Training MSE in the targets' units.
    fn train_mse(&self) -> f64 {
        let r = &self.y - self.predict(&self.a, &self.b, &self.b0);
        self.sigma * self.sigma * r.norm_squared() / r.len() as f64
    }

    fn network(&self) -> Network {
        Network {
            a: self.a.clone(),
            b: &self.b * self.sigma,
            b0: DVector::from_fn(self.b0.len(), |c, _| self.b0[c] * self.sigma + self.mean[c]),
            alpha: self.alpha,
        }
    }

    /// One LM iteration; false when μ passed mu_max (nothing changed).
    fn step(&mut self) -> bool {
        let (n, k) = self.y.shape();
        let (h, d1) = self.a.shape();
        let total = h * d1 + k * h + k;
        // F = ∂vec(f)/∂w, row i + n·c for sample i, output c.
        let mut f = DMatrix::zeros(n * k, total);
        for i in 0..n {
            for c in 0..k {
                let row = i + n * c;
                for j in 0..h {
                    let z = self.a.row(j).dot(&self.x.row(i));
                    let g = if z > 0.0 { 1.0 } else { self.alpha };
                    for m in 0..d1 {
                        f[(row, j + h * m)] = self.b[(c, j)] * g * self.x[(i, m)];
                    }
                    f[(row, h * d1 + c + k * j)] = g * z;
                }
                f[(row, h * d1 + k * h + c)] = 1.0;
            }
        }
        let pred = self.predict(&self.a, &self.b, &self.b0);
        let r = DVector::from_column_slice((&self.y - pred).as_slice());
        let w = self.pack();
        let weight = (n * k) as f64 * self.cfg.ridge;
        let mask = DVector::from_fn(total, |i, _| if i < h * d1 + k * h { 1.0 } else { 0.0 });
        let normal = f.transpose() * &f + DMatrix::from_diagonal(&(&mask * weight));
        let rhs = f.transpose() * &r - (&w.component_mul(&mask)) * weight;
        let diag: Vec<f64> = match self.cfg.damping {
            Damping::Identity => vec![1.0; total],
            Damping::Marquardt => {
                let largest = (0..total).map(|i| normal[(i, i)]).fold(0.0, f64::max);
                (0..total)
                    .map(|i| normal[(i, i)].max(1e-12 * largest))
                    .collect()
            }
        };
        let current = self.objective(&self.a, &self.b, &self.b0);
        while self.mu <= self.cfg.mu_max {
            let damped =
                &normal + DMatrix::from_diagonal(&DVector::from_vec(diag.clone())) * self.mu;
            if let Some(chol) = damped.cholesky() {
                let delta = chol.solve(&rhs);
                let (a, b, b0) = self.unpack(&(&w + delta));
                if self.objective(&a, &b, &b0) < current {
                    (self.a, self.b, self.b0) = (a, b, b0);
                    self.mu = (self.mu * self.cfg.mu_dec).max(1e-20);
                    return true;
                }
            }
            self.mu *= self.cfg.mu_inc;
        }
        false
    }
}

fn lm_run(net: Network, train: &Samples, cfg: LmConfig, iters: usize) -> RunOutcome {
    let mut opt = OptimizerSpec::Lm(cfg).build(Par::Seq);
    optim::train(
        opt.as_mut(),
        net,
        train,
        None,
        Limits::iters(iters),
        Par::Seq,
        &mut Silent,
    )
}

fn relative_difference(got: &Network, want: &Network) -> f64 {
    let diff = (&got.a - &want.a).norm_squared()
        + (&got.b - &want.b).norm_squared()
        + (&got.b0 - &want.b0).norm_squared();
    let size = want.a.norm_squared() + want.b.norm_squared() + want.b0.norm_squared();
    (diff / size).sqrt()
}

#[test]
fn trajectory_matches_a_plain_dense_lm() {
    let cases = [
        (1, 0.0, Damping::Identity, 0.0),
        (2, 0.1, Damping::Identity, 0.0),
        (1, 0.0, Damping::Marquardt, 0.0),
        (2, 0.0, Damping::Marquardt, 1e-3),
        (1, 0.1, Damping::Identity, 1e-2),
    ];
    for (case, (k, alpha, damping, ridge)) in cases.into_iter().enumerate() {
        let mut rng = seeded(500 + case as u64, Stream::Split);
        let (n, d, h) = (60, 3, 5);
        let x = inputs(n, d, &mut rng);
        // Targets in their own units (offset and scale), so that standardization matters.
        let y = DMatrix::from_fn(n, k, |i, c| {
            50.0 + 20.0 * ((x[(i, 0)] * (c + 1) as f64).sin() + x[(i, 1)].abs() * x[(i, 2)])
        });
        let train = Samples {
            x,
            y,
            classify: false,
        };
        let net = Network::random(d + 1, h, k, alpha, &mut seeded(case as u64, Stream::Init));
        let cfg = LmConfig {
            damping,
            ridge,
            ..LmConfig::default()
        };
        let what = format!("k={k} alpha={alpha} {damping:?} ridge={ridge}");

        let run = lm_run(net.clone(), &train, cfg, 10);
        let start = optim::initial_network(net, &train, Par::Seq);
        assert_eq!(run.initial_network, start);
        let mut reference = Reference::new(&start, &train, cfg);
        let mut mses = vec![reference.train_mse()];
        for _ in 0..10 {
            if !reference.step() {
                break;
            }
            mses.push(reference.train_mse());
        }
        assert_eq!(run.history.len(), 11, "{what}: {:?}", run.stop_reason);
        assert_eq!(mses.len(), 11, "{what}: the reference stopped early");
        for (entry, want) in run.history.iter().zip(&mses) {
            let got = entry.train_mse.unwrap();
            let rel = (got - want).abs() / want;
            assert!(
                rel < 1e-8,
                "{what}, iteration {}: MSE {got} against {want} ({rel:e})",
                entry.iter
            );
        }
        let rel = relative_difference(&run.last_network, &reference.network());
        assert!(rel < 1e-8, "{what}: parameters differ by {rel:e}");
        assert!(mses[10] < mses[0], "{what}: no progress {mses:?}");
        let mu = run.solver["mu"].as_f64().unwrap();
        assert!(
            (mu - reference.mu).abs() <= 1e-12 * reference.mu,
            "{what}: μ {mu} against {}",
            reference.mu
        );
    }
}

#[test]
fn training_mse_never_increases_on_a_planted_teacher() {
    for (k, alpha, damping) in [
        (1, 0.0, Damping::Identity),
        (1, 0.0, Damping::Marquardt),
        (2, 0.1, Damping::Identity),
    ] {
        let mut rng = seeded(700 + k as u64, Stream::Split);
        let (n, d) = (300, 4);
        let x = inputs(n, d, &mut rng);
        let teacher = random_net(d + 1, 3, k, alpha, &mut rng);
        let y = teacher.predict(&x);
        let train = Samples {
            x,
            y,
            classify: false,
        };
        let student = Network::random(d + 1, 8, k, alpha, &mut seeded(3, Stream::Init));
        let cfg = LmConfig {
            damping,
            ..LmConfig::default()
        };
        let run = lm_run(student, &train, cfg, 30);
        let losses: Vec<f64> = run.history.iter().map(|e| e.train_mse.unwrap()).collect();
        // The optimizer compares objectives in standardized units; the reported MSE, of the
        // network written back in the targets' units, may then differ by rounding (seen at
        // 1e-31 once the teacher is recovered).
        for w in losses.windows(2) {
            assert!(
                w[1] <= w[0] + 1e-14 * losses[0],
                "{damping:?} k={k}: loss rose {w:?}"
            );
        }
        let (first, last) = (losses[0], *losses.last().unwrap());
        assert!(
            last < 1e-2 * first,
            "{damping:?} k={k}: {first} → {last} ({:?})",
            run.stop_reason
        );
        assert_eq!(run.solver["damping"], damping.name());
        assert!(run.solver["rejected_steps"].as_u64().is_some());
    }
}

#[test]
fn converges_when_mu_passes_its_maximum() {
    // A tiny problem trained until no step helps: μ then grows past mu_max, the step reports
    // convergence, and the last entry is the previous network.
    let mut rng = seeded(900, Stream::Split);
    let (n, d) = (25, 2);
    let x = inputs(n, d, &mut rng);
    let y = DMatrix::from_fn(n, 1, |i, _| (2.0 * x[(i, 0)]).sin() + x[(i, 1)]);
    let train = Samples {
        x,
        y,
        classify: false,
    };
    let net = Network::random(d + 1, 3, 1, 0.0, &mut seeded(0, Stream::Init));
    let cfg = LmConfig {
        mu_max: 1e4,
        ..LmConfig::default()
    };
    let run = lm_run(net, &train, cfg, 2000);
    assert_eq!(run.stop_reason, StopReason::Converged);
    let h = &run.history;
    assert_eq!(
        h[h.len() - 1].train_mse,
        h[h.len() - 2].train_mse,
        "a converged step leaves the network unchanged"
    );
    assert!(run.solver["mu"].as_f64().unwrap() > 1e4);
}

/// The settings' description's check of an LM config.
fn check(cfg: LmConfig) -> Result<(), String> {
    anmin::settings::check_spec(&OptimizerSpec::Lm(cfg))
}

#[test]
fn check_rejects_invalid_settings() {
    let ok = LmConfig::default();
    assert_eq!(check(ok), Ok(()));
    let bad = [
        LmConfig { mu: 0.0, ..ok },
        LmConfig { mu: -1.0, ..ok },
        LmConfig { mu: f64::NAN, ..ok },
        LmConfig { mu_dec: 0.0, ..ok },
        LmConfig { mu_dec: 1.0, ..ok },
        LmConfig { mu_dec: 1.5, ..ok },
        LmConfig { mu_inc: 1.0, ..ok },
        LmConfig { mu_inc: 0.5, ..ok },
        LmConfig {
            mu_inc: f64::INFINITY,
            ..ok
        },
        LmConfig { mu_max: 1e-4, ..ok },
        LmConfig {
            mu_max: f64::INFINITY,
            ..ok
        },
        LmConfig { ridge: -1e-3, ..ok },
        LmConfig {
            ridge: f64::NAN,
            ..ok
        },
    ];
    for cfg in bad {
        assert!(check(cfg).is_err(), "{cfg:?} passed its check");
    }
    assert_eq!(check(LmConfig { mu_max: 1e-3, ..ok }), Ok(()));
    let spec = OptimizerSpec::Lm(ok).with_ridge(0.5);
    assert_eq!(spec.name(), "lm");
    match spec {
        OptimizerSpec::Lm(cfg) => assert_eq!(cfg.ridge, 0.5),
        _ => unreachable!(),
    }
}
