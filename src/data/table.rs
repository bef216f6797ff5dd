//! Reading a CSV file into a table of trimmed text cells, with the line of every record kept
//! for error messages. No interpretation of values happens here.

use crate::error::DataError;

/// Where a table comes from: a file, or text embedded in the binary.
#[derive(Debug, Clone)]
pub enum Source {
    File(std::path::PathBuf),
    Embedded {
        name: &'static str,
        text: &'static str,
    },
}

impl Source {
    /// The name used in messages and in the run JSON.
    pub fn display_name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Embedded { name, .. } => format!("<embedded>/{name}"),
        }
    }
}

/// The delimiters `anmin` detects on its own.
pub const DETECTED_DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// A CSV table as text: a header and rectangular records.
#[derive(Debug, Clone)]
pub struct Table {
    pub source: String,
    pub delimiter: u8,
    pub header: Vec<String>,
    pub records: Vec<csv::StringRecord>,
    /// 1-based line of each record in the file.
    pub lines: Vec<u64>,
}

impl Table {
    /// Reads a table from its source; `delimiter` None means detect it.
    pub fn read(source: &Source, delimiter: Option<u8>) -> Result<Table, DataError> {
        let name = source.display_name();
        match source {
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| DataError::Open {
                    path: name.clone(),
                    source: e,
                })?;
                Table::parse(&name, &bytes, delimiter)
            }
            Source::Embedded { text, .. } => Table::parse(&name, text.as_bytes(), delimiter),
        }
    }

    /// Parses CSV bytes. `name` only labels error messages.
    pub fn parse(name: &str, bytes: &[u8], delimiter: Option<u8>) -> Result<Table, DataError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        check_text(name, bytes)?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(DataError::Empty { path: name.into() });
        }
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(bytes));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);

        let lines_at = LineIndex::new(bytes);
        let mut header: Option<Vec<String>> = None;
        let mut records = Vec::new();
        let mut lines = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            let more = reader
                .read_record(&mut record)
                .map_err(|e| csv_error(name, &lines_at, &e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| lines_at.line_of(p.byte()));
            // A line holding only white space is a blank line, not a record with one empty cell.
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            match &header {
                None => header = Some(record.iter().map(str::to_owned).collect()),
                Some(h) => {
                    if record.len() != h.len() {
                        return Err(DataError::Ragged {
                            path: name.into(),
                            line,
                            found: record.len(),
                            expected: h.len(),
                        });
                    }
                    records.push(record.clone());
                    lines.push(line);
                }
            }
        }
        let header = header.ok_or_else(|| DataError::Empty { path: name.into() })?;
        check_header(name, &header)?;
        if records.is_empty() {
            return Err(DataError::HeaderOnly { path: name.into() });
        }
        Ok(Table {
            source: name.into(),
            delimiter,
            header,
            records,
            lines,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.records.len()
    }

    /// 0-based index of a column by exact name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Rejects bytes that are not UTF-8 text, naming the line and column of the first bad byte.
fn check_text(name: &str, bytes: &[u8]) -> Result<(), DataError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        let (line, column) = LineIndex::new(bytes).position(e.valid_up_to());
        return Err(DataError::NotUtf8 {
            path: name.into(),
            line,
            column,
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        let (line, column) = LineIndex::new(bytes).position(offset);
        return Err(DataError::Binary {
            path: name.into(),
            line,
            column,
        });
    }
    Ok(())
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

/// Line numbers from byte offsets. The csv crate's own line count skips blank lines and
/// miscounts CRLF, and a record's byte position points just past the previous record's line
/// end, before any empty lines the reader then passed over, so we skip those ourselves. Lines end as the csv crate ends records: at
/// `\n`, `\r\n`, or a lone `\r` (old Mac files).
struct LineIndex<'a> {
    bytes: &'a [u8],
    /// Offset of the last byte of every line break.
    breaks: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let breaks = bytes
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| {
                let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
                (b == b'\n' || lone_cr).then_some(i)
            })
            .collect();
        LineIndex { bytes, breaks }
    }

    /// The 1-based line holding the byte at `offset`.
    fn line_at(&self, offset: usize) -> u64 {
        self.breaks.partition_point(|&p| p < offset) as u64 + 1
    }

    /// The 1-based (line, column) of the byte at `offset`; columns count characters.
    fn position(&self, offset: usize) -> (u64, u64) {
        let line = self.line_at(offset);
        let line_start = match line {
            1 => 0,
            _ => self.breaks[line as usize - 2] + 1,
        };
        // Columns count characters, so decode what precedes the byte on its line.
        let column = String::from_utf8_lossy(&self.bytes[line_start..offset])
            .chars()
            .count() as u64
            + 1;
        (line, column)
    }

    /// The 1-based line of the record whose csv position is `offset`: the first byte at or
    /// after it that is not a line end. Other white space belongs to the record (a TSV row of
    /// empty fields is a tab), so it is not skipped.
    fn line_of(&self, offset: u64) -> u64 {
        let mut start = (offset as usize).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line_at(start)
    }
}

fn csv_error(name: &str, lines_at: &LineIndex, e: &csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| lines_at.line_of(p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    };
    DataError::Csv {
        path: name.into(),
        line,
        message,
    }
}

/// Picks among `,` `;` and tab the delimiter that splits the first lines into the same number
/// of fields, preferring more fields; ties go to the earlier candidate.
fn detect_delimiter(bytes: &[u8]) -> u8 {
    const SAMPLE_RECORDS: usize = 32;
    let mut best = (b',', false, 0usize);
    for &candidate in &DETECTED_DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(candidate)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut counts = Vec::new();
        for record in reader.records().take(SAMPLE_RECORDS) {
            match record {
                Ok(r) if r.len() == 1 && r[0].trim().is_empty() => continue,
                Ok(r) => counts.push(r.len()),
                Err(_) => break,
            }
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
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table, DataError> {
        Table::parse("t.csv", text.as_bytes(), None)
    }

    #[test]
    fn detects_each_delimiter() {
        for (text, delim) in [
            ("a,b,c\n1,2,3\n", b','),
            ("a;b;c\n1,5;2;3\n", b';'),
            ("a\tb\tc\n1\t2\t3\n", b'\t'),
        ] {
            let t = parse(text).unwrap();
            assert_eq!(t.delimiter, delim, "{text:?}");
            assert_eq!(t.header, ["a", "b", "c"]);
        }
    }

    #[test]
    fn bom_crlf_quotes_and_whitespace() {
        let t = parse("\u{feff}\"x, y\" , z\r\n 1 ,\"2\"\r\n\r\n  \r\n3,4\r\n").unwrap();
        assert_eq!(t.header, ["x, y", "z"]);
        assert_eq!(t.records.len(), 2);
        assert_eq!(&t.records[0][0], "1");
        assert_eq!(&t.records[0][1], "2");
        assert_eq!(t.lines, [2, 5]);
    }

    #[test]
    fn structural_errors() {
        assert!(matches!(parse(""), Err(DataError::Empty { .. })));
        assert!(matches!(parse(" \n\n"), Err(DataError::Empty { .. })));
        assert!(matches!(parse("a,b\n"), Err(DataError::HeaderOnly { .. })));
        assert!(matches!(
            parse("a,b\n1,2\n1,2,3\n"),
            Err(DataError::Ragged {
                line: 3,
                found: 3,
                expected: 2,
                ..
            })
        ));
        // Lines count blank lines and newlines inside quoted fields.
        assert!(matches!(
            parse("a,b\n\"x\ny\",2\n\n3\n"),
            Err(DataError::Ragged {
                line: 5,
                found: 1,
                expected: 2,
                ..
            })
        ));
        assert!(matches!(
            parse("a,b,a\n1,2,3\n"),
            Err(DataError::DuplicateColumn {
                first: 1,
                second: 3,
                ..
            })
        ));
        assert!(matches!(
            parse("a,,c\n1,2,3\n"),
            Err(DataError::EmptyColumnName { column: 2, .. })
        ));
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        // Old Mac line ends: the csv crate ends records at a lone CR, so line numbers must too
        // (they were all reported as line 1).
        let t = parse("a,b\r1,2\r\r3,4\r\n5,6\n").unwrap();
        assert_eq!(t.lines, [2, 4, 5]);
        assert!(matches!(
            parse("a,b\r1,2\r3\r"),
            Err(DataError::Ragged { line: 3, .. })
        ));
        match Table::parse("t.csv", b"a,b\r1,2\rx,\xff\r", None) {
            Err(DataError::NotUtf8 { line, column, .. }) => assert_eq!((line, column), (3, 3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_row_of_empty_tab_separated_fields_keeps_its_line() {
        // The row "\t" starts with white space; it was reported on the next non-blank line.
        let t = parse("a\tb\n\t\n \t1\n").unwrap();
        assert_eq!(t.lines, [2, 3]);
        assert!(matches!(
            parse("a\tb\tc\n\t\n"),
            Err(DataError::Ragged { line: 2, .. })
        ));
    }

    #[test]
    fn binary_content_is_located() {
        let bytes = b"a,b\n1,2\n3,\xff\n";
        match Table::parse("t.csv", bytes, None) {
            Err(DataError::NotUtf8 { line, column, .. }) => assert_eq!((line, column), (3, 3)),
            other => panic!("{other:?}"),
        }
        match Table::parse("t.csv", b"a,b\n1,\0\n", None) {
            Err(DataError::Binary { line, column, .. }) => assert_eq!((line, column), (2, 3)),
            other => panic!("{other:?}"),
        }
    }
}
