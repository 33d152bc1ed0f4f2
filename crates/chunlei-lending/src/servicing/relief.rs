//! Relief measures (interest-free periods, repayment holidays) and write-off.

use chunlei_ledger::Fen;

use crate::schedule::Period;
use chunlei_ledger::CivilDate;

use super::accrual::{close_interest, period_share};
use super::{
    Amounts, Component, InstalmentState, Loan, Parts, Product, RELIEF_DAYS_MAX,
    RELIEF_MEASURES_MAX, ServicingError, fen,
};

/// A due date a holiday moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueDateMove {
    /// The instalment moved, or `None` for the end of a revenue-based loan's period.
    pub instalment: Option<u16>,
    pub from: CivilDate,
    pub to: CivilDate,
}

/// What a write-off wrote off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOff {
    pub on: CivilDate,
    /// Everything outstanding: principal due and not yet due, interest (the current period's
    /// included), fees and penalties.
    pub amounts: Amounts,
    /// The part of the current period's interest charged by the write-off that
    /// [`Loan::on_day`] had not reported as accrued (its rounding).
    pub interest_accrued: Fen,
    /// Days past due on the day of the write-off.
    pub days_past_due: u32,
}

impl Loan {
    /// No regular or penalty interest accrues from `from` to `to`, both included.
    pub fn grant_interest_free(
        &mut self,
        from: CivilDate,
        to: CivilDate,
    ) -> Result<(), ServicingError> {
        self.check_relief(from, to)?;
        self.interest_free.push((from, to));
        Ok(())
    }

    /// A repayment holiday from `from` to `to`, both included: the first instalment due within
    /// it moves to the day after it and every later due date is generated again from there (a
    /// revenue-based loan's period end within it moves the same way). Returns the due dates
    /// moved; none when nothing falls due within the holiday.
    pub fn grant_holiday(
        &mut self,
        from: CivilDate,
        to: CivilDate,
    ) -> Result<Vec<DueDateMove>, ServicingError> {
        self.check_relief(from, to)?;
        if let Some(&(_, earlier_to)) = self.holidays.last()
            && from <= earlier_to
        {
            return Err(ServicingError::HolidayOverlapsEarlier { from, earlier_to });
        }
        let after = to.add_days(1).ok_or(ServicingError::DueDateOutOfRange)?;
        let moves = match &mut self.product {
            Product::Amortising { .. } => None,
            Product::Revenue(revenue) => Some(match revenue.period_end {
                Some(end) if from <= end && end <= to => {
                    revenue.period_end = Some(after);
                    vec![DueDateMove {
                        instalment: None,
                        from: end,
                        to: after,
                    }]
                }
                Some(_) | None => Vec::new(),
            }),
        };
        let moves = match moves {
            Some(moves) => moves,
            None => self.move_instalments(from, to, after)?,
        };
        self.holidays.push((from, to));
        Ok(moves)
    }

    fn check_relief(&self, from: CivilDate, to: CivilDate) -> Result<(), ServicingError> {
        self.check_open()?;
        if to < from {
            return Err(ServicingError::ReliefEndsBeforeStart { from, to });
        }
        if from < self.as_of {
            return Err(ServicingError::ReliefStartsBeforeAsOf {
                from,
                as_of: self.as_of,
            });
        }
        let days = from.days_until(to) + 1;
        if days > i64::from(RELIEF_DAYS_MAX) {
            return Err(ServicingError::ReliefTooLong { days });
        }
        if self.holidays.len() + self.interest_free.len() >= RELIEF_MEASURES_MAX {
            return Err(ServicingError::ReliefMeasuresMax);
        }
        Ok(())
    }

    /// Moves the first pending instalment due from `from` to `to` to `after`, and generates
    /// the later due dates again from `after`. All new dates are worked out before any changes,
    /// so a refusal changes nothing.
    fn move_instalments(
        &mut self,
        from: CivilDate,
        to: CivilDate,
        after: CivilDate,
    ) -> Result<Vec<DueDateMove>, ServicingError> {
        let Product::Amortising { terms, .. } = &self.product else {
            return Ok(Vec::new());
        };
        let terms = terms.clone();
        let Some(first) = self.instalments.iter().position(|instalment| {
            instalment.state == InstalmentState::Pending
                && from <= instalment.due_on
                && instalment.due_on <= to
        }) else {
            return Ok(Vec::new());
        };
        let due_dates = (0..self.instalments.len() - first)
            .map(|step| regenerate(after, terms.every, step))
            .collect::<Option<Vec<CivilDate>>>()
            .ok_or(ServicingError::DueDateOutOfRange)?;
        let mut moves = Vec::new();
        let mut start_on = self.instalments[first].start_on;
        let moved = self.instalments[first..].iter_mut().zip(due_dates);
        for (step, (instalment, due_on)) in moved.enumerate() {
            moves.push(DueDateMove {
                instalment: Some(instalment.number),
                from: instalment.due_on,
                to: due_on,
            });
            if step == 0 {
                // The moved instalment: its period keeps its share and earns the added days.
                let added = instalment.due_on.days_until(due_on);
                instalment.extra_days += u32::try_from(added).unwrap_or(0);
            } else {
                instalment.start_on = start_on;
                instalment.share = period_share(&terms, start_on, due_on);
                instalment.base_days = u32::try_from(start_on.days_until(due_on)).unwrap_or(0);
                instalment.extra_days = 0;
            }
            instalment.due_on = due_on;
            start_on = due_on;
        }
        Ok(moves)
    }

    /// Writes off everything outstanding on `date` (after moving the loan there); the loan
    /// then accrues nothing and takes no payments.
    pub fn write_off(&mut self, date: CivilDate) -> Result<WriteOff, ServicingError> {
        self.on_day(date)?;
        self.check_open()?;
        let days_past_due = self.days_past_due();
        let mut interest_accrued = 0;
        if let Some(current) = self.current_index() {
            let year = self.interest_year();
            let (interest, added) = close_interest(&mut self.instalments[current], year);
            self.charged.interest += interest;
            interest_accrued = added;
        }
        let mut amounts = Parts::default();
        for instalment in &mut self.instalments {
            for component in Component::ALL {
                let outstanding = instalment.outstanding(component);
                instalment.written_off.add(component, outstanding);
                amounts.add(component, outstanding);
            }
        }
        if let Product::Revenue(revenue) = &mut self.product {
            for component in Component::ALL {
                amounts.add(component, revenue.balance.get(component));
            }
            revenue.balance = Parts::default();
            revenue.period_end = None;
        }
        for component in Component::ALL {
            self.written_off.add(component, amounts.get(component));
        }
        self.written_off_on = Some(date);
        Ok(WriteOff {
            on: date,
            amounts: amounts.amounts(),
            interest_accrued: fen(interest_accrued),
            days_past_due,
        })
    }
}

/// The due date `step` repayment periods after `anchor`.
fn regenerate(anchor: CivilDate, every: Period, step: usize) -> Option<CivilDate> {
    let step = u32::try_from(step).ok()?;
    match every {
        Period::Days(days) => anchor.add_days(u32::from(days).checked_mul(step)?),
        Period::Weeks(weeks) => anchor.add_days((7 * u32::from(weeks)).checked_mul(step)?),
        Period::Months(months) => anchor.add_months(u32::from(months).checked_mul(step)?),
    }
}
