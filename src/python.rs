//! The Python module `anmin._native` (PyO3), built only with the `python` feature (maturin,
//! pyproject.toml). It holds no training logic: `fit` turns numpy arrays into a
//! [`Dataset`](crate::data::Dataset) and runs the library's training call, `predict` applies a
//! saved model as `anmin predict` does, and `run_cli` runs the command line itself, so that
//! `pip install .` also puts the `anmin` command on the PATH. The estimator's conventions
//! (scikit-learn's) live in python/anmin/.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use nalgebra::DMatrix;
use numpy::{PyArray2, PyReadonlyArray2, ToPyArray};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Value, json};

use crate::cli::{Cli, Command, TrainArgs};
use crate::commands;
use crate::data::{Dataset, Encoding, InputColumn};
use crate::model::SavedModel;
use crate::optim::Observer;
use crate::report::{HistoryEntry, StopReason};

/// An anmin error as a Python `ValueError` with the CLI's message.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A numpy matrix (any strides: C or Fortran order, or a view) as a column-major matrix.
fn matrix(x: &PyReadonlyArray2<'_, f64>) -> DMatrix<f64> {
    let view = x.as_array();
    let (n, d) = view.dim();
    // Column by column: a plain copy for Fortran order, a strided read for C order.
    let mut m = DMatrix::zeros(n, d);
    for (j, column) in view.columns().into_iter().enumerate() {
        for (dst, src) in m.column_mut(j).iter_mut().zip(column.iter()) {
            *dst = *src;
        }
    }
    m
}

/// Set by Ctrl-C while a `fit` waits for its training thread; the training loop stops after
/// its current step. One flag for the process, as SIGINT is one signal for the process.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// How often `fit` looks for Ctrl-C (Python runs its signal handlers only when asked).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The run request (JSON) as `anmin train` arguments.
///
/// Interim: until the library's own run request lands, the request's settings become the
/// CLI's flags (`{"split": {"test_frac": 0}}` → `--test-frac 0`), parsed by the CLI's parser,
/// so that every value gets the CLI's checks and defaults.
fn train_args(request_json: &str) -> PyResult<TrainArgs> {
    let request: Value = serde_json::from_str(request_json).map_err(value_error)?;
    let mut argv: Vec<String> = vec!["anmin".into(), "train".into()];
    let mut flag = |key: &str, value: &Value| {
        let text = match value {
            Value::Null => return,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        argv.push(format!("--{}", key.replace('_', "-")));
        argv.push(text);
    };
    let object = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
    for section in ["split", "network"] {
        for (key, value) in &object(request.get(section)) {
            flag(key, value);
        }
    }
    for (kind, settings) in &object(request.get("optimizer")) {
        flag("optimizer", &json!(kind));
        for (key, value) in settings.as_object().into_iter().flatten() {
            flag(key, value);
        }
    }
    for key in ["ridge", "max_seconds"] {
        if let Some(value) = request.get(key) {
            flag(key, value);
        }
    }
    argv.push("--quiet".into());
    match Cli::try_parse_from(&argv) {
        Ok(Cli {
            command: Command::Train(args),
        }) => Ok(*args),
        Ok(_) => unreachable!("the arguments name the train command"),
        Err(e) => Err(PyValueError::new_err(
            e.render().to_string().trim().to_owned(),
        )),
    }
}

/// Numbers from Python (already checked finite and numeric there) as a dataset of numeric
/// columns, as the CSV reader would have built it.
fn dataset(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray2<'_, f64>,
    feature_names: Vec<String>,
    target_names: Vec<String>,
) -> PyResult<Dataset> {
    let (x, y) = (matrix(x), matrix(y));
    if x.nrows() != y.nrows() {
        return Err(PyValueError::new_err(format!(
            "X has {} rows but y has {}",
            x.nrows(),
            y.nrows()
        )));
    }
    if feature_names.len() != x.ncols() || target_names.len() != y.ncols() {
        return Err(PyValueError::new_err(
            "feature or target names do not match the columns",
        ));
    }
    if x.iter().chain(y.iter()).any(|v| !v.is_finite()) {
        return Err(PyValueError::new_err("Input contains NaN or infinity."));
    }
    let n = x.nrows();
    Ok(Dataset {
        source: "<python>".into(),
        encoding: Encoding {
            inputs: feature_names
                .into_iter()
                .map(|name| InputColumn::Numeric { name })
                .collect(),
            targets: target_names,
        },
        x,
        y,
        dropped_rows: 0,
        file_rows: n,
    })
}

struct Silent;

impl Observer for Silent {
    fn on_entry(&mut self, _: &HistoryEntry) {}
}

/// Trains as `anmin train` does; the model file's text and the run JSON.
fn train(
    dataset: &Dataset,
    args: &TrainArgs,
    n_threads: usize,
) -> crate::Result<(String, String, bool)> {
    commands::optimizer_flags::check_applicable(&args.optim, &[args.optimizer])?;
    let (spec, mut limits) =
        commands::optimizer_flags::resolve(args.optimizer, &args.optim, args.split.seed);
    limits.interrupt = Some(&INTERRUPT);
    let par = commands::parallelism(n_threads);
    let trained = commands::train::train_dataset(dataset, args, &spec, limits, par, &mut Silent)?;
    let outcome = &trained.outcome;
    let training = json!({
        "optimizer": trained.report.optimizer,
        "iter": outcome.final_entry.iter,
        "train_mse": outcome.final_entry.train_mse,
        "dataset": dataset.source,
        "seed": args.split.seed,
        "test_frac": args.split.test_frac,
    });
    let model = SavedModel::new(
        &outcome.network,
        &dataset.encoding,
        &trained.prepared.scaler,
        training,
    );
    let mut model_json = serde_json::to_string_pretty(&model).expect("models serialize");
    model_json.push('\n');
    let report_json = serde_json::to_string(&trained.report).expect("reports serialize");
    let interrupted = trained.report.stop_reason == StopReason::Interrupted;
    Ok((model_json, report_json, interrupted))
}

/// Trains on every row of `x` (n × d) and `y` (n × k) as `anmin train` with the request's
/// settings; returns (model file text, run JSON). The GIL is released while a worker thread
/// trains; Ctrl-C stops it after the current step and raises KeyboardInterrupt.
#[pyfunction]
#[pyo3(signature = (x, y, feature_names, target_names, request_json, n_threads))]
fn fit(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    feature_names: Vec<String>,
    target_names: Vec<String>,
    request_json: &str,
    n_threads: usize,
) -> PyResult<(String, String)> {
    let args = train_args(request_json)?;
    let dataset = dataset(&x, &y, feature_names, target_names)?;
    drop((x, y));
    INTERRUPT.store(false, Ordering::SeqCst);
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = train(&dataset, &args, n_threads);
        let _ = done.send(());
        result
    });
    let mut signal: Option<PyErr> = None;
    let mut finished = Some(finished);
    loop {
        // The receiver moves into the GIL-free closure and back (it is not Sync).
        let receiver = finished.take().expect("kept between polls");
        let (status, receiver) = py.detach(move || (receiver.recv_timeout(SIGNAL_POLL), receiver));
        finished = Some(receiver);
        if status != Err(mpsc::RecvTimeoutError::Timeout) {
            break;
        }
        if let Err(e) = py.check_signals() {
            INTERRUPT.store(true, Ordering::SeqCst);
            signal.get_or_insert(e);
        }
    }
    let result = py
        .detach(|| worker.join())
        .map_err(|_| PyRuntimeError::new_err("anmin: the training thread panicked"))?;
    if let Some(e) = signal {
        return Err(e);
    }
    let (model_json, report_json, interrupted) = result.map_err(value_error)?;
    if interrupted {
        return Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(
            "training interrupted",
        ));
    }
    Ok((model_json, report_json))
}

/// The model's outputs (n × k) for inputs in its encoded feature order (n × d), with its
/// standardization and clipping, exactly as `anmin predict`.
#[pyfunction]
fn predict<'py>(
    py: Python<'py>,
    model_json: &str,
    x: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let model = SavedModel::from_json(model_json, "model").map_err(value_error)?;
    let d = model.encoding.n_features();
    if x.as_array().ncols() != d {
        return Err(PyValueError::new_err(format!(
            "X has {} features, but the model takes {d}",
            x.as_array().ncols()
        )));
    }
    let x = matrix(&x);
    let values = py
        .detach(|| commands::predict::predict_encoded(&model, &x, "X"))
        .map_err(value_error)?;
    let (n, k) = values.shape();
    let out = ndarray_from(&values, n, k);
    Ok(out.to_pyarray(py))
}

fn ndarray_from(m: &DMatrix<f64>, n: usize, k: usize) -> numpy::ndarray::Array2<f64> {
    numpy::ndarray::Array2::from_shape_fn((n, k), |(i, j)| m[(i, j)])
}

/// Checks a model file's text; returns its encoded feature names and target names as JSON.
#[pyfunction]
fn check_model(model_json: &str) -> PyResult<String> {
    let model = SavedModel::from_json(model_json, "model").map_err(value_error)?;
    let info = serde_json::json!({
        "features": model.encoding.feature_names(),
        "targets": model.encoding.targets,
    });
    Ok(info.to_string())
}

/// Runs the command line with `argv` (argv[0] is the program name) as the `anmin` binary
/// does, and returns its exit code.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| match Cli::try_parse_from(argv) {
        Err(e) => {
            // --help and --version are "errors" that print to stdout and exit 0.
            let _ = e.print();
            e.exit_code()
        }
        Ok(cli) => match commands::run(cli) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                i32::from(e.exit_code())
            }
        },
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(check_model, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    Ok(())
}
