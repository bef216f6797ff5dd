use serde_json::json;

use super::*;

#[test]
fn every_declaration_of_a_name_agrees_on_its_type_range_and_names() {
    for s in catalogue::all() {
        for other in declarations(s.name) {
            assert_eq!(s.domain, other.domain, "{}", s.name);
            assert_eq!(s.python, other.python, "{}", s.name);
            assert_eq!(s.aliases, other.aliases, "{}", s.name);
            assert_eq!(s.flag, other.flag, "{}", s.name);
        }
    }
}

#[test]
fn each_optimizer_declares_exactly_its_config_fields_with_their_defaults() {
    for &kind in OptimizerKind::ALL {
        let Value::Object(spec) = serde_json::to_value(kind.default_spec()).unwrap() else {
            panic!()
        };
        let mut declared = defaults(kind);
        // The run sets these two from its own settings (a penalty not given is none).
        if spec.contains_key("seed") {
            declared.insert("seed".into(), get("seed").unwrap().default.to_json());
        }
        if spec.contains_key("ridge") {
            declared.insert("ridge".into(), json!(crate::train::Ridge::default()));
        }
        if kind == OptimizerKind::AnminPlain {
            // The plain variant is the kind itself, not a setting.
            declared.insert("variant".into(), json!("plain"));
            for name in ["step", "refine"] {
                declared.insert(name.into(), spec[name].clone());
            }
        }
        assert_eq!(
            Value::Object(declared),
            Value::Object(spec),
            "{}",
            kind.name()
        );
        assert_eq!(
            of_optimizer(kind)
                .find(|s| s.owner == Owner::Steps(kind))
                .unwrap()
                .default
                .to_json(),
            json!(kind.default_steps())
        );
        check_spec(&kind.default_spec()).unwrap();
    }
}

#[test]
fn values_out_of_range_get_one_message_naming_the_setting() {
    let hidden = setting("hidden");
    assert_eq!(hidden.parse("64"), Ok(json!(64)));
    for bad in [
        "0",
        "-1",
        "2.5",
        "9223372036854775808",
        "18446744073709551621",
        "x",
    ] {
        assert_eq!(
            hidden.parse(bad),
            Err("hidden must be a whole number from 1 to 1000000".into()),
            "{bad}"
        );
    }
    assert_eq!(hidden.check(&json!(0)), hidden.parse("0").map(drop));
    let ridge = setting("ridge");
    assert_eq!(ridge.parse("AUTO"), Ok(json!("auto")));
    assert_eq!(
        ridge.parse("-1"),
        Err("ridge must be a non-negative number or \"auto\"".into())
    );
    let cases = [
        (
            "alpha",
            "1",
            "alpha must be a number at least 0 and below 1",
        ),
        ("mu_dec", "0", "mu_dec must be a number above 0 and below 1"),
        ("mu_inc", "1", "mu_inc must be a number above 1"),
        ("lr", "nan", "lr must be a positive number"),
        ("lr", "inf", "lr must be a positive number"),
        (
            "test_frac",
            "1",
            "test_frac must be a number at least 0 and below 1",
        ),
    ];
    for (name, text, message) in cases {
        assert_eq!(
            setting(name).parse(text),
            Err(message.into()),
            "{name} {text}"
        );
    }
}

#[test]
fn the_flag_help_names_each_default() {
    assert_eq!(
        flag_help("iters"),
        "anmin, anmin-plain: Iterations [default: 30]; lbfgs: Outer iterations [default: 100]; \
         lm: Iterations [default: 100]"
    );
    assert_eq!(flag_help("momentum"), "SGD momentum [default: 0.9]");
    assert!(flag_help("mu_max").ends_with("[default: 1e10]"));
}

#[test]
fn the_description_lists_every_declaration() {
    let Value::Array(all) = describe() else {
        panic!()
    };
    assert_eq!(all.len(), catalogue::all().len());
    let lr: Vec<&Value> = all.iter().filter(|s| s["name"] == "lr").collect();
    assert_eq!(lr.len(), 3);
    assert_eq!(lr[0]["aliases"], json!(["learning_rate"]));
    assert_eq!(lr[0]["low_open"], json!(true));
}
