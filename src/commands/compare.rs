//! `anmin compare`: every chosen optimizer on random splits 0..N−1, run in parallel. Each run
//! is exactly the run `anmin train --seed i --optimizer o` (same flags) would make, so a shell
//! loop plus `anmin summarize` gives the same aggregates. Finished runs are appended at once
//! to `<out>.runs.jsonl`; on SIGINT/SIGTERM no new run starts, the aggregate over the finished
//! runs is written, and `--resume` later runs only the missing (optimizer, seed) pairs.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde_json::Value;

use super::interrupt;
use super::optimizer_flags::{self, GivenFlags, kind_names};
use super::train::with_flags;
use crate::choice::Choice;
use crate::cli::{CompareArgs, SplitArgs};
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::history::StopReason;
use crate::optim::OptimizerKind;
use crate::progress::RunsBar;
use crate::report::RunReport;
use crate::settings;
use crate::train::{Trainer, ValidRequest};

/// The file beside `--out` that holds one finished run per line.
pub fn runs_file(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".runs.jsonl");
    PathBuf::from(name)
}

/// The runs of one optimizer: its request, checked once (split i varies only the seed), and
/// the flags as its runs record them in their config.
struct Plan {
    kind: OptimizerKind,
    request: ValidRequest,
    flags: Value,
    max_memory: Option<f64>,
}

/// One plan per optimizer, from the flags.
fn plans(args: &CompareArgs, kinds: &[OptimizerKind]) -> Result<Vec<Plan>> {
    let flags = GivenFlags::of(&args.optim);
    flags.check_applicable(kinds)?;
    let split = SplitArgs {
        test_frac: args.test_frac,
        seed: 0,
        val_frac: args.val_frac,
        clip: args.clip,
    };
    kinds
        .iter()
        .map(|&kind| {
            let request = optimizer_flags::request(
                kind,
                (&flags, &args.optim),
                (&split, &args.net, &args.data),
            )?
            .resolve()?;
            // The keys `anmin train --optimizer kind` records besides the run's settings.
            let mut config = match serde_json::to_value(&args.data).expect("flags serialize") {
                Value::Object(map) => map,
                _ => unreachable!("flags serialize as an object"),
            };
            config.extend(flags.record(kind));
            for key in ["out", "save_model", "save_initial_model"] {
                config.insert(key.into(), Value::Null);
            }
            config.insert("quiet".into(), Value::Bool(true));
            Ok(Plan {
                kind,
                request,
                flags: Value::Object(config),
                max_memory: args.max_memory,
            })
        })
        .collect()
}

impl Plan {
    /// The run of split `seed` on `dataset`, as `anmin train --seed seed` makes it.
    fn run(&self, dataset: &Dataset, seed: u64, threads: usize) -> Result<RunReport> {
        let request = self.request.with_seed(seed);
        let trained = Trainer::new(&request)
            .threads(threads)
            .max_memory(self.max_memory)
            .interrupt(interrupt::flag())
            .command("compare")
            .run(dataset)?;
        let mut report = trained.report;
        report.config = self.config(&report.config, threads);
        Ok(report)
    }

    /// A run's config: the flags with the run's settings over them.
    fn config(&self, run: &Value, threads: usize) -> Value {
        let mut flags = self.flags.clone();
        if let Value::Object(map) = &mut flags {
            map.insert("threads".into(), threads.into());
        }
        with_flags(flags, run)
    }
}

fn comparable(config: &Value) -> Value {
    let mut config = config.clone();
    if let Value::Object(map) = &mut config {
        map.retain(|key, _| !settings::is_execution(key));
    }
    config
}

/// Reads the runs file of an earlier comparison. A last line cut short by a crash is
/// skipped; anything else that is not a run is an error.
fn read_runs(path: &Path) -> Result<Vec<RunReport>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::usage(format!(
                "{}: cannot read: {e}",
                path.display()
            )));
        }
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut runs = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<RunReport>(line) {
            Ok(run) => runs.push(run),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {
                eprintln!("note: {}: ignoring an incomplete last line", path.display());
            }
            Err(e) => {
                return Err(Error::usage(format!(
                    "{}:{}: not a run of anmin compare: {e}",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(runs)
}

/// Appends one run as one line, written whole and flushed before the next.
fn append_run(path: &Path, run: &RunReport) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut line = serde_json::to_string(run).expect("run reports serialize");
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    file.write_all(line.as_bytes()).map_err(err)?;
    file.sync_data().map_err(err)
}

/// The optimizers in command-line order, each once.
fn distinct(kinds: &[OptimizerKind]) -> Vec<OptimizerKind> {
    let mut seen = BTreeSet::new();
    kinds.iter().copied().filter(|k| seen.insert(*k)).collect()
}

/// Runs the missing (seed, optimizer) pairs on `jobs` threads, calling `done` for each
/// finished run on this thread. Returns early (without error) on interruption.
fn run_pairs(
    dataset: &Dataset,
    plans: &[Plan],
    pairs: &[(u64, OptimizerKind)],
    jobs: usize,
    threads_per_run: usize,
    done: &mut dyn FnMut(RunReport) -> Result<()>,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    interrupt::flag();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Result<RunReport>>();
        for _ in 0..jobs.min(pairs.len()) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    if interrupt::requested() {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(seed, kind)) = pairs.get(i) else {
                        break;
                    };
                    let plan = plans.iter().find(|p| p.kind == kind).expect("planned");
                    let result = plan.run(dataset, seed, threads_per_run);
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut first_error = None;
        for result in rx {
            match result {
                // A run cut short by an interruption is not finished: resume redoes it.
                Ok(run) if run.stop_reason == StopReason::Interrupted => {}
                Ok(run) => {
                    if let Err(e) = done(run) {
                        first_error.get_or_insert(e);
                        next.store(pairs.len(), Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    next.store(pairs.len(), Ordering::Relaxed);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// `anmin compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let kinds = distinct(&args.optimizers);
    if kinds.is_empty() {
        return Err(Error::usage("--optimizers names no optimizer"));
    }
    let plans = plans(args, &kinds)?;
    // One comparison at a time writes an --out and its runs file.
    let _lock = match &args.out {
        Some(out) => Some(crate::lock::Lock::take("--out", out)?),
        None => None,
    };
    let dataset = super::load_dataset(&args.data)?;
    // Fail on a split that cannot work before starting any run.
    data::prepare_with_validation(
        &dataset,
        args.test_frac,
        plans[0].request.val_frac_in_effect(),
        0,
        None,
        plans[0].request.preprocess,
    )?;

    let runs_path = args.out.as_deref().map(runs_file);
    let seeds: Vec<u64> = (0..args.splits as u64)
        .filter(|&seed| args.shard.is_none_or(|shard| shard.has(seed)))
        .collect();
    if seeds.is_empty() {
        let shard = args.shard.expect("only a shard can be empty");
        return Err(Error::usage(format!(
            "--shard {shard} has no splits of --splits {}: use at most {} shards",
            args.splits, args.splits
        )));
    }
    let wanted: Vec<(u64, OptimizerKind)> = seeds
        .iter()
        .flat_map(|&seed| kinds.iter().map(move |&k| (seed, k)))
        .collect();
    let mut finished: Vec<RunReport> = Vec::new();
    if let Some(path) = &runs_path {
        if args.resume {
            finished = previous_runs(path, &plans, &wanted)?;
        } else if path.exists() {
            return Err(Error::usage(format!(
                "{} exists from an earlier comparison: pass --resume to continue it, or remove it",
                path.display()
            )));
        }
    }
    let have: BTreeSet<(u64, String)> = finished
        .iter()
        .map(|r| (r.split.seed, r.optimizer.clone()))
        .collect();
    let missing: Vec<(u64, OptimizerKind)> = wanted
        .iter()
        .copied()
        .filter(|(seed, k)| !have.contains(&(*seed, k.name().to_owned())))
        .collect();

    let cores = crate::train::cores();
    let jobs = match super::train::capped_threads("--jobs", args.jobs) {
        0 => cores,
        jobs => jobs,
    };
    let threads_per_run = (cores / jobs).max(1);
    let bar = RunsBar::new(wanted.len(), finished.len(), args.quiet);
    let mut record = |run: RunReport| -> Result<()> {
        if let Some(path) = &runs_path {
            append_run(path, &run)?;
        }
        bar.finished(&run.optimizer, run.split.seed);
        finished.push(run);
        Ok(())
    };
    let recorded = run_pairs(
        &dataset,
        &plans,
        &missing,
        jobs,
        threads_per_run,
        &mut record,
    );
    interrupt::settled();
    bar.finish();
    // A run that failed is reported at once; a runs file that could not be written still
    // leaves the finished runs to summarize on stdout before the error.
    if matches!(recorded, Err(ref e) if !matches!(e, Error::Write { .. })) {
        return recorded;
    }

    // Deterministic order: optimizers as given, then seeds.
    let order = |r: &RunReport| {
        let k = kinds.iter().position(|&k| k.name() == r.optimizer);
        (k, r.split.seed)
    };
    finished.sort_by_key(order);
    let config = serde_json::to_value(args).expect("arguments serialize");
    let published = super::summarize::publish(
        "compare",
        config,
        &finished,
        crate::aggregate::DEFAULT_GRID_POINTS,
        args.out.as_deref(),
        args.plot.as_deref(),
    );
    recorded?;
    published?;

    if interrupt::requested() {
        let total = wanted.len();
        let resume = match &args.out {
            Some(_) => "resume with the same command plus --resume".to_owned(),
            None => "pass --out to be able to resume".to_owned(),
        };
        return Err(Error::Interrupted(format!(
            "{} of {total} runs finished ({}); {resume}",
            finished.len(),
            kind_names(&kinds)
        )));
    }
    Ok(())
}

/// The runs already in the runs file that this comparison asks for, checked to have been
/// made with the same settings.
fn previous_runs(
    path: &Path,
    plans: &[Plan],
    wanted: &[(u64, OptimizerKind)],
) -> Result<Vec<RunReport>> {
    let mut kept = Vec::new();
    let mut seen = BTreeSet::new();
    for run in read_runs(path)? {
        let Some(&(seed, kind)) = wanted
            .iter()
            .find(|(s, k)| *s == run.split.seed && k.name() == run.optimizer)
        else {
            continue;
        };
        let plan = plans.iter().find(|p| p.kind == kind).expect("planned");
        let expected = comparable(&plan.config(&plan.request.with_seed(seed).config_json(), 1));
        if comparable(&run.config) != expected {
            return Err(Error::usage(format!(
                "{}: the run of {} with seed {seed} was made with other settings than this command's; \
                 resume with the original flags, or remove the file",
                path.display(),
                run.optimizer
            )));
        }
        if seen.insert((seed, run.optimizer.clone())) {
            kept.push(run);
        }
    }
    Ok(kept)
}
