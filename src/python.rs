//! The Python module `anmin._native` (PyO3), built only with the `python` feature (maturin,
//! pyproject.toml). It holds no training logic: `fit` turns numpy arrays into a
//! [`Dataset`](crate::data::Dataset) and runs the library's training call, `Model` holds a
//! saved model and applies it as `anmin predict` does ([`crate::predict`]), `settings` is the
//! settings' description from which the estimator takes its parameters and `parse_setting`
//! checks one of them, and `run_cli` runs the command line itself, so that `pip install .`
//! also puts the `anmin` command on the PATH. The estimator's conventions (scikit-learn's)
//! live in python/anmin/.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use std::sync::Arc;

use nalgebra::DMatrix;
use numpy::{PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods, ToPyArray};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::data::{Dataset, Layout, MatrixRef};
use crate::history::StopReason;
use crate::model::SavedModel;
use crate::optim::OptimizerKind;
use crate::train::{TrainRequest, Trainer, ValidRequest};

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

/// How often `fit` looks for Ctrl-C (Python runs its signal handlers only when asked).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// How long `fit` waits after Ctrl-C for the current step to end (as the command line).
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// A numpy matrix as the library's borrowed matrix: no copy for C or Fortran order (the
/// dataset then makes its one copy); a strided view is gathered first.
fn with_matrix<R>(x: &PyReadonlyArray2<'_, f64>, f: impl FnOnce(MatrixRef<'_>) -> R) -> R {
    let (rows, cols) = x.as_array().dim();
    let layout = if x.is_c_contiguous() {
        Some(Layout::RowMajor)
    } else if x.is_fortran_contiguous() {
        Some(Layout::ColumnMajor)
    } else {
        None
    };
    match (layout, x.as_slice()) {
        (Some(layout), Ok(values)) => f(MatrixRef {
            values,
            rows,
            cols,
            layout,
        }),
        _ => {
            let m = matrix(x);
            f(MatrixRef {
                values: m.as_slice(),
                rows,
                cols,
                layout: Layout::ColumnMajor,
            })
        }
    }
}

/// The arrays as a dataset, with the library's checks (shapes, names, finite values).
fn dataset(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray2<'_, f64>,
    feature_names: &[String],
    target_names: &[String],
) -> PyResult<Dataset> {
    with_matrix(x, |xm| {
        with_matrix(y, |ym| {
            Dataset::from_matrix("<python>", (xm, feature_names), (ym, target_names))
        })
    })
    .map_err(value_error)
}

/// Trains as `anmin train` does through the library's `Trainer`; the model file's text, the
/// run JSON and whether the run was interrupted.
fn train(
    dataset: &Dataset,
    request: &ValidRequest,
    (n_threads, max_memory): (usize, Option<f64>),
    interrupt: &AtomicBool,
) -> crate::Result<(String, String, bool)> {
    let trained = Trainer::new(request)
        .threads(n_threads)
        .max_memory(max_memory)
        .interrupt(interrupt)
        .run(dataset)?;
    let mut model_json =
        serde_json::to_string_pretty(&trained.saved_model(dataset)).expect("models serialize");
    model_json.push('\n');
    let report_json = serde_json::to_string(&trained.report).expect("reports serialize");
    let interrupted = trained.report.stop_reason == StopReason::Interrupted;
    Ok((model_json, report_json, interrupted))
}

/// Trains on every row of `x` (n × d) and `y` (n × k) as `anmin train` with the request's
/// settings; returns (model file text, run JSON). The GIL is released while a worker thread
/// trains; Ctrl-C stops it after the current step and raises KeyboardInterrupt.
#[pyfunction]
#[pyo3(signature = (x, y, names, request_json, n_threads, max_memory=None))]
fn fit(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    // The feature names, the target names and, for a classifier, its classes (the target
    // is then one name, y the classes' one-hot codes).
    names: (Vec<String>, Vec<String>, Option<Vec<String>>),
    request_json: &str,
    n_threads: usize,
    max_memory: Option<f64>,
) -> PyResult<(String, String)> {
    let request = TrainRequest::from_json(request_json).map_err(value_error)?;
    let (feature_names, target_names, classes) = names;
    let dataset = match classes {
        None => dataset(&x, &y, &feature_names, &target_names)?,
        Some(classes) => {
            // One output per class; two classes: one, the second's indicator.
            let skip = usize::from(classes.len() == 2);
            let outputs: Vec<String> = classes
                .iter()
                .skip(skip)
                .map(|c| format!("y={c}"))
                .collect();
            dataset(&x, &y, &feature_names, &outputs)?
                .into_classification(&target_names, classes)
                .map_err(value_error)?
        }
    };
    drop((x, y));
    // This fit's own flag: concurrent fits (threads of one process) stop independently.
    let interrupt = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel();
    let flag = Arc::clone(&interrupt);
    let worker = std::thread::spawn(move || {
        let result = train(&dataset, &request, (n_threads, max_memory), &flag);
        let _ = done.send(());
        result
    });
    let mut signal: Option<(PyErr, std::time::Instant)> = None;
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
            interrupt.store(true, Ordering::SeqCst);
            signal.get_or_insert((e, std::time::Instant::now()));
        }
        // A step that does not end within the grace period (a long factorization) is not
        // waited for: the worker is left to finish it and stop on its own.
        if let Some((_, since)) = &signal {
            if since.elapsed() > INTERRUPT_GRACE {
                let (e, _) = signal.take().expect("checked");
                return Err(e);
            }
        }
    }
    let result = py
        .detach(|| worker.join())
        .map_err(|_| PyRuntimeError::new_err("anmin: the training thread panicked"))?;
    if let Some((e, _)) = signal {
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

/// A saved model, parsed once: `Model(model_json)`; `predict(x)` gives its outputs (n × k)
/// for inputs in its encoded feature order (n × d), with its standardization and clipping,
/// exactly as `anmin predict`.
#[pyclass(frozen, module = "anmin._native")]
struct Model {
    model: SavedModel,
}

#[pymethods]
impl Model {
    #[new]
    fn new(model_json: &str) -> PyResult<Model> {
        let model = SavedModel::from_json(model_json, "model").map_err(value_error)?;
        Ok(Model { model })
    }

    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let d = self.model.encoding.n_features();
        if x.as_array().ncols() != d {
            return Err(PyValueError::new_err(format!(
                "X has {} features, but the model takes {d}",
                x.as_array().ncols()
            )));
        }
        let x = matrix(&x);
        let (values, noted) = py
            .detach(|| crate::predict::predict_noting(&self.model, &x, "X"))
            .map_err(value_error)?;
        // Missing values where training had none are answered, and said (as `anmin predict`
        // says them on stderr).
        for message in crate::predict::derive_messages(&self.model, &noted.derive, "X") {
            let text = std::ffi::CString::new(message.replace('\0', "")).expect("NULs removed");
            let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
            PyErr::warn(py, &category, &text, 1)?;
        }
        let (n, k) = values.shape();
        let out = numpy::ndarray::Array2::from_shape_fn((n, k), |(i, j)| values[(i, j)]);
        Ok(out.to_pyarray(py))
    }

    /// A classifier's class probabilities (n × classes) for inputs as `predict` takes them:
    /// softmax(outputs / temperature), exactly as `anmin predict` writes them.
    fn probabilities<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let t = self
            .model
            .temperature
            .ok_or_else(|| PyValueError::new_err("the model is not a classifier"))?;
        let outputs = self.predict(py, x)?.readonly();
        let outputs = matrix(&outputs);
        let p = crate::classify::probabilities(&outputs, t);
        let (n, k) = p.shape();
        let out = numpy::ndarray::Array2::from_shape_fn((n, k), |(i, j)| p[(i, j)]);
        Ok(out.to_pyarray(py))
    }

    /// A classifier's classes, in output order (None for a regressor).
    #[getter]
    fn classes(&self) -> Option<Vec<String>> {
        self.model.encoding.classes.clone()
    }

    /// The encoded feature names, in input order.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.model.encoding.feature_names()
    }

    #[getter]
    fn targets(&self) -> Vec<String> {
        self.model.encoding.targets.clone()
    }
}

/// The settings' description as JSON: one object per declaration (name, owner, optimizer,
/// type, range, default, help, flag, Python name, aliases).
#[pyfunction]
fn settings() -> String {
    crate::settings::describe().to_string()
}

/// The setting `name`'s value from its text, as JSON, or a `ValueError` with the message of
/// the command line's parser (`hidden must be a whole number from 1 to 1000000`).
#[pyfunction]
fn parse_setting(name: &str, text: &str) -> PyResult<String> {
    let setting = crate::settings::get(name)
        .ok_or_else(|| PyValueError::new_err(format!("{name} is not a setting")))?;
    setting
        .parse(text)
        .map(|v| v.to_string())
        .map_err(PyValueError::new_err)
}

/// The message for a setting optimizer `kind` does not take.
#[pyfunction]
fn not_taken(kind: &str, name: &str) -> PyResult<String> {
    let kind: OptimizerKind = kind.parse().map_err(PyValueError::new_err)?;
    Ok(crate::settings::not_taken(kind, name))
}

/// Checks a run request (JSON, as `fit` takes it) without training; a `ValueError` with the
/// library's message names what is wrong.
#[pyfunction]
fn check_request(request_json: &str) -> PyResult<()> {
    TrainRequest::from_json(request_json)
        .map(drop)
        .map_err(value_error)
}

/// Runs the command line with `argv` (argv[0] is the program name) as the `anmin` binary
/// does, and returns its exit code.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| crate::commands::run_cli(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(settings, m)?)?;
    m.add_function(wrap_pyfunction!(parse_setting, m)?)?;
    m.add_function(wrap_pyfunction!(not_taken, m)?)?;
    m.add_function(wrap_pyfunction!(check_request, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    Ok(())
}
