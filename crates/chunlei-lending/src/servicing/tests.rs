//! Unit tests of servicing: no drift against schedules (Fineract's among them), the limits and
//! refusals. The scenarios, rendered with expect-test, are in `tests/scenarios.rs`.

use super::*;
use crate::rate::AnnualRate;
use crate::schedule::{DayCount, InterestPeriod, Method, Period};

mod scenarios;

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("a valid date")
}

fn fen_of(value: u64) -> Fen {
    Fen::new(value).expect("within Fen::MAX")
}

fn rate(text: &str) -> AnnualRate {
    AnnualRate::parse_percent(text).expect("a valid rate")
}

/// 12,000.00 at 12 % over 3 months, equal principal, 30/360, from 1 January 2024: 1 % of the
/// balance a month, so instalments of 4,000.00 + 120.00, 80.00 and 40.00.
fn loan_a_terms() -> Terms {
    Terms::monthly(
        fen_of(1_200_000),
        rate("12"),
        3,
        Method::EqualPrincipal,
        DayCount::Thirty360,
        date("2024-01-01"),
    )
}

fn loan_a(policy: Policy) -> Loan {
    Loan::from_terms(&loan_a_terms(), Fen::ZERO, policy).expect("a loan")
}

/// The Fineract e2e product `LP1_INTEREST_DECLINING_BALANCE_*` loan (schedule/tests.rs): 5,000
/// at 12 % over 18 months from 1 November 2022, actual/365, installments in whole euros.
fn lp1(method: Method, interest_period: InterestPeriod) -> Terms {
    Terms {
        principal: fen_of(500_000),
        annual_rate: rate("12"),
        periods: 18,
        every: Period::Months(1),
        method,
        interest_period,
        day_count: DayCount::Actual365,
        emi_multiple_fen: 100,
        disbursed_on: date("2022-11-01"),
    }
}

/// An on-time borrower, the loan moved one day at a time and each instalment paid in full on
/// its due date: every period's daily accruals add up to the schedule's interest, every
/// instalment falls due with the schedule's principal and interest, and the loan closes.
/// Returns the total interest accrued.
fn pay_on_time_day_by_day(terms: &Terms) -> u64 {
    let schedule = crate::schedule(terms).expect("a schedule");
    let mut loan = Loan::from_schedule(terms, &schedule, Fen::ZERO, Policy::default())
        .expect("the schedule of its terms");
    let mut day = terms.disbursed_on;
    let mut total_accrued = 0;
    for row in &schedule.rows {
        let mut period_accrued = 0;
        let mut fell_due = Vec::new();
        while day < row.due_on {
            day = day.add_days(1).expect("a day");
            let progress = loan.on_day(day).expect("moves forward");
            period_accrued += progress.interest_accrued.get();
            fell_due.extend(progress.fell_due);
        }
        assert_eq!(period_accrued, row.interest.get(), "period {}", row.period);
        assert_eq!(fell_due.len(), 1, "period {}", row.period);
        assert_eq!(
            (fell_due[0].amounts.principal, fell_due[0].amounts.interest),
            (row.principal, row.interest),
            "period {}",
            row.period
        );
        let allocation = loan.apply_payment(day, row.total).expect("a payment");
        assert_eq!(allocation.applied.principal, row.principal);
        assert_eq!(allocation.applied.interest, row.interest);
        assert_eq!(allocation.excess, Fen::ZERO);
        total_accrued += period_accrued;
    }
    assert_eq!(loan.status(), Status::Closed);
    let summary = loan.summary();
    assert_eq!(summary.charged.interest.get(), schedule.total_interest());
    assert_eq!(summary.outstanding, Amounts::default());
    total_accrued
}

#[test]
fn daily_accruals_add_up_to_fineract_rs02_rs03_rs04_interest() {
    // Fineract's totals of interest (Loan.feature, "Total row"): 488.22, 487.33, 475.00.
    let cases = [
        (
            Method::EqualInstallments,
            InterestPeriod::SameAsRepayment,
            48_822,
        ),
        (Method::EqualInstallments, InterestPeriod::Daily, 48_733),
        (
            Method::EqualPrincipal,
            InterestPeriod::SameAsRepayment,
            47_500,
        ),
    ];
    for (method, interest_period, total) in cases {
        assert_eq!(pay_on_time_day_by_day(&lp1(method, interest_period)), total);
    }
}

#[test]
fn daily_accruals_add_up_to_fineract_month_end_worked_example() {
    // MonthEndDueDateStrategyTest: 92.05 + 68.21 + 33.16 over 28-, 31- and 30-day months.
    let terms = Terms {
        principal: fen_of(1_000_000),
        annual_rate: rate("12"),
        periods: 3,
        every: Period::Months(1),
        method: Method::EqualInstallments,
        interest_period: InterestPeriod::Daily,
        day_count: DayCount::Actual365,
        emi_multiple_fen: 1,
        disbursed_on: date("2025-01-31"),
    };
    assert_eq!(pay_on_time_day_by_day(&terms), 9_205 + 6_821 + 3_316);
}

#[test]
fn daily_accruals_add_up_under_30_360_in_months_of_28_to_31_days() {
    // Each month earns exactly 1 % under 30/360, spread over 29, 31, 30 … actual days.
    assert_eq!(
        pay_on_time_day_by_day(&loan_a_terms()),
        12_000 + 8_000 + 4_000
    );
    let odd = Terms::monthly(
        fen_of(123_456_789),
        rate("7.25"),
        13,
        Method::EqualInstallments,
        DayCount::Thirty360,
        date("2024-01-31"),
    );
    pay_on_time_day_by_day(&odd);
    for every in [Period::Days(10), Period::Weeks(2)] {
        for interest_period in [InterestPeriod::Daily, InterestPeriod::SameAsRepayment] {
            let terms = Terms {
                every,
                interest_period,
                ..odd.clone()
            };
            pay_on_time_day_by_day(&terms);
        }
    }
}

#[test]
fn moving_day_by_day_or_at_once_ends_in_the_same_state() {
    let policy = Policy {
        penalty_rate: rate("18"),
        ..Policy::default()
    };
    let mut daily = loan_a(policy);
    let mut at_once = loan_a(policy);
    let mut day = date("2024-01-01");
    let (mut interest, mut penalty) = (0, 0);
    while day < date("2024-06-15") {
        day = day.add_days(1).expect("a day");
        let progress = daily.on_day(day).expect("moves forward");
        interest += progress.interest_accrued.get();
        penalty += progress.penalty_charged.get();
    }
    let progress = at_once.on_day(day).expect("moves forward");
    assert_eq!(daily, at_once);
    assert_eq!(progress.interest_accrued.get(), interest);
    assert_eq!(progress.penalty_charged.get(), penalty);
    assert_eq!(progress.fell_due.len(), 3);
}

#[test]
fn a_schedule_that_does_not_follow_from_its_terms_is_refused() {
    let terms = loan_a_terms();
    let mut schedule = crate::schedule(&terms).expect("a schedule");
    schedule.rows[1].interest = fen_of(8_001);
    assert_eq!(
        Loan::from_schedule(&terms, &schedule, Fen::ZERO, Policy::default()),
        Err(ServicingError::ScheduleMismatch { period: 2 })
    );
    let other = Terms {
        day_count: DayCount::Actual365,
        ..terms.clone()
    };
    let schedule = crate::schedule(&terms).expect("a schedule");
    assert_eq!(
        Loan::from_schedule(&other, &schedule, Fen::ZERO, Policy::default()),
        Err(ServicingError::ScheduleMismatch { period: 1 })
    );
    let empty = Schedule {
        level: Fen::ZERO,
        rows: Vec::new(),
    };
    assert_eq!(
        Loan::from_schedule(&terms, &empty, Fen::ZERO, Policy::default()),
        Err(ServicingError::ScheduleEmpty)
    );
    assert_eq!(
        Loan::from_terms(&terms, fen_of(FEE_FEN_MAX + 1), Policy::default()),
        Err(ServicingError::FeeAboveMaximum {
            fee_fen: FEE_FEN_MAX + 1
        })
    );
}

#[test]
fn allocation_orders_are_permutations_of_the_four_components() {
    use Component::{Fee, Interest, Penalty, Principal};
    assert_eq!(
        AllocationOrder::new([Penalty, Fee, Interest, Principal]),
        Some(AllocationOrder::default())
    );
    assert_eq!(
        AllocationOrder::new([Penalty, Penalty, Interest, Principal]),
        None
    );
    assert_eq!(
        AllocationOrder::PRINCIPAL_INTEREST_PENALTY_FEE.components(),
        [Principal, Interest, Penalty, Fee]
    );
}

#[test]
fn refuses_dates_before_the_day_the_loan_stands_on_and_empty_payments() {
    let mut loan = loan_a(Policy::default());
    loan.on_day(date("2024-01-10")).expect("moves forward");
    let as_of = date("2024-01-10");
    let earlier = date("2024-01-09");
    let refused = ServicingError::DateBeforeAsOf {
        date: earlier,
        as_of,
    };
    assert_eq!(loan.on_day(earlier), Err(refused.clone()));
    assert_eq!(loan.apply_payment(earlier, fen_of(1)), Err(refused.clone()));
    assert_eq!(
        loan.collect_from_settlement(earlier, fen_of(1)),
        Err(refused.clone())
    );
    assert_eq!(loan.write_off(earlier), Err(refused));
    assert_eq!(
        loan.apply_payment(as_of, Fen::ZERO),
        Err(ServicingError::PaymentZero)
    );
    assert_eq!(loan.on_day(as_of), Ok(Progress::default()));
}

#[test]
fn a_closed_or_written_off_loan_takes_no_payments_and_withholds_nothing() {
    let mut closed = loan_a(Policy::default());
    let allocation = closed
        .apply_payment(date("2024-01-01"), fen_of(1_300_000))
        .expect("a payment");
    // Paid off on the day of disbursement: no interest has accrued yet.
    assert_eq!(allocation.applied.principal, fen_of(1_200_000));
    assert_eq!(allocation.applied.interest, Fen::ZERO);
    assert_eq!(allocation.excess, fen_of(100_000));
    assert_eq!(closed.status(), Status::Closed);
    assert_eq!(
        closed.apply_payment(date("2024-01-02"), fen_of(1)),
        Err(ServicingError::LoanClosed)
    );
    let collection = closed
        .collect_from_settlement(date("2024-02-01"), fen_of(500))
        .expect("a settlement");
    assert_eq!(collection.withheld, Fen::ZERO);
    assert!(collection.allocation.lines.is_empty());
    // Nothing falls due on a closed loan: its instalments were cancelled or paid.
    assert_eq!(closed.summary().charged.interest, Fen::ZERO);

    let mut written_off = loan_a(Policy::default());
    written_off
        .write_off(date("2024-01-05"))
        .expect("written off");
    assert_eq!(
        written_off.apply_payment(date("2024-01-06"), fen_of(1)),
        Err(ServicingError::LoanWrittenOff)
    );
    assert_eq!(
        written_off.write_off(date("2024-01-06")),
        Err(ServicingError::LoanWrittenOff)
    );
    assert_eq!(
        written_off.grant_interest_free(date("2024-01-07"), date("2024-01-08")),
        Err(ServicingError::LoanWrittenOff)
    );
}

#[test]
fn relief_is_refused_backwards_in_the_past_too_long_overlapping_or_past_the_limit() {
    let mut loan = loan_a(Policy::default());
    loan.on_day(date("2024-01-10")).expect("moves forward");
    let (from, to) = (date("2024-01-20"), date("2024-01-19"));
    assert_eq!(
        loan.grant_holiday(from, to),
        Err(ServicingError::ReliefEndsBeforeStart { from, to })
    );
    assert_eq!(
        loan.grant_interest_free(date("2024-01-09"), date("2024-01-19")),
        Err(ServicingError::ReliefStartsBeforeAsOf {
            from: date("2024-01-09"),
            as_of: date("2024-01-10")
        })
    );
    let far = date("2024-01-10").add_days(RELIEF_DAYS_MAX).expect("a day");
    assert_eq!(
        loan.grant_interest_free(date("2024-01-10"), far),
        Err(ServicingError::ReliefTooLong {
            days: i64::from(RELIEF_DAYS_MAX) + 1
        })
    );
    loan.grant_holiday(date("2024-01-20"), date("2024-02-05"))
        .expect("a holiday");
    assert_eq!(
        loan.grant_holiday(date("2024-02-05"), date("2024-02-10")),
        Err(ServicingError::HolidayOverlapsEarlier {
            from: date("2024-02-05"),
            earlier_to: date("2024-02-05")
        })
    );
    for _ in 1..RELIEF_MEASURES_MAX {
        loan.grant_interest_free(date("2024-03-01"), date("2024-03-02"))
            .expect("within the limit");
    }
    assert_eq!(
        loan.grant_interest_free(date("2024-03-01"), date("2024-03-02")),
        Err(ServicingError::ReliefMeasuresMax)
    );
}

#[test]
fn a_holiday_with_no_due_date_in_it_moves_nothing() {
    let mut loan = loan_a(Policy::default());
    let moves = loan
        .grant_holiday(date("2024-01-02"), date("2024-01-31"))
        .expect("a holiday");
    assert!(moves.is_empty());
    let due: Vec<CivilDate> = loan.instalments().iter().map(|row| row.due_on).collect();
    assert_eq!(
        due,
        [date("2024-02-01"), date("2024-03-01"), date("2024-04-01")]
    );
}

#[test]
fn no_penalty_accrues_in_an_interest_free_period() {
    let policy = Policy {
        penalty_rate: rate("18"),
        ..Policy::default()
    };
    let mut loan = loan_a(policy);
    loan.grant_interest_free(date("2024-02-05"), date("2024-02-14"))
        .expect("relief");
    let progress = loan.on_day(date("2024-02-21")).expect("moves forward");
    // 20 days overdue, 10 of them interest-free: 10 × 4,000.00 × 18 % / 360 = 20.00.
    assert_eq!(progress.penalty_charged, fen_of(2_000));
    assert_eq!(loan.days_past_due(), 20);
}

#[test]
fn revenue_terms_are_checked() {
    let terms = RevenueTerms {
        principal: fen_of(1_000_000),
        fee: fen_of(80_000),
        withholding_bps: 1_000,
        minimum_per_period: fen_of(200_000),
        disbursed_on: date("2024-01-01"),
    };
    assert!(Loan::revenue_based(&terms, Policy::default()).is_ok());
    for basis_points in [0, WITHHOLDING_BPS_MAX + 1] {
        let terms = RevenueTerms {
            withholding_bps: basis_points,
            ..terms
        };
        assert_eq!(
            Loan::revenue_based(&terms, Policy::default()),
            Err(ServicingError::WithholdingOutOfRange { basis_points })
        );
    }
    // 1,080,000 fen over 600 periods is 1,800 a period at least.
    let low = RevenueTerms {
        minimum_per_period: fen_of(1_799),
        ..terms
    };
    assert_eq!(
        Loan::revenue_based(&low, Policy::default()),
        Err(ServicingError::MinimumTooLow {
            minimum_fen: 1_799,
            required_fen: 1_800
        })
    );
    let none = RevenueTerms {
        minimum_per_period: Fen::ZERO,
        ..terms
    };
    assert!(Loan::revenue_based(&none, Policy::default()).is_ok());
    let zero = RevenueTerms {
        principal: Fen::ZERO,
        ..terms
    };
    assert_eq!(
        Loan::revenue_based(&zero, Policy::default()),
        Err(ServicingError::PrincipalOutOfRange { principal_fen: 0 })
    );
}

#[test]
fn arrears_buckets_split_at_30_60_and_90_days() {
    let buckets: Vec<ArrearsBucket> = [0, 1, 30, 31, 60, 61, 90, 91]
        .into_iter()
        .map(ArrearsBucket::of)
        .collect();
    assert_eq!(
        buckets,
        [
            ArrearsBucket::Current,
            ArrearsBucket::Days1To30,
            ArrearsBucket::Days1To30,
            ArrearsBucket::Days31To60,
            ArrearsBucket::Days31To60,
            ArrearsBucket::Days61To90,
            ArrearsBucket::Days61To90,
            ArrearsBucket::Over90,
        ]
    );
}
