//! Numbers as messages show them: plain where short (`0.5`, `1000`), scientific where huge
//! or tiny (`1e308`, `1.7976931348623157e308`, `5e-324`), never a 300-digit decimal.

/// `v` for a message.
pub fn shown(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// A JSON value for a message: numbers as [`shown`], anything longer than 80 characters cut.
pub fn json_shown(value: &serde_json::Value) -> String {
    let text = match value.as_f64() {
        Some(v) if !value.is_u64() && !value.is_i64() => shown(v),
        _ => value.to_string(),
    };
    if text.chars().count() > 80 {
        let head: String = text.chars().take(77).collect();
        format!("{head}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_and_tiny_numbers_are_scientific() {
        assert_eq!(shown(0.5), "0.5");
        assert_eq!(shown(1000.0), "1000");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(1e308), "1e308");
        assert_eq!(shown(-1.7976931348623157e308), "-1.7976931348623157e308");
        assert_eq!(shown(5e-324), "5e-324");
        assert_eq!(shown(f64::INFINITY), "inf");
        assert_eq!(json_shown(&serde_json::json!(1e300)), "1e300");
        assert_eq!(json_shown(&serde_json::json!(-5)), "-5");
        assert_eq!(json_shown(&serde_json::json!([1, 2])), "[1,2]");
        assert!(json_shown(&serde_json::json!("x".repeat(500))).ends_with("..."));
    }
}
