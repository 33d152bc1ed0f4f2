//! `chunlei model` and `chunlei loan`: the credit scorecard and loan schedules from the
//! command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    /// Train a WoE + logistic-regression scorecard on a labelled CSV file and write the
    /// model file; prints the information value of every variable and the fit.
    Train {
        #[arg(long)]
        csv: PathBuf,
        /// The column that says whether an application went bad.
        #[arg(long)]
        target: String,
        /// The value of `--target` that means bad.
        #[arg(long)]
        bad: String,
        #[arg(long)]
        out: PathBuf,
        /// The version written into the model (default: derived from its content).
        #[arg(long)]
        version: Option<String>,
        /// Columns that are not variables (identifiers, dates), comma-separated.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
    },
    /// Score a labelled CSV file with a model; prints AUC, KS and PSI, last line
    /// `auc=<x> ks=<y>`.
    Evaluate {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        target: String,
        #[arg(long)]
        bad: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LoanCommand {
    /// Print a repayment schedule as CSV (amounts in yuan with two decimals).
    Schedule {
        #[arg(long)]
        principal_fen: String,
        #[arg(long)]
        annual_rate_percent: String,
        #[arg(long)]
        periods: String,
        /// `equal_installment` or `equal_principal`.
        #[arg(long)]
        method: String,
        /// `30_360` or `act_365`.
        #[arg(long)]
        day_count: String,
        /// The disbursement date, YYYY-MM-DD; the first instalment is due a month later.
        #[arg(long)]
        start: String,
    },
}

pub fn model(command: ModelCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelCommand::Train {
            csv,
            target,
            bad,
            out,
            version,
            exclude,
        } => {
            let mut options = chunlei_scorecard::TrainOptions::new(today());
            options.model_version = version;
            options.exclude_columns = exclude;
            let report = chunlei_scorecard::train_cli(&csv, &target, &bad, &out, &options)
                .with_context(|| format!("cannot train on {}", csv.display()))?;
            println!("{report}");
        }
        ModelCommand::Evaluate {
            model,
            csv,
            target,
            bad,
        } => {
            let report = chunlei_scorecard::evaluate_cli(&model, &csv, &target, &bad)
                .with_context(|| format!("cannot evaluate on {}", csv.display()))?;
            println!("{report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn loan(command: LoanCommand) -> anyhow::Result<ExitCode> {
    match command {
        LoanCommand::Schedule {
            principal_fen,
            annual_rate_percent,
            periods,
            method,
            day_count,
            start,
        } => {
            let csv = chunlei_lending::schedule_cli(&chunlei_lending::ScheduleArgs {
                principal_fen: &principal_fen,
                annual_rate_percent: &annual_rate_percent,
                periods: &periods,
                method: &method,
                day_count: &day_count,
                start: &start,
            })?;
            print!("{csv}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Today's date (UTC), `YYYY-MM-DD`, for the model file.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let date = i32::try_from(days)
        .ok()
        .and_then(chunlei_settlement::CivilDate::from_days);
    date.map_or_else(|| "1970-01-01".to_owned(), |d| d.to_string())
}
