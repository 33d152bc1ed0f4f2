//! Offer sizing: how much the merchant's sales support, before any bank's limits.

use chunlei_ledger::Fen;

use super::features::Features;
use super::grade::Grade;
use super::{BPS_PER_ONE, ONE_FEN};

/// Which sales the offer is a multiple of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalesBasis {
    Sales30d,
    Sales90d,
}

impl SalesBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            SalesBasis::Sales30d => "sales_30d",
            SalesBasis::Sales90d => "sales_90d",
        }
    }

    fn of(self, features: &Features) -> Fen {
        match self {
            SalesBasis::Sales30d => features.sales_30d,
            SalesBasis::Sales90d => features.sales_90d,
        }
    }
}

/// The platform's sizing rule: `basis × multiple(grade)`, at most `cap`, less existing debt,
/// rounded down to `unit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizing {
    pub basis: SalesBasis,
    /// The multiple of the basis by grade (A first), in basis points: 15,000 lends one and a
    /// half times the basis. Zero lends nothing to that grade.
    pub multiple_bps_by_grade: [u32; 5],
    /// The largest loan, before existing debt.
    pub cap: Fen,
    /// The smallest loan made; a smaller amount is declined instead.
    pub amount_min: Fen,
    /// Every amount is rounded down to a multiple of this (10,000 fen is 100 yuan); zero
    /// counts as one fen.
    pub unit: Fen,
}

/// The sizing of one application, kept in the decision for audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sized {
    /// The sales the multiple applies to.
    pub basis: Fen,
    pub multiple_bps: u32,
    /// `basis × multiple`, rounded down to the fen, at most the cap.
    pub gross: Fen,
    pub existing_debt: Fen,
    /// `gross − existing_debt` (zero when the debt is larger), rounded down to the unit.
    pub amount: Fen,
}

impl Sizing {
    pub fn size(&self, features: &Features, grade: Grade) -> Sized {
        let basis = self.basis.of(features);
        let multiple_bps = self
            .multiple_bps_by_grade
            .get(grade.index())
            .copied()
            .unwrap_or(0);
        let gross = fen_clamped(
            u128::from(basis.get()) * u128::from(multiple_bps) / u128::from(BPS_PER_ONE),
        )
        .min(self.cap);
        let net = gross.saturating_sub(features.existing_debt);
        Sized {
            basis,
            multiple_bps,
            gross,
            existing_debt: features.existing_debt,
            amount: self.round_down(net),
        }
    }

    /// `amount` rounded down to a multiple of the unit.
    pub fn round_down(&self, amount: Fen) -> Fen {
        let unit = self.unit.get().max(1);
        Fen::new(amount.get() - amount.get() % unit).unwrap_or(Fen::ZERO)
    }

    /// The smallest loan, never below one fen: a loan of nothing is no loan.
    pub fn smallest(&self) -> Fen {
        self.amount_min.max(ONE_FEN)
    }
}

/// `value`, or [`Fen::MAX`] when it is larger.
pub(super) fn fen_clamped(value: u128) -> Fen {
    u64::try_from(value)
        .ok()
        .and_then(Fen::new)
        .unwrap_or(Fen::MAX)
}
