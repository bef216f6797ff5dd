//! `anmin man`: manual pages (roff) generated from the command-line definition, so that they
//! say exactly what `--help` says.

use std::io::Write;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::{Cli, ManArgs};
use crate::error::Result;
use crate::outputs;

/// The file name of the top-level page in `man --dir`.
pub const MAIN_PAGE: &str = "anmin.1";

/// Every manual page as (file name, roff text): anmin.1 first, then one per subcommand
/// (anmin-train.1, anmin-gen-sdf.1, …).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    // `help` is clap's, and documented on every page already.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    collect(command, &mut pages);
    pages
}

fn collect(command: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let man = Man::new(command);
    let mut page = Vec::new();
    man.render(&mut page)
        .expect("rendering to memory cannot fail");
    pages.push((man.get_filename(), page));
    for subcommand in subcommands {
        collect(subcommand, pages);
    }
}

/// `anmin man`.
pub fn run(args: &ManArgs) -> Result<()> {
    let mut pages = pages();
    match &args.dir {
        None => {
            let (_, main) = pages.swap_remove(0);
            let _ = std::io::stdout().write_all(&main);
        }
        Some(dir) => {
            let mut written = String::new();
            for (name, page) in pages {
                let path = dir.join(name);
                outputs::write_atomic(&path, &page)?;
                written.push_str(&format!("{}\n", path.display()));
            }
            let _ = std::io::stdout().write_all(written.as_bytes());
        }
    }
    Ok(())
}
