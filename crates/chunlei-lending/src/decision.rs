//! The loan decision of a contactless "310" loan: a merchant's platform figures, its
//! scorecard score and the policies of the partner banks in, one [`Decision`] out, with no
//! person in the loop. Pure like the rest of the crate: no IO, no clock (the application's
//! time is part of the [`Application`]), no randomness, so the same inputs always give the same
//! decision and an auditor can replay any of them.
//!
//! # Steps
//!
//! 1. **Features** ([`Features`]): the merchant's figures as plain numbers from the platform.
//!    [`Features::record`] turns them into a scorecard record (column → text, the columns
//!    below), which a `chunlei_scorecard::Scorecard` trained on those columns scores; the
//!    caller scores it and passes the score and the scorecard's principal reasons in.
//! 2. **Knock-outs** ([`KnockoutRules`]): hard rules checked before anything else (fraud flag,
//!    arrears now or in the last 12 months, too new, no sales, too few active days, refunds).
//!    Any knock-out declines at once; no bank is asked.
//! 3. **Grade and size** ([`GradeGrid`], [`Sizing`]): the score's grade A–E from a grid of
//!    cut-offs, and the largest loan the merchant's sales support: a multiple (by grade) of the
//!    30- or 90-day sales, capped, less existing debt, rounded down to a unit (100 yuan).
//!    The platform declines here when the request is below the smallest loan, the requested
//!    term is not one the platform offers, the grade gets no loan, or the sized amount is
//!    below the smallest loan.
//! 4. **The consortium** ([`Consortium`] of [`BankPolicy`]): every bank is asked by its own
//!    policy, in bank id order, and answers with one [`Offer`] or the first of its rules that
//!    fails ([`BankDecline`]); see [`BankPolicy`] for the order of the checks. An offer's
//!    amount is at most the request, the sized amount, the bank's per-borrower limit and every
//!    quota left (daily, total, and the region's and industry's share of the total quota), as
//!    they stand with the usage the caller passes in ([`BankUsage`]); a bank whose usage is
//!    not passed declines.
//! 5. **Choice**: the platform takes the offer with the lowest price (annual rate in basis
//!    points, or the equivalent rate of a revenue-based advance); ties go to the larger amount,
//!    then to the lower bank id. With a [`JointLoan`] the platform lends a fixed share of every
//!    offer itself and only the bank's part counts against the bank's limits and quotas.
//! 6. **Reasons**: a declined application gets at most [`DECLINE_REASONS_MAX`] principal
//!    reasons, each with a stable code and a text in Chinese and in English
//!    ([`DeclineReason`]): the knock-outs first; then, when the score is what kept a bank (or
//!    the platform) from lending, the scorecard's reasons (its variables mapped to text by a
//!    table, with a generic text for a variable the table does not know); then the banks'
//!    policy reasons, the one most banks gave first. Scorecard reasons are left out when the
//!    score did not decide anything, so a merchant is never told that a good score is why.
//!
//! # Scorecard columns
//!
//! [`Column`] names them; amounts are whole fen, rates and ratios whole basis points, counts
//! and days whole numbers, written in decimal without separators.
//!
//! | column | value |
//! |---|---|
//! | `sales_30d_fen` | sales of the last 30 days |
//! | `sales_90d_fen` | sales of the last 90 days |
//! | `sales_365d_fen` | sales of the last 365 days |
//! | `sales_growth_bps` | change of the last 90 days' sales against the 90 days before (signed) |
//! | `refund_rate_bps` | refunds over sales |
//! | `tenure_days` | days since the merchant joined the platform |
//! | `active_days_90d` | days with at least one sale among the last 90 |
//! | `average_order_value_fen` | average order value |
//! | `settlements_90d` | settlements of the last 90 days |
//! | `existing_debt_fen` | debt outstanding now |
//! | `debt_to_sales_365d_bps` | existing debt over the year's sales, rounded down; empty if no sales |
//! | `days_past_due` | days the oldest unpaid instalment is past due now (0: none) |
//! | `worst_days_past_due_12m` | the most days past due at any time in the last 12 months |
//! | `fraud_flag` | `1` when the merchant carries a fraud flag, else `0` |
//! | `region_code` | the six-digit administrative division code |
//! | `province` | the region code's first two digits |
//! | `industry` | the industry (category) code |
//!
//! # Audit
//!
//! A [`Decision`] keeps what it was made from and what happened: the application, the
//! features, the model version, score, grade and scorecard reasons, the platform policy's
//! version, the knock-outs, the sizing, every bank's answer with the usage it was asked with,
//! and the outcome. The bank policies themselves are not copied into every decision; whoever
//! builds the [`Consortium`] keeps it versioned.
//!
//! # Money
//!
//! Every amount is [`Fen`] and every computation integer, widened to `u128` where a product
//! could pass `u64` and clamped to `Fen::MAX`; rates are basis points.
//! Each rounding is named where it happens: sizing and offers round **down** to the unit,
//! quotas and shares of a quota round **down** to the fen, a joint loan's platform part rounds
//! **down** to the fen (the bank's part is the rest, so the parts add up), a revenue-based
//! fee rounds **half up** to the fen, and its expected days and equivalent rate round **up**.
//!
//! # Speed
//!
//! Asking a bank allocates nothing: bank ids are inline ([`BankId`]), term options a bit set
//! ([`TermSet`]), answers `Copy`, and a bank's usage is found at its own position when the
//! caller lists usage in consortium order. A decision allocates its answer and usage lists
//! once and moves the inputs it records; texts are made only for declined applications. A
//! decision over 100 banks of two products each took about 16 µs in a release build.

use chunlei_ledger::Fen;

mod activity;
pub mod audit;
mod bank;
mod decide;
mod features;
mod grade;
mod knockout;
mod reason;
mod sizing;
mod terms;

pub use activity::{
    ACTIVITY_WINDOWS, ActivityTotals, DayActivity, MerchantFacts, features_from_activity,
    features_from_totals,
};
pub use bank::{
    BANK_ID_LEN_MAX, BANKS_MAX, BankAnswer, BankDecline, BankId, BankPolicy, BankUsage, Consortium,
    ConsortiumError, INDUSTRIES_MAX, Offer, OfferedProduct, PRODUCTS_MAX, Product, RATE_BPS_MAX,
    REGION_PREFIXES_MAX, Served,
};
pub use decide::{
    Application, Decision, DeclineCause, JointLoan, ModelScore, Outcome, PlatformDecline, Policy,
    ServicingPolicy,
};
pub use features::{Column, FeatureRecord, Features};
pub use grade::{Grade, GradeGrid};
pub use knockout::{Knockout, KnockoutRules};
pub use reason::{DECLINE_REASONS_MAX, DeclineReason, ReasonSource, scorecard_reason_text};
pub use sizing::{SalesBasis, Sized, Sizing};
pub use terms::{TERM_MONTHS_MAX, TermSet};

/// Basis points in one: 10,000 bp = 100 %.
pub const BPS_PER_ONE: u32 = 10_000;

/// The smallest amount there is.
const ONE_FEN: Fen = match Fen::new(1) {
    Some(fen) => fen,
    None => Fen::ZERO,
};

#[cfg(test)]
mod tests;
