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
    /// Pay out every merchant's available balance each day at this time (UTC, `HH:MM`); at
    /// start, a day whose time has passed is run at once (a day is never paid out twice).
    #[arg(long, value_name = "HH:MM", value_parser = minute_of_day)]
    pub daily_payouts_at: Option<u32>,
    /// Collect what falls due on loans each day at this time (UTC, `HH:MM`) from the
    /// merchants' available balances; at start, a day whose time has passed is run at once
    /// (a loan is collected from at most once a day).
    #[arg(long, value_name = "HH:MM", value_parser = minute_of_day)]
    pub loan_collection_at: Option<u32>,
    /// Decide loan applications with this lending configuration (JSON: the decision policy
    /// and the banks; see docs/lending.example.json). Needs --scorecard. Read again, with the
    /// scorecard, on SIGHUP: applications from then on are decided with the new ones, and
    /// files that cannot be loaded leave the ones in force.
    #[arg(long, value_name = "FILE", requires = "scorecard")]
    pub lending: Option<std::path::PathBuf>,
    /// The scorecard model (from `chunlei model train`) that scores loan applications. Needs
    /// --lending.
    #[arg(long, value_name = "FILE", requires = "lending")]
    pub scorecard: Option<std::path::PathBuf>,
}

/// The lending configuration and scorecard, when both are given.
pub fn load_lending(
    lending: Option<&std::path::Path>,
    scorecard: Option<&std::path::Path>,
) -> anyhow::Result<Option<std::sync::Arc<chunlei_http::Lending>>> {
    let (Some(lending), Some(scorecard)) = (lending, scorecard) else {
        return Ok(None);
    };
    lending_from_files(lending, scorecard).map(Some)
}

/// The lending configuration in `lending` with the scorecard in `scorecard`.
fn lending_from_files(
    lending: &std::path::Path,
    scorecard: &std::path::Path,
) -> anyhow::Result<std::sync::Arc<chunlei_http::Lending>> {
    let bytes = std::fs::read(lending).with_context(|| {
        format!(
            "cannot read the lending configuration {}",
            lending.display()
        )
    })?;
    let (policy, consortium) = chunlei_http::lending_from_json(&bytes)
        .with_context(|| format!("invalid lending configuration {}", lending.display()))?;
    let card = chunlei_scorecard::load_model(scorecard)
        .with_context(|| format!("cannot load the scorecard {}", scorecard.display()))?;
    Ok(std::sync::Arc::new(chunlei_http::Lending::new(
        policy, consortium, card,
    )))
}

/// Reads the lending configuration and the scorecard again from their files on every SIGHUP
/// and puts them in force. When either cannot be read or is invalid, the error is logged and
/// the ones in force stay. A server without them logs that there is nothing to reload (and is
/// not stopped, as SIGHUP would by default).
#[cfg(unix)]
async fn reload_on_hangup(
    slot: chunlei_http::LendingSlot,
    files: Option<(std::path::PathBuf, std::path::PathBuf)>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::error!(%error, "cannot listen for SIGHUP: the lending configuration cannot be reloaded");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        let Some((config, card)) = files.clone() else {
            tracing::warn!("SIGHUP: this server runs without --lending; nothing to reload");
            continue;
        };
        match tokio::task::spawn_blocking(move || lending_from_files(&config, &card)).await {
            Ok(Ok(loaded)) => {
                tracing::info!(
                    policy_version = %loaded.policy.version,
                    model_version = %loaded.scorecard.model_version,
                    "lending configuration reloaded"
                );
                slot.replace(loaded);
            }
            Ok(Err(error)) => tracing::error!(
                error = format!("{error:#}"),
                "lending configuration not reloaded; the one in force stays"
            ),
            Err(error) => tracing::error!(%error, "the lending configuration's reload failed"),
        }
    }
}

/// `HH:MM` as minutes after midnight.
fn minute_of_day(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time of day as HH:MM (00:00 to 23:59)");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Pays out every merchant's available balance.
fn pay_out(store: &chunlei_store::Store, date: chunlei_settlement::CivilDate) {
    match store.daily_payouts_blocking(date) {
        Ok(done) => tracing::info!(
            %date,
            merchants = done.merchants,
            payouts = done.payouts,
            amount_fen = done.amount,
            "daily payouts"
        ),
        Err(error) => tracing::error!(%error, %date, "daily payouts failed"),
    }
}

/// Collects what is due on every open loan.
fn collect_due(store: &chunlei_store::Store, date: chunlei_settlement::CivilDate) {
    match store.collect_due_blocking(date) {
        Ok(done) => tracing::info!(
            %date,
            loans = done.loans,
            collections = done.collections,
            amount_fen = done.amount,
            "loan collection"
        ),
        Err(error) => tracing::error!(%error, %date, "loan collection failed"),
    }
}

/// Runs `job` every day at `minute` past midnight UTC, for as long as the server runs.
async fn daily(
    store: chunlei_store::Store,
    minute: u32,
    job: fn(&chunlei_store::Store, chunlei_settlement::CivilDate),
) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (today, second) = (now / 86_400, now % 86_400);
        let due = u64::from(minute) * 60;
        let wait = if second >= due {
            let date = i32::try_from(today)
                .ok()
                .and_then(chunlei_settlement::CivilDate::from_days);
            if let Some(date) = date {
                let store = store.clone();
                if let Err(error) = tokio::task::spawn_blocking(move || job(&store, date)).await {
                    tracing::error!(%error, %date, "a daily task failed");
                }
            }
            86_400 - second + due
        } else {
            due - second
        };
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let lending = chunlei_http::LendingSlot::new(load_lending(
        args.lending.as_deref(),
        args.scorecard.as_deref(),
    )?);
    let store = crate::open_store(&args.db)?;
    // Dropped after the runtime, so that the store's last handle is released on this thread:
    // synchronous database clients may not be dropped on an async thread.
    let handle = store.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = chunlei_http::listen(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the bound address")?;
        tracing::info!(db = %store.url(), "serving the API");
        if let Some(minute) = args.daily_payouts_at {
            tokio::spawn(daily(store.clone(), minute, pay_out));
        }
        if let Some(minute) = args.loan_collection_at {
            tokio::spawn(daily(store.clone(), minute, collect_due));
        }
        #[cfg(unix)]
        tokio::spawn(reload_on_hangup(
            lending.clone(),
            args.lending.clone().zip(args.scorecard.clone()),
        ));
        // Printed rather than logged so that it appears whatever the log filter: scripts and
        // tests that pass `--listen 127.0.0.1:0` read the port from this line.
        eprintln!("listening on {address}");
        chunlei_http::serve(store, lending, listener)
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    });
    drop(runtime);
    drop(handle);
    served
}
