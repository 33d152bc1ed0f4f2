//! Loan servicing: a loan account's life after disbursement, as data. A [`Loan`] is built from
//! a repayment schedule ([`Loan::from_schedule`], [`Loan::from_terms`]) or from the terms of a
//! revenue-based product ([`Loan::revenue_based`]) and then moved forward by the caller: days
//! pass ([`Loan::on_day`]), payments arrive ([`Loan::apply_payment`]), settlements are withheld
//! from ([`Loan::collect_from_settlement`]), relief is granted ([`Loan::grant_holiday`],
//! [`Loan::grant_interest_free`]) and the loan may be written off ([`Loan::write_off`]). Every
//! call returns what it did in fen, for the ledger to post; [`Loan::summary`] reports the state.
//!
//! Like the rest of the crate this module is pure: no IO and no clock. Dates come in as
//! arguments, and a loan refuses a date before the last one it was moved to.
//!
//! # Time
//!
//! A loan stands on a day, [`Loan::as_of`], which starts as the disbursement date. Moving it to
//! a later day accrues every day in between — the day it stood on included, the new day
//! excluded — and then makes due what falls due on the new day. So interest for the days
//! `start..due` of a period is complete when the due date arrives, an instalment due on `D` is
//! due (not overdue) during `D`, and one still unpaid when the loan is moved to `D + n` is `n`
//! days past due with `n` days of penalty interest. Payments and relief dated `D` apply after
//! `D`'s instalments fell due and before `D` itself accrues. Every call that takes a date moves
//! the loan there first; a caller that posts accruals calls [`Loan::on_day`] itself first and
//! gets them in a [`Progress`].
//!
//! # Interest, to the fen, without drift
//!
//! Regular interest accrues every day on the principal not yet due: the balance the schedule
//! charges interest on. Each instalment keeps the exact interest of its period as an integer
//! fraction (a numerator over a fixed denominator) and the days add to the numerator; the fen
//! accrued so far is that fraction rounded down, and when the instalment falls due its interest
//! is the fraction rounded half to even — the schedule's own rounding, so the daily accruals of
//! a period add up exactly to its interest. A period's share of a year is the schedule's
//! (`schedule.rs`, `interest_share`), spread evenly over the period's actual days: under 30/360
//! a 31-day month earns 30/360 of the rate, 1/31 of it each day; under actual/365 each day
//! earns 1/365. For a borrower who pays on time the principal not yet due during a period is
//! exactly the schedule's opening balance, so the interest of every instalment is the
//! schedule's to the fen. [`Loan::from_schedule`] checks that before accepting a schedule. This
//! is Fineract's periodic accrual (an instalment's interest × days elapsed / days in period)
//! done exactly.
//!
//! Overdue principal bears penalty interest instead of regular interest, at
//! [`Policy::penalty_rate`] a year over the product's days in a year (360 or 365) for each
//! actual day past due, charged to the instalment every day (rounded down, with the remainder
//! carried). This is how penalty interest (罚息) works on overdue loans in China: a higher rate
//! on the overdue principal from the day after its due date. Interest on overdue interest
//! (compound interest, 复利) is not charged.
//!
//! # Payments
//!
//! A payment pays what is due, oldest instalment first, each instalment's components in the
//! [`AllocationOrder`] (default penalty, fee, interest, principal: Fineract's
//! `mifos-standard-strategy`, "Penalties, Fees, Interest, Principal order"). What is left is a
//! prepayment:
//!
//! - an amortising loan takes it as principal not yet due, from the **last** instalment back
//!   (the term is shortened, as with Fineract's reschedule strategy "reduce number of
//!   installments"; the instalments that remain keep their principal). An instalment whose
//!   principal is prepaid in full is cancelled: it never falls due and charges no fee. Interest
//!   keeps accruing on the smaller balance, so the next instalments carry less interest. When
//!   the last of the principal is prepaid, the interest accrued in the current period is
//!   charged (rounded half to even) and due that day, as in a foreclosure, and the rest of the
//!   payment pays it. Unlike Fineract, which pays the next instalment "in advance", a payment
//!   before a due date therefore does not pay that instalment: it reduces the principal.
//! - a revenue-based loan takes it as the fee and principal not yet due, in the order.
//!
//! Anything left after that is [`Allocation::excess`]: not taken, for the caller to return.
//!
//! # Revenue-based loans
//!
//! A revenue-based loan owes its principal and a fixed fee from the start, with no interest.
//! Each settlement gives up [`RevenueTerms::withholding_bps`] of its net amount (rounded down,
//! so a merchant never gives up more than the rate), capped at what is owed. Every
//! [`REVENUE_PERIOD_DAYS`]-day period from disbursement must pay at least
//! [`RevenueTerms::minimum_per_period`] off the balance not yet due; what a period falls short
//! by (at most the balance) becomes an instalment due on the day the period ends (60 days after
//! it started), paid, aged and charged penalty like any other. Payments of earlier shortfalls and penalties do not count
//! towards a period's minimum, or catching up would satisfy the next period too.
//!
//! # Relief
//!
//! - **Interest-free period** ([`Loan::grant_interest_free`]): no regular or penalty interest
//!   accrues on its days (the 2020 relief measures waived both).
//! - **Repayment holiday** ([`Loan::grant_holiday`]): the first instalment due within the
//!   holiday is moved to the day after it, and every later due date is generated again from that
//!   date with the loan's repayment period. This follows Fineract's loan reschedule with an
//!   "adjusted due date" (`LoanRescheduleRequest` `adjustedDueDate`; the e2e scenario
//!   `@TestRailId:C2805` moves 1 September to 15 September and the next instalment from
//!   1 October to 15 October). Fineract's organisation holidays (`Holiday`,
//!   `RescheduleType.RESCHEDULETOSPECIFICDATE` / `RESCHEDULETONEXTREPAYMENTDATE`) instead move
//!   only the due dates inside the holiday, onto one date or onto the next instalment's, which
//!   piles instalments up after the holiday; for relief that is the wrong effect. Interest keeps
//!   accruing through a holiday (combine it with an interest-free period to waive it): the
//!   moved instalment's period earns its scheduled share plus one day of the day count's year
//!   for each day it was extended, and the regenerated periods earn their share by their new
//!   dates. A revenue-based loan's period end inside the holiday moves the same way.
//!
//! # Write-off
//!
//! [`Loan::write_off`] charges the interest accrued in the current period and writes off
//! everything outstanding (principal due and not yet due, interest, fees, penalties); the loan
//! then accrues nothing and takes no payments.
//!
//! # Accounting identity
//!
//! For every component, charged = paid + outstanding + written off, where principal is charged
//! at disbursement, interest when an instalment falls due (or at a foreclosure or write-off),
//! an instalment fee when its instalment falls due, a revenue-based fee at disbursement and
//! penalties day by day. The loan keeps the totals apart from the instalments, and the property
//! tests check the two against each other.

mod accrual;
mod allocate;
mod error;
mod relief;
mod report;
mod terms;

pub use allocate::{Allocation, AllocationLine, Collection};
pub use error::ServicingError;
pub use relief::{DueDateMove, WriteOff};
pub use report::{
    Amounts, ArrearsBucket, FellDue, InstalmentState, InstalmentView, Progress, Status, Summary,
};
pub use terms::{
    AllocationOrder, Component, FEE_FEN_MAX, Policy, RELIEF_DAYS_MAX, RELIEF_MEASURES_MAX,
    REVENUE_PERIOD_DAYS, REVENUE_PERIODS_MAX, RevenueTerms, WITHHOLDING_BPS_MAX,
};

use chunlei_ledger::Fen;

use crate::schedule::{PERIODS_MAX, PRINCIPAL_FEN_MAX, Schedule, Terms};
use crate::{ScheduleError, schedule};
use accrual::Share;
use chunlei_ledger::CivilDate;

/// A loan account after disbursement. See the module documentation for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loan {
    product: Product,
    policy: Policy,
    disbursed_on: CivilDate,
    /// Every day before this one has accrued; everything due on or before it is due.
    as_of: CivilDate,
    /// In due-date order; numbers start at 1.
    instalments: Vec<Instalment>,
    /// Inclusive date ranges.
    interest_free: Vec<(CivilDate, CivilDate)>,
    /// Inclusive date ranges, each starting after the previous one ended.
    holidays: Vec<(CivilDate, CivilDate)>,
    /// Loan-level totals, kept apart from the instalments (the accounting identity).
    charged: Parts,
    paid: Parts,
    written_off: Parts,
    written_off_on: Option<CivilDate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Product {
    Amortising { terms: Terms, instalment_fee: u64 },
    Revenue(Revenue),
}

/// The running state of a revenue-based loan.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Revenue {
    withholding_bps: u32,
    minimum: u64,
    /// The fee and principal not yet due (interest and penalty stay zero).
    balance: Parts,
    period_start: CivilDate,
    /// The current minimum-payment period ends on this day; `None` once nothing is left.
    period_end: Option<CivilDate>,
    /// Paid off `balance` since the current period started.
    period_paid: u64,
}

/// One instalment. Amounts are fen in `u64`: every amount is bounded by the principal limit,
/// the fee limit and penalties of at most 100 % a year until 9999, all far below `Fen::MAX`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Instalment {
    number: u16,
    /// Interest of this instalment accrues from this day (the previous due date).
    start_on: CivilDate,
    due_on: CivilDate,
    /// The days of the period as scheduled; its share of a year is spread over them.
    base_days: u32,
    share: Share,
    /// Days a holiday added to the period; each earns 1/year.
    extra_days: u32,
    state: InstalmentState,
    /// Principal as scheduled; interest and fee once due; penalty as charged.
    charged: Parts,
    paid: Parts,
    written_off: Parts,
    /// Exact interest so far, over `accrual::interest_denominator`.
    interest_numerator: u128,
    /// Interest reported as accrued so far (the numerator rounded down, in fen).
    interest_reported: u64,
    /// Exact penalty so far, over `accrual::penalty_denominator`.
    penalty_numerator: u128,
}

/// The four components of an amount owed, in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Parts {
    principal: u64,
    interest: u64,
    fee: u64,
    penalty: u64,
}

impl Parts {
    fn get(self, component: Component) -> u64 {
        match component {
            Component::Principal => self.principal,
            Component::Interest => self.interest,
            Component::Fee => self.fee,
            Component::Penalty => self.penalty,
        }
    }

    fn slot(&mut self, component: Component) -> &mut u64 {
        match component {
            Component::Principal => &mut self.principal,
            Component::Interest => &mut self.interest,
            Component::Fee => &mut self.fee,
            Component::Penalty => &mut self.penalty,
        }
    }

    fn add(&mut self, component: Component, amount: u64) {
        *self.slot(component) += amount;
    }

    fn total(self) -> u64 {
        self.principal + self.interest + self.fee + self.penalty
    }

    fn amounts(self) -> Amounts {
        Amounts {
            principal: fen(self.principal),
            interest: fen(self.interest),
            fee: fen(self.fee),
            penalty: fen(self.penalty),
        }
    }
}

/// An amount as `Fen`. Servicing amounts stay far below `Fen::MAX` (see [`Instalment`]), so the
/// fallback is never taken.
fn fen(amount: u64) -> Fen {
    Fen::new(amount).unwrap_or(Fen::MAX)
}

impl Instalment {
    fn outstanding(&self, component: Component) -> u64 {
        self.charged
            .get(component)
            .saturating_sub(self.paid.get(component))
            .saturating_sub(self.written_off.get(component))
    }

    fn outstanding_total(&self) -> u64 {
        Component::ALL
            .iter()
            .map(|&component| self.outstanding(component))
            .sum()
    }
}

impl Loan {
    /// A loan repaid by the schedule of `terms`, each instalment charging `instalment_fee` when
    /// it falls due (Fineract's "instalment fee" charge).
    pub fn from_terms(
        terms: &Terms,
        instalment_fee: Fen,
        policy: Policy,
    ) -> Result<Loan, ServicingError> {
        let schedule = schedule(terms).map_err(ServicingError::Schedule)?;
        Loan::from_schedule(terms, &schedule, instalment_fee, policy)
    }

    /// A loan repaid by `schedule`, which must be the schedule of `terms` (every row's interest
    /// is checked against the interest the loan will accrue, so an on-time borrower pays the
    /// schedule to the fen).
    pub fn from_schedule(
        terms: &Terms,
        schedule: &Schedule,
        instalment_fee: Fen,
        policy: Policy,
    ) -> Result<Loan, ServicingError> {
        check_amortising(terms, schedule, instalment_fee)?;
        let mut instalments = Vec::with_capacity(schedule.rows.len());
        let mut start_on = terms.disbursed_on;
        let mut balance = terms.principal.get();
        for row in &schedule.rows {
            let period = row.period;
            let mismatch = ServicingError::ScheduleMismatch { period };
            if row.due_on <= start_on || row.principal.get() > balance {
                return Err(mismatch);
            }
            let share = accrual::period_share(terms, start_on, row.due_on);
            let interest = accrual::scheduled_interest(balance, terms.annual_rate, share);
            balance -= row.principal.get();
            if interest != row.interest.get() || balance != row.balance.get() {
                return Err(mismatch);
            }
            instalments.push(Instalment::pending(
                period,
                start_on,
                row.due_on,
                share,
                row.principal.get(),
            ));
            start_on = row.due_on;
        }
        if balance != 0 {
            return Err(ServicingError::ScheduleMismatch {
                period: schedule.rows.last().map_or(0, |row| row.period),
            });
        }
        let product = Product::Amortising {
            terms: terms.clone(),
            instalment_fee: instalment_fee.get(),
        };
        Ok(Loan::new(
            product,
            policy,
            terms.disbursed_on,
            instalments,
            0,
        ))
    }

    /// A revenue-based loan: repaid from a share of every settlement, with a minimum per
    /// [`REVENUE_PERIOD_DAYS`] days.
    pub fn revenue_based(terms: &RevenueTerms, policy: Policy) -> Result<Loan, ServicingError> {
        terms.check()?;
        let balance = Parts {
            principal: terms.principal.get(),
            fee: terms.fee.get(),
            ..Parts::default()
        };
        let product = Product::Revenue(Revenue {
            withholding_bps: terms.withholding_bps,
            minimum: terms.minimum_per_period.get(),
            balance,
            period_start: terms.disbursed_on,
            period_end: terms.disbursed_on.add_days(REVENUE_PERIOD_DAYS),
            period_paid: 0,
        });
        Ok(Loan::new(
            product,
            policy,
            terms.disbursed_on,
            Vec::new(),
            terms.fee.get(),
        ))
    }

    fn new(
        product: Product,
        policy: Policy,
        disbursed_on: CivilDate,
        instalments: Vec<Instalment>,
        fee_charged: u64,
    ) -> Loan {
        let principal = match &product {
            Product::Amortising { terms, .. } => terms.principal.get(),
            Product::Revenue(revenue) => revenue.balance.principal,
        };
        Loan {
            product,
            policy,
            disbursed_on,
            as_of: disbursed_on,
            instalments,
            interest_free: Vec::new(),
            holidays: Vec::new(),
            charged: Parts {
                principal,
                fee: fee_charged,
                ..Parts::default()
            },
            paid: Parts::default(),
            written_off: Parts::default(),
            written_off_on: None,
        }
    }

    /// The day the loan stands on: every earlier day has accrued.
    pub fn as_of(&self) -> CivilDate {
        self.as_of
    }

    pub fn disbursed_on(&self) -> CivilDate {
        self.disbursed_on
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Moves the loan to `date`: accrues interest and penalties for every day from the day it
    /// stood on up to the day before `date`, and makes due what falls due on the way (and on
    /// `date` itself). Moving to the day it stands on does nothing.
    pub fn on_day(&mut self, date: CivilDate) -> Result<Progress, ServicingError> {
        if date < self.as_of {
            return Err(ServicingError::DateBeforeAsOf {
                date,
                as_of: self.as_of,
            });
        }
        let mut progress = Progress::default();
        while self.as_of < date {
            let next = self.next_boundary(date);
            let days = u32::try_from(self.as_of.days_until(next)).unwrap_or(0);
            if self.written_off_on.is_none() && !self.is_interest_free(self.as_of) {
                self.accrue_interest(days, &mut progress);
                self.accrue_penalty(days, &mut progress);
            }
            self.as_of = next;
            if self.written_off_on.is_none() {
                self.fall_due(&mut progress);
                self.end_revenue_period(&mut progress);
            }
        }
        Ok(progress)
    }

    /// The first day after `as_of`, not after `target`, on which the daily rates may change:
    /// a due date, the end of a period's scheduled days, the edge of an interest-free period or
    /// the end of a revenue-based period.
    fn next_boundary(&self, target: CivilDate) -> CivilDate {
        let mut next = target;
        let mut consider = |day: Option<CivilDate>| {
            if let Some(day) = day
                && day > self.as_of
                && day < next
            {
                next = day;
            }
        };
        if let Some(current) = self.current_index().map(|index| &self.instalments[index]) {
            consider(Some(current.due_on));
            consider(current.start_on.add_days(current.base_days));
        }
        for &(from, to) in &self.interest_free {
            consider(Some(from));
            consider(to.add_days(1));
        }
        if let Product::Revenue(revenue) = &self.product {
            consider(revenue.period_end);
        }
        next
    }

    /// The instalment accruing interest now: the first one neither due nor cancelled.
    fn current_index(&self) -> Option<usize> {
        self.instalments
            .iter()
            .position(|instalment| instalment.state == InstalmentState::Pending)
    }

    fn is_interest_free(&self, day: CivilDate) -> bool {
        self.interest_free
            .iter()
            .any(|&(from, to)| from <= day && day <= to)
    }

    /// Principal not yet due: instalments pending, or the revenue-based balance.
    fn principal_not_due(&self) -> u64 {
        match &self.product {
            Product::Amortising { .. } => self
                .instalments
                .iter()
                .filter(|instalment| instalment.state == InstalmentState::Pending)
                .map(|instalment| instalment.outstanding(Component::Principal))
                .sum(),
            Product::Revenue(revenue) => revenue.balance.principal,
        }
    }

    fn check_open(&self) -> Result<(), ServicingError> {
        if self.written_off_on.is_some() {
            return Err(ServicingError::LoanWrittenOff);
        }
        if self.is_closed() {
            return Err(ServicingError::LoanClosed);
        }
        Ok(())
    }

    /// Nothing is owed and nothing more will accrue.
    fn is_closed(&self) -> bool {
        let pending_interest = self
            .current_index()
            .is_some_and(|index| self.instalments[index].interest_numerator != 0);
        self.written_off_on.is_none() && self.outstanding().total() == 0 && !pending_interest
    }
}

impl Instalment {
    fn pending(
        number: u16,
        start_on: CivilDate,
        due_on: CivilDate,
        share: Share,
        principal: u64,
    ) -> Instalment {
        Instalment {
            number,
            start_on,
            due_on,
            base_days: u32::try_from(start_on.days_until(due_on)).unwrap_or(0),
            share,
            extra_days: 0,
            state: InstalmentState::Pending,
            charged: Parts {
                principal,
                ..Parts::default()
            },
            paid: Parts::default(),
            written_off: Parts::default(),
            interest_numerator: 0,
            interest_reported: 0,
            penalty_numerator: 0,
        }
    }
}

fn check_amortising(
    terms: &Terms,
    schedule: &Schedule,
    instalment_fee: Fen,
) -> Result<(), ServicingError> {
    let principal_fen = terms.principal.get();
    if principal_fen == 0 || principal_fen > PRINCIPAL_FEN_MAX {
        return Err(ServicingError::PrincipalOutOfRange { principal_fen });
    }
    let every = terms.every;
    if every.count() == 0 || every.count() > every.max() {
        return Err(ServicingError::Schedule(
            ScheduleError::RepaymentEveryOutOfRange { every },
        ));
    }
    if schedule.rows.is_empty() {
        return Err(ServicingError::ScheduleEmpty);
    }
    if schedule.rows.len() > usize::from(PERIODS_MAX) {
        return Err(ServicingError::ScheduleTooLong {
            rows: schedule.rows.len(),
        });
    }
    if instalment_fee.get() > FEE_FEN_MAX {
        return Err(ServicingError::FeeAboveMaximum {
            fee_fen: instalment_fee.get(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
