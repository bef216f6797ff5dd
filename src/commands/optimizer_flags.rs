//! From optimizer flags to a resolved [`OptimizerSpec`]: each optimizer's defaults, and a clear
//! error for a flag that does not apply rather than silently ignoring it.

use crate::cli::{OptimArgs, OptimizerKind, Ridge};
use crate::error::{Error, Result};
use crate::optim::adam::AdamConfig;
use crate::optim::anmin::{AnminConfig, Variant};
use crate::optim::lbfgs::LbfgsConfig;
use crate::optim::minibatch::BatchConfig;
use crate::optim::sgd::SgdConfig;
use crate::optim::{Limits, OptimizerSpec};

use OptimizerKind::{Adam, Anmin, AnminPlain, Lbfgs, Sgd};

/// Each optimizer-specific flag, whether it was given, and the optimizers that take it.
fn given_flags(args: &OptimArgs) -> Vec<(&'static str, bool, &'static [OptimizerKind])> {
    vec![
        ("--iters", args.iters.is_some(), &[Anmin, AnminPlain, Lbfgs]),
        ("--epochs", args.epochs.is_some(), &[Sgd, Adam]),
        ("--variant", args.variant.is_some(), &[Anmin, AnminPlain]),
        ("--step", args.step.is_some(), &[Anmin]),
        ("--refine", args.refine.is_some(), &[Anmin]),
        ("--tol", args.tol.is_some(), &[Anmin, AnminPlain]),
        ("--a-solver", args.a_solver.is_some(), &[Anmin, AnminPlain]),
        ("--cg-tol", args.cg_tol.is_some(), &[Anmin, AnminPlain]),
        (
            "--a-sample-factor",
            args.a_sample_factor.is_some(),
            &[Anmin, AnminPlain],
        ),
        ("--a-sample", args.a_sample.is_some(), &[Anmin, AnminPlain]),
        ("--lr", args.lr.is_some(), &[Sgd, Adam, Lbfgs]),
        ("--momentum", args.momentum.is_some(), &[Sgd]),
        ("--batch-size", args.batch_size.is_some(), &[Sgd, Adam]),
        ("--history", args.history.is_some(), &[Lbfgs]),
    ]
}

pub fn kind_name(kind: OptimizerKind) -> &'static str {
    match kind {
        Anmin => "anmin",
        AnminPlain => "anmin-plain",
        Sgd => "sgd",
        Adam => "adam",
        Lbfgs => "lbfgs",
    }
}

/// `args` with every flag that `kind` does not take removed, so that a run of `kind` inside a
/// comparison records exactly the settings `anmin train --optimizer kind` would.
pub fn restrict(args: &OptimArgs, kind: OptimizerKind) -> OptimArgs {
    let takes = |flag: &str| {
        given_flags(args)
            .iter()
            .any(|(f, _, takers)| *f == flag && takers.contains(&kind))
    };
    OptimArgs {
        iters: args.iters.filter(|_| takes("--iters")),
        epochs: args.epochs.filter(|_| takes("--epochs")),
        variant: args.variant.filter(|_| takes("--variant") && kind == Anmin),
        step: args.step.filter(|_| takes("--step")),
        refine: args.refine.filter(|_| takes("--refine")),
        tol: args.tol.filter(|_| takes("--tol")),
        a_solver: args.a_solver.filter(|_| takes("--a-solver")),
        cg_tol: args.cg_tol.filter(|_| takes("--cg-tol")),
        a_sample_factor: args.a_sample_factor.filter(|_| takes("--a-sample-factor")),
        a_sample: args.a_sample.filter(|_| takes("--a-sample")),
        ridge: args.ridge,
        lr: args.lr.filter(|_| takes("--lr")),
        momentum: args.momentum.filter(|_| takes("--momentum")),
        batch_size: args.batch_size.filter(|_| takes("--batch-size")),
        history: args.history.filter(|_| takes("--history")),
        max_seconds: args.max_seconds,
    }
}

pub fn kind_names(kinds: &[OptimizerKind]) -> String {
    kinds
        .iter()
        .map(|&k| kind_name(k))
        .collect::<Vec<_>>()
        .join(",")
}

/// Rejects flags that apply to none of `kinds`.
pub fn check_applicable(args: &OptimArgs, kinds: &[OptimizerKind]) -> Result<()> {
    for (flag, given, takers) in given_flags(args) {
        if given && !kinds.iter().any(|k| takers.contains(k)) {
            let chosen: Vec<&str> = kinds.iter().map(|&k| kind_name(k)).collect();
            let takers: Vec<&str> = takers.iter().map(|&k| kind_name(k)).collect();
            return Err(Error::usage(format!(
                "{flag} does not apply to --optimizer {} (it applies to {})",
                chosen.join(","),
                takers.join(", ")
            )));
        }
    }
    if kinds.contains(&AnminPlain)
        && !kinds.contains(&Anmin)
        && args.variant == Some(Variant::Safeguarded)
    {
        return Err(Error::usage(
            "--optimizer anmin-plain is the plain variant; it does not take --variant safeguarded",
        ));
    }
    Ok(())
}

/// The spec and limits of optimizer `kind` under `args`; flags `kind` does not take are
/// ignored here (check them with [`check_applicable`]).
pub fn resolve(kind: OptimizerKind, args: &OptimArgs, seed: u64) -> (OptimizerSpec, Limits) {
    // `auto` starts from no penalty; the selection sets each λ of its path.
    let ridge = args.ridge.and_then(Ridge::fixed).unwrap_or(0.0);
    let batch = BatchConfig {
        batch_size: args.batch_size.unwrap_or(32),
        ridge,
        seed,
        freeze_hidden: false,
    };
    let epochs = args.epochs.unwrap_or(300);
    let (spec, max_iters) = match kind {
        Anmin | AnminPlain => {
            let defaults = AnminConfig::default();
            let variant = if kind == AnminPlain {
                Variant::Plain
            } else {
                args.variant.unwrap_or(defaults.variant)
            };
            let cfg = AnminConfig {
                variant,
                step: args.step.unwrap_or(defaults.step),
                refine: args.refine.unwrap_or(defaults.refine),
                tol: args.tol.unwrap_or(defaults.tol),
                ridge,
                a_solver: args.a_solver.unwrap_or(defaults.a_solver),
                cg_tol: args.cg_tol.unwrap_or(defaults.cg_tol),
                a_sample_factor: args.a_sample_factor.unwrap_or(defaults.a_sample_factor),
                a_sample: args.a_sample.unwrap_or(defaults.a_sample),
                seed,
                ..defaults
            };
            (OptimizerSpec::Anmin(cfg), args.iters.unwrap_or(30))
        }
        Sgd => (
            OptimizerSpec::Sgd {
                rule: SgdConfig {
                    lr: args.lr.unwrap_or(1e-3),
                    momentum: args.momentum.unwrap_or(0.9),
                },
                batch,
            },
            epochs,
        ),
        Adam => (
            OptimizerSpec::Adam {
                rule: AdamConfig::with_lr(args.lr.unwrap_or(1e-3)),
                batch,
            },
            epochs,
        ),
        Lbfgs => (
            OptimizerSpec::Lbfgs(LbfgsConfig::new(
                args.lr.unwrap_or(1.0),
                args.history.unwrap_or(10),
                ridge,
            )),
            args.iters.unwrap_or(100),
        ),
    };
    let limits = Limits {
        max_iters,
        max_seconds: args.max_seconds,
        interrupt: None,
        patience: None,
    };
    (spec, limits)
}
