//! Tall and wide data: the sampled A-step (rows ≫ hidden weights) and the dual A-step (rows
//! < hidden weights) chosen by `auto`, on teacher data from `anmin gen teacher`; and the inputs
//! that large data comes in (gzip, standard input).

mod common;

use anmin::choice::Choice;
use anmin::cli::GenTeacherArgs;
use anmin::commands::gen_data::teacher_csv;
use anmin::data::{self, ColumnChoice, Dataset, Samples, Table};
use anmin::model::Network;
use anmin::optim::anmin::a_sample::SampleMode;
use anmin::optim::anmin::{ASolver, Anmin, AnminConfig};
use anmin::optim::{self, Limits, Optimizer, RunOutcome, Silent};
use anmin::rng::{Stream, seeded};
use common::{anmin, read_json};
use faer::Par;

fn teacher_args(rows: usize, features: usize) -> GenTeacherArgs {
    GenTeacherArgs {
        rows,
        features,
        hidden: 4,
        max_memory: None,
        noise: 0.1,
        seed: 1,
        out: "unused.csv".into(),
    }
}

/// Standardized training samples (every row) of a generated teacher.
fn teacher(rows: usize, features: usize) -> Samples {
    let csv = teacher_csv(&teacher_args(rows, features)).expect("generates");
    let table = Table::parse("teacher.csv", csv.as_bytes(), None).expect("parses");
    let dataset = Dataset::from_table(&table, &ColumnChoice::default()).expect("encodes");
    data::prepare(&dataset, 0.0, 0).expect("prepares").train
}

/// `iters` safeguarded ANMIN iterations with `cfg`, h = 8; the run and the solver report.
fn run(
    train: &Samples,
    cfg: AnminConfig,
    iters: usize,
    par: Par,
) -> (RunOutcome, serde_json::Value) {
    let net = Network::random(train.d_aug(), 8, 1, 0.0, &mut seeded(0, Stream::Init));
    let mut opt = Anmin::new(AnminConfig { tol: 0.0, ..cfg }, par);
    let outcome = optim::train(
        &mut opt,
        net,
        train,
        None,
        Limits::iters(iters),
        par,
        &mut Silent,
    );
    (outcome, opt.diagnostics())
}

fn losses(run: &RunOutcome) -> Vec<f64> {
    run.history.iter().map(|e| e.train_mse.unwrap()).collect()
}

#[test]
fn a_sample_of_every_row_is_the_exact_a_step() {
    let train = teacher(600, 4);
    let cholesky = AnminConfig {
        a_solver: ASolver::Cholesky,
        ..AnminConfig::default()
    };
    let (exact, _) = run(&train, cholesky, 3, Par::Seq);
    for mode in [SampleMode::Fixed, SampleMode::Fresh] {
        // 100 × h(d+1) = 4000 rows asked for: the sample is all 600.
        let sampled = AnminConfig {
            a_solver: ASolver::Sampled,
            a_sample: mode,
            a_sample_factor: 100,
            ..AnminConfig::default()
        };
        let (run, report) = run(&train, sampled, 3, Par::Seq);
        assert_eq!(report["a_solver"], "sampled");
        assert_eq!(report["a_sample_rows"], 600);
        // The same step, though reached through the gradient on all rows rather than the
        // assembled right-hand side: equal up to rounding.
        let error = (&run.network.a - &exact.network.a).amax() / exact.network.a.amax();
        assert!(error < 1e-8, "{mode:?}: {error:e}");
        let (a, b) = (losses(&run), losses(&exact));
        assert!((a[3] - b[3]).abs() < 1e-9 * b[3], "{a:?} vs {b:?}");
    }
}

#[test]
fn tall_data_samples_rows_stays_monotone_and_ignores_the_thread_count() {
    // 12,500 rows, h(d+1) = 96: auto samples 8 × 96 rows per A-step.
    let train = teacher(12_500, 11);
    for mode in [SampleMode::Fresh, SampleMode::Fixed] {
        let cfg = AnminConfig {
            a_sample: mode,
            seed: 5,
            ..AnminConfig::default()
        };
        let (seq, report) = run(&train, cfg, 8, Par::Seq);
        assert_eq!(report["a_solver"], "sampled", "{report}");
        assert_eq!(report["a_sample_rows"], 768);
        assert_eq!(report["a_sample"], mode.name());
        let (parallel, _) = run(&train, cfg, 8, Par::rayon(2));
        assert_eq!(seq.network, parallel.network, "{mode:?}: bitwise the same");
        let losses = losses(&seq);
        for w in losses.windows(2) {
            assert!(
                w[1] <= w[0],
                "{mode:?}: the loss rose from {} to {}",
                w[0],
                w[1]
            );
        }
        assert!(losses.last().unwrap() < &(0.5 * losses[0]), "{losses:?}");
        // Another seed samples other rows.
        let (other, _) = run(&train, AnminConfig { seed: 6, ..cfg }, 8, Par::Seq);
        assert_ne!(other.network, seq.network);
    }
}

#[test]
fn wide_data_takes_the_dual_form_with_the_primal_answer() {
    // 30 rows, h(d+1) = 8 × 41 = 328 hidden weights; and 500 rows, large enough for the
    // parallel kernels to split their work.
    let train = teacher(30, 40);
    for (data, iters) in [(&train, 3), (&teacher(500, 600), 2)] {
        let (seq, report) = run(data, AnminConfig::default(), iters, Par::Seq);
        assert_eq!(report["a_solver"], "dual");
        let (parallel, _) = run(data, AnminConfig::default(), iters, Par::rayon(2));
        assert_eq!(
            seq.network, parallel.network,
            "bitwise the same whatever the threads"
        );
    }
    // The primal system is singular here but for its relative shift: a larger one keeps
    // its solve accurate, and the dual uses the same.
    let shifted = |a_solver| AnminConfig {
        a_solver,
        a_shift: 1e-7,
        ..AnminConfig::default()
    };
    let (dual, _) = run(&train, shifted(ASolver::Dual), 1, Par::Seq);
    let (primal, _) = run(&train, shifted(ASolver::Cholesky), 1, Par::Seq);
    let (d, p) = (losses(&dual)[1], losses(&primal)[1]);
    assert!((d - p).abs() <= 1e-6 * p, "dual {d} vs primal {p}");
    assert!(d < 0.5 * losses(&dual)[0]);
}

#[test]
fn gen_teacher_gzip_and_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("t.csv.gz");
    let plain = dir.path().join("t.csv");
    for path in [&gz, &plain] {
        anmin()
            .args([
                "gen",
                "teacher",
                "--rows",
                "300",
                "--features",
                "3",
                "--hidden",
                "4",
            ])
            .args(["--seed", "1"])
            .arg("--out")
            .arg(path)
            .assert()
            .success();
    }
    // Seeded: the same rows as the library's generator, compressed or not.
    let text = teacher_csv(&teacher_args(300, 3)).unwrap();
    assert!(std::fs::read_to_string(&plain).unwrap() == text);
    assert!(std::fs::read(&gz).unwrap().starts_with(&[0x1f, 0x8b]));

    // The compressed file, the plain one and the plain text on stdin train alike.
    let mut runs = Vec::new();
    for (i, data) in [gz.as_os_str(), plain.as_os_str(), "-".as_ref()]
        .iter()
        .enumerate()
    {
        let out = dir.path().join(format!("run{i}.json"));
        anmin()
            .args([
                "train", "--hidden", "4", "--iters", "2", "--quiet", "--data",
            ])
            .arg(data)
            .arg("--out")
            .arg(&out)
            .write_stdin(text.clone())
            .assert()
            .success();
        runs.push(read_json(&out));
    }
    assert_eq!(runs[2]["dataset"]["path"], "<stdin>");
    for run in &runs[1..] {
        assert_eq!(run["final"]["train_mse"], runs[0]["final"]["train_mse"]);
    }

    // Errors in standard input name it, with line and column.
    anmin()
        .args(["train", "--quiet", "--data", "-"])
        .write_stdin("x,y\n1,2\n3\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("<stdin>:3: row has 1 fields"));
    anmin()
        .args(["train", "--quiet", "--data", "-"])
        .write_stdin("x,y\n1,2\n3,x\n")
        .assert()
        .code(2)
        .stderr(predicates::str::starts_with(
            "error: <stdin>:3:2: target column \"y\" must be numeric, found \"x\"",
        ));
}

#[test]
fn auto_chooses_by_shape() {
    use anmin::optim::anmin::ProblemSize;
    let choose = |rows, hidden, d_aug, outputs| {
        let size = ProblemSize {
            rows,
            hidden,
            d_aug,
            outputs,
        };
        ASolver::Auto.resolve(size, 8 * hidden * d_aug).name()
    };
    // The paper's datasets keep the exact A-step (abalone, training rows).
    assert_eq!(choose(3342, 64, 11, 1), "cholesky");
    // The shape decoder: many rows, but assembling is cheap next to a pass over them.
    assert_eq!(choose(16384, 64, 3, 1), "cholesky");
    // The denoising autoencoder: 64 outputs, n·k far above h(d+1).
    assert_eq!(choose(3249, 64, 65, 64), "cholesky");
    // Tall: a 1M-row teacher's training rows; 10⁴ rows are still few.
    assert_eq!(choose(800_000, 64, 17, 1), "sampled");
    assert_eq!(choose(8_000, 64, 17, 1), "cholesky");
    // Wide: 300 × 2000.
    assert_eq!(choose(240, 64, 2001, 1), "dual");
    // Tall and wide: neither the p-square nor the n-square matrix fits.
    assert_eq!(choose(100_000, 64, 201, 1), "cg");
}
