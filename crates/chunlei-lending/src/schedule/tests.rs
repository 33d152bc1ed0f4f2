//! Schedules from Apache Fineract's own tests, reproduced to the fen, and the edge cases of
//! the rules around them.
//!
//! The expected rows are facts copied from Fineract's published test expectations (amounts
//! converted to fen); they are plain tables so that nothing can re-record them from this
//! implementation's output.

use super::*;

/// One expected row: period, due date, principal, interest and balance in fen. The total is
/// always principal + interest, as in Fineract's tables.
type Expected = (u16, &'static str, u64, u64, u64);

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("a valid date")
}

fn fen_of(value: u64) -> Fen {
    Fen::new(value).expect("within Fen::MAX")
}

fn rate(text: &str) -> AnnualRate {
    AnnualRate::parse_percent(text).expect("a valid rate")
}

fn assert_rows(terms: &Terms, expected: &[Expected]) {
    let schedule = schedule(terms).expect("a schedule");
    let actual: Vec<(u16, String, u64, u64, u64)> = schedule
        .rows
        .iter()
        .map(|row| {
            assert_eq!(row.total.get(), row.principal.get() + row.interest.get());
            let due_on = row.due_on.to_string();
            let (principal, interest) = (row.principal.get(), row.interest.get());
            (row.period, due_on, principal, interest, row.balance.get())
        })
        .collect();
    let expected: Vec<(u16, String, u64, u64, u64)> = expected
        .iter()
        .map(|&(period, due_on, principal, interest, balance)| {
            (period, due_on.to_owned(), principal, interest, balance)
        })
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(schedule.total_principal(), terms.principal.get());
}

/// The Fineract e2e product `LP1_INTEREST_DECLINING_BALANCE_*` (LoanProductsRequestFactory):
/// EUR with 2 decimals, days in year and in month actual, installments in multiples of 1 EUR,
/// loan 5,000 at 12 % over 18 monthly repayments from 1 November 2022.
fn lp1_loan(method: Method, interest_period: InterestPeriod) -> Terms {
    Terms {
        principal: fen_of(500_000),
        annual_rate: rate("12"),
        periods: 18,
        every: Period::Months(1),
        method,
        interest_period,
        // Fineract's cumulative schedules of that time divided actual days by 365 in every
        // year (DefaultPaymentPeriodsInOneYearCalculator: DAYS → 365): 2024's periods below
        // are 29/365, not 29/366, of the annual rate.
        day_count: DayCount::Actual365,
        emi_multiple_fen: 100,
        disbursed_on: date("2022-11-01"),
    }
}

/// Fineract `fineract-e2e-tests-runner/src/test/resources/features/Loan.feature`, scenario
/// "RS02 - Repayment Schedule with interest type: Declining Balance, interest period: Same as
/// payment period, amortization type: Equal installments" (`@TestRailId:C2492`). The annuity
/// is 304.91 and rounds to 305.00 because of `installmentAmountInMultiplesOf` 1.
const RS02: [Expected; 18] = [
    (1, "2022-12-01", 25500, 5000, 474500),
    (2, "2023-01-01", 25755, 4745, 448745),
    (3, "2023-02-01", 26013, 4487, 422732),
    (4, "2023-03-01", 26273, 4227, 396459),
    (5, "2023-04-01", 26535, 3965, 369924),
    (6, "2023-05-01", 26801, 3699, 343123),
    (7, "2023-06-01", 27069, 3431, 316054),
    (8, "2023-07-01", 27339, 3161, 288715),
    (9, "2023-08-01", 27613, 2887, 261102),
    (10, "2023-09-01", 27889, 2611, 233213),
    (11, "2023-10-01", 28168, 2332, 205045),
    (12, "2023-11-01", 28450, 2050, 176595),
    (13, "2023-12-01", 28734, 1766, 147861),
    (14, "2024-01-01", 29021, 1479, 118840),
    (15, "2024-02-01", 29312, 1188, 89528),
    (16, "2024-03-01", 29605, 895, 59923),
    (17, "2024-04-01", 29901, 599, 30022),
    (18, "2024-05-01", 30022, 300, 0),
];

#[test]
fn fineract_rs02_equal_installments_interest_same_as_repayment_period() {
    let terms = lp1_loan(Method::EqualInstallments, InterestPeriod::SameAsRepayment);
    assert_rows(&terms, &RS02);
    let schedule = schedule(&terms).expect("a schedule");
    assert_eq!(schedule.level, fen_of(30_500));
    // Fineract's "Total row": interest 488.22.
    assert_eq!(schedule.total_interest(), 48_822);
}

/// Fineract `Loan.feature`, scenario "RS03 - Repayment Schedule with interest type: Declining
/// Balance, interest period: Daily, amortization type: Equal installments"
/// (`@TestRailId:C2493`). Interest follows the actual days (30, 31, 28, …) over 365; the
/// installment is priced on 30-day months (304.53 → 305.00).
const RS03: [Expected; 18] = [
    (1, "2022-12-01", 25568, 4932, 474432),
    (2, "2023-01-01", 25665, 4835, 448767),
    (3, "2023-02-01", 25926, 4574, 422841),
    (4, "2023-03-01", 26608, 3892, 396233),
    (5, "2023-04-01", 26462, 4038, 369771),
    (6, "2023-05-01", 26853, 3647, 342918),
    (7, "2023-06-01", 27005, 3495, 315913),
    (8, "2023-07-01", 27384, 3116, 288529),
    (9, "2023-08-01", 27559, 2941, 260970),
    (10, "2023-09-01", 27840, 2660, 233130),
    (11, "2023-10-01", 28201, 2299, 204929),
    (12, "2023-11-01", 28411, 2089, 176518),
    (13, "2023-12-01", 28759, 1741, 147759),
    (14, "2024-01-01", 28994, 1506, 118765),
    (15, "2024-02-01", 29290, 1210, 89475),
    (16, "2024-03-01", 29647, 853, 59828),
    (17, "2024-04-01", 29890, 610, 29938),
    (18, "2024-05-01", 29938, 295, 0),
];

#[test]
fn fineract_rs03_equal_installments_daily_interest_actual_days() {
    let terms = lp1_loan(Method::EqualInstallments, InterestPeriod::Daily);
    assert_rows(&terms, &RS03);
    let schedule = schedule(&terms).expect("a schedule");
    assert_eq!(schedule.level, fen_of(30_500));
    assert_eq!(schedule.total_interest(), 48_733);
}

/// Fineract `Loan.feature`, scenario "RS04 - Repayment Schedule with interest type: Declining
/// Balance, interest period: Same as payment period, amortization type: Equal principal
/// payments" (`@TestRailId:C2494`). 5,000 / 18 = 277.78; the last period repays 277.74.
const RS04: [Expected; 18] = [
    (1, "2022-12-01", 27778, 5000, 472222),
    (2, "2023-01-01", 27778, 4722, 444444),
    (3, "2023-02-01", 27778, 4444, 416666),
    (4, "2023-03-01", 27778, 4167, 388888),
    (5, "2023-04-01", 27778, 3889, 361110),
    (6, "2023-05-01", 27778, 3611, 333332),
    (7, "2023-06-01", 27778, 3333, 305554),
    (8, "2023-07-01", 27778, 3056, 277776),
    (9, "2023-08-01", 27778, 2778, 249998),
    (10, "2023-09-01", 27778, 2500, 222220),
    (11, "2023-10-01", 27778, 2222, 194442),
    (12, "2023-11-01", 27778, 1944, 166664),
    (13, "2023-12-01", 27778, 1667, 138886),
    (14, "2024-01-01", 27778, 1389, 111108),
    (15, "2024-02-01", 27778, 1111, 83330),
    (16, "2024-03-01", 27778, 833, 55552),
    (17, "2024-04-01", 27778, 556, 27774),
    (18, "2024-05-01", 27774, 278, 0),
];

#[test]
fn fineract_rs04_equal_principal_interest_same_as_repayment_period() {
    let terms = lp1_loan(Method::EqualPrincipal, InterestPeriod::SameAsRepayment);
    assert_rows(&terms, &RS04);
    let schedule = schedule(&terms).expect("a schedule");
    assert_eq!(schedule.level, fen_of(27_778));
    assert_eq!(schedule.total_interest(), 47_500);
}

/// Fineract `integration-tests/src/test/java/org/apache/fineract/integrationtests/
/// MonthEndDueDateStrategyTest.java`, `testWorkedExampleOnCumulativeLoan`, the default
/// (`LAST_DAY_OF_MONTH`) loan: 10,000 at 12 % over 3 months from 31 January 2025, daily
/// interest over actual days (2025 has 365), installments to the cent. The due dates clamp to
/// month ends; the installment 3,399.30 is priced on 30-day months, so the 28-day February
/// repays more principal and the last installment is 3,394.82.
const MONTH_END: [Expected; 3] = [
    (1, "2025-02-28", 330_725, 9_205, 669_275),
    (2, "2025-03-31", 333_109, 6_821, 336_166),
    (3, "2025-04-30", 336_166, 3_316, 0),
];

#[test]
fn fineract_month_end_worked_example_on_cumulative_loan() {
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
    assert_rows(&terms, &MONTH_END);
    assert_eq!(schedule(&terms).expect("a schedule").level, fen_of(339_930));
}

/// Fineract `integration-tests/src/test/java/org/apache/fineract/integrationtests/
/// variableinstallments/VariableInstallmentsIntegrationTest.java`: 100,000 over 4 monthly
/// repayments at 2 % a month (24 % a year), interest same as repayment period, from
/// 20 September 2011. The tests vary later installments, so only the untouched ones are
/// Fineract's figures for the plain schedule: in `testModifyDatesWithDecliningBalance-
/// EqualInstallments` the first two totals are 26,262.38 each; in `testAllVariations-
/// DecliningBalancewithEqualPrincipal` the first total is 27,000.00.
#[test]
fn fineract_variable_installments_untouched_periods() {
    let mut terms = Terms {
        principal: fen_of(10_000_000),
        annual_rate: rate("24"),
        periods: 4,
        every: Period::Months(1),
        method: Method::EqualInstallments,
        interest_period: InterestPeriod::SameAsRepayment,
        day_count: DayCount::Actual365,
        emi_multiple_fen: 1,
        disbursed_on: date("2011-09-20"),
    };
    let installments = schedule(&terms).expect("a schedule");
    let totals: Vec<(String, u64)> = installments.rows[..2]
        .iter()
        .map(|row| (row.due_on.to_string(), row.total.get()))
        .collect();
    assert_eq!(
        totals,
        [
            ("2011-10-20".to_owned(), 2_626_238),
            ("2011-11-20".to_owned(), 2_626_238)
        ]
    );
    terms.method = Method::EqualPrincipal;
    let principal = schedule(&terms).expect("a schedule");
    let first = principal.rows[0];
    assert_eq!(first.due_on, date("2011-10-20"));
    assert_eq!(first.total, fen_of(2_700_000));
}

fn monthly(principal_fen: u64, rate_percent: &str, periods: u16, method: Method) -> Terms {
    Terms::monthly(
        fen_of(principal_fen),
        rate(rate_percent),
        periods,
        method,
        DayCount::Thirty360,
        date("2024-01-31"),
    )
}

#[test]
fn thirty_360_daily_interest_is_a_twelfth_of_the_rate_per_month() {
    for method in [Method::EqualInstallments, Method::EqualPrincipal] {
        let daily = monthly(123_456_789, "7.25", 37, method);
        let same = Terms {
            interest_period: InterestPeriod::SameAsRepayment,
            ..daily.clone()
        };
        assert_eq!(schedule(&daily), schedule(&same), "{method:?}");
    }
}

#[test]
fn without_interest_the_principal_is_spread_and_the_last_period_takes_the_rest() {
    for method in [Method::EqualInstallments, Method::EqualPrincipal] {
        let terms = monthly(100_000, "0", 3, method);
        let schedule = schedule(&terms).expect("a schedule");
        let parts: Vec<(u64, u64)> = schedule
            .rows
            .iter()
            .map(|row| (row.principal.get(), row.interest.get()))
            .collect();
        assert_eq!(parts, [(33_333, 0), (33_333, 0), (33_334, 0)], "{method:?}");
    }
}

#[test]
fn one_period_repays_everything_with_one_period_of_interest() {
    let terms = monthly(1_000_000, "12", 1, Method::EqualInstallments);
    let schedule = schedule(&terms).expect("a schedule");
    assert_eq!(schedule.level, fen_of(1_010_000));
    assert_eq!(schedule.rows.len(), 1);
    let row = schedule.rows[0];
    assert_eq!(
        (row.principal, row.interest),
        (fen_of(1_000_000), fen_of(10_000))
    );
    assert_eq!((row.due_on, row.balance), (date("2024-02-29"), Fen::ZERO));
}

#[test]
fn a_level_principal_rounded_up_can_clear_the_loan_before_the_last_period() {
    // 4.00 yuan over 600 months: 400 / 600 rounds to 1 fen, so the 400th period clears it.
    let terms = monthly(400, "0", 600, Method::EqualPrincipal);
    let early = schedule(&terms).expect("a schedule");
    assert_eq!(early.level, fen_of(1));
    assert_eq!(early.rows.len(), 400);
    assert_eq!(early.total_principal(), 400);
    assert!(early.rows.iter().all(|row| row.principal == fen_of(1)));
    // 5.00 yuan over 600 months: 500 / 600 rounds to 1 fen too, and 500 periods clear it.
    let terms = monthly(500, "0", 600, Method::EqualPrincipal);
    assert_eq!(schedule_len(&terms), 500);
    // 2.00 yuan over 600 months: 200 / 600 rounds to 0, and the last period repays it all.
    let terms = monthly(200, "0", 600, Method::EqualPrincipal);
    let late = schedule(&terms).expect("a schedule");
    assert_eq!(late.rows.len(), 600);
    assert_eq!(late.rows[599].principal, fen_of(200));
}

fn schedule_len(terms: &Terms) -> usize {
    schedule(terms).expect("a schedule").rows.len()
}

#[test]
fn interest_above_the_installment_gives_no_principal_rather_than_a_negative_one() {
    // At 100 % over 600 months the annuity is barely above a 30-day month's interest, so a
    // 31-day month's interest under actual/365 is more than the whole installment.
    let terms = Terms {
        day_count: DayCount::Actual365,
        ..monthly(10_000_000, "100", 600, Method::EqualInstallments)
    };
    let schedule = schedule(&terms).expect("a schedule");
    let february = schedule.rows[0];
    let march = schedule.rows[1];
    assert!(february.principal.get() > 0, "February has 29 days in 2024");
    assert_eq!(march.principal, Fen::ZERO, "March has 31 days");
    assert!(march.interest > schedule.level);
    assert_eq!(march.total, march.interest);
    assert_eq!(schedule.total_principal(), 10_000_000);
}

#[test]
fn repayments_every_few_days_or_weeks_fall_on_those_days() {
    let due_dates = |every| {
        let terms = Terms {
            every,
            ..monthly(100_000, "10", 3, Method::EqualPrincipal)
        };
        let schedule = schedule(&terms).expect("a schedule");
        schedule
            .rows
            .iter()
            .map(|row| row.due_on.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        due_dates(Period::Days(14)),
        ["2024-02-14", "2024-02-28", "2024-03-13"]
    );
    assert_eq!(
        due_dates(Period::Weeks(2)),
        ["2024-02-14", "2024-02-28", "2024-03-13"]
    );
    assert_eq!(
        due_dates(Period::Months(3)),
        ["2024-04-30", "2024-07-31", "2024-10-31"]
    );
}

#[test]
fn weekly_interest_same_as_repayment_is_a_52nd_of_the_rate_per_week() {
    let terms = Terms {
        every: Period::Weeks(1),
        interest_period: InterestPeriod::SameAsRepayment,
        ..monthly(5_200_000, "10", 4, Method::EqualPrincipal)
    };
    let schedule = schedule(&terms).expect("a schedule");
    // 52,000.00 × 10 % / 52 = 100.00 in the first week.
    assert_eq!(schedule.rows[0].interest, fen_of(10_000));
}

#[test]
fn refuses_terms_outside_the_limits() {
    let base = monthly(100_000, "10", 12, Method::EqualInstallments);
    let refused = |terms: Terms| schedule(&terms).expect_err("refused");
    assert_eq!(
        refused(Terms {
            principal: Fen::ZERO,
            ..base.clone()
        }),
        ScheduleError::PrincipalOutOfRange { principal_fen: 0 }
    );
    let too_much = PRINCIPAL_FEN_MAX + 1;
    assert_eq!(
        refused(Terms {
            principal: fen_of(too_much),
            ..base.clone()
        }),
        ScheduleError::PrincipalOutOfRange {
            principal_fen: too_much
        }
    );
    assert_eq!(
        refused(Terms {
            periods: 0,
            ..base.clone()
        }),
        ScheduleError::PeriodsOutOfRange { periods: 0 }
    );
    assert_eq!(
        refused(Terms {
            periods: PERIODS_MAX + 1,
            ..base.clone()
        }),
        ScheduleError::PeriodsOutOfRange { periods: 601 }
    );
    for every in [
        Period::Days(0),
        Period::Days(EVERY_DAYS_MAX + 1),
        Period::Weeks(EVERY_WEEKS_MAX + 1),
        Period::Months(EVERY_MONTHS_MAX + 1),
    ] {
        assert_eq!(
            refused(Terms {
                every,
                ..base.clone()
            }),
            ScheduleError::RepaymentEveryOutOfRange { every }
        );
    }
    for emi_multiple_fen in [0, EMI_MULTIPLE_FEN_MAX + 1] {
        assert_eq!(
            refused(Terms {
                emi_multiple_fen,
                ..base.clone()
            }),
            ScheduleError::EmiMultipleOutOfRange { emi_multiple_fen }
        );
    }
    // From the year 5000, ten-year periods pass 9999 at the 500th.
    let long = Terms {
        periods: PERIODS_MAX,
        every: Period::Months(EVERY_MONTHS_MAX),
        disbursed_on: date("5000-01-01"),
        ..base.clone()
    };
    assert_eq!(
        refused(long),
        ScheduleError::DueDateOutOfRange { period: 500 }
    );
}

#[test]
fn accepts_terms_at_the_limits() {
    let terms = Terms {
        principal: fen_of(PRINCIPAL_FEN_MAX),
        annual_rate: rate("100"),
        periods: PERIODS_MAX,
        every: Period::Days(EVERY_DAYS_MAX),
        emi_multiple_fen: EMI_MULTIPLE_FEN_MAX,
        disbursed_on: date("1900-01-01"),
        ..monthly(1, "0", 1, Method::EqualInstallments)
    };
    let schedule = schedule(&terms).expect("a schedule");
    assert_eq!(schedule.total_principal(), PRINCIPAL_FEN_MAX);
    assert_eq!(schedule.level.get() % EMI_MULTIPLE_FEN_MAX, 0);
    let last = schedule.rows.last().expect("rows");
    assert_eq!(last.balance, Fen::ZERO);
}
