//! SIGINT and SIGTERM: the first one asks the work in progress to stop at the next safe
//! point (after the current training step) and write what is finished; a second one exits at
//! once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

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
        });
    });
    &INTERRUPTED
}

/// Whether an interruption was requested.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
