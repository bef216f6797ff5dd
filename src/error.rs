//! Errors that reach the user. Each renders as one line naming the file, line and column where
//! one applies; `exit_code` maps them to the process exit status.

use std::path::PathBuf;

/// A cell of a file: where it is (1-based line and column), its column's name and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellLocation {
    pub path: String,
    pub line: u64,
    pub column: usize,
    pub name: String,
    pub value: String,
}

/// `path:line:column`, as compilers name a place.
impl std::fmt::Display for CellLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// Problems with an input table: the file, its CSV structure, or its values. Names and values
/// from the file are shown quoted and escaped (`{:?}`), so that a quoted field holding a
/// newline cannot split the one-line message.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read file: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: file is empty")]
    Empty { path: String },
    #[error("{path}: has a header row but no data rows")]
    HeaderOnly { path: String },
    #[error("{path}:{line}:{column}: not UTF-8 text (binary content?)")]
    NotUtf8 {
        path: String,
        line: u64,
        column: u64,
    },
    #[error("{path}:{line}:{column}: NUL byte: this is a binary file, not CSV text")]
    Binary {
        path: String,
        line: u64,
        column: u64,
    },
    #[error(
        "{path}:{line}: line longer than {limit} bytes: not a table (an endless or binary \
         stream, or a quote never closed?)"
    )]
    LineTooLong { path: String, line: u64, limit: u64 },
    #[error("{path}:{line}: malformed CSV: {message}")]
    Csv {
        path: String,
        line: u64,
        message: String,
    },
    #[error("{path}:{line}: row has {found} fields, but the header has {expected} columns")]
    Ragged {
        path: String,
        line: u64,
        found: usize,
        expected: usize,
    },
    #[error("{path}:1:{column}: column {column} has an empty name")]
    EmptyColumnName { path: String, column: usize },
    #[error("{path}:1:{second}: duplicate column name {name:?} (also column {first})")]
    DuplicateColumn {
        path: String,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{path}: no column named {name:?} (given as {role}); columns are: {available}")]
    UnknownColumn {
        path: String,
        name: String,
        role: &'static str,
        available: String,
    },
    #[error("{path}: {message}")]
    ColumnChoice { path: String, message: String },
    #[error(
        "{at}: missing value {:?} in column {:?} (pass --drop-missing to drop rows with missing values)",
        at.value,
        at.name
    )]
    Missing { at: CellLocation },
    #[error("{at}: target column {:?} must be numeric, found {:?}", at.name, at.value)]
    NonNumericTarget { at: CellLocation },
    #[error(
        "{at}: target column {:?} is too large to train on: squared errors of values like {:?} overflow f64; rescale the column (e.g. to other units)",
        at.name,
        at.value
    )]
    TargetTooLarge { at: CellLocation },
    #[error(
        "{at}: unknown category {:?} in column {:?} (the model knows: {known})",
        at.value,
        at.name
    )]
    UnknownCategory { at: CellLocation, known: String },
    #[error("{at}: column {:?} must be numeric, found {:?}", at.name, at.value)]
    NonNumericFeature { at: CellLocation },
    #[error(
        "{path}: column {name:?} cannot be standardized: a value is so far outside the \
         training range that it overflows f64 once scaled; clip the inputs to the training \
         range (--clip MARGIN, Python clip=0)"
    )]
    Unrepresentable { path: String, name: String },
    #[error(
        "{path}: data row {row}: the prediction overflows f64: input {input:?} is {value}, far \
         outside the training range; clip the inputs to it (--clip MARGIN, Python clip=0)"
    )]
    PredictionOverflow {
        path: String,
        row: usize,
        input: String,
        value: String,
    },
    /// A bad value of an in-memory array (no file, so no line: the row and column are 0-based
    /// positions in the array).
    #[error("{path}: {array}[{row}, {column}] ({name:?}): {problem}")]
    ArrayValue {
        path: String,
        array: &'static str,
        row: usize,
        column: usize,
        name: String,
        problem: String,
    },
    /// In-memory arrays whose shapes or names do not fit together.
    #[error("{path}: {message}")]
    ArrayShape { path: String, message: String },
    #[error("{path}: too few rows: {message}")]
    TooFewRows { path: String, message: String },
    /// A table that should hold one row per pixel of a grid but does not.
    #[error("{path}: {message}")]
    NotAGrid { path: String, message: String },
}

/// Everything `anmin` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Data(#[from] DataError),
    /// Flags that are individually valid but do not fit together or are out of range.
    #[error("{0}")]
    Usage(String),
    /// A saved model file that cannot be used.
    #[error("{path}: {message}")]
    Model { path: String, message: String },
    /// SIGINT or SIGTERM stopped the work; what was finished has been written.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A file given to `summarize` that is not a usable run file.
    #[error("{path}: {message}")]
    RunFile { path: String, message: String },
    /// Drawing a figure failed (a bug rather than bad input).
    #[error("cannot draw the figure: {0}")]
    Plot(String),
    /// An output that cannot be created where it was asked for, found before any work.
    #[error("{flag} {}: {reason}", path.display())]
    Unwritable {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// Writing an output file failed; the previous file, if any, is untouched.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// 2 for anything wrong with what the user gave us (as clap does for bad flags), 1 for a
    /// failure of the environment such as an unwritable output, 130 (128 + SIGINT) for an
    /// interruption.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Write { .. } | Error::Plot(_) => 1,
            Error::Interrupted(_) => 130,
            _ => 2,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
