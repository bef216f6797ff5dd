//! Statistics over many runs (optimizers × random splits): final metrics with their mean and
//! standard deviation, wins per split, and mean curves with ±1 std bands on one time grid.
//!
//! Everything here takes runs that are already in memory, so that `summarize` (runs read from
//! files) and `compare` (runs trained in-process) produce the same numbers, table and JSON.
//! A row is an optimizer, split further by settings its runs differ in ([`rows`]).

pub mod curves;
pub mod rows;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::{HistoryEntry, RunReport, StopReason, Undefined};
use curves::{Curves, curves_on_time_grid};
use rows::{Row, group_into_rows};

/// Points of the common time grid of the curves.
pub const DEFAULT_GRID_POINTS: usize = 100;

/// Mean and sample standard deviation of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    /// Sample standard deviation (divides by n − 1); 0 for a single value.
    pub std: f64,
}

/// Mean and sample standard deviation of `values`, or None when there are none.
///
/// The caller leaves out undefined (None or non-finite) values and counts what it used.
pub fn mean_std(values: &[f64]) -> Option<MeanStd> {
    if values.is_empty() {
        return None;
    }
    // Welford's update: no cancellation, and no overflow of a running sum for huge values.
    let mut mean = 0.0;
    let mut sum_sq_dev = 0.0;
    for (i, &v) in values.iter().enumerate() {
        let delta = v - mean;
        mean += delta / (i + 1) as f64;
        sum_sq_dev += delta * (v - mean);
    }
    let std = if values.len() > 1 {
        (sum_sq_dev / (values.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(MeanStd { mean, std })
}

/// [`MeanStd`] of the runs whose value was defined, and how many those were.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleStats {
    pub mean: f64,
    pub std: f64,
    /// Values that entered the statistics (undefined ones are left out).
    pub n: usize,
}

impl SampleStats {
    /// Statistics of the defined (Some and finite) values; None when there are none.
    pub fn of_defined(values: impl IntoIterator<Item = Option<f64>>) -> Option<SampleStats> {
        let used = defined(values);
        mean_std(&used).map(|MeanStd { mean, std }| SampleStats {
            mean,
            std,
            n: used.len(),
        })
    }
}

pub(crate) fn defined(values: impl IntoIterator<Item = Option<f64>>) -> Vec<f64> {
    values
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .collect()
}

/// The four metrics of a history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    TrainMse,
    TestMse,
    TrainR2,
    TestR2,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::TrainMse,
        Metric::TestMse,
        Metric::TrainR2,
        Metric::TestR2,
    ];

    /// The metric's value in `entry` (None when undefined).
    pub fn of(self, entry: &HistoryEntry) -> Option<f64> {
        match self {
            Metric::TrainMse => entry.train_mse,
            Metric::TestMse => entry.test_mse,
            Metric::TrainR2 => entry.train_r2,
            Metric::TestR2 => entry.test_r2,
        }
    }

    /// The metric's key in the JSON.
    pub fn key(self) -> &'static str {
        match self {
            Metric::TrainMse => "train_mse",
            Metric::TestMse => "test_mse",
            Metric::TrainR2 => "train_r2",
            Metric::TestR2 => "test_r2",
        }
    }

    /// A human label for axes and tables.
    pub fn label(self) -> &'static str {
        match self {
            Metric::TrainMse => "training MSE",
            Metric::TestMse => "test MSE",
            Metric::TrainR2 => "training R²",
            Metric::TestR2 => "test R²",
        }
    }

    pub fn is_mse(self) -> bool {
        matches!(self, Metric::TrainMse | Metric::TestMse)
    }

    pub fn is_test(self) -> bool {
        matches!(self, Metric::TestMse | Metric::TestR2)
    }
}

/// Final-entry statistics of one row (an optimizer, or an optimizer with settings) over its
/// runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerAggregate {
    /// The optimizer of the row's runs.
    #[serde(default)]
    pub optimizer: String,
    /// The settings that set this row's runs apart from other runs of the optimizer (see
    /// [`rows`]); absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, Value>,
    pub n_runs: usize,
    pub train_mse: Option<SampleStats>,
    pub test_mse: Option<SampleStats>,
    pub train_r2: Option<SampleStats>,
    pub test_r2: Option<SampleStats>,
    /// Classifiers only: the final test accuracy and log loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<SampleStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_log_loss: Option<SampleStats>,
    /// Training time up to the final entry.
    pub time_s: Option<SampleStats>,
    /// Iteration (epoch, outer step) of the final entry.
    pub iters: Option<SampleStats>,
    /// Splits on which this row's final training MSE was the lowest among the rows run on
    /// that split; a tie is a win for each tied row.
    pub wins_train: usize,
    /// The same for the final test MSE.
    pub wins_test: usize,
    /// For each metric that is null in some runs' final entries: how many runs, by reason
    /// (those runs are left out of its statistics); absent when every value is defined.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub undefined_metrics: BTreeMap<String, BTreeMap<Undefined, usize>>,
}

/// Statistics of the runs' `final` entries, keyed by row name (the optimizer name, plus
/// settings where runs of one optimizer differ; see [`rows`]).
///
/// Runs are expected to have distinct (row, split seed) pairs; if a row has several runs on
/// one seed, all enter the means and its lowest value competes for the win.
pub fn aggregate_by_row(runs: &[RunReport]) -> BTreeMap<String, OptimizerAggregate> {
    let rows = group_into_rows(runs);
    let wins_train = wins(&rows, Metric::TrainMse);
    let wins_test = wins(&rows, Metric::TestMse);
    rows.iter()
        .map(|(name, row)| {
            let finals = || row.runs.iter().map(|r| &r.final_entry);
            let stats = |metric: Metric| SampleStats::of_defined(finals().map(|e| metric.of(e)));
            let aggregate = OptimizerAggregate {
                optimizer: row.optimizer.clone(),
                settings: row.settings.clone(),
                n_runs: row.runs.len(),
                train_mse: stats(Metric::TrainMse),
                test_mse: stats(Metric::TestMse),
                train_r2: stats(Metric::TrainR2),
                test_r2: stats(Metric::TestR2),
                test_accuracy: SampleStats::of_defined(finals().map(|e| e.test_accuracy)),
                test_log_loss: SampleStats::of_defined(finals().map(|e| e.test_log_loss)),
                time_s: SampleStats::of_defined(finals().map(|e| Some(e.time_s))),
                iters: SampleStats::of_defined(finals().map(|e| Some(e.iter as f64))),
                wins_train: wins_train.get(name.as_str()).copied().unwrap_or(0),
                wins_test: wins_test.get(name.as_str()).copied().unwrap_or(0),
                undefined_metrics: undefined_counts(row),
            };
            (name.clone(), aggregate)
        })
        .collect()
}

/// Per metric, how many of the row's final entries have it null, by reason.
fn undefined_counts(row: &Row<'_>) -> BTreeMap<String, BTreeMap<Undefined, usize>> {
    let mut counts: BTreeMap<String, BTreeMap<Undefined, usize>> = BTreeMap::new();
    for run in &row.runs {
        for metric in Metric::ALL {
            if metric.of(&run.final_entry).is_none() {
                let reason = run.why_undefined(metric.key());
                *counts
                    .entry(metric.key().to_owned())
                    .or_default()
                    .entry(reason)
                    .or_insert(0) += 1;
            }
        }
    }
    counts
}

/// For each row, on how many split seeds its final `metric` was the lowest among the rows
/// with a defined value on that seed.
fn wins<'a>(rows: &'a BTreeMap<String, Row<'_>>, metric: Metric) -> BTreeMap<&'a str, usize> {
    let mut lowest_by_seed: BTreeMap<u64, BTreeMap<&str, f64>> = BTreeMap::new();
    for (name, row) in rows {
        for run in &row.runs {
            let Some(value) = metric.of(&run.final_entry).filter(|v| v.is_finite()) else {
                continue;
            };
            let lowest = lowest_by_seed
                .entry(run.split.seed)
                .or_default()
                .entry(name)
                .or_insert(value);
            *lowest = lowest.min(value);
        }
    }
    let mut wins = BTreeMap::new();
    for per_row in lowest_by_seed.values() {
        let best = per_row.values().copied().fold(f64::INFINITY, f64::min);
        for (&name, &value) in per_row {
            if value == best {
                *wins.entry(name).or_insert(0) += 1;
            }
        }
    }
    wins
}

/// One run in an aggregate report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub optimizer: String,
    /// The settings that put the run in its row (see [`OptimizerAggregate::settings`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, Value>,
    /// The split seed.
    pub seed: u64,
    #[serde(rename = "final")]
    pub final_entry: HistoryEntry,
    pub best: HistoryEntry,
    /// The run's whole training time: its last history entry's `time_s` (after divergence
    /// later than `final`, which is then the best entry).
    pub time_s: f64,
    pub stop_reason: StopReason,
    /// Why the run's null metrics are null, as in the run file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub undefined_metrics: BTreeMap<String, Undefined>,
}

impl RunSummary {
    pub fn of(run: &RunReport, settings: &BTreeMap<String, Value>) -> RunSummary {
        RunSummary {
            optimizer: run.optimizer.clone(),
            settings: settings.clone(),
            seed: run.split.seed,
            final_entry: run.final_entry.clone(),
            best: run.best.clone(),
            time_s: run
                .history
                .last()
                .map_or(run.final_entry.time_s, |e| e.time_s),
            stop_reason: run.stop_reason,
            undefined_metrics: run.undefined_metrics.clone(),
        }
    }
}

/// Everything known about a set of runs: what `summarize --out` writes and `compare --out`
/// embeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateReport {
    pub anmin_version: String,
    pub command: String,
    /// The settings of the command that produced the report.
    pub config: serde_json::Value,
    /// One entry per run, ordered by row, then seed.
    pub runs: Vec<RunSummary>,
    /// Keyed by row name.
    pub aggregates: BTreeMap<String, OptimizerAggregate>,
    pub curves: Curves,
}

impl AggregateReport {
    /// Aggregates `runs` with curves on a grid of `grid_points` times.
    pub fn new(
        command: &str,
        config: serde_json::Value,
        runs: &[RunReport],
        grid_points: usize,
    ) -> AggregateReport {
        let mut summaries: Vec<(String, RunSummary)> = group_into_rows(runs)
            .into_iter()
            .flat_map(|(name, row)| {
                row.runs
                    .into_iter()
                    .map(move |run| (name.clone(), RunSummary::of(run, &row.settings)))
                    .collect::<Vec<_>>()
            })
            .collect();
        summaries.sort_by(|(a, x), (b, y)| (a, x.seed).cmp(&(b, y.seed)));
        let summaries = summaries.into_iter().map(|(_, s)| s).collect();
        AggregateReport {
            anmin_version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            config,
            runs: summaries,
            aggregates: aggregate_by_row(runs),
            curves: curves_on_time_grid(runs, grid_points),
        }
    }

    /// Distinct split seeds among the runs.
    pub fn n_splits(&self) -> usize {
        self.runs
            .iter()
            .map(|r| r.seed)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Runs for the tests of this module and its submodules.
#[cfg(test)]
pub(crate) mod test_runs {
    use crate::report::{HistoryEntry, RunReport, StopReason};

    pub fn entry(iter: usize, time_s: f64, train_mse: f64, test_mse: Option<f64>) -> HistoryEntry {
        HistoryEntry {
            iter,
            time_s,
            train_mse: Some(train_mse),
            test_mse,
            train_r2: Some(1.0 - train_mse),
            test_r2: test_mse.map(|v| 1.0 - v),
            ..HistoryEntry::default()
        }
    }

    /// A run report as `train --out` writes it (built from JSON, so that keys added to the
    /// schema later need no change here).
    pub fn run(optimizer: &str, seed: u64, history: Vec<HistoryEntry>) -> RunReport {
        let last = history.last().expect("non-empty history").clone();
        serde_json::from_value(serde_json::json!({
            "anmin_version": "0.0.0",
            "command": "train",
            "optimizer": optimizer,
            "config": { "hidden": 4 },
            "dataset": { "path": "d.csv", "rows": 10, "features": ["x"], "targets": ["y"],
                         "categorical": {}, "dropped_rows": 0 },
            "split": { "seed": seed, "test_frac": 0.2, "n_train": 8, "n_test": 2 },
            "history": history,
            "final": last,
            "best": last,
            "stop_reason": "max_iters",
            "time_note": "",
            "per_output": [],
            "solver": null,
        }))
        .expect("a valid run report")
    }

    /// A run whose final train and test MSE are `train` and `test`.
    pub fn final_only(optimizer: &str, seed: u64, train: f64, test: f64) -> RunReport {
        run(optimizer, seed, vec![entry(0, 1.0, train, Some(test))])
    }

    pub fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    /// An LBFGS run on seed 0 that improved once, then exploded at time `4 × t`.
    pub fn diverged(t: f64) -> RunReport {
        let mut run = run(
            "lbfgs",
            0,
            vec![
                entry(0, t, 4.0, Some(5.0)),
                entry(1, 2.0 * t, 3.0, Some(4.0)),
                entry(2, 4.0 * t, 1e12, Some(1e12)),
            ],
        );
        // After divergence the trainer sets `final` to the best entry.
        run.final_entry = run.history[1].clone();
        run.stop_reason = StopReason::Diverged;
        run
    }
}

#[cfg(test)]
mod tests {
    use super::test_runs::{close, diverged, entry, final_only, run};
    use super::*;

    #[test]
    fn mean_std_is_the_sample_statistic() {
        assert_eq!(mean_std(&[]), None);
        assert_eq!(
            mean_std(&[3.5]),
            Some(MeanStd {
                mean: 3.5,
                std: 0.0
            })
        );
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32/7.
        let s = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!(close(s.mean, 5.0));
        assert!(close(s.std, (32.0f64 / 7.0).sqrt()));
        // Large offsets do not cancel the spread away.
        let s = mean_std(&[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0]).unwrap();
        assert!(close(s.mean, 1e9 + 2.0));
        assert!((s.std - 1.0).abs() < 1e-6);
        assert_eq!(
            serde_json::to_value(MeanStd {
                mean: 1.0,
                std: 0.5
            })
            .unwrap(),
            serde_json::json!({ "mean": 1.0, "std": 0.5 })
        );
    }

    #[test]
    fn sample_stats_skip_undefined_values_and_count_the_rest() {
        let s = SampleStats::of_defined([Some(1.0), None, Some(f64::NAN), Some(3.0)]).unwrap();
        assert_eq!(
            s,
            SampleStats {
                mean: 2.0,
                std: 2f64.sqrt(),
                n: 2
            }
        );
        assert_eq!(SampleStats::of_defined([None, Some(f64::INFINITY)]), None);
    }

    #[test]
    fn aggregates_use_final_entries() {
        let runs = vec![
            diverged(0.1),
            run(
                "lbfgs",
                1,
                vec![entry(0, 0.1, 4.0, Some(5.0)), entry(5, 0.7, 6.0, Some(7.0))],
            ),
        ];
        let aggregates = aggregate_by_row(&runs);
        let a = &aggregates["lbfgs"];
        assert_eq!(a.n_runs, 2);
        let train = a.train_mse.unwrap();
        // The diverged run counts with its best entry (3.0), not the exploded one.
        assert!(close(train.mean, 4.5) && close(train.std, 4.5f64.sqrt()) && train.n == 2);
        let time = a.time_s.unwrap();
        assert!(close(time.mean, 0.45));
        let iters = a.iters.unwrap();
        assert!(close(iters.mean, 3.0) && close(iters.std, 8f64.sqrt()));
        assert_eq!(
            RunSummary::of(&runs[0], &BTreeMap::new()).time_s,
            0.4,
            "a run's time is its whole training time"
        );
    }

    #[test]
    fn wins_count_each_seed_once_and_ties_win_for_each() {
        let runs = vec![
            // Seed 0: anmin lowest on train, adam lowest on test.
            final_only("anmin", 0, 1.0, 3.0),
            final_only("adam", 0, 2.0, 2.5),
            // Seed 1: a tie on train between anmin and adam.
            final_only("anmin", 1, 1.5, 3.0),
            final_only("adam", 1, 1.5, 4.0),
            final_only("sgd", 1, 2.0, 5.0),
            // Seed 2: sgd ran alone, so it has the lowest values there.
            final_only("sgd", 2, 9.0, 9.0),
        ];
        let a = aggregate_by_row(&runs);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            ["adam", "anmin", "sgd"],
            "ordered by name"
        );
        assert_eq!((a["anmin"].wins_train, a["anmin"].wins_test), (2, 1));
        assert_eq!((a["adam"].wins_train, a["adam"].wins_test), (1, 1));
        assert_eq!((a["sgd"].wins_train, a["sgd"].wins_test), (1, 1));
    }

    #[test]
    fn runs_without_a_test_set_have_null_test_statistics_and_no_test_wins() {
        let runs = vec![
            run("anmin", 0, vec![entry(0, 1.0, 1.0, None)]),
            run("adam", 0, vec![entry(0, 1.0, 2.0, None)]),
        ];
        let a = aggregate_by_row(&runs);
        assert_eq!(a["anmin"].test_mse, None);
        assert_eq!(a["anmin"].test_r2, None);
        assert_eq!(a["anmin"].wins_train, 1);
        assert_eq!(a["anmin"].wins_test + a["adam"].wins_test, 0);
        let json = serde_json::to_value(&a["anmin"]).unwrap();
        assert!(json["test_mse"].is_null());
        assert_eq!(json["train_mse"]["n"], 1);
    }

    #[test]
    fn aggregate_report_has_the_documented_keys() {
        let runs = vec![
            final_only("anmin", 1, 1.0, 2.0),
            final_only("anmin", 0, 3.0, 4.0),
            final_only("adam", 0, 2.0, 1.0),
        ];
        let report = AggregateReport::new("summarize", serde_json::json!({}), &runs, 10);
        assert_eq!(report.n_splits(), 2);
        let order: Vec<_> = report
            .runs
            .iter()
            .map(|r| (r.optimizer.as_str(), r.seed))
            .collect();
        assert_eq!(order, [("adam", 0), ("anmin", 0), ("anmin", 1)]);
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "anmin_version",
            "command",
            "config",
            "runs",
            "aggregates",
            "curves",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        for key in [
            "optimizer",
            "seed",
            "final",
            "best",
            "time_s",
            "stop_reason",
        ] {
            assert!(json["runs"][0].get(key).is_some(), "run lacks {key}");
        }
        for key in [
            "n_runs",
            "train_mse",
            "test_mse",
            "test_r2",
            "time_s",
            "iters",
            "wins_train",
            "wins_test",
        ] {
            assert!(
                json["aggregates"]["anmin"].get(key).is_some(),
                "lacks {key}"
            );
        }
        assert_eq!(json["aggregates"]["anmin"]["train_mse"]["mean"], 2.0);
    }
}
