use chunlei_ledger::{AccountFlags, BATCH_EVENTS_MAX, OwnerKind, TransferFlags};
use chunlei_store::QUERY_LIMIT_MAX;

use super::{account_filter, accounts_from_json, ids_from_json, transfers_from_json};
use crate::{ApiError, BODY_BYTES_MAX};

/// The code and message of a rejected body.
fn rejected<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (&'static str, String) {
    match result {
        Ok(value) => panic!("expected a rejection, got {value:?}"),
        Err(error) => (error.status_and_code().1, error.to_string()),
    }
}

fn transfer_code(event: &str) -> (&'static str, String) {
    rejected(transfers_from_json(
        format!(r#"[{{"id":"1"}},{event}]"#).as_bytes(),
    ))
}

#[test]
fn a_full_transfer_reads_every_field() {
    // The largest id a client may use: the ones above belong to the settlement book.
    let body = br#"[{"id":"340277174624079928635746076935438991359","debit_account_id":"1",
        "credit_account_id":"2","amount":9223372036854775807,"pending_id":"3","ledger":4,
        "code":65535,"flags":["linked","pending"],"timeout_s":60,"user_data_128":"5",
        "user_data_64":"18446744073709551615","user_data_32":4294967295}]"#;
    let transfers = transfers_from_json(body).expect("valid");
    let t = &transfers[0];
    assert_eq!(
        (t.id, t.debit_account_id, t.credit_account_id, t.pending_id),
        (chunlei_settlement::book::SYSTEM_ID_MIN - 1, 1, 2, 3)
    );
    assert_eq!(
        (t.amount.get(), t.ledger, t.code, t.timeout_s),
        (i64::MAX as u64, 4, 65535, 60)
    );
    assert_eq!(t.flags, TransferFlags::LINKED.union(TransferFlags::PENDING));
    assert_eq!(
        (t.user_data_128, t.user_data_64, t.user_data_32),
        (5, u64::MAX, u32::MAX)
    );
}

#[test]
fn absent_and_null_fields_are_zero() {
    // A post may omit its amount (the full pending amount); every other field defaults too.
    let post = r#"["post_pending_transfer"]"#;
    let body = format!(
        r#"[{{"flags":{post}}}, {{"id":null,"amount":null,"ledger":null,"flags":{post}}}]"#
    );
    let transfers = transfers_from_json(body.as_bytes()).expect("valid");
    for t in &transfers {
        assert_eq!((t.id, t.amount.get(), t.ledger, t.code), (0, 0, 0, 0));
        assert_eq!(t.flags, TransferFlags::POST_PENDING_TRANSFER);
    }
    let (code, message) = rejected(transfers_from_json(br#"[{"amount":1},{"amount":null}]"#));
    assert_eq!(code, "amount_must_not_be_zero");
    assert!(
        message.starts_with("transfers[1].amount must be greater than zero"),
        "{message}"
    );
    let accounts = accounts_from_json(br#"[{"flags":["history"]}]"#).expect("valid");
    assert_eq!(
        (accounts[0].ledger, accounts[0].code, accounts[0].flags),
        (0, 0, AccountFlags::HISTORY)
    );
    assert_eq!(accounts[0].owner.kind, OwnerKind::Platform);
}

#[test]
fn unknown_and_repeated_fields_are_named() {
    // serde reports unknown fields only in its message; this pins the wording we rely on.
    let (code, message) = transfer_code(r#"{"id":"2","amonut":5}"#);
    assert_eq!(code, "unknown_field");
    assert!(
        message.starts_with("transfers[1]: unknown field `amonut`"),
        "{message}"
    );
    assert!(!message.contains("line"), "{message}");
    let (code, message) = transfer_code(r#"{"amount":1,"amount":2}"#);
    assert_eq!(code, "invalid_field");
    assert!(
        message.contains("transfers[1]") && message.contains("duplicate field"),
        "{message}"
    );
    let (code, message) = rejected(accounts_from_json(
        br#"[{"owner":{"kind":"merchant","id":"m","x":1}}]"#,
    ));
    assert_eq!(code, "unknown_field");
    assert!(
        message.starts_with("accounts[0].owner: unknown field `x`"),
        "{message}"
    );
}

/// The settlement book's accounts and transfers are out of clients' reach: no id in its range
/// may be created, debited, credited, posted or voided through the ledger API.
#[test]
fn ids_reserved_for_the_settlement_book_are_refused() {
    let reserved = chunlei_settlement::book::SYSTEM_ID_MIN;
    for field in ["id", "debit_account_id", "credit_account_id", "pending_id"] {
        let (code, message) = transfer_code(&format!(r#"{{"{field}":"{reserved}"}}"#));
        assert_eq!(code, "invalid_field", "{field}");
        assert!(
            message.starts_with(&format!("transfers[1].{field} is in the range reserved")),
            "{message}"
        );
    }
    let below = (reserved - 1).to_string();
    let ok = transfers_from_json(
        format!(
            r#"[{{"id":"{below}","debit_account_id":"1","credit_account_id":"2","amount":1}}]"#
        )
        .as_bytes(),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let (code, message) = rejected(accounts_from_json(
        format!(r#"[{{"id":"{reserved}","ledger":1,"code":1}}]"#).as_bytes(),
    ));
    assert_eq!(code, "invalid_field");
    assert!(
        message.starts_with("accounts[0].id is in the range reserved"),
        "{message}"
    );
}

#[test]
fn bad_ids_are_named_by_field_and_index() {
    for id in [
        "5",
        r#""""#,
        r#""abc""#,
        r#""-1""#,
        r#""+1""#,
        r#"" 1""#,
        r#""1e3""#,
        r#""340282366920938463463374607431768211456""#,
        "[]",
    ] {
        let (code, message) = transfer_code(&format!(r#"{{"debit_account_id":{id}}}"#));
        assert_eq!(code, "invalid_field", "{id}");
        assert!(
            message.starts_with("transfers[1].debit_account_id must be a decimal string"),
            "{message}"
        );
    }
    let (code, message) = transfer_code(r#"{"user_data_64":"18446744073709551616"}"#);
    assert_eq!(code, "invalid_field");
    assert!(
        message.starts_with("transfers[1].user_data_64 "),
        "{message}"
    );
}

#[test]
fn amounts_above_the_ledger_maximum_are_out_of_range() {
    for amount in [
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "1e30",
    ] {
        let (code, message) = transfer_code(&format!(r#"{{"amount":{amount}}}"#));
        assert_eq!(code, "amount_out_of_range", "{amount}");
        assert!(
            message.starts_with("transfers[1].amount is larger than 9223372036854775807"),
            "{message}"
        );
    }
    for amount in ["-1", "1.5", "1e3", r#""5""#, "true"] {
        assert_eq!(
            transfer_code(&format!(r#"{{"amount":{amount}}}"#)).0,
            "invalid_field",
            "{amount}"
        );
    }
}

#[test]
fn small_integers_are_range_checked() {
    for event in [
        r#"{"ledger":4294967296}"#,
        r#"{"code":65536}"#,
        r#"{"code":-1}"#,
        r#"{"timeout_s":"1"}"#,
        r#"{"user_data_32":1.0}"#,
    ] {
        let (code, message) = transfer_code(event);
        assert_eq!(code, "invalid_field", "{event}");
        assert!(message.starts_with("transfers[1]."), "{message}");
    }
}

#[test]
fn flags_are_names() {
    let (code, message) = transfer_code(r#"{"flags":["pending","sideways"]}"#);
    assert_eq!(code, "invalid_field");
    assert!(
        message.contains("transfers[1].flags has an unknown flag \"sideways\""),
        "{message}"
    );
    assert_eq!(transfer_code(r#"{"flags":2}"#).0, "invalid_field");
    assert_eq!(transfer_code(r#"{"flags":[2]}"#).0, "invalid_field");
    let (code, _) = rejected(accounts_from_json(br#"[{"flags":["pending"]}]"#));
    assert_eq!(
        code, "invalid_field",
        "pending is a transfer flag, not an account flag"
    );
}

#[test]
fn owners_are_checked() {
    let account = |owner: &str| accounts_from_json(format!(r#"[{{"owner":{owner}}}]"#).as_bytes());
    let merchant = account(r#"{"kind":"merchant","id":"shop_1-A"}"#).expect("valid");
    assert_eq!(
        (merchant[0].owner.kind, merchant[0].owner.id.as_str()),
        (OwnerKind::Merchant, "shop_1-A")
    );
    let platform = account(r#"{"kind":"platform"}"#).expect("valid");
    assert_eq!(platform[0].owner.kind, OwnerKind::Platform);
    let long = "m".repeat(65);
    for bad in [
        r#"{"kind":"merchant"}"#.to_owned(),
        r#"{"kind":"bank","id":""}"#.to_owned(),
        r#"{"kind":"bank","id":"a b"}"#.to_owned(),
        format!(r#"{{"kind":"merchant","id":"{long}"}}"#),
        r#"{"kind":"platform","id":"x"}"#.to_owned(),
        r#"{"kind":"government","id":"x"}"#.to_owned(),
        r#"{"id":"x"}"#.to_owned(),
        r#""merchant""#.to_owned(),
    ] {
        let (code, message) = rejected(account(&bad));
        assert_eq!(code, "invalid_field", "{bad}");
        assert!(message.starts_with("accounts[0].owner"), "{message}");
    }
    assert!(account(&format!(r#"{{"kind":"merchant","id":"{}"}}"#, &long[1..])).is_ok());
}

#[test]
fn batches_have_a_shape_and_a_size() {
    assert_eq!(rejected(transfers_from_json(b"[")).0, "invalid_json");
    assert_eq!(rejected(transfers_from_json(b"[] x")).0, "invalid_json");
    assert_eq!(rejected(transfers_from_json(b"")).0, "invalid_json");
    assert_eq!(rejected(transfers_from_json(b"{}")).0, "invalid_body");
    assert_eq!(rejected(transfers_from_json(b"[]")).0, "batch_empty");
    assert_eq!(
        rejected(transfers_from_json(b"[{}, 5]")).1,
        "transfers[1] must be a JSON object"
    );
    let events = |n: usize| format!("[{}]", vec![r#"{"amount":1}"#; n].join(","));
    assert_eq!(
        transfers_from_json(events(BATCH_EVENTS_MAX).as_bytes())
            .expect("full batch")
            .len(),
        BATCH_EVENTS_MAX
    );
    let (code, message) = rejected(transfers_from_json(events(BATCH_EVENTS_MAX + 1).as_bytes()));
    assert_eq!(code, "batch_too_large");
    assert!(message.contains("8190 events"), "{message}");
}

#[test]
fn lookups_take_a_bounded_list_of_ids() {
    assert_eq!(
        ids_from_json(br#"{"ids":["1","340282366920938463463374607431768211455"]}"#)
            .expect("valid"),
        [1, u128::MAX]
    );
    assert_eq!(
        ids_from_json(br#"{"ids":[]}"#).expect("valid"),
        Vec::<u128>::new()
    );
    assert_eq!(
        rejected(ids_from_json(br#"{"ids":["1"],"more":1}"#)).0,
        "unknown_field"
    );
    assert_eq!(rejected(ids_from_json(br#"{}"#)).0, "invalid_field");
    let (code, message) = rejected(ids_from_json(br#"{"ids":["1",2]}"#));
    assert_eq!(code, "invalid_field");
    assert!(message.starts_with("ids[1] must be"), "{message}");
    let ids = format!(
        r#"{{"ids":[{}]}}"#,
        vec![r#""1""#; BATCH_EVENTS_MAX + 1].join(",")
    );
    assert_eq!(rejected(ids_from_json(ids.as_bytes())).0, "batch_too_large");
}

#[test]
fn listing_parameters() {
    let pairs = |query: &[(&str, &str)]| -> Vec<(String, String)> {
        query
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    let filter = account_filter(5, &[]).expect("defaults");
    assert_eq!(
        (
            filter.account_id,
            filter.limit,
            filter.debits,
            filter.credits,
            filter.reversed
        ),
        (5, 100, true, true, false)
    );
    let filter = account_filter(
        5,
        &pairs(&[
            ("limit", "8189"),
            ("reversed", "true"),
            ("debits", "false"),
            ("timestamp_min", "10"),
            ("timestamp_max", "20"),
        ]),
    )
    .expect("valid");
    assert_eq!(
        (
            filter.limit,
            filter.reversed,
            filter.debits,
            filter.timestamp_min,
            filter.timestamp_max
        ),
        (QUERY_LIMIT_MAX, true, false, 10, 20)
    );
    for (query, code) in [
        (&[("limit", "8190")][..], "limit_out_of_range"),
        (&[("limit", "0")], "limit_out_of_range"),
        (&[("limit", "99999999999999999999")], "limit_out_of_range"),
        (&[("limit", "-1")], "invalid_field"),
        (&[("limit", "1"), ("limit", "2")], "invalid_field"),
        (&[("reversed", "yes")], "invalid_field"),
        (
            &[("debits", "false"), ("credits", "false")],
            "invalid_field",
        ),
        (
            &[("timestamp_min", "3"), ("timestamp_max", "2")],
            "invalid_field",
        ),
        (&[("offset", "1")], "unknown_field"),
    ] {
        assert_eq!(
            rejected(account_filter(5, &pairs(query))).0,
            code,
            "{query:?}"
        );
    }
}

#[test]
fn a_full_batch_of_the_longest_transfers_fits_the_body_limit() {
    // The longest ids a client may send (39 digits, like u128::MAX).
    let max = chunlei_settlement::book::SYSTEM_ID_MIN - 1;
    let all_flags: Vec<&str> = TransferFlags::ALL.iter().map(|(_, name)| *name).collect();
    let longest = serde_json::json!({
        "id": max.to_string(), "debit_account_id": max.to_string(),
        "credit_account_id": max.to_string(), "amount": i64::MAX, "pending_id": max.to_string(),
        "ledger": u32::MAX, "code": u16::MAX, "flags": all_flags, "timeout_s": u32::MAX,
        "user_data_128": max.to_string(), "user_data_64": u64::MAX.to_string(),
        "user_data_32": u32::MAX,
    })
    .to_string();
    let body = format!("[{}]", vec![longest.as_str(); BATCH_EVENTS_MAX].join(","));
    assert!(body.len() <= BODY_BYTES_MAX, "{} bytes", body.len());
    assert_eq!(
        transfers_from_json(body.as_bytes()).expect("valid").len(),
        BATCH_EVENTS_MAX
    );
}
