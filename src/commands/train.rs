//! `anmin train`: one optimizer on one split, summarized on stdout and saved as JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use faer::Par;
use serde_json::{Value, json};

use super::optimizer_flags::{check_applicable, resolve};
use crate::cli::{Ridge, TrainArgs};
use crate::data::{self, Dataset, InputColumn, Prepared, Samples};
use crate::error::Result;
use crate::metrics;
use crate::model::{Network, SavedModel};
use crate::optim::{self, Limits, Observer, OptimizerSpec, RunOutcome};
use crate::outputs;
use crate::progress::TrainingBar;
use crate::report::{
    self, DatasetInfo, HistoryEntry, OutputReport, RunReport, SplitInfo, StopReason, Undefined,
};
use crate::rng::{Stream, seeded};
use crate::select::{self, PathSettings, SelectionReport};

/// The optimizer and limits that the optimizer flags describe. Flags that do not apply to
/// the chosen optimizer are rejected rather than ignored.
pub fn resolve_optimizer(args: &TrainArgs) -> Result<(OptimizerSpec, Limits)> {
    check_applicable(&args.optim, &[args.optimizer])?;
    let (spec, mut limits) = resolve(args.optimizer, &args.optim, args.split.seed);
    limits.interrupt = Some(super::interrupt::flag());
    Ok((spec, limits))
}

/// A finished training run with everything needed to report it.
pub struct Trained {
    pub report: RunReport,
    pub outcome: RunOutcome,
    pub prepared: Prepared,
}

/// The validation fraction in effect: `--val-frac`, or 0.2 under `--ridge auto`, which
/// needs validation rows.
pub fn val_frac(args: &TrainArgs) -> Result<f64> {
    let auto = args.optim.ridge == Some(Ridge::Auto);
    match args.split.val_frac {
        Some(v) if auto && v == 0.0 => Err(crate::Error::usage(
            "--ridge auto chooses the penalty on validation rows: --val-frac must be above 0",
        )),
        Some(v) => Ok(v),
        None if auto => Ok(AUTO_VAL_FRAC),
        None => Ok(0.0),
    }
}

/// The validation fraction of `--ridge auto` when `--val-frac` is not given.
pub const AUTO_VAL_FRAC: f64 = 0.2;

/// Splits `dataset`, trains from the seed's initial network, and builds the run report.
pub fn train_dataset(
    dataset: &Dataset,
    args: &TrainArgs,
    spec: &OptimizerSpec,
    limits: Limits,
    par: Par,
    observer: &mut dyn Observer,
) -> Result<Trained> {
    let split = &args.split;
    let val_frac = val_frac(args)?;
    let (prepared, outcome, selection) = if args.optim.ridge == Some(Ridge::Auto) {
        let (prepared, outcome, selection) =
            train_selected(dataset, args, spec, limits, par, observer)?;
        (prepared, outcome, Some(selection))
    } else {
        let prepared = data::prepare_with_validation(
            dataset,
            split.test_frac,
            val_frac,
            split.seed,
            split.clip.margin(),
        )?;
        let sets = optim::Sets {
            train: &prepared.train,
            val: prepared.val.as_ref(),
            test: prepared.test.as_ref(),
        };
        let mut optimizer = spec.build(par);
        let net = random_network(args, &prepared.train);
        let outcome =
            optim::train_with_validation(optimizer.as_mut(), net, sets, limits, par, observer);
        (prepared, outcome, None)
    };
    let n_val = selection
        .as_ref()
        .map_or(prepared.split.val.len(), |s| s.n_val);
    let report = RunReport {
        anmin_version: env!("CARGO_PKG_VERSION").into(),
        command: "train".into(),
        optimizer: spec.name().into(),
        config: config_json(args, spec, &limits),
        dataset: dataset_info(dataset),
        split: SplitInfo {
            seed: args.split.seed,
            test_frac: args.split.test_frac,
            n_train: prepared.split.train.len(),
            n_test: prepared.split.test.len(),
            val_frac: (val_frac > 0.0).then_some(val_frac),
            n_val: (n_val > 0).then_some(n_val),
            train_rows: args.record_split.then(|| prepared.split.train.clone()),
            test_rows: args.record_split.then(|| prepared.split.test.clone()),
        },
        history: outcome.history.clone(),
        final_entry: outcome.final_entry.clone(),
        best: outcome.best_entry.clone(),
        last: prepared.val.as_ref().map(|_| outcome.last_entry.clone()),
        stop_reason: outcome.stop_reason,
        undefined_metrics: undefined_metrics(&outcome, &prepared),
        time_note: report::TIME_NOTE.into(),
        per_output: per_output(dataset, &outcome, &prepared),
        solver: outcome.solver.clone(),
        selection,
    };
    Ok(Trained {
        report,
        outcome,
        prepared,
    })
}

/// The seed's random network for `train`'s shape (hidden layer only; the output layer is
/// fitted by the first B-step).
fn random_network(args: &TrainArgs, train: &Samples) -> Network {
    Network::random(
        train.d_aug(),
        args.net.hidden,
        train.k(),
        args.net.alpha,
        &mut seeded(args.split.seed, Stream::Init),
    )
}

/// `--ridge auto`: the penalty path on rows held out of the training rows, then its schedule
/// replayed on all training rows. Returns the refit's samples and outcome.
fn train_selected(
    dataset: &Dataset,
    args: &TrainArgs,
    spec: &OptimizerSpec,
    limits: Limits,
    par: Par,
    observer: &mut dyn Observer,
) -> Result<(Prepared, RunOutcome, SelectionReport)> {
    let split = &args.split;
    let clip = split.clip.margin();
    let prepare = |val_frac| {
        data::prepare_with_validation(dataset, split.test_frac, val_frac, split.seed, clip)
    };
    let path = PathSettings::default_for(limits.max_iters);
    let held_out = prepare(val_frac(args)?)?;
    let fit_val = (
        &held_out.train,
        held_out.val.as_ref().expect("auto holds out rows"),
    );
    let net = random_network(args, &held_out.train);
    let selection = select::select(spec, net, fit_val, &path, limits, par, observer);

    let all = prepare(0.0)?;
    let sets = optim::Sets {
        train: &all.train,
        val: None,
        test: all.test.as_ref(),
    };
    let net = random_network(args, &all.train);
    let outcome = select::refit(spec, net, sets, &selection, limits, par, observer);
    let report = SelectionReport::new(&selection, &path, fit_val, &all.train);
    Ok((all, outcome, report))
}

/// Every flag, with the optimizer's defaults filled in.
pub(crate) fn config_json(args: &TrainArgs, spec: &OptimizerSpec, limits: &Limits) -> Value {
    let mut config = serde_json::to_value(args).expect("arguments serialize");
    let resolved = serde_json::to_value(spec).expect("spec serializes");
    if let (Value::Object(config), Value::Object(resolved)) = (&mut config, resolved) {
        config.extend(resolved);
        config.insert("optimizer".into(), json!(spec.name()));
        config.insert("iters".into(), json!(limits.max_iters));
        if args.optim.ridge == Some(Ridge::Auto) {
            // The spec holds the path's starting penalty; the run's setting is `auto`.
            config.insert("ridge".into(), json!("auto"));
        }
        // In effect, not as given: --ridge auto implies a validation fraction.
        config.insert("val_frac".into(), json!(val_frac(args).unwrap_or(0.0)));
    }
    config
}

pub fn dataset_info(dataset: &Dataset) -> DatasetInfo {
    let categorical: BTreeMap<String, Vec<String>> = dataset
        .encoding
        .inputs
        .iter()
        .filter_map(|input| match input {
            InputColumn::Categorical { name, categories } => {
                Some((name.clone(), categories.clone()))
            }
            InputColumn::Numeric { .. } => None,
        })
        .collect();
    DatasetInfo {
        path: dataset.source.clone(),
        rows: dataset.n_rows(),
        features: dataset.encoding.feature_names(),
        targets: dataset.encoding.targets.clone(),
        categorical,
        dropped_rows: dataset.dropped_rows,
    }
}

/// Why a metric of a set is null: there is no such set (only the test set may be missing),
/// R² of targets that do not vary (`r2_defined` false), or else a value beyond f64.
fn why_null(r2_defined: Option<bool>, is_r2: bool) -> Undefined {
    match r2_defined {
        None => Undefined::NoTestSet,
        Some(false) if is_r2 => Undefined::ConstantTarget,
        Some(_) => Undefined::Overflow,
    }
}

type Getter = fn(&HistoryEntry) -> Option<f64>;

/// Why each metric that is null in some entry of the run is null.
fn undefined_metrics(outcome: &RunOutcome, prepared: &Prepared) -> BTreeMap<String, Undefined> {
    let r2_defined = |set: Option<&Samples>| set.map(|s| metrics::r2_defined(&s.y).0);
    let (train, val) = (
        r2_defined(Some(&prepared.train)),
        r2_defined(prepared.val.as_ref()),
    );
    let test = r2_defined(prepared.test.as_ref());
    let keys: [(&str, Option<bool>, bool, Getter); 6] = [
        ("train_mse", train, false, |e| e.train_mse),
        ("test_mse", test, false, |e| e.test_mse),
        ("train_r2", train, true, |e| e.train_r2),
        ("test_r2", test, true, |e| e.test_r2),
        ("val_mse", val, false, |e| e.val_mse),
        ("val_r2", val, true, |e| e.val_r2),
    ];
    let entries = || {
        outcome.history.iter().chain([
            &outcome.final_entry,
            &outcome.best_entry,
            &outcome.last_entry,
        ])
    };
    keys.into_iter()
        // Without a validation set the entries have no validation keys at all.
        .filter(|(key, set, ..)| set.is_some() || !key.starts_with("val_"))
        .filter(|(.., value)| entries().any(|e| value(e).is_none()))
        .map(|(key, set, is_r2, _)| (key.to_owned(), why_null(set, is_r2)))
        .collect()
}

fn per_output(dataset: &Dataset, outcome: &RunOutcome, prepared: &Prepared) -> Vec<OutputReport> {
    let (_, train_r2_defined) = metrics::r2_defined(&prepared.train.y);
    let test_r2_defined = prepared.test.as_ref().map(|s| metrics::r2_defined(&s.y).1);
    dataset
        .encoding
        .targets
        .iter()
        .enumerate()
        .map(|(j, target)| {
            let train = &outcome.final_train.per_output[j];
            let test = outcome.final_test.as_ref().map(|m| &m.per_output[j]);
            let (train_set, test_set) = (
                Some(train_r2_defined[j]),
                test_r2_defined.as_ref().map(|d| d[j]),
            );
            let mut output = OutputReport {
                target: target.clone(),
                train_mse: train.mse,
                test_mse: test.and_then(|m| m.mse),
                train_r2: train.r2,
                test_r2: test.and_then(|m| m.r2),
                undefined_metrics: BTreeMap::new(),
            };
            let values = [
                ("train_mse", output.train_mse, train_set, false),
                ("test_mse", output.test_mse, test_set, false),
                ("train_r2", output.train_r2, train_set, true),
                ("test_r2", output.test_r2, test_set, true),
            ];
            output.undefined_metrics = values
                .into_iter()
                .filter(|(_, value, ..)| value.is_none())
                .map(|(key, _, set, is_r2)| (key.to_owned(), why_null(set, is_r2)))
                .collect();
            output
        })
        .collect()
}

/// `anmin train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    // Reject inapplicable flags before reading any data.
    let (spec, limits) = resolve_optimizer(args)?;
    let dataset = load_dataset_reporting_drops(args)?;
    let par = super::parallelism(args.threads);
    let mut observer = TrainingBar::new(limits.max_iters, spec.name(), args.quiet);
    let trained = train_dataset(&dataset, args, &spec, limits, par, &mut observer)?;
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
    let save = |path: &std::path::Path, net: &Network, entry: &HistoryEntry| {
        let training = json!({
            "optimizer": trained.report.optimizer,
            "iter": entry.iter,
            "train_mse": entry.train_mse,
            "dataset": dataset.source,
            "seed": args.split.seed,
            "test_frac": args.split.test_frac,
        });
        let model = SavedModel::new(net, &dataset.encoding, &trained.prepared.scaler, training);
        report::write_json(path, &model)
    };
    let outcome = &trained.outcome;
    outputs::first_error(
        [
            args.out
                .as_deref()
                .map(|path| report::write_json(path, &trained.report)),
            // The parameters the run returns: the `final` entry's.
            args.save_model
                .as_deref()
                .map(|path| save(path, &outcome.network, &outcome.final_entry)),
            args.save_initial_model
                .as_deref()
                .map(|path| save(path, &outcome.initial_network, &trained.report.history[0])),
        ]
        .into_iter()
        .flatten(),
    )
}

fn load_dataset_reporting_drops(args: &TrainArgs) -> Result<Dataset> {
    let dataset = super::load_dataset(&args.data)?;
    if dataset.dropped_rows > 0 {
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

/// A metric's table cell: its value, "-" without a test set, or why else it is undefined.
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
    out.push_str(&format!(
        "optimizer {}: stopped ({}) after {} iterations, {:.3} s of training\n\n",
        report.optimizer,
        report.stop_reason.as_str(),
        report.history.last().map_or(0, |e| e.iter),
        report.final_entry.time_s
    ));
    out.push_str(&format!(
        "{:<8} {:>5} {:>12} {:>12} {:>10} {:>10}\n",
        "", "iter", "train MSE", "test MSE", "train R2", "test R2"
    ));
    let row = |label: &str, e: &HistoryEntry| {
        format!(
            "{:<8} {:>5} {:>12} {:>12} {:>10} {:>10}\n",
            label,
            e.iter,
            cell(report, "train_mse", e.train_mse),
            cell(report, "test_mse", e.test_mse),
            cell(report, "train_r2", e.train_r2),
            cell(report, "test_r2", e.test_r2)
        )
    };
    out.push_str(&row("initial", &report.history[0]));
    out.push_str(&row("final", &report.final_entry));
    out.push_str(&row("best", &report.best));
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
