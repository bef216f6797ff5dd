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

/// The user documents whose relative links must resolve: README.md, CHANGELOG.md and the
/// markdown files directly in docs/.
fn user_documents(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            f.as_str() == "README.md"
                || f.as_str() == "CHANGELOG.md"
                || (f.starts_with("docs/") && f.ends_with(".md") && f[5..].find('/').is_none())
        })
        .cloned()
        .collect()
}

/// The lines of a markdown document outside fenced code blocks, with their numbers (from 1).
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m => fence = None,
            (None, None) => lines.push((i + 1, line)),
            _ => {}
        }
    }
    lines
}

/// A line with its inline code spans (`...`) removed, so that code is not read as links.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, spaces to '-', every other character that is
/// not a letter, digit, '-' or '_' dropped.
fn github_slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown document's headings; a repeated slug gets "-1", "-2", … as on
/// GitHub.
fn heading_anchors(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    for (_, line) in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let title = line[hashes..].trim().trim_end_matches('#').trim();
        let slug = github_slug(title);
        let mut anchor = slug.clone();
        let mut n = 0;
        while anchors.contains(&anchor) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
        anchors.push(anchor);
    }
    anchors
}

/// The targets of the inline links and images (`[text](target)`, `![alt](target)`) and of the
/// reference definitions (`[label]: target`) of a document, with their line numbers.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (number, line) in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find([')', ' ']).unwrap_or(rest.len());
            targets.push((number, rest[..end].trim_matches(['<', '>']).to_owned()));
            rest = &rest[end..];
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]:")
        {
            if let Some(target) = trimmed[close + 2..].split_whitespace().next() {
                targets.push((number, target.to_owned()));
            }
        }
    }
    targets
}

/// `base` (a folder inside the repository, "" for its root) joined with a relative path,
/// with "." and ".." resolved; None when the path leaves the repository.
fn join_relative(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[test]
fn relative_links_in_the_user_documents_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(files) = tracked_files(root) else {
        eprintln!("not a git checkout; nothing to check");
        return;
    };
    let documents = user_documents(&files);
    assert!(
        documents.iter().any(|d| d == "README.md"),
        "README.md is not tracked"
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in &documents {
        let text = std::fs::read_to_string(root.join(document)).unwrap();
        let folder = document.rsplit_once('/').map_or("", |(folder, _)| folder);
        for (line, target) in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let place = format!("{document}:{line}: {target}");
            let resolved = if path.is_empty() {
                Some(document.clone())
            } else {
                join_relative(folder, path)
            };
            let Some(resolved) = resolved else {
                broken.push(format!("{place}: leaves the repository"));
                continue;
            };
            checked += 1;
            let full = root.join(&resolved);
            if !full.exists() {
                broken.push(format!("{place}: {resolved} does not exist"));
                continue;
            }
            let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
                continue;
            };
            if !resolved.ends_with(".md") {
                continue; // anchors into source files name lines, not headings
            }
            let target_text = std::fs::read_to_string(&full).unwrap();
            if !heading_anchors(&target_text).iter().any(|a| a == anchor) {
                broken.push(format!(
                    "{place}: no heading of {resolved} has the anchor #{anchor}"
                ));
            }
        }
    }
    assert!(checked > 0, "no relative links found in {documents:?}");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn github_slugs_follow_the_rule() {
    assert_eq!(
        github_slug("Choosing the penalty (`--ridge auto`)"),
        "choosing-the-penalty---ridge-auto"
    );
    assert_eq!(github_slug("`anmin train`"), "anmin-train");
    assert_eq!(
        github_slug("Depth per second (`scripts/depth.sh`)"),
        "depth-per-second-scriptsdepthsh"
    );
    assert_eq!(
        github_slug("Time to Adam's optimum"),
        "time-to-adams-optimum"
    );
    assert_eq!(
        github_slug("snake_case and 100 splits"),
        "snake_case-and-100-splits"
    );
    assert_eq!(
        heading_anchors("# A\n## A\n```\n# not a heading\n```\n## A\n"),
        ["a", "a-1", "a-2"]
    );
    assert_eq!(
        link_targets("[x](a.md#b) `[y](code.md)` ![i](p.svg \"t\")\n[r]: ref.md\n"),
        [
            (1, "a.md#b".to_owned()),
            (1, "p.svg".to_owned()),
            (2, "ref.md".to_owned())
        ]
    );
    assert_eq!(
        join_relative("docs", "../CHANGELOG.md").as_deref(),
        Some("CHANGELOG.md")
    );
    assert_eq!(join_relative("", "../x.md"), None);
}
