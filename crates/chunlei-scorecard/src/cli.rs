//! The entry points of `chunlei scorecard …`: the only functions of the crate that touch
//! files. The binary parses its arguments, calls one of these and prints what it returns.

use std::path::Path;

use crate::Error;
use crate::csv::Table;
use crate::evaluate::evaluate;
use crate::model::Scorecard;
use crate::report;
use crate::train::{TrainOptions, train};

/// Trains a scorecard on the CSV file `csv` (column `target` equals `bad` for bad rows),
/// writes the model file to `out` and returns the training report.
pub fn train_cli(
    csv: &Path,
    target: &str,
    bad: &str,
    out: &Path,
    options: &TrainOptions,
) -> Result<String, Error> {
    let table = read_table(csv)?;
    let card = train(&table, target, bad, options)?;
    write_model(out, &card)?;
    Ok(report::training(&card))
}

/// Scores the labelled CSV file `csv` with the model file `model` and returns the report,
/// whose last line is `auc=<x> ks=<y>`.
pub fn evaluate_cli(model: &Path, csv: &Path, target: &str, bad: &str) -> Result<String, Error> {
    let card = load_model(model)?;
    let table = read_table(csv)?;
    let evaluation = evaluate(&card, &table, target, bad)?;
    Ok(report::evaluation(&card, &evaluation))
}

/// Reads a model file, for scoring (`Scorecard::score`, `Scorecard::reasons`).
pub fn load_model(path: &Path) -> Result<Scorecard, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Scorecard::from_json(&text)
}

/// Reads a whole CSV file.
pub fn read_table(path: &Path) -> Result<Table, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Table::parse(&bytes)
}

/// Writes the model file through a temporary file and a rename, so that a reader never sees
/// half a model.
pub fn write_model(path: &Path, card: &Scorecard) -> Result<(), Error> {
    let text = card.to_json()?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    std::fs::write(&temporary, text).map_err(|source| Error::Io {
        path: temporary.clone(),
        source,
    })?;
    std::fs::rename(&temporary, path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
