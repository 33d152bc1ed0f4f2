//! The merchant registry end to end: the real router and authentication on a real port, a
//! fresh database per test, on every backend `TestDb::all()` offers.

use chunlei_http::PartyId;
use chunlei_http::auth::Role;
use chunlei_store::QUERY_LIMIT_MAX;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;
use common::{App, answer, code, each_backend, message};

impl App {
    async fn put(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        answer(self.http.put(self.url(path)).bearer_auth(key).json(body)).await
    }

    /// Creates or replaces a merchant with the operator key; it must succeed.
    async fn merchant(&self, id: &str, body: &Value) {
        let (status, answer) = self
            .put(&format!("/api/v1/merchants/{id}"), &self.operator, body)
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", self.backend);
    }
}

fn party(id: &str) -> PartyId {
    PartyId::parse(id).expect("valid party id")
}

/// A complete merchant body.
fn body() -> Value {
    json!({
        "name": "温州鞋业有限公司",
        "kind": "factory",
        "foreign_trade": true,
        "region_code": "330302",
        "category": "footwear",
        "joined_on": "2025-03-01",
        "cluster_id": "wenzhou-shoes",
        "risk_tier": "B",
        "bank_code": "ICBC",
        "account_number": "6222000011112222",
        "holder_name": "温州鞋业有限公司"
    })
}

#[test]
fn a_merchant_is_created_replaced_and_read() {
    each_backend(|app| async move {
        let backend = app.backend;
        let (status, created) = app
            .put("/api/v1/merchants/m-1", &app.operator, &body())
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {created}");
        let mut expected = body();
        expected["id"] = json!("m-1");
        expected["agriculture_base_id"] = Value::Null;
        assert_eq!(created, expected, "{backend}");

        let (status, read) = app.get("/api/v1/merchants/m-1", &app.operator).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {read}");
        assert_eq!(read, expected, "{backend}");

        let mut replaced = body();
        replaced["id"] = json!("m-1");
        replaced["risk_tier"] = json!("D");
        replaced["cluster_id"] = Value::Null;
        app.merchant("m-1", &replaced).await;
        let (_, read) = app.get("/api/v1/merchants/m-1", &app.operator).await;
        assert_eq!(read["risk_tier"], "D", "{backend}");
        assert_eq!(read["cluster_id"], Value::Null, "{backend}");

        let (status, missing) = app.get("/api/v1/merchants/m-9", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {missing}");
        assert_eq!(code(&missing), "not_found");
    });
}

#[test]
fn bad_fields_are_named() {
    each_backend(|app| async move {
        let backend = app.backend;
        let cases = [
            ("region_code", json!("12345")),
            ("joined_on", json!("2025-02-30")),
            ("kind", json!("farm")),
            ("foreign_trade", json!("true")),
            ("account_number", json!("12-34")),
            ("name", json!(7)),
            ("id", json!("m-2")),
        ];
        for (field, value) in cases {
            let mut bad = body();
            bad[field] = value;
            let (status, answer) = app.put("/api/v1/merchants/m-1", &app.operator, &bad).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{backend} {field}: {answer}"
            );
            assert_eq!(code(&answer), "invalid_field", "{backend} {field}");
            assert!(
                message(&answer).starts_with(&format!("{field}: ")),
                "{backend}: {answer}"
            );
        }
        let mut missing = body();
        missing
            .as_object_mut()
            .expect("an object")
            .remove("holder_name");
        let (status, answer) = app
            .put("/api/v1/merchants/m-1", &app.operator, &missing)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert_eq!(message(&answer), "holder_name: is required");

        let mut unknown = body();
        unknown["colour"] = json!("red");
        let (status, answer) = app
            .put("/api/v1/merchants/m-1", &app.operator, &unknown)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert_eq!(code(&answer), "unknown_field");

        let (status, answer) = app
            .put("/api/v1/merchants/a%20b", &app.operator, &body())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert!(message(&answer).starts_with("id: "), "{answer}");

        // The same values as an array, which serde would read as the struct's fields in order.
        let values: Vec<Value> = body()
            .as_object()
            .expect("an object")
            .values()
            .cloned()
            .collect();
        let (status, answer) = app
            .put("/api/v1/merchants/m-1", &app.operator, &json!(values))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert_eq!(code(&answer), "invalid_body", "{backend}: {answer}");

        // Nothing of the refused requests was stored.
        let (status, _) = app.get("/api/v1/merchants/m-1", &app.operator).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
    });
}

#[test]
fn who_may_do_what() {
    each_backend(|app| async move {
        let backend = app.backend;
        app.merchant("m-1", &body()).await;
        app.merchant("m-2", &body()).await;
        let integration = app.key(Role::Integration).await;
        let own = app.key(Role::Merchant(party("m-1"))).await;
        let bank = app.key(Role::Bank(party("b-1"))).await;

        let (status, _) = app
            .put("/api/v1/merchants/m-3", &integration, &body())
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        for key in [&own, &bank] {
            let (status, answer) = app.put("/api/v1/merchants/m-1", key, &body()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {answer}");
            let (status, answer) = app.get("/api/v1/merchants", key).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {answer}");
        }
        let (status, _) = app.get("/api/v1/merchants/m-1", &own).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        // Another merchant's entry looks exactly like one that does not exist.
        let (status, other) = app.get("/api/v1/merchants/m-2", &own).await;
        let (_, absent) = app.get("/api/v1/merchants/m-9", &own).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        assert_eq!(code(&other), code(&absent));
        let (status, _) = app.get("/api/v1/merchants/m-1", &bank).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _) = app.get("/api/v1/merchants/m-2", &integration).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let (status, _) = app.get("/api/v1/merchants/m-1", "ck_nope_nope").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
    });
}

#[test]
fn the_registry_is_listed_in_pages() {
    each_backend(|app| async move {
        let backend = app.backend;
        for id in ["m-3", "m-1", "m-5", "m-2", "m-4"] {
            app.merchant(id, &body()).await;
        }
        let ids = |body: &Value| -> Vec<String> {
            body["merchants"]
                .as_array()
                .unwrap_or_else(|| panic!("no merchants in {body}"))
                .iter()
                .map(|m| m["id"].as_str().expect("id").to_owned())
                .collect()
        };
        let (status, first) = app.get("/api/v1/merchants?limit=2", &app.operator).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {first}");
        assert_eq!(ids(&first), ["m-1", "m-2"], "{backend}");
        let (_, second) = app
            .get("/api/v1/merchants?after=m-2&limit=2", &app.operator)
            .await;
        assert_eq!(ids(&second), ["m-3", "m-4"], "{backend}");
        let (_, rest) = app.get("/api/v1/merchants?after=m-4", &app.operator).await;
        assert_eq!(ids(&rest), ["m-5"], "{backend}");
        let (_, all) = app.get("/api/v1/merchants?after=", &app.operator).await;
        assert_eq!(ids(&all).len(), 5, "{backend}");

        let too_many = format!("/api/v1/merchants?limit={}", QUERY_LIMIT_MAX + 1);
        let (status, answer) = app.get(&too_many, &app.operator).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert_eq!(code(&answer), "limit_out_of_range");
        let at_most = format!("/api/v1/merchants?limit={QUERY_LIMIT_MAX}");
        let (status, _) = app.get(&at_most, &app.operator).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let (status, answer) = app.get("/api/v1/merchants?afterr=m-1", &app.operator).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert_eq!(code(&answer), "unknown_field");
        let (status, answer) = app
            .get("/api/v1/merchants?after=a%2Fb", &app.operator)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}: {answer}");
        assert!(message(&answer).starts_with("after: "), "{answer}");
    });
}
