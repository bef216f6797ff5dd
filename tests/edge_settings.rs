//! Every numeric setting of `anmin train`, driven from the settings' description over the
//! edges of its type (0, 1, max, max − 1, 2^32, 2^63, negative, NaN and infinities where a
//! float is taken): never a signal, a panic or a hang, always exit 0 or a usage error (2).
//! Runs are tiny (2 hidden units, one step, at most a second of training) except in the
//! setting under test.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anmin::choice::Choice;
use anmin::settings::catalogue;
use anmin::settings::{Domain, Owner, budget_name, takers};

mod common;

use common::{scratch, write};

/// The edge values of a setting's type, as the command line spells them.
fn edges(domain: &Domain) -> Vec<String> {
    let mut values: Vec<String> = ["0", "1", "-1", "4294967296", "9223372036854775808"]
        .map(String::from)
        .to_vec();
    match domain {
        Domain::Count { max, .. } => {
            values.push(max.to_string());
            values.push((max - 1).to_string());
            values.push(u64::MAX.to_string());
            values.push("18446744073709551621".into());
        }
        Domain::Real(i) | Domain::RealOr(i, _) => {
            values.extend(
                [
                    "NaN",
                    "inf",
                    "-inf",
                    "1e308",
                    "1.7976931348623157e308",
                    "5e-324",
                ]
                .map(String::from),
            );
            if i.high.is_finite() {
                values.push(format!("{:e}", i.high));
                values.push(format!("{:e}", i.high - f64::EPSILON));
            }
        }
        Domain::Choice(_) | Domain::Switch => {}
    }
    values
}

/// Runs `anmin` with `args`, killing it after `limit`; its exit code (None: a signal) and
/// stderr.
fn run(args: &[String], limit: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("anmin"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("hung: anmin {}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_numeric_setting_of_train_at_the_edges_of_its_type() {
    let dir = scratch();
    let mut csv = String::from("a,b,y\n");
    for i in 0..30 {
        let (a, b) = ((i as f64 * 0.7).sin(), (i as f64 * 0.3).cos());
        csv.push_str(&format!("{a},{b},{}\n", a * b + a));
    }
    let data = write(dir.path(), "tiny.csv", csv.as_bytes());
    let data = data.to_str().unwrap().to_owned();
    let start = Instant::now();
    let mut runs = 0;
    let mut seen = std::collections::BTreeSet::new();
    for setting in catalogue::all() {
        let numeric = matches!(
            setting.domain,
            Domain::Count { .. } | Domain::Real(_) | Domain::RealOr(..)
        );
        if !setting.flag || !numeric || !seen.insert(setting.name) {
            continue;
        }
        let optimizer = setting
            .owner
            .optimizer()
            .or_else(|| takers(setting.name).first().copied())
            .unwrap_or(anmin::optim::OptimizerKind::Anmin);
        for value in edges(&setting.domain) {
            let mut args: Vec<String> = ["train", "--quiet", "--data", &data]
                .map(String::from)
                .to_vec();
            args.extend(["--optimizer".into(), optimizer.name().into()]);
            let budget = budget_name(optimizer);
            if setting.name != "hidden" {
                args.extend(["--hidden".into(), "2".into()]);
            }
            if !matches!(setting.owner, Owner::Steps(_)) {
                args.extend([format!("--{budget}"), "1".into()]);
            }
            if setting.name != "max_seconds" {
                args.extend(["--max-seconds".into(), "1".into()]);
            }
            args.push(format!("{}={value}", setting.flag_name()));
            let (code, err) = run(&args, Duration::from_secs(20));
            runs += 1;
            assert!(
                matches!(code, Some(0 | 2)) && !err.contains("panicked"),
                "anmin {}: exit {code:?}\n{err}",
                args.join(" ")
            );
        }
    }
    assert!(runs > 100, "{runs} runs");
    eprintln!("{runs} runs in {:?}", start.elapsed());
}
