//! The aggregate as a markdown table: a row per optimizer (and settings), mean ± sample std
//! of the final metrics.

use std::collections::BTreeMap;

use super::{OptimizerAggregate, SampleStats};
use crate::report::Undefined;

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
    let mut header = vec![
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
    // Classifiers' accuracy and log loss, when some row has them.
    let classes = aggregates
        .values()
        .any(|a| a.test_accuracy.is_some() || a.test_log_loss.is_some());
    if classes {
        header.extend(["test accuracy", "test log loss"]);
    }
    let rows: Vec<Vec<String>> = aggregates
        .iter()
        .map(|(name, a)| {
            let mut row = vec![
                name.clone(),
                a.n_runs.to_string(),
                format_stats(a.train_mse, 4),
                format_stats(a.test_mse, 4),
                format_stats(a.test_r2, 4),
                format_stats(a.time_s, 3),
                format_iters(a.iters),
                format!("{} of {}", a.wins_train, a.n_runs),
                format!("{} of {}", a.wins_test, a.n_runs),
            ];
            if classes {
                row.extend([
                    format_stats(a.test_accuracy, 4),
                    format_stats(a.test_log_loss, 4),
                ]);
            }
            row
        })
        .collect();
    // Pad to column width so that the table also reads well as plain text.
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
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
    let header: Vec<String> = header.into_iter().map(String::from).collect();
    let mut out = line(&header);
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
    out.push_str(&undefined_notes(aggregates));
    out
}

/// The metrics of the table.
const TABLE_METRICS: [(&str, &str); 3] = [
    ("train_mse", "train MSE"),
    ("test_mse", "test MSE"),
    ("test_r2", "test R²"),
];

/// One line per (metric, reason) of the table's metrics that are undefined in some final
/// entries, naming the rows and how many of their runs: such values are left out of the
/// statistics ("-" where no run has one).
fn undefined_notes(aggregates: &BTreeMap<String, OptimizerAggregate>) -> String {
    let mut lines: BTreeMap<(usize, Undefined), Vec<String>> = BTreeMap::new();
    for (name, aggregate) in aggregates {
        for (i, (key, _)) in TABLE_METRICS.iter().enumerate() {
            for (&reason, &count) in aggregate.undefined_metrics.get(*key).into_iter().flatten() {
                lines
                    .entry((i, reason))
                    .or_default()
                    .push(format!("{name} {count} of {}", aggregate.n_runs));
            }
        }
    }
    let mut out = String::new();
    for ((i, reason), rows) in lines {
        out.push_str(&format!(
            "Undefined {} ({}): {}.\n",
            TABLE_METRICS[i].1,
            reason.label(),
            rows.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::aggregate_by_row;
    use super::super::test_runs::final_only;
    use super::*;

    #[test]
    fn table_has_a_row_per_optimizer_with_mean_and_std() {
        let runs = vec![
            final_only("anmin", 0, 1.0, 2.0),
            final_only("anmin", 1, 3.0, 4.0),
            final_only("adam", 0, 0.5, 1.0),
        ];
        let table = markdown_table(&aggregate_by_row(&runs));
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
    fn undefined_final_values_are_counted_under_the_table_by_reason() {
        let mut overflowed = final_only("anmin", 0, 1.0, 2.0);
        overflowed.final_entry.test_mse = None;
        overflowed.final_entry.test_r2 = None;
        overflowed.undefined_metrics = [
            ("test_mse".to_owned(), Undefined::Overflow),
            ("test_r2".to_owned(), Undefined::Overflow),
        ]
        .into();
        let mut no_test_set = final_only("adam", 0, 1.0, 2.0);
        no_test_set.final_entry.test_mse = None;
        no_test_set.final_entry.test_r2 = None;
        no_test_set.split.n_test = 0;
        let runs = [overflowed, final_only("anmin", 1, 1.0, 2.0), no_test_set];
        let aggregates = aggregate_by_row(&runs);
        assert_eq!(
            aggregates["anmin"].undefined_metrics["test_mse"],
            [(Undefined::Overflow, 1)].into()
        );
        // A run file without the record: no test set is told by its split.
        assert_eq!(
            aggregates["adam"].undefined_metrics["test_r2"],
            [(Undefined::NoTestSet, 1)].into()
        );
        let json = serde_json::to_value(&aggregates["anmin"]).unwrap();
        assert_eq!(json["undefined_metrics"]["test_mse"]["overflow"], 1);
        assert!(
            serde_json::to_value(&aggregates["adam"]).unwrap()["undefined_metrics"]
                .get("train_mse")
                .is_none()
        );

        let table = markdown_table(&aggregates);
        assert!(
            table.contains("Undefined test MSE (no test set): adam 1 of 1.\n"),
            "{table}"
        );
        assert!(
            table.contains("Undefined test MSE (overflow): anmin 1 of 2.\n"),
            "{table}"
        );
        assert!(
            table.contains("Undefined test R² (overflow): anmin 1 of 2.\n"),
            "{table}"
        );
        // adam has no test value at all: its cells say so with "-".
        let adam = table.lines().find(|l| l.starts_with("| adam ")).unwrap();
        assert_eq!(adam.matches(" - |").count(), 2, "{adam}");
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
