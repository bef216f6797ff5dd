//! A cell's position and the errors that name it.

use crate::data::table::Table;
use crate::error::{CellLocation, DataError};

/// A cell's position, for error messages.
pub(super) struct CellAt {
    pub(super) path: String,
    pub(super) line: u64,
    pub(super) column: usize,
    pub(super) value: String,
}

impl CellAt {
    pub(super) fn new(table: &Table, row: usize, col: usize, value: &str) -> CellAt {
        CellAt {
            path: table.source.clone(),
            line: table.lines[row],
            column: col + 1,
            value: value.into(),
        }
    }

    /// The cell with its column's name.
    pub(super) fn named(self, name: &str) -> CellLocation {
        CellLocation {
            path: self.path,
            line: self.line,
            column: self.column,
            name: name.into(),
            value: self.value,
        }
    }

    pub(super) fn non_numeric_target(self, name: &str) -> DataError {
        DataError::NonNumericTarget {
            at: self.named(name),
        }
    }

    pub(super) fn target_too_large(self, name: &str) -> DataError {
        DataError::TargetTooLarge {
            at: self.named(name),
        }
    }

    pub(super) fn non_numeric_feature(self, name: &str) -> DataError {
        DataError::NonNumericFeature {
            at: self.named(name),
        }
    }
}
