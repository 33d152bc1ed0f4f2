//! Scenario tests of the engine as data: events in, results and balances out.

use expect_test::{Expect, expect};

use crate::{
    Account, AccountFlags, CreateAccountResult, Fen, HistoryRow, State, Transfer, TransferFlags,
    verify,
};

const SECOND: u64 = 1_000_000_000;

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
    format!("results: {}\n{}", results.join(" "), balances(state))
}

fn balances(state: &State) -> String {
    let mut ids: Vec<_> = state.accounts.keys().copied().collect();
    ids.sort_unstable();
    let mut out = String::new();
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

fn transfer(id: u128, debit: u128, credit: u128, amount: u64, flags: TransferFlags) -> Transfer {
    Transfer {
        flags,
        ..Transfer::new(id, debit, credit, fen(amount))
    }
}

fn pending(id: u128, debit: u128, credit: u128, amount: u64, timeout_s: u32) -> Transfer {
    Transfer {
        timeout_s,
        ..transfer(id, debit, credit, amount, TransferFlags::PENDING)
    }
}

/// A post (or void, with `flags`) that names only the pending transfer and the amount.
fn resolve(id: u128, pending_id: u128, amount: u64, flags: TransferFlags) -> Transfer {
    Transfer {
        pending_id,
        ledger: 0,
        code: 0,
        ..transfer(id, 0, 0, amount, flags)
    }
}

/// A ledger driven step by step, one second apart, with a log of what each step did.
struct Script {
    state: State,
    now: u64,
    log: String,
    history: Vec<HistoryRow>,
}

impl Script {
    fn new(accounts: &[Account]) -> Script {
        let mut state = State::new(0);
        let created = state.create_accounts(SECOND, accounts);
        assert!(
            created.iter().all(|r| *r == CreateAccountResult::Ok),
            "{created:?}"
        );
        state.take_changes();
        Script {
            state,
            now: SECOND,
            log: String::new(),
            history: Vec::new(),
        }
    }

    /// Submits one batch of transfers a second after the previous step.
    fn submit(&mut self, transfers: &[Transfer]) -> &mut Script {
        self.now += SECOND;
        let results = self.state.create_transfers(self.now, transfers);
        let names: Vec<_> = results.iter().map(|r| r.as_str()).collect();
        self.log += &format!("{}: {}\n", self.at(self.now), names.join(" "));
        self.history.extend(self.state.take_changes().history);
        self
    }

    /// Moves the clock on and expires the pending transfers that are due, as the store does.
    fn advance(&mut self, seconds: u64) -> &mut Script {
        self.now += seconds * SECOND;
        let mut ids: Vec<u128> = self.state.pending.keys().copied().collect();
        ids.sort_unstable();
        let expired = self.state.expire_pending(self.now, &ids);
        self.log += &format!("{}: expired {expired}\n", self.at(self.now));
        self.history.extend(self.state.take_changes().history);
        self
    }

    fn balances(&mut self) -> &mut Script {
        self.log += &balances(&self.state);
        self
    }

    fn stored(&mut self, id: u128) -> &mut Script {
        let t = &self.state.transfers[&id];
        self.log += &format!("transfer {id}: amount={} flags={:?}\n", t.amount, t.flags);
        self
    }

    /// Instants as whole seconds and the nanoseconds past them.
    fn at(&self, timestamp: u64) -> String {
        format!("{}s+{}ns", timestamp / SECOND, timestamp % SECOND)
    }

    /// Checks the ledger against its transfers, then the log and the final balances.
    fn check(&mut self, expect: Expect) {
        let pending = |t: &Transfer| self.state.pending.get(&t.id).map(|p| p.status);
        let violations = verify(
            self.state.accounts.values(),
            self.state.transfers.values().map(|t| (t, pending(t))),
        );
        assert_eq!(violations, vec![]);
        self.log += "final:\n";
        self.balances();
        expect.assert_eq(&self.log);
    }
}

fn plain_accounts(ids: &[u128]) -> Vec<Account> {
    ids.iter()
        .map(|id| account(*id, AccountFlags::empty()))
        .collect()
}

#[test]
fn pending_then_partial_post() {
    let post = TransferFlags::POST_PENDING_TRANSFER;
    Script::new(&plain_accounts(&[1, 2]))
        .submit(&[pending(10, 1, 2, 100, 0)])
        .balances()
        .submit(&[resolve(11, 10, 60, post)])
        .stored(11)
        .submit(&[resolve(12, 10, 0, post), resolve(11, 10, 60, post)])
        .check(expect![[r#"
            2s+0ns: ok
            account 1: dp=100 dpo=0 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=100 cpo=0
            3s+0ns: ok
            transfer 11: amount=60 flags=post_pending_transfer
            4s+0ns: pending_transfer_already_posted exists
            final:
            account 1: dp=0 dpo=60 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=60
        "#]]);
}

#[test]
fn void_releases_the_whole_amount() {
    let void = TransferFlags::VOID_PENDING_TRANSFER;
    Script::new(&plain_accounts(&[1, 2]))
        .submit(&[pending(10, 1, 2, 50, 0), pending(11, 1, 2, 7, 0)])
        .submit(&[resolve(12, 10, 49, void), resolve(13, 10, 0, void)])
        .stored(13)
        .submit(&[resolve(14, 10, 0, TransferFlags::POST_PENDING_TRANSFER)])
        .check(expect![[r#"
            2s+0ns: ok ok
            3s+0ns: pending_transfer_has_different_amount ok
            transfer 13: amount=50 flags=void_pending_transfer
            4s+0ns: pending_transfer_already_voided
            final:
            account 1: dp=7 dpo=0 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=7 cpo=0
        "#]]);
}

#[test]
fn pending_transfers_expire_at_their_timeout() {
    let post = TransferFlags::POST_PENDING_TRANSFER;
    Script::new(&plain_accounts(&[1, 2]))
        .submit(&[pending(10, 1, 2, 30, 5), pending(11, 1, 2, 20, 0)])
        .advance(3)
        .advance(2)
        .balances()
        .submit(&[resolve(12, 10, 0, post), resolve(13, 11, 0, post)])
        // Due but not yet released by the store: the engine refuses the post all the same.
        .submit(&[pending(14, 1, 2, 9, 1)])
        .submit(&[resolve(15, 14, 0, post)])
        .advance(0)
        .check(expect![[r#"
            2s+0ns: ok ok
            5s+0ns: expired 0
            7s+0ns: expired 1
            account 1: dp=20 dpo=0 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=20 cpo=0
            8s+0ns: pending_transfer_expired ok
            9s+0ns: ok
            10s+0ns: pending_transfer_expired
            10s+0ns: expired 1
            final:
            account 1: dp=0 dpo=20 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=20
        "#]]);
}

#[test]
fn balancing_debit_clamps_to_the_available_balance() {
    let accounts = [
        account(1, AccountFlags::empty()),
        account(2, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    ];
    let balancing = TransferFlags::BALANCING_DEBIT;
    Script::new(&accounts)
        .submit(&[Transfer::new(10, 1, 2, fen(30)), pending(11, 2, 1, 10, 0)])
        .submit(&[transfer(12, 2, 1, 100, balancing)])
        .stored(12)
        .submit(&[
            transfer(13, 2, 1, 1, balancing),
            transfer(12, 2, 1, 100, balancing),
        ])
        .check(expect![[r#"
            2s+0ns: ok ok
            3s+0ns: ok
            transfer 12: amount=20 flags=balancing_debit
            4s+0ns: ok exists
            final:
            account 1: dp=0 dpo=30 cp=10 cpo=20
            account 2: dp=10 dpo=20 cp=0 cpo=30
        "#]]);
}

/// One row per account and event: a post used to leave a second row at the same instant,
/// holding the balances between releasing the pending amount and posting it.
#[test]
fn history_accounts_keep_one_row_per_change() {
    let accounts = [
        account(1, AccountFlags::HISTORY),
        account(2, AccountFlags::HISTORY),
        account(3, AccountFlags::empty()),
    ];
    let mut script = Script::new(&accounts);
    script
        .submit(&[
            Transfer::new(10, 1, 2, fen(5)),
            Transfer::new(11, 3, 2, fen(1)),
        ])
        .submit(&[pending(12, 1, 2, 7, 0)])
        .submit(&[resolve(13, 12, 3, TransferFlags::POST_PENDING_TRANSFER)]);
    let rows: Vec<String> = script
        .history
        .iter()
        .map(|h| {
            format!(
                "account {} at {}: dp={} dpo={} cp={} cpo={}\n",
                h.account_id,
                script.at(h.timestamp),
                h.debits_pending,
                h.debits_posted,
                h.credits_pending,
                h.credits_posted
            )
        })
        .collect();
    script.log += &rows.concat();
    script.check(expect![[r#"
        2s+0ns: ok ok
        3s+0ns: ok
        4s+0ns: ok
        account 1 at 2s+0ns: dp=0 dpo=5 cp=0 cpo=0
        account 2 at 2s+0ns: dp=0 dpo=0 cp=0 cpo=5
        account 2 at 2s+1ns: dp=0 dpo=0 cp=0 cpo=6
        account 1 at 3s+0ns: dp=7 dpo=5 cp=0 cpo=0
        account 2 at 3s+0ns: dp=0 dpo=0 cp=7 cpo=6
        account 1 at 4s+0ns: dp=0 dpo=8 cp=0 cpo=0
        account 2 at 4s+0ns: dp=0 dpo=0 cp=0 cpo=9
        final:
        account 1: dp=0 dpo=8 cp=0 cpo=0
        account 2: dp=0 dpo=0 cp=0 cpo=9
        account 3: dp=0 dpo=1 cp=0 cpo=0
    "#]]);
}

#[test]
fn closed_accounts_take_no_transfers() {
    let accounts = [
        account(1, AccountFlags::empty()),
        account(2, AccountFlags::CLOSED),
    ];
    Script::new(&accounts)
        .submit(&[
            Transfer::new(10, 1, 2, fen(5)),
            Transfer::new(11, 2, 1, fen(5)),
            pending(12, 1, 2, 5, 0),
        ])
        .check(expect![[r#"
            2s+0ns: credit_account_already_closed debit_account_already_closed credit_account_already_closed
            final:
            account 1: dp=0 dpo=0 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=0
        "#]]);
}

/// Found by the property tests: a failed chain used to fail every event after it in the
/// batch, until the next chain began.
#[test]
fn events_after_a_failed_chain_are_applied() {
    let linked = TransferFlags::LINKED;
    run(
        &[
            transfer(10, 2, 1, 5, linked),
            Transfer::new(11, 1, 2, fen(3)),
            Transfer::new(12, 1, 2, fen(4)),
        ],
        expect![[r#"
            results: exceeds_credits linked_event_failed ok
            account 1: dp=0 dpo=4 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=4
            account 3: dp=0 dpo=0 cp=0 cpo=0
        "#]],
    );
}

/// A transfer refused for a reason that depends on the ledger's state keeps its id: submitted
/// again once the cause is gone, it answers `id_already_failed` and moves nothing, so a
/// client's retry can never move money its first attempt did not.
#[test]
fn a_transiently_failed_transfer_stays_failed() {
    let accounts = [
        account(1, AccountFlags::empty()),
        account(2, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    ];
    Script::new(&accounts)
        .submit(&[Transfer::new(10, 2, 1, fen(5))])
        .submit(&[Transfer::new(11, 1, 2, fen(5))])
        .submit(&[Transfer::new(10, 2, 1, fen(5))])
        .check(expect![[r#"
            2s+0ns: exceeds_credits
            3s+0ns: ok
            4s+0ns: id_already_failed
            final:
            account 1: dp=0 dpo=5 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=5
        "#]]);
}

/// A balancing pending transfer reserves what it finds, possibly nothing; a post in the same
/// chain that asks for more fails, and stays failed when the chain is sent again after the
/// account was funded, so the replay moves nothing.
#[test]
fn a_chain_refused_for_a_balancing_amount_stays_refused() {
    let accounts = [
        account(1, AccountFlags::empty()),
        account(2, AccountFlags::empty()),
    ];
    let pending = TransferFlags::PENDING
        .union(TransferFlags::BALANCING_DEBIT)
        .union(TransferFlags::LINKED);
    let chain = [
        transfer(3, 2, 1, 12, pending),
        Transfer {
            pending_id: 3,
            ..transfer(6, 0, 0, 1, TransferFlags::POST_PENDING_TRANSFER)
        },
    ];
    Script::new(&accounts)
        .submit(&chain)
        .submit(&[transfer(7, 1, 2, 50, TransferFlags::empty())])
        .submit(&chain)
        .check(expect![[r#"
            2s+0ns: linked_event_failed exceeds_pending_transfer_amount
            3s+0ns: ok
            4s+0ns: linked_event_failed id_already_failed
            final:
            account 1: dp=0 dpo=50 cp=0 cpo=0
            account 2: dp=0 dpo=0 cp=0 cpo=50
        "#]]);
}
