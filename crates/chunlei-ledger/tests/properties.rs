//! Property tests: random sequences of account batches, transfer batches and clock steps over
//! a small id space, with the ledger's invariants checked after every step.
//!
//! The id space is small on purpose, so that ids collide, pending transfers are posted twice,
//! chains fail halfway and limit accounts are pushed against their limits. The engine's
//! [`State`] is carried from batch to batch as the store carries it: every record stays
//! loaded and [`State::take_changes`] is called after each batch.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;

use chunlei_ledger::{
    Account, AccountFlags, Changes, CreateAccountResult, CreateTransferResult, Fen, HistoryRow,
    PendingInfo, PendingStatus, State, Transfer, TransferFlags, verify,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

const ACCOUNT_ID_MAX: u128 = 7;
/// Accounts 1 to this are created before the random steps, so most transfers find accounts.
const GENESIS_ACCOUNTS: usize = 6;
const TRANSFER_ID_MAX: u128 = 40;
const AMOUNT_SMALL_MAX: u64 = 20;
const FEN_MAX: u64 = Fen::MAX.get();
const NANOS_PER_SECOND: u64 = 1_000_000_000;
const START_AT: u64 = 1_700_000_000 * NANOS_PER_SECOND;
/// How far the clock moves between two batches.
const BATCH_STEP_NS: u64 = 1_000_000;
const STEPS_MAX: usize = 20;

type Check = Result<(), TestCaseError>;

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises it for a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        // A failure is kept as a scenario test in `src/tests.rs`, not as a file in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// After every batch: the checks of [`Model::create`]. After every step: submitting a
    /// random prefix of the history again, and at the end all of it (see [`check_replay`]).
    #[test]
    fn ledger_invariants_hold_after_every_step(
        genesis in genesis(),
        steps in vec((op(), any::<Index>()), 1..=STEPS_MAX),
    ) {
        let mut model = Model::new();
        model.create(&genesis)?;
        for (op, replay) in &steps {
            match op {
                Op::Accounts(events) => model.create(events)?,
                Op::Transfers(templates) => {
                    let events = aim(&model.state, templates);
                    model.create(&events)?;
                }
                Op::Advance { ns, expire } => model.advance(*ns, *expire)?,
            }
            let prefix = replay.index(model.history.len()) + 1;
            check_replay(&model.snapshot(), &model.history[..prefix], model.now)?;
            model.now += BATCH_STEP_NS;
        }
        check_replay(&model.snapshot(), &model.history, model.now)?;
    }

    /// Large batches, the second one submitted at an earlier wall-clock time than the first.
    #[test]
    fn every_event_gets_one_result_and_every_success_a_later_timestamp(
        genesis in genesis(),
        first in vec(transfer(), 1..=64),
        second in vec(transfer(), 1..=64),
    ) {
        let mut state = State::new(START_AT);
        state.create_accounts(START_AT, &genesis);
        state.take_changes();
        // The second batch runs at an earlier wall-clock time: timestamps must still increase.
        for (now, templates) in [(START_AT + NANOS_PER_SECOND, &first), (START_AT, &second)] {
            let before = Snapshot::of(&state);
            let events = aim(&state, templates);
            let results = state.create_transfers(now, &events);
            state.take_changes();
            check_results(&events, &results, &before, &Snapshot::of(&state))?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators

#[derive(Clone, Debug)]
enum Op {
    Accounts(Vec<Account>),
    Transfers(Vec<Template>),
    /// Moves the clock; with `expire`, releases what is due as the store does before a commit.
    /// Without it, due pending transfers stay reserved and only the engine's own timeout check
    /// stands between them and a post.
    Advance {
        ns: u64,
        expire: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => vec(account(), 1..=5).prop_map(Op::Accounts),
        7 => vec(transfer(), 1..=8).prop_map(Op::Transfers),
        2 => (advance_ns(), prop::bool::weighted(0.8))
            .prop_map(|(ns, expire)| Op::Advance { ns, expire }),
    ]
}

/// Either a whole number of seconds, landing exactly on the timeouts of pending transfers
/// created in the first event of a batch, or any time up to a few seconds.
fn advance_ns() -> impl Strategy<Value = u64> {
    prop_oneof![
        (1..=3u64).prop_map(|s| s * NANOS_PER_SECOND - BATCH_STEP_NS),
        0..=4 * NANOS_PER_SECOND,
    ]
}

/// Accounts 1 to [`GENESIS_ACCOUNTS`], each valid, with random limits and ledgers.
fn genesis() -> impl Strategy<Value = Vec<Account>> {
    let both = AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS
        .union(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS);
    vec(account(), GENESIS_ACCOUNTS).prop_map(move |mut accounts| {
        for (id, a) in (1..).zip(accounts.iter_mut()) {
            a.id = id;
            a.ledger = a.ledger.max(1);
            let mut bits = a.flags.bits() & !AccountFlags::LINKED.bits();
            if a.flags.contains(both) {
                bits &= !AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS.bits();
            }
            a.flags = AccountFlags::from_bits(bits).expect("known flag bits");
        }
        accounts
    })
}

fn account_id() -> impl Strategy<Value = u128> {
    prop_oneof![40 => 1..=ACCOUNT_ID_MAX, 1 => Just(0)]
}

/// Mostly ledger 1; `weight_2` in 20 is ledger 2, 1 in 20 is the invalid zero.
fn ledger(weight_2: u32) -> impl Strategy<Value = u32> {
    prop_oneof![19 - weight_2 => Just(1u32), weight_2 => Just(2), 1 => Just(0)]
}

fn account() -> impl Strategy<Value = Account> {
    let limit = prop_oneof![
        8 => Just(AccountFlags::empty()),
        3 => Just(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
        3 => Just(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS),
        1 => Just(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS
            .union(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)),
    ];
    let switches = (
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.05),
    );
    (account_id(), limit, switches, ledger(2), 0..2u32).prop_map(
        |(id, limit, (linked, history, closed), ledger, user_data_32)| {
            let mut flags = limit;
            for (on, flag) in [
                (linked, AccountFlags::LINKED),
                (history, AccountFlags::HISTORY),
                (closed, AccountFlags::CLOSED),
            ] {
                if on {
                    flags = flags.union(flag);
                }
            }
            Account {
                flags,
                user_data_32,
                ..Account::new(id, ledger, 1)
            }
        },
    )
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Plain,
    Pending,
    Post,
    Void,
    BalancingDebit,
    BalancingCredit,
    PendingBalancing,
    /// Random flag bits and fields, mostly rejected.
    Misfit,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Plain),
        4 => Just(Kind::Pending),
        3 => Just(Kind::Post),
        2 => Just(Kind::Void),
        1 => Just(Kind::BalancingDebit),
        1 => Just(Kind::BalancingCredit),
        1 => Just(Kind::PendingBalancing),
        1 => Just(Kind::Misfit),
    ]
}

/// Mostly small amounts; sometimes zero (a full post or void) and sometimes close to
/// [`Fen::MAX`], so that balances can overflow.
fn amount() -> impl Strategy<Value = Fen> {
    prop_oneof![
        20 => 1..=AMOUNT_SMALL_MAX,
        2 => Just(0u64),
        1 => FEN_MAX - AMOUNT_SMALL_MAX..=FEN_MAX,
    ]
    .prop_map(|v| Fen::new(v).expect("generated amounts fit"))
}

/// A transfer, and for most posts and voids the pending transfer to aim at (see [`aim`]).
#[derive(Clone, Debug)]
struct Template {
    transfer: Transfer,
    target: Option<Index>,
}

fn transfer() -> impl Strategy<Value = Template> {
    let id = prop_oneof![40 => 1..=TRANSFER_ID_MAX, 1 => Just(0)];
    let accounts = (account_id(), account_id());
    let extra = (1..=TRANSFER_ID_MAX, 0..=3u32, 0..2u32, any::<u16>());
    let target = prop::option::weighted(0.85, any::<Index>());
    let linked = prop::bool::weighted(0.15);
    (
        kind(),
        id,
        accounts,
        amount(),
        linked,
        ledger(1),
        extra,
        target,
    )
        .prop_map(
            |(kind, id, (debit, credit), amount, linked, ledger, extra, target)| {
                let (pending_id, timeout_s, user_data_32, bits) = extra;
                let mut t = Transfer::new(id, debit, credit, amount);
                t.ledger = ledger;
                t.user_data_32 = user_data_32;
                let flags = shape(&mut t, kind, pending_id, timeout_s, bits);
                t.flags = if linked {
                    flags.union(TransferFlags::LINKED)
                } else {
                    flags
                };
                Template {
                    transfer: t,
                    target,
                }
            },
        )
}

/// Points posts and voids that have a target at one of the pending transfers stored or
/// created earlier in the batch (posted, voided and expired ones included), so that most of
/// them meet a pending transfer rather than an unknown id. A post that repeats the accounts
/// repeats the target's.
fn aim(state: &State, templates: &[Template]) -> Vec<Transfer> {
    let is_pending = |t: &&Transfer| t.flags.contains(TransferFlags::PENDING);
    let mut targets: Vec<Transfer> = state
        .transfers
        .values()
        .filter(is_pending)
        .cloned()
        .collect();
    targets.sort_unstable_by_key(|t| t.id);
    let mut events = Vec::with_capacity(templates.len());
    for template in templates {
        let mut t = template.transfer.clone();
        let target = template
            .target
            .filter(|_| t.resolves_pending() && !targets.is_empty());
        if let Some(target) = target {
            let p = &targets[target.index(targets.len())];
            t.pending_id = p.id;
            if t.debit_account_id != 0 {
                (t.debit_account_id, t.credit_account_id) =
                    (p.debit_account_id, p.credit_account_id);
            }
        }
        if t.flags.contains(TransferFlags::PENDING) {
            targets.push(t.clone());
        }
        events.push(t);
    }
    events
}

/// Turns a plain transfer into one of `kind`, returning its flags.
fn shape(
    t: &mut Transfer,
    kind: Kind,
    pending_id: u128,
    timeout_s: u32,
    bits: u16,
) -> TransferFlags {
    match kind {
        Kind::Plain => TransferFlags::empty(),
        Kind::Pending => {
            t.timeout_s = timeout_s;
            TransferFlags::PENDING
        }
        Kind::Post | Kind::Void => {
            t.pending_id = pending_id;
            // Half of the posts and voids leave the pending transfer's fields zero, half repeat
            // them (and `aim` may point them at a pending transfer with other fields).
            if bits & 1 == 0 {
                (t.debit_account_id, t.credit_account_id) = (0, 0);
                (t.ledger, t.code) = (0, 0);
            }
            if bits & 2 == 0 {
                t.amount = Fen::ZERO;
            }
            if matches!(kind, Kind::Post) {
                TransferFlags::POST_PENDING_TRANSFER
            } else {
                TransferFlags::VOID_PENDING_TRANSFER
            }
        }
        Kind::BalancingDebit => TransferFlags::BALANCING_DEBIT,
        Kind::BalancingCredit => TransferFlags::BALANCING_CREDIT,
        Kind::PendingBalancing => {
            t.timeout_s = timeout_s;
            TransferFlags::PENDING.union(if bits & 1 == 0 {
                TransferFlags::BALANCING_DEBIT
            } else {
                TransferFlags::BALANCING_CREDIT
            })
        }
        Kind::Misfit => {
            t.pending_id = if bits & 0x100 == 0 { 0 } else { pending_id };
            t.timeout_s = if bits & 0x200 == 0 { 0 } else { timeout_s };
            t.code = if bits & 0x400 == 0 { 1 } else { 0 };
            TransferFlags::from_bits(bits & 0b11_1110).expect("known flag bits")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The model: the engine's state carried across batches, and the history of batches.

/// Everything the ledger holds between batches, comparable as a whole.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    accounts: BTreeMap<u128, Account>,
    transfers: BTreeMap<u128, Transfer>,
    pending: BTreeMap<u128, PendingInfo>,
    failed: BTreeMap<u128, CreateTransferResult>,
    clock: u64,
}

impl Snapshot {
    fn of(state: &State) -> Snapshot {
        Snapshot {
            accounts: copy(&state.accounts),
            transfers: copy(&state.transfers),
            pending: copy(&state.pending),
            failed: copy(&state.failed),
            clock: state.clock,
        }
    }

    /// A fresh engine state holding this snapshot, as the store would load it.
    fn state(&self) -> State {
        let mut state = State::new(self.clock);
        state.accounts = copy(&self.accounts);
        state.transfers = copy(&self.transfers);
        state.pending = copy(&self.pending);
        state.failed = copy(&self.failed);
        state
    }
}

/// Copies a map of records into a map of another kind (ordered here, hashed in the engine).
fn copy<'a, V: Clone + 'a, M: FromIterator<(u128, V)>>(
    records: impl IntoIterator<Item = (&'a u128, &'a V)>,
) -> M {
    records
        .into_iter()
        .map(|(id, v)| (*id, v.clone()))
        .collect()
}

/// One batch as submitted, with the results it got.
#[derive(Debug)]
enum Batch {
    Accounts(Vec<Account>, Vec<CreateAccountResult>),
    Transfers(Vec<Transfer>, Vec<CreateTransferResult>),
}

struct Model {
    state: State,
    now: u64,
    history: Vec<Batch>,
}

impl Model {
    fn new() -> Model {
        Model {
            state: State::new(0),
            now: START_AT,
            history: Vec::new(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.state)
    }

    /// Applies one batch and checks it: one result per event and increasing timestamps; the
    /// same outcome chain by chain, with no trace of a failed chain; a change record naming
    /// every change; a zero trial balance, no limit crossed and nothing for `verify` to report.
    fn create<E: Event>(&mut self, events: &[E]) -> Check {
        let before = self.snapshot();
        let results = E::apply(&mut self.state, self.now, events);
        let changes = self.state.take_changes();
        let after = self.snapshot();
        check_results(events, &results, &before, &after)?;
        check_chains(events, &results, &before, &after, self.now)?;
        check_changes(&before, &after, &changes)?;
        check_ledger(&after)?;
        self.history.push(E::batch(events.to_vec(), results));
        Ok(())
    }

    fn advance(&mut self, ns: u64, expire: bool) -> Check {
        self.now += ns;
        if !expire {
            return Ok(());
        }
        let now = self.now;
        let before = self.snapshot();
        // Every pending transfer, due or not, oldest expiry first: the engine must pick the due.
        let mut ids: Vec<(u64, u128)> = before
            .pending
            .iter()
            .filter(|(_, info)| info.status == PendingStatus::Pending)
            .map(|(id, info)| (info.expires_at, *id))
            .collect();
        ids.sort_unstable();
        let due: Vec<u128> = ids
            .iter()
            .filter(|(at, _)| *at != 0 && *at <= now)
            .map(|(_, id)| *id)
            .collect();
        let all: Vec<u128> = ids.iter().map(|(_, id)| *id).collect();
        let expired = self.state.expire_pending(now, &all);
        let changes = self.state.take_changes();
        let after = self.snapshot();
        prop_assert_eq!(expired, due.len());
        for (id, info) in &after.pending {
            let status = if due.contains(id) {
                PendingStatus::Expired
            } else {
                before.pending[id].status
            };
            prop_assert_eq!(info.status, status, "pending transfer {}", id);
        }
        check_changes(&before, &after, &changes)?;
        check_ledger(&after)
    }
}

/// What the checks need to know about account and transfer events alike.
trait Event: Clone + Debug + Sized {
    type Result: Outcome;
    fn apply(state: &mut State, now: u64, events: &[Self]) -> Vec<Self::Result>;
    fn batch(events: Vec<Self>, results: Vec<Self::Result>) -> Batch;
    fn is_linked(&self) -> bool;
    /// The timestamp of the stored record with this event's id.
    fn stored_timestamp(&self, s: &Snapshot) -> Option<u64>;
}

trait Outcome: Copy + Debug + PartialEq + 'static {
    const OK: Self;
    const EXISTS: Self;
    const LINKED_EVENT_FAILED: Self;
    /// Failures that depend on the event alone or on records that never change once stored,
    /// so submitting the event again must give them again.
    const STABLE: &'static [Self];

    /// A failure that depends on the ledger's state and is remembered under the event's id.
    fn is_transient(self) -> bool {
        false
    }

    fn is_id_already_failed(self) -> bool {
        false
    }
    fn succeeded(self) -> bool;
}

impl Event for Account {
    type Result = CreateAccountResult;

    fn apply(state: &mut State, now: u64, events: &[Account]) -> Vec<CreateAccountResult> {
        state.create_accounts(now, events)
    }

    fn batch(events: Vec<Account>, results: Vec<CreateAccountResult>) -> Batch {
        Batch::Accounts(events, results)
    }

    fn is_linked(&self) -> bool {
        self.flags.contains(AccountFlags::LINKED)
    }

    fn stored_timestamp(&self, s: &Snapshot) -> Option<u64> {
        s.accounts.get(&self.id).map(|a| a.timestamp)
    }
}

impl Event for Transfer {
    type Result = CreateTransferResult;

    fn apply(state: &mut State, now: u64, events: &[Transfer]) -> Vec<CreateTransferResult> {
        state.create_transfers(now, events)
    }

    fn batch(events: Vec<Transfer>, results: Vec<CreateTransferResult>) -> Batch {
        Batch::Transfers(events, results)
    }

    fn is_linked(&self) -> bool {
        self.flags.contains(TransferFlags::LINKED)
    }

    fn stored_timestamp(&self, s: &Snapshot) -> Option<u64> {
        s.transfers.get(&self.id).map(|t| t.timestamp)
    }
}

impl Outcome for CreateAccountResult {
    const OK: Self = Self::Ok;
    const EXISTS: Self = Self::Exists;
    const LINKED_EVENT_FAILED: Self = Self::LinkedEventFailed;
    const STABLE: &'static [Self] = &[
        Self::LinkedEventChainOpen,
        Self::IdMustNotBeZero,
        Self::IdMustNotBeIntMax,
        Self::FlagsAreMutuallyExclusive,
        Self::LedgerMustNotBeZero,
        Self::CodeMustNotBeZero,
        Self::ExistsWithDifferentFlags,
        Self::ExistsWithDifferentUserData128,
        Self::ExistsWithDifferentUserData64,
        Self::ExistsWithDifferentUserData32,
        Self::ExistsWithDifferentLedger,
        Self::ExistsWithDifferentCode,
        Self::ExistsWithDifferentOwner,
    ];

    fn succeeded(self) -> bool {
        self.is_success()
    }
}

impl Outcome for CreateTransferResult {
    const OK: Self = Self::Ok;
    const EXISTS: Self = Self::Exists;
    const LINKED_EVENT_FAILED: Self = Self::LinkedEventFailed;
    const STABLE: &'static [Self] = &[
        Self::LinkedEventChainOpen,
        Self::IdMustNotBeZero,
        Self::IdMustNotBeIntMax,
        Self::FlagsAreMutuallyExclusive,
        Self::DebitAccountIdMustNotBeZero,
        Self::DebitAccountIdMustNotBeIntMax,
        Self::CreditAccountIdMustNotBeZero,
        Self::CreditAccountIdMustNotBeIntMax,
        Self::AccountsMustBeDifferent,
        Self::PendingIdMustBeZero,
        Self::PendingIdMustNotBeZero,
        Self::PendingIdMustNotBeIntMax,
        Self::PendingIdMustBeDifferent,
        Self::TimeoutReservedForPendingTransfer,
        Self::AmountMustNotBeZero,
        Self::LedgerMustNotBeZero,
        Self::CodeMustNotBeZero,
        Self::ExistsWithDifferentFlags,
        Self::ExistsWithDifferentDebitAccountId,
        Self::ExistsWithDifferentCreditAccountId,
        Self::ExistsWithDifferentAmount,
        Self::ExistsWithDifferentPendingId,
        Self::ExistsWithDifferentUserData128,
        Self::ExistsWithDifferentUserData64,
        Self::ExistsWithDifferentUserData32,
        Self::ExistsWithDifferentTimeout,
        Self::ExistsWithDifferentLedger,
        Self::ExistsWithDifferentCode,
    ];

    fn succeeded(self) -> bool {
        self.is_success()
    }

    fn is_transient(self) -> bool {
        CreateTransferResult::is_transient(self)
    }

    fn is_id_already_failed(self) -> bool {
        self == Self::IdAlreadyFailed
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// One result per event; every `ok` got a timestamp later than everything before it.
fn check_results<E: Event>(
    events: &[E],
    results: &[E::Result],
    before: &Snapshot,
    after: &Snapshot,
) -> Check {
    prop_assert_eq!(results.len(), events.len());
    let mut last = before.clock;
    for (event, result) in events.iter().zip(results) {
        if *result == E::Result::OK {
            let at = event.stored_timestamp(after);
            prop_assert!(at.is_some_and(|at| at > last), "{:?} got {:?}", event, at);
            last = at.unwrap_or(last);
        }
    }
    prop_assert!(last <= after.clock, "clock {} behind {}", after.clock, last);
    Ok(())
}

/// Splits a batch into its chains (a chain ends at the first event without `linked`, or at
/// the end of the batch) and submits them one by one: the results and the final state must
/// be those of the whole batch, and every chain that failed must leave the state as it was.
fn check_chains<E: Event>(
    events: &[E],
    results: &[E::Result],
    before: &Snapshot,
    after: &Snapshot,
    now: u64,
) -> Check {
    let mut state = before.state();
    let mut chained = Vec::with_capacity(results.len());
    let mut rest = events;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|e| !e.is_linked())
            .map_or(rest.len(), |i| i + 1);
        let (chain, tail) = rest.split_at(end);
        rest = tail;
        let start = Snapshot::of(&state);
        let got = E::apply(&mut state, now, chain);
        if got.iter().any(|r| !r.succeeded()) {
            prop_assert!(
                got.iter().all(|r| !r.succeeded()),
                "chain half applied: {:?}",
                got
            );
            // A failed chain remembers its transient failures, and nothing else.
            let end_state = Snapshot {
                failed: start.failed.clone(),
                ..Snapshot::of(&state)
            };
            for (id, result) in &Snapshot::of(&state).failed {
                prop_assert!(
                    start.failed.get(id) == Some(result) || result.is_transient(),
                    "failure of {} remembered as {:?}",
                    id,
                    result
                );
            }
            prop_assert_eq!(
                &end_state,
                &start,
                "failed chain {:?} ({:?}) left an effect",
                chain,
                got
            );
        }
        chained.extend(got);
    }
    state.take_changes();
    prop_assert_eq!(&chained, &results.to_vec(), "chain by chain");
    prop_assert_eq!(&Snapshot::of(&state), after, "chain by chain");
    Ok(())
}

/// The change record is what the store writes: it must name every record that changed.
fn check_changes(before: &Snapshot, after: &Snapshot, changes: &Changes) -> Check {
    let created = |ids: Vec<(u64, u128)>| {
        let mut ids = ids;
        ids.sort_unstable();
        ids.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    let new_accounts = after
        .accounts
        .values()
        .filter(|a| !before.accounts.contains_key(&a.id));
    let new_accounts = created(new_accounts.map(|a| (a.timestamp, a.id)).collect());
    prop_assert_eq!(&changes.accounts_created, &new_accounts);
    let new_transfers = after
        .transfers
        .values()
        .filter(|t| !before.transfers.contains_key(&t.id));
    let new_transfers = created(new_transfers.map(|t| (t.timestamp, t.id)).collect());
    prop_assert_eq!(&changes.transfers_created, &new_transfers);
    for (id, old) in &before.accounts {
        let new = &after.accounts[id];
        prop_assert_eq!(new, &with_balances(old, new), "only balances may change");
        if balances(old) != balances(new) {
            prop_assert!(
                changes.accounts_updated.contains(id),
                "account {} not updated",
                id
            );
        }
    }
    for id in &changes.accounts_updated {
        prop_assert!(
            after.accounts.contains_key(id),
            "updated account {} missing",
            id
        );
    }
    for (id, old) in &before.transfers {
        prop_assert_eq!(
            Some(old),
            after.transfers.get(id),
            "a stored transfer changed"
        );
    }
    for (id, info) in &after.pending {
        if before.pending.get(id) != Some(info) {
            prop_assert!(
                changes.pending_updated.contains(id),
                "pending {} not updated",
                id
            );
        }
    }
    check_history(before, after, &changes.history)
}

/// One history row per account and instant, in time order, for `history` accounts only, the
/// last one holding the account's balances.
fn check_history(before: &Snapshot, after: &Snapshot, history: &[HistoryRow]) -> Check {
    let mut seen = HashSet::new();
    let mut last: HashMap<u128, &HistoryRow> = HashMap::new();
    for row in history {
        let account = after.accounts.get(&row.account_id);
        prop_assert!(account.is_some_and(|a| a.flags.contains(AccountFlags::HISTORY)));
        prop_assert!(
            seen.insert((row.account_id, row.timestamp)),
            "two history rows for account {} at {}: {:?}",
            row.account_id,
            row.timestamp,
            history
        );
        prop_assert!(row.timestamp > before.clock && row.timestamp <= after.clock);
        if let Some(previous) = last.insert(row.account_id, row) {
            prop_assert!(previous.timestamp < row.timestamp);
        }
    }
    for a in after.accounts.values() {
        if !a.flags.contains(AccountFlags::HISTORY) {
            continue;
        }
        let moved = before
            .accounts
            .get(&a.id)
            .is_some_and(|old| balances(old) != balances(a));
        match last.get(&a.id) {
            Some(row) => prop_assert_eq!(row_balances(row), balances(a)),
            None => prop_assert!(!moved, "account {} moved without a history row", a.id),
        }
    }
    Ok(())
}

/// The trial balance is zero per ledger, no limit is crossed, and the balances are what the
/// transfers add up to.
fn check_ledger(s: &Snapshot) -> Check {
    let mut totals: BTreeMap<u32, [u128; 4]> = BTreeMap::new();
    for a in s.accounts.values() {
        let [dp, dpo, cp, cpo] = balances(a).map(|f| u128::from(f.get()));
        let total = totals.entry(a.ledger).or_default();
        for (sum, value) in total.iter_mut().zip([dp, dpo, cp, cpo]) {
            *sum += value;
        }
        if a.flags
            .contains(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
        {
            prop_assert!(
                dp + dpo <= cpo,
                "account {:?} has more debits than credits",
                a
            );
        }
        if a.flags
            .contains(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
        {
            prop_assert!(
                cp + cpo <= dpo,
                "account {:?} has more credits than debits",
                a
            );
        }
    }
    for (ledger, [dp, dpo, cp, cpo]) in totals {
        prop_assert_eq!(dp, cp, "pending trial balance of ledger {}", ledger);
        prop_assert_eq!(dpo, cpo, "posted trial balance of ledger {}", ledger);
    }
    let status = |t: &Transfer| s.pending.get(&t.id).map(|p| p.status);
    let violations = verify(
        s.accounts.values(),
        s.transfers.values().map(|t| (t, status(t))),
    );
    prop_assert_eq!(violations, vec![]);
    Ok(())
}

/// Submits the batches of `history` again, after everything that followed them:
/// - the events that succeeded, alone, must all answer `exists` and change nothing at all;
/// - in full, each event that succeeded answers `exists`, each stable failure answers the
///   same again (or `linked_event_failed`), each transient failure `id_already_failed` (or
///   `linked_event_failed`), and the ledger is exactly as before: re-submitting any prefix of
///   the history changes nothing, not even the clock.
fn check_replay(after: &Snapshot, history: &[Batch], now: u64) -> Check {
    let mut states = Replay {
        full: after.state(),
        succeeded: after.state(),
        failed: after.state(),
    };
    for batch in history {
        match batch {
            Batch::Accounts(events, results) => states.batch(now, events, results)?,
            Batch::Transfers(events, results) => states.batch(now, events, results)?,
        }
    }
    prop_assert_eq!(
        &Snapshot::of(&states.succeeded),
        after,
        "replaying successes changed the ledger"
    );
    prop_assert_eq!(Snapshot::of(&states.full), Snapshot::of(&states.failed));
    // Nothing moves; the only thing a replay may add is the memory of a transient failure
    // (an event first skipped as `linked_event_failed` may be evaluated this time).
    let replayed = Snapshot::of(&states.full);
    for (id, result) in &replayed.failed {
        prop_assert!(after.failed.get(id) == Some(result) || result.is_transient());
    }
    let replayed = Snapshot {
        failed: after.failed.clone(),
        ..replayed
    };
    prop_assert_eq!(&replayed, after, "replaying the history changed the ledger");
    Ok(())
}

struct Replay {
    full: State,
    succeeded: State,
    failed: State,
}

impl Replay {
    fn batch<E: Event>(&mut self, now: u64, events: &[E], results: &[E::Result]) -> Check {
        let again = E::apply(&mut self.full, now, events);
        for ((event, first), second) in events.iter().zip(results).zip(&again) {
            if first.succeeded() {
                prop_assert_eq!(*second, E::Result::EXISTS, "{:?} submitted again", event);
            } else if first.is_transient() {
                prop_assert!(
                    second.is_id_already_failed() || *second == E::Result::LINKED_EVENT_FAILED,
                    "{:?} first {:?}, then {:?}",
                    event,
                    first,
                    second
                );
            } else if E::Result::STABLE.contains(first) {
                prop_assert!(
                    second == first || *second == E::Result::LINKED_EVENT_FAILED,
                    "{:?} first {:?}, then {:?}",
                    event,
                    first,
                    second
                );
            }
        }
        let (ok, failed): (Vec<_>, Vec<_>) = events
            .iter()
            .zip(results.iter().zip(again))
            .partition(|(_, (r, _))| r.succeeded());
        let ok: Vec<E> = ok.into_iter().map(|(e, _)| e.clone()).collect();
        let exists = E::apply(&mut self.succeeded, now, &ok);
        prop_assert!(
            exists.iter().all(|r| *r == E::Result::EXISTS),
            "{:?}",
            exists
        );
        prop_assert!(self.succeeded.take_changes().is_empty());
        let (failed, expected): (Vec<E>, Vec<E::Result>) = failed
            .into_iter()
            .map(|(e, (_, second))| (e.clone(), second))
            .unzip();
        prop_assert_eq!(E::apply(&mut self.failed, now, &failed), expected);
        self.full.take_changes();
        self.failed.take_changes();
        Ok(())
    }
}

fn balances(a: &Account) -> [Fen; 4] {
    [
        a.debits_pending,
        a.debits_posted,
        a.credits_pending,
        a.credits_posted,
    ]
}

fn row_balances(row: &HistoryRow) -> [Fen; 4] {
    [
        row.debits_pending,
        row.debits_posted,
        row.credits_pending,
        row.credits_posted,
    ]
}

/// `old` with the balances of `new`: everything but the balances must stay as created.
fn with_balances(old: &Account, new: &Account) -> Account {
    Account {
        debits_pending: new.debits_pending,
        debits_posted: new.debits_posted,
        credits_pending: new.credits_pending,
        credits_posted: new.credits_posted,
        ..old.clone()
    }
}
