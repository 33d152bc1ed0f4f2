//! One backend suite: every test runs on SQLite and, when `CHUNLEI_TEST_POSTGRES_URL` names a
//! server, on PostgreSQL too, and expects the same answers from both. The tests that need
//! several processes on one database run on PostgreSQL only.

use std::collections::{HashMap, HashSet};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use chunlei_ledger::{
    Account, AccountFlags, CreateTransferResult, Fen, HistoryRow, Transfer, TransferFlags,
};
use chunlei_store::testing::TestDb;
use chunlei_store::{AccountFilter, ApiKeyRecord, DbUrl, QUERY_LIMIT_MAX, Store, StoreOptions};
use expect_test::{Expect, expect};

/// How long a test waits for the writer to expire a pending transfer.
const EXPIRY_WAIT_MAX: Duration = Duration::from_secs(15);

fn fen(value: u64) -> Fen {
    Fen::new(value).expect("test amount fits")
}

fn open(db: &TestDb) -> Store {
    Store::open(&db.url, StoreOptions::default())
        .unwrap_or_else(|e| panic!("open {}: {e:?}", db.url))
}

fn account(id: u128, flags: AccountFlags) -> Account {
    Account {
        flags,
        ..Account::new(id, 1, 1)
    }
}

fn create_accounts(store: &Store, accounts: Vec<Account>) {
    let results = store
        .create_accounts_blocking(accounts)
        .expect("create accounts");
    assert!(results.iter().all(|r| r.is_success()), "{results:?}");
}

fn transfer(store: &Store, transfers: Vec<Transfer>) -> Vec<&'static str> {
    let results = store
        .create_transfers_blocking(transfers)
        .expect("create transfers");
    results.iter().map(|r| r.as_str()).collect()
}

fn pending(id: u128, debit: u128, credit: u128, amount: u64, timeout_s: u32) -> Transfer {
    Transfer {
        flags: TransferFlags::PENDING,
        timeout_s,
        ..Transfer::new(id, debit, credit, fen(amount))
    }
}

fn resolve(id: u128, pending_id: u128, amount: u64, flags: TransferFlags) -> Transfer {
    Transfer {
        pending_id,
        flags,
        ledger: 0,
        code: 0,
        ..Transfer::new(id, 0, 0, fen(amount))
    }
}

fn balances(store: &Store, ids: &[u128]) -> String {
    let accounts = store.lookup_accounts(ids).expect("lookup accounts");
    assert_eq!(
        accounts.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids,
        "every account is found, in order"
    );
    accounts
        .iter()
        .map(|a| {
            format!(
                "account {}: dp={} dpo={} cp={} cpo={}\n",
                a.id, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted
            )
        })
        .collect()
}

fn assert_verified(store: &Store) {
    let violations = store.verify().expect("verify");
    assert!(violations.is_empty(), "{violations:?}");
}

/// Polls until `done` holds, failing the test after [`EXPIRY_WAIT_MAX`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + EXPIRY_WAIT_MAX;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn smoke_scenario_survives_reopen_on_every_backend() {
    for db in TestDb::all() {
        {
            let store = open(&db);
            create_accounts(
                &store,
                vec![
                    account(1, AccountFlags::empty()),
                    account(2, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
                ],
            );
            let results = transfer(
                &store,
                vec![
                    Transfer::new(10, 1, 2, fen(5)),
                    Transfer::new(11, 2, 1, fen(6)),
                ],
            );
            assert_eq!(results, ["ok", "exceeds_credits"], "{}", db.url);
        }
        let store = open(&db);
        let accounts = store.lookup_accounts(&[1, 2]).expect("lookup");
        assert_eq!(accounts[1].credits_posted.get(), 5, "{}", db.url);
        assert_eq!(
            store
                .account_transfers(&AccountFilter::new(2))
                .expect("list")
                .len(),
            1
        );
        assert_verified(&store);
        assert_eq!(
            transfer(&store, vec![Transfer::new(10, 1, 2, fen(5))]),
            ["exists"],
            "{}",
            db.url
        );
    }
}

#[test]
fn pending_transfers_post_void_and_expire_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        create_accounts(
            &store,
            vec![
                account(1, AccountFlags::empty()),
                account(2, AccountFlags::empty()),
            ],
        );
        let results = transfer(
            &store,
            vec![
                pending(100, 1, 2, 10, 0),
                pending(101, 1, 2, 20, 0),
                pending(102, 1, 2, 5, 1),
            ],
        );
        assert_eq!(results, ["ok", "ok", "ok"], "{}", db.url);
        let results = transfer(
            &store,
            vec![
                resolve(200, 100, 6, TransferFlags::POST_PENDING_TRANSFER),
                resolve(201, 101, 0, TransferFlags::VOID_PENDING_TRANSFER),
                resolve(202, 100, 0, TransferFlags::POST_PENDING_TRANSFER),
            ],
        );
        assert_eq!(
            results,
            ["ok", "ok", "pending_transfer_already_posted"],
            "{}",
            db.url
        );
        expect![[r#"
            account 1: dp=5 dpo=6 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=5 cpo=6
        "#]]
        .assert_eq(&balances(&store, &[1, 2]));
        // The writer expires transfer 102 on its own, about a second after it was created.
        wait_until("transfer 102 to expire", || {
            store.lookup_accounts(&[1]).expect("lookup")[0]
                .debits_pending
                .is_zero()
        });
        let results = transfer(
            &store,
            vec![resolve(203, 102, 0, TransferFlags::POST_PENDING_TRANSFER)],
        );
        assert_eq!(results, ["pending_transfer_expired"], "{}", db.url);
        expect![[r#"
            account 1: dp=0 dpo=6 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=6
        "#]]
        .assert_eq(&balances(&store, &[1, 2]));
        let stored = store
            .lookup_transfers(&[200, 999, 100])
            .expect("lookup transfers");
        assert_eq!(stored.iter().map(|t| t.id).collect::<Vec<_>>(), [200, 100]);
        assert_eq!(
            (
                stored[0].amount.get(),
                stored[0].pending_id,
                stored[0].debit_account_id
            ),
            (6, 100, 1)
        );
        assert_verified(&store);
    }
}

/// Transfers 1000..1010 alternate between debiting and crediting account 1; one more does
/// not touch it.
fn listing_fixture(store: &Store) {
    create_accounts(
        store,
        (1..=3)
            .map(|id| account(id, AccountFlags::empty()))
            .collect(),
    );
    let mut transfers: Vec<Transfer> = (0..10u64)
        .map(|i| {
            let (debit, credit) = if i % 2 == 0 { (1, 2) } else { (2, 1) };
            Transfer::new(1_000 + u128::from(i), debit, credit, fen(i + 1))
        })
        .collect();
    transfers.insert(5, Transfer::new(2_000, 3, 2, fen(1)));
    assert!(transfer(store, transfers).iter().all(|r| *r == "ok"));
}

fn listed(store: &Store, filter: &AccountFilter) -> Vec<u128> {
    store
        .account_transfers(filter)
        .expect("list")
        .iter()
        .map(|t| t.id - 1_000)
        .collect()
}

#[test]
fn account_transfers_honour_limit_order_sides_and_bounds_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        listing_fixture(&store);
        let all = store
            .account_transfers(&AccountFilter::new(1))
            .expect("list");
        assert_eq!(
            all.iter().map(|t| t.id - 1_000).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>(),
            "{}",
            db.url
        );
        assert!(all.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
        let filter = |f: fn(&mut AccountFilter)| {
            let mut filter = AccountFilter::new(1);
            f(&mut filter);
            filter
        };
        assert_eq!(listed(&store, &filter(|f| f.limit = 3)), [0, 1, 2]);
        assert_eq!(
            listed(&store, &filter(|f| (f.limit, f.reversed) = (3, true))),
            [9, 8, 7]
        );
        assert_eq!(
            listed(&store, &filter(|f| f.credits = false)),
            [0, 2, 4, 6, 8]
        );
        assert_eq!(
            listed(
                &store,
                &filter(|f| (f.debits, f.reversed, f.limit) = (false, true, 2))
            ),
            [9, 7]
        );
        assert_eq!(
            listed(&store, &filter(|f| (f.debits, f.credits) = (false, false))),
            Vec::<u128>::new()
        );
        assert_eq!(listed(&store, &filter(|f| f.limit = 0)), Vec::<u128>::new());
        let mut bounded = AccountFilter::new(1);
        (bounded.timestamp_min, bounded.timestamp_max) = (all[2].timestamp, all[5].timestamp);
        assert_eq!(listed(&store, &bounded), [2, 3, 4, 5]);
        bounded.reversed = true;
        bounded.limit = 3;
        assert_eq!(listed(&store, &bounded), [5, 4, 3]);
        bounded.timestamp_max = 0;
        bounded.reversed = false;
        bounded.limit = 100;
        assert_eq!(listed(&store, &bounded), [2, 3, 4, 5, 6, 7, 8, 9]);
    }
}

#[test]
fn account_transfers_stop_at_query_limit_max_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        create_accounts(
            &store,
            vec![
                account(1, AccountFlags::empty()),
                account(2, AccountFlags::empty()),
            ],
        );
        let count = u128::from(QUERY_LIMIT_MAX) + 1;
        let transfers: Vec<Transfer> = (1..=count)
            .map(|id| Transfer::new(id, 1, 2, fen(1)))
            .collect();
        for chunk in transfers.chunks(chunlei_ledger::BATCH_EVENTS_MAX) {
            assert!(transfer(&store, chunk.to_vec()).iter().all(|r| *r == "ok"));
        }
        let mut filter = AccountFilter::new(2);
        filter.limit = u32::MAX;
        let listed = store.account_transfers(&filter).expect("list");
        assert_eq!(listed.len(), QUERY_LIMIT_MAX as usize, "{}", db.url);
        assert_eq!(listed.last().map(|t| t.id), Some(count - 1));
    }
}

fn render_history(rows: &[HistoryRow]) -> String {
    rows.iter()
        .map(|h| {
            format!(
                "dp={} dpo={} cp={} cpo={}\n",
                h.debits_pending, h.debits_posted, h.credits_pending, h.credits_posted
            )
        })
        .collect()
}

#[test]
fn balance_history_of_history_accounts_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        create_accounts(
            &store,
            vec![
                account(1, AccountFlags::HISTORY),
                account(2, AccountFlags::HISTORY),
                account(3, AccountFlags::empty()),
            ],
        );
        // The post moves both balances of both accounts at one timestamp: one row each.
        let results = transfer(
            &store,
            vec![
                Transfer::new(10, 1, 2, fen(5)),
                Transfer::new(11, 2, 1, fen(3)),
                pending(12, 1, 2, 4, 0),
                resolve(13, 12, 0, TransferFlags::POST_PENDING_TRANSFER),
                Transfer::new(14, 3, 2, fen(7)),
            ],
        );
        assert!(results.iter().all(|r| *r == "ok"), "{results:?}");
        let rows = store
            .account_balances(&AccountFilter::new(1))
            .expect("history");
        expect![[r#"
            dp=0 dpo=5 cp=0 cpo=0
            dp=0 dpo=5 cp=0 cpo=3
            dp=4 dpo=5 cp=0 cpo=3
            dp=0 dpo=9 cp=0 cpo=3
        "#]]
        .assert_eq(&render_history(&rows));
        assert!(
            rows.windows(2).all(|w| w[0].timestamp < w[1].timestamp),
            "{}",
            db.url
        );
        let credited = store
            .account_balances(&AccountFilter::new(2))
            .expect("history");
        check_history(
            &credited,
            expect![[r#"
            dp=0 dpo=0 cp=0 cpo=5
            dp=0 dpo=3 cp=0 cpo=5
            dp=0 dpo=3 cp=4 cpo=5
            dp=0 dpo=3 cp=0 cpo=9
            dp=0 dpo=3 cp=0 cpo=16
        "#]],
        );
        let mut filter = AccountFilter::new(1);
        (filter.reversed, filter.limit) = (true, 2);
        assert_eq!(
            store.account_balances(&filter).expect("history"),
            [rows[3].clone(), rows[2].clone()]
        );
        (filter.timestamp_min, filter.timestamp_max, filter.reversed) =
            (rows[1].timestamp, rows[2].timestamp, false);
        assert_eq!(
            store.account_balances(&filter).expect("history"),
            rows[1..3]
        );
        assert_eq!(
            store
                .account_balances(&AccountFilter::new(3))
                .expect("history"),
            []
        );
        assert_verified(&store);
    }
}

fn check_history(rows: &[HistoryRow], expect: Expect) {
    expect.assert_eq(&render_history(rows));
}

#[test]
fn api_keys_are_found_by_secret_digest_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        let key = ApiKeyRecord {
            key_id: "ck_merchant_1".into(),
            secret_sha256: [7; 32],
            role: "merchant".into(),
            merchant_id: Some("m-1".into()),
            bank_id: None,
            created_at: 1_700_000_000_000_000_000,
        };
        store.insert_api_key(&key).expect("insert key");
        assert_eq!(
            store.find_api_key(&[7; 32]).expect("find key"),
            Some(key.clone()),
            "{}",
            db.url
        );
        assert_eq!(store.find_api_key(&[8; 32]).expect("find key"), None);
        assert!(
            store.insert_api_key(&key).is_err(),
            "a key id is stored once ({})",
            db.url
        );
    }
}

#[test]
fn accounts_of_owner_on_every_backend() {
    for db in TestDb::all() {
        let store = open(&db);
        let owned = |id: u128, merchant: &str| {
            let mut a = account(id, AccountFlags::empty());
            a.owner = chunlei_ledger::Owner {
                kind: chunlei_ledger::OwnerKind::Merchant,
                id: merchant.into(),
            };
            a
        };
        create_accounts(
            &store,
            vec![
                owned(1, "m-1"),
                owned(2, "m-2"),
                owned(3, "m-1"),
                account(4, AccountFlags::empty()),
            ],
        );
        let ids = |limit| -> Vec<u128> {
            store
                .accounts_of_owner("merchant", "m-1", limit)
                .expect("owner")
                .iter()
                .map(|a| a.id)
                .collect()
        };
        assert_eq!(ids(10), [1, 3], "{}", db.url);
        assert_eq!(ids(1), [1]);
        let platform = store.lookup_accounts(&[4]).expect("lookup");
        assert_eq!(platform[0].owner, chunlei_ledger::Owner::platform());
    }
}

#[test]
fn open_errors_never_show_the_password() {
    let url = DbUrl::parse("postgres://chunlei:s3cret-pw@127.0.0.1:1/nowhere").expect("url");
    let error = Store::open(&url, StoreOptions::default()).expect_err("nothing listens on port 1");
    let mut text = format!("{error} {error:?} {url} {url:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text += &format!(" {cause} {cause:?}");
        source = cause.source();
    }
    assert!(!text.contains("s3cret-pw"), "{text}");
}

/// Processes that start together on a fresh database, as after a deploy.
const STARTING_STORES: usize = 8;

#[test]
fn stores_opened_at_once_apply_each_migration_once() {
    for db in TestDb::all().into_iter().filter(TestDb::is_postgres) {
        let barrier = Barrier::new(STARTING_STORES);
        let stores: Vec<Store> = thread::scope(|s| {
            let handles: Vec<_> = (0..STARTING_STORES)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        open(&db)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("open thread"))
                .collect()
        });
        for (index, store) in (1..).zip(&stores) {
            create_accounts(store, vec![account(index, AccountFlags::empty())]);
        }
        let mut client =
            postgres::Client::connect(&db.url_string(), postgres::NoTls).expect("connect");
        let versions: Vec<i64> = client
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .expect("versions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        let ids: Vec<u128> = (1..=stores.len() as u128).collect();
        let found = stores[0].lookup_accounts(&ids).expect("lookup");
        assert_eq!(found.len(), STARTING_STORES);
    }
}

/// Funding of the limited account, in fen; every contested transfer moves one fen.
const CONTESTED_CREDIT: u64 = 600;
const CONTESTED_THREADS: u128 = 3;
const CONTESTED_ROUNDS: u128 = 20;
const CONTESTED_BATCH: u128 = 25;

/// The ids thread `thread` sends in round `round`; both stores send every id once.
fn contested_ids(thread: u128, round: u128) -> impl Iterator<Item = u128> {
    let first = 1_000 + (thread * CONTESTED_ROUNDS + round) * CONTESTED_BATCH;
    first..first + CONTESTED_BATCH
}

/// Sends every contested id through `store` from several threads at once.
fn hammer(store: &Store, reverse: bool) -> Vec<(u128, CreateTransferResult)> {
    thread::scope(|s| {
        let handles: Vec<_> = (0..CONTESTED_THREADS)
            .map(|thread| {
                s.spawn(move || {
                    let mut outcomes = Vec::new();
                    for round in 0..CONTESTED_ROUNDS {
                        let round = if reverse {
                            CONTESTED_ROUNDS - 1 - round
                        } else {
                            round
                        };
                        let batch: Vec<Transfer> = contested_ids(thread, round)
                            .map(|id| Transfer::new(id, 2, 3, fen(1)))
                            .collect();
                        let results = store
                            .create_transfers_blocking(batch.clone())
                            .expect("transfers");
                        outcomes.extend(batch.iter().map(|t| t.id).zip(results));
                    }
                    outcomes
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("sender thread"))
            .collect()
    })
}

#[test]
fn two_stores_on_one_postgres_database_never_overdraw() {
    for db in TestDb::all().into_iter().filter(TestDb::is_postgres) {
        let (first, second) = (open(&db), open(&db));
        create_accounts(
            &first,
            vec![
                account(1, AccountFlags::empty()),
                account(2, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
                account(3, AccountFlags::empty()),
            ],
        );
        assert_eq!(
            transfer(&second, vec![Transfer::new(1, 1, 2, fen(CONTESTED_CREDIT))]),
            ["ok"]
        );
        let (a, b) = thread::scope(|s| {
            let a = s.spawn(|| hammer(&first, false));
            let b = s.spawn(|| hammer(&second, true));
            (
                a.join().expect("first store"),
                b.join().expect("second store"),
            )
        });
        let mut by_id: HashMap<u128, Vec<&str>> = HashMap::new();
        for (id, result) in a.iter().chain(&b) {
            by_id.entry(*id).or_default().push(result.as_str());
        }
        let mut applied = 0;
        for (id, mut results) in by_id {
            results.sort_unstable();
            match results.as_slice() {
                ["exists", "ok"] => applied += 1,
                // The first attempt to arrive is refused; its id stays failed for the other.
                ["exceeds_credits", "id_already_failed"] => {}
                other => panic!("transfer {id}: {other:?}"),
            }
        }
        assert_eq!(applied, CONTESTED_CREDIT);
        expect![[r#"
            account 1: dp=0 dpo=600 cp=0 cpo=0
            account 2: dp=0 dpo=600 cp=0 cpo=600
            account 3: dp=0 dpo=0 cp=0 cpo=600
        "#]]
        .assert_eq(&balances(&first, &[1, 2, 3]));
        let listed = second
            .account_transfers(&AccountFilter::new(3))
            .expect("list");
        assert_eq!(listed.len() as u64, CONTESTED_CREDIT);
        assert_eq!(
            listed.iter().map(|t| t.id).collect::<HashSet<_>>().len() as u64,
            CONTESTED_CREDIT
        );
        assert!(listed.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
        assert_verified(&first);
        assert_verified(&second);
    }
}
