//! Every result code the API can give, produced through the store on every backend.
//!
//! Two tables, one for transfers and one for accounts: each case names what exists before (the
//! accounts of [`BASE`] always, plus prior transfers), the batch under test, and the results
//! it must get. Every case runs on SQLite and, when `CHUNLEI_TEST_POSTGRES_URL` is set, on
//! PostgreSQL. A case whose batch took no effect must leave every balance and record it
//! touches as it was. A test checks that the tables cover every result code except the few
//! listed in [`NOT_PRODUCED`], each with the reason.
//!
//! All cases of a backend share one database, each in its own range of ids (see
//! [`Namespace`]), so that a run costs one database rather than one per case.

use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;

use chunlei_ledger::{
    Account, AccountFlags, CreateAccountResult, CreateTransferResult, Fen, ID_INT_MAX, Owner,
    OwnerKind, Transfer, TransferFlags,
};
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};

type A = CreateAccountResult;
type T = CreateTransferResult;

/// Accounts every case starts with.
#[rustfmt::skip]
const BASE: &[AccountSpec] = &[
    acct(1), acct(2), acct(3),
    acct(4).flags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    acct(5).flags(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS),
    acct(6).ledger(2),
    acct(7).flags(AccountFlags::CLOSED),
];

const MAX: u64 = Fen::MAX.get();

#[rustfmt::skip]
const TRANSFER_CASES: &[Case<Tx, T>] = &[
    case("ok", &[], &[t(10, 1, 2, 5)], &[T::Ok]),
    case("linked event failed", &[], &[t(10, 1, 2, 5).linked(), t(11, 4, 1, 5)], &[T::LinkedEventFailed, T::ExceedsCredits]),
    case("linked event chain open", &[], &[t(10, 1, 2, 5).linked()], &[T::LinkedEventChainOpen]),
    case("id zero", &[], &[t(0, 1, 2, 5)], &[T::IdMustNotBeZero]),
    case("id int max", &[], &[t(ID_INT_MAX, 1, 2, 5)], &[T::IdMustNotBeIntMax]),
    case("pending and post", &[], &[t(10, 1, 2, 5).pending().flags(TransferFlags::POST_PENDING_TRANSFER)], &[T::FlagsAreMutuallyExclusive]),
    case("debit account id zero", &[], &[t(10, 0, 2, 5)], &[T::DebitAccountIdMustNotBeZero]),
    case("debit account id int max", &[], &[t(10, ID_INT_MAX, 2, 5)], &[T::DebitAccountIdMustNotBeIntMax]),
    case("credit account id zero", &[], &[t(10, 1, 0, 5)], &[T::CreditAccountIdMustNotBeZero]),
    case("credit account id int max", &[], &[t(10, 1, ID_INT_MAX, 5)], &[T::CreditAccountIdMustNotBeIntMax]),
    case("same account twice", &[], &[t(10, 1, 1, 5)], &[T::AccountsMustBeDifferent]),
    case("plain with pending id", &[], &[t(10, 1, 2, 5).pending_id(3)], &[T::PendingIdMustBeZero]),
    case("post without pending id", &[], &[post(11, 0, 0)], &[T::PendingIdMustNotBeZero]),
    case("post of pending id int max", &[], &[post(11, ID_INT_MAX, 0)], &[T::PendingIdMustNotBeIntMax]),
    case("post of itself", &[], &[post(11, 11, 0)], &[T::PendingIdMustBeDifferent]),
    case("plain with timeout", &[], &[t(10, 1, 2, 5).timeout(60)], &[T::TimeoutReservedForPendingTransfer]),
    case("amount zero", &[], &[t(10, 1, 2, 0)], &[T::AmountMustNotBeZero]),
    case("ledger zero", &[], &[t(10, 1, 2, 5).ledger(0)], &[T::LedgerMustNotBeZero]),
    case("code zero", &[], &[t(10, 1, 2, 5).code(0)], &[T::CodeMustNotBeZero]),
    case("again as pending", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).pending()], &[T::ExistsWithDifferentFlags]),
    case("again from another account", &[t(10, 1, 2, 5)], &[t(10, 3, 2, 5)], &[T::ExistsWithDifferentDebitAccountId]),
    case("again to another account", &[t(10, 1, 2, 5)], &[t(10, 1, 3, 5)], &[T::ExistsWithDifferentCreditAccountId]),
    case("again with another amount", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 6)], &[T::ExistsWithDifferentAmount]),
    case("post again of another pending", &[t(10, 1, 2, 5).pending(), t(11, 1, 2, 5).pending(), post(12, 10, 0)], &[post(12, 11, 0)], &[T::ExistsWithDifferentPendingId]),
    case("again with other user_data_128", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).user_data(1, 0, 0)], &[T::ExistsWithDifferentUserData128]),
    case("again with other user_data_64", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).user_data(0, 1, 0)], &[T::ExistsWithDifferentUserData64]),
    case("again with other user_data_32", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).user_data(0, 0, 1)], &[T::ExistsWithDifferentUserData32]),
    case("again with another timeout", &[t(10, 1, 2, 5).pending().timeout(3600)], &[t(10, 1, 2, 5).pending().timeout(7200)], &[T::ExistsWithDifferentTimeout]),
    case("again on another ledger", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).ledger(2)], &[T::ExistsWithDifferentLedger]),
    case("again with another code", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5).code(2)], &[T::ExistsWithDifferentCode]),
    case("again, identical", &[t(10, 1, 2, 5)], &[t(10, 1, 2, 5)], &[T::Exists]),
    case("post again, identical", &[t(10, 1, 2, 5).pending(), post(11, 10, 2)], &[post(11, 10, 2)], &[T::Exists]),
    case("unknown debit account", &[], &[t(10, 9, 2, 5)], &[T::DebitAccountNotFound]),
    case("unknown credit account", &[], &[t(10, 1, 9, 5)], &[T::CreditAccountNotFound]),
    case("accounts on two ledgers", &[], &[t(10, 1, 6, 5)], &[T::AccountsMustHaveTheSameLedger]),
    case("transfer on another ledger", &[], &[t(10, 1, 2, 5).ledger(2)], &[T::TransferMustHaveTheSameLedgerAsAccounts]),
    case("post of an unknown transfer", &[], &[post(11, 99, 0)], &[T::PendingTransferNotFound]),
    case("post of a plain transfer", &[t(10, 1, 2, 5)], &[post(11, 10, 0)], &[T::PendingTransferNotPending]),
    case("post naming another debit", &[t(10, 1, 2, 5).pending()], &[post(11, 10, 0).accounts(3, 0)], &[T::PendingTransferHasDifferentDebitAccountId]),
    case("post naming another credit", &[t(10, 1, 2, 5).pending()], &[post(11, 10, 0).accounts(0, 3)], &[T::PendingTransferHasDifferentCreditAccountId]),
    case("post naming another ledger", &[t(10, 1, 2, 5).pending()], &[post(11, 10, 0).ledger(2)], &[T::PendingTransferHasDifferentLedger]),
    case("post naming another code", &[t(10, 1, 2, 5).pending()], &[post(11, 10, 0).code(2)], &[T::PendingTransferHasDifferentCode]),
    case("post of more than pending", &[t(10, 1, 2, 5).pending()], &[post(11, 10, 6)], &[T::ExceedsPendingTransferAmount]),
    case("void of less than pending", &[t(10, 1, 2, 5).pending()], &[void(11, 10, 4)], &[T::PendingTransferHasDifferentAmount]),
    case("void after post", &[t(10, 1, 2, 5).pending(), post(11, 10, 0)], &[void(12, 10, 0)], &[T::PendingTransferAlreadyPosted]),
    case("post after void", &[t(10, 1, 2, 5).pending(), void(11, 10, 0)], &[post(12, 10, 0)], &[T::PendingTransferAlreadyVoided]),
    case("debit from closed account", &[], &[t(10, 7, 1, 5)], &[T::DebitAccountAlreadyClosed]),
    case("credit to closed account", &[], &[t(10, 1, 7, 5)], &[T::CreditAccountAlreadyClosed]),
    case("pending debits past Fen::MAX", &[t(10, 1, 2, MAX).pending()], &[t(11, 1, 3, 1).pending()], &[T::OverflowsDebitsPending]),
    case("pending credits past Fen::MAX", &[t(10, 1, 2, MAX).pending()], &[t(11, 3, 2, 1).pending()], &[T::OverflowsCreditsPending]),
    case("posted debits past Fen::MAX", &[t(10, 1, 2, MAX)], &[t(11, 1, 3, 1)], &[T::OverflowsDebitsPosted]),
    case("posted credits past Fen::MAX", &[t(10, 1, 2, MAX)], &[t(11, 3, 2, 1)], &[T::OverflowsCreditsPosted]),
    case("pending and posted debits past Fen::MAX", &[t(10, 1, 2, MAX).pending()], &[t(11, 1, 3, 1)], &[T::OverflowsDebits]),
    case("pending and posted credits past Fen::MAX", &[t(10, 1, 2, MAX).pending()], &[t(11, 3, 2, 1)], &[T::OverflowsCredits]),
    case("debit beyond credits", &[], &[t(10, 4, 1, 1)], &[T::ExceedsCredits]),
    case("sent again after funding", &[], &[t(10, 4, 1, 1), t(11, 1, 4, 5), t(10, 4, 1, 1)], &[T::ExceedsCredits, T::Ok, T::IdAlreadyFailed]),
    case("pending debit beyond credits", &[t(10, 1, 4, 5)], &[t(11, 4, 1, 6).pending()], &[T::ExceedsCredits]),
    case("balancing debit with nothing available moves nothing", &[t(10, 1, 4, 5), t(11, 4, 2, 5).pending()], &[t(12, 4, 1, 9).flags(TransferFlags::BALANCING_DEBIT)], &[T::Ok]),
    case("credit beyond debits", &[], &[t(10, 1, 5, 1)], &[T::ExceedsDebits]),
    case("balancing credit with nothing available moves nothing", &[], &[t(10, 1, 5, 9).flags(TransferFlags::BALANCING_CREDIT)], &[T::Ok]),
];

#[rustfmt::skip]
const ACCOUNT_CASES: &[Case<AccountSpec, A>] = &[
    case("ok", &[], &[acct(20)], &[A::Ok]),
    case("linked event failed", &[], &[acct(20).linked(), acct(0)], &[A::LinkedEventFailed, A::IdMustNotBeZero]),
    case("linked event chain open", &[], &[acct(20).linked()], &[A::LinkedEventChainOpen]),
    case("id zero", &[], &[acct(0)], &[A::IdMustNotBeZero]),
    case("id int max", &[], &[acct(ID_INT_MAX)], &[A::IdMustNotBeIntMax]),
    case("both limits", &[], &[acct(20).flags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS).flags(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)], &[A::FlagsAreMutuallyExclusive]),
    case("ledger zero", &[], &[acct(20).ledger(0)], &[A::LedgerMustNotBeZero]),
    case("code zero", &[], &[acct(20).code(0)], &[A::CodeMustNotBeZero]),
    case("again with history", &[], &[acct(1).flags(AccountFlags::HISTORY)], &[A::ExistsWithDifferentFlags]),
    case("again with other user_data_128", &[], &[acct(1).user_data(1, 0, 0)], &[A::ExistsWithDifferentUserData128]),
    case("again with other user_data_64", &[], &[acct(1).user_data(0, 1, 0)], &[A::ExistsWithDifferentUserData64]),
    case("again with other user_data_32", &[], &[acct(1).user_data(0, 0, 1)], &[A::ExistsWithDifferentUserData32]),
    case("again on another ledger", &[], &[acct(1).ledger(2)], &[A::ExistsWithDifferentLedger]),
    case("again with another code", &[], &[acct(1).code(2)], &[A::ExistsWithDifferentCode]),
    case("again for a merchant", &[], &[acct(1).owner(OwnerKind::Merchant)], &[A::ExistsWithDifferentOwner]),
    case("again, identical", &[], &[acct(1)], &[A::Exists]),
];

/// Result codes no case produces, each with the reason.
const NOT_PRODUCED: &[(T, &str)] = &[
    (
        T::PendingTransferExpired,
        "timeouts are whole seconds of wall-clock time and these tests do not wait; the \
         engine's scenario tests drive the clock instead",
    ),
    (
        T::OverflowsTimeout,
        "a timestamp plus u32::MAX seconds passes u64::MAX nanoseconds only after the year 2400",
    ),
];

#[test]
fn every_case_gets_its_results_on_every_backend() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url));
        let mut problems = run_table(&store, 0, TRANSFER_CASES);
        problems.extend(run_table(&store, TRANSFER_CASES.len(), ACCOUNT_CASES));
        let violations = store.verify().expect("verify");
        problems.extend(violations.iter().map(|v| format!("ledger verify: {v}")));
        assert!(
            problems.is_empty(),
            "on {}:\n{}",
            db.url,
            problems.join("\n")
        );
    }
}

#[test]
fn the_tables_cover_every_result_code() {
    let not_produced: Vec<T> = NOT_PRODUCED.iter().map(|(code, _)| *code).collect();
    assert_eq!(uncovered(TRANSFER_CASES, T::ALL), not_produced);
    assert_eq!(uncovered(ACCOUNT_CASES, A::ALL), Vec::<A>::new());
}

/// The codes of `all` that no case expects, in the order of `all`.
fn uncovered<E, R: Copy + Eq + Hash>(cases: &[Case<E, R>], all: &[R]) -> Vec<R> {
    let covered: HashSet<R> = cases
        .iter()
        .flat_map(|c| c.expect.iter().copied())
        .collect();
    all.iter()
        .filter(|r| !covered.contains(r))
        .copied()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running a table

struct Case<E: 'static, R: 'static> {
    name: &'static str,
    /// Transfers created after [`BASE`] and before the batch, each expected to succeed.
    prior: &'static [Tx],
    /// The batch under test.
    submit: &'static [E],
    /// Its results, one per event.
    expect: &'static [R],
}

const fn case<E, R>(
    name: &'static str,
    prior: &'static [Tx],
    submit: &'static [E],
    expect: &'static [R],
) -> Case<E, R> {
    Case {
        name,
        prior,
        submit,
        expect,
    }
}

/// Runs every case of a table and lists what went wrong: a case that got other results
/// (`case → expected codes, got codes`), or one that took no effect yet changed a record.
fn run_table<E: Spec>(store: &Store, first: usize, cases: &[Case<E, E::Result>]) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, case) in (first..).zip(cases) {
        let ns = Namespace::new(index);
        let accounts: Vec<Account> = BASE.iter().map(|a| a.build(ns)).collect();
        let created = store
            .create_accounts_blocking(accounts)
            .expect("create accounts");
        assert!(
            created.iter().all(|r| *r == A::Ok),
            "{}: {created:?}",
            case.name
        );
        let prior: Vec<Transfer> = case.prior.iter().map(|t| t.build(ns)).collect();
        let done = store
            .create_transfers_blocking(prior)
            .expect("create transfers");
        assert!(
            done.iter().all(|r| *r == T::Ok),
            "{}: prior {done:?}",
            case.name
        );

        let records = Records::ids(case, ns);
        let before = records.load(store);
        let events: Vec<E::Built> = case.submit.iter().map(|e| e.build(ns)).collect();
        let results = E::submit(store, events);
        if results != case.expect {
            let (expected, got) = (codes::<E>(case.expect), codes::<E>(&results));
            let name = case.name;
            problems.push(format!("{} {name} → {expected}, got {got}", E::KIND));
        }
        if !results.iter().any(|r| E::is_ok(*r)) && records.load(store) != before {
            let name = case.name;
            problems.push(format!(
                "{} {name}: took no effect, yet changed a record",
                E::KIND
            ));
        }
    }
    problems
}

fn codes<E: Spec>(results: &[E::Result]) -> String {
    let codes: Vec<&str> = results.iter().map(|r| E::as_str(*r)).collect();
    codes.join(" ")
}

/// The ids a case may touch, and their stored records.
struct Records {
    accounts: Vec<u128>,
    transfers: Vec<u128>,
}

impl Records {
    fn ids<E: Spec>(case: &Case<E, E::Result>, ns: Namespace) -> Records {
        let mut accounts: Vec<u128> = BASE.iter().map(|a| ns.id(a.id)).collect();
        let mut transfers: Vec<u128> = Vec::new();
        for t in case.prior {
            transfers.push(ns.id(t.0.id));
        }
        for e in case.submit {
            e.ids(ns, &mut accounts, &mut transfers);
        }
        Records {
            accounts,
            transfers,
        }
    }

    fn load(&self, store: &Store) -> (Vec<Account>, Vec<Transfer>) {
        let accounts = store
            .lookup_accounts(&self.accounts)
            .expect("lookup accounts");
        let transfers = store
            .lookup_transfers(&self.transfers)
            .expect("lookup transfers");
        (accounts, transfers)
    }
}

/// Gives each case its own ids: case `n` adds `(n + 1) << 64` to every id but the reserved
/// zero and `ID_INT_MAX`, which cases use for what they are.
#[derive(Clone, Copy)]
struct Namespace(u128);

impl Namespace {
    fn new(index: usize) -> Namespace {
        let index = u128::try_from(index).expect("case index fits");
        Namespace((index + 1) << 64)
    }

    fn id(self, id: u128) -> u128 {
        if id == 0 || id == ID_INT_MAX {
            id
        } else {
            id + self.0
        }
    }
}

/// An event of a table, built into a real account or transfer in a case's namespace.
trait Spec {
    /// What the table creates, for messages.
    const KIND: &'static str;
    type Built;
    type Result: Copy + Debug + PartialEq + 'static;
    fn build(&self, ns: Namespace) -> Self::Built;
    fn submit(store: &Store, events: Vec<Self::Built>) -> Vec<Self::Result>;
    fn is_ok(result: Self::Result) -> bool;
    fn as_str(result: Self::Result) -> &'static str;
    /// Adds the ids of the records this event may change.
    fn ids(&self, ns: Namespace, accounts: &mut Vec<u128>, transfers: &mut Vec<u128>);
}

// ---------------------------------------------------------------------------------------------
// Writing events as constants

const fn fen(value: u64) -> Fen {
    match Fen::new(value) {
        Some(amount) => amount,
        None => panic!("amount beyond Fen::MAX"),
    }
}

/// An account as the tables write it: ledger 1, code 1, no flags, the platform's.
#[derive(Clone, Copy)]
struct AccountSpec {
    id: u128,
    ledger: u32,
    code: u16,
    flags: AccountFlags,
    user_data: (u128, u64, u32),
    owner: OwnerKind,
}

const fn acct(id: u128) -> AccountSpec {
    AccountSpec {
        id,
        ledger: 1,
        code: 1,
        flags: AccountFlags::empty(),
        user_data: (0, 0, 0),
        owner: OwnerKind::Platform,
    }
}

impl AccountSpec {
    const fn flags(mut self, flags: AccountFlags) -> AccountSpec {
        self.flags = self.flags.union(flags);
        self
    }

    const fn linked(self) -> AccountSpec {
        self.flags(AccountFlags::LINKED)
    }

    const fn ledger(mut self, ledger: u32) -> AccountSpec {
        self.ledger = ledger;
        self
    }

    const fn code(mut self, code: u16) -> AccountSpec {
        self.code = code;
        self
    }

    const fn user_data(mut self, d128: u128, d64: u64, d32: u32) -> AccountSpec {
        self.user_data = (d128, d64, d32);
        self
    }

    const fn owner(mut self, owner: OwnerKind) -> AccountSpec {
        self.owner = owner;
        self
    }
}

impl Spec for AccountSpec {
    const KIND: &'static str = "account";
    type Built = Account;
    type Result = A;

    fn build(&self, ns: Namespace) -> Account {
        let owner_id = match self.owner {
            OwnerKind::Platform => "",
            OwnerKind::Merchant | OwnerKind::Bank => "m1",
        };
        Account {
            flags: self.flags,
            user_data_128: self.user_data.0,
            user_data_64: self.user_data.1,
            user_data_32: self.user_data.2,
            owner: Owner {
                kind: self.owner,
                id: owner_id.to_owned(),
            },
            ..Account::new(ns.id(self.id), self.ledger, self.code)
        }
    }

    fn submit(store: &Store, events: Vec<Account>) -> Vec<A> {
        store
            .create_accounts_blocking(events)
            .expect("create accounts")
    }

    fn is_ok(result: A) -> bool {
        result == A::Ok
    }

    fn as_str(result: A) -> &'static str {
        result.as_str()
    }

    fn ids(&self, ns: Namespace, accounts: &mut Vec<u128>, _: &mut Vec<u128>) {
        accounts.push(ns.id(self.id));
    }
}

/// A transfer as the tables write it: ledger 1, code 1, unless a post or void.
struct Tx(Transfer);

const fn t(id: u128, debit: u128, credit: u128, amount: u64) -> Tx {
    Tx(Transfer {
        id,
        debit_account_id: debit,
        credit_account_id: credit,
        amount: fen(amount),
        pending_id: 0,
        user_data_128: 0,
        user_data_64: 0,
        user_data_32: 0,
        timeout_s: 0,
        ledger: 1,
        code: 1,
        flags: TransferFlags::empty(),
        timestamp: 0,
    })
}

/// A post that names only the pending transfer and the amount (zero for all of it).
const fn post(id: u128, pending_id: u128, amount: u64) -> Tx {
    t(id, 0, 0, amount)
        .ledger(0)
        .code(0)
        .pending_id(pending_id)
        .flags(TransferFlags::POST_PENDING_TRANSFER)
}

/// A void that names only the pending transfer and the amount (zero for all of it).
const fn void(id: u128, pending_id: u128, amount: u64) -> Tx {
    t(id, 0, 0, amount)
        .ledger(0)
        .code(0)
        .pending_id(pending_id)
        .flags(TransferFlags::VOID_PENDING_TRANSFER)
}

impl Tx {
    const fn flags(mut self, flags: TransferFlags) -> Tx {
        self.0.flags = self.0.flags.union(flags);
        self
    }

    const fn linked(self) -> Tx {
        self.flags(TransferFlags::LINKED)
    }

    const fn pending(self) -> Tx {
        self.flags(TransferFlags::PENDING)
    }

    const fn accounts(mut self, debit: u128, credit: u128) -> Tx {
        self.0.debit_account_id = debit;
        self.0.credit_account_id = credit;
        self
    }

    const fn pending_id(mut self, pending_id: u128) -> Tx {
        self.0.pending_id = pending_id;
        self
    }

    const fn timeout(mut self, timeout_s: u32) -> Tx {
        self.0.timeout_s = timeout_s;
        self
    }

    const fn ledger(mut self, ledger: u32) -> Tx {
        self.0.ledger = ledger;
        self
    }

    const fn code(mut self, code: u16) -> Tx {
        self.0.code = code;
        self
    }

    const fn user_data(mut self, d128: u128, d64: u64, d32: u32) -> Tx {
        self.0.user_data_128 = d128;
        self.0.user_data_64 = d64;
        self.0.user_data_32 = d32;
        self
    }
}

impl Spec for Tx {
    const KIND: &'static str = "transfer";
    type Built = Transfer;
    type Result = T;

    fn build(&self, ns: Namespace) -> Transfer {
        Transfer {
            id: ns.id(self.0.id),
            debit_account_id: ns.id(self.0.debit_account_id),
            credit_account_id: ns.id(self.0.credit_account_id),
            pending_id: ns.id(self.0.pending_id),
            ..self.0.clone()
        }
    }

    fn submit(store: &Store, events: Vec<Transfer>) -> Vec<T> {
        store
            .create_transfers_blocking(events)
            .expect("create transfers")
    }

    fn is_ok(result: T) -> bool {
        result == T::Ok
    }

    fn as_str(result: T) -> &'static str {
        result.as_str()
    }

    fn ids(&self, ns: Namespace, _: &mut Vec<u128>, transfers: &mut Vec<u128>) {
        transfers.push(ns.id(self.0.id));
        transfers.push(ns.id(self.0.pending_id));
    }
}
