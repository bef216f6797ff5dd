//! The Python module `anmin._native` (PyO3), built only with the `python` feature (maturin,
//! pyproject.toml). It holds no training logic: `fit` turns numpy arrays into a
//! [`Dataset`](crate::data::Dataset) and runs the library's training call, `predict` applies a
//! saved model as `anmin predict` does, and `run_cli` runs the command line itself, so that
//! `pip install .` also puts the `anmin` command on the PATH. The estimator's conventions
//! (scikit-learn's) live in python/anmin/.

use clap::Parser;
use nalgebra::DMatrix;
use numpy::{PyArray2, PyReadonlyArray2, ToPyArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::cli::Cli;
use crate::commands;
use crate::model::SavedModel;

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
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(check_model, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    Ok(())
}
