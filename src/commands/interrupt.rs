//! SIGINT and SIGTERM: the first one asks the work in progress to stop at the next safe
//! point (after the current training step) and write what is finished; a second one exits at
//! once. A step that does not end within [`GRACE`] (a factorization of a large system, which
//! cannot be cut short) is not waited for: the process exits, so that a signal always stops
//! it within seconds.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set once the training has stopped: writing what is finished may take its time.
static SETTLED: AtomicBool = AtomicBool::new(false);

/// How long the current step may take to end after the first signal.
pub const GRACE: Duration = Duration::from_secs(2);

/// Installs the handler (once per process) and returns the flag it sets.
pub fn flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (e.g. another one is installed) Ctrl-C keeps its default effect.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: finishing the current step and writing results (Ctrl-C again to abort)");
            std::thread::spawn(|| {
                std::thread::sleep(GRACE);
                if !SETTLED.load(Ordering::SeqCst) {
                    eprintln!(
                        "interrupted: the current step did not end within {} s; exiting \
                         without writing results",
                        GRACE.as_secs()
                    );
                    std::process::exit(130);
                }
            });
        });
    });
    &INTERRUPTED
}

/// Whether an interruption was requested.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Says that the training has stopped (after an interruption or not): from now on a signal's
/// grace period does not end the process while it writes what is finished.
pub fn settled() {
    SETTLED.store(true, Ordering::SeqCst);
}
