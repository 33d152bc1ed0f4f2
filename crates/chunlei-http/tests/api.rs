//! The API end to end: the real router and authentication on a real port, a fresh database
//! per test, on every backend `TestDb::all()` offers.

use chunlei_http::auth::Role;
use chunlei_http::{BODY_BYTES_MAX, PartyId};
use chunlei_ledger::BATCH_EVENTS_MAX;
use chunlei_store::QUERY_LIMIT_MAX;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{App, answer, code, each_backend, message};

impl App {
    async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let request = self.http.post(self.url(path)).bearer_auth(key).json(body);
        answer(request).await
    }

    async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.operator)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        answer(request).await
    }

    /// Creates accounts with the operator key; every one must succeed.
    async fn accounts(&self, accounts: Value) {
        let (status, body) = self
            .post("/api/v1/accounts", &self.operator, &accounts)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(results(&body).iter().all(|r| r == "ok"), "{body}");
    }

    /// Creates transfers with the operator key; every one must succeed.
    async fn transfers(&self, transfers: Value) {
        let (status, body) = self
            .post("/api/v1/transfers", &self.operator, &transfers)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(results(&body).iter().all(|r| r == "ok"), "{body}");
    }

    /// `[debits_pending, debits_posted, credits_pending, credits_posted]` of an account.
    async fn balances(&self, id: u128) -> [u64; 4] {
        let (status, account) = self
            .get(&format!("/api/v1/accounts/{id}"), &self.operator)
            .await;
        assert_eq!(status, StatusCode::OK, "{account}");
        [
            "debits_pending",
            "debits_posted",
            "credits_pending",
            "credits_posted",
        ]
        .map(|field| account[field].as_u64().expect("balance is an integer"))
    }
}

fn results(body: &Value) -> Vec<String> {
    let results = body["results"].as_array().expect("results array");
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index, "{body}");
    }
    results
        .iter()
        .map(|r| r["result"].as_str().expect("result code").to_owned())
        .collect()
}

/// The ids of a `{"accounts":[…]}` or `{"transfers":[…]}` body, in order.
fn ids(body: &Value, list: &str) -> Vec<String> {
    let items = body[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {body}"));
    items
        .iter()
        .map(|item| item["id"].as_str().expect("id string").to_owned())
        .collect()
}

fn account(id: u128) -> Value {
    json!({"id": id.to_string(), "ledger": 1, "code": 1})
}

fn owned(id: u128, kind: &str, owner: &str) -> Value {
    json!({"id": id.to_string(), "ledger": 1, "code": 1, "flags": ["history"],
        "owner": {"kind": kind, "id": owner}})
}

fn transfer(id: u128, debit: u128, credit: u128, amount: u64) -> Value {
    json!({"id": id.to_string(), "debit_account_id": debit.to_string(),
        "credit_account_id": credit.to_string(), "amount": amount, "ledger": 1, "code": 1})
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).expect("valid party id")
}

#[test]
fn healthz_needs_no_key() {
    each_backend(|app| async move {
        let response = app
            .http
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.json::<Value>().await.expect("json"),
            json!({"status": "ok"})
        );
    });
}

#[test]
fn batches_get_one_result_per_event() {
    each_backend(|app| async move {
        let backend = app.backend;
        let mut bad_ledger = account(3);
        bad_ledger["ledger"] = json!(0);
        let (status, body) = app
            .post(
                "/api/v1/accounts",
                &app.operator,
                &json!([account(1), account(2), bad_ledger]),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(
            results(&body),
            ["ok", "ok", "ledger_must_not_be_zero"],
            "{backend}"
        );

        let mut plain_zero = transfer(11, 1, 2, 5);
        plain_zero["user_data_64"] = json!("18446744073709551615");
        plain_zero["ledger"] = json!(0);
        let batch = json!([transfer(10, 1, 2, 500), plain_zero, transfer(12, 1, 3, 5)]);
        let (status, body) = app.post("/api/v1/transfers", &app.operator, &batch).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        // A well-formed event the ledger refuses gets its own result; the others go on.
        assert_eq!(
            results(&body),
            ["ok", "ledger_must_not_be_zero", "credit_account_not_found"],
            "{backend}"
        );
        assert_eq!(app.balances(1).await, [0, 500, 0, 0], "{backend}");
        assert_eq!(app.balances(2).await, [0, 0, 0, 500], "{backend}");

        let (status, stored) = app.get("/api/v1/transfers/10", &app.operator).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {stored}");
        assert_eq!(
            (
                &stored["id"],
                &stored["debit_account_id"],
                &stored["credit_account_id"],
                &stored["amount"]
            ),
            (&json!("10"), &json!("1"), &json!("2"), &json!(500)),
            "{backend}"
        );
        assert!(
            stored["timestamp"].as_u64().is_some_and(|t| t > 0),
            "{backend}: {stored}"
        );
        let (status, body) = app.get("/api/v1/transfers/11", &app.operator).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{backend}"
        );

        let (status, body) = app
            .post(
                "/api/v1/accounts/lookup",
                &app.operator,
                &json!({"ids": ["2", "3", "1"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(ids(&body, "accounts"), ["2", "1"], "{backend}");
        let (status, body) = app
            .post(
                "/api/v1/transfers/lookup",
                &app.operator,
                &json!({"ids": ["12", "10"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(ids(&body, "transfers"), ["10"], "{backend}");
    });
}

#[test]
fn reused_ids_answer_exists_or_what_differs() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.accounts(json!([account(1), account(2)])).await;
        app.transfers(json!([transfer(10, 1, 2, 500)])).await;

        let mut other_code = account(2);
        other_code["code"] = json!(2);
        let (_, body) = app
            .post(
                "/api/v1/accounts",
                &app.operator,
                &json!([account(1), other_code]),
            )
            .await;
        assert_eq!(
            results(&body),
            ["exists", "exists_with_different_code"],
            "{backend}"
        );

        let batch = json!([transfer(10, 1, 2, 500), transfer(10, 1, 2, 501)]);
        let (status, body) = app.post("/api/v1/transfers", &app.operator, &batch).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(
            results(&body),
            ["exists", "exists_with_different_amount"],
            "{backend}"
        );
        assert_eq!(
            app.balances(2).await,
            [0, 0, 0, 500],
            "{backend}: the transfer applied once"
        );
    });
}

/// Sends a request with `Content-Length` above the limit and no body: the server must answer
/// without reading one. Raw TCP, because an HTTP client would insist on sending the body.
async fn declared_too_large(app: &App) -> (u16, Value) {
    // A guard, not a timing assumption: a server that waited for the body would hang here.
    let guard = std::time::Duration::from_secs(30);
    let response = tokio::time::timeout(guard, declared_too_large_unguarded(app)).await;
    response.expect("the server answered without waiting for the body")
}

async fn declared_too_large_unguarded(app: &App) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/transfers HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.address,
        app.operator,
        BODY_BYTES_MAX + 1
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the whole response has arrived; the connection may stay open.
    loop {
        let read = stream.read(&mut chunk).await.expect("read the response");
        response.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|n| n.trim().parse::<usize>().ok())
                .expect("a content-length");
            if body.len() >= length {
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status");
                return (status, serde_json::from_str(body).expect("a JSON body"));
            }
        }
        assert!(
            read > 0,
            "the connection closed before the response was complete"
        );
    }
}

#[test]
fn malformed_input_is_rejected_whole() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.accounts(json!([account(1), account(2)])).await;
        // Every bad batch starts with this good transfer, which must not be applied.
        let good = transfer(100, 1, 2, 7).to_string();
        let second = |event: &str| format!("[{good},{event}]");
        let cases = [
            json_400(format!("[{good},"), "invalid_json", ""),
            json_400("not json".into(), "invalid_json", ""),
            json_400(
                second(r#"{"id":"101","amonut":1}"#),
                "unknown_field",
                "transfers[1]: unknown field `amonut`",
            ),
            json_400(second(r#"{"id":"x1"}"#), "invalid_field", "transfers[1].id"),
            json_400(second(r#"{"id":101}"#), "invalid_field", "transfers[1].id"),
            json_400(
                second(r#"{"id":"101","amount":"7"}"#),
                "invalid_field",
                "transfers[1].amount",
            ),
            json_400(
                second(r#"{"id":"101","ledger":-1}"#),
                "invalid_field",
                "transfers[1].ledger",
            ),
            json_400(
                second(r#"{"id":"101","flags":["urgent"]}"#),
                "invalid_field",
                "transfers[1].flags",
            ),
            json_400(
                second(r#"{"id":"101","amount":9223372036854775808}"#),
                "amount_out_of_range",
                "transfers[1].amount",
            ),
            json_400(
                second(
                    r#"{"id":"101","debit_account_id":"1","credit_account_id":"2","amount":0,"ledger":1,"code":1}"#,
                ),
                "amount_must_not_be_zero",
                "transfers[1].amount",
            ),
            json_400(
                second(
                    r#"{"id":"101","debit_account_id":"1","credit_account_id":"2","ledger":1,"code":1}"#,
                ),
                "amount_must_not_be_zero",
                "transfers[1].amount",
            ),
            json_400(good.clone(), "invalid_body", ""),
            json_400("[]".into(), "batch_empty", ""),
            Malformed {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                ..json_400(full_batch_plus_one(), "batch_too_large", "8190")
            },
            Malformed {
                content_type: Some("text/plain"),
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ..json_400(format!("[{good}]"), "unsupported_media_type", "")
            },
            Malformed {
                content_type: None,
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ..json_400(format!("[{good}]"), "unsupported_media_type", "")
            },
            Malformed {
                path: "/api/v1/accounts",
                ..json_400(
                    format!(r#"[{},{{"id":"51","colour":"red"}}]"#, account(50)),
                    "unknown_field",
                    "accounts[1]: unknown field `colour`",
                )
            },
            Malformed {
                path: "/api/v1/accounts",
                ..json_400(
                    format!(
                        r#"[{},{{"id":"51","owner":{{"kind":"merchant","id":"a/b"}}}}]"#,
                        account(50)
                    ),
                    "invalid_field",
                    "accounts[1].owner.id",
                )
            },
            Malformed {
                path: "/api/v1/transfers/lookup",
                status: StatusCode::PAYLOAD_TOO_LARGE,
                ..json_400(lookup_plus_one(), "batch_too_large", "")
            },
            Malformed {
                path: "/api/v1/transfers/lookup",
                ..json_400(r#"{"ids":["1"],"limit":5}"#.into(), "unknown_field", "")
            },
        ];
        for case in cases {
            let shown = case.body.chars().take(80).collect::<String>();
            let (status, got) = app
                .post_raw(case.path, case.content_type, case.body.into_bytes())
                .await;
            assert_eq!(
                (status, code(&got)),
                (case.status, case.code),
                "{backend}: {shown}: {got}"
            );
            assert!(
                message(&got).contains(case.names),
                "{backend}: {shown}: {got}"
            );
        }
        let (status, body) = declared_too_large(&app).await;
        assert_eq!(
            (status, code(&body)),
            (413, "body_too_large"),
            "{backend}: {body}"
        );

        assert_eq!(
            app.balances(1).await,
            [0; 4],
            "{backend}: no transfer was applied"
        );
        assert_eq!(
            app.balances(2).await,
            [0; 4],
            "{backend}: no transfer was applied"
        );
        let (_, body) = app
            .post(
                "/api/v1/transfers/lookup",
                &app.operator,
                &json!({"ids": ["100", "101"]}),
            )
            .await;
        assert_eq!(ids(&body, "transfers"), Vec::<String>::new(), "{backend}");
        let (_, body) = app
            .post(
                "/api/v1/accounts/lookup",
                &app.operator,
                &json!({"ids": ["50", "51"]}),
            )
            .await;
        assert_eq!(ids(&body, "accounts"), Vec::<String>::new(), "{backend}");
    });
}

/// A malformed request and the answer it must get.
struct Malformed {
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: StatusCode,
    code: &'static str,
    /// Part of the message, such as the field and index it must name.
    names: &'static str,
}

/// A JSON body to `POST /api/v1/transfers` that must be refused with 400.
fn json_400(body: String, code: &'static str, names: &'static str) -> Malformed {
    Malformed {
        path: "/api/v1/transfers",
        content_type: Some("application/json"),
        body,
        status: StatusCode::BAD_REQUEST,
        code,
        names,
    }
}

/// One more valid transfer than a batch may hold.
fn full_batch_plus_one() -> String {
    let events: Vec<Value> = (0..=BATCH_EVENTS_MAX as u128)
        .map(|i| transfer(1_000 + i, 1, 2, 1))
        .collect();
    Value::Array(events).to_string()
}

fn lookup_plus_one() -> String {
    let ids: Vec<String> = (1..=BATCH_EVENTS_MAX as u128 + 1)
        .map(|i| i.to_string())
        .collect();
    json!({ "ids": ids }).to_string()
}

#[test]
fn requests_without_a_valid_key_are_unauthenticated() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.accounts(json!([account(1), account(2)])).await;
        let mut tampered = app.operator.clone();
        let last = if tampered.ends_with('0') { "1" } else { "0" };
        tampered.replace_range(tampered.len() - 1.., last);
        let unknown = format!("ck_0123456789ab_{}", "0".repeat(64));
        let headers = [
            None,
            Some("Basic dXNlcjpwYXNz".to_owned()),
            Some("Bearer".to_owned()),
            Some("Bearer not-a-key".to_owned()),
            Some(format!("Bearer {unknown}")),
            Some(format!("Bearer {tampered}")),
        ];
        for header in headers {
            let mut post = app
                .http
                .post(app.url("/api/v1/transfers"))
                .json(&json!([transfer(10, 1, 2, 5)]));
            let mut get = app.http.get(app.url("/api/v1/accounts/1"));
            if let Some(header) = &header {
                post = post.header(AUTHORIZATION, header);
                get = get.header(AUTHORIZATION, header);
            }
            for request in [post, get] {
                let response = request.send().await.expect("send");
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "{backend}: {header:?}"
                );
                assert_eq!(
                    response
                        .headers()
                        .get(WWW_AUTHENTICATE)
                        .map(|v| v.as_bytes()),
                    Some(&b"Bearer"[..])
                );
                let body: Value = response.json().await.expect("json");
                assert_eq!(code(&body), "unauthenticated", "{backend}: {header:?}");
            }
        }
        assert_eq!(
            app.balances(1).await,
            [0; 4],
            "{backend}: nothing was applied"
        );
    });
}

/// Accounts 1 (platform), 2 (merchant shop-a), 3 (merchant shop-b), 4 (bank bank-x), and
/// transfers 10: 1→2, 11: 1→3, 12: 3→4, 13: 2→4.
async fn owned_ledger(app: &App) {
    app.accounts(json!([
        account(1),
        owned(2, "merchant", "shop-a"),
        owned(3, "merchant", "shop-b"),
        owned(4, "bank", "bank-x"),
    ]))
    .await;
    app.transfers(json!([
        transfer(10, 1, 2, 100),
        transfer(11, 1, 3, 100),
        transfer(12, 3, 4, 10),
        transfer(13, 2, 4, 20),
    ]))
    .await;
}

/// What `key` sees: the status of `GET` on each path.
async fn statuses(app: &App, key: &str, paths: &[&str]) -> Vec<u16> {
    let mut seen = Vec::new();
    for path in paths {
        let (status, body) = app.get(path, key).await;
        if status != StatusCode::OK {
            assert_eq!(code(&body), "not_found", "{path}: {body}");
        }
        seen.push(status.as_u16());
    }
    seen
}

const READS: [&str; 12] = [
    "/api/v1/accounts/1",
    "/api/v1/accounts/2",
    "/api/v1/accounts/3",
    "/api/v1/accounts/4",
    "/api/v1/accounts/2/transfers",
    "/api/v1/accounts/3/transfers",
    "/api/v1/accounts/2/balances",
    "/api/v1/accounts/3/balances",
    "/api/v1/transfers/10",
    "/api/v1/transfers/11",
    "/api/v1/transfers/12",
    "/api/v1/transfers/13",
];

#[test]
fn merchants_and_banks_see_only_their_own() {
    each_backend(|app| async move {
        let backend = app.backend;
        owned_ledger(&app).await;
        let merchant = app.key(Role::Merchant(party("shop-a"))).await;
        let bank = app.key(Role::Bank(party("bank-x"))).await;
        let integration = app.key(Role::Integration).await;

        for key in [&merchant, &bank] {
            for (path, body) in [
                ("/api/v1/transfers", json!([transfer(20, 2, 1, 1)])),
                ("/api/v1/accounts", json!([account(30)])),
            ] {
                let (status, got) = app.post(path, key, &body).await;
                assert_eq!(
                    (status, code(&got)),
                    (StatusCode::FORBIDDEN, "forbidden"),
                    "{backend}: {path}"
                );
            }
        }
        let (status, body) = app
            .post("/api/v1/accounts", &integration, &json!([account(30)]))
            .await;
        assert_eq!(
            (status, results(&body)),
            (StatusCode::OK, vec!["ok".to_owned()]),
            "{backend}"
        );
        assert_eq!(
            app.balances(2).await,
            [0, 20, 0, 100],
            "{backend}: the forbidden transfer was not applied"
        );

        let all = statuses(&app, &integration, &READS).await;
        assert_eq!(
            all, [200; 12],
            "{backend}: integration keys read everything"
        );
        let seen = statuses(&app, &merchant, &READS).await;
        assert_eq!(
            seen,
            [404, 200, 404, 404, 200, 404, 200, 404, 200, 404, 404, 200],
            "{backend}: merchant"
        );
        let seen = statuses(&app, &bank, &READS).await;
        assert_eq!(
            seen,
            [404, 404, 404, 200, 404, 404, 404, 404, 404, 404, 200, 200],
            "{backend}: bank"
        );

        // Hidden and missing records answer alike, so ids cannot be probed.
        let (_, hidden) = app.get("/api/v1/accounts/3", &merchant).await;
        let (_, missing) = app.get("/api/v1/accounts/99", &merchant).await;
        assert_eq!(
            message(&hidden).replace('3', "99"),
            message(&missing),
            "{backend}"
        );

        let (_, body) = app.get("/api/v1/accounts/2/transfers", &merchant).await;
        assert_eq!(ids(&body, "transfers"), ["10", "13"], "{backend}");
        let everything = json!({"ids": ["1", "2", "3", "4", "99"]});
        let (_, body) = app
            .post("/api/v1/accounts/lookup", &merchant, &everything)
            .await;
        assert_eq!(ids(&body, "accounts"), ["2"], "{backend}");
        let (_, body) = app
            .post("/api/v1/accounts/lookup", &bank, &everything)
            .await;
        assert_eq!(ids(&body, "accounts"), ["4"], "{backend}");
        let transfers = json!({"ids": ["10", "11", "12", "13", "99"]});
        let (_, body) = app
            .post("/api/v1/transfers/lookup", &merchant, &transfers)
            .await;
        assert_eq!(ids(&body, "transfers"), ["10", "13"], "{backend}");
        let (_, body) = app
            .post("/api/v1/transfers/lookup", &bank, &transfers)
            .await;
        assert_eq!(ids(&body, "transfers"), ["12", "13"], "{backend}");
        let (_, body) = app
            .post("/api/v1/transfers/lookup", &integration, &transfers)
            .await;
        assert_eq!(
            ids(&body, "transfers"),
            ["10", "11", "12", "13"],
            "{backend}"
        );
    });
}

#[test]
fn listings_are_filtered_and_bounded() {
    each_backend(|app| async move {
        let backend = app.backend;
        owned_ledger(&app).await;
        let key = &app.operator;
        let list = |query: &str| format!("/api/v1/accounts/2/transfers{query}");

        let (_, body) = app.get(&list("?limit=1"), key).await;
        assert_eq!(ids(&body, "transfers"), ["10"], "{backend}");
        let (_, body) = app.get(&list("?reversed=true"), key).await;
        assert_eq!(ids(&body, "transfers"), ["13", "10"], "{backend}");
        let (_, body) = app.get(&list("?debits=false"), key).await;
        assert_eq!(ids(&body, "transfers"), ["10"], "{backend}");
        let (_, first) = app.get(&list(""), key).await;
        let second_at = first["transfers"][1]["timestamp"]
            .as_u64()
            .expect("timestamp");
        let (_, body) = app
            .get(&list(&format!("?timestamp_min={second_at}")), key)
            .await;
        assert_eq!(ids(&body, "transfers"), ["13"], "{backend}");
        let (status, body) = app
            .get(&list(&format!("?limit={QUERY_LIMIT_MAX}")), key)
            .await;
        assert_eq!(
            (status, ids(&body, "transfers").len()),
            (StatusCode::OK, 2),
            "{backend}"
        );

        let (status, body) = app.get("/api/v1/accounts/2/balances", key).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let credits: Vec<&Value> = body["balances"]
            .as_array()
            .expect("balances")
            .iter()
            .map(|b| &b["credits_posted"])
            .collect();
        assert_eq!(credits, [&json!(100), &json!(100)], "{backend}: {body}");
        assert_eq!(
            body["balances"][1]["debits_posted"], 20,
            "{backend}: {body}"
        );

        for (path, status, expected) in [
            (
                list(&format!("?limit={}", QUERY_LIMIT_MAX + 1)),
                StatusCode::BAD_REQUEST,
                "limit_out_of_range",
            ),
            (
                "/api/v1/accounts/2/balances?limit=0".to_owned(),
                StatusCode::BAD_REQUEST,
                "limit_out_of_range",
            ),
            (list("?limit=ten"), StatusCode::BAD_REQUEST, "invalid_field"),
            (list("?page=2"), StatusCode::BAD_REQUEST, "unknown_field"),
            (
                "/api/v1/accounts/two/transfers".to_owned(),
                StatusCode::BAD_REQUEST,
                "invalid_field",
            ),
            (
                "/api/v1/accounts/99/transfers".to_owned(),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                "/api/v1/nothing".to_owned(),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
        ] {
            let (got, body) = app.get(&path, key).await;
            assert_eq!(
                (got, code(&body)),
                (status, expected),
                "{backend}: {path}: {body}"
            );
        }
        let (status, body) = app.post("/api/v1/accounts/2", key, &json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            "{backend}"
        );
    });
}
