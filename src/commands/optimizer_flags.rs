//! From optimizer flags to a [`TrainRequest`]. A flag applies to an optimizer exactly when the
//! settings' description declares it for that optimizer ([`crate::settings`]); a flag that
//! applies to none of the chosen optimizers is rejected rather than ignored. No table of
//! flags is kept here.

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::cli::{DataArgs, NetArgs, OptimArgs, SplitArgs};
use crate::error::{Error, Result};
use crate::optim::OptimizerKind;
use crate::settings;
use crate::train::{Given, NetworkSettings, SplitSettings, TrainRequest};

/// The optimizer flags of one command line, by setting name (`a_solver` for `--a-solver`),
/// read once.
pub struct GivenFlags {
    /// Every flag, null when not given.
    all: Map<String, Value>,
}

impl GivenFlags {
    pub fn of(args: &OptimArgs) -> GivenFlags {
        let Value::Object(all) = serde_json::to_value(args).expect("flags serialize") else {
            unreachable!("flags serialize as an object")
        };
        GivenFlags { all }
    }

    /// The optimizers' settings that were given (not the run's: `ridge`, `max_seconds`).
    fn given(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.all
            .iter()
            .filter(|(name, value)| !value.is_null() && !settings::is_run_level(name))
    }

    /// Rejects flags that apply to none of `kinds`.
    pub fn check_applicable(&self, kinds: &[OptimizerKind]) -> Result<()> {
        for (name, _) in self.given() {
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
        Ok(())
    }

    /// The given settings `kind` takes.
    pub fn settings_of(&self, kind: OptimizerKind) -> Map<String, Value> {
        self.given()
            .filter(|(name, _)| settings::takes(kind, name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// The flags as a run of `kind` records them in its config: every flag, null where not
    /// given or where `kind` does not take it (exactly what `anmin train --optimizer kind`
    /// with the same flags records).
    pub fn record(&self, kind: OptimizerKind) -> Map<String, Value> {
        self.all
            .iter()
            .map(|(name, value)| {
                let kept = settings::is_run_level(name) || settings::takes(kind, name);
                let value = if kept { value.clone() } else { Value::Null };
                (name.clone(), value)
            })
            .collect()
    }
}

/// `--a-solver` for `a_solver`.
fn flag(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

pub fn kind_names(kinds: &[OptimizerKind]) -> String {
    kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
}

/// The run of optimizer `kind` that the flags describe, not yet checked; flags `kind` does
/// not take are left out (check them with [`GivenFlags::check_applicable`]).
pub fn request(
    kind: OptimizerKind,
    (flags, args): (&GivenFlags, &OptimArgs),
    (split, net, data): (&SplitArgs, &NetArgs, &DataArgs),
) -> Result<TrainRequest> {
    Ok(TrainRequest {
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
        preprocess: data.preprocess(),
        ..TrainRequest::with_settings(kind, &flags.settings_of(kind))?
    }
    .with_preset(
        args.auto,
        Given {
            ridge: args.ridge,
            bag: args.bag,
            scaling: data.scaling,
        },
    ))
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

    /// Every optimizer flag's help states each default in effect, as the description
    /// declares it.
    #[test]
    fn the_help_states_the_defaults_in_effect() {
        use clap::CommandFactory;
        let command = Cli::command();
        let train = command.find_subcommand("train").unwrap();
        let mut checked = 0;
        for kind in OptimizerKind::ALL {
            let spec = serde_json::to_value(kind.default_spec()).unwrap();
            for s in settings::of_optimizer(*kind).filter(|s| s.flag) {
                let arg = train
                    .get_arguments()
                    .find(|a| a.get_id().as_str() == s.name)
                    .unwrap_or_else(|| panic!("no flag for {}", s.name));
                let help = arg.get_help().unwrap().to_string();
                let actual = if s.owner == settings::Owner::Steps(*kind) {
                    Value::from(kind.default_steps())
                } else if s.name == "variant" {
                    continue;
                } else {
                    spec[s.name].clone()
                };
                assert_eq!(s.default.to_json(), actual, "{} of {}", s.name, kind.name());
                assert!(help.contains("[default: "), "--{}: {help}", s.name);
                checked += 1;
            }
        }
        assert!(checked >= 30, "only {checked} defaults checked");
    }

    #[test]
    fn flags_apply_where_the_settings_are_declared() {
        let args = train_args(&["--lr", "0.01"]);
        let flags = GivenFlags::of(&args.optim);
        let e = flags.check_applicable(&[OptimizerKind::Anmin]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--lr does not apply to --optimizer anmin (it applies to sgd, adam, lbfgs)"
        );
        flags
            .check_applicable(&[OptimizerKind::Anmin, OptimizerKind::Adam])
            .unwrap();
        assert_eq!(flags.record(OptimizerKind::Anmin)["lr"], Value::Null);
        assert_eq!(flags.record(OptimizerKind::Sgd)["lr"], 0.01);
        assert_eq!(flags.record(OptimizerKind::Sgd)["iters"], Value::Null);
    }
}
