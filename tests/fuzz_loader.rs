//! Property-based fuzzing of the data pipeline the CLI runs on a user's file:
//! `Table::parse` → `Dataset::from_table` → `data::prepare`.
//!
//! The property: every stage either returns a typed `DataError` (rendered as one line, with
//! line numbers inside the file) or a value whose numbers are all finite and whose shapes are
//! consistent. Never a panic. Inputs range from arbitrary bytes to CSV text with random
//! quoting, delimiters, line ends, blank lines, missing markers, extreme numbers and
//! categorical strings; a well-formed subset is also checked against what was written.
//!
//! Each `cargo test` runs `TOTAL_CASES` = 24,000 cases (at least 10,000 is asserted at compile
//! time), in about 4 s in the debug test profile on a 2-core machine. Every property also
//! asserts that its inputs reach the later stages often enough to say something.

use std::sync::atomic::{AtomicU32, Ordering};

use anmin::DataError;
use anmin::data::{self, Cell, ColumnChoice, Dataset, InputColumn, Prepared, Table, Task};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const ARBITRARY_BYTES_CASES: u32 = 3_000;
const CSV_ALPHABET_CASES: u32 = 3_000;
const MESSY_CSV_CASES: u32 = 12_000;
const WELL_FORMED_CSV_CASES: u32 = 6_000;
const TOTAL_CASES: u32 =
    ARBITRARY_BYTES_CASES + CSV_ALPHABET_CASES + MESSY_CSV_CASES + WELL_FORMED_CSV_CASES;
const _: () = assert!(TOTAL_CASES >= 10_000);

/// Test fractions and seeds every dataset is prepared with.
const SPLITS: [(f64, u64); 3] = [(0.0, 0), (0.2, 1), (0.5, 7)];

type Checked = Result<(), TestCaseError>;

/// How far the inputs of one property got through the pipeline.
#[derive(Default)]
struct Reached {
    cases: AtomicU32,
    tables: AtomicU32,
    datasets: AtomicU32,
    prepared: AtomicU32,
}

impl Reached {
    fn count(counter: &AtomicU32) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (cases, tables, datasets, prepared splits).
    fn get(&self) -> [u32; 4] {
        [&self.cases, &self.tables, &self.datasets, &self.prepared]
            .map(|c| c.load(Ordering::Relaxed))
    }
}

/// Runs `check` on `cases` inputs from `strategy`, asserts that all of them ran, and returns
/// how far they got.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value, &Reached) -> Checked,
) -> [u32; 4] {
    let reached = Reached::default();
    let config = Config {
        cases,
        // Failures are turned into unit tests beside the fix, not persisted files.
        failure_persistence: None,
        // Enough to shrink to a readable input without minutes of shrinking.
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        Reached::count(&reached.cases);
        check(value, &reached)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = reached.get();
    eprintln!("{name}: {counts:?} (cases, tables, datasets, prepared splits)");
    assert!(counts[0] >= cases);
    counts
}

// ---------------------------------------------------------------------------------------------
// The pipeline and its invariants.

/// Which columns a case uses, as indices into whatever header the parser finds (taken modulo
/// its length), so that generated choices name real columns most of the time.
#[derive(Debug, Clone)]
struct ColumnPicks {
    targets: Vec<usize>,
    features: Vec<usize>,
    drop: Vec<usize>,
    drop_missing: bool,
    /// Keep repeated names and features that are also targets (errors), and name a column
    /// that does not exist.
    sloppy: bool,
}

fn column_picks() -> impl Strategy<Value = ColumnPicks> {
    (
        prop::collection::vec(0usize..8, 1..3),
        prop::collection::vec(0usize..8, 0..4),
        prop::collection::vec(0usize..8, 0..2),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(targets, features, drop, drop_missing, sloppy)| ColumnPicks {
                targets,
                features,
                drop,
                drop_missing,
                sloppy,
            },
        )
}

impl ColumnPicks {
    /// The default choice, the default with `drop_missing`, and the picked columns.
    fn choices(&self, header: &[String]) -> Vec<ColumnChoice> {
        let columns = |picks: &[usize], exclude: &[usize]| -> Vec<usize> {
            let mut columns: Vec<usize> = Vec::new();
            for column in picks.iter().map(|&i| i % header.len()) {
                if self.sloppy || !(columns.contains(&column) || exclude.contains(&column)) {
                    columns.push(column);
                }
            }
            columns
        };
        let names = |columns: Vec<usize>| columns.into_iter().map(|c| header[c].clone()).collect();
        let targets = columns(&self.targets, &[]);
        let mut picked = ColumnChoice {
            features: names(columns(&self.features, &targets)),
            drop: names(columns(&self.drop, &targets)),
            targets: names(targets),
            target_prefix: None,
            drop_missing: self.drop_missing,
            // The picked columns read as numeric (text in them an error), and frequency
            // encoding past two categories.
            numeric: if self.sloppy {
                Vec::new()
            } else {
                names(columns(&self.drop, &[]))
            },
            max_one_hot: 2,
            // A text target is an error, as the checks below expect (not a classification).
            task: Task::Regress,
        };
        // --features and --drop are exclusive on the command line.
        if !picked.features.is_empty() {
            picked.drop.clear();
        }
        if self.sloppy {
            picked.targets.push("no such column".into());
        }
        vec![
            ColumnChoice::default(),
            ColumnChoice {
                drop_missing: true,
                ..Default::default()
            },
            picked,
        ]
    }
}

/// Runs the whole pipeline on `bytes` and checks every stage's result.
fn check_pipeline(
    bytes: &[u8],
    delimiter: Option<u8>,
    picks: &ColumnPicks,
    reached: &Reached,
) -> Checked {
    let table = match Table::parse("fuzz.csv", bytes, delimiter) {
        Ok(table) => table,
        Err(e) => return check_error(&e, bytes),
    };
    check_table(&table, bytes)?;
    Reached::count(&reached.tables);
    for choice in picks.choices(&table.header) {
        let dataset = match Dataset::from_table(&table, &choice) {
            Ok(dataset) => dataset,
            Err(e) => {
                check_error(&e, bytes)?;
                continue;
            }
        };
        check_dataset(&table, &choice, &dataset)?;
        Reached::count(&reached.datasets);
        for (test_frac, seed) in SPLITS {
            match data::prepare(&dataset, test_frac, seed) {
                Ok(prepared) => {
                    check_prepared(&dataset, test_frac, &prepared)?;
                    Reached::count(&reached.prepared);
                }
                Err(e) => {
                    check_error(&e, bytes)?;
                    // Training rows always standardize; only a test row far outside the
                    // training range may not.
                    let unrepresentable = matches!(e, DataError::Unrepresentable { .. });
                    prop_assert!(!(unrepresentable && test_frac == 0.0), "{e}");
                }
            }
        }
    }
    Ok(())
}

/// Lines of `bytes` as an editor shows them: `\n`, `\r\n` and a lone `\r` each end a line.
fn line_count(bytes: &[u8]) -> u64 {
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    breaks as u64 + 1
}

/// An error is one line of text, and any line it names is in the file.
fn check_error(e: &DataError, bytes: &[u8]) -> Checked {
    let message = e.to_string();
    prop_assert!(!message.is_empty());
    prop_assert!(
        !message.contains(['\n', '\r']),
        "error message spans lines: {message:?}"
    );
    let line = match e {
        DataError::NotUtf8 { line, .. }
        | DataError::Binary { line, .. }
        | DataError::Csv { line, .. }
        | DataError::Ragged { line, .. } => Some(*line),
        DataError::Missing { at }
        | DataError::NonNumericTarget { at }
        | DataError::NonNumericFeature { at }
        | DataError::TargetTooLarge { at }
        | DataError::UnknownCategory { at, .. } => Some(at.line),
        _ => None,
    };
    if let Some(line) = line {
        let lines = line_count(bytes);
        prop_assert!(
            (1..=lines).contains(&line),
            "{message}: line {line} of a {lines}-line file"
        );
    }
    Ok(())
}

fn check_table(table: &Table, bytes: &[u8]) -> Checked {
    let width = table.header.len();
    prop_assert!(width >= 1);
    for (i, name) in table.header.iter().enumerate() {
        prop_assert!(!name.is_empty());
        prop_assert!(!table.header[..i].contains(name), "duplicate {name:?}");
    }
    prop_assert!(table.n_rows() >= 1);
    prop_assert_eq!(table.lines.len(), table.n_rows());
    // Every cell is stored, and a kept text means what the cell's class says.
    for row in 0..table.n_rows() {
        for col in 0..width {
            let cell = table.cell(row, col);
            if let Some(text) = table.text(row, col) {
                prop_assert_eq!(cell, data::cell::parse_cell(text));
            } else {
                prop_assert!(matches!(cell, Cell::Number(_)), "{:?}", cell);
            }
        }
    }
    let lines = line_count(bytes);
    prop_assert!(
        table.lines.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        table.lines
    );
    prop_assert!(table.lines.iter().all(|l| (2..=lines).contains(l)));
    Ok(())
}

fn all_finite<'a>(values: impl IntoIterator<Item = &'a f64>) -> bool {
    values.into_iter().all(|v| v.is_finite())
}

fn check_dataset(table: &Table, choice: &ColumnChoice, d: &Dataset) -> Checked {
    let n = d.n_rows();
    prop_assert_eq!(d.file_rows, table.n_rows());
    prop_assert_eq!(n + d.dropped_rows, d.file_rows);
    prop_assert!(n >= 1);
    if !choice.drop_missing {
        // Only rows whose target is missing are dropped, each noted.
        let noted: usize = d
            .notes
            .iter()
            .filter(|n| n.kind == data::NoteKind::MissingTarget)
            .map(|n| n.count)
            .sum();
        prop_assert_eq!(d.dropped_rows, noted);
    }
    let (d_features, k) = (d.encoding.n_features(), d.encoding.outputs());
    prop_assert!(d_features >= 1 && k >= 1);
    prop_assert_eq!(d.encoding.feature_names().len(), d_features);
    prop_assert_eq!(d.x.shape(), (n, d_features));
    prop_assert_eq!(d.y.shape(), (n, k));
    // Missing inputs are NaN (imputed later), never infinite; none with --drop-missing.
    prop_assert!(d.x.iter().all(|v| !v.is_infinite()), "infinite feature");
    if choice.drop_missing {
        prop_assert!(all_finite(d.x.iter()), "non-finite feature");
    }
    prop_assert!(all_finite(d.y.iter()), "non-finite target");
    // Squared errors summed over rows and targets cannot overflow (`DataError::TargetTooLarge`).
    let sum_of_squares: f64 = d.y.iter().map(|v| v * v).sum();
    prop_assert!(sum_of_squares.is_finite(), "Σy² overflows");
    // Each categorical column is one-hot: one 1 per row among its features.
    let mut offset = 0;
    for input in &d.encoding.inputs {
        match input {
            InputColumn::Numeric { .. } => offset += 1,
            InputColumn::Categorical {
                categories,
                missing,
                ..
            } => {
                let width = categories.len() + usize::from(*missing);
                prop_assert!(width > 0);
                for row in d.x.row_iter() {
                    let block = row.columns(offset, width);
                    prop_assert!(block.iter().all(|&v| v == 0.0 || v == 1.0));
                    prop_assert_eq!(block.sum(), 1.0);
                }
                offset += width;
            }
            InputColumn::Frequency { .. } => offset += 1,
        }
    }
    Ok(())
}

fn check_prepared(d: &Dataset, test_frac: f64, p: &Prepared) -> Checked {
    let n = d.n_rows();
    let (n_train, n_test) = (p.split.train.len(), p.split.test.len());
    prop_assert_eq!(n_train + n_test, n);
    prop_assert!(n_train >= 1);
    prop_assert_eq!(n_test == 0, test_frac == 0.0);
    let mut rows: Vec<usize> = p.split.train.iter().chain(&p.split.test).copied().collect();
    rows.sort_unstable();
    prop_assert_eq!(rows, (0..n).collect::<Vec<_>>());

    prop_assert_eq!(p.scaler.n_inputs(), d.encoding.n_features());
    // The network's inputs: the encoded features and the missing indicators.
    let d_features = p.scaler.n_outputs();
    let s = &p.scaler;
    prop_assert_eq!(s.mean.len(), d_features);
    prop_assert_eq!(s.scale.len(), d_features);
    prop_assert!(s.is_valid(), "standardizer {s:?}");

    let sets = [(Some(&p.train), n_train), (p.test.as_ref(), n_test)];
    for (samples, rows) in sets {
        let Some(samples) = samples else {
            prop_assert_eq!(rows, 0);
            continue;
        };
        prop_assert_eq!(samples.x.shape(), (rows, d_features + 1));
        prop_assert_eq!(samples.y.shape(), (rows, d.encoding.outputs()));
        prop_assert!(
            all_finite(samples.x.iter()),
            "non-finite standardized feature"
        );
        prop_assert!(all_finite(samples.y.iter()), "non-finite target");
        prop_assert!(samples.x.column(d_features).iter().all(|&v| v == 1.0));
    }
    // A standardized training value lies at most √n standard deviations from the mean.
    let bound = (n_train as f64).sqrt() * (1.0 + 1e-9) + 1e-9;
    let z = p.train.x.columns(0, d_features);
    prop_assert!(z.iter().all(|v| v.abs() <= bound), "|z| > {bound}: {z}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Input generators.

/// Bytes a CSV parser treats specially, plus pieces of numbers and markers.
const CSV_ALPHABET: &[u8] = b",;\t|\"\r\n  aNnIiFf01.e5-+?";

/// Any of these; never ends a row by itself.
fn missing_marker() -> impl Strategy<Value = String> {
    let markers = prop::sample::select(vec![
        "", "NA", "nan", "?", "null", "inf", "-inf", "1e999", "-1E999", "Infinity", "+inf", "-NaN",
        " ",
    ]);
    (markers, any::<u64>()).prop_map(|(m, case_bits)| random_case(m, case_bits))
}

fn random_case(s: &str, bits: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if bits >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn ordinary_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i32..1000).prop_map(|v| v.to_string()),
        (-1e3..1e3f64).prop_map(|v| v.to_string()),
        (-1e3..1e3f64).prop_map(|v| format!("{v:e}")),
        prop::sample::select(vec!["+3", "-0", ".5", "5.", "1E3", "0.0", " 7 "])
            .prop_map(String::from),
    ]
}

fn extreme_number() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "1e300",
            "-1e300",
            "1.7e308",
            "-1.7e308",
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "5e-324",
            "-5e-324",
            "2.2250738585072014e-308",
            "1e-310",
            "-3e-320",
            "1e-400",
            "1e-300",
            "1e154",
            "1.4e154",
        ])
        .prop_map(String::from),
        // Any finite f64, subnormals included, written out in full.
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(|v| format!("{v:e}")),
        (1u64..1 << 52).prop_map(|bits| format!("{:e}", f64::from_bits(bits))),
    ]
}

/// Magnitudes near the top of f64's range, with the occasional tiny value.
fn huge_number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1e300..f64::MAX, any::<bool>())
            .prop_map(|(v, negative)| format!("{:e}", if negative { -v } else { v })),
        1 => prop::sample::select(vec!["1.7976931348623157e308", "-1.7e308", "1e-300", "0"])
            .prop_map(String::from),
    ]
}

/// Zero, subnormals and the smallest normal numbers.
fn tiny_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..1 << 52, any::<bool>()).prop_map(|(bits, negative)| {
            let v = f64::from_bits(bits);
            format!("{:e}", if negative { -v } else { v })
        }),
        prop::sample::select(vec![
            "0",
            "5e-324",
            "-5e-324",
            "1e-320",
            "2.2250738585072014e-308"
        ])
        .prop_map(String::from),
        (1e-310..1e-300f64).prop_map(|v| format!("{v:e}")),
    ]
}

fn category() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "red",
            "green",
            "blue",
            "M",
            "F",
            "I",
            "a b",
            "x,y",
            "x;y",
            "é",
            "日本",
            "\"q\"",
            "line\nbreak",
            "cr\rlf",
            " pad ",
            "NAN-ish",
            "1-2",
            "0x10",
            "1,5",
            "true",
        ])
        .prop_map(String::from),
        "[a-c]{1,2}",
    ]
}

/// Anything at all: printable text or bytes from the CSV alphabet.
fn any_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,6}",
        prop::collection::vec(prop::sample::select(CSV_ALPHABET), 0..6)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// What kind of values a generated column holds (each cell may still be anything).
#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    Ordinary,
    Extreme,
    Huge,
    Tiny,
    Categorical,
    Noise,
}

fn column_kind() -> impl Strategy<Value = ColumnKind> {
    prop_oneof![
        5 => Just(ColumnKind::Ordinary),
        3 => Just(ColumnKind::Extreme),
        1 => Just(ColumnKind::Huge),
        1 => Just(ColumnKind::Tiny),
        2 => Just(ColumnKind::Categorical),
        1 => Just(ColumnKind::Noise),
    ]
}

fn cell(kind: ColumnKind) -> BoxedStrategy<String> {
    match kind {
        ColumnKind::Ordinary => prop_oneof![
            60 => ordinary_number(),
            1 => missing_marker(),
            1 => any_cell(),
        ]
        .boxed(),
        ColumnKind::Extreme => prop_oneof![
            20 => extreme_number(),
            20 => ordinary_number(),
            1 => missing_marker(),
        ]
        .boxed(),
        ColumnKind::Huge => prop_oneof![
            40 => huge_number(),
            1 => missing_marker(),
        ]
        .boxed(),
        ColumnKind::Tiny => prop_oneof![
            40 => tiny_number(),
            1 => missing_marker(),
        ]
        .boxed(),
        ColumnKind::Categorical => prop_oneof![
            30 => category(),
            1 => missing_marker(),
            1 => ordinary_number(),
        ]
        .boxed(),
        ColumnKind::Noise => prop_oneof![
            2 => any_cell(),
            1 => missing_marker(),
            1 => extreme_number(),
        ]
        .boxed(),
    }
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{1,4}",
        1 => prop::sample::select(vec!["x", "y", "", " ", "a b", "\"h\"", "x,y", "n\nl"])
            .prop_map(String::from),
    ]
}

/// How a field is written.
#[derive(Debug, Clone, Copy)]
enum Quoting {
    /// As is, even when it holds delimiters, quotes or newlines.
    Bare,
    /// In quotes, inner quotes doubled.
    Quoted,
    /// In quotes with white space outside them.
    QuotedPadded,
    /// An opening quote that is never closed.
    Unbalanced,
}

fn quoting() -> impl Strategy<Value = Quoting> {
    prop_oneof![
        12 => Just(Quoting::Bare),
        4 => Just(Quoting::Quoted),
        1 => Just(Quoting::QuotedPadded),
        1 => Just(Quoting::Unbalanced),
    ]
}

/// Whether a bare `text` would not read back as one field.
fn needs_quotes(text: &str, delimiter: u8) -> bool {
    text.contains(['"', '\n', '\r', delimiter as char])
}

fn write_field(out: &mut String, text: &str, quoting: Quoting) {
    match quoting {
        Quoting::Bare => out.push_str(text),
        Quoting::Quoted => {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        }
        Quoting::QuotedPadded => {
            out.push_str(" \"");
            out.push_str(&text.replace('"', "\"\""));
            out.push_str("\" ");
        }
        Quoting::Unbalanced => {
            out.push('"');
            out.push_str(text);
        }
    }
}

/// How many fields a row has relative to the header.
#[derive(Debug, Clone, Copy)]
enum RowShape {
    Full,
    OneShort,
    OneExtra,
}

fn row_shape() -> impl Strategy<Value = RowShape> {
    prop_oneof![
        40 => Just(RowShape::Full),
        1 => Just(RowShape::OneShort),
        1 => Just(RowShape::OneExtra),
    ]
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![8 => Just("\n"), 3 => Just("\r\n"), 1 => Just("\r")]
}

fn blank_lines() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        12 => Just(vec![]),
        1 => prop::collection::vec(prop::sample::select(vec!["", " ", "  \t", "\r"]), 1..3),
    ]
}

#[derive(Debug, Clone)]
struct Row {
    blank_before: Vec<&'static str>,
    fields: Vec<(String, Quoting)>,
    shape: RowShape,
    end: &'static str,
}

/// CSV text with every kind of mess, rendered by [`MessyCsv::render`].
#[derive(Debug, Clone)]
struct MessyCsv {
    /// Keep unbalanced quotes and bare fields holding delimiters, quotes or line ends; without
    /// this they are quoted properly, so that most files get past the parser.
    broken_quoting: bool,
    /// Keep rows with a field too few or too many.
    ragged: bool,
    bom: bool,
    delimiter: u8,
    /// Pass the delimiter to the parser instead of letting it detect one.
    give_delimiter: bool,
    rows: Vec<Row>,
    final_end: bool,
    picks: ColumnPicks,
}

fn row(kinds: &[ColumnKind], header: bool) -> impl Strategy<Value = Row> + use<> {
    let fields: Vec<BoxedStrategy<(String, Quoting)>> = kinds
        .iter()
        .map(|&kind| {
            let text = if header {
                header_name().boxed()
            } else {
                cell(kind)
            };
            (text, quoting()).boxed()
        })
        .collect();
    (blank_lines(), fields, row_shape(), line_end()).prop_map(
        |(blank_before, fields, shape, end)| Row {
            blank_before,
            fields,
            shape,
            end,
        },
    )
}

fn messy_csv() -> impl Strategy<Value = MessyCsv> {
    let delimiter = prop_oneof![
        6 => prop::sample::select(vec![b',', b';', b'\t']),
        1 => prop::sample::select(vec![b'|', b' ', b':', b'a', b'1', b'.', b'-', 0x1f]),
    ];
    let rows = prop::collection::vec(column_kind(), 1..7).prop_flat_map(|kinds| {
        (
            row(&kinds, true),
            prop::collection::vec(row(&kinds, false), 0..24),
        )
            .prop_map(|(header, body)| [vec![header], body].concat())
    });
    (
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.25),
        any::<bool>(),
        delimiter,
        prop::bool::weighted(0.3),
        rows,
        prop::bool::weighted(0.8),
        column_picks(),
    )
        .prop_map(
            |(broken_quoting, ragged, bom, delimiter, give_delimiter, rows, final_end, picks)| {
                MessyCsv {
                    broken_quoting,
                    ragged,
                    bom,
                    delimiter,
                    give_delimiter,
                    rows,
                    final_end,
                    picks,
                }
            },
        )
}

impl MessyCsv {
    fn render(&self) -> Vec<u8> {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        let delimiter = self.delimiter as char;
        let last = self.rows.len() - 1;
        for (i, row) in self.rows.iter().enumerate() {
            for blank in &row.blank_before {
                out.push_str(blank);
                out.push('\n');
            }
            let shape = if self.ragged {
                row.shape
            } else {
                RowShape::Full
            };
            let fields = match shape {
                RowShape::Full | RowShape::OneExtra => &row.fields[..],
                RowShape::OneShort => &row.fields[..row.fields.len() - 1],
            };
            for (j, (text, quoting)) in fields.iter().enumerate() {
                if j > 0 {
                    out.push(delimiter);
                }
                let quoting = match quoting {
                    _ if self.broken_quoting => *quoting,
                    Quoting::Unbalanced => Quoting::Quoted,
                    Quoting::Bare if needs_quotes(text, self.delimiter) => Quoting::Quoted,
                    other => *other,
                };
                write_field(&mut out, text, quoting);
            }
            if matches!(shape, RowShape::OneExtra) {
                out.push(delimiter);
                out.push_str("extra");
            }
            if i < last || self.final_end {
                out.push_str(row.end);
            }
        }
        out.into_bytes()
    }
}

/// A CSV file that a careful writer produces: unique header names, every row full, fields
/// quoted whenever they need it. Parsing must give back exactly what was written.
#[derive(Debug, Clone)]
struct WellFormedCsv {
    delimiter: u8,
    header: Vec<String>,
    rows: Vec<(Vec<&'static str>, Vec<String>, &'static str)>,
    /// Quote fields that do not need it too.
    quote_all: bool,
    picks: ColumnPicks,
}

fn well_formed_csv() -> impl Strategy<Value = WellFormedCsv> {
    prop::collection::vec(column_kind(), 1..6)
        .prop_flat_map(|kinds| {
            let n = kinds.len();
            let header = prop::collection::btree_set("[a-z]{1,4}", n..=n)
                .prop_map(|names| names.into_iter().collect::<Vec<_>>())
                .prop_shuffle();
            let cells: Vec<BoxedStrategy<String>> = kinds.iter().map(|&k| cell(k)).collect();
            let row = (
                prop::collection::vec(prop::sample::select(vec!["", " "]), 0..2),
                cells,
                line_end(),
            );
            (
                prop::sample::select(vec![b',', b';', b'\t', b'|']),
                header,
                prop::collection::vec(row, 1..20),
                prop::bool::weighted(0.2),
                column_picks(),
            )
        })
        .prop_map(
            |(delimiter, header, rows, quote_all, picks)| WellFormedCsv {
                delimiter,
                header,
                rows,
                quote_all,
                picks,
            },
        )
}

impl WellFormedCsv {
    fn write_record(&self, out: &mut String, fields: &[String]) {
        for (j, text) in fields.iter().enumerate() {
            if j > 0 {
                out.push(self.delimiter as char);
            }
            let quoting = if needs_quotes(text, self.delimiter) || self.quote_all {
                Quoting::Quoted
            } else {
                Quoting::Bare
            };
            write_field(out, text, quoting);
        }
    }

    /// The file, and the 1-based line each data row starts on.
    fn render(&self) -> (Vec<u8>, Vec<u64>) {
        let mut out = String::new();
        self.write_record(&mut out, &self.header);
        out.push('\n');
        let mut starts = Vec::new();
        for (blanks, fields, end) in &self.rows {
            for blank in blanks {
                out.push_str(blank);
                out.push('\n');
            }
            starts.push(line_count(out.as_bytes()));
            self.write_record(&mut out, fields);
            out.push_str(end);
        }
        (out.into_bytes(), starts)
    }

    /// Rows as the parser should return them: trimmed, and in a one-column table, rows whose
    /// only field is empty are blank lines.
    fn expected_records(&self, starts: &[u64]) -> (Vec<Vec<String>>, Vec<u64>) {
        self.rows
            .iter()
            .zip(starts)
            .map(|((_, fields, _), &line)| {
                let trimmed: Vec<String> = fields.iter().map(|f| f.trim().to_owned()).collect();
                (trimmed, line)
            })
            .filter(|(fields, _)| !(fields.len() == 1 && fields[0].is_empty()))
            .unzip()
    }
}

/// Whether the table read `written` at (row, col): its text where the table kept it, else
/// the same number, bit for bit.
fn cell_is(table: &Table, row: usize, col: usize, written: &str) -> bool {
    match (table.text(row, col), table.cell(row, col)) {
        (Some(text), _) => text == written,
        (None, Cell::Number(v)) => written.parse::<f64>().map(f64::to_bits) == Ok(v.to_bits()),
        (None, _) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The properties.

/// One random change to a file's bytes.
#[derive(Debug, Clone)]
enum ByteEdit {
    Insert(prop::sample::Index, u8),
    Overwrite(prop::sample::Index, u8),
    Delete(prop::sample::Index),
}

fn apply_edits(mut bytes: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for edit in edits {
        match edit {
            ByteEdit::Insert(at, b) => bytes.insert(at.index(bytes.len() + 1), *b),
            ByteEdit::Overwrite(at, b) if !bytes.is_empty() => {
                let i = at.index(bytes.len());
                bytes[i] = *b;
            }
            ByteEdit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at.index(bytes.len()));
            }
            _ => {}
        }
    }
    bytes
}

/// Arbitrary bytes, and well-formed CSV files with a few arbitrary bytes changed (which
/// mostly still parse, so that damaged files reach the later stages too).
fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    let edit = prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Overwrite(i, b)),
        any::<prop::sample::Index>().prop_map(ByteEdit::Delete),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (well_formed_csv(), prop::collection::vec(edit, 1..4))
            .prop_map(|(csv, edits)| apply_edits(csv.render().0, &edits)),
    ]
}

#[test]
fn arbitrary_bytes_never_panic() {
    let input = (
        arbitrary_bytes(),
        prop::option::of(any::<u8>()),
        column_picks(),
    );
    let [_, tables, datasets, _] = fuzz(
        "arbitrary bytes",
        ARBITRARY_BYTES_CASES,
        input,
        |(bytes, delimiter, picks), reached| check_pipeline(&bytes, delimiter, &picks, reached),
    );
    assert!(
        tables > 0 && datasets > 0,
        "{tables} tables, {datasets} datasets"
    );
}

#[test]
fn csv_alphabet_bytes_never_panic() {
    let input = (
        prop::collection::vec(prop::sample::select(CSV_ALPHABET), 0..200),
        prop::option::weighted(0.2, prop::sample::select(vec![b',', b';', b'\t', b' '])),
        column_picks(),
    );
    let [_, tables, ..] = fuzz(
        "CSV alphabet",
        CSV_ALPHABET_CASES,
        input,
        |(bytes, delimiter, picks), reached| check_pipeline(&bytes, delimiter, &picks, reached),
    );
    assert!(tables > 0, "no input parsed as a table");
}

#[test]
fn messy_csv_gives_typed_errors_or_finite_data() {
    let [cases, tables, datasets, prepared] =
        fuzz("messy CSV", MESSY_CSV_CASES, messy_csv(), |csv, reached| {
            let bytes = csv.render();
            let delimiter = csv.give_delimiter.then_some(csv.delimiter);
            check_pipeline(&bytes, delimiter, &csv.picks, reached)
        });
    // The generator must reach every stage often, or the property says little.
    assert!(tables > cases / 3, "{tables} tables");
    assert!(datasets > cases / 5, "{datasets} datasets");
    assert!(prepared > cases / 3, "{prepared} prepared splits");
}

#[test]
fn well_formed_csv_parses_to_what_was_written() {
    let [cases, _, _, prepared] = fuzz(
        "well-formed CSV",
        WELL_FORMED_CSV_CASES,
        well_formed_csv(),
        |csv, reached| {
            let (bytes, starts) = csv.render();
            let (records, lines) = csv.expected_records(&starts);
            match Table::parse("fuzz.csv", &bytes, Some(csv.delimiter)) {
                Ok(table) => {
                    prop_assert_eq!(&table.header, &csv.header);
                    prop_assert_eq!(table.n_rows(), records.len());
                    for (row, record) in records.iter().enumerate() {
                        for (col, written) in record.iter().enumerate() {
                            prop_assert!(
                                cell_is(&table, row, col, written),
                                "row {} column {}: wrote {:?}, read {:?}",
                                row,
                                col,
                                written,
                                table.cell(row, col)
                            );
                        }
                    }
                    prop_assert_eq!(&table.lines, &lines);
                }
                Err(DataError::HeaderOnly { .. }) => prop_assert!(records.is_empty()),
                Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
            }
            check_pipeline(&bytes, Some(csv.delimiter), &csv.picks, reached)
        },
    );
    assert!(prepared > cases, "{prepared} prepared splits");
}
