//! `chunlei`: the one binary of the relief platform.

mod bench;
mod credit;
mod import;
mod keys;
mod serve;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The settlement engine allocates and frees many small strings per event on two threads;
/// mimalloc's per-thread free lists cost a fraction of glibc's (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://chunlei.db";

#[derive(Debug, Parser)]
#[command(
    name = "chunlei",
    version,
    about = "Chunlei (春雷): SME relief platform — ledger, settlement and lending"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(serve::ServeArgs),
    /// Create the database schema, or bring it up to date, and exit.
    Migrate {
        #[arg(long, default_value = DEFAULT_DB, env = "CHUNLEI_DB")]
        db: String,
    },
    /// Manage API keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Bulk imports from files: all rows or none.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Ledger maintenance.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The credit scorecard: train and evaluate models.
    #[command(subcommand)]
    Model(credit::ModelCommand),
    /// Loans: repayment schedules.
    #[command(subcommand)]
    Loan(credit::LoanCommand),
    /// Benchmarks; each ends with one `name=value` line.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute every balance from the transfers and check the trial balance and limits.
    Verify {
        #[arg(long, default_value = DEFAULT_DB, env = "CHUNLEI_DB")]
        db: String,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Migrate { db } => open_store(&db).map(|_| ExitCode::SUCCESS),
        Command::Keys(command) => keys::run(command),
        Command::Import(command) => import::run(command),
        Command::Ledger(LedgerCommand::Verify { db }) => verify::run(&db),
        Command::Bench(command) => bench::run(command),
        Command::Model(command) => credit::model(command),
        Command::Loan(command) => credit::loan(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens (and migrates) the store named by a `--db` URL.
pub fn open_store(db: &str) -> anyhow::Result<chunlei_store::Store> {
    let url = chunlei_store::DbUrl::parse(db)?;
    let store = chunlei_store::Store::open(&url, chunlei_store::StoreOptions::default())
        .map_err(|e| anyhow::anyhow!("cannot open {url}: {e}"))?;
    Ok(store)
}

/// Opens the store for an administrative command: with the writer when the database is free,
/// and without it when a server holds it (SQLite lets one process write the ledger), so keys
/// and merchants can be managed beside a running server.
pub fn open_store_for_admin(db: &str) -> anyhow::Result<chunlei_store::Store> {
    let url = chunlei_store::DbUrl::parse(db)?;
    match chunlei_store::Store::open(&url, chunlei_store::StoreOptions::default()) {
        Ok(store) => Ok(store),
        Err(chunlei_store::StoreError::InUse(_)) => chunlei_store::Store::open_without_writer(&url)
            .map_err(|e| anyhow::anyhow!("cannot open {url}: {e}")),
        Err(e) => Err(anyhow::anyhow!("cannot open {url}: {e}")),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHUNLEI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
