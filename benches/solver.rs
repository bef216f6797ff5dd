//! Benchmarks of ANMIN's hot path, each reported in GFLOP/s next to the GFLOP/s of a plain
//! dense matrix product of the same shape measured in the same run (rates drift on shared
//! machines; ratios from one run do not).
//!
//! `cargo bench --bench solver` runs criterion and then prints a table. Flop counts:
//! assembly n·p² (the lower triangle of ΦᵀΦ: n·p²/2 multiply-adds), Cholesky p³/3, dense
//! product ΦᵀΦ computed in full 2·n·p², with p = h(d+1).

use std::cell::RefCell;
use std::time::{Duration, Instant};

use anmin::data::Samples;
use anmin::linalg::view;
use anmin::model::Network;
use anmin::optim::a_system;
use anmin::rng::{Stream, seeded};
use criterion::{BenchmarkId, Criterion, Throughput};
use faer::Par;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;

/// (n, d+1, h) shapes; the first is abalone with h = 64.
const SHAPES: [(usize, usize, usize); 1] = [(3342, 11, 64)];

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
    let train = Samples { x, y };
    let net = Network::random(d1, h, 1, 0.0, &mut seeded(0, Stream::Init));
    let net = anmin::optim::initial_network(net, &train, Par::Seq);
    Problem { train, net }
}

/// The Φ matrix of the current pattern, built densely (only for the reference product).
fn phi(p: &Problem) -> DMatrix<f64> {
    let (n, d1) = p.train.x.shape();
    let z = p.net.pre_activations(&p.train.x);
    DMatrix::from_fn(n, p.net.hidden() * d1, |i, col| {
        p.net.slope(z[(i, col / d1)]) * p.train.x[(i, col % d1)]
    })
}

/// Median seconds per call of each benchmark, gathered while criterion runs it.
struct Timings(RefCell<Vec<(String, f64, Vec<f64>)>>);

impl Timings {
    fn record(&self, name: &str, flops: f64, per_call: f64) {
        let mut all = self.0.borrow_mut();
        match all.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, samples)) => samples.push(per_call),
            None => all.push((name.to_owned(), flops, vec![per_call])),
        }
    }

    fn median(&self, name: &str) -> Option<(f64, f64)> {
        let all = self.0.borrow();
        let (_, flops, samples) = all.iter().find(|(n, _, _)| n == name)?;
        let mut s = samples.clone();
        s.sort_by(f64::total_cmp);
        Some((*flops, s[s.len() / 2]))
    }
}

fn timed<F: FnMut()>(timings: &Timings, name: &str, flops: f64, iters: u64, mut f: F) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let elapsed = start.elapsed();
    timings.record(name, flops, elapsed.as_secs_f64() / iters as f64);
    elapsed
}

fn bench_shape(
    c: &mut Criterion,
    timings: &Timings,
    (n, d1, h): (usize, usize, usize),
    par: Par,
    tag: &str,
) {
    let p = h * d1;
    let prob = problem(n, d1, h);
    let shape = format!("{n}x{d1}x{h}{tag}");
    let mut group = c.benchmark_group(format!("solver/{shape}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));

    let phi = phi(&prob);
    let phi_t = phi.transpose();
    let mut dense = DMatrix::zeros(p, p);
    let dense_flops = 2.0 * (n * p * p) as f64;
    let name = format!("{shape}/dense ΦᵀΦ nalgebra");
    group.throughput(Throughput::Elements(dense_flops as u64));
    group.bench_function(BenchmarkId::new("dense_nalgebra", &shape), |b| {
        b.iter_custom(|iters| {
            timed(timings, &name, dense_flops, iters, || {
                dense.gemm(1.0, &phi_t, &phi, 0.0)
            })
        })
    });
    let mut dense_faer = faer::Mat::<f64>::zeros(p, p);
    let name = format!("{shape}/dense ΦᵀΦ faer");
    group.bench_function(BenchmarkId::new("dense_faer", &shape), |b| {
        b.iter_custom(|iters| {
            timed(timings, &name, dense_flops, iters, || {
                faer::linalg::matmul::matmul(
                    dense_faer.as_mut(),
                    faer::Accum::Replace,
                    view(&phi).transpose(),
                    view(&phi),
                    1.0,
                    par,
                )
            })
        })
    });

    let assembly_flops = (n * p * p) as f64;
    let name = format!("{shape}/A assembly");
    group.throughput(Throughput::Elements(assembly_flops as u64));
    group.bench_function(BenchmarkId::new("a_assembly", &shape), |b| {
        b.iter_custom(|iters| {
            timed(timings, &name, assembly_flops, iters, || {
                std::hint::black_box(a_system::assemble(
                    &prob.net,
                    &prob.train.x,
                    &prob.train.y,
                    par,
                ));
            })
        })
    });

    let solve_flops = (p * p * p) as f64 / 3.0;
    let system = a_system::assemble(&prob.net, &prob.train.x, &prob.train.y, par);
    let name = format!("{shape}/A solve (Cholesky)");
    group.throughput(Throughput::Elements(solve_flops as u64));
    group.bench_function(BenchmarkId::new("a_solve", &shape), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let copy = a_system::ASystem {
                    matrix: system.matrix.clone(),
                    rhs: system.rhs.clone(),
                    b_scale: system.b_scale,
                };
                total += timed(timings, &name, solve_flops, 1, || {
                    std::hint::black_box(a_system::solve(
                        a_system::ASystem {
                            matrix: copy.matrix.clone(),
                            rhs: copy.rhs.clone(),
                            b_scale: copy.b_scale,
                        },
                        &prob.net.a,
                        0.0,
                        1e-12,
                        par,
                    ));
                });
            }
            total
        })
    });
    group.finish();
}

fn main() {
    let timings = Timings(RefCell::new(Vec::new()));
    let mut c = Criterion::default().configure_from_args();
    for shape in SHAPES {
        bench_shape(&mut c, &timings, shape, Par::Seq, "");
    }
    c.final_summary();

    println!("\n| shape (n×(d+1)×h) | kernel | ms | GFLOP/s | vs dense nalgebra | vs dense faer |");
    println!("|---|---|---:|---:|---:|---:|");
    for (n, d1, h) in SHAPES {
        let shape = format!("{n}x{d1}x{h}");
        let rate = |k: &str| {
            timings
                .median(&format!("{shape}/{k}"))
                .map(|(f, t)| (t, f / t / 1e9))
        };
        let nal = rate("dense ΦᵀΦ nalgebra").map(|r| r.1);
        let fa = rate("dense ΦᵀΦ faer").map(|r| r.1);
        for kernel in [
            "dense ΦᵀΦ nalgebra",
            "dense ΦᵀΦ faer",
            "A assembly",
            "A solve (Cholesky)",
        ] {
            if let Some((t, g)) = rate(kernel) {
                let ratio = |base: Option<f64>| {
                    base.map_or("-".into(), |b| format!("{:.0}%", 100.0 * g / b))
                };
                println!(
                    "| {n}×{d1}×{h} | {kernel} | {:.2} | {g:.1} | {} | {} |",
                    t * 1e3,
                    ratio(nal),
                    ratio(fa)
                );
            }
        }
    }
}
