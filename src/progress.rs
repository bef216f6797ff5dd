//! Progress on stderr: an indicatif bar when stderr is a terminal and output is not quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::optim::Observer;
use crate::report::HistoryEntry;

/// A bar over the iterations of one training run.
pub struct TrainingBar {
    bar: ProgressBar,
}

impl TrainingBar {
    pub fn new(max_iters: usize, label: &str, quiet: bool) -> TrainingBar {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(max_iters as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar
        };
        TrainingBar { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for TrainingBar {
    fn on_entry(&mut self, entry: &HistoryEntry) {
        // A penalty path (`--ridge auto`) runs more steps than one run's budget.
        if self.bar.length().is_some_and(|len| entry.iter as u64 > len) {
            self.bar.set_length(entry.iter as u64);
        }
        self.bar.set_position(entry.iter as u64);
        if let Some(mse) = entry.train_mse {
            self.bar.set_message(format!("train MSE {mse:.6}"));
        }
    }
}

/// A bar over the runs of a comparison, with an ETA.
pub struct RunsBar {
    bar: ProgressBar,
}

impl RunsBar {
    pub fn new(total: usize, done: usize, quiet: bool) -> RunsBar {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "runs [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        };
        bar.set_position(done as u64);
        bar.reset_eta();
        RunsBar { bar }
    }

    pub fn finished(&self, optimizer: &str, seed: u64) {
        self.bar.inc(1);
        self.bar
            .set_message(format!("last: {optimizer} seed {seed}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
