//! From a text table to numbers: choosing target and input columns, finding missing values,
//! inferring which inputs are numeric and which categorical, and one-hot encoding.

use std::collections::BTreeSet;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::cell::Cell;
use super::table::Table;
use crate::error::{CellLocation, DataError};

/// Which columns are targets and which are inputs, as the user named them.
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
    /// Drop rows with a missing value in a used column instead of failing.
    pub drop_missing: bool,
}

/// One input column and how it becomes features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputColumn {
    Numeric {
        name: String,
    },
    /// One feature per category, in this (sorted) order.
    Categorical {
        name: String,
        categories: Vec<String>,
    },
}

impl InputColumn {
    pub fn name(&self) -> &str {
        match self {
            InputColumn::Numeric { name } | InputColumn::Categorical { name, .. } => name,
        }
    }

    fn width(&self) -> usize {
        match self {
            InputColumn::Numeric { .. } => 1,
            InputColumn::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// How a table's columns become the feature matrix and the targets. Saved with a model so
/// that `predict` encodes new data exactly as training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub inputs: Vec<InputColumn>,
    pub targets: Vec<String>,
}

impl Encoding {
    /// Feature names after one-hot encoding: `name` for numeric columns, `name=category` for
    /// each category.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for input in &self.inputs {
            match input {
                InputColumn::Numeric { name } => names.push(name.clone()),
                InputColumn::Categorical { name, categories } => {
                    names.extend(categories.iter().map(|c| format!("{name}={c}")))
                }
            }
        }
        names
    }

    /// The categorical input columns, whose text a table must keep to be encoded (see
    /// [`Table::read_keeping_text`]).
    pub fn text_columns(&self) -> Vec<String> {
        self.inputs
            .iter()
            .filter(|input| matches!(input, InputColumn::Categorical { .. }))
            .map(|input| input.name().to_owned())
            .collect()
    }

    pub fn n_features(&self) -> usize {
        self.inputs.iter().map(InputColumn::width).sum()
    }

    /// Encodes the inputs of every row of `table` (columns found by name), which must have
    /// been read keeping the text of [`Encoding::text_columns`]. A value this encoding cannot
    /// represent (missing, non-numeric, unknown category) is an error naming its line and
    /// column.
    pub fn encode_inputs(&self, table: &Table) -> Result<DMatrix<f64>, DataError> {
        let rows: Vec<usize> = (0..table.n_rows()).collect();
        self.encode_rows(table, &rows)
    }

    /// Encodes the inputs of the given rows of `table`, in that order.
    fn encode_rows(&self, table: &Table, rows: &[usize]) -> Result<DMatrix<f64>, DataError> {
        let mut x = DMatrix::zeros(rows.len(), self.n_features());
        let mut offset = 0;
        for input in &self.inputs {
            let col = table
                .column_index(input.name())
                .ok_or_else(|| unknown_column(table, input.name(), "model input"))?;
            for (i, &row) in rows.iter().enumerate() {
                let at = |cell: &str| CellAt::new(table, row, col, cell);
                match input {
                    InputColumn::Numeric { name } => {
                        x[(i, offset)] = match table.cell(row, col) {
                            Cell::Number(v) => v,
                            Cell::Missing(cell) => return Err(at(cell).missing(name)),
                            Cell::Text(cell) => return Err(at(cell).non_numeric_feature(name)),
                        }
                    }
                    InputColumn::Categorical { name, categories } => {
                        if let Cell::Missing(cell) = table.cell(row, col) {
                            return Err(at(cell).missing(name));
                        }
                        let cell = table
                            .text(row, col)
                            .expect("categorical columns are read with their text");
                        let k = categories
                            .binary_search_by(|c| c.as_str().cmp(cell))
                            .map_err(|_| at(cell).unknown_category(name, categories))?;
                        x[(i, offset + k)] = 1.0;
                    }
                }
            }
            offset += input.width();
        }
        Ok(x)
    }

    /// Reads the target columns if all are present and numeric on every row; None otherwise.
    pub fn try_encode_targets(&self, table: &Table) -> Option<DMatrix<f64>> {
        let cols: Vec<usize> = self
            .targets
            .iter()
            .map(|t| table.column_index(t))
            .collect::<Option<_>>()?;
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

/// A table turned into numbers, before any split or scaling.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub source: String,
    pub encoding: Encoding,
    /// n × d encoded inputs, unscaled.
    pub x: DMatrix<f64>,
    /// n × k targets.
    pub y: DMatrix<f64>,
    /// Rows of the file that were dropped for missing values (`--drop-missing`).
    pub dropped_rows: usize,
    /// Rows in the file.
    pub file_rows: usize,
}

impl Dataset {
    /// Chooses columns, checks values and encodes `table`.
    pub fn from_table(table: &Table, choice: &ColumnChoice) -> Result<Dataset, DataError> {
        let (target_cols, input_cols) = choose_columns(table, choice)?;
        let used: Vec<usize> = target_cols.iter().chain(&input_cols).copied().collect();

        // Rows to keep: every used cell present and, if numeric-looking, finite.
        let mut keep = Vec::with_capacity(table.n_rows());
        for row in 0..table.n_rows() {
            let missing = used.iter().find(|&&c| table.is_missing(row, c));
            match missing {
                None => keep.push(row),
                Some(_) if choice.drop_missing => {}
                Some(&c) => {
                    return Err(
                        CellAt::new(table, row, c, &table.shown(row, c)).missing(&table.header[c])
                    );
                }
            }
        }
        if keep.is_empty() {
            return Err(DataError::TooFewRows {
                path: table.source.clone(),
                message: format!(
                    "every one of the {} rows has a missing value in a used column",
                    table.n_rows()
                ),
            });
        }

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
            check_target_magnitude(table, &keep, c, y.column(j), target_cols.len())?;
        }

        let inputs: Vec<InputColumn> = input_cols
            .iter()
            .map(|&c| infer_column(table, c, &keep))
            .collect();
        let encoding = Encoding {
            inputs,
            targets: target_cols
                .iter()
                .map(|&c| table.header[c].clone())
                .collect(),
        };
        let x = encoding.encode_rows(table, &keep)?;
        Ok(Dataset {
            source: table.source.clone(),
            encoding,
            x,
            y,
            dropped_rows: table.n_rows() - keep.len(),
            file_rows: table.n_rows(),
        })
    }

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }
}

/// Resolves the user's column choice to (target columns, input columns), 0-based.
fn choose_columns(
    table: &Table,
    choice: &ColumnChoice,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    let lookup = |name: &String, role| {
        table
            .column_index(name)
            .ok_or_else(|| unknown_column(table, name, role))
    };
    let choice_error = |message: String| DataError::ColumnChoice {
        path: table.source.clone(),
        message,
    };
    let targets: Vec<usize> = match &choice.target_prefix {
        Some(_) if !choice.targets.is_empty() => {
            return Err(choice_error(
                "give targets by name or by prefix, not both".into(),
            ));
        }
        Some(prefix) => {
            let matching: Vec<usize> = (0..table.header.len())
                .filter(|&c| table.header[c].starts_with(prefix.as_str()))
                .collect();
            if matching.is_empty() {
                return Err(choice_error(format!(
                    "no column name starts with {prefix:?} (--target-prefix); columns are: {}",
                    name_list(&table.header)
                )));
            }
            matching
        }
        None if choice.targets.is_empty() => vec![table.header.len() - 1],
        None => choice
            .targets
            .iter()
            .map(|t| lookup(t, "--target"))
            .collect::<Result<_, _>>()?,
    };
    if let Some(dup) = first_repeat(&targets) {
        return Err(choice_error(format!(
            "target {:?} is named twice",
            table.header[dup]
        )));
    }
    let dropped: Vec<usize> = choice
        .drop
        .iter()
        .map(|d| lookup(d, "--drop"))
        .collect::<Result<_, _>>()?;
    let inputs: Vec<usize> = if choice.features.is_empty() {
        (0..table.header.len())
            .filter(|c| !targets.contains(c) && !dropped.contains(c))
            .collect()
    } else {
        let inputs: Vec<usize> = choice
            .features
            .iter()
            .map(|f| lookup(f, "--features"))
            .collect::<Result<_, _>>()?;
        if let Some(&c) = inputs.iter().find(|c| targets.contains(c)) {
            return Err(choice_error(format!(
                "column {:?} is both a target and a feature",
                table.header[c]
            )));
        }
        if let Some(dup) = first_repeat(&inputs) {
            return Err(choice_error(format!(
                "feature {:?} is named twice",
                table.header[dup]
            )));
        }
        inputs
    };
    if inputs.is_empty() {
        return Err(choice_error(
            "no input columns are left after choosing targets and dropped columns".into(),
        ));
    }
    Ok((targets, inputs))
}

fn first_repeat(cols: &[usize]) -> Option<usize> {
    cols.iter()
        .enumerate()
        .find(|(i, c)| cols[..*i].contains(c))
        .map(|(_, &c)| c)
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

/// Numeric when every kept value parses as a finite number; otherwise categorical.
fn infer_column(table: &Table, col: usize, rows: &[usize]) -> InputColumn {
    let name = table.header[col].clone();
    let numeric = rows
        .iter()
        .all(|&r| matches!(table.cell(r, col), Cell::Number(_)));
    if numeric {
        return InputColumn::Numeric { name };
    }
    // Some kept cell is text, so the column kept every cell's text.
    let categories: BTreeSet<&str> = rows
        .iter()
        .map(|&r| {
            table
                .text(r, col)
                .expect("columns with text cells keep their text")
        })
        .collect();
    InputColumn::Categorical {
        name,
        categories: categories.into_iter().map(str::to_owned).collect(),
    }
}

fn unknown_column(table: &Table, name: &str, role: &'static str) -> DataError {
    DataError::UnknownColumn {
        path: table.source.clone(),
        name: name.into(),
        role,
        available: name_list(&table.header),
    }
}

/// Names for a one-line message: comma-separated, with newlines and other control characters
/// escaped.
fn name_list(names: &[String]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| n.escape_debug().to_string()).collect();
    escaped.join(", ")
}

/// A cell's position, for error messages.
struct CellAt {
    path: String,
    line: u64,
    column: usize,
    value: String,
}

impl CellAt {
    fn new(table: &Table, row: usize, col: usize, value: &str) -> CellAt {
        CellAt {
            path: table.source.clone(),
            line: table.lines[row],
            column: col + 1,
            value: value.into(),
        }
    }

    /// The cell with its column's name.
    fn named(self, name: &str) -> CellLocation {
        CellLocation {
            path: self.path,
            line: self.line,
            column: self.column,
            name: name.into(),
            value: self.value,
        }
    }

    fn missing(self, name: &str) -> DataError {
        DataError::Missing {
            at: self.named(name),
        }
    }

    fn non_numeric_target(self, name: &str) -> DataError {
        DataError::NonNumericTarget {
            at: self.named(name),
        }
    }

    fn target_too_large(self, name: &str) -> DataError {
        DataError::TargetTooLarge {
            at: self.named(name),
        }
    }

    fn non_numeric_feature(self, name: &str) -> DataError {
        DataError::NonNumericFeature {
            at: self.named(name),
        }
    }

    fn unknown_category(self, name: &str, known: &[String]) -> DataError {
        DataError::UnknownCategory {
            at: self.named(name),
            known: name_list(known),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(text: &str, choice: &ColumnChoice) -> Result<Dataset, DataError> {
        let table = Table::parse("t.csv", text.as_bytes(), None)?;
        Dataset::from_table(&table, choice)
    }

    #[test]
    fn one_hot_with_sorted_categories() {
        let d = dataset(
            "sex,len,y\nM,1.5,3\nF,2,4\nI,2.5,5\nM,3,6\n",
            &ColumnChoice::default(),
        )
        .unwrap();
        assert_eq!(
            d.encoding.feature_names(),
            ["sex=F", "sex=I", "sex=M", "len"]
        );
        assert_eq!(d.encoding.targets, ["y"]);
        assert_eq!(
            d.x.row(0).iter().copied().collect::<Vec<_>>(),
            [0., 0., 1., 1.5]
        );
        assert_eq!(
            d.x.row(1).iter().copied().collect::<Vec<_>>(),
            [1., 0., 0., 2.]
        );
        assert_eq!(
            d.y.column(0).iter().copied().collect::<Vec<_>>(),
            [3., 4., 5., 6.]
        );
    }

    #[test]
    fn missing_values_fail_or_drop() {
        let text = "a,b,y\n1,2,3\n4,NA,6\n7,8,inf\n9,1,2\n";
        match dataset(text, &ColumnChoice::default()) {
            Err(DataError::Missing { at }) => assert_eq!((at.line, at.column), (3, 2)),
            other => panic!("{other:?}"),
        }
        let choice = ColumnChoice {
            drop_missing: true,
            ..Default::default()
        };
        let d = dataset(text, &choice).unwrap();
        assert_eq!(d.n_rows(), 2);
        assert_eq!(d.dropped_rows, 2);
        // A missing value in a column that is not used does not count.
        let choice = ColumnChoice {
            drop: vec!["b".into()],
            ..Default::default()
        };
        assert!(matches!(
            dataset("a,b,y\n1,?,3\n4,null,6\n", &choice),
            Ok(d) if d.n_rows() == 2
        ));
    }

    #[test]
    fn targets_and_features_by_name() {
        let choice = ColumnChoice {
            targets: vec!["y1".into(), "y2".into()],
            features: vec!["b".into()],
            ..Default::default()
        };
        let d = dataset("a,b,y1,y2\n1,2,3,4\n5,6,7,8\n", &choice).unwrap();
        assert_eq!(d.encoding.feature_names(), ["b"]);
        assert_eq!(d.y.shape(), (2, 2));
        assert!(matches!(
            dataset("a,y\n1,x\n", &ColumnChoice::default()),
            Err(DataError::NonNumericTarget {
                at: CellLocation {
                    line: 2,
                    column: 2,
                    ..
                }
            })
        ));
        let choice = ColumnChoice {
            targets: vec!["nope".into()],
            ..Default::default()
        };
        assert!(matches!(
            dataset("a,y\n1,2\n", &choice),
            Err(DataError::UnknownColumn { .. })
        ));
    }

    #[test]
    fn targets_by_prefix_in_file_order() {
        let text = "clean_1,noisy_0,clean_0,noisy_1,other\n1,2,3,4,5\n6,7,8,9,10\n";
        let by_prefix = |prefix: &str| ColumnChoice {
            target_prefix: Some(prefix.into()),
            ..Default::default()
        };
        let d = dataset(text, &by_prefix("clean_")).unwrap();
        assert_eq!(d.encoding.targets, ["clean_1", "clean_0"]);
        assert_eq!(d.encoding.feature_names(), ["noisy_0", "noisy_1", "other"]);
        assert_eq!(d.y.row(1).iter().copied().collect::<Vec<_>>(), [6., 8.]);
        // With --features, the prefix only chooses the targets.
        let choice = ColumnChoice {
            features: vec!["noisy_1".into()],
            ..by_prefix("clean_")
        };
        assert_eq!(
            dataset(text, &choice).unwrap().encoding.feature_names(),
            ["noisy_1"]
        );
        match dataset(text, &by_prefix("target_")) {
            Err(e @ DataError::ColumnChoice { .. }) => {
                assert!(
                    e.to_string()
                        .contains("no column name starts with \"target_\""),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
        // A prefix that every column matches leaves no inputs.
        assert!(matches!(
            dataset("a1,a2\n1,2\n", &by_prefix("a")),
            Err(DataError::ColumnChoice { .. })
        ));
        let both = ColumnChoice {
            targets: vec!["other".into()],
            ..by_prefix("clean_")
        };
        assert!(matches!(
            dataset(text, &both),
            Err(DataError::ColumnChoice { .. })
        ));
    }

    #[test]
    fn targets_whose_squares_overflow_are_rejected() {
        // ±1e300 squared overflows f64: every MSE would be inf (and R² NaN).
        match dataset("x,y\n1,2\n2,-1e300\n3,1e299\n", &ColumnChoice::default()) {
            Err(
                e @ DataError::TargetTooLarge {
                    at:
                        CellLocation {
                            line: 3, column: 2, ..
                        },
                },
            ) => {
                assert!(e.to_string().contains("target column \"y\""), "{e}");
                assert!(e.to_string().contains("-1e300"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // Each value squares finitely, but their sum does not.
        let text = "x,y\n1,1e154\n2,1e154\n";
        assert!(matches!(
            dataset(text, &ColumnChoice::default()),
            Err(DataError::TargetTooLarge {
                at: CellLocation { line: 2, .. }
            })
        ));
        // Several targets share the sum: each column's squares must fit k times over.
        let text = "x,y1,y2\n1,1.2e154,1\n2,1,2\n";
        assert!(dataset(text, &ColumnChoice::default()).is_ok());
        let choice = ColumnChoice {
            targets: vec!["y1".into(), "y2".into()],
            ..Default::default()
        };
        assert!(matches!(
            dataset(text, &choice),
            Err(DataError::TargetTooLarge {
                at: CellLocation { column: 2, .. }
            })
        ));
        // Large features are fine: they are standardized.
        assert!(dataset("x,y\n1e300,1\n-1.7e308,2\n", &ColumnChoice::default()).is_ok());
    }

    #[test]
    fn error_messages_stay_on_one_line() {
        // Quoted names and values may hold newlines; messages escape them (they used to be
        // printed raw, splitting the one-line error).
        let e = dataset("a,\"y\nz\"\n1,\"x\ny\"\n", &ColumnChoice::default()).unwrap_err();
        assert!(matches!(e, DataError::NonNumericTarget { .. }));
        assert_eq!(
            e.to_string(),
            "t.csv:3:2: target column \"y\\nz\" must be numeric, found \"x\\ny\""
        );
        let choice = ColumnChoice {
            targets: vec!["q".into()],
            ..Default::default()
        };
        let e = dataset("\"a\rb\",y\n1,2\n", &choice).unwrap_err();
        assert!(e.to_string().ends_with("columns are: a\\rb, y"), "{e}");
    }

    #[test]
    fn predict_side_encoding_errors() {
        let d = dataset("c,y\nx,1\nz,2\n", &ColumnChoice::default()).unwrap();
        let new = Table::parse("n.csv", b"c\nx\nw\n", None).unwrap();
        assert!(matches!(
            d.encoding.encode_inputs(&new),
            Err(DataError::UnknownCategory {
                at: CellLocation {
                    line: 3,
                    column: 1,
                    ..
                },
                ..
            })
        ));
        let new = Table::parse("n.csv", b"other\n1\n", None).unwrap();
        assert!(matches!(
            d.encoding.encode_inputs(&new),
            Err(DataError::UnknownColumn { .. })
        ));
    }
}
