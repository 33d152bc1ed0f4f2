//! Scenario tests of the engine as data: events in, results and balances out.

use expect_test::{Expect, expect};

use crate::{Account, AccountFlags, Fen, State, Transfer, TransferFlags, verify};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("test amount fits")
}

fn account(id: u128, flags: AccountFlags) -> Account {
    Account {
        flags,
        ..Account::new(id, 1, 10)
    }
}

fn render(state: &State, results: &[&str]) -> String {
    let mut ids: Vec<_> = state.accounts.keys().copied().collect();
    ids.sort_unstable();
    let mut out = format!("results: {}\n", results.join(" "));
    for id in ids {
        let a = &state.accounts[&id];
        out += &format!(
            "account {id}: dp={} dpo={} cp={} cpo={}\n",
            a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted
        );
    }
    out
}

fn run(transfers: &[Transfer], expect: Expect) {
    let mut state = State::new(0);
    let accounts = [
        account(1, AccountFlags::empty()),
        account(2, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
        account(3, AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS),
    ];
    let created = state.create_accounts(100, &accounts);
    assert!(created.iter().all(|r| r.is_success()), "{created:?}");
    let results = state.create_transfers(200, transfers);
    let names: Vec<_> = results.iter().map(|r| r.as_str()).collect();
    let all: Vec<_> = state.transfers.values().collect();
    let pending = |t: &Transfer| state.pending.get(&t.id).map(|p| p.status);
    let violations = verify(
        state.accounts.values(),
        all.into_iter().map(|t| (t, pending(t))),
    );
    assert_eq!(violations, vec![]);
    expect.assert_eq(&render(&state, &names));
}

#[test]
fn linked_chain_fails_as_a_whole() {
    let mut second = Transfer::new(11, 2, 1, fen(5));
    second.flags = TransferFlags::LINKED;
    let mut first = Transfer::new(10, 1, 2, fen(3));
    first.flags = TransferFlags::LINKED;
    run(
        &[first, second, Transfer::new(12, 2, 1, fen(1))],
        expect![[r#"
            results: linked_event_failed exceeds_credits linked_event_failed
            account 1: dp=0 dpo=0 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=0
            account 3: dp=0 dpo=0 cp=0 cpo=0
        "#]],
    );
}
