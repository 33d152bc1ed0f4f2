//! Loan decisions on every backend: stored through the writer, durable across a reopen, and
//! stored once per application id.

use chunlei_ledger::{Account, Fen, Transfer};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

/// Accounts 1 and 2, for transfers beside the decisions.
fn two_accounts(store: &Store) {
    let accounts: Vec<Account> = (1..=2).map(|id| Account::new(id, 1, 1)).collect();
    let created = store.create_accounts_blocking(accounts).expect("accounts");
    assert!(created.iter().all(|r| r.is_success()), "{created:?}");
}

/// Stores a new decision, then moves 5 from account 1 to 2 as transfer `transfer_id`: both go
/// through.
fn decide_then_transfer(store: &Store, application_id: &str, transfer_id: u128) {
    let stored = store
        .record_decisions_blocking(vec![decision(application_id, 1)])
        .expect("a decision");
    assert_eq!(stored, [true], "{application_id}");
    let results = store
        .create_transfers_blocking(vec![Transfer::new(transfer_id, 1, 2, fen(5))])
        .expect("a transfer");
    assert_eq!(results[0].as_str(), "ok", "{transfer_id}");
}
use chunlei_store::testing::{TestDb, decision};
use chunlei_store::{DbUrl, LoanDecisionRecord, Store, StoreError, StoreOptions};

#[test]
fn a_decision_is_stored_once_and_survives_a_reopen() {
    for db in TestDb::all() {
        let first = decision("app-1", 100_000);
        {
            let store = Store::open(&db.url, StoreOptions::default()).expect("open");
            assert_eq!(store.loan_decision("app-1").expect("read"), None);
            let stored = store
                .record_decisions_blocking(vec![first.clone()])
                .expect("store");
            assert_eq!(stored, [true], "{}", db.url_string());
            // The same id again, with other content, in the same group as a new one: the
            // first stays, the new one is stored, and the answer says which.
            let stored = store
                .record_decisions_blocking(vec![decision("app-1", 999), decision("app-2", 5)])
                .expect("store again");
            assert_eq!(stored, [false, true], "{}", db.url_string());
            // One new id twice in one commit: the first is stored, the second is not.
            let stored = store
                .record_decisions_blocking(vec![decision("app-3", 7), decision("app-3", 8)])
                .expect("store a pair");
            assert_eq!(stored, [true, false], "{}", db.url_string());
            assert_eq!(
                store
                    .loan_decision("app-3")
                    .expect("read")
                    .map(|d| d.requested),
                Some(7)
            );
            assert_eq!(
                store.loan_decision("app-1").expect("read"),
                Some(first.clone())
            );
        }
        let store = Store::open(&db.url, StoreOptions::default()).expect("reopen");
        assert_eq!(store.loan_decision("app-1").expect("read"), Some(first));
        let declined = store.loan_decision("app-2").expect("read").expect("stored");
        assert_eq!(declined.requested, 5);
    }
}

/// Forty decisions in one commit, more than one insert statement takes: where the second
/// statement meets an id already in the group and one stored before, the answer still says
/// which decisions were stored.
#[test]
fn a_large_group_says_which_decisions_it_stored() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let earlier = store
            .record_decisions_blocking(vec![decision("big-38", 1)])
            .expect("store one");
        assert_eq!(earlier, [true]);
        let mut group: Vec<LoanDecisionRecord> = (0..40_u64)
            .map(|i| decision(&format!("big-{i}"), 100 + i))
            .collect();
        group[35] = decision("big-2", 999);
        let stored = store
            .record_decisions_blocking(group)
            .expect("store the group");
        let expected: Vec<bool> = (0..40).map(|i| i != 35 && i != 38).collect();
        assert_eq!(stored, expected, "{}", db.url_string());
        let requested = |id: &str| store.loan_decision(id).expect("read").map(|d| d.requested);
        assert_eq!(requested("big-2"), Some(102));
        assert_eq!(requested("big-38"), Some(1));
        assert_eq!(requested("big-39"), Some(139));
    }
}

/// A group that stores none of its decisions, after the writer last inserted into another
/// table: none of them is told it was stored.
#[test]
fn a_group_that_stores_nothing_says_so() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let stored = store
            .record_decisions_blocking(vec![decision("few-1", 1), decision("few-2", 2)])
            .expect("store two");
        assert_eq!(stored, [true, true]);
        let created = store
            .create_accounts_blocking(vec![Account::new(1, 1, 1)])
            .expect("an account");
        assert!(created.iter().all(|r| r.is_success()), "{created:?}");
        let stored = store
            .record_decisions_blocking(vec![decision("few-2", 99)])
            .expect("store again");
        assert_eq!(stored, [false], "{}", db.url_string());
        let requested = store
            .loan_decision("few-2")
            .expect("read")
            .map(|d| d.requested);
        assert_eq!(requested, Some(2));
    }
}

/// Decisions sent while the writer is busy with ledger work from another thread: two senders
/// send each application at once, with different content; it is stored once, exactly one of
/// them hears it was stored, and the stored one is that sender's. The ledger's work is all
/// applied beside them.
#[test]
fn decisions_beside_ledger_work_are_each_stored_once() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        two_accounts(&store);
        let told = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for batch in 0..50_u128 {
                    let transfers: Vec<Transfer> = (0..20)
                        .map(|i| Transfer::new(1_000 + batch * 20 + i, 1, 2, fen(1)))
                        .collect();
                    let results = store
                        .create_transfers_blocking(transfers)
                        .expect("transfers");
                    assert!(results.iter().all(|r| r.as_str() == "ok"), "{results:?}");
                }
            });
            for sender in 0..4_u64 {
                let (told, store) = (&told, &store);
                scope.spawn(move || {
                    for n in 0..50 {
                        let id = format!("busy-{}-{n}", sender / 2);
                        let stored = store
                            .record_decisions_blocking(vec![decision(&id, sender)])
                            .expect("store");
                        told.lock().expect("lock").push((id, sender, stored[0]));
                    }
                });
            }
        });
        let told = told.into_inner().expect("lock");
        assert_eq!(told.len(), 200);
        for id in (0..50).flat_map(|n| [format!("busy-0-{n}"), format!("busy-1-{n}")]) {
            let winners: Vec<u64> = told
                .iter()
                .filter(|(told, _, stored)| *told == id && *stored)
                .map(|(_, sender, _)| *sender)
                .collect();
            assert_eq!(winners.len(), 1, "{id}: {told:?}");
            let stored = store.loan_decision(&id).expect("read").expect("stored");
            assert_eq!(stored.requested, winners[0], "{id}");
        }
        let credited = store.lookup_accounts(&[2]).expect("lookup").remove(0);
        assert_eq!(credited.credits_posted.get(), 1_000, "{}", db.url_string());
    }
}

/// Decisions stored on their own leave the ledger's clock where it was (on SQLite, where they
/// commit apart from the ledger's groups, the stored clock is checked): transfers after them,
/// and after a reopen, go on from it.
#[test]
fn decisions_alone_leave_the_ledger_clock() {
    for db in TestDb::all() {
        let last = {
            let store = Store::open(&db.url, StoreOptions::default()).expect("open");
            two_accounts(&store);
            let results = store
                .create_transfers_blocking(vec![Transfer::new(10, 1, 2, fen(5))])
                .expect("a transfer");
            assert_eq!(results[0].as_str(), "ok");
            let stored = store
                .record_decisions_blocking(vec![decision("clock-1", 1)])
                .expect("a decision");
            assert_eq!(stored, [true]);
            let last = store
                .lookup_transfers(&[10])
                .expect("lookup")
                .remove(0)
                .timestamp;
            if let DbUrl::Sqlite(path) = &db.url {
                let clock: i64 = rusqlite::Connection::open(path)
                    .expect("a second connection")
                    .query_row("SELECT timestamp FROM ledger_clock", [], |r| r.get(0))
                    .expect("the clock");
                assert_eq!(u64::try_from(clock).ok(), Some(last), "the clock stays");
            }
            last
        };
        let store = Store::open(&db.url, StoreOptions::default()).expect("reopen");
        decide_then_transfer(&store, "clock-2", 11);
        let next = store
            .lookup_transfers(&[11])
            .expect("lookup")
            .remove(0)
            .timestamp;
        assert!(next > last, "{}: {next} after {last}", db.url_string());
    }
}

/// On SQLite the reads made inside `in_snapshot` see one moment: a decision committed meanwhile
/// is not seen until the snapshot ends, a snapshot inside it is the same one, and the
/// connection goes back to the pool afterwards, also when the reads fail.
#[test]
fn reads_in_a_snapshot_see_one_moment() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One read connection: a snapshot that kept its connection would leave later reads waiting.
    let store = one_connection_store(&dir);
    let requested = |d: Option<LoanDecisionRecord>| d.map(|d| d.requested);
    let seen = store
        .in_snapshot(|| {
            let before = requested(store.loan_decision("app-2")?);
            let first = requested(store.loan_decision("app-1")?);
            store.record_decisions_blocking(vec![decision("app-2", 200)])?;
            let after = requested(store.loan_decision("app-2")?);
            let nested = store.in_snapshot(|| store.loan_decision("app-2"))?;
            Ok((before, first, after, requested(nested)))
        })
        .expect("snapshot");
    assert_eq!(seen, (None, Some(100), None, None));
    assert_eq!(
        requested(store.loan_decision("app-2").expect("read")),
        Some(200)
    );
    let failed: Result<(), StoreError> =
        store.in_snapshot(|| Err(StoreError::Corrupt("a read failed".into())));
    assert!(failed.is_err());
    assert_eq!(
        requested(
            store
                .loan_decision("app-1")
                .expect("read after a failed snapshot")
        ),
        Some(100)
    );
}

/// A SQLite store in `dir` with one read connection, holding decision `app-1` for 100 fen.
fn one_connection_store(dir: &tempfile::TempDir) -> Store {
    let url = DbUrl::Sqlite(dir.path().join("decisions.db"));
    let options = StoreOptions {
        read_pool_max: 1,
        ..StoreOptions::default()
    };
    let store = Store::open(&url, options).expect("open");
    store
        .record_decisions_blocking(vec![decision("app-1", 100)])
        .expect("first");
    store
}

/// On SQLite, where decisions commit apart from the ledger's groups when none is waiting: a
/// commit of decisions that fails answers the error, stores none of them and leaves the
/// ledger's work alone; the next decisions and transfers go through.
#[test]
fn a_failed_commit_of_decisions_stores_none_and_the_ledger_goes_on() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    two_accounts(&store);
    // A trigger made behind the writer's back refuses every decision.
    let intruder = db.sqlite_intruder();
    intruder
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON loan_decisions \
             BEGIN SELECT RAISE(FAIL, 'refused'); END",
        )
        .expect("a trigger");
    let failed = store.record_decisions_blocking(vec![decision("f-1", 1), decision("f-2", 2)]);
    assert!(failed.is_err(), "the commit must fail: {failed:?}");
    assert_eq!(store.loan_decision("f-1").expect("read"), None);
    let results = store
        .create_transfers_blocking(vec![Transfer::new(10, 1, 2, fen(5))])
        .expect("a transfer after the failure");
    assert_eq!(results[0].as_str(), "ok");
    intruder
        .execute_batch("DROP TRIGGER refuse")
        .expect("the trigger dropped");
    decide_then_transfer(&store, "f-1", 11);
    let credited = store.lookup_accounts(&[2]).expect("lookup").remove(0);
    assert_eq!(credited.credits_posted.get(), 10);
}

/// Decisions wait in a bounded queue too (on SQLite the committer's own): beyond it a decision
/// is refused at once as overloaded and not stored, and every one accepted is stored.
#[test]
fn a_full_queue_refuses_decisions_instead_of_growing() {
    for db in TestDb::all() {
        let options = StoreOptions {
            queue_requests_max: 1,
            ..StoreOptions::default()
        };
        let store = Store::open(&db.url, options).expect("open");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let answers = runtime.block_on(async {
            // Every task enqueues as soon as it first runs, long before the writer drains a
            // queue of one; then each waits for its answer.
            let tasks: Vec<_> = (0..200)
                .map(|i| {
                    let store = store.clone();
                    let record = decision(&format!("queued-{i}"), i);
                    tokio::spawn(async move { store.record_decisions(vec![record]).await })
                })
                .collect();
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.expect("task"));
            }
            answers
        });
        let mut refused = 0;
        for (i, answer) in answers.into_iter().enumerate() {
            let stored = store.loan_decision(&format!("queued-{i}")).expect("read");
            match answer {
                Ok(told) => {
                    assert_eq!(told, [true], "{i}");
                    assert!(stored.is_some(), "{i}: accepted, so stored");
                }
                Err(StoreError::Overloaded) => {
                    refused += 1;
                    assert_eq!(stored, None, "{i}: refused, so not stored");
                }
                Err(other) => panic!("{i}: unexpected error: {other}"),
            }
        }
        assert!(refused > 0, "{}: no decision was refused", db.url_string());
        assert!(
            refused < 200,
            "{}: every decision was refused",
            db.url_string()
        );
    }
}
