//! The settlement routes end to end: order events in; orders, statements, payouts and the
//! programme's figures out. The real router and authentication on a real port, a fresh
//! database per test, on every backend `TestDb::all()` offers.
//!
//! Every expected figure follows from the settings a store runs with by default
//! (`Settings::standard()`): a 2 % commission rounded half up to the fen ([`fee`]), no
//! reserve, no withholding, merchants of risk tier C or better with 30 days on the platform
//! advanced, ¥1,000,000 of advances per merchant and ¥10 bn in the pool.
//!
//! Event times are in the year 2200, well after every merchant joined. Scheduled work runs on
//! the event clock (the latest event time applied): a shipped order is confirmed
//! automatically only once some event is dated after its confirmation date (shipping plus 10
//! days), so each test decides by its own event times which confirmation it sees.

use chunlei_http::PartyId;
use chunlei_http::auth::Role;
use chunlei_ledger::BATCH_EVENTS_MAX;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};

mod common;
use common::{App, answer, code, each_backend, message, metric};

const PAID_AT: &str = "2200-04-01T08:00:00Z";
const SHIPPED_AT: &str = "2200-04-02T08:00:00Z";
/// Three days after shipping.
const CONFIRMED_AT: &str = "2200-04-05T08:00:00Z";
/// Shipping plus the 10 days after which an express parcel counts as received.
const AUTO_CONFIRM_AT: &str = "2200-04-12T08:00:00Z";

/// ¥1,000,000 in fen: the advances one merchant may have outstanding.
const MERCHANT_CAP: u64 = 100_000_000;
/// ¥10 bn in fen: the advance pool's funding.
const POOL_CAP: u64 = 1_000_000_000_000;

/// The standard commission on `gross` fen: 2 %, rounded half up to the fen.
fn fee(gross: u64) -> u64 {
    (gross * 200 + 5_000) / 10_000
}

/// What the merchant gets of `gross`: everything but the commission (no reserve, no loans).
fn net(gross: u64) -> u64 {
    gross - fee(gross)
}

impl App {
    async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        answer(self.http.post(self.url(path)).bearer_auth(key).json(body)).await
    }

    /// Posts `body` as it is, declared as JSON, with the operator key.
    async fn post_bytes(&self, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.operator)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        answer(request).await
    }

    /// Registers a merchant of `risk_tier` that joined in March 2025.
    async fn merchant(&self, id: &str, risk_tier: &str) {
        let request = self
            .http
            .put(self.url(&format!("/api/v1/merchants/{id}")))
            .bearer_auth(&self.operator)
            .json(&merchant_body(risk_tier));
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
    }

    /// Sends a batch of events with the operator key; the batch must be accepted.
    async fn events(&self, events: &Value) -> Value {
        let (status, body) = self.post("/api/v1/events", &self.operator, events).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
        body
    }

    /// An order as the operator sees it; it must exist.
    async fn order(&self, id: &str) -> Value {
        let (status, body) = self
            .get(&format!("/api/v1/orders/{id}"), &self.operator)
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
        body
    }

    /// A merchant's whole statement as the operator sees it.
    async fn statement(&self, merchant: &str) -> Value {
        let path = format!("/api/v1/merchants/{merchant}/statement");
        let (status, body) = self.get(&path, &self.operator).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
        body
    }

    async fn balances(&self, merchant: &str) -> Value {
        self.statement(merchant).await["balances"].clone()
    }

    async fn program(&self) -> Value {
        let (status, body) = self.get("/api/v1/program", &self.operator).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
        body
    }

    /// Asks for a payout with `key`; the request must be well formed.
    async fn payout(&self, merchant: &str, key: &str, body: &Value) -> Value {
        let path = format!("/api/v1/merchants/{merchant}/payouts");
        let (status, answer) = self.post(&path, key, body).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", self.backend);
        answer
    }

    /// Reports the bank's answer with `key`; the payout must exist.
    async fn bank_says(&self, payout: &str, key: &str, succeeded: bool) -> Value {
        let path = format!("/api/v1/payouts/{payout}/result");
        let (status, answer) = self
            .post(&path, key, &json!({"succeeded": succeeded}))
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", self.backend);
        answer
    }

    /// The payouts a listing returns, with the operator key.
    async fn payouts(&self, query: &str) -> Value {
        let (status, body) = self
            .get(&format!("/api/v1/payouts{query}"), &self.operator)
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", self.backend);
        body
    }
}

/// A complete registry entry: a footwear factory that joined on 2025-03-01.
fn merchant_body(risk_tier: &str) -> Value {
    json!({
        "name": "温州鞋业有限公司",
        "kind": "factory",
        "foreign_trade": true,
        "region_code": "330302",
        "category": "footwear",
        "joined_on": "2025-03-01",
        "cluster_id": "wenzhou-shoes",
        "risk_tier": risk_tier,
        "bank_code": "ICBC",
        "account_number": "6222000011112222",
        "holder_name": "温州鞋业有限公司"
    })
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).expect("valid party id")
}

fn paid(id: &str, order: &str, merchant: &str, amount: u64, at: &str) -> Value {
    json!({"id": id, "type": "order.paid", "order_id": order, "merchant_id": merchant,
        "occurred_at": at, "amount": amount, "category": "apparel", "channel": "taobao"})
}

fn shipped(id: &str, order: &str, merchant: &str, at: &str) -> Value {
    json!({"id": id, "type": "order.shipped", "order_id": order, "merchant_id": merchant,
        "occurred_at": at, "shipping": "express"})
}

fn confirmed(id: &str, order: &str, merchant: &str, at: &str) -> Value {
    json!({"id": id, "type": "order.confirmed", "order_id": order, "merchant_id": merchant,
        "occurred_at": at})
}

/// Each result of an events answer as one line: `e-2 ok not_advanced (risk_tier_too_high)`.
fn results(body: &Value) -> Vec<String> {
    let results = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"));
    results
        .iter()
        .map(|r| {
            let mut line = format!(
                "{} {}",
                r["id"].as_str().expect("id"),
                r["result"].as_str().expect("result")
            );
            if let Some(effect) = r["effect"].as_str() {
                line.push_str(&format!(" {effect}"));
            }
            if let Some(reason) = r["reason"].as_str() {
                line.push_str(&format!(" ({reason})"));
            }
            line
        })
        .collect()
}

/// The `id`s (or `order_id`s) of a listing.
fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[field].as_str().expect("an id").to_owned())
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, as every time the API sends looks.
fn is_rfc_3339_utc(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && text.ends_with('Z')
        && (b.len() == 20 || (b.len() > 21 && b[19] == b'.' && digits(20..b.len() - 1)))
}

#[test]
fn an_eligible_merchant_is_paid_on_shipping_and_the_pool_repaid_on_confirmation() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        let body = app
            .events(&json!([
                paid("e-1", "o-1", "m-1", 10_025, PAID_AT),
                shipped("e-2", "o-1", "m-1", SHIPPED_AT),
            ]))
            .await;
        assert_eq!(
            body,
            json!({"results": [
                {"id": "e-1", "result": "ok", "effect": "escrowed"},
                {"id": "e-2", "result": "ok", "effect": "advanced"},
            ]}),
            "{backend}"
        );
        // Paid at once on shipping: the net to the merchant, the gross out of the pool.
        assert_eq!(fee(10_025), 201, "2 % of 10,025 is 200.5, rounded half up");
        assert_eq!(
            app.balances("m-1").await,
            json!({"available": 9_824, "reserve": 0, "receivable": 0, "pending_payout": 0,
                "advances_outstanding": 10_025, "exposure_cap": MERCHANT_CAP}),
            "{backend}"
        );
        let order = app.order("o-1").await;
        assert_eq!(order["status"], "shipped", "{backend}: {order}");
        assert_eq!(order["settlement"]["advanced"], true, "{backend}: {order}");
        assert_eq!(order["settlement"]["net"], 9_824, "{backend}: {order}");

        let body = app
            .events(&json!([confirmed("e-3", "o-1", "m-1", CONFIRMED_AT)]))
            .await;
        assert_eq!(
            body,
            json!({"results": [{"id": "e-3", "result": "ok", "effect": "advance_repaid"}]}),
            "{backend}"
        );
        // Escrow repaid the pool; the merchant keeps what it was advanced.
        assert_eq!(
            app.balances("m-1").await,
            json!({"available": 9_824, "reserve": 0, "receivable": 0, "pending_payout": 0,
                "advances_outstanding": 0, "exposure_cap": MERCHANT_CAP}),
            "{backend}"
        );
        let order = app.order("o-1").await;
        assert_eq!(order["status"], "confirmed", "{backend}: {order}");
        assert_eq!(
            order["settlement"]["days_early"], "3.00",
            "{backend}: {order}"
        );
    });
}

#[test]
fn a_merchant_outside_the_programme_is_settled_on_confirmation() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-5", "E").await;
        let body = app
            .events(&json!([
                paid("e-1", "o-1", "m-5", 30_000, PAID_AT),
                shipped("e-2", "o-1", "m-5", SHIPPED_AT),
            ]))
            .await;
        assert_eq!(
            body,
            json!({"results": [
                {"id": "e-1", "result": "ok", "effect": "escrowed"},
                {"id": "e-2", "result": "ok", "effect": "not_advanced",
                    "reason": "risk_tier_too_high"},
            ]}),
            "{backend}"
        );
        // Nothing is paid before the buyer confirms.
        let statement = app.statement("m-5").await;
        assert_eq!(
            statement["balances"]["available"], 0,
            "{backend}: {statement}"
        );
        assert_eq!(
            statement["balances"]["advances_outstanding"], 0,
            "{backend}: {statement}"
        );
        let order = app.order("o-1").await;
        assert_eq!(
            order["not_advanced"], "risk_tier_too_high",
            "{backend}: {order}"
        );
        assert_eq!(order.get("settlement"), None, "{backend}: {order}");

        let body = app
            .events(&json!([confirmed("e-3", "o-1", "m-5", CONFIRMED_AT)]))
            .await;
        assert_eq!(results(&body), ["e-3 ok settled"], "{backend}");
        // An event sent again is answered, and counted, again; one for an unknown merchant
        // is refused.
        app.events(&json!([confirmed("e-3", "o-1", "m-5", CONFIRMED_AT)]))
            .await;
        let body = app
            .events(&json!([paid("e-4", "o-2", "m-404", 1_000, PAID_AT)]))
            .await;
        assert_eq!(results(&body), ["e-4 merchant_not_found"], "{backend}");
        // The operator sees each answer counted at `GET /metrics`: the zero account period
        // declined here, and why.
        let page = app.metrics().await;
        let applied = |effect: &str| {
            metric(
                &page,
                &format!("chunlei_settlement_applied_total{{effect=\"{effect}\"}}"),
            )
        };
        assert_eq!(applied("escrowed"), 1.0, "{backend}: {page}");
        assert_eq!(applied("not_advanced"), 1.0, "{backend}: {page}");
        assert_eq!(applied("settled"), 2.0, "{backend}: {page}");
        assert_eq!(applied("advanced"), 0.0, "{backend}: {page}");
        let reason = "chunlei_settlement_not_advanced_total{reason=\"risk_tier_too_high\"}";
        assert_eq!(metric(&page, reason), 1.0, "{backend}: {page}");
        let refused = "chunlei_settlement_refused_total{code=\"merchant_not_found\"}";
        assert_eq!(metric(&page, refused), 1.0, "{backend}: {page}");
        assert_eq!(
            app.balances("m-5").await,
            json!({"available": net(30_000), "reserve": 0, "receivable": 0,
                "pending_payout": 0, "advances_outstanding": 0, "exposure_cap": MERCHANT_CAP}),
            "{backend}"
        );
        assert_eq!(net(30_000), 29_400);
        let order = app.order("o-1").await;
        assert_eq!(
            order["settlement"],
            json!({"advanced": false, "settled_at": CONFIRMED_AT, "gross": 30_000,
                "fee_standard": 600, "fee": 600, "relief": 0, "withholding": 0, "reserve": 0,
                "net": 29_400, "receivable_recovered": 0, "days_early": "0.00"}),
            "{backend}"
        );
    });
}

#[test]
fn events_that_do_not_fit_are_refused_one_by_one() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.merchant("m-2", "A").await;
        let body = app
            .events(&json!([shipped("e-1", "o-9", "m-1", SHIPPED_AT)]))
            .await;
        assert_eq!(
            body,
            json!({"results": [{"id": "e-1", "result": "order_not_paid"}]}),
            "{backend}"
        );
        // The refused event left no order behind and moved no money.
        let (status, missing) = app.get("/api/v1/orders/o-9", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {missing}");
        assert_eq!(code(&missing), "not_found", "{backend}");
        let statement = app.statement("m-1").await;
        assert_eq!(statement["orders"], json!([]), "{backend}: {statement}");
        assert_eq!(
            statement["balances"]["available"], 0,
            "{backend}: {statement}"
        );
        let program = app.program().await;
        assert_eq!(program["advanced_orders"], 0, "{backend}: {program}");

        // In a batch, each event stands on its own.
        let body = app
            .events(&json!([
                paid("e-2", "o-1", "m-1", 10_000, PAID_AT),
                paid("e-3", "o-1", "m-1", 10_000, PAID_AT),
                confirmed("e-4", "o-1", "m-1", CONFIRMED_AT),
                shipped("e-5", "o-1", "m-2", SHIPPED_AT),
                paid("e-6", "o-2", "m-404", 10_000, PAID_AT),
                shipped("e-7", "o-1", "m-1", SHIPPED_AT),
                shipped("e-8", "o-1", "m-1", SHIPPED_AT),
            ]))
            .await;
        assert_eq!(
            results(&body),
            [
                "e-2 ok escrowed",
                "e-3 order_already_paid",
                "e-4 order_not_shipped",
                "e-5 merchant_mismatch",
                "e-6 merchant_not_found",
                "e-7 ok advanced",
                "e-8 order_already_shipped",
            ],
            "{backend}"
        );
        let (status, _) = app.get("/api/v1/orders/o-2", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let order = app.order("o-1").await;
        assert_eq!(order["merchant_id"], "m-1", "{backend}: {order}");
        assert_eq!(order["paid"], 10_000, "{backend}: {order}");
        assert_eq!(
            app.balances("m-1").await["available"],
            net(10_000),
            "{backend}"
        );
        let statement = app.statement("m-2").await;
        assert_eq!(statement["orders"], json!([]), "{backend}: {statement}");
        assert_eq!(
            statement["balances"]["available"], 0,
            "{backend}: {statement}"
        );
        let program = app.program().await;
        assert_eq!(program["advanced_orders"], 1, "{backend}: {program}");
        assert_eq!(program["advanced_total"], 10_000, "{backend}: {program}");

        // A refused event's id is not used up: once the order is paid, the same event goes
        // through.
        let body = app
            .events(&json!([
                paid("e-9", "o-9", "m-1", 5_000, PAID_AT),
                shipped("e-1", "o-9", "m-1", SHIPPED_AT),
            ]))
            .await;
        assert_eq!(
            results(&body),
            ["e-9 ok escrowed", "e-1 ok advanced"],
            "{backend}"
        );
    });
}

#[test]
fn a_batch_sent_again_answers_the_same_and_moves_no_money() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.merchant("m-5", "E").await;
        let batch = json!([
            paid("e-1", "o-1", "m-1", 10_025, PAID_AT),
            shipped("e-2", "o-1", "m-1", SHIPPED_AT),
            paid("e-3", "o-5", "m-5", 30_000, PAID_AT),
            shipped("e-4", "o-5", "m-5", SHIPPED_AT),
        ]);
        let first = app.events(&batch).await;
        assert_eq!(
            results(&first),
            [
                "e-1 ok escrowed",
                "e-2 ok advanced",
                "e-3 ok escrowed",
                "e-4 ok not_advanced (risk_tier_too_high)",
            ],
            "{backend}"
        );
        let statement = app.statement("m-1").await;
        let program = app.program().await;
        let again = app.events(&batch).await;
        assert_eq!(again, first, "{backend}");
        assert_eq!(app.statement("m-1").await, statement, "{backend}");
        assert_eq!(app.program().await, program, "{backend}");
        assert_eq!(
            statement["balances"]["available"],
            net(10_025),
            "{backend}: {statement}"
        );
        assert_eq!(program["advanced_orders"], 1, "{backend}: {program}");

        // The same again after the orders moved on, and one event twice in one batch.
        let confirmations = json!([
            confirmed("e-5", "o-1", "m-1", CONFIRMED_AT),
            confirmed("e-6", "o-5", "m-5", CONFIRMED_AT),
            confirmed("e-6", "o-5", "m-5", CONFIRMED_AT),
        ]);
        let first = app.events(&confirmations).await;
        assert_eq!(
            results(&first),
            ["e-5 ok advance_repaid", "e-6 ok settled", "e-6 ok settled"],
            "{backend}"
        );
        let balances = [app.balances("m-1").await, app.balances("m-5").await];
        assert_eq!(app.events(&confirmations).await, first, "{backend}");
        assert_eq!(app.events(&batch).await["results"][1]["effect"], "advanced");
        assert_eq!(
            [app.balances("m-1").await, app.balances("m-5").await],
            balances,
            "{backend}"
        );
        assert_eq!(balances[0]["available"], net(10_025), "{backend}");
        assert_eq!(balances[1]["available"], net(30_000), "{backend}");
    });
}

#[test]
fn an_event_id_used_for_another_event_is_a_conflict() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.events(&json!([paid("e-1", "o-1", "m-1", 10_000, PAID_AT)]))
            .await;
        let mut later = paid("e-1", "o-1", "m-1", 10_000, PAID_AT);
        later["occurred_at"] = json!("2200-04-01T08:00:01Z");
        let body = app
            .events(&json!([
                paid("e-1", "o-1", "m-1", 10_001, PAID_AT),
                later,
                shipped("e-1", "o-1", "m-1", SHIPPED_AT),
                paid("e-1", "o-2", "m-1", 10_000, PAID_AT),
                paid("e-1", "o-1", "m-1", 10_000, PAID_AT),
            ]))
            .await;
        assert_eq!(
            results(&body),
            [
                "e-1 event_id_conflict",
                "e-1 event_id_conflict",
                "e-1 event_id_conflict",
                "e-1 event_id_conflict",
                "e-1 ok escrowed",
            ],
            "{backend}"
        );
        let order = app.order("o-1").await;
        assert_eq!(order["paid"], 10_000, "{backend}: {order}");
        assert_eq!(order["status"], "paid", "{backend}: {order}");
        let (status, _) = app.get("/api/v1/orders/o-2", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
    });
}

/// One malformed batch: its body, and the status, code and part of the message expected.
struct Malformed {
    case: String,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    names: &'static str,
}

/// A good paid event for order `o-2` with `field` set to `value`.
fn with(field: &str, value: Value) -> Value {
    let mut event = paid("e-2", "o-2", "m-1", 10_000, PAID_AT);
    event[field] = value;
    event
}

/// A good paid event for order `o-2` without `field`.
fn without(field: &str) -> Value {
    let mut event = paid("e-2", "o-2", "m-1", 10_000, PAID_AT);
    event.as_object_mut().expect("an object").remove(field);
    event
}

/// Malformed events, each with the code and the part of the message it must be refused with.
fn bad_events() -> Vec<(Value, &'static str, &'static str)> {
    let mut shipped_with_amount = shipped("e-2", "o-1", "m-1", SHIPPED_AT);
    shipped_with_amount["amount"] = json!(10_000);
    let mut confirmed_with_category = confirmed("e-2", "o-1", "m-1", CONFIRMED_AT);
    confirmed_with_category["category"] = json!("apparel");
    let mut pigeon = shipped("e-2", "o-1", "m-1", SHIPPED_AT);
    pigeon["shipping"] = json!("pigeon");
    let time = |text: &str| with("occurred_at", json!(text));
    let bad = "invalid_field";
    let at = "events[1].occurred_at must be an RFC 3339 time";
    let amount = "events[1].amount";
    let id = "events[1].id";
    let order = "events[1].order_id";
    vec![
        (json!(7), bad, "events[1] must be a JSON object"),
        (
            with("colour", json!("red")),
            "unknown_field",
            "events[1]: unknown field",
        ),
        (with("amount", json!("10000")), bad, amount),
        (with("amount", json!(-5)), bad, amount),
        (with("amount", json!(100.5)), bad, amount),
        (with("amount", json!(0)), "amount_must_not_be_zero", amount),
        (
            with("amount", json!(u64::MAX)),
            "amount_out_of_range",
            amount,
        ),
        (
            with("order_id", json!(2)),
            bad,
            "events[1].order_id must be a string",
        ),
        (
            with("occurred_at", json!(7_258_147_200_u64)),
            bad,
            "occurred_at must be a string",
        ),
        (
            without("occurred_at"),
            bad,
            "events[1].occurred_at is required",
        ),
        (without("type"), bad, "events[1].type is required"),
        (without("id"), bad, "events[1].id is required"),
        (without("category"), bad, "events[1].category is required"),
        (time("2200-04-01T08:00:00"), bad, at),
        (time("2200-04-01 08:00:00Z"), bad, at),
        (time("2200-04-01"), bad, at),
        (time("2200-02-29T08:00:00Z"), bad, at),
        (time("2200-04-01T24:00:00Z"), bad, at),
        (time("2200-04-01T23:59:60Z"), bad, at),
        (time("2200-04-01T08:00:00.Z"), bad, at),
        (time("2200-04-01T08:00:00.1234567890Z"), bad, at),
        (time("2200-04-01T08:00:00+0800"), bad, at),
        (time("2200-04-01T08:00:00+24:00"), bad, at),
        (time("1969-12-31T23:59:59Z"), bad, at),
        (time("2263-01-01T00:00:00Z"), bad, at),
        (shipped_with_amount, bad, "events[1].amount is not part of"),
        (
            confirmed_with_category,
            bad,
            "events[1].category is not part of",
        ),
        (pigeon, bad, "events[1].shipping"),
        (with("type", json!("order.lost")), bad, "events[1].type"),
        (
            with("merchant_id", json!("m 1")),
            bad,
            "events[1].merchant_id",
        ),
        (with("id", json!("auto-confirm:o-2")), bad, id),
        (with("id", json!("e/2")), bad, id),
        (with("id", json!("")), bad, id),
        (with("id", json!("e".repeat(65))), bad, id),
        (with("order_id", json!("o:2")), bad, order),
        (with("order_id", json!("o".repeat(65))), bad, order),
    ]
}

/// Batches refused as a whole, and batches of a good event followed by a bad one.
fn malformed_batches() -> Vec<Malformed> {
    let too_many: Vec<Value> = (0..=BATCH_EVENTS_MAX)
        .map(|i| paid(&format!("e-{i}"), &format!("o-{i}"), "m-1", 100, PAID_AT))
        .collect();
    let one = paid("e-1", "o-1", "m-1", 10_000, PAID_AT);
    let whole = [
        (
            "not JSON",
            br#"[{"id": "e-1", "type": "#.to_vec(),
            400,
            "invalid_json",
            "",
        ),
        (
            "an object",
            one.to_string().into_bytes(),
            400,
            "invalid_body",
            "array of events",
        ),
        ("empty", b"[]".to_vec(), 400, "batch_empty", ""),
        (
            "one event too many",
            Value::Array(too_many).to_string().into_bytes(),
            413,
            "batch_too_large",
            "the batch has 8190 events",
        ),
    ];
    let mut batches: Vec<Malformed> = whole
        .into_iter()
        .map(|(case, body, status, code, names)| Malformed {
            case: case.to_owned(),
            body,
            status,
            code,
            names,
        })
        .collect();
    for (bad, code, names) in bad_events() {
        batches.push(Malformed {
            case: bad.to_string(),
            body: json!([one, bad]).to_string().into_bytes(),
            status: 400,
            code,
            names,
        });
    }
    batches
}

#[test]
fn malformed_batches_are_refused_whole() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        for case in malformed_batches() {
            let (status, body) = app.post_bytes("/api/v1/events", case.body).await;
            let what = format!("{backend}, {}: {body}", case.case);
            assert_eq!(status.as_u16(), case.status, "{what}");
            assert_eq!(code(&body), case.code, "{what}");
            assert!(message(&body).contains(case.names), "{what}");
        }
        let response = app
            .http
            .post(app.url("/api/v1/events"))
            .bearer_auth(&app.operator)
            .header(CONTENT_TYPE, "text/plain")
            .body(json!([paid("e-1", "o-1", "m-1", 10_000, PAID_AT)]).to_string());
        let (status, body) = answer(response).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{backend}: {body}"
        );
        assert_eq!(code(&body), "unsupported_media_type", "{backend}");

        // None of those batches reached the book: no order, no money, not even the pool.
        let (status, _) = app.get("/api/v1/orders/o-1", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let statement = app.statement("m-1").await;
        assert_eq!(statement["orders"], json!([]), "{backend}: {statement}");
        let program = app.program().await;
        assert_eq!(program["pool_cap"], 0, "{backend}: {program}");
        // The good event of those batches is good on its own.
        let body = app
            .events(&json!([paid("e-1", "o-1", "m-1", 10_000, PAID_AT)]))
            .await;
        assert_eq!(results(&body), ["e-1 ok escrowed"], "{backend}");
    });
}

#[test]
fn the_longest_ids_and_the_largest_batch_are_accepted() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        let event_id = "e".repeat(64);
        let order_id = format!("o-{}", "9".repeat(62));
        let body = app
            .events(&json!([paid(&event_id, &order_id, "m-1", 100, PAID_AT)]))
            .await;
        assert_eq!(
            results(&body),
            [format!("{event_id} ok escrowed")],
            "{backend}"
        );
        let order = app.order(&order_id).await;
        assert_eq!(order["order_id"], order_id.as_str(), "{backend}");

        let full: Vec<Value> = (0..BATCH_EVENTS_MAX)
            .map(|i| paid(&format!("e-{i}"), &format!("o-{i:05}"), "m-1", 100, PAID_AT))
            .collect();
        let body = app.events(&Value::Array(full)).await;
        let results = results(&body);
        assert_eq!(results.len(), BATCH_EVENTS_MAX, "{backend}");
        assert!(
            results.iter().all(|r| r.ends_with(" ok escrowed")),
            "{backend}"
        );
        assert_eq!(
            results.last().map(String::as_str),
            Some("e-8188 ok escrowed")
        );
        let order = app.order("o-08188").await;
        assert_eq!(order["status"], "paid", "{backend}: {order}");
    });
}

#[test]
fn an_order_is_read_with_its_times_in_rfc_3339() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.merchant("m-2", "A").await;
        // Times with an offset and a fraction of a second are kept to the nanosecond and
        // answered in UTC.
        let mut payment = paid("e-1", "o-1", "m-1", 10_025, "2200-04-01T16:00:00.25+08:00");
        payment["channel"] = json!("pinduoduo");
        let mut shipping = shipped("e-2", "o-1", "m-1", "2200-04-01T20:00:00-12:00");
        shipping
            .as_object_mut()
            .expect("an object")
            .remove("shipping");
        app.events(&json!([payment])).await;
        let paid_only = json!({
            "order_id": "o-1", "merchant_id": "m-1", "category": "apparel",
            "channel": "pinduoduo", "status": "paid", "paid": 10_025, "refunded": 0,
            "paid_at": "2200-04-01T08:00:00.25Z", "reserve_released": 0
        });
        assert_eq!(app.order("o-1").await, paid_only, "{backend}");

        app.events(&json!([shipping])).await;
        let settlement = json!({"advanced": true, "settled_at": SHIPPED_AT, "gross": 10_025,
            "fee_standard": 201, "fee": 201, "relief": 0, "withholding": 0, "reserve": 0,
            "net": 9_824, "receivable_recovered": 0});
        let mut shipped_order = paid_only.clone();
        shipped_order["status"] = json!("shipped");
        shipped_order["shipping"] = json!("express");
        shipped_order["shipped_at"] = json!(SHIPPED_AT);
        shipped_order["auto_confirm_at"] = json!(AUTO_CONFIRM_AT);
        shipped_order["settlement"] = settlement.clone();
        assert_eq!(app.order("o-1").await, shipped_order, "{backend}");

        app.events(&json!([confirmed("e-3", "o-1", "m-1", CONFIRMED_AT)]))
            .await;
        let mut confirmed_order = shipped_order.clone();
        confirmed_order["status"] = json!("confirmed");
        confirmed_order["confirmed_at"] = json!(CONFIRMED_AT);
        confirmed_order
            .as_object_mut()
            .expect("an object")
            .remove("auto_confirm_at");
        confirmed_order["settlement"]["days_early"] = json!("3.00");
        let order = app.order("o-1").await;
        assert_eq!(order, confirmed_order, "{backend}");
        for time in ["paid_at", "shipped_at", "confirmed_at"] {
            assert!(
                is_rfc_3339_utc(&order[time]),
                "{backend}: {time} in {order}"
            );
        }

        // Who may read it.
        let own = app.key(Role::Merchant(party("m-1"))).await;
        let other = app.key(Role::Merchant(party("m-2"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;
        let integration = app.key(Role::Integration).await;
        for key in [&own, &integration] {
            let (status, body) = app.get("/api/v1/orders/o-1", key).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {body}");
            assert_eq!(body, confirmed_order, "{backend}");
        }
        // Another merchant's order looks exactly like one that does not exist.
        for key in [&other, &bank] {
            let (status, body) = app.get("/api/v1/orders/o-1", key).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
            assert_eq!(code(&body), "not_found", "{backend}");
            assert_eq!(message(&body), "order o-1 was not found", "{backend}");
        }
        let (status, body) = app.get("/api/v1/orders/o-8", &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
        assert_eq!(message(&body), "order o-8 was not found", "{backend}");
        let (status, body) = app.get("/api/v1/orders/o:1", &app.operator).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {body}");
        assert_eq!(code(&body), "invalid_field", "{backend}");
    });
}

/// m-1: o-1 advanced and confirmed three days later, o-2 advanced, o-3 paid only; m-2: o-4.
async fn three_orders(app: &App) {
    app.merchant("m-1", "A").await;
    app.merchant("m-2", "A").await;
    let body = app
        .events(&json!([
            paid("e-1", "o-1", "m-1", 10_025, PAID_AT),
            paid("e-2", "o-2", "m-1", 20_000, PAID_AT),
            paid("e-3", "o-3", "m-1", 5_000, PAID_AT),
            paid("e-4", "o-4", "m-2", 7_000, PAID_AT),
            shipped("e-5", "o-1", "m-1", SHIPPED_AT),
            shipped("e-6", "o-2", "m-1", SHIPPED_AT),
            confirmed("e-7", "o-1", "m-1", CONFIRMED_AT),
        ]))
        .await;
    let results = results(&body);
    assert!(results.iter().all(|r| r.contains(" ok ")), "{results:?}");
}

#[test]
fn a_statement_has_the_balances_and_pages_of_orders() {
    each_backend(|app| async move {
        let backend = app.backend;
        three_orders(&app).await;
        let statement = app.statement("m-1").await;
        assert_eq!(statement["merchant_id"], "m-1", "{backend}");
        assert_eq!(statement.get("next_after"), None, "{backend}: {statement}");
        let orders = &statement["orders"];
        assert_eq!(ids(orders, "order_id"), ["o-1", "o-2", "o-3"], "{backend}");
        // Available is what the settled orders paid the merchant: the sum of their nets.
        let nets: u64 = orders
            .as_array()
            .expect("orders")
            .iter()
            .filter_map(|o| o["settlement"]["net"].as_u64())
            .sum();
        assert_eq!(nets, net(10_025) + net(20_000), "{backend}: {orders}");
        assert_eq!(
            statement["balances"],
            json!({"available": nets, "reserve": 0, "receivable": 0, "pending_payout": 0,
                "advances_outstanding": 20_000, "exposure_cap": MERCHANT_CAP}),
            "{backend}"
        );
        assert_eq!(nets, 9_824 + 19_600);
        let figures = |o: &Value| {
            let s = &o["settlement"];
            json!([
                s["gross"],
                s["fee"],
                s["relief"],
                s["net"],
                s["advanced"],
                s["days_early"]
            ])
        };
        assert_eq!(
            figures(&orders[0]),
            json!([10_025, fee(10_025), 0, net(10_025), true, "3.00"]),
            "{backend}"
        );
        // Not confirmed yet: no days early to report.
        assert_eq!(
            figures(&orders[1]),
            json!([20_000, 400, 0, 19_600, true, null]),
            "{backend}"
        );
        assert_eq!(orders[1]["status"], "shipped", "{backend}");
        assert_eq!(
            orders[2].get("settlement"),
            None,
            "{backend}: {}",
            orders[2]
        );
        assert_eq!(orders[2]["status"], "paid", "{backend}");
        // Each order reads in the statement as it reads alone.
        assert_eq!(orders[0], app.order("o-1").await, "{backend}");

        // Pages of one.
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!("/api/v1/merchants/m-1/statement?after={after}&limit=1");
            let (status, page) = app.get(&path, &app.operator).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {page}");
            assert_eq!(page["balances"], statement["balances"], "{backend}");
            let page_ids = ids(&page["orders"], "order_id");
            assert!(page_ids.len() <= 1, "{backend}: {page}");
            seen.extend(page_ids.clone());
            match page["next_after"].as_str() {
                Some(next) => {
                    assert_eq!(page_ids, [next], "{backend}: {page}");
                    after = next.to_owned();
                }
                None => break,
            }
            assert!(seen.len() <= 3, "{backend}: the pages do not end");
        }
        assert_eq!(seen, ["o-1", "o-2", "o-3"], "{backend}");
        let (_, rest) = app
            .get("/api/v1/merchants/m-1/statement?after=o-1", &app.operator)
            .await;
        assert_eq!(
            ids(&rest["orders"], "order_id"),
            ["o-2", "o-3"],
            "{backend}"
        );
    });
}

#[test]
fn a_statement_refuses_bad_queries_and_other_merchants() {
    each_backend(|app| async move {
        let backend = app.backend;
        three_orders(&app).await;
        app.merchant("m-3", "A").await;
        let refused = [
            ("colour=red", StatusCode::BAD_REQUEST, "unknown_field"),
            ("limit=0", StatusCode::BAD_REQUEST, "limit_out_of_range"),
            ("limit=x", StatusCode::BAD_REQUEST, "invalid_field"),
            ("after=o:1", StatusCode::BAD_REQUEST, "invalid_field"),
            ("limit=1&limit=2", StatusCode::BAD_REQUEST, "invalid_field"),
            ("status=pending", StatusCode::BAD_REQUEST, "unknown_field"),
        ];
        for (query, expected, expected_code) in refused {
            let path = format!("/api/v1/merchants/m-1/statement?{query}");
            let (status, body) = app.get(&path, &app.operator).await;
            assert_eq!(status, expected, "{backend} {query}: {body}");
            assert_eq!(code(&body), expected_code, "{backend} {query}");
        }

        let own = app.key(Role::Merchant(party("m-1"))).await;
        let other = app.key(Role::Merchant(party("m-2"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;
        let integration = app.key(Role::Integration).await;
        let whole = app.statement("m-1").await;
        for key in [&own, &integration] {
            let (status, body) = app.get("/api/v1/merchants/m-1/statement", key).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {body}");
            assert_eq!(body, whole, "{backend}");
        }
        for key in [&other, &bank] {
            let (status, body) = app.get("/api/v1/merchants/m-1/statement", key).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
            assert_eq!(code(&body), "not_found", "{backend}");
        }
        // A merchant not in the registry has no statement; one without orders has an empty
        // one.
        let (status, body) = app
            .get("/api/v1/merchants/m-9/statement", &app.operator)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
        assert_eq!(code(&body), "not_found", "{backend}");
        let empty = app.statement("m-3").await;
        assert_eq!(empty["orders"], json!([]), "{backend}: {empty}");
        assert_eq!(empty["balances"]["available"], 0, "{backend}: {empty}");
    });
}

#[test]
fn a_payout_takes_the_available_balance_until_the_bank_answers() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.events(&json!([
            paid("e-1", "o-1", "m-1", 10_025, PAID_AT),
            shipped("e-2", "o-1", "m-1", SHIPPED_AT),
        ]))
        .await;
        let available = net(10_025);
        let operator = app.operator.clone();
        let pending = json!({"id": "p-1", "result": "ok", "status": "pending",
            "amount": available});
        let everything = json!({"id": "p-1"});
        assert_eq!(
            app.payout("m-1", &operator, &everything).await,
            pending,
            "{backend}"
        );
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], 0, "{backend}: {balances}");
        assert_eq!(
            balances["pending_payout"], available,
            "{backend}: {balances}"
        );
        // The same request again is the same payout.
        assert_eq!(
            app.payout("m-1", &operator, &everything).await,
            pending,
            "{backend}"
        );
        assert_eq!(app.balances("m-1").await, balances, "{backend}");
        // The same id for another request is not.
        for different in [
            json!({"id": "p-1", "amount": 5}),
            json!({"id": "p-1", "amount": available}),
        ] {
            assert_eq!(
                app.payout("m-1", &operator, &different).await,
                json!({"id": "p-1", "result": "payout_id_conflict"}),
                "{backend}: {different}"
            );
        }
        assert_eq!(app.balances("m-1").await, balances, "{backend}");

        // The bank refuses: the money is back.
        let failed = json!({"id": "p-1", "result": "ok", "status": "failed",
            "amount": available});
        assert_eq!(
            app.bank_says("p-1", &operator, false).await,
            failed,
            "{backend}"
        );
        assert_eq!(
            app.bank_says("p-1", &operator, false).await,
            failed,
            "{backend}"
        );
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], available, "{backend}: {balances}");
        assert_eq!(balances["pending_payout"], 0, "{backend}: {balances}");
        assert_eq!(
            app.payout("m-1", &operator, &everything).await,
            failed,
            "{backend}"
        );

        // A second payout, asked for by the merchant, and paid.
        let own = app.key(Role::Merchant(party("m-1"))).await;
        let integration = app.key(Role::Integration).await;
        let answer = app.payout("m-1", &own, &json!({"id": "p-2"})).await;
        assert_eq!(answer["status"], "pending", "{backend}: {answer}");
        assert_eq!(answer["amount"], available, "{backend}: {answer}");
        let paid_out = json!({"id": "p-2", "result": "ok", "status": "paid",
            "amount": available});
        assert_eq!(
            app.bank_says("p-2", &integration, true).await,
            paid_out,
            "{backend}"
        );
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], 0, "{backend}: {balances}");
        assert_eq!(balances["pending_payout"], 0, "{backend}: {balances}");
        // A contradicting answer is refused; the same answer again is not.
        assert_eq!(
            app.bank_says("p-2", &integration, false).await,
            json!({"id": "p-2", "result": "payout_already_settled"}),
            "{backend}"
        );
        assert_eq!(
            app.bank_says("p-2", &integration, true).await,
            paid_out,
            "{backend}"
        );
        assert_eq!(
            app.bank_says("p-1", &integration, true).await,
            json!({"id": "p-1", "result": "payout_already_settled"}),
            "{backend}"
        );
        assert_eq!(app.balances("m-1").await, balances, "{backend}");
        assert_eq!(app.program().await["paid_out"], available, "{backend}");

        // Nothing left to pay out.
        assert_eq!(
            app.payout("m-1", &operator, &json!({"id": "p-3"})).await,
            json!({"id": "p-3", "result": "nothing_to_pay_out"}),
            "{backend}"
        );
        let (status, body) = app
            .post(
                "/api/v1/payouts/p-9/result",
                &operator,
                &json!({"succeeded": true}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
        assert_eq!(code(&body), "not_found", "{backend}");
        assert_eq!(message(&body), "payout p-9 was not found", "{backend}");

        // Every answer above is counted at `GET /metrics`, the ones sent again too.
        let page = app.metrics().await;
        for (effect, answers) in [
            ("payout_pending", 3.0),
            ("payout_failed", 3.0),
            ("payout_paid", 2.0),
        ] {
            let series = format!("chunlei_settlement_applied_total{{effect=\"{effect}\"}}");
            assert_eq!(metric(&page, &series), answers, "{backend}: {series}");
        }
        for (code, answers) in [
            ("payout_id_conflict", 2.0),
            ("payout_already_settled", 2.0),
            ("nothing_to_pay_out", 1.0),
            ("payout_not_found", 1.0),
        ] {
            let series = format!("chunlei_settlement_refused_total{{code=\"{code}\"}}");
            assert_eq!(metric(&page, &series), answers, "{backend}: {series}");
        }
    });
}

#[test]
fn a_payout_of_part_is_bounded_by_the_available_balance() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.merchant("m-2", "A").await;
        let operator = app.operator.clone();
        // No order yet: nothing to pay out.
        assert_eq!(
            app.payout("m-2", &operator, &json!({"id": "p-1"})).await,
            json!({"id": "p-1", "result": "nothing_to_pay_out"}),
            "{backend}"
        );
        app.events(&json!([
            paid("e-1", "o-1", "m-1", 20_000, PAID_AT),
            shipped("e-2", "o-1", "m-1", SHIPPED_AT),
        ]))
        .await;
        let available = net(20_000);
        assert_eq!(
            app.payout(
                "m-1",
                &operator,
                &json!({"id": "p-1", "amount": available + 1})
            )
            .await,
            json!({"id": "p-1", "result": "exceeds_available"}),
            "{backend}"
        );
        assert_eq!(
            app.payout("m-1", &operator, &json!({"id": "p-1", "amount": 600}))
                .await,
            json!({"id": "p-1", "result": "ok", "status": "pending", "amount": 600}),
            "{backend}"
        );
        assert_eq!(
            app.payout("m-1", &operator, &json!({"id": "p-2"})).await,
            json!({"id": "p-2", "result": "ok", "status": "pending",
                "amount": available - 600}),
            "{backend}"
        );
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], 0, "{backend}: {balances}");
        assert_eq!(
            balances["pending_payout"], available,
            "{backend}: {balances}"
        );
        assert_eq!(
            app.bank_says("p-1", &operator, false).await["status"],
            "failed"
        );
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], 600, "{backend}: {balances}");
        assert_eq!(
            balances["pending_payout"],
            available - 600,
            "{backend}: {balances}"
        );
    });
}

#[test]
fn malformed_payout_requests_are_refused() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.events(&json!([
            paid("e-1", "o-1", "m-1", 20_000, PAID_AT),
            shipped("e-2", "o-1", "m-1", SHIPPED_AT),
        ]))
        .await;
        let requests = [
            (json!({}), "invalid_field"),
            (json!({"amount": 5}), "invalid_field"),
            (json!({"id": 5}), "invalid_field"),
            (json!({"id": "p:1"}), "invalid_field"),
            (json!({"id": "p".repeat(65)}), "invalid_field"),
            (json!({"id": "p-1", "amount": 0}), "amount_must_not_be_zero"),
            (json!({"id": "p-1", "amount": "5"}), "invalid_field"),
            (json!({"id": "p-1", "colour": "red"}), "unknown_field"),
            // The fields of an object, not its values in order.
            (json!(["p-1", null]), "invalid_body"),
            (json!([{"id": "p-1"}]), "invalid_body"),
        ];
        for (request, expected) in requests {
            let (status, body) = app
                .post("/api/v1/merchants/m-1/payouts", &app.operator, &request)
                .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{backend} {request}: {body}"
            );
            assert_eq!(code(&body), expected, "{backend} {request}");
        }
        let (status, body) = app
            .post_bytes("/api/v1/merchants/m-1/payouts", b"{\"id\":".to_vec())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {body}");
        assert_eq!(code(&body), "invalid_json", "{backend}");
        // None was applied: no payout, nothing pending.
        let balances = app.balances("m-1").await;
        assert_eq!(balances["available"], net(20_000), "{backend}: {balances}");
        assert_eq!(balances["pending_payout"], 0, "{backend}: {balances}");
        assert_eq!(app.payouts("").await, json!({"payouts": []}), "{backend}");

        // An object is an object with white space around it too.
        let (status, body) = app
            .post_bytes(
                "/api/v1/merchants/m-1/payouts",
                b"\n {\"id\": \"p-1\"} \n".to_vec(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["status"], "pending", "{backend}: {body}");
        let answers = [
            (json!({}), "invalid_field"),
            (json!({"succeeded": "yes"}), "invalid_field"),
            (json!({"succeeded": true, "colour": "red"}), "unknown_field"),
            (json!([true]), "invalid_body"),
        ];
        for (request, expected) in answers {
            let (status, body) = app
                .post("/api/v1/payouts/p-1/result", &app.operator, &request)
                .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{backend} {request}: {body}"
            );
            assert_eq!(code(&body), expected, "{backend} {request}");
        }
        let (status, body) = app
            .post(
                "/api/v1/payouts/p:1/result",
                &app.operator,
                &json!({"succeeded": true}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {body}");
        assert_eq!(code(&body), "invalid_field", "{backend}");
        let listed = app.payouts("?status=pending").await;
        assert_eq!(
            ids(&listed["payouts"], "id"),
            ["p-1"],
            "{backend}: {listed}"
        );

        for (query, expected) in [
            ("?status=done", "invalid_field"),
            ("?colour=red", "unknown_field"),
            ("?limit=0", "limit_out_of_range"),
            ("?after=p:1", "invalid_field"),
        ] {
            let (status, body) = app
                .get(&format!("/api/v1/payouts{query}"), &app.operator)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {query}: {body}");
            assert_eq!(code(&body), expected, "{backend} {query}");
        }
    });
}

#[test]
fn payouts_are_listed_for_the_platform_with_the_account_to_pay() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        app.merchant("m-2", "B").await;
        app.events(&json!([
            paid("e-1", "o-1", "m-1", 20_000, PAID_AT),
            shipped("e-2", "o-1", "m-1", SHIPPED_AT),
            paid("e-3", "o-2", "m-2", 10_000, PAID_AT),
            shipped("e-4", "o-2", "m-2", SHIPPED_AT),
        ]))
        .await;
        let operator = app.operator.clone();
        app.payout("m-1", &operator, &json!({"id": "p-1", "amount": 1_000}))
            .await;
        app.payout("m-2", &operator, &json!({"id": "p-2"})).await;
        app.payout("m-1", &operator, &json!({"id": "p-3", "amount": 2_000}))
            .await;
        app.payout("m-1", &operator, &json!({"id": "p-4", "amount": 3_000}))
            .await;
        app.bank_says("p-3", &operator, true).await;
        app.bank_says("p-4", &operator, false).await;

        let integration = app.key(Role::Integration).await;
        let (status, pending) = app
            .get("/api/v1/payouts?status=pending", &integration)
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {pending}");
        assert_eq!(pending.get("next_after"), None, "{backend}: {pending}");
        let payouts = pending["payouts"].as_array().expect("payouts");
        assert_eq!(ids(&pending["payouts"], "id"), ["p-1", "p-2"], "{backend}");
        for payout in payouts {
            assert!(
                is_rfc_3339_utc(&payout["requested_at"]),
                "{backend}: {payout}"
            );
        }
        let mut first = payouts[0].clone();
        first
            .as_object_mut()
            .expect("an object")
            .remove("requested_at");
        assert_eq!(
            first,
            json!({"id": "p-1", "merchant_id": "m-1", "amount": 1_000, "status": "pending",
                "bank_code": "ICBC", "account_number": "6222000011112222",
                "holder_name": "温州鞋业有限公司"}),
            "{backend}"
        );
        assert_eq!(payouts[1]["merchant_id"], "m-2", "{backend}");
        assert_eq!(payouts[1]["amount"], net(10_000), "{backend}");
        // Pending is the default.
        assert_eq!(app.payouts("").await, pending, "{backend}");

        let paid = app.payouts("?status=paid").await;
        assert_eq!(ids(&paid["payouts"], "id"), ["p-3"], "{backend}: {paid}");
        assert!(
            is_rfc_3339_utc(&paid["payouts"][0]["settled_at"]),
            "{backend}: {paid}"
        );
        let failed = app.payouts("?status=failed").await;
        assert_eq!(
            ids(&failed["payouts"], "id"),
            ["p-4"],
            "{backend}: {failed}"
        );
        assert_eq!(failed["payouts"][0]["status"], "failed", "{backend}");

        let (_, page) = app.get("/api/v1/payouts?limit=1", &operator).await;
        assert_eq!(ids(&page["payouts"], "id"), ["p-1"], "{backend}: {page}");
        assert_eq!(page["next_after"], "p-1", "{backend}: {page}");
        let (_, page) = app
            .get("/api/v1/payouts?after=p-1&limit=1", &operator)
            .await;
        assert_eq!(ids(&page["payouts"], "id"), ["p-2"], "{backend}: {page}");
        let (_, page) = app
            .get("/api/v1/payouts?after=p-2&limit=1", &operator)
            .await;
        assert_eq!(page, json!({"payouts": []}), "{backend}");

        // Merchants and banks neither list payouts nor report the bank's answers.
        let own = app.key(Role::Merchant(party("m-1"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;
        for key in [&own, &bank] {
            let (status, body) = app.get("/api/v1/payouts?status=pending", key).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
            assert_eq!(code(&body), "forbidden", "{backend}");
            let (status, body) = app
                .post(
                    "/api/v1/payouts/p-1/result",
                    key,
                    &json!({"succeeded": true}),
                )
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
            assert_eq!(code(&body), "forbidden", "{backend}");
        }
        // A merchant asks only for its own payouts; a bank for none.
        for key in [&own, &bank] {
            let (status, body) = app
                .post("/api/v1/merchants/m-2/payouts", key, &json!({"id": "p-5"}))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
            assert_eq!(code(&body), "not_found", "{backend}");
        }
        // Nothing of the refused requests happened.
        assert_eq!(app.payouts("").await, pending, "{backend}");
    });
}

#[test]
fn programme_figures_are_for_the_operator() {
    each_backend(|app| async move {
        let backend = app.backend;
        let nothing = json!({
            "advanced_orders": 0, "advanced_total": 0, "advances_outstanding": 0,
            "advances_confirmed": 0, "average_days_saved": "0.00", "fees_standard": 0,
            "fees_charged": 0, "relief": 0, "withheld": 0, "clawed_back": 0,
            "clawbacks_recovered": 0, "clawbacks_unrecovered": 0, "paid_out": 0, "pool_cap": 0
        });
        assert_eq!(app.program().await, nothing, "{backend}");

        three_orders(&app).await;
        app.merchant("m-5", "E").await;
        app.events(&json!([
            paid("e-8", "o-5", "m-5", 30_000, PAID_AT),
            shipped("e-9", "o-5", "m-5", SHIPPED_AT),
            confirmed("e-10", "o-5", "m-5", CONFIRMED_AT),
        ]))
        .await;
        // Advanced: o-1 (confirmed three days after its advance) and o-2. Fees are charged
        // on every settled order, advanced or not: o-1, o-2 and o-5.
        let fees = fee(10_025) + fee(20_000) + fee(30_000);
        assert_eq!(fees, 201 + 400 + 600);
        assert_eq!(
            app.program().await,
            json!({
                "advanced_orders": 2, "advanced_total": 10_025 + 20_000,
                "advances_outstanding": 20_000, "advances_confirmed": 1,
                "average_days_saved": "3.00", "fees_standard": fees, "fees_charged": fees,
                "relief": 0, "withheld": 0, "clawed_back": 0, "clawbacks_recovered": 0,
                "clawbacks_unrecovered": 0, "paid_out": 0, "pool_cap": POOL_CAP
            }),
            "{backend}"
        );

        let integration = app.key(Role::Integration).await;
        let merchant = app.key(Role::Merchant(party("m-1"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;
        for key in [&integration, &merchant, &bank] {
            let (status, body) = app.get("/api/v1/program", key).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
            assert_eq!(code(&body), "forbidden", "{backend}");
        }
    });
}

#[test]
fn only_the_platform_sends_events() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", "A").await;
        let batch = json!([paid("e-1", "o-1", "m-1", 10_000, PAID_AT)]);
        let merchant = app.key(Role::Merchant(party("m-1"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;
        for key in [&merchant, &bank] {
            let (status, body) = app.post("/api/v1/events", key, &batch).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
            assert_eq!(code(&body), "forbidden", "{backend}");
        }
        let (status, _) = app.get("/api/v1/orders/o-1", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let integration = app.key(Role::Integration).await;
        let (status, body) = app.post("/api/v1/events", &integration, &batch).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(results(&body), ["e-1 ok escrowed"], "{backend}");
    });
}

#[test]
fn every_settlement_route_needs_a_key() {
    each_backend(|app| async move {
        let backend = app.backend;
        three_orders(&app).await;
        app.payout("m-1", &app.operator, &json!({"id": "p-1"}))
            .await;
        let before = (app.statement("m-1").await, app.program().await);
        let batch = json!([paid("e-9", "o-9", "m-1", 10_000, PAID_AT)]);
        let routes = [
            ("POST", "/api/v1/events", batch),
            ("GET", "/api/v1/orders/o-1", Value::Null),
            ("GET", "/api/v1/merchants/m-1/statement", Value::Null),
            (
                "POST",
                "/api/v1/merchants/m-1/payouts",
                json!({"id": "p-2"}),
            ),
            ("GET", "/api/v1/payouts?status=pending", Value::Null),
            (
                "POST",
                "/api/v1/payouts/p-1/result",
                json!({"succeeded": true}),
            ),
            ("GET", "/api/v1/program", Value::Null),
        ];
        for (method, path, body) in &routes {
            for key in [None, Some("ck_nope_nope"), Some("")] {
                let mut request = if *method == "POST" {
                    app.http.post(app.url(path)).json(body)
                } else {
                    app.http.get(app.url(path))
                };
                if let Some(key) = key {
                    request = request.bearer_auth(key);
                }
                let response = request.send().await.expect("send");
                let status = response.status();
                let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
                let body: Value = response.json().await.expect("a JSON body");
                let what = format!("{backend} {method} {path} {key:?}: {body}");
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                assert_eq!(code(&body), "unauthenticated", "{what}");
                assert_eq!(
                    challenge.as_ref().map(|v| v.as_bytes()),
                    Some(&b"Bearer"[..]),
                    "{what}"
                );
            }
        }
        // Nothing of it happened.
        assert_eq!(
            (app.statement("m-1").await, app.program().await),
            before,
            "{backend}"
        );
        let (status, _) = app.get("/api/v1/orders/o-9", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let payout = app.payouts("?status=pending").await;
        assert_eq!(
            ids(&payout["payouts"], "id"),
            ["p-1"],
            "{backend}: {payout}"
        );
    });
}
