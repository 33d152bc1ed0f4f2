//! Applying batches of account and transfer events to an in-memory working set.
//!
//! The store loads every record a batch can touch into a [`State`]; the engine validates each
//! event in a fixed order of checks, applies it, and notes what changed in [`Changes`].
//! Linked chains are undone through an undo log, so a failed chain leaves no trace.

use crate::types::ID_INT_MAX;
use crate::{
    Account, AccountFlags, CreateAccountResult, CreateTransferResult, Fen, PendingInfo,
    PendingStatus, Transfer, TransferFlags,
};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Maps and sets keyed by 128-bit ids. foldhash is several times faster than the standard
/// SipHash on these keys and, seeded per process, still resists crafted collisions.
pub type IdMap<V> = std::collections::HashMap<u128, V, foldhash::fast::RandomState>;
pub type IdSet = std::collections::HashSet<u128, foldhash::fast::RandomState>;

/// A balance snapshot of a `history` account, taken after a transfer or expiry touched it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub account_id: u128,
    pub timestamp: u64,
    pub debits_pending: Fen,
    pub debits_posted: Fen,
    pub credits_pending: Fen,
    pub credits_posted: Fen,
}

/// What the events applied since the last [`State::take_changes`] changed; the store writes
/// exactly this.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// Accounts created, in creation order.
    pub accounts_created: Vec<u128>,
    /// Existing accounts whose balances may have changed (a superset: an account whose change
    /// was undone by a failed chain may be listed; writing its restored value is harmless).
    pub accounts_updated: IdSet,
    /// Transfers created, in timestamp order.
    pub transfers_created: Vec<u128>,
    /// Pending transfers whose [`PendingInfo`] was created or changed. An id that is no longer
    /// in [`State::pending`] was created and then undone, and must not be written.
    pub pending_updated: IdSet,
    pub history: Vec<HistoryRow>,
    /// Transfers that failed for a reason that depends on the ledger's state, in order.
    pub transfers_failed: Vec<(u128, CreateTransferResult)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.accounts_created.is_empty()
            && self.accounts_updated.is_empty()
            && self.transfers_created.is_empty()
            && self.pending_updated.is_empty()
            && self.history.is_empty()
            && self.transfers_failed.is_empty()
    }
}

enum Undo {
    AccountCreated(u128),
    AccountBalances(u128, [Fen; 4]),
    TransferCreated(u128),
    Pending(u128, Option<PendingInfo>),
}

#[derive(Clone, Copy)]
struct Mark {
    clock: u64,
    undo: usize,
    accounts_created: usize,
    transfers_created: usize,
    history: usize,
}

/// The working set of one batch (the store may keep `accounts` between batches when it is the
/// only writer) and the engine that applies events to it.
#[derive(Default)]
pub struct State {
    pub accounts: IdMap<Account>,
    /// Transfers looked up by id: those the batch's ids and pending ids name, plus the ones it
    /// creates.
    pub transfers: IdMap<Transfer>,
    /// The state of the pending transfers in `transfers`.
    pub pending: IdMap<PendingInfo>,
    /// Ids of transfers that failed for a transient reason (see
    /// [`CreateTransferResult::is_transient`]), looked up like `transfers`. Such an id stays
    /// failed: sending it again answers `id_already_failed`, so a retried request never moves
    /// money that its first attempt did not.
    pub failed: IdMap<CreateTransferResult>,
    /// The last timestamp assigned; every new account and transfer gets a larger one.
    pub clock: u64,
    changes: Changes,
    undo: Vec<Undo>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("accounts", &self.accounts.len())
            .field("transfers", &self.transfers.len())
            .field("pending", &self.pending.len())
            .field("clock", &self.clock)
            .finish()
    }
}

impl State {
    pub fn new(clock: u64) -> State {
        State {
            clock,
            ..State::default()
        }
    }

    /// Hands over the changes made so far and starts a new, empty record.
    pub fn take_changes(&mut self) -> Changes {
        self.undo.clear();
        std::mem::take(&mut self.changes)
    }

    /// Creates accounts; `now` is the caller's clock in nanoseconds since the epoch.
    pub fn create_accounts(&mut self, now: u64, events: &[Account]) -> Vec<CreateAccountResult> {
        use CreateAccountResult as R;
        self.apply_chained(
            events,
            |a| a.flags.contains(AccountFlags::LINKED),
            (R::LinkedEventFailed, R::LinkedEventChainOpen),
            R::is_success,
            |state, a| state.create_account(now, a),
        )
    }

    /// Creates transfers; `now` is the caller's clock in nanoseconds since the epoch.
    pub fn create_transfers(&mut self, now: u64, events: &[Transfer]) -> Vec<CreateTransferResult> {
        use CreateTransferResult as R;
        self.apply_chained(
            events,
            |t| t.flags.contains(TransferFlags::LINKED),
            (R::LinkedEventFailed, R::LinkedEventChainOpen),
            R::is_success,
            |state, t| {
                let result = state.create_transfer(now, t);
                if result.is_transient() {
                    state.remember_failure(t.id, result);
                }
                result
            },
        )
    }

    /// Expires the pending transfers among `ids` whose timeout has passed at `now`, releasing
    /// their reserved amounts. The store loads these transfers and their accounts first.
    /// Returns how many expired.
    pub fn expire_pending(&mut self, now: u64, ids: &[u128]) -> usize {
        let mut expired = 0;
        for id in ids {
            let Some(info) = self.pending.get(id).copied() else {
                continue;
            };
            if info.status != PendingStatus::Pending
                || info.expires_at == 0
                || info.expires_at > now
            {
                continue;
            }
            let Some(p) = self.transfers.get(id).cloned() else {
                continue;
            };
            let ts = self.next_timestamp(now);
            self.release_pending(&p, None, ts);
            self.set_pending(
                p.id,
                PendingInfo {
                    status: PendingStatus::Expired,
                    ..info
                },
            );
            self.clock = ts;
            expired += 1;
        }
        self.undo.clear();
        expired
    }

    fn apply_chained<E, R: Copy>(
        &mut self,
        events: &[E],
        is_linked: impl Fn(&E) -> bool,
        (failed, open): (R, R),
        is_success: impl Fn(R) -> bool,
        mut apply_one: impl FnMut(&mut State, &E) -> R,
    ) -> Vec<R> {
        let mut results: Vec<R> = Vec::with_capacity(events.len());
        let mut chain: Option<(usize, Mark)> = None;
        let mut chain_failed = false;
        for (index, event) in events.iter().enumerate() {
            let linked = is_linked(event);
            if chain.is_none() && linked {
                chain = Some((index, self.mark()));
                chain_failed = false;
            }
            let result = if chain_failed {
                failed
            } else if linked && index + 1 == events.len() {
                open
            } else {
                apply_one(self, event)
            };
            if let Some((start, mark)) = chain
                && !chain_failed
                && !is_success(result)
            {
                self.rollback(mark);
                results[start..index].iter_mut().for_each(|r| *r = failed);
                chain_failed = true;
            }
            results.push(result);
            if !linked {
                // The chain (or single event) ends here; the next event starts afresh.
                chain = None;
                chain_failed = false;
                self.undo.clear();
            }
        }
        results
    }

    /// Records a transient failure. It is not part of the undo log: a chain that fails
    /// because of this event still remembers that the event failed.
    fn remember_failure(&mut self, id: u128, result: CreateTransferResult) {
        if id != 0 && id != ID_INT_MAX && self.failed.insert(id, result).is_none() {
            self.changes.transfers_failed.push((id, result));
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            clock: self.clock,
            undo: self.undo.len(),
            accounts_created: self.changes.accounts_created.len(),
            transfers_created: self.changes.transfers_created.len(),
            history: self.changes.history.len(),
        }
    }

    fn rollback(&mut self, mark: Mark) {
        while self.undo.len() > mark.undo {
            match self.undo.pop() {
                Some(Undo::AccountCreated(id)) => {
                    self.accounts.remove(&id);
                }
                Some(Undo::AccountBalances(id, [dp, dpo, cp, cpo])) => {
                    if let Some(a) = self.accounts.get_mut(&id) {
                        (a.debits_pending, a.debits_posted) = (dp, dpo);
                        (a.credits_pending, a.credits_posted) = (cp, cpo);
                    }
                }
                Some(Undo::TransferCreated(id)) => {
                    self.transfers.remove(&id);
                }
                Some(Undo::Pending(id, Some(info))) => {
                    self.pending.insert(id, info);
                }
                Some(Undo::Pending(id, None)) => {
                    self.pending.remove(&id);
                }
                None => break,
            }
        }
        // Timestamps of undone events are given out again, so a failed chain leaves no trace.
        self.clock = mark.clock;
        self.changes
            .accounts_created
            .truncate(mark.accounts_created);
        self.changes
            .transfers_created
            .truncate(mark.transfers_created);
        self.changes.history.truncate(mark.history);
    }

    fn next_timestamp(&self, now: u64) -> u64 {
        now.max(self.clock + 1)
    }

    fn create_account(&mut self, now: u64, a: &Account) -> CreateAccountResult {
        use CreateAccountResult as R;
        if a.id == 0 {
            return R::IdMustNotBeZero;
        }
        if a.id == ID_INT_MAX {
            return R::IdMustNotBeIntMax;
        }
        if a.flags
            .contains(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && a.flags
                .contains(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
        {
            return R::FlagsAreMutuallyExclusive;
        }
        if a.ledger == 0 {
            return R::LedgerMustNotBeZero;
        }
        if a.code == 0 {
            return R::CodeMustNotBeZero;
        }
        if let Some(e) = self.accounts.get(&a.id) {
            return account_exists(a, e);
        }
        let ts = self.next_timestamp(now);
        let account = Account {
            debits_pending: Fen::ZERO,
            debits_posted: Fen::ZERO,
            credits_pending: Fen::ZERO,
            credits_posted: Fen::ZERO,
            timestamp: ts,
            ..a.clone()
        };
        self.accounts.insert(a.id, account);
        self.undo.push(Undo::AccountCreated(a.id));
        self.changes.accounts_created.push(a.id);
        self.clock = ts;
        R::Ok
    }
}

fn account_exists(a: &Account, e: &Account) -> CreateAccountResult {
    use CreateAccountResult as R;
    if a.flags != e.flags {
        R::ExistsWithDifferentFlags
    } else if a.user_data_128 != e.user_data_128 {
        R::ExistsWithDifferentUserData128
    } else if a.user_data_64 != e.user_data_64 {
        R::ExistsWithDifferentUserData64
    } else if a.user_data_32 != e.user_data_32 {
        R::ExistsWithDifferentUserData32
    } else if a.ledger != e.ledger {
        R::ExistsWithDifferentLedger
    } else if a.code != e.code {
        R::ExistsWithDifferentCode
    } else if a.owner != e.owner {
        R::ExistsWithDifferentOwner
    } else {
        R::Exists
    }
}

mod transfer;
