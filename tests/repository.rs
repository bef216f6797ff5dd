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

/// Top-level folders whose contents exist on one machine only: users' homes, a work area,
/// temporary folders. Kept as names, not paths, so that this file holds none itself.
const MACHINE_ROOTS: [&str; 6] = ["work", "home", "root", "Users", "tmp", "private/var"];

/// The path prefixes that mark an absolute path of a machine: "/{root}/" for each of
/// [`MACHINE_ROOTS`], and this machine's own home, temporary folder and the folder the
/// checkout sits in, wherever they are.
fn machine_paths(root: &Path) -> Vec<String> {
    let mut prefixes: Vec<String> = MACHINE_ROOTS.iter().map(|r| format!("/{r}/")).collect();
    let own = [
        std::env::var_os("HOME").map(std::path::PathBuf::from),
        Some(std::env::temp_dir()),
        root.parent().map(Path::to_path_buf),
    ];
    for dir in own.into_iter().flatten() {
        // The file system's root alone would match every absolute path, including those
        // the documents name on purpose (/usr/bin/time).
        if dir.parent().is_some() {
            let dir = dir.to_string_lossy().trim_end_matches('/').to_owned();
            prefixes.push(format!("{dir}/"));
        }
    }
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

#[test]
fn tracked_files_hold_no_absolute_machine_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(files) = tracked_files(root) else {
        eprintln!("not a git checkout; nothing to check");
        return;
    };
    let patterns = machine_paths(root);
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // binary (images)
        };
        for (i, line) in text.lines().enumerate() {
            for pattern in &patterns {
                // A path starts the string, or follows a quote, space, backtick or "=".
                let starts_path = line.match_indices(pattern.as_str()).any(|(at, _)| {
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
