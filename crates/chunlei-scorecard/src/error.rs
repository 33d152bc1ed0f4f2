//! The one error type of the crate: every way training, loading or scoring can fail, each with
//! a message that names the file line, column or option at fault.

use std::path::PathBuf;

/// Why the scorecard could not read, train, load or score.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CSV file is empty: it needs a header line and at least one row")]
    EmptyFile,
    #[error("the CSV file is not UTF-8 text: invalid byte at line {line} (byte offset {offset})")]
    NotUtf8 { line: usize, offset: usize },
    #[error("line {line}: {message}")]
    CsvSyntax { line: usize, message: String },
    #[error("line {line}: {found} fields, but the header has {expected}")]
    RaggedRow {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("the header names column {0:?} twice")]
    DuplicateColumn(String),
    #[error("column {position} of the header has an empty name")]
    EmptyColumnName { position: usize },
    #[error("the file has more than {max} columns")]
    TooManyColumns { max: usize },
    #[error("the file has more than {max} rows")]
    TooManyRows { max: usize },
    #[error("no column {column:?} in the file (columns: {available})")]
    MissingColumn { column: String, available: String },
    #[error("line {line}: the target column {column:?} is empty")]
    MissingTarget { line: usize, column: String },
    #[error("the target column {column:?} has no row equal to the bad value {bad:?}")]
    NoBads { column: String, bad: String },
    #[error(
        "every row of the target column {column:?} is the bad value {bad:?}: there are no goods"
    )]
    NoGoods { column: String, bad: String },
    #[error("the file has no candidate variable besides the target column")]
    NoVariables,
    #[error("no variable reaches the minimum information value {min_iv} (best: {best})")]
    NoVariableSelected { min_iv: f64, best: String },
    #[error("option {name}: {reason}")]
    InvalidOption { name: &'static str, reason: String },
    #[error(
        "the logistic regression is singular: variables {variables} are collinear; drop one or set l2 > 0"
    )]
    Singular { variables: String },
    #[error("the logistic regression did not converge in {iterations} Newton steps")]
    NotConverged { iterations: usize },
    #[error("the model file is not valid: {0}")]
    ModelFormat(String),
    #[error("the model file has format_version {found}; this build reads version {supported}")]
    UnsupportedFormat { found: u64, supported: u64 },
    #[error("the record has no value for model variable {variable:?}")]
    MissingVariable { variable: String },
    #[error("variable {variable:?}: {value:?} is not a finite number")]
    NotANumber { variable: String, value: String },
    #[error("line {line}: {source}")]
    AtLine { line: usize, source: Box<Error> },
}
