//! From named settings to an optimizer. Which optimizer takes which setting, its range and
//! its default are the settings' description ([`crate::settings`]); front ends (the command
//! line's flags, the Python estimator's parameters, a JSON request) pass the settings they
//! were given by name.

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::optim::anmin::Variant;
use crate::optim::{OptimizerKind, OptimizerSpec};
use crate::settings::{self, Owner};

pub use crate::settings::{budget_name, not_taken, takers, takes};

/// The optimizer `given` settings make of `kind`: `anmin` with `variant` plain is
/// `anmin-plain`, which takes none of the safeguarded iteration's settings.
pub fn effective_kind(kind: OptimizerKind, given: &Map<String, Value>) -> OptimizerKind {
    let plain = given.get("variant").and_then(Value::as_str) == Some(Variant::Plain.const_name());
    if kind == OptimizerKind::Anmin && plain {
        OptimizerKind::AnminPlain
    } else {
        kind
    }
}

/// `kind` with `given` settings (its step budget included) over its defaults: the optimizer
/// and the steps, if given. A setting `kind` does not take is an error naming it; so is a
/// value outside its declared range.
pub fn resolve(
    kind: OptimizerKind,
    given: &Map<String, Value>,
) -> Result<(OptimizerSpec, Option<usize>), String> {
    let asked = kind;
    let kind = effective_kind(kind, given);
    let Value::Object(mut map) = serde_json::to_value(kind.default_spec()).expect("serializes")
    else {
        unreachable!("optimizer configs serialize as objects")
    };
    let mut steps = None;
    for (name, value) in given {
        // `anmin` with variant plain: the variant has made the kind.
        if name == "variant" && kind != asked {
            continue;
        }
        let setting = settings::of(kind, name).ok_or_else(|| not_taken(kind, name))?;
        setting.check(value)?;
        if setting.owner == Owner::Steps(kind) {
            steps = value.as_u64().map(|s| s as usize);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    let value = Value::Object(map);
    let bad = |e: serde_json::Error| format!("a setting of {}: {e}", kind.name());
    let spec = match kind {
        OptimizerKind::Anmin | OptimizerKind::AnminPlain => {
            OptimizerSpec::Anmin(serde_json::from_value(value).map_err(bad)?)
        }
        OptimizerKind::Sgd => OptimizerSpec::Sgd {
            rule: serde_json::from_value(value.clone()).map_err(bad)?,
            batch: serde_json::from_value(value).map_err(bad)?,
        },
        OptimizerKind::Adam => OptimizerSpec::Adam {
            rule: serde_json::from_value(value.clone()).map_err(bad)?,
            batch: serde_json::from_value(value).map_err(bad)?,
        },
        OptimizerKind::Lbfgs => OptimizerSpec::Lbfgs(serde_json::from_value(value).map_err(bad)?),
        OptimizerKind::Lm => OptimizerSpec::Lm(serde_json::from_value(value).map_err(bad)?),
    };
    settings::check_spec(&spec)?;
    Ok((spec, steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn settings_apply_where_they_are_declared() {
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
        assert_eq!(takers("variant"), [OptimizerKind::Anmin]);
        assert_eq!(
            takers("batch_size"),
            [OptimizerKind::Sgd, OptimizerKind::Adam]
        );
        assert!(takers("ridge").is_empty() && takers("seed").is_empty());
    }

    #[test]
    fn given_settings_override_the_defaults_and_bad_ones_are_named() {
        let (spec, steps) = resolve(
            OptimizerKind::Adam,
            &given(json!({"lr": 0.01, "batch_size": 8, "epochs": 7})),
        )
        .unwrap();
        assert_eq!(steps, Some(7));
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
        assert_eq!(e, "lr must be a positive number");
        let e = resolve(OptimizerKind::Sgd, &given(json!({"momentum": 1.5}))).unwrap_err();
        assert_eq!(e, "momentum must be a number at least 0 and below 1");
        let e = resolve(OptimizerKind::Anmin, &given(json!({"a_solver": "qr"}))).unwrap_err();
        assert!(e.starts_with("a_solver must be one of auto"), "{e}");
        let e = resolve(OptimizerKind::Lm, &given(json!({"mu_inc": 1.0}))).unwrap_err();
        assert_eq!(e, "mu_inc must be a number above 1");
        let e = resolve(OptimizerKind::Lm, &given(json!({"mu_max": 1e-4}))).unwrap_err();
        assert_eq!(e, "mu_max (0.0001) must be at least mu (0.001)");
        // The plain variant is anmin-plain, whichever way it is asked for.
        let e = resolve(
            OptimizerKind::AnminPlain,
            &given(json!({"variant": "safeguarded"})),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "variant does not apply to optimizer anmin-plain (it applies to anmin)"
        );
        let e = resolve(
            OptimizerKind::Anmin,
            &given(json!({"variant": "plain", "step": "search"})),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "step does not apply to optimizer anmin-plain (it applies to anmin)"
        );
        let (spec, _) = resolve(OptimizerKind::Anmin, &given(json!({"variant": "plain"}))).unwrap();
        assert_eq!(spec.kind(), OptimizerKind::AnminPlain);
    }
}
