//! Property tests: for any terms within the limits, a schedule repays exactly the principal,
//! its balances only fall and end at zero, and its level amounts hold in every period but the
//! last.
//!
//! Principals are drawn both small (where rounding a level amount up can clear the loan early)
//! and up to the maximum; rates, period counts and lengths, methods, interest periods, day
//! counts and installment multiples all vary.

use std::cmp::Ordering;

use chunlei_ledger::Fen;
use chunlei_lending::{
    AnnualRate, CivilDate, DayCount, InterestPeriod, Method, PERIODS_MAX, PRINCIPAL_FEN_MAX,
    Period, RATE_MICRO_PERCENT_MAX, Row, Schedule, Terms, schedule,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Check = Result<(), TestCaseError>;

/// Disbursement dates from 1990-01-01 (day 7,305) to 2099-12-31 (day 47,481).
const DISBURSED_FIRST_DAY: i32 = 7_305;
const DISBURSED_LAST_DAY: i32 = 47_481;

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises it for a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(512),
        ..ProptestConfig::default()
    }
}

fn principal() -> impl Strategy<Value = Fen> {
    prop_oneof![1_u64..=2_000, 1_u64..=10_000_000, 1_u64..=PRINCIPAL_FEN_MAX]
        .prop_filter_map("an amount the ledger stores", Fen::new)
}

fn rate() -> impl Strategy<Value = AnnualRate> {
    prop_oneof![Just(0), 1_u32..=100, 0_u32..=RATE_MICRO_PERCENT_MAX]
        .prop_filter_map("a rate up to 100 %", AnnualRate::from_micro_percent)
}

fn every() -> impl Strategy<Value = Period> {
    prop_oneof![
        4 => (1_u16..=12).prop_map(Period::Months),
        1 => (1_u16..=8).prop_map(Period::Weeks),
        1 => (1_u16..=90).prop_map(Period::Days),
    ]
}

fn terms() -> impl Strategy<Value = Terms> {
    (
        (principal(), rate(), 1_u16..=PERIODS_MAX, every()),
        (
            prop_oneof![
                Just(Method::EqualInstallments),
                Just(Method::EqualPrincipal)
            ],
            prop_oneof![
                Just(InterestPeriod::Daily),
                Just(InterestPeriod::SameAsRepayment)
            ],
            prop_oneof![Just(DayCount::Thirty360), Just(DayCount::Actual365)],
            prop_oneof![3 => Just(1_u64), 1 => Just(100_u64), 1 => 1_u64..=10_000],
            (DISBURSED_FIRST_DAY..=DISBURSED_LAST_DAY)
                .prop_filter_map("a date", CivilDate::from_days),
        ),
    )
        .prop_map(
            |(
                (principal, annual_rate, periods, every),
                (method, interest_period, day_count, emi_multiple_fen, disbursed_on),
            )| Terms {
                principal,
                annual_rate,
                periods,
                every,
                method,
                interest_period,
                day_count,
                emi_multiple_fen,
                disbursed_on,
            },
        )
}

fn all_but_last(made: &Schedule) -> &[Row] {
    made.rows.split_last().map_or(&[], |(_, rest)| rest)
}

fn made(terms: &Terms) -> Result<Schedule, TestCaseError> {
    schedule(terms).map_err(|error| TestCaseError::fail(format!("{error}: {terms:?}")))
}

/// Σprincipal = P; balances fall by each principal part, never rise, and reach zero exactly
/// at the last row; rows are numbered from 1, due in order, and total principal + interest.
fn check_repays_the_principal(terms: &Terms, made: &Schedule) -> Check {
    let rows = &made.rows;
    prop_assert!(!rows.is_empty() && rows.len() <= usize::from(terms.periods));
    prop_assert_eq!(made.total_principal(), terms.principal.get());
    let mut balance = terms.principal.get();
    let mut previous_due = terms.disbursed_on;
    for (index, row) in rows.iter().enumerate() {
        prop_assert_eq!(usize::from(row.period), index + 1);
        prop_assert!(row.due_on > previous_due, "due dates in order");
        prop_assert_eq!(row.total.get(), row.principal.get() + row.interest.get());
        prop_assert!(row.principal.get() <= balance);
        balance -= row.principal.get();
        prop_assert_eq!(row.balance.get(), balance);
        let is_last = index + 1 == rows.len();
        prop_assert_eq!(balance == 0, is_last, "only the last balance is zero");
        previous_due = row.due_on;
    }
    Ok(())
}

/// Equal principal: every principal part but the last is the level amount, `P / n` rounded.
/// Equal installments: every total but the last is the installment, unless the period's
/// interest alone is more (then its principal part is zero and the total is the interest).
fn check_level_amounts(terms: &Terms, made: &Schedule) -> Check {
    let level = made.level.get();
    let rest = all_but_last(made);
    match terms.method {
        Method::EqualPrincipal => {
            // P / n rounded half to even, worked out independently of the crate.
            let periods = u64::from(terms.periods);
            let principal = terms.principal.get();
            let quotient = principal / periods;
            let round_up = match (2 * (principal % periods)).cmp(&periods) {
                Ordering::Less => false,
                Ordering::Greater => true,
                Ordering::Equal => quotient % 2 == 1,
            };
            prop_assert_eq!(level, quotient + u64::from(round_up));
            for row in rest {
                prop_assert_eq!(row.principal.get(), level);
            }
        }
        Method::EqualInstallments => {
            prop_assert_eq!(level % terms.emi_multiple_fen, 0);
            for row in rest {
                prop_assert_eq!(row.total.get(), level.max(row.interest.get()));
            }
        }
    }
    Ok(())
}

/// Where the installment is priced on exactly the days interest is charged for, and rounded to
/// the fen, no period's interest exceeds it and every total but the last is the installment.
fn check_equal_totals(terms: &Terms, made: &Schedule) -> Check {
    let priced_like_charged = !matches!(
        (terms.interest_period, terms.day_count, terms.every),
        (
            InterestPeriod::Daily,
            DayCount::Actual365,
            Period::Months(_)
        )
    );
    if terms.method != Method::EqualInstallments
        || terms.emi_multiple_fen != 1
        || !priced_like_charged
    {
        return Ok(());
    }
    for row in all_but_last(made) {
        prop_assert_eq!(row.total, made.level);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn schedules_repay_exactly_and_keep_their_level(terms in terms()) {
        let made = made(&terms)?;
        check_repays_the_principal(&terms, &made)?;
        check_level_amounts(&terms, &made)?;
        check_equal_totals(&terms, &made)?;
    }

    #[test]
    fn the_same_terms_give_the_same_schedule(terms in terms()) {
        prop_assert_eq!(made(&terms)?, made(&terms)?);
    }
}
