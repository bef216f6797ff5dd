//! Which columns of a table are targets and which are inputs, from the user's choice.

use super::ColumnChoice;
use crate::data::table::Table;
use crate::error::DataError;

/// Resolves the user's column choice to (target columns, input columns), 0-based.
pub(super) fn choose_columns(
    table: &Table,
    choice: &ColumnChoice,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    let lookup = |name: &String, role| {
        table
            .column_index(name)
            .ok_or_else(|| unknown_column(table, name, role))
    };
    let choice_error = |message: String| DataError::ColumnChoice {
        path: table.source.clone(),
        message,
    };
    let targets: Vec<usize> = match &choice.target_prefix {
        Some(_) if !choice.targets.is_empty() => {
            return Err(choice_error(
                "give targets by name or by prefix, not both".into(),
            ));
        }
        Some(prefix) => {
            let matching: Vec<usize> = (0..table.header.len())
                .filter(|&c| table.header[c].starts_with(prefix.as_str()))
                .collect();
            if matching.is_empty() {
                return Err(choice_error(format!(
                    "no column name starts with {prefix:?} (--target-prefix); columns are: {}",
                    name_list(&table.header)
                )));
            }
            matching
        }
        None if choice.targets.is_empty() => vec![table.header.len() - 1],
        None => choice
            .targets
            .iter()
            .map(|t| lookup(t, "--target"))
            .collect::<Result<_, _>>()?,
    };
    if let Some(dup) = first_repeat(&targets) {
        return Err(choice_error(format!(
            "target {:?} is named twice",
            table.header[dup]
        )));
    }
    let dropped: Vec<usize> = choice
        .drop
        .iter()
        .map(|d| lookup(d, "--drop"))
        .collect::<Result<_, _>>()?;
    let inputs: Vec<usize> = if choice.features.is_empty() {
        (0..table.header.len())
            .filter(|c| !targets.contains(c) && !dropped.contains(c))
            .collect()
    } else {
        let inputs: Vec<usize> = choice
            .features
            .iter()
            .map(|f| lookup(f, "--features"))
            .collect::<Result<_, _>>()?;
        if let Some(&c) = inputs.iter().find(|c| targets.contains(c)) {
            return Err(choice_error(format!(
                "column {:?} is both a target and a feature",
                table.header[c]
            )));
        }
        if let Some(dup) = first_repeat(&inputs) {
            return Err(choice_error(format!(
                "feature {:?} is named twice",
                table.header[dup]
            )));
        }
        inputs
    };
    if inputs.is_empty() {
        return Err(choice_error(
            "no input columns are left after choosing targets and dropped columns".into(),
        ));
    }
    Ok((targets, inputs))
}

fn first_repeat(cols: &[usize]) -> Option<usize> {
    cols.iter()
        .enumerate()
        .find(|(i, c)| cols[..*i].contains(c))
        .map(|(_, &c)| c)
}

pub(super) fn unknown_column(table: &Table, name: &str, role: &'static str) -> DataError {
    DataError::UnknownColumn {
        path: table.source.clone(),
        name: name.into(),
        role,
        available: name_list(&table.header),
    }
}

/// Names for a one-line message: comma-separated, with newlines and other control characters
/// escaped.
pub(super) fn name_list(names: &[String]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| n.escape_debug().to_string()).collect();
    escaped.join(", ")
}
