//! What a loan reports: amounts by component, status, arrears ageing, the summary, the
//! instalments and what moving a day did.

use std::fmt;

use chunlei_ledger::Fen;

use chunlei_ledger::CivilDate;

use super::{Component, Instalment, Loan, Parts, Product, fen};

/// An amount owed, paid, charged or written off, by component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Amounts {
    pub principal: Fen,
    pub interest: Fen,
    pub fee: Fen,
    pub penalty: Fen,
}

impl Amounts {
    pub fn get(&self, component: Component) -> Fen {
        match component {
            Component::Principal => self.principal,
            Component::Interest => self.interest,
            Component::Fee => self.fee,
            Component::Penalty => self.penalty,
        }
    }

    /// The sum of the four; servicing amounts are far below `Fen::MAX`, so it never saturates.
    pub fn total(&self) -> Fen {
        self.principal
            .saturating_add(self.interest)
            .saturating_add(self.fee)
            .saturating_add(self.penalty)
    }
}

/// Where an instalment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstalmentState {
    /// Not yet due; the first pending instalment accrues interest.
    Pending,
    /// Due (its due date has come, or the loan was paid off early): interest and fee charged.
    Due,
    /// Prepaid in full before its period began: the shortened term no longer has it.
    Cancelled,
}

impl InstalmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstalmentState::Pending => "pending",
            InstalmentState::Due => "due",
            InstalmentState::Cancelled => "cancelled",
        }
    }
}

/// The status of a loan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Nothing past due.
    Active,
    /// Something due before today is unpaid.
    InArrears,
    /// Repaid in full (Fineract "closed obligations met").
    Closed,
    WrittenOff,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::InArrears => "in_arrears",
            Status::Closed => "closed",
            Status::WrittenOff => "written_off",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Arrears ageing by the days past due of the oldest unpaid instalment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArrearsBucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl ArrearsBucket {
    pub fn of(days_past_due: u32) -> ArrearsBucket {
        match days_past_due {
            0 => ArrearsBucket::Current,
            1..=30 => ArrearsBucket::Days1To30,
            31..=60 => ArrearsBucket::Days31To60,
            61..=90 => ArrearsBucket::Days61To90,
            _ => ArrearsBucket::Over90,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ArrearsBucket::Current => "current",
            ArrearsBucket::Days1To30 => "1-30",
            ArrearsBucket::Days31To60 => "31-60",
            ArrearsBucket::Days61To90 => "61-90",
            ArrearsBucket::Over90 => "90+",
        }
    }
}

impl fmt::Display for ArrearsBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An instalment that fell due, with what it asks for (penalty excluded: none yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FellDue {
    pub instalment: u16,
    pub due_on: CivilDate,
    pub amounts: Amounts,
}

impl FellDue {
    pub(super) fn of(instalment: &Instalment) -> FellDue {
        let mut amounts = Parts::default();
        for component in Component::ALL {
            amounts.add(component, instalment.outstanding(component));
        }
        FellDue {
            instalment: instalment.number,
            due_on: instalment.due_on,
            amounts: amounts.amounts(),
        }
    }
}

/// What moving a loan forward did, for the ledger to post.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Regular interest accrued (including the rounding charged when an instalment fell due).
    pub interest_accrued: Fen,
    /// Penalty interest charged.
    pub penalty_charged: Fen,
    /// Instalments that fell due, in order.
    pub fell_due: Vec<FellDue>,
}

/// A loan's state on the day it stands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub as_of: CivilDate,
    pub status: Status,
    /// Owed: principal due and not yet due, charged interest, fees and penalties.
    pub outstanding: Amounts,
    /// Interest accrued in the current period, not yet charged (rounded down).
    pub interest_accrued: Fen,
    /// Due and unpaid, today's instalment included.
    pub due: Fen,
    /// Due before today and unpaid.
    pub overdue: Fen,
    pub charged: Amounts,
    pub paid: Amounts,
    pub total_paid: Fen,
    pub written_off: Amounts,
    pub days_past_due: u32,
    pub arrears: ArrearsBucket,
}

/// One instalment as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstalmentView {
    pub number: u16,
    pub start_on: CivilDate,
    pub due_on: CivilDate,
    pub state: InstalmentState,
    /// Principal as scheduled (or a revenue-based shortfall's fee and principal); interest and
    /// fee once due; penalty as charged.
    pub charged: Amounts,
    pub paid: Amounts,
    pub written_off: Amounts,
    pub outstanding: Amounts,
}

impl Loan {
    pub fn status(&self) -> Status {
        if self.written_off_on.is_some() {
            Status::WrittenOff
        } else if self.is_closed() {
            Status::Closed
        } else if self.days_past_due() > 0 {
            Status::InArrears
        } else {
            Status::Active
        }
    }

    /// Days since the due date of the oldest instalment with anything unpaid, or zero.
    pub fn days_past_due(&self) -> u32 {
        self.instalments
            .iter()
            .filter(|instalment| {
                instalment.due_on < self.as_of && instalment.outstanding_total() != 0
            })
            .filter(|instalment| instalment.state == InstalmentState::Due)
            .map(|instalment| instalment.due_on.days_until(self.as_of))
            .max()
            .map_or(0, |days| u32::try_from(days).unwrap_or(u32::MAX))
    }

    /// Everything owed, by component.
    pub(super) fn outstanding(&self) -> Parts {
        let mut outstanding = match &self.product {
            Product::Amortising { .. } => Parts::default(),
            Product::Revenue(revenue) => revenue.balance,
        };
        for instalment in &self.instalments {
            for component in Component::ALL {
                outstanding.add(component, instalment.outstanding(component));
            }
        }
        outstanding
    }

    pub fn summary(&self) -> Summary {
        let interest_accrued = match (self.written_off_on, self.current_index()) {
            (None, Some(index)) => self.instalments[index].interest_reported,
            (Some(_), _) | (None, None) => 0,
        };
        let overdue = self
            .instalments
            .iter()
            .filter(|instalment| {
                instalment.state == InstalmentState::Due && instalment.due_on < self.as_of
            })
            .map(Instalment::outstanding_total)
            .sum();
        let days_past_due = self.days_past_due();
        Summary {
            as_of: self.as_of,
            status: self.status(),
            outstanding: self.outstanding().amounts(),
            interest_accrued: fen(interest_accrued),
            due: fen(self.due_outstanding()),
            overdue: fen(overdue),
            charged: self.charged.amounts(),
            paid: self.paid.amounts(),
            total_paid: fen(self.paid.total()),
            written_off: self.written_off.amounts(),
            days_past_due,
            arrears: ArrearsBucket::of(days_past_due),
        }
    }

    /// The instalments in due-date order (a revenue-based loan's are its shortfalls).
    pub fn instalments(&self) -> Vec<InstalmentView> {
        self.instalments
            .iter()
            .map(|instalment| {
                let mut outstanding = Parts::default();
                for component in Component::ALL {
                    outstanding.add(component, instalment.outstanding(component));
                }
                InstalmentView {
                    number: instalment.number,
                    start_on: instalment.start_on,
                    due_on: instalment.due_on,
                    state: instalment.state,
                    charged: instalment.charged.amounts(),
                    paid: instalment.paid.amounts(),
                    written_off: instalment.written_off.amounts(),
                    outstanding: outstanding.amounts(),
                }
            })
            .collect()
    }
}
