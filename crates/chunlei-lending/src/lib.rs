//! Lending: repayment schedules of amortising loans, to the fen, as Apache Fineract's
//! cumulative ("classic", `LoanScheduleType.CUMULATIVE`) schedule generator works them out for a
//! declining-balance loan with no grace periods, charges or interest recalculation; the
//! servicing of a loan after disbursement ([`servicing`]: daily accrual, allocation of
//! payments, arrears ageing, penalty, collection from settlements, relief, write-off); and
//! the "310" decision ([`decision`]: features, knock-outs, grades, offer sizing, the bank
//! consortium's policies, best price, bilingual decline reasons).
//!
//! The crate is pure like the ledger: no IO, no clock, no database. [`schedule`] takes
//! [`Terms`] and returns a [`Schedule`]; [`schedule_cli`] parses the text arguments of
//! `chunlei loan schedule` and returns the schedule as CSV.
//!
//! # Methods
//!
//! - **Equal installments** ([`Method::EqualInstallments`], Fineract `EQUAL_INSTALLMENTS`, an
//!   annuity). The installment is `P·r / (1 − (1+r)^−n)` for principal `P`, `n` periods and
//!   the periodic rate `r`, worked out once for the whole loan. Each period's interest is
//!   charged on the balance owed during it and rounded; the principal part is the installment
//!   less that interest.
//! - **Equal principal** ([`Method::EqualPrincipal`], Fineract `EQUAL_PRINCIPAL`). The principal
//!   part is `P / n`, rounded; interest on the balance, so the totals fall period by period.
//!
//! Either way the last period repays the whole remaining balance, so the principal parts add up
//! to `P` exactly and the last total differs from the others by the rounding. A period whose
//! level principal part is more than the balance repays only the balance, and the schedule
//! ends there even if it is not the `n`-th (Fineract ends its loop when the balance is zero);
//! that happens only when rounding up the level amount adds up to a whole period, as for 4.00
//! yuan over 600 months.
//!
//! # Rounding
//!
//! Every amount is rounded half to even ("banker's rounding") to the fen. Fineract rounds money
//! to the currency's `digitsAfterDecimal` (2 for CNY) with the `rounding-mode` global
//! configuration, whose default is 6, `HALF_EVEN` (`Money.of`,
//! `ConfigurationDomainServiceJpa.getRoundingMode`). Here amounts are computed exactly from
//! integers and rounded once each: interest is `balance × rate × share-of-year` as one integer
//! fraction, and the installment is the annuity evaluated with unbounded integers (module
//! `exact`). Fineract evaluates the annuity in `f64` (`FinanicalFunctions.pmt`) and periodic
//! rates with a 12-digit `MathContext`; the two agree to the fen unless the exact amount is so
//! close to a half fen (within about 10^-12 of it, relatively) that Fineract's own rounding
//! error decides the side.
//!
//! The installment can be rounded to a coarser multiple, Fineract's product setting
//! `installmentAmountInMultiplesOf` ([`Terms::emi_multiple_fen`]; 1 currency unit is 100 fen).
//! The principal part of equal principal is never rounded that way, as in Fineract.
//!
//! # Periods and day counts
//!
//! Repayments are every `n` days, weeks or months ([`Period`]); the `k`-th is due `k·n` units
//! after disbursement. Months are counted from the disbursement date and clamped to the end of
//! a shorter month: a loan disbursed on 31 January is due on 28 February, 31 March, 30 April.
//!
//! The periodic rate depends on Fineract's interest calculation period ([`InterestPeriod`]) and
//! days in month / days in year ([`DayCount`]: 30/360, or actual days over a fixed 365):
//!
//! | interest period | period    | interest of a period            | rate in the installment |
//! |-----------------|-----------|---------------------------------|-------------------------|
//! | same as repayment | `n` months | annual × n / 12               | the same                |
//! | same as repayment | `n` weeks  | annual × n / 52               | the same                |
//! | same as repayment | `n` days   | annual × n / 360 or 365       | the same                |
//! | daily, 30/360   | `n` months | annual × 30n / 360              | annual × 30n / 360      |
//! | daily, act/365  | `n` months | annual × actual days / 365      | annual × 30n / 365      |
//! | daily           | weeks, days | annual × actual days / 360 or 365 | the same            |
//!
//! Fineract prices the installment of a daily-interest loan as if every month had 30 days
//! (`LoanApplicationTerms.pmtForInstallment` passes `DAYS_30`), so under actual/365 the interest
//! of a 31-day month is a little more than the installment assumed and the last installment
//! absorbs the difference. The command line uses daily interest: under 30/360 that is exactly a
//! twelfth of the annual rate per month.
//!
//! # The Fineract cases reproduced
//!
//! `schedule/tests.rs` holds, as tables, schedules from Apache Fineract's own tests, matched to
//! the fen:
//!
//! - `fineract-e2e-tests-runner/src/test/resources/features/Loan.feature`, scenarios RS02
//!   (`@TestRailId:C2492`, equal installments, interest same as repayment period), RS03
//!   (`C2493`, equal installments, daily interest) and RS04 (`C2494`, equal principal): 5,000
//!   over 18 months at 12 % from 1 November 2022, product `LP1_INTEREST_DECLINING_BALANCE_*`
//!   (days in year and month actual, `installmentAmountInMultiplesOf` 1;
//!   `fineract-e2e-tests-core/.../factory/LoanProductsRequestFactory.java`).
//! - `integration-tests/.../MonthEndDueDateStrategyTest.java`,
//!   `testWorkedExampleOnCumulativeLoan`: 10,000 over 3 months at 12 % from 31 January 2025,
//!   daily interest, actual days (the command line's `act_365` reproduces it).
//! - `integration-tests/.../variableinstallments/VariableInstallmentsIntegrationTest.java`: the
//!   installments it leaves untouched of 100,000 over 4 months at 2 % a month from
//!   20 September 2011, equal installments and equal principal.
//!
//! # Where this differs from Fineract on purpose
//!
//! - A period whose interest exceeds the installment gets a principal part of zero and a total
//!   of its interest alone; Fineract would schedule a negative principal part and let the
//!   balance grow. It happens under actual/365 when a 31-day month's interest tops an
//!   installment priced on 30-day months (rates near 100 % over hundreds of months), or when the
//!   installment is rounded down to a coarse multiple.
//! - Days in year "actual" is not modelled as such. In the Fineract tests used here (RS03, loans
//!   of 2022–2024) a cumulative loan divided actual days by 365 in 2024 too, which is
//!   [`DayCount::Actual365`]; newer Fineract can count 366 days in leap years
//!   (`daysInYearCustomStrategy`, FINERACT-2197), which this crate does not.
//! - Grace periods, charges, down payments, interest recalculation, multiple disbursements
//!   and broken first periods are not modelled in schedules: the first repayment is due one
//!   period after disbursement and every period is whole. (Repayment holidays and interest-free
//!   periods are relief measures on a running loan: [`servicing`].)

mod cli;
pub mod decision;
mod error;
mod exact;
pub mod loans;
mod rate;
mod schedule;
pub mod servicing;

pub use chunlei_ledger::{CivilDate, DateError, YEAR_MAX, YEAR_MIN};
pub use cli::{ScheduleArgs, schedule_cli};
pub use error::ScheduleError;
pub use rate::{AnnualRate, MICRO_PERCENT_PER_PERCENT, RATE_DECIMALS_MAX, RATE_MICRO_PERCENT_MAX};
pub use schedule::{
    DayCount, EMI_MULTIPLE_FEN_MAX, EVERY_DAYS_MAX, EVERY_MONTHS_MAX, EVERY_WEEKS_MAX,
    InterestPeriod, Method, PERIODS_MAX, PRINCIPAL_FEN_MAX, Period, Row, Schedule, Terms, schedule,
    yuan,
};
