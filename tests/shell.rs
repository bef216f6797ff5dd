//! `anmin completions` and `anmin man`: generated from the command-line definition, so they
//! must know every subcommand and flag.

use std::io::Write;
use std::process::Stdio;

mod common;

use common::{anmin, files_in, scratch, stdout_of};

const SUBCOMMANDS: [&str; 9] = [
    "train",
    "predict",
    "compare",
    "summarize",
    "gen",
    "render",
    "denoise",
    "completions",
    "man",
];

#[test]
fn completion_scripts_know_every_subcommand_and_flag() {
    for (shell, marker) in [
        ("bash", "complete -F _anmin"),
        ("zsh", "#compdef anmin"),
        ("fish", "complete -c anmin"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[anmin]"),
    ] {
        let script = stdout_of(anmin().args(["completions", shell]));
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for name in SUBCOMMANDS.iter().chain(&["--val-frac", "--target-prefix"]) {
            let name = if shell == "fish" {
                name.trim_start_matches("--")
            } else {
                name
            };
            assert!(script.contains(name), "{shell} script lacks {name}");
        }
    }
    anmin()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid value 'tcsh'"));
}

/// The bash script is valid bash (when bash is installed).
#[test]
fn bash_completion_parses() {
    let script = stdout_of(anmin().args(["completions", "bash"]));
    let Ok(mut bash) = std::process::Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
    else {
        eprintln!("bash not found; syntax not checked");
        return;
    };
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n rejects the script");
}

#[test]
fn man_page_is_roff_with_the_subcommands() {
    let page = stdout_of(anmin().args(["man"]));
    assert!(page.contains("\n.TH anmin 1 "), "no title macro: {page}");
    assert!(
        page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
        "{page}"
    );
    for name in SUBCOMMANDS {
        assert!(
            page.contains(&format!("anmin\\-{name}")),
            "page lacks {name}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = scratch();
    let listed = stdout_of(anmin().args(["man", "--dir", dir.path().to_str().unwrap()]));
    let files = files_in(dir.path());
    for name in ["anmin.1", "anmin-train.1", "anmin-gen-sdf.1", "anmin-man.1"] {
        assert!(files.iter().any(|f| f == name), "{name} not in {files:?}");
    }
    assert_eq!(listed.lines().count(), files.len(), "{listed}");
    let train = std::fs::read_to_string(dir.path().join("anmin-train.1")).unwrap();
    assert!(train.contains(".TH anmin-train 1"), "{train}");
    // Flags of the subcommand, with their help text.
    assert!(train.contains("\\-\\-val\\-frac"), "{train}");
    assert!(train.contains("early stopping"), "{train}");
}
