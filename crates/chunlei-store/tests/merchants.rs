//! The merchant registry on every backend: create, replace, read, page.

use chunlei_settlement::{Merchant, MerchantFields, MerchantId};
use chunlei_store::testing::TestDb;
use chunlei_store::{DbUrl, QUERY_LIMIT_MAX, Store, StoreOptions};

fn merchant(id: &str, name: &str) -> Merchant {
    let fields = MerchantFields {
        id,
        name,
        kind: "farm_cooperative",
        foreign_trade: "false",
        region_code: "530102",
        category: "tea",
        joined_on: "2023-11-05",
        cluster_id: "",
        agriculture_base_id: "pu-er-1",
        risk_tier: "C",
        bank_code: "ABOC",
        account_number: "0012345678",
        holder_name: "云南茶叶合作社",
    };
    Merchant::parse(&fields).expect("valid merchant")
}

fn id(text: &str) -> MerchantId {
    MerchantId::parse(text).expect("valid id")
}

#[test]
fn merchants_are_created_replaced_and_read() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        assert_eq!(store.merchant(&id("m-1")).expect("read"), None);
        let first = merchant("m-1", "First name");
        store
            .upsert_merchants(&[first.clone(), merchant("m-2", "Other")])
            .expect("create");
        assert_eq!(store.merchant(&id("m-1")).expect("read"), Some(first));
        let renamed = merchant("m-1", "Second name");
        store
            .upsert_merchants(std::slice::from_ref(&renamed))
            .expect("replace");
        assert_eq!(store.merchant(&id("m-1")).expect("read"), Some(renamed));
        // A batch naming one merchant twice keeps its last row.
        let last = merchant("m-3", "Last");
        store
            .upsert_merchants(&[merchant("m-3", "Earlier"), last.clone()])
            .expect("twice in one batch");
        assert_eq!(store.merchant(&id("m-3")).expect("read"), Some(last));
        if let DbUrl::Sqlite(path) = &db.url {
            let conn = rusqlite::Connection::open(path).expect("open the file");
            let (version, created_at, updated_at): (i64, i64, i64) = conn
                .query_row(
                    "SELECT version, created_at, updated_at FROM merchants WHERE id = 'm-1'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .expect("row");
            assert_eq!(version, 2);
            assert!(updated_at > created_at);
        }
    }
}

/// A merchant read once and then changed is read changed: by the store, and on SQLite by
/// another connection to the file, whatever the store kept of its first read.
#[test]
fn a_changed_merchant_is_read_changed() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let first = merchant("m-1", "First name");
        store
            .upsert_merchants(&[first.clone(), merchant("m-2", "Other")])
            .expect("create");
        for _ in 0..2 {
            assert_eq!(
                store.merchant(&id("m-1")).expect("read"),
                Some(first.clone())
            );
        }
        // A change to another merchant leaves this one as it was.
        store
            .upsert_merchants(&[merchant("m-2", "Other, renamed")])
            .expect("replace the other");
        assert_eq!(
            store.merchant(&id("m-1")).expect("read"),
            Some(first.clone())
        );
        if let DbUrl::Sqlite(path) = &db.url {
            rusqlite::Connection::open(path)
                .expect("open the file")
                .execute(
                    "UPDATE merchants SET name = 'Changed outside' WHERE id = 'm-1'",
                    [],
                )
                .expect("update");
            let read = store.merchant(&id("m-1")).expect("read").expect("there");
            assert_eq!(read.name, "Changed outside");
            rusqlite::Connection::open(path)
                .expect("open the file")
                .execute("DELETE FROM merchants WHERE id = 'm-1'", [])
                .expect("delete");
            assert_eq!(store.merchant(&id("m-1")).expect("read"), None);
        }
    }
}

#[test]
fn merchants_page_by_id() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        // Upper and lower case and digits, so byte order is what is tested.
        let ids = ["b", "A", "a-2", "a_1", "Z9", "0"];
        let batch: Vec<Merchant> = ids.iter().map(|i| merchant(i, "Shop")).collect();
        store.upsert_merchants(&batch).expect("create");
        let mut sorted = ids.map(str::to_owned).to_vec();
        sorted.sort();
        let mut seen = Vec::new();
        let mut after: Option<MerchantId> = None;
        loop {
            let page = store.merchants(after.as_ref(), 4).expect("page");
            assert!(page.len() <= 4);
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            seen.extend(page.iter().map(|m| m.id.as_str().to_owned()));
        }
        assert_eq!(seen, sorted, "{}", db.url);
        // A limit above the maximum is capped, not refused.
        let all = store.merchants(None, QUERY_LIMIT_MAX + 1).expect("all");
        assert_eq!(all.len(), ids.len());
        assert!(store.merchants(None, 0).expect("none").is_empty());
    }
}

#[test]
fn many_merchants_commit_in_one_call() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let batch: Vec<Merchant> = (0..10_000)
            .map(|i| merchant(&format!("m{i:05}"), "Shop"))
            .collect();
        store.upsert_merchants(&batch).expect("create");
        let last = store.merchants(Some(&id("m09990")), 100).expect("tail");
        assert_eq!(last.len(), 9);
        assert_eq!(
            store.merchant(&id("m09999")).expect("read"),
            batch.last().cloned()
        );
    }
}

/// A fraud flag is set once per merchant: the same reason again leaves it as it stood, another
/// reason is a conflict that changes nothing, and clearing it lets a new one be set. Merchants
/// not registered can be neither flagged nor cleared.
#[test]
fn fraud_flags_are_set_once_and_cleared() {
    use chunlei_store::{ClearOutcome, FlagAction, FlagOutcome};
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        store
            .upsert_merchants(&[merchant("m-1", "Flagged"), merchant("m-2", "Clean")])
            .expect("create");
        let m1 = id("m-1");
        let FlagOutcome::Flagged(first) = store
            .flag_fraud(&m1, "shared device with a banned account", "op-key-1")
            .expect("flag")
        else {
            panic!("{db:?}: a first flag is set");
        };
        assert_eq!(first.merchant_id, "m-1");
        assert_eq!(first.flagged_by, "op-key-1");
        assert_eq!(store.fraud_flag("m-1").expect("read"), Some(first.clone()));
        assert_eq!(store.fraud_flag("m-2").expect("read"), None);

        let again = store
            .flag_fraud(&m1, "shared device with a banned account", "op-key-2")
            .expect("flag again");
        assert_eq!(again, FlagOutcome::AlreadyFlagged(first.clone()));
        let other = store
            .flag_fraud(&m1, "chargebacks", "op-key-2")
            .expect("flag with another reason");
        assert_eq!(other, FlagOutcome::Conflict(first.clone()));
        assert_eq!(store.fraud_flag("m-1").expect("read"), Some(first));

        let nobody = id("m-404");
        assert_eq!(
            store.flag_fraud(&nobody, "x", "op").expect("flag"),
            FlagOutcome::UnknownMerchant
        );
        assert_eq!(store.fraud_flag("m-404").expect("read"), None);
        assert_eq!(
            store.clear_fraud_flag(&nobody, "op").expect("clear"),
            ClearOutcome::UnknownMerchant
        );

        assert_eq!(
            store.clear_fraud_flag(&m1, "op-key-3").expect("clear"),
            ClearOutcome::Cleared
        );
        assert_eq!(
            store
                .clear_fraud_flag(&m1, "op-key-3")
                .expect("clear again"),
            ClearOutcome::NotFlagged
        );
        assert_eq!(store.fraud_flag("m-1").expect("read"), None);
        let FlagOutcome::Flagged(second) = store
            .flag_fraud(&m1, "chargebacks", "op-key-2")
            .expect("flag anew")
        else {
            panic!("{db:?}: a cleared merchant can be flagged again");
        };
        assert_eq!(second.reason, "chargebacks");
        // The history keeps every flag set and cleared, the latest first; a repeat, a
        // conflict and a clear of nothing are not in it.
        let events: Vec<(FlagAction, String, String)> = store
            .fraud_flag_events("m-1")
            .expect("history")
            .into_iter()
            .map(|e| (e.action, e.reason, e.actor))
            .collect();
        let event =
            |action, reason: &str, actor: &str| (action, reason.to_owned(), actor.to_owned());
        assert_eq!(
            events,
            [
                event(FlagAction::Set, "chargebacks", "op-key-2"),
                event(
                    FlagAction::Cleared,
                    "shared device with a banned account",
                    "op-key-3"
                ),
                event(
                    FlagAction::Set,
                    "shared device with a banned account",
                    "op-key-1"
                ),
            ],
            "{db:?}"
        );
        assert_eq!(store.fraud_flag_events("m-2").expect("history"), []);
    }
}
