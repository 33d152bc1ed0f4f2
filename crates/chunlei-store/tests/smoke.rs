use chunlei_ledger::{Account, AccountFlags, Fen, Transfer};
use chunlei_store::{AccountFilter, DbUrl, Store, StoreOptions};

#[test]
fn transfers_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = DbUrl::Sqlite(dir.path().join("ledger.db"));
    {
        let store = Store::open(&url, StoreOptions::default()).expect("open");
        let mut limited = Account::new(2, 1, 1);
        limited.flags = AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS;
        let r = store
            .create_accounts_blocking(vec![Account::new(1, 1, 1), limited])
            .expect("accounts");
        assert!(r.iter().all(|r| r.is_success()), "{r:?}");
        let r = store
            .create_transfers_blocking(vec![
                Transfer::new(10, 1, 2, Fen::new(5).expect("fen")),
                Transfer::new(11, 2, 1, Fen::new(6).expect("fen")),
            ])
            .expect("transfers");
        assert_eq!(
            r.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            ["ok", "exceeds_credits"]
        );
    }
    let store = Store::open(&url, StoreOptions::default()).expect("reopen");
    let accounts = store.lookup_accounts(&[1, 2]).expect("lookup");
    assert_eq!(accounts[1].credits_posted.get(), 5);
    let listed = store
        .account_transfers(&AccountFilter::new(2))
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(store.verify().expect("verify").is_empty());
    let r = store
        .create_transfers_blocking(vec![Transfer::new(10, 1, 2, Fen::new(5).expect("fen"))])
        .expect("again");
    assert_eq!(r[0].as_str(), "exists");
    // Transfer 11 failed for want of funds; now that 2 holds 5 it would fit, but its id stays
    // failed across the restart.
    let r = store
        .create_transfers_blocking(vec![Transfer::new(11, 2, 1, Fen::new(5).expect("fen"))])
        .expect("retry");
    assert_eq!(r[0].as_str(), "id_already_failed");
}

/// The write queue is bounded: when it is full, callers hear `Overloaded` at once, and what
/// was accepted is applied exactly once.
#[test]
fn a_full_write_queue_refuses_instead_of_growing() {
    for db in chunlei_store::testing::TestDb::all() {
        let options = StoreOptions {
            queue_requests_max: 1,
            ..StoreOptions::default()
        };
        let store = Store::open(&db.url, options).expect("open");
        let r = store
            .create_accounts_blocking(vec![Account::new(1, 1, 1), Account::new(2, 1, 1)])
            .expect("accounts");
        assert!(r.iter().all(|r| r.is_success()));
        let runtime = tokio_runtime();
        let (accepted, refused) = runtime.block_on(async {
            // Every task enqueues as soon as it first runs, long before the writer drains the
            // queue of one; then each waits for its answer.
            let tasks: Vec<_> = (0..200u128)
                .map(|i| {
                    let store = store.clone();
                    let transfer = Transfer::new(100 + i, 1, 2, Fen::new(1).expect("fen"));
                    tokio::spawn(async move { store.create_transfers(vec![transfer]).await })
                })
                .collect();
            let mut accepted = 0u64;
            let mut refused = 0u64;
            for task in tasks {
                match task.await.expect("task") {
                    Ok(codes) => {
                        assert_eq!(codes[0].as_str(), "ok");
                        accepted += 1;
                    }
                    Err(chunlei_store::StoreError::Overloaded) => refused += 1,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
            (accepted, refused)
        });
        assert!(refused > 0, "{}: no request was refused", db.url);
        assert_eq!(accepted + refused, 200);
        let accounts = store.lookup_accounts(&[2]).expect("lookup");
        assert_eq!(accounts[0].credits_posted.get(), accepted, "{}", db.url);
        drop(runtime);
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}
