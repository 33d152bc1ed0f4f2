//! The zero-account-period programme: when it runs, who may use it, and its limits.
//!
//! Decisions are made on event time, not on the clock, so a replay of historical events
//! decides exactly as the live run did.

use chunlei_ledger::Fen;

use crate::{CivilDate, Merchant, MerchantKind, RiskTier, Shipping};

const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// The programme's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Orders shipped from this instant (ns since the epoch, inclusive) …
    pub starts_at: u64,
    /// … until this one (exclusive) are advanced; e.g. until 2020-07-01T00:00 for "to 30 June".
    pub ends_at: u64,
    pub eligibility: Eligibility,
    /// Outstanding advances per merchant at most.
    pub merchant_cap: Fen,
    /// Outstanding advances over the whole programme at most (the pool's funding).
    pub pool_cap: Fen,
    /// Share of each settlement held back in the merchant's reserve.
    pub reserve_bps: u32,
    /// Days the reserve is held before it is released to the merchant.
    pub reserve_days: u32,
    /// Days after shipping when an unconfirmed order is confirmed automatically.
    pub auto_confirm_express_days: u32,
    pub auto_confirm_surface_days: u32,
}

/// Who may use the programme: a predicate over the merchant's attributes and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// Days on the platform at least, counted to the event's day.
    pub tenure_days_min: u32,
    /// Refunded orders per 10,000 orders at most.
    pub refund_rate_bps_max: u32,
    /// The riskiest tier admitted (`C` admits A, B and C).
    pub risk_tier_max: RiskTier,
    /// Kinds admitted; empty admits every kind.
    pub kinds: Vec<MerchantKind>,
    /// Only foreign-trade merchants (the 2020 programme's focus).
    pub foreign_trade_only: bool,
}

/// What the programme needs to know of a merchant's history, maintained as events arrive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MerchantMetrics {
    pub orders: u64,
    pub refunded_orders: u64,
}

impl MerchantMetrics {
    /// Refunded orders per 10,000 orders; zero before the first order.
    pub fn refund_rate_bps(&self) -> u64 {
        if self.orders == 0 {
            return 0;
        }
        u64::try_from(u128::from(self.refunded_orders) * 10_000 / u128::from(self.orders))
            .unwrap_or(u64::MAX)
    }
}

/// Why an order is not advanced (it is then settled on confirmation, as usual).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ineligible {
    OutsideWindow,
    TooNew {
        tenure_days: i64,
        tenure_days_min: u32,
    },
    RefundRateTooHigh {
        refund_rate_bps: u64,
        refund_rate_bps_max: u32,
    },
    RiskTierTooHigh {
        risk_tier: RiskTier,
    },
    KindNotAdmitted {
        kind: MerchantKind,
    },
    NotForeignTrade,
}

impl Ineligible {
    /// The stable machine-readable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Ineligible::OutsideWindow => "outside_program_window",
            Ineligible::TooNew { .. } => "merchant_too_new",
            Ineligible::RefundRateTooHigh { .. } => "refund_rate_too_high",
            Ineligible::RiskTierTooHigh { .. } => "risk_tier_too_high",
            Ineligible::KindNotAdmitted { .. } => "merchant_kind_not_admitted",
            Ineligible::NotForeignTrade => "not_foreign_trade",
        }
    }
}

impl Program {
    /// Whether an order of `merchant` shipped at `shipped_at` (ns since the epoch) is advanced.
    pub fn eligibility(
        &self,
        merchant: &Merchant,
        metrics: &MerchantMetrics,
        shipped_at: u64,
    ) -> Result<(), Ineligible> {
        if shipped_at < self.starts_at || shipped_at >= self.ends_at {
            return Err(Ineligible::OutsideWindow);
        }
        let e = &self.eligibility;
        let tenure_days = day_of(shipped_at) - i64::from(merchant.joined_on.days_since_epoch());
        if tenure_days < i64::from(e.tenure_days_min) {
            return Err(Ineligible::TooNew {
                tenure_days,
                tenure_days_min: e.tenure_days_min,
            });
        }
        let refund_rate_bps = metrics.refund_rate_bps();
        if refund_rate_bps > u64::from(e.refund_rate_bps_max) {
            return Err(Ineligible::RefundRateTooHigh {
                refund_rate_bps,
                refund_rate_bps_max: e.refund_rate_bps_max,
            });
        }
        if merchant.risk_tier > e.risk_tier_max {
            return Err(Ineligible::RiskTierTooHigh {
                risk_tier: merchant.risk_tier,
            });
        }
        if !e.kinds.is_empty() && !e.kinds.contains(&merchant.kind) {
            return Err(Ineligible::KindNotAdmitted {
                kind: merchant.kind,
            });
        }
        if e.foreign_trade_only && !merchant.foreign_trade {
            return Err(Ineligible::NotForeignTrade);
        }
        Ok(())
    }

    /// When an order shipped at `shipped_at` is confirmed if the buyer does not confirm it.
    pub fn auto_confirm_at(&self, shipped_at: u64, shipping: Shipping) -> u64 {
        let days = match shipping {
            Shipping::Express => self.auto_confirm_express_days,
            Shipping::Surface => self.auto_confirm_surface_days,
        };
        shipped_at.saturating_add(u64::from(days) * NANOS_PER_DAY)
    }

    /// When a reserve held at `held_at` is released.
    pub fn reserve_release_at(&self, held_at: u64) -> u64 {
        held_at.saturating_add(u64::from(self.reserve_days) * NANOS_PER_DAY)
    }
}

/// The UTC day (days since 1970-01-01) of an instant in ns since the epoch.
fn day_of(at: u64) -> i64 {
    i64::try_from(at / NANOS_PER_DAY).unwrap_or(i64::MAX)
}

/// Midnight UTC at the start of `date`, in ns since the epoch (dates before 1970 give 0).
pub fn start_of(date: CivilDate) -> u64 {
    u64::try_from(date.days_since_epoch()).map_or(0, |days| days.saturating_mul(NANOS_PER_DAY))
}

#[cfg(test)]
mod tests;
