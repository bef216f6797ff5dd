//! Benchmarks of ANMIN's hot paths and of one Adam epoch, each reported in GFLOP/s next to the
//! GFLOP/s of a plain dense matrix product of the same shape by the same library, measured in
//! the same run (absolute rates drift on shared machines; ratios from one run do not).
//!
//! `cargo bench --bench solver` runs criterion, then prints a markdown table. Set
//! `ANMIN_BENCH_SHAPES=small` to run only the abalone-sized shape, `depth` for abalone and sml.
//!
//! Flop counts (p = h(d+1)):
//! - dense ΦᵀΦ (n×p)ᵀ(n×p), computed in full: 2·n·p²
//! - A assembly, dense: the lower triangle of ΦᵀΦ by a symmetric rank-k update, n·p²
//! - A assembly (pattern-aware, the one ANMIN runs): the flops it performs, one product per
//!   unit j over its active rows S_j, Σ_j 2·|S_j|·(d+1)(d+2)/2·(j+1), about n·p²/4 for ReLU
//!   with half the activations on; its "effective" rate counts the dense n·p² instead
//! - A solve (Cholesky): p³/3
//! - B-step: forward pass 2·n·h·(d+1) plus the lower triangle of HᵀH, n·h²; its dense
//!   reference is HᵀH in full, 2·n·h²
//! - one safeguarded iteration: assembly + solve (the line-search B-steps add a few percent)
//! - one Adam epoch (batches of 32): forward and backward, 6·n·h·(d+1) + 6·n·h·k; its dense
//!   reference is the batch product (32×(d+1))·((d+1)×h)

use std::cell::RefCell;
use std::time::{Duration, Instant};

use anmin::data::Samples;
use anmin::linalg::view;
use anmin::model::Network;
use anmin::optim::anmin::{Anmin, AnminConfig};
use anmin::optim::anmin::{a_system, pair_gram};
use anmin::optim::baselines::adam::AdamConfig;
use anmin::optim::baselines::minibatch::BatchConfig;
use anmin::optim::output_layer;
use anmin::optim::{Optimizer, OptimizerSpec};
use anmin::rng::{Stream, seeded};
use criterion::{BenchmarkId, Criterion};
use faer::Par;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;

/// (n, d+1, h): abalone with h = 64 and 256, two large generated problems, and sml's shape.
const SHAPES: [(usize, usize, usize); 5] = [
    (3342, 11, 64),
    (3342, 11, 256),
    (32000, 9, 64),
    (15000, 27, 128),
    (3310, 27, 64),
];

struct Problem {
    train: Samples,
    net: Network,
}

fn problem(n: usize, d1: usize, h: usize) -> Problem {
    let mut rng = seeded(0, Stream::Split);
    let x = DMatrix::from_fn(n, d1 - 1, |_, _| rng.sample::<f64, _>(StandardNormal))
        .insert_column(d1 - 1, 1.0);
    let y = DMatrix::from_fn(n, 1, |i, _| {
        x[(i, 0)].sin() + x[(i, 1)] * x[(i, 2 % (d1 - 1))]
    });
    let train = Samples {
        x,
        y,
        classify: false,
    };
    let net = Network::random(d1, h, 1, 0.0, &mut seeded(0, Stream::Init));
    let net = anmin::optim::initial_network(net, &train, Par::Seq);
    Problem { train, net }
}

/// Φ of the current pattern, built densely (only for the reference product).
fn phi(p: &Problem) -> DMatrix<f64> {
    let (n, d1) = p.train.x.shape();
    let z = p.net.pre_activations(&p.train.x);
    DMatrix::from_fn(n, p.net.hidden() * d1, |i, col| {
        p.net.slope(z[(i, col / d1)]) * p.train.x[(i, col % d1)]
    })
}

/// Seconds per call of each benchmark, gathered while criterion runs it.
#[derive(Default)]
struct Timings(RefCell<Vec<(String, f64, Vec<f64>)>>);

impl Timings {
    fn record(&self, name: &str, flops: f64, per_call: f64) {
        let mut all = self.0.borrow_mut();
        match all.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, samples)) => samples.push(per_call),
            None => all.push((name.to_owned(), flops, vec![per_call])),
        }
    }

    /// (seconds, GFLOP/s) at the median sample.
    fn median(&self, name: &str) -> Option<(f64, f64)> {
        let all = self.0.borrow();
        let (_, flops, samples) = all.iter().find(|(n, _, _)| n == name)?;
        let mut s = samples.clone();
        s.sort_by(f64::total_cmp);
        let t = s[s.len() / 2];
        Some((t, flops / t / 1e9))
    }
}

/// Benchmarks `f` under criterion, recording its time per call as `label` of `shape`.
fn bench<F: FnMut()>(
    c: &mut Criterion,
    timings: &Timings,
    shape: &str,
    label: &str,
    flops: f64,
    mut f: F,
) {
    let name = format!("{shape}/{label}");
    let mut group = c.benchmark_group("solver");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    group.bench_function(BenchmarkId::new(label.replace(' ', "_"), shape), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            let elapsed = start.elapsed();
            timings.record(&name, flops, elapsed.as_secs_f64() / iters as f64);
            elapsed
        })
    });
    group.finish();
}

fn bench_shape(c: &mut Criterion, t: &Timings, (n, d1, h): (usize, usize, usize)) {
    let p = h * d1;
    let (nf, pf, hf, d1f) = (n as f64, p as f64, h as f64, d1 as f64);
    let prob = problem(n, d1, h);
    let shape = format!("{n}x{d1}x{h}");

    let phi = phi(&prob);
    let phi_t = phi.transpose();
    let mut dense = DMatrix::zeros(p, p);
    bench(
        c,
        t,
        &shape,
        "dense PhiT Phi nalgebra",
        2.0 * nf * pf * pf,
        || dense.gemm(1.0, &phi_t, &phi, 0.0),
    );
    drop(dense);
    let mut dense = faer::Mat::<f64>::zeros(p, p);
    bench(
        c,
        t,
        &shape,
        "dense PhiT Phi faer",
        2.0 * nf * pf * pf,
        || {
            faer::linalg::matmul::matmul(
                dense.as_mut(),
                faer::Accum::Replace,
                view(&phi).transpose(),
                view(&phi),
                1.0,
                Par::Seq,
            )
        },
    );
    drop((dense, phi, phi_t));

    let (x, y) = (&prob.train.x, &prob.train.y);
    bench(c, t, &shape, "A assembly, dense", nf * pf * pf, || {
        std::hint::black_box(a_system::dense_gram(&prob.net, x, y, Par::Seq));
    });
    let z = prob.net.pre_activations(x);
    let active: Vec<usize> = (0..h)
        .map(|j| z.column(j).iter().filter(|v| **v > 0.0).count())
        .collect();
    let pattern_flops = pair_gram::PairGram::relu_flops(&active, d1);
    println!(
        "{shape}: pattern-aware assembly {:.3} GFLOP against the dense {:.3} ({:.0}% active)",
        pattern_flops / 1e9,
        nf * pf * pf / 1e9,
        100.0 * active.iter().sum::<usize>() as f64 / (nf * hf)
    );
    bench(c, t, &shape, "A assembly", pattern_flops, || {
        std::hint::black_box(a_system::assemble(&prob.net, x, y, Par::Seq));
    });
    bench(c, t, &shape, "A assembly, 2 threads", pattern_flops, || {
        std::hint::black_box(a_system::assemble(&prob.net, x, y, Par::rayon(2)));
    });

    // The incremental correction after a small move of A (a few percent of activations flip,
    // as late in a run): flops 2·flips·(d+1)(d+2)/2·(h+1), two products per flipped unit. The timed call includes a copy of the p × p
    // Gram matrix, which a run does not make.
    let (gram, _) = a_system::PatternGram::assemble(&prob.net, x, y, Par::Seq);
    let mut moved = prob.net.clone();
    let mut rng = seeded(1, Stream::Init);
    moved.a += DMatrix::from_fn(h, d1, |_, _| rng.sample::<f64, _>(StandardNormal)) * 0.02;
    let flips = prob
        .net
        .pre_activations(x)
        .zip_map(&moved.pre_activations(x), |a, b| {
            f64::from(u8::from((a > 0.0) != (b > 0.0)))
        })
        .sum();
    println!(
        "{shape}: the moved A flips {:.1}% of the activations",
        100.0 * flips / (nf * hf)
    );
    bench(
        c,
        t,
        &shape,
        "A Gram correction",
        2.0 * flips * pair_gram::moments(d1) as f64 * (hf + 1.0),
        || {
            let mut g = gram.clone();
            std::hint::black_box(g.update(&moved, x, y, Par::Seq));
        },
    );
    drop(gram);

    let system = a_system::assemble(&prob.net, x, y, Par::Seq);
    bench(
        c,
        t,
        &shape,
        "A solve (faer Cholesky)",
        pf * pf * pf / 3.0,
        || {
            let copy = a_system::ASystem {
                matrix: system.matrix.clone(),
                rhs: system.rhs.clone(),
            };
            std::hint::black_box(a_system::solve(copy, &prob.net.a, 0.0, 1e-12, Par::Seq));
        },
    );
    if p <= 2816 {
        // nalgebra's unblocked Cholesky, for the gain of adopting faer.
        let full = DMatrix::from_fn(p, p, |r, c| {
            if r >= c {
                system.matrix[(r, c)]
            } else {
                system.matrix[(c, r)]
            }
        }) + DMatrix::identity(p, p) * 1e-8;
        bench(
            c,
            t,
            &shape,
            "A solve (nalgebra Cholesky)",
            pf * pf * pf / 3.0,
            || {
                std::hint::black_box(full.clone().cholesky());
            },
        );
    }
    drop(system);

    let hidden = prob.net.hidden_outputs(x);
    let hidden_t = hidden.transpose();
    let mut gram = DMatrix::zeros(h, h);
    bench(
        c,
        t,
        &shape,
        "dense HT H nalgebra",
        2.0 * nf * hf * hf,
        || gram.gemm(1.0, &hidden_t, &hidden, 0.0),
    );
    let mut gram = faer::Mat::<f64>::zeros(h, h);
    bench(c, t, &shape, "dense HT H faer", 2.0 * nf * hf * hf, || {
        faer::linalg::matmul::matmul(
            gram.as_mut(),
            faer::Accum::Replace,
            view(&hidden).transpose(),
            view(&hidden),
            1.0,
            Par::Seq,
        )
    });
    bench(
        c,
        t,
        &shape,
        "B-step",
        nf * hf * hf + 2.0 * nf * hf * d1f,
        || {
            std::hint::black_box(output_layer::fit(
                prob.net.hidden_outputs(x),
                y,
                0.0,
                Par::Seq,
            ));
        },
    );

    let mut opt = Anmin::new(AnminConfig::default(), Par::Seq);
    let mut start = prob.net.clone();
    opt.init(&mut start, &prob.train);
    bench(
        c,
        t,
        &shape,
        "safeguarded iteration",
        nf * pf * pf + pf * pf * pf / 3.0,
        || {
            let mut net = start.clone();
            let mut opt = Anmin::new(AnminConfig::default(), Par::Seq);
            opt.init(&mut net, &prob.train);
            std::hint::black_box(opt.step(&mut net, &prob.train));
        },
    );

    let spec = OptimizerSpec::Adam {
        rule: AdamConfig::with_lr(1e-3),
        batch: BatchConfig {
            batch_size: 32,
            ridge: 0.0,
            seed: 0,
            freeze_hidden: false,
        },
    };
    let mut adam = spec.build(Par::Seq);
    let mut net = prob.net.clone();
    adam.init(&mut net, &prob.train);
    bench(
        c,
        t,
        &shape,
        "Adam epoch",
        6.0 * nf * hf * (d1f + 1.0),
        || {
            std::hint::black_box(adam.step(&mut net, &prob.train));
        },
    );
    let batch = DMatrix::from_fn(32, d1, |i, j| x[(i, j)]);
    let a_t = prob.net.a.transpose();
    let mut z = faer::Mat::<f64>::zeros(32, h);
    bench(
        c,
        t,
        &shape,
        "dense batch product faer",
        2.0 * 32.0 * d1f * hf,
        || {
            faer::linalg::matmul::matmul(
                z.as_mut(),
                faer::Accum::Replace,
                view(&batch),
                view(&a_t),
                1.0,
                Par::Seq,
            )
        },
    );
}

fn main() {
    let timings = Timings::default();
    let mut c = Criterion::default().configure_from_args();
    let chosen = std::env::var("ANMIN_BENCH_SHAPES").unwrap_or_default();
    let shapes: Vec<_> = match chosen.as_str() {
        "small" => vec![SHAPES[0]],
        // The shapes of the depth measurements: abalone and sml.
        "depth" => vec![SHAPES[0], SHAPES[4]],
        _ => SHAPES.to_vec(),
    };
    for &shape in &shapes {
        bench_shape(&mut c, &timings, shape);
    }
    c.final_summary();

    // Each kernel against the dense product it is measured against.
    let rows: [(&str, &str); 12] = [
        ("dense PhiT Phi nalgebra", "dense PhiT Phi nalgebra"),
        ("dense PhiT Phi faer", "dense PhiT Phi faer"),
        ("A assembly, dense", "dense PhiT Phi faer"),
        ("A assembly", "dense PhiT Phi faer"),
        ("A assembly, 2 threads", "dense PhiT Phi faer"),
        ("A Gram correction", "dense PhiT Phi faer"),
        ("A solve (faer Cholesky)", "dense PhiT Phi faer"),
        ("A solve (nalgebra Cholesky)", "dense PhiT Phi nalgebra"),
        ("B-step", "dense HT H faer"),
        ("safeguarded iteration", "dense PhiT Phi faer"),
        ("Adam epoch", "dense batch product faer"),
        ("dense batch product faer", "dense batch product faer"),
    ];
    println!(
        "\n| n × (d+1) × h | kernel | GFLOP | ms | GFLOP/s | reference | ref GFLOP/s | ratio |"
    );
    println!("|---|---|---:|---:|---:|---|---:|---:|");
    for &(n, d1, h) in &shapes {
        let shape = format!("{n}x{d1}x{h}");
        for (kernel, reference) in rows {
            let (Some((secs, rate)), Some((_, ref_rate))) = (
                timings.median(&format!("{shape}/{kernel}")),
                timings.median(&format!("{shape}/{reference}")),
            ) else {
                continue;
            };
            println!(
                "| {n} × {d1} × {h} | {kernel} | {:.3} | {:.2} | {rate:.1} | {reference} | {ref_rate:.1} | {:.0}% |",
                rate * secs,
                secs * 1e3,
                100.0 * rate / ref_rate
            );
        }
    }
}
