//! Class labels: a target column read as classes (text labels, or numbers with
//! `--task classify`), one-hot encoded into one target per class.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::cell_at::CellAt;
use crate::data::cell::Cell;
use crate::data::table::Table;
use crate::error::DataError;

/// Whether the target is a quantity or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Classification when the one target column holds text, regression otherwise.
    #[default]
    Auto,
    Regress,
    Classify,
}

crate::choice!(Task {
    Auto => ("auto", "classify when the (one) target column holds text and no numbers, regress otherwise"),
    Regress => ("regress", "the targets are numbers to predict (square loss, MSE and R2)"),
    Classify => ("classify", "the target column holds class labels, text or numbers: one output per class"),
});

/// The label a target cell stands for: its text, or a number as Rust writes it (`3`, not
/// `3.0`); None for a missing cell.
pub fn label_of(cell: Cell<'_>) -> Option<String> {
    match cell {
        Cell::Number(v) => Some(format!("{v}")),
        Cell::Text(t) => Some(t.to_owned()),
        Cell::Missing(_) => None,
    }
}

/// Whether any of `rows` of column `col` holds text (not a number, not missing).
pub(super) fn holds_text(table: &Table, col: usize, rows: &[usize]) -> bool {
    rows.iter()
        .any(|&row| matches!(table.cell(row, col), Cell::Text(_)))
}

/// Whether `rows` of column `col` hold text and no number: labels, as `--task auto` reads
/// them. A number column with a stray text cell stays an error (most likely a typo).
pub(super) fn only_text(table: &Table, col: usize, rows: &[usize]) -> bool {
    holds_text(table, col, rows)
        && !rows
            .iter()
            .any(|&row| matches!(table.cell(row, col), Cell::Number(_)))
}

/// The distinct labels of `rows` of column `col`, sorted: by value when every label is a
/// number, else as text (the order of Python's `numpy.unique` on the same labels).
pub(super) fn classes_of(table: &Table, col: usize, rows: &[usize]) -> Vec<String> {
    let numeric = !holds_text(table, col, rows);
    if numeric {
        let mut values: Vec<f64> = rows
            .iter()
            .filter_map(|&row| match table.cell(row, col) {
                Cell::Number(v) => Some(v),
                _ => None,
            })
            .collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        return values.iter().map(|v| format!("{v}")).collect();
    }
    let mut labels: Vec<String> = rows
        .iter()
        .filter_map(|&row| label_of(table.cell(row, col)))
        .collect();
    labels.sort_unstable();
    labels.dedup();
    labels
}

/// The one-hot targets (rows × classes; two classes: one column, the second class's
/// indicator, see [`crate::classify`]) of `rows` of column `col`; a label not among `classes`
/// is an error naming its cell.
pub(super) fn one_hot(
    table: &Table,
    col: usize,
    rows: &[usize],
    classes: &[String],
) -> Result<DMatrix<f64>, DataError> {
    let mut y = DMatrix::zeros(rows.len(), outputs(classes.len()));
    for (i, &row) in rows.iter().enumerate() {
        let label = label_of(table.cell(row, col));
        match label.and_then(|l| class_index(classes, &l)) {
            Some(k) => set_class(&mut y, i, k),
            None => {
                return Err(DataError::UnknownCategory {
                    at: CellAt::new(table, row, col, &table.shown(row, col))
                        .named(&table.header[col]),
                    known: classes.join(", "),
                });
            }
        }
    }
    Ok(y)
}

/// The network's outputs for `classes` classes: one per class, one for two.
pub fn outputs(classes: usize) -> usize {
    if classes == 2 { 1 } else { classes }
}

/// Writes class `k`'s code into row `i` of targets of [`outputs`] columns.
pub fn set_class(y: &mut DMatrix<f64>, i: usize, k: usize) {
    if y.ncols() == 1 {
        y[(i, 0)] = k as f64;
    } else {
        y[(i, k)] = 1.0;
    }
}

/// The index of `label` among `classes`: equal text, or for numbers equal value (`3.0` is
/// class `3`).
pub fn class_index(classes: &[String], label: &str) -> Option<usize> {
    classes.iter().position(|c| c == label).or_else(|| {
        let v: f64 = label.parse().ok()?;
        classes
            .iter()
            .position(|c| c.parse::<f64>().is_ok_and(|w| w == v))
    })
}

/// The checks of a classification target: one column, at least two classes.
pub(super) fn check_classes(
    table: &Table,
    targets: &[usize],
    classes: &[String],
) -> Result<(), DataError> {
    let problem = if targets.len() != 1 {
        Some(format!(
            "classification takes one target column (its labels become one output per class), \
             got {}",
            targets.len()
        ))
    } else if classes.len() < 2 {
        Some(format!(
            "target column {:?} has {} class{}: classification needs at least 2",
            table.header[targets[0]],
            classes.len(),
            if classes.len() == 1 { "" } else { "es" }
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(DataError::ColumnChoice {
            path: table.source.clone(),
            message,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::parse("t.csv", text.as_bytes(), None).unwrap()
    }

    #[test]
    fn text_labels_sort_as_text_and_numbers_by_value() {
        let t = table("x,y\n1,b\n2,a\n3,b\n4,c\n");
        assert_eq!(classes_of(&t, 1, &[0, 1, 2, 3]), ["a", "b", "c"]);
        let t = table("x,y\n1,10\n2,9\n3,10\n4,2.5\n");
        assert_eq!(classes_of(&t, 1, &[0, 1, 2, 3]), ["2.5", "9", "10"]);
        let y = one_hot(&t, 1, &[0, 1, 3], &classes_of(&t, 1, &[0, 1, 2, 3])).unwrap();
        assert_eq!(
            y,
            DMatrix::from_row_slice(3, 3, &[0., 0., 1., 0., 1., 0., 1., 0., 0.])
        );
        // Two classes: one column, the second class's indicator.
        let two = ["2.5".to_string(), "10".to_string()];
        let y = one_hot(&t, 1, &[0, 3], &two).unwrap();
        assert_eq!(y, DMatrix::from_column_slice(2, 1, &[1., 0.]));
    }

    #[test]
    fn an_unknown_label_names_its_cell() {
        let t = table("x,y\n1,a\n2,b\n3,z\n");
        let err = one_hot(&t, 1, &[0, 1, 2], &["a".into(), "b".into()]).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("t.csv:4:2:"), "{message}");
        assert!(message.contains("\"z\""), "{message}");
    }

    #[test]
    fn numbers_match_by_value() {
        let classes = ["0".to_string(), "1".to_string()];
        assert_eq!(class_index(&classes, "1.0"), Some(1));
        assert_eq!(class_index(&classes, "2"), None);
    }
}
