//! What a loan decision reads about a merchant, on every backend, and the SQLite store's copy
//! of it in memory: answered while nothing it comes from has changed, read again after each
//! kind of change, never the source of a stored decision made before a registry change to its
//! merchant that another process committed, and left in use by changes to other merchants.

use chunlei_ledger::Fen;
use chunlei_settlement::book::{Command, EventIn};
use chunlei_settlement::{MerchantId, OrderEvent};
use chunlei_store::testing::{TestDb, decision, merchant};
use chunlei_store::{FlagOutcome, READS_WAITING_MAX, Store, StoreError, StoreOptions};

const DAY: u64 = 86_400 * 1_000_000_000;
/// 2020-04-01 in days since the Unix epoch.
const APRIL_1: i32 = 18_353;

fn id(text: &str) -> MerchantId {
    MerchantId::parse(text).expect("a merchant id")
}

fn paid(event_id: &str, merchant: &str, amount: u64) -> Command {
    let day = u64::try_from(APRIL_1).expect("after 1970");
    Command::Order(EventIn {
        event_id: event_id.to_owned(),
        order_id: format!("order-{event_id}"),
        merchant_id: merchant.to_owned(),
        occurred_at: day * DAY + 3_600_000_000_000,
        event: OrderEvent::Paid {
            merchant_id: merchant.to_owned(),
            amount: Fen::new(amount).expect("amount"),
            category: "toys".into(),
            channel: "aliexpress".into(),
        },
    })
}

/// Whether the store answers `merchant`'s inputs on `day` from memory.
fn kept(store: &Store, merchant: &str, day: i32) -> bool {
    store.cached_decision_inputs(merchant, day).is_some()
}

#[test]
fn inputs_are_read_again_after_every_change_they_come_from() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let sqlite = !db.is_postgres();
        store
            .upsert_merchants(&[merchant("m-1", "toys"), merchant("m-2", "toys")])
            .expect("register");
        assert!(
            store
                .decision_inputs(&id("m-nobody"), APRIL_1)
                .expect("read")
                .is_none(),
            "an unregistered merchant has no inputs"
        );
        assert!(!kept(&store, "m-nobody", APRIL_1));
        let read = |m: &str| {
            store
                .decision_inputs(&id(m), APRIL_1)
                .expect("read")
                .expect("registered")
        };
        let first = read("m-1");
        assert_eq!(first.totals[0].orders, 0);
        assert!(!first.fraud_flagged && first.loans.is_empty());
        read("m-2");
        // PostgreSQL, which other processes may write, keeps nothing.
        assert_eq!(kept(&store, "m-1", APRIL_1), sqlite, "{}", db.url_string());
        assert!(
            !kept(&store, "m-1", APRIL_1 + 1),
            "another day is read again"
        );

        // A sale: m-1's activity changes, m-2's copy stays.
        let results = store
            .settle_blocking(vec![paid("e1", "m-1", 10_000)])
            .expect("sale");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert!(!kept(&store, "m-1", APRIL_1), "{}", db.url_string());
        assert_eq!(kept(&store, "m-2", APRIL_1), sqlite, "{}", db.url_string());
        let after_sale = read("m-1");
        assert_eq!(
            (after_sale.totals[0].orders, after_sale.totals[0].gross),
            (1, 10_000)
        );
        assert_eq!(kept(&store, "m-1", APRIL_1), sqlite);

        // A fraud flag, set and cleared, and a registry change by this process.
        let flagged = store.flag_fraud(&id("m-1"), "stolen identity", "key-1");
        assert!(
            matches!(flagged, Ok(FlagOutcome::Flagged(_))),
            "{flagged:?}"
        );
        assert!(!kept(&store, "m-1", APRIL_1));
        assert!(read("m-1").fraud_flagged);
        store.clear_fraud_flag(&id("m-1"), "key-1").expect("clear");
        assert!(!kept(&store, "m-1", APRIL_1));
        assert!(!read("m-1").fraud_flagged);
        store
            .upsert_merchants(&[merchant("m-1", "apparel")])
            .expect("change m-1");
        assert!(!kept(&store, "m-1", APRIL_1));
        assert_eq!(
            kept(&store, "m-2", APRIL_1),
            sqlite,
            "a change to m-1's entry leaves m-2's copy"
        );
        assert_eq!(read("m-1").merchant.category, "apparel");
        let again = store
            .cached_decision_inputs("m-1", APRIL_1)
            .map(|c| c.inputs.merchant.category.clone());
        assert_eq!(again.is_some(), sqlite);
        if let Some(category) = again {
            assert_eq!(category, "apparel");
        }
    }
}

#[test]
fn a_decision_made_before_another_process_changed_the_registry_is_not_stored() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    store
        .upsert_merchants(&[merchant("m-1", "toys")])
        .expect("register");
    store.decision_inputs(&id("m-1"), APRIL_1).expect("read");
    let before = store
        .cached_decision_inputs("m-1", APRIL_1)
        .expect("kept after a read");
    assert!(!before.inputs.fraud_flagged);

    // Another process flags the merchant; this one has not heard of it.
    let other = Store::open_without_writer(&db.url).expect("open beside");
    let flagged = other.flag_fraud(&id("m-1"), "stolen identity", "key-admin");
    assert!(
        matches!(flagged, Ok(FlagOutcome::Flagged(_))),
        "{flagged:?}"
    );
    assert!(kept(&store, "m-1", APRIL_1), "not known here yet");

    // A decision from the copy is refused and stores nothing; one from inputs read as of the
    // flag is stored.
    let refused =
        store.record_decisions_as_of_blocking(vec![decision("app-1", 100_000)], before.as_of);
    assert!(
        matches!(refused, Err(StoreError::InputsChanged)),
        "{refused:?}"
    );
    assert_eq!(store.loan_decision("app-1").expect("read"), None);
    assert!(!kept(&store, "m-1", APRIL_1), "the refusal made it known");
    let fresh = store
        .decision_inputs(&id("m-1"), APRIL_1)
        .expect("read")
        .expect("registered");
    assert!(fresh.fraud_flagged);
    let now = store
        .cached_decision_inputs("m-1", APRIL_1)
        .expect("kept after a read");
    assert!(now.as_of > before.as_of);
    let stored = store
        .record_decisions_as_of_blocking(vec![decision("app-1", 100_000)], now.as_of)
        .expect("stored");
    assert_eq!(stored, [true]);
    // Decisions without inputs from memory are stored as before.
    let stored = store
        .record_decisions_blocking(vec![decision("app-2", 100_000)])
        .expect("stored");
    assert_eq!(stored, [true]);
}

/// Another process's registry writes: one to another merchant leaves the copy in use and the
/// decisions made from it stored; one of more merchants than are worth naming one by one (an
/// import) counts as a change to every merchant.
#[test]
fn another_process_changing_other_merchants_leaves_the_copy_in_use_until_a_bulk_import() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    store
        .upsert_merchants(&[merchant("m-1", "toys"), merchant("m-2", "toys")])
        .expect("register");
    store.decision_inputs(&id("m-1"), APRIL_1).expect("read");
    let copy = store
        .cached_decision_inputs("m-1", APRIL_1)
        .expect("kept after a read");

    let other = Store::open_without_writer(&db.url).expect("open beside");
    other
        .upsert_merchants(&[merchant("m-2", "apparel")])
        .expect("change m-2");
    let flagged = other.flag_fraud(&id("m-2"), "stolen identity", "key-admin");
    assert!(
        matches!(flagged, Ok(FlagOutcome::Flagged(_))),
        "{flagged:?}"
    );
    let stored = store
        .record_decisions_as_of_blocking(vec![decision("app-1", 100_000)], copy.as_of)
        .expect("stored from the copy");
    assert_eq!(stored, [true]);
    assert!(kept(&store, "m-1", APRIL_1), "m-1 did not change");
    let stats = store.decision_inputs_stats().expect("SQLite keeps inputs");
    assert_eq!(stats.refused, 0);

    // An import of 2,000 merchants: m-1 is not among them, but they are too many to name.
    let imported: Vec<_> = (0..2_000)
        .map(|n| merchant(&format!("m-import-{n}"), "toys"))
        .collect();
    other.upsert_merchants(&imported).expect("import");
    let refused =
        store.record_decisions_as_of_blocking(vec![decision("app-2", 100_000)], copy.as_of);
    assert!(
        matches!(refused, Err(StoreError::InputsChanged)),
        "{refused:?}"
    );
    assert!(!kept(&store, "m-1", APRIL_1));
    assert_eq!(store.loan_decision("app-2").expect("read"), None);
    store.decision_inputs(&id("m-1"), APRIL_1).expect("read");
    assert!(kept(&store, "m-1", APRIL_1), "read again, and kept");
}

/// Inputs read inside a snapshot begun earlier may miss a commit made since it began: they
/// are answered but not kept.
#[test]
fn inputs_read_in_an_earlier_snapshot_are_not_kept() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    store
        .upsert_merchants(&[merchant("m-1", "toys")])
        .expect("register");
    let read = store
        .in_snapshot(|| store.decision_inputs(&id("m-1"), APRIL_1))
        .expect("read");
    assert!(read.is_some());
    assert!(!kept(&store, "m-1", APRIL_1));
    store.decision_inputs(&id("m-1"), APRIL_1).expect("read");
    assert!(kept(&store, "m-1", APRIL_1));
}

/// Runs `queue` while another thread holds a snapshot, then lets it go: with a read pool of
/// one connection, the reads `queue` sends wait for it together.
fn while_snapshot_held<T>(store: &Store, queue: impl FnOnce() -> T) -> T {
    let (pinned, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            store
                .in_snapshot(|| {
                    pinned.wait();
                    release.wait();
                    Ok(())
                })
                .expect("holding snapshot")
        });
        pinned.wait();
        let queued = queue();
        release.wait();
        queued
    })
}

/// Reads queued by async callers are read together, up to a bound: applications waiting at
/// once share a snapshot, each gets its own merchant's inputs (kept as a read of its own
/// would be), and past [`READS_WAITING_MAX`] waiting a caller is told at once that the store is
/// overloaded. PostgreSQL queues nothing.
#[test]
fn queued_reads_share_snapshots_each_answered_with_its_own_merchant() {
    const MERCHANTS: usize = 50;
    for db in TestDb::all().into_iter().filter(TestDb::is_postgres) {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        assert!(store.queue_decision_inputs(&id("m-0"), APRIL_1).is_none());
    }
    let db = TestDb::sqlite();
    // One read connection, so that a snapshot held here holds the reader up too.
    let options = StoreOptions {
        read_pool_max: 1,
        ..StoreOptions::default()
    };
    let store = Store::open(&db.url, options).expect("open");
    let names: Vec<String> = (0..MERCHANTS).map(|n| format!("m-{n}")).collect();
    let registered: Vec<_> = names.iter().map(|m| merchant(m, "toys")).collect();
    store.upsert_merchants(&registered).expect("register");
    // Merchant n sold n + 1 yuan.
    let sales: Vec<Command> = (0..MERCHANTS)
        .map(|n| paid(&format!("e-{n}"), &names[n], 100 * (n as u64 + 1)))
        .collect();
    let results = store.settle_blocking(sales).expect("sales");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // The readers take a batch each and block on the pool; the rest waits for them, past the
    // bound.
    let queued: Vec<_> = while_snapshot_held(&store, || {
        (0..READS_WAITING_MAX + 500)
            .map(|n| {
                let merchant = n % MERCHANTS;
                let read = store.queue_decision_inputs(&id(&names[merchant]), APRIL_1);
                (merchant, read.expect("SQLite queues reads"))
            })
            .collect()
    });
    let mut answered = 0_u64;
    let mut overloaded = 0;
    for (merchant, read) in queued {
        match runtime.block_on(read) {
            Ok(Some(inputs)) => {
                answered += 1;
                assert_eq!(inputs.merchant.id.as_str(), names[merchant]);
                assert_eq!(inputs.totals[0].gross, 100 * (merchant as u128 + 1));
            }
            Err(StoreError::Overloaded) => overloaded += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(
        answered >= READS_WAITING_MAX as u64 && overloaded >= 1,
        "{answered} answered, {overloaded} told the store is overloaded"
    );
    let stats = store.decision_inputs_stats().expect("SQLite keeps inputs");
    assert_eq!(stats.read, answered);
    // Each reader's first snapshot took what waited when it woke and the last what was left;
    // every other one is full.
    assert!(
        stats.snapshots <= answered.div_ceil(64) + 2,
        "{answered} reads in {} snapshots",
        stats.snapshots
    );
    assert!(kept(&store, "m-7", APRIL_1), "what the reader read is kept");
}

/// Merchants read in one snapshot share what banks have lent only where their province and
/// industry are the same: each is answered with its own province's and industry's usage.
#[test]
fn queued_reads_share_bank_usage_only_within_a_province_and_industry() {
    let db = TestDb::sqlite();
    // One read connection, so that the reads queued while a snapshot is held wait together.
    let options = StoreOptions {
        read_pool_max: 1,
        ..StoreOptions::default()
    };
    let store = Store::open(&db.url, options).expect("open");
    let places = [
        ("m-zj-toys", "330782", "toys"),
        ("m-zj-food", "330782", "food"),
        ("m-gd-toys", "440300", "toys"),
        ("m-gd-food", "440300", "food"),
    ];
    let registered: Vec<_> = places
        .iter()
        .map(|(name, region, category)| {
            let mut m = merchant(name, category);
            m.region_code = chunlei_settlement::RegionCode::parse(region).expect("a region");
            m
        })
        .collect();
    store.upsert_merchants(&registered).expect("register");
    let day = chunlei_ledger::CivilDate::from_days(APRIL_1).expect("a date");
    let chunlei_store::DbUrl::Sqlite(path) = &db.url else {
        panic!("a SQLite database")
    };
    rusqlite::Connection::open(path)
        .expect("connect")
        .execute_batch(&format!(
            "INSERT INTO loan_usage (bank_id, dimension, key, lent) VALUES \
             ('icbc', 'day', '{day}', 1000), ('icbc', 'region', '33', 700), \
             ('icbc', 'region', '44', 600), ('webank', 'industry', 'toys', 500), \
             ('mybank', 'industry', 'food', 400);"
        ))
        .expect("usage");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // Each merchant twice, interleaved, so that one snapshot reads them all.
    let queued: Vec<_> = while_snapshot_held(&store, || {
        (0..2 * places.len())
            .map(|n| {
                let place = places[n % places.len()];
                let read = store.queue_decision_inputs(&id(place.0), APRIL_1);
                (place, read.expect("SQLite queues reads"))
            })
            .collect()
    });
    let mut regions = std::collections::BTreeSet::new();
    for ((name, region, industry), read) in queued {
        let inputs = runtime.block_on(read).expect("read").expect("registered");
        assert_eq!(inputs.merchant.id.as_str(), name);
        let alone = store.bank_lent(day, region, industry).expect("usage");
        assert_eq!(inputs.lent, alone, "{name}");
        let icbc = inputs.lent.iter().find(|l| l.bank_id == "icbc");
        regions.insert((name, icbc.map(|l| l.region)));
    }
    // Zhejiang's merchants see 700 in their province, Guangdong's 600.
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        [
            ("m-gd-food", Some(600)),
            ("m-gd-toys", Some(600)),
            ("m-zj-food", Some(700)),
            ("m-zj-toys", Some(700)),
        ]
    );
    // Each of the two readers may have taken what waited when it woke before the snapshot
    // held here let the pool's one connection go; the next snapshot took all the rest.
    let stats = store.decision_inputs_stats().expect("SQLite keeps inputs");
    assert!(
        stats.snapshots <= 3,
        "{} reads in {} snapshots",
        stats.read,
        stats.snapshots
    );
}

/// The registry entry a read gets is the one of its snapshot: reads in one snapshot see the
/// entry it began with even after another process changes it, and the next snapshot sees the
/// change, though the merchant was read and kept before it.
#[test]
fn a_snapshot_reads_its_own_registry_entry_and_the_next_one_sees_a_change() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    store
        .upsert_merchants(&[merchant("m-1", "toys"), merchant("m-2", "toys")])
        .expect("register");
    let other = Store::open_without_writer(&db.url).expect("open beside");
    let category = |m: &str| {
        store
            .decision_inputs(&id(m), APRIL_1)
            .expect("read")
            .expect("registered")
            .merchant
            .category
            .clone()
    };
    let (first, during) = store
        .in_snapshot(|| {
            let first = category("m-1");
            other
                .upsert_merchants(&[merchant("m-1", "apparel"), merchant("m-2", "apparel")])
                .expect("change both");
            Ok((first, [category("m-1"), category("m-2")]))
        })
        .expect("snapshot");
    assert_eq!(first, "toys");
    assert_eq!(during, ["toys", "toys"], "the snapshot's own entries");
    let after = store
        .in_snapshot(|| Ok([category("m-1"), category("m-2")]))
        .expect("snapshot");
    assert_eq!(after, ["apparel", "apparel"]);
}
