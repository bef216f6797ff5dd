//! The value parsers of the flags: each declared setting's from its declaration (its range
//! and message, [`crate::settings`]), and the few flags that are not run settings.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use serde_json::Value;

use crate::choice::Choice;
use crate::settings::Setting;
use crate::train::{Clip, Ridge};

/// The parser of a [`Choice`]: its names as clap's possible values, each with its help.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    let values = T::ALL
        .iter()
        .map(|c| PossibleValue::new(c.name()).help(c.help()));
    PossibleValuesParser::new(values).map(|name| T::from_name(&name).expect("a possible value"))
}

/// A flag's value from a declared setting's parsed value.
pub trait FromSetting: Sized + Clone + Send + Sync + 'static {
    fn from_value(v: &Value) -> Self;
}

impl FromSetting for f64 {
    fn from_value(v: &Value) -> Self {
        v.as_f64().expect("a real setting")
    }
}

impl FromSetting for u64 {
    fn from_value(v: &Value) -> Self {
        v.as_u64().expect("a count setting")
    }
}

impl FromSetting for usize {
    fn from_value(v: &Value) -> Self {
        usize::try_from(v.as_u64().expect("a count setting")).unwrap_or(usize::MAX)
    }
}

impl FromSetting for u32 {
    fn from_value(v: &Value) -> Self {
        u32::try_from(v.as_u64().expect("a count setting")).unwrap_or(u32::MAX)
    }
}

impl FromSetting for Ridge {
    fn from_value(v: &Value) -> Self {
        v.as_f64().map_or(Ridge::Auto, Ridge::Fixed)
    }
}

impl FromSetting for Clip {
    fn from_value(v: &Value) -> Self {
        v.as_f64().map_or(Clip::None, Clip::Margin)
    }
}

/// The parser of the declared setting `setting`: its range, and its message on a value out
/// of it ("hidden must be a whole number from 1 to 1000000").
pub fn declared<T: FromSetting>(
    setting: &'static Setting,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| setting.parse(s).map(|v| T::from_value(&v))
}

/// [`declared`] by name.
pub fn setting<T: FromSetting>(
    name: &str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    declared(crate::settings::setting(name))
}

/// Image sizes: large enough for a shape to have an inside and an outside, small enough that
/// the CSV (one row per pixel) stays a reasonable file.
pub fn parse_image_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if (8..=4096).contains(&v) => Ok(v),
        _ => Err("must be a whole number from 8 to 4096".into()),
    }
}

/// Patch sizes: patch² inputs and as many outputs.
pub fn parse_patch_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if (1..=64).contains(&v) => Ok(v),
        _ => Err("must be a whole number from 1 to 64".into()),
    }
}

/// Shard `index` (1-based) of `count` of a comparison's splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether split seed `seed` belongs to this shard.
    pub fn has(&self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("\"{s}\" is not I/N with 1 <= I <= N (shard I of N)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        i.trim().parse::<u64>().map_err(|_| bad())?,
        n.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

pub fn serialize_shard<S: serde::Serializer>(
    shard: &Option<Shard>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match shard {
        None => s.serialize_none(),
        Some(shard) => s.serialize_str(&shard.to_string()),
    }
}

pub fn parse_prefix(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s.into())
    }
}

pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && !matches!(s, "\"" | "\n" | "\r") => {
            Ok(s.as_bytes()[0])
        }
        _ => Err("expected one ASCII character (not a quote or newline), or \"tab\"".into()),
    }
}

pub fn serialize_delimiter<S: serde::Serializer>(d: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        None => s.serialize_none(),
        Some(b'\t') => s.serialize_str("tab"),
        Some(c) => s.serialize_str(&(*c as char).to_string()),
    }
}

pub fn parse_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{s} is not a finite number"))
    }
}

pub fn parse_nonnegative(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err("must not be negative".into())
    }
}

pub fn parse_positive_usize(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err("must be a whole number of at least 1".into()),
    }
}
