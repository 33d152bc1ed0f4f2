//! The HTTP edge of Chunlei: the JSON API under `/api/v1`, its authentication and its
//! authorisation.
//!
//! Only this crate speaks JSON and HTTP. It converts between the wire format ([`wire`]) and
//! the ledger's types, asks the [`Store`] to apply or read them, and maps every failure to
//! one error shape in one place ([`ApiError`]). Who is calling is established by [`auth`];
//! what they may do is decided by [`access::authorize`].
//!
//! Routes:
//!
//! - `GET  /healthz` (no key)
//! - `POST /api/v1/accounts`, `POST /api/v1/transfers`: create a batch, one result per event
//! - `GET  /api/v1/accounts/{id}`, `GET /api/v1/transfers/{id}`
//! - `POST /api/v1/accounts/lookup`, `POST /api/v1/transfers/lookup`: `{"ids":[…]}`
//! - `GET  /api/v1/accounts/{id}/transfers`, `GET /api/v1/accounts/{id}/balances`
//! - `PUT  /api/v1/merchants/{id}`, `GET /api/v1/merchants/{id}`: the merchant registry
//! - `GET  /api/v1/merchants?after=&limit=`: the registry in order of id
//! - `POST /api/v1/events`: order events, one result per event
//! - `GET  /api/v1/orders/{id}`, `GET /api/v1/merchants/{id}/statement?after=&limit=`
//! - `POST /api/v1/merchants/{id}/payouts`, `GET /api/v1/payouts?status=&after=&limit=`,
//!   `POST /api/v1/payouts/{id}/result`: payouts and the bank's answers
//! - `GET  /api/v1/program`: the zero-account-period programme's figures
//! - `POST /api/v1/loan-applications`: decide a loan application at once (503
//!   `lending_not_configured` unless the server runs with a lending configuration and a
//!   scorecard); `GET /api/v1/loan-applications/{id}`: the stored decision
//! - `POST /api/v1/loans`, `GET /api/v1/loans?…`, `GET /api/v1/loans/{id}`: accept an offer
//!   (the loan is disbursed), list and read loans
//! - `POST /api/v1/loans/{id}/payments`, `…/relief`, `…/write-off`: servicing
//! - `GET  /api/v1/portfolio`, `GET /api/v1/banks`: the portfolio and the consortium
//! - `GET  /metrics`: the loan decisions', settlement answers' and store commits' counts in
//!   the Prometheus text format ([`metrics`])

mod accepted;
pub mod access;
mod api;
pub mod auth;
mod body;
mod error;
mod flags;
mod loans;
pub mod metrics;
mod party;
mod settle;
mod wire;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use chunlei_store::{Store, StoreError};
use tokio::net::TcpListener;

pub use body::BODY_BYTES_MAX;
pub use error::ApiError;
pub use loans::{Lending, LendingSlot};
pub use party::PartyId;
pub use wire::format_time;
pub use wire::{LendingConfigError, lending_from_json};

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// Empty when the server runs without a lending configuration: applications answer 503
    /// (stored decisions can still be read).
    pub lending: LendingSlot,
    /// API keys recently found in the store ([`auth::KEY_CACHE_TTL`]).
    pub keys: Arc<auth::KeyCache>,
    /// What the server counts of its decisions and settlement answers, for `GET /metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

/// Nanoseconds since the Unix epoch, by the server's clock.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The whole application: every route, its limits and its fallbacks.
pub fn router(store: Store, lending: impl Into<LendingSlot>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/v1/accounts", post(api::create_accounts))
        .route("/api/v1/accounts/lookup", post(api::lookup_accounts))
        .route("/api/v1/accounts/{id}", get(api::get_account))
        .route(
            "/api/v1/accounts/{id}/transfers",
            get(api::account_transfers),
        )
        .route("/api/v1/accounts/{id}/balances", get(api::account_balances))
        .route("/api/v1/transfers", post(api::create_transfers))
        .route("/api/v1/transfers/lookup", post(api::lookup_transfers))
        .route("/api/v1/transfers/{id}", get(api::get_transfer))
        .route("/api/v1/merchants", get(api::list_merchants))
        .route(
            "/api/v1/merchants/{id}",
            put(api::put_merchant).get(api::get_merchant),
        )
        .route(
            "/api/v1/merchants/{id}/fraud-flag",
            put(flags::put_fraud_flag)
                .get(flags::get_fraud_flag)
                .delete(flags::delete_fraud_flag),
        )
        .route(
            "/api/v1/merchants/{id}/fraud-flag/events",
            get(flags::get_fraud_flag_events),
        )
        .route("/api/v1/events", post(settle::post_events))
        .route("/api/v1/orders/{id}", get(settle::get_order))
        .route(
            "/api/v1/merchants/{id}/statement",
            get(settle::get_statement),
        )
        .route("/api/v1/merchants/{id}/payouts", post(settle::post_payout))
        .route("/api/v1/payouts", get(settle::list_payouts))
        .route(
            "/api/v1/payouts/{id}/result",
            post(settle::post_payout_result),
        )
        .route("/api/v1/program", get(settle::get_program))
        .route("/api/v1/loan-applications", post(loans::post_application))
        .route(
            "/api/v1/loans",
            post(accepted::post_loan).get(accepted::list_loans),
        )
        .route("/api/v1/loans/{id}", get(accepted::get_loan))
        .route("/api/v1/portfolio", get(accepted::get_portfolio))
        .route("/api/v1/banks", get(accepted::list_banks))
        .route("/api/v1/loans/{id}/payments", post(accepted::post_payment))
        .route("/api/v1/loans/{id}/relief", post(accepted::post_relief))
        .route(
            "/api/v1/loans/{id}/write-off",
            post(accepted::post_write_off),
        )
        .route(
            "/api/v1/loan-applications/{id}",
            get(loans::get_application),
        )
        .fallback(api::route_not_found)
        // Applies to the routes above, so it must come after them.
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(AppState {
            store,
            lending: lending.into(),
            keys: Arc::default(),
            metrics: Arc::default(),
        })
}

/// Serves the application on `listener` until SIGINT or SIGTERM, then finishes the requests
/// in flight and returns.
pub async fn serve(
    store: Store,
    lending: impl Into<LendingSlot>,
    listener: TcpListener,
) -> std::io::Result<()> {
    serve_until(store, lending, listener, shutdown_signal()).await
}

/// Connections waiting to be accepted, at most (the kernel may cap it lower, at
/// `net.core.somaxconn`). The usual default of 128 drops connection attempts when a few hundred
/// clients connect at once (a restart, a load test), and a dropped attempt is retried by the
/// client's kernel only after a second.
pub const LISTEN_BACKLOG: u32 = 1_024;

/// A listener on `address` (`host:port`; the first address it resolves to that can be bound)
/// with a queue of [`LISTEN_BACKLOG`] connections.
pub async fn listen(address: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for candidate in tokio::net::lookup_host(address).await? {
        let socket = if candidate.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(candidate) {
            Ok(()) => return socket.listen(LISTEN_BACKLOG),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{address} resolves to no address"),
        )
    }))
}

/// [`serve`] until `shutdown` completes.
pub async fn serve_until(
    store: Store,
    lending: impl Into<LendingSlot>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = store.clone();
    let served = axum::serve(listener, router(store, lending))
        .with_graceful_shutdown(shutdown)
        .await;
    // A store on PostgreSQL holds synchronous clients whose drop blocks on a runtime of their
    // own, which panics on an async thread. Should this be the last handle, release it on a
    // blocking thread.
    let _ = tokio::task::spawn_blocking(move || drop(handle)).await;
    served
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C; stop the server with SIGTERM");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut signals) => {
                signals.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; stop the server with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; finishing requests in flight"),
        () = terminate => tracing::info!("terminated; finishing requests in flight"),
    }
}

/// Runs a synchronous store call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let joined = tokio::task::spawn_blocking(call).await;
    let result = joined.map_err(|e| ApiError::Internal(format!("a database task failed: {e}")))?;
    Ok(result?)
}
