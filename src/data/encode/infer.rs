//! Which input columns are numeric and which categorical.
//!
//! A column is numeric when its non-missing cells are numbers, or when all but a few are:
//! at most max(3, 1 %) of its non-missing cells, and at most 5 % of them, hold text (a
//! mistyped `6.12.51` among numbers). Those few cells are then read as missing, with a note
//! naming the column, the first cell and the count. `--numeric` makes a column numeric
//! whatever it holds, and any text cell in it an error. Otherwise the column is categorical:
//! one-hot over its texts (missing, if any, a category of its own), or, past a number of
//! categories, one frequency feature.

use std::collections::BTreeSet;

use super::InputColumn;
use super::cell_at::CellAt;
use super::notes::{NoteKind, Notes};
use crate::data::cell::Cell;
use crate::data::table::Table;
use crate::error::DataError;

/// How columns are read, beyond what their cells say.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct InferOptions {
    /// The column was named in `--numeric`.
    pub(super) forced_numeric: bool,
    /// Categorical columns with more categories than this get one frequency feature instead
    /// of a one-hot block; 0: always one-hot.
    pub(super) max_one_hot: usize,
}

/// Whether `texts` text cells among `numbers` number cells are few enough to be typos in a
/// numeric column.
pub(super) fn mostly_numeric(numbers: usize, texts: usize) -> bool {
    let present = numbers + texts;
    numbers > 0 && texts <= 3.max(present / 100) && texts * 20 <= present
}

/// The column `col` as the rows `rows` show it; a few text cells in a numeric column are
/// noted in `notes`.
pub(super) fn infer_column(
    table: &Table,
    col: usize,
    rows: &[usize],
    options: InferOptions,
    notes: &mut Notes,
) -> Result<InputColumn, DataError> {
    let name = table.header[col].clone();
    let (mut numbers, mut missing) = (0usize, 0usize);
    let mut texts: Vec<usize> = Vec::new();
    for &r in rows {
        match table.cell(r, col) {
            Cell::Number(_) => numbers += 1,
            Cell::Missing(_) => missing += 1,
            Cell::Text(_) => texts.push(r),
        }
    }
    let at = |row: usize| CellAt::new(table, row, col, &table.shown(row, col));
    if options.forced_numeric {
        if let Some(&row) = texts.first() {
            return Err(at(row).non_numeric_feature(&name));
        }
        return Ok(InputColumn::Numeric { name });
    }
    if texts.is_empty() {
        return Ok(InputColumn::Numeric { name });
    }
    if mostly_numeric(numbers, texts.len()) {
        for &row in &texts {
            notes.add(NoteKind::TextAsMissing, at(row), &name);
        }
        return Ok(InputColumn::Numeric { name });
    }
    // Some kept cell is text, so the column kept every cell's text.
    let categories: BTreeSet<&str> = rows
        .iter()
        .filter(|&&r| !table.is_missing(r, col))
        .map(|&r| {
            table
                .text(r, col)
                .expect("columns with text cells keep their text")
        })
        .collect();
    let categories: Vec<String> = categories.into_iter().map(str::to_owned).collect();
    let missing = missing > 0;
    if options.max_one_hot > 0 && categories.len() > options.max_one_hot {
        return Ok(InputColumn::Frequency {
            name,
            categories,
            missing,
        });
    }
    Ok(InputColumn::Categorical {
        name,
        categories,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::mostly_numeric;

    #[test]
    fn a_few_text_cells_among_numbers() {
        // One typo among 40 numbers, three among 60: numeric.
        assert!(mostly_numeric(39, 1));
        assert!(mostly_numeric(57, 3));
        // Four text cells need 400 present cells (1 %) ...
        assert!(!mostly_numeric(96, 4));
        assert!(mostly_numeric(396, 4));
        // ... and never more than 5 % of them.
        assert!(!mostly_numeric(18, 2));
        assert!(mostly_numeric(38, 2));
        assert!(!mostly_numeric(0, 1));
        assert!(!mostly_numeric(2, 1));
    }
}
