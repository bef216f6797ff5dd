//! Datasets from numbers already in memory (a library caller's matrix, a NumPy array), with
//! the checks a CSV file gets: shapes, names, finite values, targets whose squares fit f64.

use nalgebra::DMatrix;

use super::encode::{Dataset, Encoding, InputColumn};
use crate::error::DataError;

/// The layout of a flat slice of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row after row (C order).
    RowMajor,
    /// Column after column (Fortran order, nalgebra's).
    ColumnMajor,
}

/// A borrowed `rows × cols` matrix of f64 in either layout.
#[derive(Debug, Clone, Copy)]
pub struct MatrixRef<'a> {
    pub values: &'a [f64],
    pub rows: usize,
    pub cols: usize,
    pub layout: Layout,
}

impl MatrixRef<'_> {
    /// The matrix as nalgebra's column-major matrix (one copy), or a shape error.
    fn to_matrix(self, source: &str, what: &str) -> Result<DMatrix<f64>, DataError> {
        if self.rows.checked_mul(self.cols) != Some(self.values.len()) {
            return Err(DataError::ArrayShape {
                path: source.into(),
                message: format!(
                    "{what} has {} values, not {} rows × {} columns",
                    self.values.len(),
                    self.rows,
                    self.cols
                ),
            });
        }
        Ok(match self.layout {
            Layout::ColumnMajor => DMatrix::from_column_slice(self.rows, self.cols, self.values),
            Layout::RowMajor => DMatrix::from_row_slice(self.rows, self.cols, self.values),
        })
    }
}

impl Dataset {
    /// A dataset of numeric features `x` (n × d, named `features`) and targets `y` (n × k,
    /// named `targets`); `source` names it in messages and reports. Every value must be
    /// finite, names unique and non-empty, and each target's sum of squares must fit f64 (as
    /// for CSV files).
    pub fn from_matrix(
        source: &str,
        (x, features): (MatrixRef<'_>, &[String]),
        (y, targets): (MatrixRef<'_>, &[String]),
    ) -> Result<Dataset, DataError> {
        let shape = |message: String| DataError::ArrayShape {
            path: source.into(),
            message,
        };
        let x_m = x.to_matrix(source, "X")?;
        let y_m = y.to_matrix(source, "y")?;
        if x.rows == 0 {
            return Err(shape("X has no rows".into()));
        }
        if x.rows != y.rows {
            return Err(shape(format!("X has {} rows but y has {}", x.rows, y.rows)));
        }
        if y.cols == 0 {
            return Err(shape("y has no columns (no target)".into()));
        }
        for (what, names, cols) in [("feature", features, x.cols), ("target", targets, y.cols)] {
            if names.len() != cols {
                return Err(shape(format!(
                    "{} {what} names for {cols} columns",
                    names.len()
                )));
            }
        }
        let all: Vec<&String> = features.iter().chain(targets).collect();
        for (i, name) in all.iter().enumerate() {
            if name.is_empty() {
                return Err(shape(format!("column {i} has an empty name")));
            }
            if let Some(first) = all[..i].iter().position(|other| other == name) {
                return Err(shape(format!(
                    "duplicate column name {name:?} (columns {first} and {i})"
                )));
            }
        }
        // A NaN feature is a missing value (imputed on the training rows); infinities are not.
        check_finite(source, "X", &x_m, features, true)?;
        check_finite(source, "y", &y_m, targets, false)?;
        let k = y.cols as f64;
        for (j, column) in y_m.column_iter().enumerate() {
            let sum_of_squares: f64 = column.iter().map(|v| v * v).sum();
            if sum_of_squares > f64::MAX / k {
                let max_abs = column.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let row = column.iter().position(|v| v.abs() == max_abs).unwrap_or(0);
                return Err(DataError::ArrayValue {
                    path: source.into(),
                    array: "y",
                    row,
                    column: j,
                    name: targets[j].clone(),
                    problem: format!(
                        "target too large to train on: squared errors of values like {} \
                         overflow f64; rescale it",
                        crate::numbers::shown(column[row])
                    ),
                });
            }
        }
        Ok(Dataset {
            source: source.into(),
            encoding: Encoding {
                inputs: features
                    .iter()
                    .map(|name| InputColumn::Numeric { name: name.clone() })
                    .collect(),
                targets: targets.to_vec(),
                classes: None,
            },
            x: x_m,
            y: y_m,
            dropped_rows: 0,
            file_rows: x.rows,
            notes: Vec::new(),
        })
    }
}

impl Dataset {
    /// This dataset (its targets the one-hot codes of `classes`, one column each) as a
    /// classification of one target named `target[0]`. Every row must be one class.
    pub fn into_classification(
        mut self,
        target: &[String],
        classes: Vec<String>,
    ) -> Result<Dataset, DataError> {
        let problem = |message: String| DataError::ColumnChoice {
            path: self.source.clone(),
            message,
        };
        let outputs = super::encode::labels_outputs(classes.len());
        if target.len() != 1 || classes.len() < 2 || outputs != self.y.ncols() {
            return Err(problem(format!(
                "a classification takes one target and at least 2 classes, one column of y \
                 each (two classes: one, the second's indicator); got {} targets, {} classes \
                 and {} columns",
                target.len(),
                classes.len(),
                self.y.ncols()
            )));
        }
        let one_hot = |row: usize| {
            let r = self.y.row(row);
            r.iter().all(|&v| v == 0.0 || v == 1.0) && (outputs == 1 || r.sum() == 1.0)
        };
        if let Some(row) = (0..self.y.nrows()).find(|&row| !one_hot(row)) {
            return Err(problem(format!(
                "row {row} of y is not the one-hot code of a class"
            )));
        }
        self.encoding.targets = target.to_vec();
        self.encoding.classes = Some(classes);
        Ok(self)
    }
}

/// The first value of `m` that is infinite, or NaN unless `nan_is_missing`, as an error.
fn check_finite(
    source: &str,
    array: &'static str,
    m: &DMatrix<f64>,
    names: &[String],
    nan_is_missing: bool,
) -> Result<(), DataError> {
    let bad = |v: &f64| v.is_infinite() || (v.is_nan() && !nan_is_missing);
    for (column, values) in m.column_iter().enumerate() {
        if let Some(row) = values.iter().position(bad) {
            return Err(DataError::ArrayValue {
                path: source.into(),
                array,
                row,
                column,
                name: names[column].clone(),
                problem: format!("{} is not a finite number", values[row]),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn both_layouts_give_the_same_dataset() {
        let row_major = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let col_major = [1.0, 3.0, 5.0, 2.0, 4.0, 6.0];
        let y = [1.0, 2.0, 3.0];
        let y = MatrixRef {
            values: &y,
            rows: 3,
            cols: 1,
            layout: Layout::RowMajor,
        };
        let make = |values: &[f64], layout| {
            let x = MatrixRef {
                values,
                rows: 3,
                cols: 2,
                layout,
            };
            Dataset::from_matrix("arrays", (x, &names("x", 2)), (y, &names("y", 1))).unwrap()
        };
        let a = make(&row_major, Layout::RowMajor);
        let b = make(&col_major, Layout::ColumnMajor);
        assert_eq!(a.x, b.x);
        assert_eq!(a.x[(1, 0)], 3.0);
        assert_eq!(a.x[(2, 1)], 6.0);
        assert_eq!(a.encoding.feature_names(), ["x0", "x1"]);
    }

    #[test]
    fn bad_arrays_are_errors_naming_the_place() {
        let x = [1.0, f64::INFINITY, 3.0, 4.0];
        let y = [1.0, 2.0];
        let xr = MatrixRef {
            values: &x,
            rows: 2,
            cols: 2,
            layout: Layout::RowMajor,
        };
        let yr = MatrixRef {
            values: &y,
            rows: 2,
            cols: 1,
            layout: Layout::RowMajor,
        };
        let e =
            Dataset::from_matrix("arrays", (xr, &names("x", 2)), (yr, &names("y", 1))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "arrays: X[0, 1] (\"x1\"): inf is not a finite number"
        );
        // NaN in X is a missing value; in y it is an error.
        let nan_x = [1.0, f64::NAN, 3.0, 4.0];
        let xn = MatrixRef {
            values: &nan_x,
            ..xr
        };
        let d = Dataset::from_matrix("arrays", (xn, &names("x", 2)), (yr, &names("y", 1))).unwrap();
        assert!(d.x[(0, 1)].is_nan());
        let nan_y = [f64::NAN, 2.0];
        let yn = MatrixRef {
            values: &nan_y,
            ..yr
        };
        let e =
            Dataset::from_matrix("arrays", (xn, &names("x", 2)), (yn, &names("y", 1))).unwrap_err();
        assert!(e.to_string().contains("y[0, 0]"), "{e}");
        let short = MatrixRef { rows: 1, ..yr };
        let e = Dataset::from_matrix("arrays", (xr, &names("x", 2)), (short, &names("y", 1)))
            .unwrap_err();
        assert!(e.to_string().contains("y has 2 values, not 1 rows"), "{e}");
        let e =
            Dataset::from_matrix("arrays", (xr, &names("x", 1)), (yr, &names("y", 1))).unwrap_err();
        assert!(
            e.to_string().contains("1 feature names for 2 columns"),
            "{e}"
        );
        let dup = vec!["a".to_string(), "a".to_string()];
        let e = Dataset::from_matrix("arrays", (xr, &dup), (yr, &names("y", 1))).unwrap_err();
        assert!(e.to_string().contains("duplicate column name"), "{e}");
        let huge = [1e300, 1e300];
        let yh = MatrixRef {
            values: &huge,
            ..yr
        };
        let ok_x = [1.0, 2.0, 3.0, 4.0];
        let xo = MatrixRef {
            values: &ok_x,
            ..xr
        };
        let e =
            Dataset::from_matrix("arrays", (xo, &names("x", 2)), (yh, &names("y", 1))).unwrap_err();
        assert!(e.to_string().contains("target too large"), "{e}");
    }
}
