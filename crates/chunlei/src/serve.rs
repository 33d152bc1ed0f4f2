//! `chunlei serve`: the HTTP API on a store.

use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = crate::DEFAULT_DB, env = "CHUNLEI_DB")]
    pub db: String,
    /// Address to listen on; port 0 picks a free port, printed once bound.
    #[arg(long, default_value = "127.0.0.1:8080", env = "CHUNLEI_LISTEN")]
    pub listen: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(&args.db)?;
    // Dropped after the runtime, so that the store's last handle is released on this thread:
    // synchronous database clients may not be dropped on an async thread.
    let handle = store.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the bound address")?;
        tracing::info!(db = %store.url(), "serving the API");
        // Printed rather than logged so that it appears whatever the log filter: scripts and
        // tests that pass `--listen 127.0.0.1:0` read the port from this line.
        eprintln!("listening on {address}");
        chunlei_http::serve(store, listener)
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    });
    drop(runtime);
    drop(handle);
    served
}
