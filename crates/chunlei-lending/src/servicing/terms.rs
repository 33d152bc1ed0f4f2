//! What a loan is serviced by: the components of an amount owed, the order payments pay them
//! in, the penalty rate, and the terms of a revenue-based loan.

use std::fmt;

use chunlei_ledger::Fen;

use crate::rate::AnnualRate;
use crate::schedule::PRINCIPAL_FEN_MAX;
use chunlei_ledger::CivilDate;

use super::ServicingError;

/// The largest fee a loan charges: an instalment fee or a revenue-based loan's fixed fee.
pub const FEE_FEN_MAX: u64 = PRINCIPAL_FEN_MAX;
/// A withholding rate of 10,000 basis points takes the whole settlement.
pub const WITHHOLDING_BPS_MAX: u32 = 10_000;
/// A revenue-based loan's minimum payment is owed per period of this many days.
pub const REVENUE_PERIOD_DAYS: u32 = 60;
/// A revenue-based loan's minimum must repay it within this many periods (98 years), which
/// bounds its shortfall instalments.
pub const REVENUE_PERIODS_MAX: u64 = 600;
/// The most relief measures (holidays and interest-free periods together) a loan takes.
pub const RELIEF_MEASURES_MAX: usize = 16;
/// The longest relief measure: two years.
pub const RELIEF_DAYS_MAX: u32 = 731;

/// A component of an amount owed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    Penalty,
    Fee,
    Interest,
    Principal,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::Penalty,
        Component::Fee,
        Component::Interest,
        Component::Principal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::Penalty => "penalty",
            Component::Fee => "fee",
            Component::Interest => "interest",
            Component::Principal => "principal",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The order a payment pays the components of each instalment in, oldest instalment first
/// (Fineract's "transaction processing strategy"): a permutation of the four components.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationOrder([Component; 4]);

impl AllocationOrder {
    /// Fineract `mifos-standard-strategy`, "Penalties, Fees, Interest, Principal order": the
    /// default.
    pub const PENALTY_FEE_INTEREST_PRINCIPAL: AllocationOrder = AllocationOrder([
        Component::Penalty,
        Component::Fee,
        Component::Interest,
        Component::Principal,
    ]);
    /// Fineract `principal-interest-penalties-fees-order-strategy`.
    pub const PRINCIPAL_INTEREST_PENALTY_FEE: AllocationOrder = AllocationOrder([
        Component::Principal,
        Component::Interest,
        Component::Penalty,
        Component::Fee,
    ]);
    /// Fineract `interest-principal-penalties-fees-order-strategy`.
    pub const INTEREST_PRINCIPAL_PENALTY_FEE: AllocationOrder = AllocationOrder([
        Component::Interest,
        Component::Principal,
        Component::Penalty,
        Component::Fee,
    ]);

    /// `None` unless every component appears exactly once.
    pub fn new(order: [Component; 4]) -> Option<AllocationOrder> {
        Component::ALL
            .iter()
            .all(|component| order.contains(component))
            .then_some(AllocationOrder(order))
    }

    pub fn components(self) -> [Component; 4] {
        self.0
    }
}

impl Default for AllocationOrder {
    fn default() -> AllocationOrder {
        AllocationOrder::PENALTY_FEE_INTEREST_PRINCIPAL
    }
}

/// How a loan is serviced, whatever its product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub allocation: AllocationOrder,
    /// The annual rate overdue principal bears instead of the regular rate (zero: no penalty).
    pub penalty_rate: AnnualRate,
}

/// The terms of a revenue-based loan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevenueTerms {
    /// 1 fen to `PRINCIPAL_FEN_MAX`.
    pub principal: Fen,
    /// The fixed fee owed with the principal, up to [`FEE_FEN_MAX`].
    pub fee: Fen,
    /// The share of every settlement's net amount withheld, 1 to [`WITHHOLDING_BPS_MAX`].
    pub withholding_bps: u32,
    /// Owed off the balance in every [`REVENUE_PERIOD_DAYS`]-day period: zero (no minimum), or
    /// enough to repay principal and fee within [`REVENUE_PERIODS_MAX`] periods.
    pub minimum_per_period: Fen,
    pub disbursed_on: CivilDate,
}

impl RevenueTerms {
    pub(super) fn check(&self) -> Result<(), ServicingError> {
        let principal_fen = self.principal.get();
        if principal_fen == 0 || principal_fen > PRINCIPAL_FEN_MAX {
            return Err(ServicingError::PrincipalOutOfRange { principal_fen });
        }
        if self.fee.get() > FEE_FEN_MAX {
            return Err(ServicingError::FeeAboveMaximum {
                fee_fen: self.fee.get(),
            });
        }
        let basis_points = self.withholding_bps;
        if basis_points == 0 || basis_points > WITHHOLDING_BPS_MAX {
            return Err(ServicingError::WithholdingOutOfRange { basis_points });
        }
        let owed = principal_fen + self.fee.get();
        let required_fen = owed.div_ceil(REVENUE_PERIODS_MAX);
        let minimum_fen = self.minimum_per_period.get();
        if minimum_fen != 0 && minimum_fen < required_fen {
            return Err(ServicingError::MinimumTooLow {
                minimum_fen,
                required_fen,
            });
        }
        Ok(())
    }
}
