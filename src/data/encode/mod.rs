//! From a text table to numbers: choosing target and input columns, finding missing values,
//! inferring which inputs are numeric and which categorical, and one-hot encoding.
//!
//! Missing values are not an error: a numeric input's missing cell becomes NaN in the encoded
//! matrix (imputed later, on training statistics, by the [`Standardizer`](super::Standardizer)),
//! a categorical input's is a category of its own, and a row whose target is missing is
//! dropped with a note. `--drop-missing` drops every row with a missing value instead.

mod cell_at;
mod columns;
mod infer;
mod labels;
mod notes;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::cell::Cell;
use super::table::Table;
use crate::error::DataError;
use cell_at::CellAt;
use columns::{choose_columns, unknown_column};
use infer::{InferOptions, infer_column};
pub use labels::{Task, class_index, label_of, outputs as labels_outputs, set_class};
use notes::Notes;
pub use notes::{EncodeNote, NoteKind};

/// Which columns are targets and which are inputs, as the user named them, and how inputs
/// are read.
#[derive(Debug, Clone, Default)]
pub struct ColumnChoice {
    /// Target names; empty (and no `target_prefix`) means the last column.
    pub targets: Vec<String>,
    /// Every column whose name starts with this is a target, in file order. Excludes
    /// `targets`.
    pub target_prefix: Option<String>,
    /// Input names; empty means every non-target column not in `drop`.
    pub features: Vec<String>,
    pub drop: Vec<String>,
    /// Drop rows with a missing value in a used column (or a text cell in a numeric one)
    /// instead of imputing it.
    pub drop_missing: bool,
    /// Inputs read as numeric whatever they hold: a text cell in one is an error.
    pub numeric: Vec<String>,
    /// Categorical inputs with more categories than this are frequency-encoded (one feature:
    /// the category's share of the training rows) instead of one-hot; 0: always one-hot.
    pub max_one_hot: usize,
    /// Whether the target is a quantity or class labels (auto: labels when it holds text).
    pub task: Task,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The name of the feature of a categorical column's missing values.
pub const MISSING_CATEGORY: &str = "(missing)";

/// One input column and how it becomes features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputColumn {
    /// One feature: the number, NaN where missing.
    Numeric { name: String },
    /// One feature per category, in this (sorted) order, then one for missing values when
    /// the table had any.
    Categorical {
        name: String,
        categories: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        missing: bool,
    },
    /// One feature: the category's index in `categories` (missing values, when the table had
    /// any, the index after the last; an unknown category −1), which the standardizer maps
    /// to the category's share of the training rows.
    Frequency {
        name: String,
        categories: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        missing: bool,
    },
}

/// What an encoded feature is, for the transforms fitted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    Numeric,
    /// A 0/1 feature of a one-hot block.
    OneHot,
    /// A category index of a frequency-encoded column, with this many codes.
    Code(usize),
}

impl InputColumn {
    pub fn name(&self) -> &str {
        match self {
            InputColumn::Numeric { name }
            | InputColumn::Categorical { name, .. }
            | InputColumn::Frequency { name, .. } => name,
        }
    }

    fn width(&self) -> usize {
        match self {
            InputColumn::Numeric { .. } | InputColumn::Frequency { .. } => 1,
            InputColumn::Categorical {
                categories,
                missing,
                ..
            } => categories.len() + usize::from(*missing),
        }
    }

    /// Whether the column's cells are read as text (categories).
    fn is_text(&self) -> bool {
        !matches!(self, InputColumn::Numeric { .. })
    }
}

/// How a table's columns become the feature matrix and the targets. Saved with a model so
/// that `predict` encodes new data exactly as training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub inputs: Vec<InputColumn>,
    pub targets: Vec<String>,
    /// Classification: the labels of the (one) target column, in output order; the targets
    /// are their one-hot codes. None for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
}

impl Encoding {
    /// Feature names after encoding: `name` for numeric and frequency-encoded columns,
    /// `name=category` for each category (`name=(missing)` for missing values).
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for input in &self.inputs {
            match input {
                InputColumn::Numeric { name } | InputColumn::Frequency { name, .. } => {
                    names.push(name.clone())
                }
                InputColumn::Categorical {
                    name,
                    categories,
                    missing,
                } => {
                    names.extend(categories.iter().map(|c| format!("{name}={c}")));
                    if *missing {
                        names.push(format!("{name}={MISSING_CATEGORY}"));
                    }
                }
            }
        }
        names
    }

    /// What each encoded feature is, in feature order.
    pub fn feature_kinds(&self) -> Vec<FeatureKind> {
        let mut kinds = Vec::new();
        for input in &self.inputs {
            match input {
                InputColumn::Numeric { .. } => kinds.push(FeatureKind::Numeric),
                InputColumn::Categorical { .. } => {
                    kinds.extend(std::iter::repeat_n(FeatureKind::OneHot, input.width()))
                }
                InputColumn::Frequency {
                    categories,
                    missing,
                    ..
                } => kinds.push(FeatureKind::Code(categories.len() + usize::from(*missing))),
            }
        }
        kinds
    }

    /// The categorical input columns, whose text a table must keep to be encoded (see
    /// [`Table::read_keeping_text`]).
    pub fn text_columns(&self) -> Vec<String> {
        self.inputs
            .iter()
            .filter(|input| input.is_text())
            .map(|input| input.name().to_owned())
            .collect()
    }

    /// The network's outputs: one per class of a classification (one for two classes), else
    /// one per target.
    pub fn outputs(&self) -> usize {
        self.classes
            .as_ref()
            .map_or(self.targets.len(), |c| labels::outputs(c.len()))
    }

    /// A name per output: the targets', or a classification's `target=class` (two classes:
    /// the second's, whose indicator the one output is).
    pub fn output_names(&self) -> Vec<String> {
        match &self.classes {
            Some(classes) => classes
                .iter()
                .skip(usize::from(classes.len() == 2))
                .map(|c| format!("{}={c}", self.targets[0]))
                .collect(),
            None => self.targets.clone(),
        }
    }

    pub fn n_features(&self) -> usize {
        self.inputs.iter().map(InputColumn::width).sum()
    }

    /// Encodes the inputs of every row of `table` (columns found by name), which must have
    /// been read keeping the text of [`Encoding::text_columns`]. A missing column is an
    /// error; a value the encoding did not see in training is encoded (a missing or text
    /// cell in a numeric column as NaN, an unknown category as none of the categories) and
    /// noted.
    pub fn encode_inputs(
        &self,
        table: &Table,
    ) -> Result<(DMatrix<f64>, Vec<EncodeNote>), DataError> {
        let rows: Vec<usize> = (0..table.n_rows()).collect();
        let mut notes = Notes::default();
        let x = self.encode_rows(table, &rows, &mut notes, Absent::Missing)?;
        Ok((x, notes.notes))
    }

    /// Encodes the inputs of the given rows of `table`, in that order.
    fn encode_rows(
        &self,
        table: &Table,
        rows: &[usize],
        notes: &mut Notes,
        absent: Absent,
    ) -> Result<DMatrix<f64>, DataError> {
        let mut x = DMatrix::zeros(rows.len(), self.n_features());
        let mut offset = 0;
        for input in &self.inputs {
            let Some(col) = table.column_index(input.name()) else {
                if absent == Absent::Error {
                    return Err(unknown_column(table, input.name(), "model input"));
                }
                notes.absent(&table.source, input.name(), rows.len());
                fill_missing(&mut x, offset, input);
                offset += input.width();
                continue;
            };
            for (i, &row) in rows.iter().enumerate() {
                let at = || CellAt::new(table, row, col, &table.shown(row, col));
                match input {
                    InputColumn::Numeric { name } => {
                        x[(i, offset)] = match table.cell(row, col) {
                            Cell::Number(v) => v,
                            Cell::Missing(_) => f64::NAN,
                            Cell::Text(_) => {
                                notes.add(NoteKind::TextInNumeric, at(), name);
                                f64::NAN
                            }
                        }
                    }
                    InputColumn::Categorical {
                        name,
                        categories,
                        missing,
                    } => match category_index(table, (row, col), categories, *missing) {
                        Ok(k) => x[(i, offset + k)] = 1.0,
                        Err(kind) => notes.add(kind, at(), name),
                    },
                    InputColumn::Frequency {
                        name,
                        categories,
                        missing,
                    } => {
                        x[(i, offset)] =
                            match category_index(table, (row, col), categories, *missing) {
                                Ok(k) => k as f64,
                                Err(kind) => {
                                    notes.add(kind, at(), name);
                                    -1.0
                                }
                            }
                    }
                }
            }
            offset += input.width();
        }
        Ok(x)
    }

    /// Reads the target columns if all are present and numeric on every row (classification:
    /// the label column, every label a known class, one-hot); None otherwise.
    pub fn try_encode_targets(&self, table: &Table) -> Option<DMatrix<f64>> {
        let cols: Vec<usize> = self
            .targets
            .iter()
            .map(|t| table.column_index(t))
            .collect::<Option<_>>()?;
        if let Some(classes) = &self.classes {
            let col = *cols.first()?;
            let mut y = DMatrix::zeros(table.n_rows(), self.outputs());
            for row in 0..table.n_rows() {
                let k = class_index(classes, &label_of(table.cell(row, col))?)?;
                set_class(&mut y, row, k);
            }
            return Some(y);
        }
        let mut y = DMatrix::zeros(table.n_rows(), cols.len());
        for (j, &col) in cols.iter().enumerate() {
            for row in 0..table.n_rows() {
                match table.cell(row, col) {
                    Cell::Number(v) => y[(row, j)] = v,
                    _ => return None,
                }
            }
        }
        Some(y)
    }
}

/// What encoding does with a model input that is not a column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// Training: every input is a column of the table it was chosen from.
    Error,
    /// Prediction: read as missing on every row (said in a note).
    Missing,
}

/// Every row of `input`'s block (at `offset`) as a missing value, encoded as the rows'
/// missing cells are: NaN for a number (imputed later as any missing value), the missing
/// category where training had one, else none.
fn fill_missing(x: &mut DMatrix<f64>, offset: usize, input: &InputColumn) {
    for i in 0..x.nrows() {
        match input {
            InputColumn::Numeric { .. } => x[(i, offset)] = f64::NAN,
            InputColumn::Categorical {
                categories,
                missing,
                ..
            } => {
                if let Ok(k) = missing_index(categories, *missing) {
                    x[(i, offset + k)] = 1.0;
                }
            }
            InputColumn::Frequency {
                categories,
                missing,
                ..
            } => x[(i, offset)] = missing_index(categories, *missing).map_or(-1.0, |k| k as f64),
        }
    }
}

/// The index of a missing value among `categories`: the one after the last, when training
/// had missing values (`missing`), else none.
fn missing_index(categories: &[String], missing: bool) -> Result<usize, NoteKind> {
    if missing {
        Ok(categories.len())
    } else {
        Err(NoteKind::UnseenMissing)
    }
}

/// The index of a categorical cell among `categories` (a missing value: the index after the
/// last, when `missing`), or why it has none.
fn category_index(
    table: &Table,
    (row, col): (usize, usize),
    categories: &[String],
    missing: bool,
) -> Result<usize, NoteKind> {
    if table.is_missing(row, col) {
        return missing_index(categories, missing);
    }
    let cell = table
        .text(row, col)
        .expect("categorical columns are read with their text");
    categories
        .binary_search_by(|c| c.as_str().cmp(cell))
        .map_err(|_| NoteKind::UnseenCategory)
}

/// A table turned into numbers, before any split or scaling.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub source: String,
    pub encoding: Encoding,
    /// n × d encoded inputs, unscaled; NaN where a numeric input is missing.
    pub x: DMatrix<f64>,
    /// n × k targets.
    pub y: DMatrix<f64>,
    /// Rows of the file that were dropped for missing values (`--drop-missing`, or a missing
    /// target).
    pub dropped_rows: usize,
    /// Rows in the file.
    pub file_rows: usize,
    /// What reading the table noticed without failing (text read as missing, rows dropped
    /// for a missing target): for the front end to show.
    pub notes: Vec<EncodeNote>,
}

impl Dataset {
    /// Chooses columns, checks values and encodes `table`.
    pub fn from_table(table: &Table, choice: &ColumnChoice) -> Result<Dataset, DataError> {
        let (target_cols, input_cols) = choose_columns(table, choice)?;
        let forced: Vec<usize> = choice
            .numeric
            .iter()
            .map(|name| {
                table
                    .column_index(name)
                    .ok_or_else(|| unknown_column(table, name, "--numeric"))
            })
            .collect::<Result<_, _>>()?;
        let mut notes = Notes::default();
        let keep = kept_rows(table, choice, (&target_cols, &input_cols), &mut notes)?;

        let classify = match choice.task {
            Task::Classify => true,
            Task::Regress => false,
            Task::Auto => target_cols.len() == 1 && labels::only_text(table, target_cols[0], &keep),
        };
        let (mut y, classes) = if classify {
            let classes = labels::classes_of(table, target_cols[0], &keep);
            labels::check_classes(table, &target_cols, &classes)?;
            let y = labels::one_hot(table, target_cols[0], &keep, &classes)?;
            (y, Some(classes))
        } else {
            (numeric_targets(table, &target_cols, &keep)?, None)
        };

        let inputs: Vec<InputColumn> = input_cols
            .iter()
            .map(|&c| {
                let options = InferOptions {
                    forced_numeric: forced.contains(&c),
                    max_one_hot: choice.max_one_hot,
                };
                infer_column(table, c, &keep, options, &mut notes)
            })
            .collect::<Result<_, _>>()?;
        let encoding = Encoding {
            inputs,
            targets: target_cols
                .iter()
                .map(|&c| table.header[c].clone())
                .collect(),
            classes,
        };
        let mut x = encoding.encode_rows(table, &keep, &mut Notes::default(), Absent::Error)?;
        let mut keep = keep;
        if choice.drop_missing {
            // Text cells read as missing drop their rows too.
            let rows: Vec<usize> = (0..keep.len())
                .filter(|&i| x.row(i).iter().all(|v| !v.is_nan()))
                .collect();
            if rows.len() < keep.len() {
                x = x.select_rows(&rows);
                y = y.select_rows(&rows);
                keep = rows.iter().map(|&i| keep[i]).collect();
            }
            if keep.is_empty() {
                return Err(every_row_dropped(table));
            }
        }
        Ok(Dataset {
            source: table.source.clone(),
            encoding,
            x,
            y,
            dropped_rows: table.n_rows() - keep.len(),
            file_rows: table.n_rows(),
            notes: notes.notes,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }
}

/// The numeric targets of `rows` (rows × columns); a cell that is not a number is an error
/// naming it.
fn numeric_targets(
    table: &Table,
    target_cols: &[usize],
    keep: &[usize],
) -> Result<DMatrix<f64>, DataError> {
    let mut y = DMatrix::zeros(keep.len(), target_cols.len());
    for (j, &c) in target_cols.iter().enumerate() {
        for (i, &row) in keep.iter().enumerate() {
            y[(i, j)] = match table.cell(row, c) {
                Cell::Number(v) => v,
                _ => {
                    return Err(CellAt::new(table, row, c, &table.shown(row, c))
                        .non_numeric_target(&table.header[c]));
                }
            };
        }
        check_target_magnitude(table, keep, c, y.column(j), target_cols.len())?;
    }
    Ok(y)
}

/// The rows to encode: with `--drop-missing`, those without a missing value in a used
/// column; otherwise those whose targets are present (the others are noted).
fn kept_rows(
    table: &Table,
    choice: &ColumnChoice,
    (targets, inputs): (&[usize], &[usize]),
    notes: &mut Notes,
) -> Result<Vec<usize>, DataError> {
    let mut keep = Vec::with_capacity(table.n_rows());
    for row in 0..table.n_rows() {
        let target_missing = targets.iter().find(|&&c| table.is_missing(row, c));
        let input_missing = || inputs.iter().any(|&c| table.is_missing(row, c));
        match target_missing {
            _ if choice.drop_missing && (target_missing.is_some() || input_missing()) => {}
            Some(&c) => notes.add(
                NoteKind::MissingTarget,
                CellAt::new(table, row, c, &table.shown(row, c)),
                &table.header[c],
            ),
            None => keep.push(row),
        }
    }
    if keep.is_empty() {
        return Err(every_row_dropped(table));
    }
    Ok(keep)
}

fn every_row_dropped(table: &Table) -> DataError {
    DataError::TooFewRows {
        path: table.source.clone(),
        message: format!(
            "every one of the {} rows has a missing value in a used column",
            table.n_rows()
        ),
    }
}

/// Squared errors are summed in f64 over rows and all k targets (MSE, R², both least-squares
/// steps), so a target whose squares alone overflow that sum cannot be trained on: its sum of
/// squares must stay below f64::MAX / k. The error names the largest value.
fn check_target_magnitude(
    table: &Table,
    rows: &[usize],
    col: usize,
    values: nalgebra::DVectorView<f64>,
    k: usize,
) -> Result<(), DataError> {
    let sum_of_squares: f64 = values.iter().map(|v| v * v).sum();
    if sum_of_squares <= f64::MAX / k as f64 {
        return Ok(());
    }
    let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let first_largest = values.iter().position(|v| v.abs() == max_abs);
    let row = rows[first_largest.expect("the maximum is one of the values")];
    Err(CellAt::new(table, row, col, &table.shown(row, col)).target_too_large(&table.header[col]))
}

#[cfg(test)]
mod tests;
