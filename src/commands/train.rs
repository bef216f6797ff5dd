//! `anmin train`: one optimizer on one split, summarized on stdout and saved as JSON.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::Value;

use super::optimizer_flags::{self, GivenFlags};
use crate::cli::TrainArgs;
use crate::data::Dataset;
use crate::error::Result;
use crate::history::{HistoryEntry, StopReason, Undefined};
use crate::outputs;
use crate::progress::TrainingBar;
use crate::report::RunReport;
use crate::train::{TrainRequest, Trained, Trainer, ValidRequest};

/// The run the flags describe, checked once. Flags that do not apply to the chosen optimizer
/// are rejected rather than ignored.
pub fn request(args: &TrainArgs) -> Result<ValidRequest> {
    let flags = GivenFlags::of(&args.optim);
    flags.check_applicable(&[args.optimizer])?;
    let request = optimizer_flags::request(
        args.optimizer,
        (&flags, &args.optim),
        (&args.split, &args.net, &args.data),
    )?;
    TrainRequest {
        record_split: args.record_split,
        ..request
    }
    .resolve()
}

/// The run JSON's `config` of a command-line run: every flag as given, with the run's
/// resolved settings (defaults filled in) over them.
pub fn cli_config(args: &TrainArgs, run: &Value) -> Value {
    with_flags(
        serde_json::to_value(args).expect("arguments serialize"),
        run,
    )
}

/// `flags` (every flag of a command line by name) with the run's resolved settings over them.
pub fn with_flags(mut flags: Value, run: &Value) -> Value {
    if let (Value::Object(config), Value::Object(run)) = (&mut flags, run) {
        config.extend(run.clone());
    }
    flags
}

/// Trains on `dataset` as `anmin train` with `args` would: `request` is [`request`]`(args)`;
/// the report's config records the flags; `--threads` and a SIGINT flag apply.
pub fn train_dataset(
    dataset: &Dataset,
    (args, request): (&TrainArgs, &ValidRequest),
    command: &'static str,
    observer: Option<&mut dyn crate::optim::Observer>,
) -> Result<Trained> {
    let trainer = Trainer::new(request)
        .threads(capped_threads("--threads", args.threads))
        .max_memory(args.max_memory)
        .interrupt(super::interrupt::flag())
        .command(command);
    let trained = match observer {
        Some(o) => trainer.observer(o).run(dataset),
        None => trainer.run(dataset),
    };
    super::interrupt::settled();
    let mut trained = trained?;
    trained.report.config = cli_config(args, &trained.report.config);
    Ok(trained)
}

/// `threads` (of flag `flag`; 0 is every core), capped at the machine's cores with a note
/// on stderr.
pub fn capped_threads(flag: &str, threads: usize) -> usize {
    let cores = crate::train::cores();
    if threads > cores {
        eprintln!(
            "note: {flag} {threads} is more than the {cores} core{} of this machine; using {cores}",
            if cores == 1 { "" } else { "s" }
        );
        cores
    } else {
        threads
    }
}

/// `anmin train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    // Reject inapplicable flags before reading any data.
    let request = request(args)?;
    let dataset = load_dataset_reporting_drops(args)?;
    let mut observer = TrainingBar::new(request.steps(), request.optimizer.name(), args.quiet);
    let trained = train_dataset(&dataset, (args, &request), "train", Some(&mut observer))?;
    observer.finish();

    // Every output is attempted and the summary printed even if a write fails: the run is
    // not lost from the screen, and the error follows it.
    let written = write_outputs(args, &dataset, &trained);
    print_summary(&trained.report, args);
    written?;
    if trained.report.stop_reason == StopReason::Interrupted {
        let written = match &args.out {
            Some(path) => format!("the history so far is in {}", path.display()),
            None => "nothing was written (no --out)".into(),
        };
        return Err(crate::Error::Interrupted(written));
    }
    Ok(())
}

/// Writes the run JSON and the saved models that the flags ask for; returns the first error.
fn write_outputs(args: &TrainArgs, dataset: &Dataset, trained: &Trained) -> Result<()> {
    outputs::first_error(
        [
            args.out
                .as_deref()
                .map(|path| outputs::write_json(path, &trained.report)),
            // The parameters the run returns: the `final` entry's.
            args.save_model
                .as_deref()
                .map(|path| outputs::write_json(path, &trained.saved_model(dataset))),
            args.save_initial_model
                .as_deref()
                .map(|path| outputs::write_json(path, &trained.saved_initial_model(dataset))),
        ]
        .into_iter()
        .flatten(),
    )
}

fn load_dataset_reporting_drops(args: &TrainArgs) -> Result<Dataset> {
    let dataset = super::load_dataset(&args.data)?;
    if dataset.dropped_rows > 0 && args.data.drop_missing {
        eprintln!(
            "note: dropped {} of {} rows with missing values (--drop-missing)",
            dataset.dropped_rows, dataset.file_rows
        );
    }
    Ok(dataset)
}

/// How many targets the summary names in full.
const TARGETS_IN_FULL: usize = 5;

/// The targets for the summary: "target y", "targets y1, y2", and past a handful only the
/// first and the last, "64 targets: p0 … p63".
fn targets_phrase(targets: &[String]) -> String {
    match targets {
        [only] => format!("target {only}"),
        [first, .., last] if targets.len() > TARGETS_IN_FULL => {
            format!("{} targets: {first} … {last}", targets.len())
        }
        _ => format!("targets {}", targets.join(", ")),
    }
}

/// The accuracy and log-loss rows of a classification's summary.
fn class_rows(report: &RunReport, c: &crate::train::ClassificationReport) -> String {
    let mut out = format!(
        "\n{}",
        table_line("", "iter", ["train acc", "test acc", "train LL", "test LL"])
    );
    let row = |label: &str, e: &HistoryEntry| {
        metric_row(
            report,
            label,
            e,
            [
                ("train_accuracy", e.train_accuracy),
                ("test_accuracy", e.test_accuracy),
                ("train_log_loss", e.train_log_loss),
                ("test_log_loss", e.test_log_loss),
            ],
        )
    };
    out.push_str(&row("initial", &report.history[0]));
    out.push_str(&row("final", &report.final_entry));
    out.push_str(
        "(LL: log loss; final's at the saved model's temperature, the others' fitted on their \
         own training rows)\n",
    );
    if c.calibrated_on == "training" {
        out.push_str(
            "note: no rows were held out, so the temperature was fitted on the training rows \
             and the probabilities are overconfident; --auto or --val-frac calibrates them on \
             held-out rows\n",
        );
    }
    out
}

/// A metric's table cell: its value, "-" without a test set, or why else it is undefined.
/// One line of the summary's metric tables: a label, the iteration and four columns.
fn table_line(label: &str, iter: &str, columns: [&str; 4]) -> String {
    let [a, b, c, d] = columns;
    format!("{label:<8} {iter:>5} {a:>12} {b:>12} {c:>10} {d:>10}\n")
}

/// The row of `entry` in a metric table: four (run JSON key, value) cells.
fn metric_row(
    report: &RunReport,
    label: &str,
    entry: &HistoryEntry,
    cells: [(&str, Option<f64>); 4],
) -> String {
    let cells = cells.map(|(key, v)| cell(report, key, v));
    let [a, b, c, d] = cells.each_ref().map(String::as_str);
    table_line(label, &entry.iter.to_string(), [a, b, c, d])
}

fn cell(report: &RunReport, key: &str, v: Option<f64>) -> String {
    match (v, report.why_undefined(key)) {
        // Fixed notation where it fits the column, scientific beyond.
        (Some(v), _) if v == 0.0 || (1e-4..1e6).contains(&v.abs()) => format!("{v:.6}"),
        (Some(v), _) => format!("{v:.5e}"),
        (None, Undefined::NoTestSet | Undefined::Unrecorded) => "-".into(),
        (None, Undefined::ConstantTarget) => "constant".into(),
        (None, Undefined::Overflow) => "overflow".into(),
    }
}

fn print_summary(report: &RunReport, args: &TrainArgs) {
    let d = &report.dataset;
    let s = &report.split;
    let mut out = String::new();
    out.push_str(&format!(
        "data      {}: {} rows, {} features, {}\n",
        d.path,
        d.rows,
        d.features.len(),
        targets_phrase(&d.targets)
    ));
    if let Some(c) = &report.classification {
        out.push_str(&format!(
            "classes   {}: {} (one output each; probabilities softmax(outputs / {:.4}), the \
             temperature fitted on {} {} rows)\n",
            c.classes.len(),
            c.classes.join(", "),
            c.temperature,
            c.n_calibration,
            c.calibrated_on.replace('_', "-"),
        ));
    }
    out.push_str(&format!(
        "split     seed {}: {} train, {} test\n",
        s.seed, s.n_train, s.n_test
    ));
    out.push_str(&format!(
        "network   {} hidden units, alpha {}\n",
        args.net.hidden, args.net.alpha
    ));
    if let Some(sel) = &report.selection {
        out.push_str(&format!(
            "penalty   --ridge auto chose λ {:.3e} ({:.3e} in target units) and {} step{}:\n\
             \x20         validation MSE {} on {} rows, {} λ tried in {:.3} s; refitted on all \
             training rows\n",
            sel.lambda,
            sel.lambda_target_units,
            sel.steps,
            if sel.steps == 1 { "" } else { "s" },
            sel.val_mse
                .map_or_else(|| "-".into(), |v| format!("{v:.6}")),
            sel.n_val,
            sel.path.len(),
            sel.seconds
        ));
    }
    if let Some(bag) = &report.bagging {
        let lambdas: Vec<String> = bag
            .members
            .iter()
            .map(|m| format!("{:.0e}/{}", m.lambda, m.steps))
            .collect();
        out.push_str(&format!(
            "bagging   {} of {} members, each stopped on its own fold (λ/steps: {}); \
             cross-validated MSE {}\n",
            bag.members.len(),
            bag.folds,
            lambdas.join(" "),
            bag.cv_mse.map_or_else(|| "-".into(), |v| format!("{v:.6}")),
        ));
        if let Some(screening) = bag.screening.as_ref().filter(|s| s.members == 0) {
            out.push_str(&format!(
                "scaling   {}: too few training rows to choose by the first members\n",
                screening.chosen
            ));
        }
        if let Some(screening) = bag.screening.as_ref().filter(|s| s.members > 0) {
            let scores: Vec<String> = screening
                .candidates
                .iter()
                .map(|c| format!("{} {:.6}", c.name, c.val_mse.iter().sum::<f64>()))
                .collect();
            out.push_str(&format!(
                "scaling   {}, chosen by the first {} {} validation MSE (summed: {})\n",
                screening.chosen,
                screening.members,
                if screening.members == 1 {
                    "member's"
                } else {
                    "members'"
                },
                scores.join(", "),
            ));
        }
    }
    let done = report.history.last().map_or(0, |e| e.iter);
    out.push_str(&format!(
        "optimizer {}: stopped ({}) after {} {}, {:.3} s of training\n\n",
        report.optimizer,
        report.stop_reason.as_str(),
        done,
        if report.bagging.is_some() {
            "members"
        } else {
            "iterations"
        },
        report.final_entry.time_s
    ));
    out.push_str(&table_line(
        "",
        "iter",
        ["train MSE", "test MSE", "train R2", "test R2"],
    ));
    let row = |label: &str, e: &HistoryEntry| {
        metric_row(
            report,
            label,
            e,
            [
                ("train_mse", e.train_mse),
                ("test_mse", e.test_mse),
                ("train_r2", e.train_r2),
                ("test_r2", e.test_r2),
            ],
        )
    };
    out.push_str(&row("initial", &report.history[0]));
    out.push_str(&row("final", &report.final_entry));
    // A bag's history adds members: the best partial ensemble by training MSE is no model.
    if report.bagging.is_none() {
        out.push_str(&row("best", &report.best));
    }
    if let Some(c) = &report.classification {
        out.push_str(&class_rows(report, c));
    }
    // What the words in place of numbers mean.
    let reasons: BTreeSet<Undefined> = report.undefined_metrics.values().copied().collect();
    let notes: Vec<&str> = reasons
        .into_iter()
        .filter_map(|reason| match reason {
            Undefined::Overflow => Some(
                "overflow: the value exceeds f64 (predictions extremely far from their\n          \
                 targets, e.g. for a test row far outside the training range)",
            ),
            Undefined::ConstantTarget => {
                Some("constant: R2 is undefined, the targets of that set do not vary")
            }
            Undefined::NoTestSet | Undefined::Unrecorded => None,
        })
        .collect();
    if !notes.is_empty() {
        out.push_str(&format!("\n{}\n", notes.join("\n")));
    }
    // A closed stdout (e.g. piped into `head`) is not an error worth failing the run for.
    let _ = std::io::stdout().write_all(out.as_bytes());
}
