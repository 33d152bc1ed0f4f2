//! `chunlei bench`: benchmarks that print their figures, last line `name=value`.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Ledger throughput through the writer the server uses.
    Ledger,
}

pub fn run(_command: BenchCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("bench is not built yet")
}
