//! Output files, checked before any work starts: a path whose folder does not exist or does
//! not accept new files fails at once (exit code 2) instead of after a long run.

use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a command writes an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Written whole to a temporary file in the same folder, then renamed over the path.
    Replace,
    /// Appended to in place (compare's runs file).
    Append,
}

/// One output of a command: the flag that names it (for messages) and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub flag: &'static str,
    pub path: PathBuf,
    pub mode: Mode,
}

impl Output {
    pub fn replace(flag: &'static str, path: &Path) -> Output {
        Output {
            flag,
            path: path.to_path_buf(),
            mode: Mode::Replace,
        }
    }

    pub fn append(flag: &'static str, path: &Path) -> Output {
        Output {
            flag,
            path: path.to_path_buf(),
            mode: Mode::Append,
        }
    }
}

/// The folder a file `path` is created in ("." for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Checks that every output can be written, and that no two outputs are the same file (the
/// later write would silently replace the earlier one). Leaves nothing behind.
pub fn check(outputs: &[Output]) -> Result<()> {
    for (i, output) in outputs.iter().enumerate() {
        if let Some(earlier) = outputs[..i]
            .iter()
            .find(|o| same_file(&o.path, &output.path))
        {
            return Err(Error::usage(format!(
                "{} and {} both name {}; give each output its own file",
                earlier.flag,
                output.flag,
                output.path.display()
            )));
        }
        check_one(output).map_err(|reason| Error::Unwritable {
            flag: output.flag,
            path: output.path.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// Checks that no output is one of the inputs (`inputs`: flag and path): the same path, or
/// the same file through a link (device and inode). Writing it would destroy the input, and
/// with it the data.
pub fn check_against_inputs(outputs: &[Output], inputs: &[(&'static str, PathBuf)]) -> Result<()> {
    for output in outputs {
        if let Some((flag, input)) = inputs
            .iter()
            .find(|(_, input)| same_file(input, &output.path) || same_inode(input, &output.path))
        {
            return Err(Error::usage(format!(
                "{} {} is the input file of {flag} ({}): writing it would destroy the input; \
                 give the output another name",
                output.flag,
                output.path.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Whether two existing paths are one file (hard or symbolic links included).
fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// Two paths that name one file: equal as given, or with equal canonical folders and names.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    let canonical = |p: &Path| {
        let dir = std::fs::canonicalize(folder_of(p)).ok()?;
        Some(dir.join(p.file_name()?))
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

fn check_one(output: &Output) -> std::result::Result<(), String> {
    let path = &output.path;
    if path.is_dir() {
        return Err("is a folder, not a file".into());
    }
    if path.file_name().is_none() {
        return Err("names no file".into());
    }
    if output.mode == Mode::Append && path.exists() {
        // Opening for appending writes nothing.
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| format!("cannot append to it: {e}"));
    }
    let dir = folder_of(path);
    if !dir.exists() {
        return Err(format!("folder {} does not exist", dir.display()));
    }
    if !dir.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    // A probe file, removed when dropped: creating one is the only reliable test of
    // permissions, read-only file systems and quotas.
    tempfile::Builder::new()
        .prefix(".anmin-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot create a file in folder {}: {}",
                dir.display(),
                without_temporary_path(e)
            )
        })
}

/// `e` without the ` at path "<temporary file>"` that tempfile adds to its errors, so that a
/// message names the user's path only.
pub fn without_temporary_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.split_once(" at path ") {
        Some((reason, _)) => io::Error::new(e.kind(), reason.to_owned()),
        None => e,
    }
}

/// Runs every write (all of them, even after a failure, so that whatever can be saved is)
/// and returns the first error.
pub fn first_error(results: impl IntoIterator<Item = Result<()>>) -> Result<()> {
    let results: Vec<Result<()>> = results.into_iter().collect();
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename,
/// so that readers never see a partial file and an existing file survives a failure. Errors
/// name `path`, never the temporary file.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    use std::io::Write;
    let err = |source| crate::Error::Write {
        path: path.to_path_buf(),
        source: without_temporary_path(source),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".anmin-").suffix(".tmp");
    // Temporary files are private (0600); an output file gets the usual mode (0666 less the
    // umask), as if created directly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(folder_of(path)).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Serializes `value` as pretty JSON and writes it atomically.
pub fn write_json<T: Serialize>(path: &std::path::Path, value: &T) -> crate::Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("report types serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn writable_outputs_pass_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("runs.jsonl");
        std::fs::write(&existing, "x\n").unwrap();
        check(&[
            Output::replace("--out", &dir.path().join("run.json")),
            Output::append("runs file", &existing),
            Output::append("runs file", &dir.path().join("new.jsonl")),
        ])
        .unwrap();
        assert_eq!(files_in(dir.path()), ["runs.jsonl"]);
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "x\n");
    }

    #[test]
    fn a_missing_folder_or_a_folder_as_file_is_refused_naming_the_flag_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/run.json");
        let e = check(&[Output::replace("--out", &missing)]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(text.starts_with("--out "), "{text}");
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(text.contains("does not exist"), "{text}");

        let e = check(&[Output::replace("--plot", dir.path())]).unwrap_err();
        assert!(e.to_string().contains("is a folder, not a file"), "{e}");

        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = check(&[Output::replace("--out", &file.join("run.json"))]).unwrap_err();
        assert!(e.to_string().contains("is not a folder"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_is_refused_unless_root() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        // Root writes anywhere; then there is nothing to refuse.
        let writable = tempfile::tempfile_in(&locked).is_ok();
        let result = check(&[Output::replace("--out", &locked.join("run.json"))]);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        if writable {
            assert!(result.is_ok());
        } else {
            let text = result.unwrap_err().to_string();
            assert!(text.contains("cannot create a file in folder"), "{text}");
            assert!(!text.contains(".anmin-probe"), "{text}");
        }
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x.json");
        let b = dir.path().join(".").join("x.json");
        let e = check(&[
            Output::replace("--out", &a),
            Output::replace("--save-model", &b),
        ])
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--out and --save-model both name"),
            "{e}"
        );
    }

    #[test]
    fn temporary_paths_are_cut_from_errors() {
        let e = tempfile::Builder::new()
            .prefix(".anmin-")
            .tempfile_in("/no/such/folder")
            .unwrap_err();
        assert!(e.to_string().contains(".anmin-"), "tempfile names it: {e}");
        let plain = without_temporary_path(e);
        assert!(!plain.to_string().contains(".anmin-"), "{plain}");
        assert_eq!(plain.kind(), io::ErrorKind::NotFound);
        let other = io::Error::other("disk full");
        assert_eq!(without_temporary_path(other).to_string(), "disk full");
    }

    #[test]
    fn first_error_runs_every_write() {
        let mut ran = 0;
        let writes = (1..=3).map(|i| {
            ran += 1;
            if i == 1 {
                Ok(())
            } else {
                Err(Error::usage(format!("failed {i}")))
            }
        });
        let e = first_error(writes).unwrap_err();
        assert_eq!(e.to_string(), "failed 2");
        assert_eq!(ran, 3, "the writes after a failure still ran");
    }

    #[test]
    fn a_failed_write_names_the_path_given_not_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("run.json");
        let e = write_atomic(&path, b"{}").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}: cannot write: ", path.display())),
            "{text}"
        );
        assert!(!text.contains(".anmin-"), "{text}");
        assert_eq!(e.exit_code(), 1);
    }
}
