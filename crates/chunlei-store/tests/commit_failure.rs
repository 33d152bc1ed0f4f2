//! A commit that fails applies nothing, and the writer recovers from it.
//!
//! The failure is provoked the way a real one could happen: a row appears in the database
//! behind the writer's back, so its insert of the same id violates the unique index.

use chunlei_ledger::{Account, Fen, Transfer};
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

#[test]
fn a_failed_commit_applies_nothing_and_the_next_group_goes_through() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url, StoreOptions::default()).expect("open");
    let created = store
        .create_accounts_blocking(vec![Account::new(1, 1, 1), Account::new(2, 1, 1)])
        .expect("accounts");
    assert!(created.iter().all(|r| r.is_success()));
    assert_eq!(
        store
            .create_transfers_blocking(vec![Transfer::new(10, 1, 2, fen(5))])
            .expect("first")[0]
            .as_str(),
        "ok"
    );

    // Transfer 20 appears in the table without the writer knowing.
    let intruder = db.sqlite_intruder();
    intruder
        .execute(
            "INSERT INTO transfers (timestamp, id, debit_account_id, credit_account_id, amount, \
             user_data_64, user_data_32, timeout_s, ledger, code, flags) \
             VALUES (1, ?1, ?2, ?3, 7, 0, 0, 0, 1, 1, 0)",
            [
                20u128.to_be_bytes(),
                1u128.to_be_bytes(),
                2u128.to_be_bytes(),
            ],
        )
        .expect("insert behind the writer's back");

    // The group holding transfer 20 fails whole: transfer 21 beside it is not applied either.
    let failed = store.create_transfers_blocking(vec![
        Transfer::new(21, 1, 2, fen(3)),
        Transfer::new(20, 1, 2, fen(7)),
    ]);
    assert!(failed.is_err(), "the commit must fail: {failed:?}");
    let balances = |id| {
        let a = store.lookup_accounts(&[id]).expect("lookup").remove(0);
        (a.debits_posted.get(), a.credits_posted.get())
    };
    assert_eq!(
        (balances(1), balances(2)),
        ((5, 0), (0, 5)),
        "nothing of the failed group applied"
    );
    assert!(store.lookup_transfers(&[21]).expect("lookup").is_empty());

    // The writer starts again from what is committed: it now sees transfer 20 and applies 21.
    let results = store
        .create_transfers_blocking(vec![
            Transfer::new(21, 1, 2, fen(3)),
            Transfer::new(20, 1, 2, fen(7)),
        ])
        .expect("after recovery");
    let codes: Vec<_> = results.iter().map(|r| r.as_str()).collect();
    assert_eq!(codes, ["ok", "exists"]);
    assert_eq!((balances(1), balances(2)), ((8, 0), (0, 8)));
}
