//! `ScheduleError`: every reason a schedule is refused, one variant each.

use std::fmt;

use crate::rate::RATE_DECIMALS_MAX;
use crate::schedule::{EMI_MULTIPLE_FEN_MAX, PERIODS_MAX, PRINCIPAL_FEN_MAX, Period};
use chunlei_ledger::DateError;

/// Why no schedule was made. The variants named after an argument come from parsing the
/// command line's text ([`crate::schedule_cli`]); the others from terms built in code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// `principal_fen` is not a string of digits.
    PrincipalNotAWholeNumber { text: String },
    /// The principal is zero or above [`PRINCIPAL_FEN_MAX`] (saturated when the text was longer
    /// than a `u64`).
    PrincipalOutOfRange { principal_fen: u64 },
    /// `annual_rate_percent` is not digits with an optional point and more digits.
    RateNotADecimal { text: String },
    /// The rate has more than [`RATE_DECIMALS_MAX`] decimals.
    RateTooManyDecimals { text: String },
    /// The rate is above 100 %.
    RateAboveMaximum { text: String },
    /// `periods` is not a string of digits.
    PeriodsNotAWholeNumber { text: String },
    /// The number of periods is zero or above [`PERIODS_MAX`].
    PeriodsOutOfRange { periods: u64 },
    /// `method` is neither `equal_installment` nor `equal_principal`.
    UnknownMethod { text: String },
    /// `day_count` is neither `30_360` nor `act_365`.
    UnknownDayCount { text: String },
    /// `start` is not a date from 1900-01-01 to 9999-12-31.
    StartDate { text: String, reason: DateError },
    /// A repayment period of zero, or longer than its maximum
    /// ([`crate::EVERY_DAYS_MAX`], [`crate::EVERY_WEEKS_MAX`], [`crate::EVERY_MONTHS_MAX`]).
    RepaymentEveryOutOfRange { every: Period },
    /// The installment's rounding multiple is zero or above [`EMI_MULTIPLE_FEN_MAX`].
    EmiMultipleOutOfRange { emi_multiple_fen: u64 },
    /// The due date of this period would fall after 9999-12-31.
    DueDateOutOfRange { period: u16 },
    /// An amount exceeds what the ledger stores. The limits on principal, rate and period
    /// length keep every amount far below it, so this only reports a broken invariant.
    AmountOverflow,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::PrincipalNotAWholeNumber { text } => {
                write!(
                    f,
                    "principal_fen must be a whole number of fen, got {text:?}"
                )
            }
            ScheduleError::PrincipalOutOfRange { principal_fen } => write!(
                f,
                "principal_fen must be from 1 to {PRINCIPAL_FEN_MAX} fen, got {principal_fen}"
            ),
            ScheduleError::RateNotADecimal { text } => write!(
                f,
                "annual_rate_percent must be a decimal number of percent such as 12 or 7.5, \
                 got {text:?}"
            ),
            ScheduleError::RateTooManyDecimals { text } => write!(
                f,
                "annual_rate_percent may have at most {RATE_DECIMALS_MAX} decimals, got {text:?}"
            ),
            ScheduleError::RateAboveMaximum { text } => {
                write!(f, "annual_rate_percent must be from 0 to 100, got {text:?}")
            }
            ScheduleError::PeriodsNotAWholeNumber { text } => {
                write!(f, "periods must be a whole number, got {text:?}")
            }
            ScheduleError::PeriodsOutOfRange { periods } => {
                write!(f, "periods must be from 1 to {PERIODS_MAX}, got {periods}")
            }
            ScheduleError::UnknownMethod { text } => write!(
                f,
                "method must be equal_installment or equal_principal, got {text:?}"
            ),
            ScheduleError::UnknownDayCount { text } => {
                write!(f, "day_count must be 30_360 or act_365, got {text:?}")
            }
            ScheduleError::StartDate { text, reason } => write!(f, "start {reason}, got {text:?}"),
            ScheduleError::RepaymentEveryOutOfRange { every } => write!(
                f,
                "repayments must be every 1 to {} {}, got {every:?}",
                every.max(),
                every.unit()
            ),
            ScheduleError::EmiMultipleOutOfRange { emi_multiple_fen } => write!(
                f,
                "the installment must be rounded to a multiple of 1 to {EMI_MULTIPLE_FEN_MAX} \
                 fen, got {emi_multiple_fen}"
            ),
            ScheduleError::DueDateOutOfRange { period } => {
                write!(f, "the due date of period {period} falls after 9999-12-31")
            }
            ScheduleError::AmountOverflow => {
                f.write_str("an amount exceeds the largest the ledger stores")
            }
        }
    }
}

impl std::error::Error for ScheduleError {}
