//! What encoding a table noticed without failing: stray text in a numeric column, categories
//! a model never saw, missing values where training had none. Front ends print these on
//! stderr; the library never prints.

use std::fmt;

/// What kind of cell a note counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A few text cells in a column inferred numeric: read as missing.
    TextAsMissing,
    /// Text, in new rows, in a column the model reads as numeric: read as missing.
    TextInNumeric,
    /// A category the encoding does not know: all-zero one-hot (frequency 0).
    UnseenCategory,
    /// A missing value in a categorical column whose training rows had none: all-zero
    /// one-hot (frequency 0).
    UnseenMissing,
    /// A row whose target is missing: dropped (a target cannot be imputed).
    MissingTarget,
    /// A model input that is not a column of the rows to predict: missing on every row.
    AbsentColumn,
}

/// One column's count of one kind of cell, with the first such cell.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeNote {
    pub kind: NoteKind,
    pub path: String,
    pub column_name: String,
    /// 1-based column of the file.
    pub column: usize,
    /// 1-based line of the first such cell.
    pub line: u64,
    /// The first such cell's text.
    pub value: String,
    pub count: usize,
}

impl fmt::Display for EncodeNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value) = (self.column_name.escape_debug(), self.value.escape_debug());
        let at = format!("{}:{}:{}", self.path, self.line, self.column);
        let rows = |n: usize| if n == 1 { "row" } else { "rows" };
        let n = self.count;
        match self.kind {
            NoteKind::TextAsMissing => write!(
                f,
                "column \"{name}\" is numeric but {n} {} text, read as missing \
                 (first at {at}: \"{value}\"; --numeric {name} makes text an error)",
                if n == 1 { "cell holds" } else { "cells hold" }
            ),
            NoteKind::TextInNumeric => write!(
                f,
                "column \"{name}\": {n} {} with text in a numeric column, read as missing \
                 (first at {at}: \"{value}\")",
                rows(n)
            ),
            NoteKind::UnseenCategory => write!(
                f,
                "column \"{name}\": {n} {} with a category the model never saw, encoded as \
                 none of its categories (first at {at}: \"{value}\")",
                rows(n)
            ),
            NoteKind::UnseenMissing => write!(
                f,
                "column \"{name}\": {n} {} with a missing value, which the training rows never \
                 had there, encoded as none of its categories (first at {at}: \"{value}\")",
                rows(n)
            ),
            NoteKind::AbsentColumn => write!(
                f,
                "column \"{name}\", a model input, is not in {}: read as missing on all {n} {}",
                self.path,
                rows(n)
            ),
            NoteKind::MissingTarget => write!(
                f,
                "dropped {n} {} whose target \"{name}\" is missing (first at {at}: \"{value}\")",
                rows(n)
            ),
        }
    }
}

/// Collects notes, one per (column, kind), keeping the first cell and counting the rest.
#[derive(Debug, Default)]
pub(super) struct Notes {
    pub(super) notes: Vec<EncodeNote>,
}

impl Notes {
    /// Input `name` is not a column of `path`'s `n` rows.
    pub(super) fn absent(&mut self, path: &str, name: &str, n: usize) {
        self.notes.push(EncodeNote {
            kind: NoteKind::AbsentColumn,
            path: path.into(),
            column_name: name.into(),
            column: 0,
            line: 0,
            value: String::new(),
            count: n,
        });
    }

    pub(super) fn add(&mut self, kind: NoteKind, at: super::cell_at::CellAt, name: &str) {
        if let Some(note) = self
            .notes
            .iter_mut()
            .find(|n| n.kind == kind && n.column == at.column)
        {
            note.count += 1;
            return;
        }
        self.notes.push(EncodeNote {
            kind,
            path: at.path,
            column_name: name.into(),
            column: at.column,
            line: at.line,
            value: at.value,
            count: 1,
        });
    }
}
