//! The money flows of the zero account period, as ledger transfers.
//!
//! Every flow is one linked chain: it moves all of its money or none. Limits that must hold
//! whatever else happens are balance-limit flags on accounts, checked by the ledger inside the
//! chain, not by reading balances first:
//!
//! - the advance pool (`debits_must_not_exceed_credits`) can pay out only what the programme
//!   funded into it: the pool cap;
//! - a merchant's exposure headroom (`debits_must_not_exceed_credits`) is funded with the
//!   merchant's cap; an advance moves its gross amount from headroom to exposure-used and the
//!   buyer's confirmation moves it back, so outstanding advances can never pass the cap.
//!
//! Transfer ids come from the caller (one base id per event, see [`Ids`]), so a replayed event
//! produces the same transfers and the ledger answers `exists` instead of moving money twice.

use chunlei_ledger::{Account, AccountFlags, Fen, Transfer, TransferFlags};

use crate::FeeQuote;

/// Account codes of the settlement chart of accounts.
pub mod code {
    /// Money arriving from buyers through the payment processor (an external mirror).
    pub const BUYER_CLEARING: u16 = 1;
    /// Buyers' money held until confirmation: the advance's collateral.
    pub const ESCROW: u16 = 2;
    /// Funds the programme advances from.
    pub const ADVANCE_POOL: u16 = 3;
    /// Where the programme's funding comes from (an external mirror).
    pub const POOL_FUNDING: u16 = 4;
    pub const FEE_REVENUE: u16 = 5;
    /// Loan repayments withheld from settlements, on their way to the lending banks.
    pub const LOAN_WITHHOLDING: u16 = 6;
    /// Passes money through within one chain so that later legs can take "what is left";
    /// every chain leaves it at zero.
    pub const CLEARING: u16 = 7;
    /// Payouts on their way to merchants' banks (an external mirror): pending until the bank
    /// confirms.
    pub const PAYOUTS: u16 = 8;
    /// What the merchant can pay out.
    pub const MERCHANT_AVAILABLE: u16 = 10;
    /// The rolling reserve held back from the merchant.
    pub const MERCHANT_RESERVE: u16 = 11;
    /// Room left under the merchant's exposure cap.
    pub const EXPOSURE_HEADROOM: u16 = 12;
    /// Advances outstanding for the merchant.
    pub const EXPOSURE_USED: u16 = 13;
    /// Where a merchant's cap comes from: its debit balance is the cap granted.
    pub const EXPOSURE_CAP: u16 = 14;
    /// What the merchant owes after a clawback its balances could not cover; recovered first
    /// from later settlements.
    pub const MERCHANT_RECEIVABLE: u16 = 15;
}

/// Transfer codes: why money moved.
pub mod reason {
    pub const ORDER_PAID: u16 = 101;
    pub const ADVANCE: u16 = 102;
    pub const FEE: u16 = 103;
    pub const RESERVE: u16 = 104;
    pub const WITHHOLDING: u16 = 105;
    pub const EXPOSURE: u16 = 106;
    pub const ADVANCE_REPAID: u16 = 107;
    pub const SETTLEMENT: u16 = 108;
    pub const REFUND: u16 = 109;
    pub const POOL_FUNDED: u16 = 110;
    pub const CAP_SET: u16 = 111;
    pub const CLAWBACK: u16 = 112;
    pub const RECEIVABLE_RECOVERED: u16 = 113;
    pub const PAYOUT: u16 = 114;
    pub const RESERVE_RELEASED: u16 = 115;
}

/// The platform's accounts in one ledger (currency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformAccounts {
    pub ledger: u32,
    pub buyer_clearing: u128,
    pub escrow: u128,
    pub advance_pool: u128,
    pub pool_funding: u128,
    pub fee_revenue: u128,
    pub loan_withholding: u128,
    pub clearing: u128,
    pub payouts: u128,
}

/// One merchant's accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MerchantAccounts {
    pub available: u128,
    pub reserve: u128,
    pub exposure_headroom: u128,
    pub exposure_used: u128,
    pub exposure_cap: u128,
    pub receivable: u128,
}

impl PlatformAccounts {
    /// The accounts to create, with their limit flags.
    pub fn accounts(&self) -> Vec<Account> {
        let limited = AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS;
        vec![
            self.account(
                self.buyer_clearing,
                code::BUYER_CLEARING,
                AccountFlags::empty(),
            ),
            self.account(self.escrow, code::ESCROW, limited),
            self.account(self.advance_pool, code::ADVANCE_POOL, limited),
            self.account(self.pool_funding, code::POOL_FUNDING, AccountFlags::empty()),
            self.account(self.fee_revenue, code::FEE_REVENUE, limited),
            self.account(self.loan_withholding, code::LOAN_WITHHOLDING, limited),
            self.account(self.clearing, code::CLEARING, AccountFlags::empty()),
            self.account(self.payouts, code::PAYOUTS, AccountFlags::empty()),
        ]
    }

    /// A merchant's accounts, owned by the merchant.
    pub fn merchant_accounts(&self, merchant_id: &str, m: &MerchantAccounts) -> Vec<Account> {
        let limited = AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS;
        let owner = chunlei_ledger::Owner {
            kind: chunlei_ledger::OwnerKind::Merchant,
            id: merchant_id.to_owned(),
        };
        [
            (m.available, code::MERCHANT_AVAILABLE, limited),
            (m.reserve, code::MERCHANT_RESERVE, limited),
            (m.exposure_headroom, code::EXPOSURE_HEADROOM, limited),
            (m.exposure_used, code::EXPOSURE_USED, limited),
            (m.exposure_cap, code::EXPOSURE_CAP, AccountFlags::empty()),
            (
                m.receivable,
                code::MERCHANT_RECEIVABLE,
                AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS,
            ),
        ]
        .into_iter()
        .map(|(id, code, flags)| Account {
            owner: owner.clone(),
            ..self.account(id, code, flags)
        })
        .collect()
    }

    fn account(&self, id: u128, code: u16, flags: AccountFlags) -> Account {
        Account {
            flags,
            ..Account::new(id, self.ledger, code)
        }
    }
}

/// Transfer ids for one event: `base`, `base + 1`, … The caller derives `base` from the
/// event id, leaving room for every leg of a chain.
#[derive(Debug)]
pub struct Ids {
    next: u128,
}

impl Ids {
    /// Legs a single event's chain may use at most.
    pub const LEGS_MAX: u128 = 16;

    pub fn new(base: u128) -> Ids {
        Ids { next: base }
    }

    fn next(&mut self) -> u128 {
        let id = self.next;
        self.next += 1;
        id
    }
}

/// How one order's gross amount splits on settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub gross: Fen,
    pub fee: FeeQuote,
    pub withholding: Fen,
    pub reserve: Fen,
    /// What the merchant can pay out: gross − fee − withholding − reserve.
    pub net: Fen,
    /// Whether the merchant may owe a receivable, which the net pays first. When the caller
    /// knows it owes nothing, the net is paid in one leg instead of three.
    pub owes: bool,
}

/// Why an order cannot be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// Fee, withholding and reserve together exceed the order.
    DeductionsExceedGross,
}

impl Split {
    /// Splits `gross`. The reserve is `reserve_bps` of what is left after the fee and the
    /// withholding, rounded down to the fen (the merchant keeps the fraction).
    pub fn new(
        gross: Fen,
        fee: FeeQuote,
        withholding: Fen,
        reserve_bps: u32,
    ) -> Result<Split, SplitError> {
        let after = gross
            .checked_sub(fee.charged_fen)
            .and_then(|g| g.checked_sub(withholding))
            .ok_or(SplitError::DeductionsExceedGross)?;
        let reserve = u128::from(after.get()) * u128::from(reserve_bps.min(10_000)) / 10_000;
        let reserve = Fen::new(u64::try_from(reserve).unwrap_or(0)).unwrap_or(Fen::ZERO);
        let net = after
            .checked_sub(reserve)
            .ok_or(SplitError::DeductionsExceedGross)?;
        Ok(Split {
            gross,
            fee,
            withholding,
            reserve,
            net,
            owes: true,
        })
    }
}

/// `order.paid`: the buyer's money enters escrow.
pub fn paid(ids: &mut Ids, p: &PlatformAccounts, gross: Fen) -> Vec<Transfer> {
    chain(vec![leg(
        ids,
        p,
        p.buyer_clearing,
        p.escrow,
        gross,
        reason::ORDER_PAID,
    )])
}

/// `order.shipped` for an eligible order: the pool pays the merchant now — the fee to revenue,
/// the reserve and the loan withholding aside, the net to the merchant after what it owes —
/// and the gross amount is counted against the merchant's exposure cap. Fails whole with
/// `exceeds_credits` when the pool or the merchant's headroom cannot cover it.
pub fn advance(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    split: &Split,
) -> Vec<Transfer> {
    let mut legs = vec![
        leg(
            ids,
            p,
            m.exposure_headroom,
            m.exposure_used,
            split.gross,
            reason::EXPOSURE,
        ),
        leg(
            ids,
            p,
            p.advance_pool,
            p.fee_revenue,
            split.fee.charged_fen,
            reason::FEE,
        ),
        leg(
            ids,
            p,
            p.advance_pool,
            m.reserve,
            split.reserve,
            reason::RESERVE,
        ),
        leg(
            ids,
            p,
            p.advance_pool,
            p.loan_withholding,
            split.withholding,
            reason::WITHHOLDING,
        ),
    ];
    legs.extend(pay_merchant(
        ids,
        p,
        m,
        p.advance_pool,
        split.net,
        reason::ADVANCE,
        split.owes,
    ));
    chain(legs)
}

/// Pays `net` from `source` to the merchant, recovering what the merchant owes first: through
/// the clearing account, the receivable takes as much as is owed and available the rest. When
/// the merchant `owes` nothing, straight to available.
fn pay_merchant(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    source: u128,
    net: Fen,
    code: u16,
    owes: bool,
) -> Vec<Transfer> {
    if !owes {
        return vec![leg(ids, p, source, m.available, net, code)];
    }
    let both = TransferFlags::BALANCING_DEBIT.union(TransferFlags::BALANCING_CREDIT);
    vec![
        leg(ids, p, source, p.clearing, net, code),
        flagged(
            leg(
                ids,
                p,
                p.clearing,
                m.receivable,
                net,
                reason::RECEIVABLE_RECOVERED,
            ),
            both,
        ),
        flagged(
            leg(ids, p, p.clearing, m.available, net, code),
            TransferFlags::BALANCING_DEBIT,
        ),
    ]
}

/// `order.refunded` after the order was advanced and before it was confirmed: escrow pays
/// the buyer back, and the advance on the refunded amount is recovered for the pool (see
/// [`recover`]; at most `reserve_held` from the reserve). The refunded amount no longer
/// counts against the merchant's exposure.
pub fn claw_back(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    refund: Fen,
    reserve_held: Fen,
) -> Vec<Transfer> {
    let mut legs = vec![leg(
        ids,
        p,
        p.escrow,
        p.buyer_clearing,
        refund,
        reason::REFUND,
    )];
    legs.extend(recovery(
        ids,
        p,
        m,
        refund,
        reserve_held,
        p.advance_pool,
        reason::CLAWBACK,
    ));
    legs.push(leg(
        ids,
        p,
        m.exposure_used,
        m.exposure_headroom,
        refund,
        reason::EXPOSURE,
    ));
    chain(legs)
}

/// Takes `amount` from the merchant for `creditor`: from its available balance, then from
/// its reserve up to `reserve_held` (what is still held for the refunded order: another
/// order's hold is not the merchant's to give), and whatever is left becomes a receivable,
/// recovered first from later settlements. Used for a refund after the merchant was paid
/// (the creditor is the buyer).
pub fn recover(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    amount: Fen,
    reserve_held: Fen,
    creditor: u128,
) -> Vec<Transfer> {
    chain(recovery(
        ids,
        p,
        m,
        amount,
        reserve_held,
        creditor,
        reason::REFUND,
    ))
}

fn recovery(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    amount: Fen,
    reserve_held: Fen,
    creditor: u128,
    code: u16,
) -> Vec<Transfer> {
    let both = TransferFlags::BALANCING_DEBIT.union(TransferFlags::BALANCING_CREDIT);
    vec![
        leg(ids, p, p.clearing, creditor, amount, code),
        flagged(
            leg(ids, p, m.available, p.clearing, amount, reason::CLAWBACK),
            both,
        ),
        flagged(
            leg(
                ids,
                p,
                m.reserve,
                p.clearing,
                amount.min(reserve_held),
                reason::CLAWBACK,
            ),
            both,
        ),
        flagged(
            leg(ids, p, m.receivable, p.clearing, amount, reason::CLAWBACK),
            TransferFlags::BALANCING_CREDIT,
        ),
    ]
}

/// Releases up to `held` from the merchant's reserve (less if clawbacks used it) to the
/// merchant, paying what it owes first.
pub fn release_reserve(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    held: Fen,
) -> Vec<Transfer> {
    let mut legs = pay_merchant(ids, p, m, m.reserve, held, reason::RESERVE_RELEASED, true);
    if let Some(first) = legs.first_mut() {
        first.flags = first.flags.union(TransferFlags::BALANCING_DEBIT);
    }
    chain(legs)
}

/// A payout of `amount` from the merchant's available balance to its bank: pending until the
/// bank answers ([`finish_payout`]).
pub fn payout(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    amount: Fen,
) -> Vec<Transfer> {
    let t = leg(ids, p, m.available, p.payouts, amount, reason::PAYOUT);
    vec![flagged(t, TransferFlags::PENDING)]
}

/// Posts (the bank paid) or voids (the bank refused; the money is available again) the
/// pending payout `pending_id`. `flags` is `POST_PENDING_TRANSFER` or `VOID_PENDING_TRANSFER`.
pub fn finish_payout(
    ids: &mut Ids,
    p: &PlatformAccounts,
    pending_id: u128,
    flags: TransferFlags,
) -> Vec<Transfer> {
    let mut t = Transfer::new(ids.next(), 0, 0, Fen::ZERO);
    t.pending_id = pending_id;
    t.ledger = p.ledger;
    t.code = reason::PAYOUT;
    t.flags = flags;
    vec![t]
}

fn flagged(t: Transfer, flags: TransferFlags) -> Transfer {
    Transfer {
        flags: t.flags.union(flags),
        ..t
    }
}

/// `order.confirmed` for an advanced order: escrow repays the pool what is still in escrow
/// for the order (`outstanding`: paid minus refunded; a refund already clawed the rest back)
/// and the merchant's exposure on it is released.
pub fn repay_advance(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    outstanding: Fen,
) -> Vec<Transfer> {
    chain(vec![
        leg(
            ids,
            p,
            p.escrow,
            p.advance_pool,
            outstanding,
            reason::ADVANCE_REPAID,
        ),
        leg(
            ids,
            p,
            m.exposure_used,
            m.exposure_headroom,
            outstanding,
            reason::EXPOSURE,
        ),
    ])
}

/// `order.confirmed` for an order that was not advanced: escrow settles it, as marketplaces
/// normally do, paying what the merchant owes first.
pub fn settle(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    split: &Split,
) -> Vec<Transfer> {
    let mut legs = vec![
        leg(
            ids,
            p,
            p.escrow,
            p.fee_revenue,
            split.fee.charged_fen,
            reason::FEE,
        ),
        leg(ids, p, p.escrow, m.reserve, split.reserve, reason::RESERVE),
        leg(
            ids,
            p,
            p.escrow,
            p.loan_withholding,
            split.withholding,
            reason::WITHHOLDING,
        ),
    ];
    legs.extend(pay_merchant(
        ids,
        p,
        m,
        p.escrow,
        split.net,
        reason::SETTLEMENT,
        split.owes,
    ));
    chain(legs)
}

/// `order.refunded` or `order.cancelled` before any settlement: escrow pays the buyer back.
pub fn refund_from_escrow(ids: &mut Ids, p: &PlatformAccounts, amount: Fen) -> Vec<Transfer> {
    chain(vec![leg(
        ids,
        p,
        p.escrow,
        p.buyer_clearing,
        amount,
        reason::REFUND,
    )])
}

/// Funds the advance pool with `amount`: the programme-wide cap.
pub fn fund_pool(ids: &mut Ids, p: &PlatformAccounts, amount: Fen) -> Vec<Transfer> {
    chain(vec![leg(
        ids,
        p,
        p.pool_funding,
        p.advance_pool,
        amount,
        reason::POOL_FUNDED,
    )])
}

/// Raises a merchant's exposure cap by `amount`: headroom the advances can use.
pub fn raise_cap(
    ids: &mut Ids,
    p: &PlatformAccounts,
    m: &MerchantAccounts,
    amount: Fen,
) -> Vec<Transfer> {
    chain(vec![leg(
        ids,
        p,
        m.exposure_cap,
        m.exposure_headroom,
        amount,
        reason::CAP_SET,
    )])
}

fn leg(
    ids: &mut Ids,
    p: &PlatformAccounts,
    debit: u128,
    credit: u128,
    amount: Fen,
    code: u16,
) -> Transfer {
    let mut t = Transfer::new(ids.next(), debit, credit, amount);
    t.ledger = p.ledger;
    t.code = code;
    t
}

/// Drops legs of nothing (a fee of zero, no reserve) and links the rest into one chain.
fn chain(legs: Vec<Transfer>) -> Vec<Transfer> {
    let mut legs: Vec<Transfer> = legs.into_iter().filter(|t| !t.amount.is_zero()).collect();
    let last = legs.len().saturating_sub(1);
    for (i, t) in legs.iter_mut().enumerate() {
        if i < last {
            t.flags = t.flags.union(TransferFlags::LINKED);
        }
    }
    legs
}

#[cfg(test)]
mod tests;
