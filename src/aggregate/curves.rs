//! Mean curves with ±1 std bands of every row on one log-spaced time grid.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rows::group_into_rows;
use super::{Metric, defined, mean_std};
use crate::report::{HistoryEntry, RunReport, StopReason};

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

/// Mean curves of every row on one shared time grid. Serialized as
/// `{ "time_s": [grid], "<row>": { "train_mse": { "mean", "std", "n" }, … }, … }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Curves {
    /// The grid: wall-clock seconds of training, log-spaced.
    pub time_s: Vec<f64>,
    /// Keyed by row name (the optimizer, plus distinguishing settings).
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
    let optimizers = group_into_rows(runs)
        .into_iter()
        .map(|(name, row)| {
            let mut curves = OptimizerCurves::default();
            let histories: Vec<Vec<HistoryEntry>> =
                row.runs.iter().map(|run| curve_history(run)).collect();
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
            (name, curves)
        })
        .collect();
    Curves {
        time_s: grid,
        optimizers,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_runs::{close, diverged, entry, run};
    use super::*;

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
}
