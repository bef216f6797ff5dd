//! Reading a CSV table, in one streaming pass, into typed columns: every cell is classified
//! once (number, missing, or text, see [`super::cell`]) and a number is stored as an f64
//! without its text, so a large numeric file needs little more memory than its numbers.
//! A column keeps its cells' text when it needs it: when it holds a text cell (its categories
//! are texts), or when the caller asks for it. A column whose first text cell comes after
//! numbers is read a second time for their text. Missing cells keep their text for messages.
//! No interpretation beyond classifying cells happens here.

use std::io::{self, Cursor, Read};

use super::cell::{Cell, parse_cell};
use super::input::{self, Source, Spool};
use super::scan::{ScanReader, ScanState};
use crate::error::DataError;

/// The delimiters `anmin` detects on its own.
pub const DETECTED_DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// A CSV table: a header and rectangular records, stored by column.
#[derive(Debug, Clone)]
pub struct Table {
    pub source: String,
    pub delimiter: u8,
    pub header: Vec<String>,
    /// 1-based line of each record in the file.
    pub lines: Vec<u64>,
    columns: Vec<Column>,
}

/// `values` holds a number cell's value, or one of these NaNs for the other cells.
const MISSING_BITS: u64 = 0x7ff8_0000_0000_0001;
const TEXT_BITS: u64 = 0x7ff8_0000_0000_0002;

/// One column's cells.
#[derive(Debug, Clone)]
struct Column {
    values: Vec<f64>,
    /// (row, text) of the missing cells, in row order, while `texts` is None.
    missing: Vec<(usize, Box<str>)>,
    /// Every cell's text, when kept.
    texts: Option<Texts>,
}

/// Texts stored end to end.
#[derive(Debug, Clone, Default)]
struct Texts {
    buf: String,
    ends: Vec<usize>,
}

impl Texts {
    fn push(&mut self, s: &str) {
        self.buf.push_str(s);
        self.ends.push(self.buf.len());
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

impl Column {
    fn text(&self, row: usize) -> Option<&str> {
        match &self.texts {
            Some(t) => Some(t.get(row)),
            None => self
                .missing
                .binary_search_by_key(&row, |(r, _)| *r)
                .ok()
                .map(|i| &*self.missing[i].1),
        }
    }
}

/// A column while the first pass fills it.
struct ColumnBuilder {
    column: Column,
    /// A number was stored without its text.
    untexted_numbers: bool,
    /// A text cell came after numbers whose text was not kept: read again.
    reread: bool,
}

impl ColumnBuilder {
    fn new(keep_text: bool) -> Self {
        ColumnBuilder {
            column: Column {
                values: Vec::new(),
                missing: Vec::new(),
                texts: keep_text.then(Texts::default),
            },
            untexted_numbers: false,
            reread: false,
        }
    }

    fn push(&mut self, row: usize, cell: &str) {
        let class = parse_cell(cell);
        self.column.values.push(match class {
            Cell::Number(v) => v,
            Cell::Missing(_) => f64::from_bits(MISSING_BITS),
            Cell::Text(_) => f64::from_bits(TEXT_BITS),
        });
        let column = &mut self.column;
        match (&mut column.texts, class) {
            (Some(texts), _) => texts.push(cell),
            (None, Cell::Number(_)) => self.untexted_numbers = true,
            (None, Cell::Missing(_)) => column.missing.push((row, cell.into())),
            (None, Cell::Text(_)) if self.untexted_numbers => self.reread = true,
            (None, Cell::Text(_)) => {
                // Every earlier cell is missing, and their texts are known.
                let mut texts = Texts::default();
                for (_, s) in column.missing.drain(..) {
                    texts.push(&s);
                }
                texts.push(cell);
                column.texts = Some(texts);
            }
        }
    }
}

impl Table {
    /// Reads a table from its source; `delimiter` None means detect it.
    pub fn read(source: &Source, delimiter: Option<u8>) -> Result<Table, DataError> {
        Table::read_keeping_text(source, delimiter, &[])
    }

    /// As [`Table::read`], keeping the text of the columns named in `keep` whatever they
    /// hold (`predict` needs the text of a categorical column even when its new values all
    /// look like numbers).
    pub fn read_keeping_text(
        source: &Source,
        delimiter: Option<u8>,
        keep: &[String],
    ) -> Result<Table, DataError> {
        let name = source.display_name();
        let cannot_read = |e| DataError::Open {
            path: name.clone(),
            source: e,
        };
        match source {
            Source::File(path) => {
                let first = input::open_file(path).map_err(cannot_read)?;
                parse_stream(&name, first, delimiter, keep, &mut || {
                    input::open_file(path)
                })
            }
            Source::Stdin => {
                let spool = Spool::new().map_err(cannot_read)?;
                let first = input::text_stream(spool.tee_stdin(), true).map_err(cannot_read)?;
                parse_stream(&name, first, delimiter, keep, &mut || spool.reread())
            }
            Source::Embedded { text, .. } => {
                Table::parse_keeping_text(&name, text.as_bytes(), delimiter, keep)
            }
        }
    }

    /// Parses CSV bytes. `name` only labels error messages.
    pub fn parse(name: &str, bytes: &[u8], delimiter: Option<u8>) -> Result<Table, DataError> {
        Table::parse_keeping_text(name, bytes, delimiter, &[])
    }

    /// As [`Table::parse`], keeping the text of the columns named in `keep`.
    pub fn parse_keeping_text(
        name: &str,
        bytes: &[u8],
        delimiter: Option<u8>,
        keep: &[String],
    ) -> Result<Table, DataError> {
        let mut open = || input::text_stream(bytes, false);
        let first = open().map_err(|e| DataError::Open {
            path: name.into(),
            source: e,
        })?;
        parse_stream(name, first, delimiter, keep, &mut open)
    }

    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    /// 0-based index of a column by exact name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The cell at `row` (0-based record) and `col`.
    pub fn cell(&self, row: usize, col: usize) -> Cell<'_> {
        let column = &self.columns[col];
        let value = column.values[row];
        if value.is_finite() {
            return Cell::Number(value);
        }
        let text = column.text(row).expect("non-number cells keep their text");
        if value.to_bits() == MISSING_BITS {
            Cell::Missing(text)
        } else {
            Cell::Text(text)
        }
    }

    /// Whether the cell is a missing value.
    pub fn is_missing(&self, row: usize, col: usize) -> bool {
        self.columns[col].values[row].to_bits() == MISSING_BITS
    }

    /// The cell's text, when the table kept it: always for missing and text cells, and for
    /// numbers in columns that keep their text.
    pub fn text(&self, row: usize, col: usize) -> Option<&str> {
        self.columns[col].text(row)
    }

    /// The cell as messages show it: its text, or for a number whose text was not kept, the
    /// shortest text that reads back as the same number.
    pub fn shown(&self, row: usize, col: usize) -> String {
        match self.text(row, col) {
            Some(text) => text.to_owned(),
            None => format!("{:?}", self.columns[col].values[row]),
        }
    }
}

/// Parses the stream `first`; `reopen` gives the same bytes again, for columns whose text
/// turns out to be needed after numbers were stored without it.
fn parse_stream<'a>(
    name: &str,
    first: Box<dyn Read + 'a>,
    delimiter: Option<u8>,
    keep: &[String],
    reopen: &mut dyn FnMut() -> io::Result<Box<dyn Read + 'a>>,
) -> Result<Table, DataError> {
    let state = ScanState::new();
    let mut scan = ScanReader::new(first, state.clone());
    let outcome = first_pass(name, &mut scan, delimiter, keep, &state);
    if outcome.is_err() {
        // Problems with the bytes themselves come first, wherever they are in the file.
        let _ = io::copy(&mut scan, &mut io::sink());
    }
    {
        let state = state.borrow();
        if let Some((line, column)) = state.not_utf8 {
            return Err(DataError::NotUtf8 {
                path: name.into(),
                line,
                column,
            });
        }
        if let Some(line) = state.too_long {
            return Err(DataError::LineTooLong {
                path: name.into(),
                line,
                limit: super::scan::MAX_LINE_BYTES,
            });
        }
        if let Some((line, column)) = state.first_nul {
            return Err(DataError::Binary {
                path: name.into(),
                line,
                column,
            });
        }
        if !state.non_blank {
            return Err(DataError::Empty { path: name.into() });
        }
    }
    let (delimiter, header, builders, lines) = outcome?;
    let header = header.ok_or_else(|| DataError::Empty { path: name.into() })?;
    check_header(name, &header)?;
    if lines.is_empty() {
        return Err(DataError::HeaderOnly { path: name.into() });
    }
    let reread: Vec<usize> = (0..builders.len())
        .filter(|&c| builders[c].reread)
        .collect();
    let mut columns: Vec<Column> = builders.into_iter().map(|b| b.column).collect();
    if !reread.is_empty() {
        let texts =
            reread_texts(reopen, delimiter, header.len(), lines.len(), &reread).map_err(|e| {
                DataError::Open {
                    path: name.into(),
                    source: e,
                }
            })?;
        for (&c, texts) in reread.iter().zip(texts) {
            columns[c].texts = Some(texts);
            columns[c].missing = Vec::new();
        }
    }
    Ok(Table {
        source: name.into(),
        delimiter,
        header,
        lines,
        columns,
    })
}

type FirstPass = (u8, Option<Vec<String>>, Vec<ColumnBuilder>, Vec<u64>);

fn csv_reader<R: Read>(delimiter: u8, reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader)
}

/// A record with its fields trimmed (as the csv crate's `Trim::All` trims them), or None
/// for a blank line: a line holding only white space is not a record with one empty cell.
fn trimmed(record: &csv::StringRecord) -> Option<impl Iterator<Item = &str>> {
    let blank = record.len() == 1 && record[0].trim().is_empty();
    (!blank).then(|| record.iter().map(str::trim))
}

/// Reads the header and every record into columns.
fn first_pass(
    name: &str,
    scan: &mut impl Read,
    delimiter: Option<u8>,
    keep: &[String],
    state: &std::rc::Rc<std::cell::RefCell<ScanState>>,
) -> Result<FirstPass, DataError> {
    let cannot_read = |e| DataError::Open {
        path: name.into(),
        source: e,
    };
    let (delimiter, prefix) = match delimiter {
        Some(d) => (d, Vec::new()),
        None => detect_delimiter(scan).map_err(cannot_read)?,
    };
    let mut reader = csv_reader(delimiter, Cursor::new(prefix).chain(scan));
    let mut header: Option<Vec<String>> = None;
    let mut columns: Vec<ColumnBuilder> = Vec::new();
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| csv_error(name, state, e))?;
        if !more {
            break;
        }
        state.borrow_mut().record_ends(reader.position().byte());
        let line = record
            .position()
            .map_or(0, |p| state.borrow_mut().line_of(p.byte()));
        let Some(fields) = trimmed(&record) else {
            continue;
        };
        match &header {
            None => {
                let names: Vec<String> = fields.map(str::to_owned).collect();
                columns = names
                    .iter()
                    .map(|n| ColumnBuilder::new(keep.contains(n)))
                    .collect();
                header = Some(names);
            }
            Some(h) => {
                if record.len() != h.len() {
                    return Err(DataError::Ragged {
                        path: name.into(),
                        line,
                        found: record.len(),
                        expected: h.len(),
                    });
                }
                let row = lines.len();
                for (column, cell) in columns.iter_mut().zip(fields) {
                    column.push(row, cell);
                }
                lines.push(line);
            }
        }
    }
    Ok((delimiter, header, columns, lines))
}

/// The texts of columns `cols` on a second reading of the same bytes.
fn reread_texts<'a>(
    reopen: &mut dyn FnMut() -> io::Result<Box<dyn Read + 'a>>,
    delimiter: u8,
    width: usize,
    rows: usize,
    cols: &[usize],
) -> io::Result<Vec<Texts>> {
    let changed = || io::Error::other("the file changed while it was being read");
    let mut reader = csv_reader(delimiter, reopen()?);
    let mut texts = vec![Texts::default(); cols.len()];
    let mut record = csv::StringRecord::new();
    let mut seen_header = false;
    let mut row = 0;
    while reader.read_record(&mut record).map_err(|_| changed())? {
        let Some(fields) = trimmed(&record) else {
            continue;
        };
        if !seen_header {
            seen_header = true;
            continue;
        }
        if record.len() != width || row == rows {
            return Err(changed());
        }
        let fields: Vec<&str> = fields.collect();
        for (t, &c) in texts.iter_mut().zip(cols) {
            t.push(fields[c]);
        }
        row += 1;
    }
    if row != rows {
        return Err(changed());
    }
    Ok(texts)
}

fn check_header(name: &str, header: &[String]) -> Result<(), DataError> {
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(DataError::EmptyColumnName {
                path: name.into(),
                column: i + 1,
            });
        }
        if let Some(first) = header[..i].iter().position(|other| other == h) {
            return Err(DataError::DuplicateColumn {
                path: name.into(),
                name: h.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    Ok(())
}

fn csv_error(
    name: &str,
    state: &std::rc::Rc<std::cell::RefCell<ScanState>>,
    e: csv::Error,
) -> DataError {
    let line = e
        .position()
        .map_or(0, |p| state.borrow_mut().line_of(p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Open {
            path: name.into(),
            source,
        },
        _ => DataError::Csv {
            path: name.into(),
            line,
            message,
        },
    }
}

/// The most bytes the delimiter is detected from.
const DETECT_MAX_BYTES: usize = 4 << 20;

/// Records the delimiter is detected from.
const SAMPLE_RECORDS: usize = 32;

/// Reads the start of the stream and picks the delimiter from its first records (see
/// [`delimiter_of`]). Returns the bytes read, which the parse must read first.
fn detect_delimiter(scan: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut prefix = Vec::new();
    let mut target: usize = 1 << 16;
    loop {
        let wanted = target - prefix.len();
        let got = scan.by_ref().take(wanted as u64).read_to_end(&mut prefix)?;
        // A delimiter is decided on at most DETECT_MAX_BYTES (a quote never closed would
        // otherwise keep the whole stream in the sample).
        let at_end = got < wanted;
        let complete = at_end || target >= DETECT_MAX_BYTES;
        // Whole lines only, so that no character is cut.
        let cut = if at_end {
            prefix.len()
        } else {
            let lines = prefix
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(0, |i| i + 1);
            if lines == 0 && complete {
                prefix.len()
            } else {
                lines
            }
        };
        if let Some(d) = delimiter_of(&prefix[..cut], complete) {
            return Ok((d, prefix));
        }
        target *= 2;
    }
}

/// Picks among `,` `;` and tab the delimiter that splits the first records of `bytes` into
/// the same number of fields, preferring more fields; ties go to the earlier candidate.
/// None when `bytes` is not `complete` and some candidate needs more of it to decide.
fn delimiter_of(bytes: &[u8], complete: bool) -> Option<u8> {
    let mut best = (b',', false, 0usize);
    for &candidate in &DETECTED_DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(candidate)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut counts = Vec::new();
        let mut taken = 0;
        let mut failed = false;
        for record in reader.records().take(SAMPLE_RECORDS) {
            taken += 1;
            match record {
                Ok(r) if r.len() == 1 && r[0].trim().is_empty() => continue,
                Ok(r) => counts.push(r.len()),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        // The last record read may be cut short where `bytes` ends.
        let ran_out = taken < SAMPLE_RECORDS || reader.position().byte() >= bytes.len() as u64;
        if !complete && !failed && ran_out {
            return None;
        }
        let Some(&fields) = counts.first() else {
            continue;
        };
        let consistent = counts.iter().all(|&c| c == fields);
        let better = match (consistent, best.1) {
            (true, false) => fields > 1,
            (false, true) => false,
            _ => fields > best.2,
        };
        if better {
            best = (candidate, consistent, fields);
        }
    }
    Some(best.0)
}

#[cfg(test)]
mod tests;
