//! The repository itself: no tracked file holds an absolute path of the machine it was made
//! on, so that the documents and published results read the same in every clone.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The tracked files, or None outside a git checkout (e.g. a packaged crate).
fn tracked_files(root: &Path) -> Option<Vec<String>> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8(output.stdout).expect("UTF-8 file names");
    Some(
        text.split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Folders that exist on one machine only: users' homes, this project's work area, temporary
/// folders.
const MACHINE_PATHS: [&str; 6] = [
    "/work/",
    "/home/",
    "/root/",
    "/Users/",
    "/tmp/",
    "/private/var/",
];

#[test]
fn tracked_files_hold_no_absolute_machine_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(files) = tracked_files(root) else {
        eprintln!("not a git checkout; nothing to check");
        return;
    };
    // This file names the patterns it looks for.
    let this_file = "tests/repository.rs";
    let mut found = Vec::new();
    for file in files.iter().filter(|f| *f != this_file) {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // binary (images)
        };
        for (i, line) in text.lines().enumerate() {
            for pattern in MACHINE_PATHS {
                // A path starts the string, or follows a quote, space, backtick or "=".
                let starts_path = line.match_indices(pattern).any(|(at, _)| {
                    at == 0 || matches!(line.as_bytes()[at - 1], b'"' | b'\'' | b' ' | b'`' | b'=')
                });
                if starts_path {
                    found.push(format!("{file}:{}: {line}", i + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "absolute machine paths:\n{}",
        found.join("\n")
    );
}

#[test]
fn published_results_name_their_files_relative_to_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = root.join("docs/results");
    let Ok(entries) = std::fs::read_dir(&results) else {
        eprintln!("no docs/results here (a packaged crate); nothing to check");
        return;
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for key in ["data", "dataset", "out", "plot"] {
            if let Some(value) = report["config"][key].as_str() {
                assert!(
                    !Path::new(value).is_absolute(),
                    "{}: config.{key} is {value}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no result files read in {}", results.display());
}
