//! Memory: what a run would need, estimated with checked arithmetic before anything is
//! allocated, and what the machine has. A run that would not fit is refused with a usage
//! error naming the setting and the bytes (see [`check_run`]), instead of failing an
//! allocation midway (an abort that takes a Python interpreter with it).
//!
//! The estimate counts the large buffers only (activations, copies of the data, networks,
//! the optimizer's systems); it errs low, so that no run that fits is refused.

use crate::error::{Error, Result};
use crate::optim::anmin::{ASolver, ProblemSize};
use crate::optim::{OptimizerKind, OptimizerSpec};

/// Bytes of an f64.
const F64: u64 = 8;

/// The sizes of a run: all rows (training, validation and test together), encoded input
/// features, outputs, hidden units and bagged members.
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    pub rows: usize,
    pub features: usize,
    pub outputs: usize,
    pub hidden: usize,
    pub bag: usize,
}

/// `a · b · …` in u64, None on overflow.
fn product(factors: &[usize]) -> Option<u64> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(u64::try_from(f).ok()?))
}

fn sum(terms: &[Option<u64>]) -> Option<u64> {
    terms.iter().try_fold(0u64, |acc, t| acc.checked_add((*t)?))
}

/// The bytes a run of `spec` on `shape` needs at least; None when the count overflows u64
/// (far beyond any machine).
pub fn run_bytes(shape: RunShape, spec: &OptimizerSpec) -> Option<u64> {
    let RunShape {
        rows: n,
        features: d,
        outputs: k,
        hidden: h,
        bag,
    } = shape;
    let d1 = d.checked_add(1)?;
    // Hidden weights h(d+1), and the whole network's parameters.
    let p = product(&[h, d1])? as usize;
    let params = sum(&[Some(p as u64), product(&[k, h]), Some(k as u64)])?;
    let params = usize::try_from(params).ok()?;
    let optimizer = match spec.kind() {
        OptimizerKind::Anmin | OptimizerKind::AnminPlain => anmin_bytes(spec, n, h, d1, k, p)?,
        // The normal equations of every parameter, and their factor.
        OptimizerKind::Lm => product(&[2, params, params])?,
        OptimizerKind::Lbfgs => {
            let history = match spec {
                OptimizerSpec::Lbfgs(c) => c.history,
                _ => 10,
            };
            product(&[2, history, params])?
        }
        OptimizerKind::Sgd | OptimizerKind::Adam => product(&[4, params])?,
    };
    let words = sum(&[
        // Copies of the inputs: scaled, split.
        product(&[2, n, d1]),
        // Pre-activations, activations and their slopes.
        product(&[3, n, h]),
        // Predictions and residuals.
        product(&[4, n, k]),
        // The B-step's h-square normal equations, a thread's partial sums and the factor.
        product(&[3, h, h]),
        // Networks: current, initial, best, trials and directions; the bag's members.
        product(&[8, params]),
        product(&[bag, params]),
        Some(optimizer),
    ])?;
    words.checked_mul(F64)
}

/// Words of ANMIN's A-step for the solver `auto` resolves to (or the one given).
fn anmin_bytes(
    spec: &OptimizerSpec,
    n: usize,
    h: usize,
    d1: usize,
    k: usize,
    p: usize,
) -> Option<u64> {
    let (solver, factor) = match spec {
        OptimizerSpec::Anmin(c) => (c.a_solver, c.a_sample_factor),
        _ => (ASolver::Auto, 8),
    };
    let sample_rows = factor.checked_mul(p)?;
    let size = ProblemSize {
        rows: n,
        hidden: h,
        d_aug: d1,
        outputs: k,
    };
    // `resolve` multiplies sizes itself: only ask it where they are far from overflowing.
    let small = product(&[p, p]).is_some_and(|pp| pp < 1 << 60)
        && product(&[n, k]).is_some_and(|nk| nk < 1 << 30);
    let solver = if small {
        solver.resolve(size, sample_rows)
    } else if solver == ASolver::Auto {
        ASolver::Cg
    } else {
        solver
    };
    match solver {
        // The (n·k)-square system, its factor and the n-square kernel.
        ASolver::Dual => sum(&[product(&[2, n, k, n, k]), product(&[n, n])]),
        // Vectors of p, and the n × h products of each iteration.
        ASolver::Cg => sum(&[product(&[8, p]), product(&[2, n, h])]),
        // The p-square system, its factor and the pair form's moments (about p²/4).
        ASolver::Cholesky | ASolver::Sampled | ASolver::Auto => {
            product(&[2, p, p]).and_then(|s| s.checked_add(product(&[p, p])? / 4))
        }
    }
}

/// The memory a run may use: `max_memory` when given (bytes), else what the machine has
/// available; None when neither is known.
pub fn budget(max_memory: Option<f64>) -> Option<(f64, &'static str)> {
    match max_memory {
        Some(m) => Some((m, "the limit set by max_memory (--max-memory) is")),
        None => available().map(|a| (a as f64, "this machine has available")),
    }
}

/// Bytes of memory available: Linux's MemAvailable, or less when a cgroup limits this
/// process. None where neither can be read.
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let mem = meminfo.as_deref().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib.saturating_mul(1024))
    });
    let read =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(read("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    match (mem, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// A byte count as people read it: `3.2e13 bytes`.
pub fn bytes_phrase(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) if b < 100_000 => format!("{b} bytes"),
        Some(b) => format!("{:.1e} bytes", b as f64),
        None => "more than 1.8e19 bytes".into(),
    }
}

/// Refuses a run of `spec` on `shape` that would need more memory than the budget.
pub fn check_run(shape: RunShape, spec: &OptimizerSpec, max_memory: Option<f64>) -> Result<()> {
    let needed = run_bytes(shape, spec);
    let Some((budget, what)) = budget(max_memory) else {
        return Ok(());
    };
    if needed.is_some_and(|b| (b as f64) <= budget) {
        return Ok(());
    }
    let bag = if shape.bag > 1 {
        format!(", bag {}", shape.bag)
    } else {
        String::new()
    };
    Err(Error::usage(format!(
        "hidden {} on {} rows × {} features ({} output{}, optimizer {}{bag}) would need {}; \
         {} {}. Use fewer hidden units or rows, or set max_memory (--max-memory BYTES) \
         if the estimate is too cautious",
        shape.hidden,
        shape.rows,
        shape.features,
        shape.outputs,
        if shape.outputs == 1 { "" } else { "s" },
        spec.name(),
        bytes_phrase(needed),
        what,
        bytes_phrase(Some(budget as u64)),
    )))
}

/// Refuses `gen teacher` sizes whose teacher network and CSV would not fit.
pub fn check_teacher(
    rows: usize,
    features: usize,
    hidden: usize,
    max_memory: Option<f64>,
) -> Result<()> {
    let needed = sum(&[
        product(&[hidden, features.saturating_add(1), F64 as usize]),
        product(&[rows, features.saturating_add(1), 10]),
    ]);
    let Some((budget, what)) = budget(max_memory) else {
        return Ok(());
    };
    if needed.is_some_and(|b| (b as f64) <= budget) {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--hidden {hidden} --features {features} --rows {rows} would need {}; {what} {}",
        bytes_phrase(needed),
        bytes_phrase(Some(budget as u64)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(rows: usize, features: usize, hidden: usize) -> RunShape {
        RunShape {
            rows,
            features,
            outputs: 1,
            hidden,
            bag: 1,
        }
    }

    #[test]
    fn a_small_run_needs_little_and_a_huge_one_overflows_to_none() {
        let spec = OptimizerKind::Anmin.default_spec();
        let small = run_bytes(shape(1000, 10, 64), &spec).unwrap();
        assert!(small > 1000 * 64 * 8 && small < 100 << 20, "{small}");
        assert_eq!(run_bytes(shape(usize::MAX, 10, 64), &spec), None);
        assert_eq!(run_bytes(shape(40, usize::MAX, 2), &spec), None);
        let lm = run_bytes(shape(40, 7, 1_000_000), &OptimizerKind::Lm.default_spec()).unwrap();
        assert!(lm > 1e15 as u64, "{lm}");
    }

    #[test]
    fn a_run_beyond_the_limit_is_refused_naming_hidden_and_the_bytes() {
        let spec = OptimizerKind::Lm.default_spec();
        let e = check_run(shape(40, 7, 100_000), &spec, Some(1e9)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.starts_with("hidden 100000 on 40 rows × 7 features"),
            "{text}"
        );
        assert!(
            text.contains("1.3e13 bytes") && text.contains("1.0e9 bytes"),
            "{text}"
        );
        assert!(check_run(shape(40, 7, 8), &spec, Some(1e9)).is_ok());
        assert!(check_teacher(10, 3, 1_000_000, Some(1e6)).is_err());
        assert!(check_teacher(10, 3, 10, Some(1e6)).is_ok());
    }

    #[test]
    fn bytes_read_in_scientific_notation() {
        assert_eq!(bytes_phrase(Some(512)), "512 bytes");
        assert_eq!(bytes_phrase(Some(32_000_000_000_000)), "3.2e13 bytes");
        assert_eq!(bytes_phrase(None), "more than 1.8e19 bytes");
    }
}
