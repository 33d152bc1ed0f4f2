//! Recomputing every balance from the transfers, and the checks `ledger verify` reports.

use std::collections::BTreeMap;

use crate::{Account, AccountFlags, IdMap, IdSet, PendingStatus, Transfer, TransferFlags};

/// Balances summed from transfers, in `u128` so that no sum of valid amounts can overflow.
#[derive(Debug, Default)]
pub struct Recomputed {
    balances: IdMap<[u128; 4]>,
}

/// One way the stored ledger disagrees with itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A stored balance differs from the sum of the account's transfers.
    BalanceMismatch {
        account_id: u128,
        field: &'static str,
        stored: u128,
        recomputed: u128,
    },
    /// Debits and credits of one ledger do not sum to the same total.
    LedgerUnbalanced {
        ledger: u32,
        kind: &'static str,
        debits: u128,
        credits: u128,
    },
    /// An account's balance crosses the limit its flags set.
    LimitCrossed {
        account_id: u128,
        flag: &'static str,
    },
    /// Transfers move money on an account that is not stored.
    AccountMissing { account_id: u128 },
}

const FIELDS: [&str; 4] = [
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
];

impl Recomputed {
    /// Adds one stored transfer. `pending_status` is the state of the transfer itself when it
    /// is a pending transfer: only a transfer still pending holds its amount reserved.
    pub fn add_transfer(&mut self, t: &Transfer, pending_status: Option<PendingStatus>) {
        let amount = u128::from(t.amount.get());
        let (debit_field, credit_field) = if t.flags.contains(TransferFlags::PENDING) {
            if pending_status != Some(PendingStatus::Pending) {
                return;
            }
            (0, 2)
        } else if t.flags.contains(TransferFlags::VOID_PENDING_TRANSFER) {
            return;
        } else {
            (1, 3)
        };
        self.balances.entry(t.debit_account_id).or_default()[debit_field] += amount;
        self.balances.entry(t.credit_account_id).or_default()[credit_field] += amount;
    }

    /// Compares every stored account with the recomputed balances and checks the trial balance
    /// and the limit flags.
    pub fn check<'a>(self, accounts: impl IntoIterator<Item = &'a Account>) -> Vec<Violation> {
        let mut violations = Vec::new();
        let mut totals: BTreeMap<u32, [u128; 4]> = BTreeMap::new();
        let mut seen = IdSet::default();
        for a in accounts {
            seen.insert(a.id);
            let stored = [
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
            ]
            .map(|f| u128::from(f.get()));
            let recomputed = self.balances.get(&a.id).copied().unwrap_or_default();
            for (i, field) in FIELDS.iter().enumerate() {
                if stored[i] != recomputed[i] {
                    violations.push(Violation::BalanceMismatch {
                        account_id: a.id,
                        field,
                        stored: stored[i],
                        recomputed: recomputed[i],
                    });
                }
            }
            let total = totals.entry(a.ledger).or_default();
            (0..4).for_each(|i| total[i] += stored[i]);
            let [dp, dpo, cp, cpo] = stored;
            if a.flags
                .contains(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
                && dp + dpo > cpo
            {
                violations.push(Violation::LimitCrossed {
                    account_id: a.id,
                    flag: "debits_must_not_exceed_credits",
                });
            }
            if a.flags
                .contains(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
                && cp + cpo > dpo
            {
                violations.push(Violation::LimitCrossed {
                    account_id: a.id,
                    flag: "credits_must_not_exceed_debits",
                });
            }
        }
        for (ledger, [dp, dpo, cp, cpo]) in totals {
            if dp != cp {
                violations.push(Violation::LedgerUnbalanced {
                    ledger,
                    kind: "pending",
                    debits: dp,
                    credits: cp,
                });
            }
            if dpo != cpo {
                violations.push(Violation::LedgerUnbalanced {
                    ledger,
                    kind: "posted",
                    debits: dpo,
                    credits: cpo,
                });
            }
        }
        let mut missing: Vec<u128> = self
            .balances
            .keys()
            .filter(|id| !seen.contains(*id))
            .copied()
            .collect();
        missing.sort_unstable();
        violations.extend(
            missing
                .into_iter()
                .map(|account_id| Violation::AccountMissing { account_id }),
        );
        violations
    }
}

/// Recomputes and checks a whole ledger held in memory (tests and small ledgers; the store
/// streams large ones through [`Recomputed`]).
pub fn verify<'a>(
    accounts: impl IntoIterator<Item = &'a Account>,
    transfers: impl IntoIterator<Item = (&'a Transfer, Option<PendingStatus>)>,
) -> Vec<Violation> {
    let mut recomputed = Recomputed::default();
    for (t, status) in transfers {
        recomputed.add_transfer(t, status);
    }
    recomputed.check(accounts)
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::BalanceMismatch {
                account_id,
                field,
                stored,
                recomputed,
            } => write!(
                f,
                "account {account_id}: {field} is {stored} but its transfers sum to {recomputed}"
            ),
            Violation::LedgerUnbalanced {
                ledger,
                kind,
                debits,
                credits,
            } => write!(
                f,
                "ledger {ledger}: {kind} debits total {debits} but {kind} credits total {credits}"
            ),
            Violation::LimitCrossed { account_id, flag } => {
                write!(f, "account {account_id}: balance crosses its {flag} limit")
            }
            Violation::AccountMissing { account_id } => {
                write!(f, "account {account_id} has transfers but does not exist")
            }
        }
    }
}
