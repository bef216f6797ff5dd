//! `anmin completions SHELL`: the shell's completion script, generated from the command-line
//! definition so that it always knows every subcommand and flag.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

/// `anmin completions`.
pub fn run(args: &CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "anmin", &mut script);
    // A closed stdout (e.g. piped into `head`) is not an error worth reporting.
    let _ = std::io::stdout().write_all(&script);
    Ok(())
}
