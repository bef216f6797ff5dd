//! Statistics over many runs (optimizers × random splits): final metrics with their mean and
//! standard deviation, wins per split, and mean curves with ±1 std bands on one time grid.
//!
//! Everything here takes runs that are already in memory, so that `summarize` (runs read from
//! files) and `compare` (runs trained in-process) produce the same numbers, table and JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::report::{HistoryEntry, RunReport, StopReason};

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

fn defined(values: impl IntoIterator<Item = Option<f64>>) -> Vec<f64> {
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

/// Final-entry statistics of one optimizer over its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerAggregate {
    pub n_runs: usize,
    pub train_mse: Option<SampleStats>,
    pub test_mse: Option<SampleStats>,
    pub train_r2: Option<SampleStats>,
    pub test_r2: Option<SampleStats>,
    /// Training time up to the final entry.
    pub time_s: Option<SampleStats>,
    /// Iteration (epoch, outer step) of the final entry.
    pub iters: Option<SampleStats>,
    /// Splits on which this optimizer's final training MSE was the lowest among the
    /// optimizers run on that split; a tie is a win for each tied optimizer.
    pub wins_train: usize,
    /// The same for the final test MSE.
    pub wins_test: usize,
}

/// Per-optimizer statistics of the runs' `final` entries, keyed by optimizer name.
///
/// Runs are expected to have distinct (optimizer, split seed) pairs; if an optimizer has
/// several runs on one seed, all enter the means and its lowest value competes for the win.
pub fn aggregate_by_optimizer(runs: &[RunReport]) -> BTreeMap<String, OptimizerAggregate> {
    let wins_train = wins(runs, Metric::TrainMse);
    let wins_test = wins(runs, Metric::TestMse);
    group_by_optimizer(runs)
        .into_iter()
        .map(|(name, group)| {
            let finals = || group.iter().map(|r| &r.final_entry);
            let stats = |metric: Metric| SampleStats::of_defined(finals().map(|e| metric.of(e)));
            let aggregate = OptimizerAggregate {
                n_runs: group.len(),
                train_mse: stats(Metric::TrainMse),
                test_mse: stats(Metric::TestMse),
                train_r2: stats(Metric::TrainR2),
                test_r2: stats(Metric::TestR2),
                time_s: SampleStats::of_defined(finals().map(|e| Some(e.time_s))),
                iters: SampleStats::of_defined(finals().map(|e| Some(e.iter as f64))),
                wins_train: wins_train.get(name).copied().unwrap_or(0),
                wins_test: wins_test.get(name).copied().unwrap_or(0),
            };
            (name.to_string(), aggregate)
        })
        .collect()
}

fn group_by_optimizer(runs: &[RunReport]) -> BTreeMap<&str, Vec<&RunReport>> {
    let mut groups: BTreeMap<&str, Vec<&RunReport>> = BTreeMap::new();
    for run in runs {
        groups.entry(&run.optimizer).or_default().push(run);
    }
    // Seed order, so that sums do not depend on the order the runs came in (shards merged
    // by `summarize` give bitwise the aggregates of one comparison).
    for group in groups.values_mut() {
        group.sort_by_key(|r| r.split.seed);
    }
    groups
}

/// For each optimizer, on how many split seeds its final `metric` was the lowest among the
/// optimizers with a defined value on that seed.
fn wins(runs: &[RunReport], metric: Metric) -> BTreeMap<&str, usize> {
    let mut lowest_by_seed: BTreeMap<u64, BTreeMap<&str, f64>> = BTreeMap::new();
    for run in runs {
        let Some(value) = metric.of(&run.final_entry).filter(|v| v.is_finite()) else {
            continue;
        };
        let lowest = lowest_by_seed
            .entry(run.split.seed)
            .or_default()
            .entry(&run.optimizer)
            .or_insert(value);
        *lowest = lowest.min(value);
    }
    let mut wins = BTreeMap::new();
    for per_optimizer in lowest_by_seed.values() {
        let best = per_optimizer
            .values()
            .copied()
            .fold(f64::INFINITY, f64::min);
        for (&name, &value) in per_optimizer {
            if value == best {
                *wins.entry(name).or_insert(0) += 1;
            }
        }
    }
    wins
}

/// One metric of one optimizer on the time grid: per grid point the mean and sample std over
/// the runs that contribute there, and their number. None where no run contributes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricCurve {
    pub mean: Vec<Option<f64>>,
    pub std: Vec<Option<f64>>,
    pub n: Vec<usize>,
}

/// The four metric curves of one optimizer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OptimizerCurves {
    pub train_mse: MetricCurve,
    pub test_mse: MetricCurve,
    pub train_r2: MetricCurve,
    pub test_r2: MetricCurve,
}

impl OptimizerCurves {
    pub fn get(&self, metric: Metric) -> &MetricCurve {
        match metric {
            Metric::TrainMse => &self.train_mse,
            Metric::TestMse => &self.test_mse,
            Metric::TrainR2 => &self.train_r2,
            Metric::TestR2 => &self.test_r2,
        }
    }

    fn get_mut(&mut self, metric: Metric) -> &mut MetricCurve {
        match metric {
            Metric::TrainMse => &mut self.train_mse,
            Metric::TestMse => &mut self.test_mse,
            Metric::TrainR2 => &mut self.train_r2,
            Metric::TestR2 => &mut self.test_r2,
        }
    }
}

/// Mean curves of every optimizer on one shared time grid. Serialized as
/// `{ "time_s": [grid], "<optimizer>": { "train_mse": { "mean", "std", "n" }, … }, … }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Curves {
    /// The grid: wall-clock seconds of training, log-spaced.
    pub time_s: Vec<f64>,
    #[serde(flatten)]
    pub optimizers: BTreeMap<String, OptimizerCurves>,
}

/// `points` log-spaced times from the smallest positive `time_s` of any history entry of any
/// run to the largest; empty when no entry has a positive time.
pub fn log_time_grid(runs: &[RunReport], points: usize) -> Vec<f64> {
    let times = || {
        runs.iter()
            .flat_map(|r| &r.history)
            .map(|e| e.time_s)
            .filter(|t| t.is_finite())
    };
    let Some(first) = times().filter(|&t| t > 0.0).reduce(f64::min) else {
        return Vec::new();
    };
    let last = times().fold(first, f64::max);
    match points {
        0 => Vec::new(),
        1 => vec![last],
        _ if last <= first => vec![first],
        _ => {
            let step = (last / first).ln() / (points - 1) as f64;
            (0..points)
                .map(|i| match i {
                    // Exact ends: the earliest entry and every run's last entry land on the grid.
                    0 => first,
                    _ if i == points - 1 => last,
                    _ => first * (step * i as f64).exp(),
                })
                .collect()
        }
    }
}

/// The run's `metric` at each grid time: the value of its latest history entry with
/// `time_s` ≤ t (the network available at time t), held after its last entry; None before
/// its first entry and where that entry's value is undefined.
pub fn step_values(history: &[HistoryEntry], grid: &[f64], metric: Metric) -> Vec<Option<f64>> {
    let mut entries: Vec<&HistoryEntry> = history.iter().filter(|e| e.time_s.is_finite()).collect();
    // Stable: of entries with equal times, the later one is the network available then.
    entries.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    let mut next = 0;
    grid.iter()
        .map(|&t| {
            while next < entries.len() && entries[next].time_s <= t {
                next += 1;
            }
            let current = next.checked_sub(1).map(|i| entries[i])?;
            metric.of(current).filter(|v| v.is_finite())
        })
        .collect()
}

/// The entries a run's curve steps through: its history, except that a diverged run ends on
/// its `final` (best) entry's values at the time it diverged. The network available after a
/// divergence is the best one kept, not the exploded iterate, which would otherwise be held
/// to the end of the grid.
pub fn curve_history(run: &RunReport) -> Vec<HistoryEntry> {
    let mut history = run.history.clone();
    if run.stop_reason == StopReason::Diverged {
        if let Some(last) = history.last_mut() {
            *last = HistoryEntry {
                iter: last.iter,
                time_s: last.time_s,
                ..run.final_entry.clone()
            };
        }
    }
    history
}

/// Mean and ±1 std curves of every optimizer and metric on a grid of `points` log-spaced
/// times shared by all optimizers (see [`log_time_grid`], [`curve_history`] and
/// [`step_values`]).
pub fn curves_on_time_grid(runs: &[RunReport], points: usize) -> Curves {
    let grid = log_time_grid(runs, points);
    let optimizers = group_by_optimizer(runs)
        .into_iter()
        .map(|(name, group)| {
            let mut curves = OptimizerCurves::default();
            let histories: Vec<Vec<HistoryEntry>> =
                group.iter().map(|run| curve_history(run)).collect();
            for metric in Metric::ALL {
                let per_run: Vec<Vec<Option<f64>>> = histories
                    .iter()
                    .map(|history| step_values(history, &grid, metric))
                    .collect();
                let curve = curves.get_mut(metric);
                for i in 0..grid.len() {
                    let at_point = defined(per_run.iter().map(|values| values[i]));
                    let stats = mean_std(&at_point);
                    curve.mean.push(stats.map(|s| s.mean));
                    curve.std.push(stats.map(|s| s.std));
                    curve.n.push(at_point.len());
                }
            }
            (name.to_string(), curves)
        })
        .collect();
    Curves {
        time_s: grid,
        optimizers,
    }
}

/// One run in an aggregate report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub optimizer: String,
    /// The split seed.
    pub seed: u64,
    #[serde(rename = "final")]
    pub final_entry: HistoryEntry,
    pub best: HistoryEntry,
    /// The run's whole training time: its last history entry's `time_s` (after divergence
    /// later than `final`, which is then the best entry).
    pub time_s: f64,
    pub stop_reason: StopReason,
}

impl RunSummary {
    pub fn of(run: &RunReport) -> RunSummary {
        RunSummary {
            optimizer: run.optimizer.clone(),
            seed: run.split.seed,
            final_entry: run.final_entry.clone(),
            best: run.best.clone(),
            time_s: run
                .history
                .last()
                .map_or(run.final_entry.time_s, |e| e.time_s),
            stop_reason: run.stop_reason,
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
    /// One entry per run, ordered by optimizer, then seed.
    pub runs: Vec<RunSummary>,
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
        let mut summaries: Vec<RunSummary> = runs.iter().map(RunSummary::of).collect();
        summaries.sort_by(|a, b| (&a.optimizer, a.seed).cmp(&(&b.optimizer, b.seed)));
        AggregateReport {
            anmin_version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            config,
            runs: summaries,
            aggregates: aggregate_by_optimizer(runs),
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

/// `v` with `digits` significant digits (but no integer digit rounded away); scientific
/// notation for very small or large magnitudes, "-" for a non-finite value.
pub fn format_significant(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    match fixed_decimals(v, digits) {
        Some(decimals) => format!("{v:.decimals$}"),
        None => format!("{:.*e}", digits.max(1) - 1, v),
    }
}

/// The decimals that show `v` (finite, non-zero) to `digits` significant digits in fixed
/// notation; None where its magnitude calls for scientific notation.
fn fixed_decimals(v: f64, digits: usize) -> Option<usize> {
    if !v.is_finite() || v == 0.0 {
        return None;
    }
    let exponent = v.abs().log10().floor() as i32;
    (-3..6)
        .contains(&exponent)
        .then(|| (digits.max(1) as i32 - 1 - exponent).max(0) as usize)
}

/// `mean ± std`, the mean to `digits` significant digits and the std to the same decimal
/// place (to 2 significant digits where the mean is in scientific notation), or "-".
fn format_stats(stats: Option<SampleStats>, digits: usize) -> String {
    let Some(s) = stats else {
        return "-".into();
    };
    let std = match fixed_decimals(s.mean, digits) {
        Some(decimals) => format!("{:.decimals$}", s.std),
        None => format_significant(s.std, 2),
    };
    format!("{} ± {std}", format_significant(s.mean, digits))
}

/// Iteration counts: whole numbers stay whole, means get one decimal.
fn format_iters(stats: Option<SampleStats>) -> String {
    let count = |v: f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    stats.map_or_else(
        || "-".into(),
        |s| format!("{} ± {}", count(s.mean), count(s.std)),
    )
}

/// A markdown table of `aggregates`: one row per optimizer with the mean ± sample std of the
/// final metrics, time and iterations, and its wins, followed by a line explaining the wins.
pub fn markdown_table(aggregates: &BTreeMap<String, OptimizerAggregate>) -> String {
    let header = [
        "optimizer",
        "runs",
        "train MSE",
        "test MSE",
        "test R²",
        "time (s)",
        "iterations",
        "wins (train)",
        "wins (test)",
    ];
    let rows: Vec<[String; 9]> = aggregates
        .iter()
        .map(|(name, a)| {
            [
                name.clone(),
                a.n_runs.to_string(),
                format_stats(a.train_mse, 4),
                format_stats(a.test_mse, 4),
                format_stats(a.test_r2, 4),
                format_stats(a.time_s, 3),
                format_iters(a.iters),
                format!("{} of {}", a.wins_train, a.n_runs),
                format!("{} of {}", a.wins_test, a.n_runs),
            ]
        })
        .collect();
    // Pad to column width so that the table also reads well as plain text.
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                let pad = width - cell.chars().count();
                // The name column is left-aligned, numbers right-aligned.
                if i == 0 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header.map(String::from));
    // The delimiter row spans each cell with its padding; ":" at the end right-aligns.
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, &w)| match i {
            0 => "-".repeat(w + 2),
            _ => format!("{}:", "-".repeat(w + 1)),
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push_str(
        "\nFinal entries, mean ± sample standard deviation over runs. Wins: on how many of its\n\
         splits the optimizer reached the lowest final training (test) MSE of the optimizers\n\
         run on that split; a tie counts for each.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(iter: usize, time_s: f64, train_mse: f64, test_mse: Option<f64>) -> HistoryEntry {
        HistoryEntry {
            iter,
            time_s,
            train_mse: Some(train_mse),
            test_mse,
            train_r2: Some(1.0 - train_mse),
            test_r2: test_mse.map(|v| 1.0 - v),
            val_mse: None,
            val_r2: None,
        }
    }

    /// A run report as `train --out` writes it (built from JSON, so that keys added to the
    /// schema later need no change here).
    fn run(optimizer: &str, seed: u64, history: Vec<HistoryEntry>) -> RunReport {
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
    fn final_only(optimizer: &str, seed: u64, train: f64, test: f64) -> RunReport {
        run(optimizer, seed, vec![entry(0, 1.0, train, Some(test))])
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

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

    /// An LBFGS run on seed 0 that improved once, then exploded at time `4 × t`.
    fn diverged(t: f64) -> RunReport {
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
        let aggregates = aggregate_by_optimizer(&runs);
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
            RunSummary::of(&runs[0]).time_s,
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
        let a = aggregate_by_optimizer(&runs);
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
        let a = aggregate_by_optimizer(&runs);
        assert_eq!(a["anmin"].test_mse, None);
        assert_eq!(a["anmin"].test_r2, None);
        assert_eq!(a["anmin"].wins_train, 1);
        assert_eq!(a["anmin"].wins_test + a["adam"].wins_test, 0);
        let json = serde_json::to_value(&a["anmin"]).unwrap();
        assert!(json["test_mse"].is_null());
        assert_eq!(json["train_mse"]["n"], 1);
    }

    #[test]
    fn grid_is_log_spaced_between_the_extreme_times() {
        let runs = vec![
            run(
                "a",
                0,
                vec![entry(0, 0.0, 1.0, None), entry(1, 0.01, 1.0, None)],
            ),
            run(
                "b",
                0,
                vec![entry(0, 0.1, 1.0, None), entry(1, 10.0, 1.0, None)],
            ),
        ];
        let grid = log_time_grid(&runs, 5);
        // From the smallest positive time (0.01) to the largest (10): ratio 10^(3/4) a step.
        assert_eq!(grid.len(), 5);
        assert_eq!(grid[0], 0.01);
        assert_eq!(grid[4], 10.0);
        for pair in grid.windows(2) {
            assert!(close(pair[1] / pair[0], 10f64.powf(0.75)));
        }
        assert_eq!(log_time_grid(&runs, 1), vec![10.0]);
        assert!(log_time_grid(&runs, 0).is_empty());
        let zero_times = vec![run("a", 0, vec![entry(0, 0.0, 1.0, None)])];
        assert!(log_time_grid(&zero_times, 10).is_empty());
    }

    #[test]
    fn step_interpolation_holds_the_latest_entry() {
        let history = vec![
            entry(0, 1.0, 10.0, None),
            entry(1, 2.0, 8.0, None),
            entry(2, 4.0, 5.0, None),
        ];
        let grid = [0.5, 1.0, 1.5, 2.0, 3.9, 4.0, 100.0];
        assert_eq!(
            step_values(&history, &grid, Metric::TrainMse),
            [
                None,
                Some(10.0),
                Some(10.0),
                Some(8.0),
                Some(8.0),
                Some(5.0),
                Some(5.0)
            ]
        );
        // Undefined values give no contribution.
        assert_eq!(step_values(&history, &grid, Metric::TestMse), [None; 7]);
    }

    #[test]
    fn curves_average_the_runs_present_at_each_grid_time() {
        // `early` ends at t = 2 and is held; `late` starts at t = 4.
        let early = run(
            "anmin",
            0,
            vec![entry(0, 1.0, 10.0, Some(20.0)), entry(1, 2.0, 6.0, None)],
        );
        let late = run(
            "anmin",
            1,
            vec![entry(0, 4.0, 4.0, Some(8.0)), entry(1, 8.0, 2.0, Some(4.0))],
        );
        let other = run("adam", 0, vec![entry(0, 1.0, 7.0, Some(7.0))]);
        let curves = curves_on_time_grid(&[early, late, other], 4);
        // 1 to 8 in 4 log-spaced points: 1, 2, 4, 8.
        assert_eq!(curves.time_s.len(), 4);
        for (t, expected) in curves.time_s.iter().zip([1.0, 2.0, 4.0, 8.0]) {
            assert!(close(*t, expected));
        }
        let anmin = &curves.optimizers["anmin"];
        let train = &anmin.train_mse;
        assert_eq!(train.n, [1, 1, 2, 2]);
        assert_eq!(train.mean, [Some(10.0), Some(6.0), Some(5.0), Some(4.0)]);
        assert_eq!(train.std[0], Some(0.0));
        assert!(close(train.std[2].unwrap(), 2f64.sqrt()));
        assert!(close(train.std[3].unwrap(), 8f64.sqrt()));
        // The early run's last entry has no test MSE: it drops out of the test curve.
        let test = &anmin.test_mse;
        assert_eq!(test.n, [1, 0, 1, 1]);
        assert_eq!(test.mean, [Some(20.0), None, Some(8.0), Some(4.0)]);
        assert_eq!(test.std[1], None);
        // A run held after its end contributes to every later grid time.
        assert_eq!(curves.optimizers["adam"].train_mse.n, [1, 1, 1, 1]);

        let json = serde_json::to_value(&curves).unwrap();
        assert_eq!(json["time_s"].as_array().unwrap().len(), 4);
        assert!(json["anmin"]["test_mse"]["mean"][1].is_null());
        assert_eq!(json["anmin"]["train_mse"]["n"][2], 2);
        let back: Curves = serde_json::from_value(json).unwrap();
        assert_eq!(back, curves);
    }

    #[test]
    fn a_diverged_run_holds_its_best_entry_after_diverging() {
        let diverged = diverged(1.0);
        let history = curve_history(&diverged);
        assert_eq!((history[2].iter, history[2].time_s), (2, 4.0));
        assert_eq!(history[2].train_mse, Some(3.0));
        let curves = curves_on_time_grid(&[diverged], 3);
        assert_eq!(
            curves.optimizers["lbfgs"].train_mse.mean,
            [Some(4.0), Some(3.0), Some(3.0)]
        );
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

    #[test]
    fn table_has_a_row_per_optimizer_with_mean_and_std() {
        let runs = vec![
            final_only("anmin", 0, 1.0, 2.0),
            final_only("anmin", 1, 3.0, 4.0),
            final_only("adam", 0, 0.5, 1.0),
        ];
        let table = markdown_table(&aggregate_by_optimizer(&runs));
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("| optimizer"));
        assert!(lines[1].starts_with("|--"));
        // A valid delimiter row: every cell is dashes with an optional alignment colon.
        for cell in lines[1].trim_matches('|').split('|') {
            assert!(
                cell.trim_end_matches(':').chars().all(|c| c == '-'),
                "{}",
                lines[1]
            );
        }
        assert!(lines[2].starts_with("| adam "));
        assert!(lines[3].starts_with("| anmin "));
        // anmin: train MSE 2 ± sqrt(2), the lowest on seed 1 only.
        assert!(lines[3].contains("2.000 ± 1.4"), "{}", lines[3]);
        assert!(lines[3].contains("1 of 2"), "{}", lines[3]);
        assert!(lines[3].contains("0 ± 0"), "{}", lines[3]);
        assert!(table.contains("lowest final training (test) MSE"));
        // The note under the table stays within a terminal line.
        assert!(lines[5..].iter().all(|l| l.chars().count() <= 100));
    }

    #[test]
    fn significant_digits() {
        assert_eq!(format_significant(2.53149, 4), "2.531");
        assert_eq!(format_significant(0.041234, 2), "0.041");
        assert_eq!(format_significant(1234.4, 3), "1234");
        assert_eq!(format_significant(0.000123, 3), "1.23e-4");
        assert_eq!(format_significant(-0.5, 4), "-0.5000");
        assert_eq!(format_significant(0.0, 4), "0");
        assert_eq!(format_significant(f64::NAN, 4), "-");
    }
}
