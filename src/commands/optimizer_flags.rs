//! From optimizer flags to a [`TrainRequest`]. A flag applies to an optimizer exactly when
//! that optimizer's config declares a setting of the flag's name (see
//! [`crate::train::settings`]); a flag that applies to none of the chosen optimizers is
//! rejected rather than ignored. No table of flags is kept here.

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::cli::{NetArgs, OptimArgs, SplitArgs};
use crate::error::{Error, Result};
use crate::optim::OptimizerKind;
use crate::train::{NetworkSettings, SplitSettings, TrainRequest, settings};

/// Flags every optimizer takes: they set the run, not one optimizer.
const RUN_FLAGS: [&str; 4] = ["ridge", "max_seconds", "bag", "auto"];

/// Every optimizer flag by setting name (`a_solver` for `--a-solver`), null when not given.
fn flag_map(args: &OptimArgs) -> Map<String, Value> {
    let Value::Object(map) = serde_json::to_value(args).expect("flags serialize") else {
        unreachable!("flags serialize as an object")
    };
    map
}

/// The optimizer flags that were given, by setting name.
fn given(args: &OptimArgs) -> Map<String, Value> {
    flag_map(args)
        .into_iter()
        .filter(|(name, value)| !value.is_null() && !RUN_FLAGS.contains(&name.as_str()))
        .collect()
}

/// `--a-solver` for `a_solver`.
fn flag(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

pub fn kind_names(kinds: &[OptimizerKind]) -> String {
    kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
}

/// Rejects flags that apply to none of `kinds`.
pub fn check_applicable(args: &OptimArgs, kinds: &[OptimizerKind]) -> Result<()> {
    for name in given(args).keys() {
        if !kinds.iter().any(|&k| settings::takes(k, name)) {
            let takers: Vec<&str> = settings::takers(name).iter().map(|k| k.name()).collect();
            return Err(Error::usage(format!(
                "{} does not apply to --optimizer {} (it applies to {})",
                flag(name),
                kind_names(kinds),
                takers.join(", ")
            )));
        }
    }
    if kinds.contains(&OptimizerKind::AnminPlain)
        && !kinds.contains(&OptimizerKind::Anmin)
        && args.variant == Some(crate::optim::anmin::Variant::Safeguarded)
    {
        return Err(Error::usage(
            "--optimizer anmin-plain is the plain variant; it does not take --variant safeguarded",
        ));
    }
    Ok(())
}

/// `args` with every flag that `kind` does not take removed, so that a run of `kind` inside a
/// comparison records exactly the settings `anmin train --optimizer kind` would. `--variant`
/// belongs to `anmin` alone (`anmin-plain` is its plain variant).
pub fn restrict(args: &OptimArgs, kind: OptimizerKind) -> OptimArgs {
    let mut map = flag_map(args);
    for (name, value) in map.iter_mut() {
        let variant_elsewhere = name == "variant" && kind != OptimizerKind::Anmin;
        let kept = RUN_FLAGS.contains(&name.as_str()) || settings::takes(kind, name);
        if !kept || variant_elsewhere {
            *value = Value::Null;
        }
    }
    serde_json::from_value(Value::Object(map)).expect("flags deserialize")
}

/// The run of optimizer `kind` that the flags describe; flags `kind` does not take are
/// ignored here (check them with [`check_applicable`]).
pub fn request(
    kind: OptimizerKind,
    args: &OptimArgs,
    (split, net): (&SplitArgs, &NetArgs),
) -> Result<TrainRequest> {
    let given: Map<String, Value> = given(args)
        .into_iter()
        .filter(|(name, _)| settings::takes(kind, name))
        .collect();
    let request = TrainRequest {
        split: SplitSettings {
            test_frac: split.test_frac,
            seed: split.seed,
            val_frac: split.val_frac,
            clip: split.clip,
        },
        network: NetworkSettings {
            hidden: net.hidden,
            alpha: net.alpha,
            init: net.init.unwrap_or_default(),
        },
        max_seconds: args.max_seconds,
        ..TrainRequest::with_settings(kind, &given)?
    };
    let request = request.with_preset(args.auto, args.ridge, args.bag);
    request.check()?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn train_args(flags: &[&str]) -> crate::cli::TrainArgs {
        let argv = ["anmin", "train"].iter().chain(flags);
        match Cli::parse_from(argv).command {
            crate::cli::Command::Train(args) => *args,
            _ => unreachable!(),
        }
    }

    /// Every `[default: …]` the help of an optimizer flag states is the default in effect.
    #[test]
    fn the_help_states_the_defaults_in_effect() {
        use clap::CommandFactory;
        let command = Cli::command();
        let train = command.find_subcommand("train").unwrap();
        let mut checked = 0;
        for arg in train.get_arguments() {
            let Some(help) = arg.get_help().map(|h| h.to_string()) else {
                continue;
            };
            let name = arg.get_id().as_str().to_owned();
            for kind in OptimizerKind::ALL {
                let label = kind.name().to_uppercase();
                let Some(stated) = stated_default(&help, &label) else {
                    continue;
                };
                let actual = if name == settings::budget_name(*kind) {
                    Value::from(kind.default_steps())
                } else {
                    match settings::defaults(*kind).get(&name) {
                        Some(v) => v.clone(),
                        None => continue,
                    }
                };
                assert_eq!(
                    normalize(&stated),
                    normalize(&actual.to_string().replace('"', "")),
                    "--{name} for {label}: help says {stated}, default is {actual}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} defaults found in the help");
    }

    /// The value the help states for `kind` (`[default: 1e-3]` when it names no optimizer or
    /// only this one; `SGD/ADAM [default: …]` where each optimizer is named).
    fn stated_default(help: &str, kind: &str) -> Option<String> {
        let defaults: Vec<(usize, &str)> = help.match_indices("[default: ").collect();
        match defaults.as_slice() {
            [] => None,
            [(i, _)] => {
                let rest = &help[i + 10..];
                let value = &rest[..rest.find(']')?];
                let named_others = ["ANMIN", "SGD", "ADAM", "LBFGS"]
                    .iter()
                    .filter(|k| help.contains(*k))
                    .count();
                let value = value.split(':').next()?.trim();
                (named_others == 0 || help.contains(kind)).then(|| value.to_owned())
            }
            many => many.iter().find_map(|(i, _)| {
                let before = &help[..*i];
                let label = before.rfind([',', ':', '('])?;
                before[label..].contains(kind).then(|| {
                    let rest = &help[i + 10..];
                    rest[..rest.find(']').unwrap()].trim().to_owned()
                })
            }),
        }
    }

    fn normalize(v: &str) -> String {
        match v.parse::<f64>() {
            Ok(x) => format!("{x:e}"),
            Err(_) => v.to_lowercase(),
        }
    }

    #[test]
    fn flags_apply_where_the_configs_declare_them() {
        let args = train_args(&["--lr", "0.01"]);
        let e = check_applicable(&args.optim, &[OptimizerKind::Anmin]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--lr does not apply to --optimizer anmin (it applies to sgd, adam, lbfgs)"
        );
        check_applicable(&args.optim, &[OptimizerKind::Anmin, OptimizerKind::Adam]).unwrap();
        let restricted = restrict(&args.optim, OptimizerKind::Anmin);
        assert_eq!(restricted.lr, None);
        assert_eq!(restrict(&args.optim, OptimizerKind::Sgd).lr, Some(0.01));
    }
}
