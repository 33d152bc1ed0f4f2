//! A labelled application file as columns: the target turned into bad/good, every other
//! column a candidate variable, numeric when every non-empty value is a finite number and
//! categorical otherwise. An empty (or all-blank) value is missing, which is its own bin.

use crate::Error;
use crate::csv::Table;

/// The rows of a labelled file, by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One entry per row: whether the target column holds the bad value.
    pub is_bad: Vec<bool>,
    pub variables: Vec<Variable>,
}

/// One candidate variable: a column other than the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub values: Values,
}

/// A column's values, `None` where missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Numeric(Vec<Option<f64>>),
    Categorical(Vec<Option<String>>),
}

impl Dataset {
    /// Splits `table` into target and candidate variables. The target value is compared with
    /// `bad` after trimming blanks; every other non-empty value is good. Columns named in
    /// `exclude` (identifiers, dates, anything that must not score) are left out.
    pub fn labelled(
        table: &Table,
        target: &str,
        bad: &str,
        exclude: &[String],
    ) -> Result<Dataset, Error> {
        let target_at = table.column(target)?;
        for column in exclude {
            table.column(column)?;
        }
        let is_bad = labels(table, target, bad)?;
        let variables: Vec<Variable> = table
            .columns()
            .iter()
            .enumerate()
            .filter(|(at, name)| *at != target_at && !exclude.contains(name))
            .map(|(at, name)| Variable {
                name: name.clone(),
                values: column_values(table, at),
            })
            .collect();
        if variables.is_empty() {
            return Err(Error::NoVariables);
        }
        Ok(Dataset { is_bad, variables })
    }
}

/// Whether each row of `table` is bad: its `target` value equals `bad` (both trimmed); any
/// other non-empty value is good. Every row needs a target value, and there must be goods
/// and bads.
pub fn labels(table: &Table, target: &str, bad: &str) -> Result<Vec<bool>, Error> {
    let target_at = table.column(target)?;
    let bad = bad.trim();
    let mut is_bad = Vec::with_capacity(table.rows().len());
    for row in table.rows() {
        let value = row.fields.get(target_at).map_or("", |v| v.trim());
        if value.is_empty() {
            return Err(Error::MissingTarget {
                line: row.line,
                column: target.to_owned(),
            });
        }
        is_bad.push(value == bad);
    }
    if !is_bad.iter().any(|b| *b) {
        return Err(Error::NoBads {
            column: target.to_owned(),
            bad: bad.to_owned(),
        });
    }
    if is_bad.iter().all(|b| *b) {
        return Err(Error::NoGoods {
            column: target.to_owned(),
            bad: bad.to_owned(),
        });
    }
    Ok(is_bad)
}

/// A column's values, numeric if there is at least one value and every value parses.
fn column_values(table: &Table, at: usize) -> Values {
    let raw: Vec<Option<&str>> = table
        .rows()
        .iter()
        .map(|row| {
            let value = row.fields.get(at).map_or("", |v| v.trim());
            (!value.is_empty()).then_some(value)
        })
        .collect();
    let numbers: Option<Vec<Option<f64>>> = raw
        .iter()
        .map(|value| match value {
            None => Some(None),
            Some(text) => parse_number(text).map(Some),
        })
        .collect();
    match numbers {
        Some(numbers) if numbers.iter().any(Option::is_some) => Values::Numeric(numbers),
        Some(_) | None => Values::Categorical(
            raw.into_iter()
                .map(|value| value.map(str::to_owned))
                .collect(),
        ),
    }
}

/// A finite number, or `None`. Rust also parses `NaN` and `inf`; neither is a measurement.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests;
