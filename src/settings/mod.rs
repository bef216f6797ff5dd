//! Every run setting, declared once: where it belongs (the split, the network, the run, an
//! optimizer's config or its step budget, the execution), its type and range, its default
//! and one line of help ([`catalogue`]). Everything else follows from the declaration:
//!
//! - the checks: [`check_spec`] checks an optimizer's config, and `TrainRequest::resolve`
//!   checks a run, each value against its declared range with the one message
//!   [`Setting::check`] writes ("hidden must be a whole number from 1 to 1000000");
//! - the command line: each flag's value parser ([`Setting::parse`], the same message) and
//!   its help with the `[default: …]` ([`flag_help`]);
//! - which optimizer takes which setting ([`takes`], [`takers`]), for the command line, JSON
//!   requests and Python alike;
//! - Python: `_native.settings()` is [`describe`], from which `ANMINRegressor` takes its
//!   parameters, their defaults, applicability and the mapping of `max_iter`; its range
//!   checks call [`Setting::parse`] too.
//!
//! **To add a setting:** add the field to its owner (an optimizer's config and its
//! `DEFAULT`, or `SplitSettings`/`NetworkSettings`/`TrainRequest`); declare it in
//! [`catalogue::all`] with [`Setting::new`] (name = the field's name; default = that
//! `DEFAULT`'s field); add the flag to `cli::OptimArgs` (or the split/network args) as
//! `#[arg(long, help = flag_help("name"), value_parser = parser::<T>("name"))]`; add the
//! parameter, with the same name, to `ANMINRegressor.__init__` in python/anmin/_estimator.py
//! (the tests check that the estimator's parameters are exactly the declared ones). Settings
//! no front end should offer are declared `.internal()`: they are still checked.

pub mod catalogue;

use serde_json::{Map, Value, json};

use crate::choice::Choice;
use crate::optim::{OptimizerKind, OptimizerSpec};

/// Where a setting belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// How the rows are split (`train::SplitSettings`).
    Split,
    /// The network's shape (`train::NetworkSettings`).
    Network,
    /// How the inputs are encoded and scaled (`data::PreprocessSettings`).
    Preprocess,
    /// The run, whatever its optimizer (`train::TrainRequest`).
    Run,
    /// The step budget of a run of this optimizer (`TrainRequest::steps`).
    Steps(OptimizerKind),
    /// A field of this optimizer's config.
    Optimizer(OptimizerKind),
    /// How a run is executed: never changes its results.
    Execution,
}

impl Owner {
    /// The optimizer this setting belongs to, if any.
    pub fn optimizer(self) -> Option<OptimizerKind> {
        match self {
            Owner::Steps(k) | Owner::Optimizer(k) => Some(k),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Owner::Split => "split",
            Owner::Network => "network",
            Owner::Preprocess => "preprocess",
            Owner::Run => "run",
            Owner::Steps(_) => "steps",
            Owner::Optimizer(_) => "optimizer",
            Owner::Execution => "execution",
        }
    }
}

/// An interval of finite real numbers; `high` may be infinite (no upper bound).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub low_open: bool,
    pub high: f64,
    pub high_open: bool,
}

impl Interval {
    /// [0, ∞).
    pub const NON_NEGATIVE: Interval = Interval::from(0.0, false);
    /// (0, ∞).
    pub const POSITIVE: Interval = Interval::from(0.0, true);
    /// [0, 1): fractions, slopes, momenta.
    pub const UNIT: Interval = Interval {
        low: 0.0,
        low_open: false,
        high: 1.0,
        high_open: true,
    };
    /// (0, 1).
    pub const OPEN_UNIT: Interval = Interval {
        low_open: true,
        ..Interval::UNIT
    };

    /// [low, ∞), or (low, ∞) when `open`.
    pub const fn from(low: f64, open: bool) -> Interval {
        Interval {
            low,
            low_open: open,
            high: f64::INFINITY,
            high_open: true,
        }
    }

    pub fn contains(&self, v: f64) -> bool {
        let above = if self.low_open {
            v > self.low
        } else {
            v >= self.low
        };
        let below = if self.high_open {
            v < self.high
        } else {
            v <= self.high
        };
        v.is_finite() && above && below
    }

    /// "a positive number", "a number at least 0 and below 1", …
    fn phrase(&self) -> String {
        let low = match (self.low, self.low_open) {
            (l, false) if l == 0.0 && self.high.is_infinite() => {
                return "a non-negative number".into();
            }
            (l, true) if l == 0.0 && self.high.is_infinite() => return "a positive number".into(),
            (l, false) => format!("at least {l}"),
            (l, true) => format!("above {l}"),
        };
        if self.high.is_infinite() {
            format!("a number {low}")
        } else if self.high_open {
            format!("a number {low} and below {}", self.high)
        } else {
            format!("a number {low} and at most {}", self.high)
        }
    }
}

/// A setting's type and range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    /// A finite real number in the interval.
    Real(Interval),
    /// A whole number from `min` to `max`.
    Count { min: u64, max: u64 },
    /// One of the names.
    Choice(&'static [&'static str]),
    /// A real number in the interval, or the word (`auto`, `none`).
    RealOr(Interval, &'static str),
    /// On or off: a flag without a value, a Python `bool`.
    Switch,
}

impl Domain {
    /// What a value must be: "a whole number from 1 to 1000000".
    pub fn phrase(&self) -> String {
        match self {
            Domain::Real(i) => i.phrase(),
            Domain::Count { min, max } => format!("a whole number from {min} to {max}"),
            Domain::Choice(names) => format!("one of {}", names.join(", ")),
            Domain::RealOr(i, word) => format!("{} or \"{word}\"", i.phrase()),
            Domain::Switch => "true or false".into(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Domain::Real(_) => "real",
            Domain::Count { .. } => "count",
            Domain::Choice(_) => "choice",
            Domain::RealOr(..) => "real_or_word",
            Domain::Switch => "switch",
        }
    }
}

/// A setting's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Real(f64),
    Count(u64),
    Word(&'static str),
    Switch(bool),
    /// No value: what that means, for the help ("no limit").
    Unset(&'static str),
}

impl DefaultValue {
    /// The default as a number, for the structs whose `Default` takes it from here.
    pub const fn real(self) -> f64 {
        match self {
            DefaultValue::Real(v) => v,
            _ => panic!("not a real default"),
        }
    }

    pub const fn word(self) -> &'static str {
        match self {
            DefaultValue::Word(w) => w,
            _ => panic!("not a word default"),
        }
    }

    pub const fn count(self) -> u64 {
        match self {
            DefaultValue::Count(v) => v,
            _ => panic!("not a count default"),
        }
    }

    pub fn to_json(self) -> Value {
        match self {
            DefaultValue::Real(v) => json!(v),
            DefaultValue::Count(v) => json!(v),
            DefaultValue::Word(w) => json!(w),
            DefaultValue::Switch(on) => json!(on),
            DefaultValue::Unset(_) => Value::Null,
        }
    }

    /// As the help shows it: `0.001`, `1e10`, `safeguarded`, `no limit`.
    fn shown(self) -> String {
        match self {
            DefaultValue::Real(v) if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) => {
                format!("{v:e}")
            }
            DefaultValue::Real(v) => v.to_string(),
            DefaultValue::Count(v) => v.to_string(),
            DefaultValue::Switch(on) => if on { "on" } else { "off" }.to_string(),
            DefaultValue::Word(w) | DefaultValue::Unset(w) => w.to_string(),
        }
    }
}

/// How the Python estimator offers a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Python {
    /// A parameter of the same name.
    Param,
    /// The estimator's own parameter of this name stands for it (scikit-learn's names:
    /// `random_state` for `seed`, `n_threads` for `threads`).
    Own(&'static str),
    /// Not a parameter, for the reason given.
    Absent(&'static str),
}

/// One declared setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// The field's name; the flag is `--` and the name with `-` for `_`.
    pub name: &'static str,
    pub owner: Owner,
    pub domain: Domain,
    pub default: DefaultValue,
    /// One line for `--help` and the Python docstring.
    pub help: &'static str,
    /// A command-line flag (false: JSON requests and the library only).
    pub flag: bool,
    pub python: Python,
    /// Other names the Python estimator accepts for it (its names before it followed the
    /// command line's).
    pub aliases: &'static [&'static str],
    /// The Python parameter's default where it is not `default` (`auto`: the estimator
    /// predicts, so it defaults to the prediction preset).
    pub python_default: Option<DefaultValue>,
}

impl Setting {
    /// A flag and a Python parameter of the same name.
    pub const fn new(
        name: &'static str,
        owner: Owner,
        domain: Domain,
        default: DefaultValue,
        help: &'static str,
    ) -> Setting {
        Setting {
            name,
            owner,
            domain,
            default,
            help,
            flag: true,
            python: Python::Param,
            aliases: &[],
            python_default: None,
        }
    }

    /// Neither a flag nor a Python parameter: a config field with a fixed default that JSON
    /// requests and library callers may still set (and that is still checked).
    pub const fn internal(self) -> Setting {
        Setting {
            flag: false,
            python: Python::Absent("internal"),
            ..self
        }
    }

    pub const fn python(self, python: Python) -> Setting {
        Setting { python, ..self }
    }

    pub const fn aliases(self, aliases: &'static [&'static str]) -> Setting {
        Setting { aliases, ..self }
    }

    pub const fn python_default(self, default: DefaultValue) -> Setting {
        Setting {
            python_default: Some(default),
            ..self
        }
    }

    /// The message for a value outside the domain.
    pub fn message(&self) -> String {
        format!("{} must be {}", self.name, self.domain.phrase())
    }

    /// A value as given on the command line or from Python (text), as JSON; a value outside
    /// the domain is an error with [`Setting::message`].
    pub fn parse(&self, text: &str) -> Result<Value, String> {
        let t = text.trim();
        let real = |i: &Interval| t.parse::<f64>().ok().filter(|v| i.contains(*v));
        let parsed = match &self.domain {
            Domain::Real(i) => real(i).map(|v| json!(v)),
            Domain::Count { min, max } => t
                .parse::<u64>()
                .ok()
                .filter(|v| (min..=max).contains(&v))
                .map(|v| json!(v)),
            Domain::Choice(names) => names.iter().find(|n| **n == t).map(|n| json!(n)),
            Domain::RealOr(_, word) if t.eq_ignore_ascii_case(word) => Some(json!(word)),
            Domain::RealOr(i, _) => real(i).map(|v| json!(v)),
            Domain::Switch => match t {
                "true" | "True" | "1" => Some(json!(true)),
                "false" | "False" | "0" => Some(json!(false)),
                _ => None,
            },
        };
        parsed.ok_or_else(|| self.message())
    }

    /// Checks a JSON value (a request's, a config's) against the domain.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let ok = match &self.domain {
            Domain::Real(i) => value.as_f64().is_some_and(|v| i.contains(v)),
            Domain::Count { min, max } => {
                value.as_u64().is_some_and(|v| (*min..=*max).contains(&v))
            }
            Domain::Choice(names) => value.as_str().is_some_and(|s| names.contains(&s)),
            Domain::RealOr(i, word) => {
                value.as_str() == Some(word) || value.as_f64().is_some_and(|v| i.contains(v))
            }
            Domain::Switch => value.is_boolean(),
        };
        if ok { Ok(()) } else { Err(self.message()) }
    }

    /// Checks a number.
    pub fn check_real(&self, v: f64) -> Result<(), String> {
        self.check(&json!(v))
    }

    /// Checks a count.
    pub fn check_count(&self, v: u64) -> Result<(), String> {
        self.check(&json!(v))
    }

    /// `--a-solver` for `a_solver`.
    pub fn flag_name(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }

    fn describe(&self) -> Value {
        let (low, low_open, high, high_open, word) = match self.domain {
            Domain::Real(i) => (Some(i.low), i.low_open, i.high, i.high_open, None),
            Domain::RealOr(i, w) => (Some(i.low), i.low_open, i.high, i.high_open, Some(w)),
            Domain::Count { min, max } => (Some(min as f64), false, max as f64, false, None),
            Domain::Choice(_) | Domain::Switch => (None, false, f64::INFINITY, true, None),
        };
        let (python, python_name) = match self.python {
            Python::Param => ("param", Some(self.name)),
            Python::Own(own) => ("own", Some(own)),
            Python::Absent(_) => ("absent", None),
        };
        json!({
            "name": self.name,
            "owner": self.owner.name(),
            "optimizer": self.owner.optimizer().map(|k| k.name()),
            "type": self.domain.type_name(),
            "low": low,
            "low_open": low_open,
            "high": high.is_finite().then_some(high),
            "high_open": high_open,
            "word": word,
            "choices": match self.domain { Domain::Choice(c) => Some(c), _ => None },
            "range": self.domain.phrase(),
            "default": self.default.to_json(),
            "default_shown": self.default.shown(),
            "python_default": self.python_default.unwrap_or(self.default).to_json(),
            "help": self.help,
            "flag": self.flag.then(|| self.flag_name()),
            "python": python,
            "python_name": python_name,
            "aliases": self.aliases,
        })
    }
}

/// The declarations of `name` (one per owner: `lr` has one for each optimizer that takes it).
pub fn declarations(name: &str) -> impl Iterator<Item = &'static Setting> + '_ {
    catalogue::all().iter().filter(move |s| s.name == name)
}

/// The first declaration of `name`; its domain is every declaration's (a test checks it).
pub fn get(name: &str) -> Option<&'static Setting> {
    declarations(name).next()
}

/// The declaration of `name`, which must exist (flags and structs name declared settings).
pub fn setting(name: &str) -> &'static Setting {
    get(name).unwrap_or_else(|| panic!("{name} is not a declared setting"))
}

/// The settings of optimizer `kind`: its config's fields and its step budget.
pub fn of_optimizer(kind: OptimizerKind) -> impl Iterator<Item = &'static Setting> {
    catalogue::all()
        .iter()
        .filter(move |s| s.owner.optimizer() == Some(kind))
}

/// The declaration of `kind`'s setting `name`.
pub fn of(kind: OptimizerKind, name: &str) -> Option<&'static Setting> {
    of_optimizer(kind).find(|s| s.name == name)
}

/// Whether `kind` takes the setting `name` (its step budget included).
pub fn takes(kind: OptimizerKind, name: &str) -> bool {
    of(kind, name).is_some()
}

/// The optimizers that take the setting `name`.
pub fn takers(name: &str) -> Vec<OptimizerKind> {
    OptimizerKind::ALL
        .iter()
        .copied()
        .filter(|&k| takes(k, name))
        .collect()
}

/// Whether `name` belongs to the run rather than to one optimizer (`ridge`, `max_seconds`).
pub fn is_run_level(name: &str) -> bool {
    declarations(name).any(|s| {
        matches!(
            s.owner,
            Owner::Run | Owner::Split | Owner::Network | Owner::Preprocess
        )
    })
}

/// The name of `kind`'s step budget: `iters` or `epochs`.
pub fn budget_name(kind: OptimizerKind) -> &'static str {
    of_optimizer(kind)
        .find(|s| s.owner == Owner::Steps(kind))
        .map(|s| s.name)
        .expect("every optimizer declares its step budget")
}

/// Flags that say what a run writes or shows, not what it computes.
pub const OUTPUT_FLAGS: [&str; 5] = [
    "out",
    "save_model",
    "save_initial_model",
    "quiet",
    "record_split",
];

/// Whether the run config's key `key` says how a run was executed rather than what it
/// computed: an output flag, or a setting of the execution (`threads`). Two runs that differ
/// only there have the same results.
pub fn is_execution(key: &str) -> bool {
    OUTPUT_FLAGS.contains(&key) || declarations(key).any(|s| s.owner == Owner::Execution)
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

/// Checks every setting of an optimizer's config against its declaration (the run's
/// `ridge` and `seed` against theirs), then the relations between them.
pub fn check_spec(spec: &OptimizerSpec) -> Result<(), String> {
    let kind = spec.kind();
    let Value::Object(map) = serde_json::to_value(spec).expect("configs serialize") else {
        unreachable!("configs serialize as objects")
    };
    for (name, value) in &map {
        let declared = of(kind, name)
            .or_else(|| declarations(name).find(|s| s.owner.optimizer().is_none()))
            .or_else(|| declarations(name).next());
        match declared {
            Some(s) => s.check(value)?,
            None => unreachable!("{name} of {} is not declared", kind.name()),
        }
    }
    check_relations(&map)
}

/// Relations between settings: the first must be at least the second.
pub const AT_LEAST: [(&str, &str); 1] = [("mu_max", "mu")];

fn check_relations(map: &Map<String, Value>) -> Result<(), String> {
    for (big, small) in AT_LEAST {
        let (b, s) = (map.get(big), map.get(small));
        if let (Some(b), Some(s)) = (b.and_then(Value::as_f64), s.and_then(Value::as_f64)) {
            if b < s {
                return Err(format!(
                    "{big} ({}) must be at least {small} ({})",
                    crate::numbers::shown(b),
                    crate::numbers::shown(s)
                ));
            }
        }
    }
    Ok(())
}

/// The help of flag `--name`: each declaration's help with its default, per optimizer where
/// they differ ("sgd, adam: learning rate [default: 0.001]; lbfgs: …").
pub fn flag_help(name: &str) -> String {
    let all: Vec<&Setting> = declarations(name).collect();
    // Declarations with the same help and default are shown once, naming their optimizers.
    let mut groups: Vec<(&str, DefaultValue, Vec<&str>)> = Vec::new();
    for s in &all {
        let who = s.owner.optimizer().map(|k| k.name());
        match groups
            .iter_mut()
            .find(|(help, default, _)| *help == s.help && *default == s.default)
        {
            Some((_, _, names)) => names.extend(who),
            None => groups.push((s.help, s.default, who.into_iter().collect())),
        }
    }
    let shown = |default: DefaultValue| format!("[default: {}]", default.shown());
    match groups.as_slice() {
        [(help, default, _)] => format!("{help} {}", shown(*default)),
        _ => groups
            .iter()
            .map(|(help, default, who)| format!("{}: {help} {}", who.join(", "), shown(*default)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The whole description as JSON, one object per declaration (`_native.settings()`).
pub fn describe() -> Value {
    Value::Array(catalogue::all().iter().map(Setting::describe).collect())
}

/// The defaults of `kind`'s config fields, by name.
pub fn defaults(kind: OptimizerKind) -> Map<String, Value> {
    of_optimizer(kind)
        .filter(|s| s.owner == Owner::Optimizer(kind))
        .map(|s| (s.name.to_owned(), s.default.to_json()))
        .collect()
}

#[cfg(test)]
mod tests;
