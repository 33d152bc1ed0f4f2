//! `chunlei keys`: API keys.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once.
    Create,
}

pub fn run(_command: KeysCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("keys are not built yet")
}
