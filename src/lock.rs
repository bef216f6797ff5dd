//! A lock file beside an output that one process at a time may write (`compare --out`):
//! created with `create_new`, holding the owner's process id, removed when dropped. A lock
//! whose process is no longer alive (a run killed before it could remove it) is stale and
//! taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// `output` with `.lock` appended: `c.json.lock`.
pub fn lock_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Lock {
    /// Takes the lock of `output` (named by `flag` in messages), or fails naming the process
    /// that holds it.
    pub fn take(flag: &str, output: &Path) -> Result<Lock> {
        let path = lock_path(output);
        // Twice at most: once more after removing a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let written = writeln!(file, "{}", std::process::id());
                    let lock = Lock { path };
                    written.map_err(|e| {
                        Error::usage(format!(
                            "{}: cannot write the lock: {e}",
                            lock.path.display()
                        ))
                    })?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if alive(pid) => {
                            return Err(Error::usage(format!(
                                "{flag} {} is being written by another anmin (process {pid}, \
                                 lock file {}): wait for it to finish, or remove the lock file \
                                 if that process is not an anmin",
                                output.display(),
                                path.display()
                            )));
                        }
                        _ => {
                            eprintln!(
                                "note: {} was left by a run that no longer exists; taking it over",
                                path.display()
                            );
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => {
                    return Err(Error::usage(format!(
                        "{}: cannot create the lock file: {e}",
                        path.display()
                    )));
                }
            }
        }
        Err(Error::usage(format!(
            "{}: another run took the lock at the same time; try again",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` is running (`/proc` on Linux, `kill -0` elsewhere); unknown counts
/// as alive, so that a lock is never taken from a live run.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map_or(true, |s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_a_stale_one_taken_over_and_dropping_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.json");
        let lock = Lock::take("--out", &out).unwrap();
        let path = lock_path(&out);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        let e = Lock::take("--out", &out).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("being written by another anmin"),
            "{e}"
        );
        drop(lock);
        assert!(!path.exists());
        // A process id that cannot be running (above the kernel's maximum).
        std::fs::write(&path, "4194305\n").unwrap();
        let lock = Lock::take("--out", &out).unwrap();
        drop(lock);
        assert!(!path.exists());
    }
}
