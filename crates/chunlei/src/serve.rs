//! `chunlei serve`: the HTTP API on a store.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = crate::DEFAULT_DB, env = "CHUNLEI_DB")]
    pub db: String,
    #[arg(long, default_value = "127.0.0.1:8080", env = "CHUNLEI_LISTEN")]
    pub listen: String,
}

pub fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("serve is not built yet")
}
