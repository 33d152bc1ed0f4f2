//! Payments and collection: what is due is paid first, oldest instalment first, each
//! instalment's components in the allocation order; what is left prepays; the rest is excess.

use chunlei_ledger::Fen;

use chunlei_ledger::CivilDate;

use super::accrual::close_interest;
use super::{
    Amounts, Component, InstalmentState, Loan, Parts, Product, ServicingError, WITHHOLDING_BPS_MAX,
    fen,
};

/// Where a payment went, for the ledger to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub on: CivilDate,
    pub amount: Fen,
    /// What the payment paid, by component, due or not: `applied.total() + excess == amount`.
    pub applied: Amounts,
    /// The part of `applied` that was not yet due (principal prepaid, or a revenue-based
    /// balance paid off).
    pub in_advance: Fen,
    /// Interest the payment made accrue: paying off the last principal charges the current
    /// period's interest, rounded half to even, of which this is the part not yet reported
    /// as accrued by [`Loan::on_day`].
    pub interest_accrued: Fen,
    /// Not taken, because nothing more is owed: for the caller to return.
    pub excess: Fen,
    /// Each amount paid, in the order paid; zero amounts are left out.
    pub lines: Vec<AllocationLine>,
}

/// One amount of an [`Allocation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocationLine {
    /// The instalment paid, or `None` for a revenue-based loan's balance not yet due.
    pub instalment: Option<u16>,
    pub component: Component,
    pub amount: Fen,
    /// Paid before it was due.
    pub in_advance: bool,
}

/// What a settlement gave up to the loan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// The settlement's net amount before withholding.
    pub net: Fen,
    /// Withheld from it for the loan: never more than `net`, never more than owed.
    pub withheld: Fen,
    pub allocation: Allocation,
}

/// A payment being spent.
struct Payer {
    on: CivilDate,
    amount: u64,
    left: u64,
    interest_accrued: u64,
    lines: Vec<AllocationLine>,
}

impl Payer {
    /// Takes up to `owed` from what is left.
    fn take(&mut self, owed: u64) -> u64 {
        let taken = self.left.min(owed);
        self.left -= taken;
        taken
    }

    fn record(
        &mut self,
        instalment: Option<u16>,
        component: Component,
        amount: u64,
        in_advance: bool,
    ) {
        if amount != 0 {
            self.lines.push(AllocationLine {
                instalment,
                component,
                amount: fen(amount),
                in_advance,
            });
        }
    }

    fn finish(self) -> Allocation {
        let mut applied = Parts::default();
        let mut in_advance = 0;
        for line in &self.lines {
            applied.add(line.component, line.amount.get());
            if line.in_advance {
                in_advance += line.amount.get();
            }
        }
        Allocation {
            on: self.on,
            amount: fen(self.amount),
            applied: applied.amounts(),
            in_advance: fen(in_advance),
            interest_accrued: fen(self.interest_accrued),
            excess: fen(self.left),
            lines: self.lines,
        }
    }
}

impl Loan {
    /// Moves the loan to `date` and applies a payment of `amount` to it.
    pub fn apply_payment(
        &mut self,
        date: CivilDate,
        amount: Fen,
    ) -> Result<Allocation, ServicingError> {
        self.on_day(date)?;
        self.check_open()?;
        if amount.is_zero() {
            return Err(ServicingError::PaymentZero);
        }
        Ok(self.allocate(amount.get()))
    }

    /// Moves the loan to `date` and withholds from a settlement of `net` what the product
    /// takes: for a revenue-based loan its withholding rate of `net` (rounded down), for an
    /// amortising loan what is due and unpaid; either way at most what is owed. A loan that is
    /// repaid or written off withholds nothing.
    pub fn collect_from_settlement(
        &mut self,
        date: CivilDate,
        net: Fen,
    ) -> Result<Collection, ServicingError> {
        self.on_day(date)?;
        let withheld = if self.check_open().is_ok() {
            self.withholding(net.get())
        } else {
            0
        };
        Ok(Collection {
            net,
            withheld: fen(withheld),
            allocation: self.allocate(withheld),
        })
    }

    fn withholding(&self, net: u64) -> u64 {
        match &self.product {
            Product::Revenue(revenue) => {
                // Rounded down: a merchant never gives up more than the rate.
                let share = u128::from(net) * u128::from(revenue.withholding_bps)
                    / u128::from(WITHHOLDING_BPS_MAX);
                u64::try_from(share)
                    .unwrap_or(u64::MAX)
                    .min(self.outstanding().total())
            }
            Product::Amortising { .. } => net.min(self.due_outstanding()),
        }
    }

    /// Outstanding on the instalments that are due (today's included).
    pub(super) fn due_outstanding(&self) -> u64 {
        self.instalments
            .iter()
            .filter(|instalment| instalment.state == InstalmentState::Due)
            .map(|instalment| instalment.outstanding_total())
            .sum()
    }

    fn allocate(&mut self, amount: u64) -> Allocation {
        let mut payer = Payer {
            on: self.as_of,
            amount,
            left: amount,
            interest_accrued: 0,
            lines: Vec::new(),
        };
        if amount != 0 {
            self.pay_due(&mut payer);
            match self.product {
                Product::Amortising { .. } => self.prepay(&mut payer),
                Product::Revenue(_) => self.pay_balance(&mut payer),
            }
        }
        payer.finish()
    }

    /// Pays the instalments that are due, oldest first, each in the allocation order.
    fn pay_due(&mut self, payer: &mut Payer) {
        for index in 0..self.instalments.len() {
            if self.instalments[index].state == InstalmentState::Due {
                self.pay_in_order(index, payer);
            }
        }
    }

    fn pay_in_order(&mut self, index: usize, payer: &mut Payer) {
        for component in self.policy.allocation.components() {
            self.pay(index, component, false, payer);
        }
    }

    fn pay(&mut self, index: usize, component: Component, in_advance: bool, payer: &mut Payer) {
        let instalment = &mut self.instalments[index];
        let amount = payer.take(instalment.outstanding(component));
        instalment.paid.add(component, amount);
        self.paid.add(component, amount);
        payer.record(Some(instalment.number), component, amount, in_advance);
    }

    /// Prepays principal not yet due, from the last instalment back: an instalment prepaid in
    /// full is cancelled (the term is shortened). Paying off the current instalment's principal
    /// too forecloses the loan: the interest accrued in the current period is charged and due
    /// today, and the rest of the payment pays it.
    fn prepay(&mut self, payer: &mut Payer) {
        let Some(current) = self.current_index() else {
            return;
        };
        for index in (current + 1..self.instalments.len()).rev() {
            if self.instalments[index].state != InstalmentState::Pending {
                continue;
            }
            self.pay(index, Component::Principal, true, payer);
            if self.instalments[index].outstanding(Component::Principal) != 0 {
                return;
            }
            self.instalments[index].state = InstalmentState::Cancelled;
        }
        self.pay(current, Component::Principal, true, payer);
        if self.instalments[current].outstanding(Component::Principal) != 0 {
            return;
        }
        let year = self.interest_year();
        let instalment = &mut self.instalments[current];
        let (interest, added) = close_interest(instalment, year);
        instalment.due_on = self.as_of;
        instalment.state = InstalmentState::Due;
        self.charged.interest += interest;
        payer.interest_accrued += added;
        self.pay_in_order(current, payer);
    }

    /// Pays a revenue-based loan's fee and principal not yet due, in the allocation order.
    /// What it pays counts towards the current period's minimum.
    fn pay_balance(&mut self, payer: &mut Payer) {
        let order = self.policy.allocation.components();
        let Product::Revenue(revenue) = &mut self.product else {
            return;
        };
        for component in order {
            if !matches!(component, Component::Fee | Component::Principal) {
                continue;
            }
            let amount = payer.take(revenue.balance.get(component));
            *revenue.balance.slot(component) -= amount;
            revenue.period_paid += amount;
            self.paid.add(component, amount);
            payer.record(None, component, amount, true);
        }
    }
}
