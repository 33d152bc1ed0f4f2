//! Repayment schedules: each period's due date and its principal, interest and remaining
//! balance to the fen. The rules are described in the crate documentation.

use std::fmt::Write as _;

use chunlei_ledger::Fen;

use crate::ScheduleError;
use crate::exact::{Natural, div_round_half_even, div_round_half_even_natural};
use crate::rate::AnnualRate;
use chunlei_ledger::CivilDate;

/// The largest principal a schedule is made for: 100,000,000,000.00 yuan.
pub const PRINCIPAL_FEN_MAX: u64 = 10_000_000_000_000;
/// The most repayment periods a schedule has (50 years of months).
pub const PERIODS_MAX: u16 = 600;
/// The longest repayment period counted in days (ten years).
pub const EVERY_DAYS_MAX: u16 = 3_660;
/// The longest repayment period counted in weeks (ten years).
pub const EVERY_WEEKS_MAX: u16 = 520;
/// The longest repayment period counted in months (ten years).
pub const EVERY_MONTHS_MAX: u16 = 120;
/// The coarsest multiple an installment may be rounded to: 10,000.00 yuan.
pub const EMI_MULTIPLE_FEN_MAX: u64 = 1_000_000;

/// A rate in millionths of a percent over this is a fraction: 100 (percent) × 1,000,000.
const RATE_SCALE: u64 = 100 * 1_000_000;
/// Fineract prices an installment as if every month had 30 days, whatever the day count.
const DAYS_PER_MONTH_FOR_INSTALLMENT: u64 = 30;
/// A month under 30/360.
const DAYS_PER_MONTH_30_360: u64 = 30;

/// How the principal is spread over the periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Fineract `EQUAL_INSTALLMENTS`: an annuity, every installment (principal + interest) the
    /// same but the last.
    EqualInstallments,
    /// Fineract `EQUAL_PRINCIPAL`: every principal part the same but the last; interest falls
    /// with the balance.
    EqualPrincipal,
}

impl Method {
    /// `equal_installment` or `equal_principal`, as the command line spells them.
    pub fn parse(text: &str) -> Result<Method, ScheduleError> {
        match text {
            "equal_installment" => Ok(Method::EqualInstallments),
            "equal_principal" => Ok(Method::EqualPrincipal),
            _ => Err(ScheduleError::UnknownMethod {
                text: text.to_owned(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::EqualInstallments => "equal_installment",
            Method::EqualPrincipal => "equal_principal",
        }
    }
}

/// The length of one repayment period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Days(u16),
    Weeks(u16),
    Months(u16),
}

impl Period {
    /// How many units the period has.
    pub fn count(self) -> u16 {
        match self {
            Period::Days(count) | Period::Weeks(count) | Period::Months(count) => count,
        }
    }

    /// The most units a period of this kind may have.
    pub fn max(self) -> u16 {
        match self {
            Period::Days(_) => EVERY_DAYS_MAX,
            Period::Weeks(_) => EVERY_WEEKS_MAX,
            Period::Months(_) => EVERY_MONTHS_MAX,
        }
    }

    /// `days`, `weeks` or `months`.
    pub fn unit(self) -> &'static str {
        match self {
            Period::Days(_) => "days",
            Period::Weeks(_) => "weeks",
            Period::Months(_) => "months",
        }
    }
}

/// Over what interest is worked out (Fineract's `interestCalculationPeriodType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterestPeriod {
    /// Fineract `SAME_AS_REPAYMENT_PERIOD`: a period earns a fixed share of the annual rate,
    /// `n/12` of it for `n` months and `n/52` for `n` weeks, however many days it has.
    SameAsRepayment,
    /// Fineract `DAILY`: a period earns the annual rate times its days over the day count's
    /// year.
    Daily,
}

/// How days are counted (Fineract's days in month × days in year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DayCount {
    /// 30/360: a month is 30 days, a year 360 (days in month 30, days in year 360).
    Thirty360,
    /// Actual/365 fixed: a period has its calendar days, a year 365 days, leap or not (days in
    /// month actual, days in year 365).
    Actual365,
}

impl DayCount {
    /// `30_360` or `act_365`, as the command line spells them.
    pub fn parse(text: &str) -> Result<DayCount, ScheduleError> {
        match text {
            "30_360" => Ok(DayCount::Thirty360),
            "act_365" => Ok(DayCount::Actual365),
            _ => Err(ScheduleError::UnknownDayCount {
                text: text.to_owned(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DayCount::Thirty360 => "30_360",
            DayCount::Actual365 => "act_365",
        }
    }

    fn days_in_year(self) -> u64 {
        match self {
            DayCount::Thirty360 => 360,
            DayCount::Actual365 => 365,
        }
    }
}

/// Everything a schedule depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    /// 1 fen to [`PRINCIPAL_FEN_MAX`].
    pub principal: Fen,
    pub annual_rate: AnnualRate,
    /// 1 to [`PERIODS_MAX`].
    pub periods: u16,
    /// The length of each repayment period; the first is due one period after disbursement.
    pub every: Period,
    pub method: Method,
    pub interest_period: InterestPeriod,
    pub day_count: DayCount,
    /// Equal installments are rounded half to even to a multiple of this (Fineract's
    /// `installmentAmountInMultiplesOf`): 1 rounds to the fen, 100 to whole yuan.
    pub emi_multiple_fen: u64,
    pub disbursed_on: CivilDate,
}

impl Terms {
    /// Monthly repayments, interest by day over `day_count`, installments to the fen: the terms
    /// the command line offers.
    pub fn monthly(
        principal: Fen,
        annual_rate: AnnualRate,
        periods: u16,
        method: Method,
        day_count: DayCount,
        disbursed_on: CivilDate,
    ) -> Terms {
        Terms {
            principal,
            annual_rate,
            periods,
            every: Period::Months(1),
            method,
            interest_period: InterestPeriod::Daily,
            day_count,
            emi_multiple_fen: 1,
            disbursed_on,
        }
    }
}

/// One repayment period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1 for the first period.
    pub period: u16,
    pub due_on: CivilDate,
    pub principal: Fen,
    pub interest: Fen,
    /// `principal + interest`.
    pub total: Fen,
    /// The principal still owed after this period.
    pub balance: Fen,
}

/// A repayment schedule. The last row's balance is zero and the principal parts add up to the
/// loan's principal exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The level amount of every period but the last: the installment for equal installments,
    /// the principal part for equal principal.
    pub level: Fen,
    pub rows: Vec<Row>,
}

impl Schedule {
    pub fn total_principal(&self) -> u64 {
        self.rows.iter().map(|row| row.principal.get()).sum()
    }

    pub fn total_interest(&self) -> u64 {
        self.rows.iter().map(|row| row.interest.get()).sum()
    }

    /// `period,due_date,principal,interest,total,balance`, then one line per row, amounts in
    /// yuan with two decimals.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("period,due_date,principal,interest,total,balance\n");
        for row in &self.rows {
            // Writing to a String cannot fail.
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                row.period,
                row.due_on,
                yuan(row.principal),
                yuan(row.interest),
                yuan(row.total),
                yuan(row.balance)
            );
        }
        csv
    }
}

/// An amount in yuan with exactly two decimals: 123450 fen is `1234.50`.
pub fn yuan(amount: Fen) -> String {
    format!("{}.{:02}", amount.get() / 100, amount.get() % 100)
}

/// Works out the schedule of `terms`.
///
/// Each period's interest is charged on the balance owed during it; the principal part is the
/// level amount (for equal installments, the installment less the interest), never more than
/// the balance and never below zero. The last period repays the whole balance. A period that
/// clears the balance before the last ends the schedule, as in Fineract.
pub fn schedule(terms: &Terms) -> Result<Schedule, ScheduleError> {
    check(terms)?;
    let level = match terms.method {
        Method::EqualInstallments => installment(terms)?,
        Method::EqualPrincipal => {
            div_round_half_even(u128::from(terms.principal.get()), u128::from(terms.periods))
        }
    };
    let mut balance = u128::from(terms.principal.get());
    let mut period_start = terms.disbursed_on;
    let mut rows = Vec::with_capacity(usize::from(terms.periods));
    for period in 1..=terms.periods {
        let due_on = due_date(terms.disbursed_on, terms.every, period)
            .ok_or(ScheduleError::DueDateOutOfRange { period })?;
        let (share, year) = interest_share(terms, period_start, due_on);
        let interest = div_round_half_even(
            balance * u128::from(terms.annual_rate.micro_percent()) * u128::from(share),
            u128::from(RATE_SCALE) * u128::from(year),
        );
        let principal = if period == terms.periods {
            balance
        } else {
            match terms.method {
                Method::EqualInstallments => level.saturating_sub(interest),
                Method::EqualPrincipal => level,
            }
            .min(balance)
        };
        balance -= principal;
        let (principal, interest) = (fen(principal)?, fen(interest)?);
        rows.push(Row {
            period,
            due_on,
            principal,
            interest,
            total: principal
                .checked_add(interest)
                .ok_or(ScheduleError::AmountOverflow)?,
            balance: fen(balance)?,
        });
        if balance == 0 {
            break;
        }
        period_start = due_on;
    }
    Ok(Schedule {
        level: fen(level)?,
        rows,
    })
}

fn check(terms: &Terms) -> Result<(), ScheduleError> {
    let principal_fen = terms.principal.get();
    if principal_fen == 0 || principal_fen > PRINCIPAL_FEN_MAX {
        return Err(ScheduleError::PrincipalOutOfRange { principal_fen });
    }
    if terms.periods == 0 || terms.periods > PERIODS_MAX {
        return Err(ScheduleError::PeriodsOutOfRange {
            periods: u64::from(terms.periods),
        });
    }
    let every = terms.every;
    if every.count() == 0 || every.count() > every.max() {
        return Err(ScheduleError::RepaymentEveryOutOfRange { every });
    }
    let emi_multiple_fen = terms.emi_multiple_fen;
    if emi_multiple_fen == 0 || emi_multiple_fen > EMI_MULTIPLE_FEN_MAX {
        return Err(ScheduleError::EmiMultipleOutOfRange { emi_multiple_fen });
    }
    Ok(())
}

/// The `period`-th due date, counted from the disbursement date (never from the previous due
/// date, so a loan disbursed on the 31st comes back to the 31st after a short month).
fn due_date(disbursed_on: CivilDate, every: Period, period: u16) -> Option<CivilDate> {
    let periods = u32::from(period);
    match every {
        Period::Days(days) => disbursed_on.add_days(u32::from(days) * periods),
        Period::Weeks(weeks) => disbursed_on.add_days(7 * u32::from(weeks) * periods),
        Period::Months(months) => disbursed_on.add_months(u32::from(months) * periods),
    }
}

/// The share of a year one period earns in Fineract's installment formula, as
/// `(numerator, denominator)`: the periodic rate is the annual rate times that fraction.
fn installment_share(terms: &Terms) -> (u64, u64) {
    let year = terms.day_count.days_in_year();
    let count = u64::from(terms.every.count());
    match (terms.interest_period, terms.every) {
        (InterestPeriod::SameAsRepayment, Period::Months(_)) => (count, 12),
        (InterestPeriod::SameAsRepayment, Period::Weeks(_)) => (count, 52),
        (InterestPeriod::SameAsRepayment | InterestPeriod::Daily, Period::Days(_)) => (count, year),
        (InterestPeriod::Daily, Period::Weeks(_)) => (7 * count, year),
        (InterestPeriod::Daily, Period::Months(_)) => {
            (DAYS_PER_MONTH_FOR_INSTALLMENT * count, year)
        }
    }
}

/// The share of a year the period from `start` to `due_on` earns in interest, as
/// `(numerator, denominator)`.
fn interest_share(terms: &Terms, start: CivilDate, due_on: CivilDate) -> (u64, u64) {
    let actual_days = || u64::try_from(start.days_until(due_on)).unwrap_or(0);
    let year = terms.day_count.days_in_year();
    match terms.interest_period {
        InterestPeriod::SameAsRepayment => installment_share(terms),
        InterestPeriod::Daily => match (terms.day_count, terms.every) {
            (DayCount::Thirty360, Period::Months(months)) => {
                (DAYS_PER_MONTH_30_360 * u64::from(months), year)
            }
            (DayCount::Thirty360, Period::Days(_) | Period::Weeks(_))
            | (DayCount::Actual365, Period::Days(_) | Period::Weeks(_) | Period::Months(_)) => {
                (actual_days(), year)
            }
        },
    }
}

/// The installment of an equal-installment schedule: the annuity
/// `P·r·(1+r)^n / ((1+r)^n − 1)` evaluated exactly, rounded half to even to a multiple of
/// `emi_multiple_fen` (with no interest, `P / n` rounded the same way).
fn installment(terms: &Terms) -> Result<u128, ScheduleError> {
    let principal = terms.principal.get();
    let step = terms.emi_multiple_fen;
    let (share, year) = installment_share(terms);
    // The periodic rate is a / b.
    let a = u64::from(terms.annual_rate.micro_percent()) * share;
    let b = RATE_SCALE * year;
    let periods = u32::from(terms.periods);
    let steps = if a == 0 {
        div_round_half_even(
            u128::from(principal),
            u128::from(periods) * u128::from(step),
        )
    } else {
        let grown = Natural::power(b + a, periods);
        let mut numerator = grown.clone();
        numerator.mul_small(principal);
        numerator.mul_small(a);
        let mut denominator = grown
            .checked_sub(&Natural::power(b, periods))
            .ok_or(ScheduleError::AmountOverflow)?;
        denominator.mul_small(b);
        denominator.mul_small(step);
        u128::from(
            div_round_half_even_natural(&numerator, &denominator)
                .ok_or(ScheduleError::AmountOverflow)?,
        )
    };
    Ok(steps * u128::from(step))
}

fn fen(amount: u128) -> Result<Fen, ScheduleError> {
    u64::try_from(amount)
        .ok()
        .and_then(Fen::new)
        .ok_or(ScheduleError::AmountOverflow)
}

#[cfg(test)]
mod tests;
