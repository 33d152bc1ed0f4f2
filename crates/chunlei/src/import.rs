//! `chunlei import`: bulk loads from files, all rows or none.
//!
//! `import merchants FILE` reads a CSV file whose header row names the columns of the merchant
//! registry, in any order. Every row is parsed before anything is written; if any row is
//! wrong, each bad row is reported as `line N: field: message` and nothing is imported.
//! Otherwise every merchant is written in one transaction: an existing merchant with the same
//! id is replaced. It runs beside a server on the same database, SQLite included: merchants
//! are not ledger data, so the import does not need the ledger writer.

mod csv;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chunlei_settlement::{Merchant, MerchantFields};

/// The largest file an import reads.
pub const FILE_BYTES_MAX: u64 = 10 * 1024 * 1024;
/// Data rows (the header not counted) an import takes at most.
pub const ROWS_MAX: usize = 1_000_000;

/// The columns of a merchant file, as its header names them.
pub const MERCHANT_COLUMNS: [&str; 13] = [
    "id",
    "name",
    "kind",
    "foreign_trade",
    "region_code",
    "category",
    "joined_on",
    "cluster_id",
    "agriculture_base_id",
    "risk_tier",
    "bank_code",
    "account_number",
    "holder_name",
];

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import merchants from a CSV file with a header row; all rows or, if any is bad, none.
    Merchants {
        /// The CSV file, UTF-8, at most 10 MiB and 1,000,000 rows.
        file: PathBuf,
        #[arg(long, default_value = crate::DEFAULT_DB, env = "CHUNLEI_DB")]
        db: String,
    },
}

pub fn run(command: ImportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImportCommand::Merchants { file, db } => merchants(&file, &db),
    }
}

fn merchants(file: &Path, db: &str) -> anyhow::Result<ExitCode> {
    let text = read_limited(file, FILE_BYTES_MAX)?;
    let merchants = match parse_merchants(&text, ROWS_MAX)? {
        Ok(merchants) => merchants,
        Err(rejections) => {
            for rejection in &rejections {
                eprintln!("{rejection}");
            }
            eprintln!(
                "rejected={}: nothing was imported from {}",
                rejections.len(),
                file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let store = crate::open_store_for_admin(db)?;
    store
        .upsert_merchants(&merchants)
        .context("cannot write the merchants; nothing was imported")?;
    println!("imported={}", merchants.len());
    Ok(ExitCode::SUCCESS)
}

/// The file as text, refused whole beyond `bytes_max`.
fn read_limited(file: &Path, bytes_max: u64) -> anyhow::Result<String> {
    let opened =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut bytes = Vec::new();
    // One byte more than allowed tells a file at the limit from one beyond it, whatever
    // the file's size claims (a pipe has none).
    opened
        .take(bytes_max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() as u64 > bytes_max {
        anyhow::bail!(
            "{} is larger than {bytes_max} bytes (10 MiB); split it into smaller files",
            file.display()
        );
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{} is not UTF-8: {e}", file.display()))?;
    // Spreadsheet programs often start a UTF-8 file with a byte order mark.
    Ok(text
        .strip_prefix('\u{feff}')
        .map_or_else(|| text.clone(), str::to_owned))
}

/// A row that was not imported, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejection {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Every merchant of the file, or every row that is wrong. The outer error is for a file that
/// cannot be read as rows at all: no header, a wrong header, too many rows.
pub fn parse_merchants(
    text: &str,
    rows_max: usize,
) -> anyhow::Result<Result<Vec<Merchant>, Vec<Rejection>>> {
    let records = csv::records(text);
    let Some((header, rows)) = records.split_first() else {
        anyhow::bail!("the file is empty; it needs a header row naming the columns");
    };
    let header = match &header.fields {
        Ok(fields) => fields,
        Err(message) => anyhow::bail!("line {}: {message}", header.line),
    };
    let positions = column_positions(header)?;
    if rows.len() > rows_max {
        anyhow::bail!(
            "the file has {} rows; an import takes at most {rows_max}",
            rows.len()
        );
    }
    let mut merchants = Vec::with_capacity(rows.len());
    let mut rejections = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for row in rows {
        let merchant = row
            .fields
            .as_ref()
            .map_err(|message| format!("csv: {message}"))
            .and_then(|fields| merchant(fields, header.len(), &positions));
        let merchant = merchant.and_then(|merchant| {
            match first_line.insert(merchant.id.as_str().to_owned(), row.line) {
                Some(line) => Err(format!("id: {} is also on line {line}", merchant.id)),
                None => Ok(merchant),
            }
        });
        match merchant {
            Ok(merchant) => merchants.push(merchant),
            Err(message) => rejections.push(Rejection {
                line: row.line,
                message,
            }),
        }
    }
    Ok(if rejections.is_empty() {
        Ok(merchants)
    } else {
        Err(rejections)
    })
}

/// Where each of [`MERCHANT_COLUMNS`] is in a row: the header must name each exactly once
/// and nothing else.
fn column_positions(header: &[String]) -> anyhow::Result<[usize; 13]> {
    let mut positions = [usize::MAX; 13];
    for (at, name) in header.iter().enumerate() {
        let Some(column) = MERCHANT_COLUMNS.iter().position(|c| c == name) else {
            anyhow::bail!(
                "line 1: unknown column {name:?}; the columns are {}",
                MERCHANT_COLUMNS.join(",")
            );
        };
        if positions[column] != usize::MAX {
            anyhow::bail!("line 1: column {name} is named twice");
        }
        positions[column] = at;
    }
    let missing: Vec<&str> = MERCHANT_COLUMNS
        .iter()
        .zip(positions)
        .filter(|(_, at)| *at == usize::MAX)
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        anyhow::bail!("line 1: the header lacks the columns {}", missing.join(","));
    }
    Ok(positions)
}

fn merchant(fields: &[String], width: usize, positions: &[usize; 13]) -> Result<Merchant, String> {
    if fields.len() != width {
        return Err(format!(
            "csv: the row has {} fields, the header {width}",
            fields.len()
        ));
    }
    let at = |column: usize| fields[positions[column]].as_str();
    let text = MerchantFields {
        id: at(0),
        name: at(1),
        kind: at(2),
        foreign_trade: at(3),
        region_code: at(4),
        category: at(5),
        joined_on: at(6),
        cluster_id: at(7),
        agriculture_base_id: at(8),
        risk_tier: at(9),
        bank_code: at(10),
        account_number: at(11),
        holder_name: at(12),
    };
    Merchant::parse(&text).map_err(|error| error.to_string())
}
