//! The command line's entry: `chunlei loan schedule` hands over its arguments as text and
//! prints the CSV this returns, or the error.

use chunlei_ledger::Fen;

use crate::ScheduleError;
use crate::rate::AnnualRate;
use crate::schedule::{DayCount, Method, PERIODS_MAX, PRINCIPAL_FEN_MAX, Terms, schedule};
use chunlei_ledger::CivilDate;

/// The arguments of `chunlei loan schedule`, as typed. Each is parsed here, so the binary
/// passes its strings through and every message about them comes from this crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleArgs<'a> {
    /// `--principal-fen`: whole fen, 1 to 10^13.
    pub principal_fen: &'a str,
    /// `--annual-rate-percent`: a decimal percentage from 0 to 100 with at most six decimals.
    pub annual_rate_percent: &'a str,
    /// `--periods`: monthly repayments, 1 to 600.
    pub periods: &'a str,
    /// `--method`: `equal_installment` or `equal_principal`.
    pub method: &'a str,
    /// `--day-count`: `30_360` or `act_365`.
    pub day_count: &'a str,
    /// `--start`: the disbursement date, `YYYY-MM-DD`; the first repayment is due a month later.
    pub start: &'a str,
}

/// Parses `args` into monthly terms ([`Terms::monthly`]: interest by day over the day count,
/// installments to the fen) and returns the schedule as CSV: the header
/// `period,due_date,principal,interest,total,balance`, then one line per period with amounts
/// in yuan and two decimals.
pub fn schedule_cli(args: &ScheduleArgs<'_>) -> Result<String, ScheduleError> {
    let terms = Terms::monthly(
        parse_principal(args.principal_fen)?,
        AnnualRate::parse_percent(args.annual_rate_percent)?,
        parse_periods(args.periods)?,
        Method::parse(args.method)?,
        DayCount::parse(args.day_count)?,
        CivilDate::parse(args.start).map_err(|reason| ScheduleError::StartDate {
            text: args.start.to_owned(),
            reason,
        })?,
    );
    Ok(schedule(&terms)?.to_csv())
}

fn parse_principal(text: &str) -> Result<Fen, ScheduleError> {
    let principal_fen =
        whole_number(text).ok_or_else(|| ScheduleError::PrincipalNotAWholeNumber {
            text: text.to_owned(),
        })?;
    if principal_fen == 0 || principal_fen > PRINCIPAL_FEN_MAX {
        return Err(ScheduleError::PrincipalOutOfRange { principal_fen });
    }
    Fen::new(principal_fen).ok_or(ScheduleError::PrincipalOutOfRange { principal_fen })
}

fn parse_periods(text: &str) -> Result<u16, ScheduleError> {
    let periods = whole_number(text).ok_or_else(|| ScheduleError::PeriodsNotAWholeNumber {
        text: text.to_owned(),
    })?;
    u16::try_from(periods)
        .ok()
        .filter(|periods| (1..=PERIODS_MAX).contains(periods))
        .ok_or(ScheduleError::PeriodsOutOfRange { periods })
}

/// The value of a non-empty string of ASCII digits, saturating at `u64::MAX` so that an
/// absurdly long number is reported as out of range rather than as not a number.
fn whole_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0_u64, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    }))
}

#[cfg(test)]
mod tests;
