//! `ServicingError`: every reason a loan refuses to be built or to do something, one variant
//! each.

use std::fmt;

use crate::ScheduleError;
use crate::schedule::{PERIODS_MAX, PRINCIPAL_FEN_MAX};
use chunlei_ledger::CivilDate;

use super::terms::{
    FEE_FEN_MAX, RELIEF_DAYS_MAX, RELIEF_MEASURES_MAX, REVENUE_PERIODS_MAX, WITHHOLDING_BPS_MAX,
};

/// Why a loan was not built, or refused a call. A refused call changed nothing, except that a
/// call with a date moved the loan to that date before it was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServicingError {
    /// The terms have no schedule.
    Schedule(ScheduleError),
    /// The principal is zero or above [`PRINCIPAL_FEN_MAX`].
    PrincipalOutOfRange { principal_fen: u64 },
    /// The schedule has no rows.
    ScheduleEmpty,
    /// The schedule has more than [`PERIODS_MAX`] rows.
    ScheduleTooLong { rows: usize },
    /// This row is not what the terms give: a due date not after the previous one, or a
    /// principal, interest or balance that differs.
    ScheduleMismatch { period: u16 },
    /// A fee above [`FEE_FEN_MAX`].
    FeeAboveMaximum { fee_fen: u64 },
    /// A withholding rate of zero or above [`WITHHOLDING_BPS_MAX`] basis points.
    WithholdingOutOfRange { basis_points: u32 },
    /// A minimum per period that would not repay the loan within [`REVENUE_PERIODS_MAX`]
    /// periods.
    MinimumTooLow { minimum_fen: u64, required_fen: u64 },
    /// The loan already stands on a later day.
    DateBeforeAsOf { date: CivilDate, as_of: CivilDate },
    /// A moved due date would fall after 9999-12-31.
    DueDateOutOfRange,
    /// A payment of nothing.
    PaymentZero,
    /// The loan is repaid.
    LoanClosed,
    /// The loan is written off.
    LoanWrittenOff,
    /// A relief measure ending before it starts.
    ReliefEndsBeforeStart { from: CivilDate, to: CivilDate },
    /// A relief measure starting before the day the loan stands on.
    ReliefStartsBeforeAsOf { from: CivilDate, as_of: CivilDate },
    /// A relief measure longer than [`RELIEF_DAYS_MAX`] days.
    ReliefTooLong { days: i64 },
    /// The loan already has [`RELIEF_MEASURES_MAX`] relief measures.
    ReliefMeasuresMax,
    /// A holiday starting on or before the last day of an earlier one.
    HolidayOverlapsEarlier {
        from: CivilDate,
        earlier_to: CivilDate,
    },
}

impl fmt::Display for ServicingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServicingError::Schedule(error) => write!(f, "no schedule: {error}"),
            ServicingError::PrincipalOutOfRange { principal_fen } => write!(
                f,
                "the principal must be from 1 to {PRINCIPAL_FEN_MAX} fen, got {principal_fen}"
            ),
            ServicingError::ScheduleEmpty => f.write_str("the schedule has no rows"),
            ServicingError::ScheduleTooLong { rows } => {
                write!(f, "the schedule has {rows} rows, more than {PERIODS_MAX}")
            }
            ServicingError::ScheduleMismatch { period } => {
                write!(
                    f,
                    "period {period} of the schedule does not follow from the terms"
                )
            }
            ServicingError::FeeAboveMaximum { fee_fen } => {
                write!(f, "a fee may be at most {FEE_FEN_MAX} fen, got {fee_fen}")
            }
            ServicingError::WithholdingOutOfRange { basis_points } => write!(
                f,
                "the withholding rate must be from 1 to {WITHHOLDING_BPS_MAX} basis points, \
                 got {basis_points}"
            ),
            ServicingError::MinimumTooLow {
                minimum_fen,
                required_fen,
            } => write!(
                f,
                "the minimum per period must be zero or at least {required_fen} fen to repay \
                 within {REVENUE_PERIODS_MAX} periods, got {minimum_fen}"
            ),
            ServicingError::DateBeforeAsOf { date, as_of } => {
                write!(f, "{date} is before {as_of}, the day the loan stands on")
            }
            ServicingError::DueDateOutOfRange => {
                f.write_str("a moved due date would fall after 9999-12-31")
            }
            ServicingError::PaymentZero => f.write_str("a payment must be more than zero"),
            ServicingError::LoanClosed => f.write_str("the loan is repaid"),
            ServicingError::LoanWrittenOff => f.write_str("the loan is written off"),
            ServicingError::ReliefEndsBeforeStart { from, to } => {
                write!(f, "relief from {from} to {to} ends before it starts")
            }
            ServicingError::ReliefStartsBeforeAsOf { from, as_of } => write!(
                f,
                "relief from {from} starts before {as_of}, the day the loan stands on"
            ),
            ServicingError::ReliefTooLong { days } => write!(
                f,
                "relief may last at most {RELIEF_DAYS_MAX} days, got {days}"
            ),
            ServicingError::ReliefMeasuresMax => write!(
                f,
                "a loan takes at most {RELIEF_MEASURES_MAX} relief measures"
            ),
            ServicingError::HolidayOverlapsEarlier { from, earlier_to } => write!(
                f,
                "a holiday from {from} must start after the earlier one ending {earlier_to}"
            ),
        }
    }
}

impl std::error::Error for ServicingError {}
