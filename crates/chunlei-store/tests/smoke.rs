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
