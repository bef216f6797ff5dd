use super::*;

fn parse(text: &str) -> Result<Table, DataError> {
    Table::parse("t.csv", text.as_bytes(), None)
}

/// Every cell of a table as text (numbers whose text was not kept as `{:?}`).
fn cells(t: &Table) -> Vec<Vec<String>> {
    (0..t.n_rows())
        .map(|r| (0..t.header.len()).map(|c| t.shown(r, c)).collect())
        .collect()
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
fn detection_reads_as_far_as_the_sample_needs() {
    // Far more than the first read of the stream before the 32nd record: a long quoted
    // field holding commas in a semicolon-separated file.
    let long = "x,".repeat(60_000);
    let mut text = format!("a;b\n\"{long}\";1\n");
    for i in 0..40 {
        text.push_str(&format!("{i};{i}\n"));
    }
    let t = parse(&text).unwrap();
    assert_eq!(t.delimiter, b';');
    assert_eq!(t.n_rows(), 41);
    assert_eq!(t.cell(40, 1), Cell::Number(39.0));
}

#[test]
fn bom_crlf_quotes_and_whitespace() {
    let t = parse("\u{feff}\"x, y\" , z\r\n 1 ,\"2\"\r\n\r\n  \r\n3,4\r\n").unwrap();
    assert_eq!(t.header, ["x, y", "z"]);
    assert_eq!(t.n_rows(), 2);
    assert_eq!(t.cell(0, 0), Cell::Number(1.0));
    assert_eq!(t.cell(0, 1), Cell::Number(2.0));
    assert_eq!(t.lines, [2, 5]);
}

#[test]
fn cells_are_classified_and_text_kept_where_needed() {
    let t = parse("n,m,c,late\n1.50,NA,M,1.0\n2,3,?,x\n").unwrap();
    assert_eq!(t.cell(0, 0), Cell::Number(1.5));
    assert_eq!(t.text(0, 0), None);
    assert_eq!(t.cell(0, 1), Cell::Missing("NA"));
    assert!(t.is_missing(0, 1) && !t.is_missing(1, 1));
    assert_eq!(t.cell(1, 2), Cell::Missing("?"));
    assert_eq!(t.text(0, 2), Some("M"));
    // A text after numbers: the column is read again for the numbers' own text.
    assert_eq!(t.text(0, 3), Some("1.0"));
    assert_eq!(t.cell(0, 3), Cell::Number(1.0));
    assert_eq!(t.cell(1, 3), Cell::Text("x"));
    assert_eq!(cells(&t)[0], ["1.5", "NA", "M", "1.0"]);
    // Asked for, a numeric column keeps its text too.
    let kept = Table::parse_keeping_text("t.csv", b"n,y\n1.50,2\n", None, &["n".into()]);
    assert_eq!(kept.unwrap().text(0, 0), Some("1.50"));
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
fn problems_with_the_bytes_come_before_structure() {
    // A ragged row before binary content: the content is reported, as when the whole file
    // was checked before parsing.
    assert!(matches!(
        parse("a,b\n1,2,3\n4,\0\n"),
        Err(DataError::Binary {
            line: 3,
            column: 3,
            ..
        })
    ));
    // Reading stops at the first NUL (an endless binary stream is not buffered): the bytes'
    // first problem is reported.
    assert!(matches!(
        Table::parse("t.csv", b"a,b\n1\n\0\n\xff", None),
        Err(DataError::Binary {
            line: 3,
            column: 1,
            ..
        })
    ));
    assert!(matches!(
        Table::parse("t.csv", b"a,b\n1\n\xff\n\0", None),
        Err(DataError::NotUtf8 {
            line: 3,
            column: 1,
            ..
        })
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

#[test]
fn gzip_files_read_as_their_text() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    let text = "a,c\n1,x\n2,y\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv.gz");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    let t = Table::read(&Source::File(path.clone()), None).unwrap();
    assert_eq!(cells(&t), [["1.0", "x"], ["2.0", "y"]]);
    // A damaged archive is an error naming the file, not a panic.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    std::fs::write(&path, bytes).unwrap();
    match Table::read(&Source::File(path.clone()), None) {
        Err(e @ DataError::Open { .. }) => assert!(e.to_string().contains("t.csv.gz"), "{e}"),
        other => panic!("{other:?}"),
    }
}
