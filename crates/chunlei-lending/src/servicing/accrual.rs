//! The days passing: regular interest on the principal not yet due, penalty interest on overdue
//! principal, instalments falling due and revenue-based periods ending with a shortfall.

use crate::exact::div_round_half_even;
use crate::rate::AnnualRate;
use crate::schedule::{DayCount, InterestPeriod, Period, Terms};
use chunlei_ledger::CivilDate;

use super::{
    Component, FellDue, Instalment, InstalmentState, Loan, Parts, Product, Progress,
    REVENUE_PERIOD_DAYS, fen,
};

/// A rate in millionths of a percent over this is a fraction of one.
const RATE_SCALE: u128 = 100 * 1_000_000;
/// A month under 30/360.
const DAYS_PER_MONTH_30_360: u64 = 30;
/// Penalties of a revenue-based loan run over a 365-day year (it has no day count of its own).
const REVENUE_DAYS_IN_YEAR: u64 = 365;

/// The share of a year a period earns, `num / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Share {
    pub(super) num: u64,
    pub(super) den: u64,
}

impl Share {
    /// The share of a revenue-based shortfall, which bears no interest.
    pub(super) const NONE: Share = Share { num: 0, den: 1 };
}

pub(super) fn days_in_year(day_count: DayCount) -> u64 {
    match day_count {
        DayCount::Thirty360 => 360,
        DayCount::Actual365 => 365,
    }
}

/// The share of a year the period from `start` to `due_on` earns: the schedule's rule
/// (`schedule.rs`, `interest_share`), written again here because that function is private to
/// the schedule. [`Loan::from_schedule`] checks every row against it, so the two cannot drift
/// apart unnoticed.
pub(super) fn period_share(terms: &Terms, start: CivilDate, due_on: CivilDate) -> Share {
    let year = days_in_year(terms.day_count);
    let count = u64::from(terms.every.count());
    let actual_days = u64::try_from(start.days_until(due_on)).unwrap_or(0);
    let (num, den) = match (terms.interest_period, terms.every, terms.day_count) {
        (InterestPeriod::SameAsRepayment, Period::Months(_), _) => (count, 12),
        (InterestPeriod::SameAsRepayment, Period::Weeks(_), _) => (count, 52),
        (InterestPeriod::SameAsRepayment, Period::Days(_), _) => (count, year),
        (InterestPeriod::Daily, Period::Months(months), DayCount::Thirty360) => {
            (DAYS_PER_MONTH_30_360 * u64::from(months), year)
        }
        (InterestPeriod::Daily, Period::Days(_) | Period::Weeks(_), DayCount::Thirty360)
        | (InterestPeriod::Daily, _, DayCount::Actual365) => (actual_days, year),
    };
    Share { num, den }
}

/// The interest the schedule charges on `balance` for a period of `share`, rounded half to
/// even: `balance × rate × share` as one fraction, as `schedule.rs` computes it.
pub(super) fn scheduled_interest(balance: u64, rate: AnnualRate, share: Share) -> u64 {
    let interest = div_round_half_even(
        u128::from(balance) * u128::from(rate.micro_percent()) * u128::from(share.num),
        RATE_SCALE * u128::from(share.den),
    );
    u64::try_from(interest).unwrap_or(u64::MAX)
}

/// The denominator of an instalment's interest numerator. A scheduled day earns
/// `share / base_days` of the rate and an extra (holiday) day `1 / year`; over the common
/// denominator `share.den × base_days × year` their weights are `share.num × year` and
/// `share.den × base_days`. With balances below 2^44 fen, rates below 2^27 millionths of a
/// percent, weights below 2^22 and periods below 2^22 days the numerator stays below 2^115.
fn interest_denominator(instalment: &Instalment, year: u64) -> u128 {
    RATE_SCALE
        * u128::from(instalment.share.den)
        * u128::from(instalment.base_days)
        * u128::from(year)
}

fn penalty_denominator(year: u64) -> u128 {
    RATE_SCALE * u128::from(year)
}

/// Charges an instalment's interest: its exact interest rounded half to even. Returns the
/// interest and what it adds to the interest reported as accrued so far.
pub(super) fn close_interest(instalment: &mut Instalment, year: u64) -> (u64, u64) {
    let denominator = interest_denominator(instalment, year);
    let interest = u64::try_from(div_round_half_even(
        instalment.interest_numerator,
        denominator,
    ))
    .unwrap_or(u64::MAX);
    let added = interest.saturating_sub(instalment.interest_reported);
    instalment.interest_reported = interest;
    instalment.charged.interest = interest;
    (interest, added)
}

impl Loan {
    /// The days in a year of the regular interest's day count.
    pub(super) fn interest_year(&self) -> u64 {
        match &self.product {
            Product::Amortising { terms, .. } => days_in_year(terms.day_count),
            Product::Revenue(_) => REVENUE_DAYS_IN_YEAR,
        }
    }

    /// Accrues `days` days of regular interest, from `as_of`, on the principal not yet due.
    /// The span never crosses the end of the current period's scheduled days.
    pub(super) fn accrue_interest(&mut self, days: u32, progress: &mut Progress) {
        let Product::Amortising { terms, .. } = &self.product else {
            return;
        };
        let rate = terms.annual_rate.micro_percent();
        let year = self.interest_year();
        let balance = self.principal_not_due();
        let Some(index) = self.current_index() else {
            return;
        };
        if balance == 0 || rate == 0 {
            return;
        }
        let as_of = self.as_of;
        let instalment = &mut self.instalments[index];
        let elapsed = instalment.start_on.days_until(as_of);
        let weight = if elapsed < i64::from(instalment.base_days) {
            instalment.share.num * year
        } else {
            instalment.share.den * u64::from(instalment.base_days)
        };
        instalment.interest_numerator +=
            u128::from(balance) * u128::from(rate) * u128::from(weight) * u128::from(days);
        let accrued = instalment.interest_numerator / interest_denominator(instalment, year);
        let accrued = u64::try_from(accrued).unwrap_or(u64::MAX);
        progress.interest_accrued = progress
            .interest_accrued
            .saturating_add(fen(accrued.saturating_sub(instalment.interest_reported)));
        instalment.interest_reported = accrued;
    }

    /// Charges `days` days of penalty interest on the principal of every instalment due and
    /// unpaid, each instalment's remainder carried to the next day.
    pub(super) fn accrue_penalty(&mut self, days: u32, progress: &mut Progress) {
        let rate = self.policy.penalty_rate.micro_percent();
        if rate == 0 {
            return;
        }
        let denominator = penalty_denominator(self.interest_year());
        for instalment in &mut self.instalments {
            let overdue = instalment.outstanding(Component::Principal);
            if instalment.state != InstalmentState::Due || overdue == 0 {
                continue;
            }
            instalment.penalty_numerator +=
                u128::from(overdue) * u128::from(rate) * u128::from(days);
            let total =
                u64::try_from(instalment.penalty_numerator / denominator).unwrap_or(u64::MAX);
            let added = total.saturating_sub(instalment.charged.penalty);
            instalment.charged.penalty = total;
            self.charged.penalty += added;
            progress.penalty_charged = progress.penalty_charged.saturating_add(fen(added));
        }
    }

    /// Makes due every pending instalment whose due date has come: its interest is charged
    /// (rounded half to even) and so is the instalment fee.
    pub(super) fn fall_due(&mut self, progress: &mut Progress) {
        let fee = match &self.product {
            Product::Amortising { instalment_fee, .. } => *instalment_fee,
            Product::Revenue(_) => 0,
        };
        let year = self.interest_year();
        for instalment in &mut self.instalments {
            if instalment.state != InstalmentState::Pending || instalment.due_on > self.as_of {
                continue;
            }
            let (interest, added) = close_interest(instalment, year);
            instalment.charged.fee = fee;
            instalment.state = InstalmentState::Due;
            self.charged.interest += interest;
            self.charged.fee += fee;
            progress.interest_accrued = progress.interest_accrued.saturating_add(fen(added));
            progress.fell_due.push(FellDue::of(instalment));
        }
    }

    /// At the end of a revenue-based period, what it paid off the balance short of the minimum
    /// (at most the balance) becomes an instalment due today, taken from the fee and principal
    /// in the allocation order; the next period starts today.
    pub(super) fn end_revenue_period(&mut self, progress: &mut Progress) {
        let as_of = self.as_of;
        let order = self.policy.allocation;
        let number = u16::try_from(self.instalments.len() + 1).unwrap_or(u16::MAX);
        let Product::Revenue(revenue) = &mut self.product else {
            return;
        };
        if revenue.period_end != Some(as_of) {
            return;
        }
        let owed = revenue.balance.fee + revenue.balance.principal;
        let shortfall = revenue
            .minimum
            .saturating_sub(revenue.period_paid)
            .min(owed);
        let mut charged = Parts::default();
        let mut left = shortfall;
        for component in order.components() {
            if matches!(component, Component::Fee | Component::Principal) {
                let take = left.min(revenue.balance.get(component));
                *revenue.balance.slot(component) -= take;
                charged.add(component, take);
                left -= take;
            }
        }
        let period_start = revenue.period_start;
        revenue.period_start = as_of;
        revenue.period_paid = 0;
        revenue.period_end = if owed > shortfall {
            as_of.add_days(REVENUE_PERIOD_DAYS)
        } else {
            None
        };
        if shortfall > 0 {
            let mut instalment = Instalment::pending(number, period_start, as_of, Share::NONE, 0);
            instalment.charged = charged;
            instalment.state = InstalmentState::Due;
            progress.fell_due.push(FellDue::of(&instalment));
            self.instalments.push(instalment);
        }
    }
}
