//! From named settings to an optimizer: each optimizer's defaults come from its config's
//! `Default`, and a setting is accepted for an optimizer exactly when its config has a field
//! of that name. Front ends (the command line's flags, the Python estimator's parameters,
//! a JSON request) pass the settings they were given; nothing here keeps a table of them.

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::optim::baselines::minibatch::BatchConfig;
use crate::optim::{OptimizerKind, OptimizerSpec};

/// Settings that belong to the run, not to an optimizer: the penalty (`ridge`, possibly
/// `auto`), the seed of the split, and the step budget.
const RUN_LEVEL: [&str; 2] = ["ridge", "seed"];

/// Safeguarded ANMIN's own settings, which the plain iteration does not take.
const SAFEGUARD_ONLY: [&str; 2] = ["step", "refine"];

/// The name of `kind`'s step budget: `iters` (ANMIN iterations, LBFGS outer iterations) or
/// `epochs` (SGD, Adam).
pub fn budget_name(kind: OptimizerKind) -> &'static str {
    match kind {
        OptimizerKind::Sgd | OptimizerKind::Adam => "epochs",
        _ => "iters",
    }
}

/// The settings `kind` takes, with their defaults: its config's fields, less those the run
/// owns.
pub fn defaults(kind: OptimizerKind) -> Map<String, Value> {
    let Value::Object(mut map) = serde_json::to_value(kind.default_spec()).expect("serializes")
    else {
        unreachable!("optimizer configs serialize as objects")
    };
    for key in RUN_LEVEL {
        map.remove(key);
    }
    if kind == OptimizerKind::AnminPlain {
        for key in SAFEGUARD_ONLY {
            map.remove(key);
        }
    }
    map
}

/// Whether `kind` takes the setting `name` (its step budget included).
pub fn takes(kind: OptimizerKind, name: &str) -> bool {
    name == budget_name(kind) || defaults(kind).contains_key(name)
}

/// The optimizers that take the setting `name`.
pub fn takers(name: &str) -> Vec<OptimizerKind> {
    OptimizerKind::ALL
        .iter()
        .copied()
        .filter(|&k| takes(k, name))
        .collect()
}

/// `kind` with `given` settings over its defaults. A setting `kind` does not take is an error
/// naming it; so is a value of the wrong type or out of range (from the config's `check`).
pub fn resolve(kind: OptimizerKind, given: &Map<String, Value>) -> Result<OptimizerSpec, String> {
    let mut map = defaults(kind);
    for (name, value) in given {
        if name == budget_name(kind) {
            continue;
        }
        if !map.contains_key(name) {
            return Err(not_taken(kind, name));
        }
        if kind == OptimizerKind::AnminPlain && name == "variant" && value != "plain" {
            return Err(
                "optimizer anmin-plain is the plain variant; it does not take variant \
                 safeguarded"
                    .into(),
            );
        }
        map.insert(name.clone(), value.clone());
    }
    let value = Value::Object(map);
    let bad = |e: serde_json::Error| format!("a setting of {}: {e}", kind.name());
    let spec = match kind {
        OptimizerKind::Anmin | OptimizerKind::AnminPlain => {
            OptimizerSpec::Anmin(serde_json::from_value(value).map_err(bad)?)
        }
        OptimizerKind::Sgd => OptimizerSpec::Sgd {
            rule: serde_json::from_value(value.clone()).map_err(bad)?,
            batch: batch(value).map_err(bad)?,
        },
        OptimizerKind::Adam => OptimizerSpec::Adam {
            rule: serde_json::from_value(value.clone()).map_err(bad)?,
            batch: batch(value).map_err(bad)?,
        },
        OptimizerKind::Lbfgs => OptimizerSpec::Lbfgs(serde_json::from_value(value).map_err(bad)?),
        OptimizerKind::Lm => OptimizerSpec::Lm(serde_json::from_value(value).map_err(bad)?),
    };
    spec.check()?;
    Ok(spec)
}

fn batch(value: Value) -> Result<BatchConfig, serde_json::Error> {
    serde_json::from_value(value)
}

/// The message for a setting `kind` does not take.
pub fn not_taken(kind: OptimizerKind, name: &str) -> String {
    let takers: Vec<&str> = takers(name).into_iter().map(|k| k.name()).collect();
    if takers.is_empty() {
        format!("{name} is not a setting of any optimizer")
    } else {
        format!(
            "{name} does not apply to optimizer {} (it applies to {})",
            kind.name(),
            takers.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn settings_apply_where_their_config_declares_them() {
        assert_eq!(
            takers("lr"),
            [
                OptimizerKind::Sgd,
                OptimizerKind::Adam,
                OptimizerKind::Lbfgs
            ]
        );
        assert_eq!(takers("momentum"), [OptimizerKind::Sgd]);
        assert_eq!(
            takers("iters"),
            [
                OptimizerKind::Anmin,
                OptimizerKind::AnminPlain,
                OptimizerKind::Lbfgs,
                OptimizerKind::Lm
            ]
        );
        assert_eq!(takers("mu_max"), [OptimizerKind::Lm]);
        assert_eq!(takers("epochs"), [OptimizerKind::Sgd, OptimizerKind::Adam]);
        assert_eq!(takers("step"), [OptimizerKind::Anmin]);
        assert_eq!(
            takers("batch_size"),
            [OptimizerKind::Sgd, OptimizerKind::Adam]
        );
        assert!(takers("ridge").is_empty() && takers("seed").is_empty());
    }

    #[test]
    fn given_settings_override_the_defaults_and_bad_ones_are_named() {
        let spec = resolve(
            OptimizerKind::Adam,
            &given(json!({"lr": 0.01, "batch_size": 8})),
        )
        .unwrap();
        match spec {
            OptimizerSpec::Adam { rule, batch } => {
                assert_eq!(rule.lr, 0.01);
                assert_eq!(rule.beta2, 0.999);
                assert_eq!(batch.batch_size, 8);
            }
            _ => panic!("not adam"),
        }
        let e = resolve(OptimizerKind::Anmin, &given(json!({"lr": 0.01}))).unwrap_err();
        assert_eq!(
            e,
            "lr does not apply to optimizer anmin (it applies to sgd, adam, lbfgs)"
        );
        let e = resolve(OptimizerKind::Sgd, &given(json!({"lr": -1.0}))).unwrap_err();
        assert_eq!(e, "lr must be positive");
        let e = resolve(OptimizerKind::Sgd, &given(json!({"momentum": 1.5}))).unwrap_err();
        assert_eq!(e, "momentum must be in [0, 1)");
        let e = resolve(OptimizerKind::Anmin, &given(json!({"a_solver": "qr"}))).unwrap_err();
        assert!(e.contains("a_solver") || e.contains("qr"), "{e}");
        let e = resolve(
            OptimizerKind::AnminPlain,
            &given(json!({"variant": "safeguarded"})),
        );
        assert!(e.is_err());
    }
}
