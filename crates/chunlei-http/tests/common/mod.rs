//! The harness the API tests share: the real router on port 0 over a fresh database of every
//! backend. (A `common/mod.rs` rather than `common.rs`, so that Cargo does not build it as a
//! test target of its own.)

#![allow(dead_code)]

use std::sync::Arc;

use chunlei_http::auth::{Role, new_key};
use chunlei_http::{Lending, LendingSlot};
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::Value;

/// A running server on its own database.
pub struct App {
    pub address: std::net::SocketAddr,
    pub http: reqwest::Client,
    pub store: Store,
    pub backend: &'static str,
    /// An operator key, for setting up and checking.
    pub operator: String,
    /// The server's lending configuration, to replace as `chunlei serve` does on SIGHUP.
    pub lending: LendingSlot,
}

/// Runs `scenario` against a fresh server on a fresh database of every backend.
///
/// The database and the last handle to the store live outside the runtime and are dropped
/// after it, even when the scenario panics: the PostgreSQL driver is synchronous and runs a
/// runtime of its own, which may not be started or dropped on an async thread. For the same
/// reason the scenario reaches the store only through `spawn_blocking`.
pub fn each_backend<F, Fut>(scenario: F)
where
    F: Fn(App) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_lending(None, scenario);
}

/// [`each_backend`] with a server that decides loans with `lending` (none when `None`).
pub fn each_backend_lending<F, Fut>(lending: Option<Arc<Lending>>, scenario: F)
where
    F: Fn(App) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open the test store");
        let backend = if db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let app = App::start(store.clone(), backend, lending.clone()).await;
            scenario(app).await;
        });
        drop(runtime);
        drop(store);
        drop(db);
    }
}

impl App {
    pub async fn start(store: Store, backend: &'static str, lending: Option<Arc<Lending>>) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let address = listener.local_addr().expect("bound address");
        let lending = LendingSlot::new(lending);
        // Runs until the runtime is dropped.
        tokio::spawn(chunlei_http::serve_until(
            store.clone(),
            lending.clone(),
            listener,
            std::future::pending(),
        ));
        let mut app = App {
            address,
            http: reqwest::Client::new(),
            store,
            backend,
            operator: String::new(),
            lending,
        };
        app.operator = app.key(Role::Operator).await;
        app
    }

    pub async fn key(&self, role: Role) -> String {
        let (key, record) = new_key(&role);
        let store = self.store.clone();
        let stored = tokio::task::spawn_blocking(move || store.insert_api_key(&record));
        stored.await.expect("key task").expect("store the key");
        key
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let request = self.http.get(self.url(path)).bearer_auth(key);
        answer(request).await
    }

    /// The server's `GET /metrics` page, read with the operator's key.
    pub async fn metrics(&self) -> String {
        let request = self.http.get(self.url("/metrics"));
        let response = request
            .bearer_auth(&self.operator)
            .send()
            .await
            .expect("send the scrape");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("read the page")
    }
}

/// The value of `series` in a Prometheus text `page`, which must hold it once.
pub fn metric(page: &str, series: &str) -> f64 {
    chunlei_http::metrics::read_sample(page, series)
        .unwrap_or_else(|| panic!("{series} once in\n{page}"))
}

pub async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("send the request");
    let status = response.status();
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = response.text().await.expect("read the body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text}"));
    // Every answer says it is JSON, the errors too.
    assert_eq!(
        declared.as_deref(),
        Some("application/json"),
        "{status}: {text}"
    );
    (status, body)
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

pub fn message(body: &Value) -> &str {
    body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}
