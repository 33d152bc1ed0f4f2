use chunlei_store::ApiKeyRecord;

use super::{Role, key_sha256, new_key, parse_key};
use crate::PartyId;

fn merchant(id: &str) -> Role {
    Role::Merchant(PartyId::parse(id).expect("valid party id"))
}

#[test]
fn new_key_has_the_documented_shape_and_stores_only_its_hash() {
    let (key, record) = new_key(&Role::Operator);
    assert_eq!(key.len(), "ck_".len() + 12 + 1 + 64);
    assert_eq!(parse_key(&key), Some(record.key_id.as_str()));
    assert_eq!(record.secret_sha256, key_sha256(&key));
    assert_eq!(record.role, "operator");
    assert_eq!(
        (record.merchant_id.as_deref(), record.bank_id.as_deref()),
        (None, None)
    );
    assert!(record.created_at > 0);
    let secret = key.rsplit('_').next().expect("secret");
    assert!(
        !format!("{record:?}").contains(secret),
        "the record must not hold the secret"
    );
}

#[test]
fn new_keys_differ() {
    let (first, first_record) = new_key(&Role::Integration);
    let (second, second_record) = new_key(&Role::Integration);
    assert_ne!(first, second);
    assert_ne!(first_record.key_id, second_record.key_id);
}

#[test]
fn bound_roles_store_their_party_and_read_back() {
    let (_, record) = new_key(&merchant("m-1"));
    assert_eq!(
        (record.role.as_str(), record.merchant_id.as_deref()),
        ("merchant", Some("m-1"))
    );
    assert_eq!(Role::from_record(&record), Ok(merchant("m-1")));
    let bank = Role::Bank(PartyId::parse("icbc").expect("valid party id"));
    let (_, record) = new_key(&bank);
    assert_eq!(
        (record.role.as_str(), record.bank_id.as_deref()),
        ("bank", Some("icbc"))
    );
    assert_eq!(Role::from_record(&record), Ok(bank));
    for role in [Role::Operator, Role::Integration] {
        assert_eq!(Role::from_record(&new_key(&role).1), Ok(role));
    }
}

#[test]
fn inconsistent_records_grant_nothing() {
    let record = |role: &str, merchant: Option<&str>, bank: Option<&str>| ApiKeyRecord {
        key_id: "0123456789ab".into(),
        secret_sha256: [0; 32],
        role: role.into(),
        merchant_id: merchant.map(str::to_owned),
        bank_id: bank.map(str::to_owned),
        created_at: 1,
    };
    for bad in [
        record("merchant", None, None),
        record("merchant", Some("m"), Some("b")),
        record("merchant", Some("not valid!"), None),
        record("bank", Some("m"), None),
        record("operator", Some("m"), None),
        record("root", None, None),
    ] {
        assert!(Role::from_record(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn malformed_keys_are_refused_without_a_lookup() {
    let (key, _) = new_key(&Role::Operator);
    let secret = "a".repeat(64);
    for bad in [
        String::new(),
        key.to_uppercase(),
        key[1..].to_owned(),
        format!("{key}0"),
        format!("ck_0123456789a_{secret}"),
        format!("ck_0123456789abc_{secret}"),
        format!("ck_0123456789ag_{secret}"),
        format!("ck_0123456789ab_{secret}_"),
        format!("ck_0123456789ab{secret}"),
    ] {
        assert_eq!(parse_key(&bad), None, "{bad}");
    }
    assert_eq!(
        parse_key(&format!("ck_0123456789ab_{secret}")),
        Some("0123456789ab")
    );
}
