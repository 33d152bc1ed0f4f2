//! Loan applications end to end on every backend: decided in the request, stored durably with
//! what they were made from, idempotent by application id, and shown only to whom they
//! concern.
//!
//! The server runs with `docs/lending.example.json` (so the example stays valid), changed in
//! two ways: grade cut-offs low enough that the tiny scorecard trained here grades every
//! merchant A (the knock-outs, the sizing and the banks decide), and the nationwide bank
//! restricted to Zhejiang so that each bank lends to its own merchants.

use std::sync::Arc;

use chunlei_http::Lending;
use chunlei_http::PartyId;
use chunlei_http::auth::Role;
use chunlei_ledger::Fen;
use chunlei_settlement::OrderEvent;
use chunlei_settlement::book::{Command, EventIn};
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

mod common;
use common::{App, answer, code, each_backend, each_backend_lending, metric};

const DAY_NS: u64 = 86_400 * 1_000_000_000;
/// The days of sales the established merchants have, one order a day.
const SALES_DAYS: u64 = 120;
/// What each of those orders paid: ¥10,000.
const DAILY_SALES_FEN: u64 = 1_000_000;

/// A scorecard trained on a small fixed table: sales of the last 30 days separate good from
/// bad, with some exceptions so that the regression has a finite fit.
fn scorecard() -> chunlei_scorecard::Scorecard {
    let mut csv = String::from("sales_30d_fen,active_days_90d,bad\n");
    for i in 0..600_u64 {
        let step = i % 30;
        let bad = (step < 10 && i % 3 != 0) || (step >= 10 && i % 11 == 0);
        csv.push_str(&format!(
            "{},{},{}\n",
            (step + 1) * 1_000_000,
            5 + (i * 7) % 86,
            u8::from(bad)
        ));
    }
    let table = chunlei_scorecard::csv::Table::parse(csv.as_bytes()).expect("a table");
    let mut options = chunlei_scorecard::TrainOptions::new("2026-11-26");
    options.model_version = Some("sc-test-1".to_owned());
    chunlei_scorecard::train(&table, "bad", "1", &options).expect("a scorecard")
}

fn lending() -> Arc<Lending> {
    lending_with(|_| {})
}

/// [`lending`] with `edit` made to its configuration.
fn lending_with(edit: impl FnOnce(&mut Value)) -> Arc<Lending> {
    let example = include_str!("../../../docs/lending.example.json");
    let mut config: Value = serde_json::from_str(example).expect("the example is JSON");
    config["policy"]["grades"] =
        json!({"a_min": -1000, "b_min": -1001, "c_min": -1002, "d_min": -1003});
    for bank in config["banks"].as_array_mut().expect("banks") {
        bank["score_cutoff"] = json!(-1000);
    }
    config["banks"][0]["regions"] = json!(["33"]);
    edit(&mut config);
    let bytes = serde_json::to_vec(&config).expect("JSON");
    let (policy, consortium) = chunlei_http::lending_from_json(&bytes).expect("a valid config");
    Arc::new(Lending::new(policy, consortium, scorecard()))
}

#[test]
fn the_example_configuration_is_valid() {
    let example = include_bytes!("../../../docs/lending.example.json");
    let (policy, consortium) = chunlei_http::lending_from_json(example).expect("valid");
    assert_eq!(policy.version, "policy-2026-11");
    assert_eq!(consortium.banks().len(), 2);
    assert_eq!(policy.servicing.penalty_multiple_bps, 15_000);
    // Another allocation order is read as written.
    let mut config: Value = serde_json::from_slice(example).expect("JSON");
    config["policy"]["servicing"]["allocation"] =
        json!(["principal", "interest", "penalty", "fee"]);
    let (policy, _) = chunlei_http::lending_from_json(&serde_json::to_vec(&config).expect("JSON"))
        .expect("valid");
    assert_eq!(
        policy.servicing.allocation,
        chunlei_lending::servicing::AllocationOrder::PRINCIPAL_INTEREST_PENALTY_FEE
    );
}

#[test]
fn configuration_errors_name_the_field() {
    let example = include_str!("../../../docs/lending.example.json");
    let config: Value = serde_json::from_str(example).expect("JSON");
    // (JSON pointer, new value, the start of the error)
    let cases = [
        (
            "/policy/sizing/cap_fen",
            json!(-1),
            "policy.sizing.cap_fen: must be a whole number, zero or more",
        ),
        (
            "/banks/1/products/1/kind",
            json!("lease"),
            "banks[1].products[1].kind: must be amortising or revenue_based",
        ),
        (
            "/policy/grades/b_min",
            json!(800),
            "policy.grades: the cut-offs must fall strictly",
        ),
        ("/banks/1/bank_id", json!("icbc"), "banks: "),
        (
            "/policy/servicing/allocation",
            json!(["penalty", "fee", "fee", "principal"]),
            "policy.servicing.allocation: must name penalty, fee, interest and principal once each",
        ),
        (
            "/policy/servicing/penalty_multiple_bps",
            json!(100_001),
            "policy.servicing.penalty_multiple_bps: must be at most 100000",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut changed = config.clone();
        *changed.pointer_mut(pointer).expect("the field exists") = value;
        let error = chunlei_http::lending_from_json(&serde_json::to_vec(&changed).expect("JSON"))
            .expect_err("refused");
        assert!(error.to_string().starts_with(expected), "{error}");
    }
    let mut unknown = config.clone();
    unknown["policy"]["knockouts"]["tenure_min"] = json!(1);
    let error = chunlei_http::lending_from_json(&serde_json::to_vec(&unknown).expect("JSON"))
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "policy.knockouts.tenure_min: is not a known field"
    );
}

impl App {
    async fn post_json(&self, key: &str, body: &Value) -> (StatusCode, Value) {
        let url = self.url("/api/v1/loan-applications");
        answer(self.http.post(url).bearer_auth(key).json(body)).await
    }

    async fn apply(&self, key: &str, id: &str, merchant: &str, amount: u64) -> (StatusCode, Value) {
        let body = json!({"id": id, "merchant_id": merchant, "amount": amount, "term_months": 6});
        self.post_json(key, &body).await
    }

    /// Registers a merchant in `region` that joined on `joined_on`.
    async fn register(&self, id: &str, region: &str, joined_on: &str) {
        let body = json!({
            "name": "测试商户", "kind": "factory", "foreign_trade": false,
            "region_code": region, "category": "apparel", "joined_on": joined_on,
            "risk_tier": "B", "bank_code": "ICBC", "account_number": "6222000011112222",
            "holder_name": "测试商户"
        });
        let request = self
            .http
            .put(self.url(&format!("/api/v1/merchants/{id}")))
            .bearer_auth(&self.operator)
            .json(&body);
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// One paid order a day for the last [`SALES_DAYS`] days, through the settlement path.
    async fn sales(&self, merchant: &str) {
        let store = self.store.clone();
        let merchant = merchant.to_owned();
        let results = tokio::task::spawn_blocking(move || {
            let now = now_ns();
            let commands = (1..=SALES_DAYS)
                .map(|age| {
                    Command::Order(EventIn {
                        event_id: format!("{merchant}-paid-{age}"),
                        order_id: format!("{merchant}-order-{age}"),
                        merchant_id: merchant.clone(),
                        occurred_at: now - age * DAY_NS,
                        event: OrderEvent::Paid {
                            merchant_id: merchant.clone(),
                            amount: Fen::new(DAILY_SALES_FEN).expect("amount"),
                            category: "apparel".into(),
                            channel: "taobao".into(),
                        },
                    })
                })
                .collect();
            store.settle_blocking(commands)
        });
        let results = results.await.expect("task").expect("settled");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }

    /// Two established merchants, one in Zhejiang (icbc lends) and one in Guangdong (webank
    /// lends), and one that joined ten days ago with no sales.
    async fn merchants(&self) {
        self.register("m-zj", "330302", "2024-01-01").await;
        self.register("m-gd", "440305", "2024-01-01").await;
        self.register("m-new", "330302", &days_ago(10)).await;
        self.sales("m-zj").await;
        self.sales("m-gd").await;
    }
}

fn now_ns() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    u64::try_from(now).expect("fits")
}

/// The date `days` days before today (UTC), `YYYY-MM-DD`.
fn days_ago(days: u64) -> String {
    let today = i32::try_from(now_ns() / DAY_NS).expect("fits");
    let day = today - i32::try_from(days).expect("fits");
    chunlei_ledger::CivilDate::from_days(day)
        .expect("a date")
        .to_string()
}

#[test]
fn approved_and_declined_decisions() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let (status, body) = app.apply(&app.operator, "app-1", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.backend);
        assert_eq!(body["status"], "approved", "{body}");
        assert_eq!(body["offer"]["bank_id"], "icbc");
        assert_eq!(body["offer"]["amount"], 5_000_000);
        assert_eq!(body["offer"]["rate_bps"], 600);
        assert_eq!(body["offer"]["term_months"], 6);
        assert_eq!(body["offer"]["product"], "amortising");
        // The stored offer in full, every value as its text.
        let detail = body["offer"]["detail"].as_object().expect("an object");
        assert_eq!(detail["bank_id"], "icbc", "{body}");
        assert_eq!(detail["amount_fen"], "5000000", "{body}");
        assert_eq!(detail["price_bps"], "600", "{body}");
        assert_eq!(detail["product"], "amortising", "{body}");
        assert!(detail.values().all(Value::is_string), "{body}");
        assert_eq!(body["model_version"], "sc-test-1");
        assert_eq!(body["policy_version"], "policy-2026-11");
        assert_eq!(body["grade"], "A");
        assert_eq!(body["reasons"], json!([]));

        let (status, body) = app.apply(&app.operator, "app-2", "m-new", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "declined", "{body}");
        assert!(body.get("offer").is_none(), "{body}");
        let reasons = body["reasons"].as_array().expect("reasons");
        assert!((1..=4).contains(&reasons.len()), "{body}");
        let codes: Vec<&str> = reasons
            .iter()
            .map(|r| r["code"].as_str().expect("code"))
            .collect();
        assert_eq!(codes, ["too_new", "no_sales", "inactive"]);
        for reason in reasons {
            assert!(!reason["zh"].as_str().expect("zh").is_empty(), "{reason}");
            assert!(!reason["en"].as_str().expect("en").is_empty(), "{reason}");
        }

        // A request above what the sales support is sized down, never above the request.
        let (_, body) = app.apply(&app.operator, "app-3", "m-gd", 90_000_000).await;
        assert_eq!(body["status"], "approved", "{body}");
        assert_eq!(body["offer"]["bank_id"], "webank");
        assert_eq!(
            body["offer"]["amount"], 10_000_000,
            "webank's limit per borrower"
        );

        let (status, body) = app
            .apply(&app.operator, "app-4", "m-unknown", 5_000_000)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    });
}

#[test]
fn an_application_id_is_decided_once() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let (status, first) = app.apply(&app.operator, "app-1", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, again) = app.apply(&app.operator, "app-1", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, first, "the stored decision, decided_at included");
        let (status, body) = app.apply(&app.operator, "app-1", "m-zj", 6_000_000).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(code(&body), "application_id_conflict");
        let (status, body) = app.apply(&app.operator, "app-1", "m-gd", 5_000_000).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, read) = app
            .get("/api/v1/loan-applications/app-1", &app.operator)
            .await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read, first);

        // Sent four times at once: each may be decided, but the first stored is every answer.
        let key = &app.operator;
        let (a, b, c, d) = tokio::join!(
            app.apply(key, "app-race", "m-gd", 5_000_000),
            app.apply(key, "app-race", "m-gd", 5_000_000),
            app.apply(key, "app-race", "m-gd", 5_000_000),
            app.apply(key, "app-race", "m-gd", 5_000_000),
        );
        assert_eq!(a.0, StatusCode::OK, "{}", a.1);
        for (status, body) in [&b, &c, &d] {
            assert_eq!(*status, StatusCode::OK, "{body}");
            assert_eq!(body, &a.1, "{}", app.backend);
        }
    });
}

#[test]
fn decisions_are_durable() {
    for db in TestDb::all() {
        let lending = lending();
        let first = {
            let store = Store::open(&db.url, StoreOptions::default()).expect("open");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let first = runtime.block_on(async {
                let app = App::start(store.clone(), "either", Some(lending.clone())).await;
                app.merchants().await;
                let (status, body) = app.apply(&app.operator, "app-1", "m-zj", 5_000_000).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body
            });
            drop(runtime);
            first
        };
        let store = Store::open(&db.url, StoreOptions::default()).expect("reopen");
        let stored = store.loan_decision("app-1").expect("read").expect("stored");
        assert_eq!(stored.outcome, "approved");
        assert_eq!(stored.bank_id.as_deref(), Some("icbc"));
        assert_eq!(
            stored.decided_at,
            first["decided_at"].as_u64().expect("decided_at")
        );
        assert!(
            stored.features.contains("sales_30d_fen="),
            "{}",
            stored.features
        );
        assert!(
            stored.answers.contains("icbc=offered"),
            "{}",
            stored.answers
        );
        assert!(
            stored.answers.contains("webank=region_not_served"),
            "{}",
            stored.answers
        );
        drop(store);
        drop(db);
    }
}

#[test]
fn who_sees_which_decision() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let party = |id: &str| PartyId::parse(id).expect("party id");
        let zj = app.key(Role::Merchant(party("m-zj"))).await;
        let gd = app.key(Role::Merchant(party("m-gd"))).await;
        let icbc = app.key(Role::Bank(party("icbc"))).await;
        let webank = app.key(Role::Bank(party("webank"))).await;

        // A merchant applies for itself only; a bank never applies.
        let (status, body) = app.apply(&zj, "app-zj", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.apply(&zj, "app-x", "m-gd", 5_000_000).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = app.apply(&icbc, "app-y", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = app.apply(&app.operator, "app-gd", "m-gd", 5_000_000).await;
        assert_eq!(body["offer"]["bank_id"], "webank", "{status} {body}");
        let (_, body) = app
            .apply(&app.operator, "app-new", "m-new", 5_000_000)
            .await;
        assert_eq!(body["status"], "declined", "{body}");

        let read = |key: String, id: &'static str| {
            let app = &app;
            async move {
                app.get(&format!("/api/v1/loan-applications/{id}"), &key)
                    .await
                    .0
            }
        };
        assert_eq!(read(zj.clone(), "app-zj").await, StatusCode::OK);
        assert_eq!(read(zj.clone(), "app-gd").await, StatusCode::NOT_FOUND);
        assert_eq!(read(gd.clone(), "app-gd").await, StatusCode::OK);
        assert_eq!(read(gd.clone(), "app-zj").await, StatusCode::NOT_FOUND);
        // A bank sees the decisions whose chosen offer is its own, nothing else.
        assert_eq!(read(icbc.clone(), "app-zj").await, StatusCode::OK);
        assert_eq!(read(icbc.clone(), "app-gd").await, StatusCode::NOT_FOUND);
        assert_eq!(read(icbc.clone(), "app-new").await, StatusCode::NOT_FOUND);
        assert_eq!(read(webank.clone(), "app-gd").await, StatusCode::OK);
        assert_eq!(read(webank.clone(), "app-zj").await, StatusCode::NOT_FOUND);
        assert_eq!(read(webank.clone(), "app-new").await, StatusCode::NOT_FOUND);
        assert_eq!(
            read(app.operator.clone(), "app-none").await,
            StatusCode::NOT_FOUND
        );

        // Without a key.
        let url = app.url("/api/v1/loan-applications");
        let body = json!({"id": "a", "merchant_id": "m-zj", "amount": 1, "term_months": 6});
        let (status, body) = answer(app.http.post(url).json(&body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&body), "unauthenticated");
        let url = app.url("/api/v1/loan-applications/app-zj");
        let (status, _) = answer(app.http.get(url)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    });
}

#[test]
fn decisions_are_counted_for_monitoring() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let scrape = |key: Option<String>| {
            let app = &app;
            async move {
                let mut request = app.http.get(app.url("/metrics"));
                if let Some(key) = key {
                    request = request.bearer_auth(key);
                }
                let response = request.send().await.expect("send");
                let status = response.status();
                let kind = response.headers().get(CONTENT_TYPE).cloned();
                let text = response.text().await.expect("a body");
                (status, kind, text)
            }
        };
        let (status, _, page) = scrape(Some(app.operator.clone())).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let approved = "chunlei_loan_decisions_total{outcome=\"approved\"}";
        assert_eq!(metric(&page, approved), 0.0);
        assert_eq!(metric(&page, "chunlei_loan_decision_seconds_count"), 0.0);
        let committed = "chunlei_store_commits_total{result=\"committed\"}";
        let committed_before = metric(&page, committed);
        assert!(
            committed_before >= 1.0,
            "the merchants were registered: {page}"
        );

        let key = &app.operator;
        assert_eq!(
            app.apply(key, "app-1", "m-zj", 5_000_000).await.0,
            StatusCode::OK
        );
        assert_eq!(
            app.apply(key, "app-2", "m-gd", 5_000_000).await.0,
            StatusCode::OK
        );
        let (_, body) = app.apply(key, "app-3", "m-new", 5_000_000).await;
        assert_eq!(body["status"], "declined", "{body}");
        // The same application again, then different content under its id.
        assert_eq!(
            app.apply(key, "app-1", "m-zj", 5_000_000).await.0,
            StatusCode::OK
        );
        let (status, _) = app.apply(key, "app-1", "m-zj", 6_000_000).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = app.apply(key, "app-4", "m-unknown", 5_000_000).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let integration = app.key(Role::Integration).await;
        let (status, kind, page) = scrape(Some(integration)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            kind.as_ref().and_then(|v| v.to_str().ok()),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        assert_eq!(metric(&page, approved), 2.0, "{}", app.backend);
        let declined = "chunlei_loan_decisions_total{outcome=\"declined\"}";
        assert_eq!(metric(&page, declined), 1.0);
        assert_eq!(
            metric(&page, "chunlei_loan_applications_replayed_total"),
            1.0
        );
        let refused = |code: &str| {
            metric(
                &page,
                &format!("chunlei_loan_applications_refused_total{{code=\"{code}\"}}"),
            )
        };
        assert_eq!(refused("application_id_conflict"), 1.0);
        assert_eq!(refused("not_found"), 1.0, "the unknown merchant");
        // Every decision made is in the histogram, once, and took some time.
        let count = metric(&page, "chunlei_loan_decision_seconds_count");
        assert_eq!(count, 3.0);
        let infinite = "chunlei_loan_decision_seconds_bucket{le=\"+Inf\"}";
        assert_eq!(metric(&page, infinite), count);
        assert!(metric(&page, "chunlei_loan_decision_seconds_sum") > 0.0);
        // Where the inputs came from, where the store keeps them: each merchant's first
        // application read them; the two under app-1's id again were decided from memory.
        let memory = "chunlei_loan_decision_inputs_total{source=\"memory\"}";
        match app.backend {
            "sqlite" => {
                let read = "chunlei_loan_decision_inputs_total{source=\"read\"}";
                assert_eq!(metric(&page, read), 3.0, "{page}");
                assert_eq!(metric(&page, memory), 2.0, "{page}");
            }
            _ => assert!(!page.contains(memory), "{page}"),
        }
        // The store's commits: the three decisions stored, each once, by commits that took
        // some time; none failed.
        assert_eq!(
            metric(&page, "chunlei_store_committed_decisions_total"),
            3.0,
            "{page}"
        );
        let commits = metric(&page, committed);
        assert!(commits > committed_before, "{page}");
        assert_eq!(metric(&page, "chunlei_store_commit_seconds_count"), commits);
        assert!(metric(&page, "chunlei_store_commit_seconds_sum") > 0.0);
        let failed = "chunlei_store_commits_total{result=\"failed\"}";
        assert_eq!(metric(&page, failed), 0.0);
        // SQLite's WAL checkpoints, where there is a WAL: none failed.
        let checkpoints_failed = "chunlei_store_wal_checkpoints_total{result=\"failed\"}";
        match app.backend {
            "sqlite" => assert_eq!(metric(&page, checkpoints_failed), 0.0, "{page}"),
            _ => assert!(!page.contains("chunlei_store_wal_"), "{page}"),
        }

        // Only the platform's own systems read it.
        let party = |id: &str| PartyId::parse(id).expect("party id");
        for role in [Role::Merchant(party("m-zj")), Role::Bank(party("icbc"))] {
            let (status, _, body) = scrape(Some(app.key(role).await)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
            let body: Value = serde_json::from_str(&body).expect("a JSON error");
            assert_eq!(code(&body), "forbidden");
        }
        let (status, _, body) = scrape(None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    });
}

#[test]
fn without_lending_the_route_answers_503() {
    each_backend(|app| async move {
        let (status, body) = app.apply(&app.operator, "app-1", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(code(&body), "lending_not_configured");
        // Reading is not deciding: stored decisions stay readable, and none is stored here.
        let (status, _) = app
            .get("/api/v1/loan-applications/app-1", &app.operator)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    });
}

#[test]
fn malformed_applications() {
    each_backend_lending(Some(lending()), |app| async move {
        let cases = [
            (json!([]), "invalid_body"),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 1, "term_months": 6, "x": 1}),
                "unknown_field",
            ),
            (
                json!({"merchant_id": "m-zj", "amount": 1, "term_months": 6}),
                "invalid_field",
            ),
            (
                json!({"id": "a b", "merchant_id": "m-zj", "amount": 1, "term_months": 6}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "amount": 1, "term_months": 6}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 0, "term_months": 6}),
                "amount_must_not_be_zero",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": -5, "term_months": 6}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": "5", "term_months": 6}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 9_223_372_036_854_775_808_u64, "term_months": 6}),
                "amount_out_of_range",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 1, "term_months": 0}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 1, "term_months": 61}),
                "invalid_field",
            ),
            (
                json!({"id": "a", "merchant_id": "m-zj", "amount": 1}),
                "invalid_field",
            ),
        ];
        for (body, expected) in cases {
            let (status, answer) = app.post_json(&app.operator, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert_eq!(code(&answer), expected, "{body}: {answer}");
        }
        let request = app
            .http
            .post(app.url("/api/v1/loan-applications"))
            .bearer_auth(&app.operator)
            .header(CONTENT_TYPE, "application/json")
            .body("{\"id\":");
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&body), "invalid_json");
    });
}

impl App {
    async fn accept(&self, key: &str, id: &str, application_id: &str) -> (StatusCode, Value) {
        let body = json!({"id": id, "application_id": application_id});
        let url = self.url("/api/v1/loans");
        answer(self.http.post(url).bearer_auth(key).json(&body)).await
    }

    /// The ids of the loans `key` lists, with `query`.
    async fn listed(&self, key: &str, query: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/api/v1/loans{query}"), key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["loans"]
            .as_array()
            .expect("loans")
            .iter()
            .map(|l| l["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// Accepting an offer disburses the loan through the ledger; a bank sees only the loans it
/// lent, a merchant only its own; acceptance and payments are idempotent.
#[test]
fn accepted_loans_are_disbursed_and_seen_only_by_their_bank() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let party = |id: &str| PartyId::parse(id).expect("party id");
        let zj = app.key(Role::Merchant(party("m-zj"))).await;
        let gd = app.key(Role::Merchant(party("m-gd"))).await;
        let icbc = app.key(Role::Bank(party("icbc"))).await;
        let webank = app.key(Role::Bank(party("webank"))).await;
        let (_, decision) = app.apply(&zj, "app-zj", "m-zj", 5_000_000).await;
        let (_, _) = app.apply(&gd, "app-gd", "m-gd", 5_000_000).await;
        let (_, _) = app
            .apply(&app.operator, "app-new", "m-new", 5_000_000)
            .await;

        let (status, loan) = app.accept(&zj, "loan-zj", "app-zj").await;
        assert_eq!(status, StatusCode::OK, "{loan}");
        assert_eq!(loan["bank_id"], "icbc");
        assert_eq!(loan["status"], "active");
        assert_eq!(loan["principal"], decision["offer"]["amount"], "{decision}");
        assert_eq!(loan["outstanding"]["principal"], loan["principal"]);
        // Disbursed today: nothing has accrued yet.
        assert_eq!(loan["interest_accrued"], 0);
        // Accepting again answers the same loan; other content under the id is a conflict.
        let (status, again) = app.accept(&zj, "loan-zj", "app-zj").await;
        assert_eq!((status, &again["id"]), (StatusCode::OK, &loan["id"]));
        let (status, body) = app.accept(&app.operator, "loan-zj", "app-gd").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "loan_id_conflict")
        );
        let (status, body) = app.accept(&zj, "loan-zj-2", "app-zj").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "application_already_accepted")
        );
        let (status, body) = app.accept(&app.operator, "loan-new", "app-new").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "application_not_approved")
        );
        // A merchant accepts only its own offers; a bank accepts none.
        let (status, _) = app.accept(&zj, "loan-x", "app-gd").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.accept(&webank, "loan-y", "app-gd").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = app.accept(&gd, "loan-gd", "app-gd").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["bank_id"], "webank");
        // The next decision for m-zj counts the loan as existing debt, and icbc's quotas as
        // used by it.
        let (status, body) = app.apply(&zj, "app-zj-2", "m-zj", 1_000_000).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let store = app.store.clone();
        let (stored, lent) = tokio::task::spawn_blocking(move || {
            let today = chunlei_ledger::CivilDate::from_days(
                i32::try_from(now_ns() / DAY_NS).expect("fits"),
            )
            .expect("date");
            (
                store
                    .loan_decision("app-zj-2")
                    .expect("read")
                    .expect("stored"),
                store.bank_lent(today, "330302", "apparel").expect("lent"),
            )
        })
        .await
        .expect("task");
        let principal = loan["principal"].as_u64().expect("principal");
        assert!(
            stored
                .features
                .contains(&format!("existing_debt_fen={principal}\n")),
            "{}",
            stored.features
        );
        let icbc_lent = lent
            .iter()
            .find(|l| l.bank_id == "icbc")
            .expect("icbc lent");
        assert_eq!(
            (
                icbc_lent.day,
                icbc_lent.total,
                icbc_lent.region,
                icbc_lent.industry
            ),
            (principal, principal, principal, principal)
        );

        let read = |key: String, id: &'static str| {
            let app = &app;
            async move { app.get(&format!("/api/v1/loans/{id}"), &key).await.0 }
        };
        assert_eq!(read(icbc.clone(), "loan-zj").await, StatusCode::OK);
        assert_eq!(read(icbc.clone(), "loan-gd").await, StatusCode::NOT_FOUND);
        assert_eq!(read(webank.clone(), "loan-gd").await, StatusCode::OK);
        assert_eq!(read(webank.clone(), "loan-zj").await, StatusCode::NOT_FOUND);
        assert_eq!(read(zj.clone(), "loan-gd").await, StatusCode::NOT_FOUND);
        assert_eq!(read(gd.clone(), "loan-gd").await, StatusCode::OK);
        assert_eq!(app.listed(&icbc, "").await, ["loan-zj"]);
        assert_eq!(app.listed(&icbc, "?bank_id=webank").await, ["loan-zj"]);
        assert_eq!(app.listed(&webank, "").await, ["loan-gd"]);
        assert_eq!(app.listed(&gd, "?merchant_id=m-zj").await, ["loan-gd"]);
        assert_eq!(
            app.listed(&app.operator, "?bank_id=icbc").await,
            ["loan-zj"]
        );
        let (status, body) = app.get("/api/v1/loans", &app.operator).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_field")
        );

        // A payment moves money once, whatever the retries.
        let pay = json!({"id": "pay-1", "amount": 10_000});
        for _ in 0..2 {
            let url = app.url("/api/v1/loans/loan-zj/payments");
            let (status, body) = answer(app.http.post(url).bearer_auth(&zj).json(&pay)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(
                body["operations"].as_array().expect("ops").len(),
                1,
                "{body}"
            );
            assert_eq!(body["paid"]["total"], 10_000);
        }
        let url = app.url("/api/v1/loans/loan-zj/payments");
        // The lending bank sees the loan but does not pay for the merchant; another bank
        // does not see it at all.
        let (status, _) = answer(app.http.post(url).bearer_auth(&icbc).json(&pay)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let url = app.url("/api/v1/loans/loan-zj/payments");
        let (status, _) = answer(app.http.post(url).bearer_auth(&webank).json(&pay)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Relief and write-off: by the lending bank or the operator, never the merchant.
        let post = |key: String, path: &'static str, body: Value| {
            let app = &app;
            async move {
                let url = app.url(&format!("/api/v1/loans/loan-zj/{path}"));
                answer(app.http.post(url).bearer_auth(key).json(&body)).await
            }
        };
        let today = i32::try_from(now_ns() / DAY_NS).expect("fits");
        let date = |d: i32| {
            chunlei_ledger::CivilDate::from_days(today + d)
                .expect("a date")
                .to_string()
        };
        let holiday = json!({"id": "h-1", "kind": "holiday", "from": date(1), "to": date(40)});
        let (status, _) = post(zj.clone(), "relief", holiday.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = post(webank.clone(), "relief", holiday.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = post(icbc.clone(), "relief", holiday.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["operations"][1]["kind"], "holiday", "{body}");
        let first_due = chunlei_ledger::CivilDate::from_days(today + 41).expect("date");
        assert_eq!(
            body["instalments"][0]["due_on"],
            first_due.to_string(),
            "{body}"
        );
        let backwards = json!({"id": "h-2", "kind": "holiday", "from": date(5), "to": date(2)});
        let (status, body) = post(icbc.clone(), "relief", backwards).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "relief_invalid")
        );
        let (status, body) = post(app.operator.clone(), "write-off", json!({"id": "w-1"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "written_off");
        let (status, body) =
            post(zj.clone(), "payments", json!({"id": "pay-2", "amount": 1})).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "loan_written_off")
        );

        // Banks: their policies and what each has lent; a bank sees only itself.
        let (status, banks) = app.get("/api/v1/banks", &icbc).await;
        assert_eq!(status, StatusCode::OK, "{banks}");
        let listed = banks["banks"].as_array().expect("banks");
        assert_eq!(listed.len(), 1, "{banks}");
        assert_eq!(listed[0]["bank_id"], "icbc");
        assert_eq!(listed[0]["lent_total"], loan["principal"]);
        assert_eq!(listed[0]["regions"], json!(["33"]));
        assert_eq!(banks["policy_version"], "policy-2026-11", "{banks}");
        assert_eq!(banks["model_version"], "sc-test-1", "{banks}");
        assert!(
            banks["in_force_since"]
                .as_str()
                .expect("a time")
                .ends_with('Z'),
            "{banks}"
        );
        let (_, banks) = app.get("/api/v1/banks", &app.operator).await;
        assert_eq!(
            banks["banks"].as_array().expect("banks").len(),
            2,
            "{banks}"
        );
        let (status, _) = app.get("/api/v1/banks", &zj).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Portfolio: a bank reports on its own loans, the operator on all with every bank's.
        let (status, icbc_report) = app.get("/api/v1/portfolio", &icbc).await;
        assert_eq!(status, StatusCode::OK, "{icbc_report}");
        assert_eq!(icbc_report["bank_id"], "icbc");
        assert_eq!(icbc_report["loans"], 1);
        assert_eq!(icbc_report["disbursed"], loan["principal"]);
        // Written off: the principal less the 10,000 paid, and interest charged by the
        // write-off (none: it happens on the day of disbursement).
        let principal = loan["principal"].as_u64().expect("principal");
        assert_eq!(
            icbc_report["written_off"],
            principal - 10_000,
            "{icbc_report}"
        );
        assert_eq!(icbc_report["open_loans"], 0);
        let (_, webank_report) = app.get("/api/v1/portfolio?bank_id=icbc", &webank).await;
        assert_eq!(webank_report["bank_id"], "webank", "{webank_report}");
        assert_eq!(webank_report["open_loans"], 1);
        assert_eq!(webank_report["arrears"][0]["bucket"], "current");
        assert_eq!(webank_report["arrears"][0]["loans"], 1);
        assert_eq!(webank_report["npl_ratio_bps"], 0);
        let (_, all) = app.get("/api/v1/portfolio", &app.operator).await;
        assert_eq!(all["loans"], 2, "{all}");
        let banks: Vec<&Value> = all["banks"].as_array().expect("banks").iter().collect();
        assert_eq!(banks.len(), 2);
        assert_eq!(
            (&banks[0]["bank_id"], &banks[1]["bank_id"]),
            (&json!("icbc"), &json!("webank"))
        );
        let (status, _) = app.get("/api/v1/portfolio", &zj).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = app
            .get("/api/v1/portfolio?on=2020-13-01", &app.operator)
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_field")
        );

        let store = app.store.clone();
        let violations = tokio::task::spawn_blocking(move || store.verify())
            .await
            .expect("task")
            .expect("verify");
        assert!(violations.is_empty(), "{violations:?}");
    });
}

/// Malformed loan requests are refused whole with a stable code, and nothing is disbursed.
#[test]
fn malformed_loan_requests_change_nothing() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let (status, _) = app.apply(&app.operator, "app-zj", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK);
        let send = |path: &'static str, body: &'static str| {
            let app = &app;
            async move {
                let request = app
                    .http
                    .post(app.url(path))
                    .bearer_auth(&app.operator)
                    .header("content-type", "application/json")
                    .body(body);
                let (status, body) = answer(request).await;
                (status, code(&body).to_owned())
            }
        };
        let bad = StatusCode::BAD_REQUEST;
        let cases: [(&str, &str, StatusCode, &str); 10] = [
            ("/api/v1/loans", "not json", bad, "invalid_json"),
            ("/api/v1/loans", r#"{"id":"l-1"}"#, bad, "invalid_field"),
            (
                "/api/v1/loans",
                r#"{"id":"l 1","application_id":"app-zj"}"#,
                bad,
                "invalid_field",
            ),
            (
                "/api/v1/loans",
                r#"{"id":"l-1","application_id":"app-zj","rate":1}"#,
                bad,
                "unknown_field",
            ),
            (
                "/api/v1/loans",
                r#"{"id":"l-1","application_id":"app-none"}"#,
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                "/api/v1/loans/l-9/payments",
                r#"{"id":"p-1","amount":0}"#,
                bad,
                "amount_must_not_be_zero",
            ),
            (
                "/api/v1/loans/l-9/payments",
                r#"{"id":"p-1","amount":-5}"#,
                bad,
                "invalid_field",
            ),
            (
                "/api/v1/loans/l-9/payments",
                r#"{"id":"p-1","amount":5}"#,
                StatusCode::NOT_FOUND,
                "loan_not_found",
            ),
            (
                "/api/v1/loans/l-9/relief",
                r#"{"id":"r-1","kind":"amnesty","from":"2020-01-01","to":"2020-02-01"}"#,
                bad,
                "invalid_field",
            ),
            (
                "/api/v1/loans/l-9/relief",
                r#"{"id":"r-1","kind":"holiday","from":"2020-02-30","to":"2020-03-01"}"#,
                bad,
                "invalid_field",
            ),
        ];
        for (path, body, status, expected) in cases {
            let (got, code) = send(path, body).await;
            assert_eq!((got, code.as_str()), (status, expected), "{path} {body}");
        }
        for query in [
            "?bank_id=icbc&colour=red",
            "?bank_id=icbc&limit=0",
            "?bank_id=a%20b",
        ] {
            let (status, body) = app
                .get(&format!("/api/v1/loans{query}"), &app.operator)
                .await;
            assert_eq!(status, bad, "{query}: {body}");
        }
        // Nothing was disbursed: the application can still be accepted, once.
        assert!(app.listed(&app.operator, "?bank_id=icbc").await.is_empty());
        let (status, body) = app.accept(&app.operator, "l-1", "app-zj").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    });
}

impl App {
    async fn put_flag(&self, key: &str, merchant: &str, body: &str) -> (StatusCode, Value) {
        let request = self
            .http
            .put(self.url(&format!("/api/v1/merchants/{merchant}/fraud-flag")))
            .bearer_auth(key)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        answer(request).await
    }

    /// The status of `DELETE …/fraud-flag`, and the error code when there is a body.
    async fn clear_flag(&self, key: &str, merchant: &str) -> (StatusCode, String) {
        let response = self
            .http
            .delete(self.url(&format!("/api/v1/merchants/{merchant}/fraud-flag")))
            .bearer_auth(key)
            .send()
            .await
            .expect("send");
        let status = response.status();
        let text = response.text().await.expect("body");
        let code = serde_json::from_str::<Value>(&text)
            .map(|body| {
                body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        (status, code)
    }
}

/// A fraud flag declines the merchant's applications with its knock-out and stops an offer made
/// before it from being disbursed; cleared, both go through. Only the platform's keys see or
/// touch flags, and a bad flag changes nothing.
#[test]
fn fraud_flags_decline_applications_and_stop_disbursement() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let zj = app
            .key(Role::Merchant(PartyId::parse("m-zj").expect("id")))
            .await;
        let icbc = app
            .key(Role::Bank(PartyId::parse("icbc").expect("id")))
            .await;
        let integration = app.key(Role::Integration).await;
        let (_, before) = app.apply(&zj, "app-before", "m-zj", 5_000_000).await;
        assert_eq!(before["status"], "approved", "{before}");
        let (status, body) = app
            .get("/api/v1/merchants/m-zj/fraud-flag", &app.operator)
            .await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));

        let reason = r#"{"reason":"  device shared with a banned account "}"#;
        let (status, flag) = app.put_flag(&integration, "m-zj", reason).await;
        assert_eq!(status, StatusCode::OK, "{}: {flag}", app.backend);
        assert_eq!(flag["merchant_id"], "m-zj");
        assert_eq!(flag["reason"], "device shared with a banned account");
        assert!(
            flag["flagged_at"].as_str().expect("a time").ends_with('Z'),
            "{flag}"
        );
        let (status, again) = app.put_flag(&app.operator, "m-zj", reason).await;
        assert_eq!(
            (status, &again),
            (StatusCode::OK, &flag),
            "the standing flag"
        );
        let (status, body) = app
            .put_flag(&app.operator, "m-zj", r#"{"reason":"chargebacks"}"#)
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "fraud_flag_conflict")
        );
        let (status, read) = app
            .get("/api/v1/merchants/m-zj/fraud-flag", &app.operator)
            .await;
        assert_eq!((status, &read), (StatusCode::OK, &flag));

        // Merchants and banks neither see nor set flags, not even the merchant's own.
        for key in [&zj, &icbc] {
            let (status, _) = app.get("/api/v1/merchants/m-zj/fraud-flag", key).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, _) = app.put_flag(key, "m-gd", reason).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert_eq!(app.clear_flag(key, "m-zj").await.0, StatusCode::FORBIDDEN);
        }
        // Bad flags are refused and change nothing.
        for (body, want) in [
            (r#"{"reason":"   "}"#, "invalid_field"),
            (r#"{}"#, "invalid_field"),
            (r#"{"reason":7}"#, "invalid_field"),
            (r#"{"reason":"a\nb"}"#, "invalid_field"),
            (r#"{"reason":"x","severity":"high"}"#, "unknown_field"),
            ("[]", "invalid_body"),
        ] {
            let (status, answer) = app.put_flag(&app.operator, "m-gd", body).await;
            assert_eq!(
                (status, code(&answer)),
                (StatusCode::BAD_REQUEST, want),
                "{body}"
            );
        }
        let long = format!(r#"{{"reason":"{}"}}"#, "诈".repeat(501));
        let (status, answer) = app.put_flag(&app.operator, "m-gd", &long).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_field")
        );
        let (status, _) = app
            .get("/api/v1/merchants/m-gd/fraud-flag", &app.operator)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "m-gd carries no flag");
        let (status, body) = app.put_flag(&app.operator, "m-nobody", reason).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
        assert_eq!(
            app.clear_flag(&app.operator, "m-nobody").await,
            (StatusCode::NOT_FOUND, "not_found".to_owned())
        );

        // Flagged: declined with the knock-out, and the earlier offer is not disbursed.
        let (status, declined) = app.apply(&zj, "app-flagged", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{declined}");
        assert_eq!(declined["status"], "declined", "{declined}");
        assert_eq!(declined["reasons"][0]["code"], "fraud_flag", "{declined}");
        let (status, body) = app.accept(&zj, "loan-flagged", "app-before").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "merchant_fraud_flagged"),
            "{body}"
        );
        let (status, _) = app.get("/api/v1/loans/loan-flagged", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nothing was disbursed");

        // Cleared (twice: the second changes nothing): both go through.
        assert_eq!(
            app.clear_flag(&integration, "m-zj").await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.clear_flag(&app.operator, "m-zj").await.0,
            StatusCode::NO_CONTENT
        );
        // The history: the flag set and cleared, the latest first, by the integration key; the
        // repeat, the conflict and the second clear left no trace.
        let (status, history) = app
            .get("/api/v1/merchants/m-zj/fraud-flag/events", &app.operator)
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let events = history["events"].as_array().expect("events");
        let seen: Vec<(&str, &str, &str)> = events
            .iter()
            .map(|e| {
                let text = |name: &str| e[name].as_str().expect("text");
                (text("action"), text("reason"), text("by"))
            })
            .collect();
        let by = flag["flagged_by"].as_str().expect("flagged_by");
        let reason = "device shared with a banned account";
        assert_eq!(
            seen,
            [("cleared", reason, by), ("set", reason, by)],
            "{history}"
        );
        assert_eq!(events[1]["at"], flag["flagged_at"], "{history}");
        let (status, none) = app
            .get("/api/v1/merchants/m-gd/fraud-flag/events", &integration)
            .await;
        assert_eq!((status, &none["events"]), (StatusCode::OK, &json!([])));
        let (status, _) = app
            .get(
                "/api/v1/merchants/m-nobody/fraud-flag/events",
                &app.operator,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for key in [&zj, &icbc] {
            let (status, _) = app
                .get("/api/v1/merchants/m-zj/fraud-flag/events", key)
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        let (_, after) = app.apply(&zj, "app-after", "m-zj", 5_000_000).await;
        assert_eq!(after["status"], "approved", "{after}");
        let (status, loan) = app.accept(&zj, "loan-before", "app-before").await;
        assert_eq!(status, StatusCode::OK, "{loan}");
        // The stored decisions kept what they were decided on.
        let store = app.store.clone();
        let (flagged, cleared) = tokio::task::spawn_blocking(move || {
            let read = |id: &str| store.loan_decision(id).expect("read").expect("stored");
            (read("app-flagged"), read("app-after"))
        })
        .await
        .expect("task");
        assert!(
            flagged.features.contains("fraud_flag=1\n"),
            "{}",
            flagged.features
        );
        assert!(
            cleared.features.contains("fraud_flag=0\n"),
            "{}",
            cleared.features
        );
    });
}

/// [`lending`] with webank, the bank of Guangdong's merchants, lending only revenue-based
/// advances repaid within `term_days_max` days at most.
fn revenue_lending(term_days_max: u16) -> Arc<Lending> {
    lending_with(|config| {
        config["banks"][1]["products"] = json!([{
            "kind": "revenue_based", "fee_bps": 300, "withholding_bps": 1500,
            "term_days_max": term_days_max
        }]);
    })
}

/// An offer is disbursed on the terms it was made with, whatever configuration is in force when
/// it is accepted: a revenue-based advance keeps its product's longest term, which sets the
/// minimum it owes every 60 days.
#[test]
fn an_offer_keeps_its_terms_when_the_configuration_changes() {
    use chunlei_lending::loans::ProductSpec;
    each_backend_lending(Some(revenue_lending(180)), |app| async move {
        app.merchants().await;
        let (_, decision) = app.apply(&app.operator, "app-rb", "m-gd", 5_000_000).await;
        assert_eq!(decision["offer"]["product"], "revenue_based", "{decision}");
        assert_eq!(
            decision["offer"]["detail"]["term_days_max"], "180",
            "{decision}"
        );
        app.lending.replace(revenue_lending(90));
        let (status, loan) = app.accept(&app.operator, "loan-rb", "app-rb").await;
        assert_eq!(status, StatusCode::OK, "{}: {loan}", app.backend);
        let store = app.store.clone();
        let record = tokio::task::spawn_blocking(move || store.loan("loan-rb"))
            .await
            .expect("task")
            .expect("read")
            .expect("stored");
        let ProductSpec::RevenueBased(terms) = &record.spec.product else {
            panic!("a revenue-based loan: {:?}", record.spec);
        };
        let owed = terms.principal.get() + terms.fee.get();
        assert_eq!(terms.minimum_per_period.get(), (owed * 60).div_ceil(180));
        // A decision made now asks the new configuration.
        let (_, now) = app
            .apply(&app.operator, "app-rb-2", "m-gd", 1_000_000)
            .await;
        assert_eq!(now["offer"]["detail"]["term_days_max"], "90", "{now}");
    });
}

/// A fraud flag set and cleared by another process on the same database (an administration
/// command beside the server) holds for the very next application, though the server keeps
/// the merchant's inputs from its last decision in memory (SQLite) and never heard of the
/// flag.
#[test]
fn a_flag_set_by_another_process_holds_for_the_next_application() {
    each_backend_lending(Some(lending()), |app| async move {
        app.merchants().await;
        let zj = app
            .key(Role::Merchant(PartyId::parse("m-zj").expect("id")))
            .await;
        for id in ["app-1", "app-2"] {
            let (status, body) = app.apply(&zj, id, "m-zj", 5_000_000).await;
            assert_eq!(
                (status, &body["status"]),
                (StatusCode::OK, &json!("approved"))
            );
        }
        let url = app.store.url().clone();
        let admin = move |flag: bool| {
            let url = url.clone();
            tokio::task::spawn_blocking(move || {
                let other = Store::open_without_writer(&url).expect("open beside the server");
                let merchant = chunlei_settlement::MerchantId::parse("m-zj").expect("id");
                if flag {
                    let flagged = other.flag_fraud(&merchant, "stolen identity", "key-admin");
                    assert!(
                        matches!(flagged, Ok(chunlei_store::FlagOutcome::Flagged(_))),
                        "{flagged:?}"
                    );
                } else {
                    let cleared = other.clear_fraud_flag(&merchant, "key-admin");
                    assert!(
                        matches!(cleared, Ok(chunlei_store::ClearOutcome::Cleared)),
                        "{cleared:?}"
                    );
                }
            })
        };
        admin(true).await.expect("flag");
        let (status, declined) = app.apply(&zj, "app-3", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{}: {declined}", app.backend);
        assert_eq!(
            declined["status"], "declined",
            "{}: {declined}",
            app.backend
        );
        assert_eq!(declined["reasons"][0]["code"], "fraud_flag", "{declined}");
        admin(false).await.expect("clear");
        let (status, approved) = app.apply(&zj, "app-4", "m-zj", 5_000_000).await;
        assert_eq!(status, StatusCode::OK, "{approved}");
        assert_eq!(
            approved["status"], "approved",
            "{}: {approved}",
            app.backend
        );
    });
}
