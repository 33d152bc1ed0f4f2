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

mod key_cache {
    use std::cell::{Cell, RefCell};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use chunlei_store::ApiKeyRecord;

    use super::super::{KeyCache, Role, new_key};

    /// A store of one key that counts its lookups; `revoke` deletes the key.
    struct FakeStore {
        key: RefCell<Option<ApiKeyRecord>>,
        lookups: Cell<u32>,
    }

    impl FakeStore {
        fn new(record: ApiKeyRecord) -> FakeStore {
            FakeStore {
                key: RefCell::new(Some(record)),
                lookups: Cell::new(0),
            }
        }

        fn revoke(&self) {
            self.key.replace(None);
        }

        /// What the cache answers at `now`, the store asked only when the cache must.
        fn find(&self, cache: &KeyCache, sha256: &[u8; 32], now: Instant) -> Option<String> {
            let lookup = || async {
                self.lookups.set(self.lookups.get() + 1);
                Ok::<_, ()>(self.key.borrow().clone())
            };
            let found = block_on(cache.find(sha256, now, lookup));
            found
                .expect("the fake store does not fail")
                .map(|r| r.key_id.clone())
        }
    }

    /// Runs a future that never waits (the fake store answers at once).
    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn a_found_key_is_not_looked_up_again_within_the_ttl() {
        let (_, record) = new_key(&Role::Operator);
        let sha256 = record.secret_sha256;
        let key_id = record.key_id.clone();
        let store = FakeStore::new(record);
        let cache = KeyCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        for after_ms in [0, 1, 4_999] {
            let now = t0 + Duration::from_millis(after_ms);
            assert_eq!(store.find(&cache, &sha256, now), Some(key_id.clone()));
        }
        assert_eq!(store.lookups.get(), 1);
        // Past the TTL the store is asked again.
        assert_eq!(
            store.find(&cache, &sha256, t0 + Duration::from_secs(5)),
            Some(key_id)
        );
        assert_eq!(store.lookups.get(), 2);
    }

    #[test]
    fn a_revoked_key_stops_working_within_the_ttl() {
        let (_, record) = new_key(&Role::Integration);
        let sha256 = record.secret_sha256;
        let store = FakeStore::new(record);
        let ttl = Duration::from_secs(5);
        let cache = KeyCache::new(ttl);
        let t0 = Instant::now();
        assert!(store.find(&cache, &sha256, t0).is_some());
        let revoked_at = t0 + Duration::from_secs(2);
        store.revoke();
        // Still remembered until the TTL after the lookup that found it...
        assert!(
            store
                .find(&cache, &sha256, revoked_at + Duration::from_secs(1))
                .is_some()
        );
        // ...which is no later than the TTL after the revocation.
        assert_eq!(store.find(&cache, &sha256, t0 + ttl), None);
        assert_eq!(store.find(&cache, &sha256, revoked_at + ttl), None);
        // A key not found is not remembered: each request asks the store.
        assert_eq!(store.lookups.get(), 3);
    }

    #[test]
    fn an_unknown_key_is_looked_up_every_time_so_a_new_key_works_at_once() {
        let (_, record) = new_key(&Role::Operator);
        let sha256 = record.secret_sha256;
        let key_id = record.key_id.clone();
        let store = FakeStore::new(record);
        store.revoke();
        let cache = KeyCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(store.find(&cache, &sha256, t0), None);
        // The key is created now: the next request finds it.
        let (_, mut again) = new_key(&Role::Operator);
        again.key_id = key_id.clone();
        store.key.replace(Some(again));
        assert_eq!(
            store.find(&cache, &sha256, t0 + Duration::from_millis(1)),
            Some(key_id)
        );
        assert_eq!(store.lookups.get(), 2);
    }

    /// A new key's record, an empty cache, a lookup counter and the time the requests come.
    fn together() -> (ApiKeyRecord, KeyCache, Cell<u32>, Instant) {
        let (_, record) = new_key(&Role::Integration);
        let cache = KeyCache::new(Duration::from_secs(5));
        (record, cache, Cell::new(0), Instant::now())
    }

    /// The key id a request found, if any.
    fn key_id(found: Result<Option<Arc<ApiKeyRecord>>, ()>) -> Result<Option<String>, ()> {
        found.map(|r| r.map(|r| r.key_id.clone()))
    }

    /// A lookup of `record` that answers only after being polled again: the other requests
    /// sent meanwhile find it under way.
    async fn slow_lookup(
        lookups: &Cell<u32>,
        answer: Result<Option<ApiKeyRecord>, ()>,
    ) -> Result<Option<ApiKeyRecord>, ()> {
        lookups.set(lookups.get() + 1);
        tokio::task::yield_now().await;
        answer
    }

    #[test]
    fn requests_missing_together_share_one_lookup() {
        let (record, cache, lookups, now) = together();
        let sha256 = record.secret_sha256;
        let find = || {
            cache.find(&sha256, now, || {
                slow_lookup(&lookups, Ok(Some(record.clone())))
            })
        };
        let (first, second, third) = block_on(async { tokio::join!(find(), find(), find()) });
        for found in [first, second, third] {
            assert_eq!(key_id(found), Ok(Some(record.key_id.clone())));
        }
        assert_eq!(lookups.get(), 1);
        // The one lookup's answer was kept: the next request asks nobody.
        let found = block_on(find());
        assert_eq!(key_id(found), Ok(Some(record.key_id.clone())));
        assert_eq!(lookups.get(), 1);
    }

    #[test]
    fn an_unknown_key_asked_together_is_one_lookup_and_not_kept() {
        let (record, cache, lookups, now) = together();
        let sha256 = record.secret_sha256;
        let find = || cache.find(&sha256, now, || slow_lookup(&lookups, Ok(None)));
        let (first, second) = block_on(async { tokio::join!(find(), find()) });
        assert_eq!((first, second), (Ok(None), Ok(None)));
        assert_eq!(lookups.get(), 1);
        assert_eq!(block_on(find()), Ok(None));
        assert_eq!(lookups.get(), 2);
    }

    #[test]
    fn a_failed_lookup_leaves_those_waiting_to_ask_the_store_themselves() {
        let (record, cache, lookups, now) = together();
        let sha256 = record.secret_sha256;
        // The first lookup fails; those after it find the key.
        let answer = || {
            if lookups.get() == 0 {
                Err(())
            } else {
                Ok(Some(record.clone()))
            }
        };
        let find = || cache.find(&sha256, now, || slow_lookup(&lookups, answer()));
        let (first, second, third) = block_on(async { tokio::join!(find(), find(), find()) });
        assert_eq!(key_id(first), Err(()));
        for found in [second, third] {
            assert_eq!(key_id(found), Ok(Some(record.key_id.clone())));
        }
        assert_eq!(lookups.get(), 3);
    }

    #[test]
    fn a_lookup_whose_request_went_away_leaves_those_waiting_to_ask_themselves() {
        let (record, cache, lookups, now) = together();
        let sha256 = record.secret_sha256;
        let never = || async {
            lookups.set(lookups.get() + 1);
            std::future::pending::<Result<Option<ApiKeyRecord>, ()>>().await
        };
        let found = || async { slow_lookup(&lookups, Ok(Some(record.clone()))).await };
        let (abandoned, waited) = block_on(async {
            tokio::join!(
                async {
                    // The first request's lookup never answers; the request goes away.
                    tokio::select! {
                        biased;
                        found = cache.find(&sha256, now, never) => Some(found),
                        () = async {
                            for _ in 0..3 {
                                tokio::task::yield_now().await;
                            }
                        } => None,
                    }
                },
                cache.find(&sha256, now, found)
            )
        });
        assert!(abandoned.is_none());
        assert_eq!(key_id(waited), Ok(Some(record.key_id.clone())));
        assert_eq!(lookups.get(), 2);
    }

    #[test]
    fn keys_are_told_apart_by_their_hash() {
        let (_, first) = new_key(&Role::Operator);
        let (_, second) = new_key(&Role::Operator);
        let cache = KeyCache::new(Duration::from_secs(5));
        let now = Instant::now();
        let first_store = FakeStore::new(first.clone());
        let second_store = FakeStore::new(second.clone());
        assert_eq!(
            first_store.find(&cache, &first.secret_sha256, now),
            Some(first.key_id.clone())
        );
        assert_eq!(
            second_store.find(&cache, &second.secret_sha256, now),
            Some(second.key_id)
        );
        assert_eq!(
            (first_store.lookups.get(), second_store.lookups.get()),
            (1, 1)
        );
    }
}
