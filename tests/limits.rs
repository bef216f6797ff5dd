//! Hostile sizes, files and paths (issue 25): a run that would not fit in memory is refused
//! before anything is allocated, threads beyond the cores are capped, endless or binary input
//! streams fail at once with bounded memory, and no output overwrites an input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{anmin, scratch, small_csv, write};

/// The first 40 rows of the shared wine data.
fn small_file(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/winequality-red.csv"),
    )
    .expect("shared data");
    let head: Vec<&str> = text.lines().take(41).collect();
    write(dir, "small.csv", (head.join("\n") + "\n").as_bytes())
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_run_that_would_not_fit_in_memory_is_refused_naming_hidden_and_the_bytes() {
    let dir = scratch();
    let data = small_file(dir.path());
    let start = Instant::now();
    let out = anmin()
        .args([
            "train", "--quiet", "--iters", "1", "--hidden", "1000000", "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("hidden 1000000 on 40 rows × 11 features") && err.contains("e13 bytes"),
        "{err}"
    );
    assert!(err.contains("--max-memory"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5), "refused up front");
}

#[test]
fn max_memory_lowers_the_limit_and_names_itself() {
    let dir = scratch();
    let data = small_file(dir.path());
    let out = anmin()
        .args(["train", "--quiet", "--iters", "1", "--hidden", "4000"])
        .args(["--max-memory", "1e8", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("hidden 4000 on 40 rows") && err.contains("1.0e8 bytes"),
        "{err}"
    );
    assert!(
        err.contains("the limit set by max_memory (--max-memory)"),
        "{err}"
    );
    // A small run fits the same limit.
    anmin()
        .args(["train", "--quiet", "--iters", "1", "--hidden", "8"])
        .args(["--max-memory", "1e8", "--data"])
        .arg(&data)
        .assert()
        .success();
    // And LM's normal equations count: (h(d+2)+1)² words.
    let out = anmin()
        .args([
            "train",
            "--quiet",
            "--optimizer",
            "lm",
            "--iters",
            "1",
            "--hidden",
            "1000",
        ])
        .args(["--max-memory", "1e9", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

#[test]
fn gen_teacher_sizes_are_checked_against_the_memory_too() {
    let dir = scratch();
    let out = anmin()
        .args([
            "gen",
            "teacher",
            "--rows",
            "10",
            "--features",
            "3",
            "--hidden",
            "1000000",
        ])
        .args(["--max-memory", "1e6", "--out"])
        .arg(dir.path().join("t.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("would need 3.2e7 bytes"),
        "{}",
        stderr_of(&out)
    );
    assert!(!dir.path().join("t.csv").exists());
}

#[test]
fn threads_beyond_the_cores_are_capped_with_a_note() {
    let dir = scratch();
    let data = write(dir.path(), "s.csv", small_csv().as_bytes());
    let start = Instant::now();
    let out = anmin()
        .args([
            "train",
            "--quiet",
            "--iters",
            "2",
            "--hidden",
            "8",
            "--threads",
            "1024",
        ])
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 1024 {
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!("--threads 1024 is more than the {cores} core")),
            "{err}"
        );
    }
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Waits for `child` at most `limit`; kills it and fails if it is still running.
fn wait_within(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_stops_a_run_with_many_threads_promptly() {
    let dir = scratch();
    let data = small_file(dir.path());
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("anmin"))
        .args([
            "train",
            "--quiet",
            "--optimizer",
            "adam",
            "--epochs",
            "100000000",
        ])
        .args(["--hidden", "64", "--threads", "1024", "--data"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
}

/// Runs `anmin` with `args` under a 100 MB address-space limit (`ulimit -v`), failing the
/// test if it runs longer than `limit`; its exit code and stderr.
fn bounded_run(args: &[&str], limit: Duration) -> (Option<i32>, String) {
    bounded_run_in(100_000, args, limit)
}

/// [`bounded_run`] with a limit of `kib` KiB.
fn bounded_run_in(kib: u64, args: &[&str], limit: Duration) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin("anmin");
    let script = format!("ulimit -v {kib}; exec \"$0\" \"$@\"");
    let start = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
    (out.status.code(), stderr_of(&out))
}

#[cfg(target_os = "linux")]
#[test]
fn dev_zero_fails_at_once_with_bounded_memory() {
    let (code, err) = bounded_run(&["train", "--data", "/dev/zero"], Duration::from_secs(1));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero:1:1: NUL byte"), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_gzip_of_a_gigabyte_of_zeros_fails_with_bounded_memory() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let dir = scratch();
    // 1024 gzip members of 1 MiB of zeros each: 1 GiB decompressed, 1 MB on disk.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    let path = write(dir.path(), "zeros.csv.gz", &member.repeat(1024));
    let path = path.to_str().unwrap();
    let (code, err) = bounded_run(&["train", "--data", path], Duration::from_secs(2));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("NUL byte"), "{err}");
}

#[test]
fn an_endless_line_fails_at_the_line_limit() {
    let dir = scratch();
    let path = write(dir.path(), "a.csv", &vec![b'a'; 17 << 20]);
    let (code, err) = bounded_run(
        &["train", "--data", path.to_str().unwrap()],
        Duration::from_secs(5),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("a.csv:1: line longer than 16777216 bytes"),
        "{err}"
    );
}

#[test]
fn a_decompression_bomb_of_valid_rows_is_stopped() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let dir = scratch();
    // 64 MiB of "0\n" rows, compressed about 1000 times.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(b"a\n").unwrap();
    encoder.write_all(&b"0\n".repeat(1 << 19)).unwrap();
    let member = encoder.finish().unwrap();
    let path = write(dir.path(), "bomb.csv.gz", &member.repeat(64));
    let out = anmin()
        .args(["train", "--quiet", "--data"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("more than 500 times its size"),
        "{}",
        stderr_of(&out)
    );
}

/// Runs `anmin` and expects a usage error naming `flag` as the output that is an input;
/// `input` must be unchanged.
fn refused_as_input(args: &[&std::ffi::OsStr], input: &Path, flag: &str) {
    let before = std::fs::read(input).unwrap();
    let out = anmin().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains(flag) && err.contains("is the input file of"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(input).unwrap(),
        before,
        "the input is untouched"
    );
}

#[test]
fn train_refuses_to_write_over_its_input() {
    let dir = scratch();
    let data = write(dir.path(), "s.csv", small_csv().as_bytes());
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&data, &link).unwrap();
    let other = dir.path().join("sub").join("..").join("s.csv");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for (flag, out) in [
        ("--out", &data),
        ("--save-model", &link),
        ("--save-initial-model", &other),
    ] {
        let args = [
            "train".as_ref(),
            "--quiet".as_ref(),
            "--iters".as_ref(),
            "1".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
            flag.as_ref(),
            out.as_os_str(),
        ];
        refused_as_input(&args, &data, flag);
    }
    #[cfg(unix)]
    {
        let symlink = dir.path().join("sym.csv");
        std::os::unix::fs::symlink(&data, &symlink).unwrap();
        let args = [
            "train".as_ref(),
            "--data".as_ref(),
            symlink.as_os_str(),
            "--out".as_ref(),
            data.as_os_str(),
        ];
        refused_as_input(&args, &data, "--out");
    }
}

#[test]
fn predict_refuses_to_write_over_its_data_or_model() {
    let dir = scratch();
    let data = write(dir.path(), "s.csv", small_csv().as_bytes());
    let model = dir.path().join("m.json");
    anmin()
        .args([
            "train", "--quiet", "--iters", "1", "--hidden", "4", "--data",
        ])
        .arg(&data)
        .arg("--save-model")
        .arg(&model)
        .assert()
        .success();
    for input in [&data, &model] {
        let args = [
            "predict".as_ref(),
            "--model".as_ref(),
            model.as_os_str(),
            "--data".as_ref(),
            data.as_os_str(),
            "--out".as_ref(),
            input.as_os_str(),
        ];
        refused_as_input(&args, input, "--out");
    }
}

#[test]
fn compare_takes_a_lock_on_its_output_and_takes_over_a_stale_one() {
    let dir = scratch();
    let data = write(dir.path(), "s.csv", small_csv().as_bytes());
    let out = dir.path().join("c.json");
    let lock = dir.path().join("c.json.lock");
    // A long comparison holds the lock...
    let mut first = Command::new(assert_cmd::cargo::cargo_bin("anmin"))
        .args([
            "compare",
            "--quiet",
            "--optimizers",
            "adam",
            "--epochs",
            "100000000",
        ])
        .args(["--hidden", "4", "--splits", "2", "--jobs", "1", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !lock.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no lock file");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The same comparison again, resumed.
    let again = || {
        anmin()
            .args([
                "compare",
                "--quiet",
                "--optimizers",
                "adam",
                "--epochs",
                "1",
            ])
            .args(["--hidden", "4", "--splits", "2", "--resume", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    // ...so a second one on the same output fails at once, naming it.
    let second = again();
    assert_eq!(second.status.code(), Some(2));
    let err = stderr_of(&second);
    assert!(
        err.contains("being written by another anmin") && err.contains("c.json.lock"),
        "{err}"
    );
    // Killed outright, the first leaves its lock behind: stale, and taken over.
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(lock.exists());
    let third = again();
    assert!(third.status.success(), "{}", stderr_of(&third));
    assert!(stderr_of(&third).contains("no longer exists; taking it over"));
    assert!(!lock.exists(), "removed at the end");
    assert!(out.exists());
}

#[test]
fn a_signal_stops_a_run_within_seconds_even_inside_a_long_step() {
    // Conjugate gradients asked for an unreachable tolerance: one A-step of 1000 iterations
    // over 1599 rows × 24000 weights takes far longer than the grace period.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/winequality-red.csv");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("anmin"))
        .args(["train", "--quiet", "--hidden", "2000", "--a-solver", "cg"])
        .args([
            "--cg-tol",
            "1e-300",
            "--iters",
            "5",
            "--threads",
            "1",
            "--data",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let start = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("did not end within 2 s"), "{err}");
}

#[test]
fn a_quote_never_closed_fails_at_the_record_limit() {
    let dir = scratch();
    // Short lines, but from line 3 on one quoted field that never ends.
    let mut text = b"a,b\n1,2\n\"".to_vec();
    text.extend(b"x\n".repeat(9 << 20));
    let path = write(dir.path(), "q.csv", &text);
    // The record grows to the limit (16 MiB) in the parser's buffers, which double (about
    // 160 MB resident at the peak; the address space reserved is larger).
    let (code, err) = bounded_run_in(
        1_000_000,
        &["train", "--data", path.to_str().unwrap()],
        Duration::from_secs(5),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("q.csv:3: line longer than 16777216 bytes"),
        "{err}"
    );
    assert!(err.contains("a quote never closed"), "{err}");
}
