//! What one CSV cell holds: a finite number, a missing value, or text. The single definition
//! that type inference, missing-value checks and encoding all share.

/// A cell's meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Number(f64),
    /// A missing-value marker or a non-finite number, with the cell's text.
    Missing(&'a str),
    /// Anything else, with the cell's text.
    Text(&'a str),
}

/// Markers read as "no value", compared case-insensitively.
const MISSING_MARKERS: [&str; 5] = ["", "na", "nan", "?", "null"];

/// The meaning of one (trimmed) cell. Missing: a missing marker, or a number that is not
/// finite (`inf`, `1e999`).
pub fn parse_cell(cell: &str) -> Cell<'_> {
    // Every marker is at most four bytes: longer cells skip the comparisons.
    if cell.len() <= 4 && MISSING_MARKERS.iter().any(|m| cell.eq_ignore_ascii_case(m)) {
        return Cell::Missing(cell);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Cell::Number(v),
        Ok(_) => Cell::Missing(cell),
        Err(_) => Cell::Text(cell),
    }
}

/// Whether a cell's text is a missing value.
pub fn is_missing(cell: &str) -> bool {
    matches!(parse_cell(cell), Cell::Missing(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(parse_cell("1.5"), Cell::Number(1.5));
        assert_eq!(parse_cell("-1e300"), Cell::Number(-1e300));
        for missing in [
            "",
            "NA",
            "nan",
            "NaN",
            "?",
            "Null",
            "inf",
            "-Infinity",
            "1e999",
        ] {
            assert_eq!(parse_cell(missing), Cell::Missing(missing), "{missing:?}");
        }
        for text in ["x", "n/a", "1,5", "nulls", "M"] {
            assert_eq!(parse_cell(text), Cell::Text(text), "{text:?}");
        }
    }
}
