//! `anmin summarize`: run files of many splits (and optimizers) aggregated into a table on
//! stdout, an aggregate JSON and a figure.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::aggregate::AggregateReport;
use crate::aggregate::rows::group_into_rows;
use crate::aggregate::table::markdown_table;
use crate::cli::SummarizeArgs;
use crate::error::{DataError, Error, Result};
use crate::outputs;
use crate::plot::{self, FigureTitle};
use crate::report::RunReport;

/// A run read from a file, with the file it came from.
pub struct RunFile {
    pub path: PathBuf,
    pub report: RunReport,
    /// The hidden size h from the run's config.
    pub hidden: u64,
}

/// Reads a run JSON written by `anmin train --out`, rejecting anything else.
pub fn read_run_file(path: &Path) -> Result<RunFile> {
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| not_a_run(path.display().to_string(), format!("{NOT_A_RUN}: {e}")))?;
    run_file(path.to_path_buf(), value)
}

/// Reads the runs file of `anmin compare` (`<out>.runs.jsonl`, one run per line). Each run is
/// named `FILE:LINE` in messages. A last line cut short (a comparison killed while writing
/// it) is skipped with a note, as `compare --resume` does.
pub fn read_runs_file(path: &Path) -> Result<Vec<RunFile>> {
    let text = read_text(path)?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let mut runs = Vec::with_capacity(lines.len());
    for (i, &(number, line)) in lines.iter().enumerate() {
        let at = PathBuf::from(format!("{}:{}", path.display(), number + 1));
        match serde_json::from_str::<Value>(line) {
            Ok(value) => runs.push(run_file(at, value)?),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {
                eprintln!("note: {}: ignoring an incomplete last line", at.display());
            }
            Err(e) => {
                return Err(not_a_run(
                    at.display().to_string(),
                    format!("{NOT_A_RUN}: {e}"),
                ));
            }
        }
    }
    Ok(runs)
}

const NOT_A_RUN: &str = "not an anmin run file (as written by `anmin train --out`)";

fn not_a_run(path: String, message: String) -> Error {
    Error::RunFile { path, message }
}

/// The text of a run file or runs file.
fn read_text(path: &Path) -> Result<String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| DataError::Open {
        path: shown.clone(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| {
        not_a_run(
            shown,
            format!("{NOT_A_RUN}: not UTF-8 text (a binary file?)"),
        )
    })
}

/// A run from its JSON, checked to be one.
fn run_file(path: PathBuf, value: Value) -> Result<RunFile> {
    let shown = path.display().to_string();
    let not_a_run_because =
        |reason: String| not_a_run(shown.clone(), format!("{NOT_A_RUN}: {reason}"));
    if value.get("aggregates").is_some() {
        return Err(not_a_run_because(
            "this is an aggregate of runs (`summarize --out`); give the run files".into(),
        ));
    }
    let report: RunReport =
        serde_json::from_value(value).map_err(|e| not_a_run_because(e.to_string()))?;
    if report.history.is_empty() {
        return Err(not_a_run(shown, "the run has an empty history".into()));
    }
    // "time_s" is the grid's key beside the optimizer names in the curves JSON.
    if report.optimizer.is_empty() || report.optimizer == "time_s" {
        return Err(not_a_run(
            shown,
            format!("\"{}\" is not an optimizer name", report.optimizer),
        ));
    }
    let hidden = report.config["hidden"]
        .as_u64()
        .filter(|&h| h > 0)
        .ok_or_else(|| {
            not_a_run(
                shown.clone(),
                "config.hidden is missing or not a positive whole number".into(),
            )
        })?;
    Ok(RunFile {
        path,
        report,
        hidden,
    })
}

/// The runs in the files given to `summarize`: run files, and runs files (`.jsonl`).
fn read_all(paths: &[PathBuf]) -> Result<Vec<RunFile>> {
    let mut runs = Vec::new();
    for path in paths {
        if path.extension().is_some_and(|e| e == "jsonl") {
            runs.extend(read_runs_file(path)?);
        } else {
            runs.push(read_run_file(path)?);
        }
    }
    Ok(runs)
}

/// Rejects a set of runs that cannot be aggregated: different datasets (path or targets),
/// test fractions or hidden sizes, or two runs of one row (optimizer and settings) on one
/// split seed. Runs of one optimizer with different settings are fine: they get a row each.
/// Errors name both files.
pub fn check_comparable(runs: &[RunFile]) -> Result<()> {
    let Some(first) = runs.first() else {
        return Err(Error::usage("no run files given"));
    };
    let facts = |run: &RunFile| {
        let (dataset, split) = (&run.report.dataset, &run.report.split);
        [
            ("datasets", dataset.path.clone(), "one dataset"),
            ("targets", dataset.targets.join(","), "the same targets"),
            // Display of f64 round-trips, so equal text is equal value.
            (
                "test fractions",
                split.test_frac.to_string(),
                "one test fraction",
            ),
            (
                "hidden sizes",
                format!("h = {}", run.hidden),
                "one network size",
            ),
        ]
    };
    let expected = facts(first);
    for run in &runs[1..] {
        for ((what, want, scope), (_, found, _)) in expected.iter().zip(facts(run)) {
            if *want != found {
                return Err(Error::usage(format!(
                    "{} and {} are runs with different {what} ({want} and {found}); summarize runs of {scope}",
                    first.path.display(),
                    run.path.display(),
                )));
            }
        }
    }
    // Runs that differ in settings go to different rows; within a row each seed once.
    let path_of = |report: &RunReport| {
        runs.iter()
            .find(|f| std::ptr::eq(&f.report, report))
            .map_or_else(PathBuf::new, |f| f.path.clone())
    };
    for (row, group) in group_into_rows(runs.iter().map(|f| &f.report)) {
        let mut seen: BTreeMap<u64, &RunReport> = BTreeMap::new();
        for &run in &group.runs {
            if let Some(earlier) = seen.insert(run.split.seed, run) {
                return Err(Error::usage(format!(
                    "{} and {} are both runs of {row} on split seed {}; give each (optimizer, \
                     settings, seed) once",
                    path_of(earlier).display(),
                    path_of(run).display(),
                    run.split.seed
                )));
            }
        }
    }
    Ok(())
}

/// The last component of a dataset path ("<embedded>/winequality-red.csv" gives
/// "winequality-red.csv").
fn dataset_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// `anmin summarize`.
pub fn run(args: &SummarizeArgs) -> Result<()> {
    let files = read_all(&args.runs)?;
    check_comparable(&files)?;
    let config = serde_json::to_value(args).expect("arguments serialize");
    let runs: Vec<RunReport> = files.into_iter().map(|f| f.report).collect();
    publish(
        "summarize",
        config,
        &runs,
        args.grid_points,
        args.out.as_deref(),
        args.plot.as_deref(),
    )
}

/// Aggregates comparable `runs` (same dataset and network), writes the aggregate JSON to
/// `out` and the figure to `plot_path`, and prints the table (also when a write fails).
/// Shared by `summarize` and `compare`, so that both give the same result for the same runs.
pub fn publish(
    command: &str,
    mut config: Value,
    runs: &[RunReport],
    grid_points: usize,
    out: Option<&Path>,
    plot_path: Option<&Path>,
) -> Result<()> {
    let Some(first) = runs.first() else {
        let _ = std::io::stdout().write_all(b"no finished runs\n");
        return Ok(());
    };
    let dataset = dataset_name(&first.dataset.path);
    let hidden = first
        .config
        .get("hidden")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if let Value::Object(map) = &mut config {
        map.insert("dataset".into(), json!(first.dataset.path));
        map.insert("targets".into(), json!(first.dataset.targets));
        map.insert("hidden".into(), json!(hidden));
    }
    let summary = AggregateReport::new(command, config, runs, grid_points);
    let title = FigureTitle {
        dataset: dataset.clone(),
        hidden: hidden as usize,
        n_splits: summary.n_splits(),
        test_set: runs.iter().any(|r| r.split.n_test > 0),
    };
    // Render before writing anything, so that a drawing failure leaves no partial output.
    let svg = plot_path
        .map(|_| plot::render_svg(&summary.curves, &title))
        .transpose()?;
    // Both outputs are attempted and the table printed even if a write fails; the error
    // follows it.
    let written = outputs::first_error(
        [
            out.map(|path| outputs::write_json(path, &summary)),
            plot_path
                .zip(svg)
                .map(|(path, svg)| outputs::write_atomic(path, svg.as_bytes())),
        ]
        .into_iter()
        .flatten(),
    );
    let text = format!(
        "{dataset}, h = {hidden}: {} runs on {} splits\n\n{}",
        runs.len(),
        title.n_splits,
        markdown_table(&summary.aggregates)
    );
    // A closed stdout (e.g. piped into `head`) is not worth failing for: the files are written.
    let _ = std::io::stdout().write_all(text.as_bytes());
    written
}
