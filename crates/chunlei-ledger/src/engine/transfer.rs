//! Transfer creation: plain, pending, post, void and balancing transfers.

use super::{HistoryRow, NANOS_PER_SECOND, State, Undo};
use crate::types::ID_INT_MAX;
use crate::{
    AccountFlags, CreateTransferResult as R, Fen, PendingInfo, PendingStatus, Transfer,
    TransferFlags as F,
};

/// Which balance field of an account a change moves.
#[derive(Clone, Copy)]
enum Side {
    DebitsPending,
    DebitsPosted,
    CreditsPending,
    CreditsPosted,
}

impl State {
    pub(super) fn create_transfer(&mut self, now: u64, t: &Transfer) -> R {
        if t.id == 0 {
            return R::IdMustNotBeZero;
        }
        if t.id == ID_INT_MAX {
            return R::IdMustNotBeIntMax;
        }
        let pending = t.flags.contains(F::PENDING);
        let post = t.flags.contains(F::POST_PENDING_TRANSFER);
        let void = t.flags.contains(F::VOID_PENDING_TRANSFER);
        let balancing =
            t.flags.contains(F::BALANCING_DEBIT) || t.flags.contains(F::BALANCING_CREDIT);
        if u8::from(pending) + u8::from(post) + u8::from(void) > 1 || (balancing && (post || void))
        {
            return R::FlagsAreMutuallyExclusive;
        }
        if post || void {
            return self.resolve_pending(now, t, post);
        }
        if let Some(r) = check_plain_fields(t, pending) {
            return r;
        }
        if let Some(e) = self.transfers.get(&t.id) {
            return transfer_exists(t, e);
        }
        if self.failed.contains_key(&t.id) {
            return R::IdAlreadyFailed;
        }
        let Some(dr) = self.accounts.get(&t.debit_account_id) else {
            return R::DebitAccountNotFound;
        };
        let Some(cr) = self.accounts.get(&t.credit_account_id) else {
            return R::CreditAccountNotFound;
        };
        if dr.ledger != cr.ledger {
            return R::AccountsMustHaveTheSameLedger;
        }
        if t.ledger != dr.ledger {
            return R::TransferMustHaveTheSameLedgerAsAccounts;
        }
        if dr.flags.contains(AccountFlags::CLOSED) {
            return R::DebitAccountAlreadyClosed;
        }
        if cr.flags.contains(AccountFlags::CLOSED) {
            return R::CreditAccountAlreadyClosed;
        }
        let mut amount = t.amount;
        // A balancing transfer that finds nothing to move succeeds with amount 0, as in
        // TigerBeetle: a chain can then take "whatever is left" from several accounts in turn
        // (see the settlement flows' recovery of an advance).
        if t.flags.contains(F::BALANCING_DEBIT) {
            let used = dr
                .debits_posted
                .checked_add(dr.debits_pending)
                .unwrap_or(Fen::MAX);
            amount = amount.min(dr.credits_posted.saturating_sub(used));
        }
        if t.flags.contains(F::BALANCING_CREDIT) {
            let used = cr
                .credits_posted
                .checked_add(cr.credits_pending)
                .unwrap_or(Fen::MAX);
            amount = amount.min(cr.debits_posted.saturating_sub(used));
        }
        let (dr_side, cr_side) = if pending {
            (Side::DebitsPending, Side::CreditsPending)
        } else {
            (Side::DebitsPosted, Side::CreditsPosted)
        };
        if get(dr, dr_side).checked_add(amount).is_none() {
            return if pending {
                R::OverflowsDebitsPending
            } else {
                R::OverflowsDebitsPosted
            };
        }
        if get(cr, cr_side).checked_add(amount).is_none() {
            return if pending {
                R::OverflowsCreditsPending
            } else {
                R::OverflowsCreditsPosted
            };
        }
        let dr_total = dr
            .debits_pending
            .checked_add(dr.debits_posted)
            .and_then(|d| d.checked_add(amount));
        let Some(dr_total) = dr_total else {
            return R::OverflowsDebits;
        };
        let cr_total = cr
            .credits_pending
            .checked_add(cr.credits_posted)
            .and_then(|c| c.checked_add(amount));
        let Some(cr_total) = cr_total else {
            return R::OverflowsCredits;
        };
        let ts = self.next_timestamp(now);
        let expires_at = if pending && t.timeout_s > 0 {
            match ts.checked_add(u64::from(t.timeout_s) * NANOS_PER_SECOND) {
                Some(at) => at,
                None => return R::OverflowsTimeout,
            }
        } else {
            0
        };
        if dr
            .flags
            .contains(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && dr_total > dr.credits_posted
        {
            return R::ExceedsCredits;
        }
        if cr
            .flags
            .contains(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
            && cr_total > cr.debits_posted
        {
            return R::ExceedsDebits;
        }
        self.add(t.debit_account_id, dr_side, amount, ts);
        self.add(t.credit_account_id, cr_side, amount, ts);
        if pending {
            self.set_pending(
                t.id,
                PendingInfo {
                    status: PendingStatus::Pending,
                    expires_at,
                },
            );
        }
        self.record(Transfer {
            amount,
            timestamp: ts,
            ..t.clone()
        });
        R::Ok
    }

    /// Posts or voids the pending transfer `t.pending_id`.
    fn resolve_pending(&mut self, now: u64, t: &Transfer, post: bool) -> R {
        if t.pending_id == 0 {
            return R::PendingIdMustNotBeZero;
        }
        if t.pending_id == ID_INT_MAX {
            return R::PendingIdMustNotBeIntMax;
        }
        if t.pending_id == t.id {
            return R::PendingIdMustBeDifferent;
        }
        if t.timeout_s != 0 {
            return R::TimeoutReservedForPendingTransfer;
        }
        if let Some(e) = self.transfers.get(&t.id) {
            return transfer_exists(t, e);
        }
        if self.failed.contains_key(&t.id) {
            return R::IdAlreadyFailed;
        }
        let Some(p) = self.transfers.get(&t.pending_id) else {
            return R::PendingTransferNotFound;
        };
        if !p.flags.contains(F::PENDING) {
            return R::PendingTransferNotPending;
        }
        if t.debit_account_id != 0 && t.debit_account_id != p.debit_account_id {
            return R::PendingTransferHasDifferentDebitAccountId;
        }
        if t.credit_account_id != 0 && t.credit_account_id != p.credit_account_id {
            return R::PendingTransferHasDifferentCreditAccountId;
        }
        if t.ledger != 0 && t.ledger != p.ledger {
            return R::PendingTransferHasDifferentLedger;
        }
        if t.code != 0 && t.code != p.code {
            return R::PendingTransferHasDifferentCode;
        }
        let amount = if t.amount.is_zero() {
            p.amount
        } else {
            t.amount
        };
        if amount > p.amount {
            return R::ExceedsPendingTransferAmount;
        }
        if !post && amount != p.amount {
            return R::PendingTransferHasDifferentAmount;
        }
        let ts = self.next_timestamp(now);
        let Some(info) = self.pending.get(&t.pending_id).copied() else {
            // A pending transfer always has its state loaded with it; without one the store
            // broke its contract, and refusing is the only safe answer.
            return R::PendingTransferNotFound;
        };
        match info.status {
            PendingStatus::Pending if info.expires_at != 0 && info.expires_at <= ts => {
                return R::PendingTransferExpired;
            }
            PendingStatus::Pending => {}
            PendingStatus::Posted => return R::PendingTransferAlreadyPosted,
            PendingStatus::Voided => return R::PendingTransferAlreadyVoided,
            PendingStatus::Expired => return R::PendingTransferExpired,
        }
        let p = p.clone();
        if post {
            let (Some(dr), Some(cr)) = (
                self.accounts.get(&p.debit_account_id),
                self.accounts.get(&p.credit_account_id),
            ) else {
                return R::PendingTransferNotFound;
            };
            if dr.debits_posted.checked_add(amount).is_none() {
                return R::OverflowsDebitsPosted;
            }
            if cr.credits_posted.checked_add(amount).is_none() {
                return R::OverflowsCreditsPosted;
            }
        }
        self.release_pending(&p, post.then_some(amount), ts);
        let status = if post {
            PendingStatus::Posted
        } else {
            PendingStatus::Voided
        };
        self.set_pending(p.id, PendingInfo { status, ..info });
        self.record(Transfer {
            id: t.id,
            debit_account_id: p.debit_account_id,
            credit_account_id: p.credit_account_id,
            amount,
            pending_id: p.id,
            user_data_128: if t.user_data_128 == 0 {
                p.user_data_128
            } else {
                t.user_data_128
            },
            user_data_64: if t.user_data_64 == 0 {
                p.user_data_64
            } else {
                t.user_data_64
            },
            user_data_32: if t.user_data_32 == 0 {
                p.user_data_32
            } else {
                t.user_data_32
            },
            timeout_s: 0,
            ledger: p.ledger,
            code: p.code,
            flags: t.flags,
            timestamp: ts,
        });
        R::Ok
    }

    /// Takes the pending amount of `p` off both accounts and, for a post, adds `posted`.
    pub(super) fn release_pending(&mut self, p: &Transfer, posted: Option<Fen>, ts: u64) {
        self.sub(p.debit_account_id, Side::DebitsPending, p.amount, ts);
        self.sub(p.credit_account_id, Side::CreditsPending, p.amount, ts);
        if let Some(amount) = posted {
            self.add(p.debit_account_id, Side::DebitsPosted, amount, ts);
            self.add(p.credit_account_id, Side::CreditsPosted, amount, ts);
        }
    }

    pub(super) fn set_pending(&mut self, id: u128, info: PendingInfo) {
        let old = self.pending.insert(id, info);
        self.undo.push(Undo::Pending(id, old));
        self.changes.pending_updated.insert(id);
    }

    fn record(&mut self, t: Transfer) {
        self.clock = t.timestamp;
        self.undo.push(Undo::TransferCreated(t.id));
        self.changes.transfers_created.push(t.id);
        self.transfers.insert(t.id, t);
    }

    fn add(&mut self, id: u128, side: Side, amount: Fen, ts: u64) {
        self.change(id, ts, |balance| balance.checked_add(amount), side);
    }

    fn sub(&mut self, id: u128, side: Side, amount: Fen, ts: u64) {
        self.change(id, ts, |balance| balance.checked_sub(amount), side);
    }

    /// Applies one balance change that the caller has already checked cannot overflow.
    fn change(&mut self, id: u128, ts: u64, op: impl Fn(Fen) -> Option<Fen>, side: Side) {
        let Some(a) = self.accounts.get_mut(&id) else {
            unreachable!("account {id} was checked to exist before the change");
        };
        self.undo.push(Undo::AccountBalances(
            id,
            [
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            ],
        ));
        let field = match side {
            Side::DebitsPending => &mut a.debits_pending,
            Side::DebitsPosted => &mut a.debits_posted,
            Side::CreditsPending => &mut a.credits_pending,
            Side::CreditsPosted => &mut a.credits_posted,
        };
        let Some(value) = op(*field) else {
            unreachable!("balance change on account {id} was checked not to overflow");
        };
        *field = value;
        self.changes.accounts_updated.insert(id);
        if a.flags.contains(AccountFlags::HISTORY) {
            let row = HistoryRow {
                account_id: id,
                timestamp: ts,
                debits_pending: a.debits_pending,
                debits_posted: a.debits_posted,
                credits_pending: a.credits_pending,
                credits_posted: a.credits_posted,
            };
            // One row per account and timestamp: a later change by the same event (a post
            // releases the pending amount, then adds the posted one) replaces it. The rows of
            // this timestamp are the last ones, since timestamps only grow.
            let same = self
                .changes
                .history
                .iter_mut()
                .rev()
                .take_while(|r| r.timestamp == ts)
                .find(|r| r.account_id == id);
            match same {
                Some(earlier) => *earlier = row,
                None => self.changes.history.push(row),
            }
        }
    }
}

fn get(a: &crate::Account, side: Side) -> Fen {
    match side {
        Side::DebitsPending => a.debits_pending,
        Side::DebitsPosted => a.debits_posted,
        Side::CreditsPending => a.credits_pending,
        Side::CreditsPosted => a.credits_posted,
    }
}

/// The field checks of a plain or pending transfer that need no stored record.
fn check_plain_fields(t: &Transfer, pending: bool) -> Option<R> {
    let r = if t.debit_account_id == 0 {
        R::DebitAccountIdMustNotBeZero
    } else if t.debit_account_id == ID_INT_MAX {
        R::DebitAccountIdMustNotBeIntMax
    } else if t.credit_account_id == 0 {
        R::CreditAccountIdMustNotBeZero
    } else if t.credit_account_id == ID_INT_MAX {
        R::CreditAccountIdMustNotBeIntMax
    } else if t.debit_account_id == t.credit_account_id {
        R::AccountsMustBeDifferent
    } else if t.pending_id != 0 {
        R::PendingIdMustBeZero
    } else if !pending && t.timeout_s != 0 {
        R::TimeoutReservedForPendingTransfer
    } else if t.amount.is_zero() {
        R::AmountMustNotBeZero
    } else if t.ledger == 0 {
        R::LedgerMustNotBeZero
    } else if t.code == 0 {
        R::CodeMustNotBeZero
    } else {
        return None;
    };
    Some(r)
}

/// Compares a resubmitted transfer with the stored one. Fields a post or void may leave zero
/// (accounts, amount, ledger, code, user data) are compared only when given; a balancing
/// transfer's stored amount may be below the requested maximum.
fn transfer_exists(t: &Transfer, e: &Transfer) -> R {
    let resolves = t.resolves_pending();
    let differs = |given: u128, stored: u128| given != stored && !(resolves && given == 0);
    let balancing = t.flags.contains(F::BALANCING_DEBIT) || t.flags.contains(F::BALANCING_CREDIT);
    let amount_differs = if balancing {
        t.amount < e.amount
    } else {
        differs(u128::from(t.amount.get()), u128::from(e.amount.get()))
    };
    if t.flags != e.flags {
        R::ExistsWithDifferentFlags
    } else if differs(t.debit_account_id, e.debit_account_id) {
        R::ExistsWithDifferentDebitAccountId
    } else if differs(t.credit_account_id, e.credit_account_id) {
        R::ExistsWithDifferentCreditAccountId
    } else if amount_differs {
        R::ExistsWithDifferentAmount
    } else if t.pending_id != e.pending_id {
        R::ExistsWithDifferentPendingId
    } else if differs(t.user_data_128, e.user_data_128) {
        R::ExistsWithDifferentUserData128
    } else if differs(u128::from(t.user_data_64), u128::from(e.user_data_64)) {
        R::ExistsWithDifferentUserData64
    } else if differs(u128::from(t.user_data_32), u128::from(e.user_data_32)) {
        R::ExistsWithDifferentUserData32
    } else if t.timeout_s != e.timeout_s {
        R::ExistsWithDifferentTimeout
    } else if differs(u128::from(t.ledger), u128::from(e.ledger)) {
        R::ExistsWithDifferentLedger
    } else if differs(u128::from(t.code), u128::from(e.code)) {
        R::ExistsWithDifferentCode
    } else {
        R::Exists
    }
}
