//! Property tests of loan servicing over random loans and random sequences of days, payments,
//! settlements, relief and write-offs:
//!
//! - every payment's allocation adds up to the payment (applied + excess), line by line;
//! - a settlement never gives up more than its net amount or more than was owed;
//! - nothing outstanding is ever negative: on every instalment paid + written off ≤ charged;
//! - for every component, total paid + outstanding + written off = charged, and the principal
//!   charged is the loan's principal;
//! - a refused call changes nothing beyond moving the loan to its date;
//! - moving a loan one day at a time and moving it at once end in the same state;
//! - for an on-time borrower every instalment falls due with the schedule's interest.

use chunlei_ledger::Fen;
use chunlei_lending::servicing::{
    AllocationOrder, Amounts, ArrearsBucket, Component, Loan, Policy, REVENUE_PERIODS_MAX,
    RevenueTerms, Status,
};
use chunlei_lending::{
    AnnualRate, CivilDate, DayCount, InterestPeriod, Method, Period, Terms, schedule,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Check = Result<(), TestCaseError>;

/// Disbursement dates from 2000-01-01 (day 10,957) to 2030-12-31 (day 22,279).
const FIRST_DAY: i32 = 10_957;
const LAST_DAY: i32 = 22_279;

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises it for a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        ..ProptestConfig::default()
    }
}

fn fen(value: u64) -> Fen {
    Fen::new(value).unwrap_or(Fen::MAX)
}

fn day() -> impl Strategy<Value = CivilDate> {
    (FIRST_DAY..=LAST_DAY).prop_filter_map("a date", CivilDate::from_days)
}

fn rate() -> impl Strategy<Value = AnnualRate> {
    prop_oneof![Just(0), 0_u32..=36_000_000, 0_u32..=100_000_000]
        .prop_filter_map("a rate up to 100 %", AnnualRate::from_micro_percent)
}

fn policy() -> impl Strategy<Value = Policy> {
    let order = prop_oneof![
        Just(AllocationOrder::PENALTY_FEE_INTEREST_PRINCIPAL),
        Just(AllocationOrder::PRINCIPAL_INTEREST_PENALTY_FEE),
        Just(AllocationOrder::INTEREST_PRINCIPAL_PENALTY_FEE),
        Just(Component::ALL)
            .prop_shuffle()
            .prop_filter_map("a permutation", AllocationOrder::new),
    ];
    (order, rate()).prop_map(|(allocation, penalty_rate)| Policy {
        allocation,
        penalty_rate,
    })
}

fn terms(periods_max: u16) -> impl Strategy<Value = Terms> {
    (
        (
            prop_oneof![
                1_u64..=10_000,
                1_u64..=100_000_000,
                1_u64..=10_000_000_000_000
            ],
            rate(),
            1..=periods_max,
        ),
        (
            prop_oneof![
                4 => (1_u16..=3).prop_map(Period::Months),
                1 => (1_u16..=4).prop_map(Period::Weeks),
                1 => (1_u16..=45).prop_map(Period::Days),
            ],
            prop_oneof![
                Just(Method::EqualInstallments),
                Just(Method::EqualPrincipal)
            ],
            prop_oneof![
                Just(InterestPeriod::Daily),
                Just(InterestPeriod::SameAsRepayment)
            ],
            prop_oneof![Just(DayCount::Thirty360), Just(DayCount::Actual365)],
            prop_oneof![Just(1_u64), Just(100_u64)],
            day(),
        ),
    )
        .prop_map(
            |(
                (principal, annual_rate, periods),
                (every, method, interest_period, day_count, emi_multiple_fen, disbursed_on),
            )| Terms {
                principal: fen(principal),
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

fn amortising() -> impl Strategy<Value = Loan> {
    (
        terms(36),
        prop_oneof![Just(0_u64), 0_u64..=10_000],
        policy(),
    )
        .prop_filter_map("a loan", |(terms, fee, policy)| {
            Loan::from_terms(&terms, fen(fee), policy).ok()
        })
}

fn revenue_based() -> impl Strategy<Value = Loan> {
    (
        prop_oneof![1_u64..=100_000, 1_u64..=100_000_000],
        0_u64..=5_000,
        1_u32..=10_000,
        prop::option::of(0_u64..=10_000),
        day(),
        policy(),
    )
        .prop_filter_map(
            "a loan",
            |(principal, fee_permille, withholding_bps, minimum_permille, disbursed_on, policy)| {
                let fee = principal * fee_permille / 10_000;
                let owed = principal + fee;
                // No minimum, or one between the least allowed and all that is owed.
                let minimum = minimum_permille.map_or(0, |permille| {
                    let least = owed.div_ceil(REVENUE_PERIODS_MAX);
                    least + (owed - least) * permille / 10_000
                });
                let terms = RevenueTerms {
                    principal: fen(principal),
                    fee: fen(fee),
                    withholding_bps,
                    minimum_per_period: fen(minimum),
                    disbursed_on,
                };
                Loan::revenue_based(&terms, policy).ok()
            },
        )
}

fn loan() -> impl Strategy<Value = Loan> {
    prop_oneof![3 => amortising(), 2 => revenue_based()]
}

#[derive(Clone, Debug)]
enum Op {
    Advance(u32),
    Pay(u64),
    Settle(u64),
    Holiday(u32, u32),
    InterestFree(u32, u32),
    WriteOff,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0_u32..=45).prop_map(Op::Advance),
        4 => prop_oneof![0_u64..=2_000, 0_u64..=100_000_000].prop_map(Op::Pay),
        3 => prop_oneof![0_u64..=50_000, 0_u64..=100_000_000].prop_map(Op::Settle),
        1 => (0_u32..=40, 0_u32..=120).prop_map(|(start, days)| Op::Holiday(start, days)),
        1 => (0_u32..=40, 0_u32..=120).prop_map(|(start, days)| Op::InterestFree(start, days)),
        1 => Just(Op::WriteOff),
    ]
}

/// The accounting identity and the bounds every state must keep.
fn check_books(loan: &Loan, principal: Fen) -> Check {
    let summary = loan.summary();
    for component in Component::ALL {
        let sum = summary.paid.get(component).get()
            + summary.outstanding.get(component).get()
            + summary.written_off.get(component).get();
        prop_assert_eq!(sum, summary.charged.get(component).get(), "{}", component);
    }
    prop_assert_eq!(summary.charged.principal, principal);
    prop_assert_eq!(summary.total_paid, summary.paid.total());
    prop_assert!(summary.overdue <= summary.due);
    prop_assert!(summary.due <= summary.outstanding.total());
    prop_assert_eq!(summary.arrears, ArrearsBucket::of(summary.days_past_due));
    match summary.status {
        Status::Closed => prop_assert_eq!(summary.outstanding.total(), Fen::ZERO),
        Status::WrittenOff => prop_assert_eq!(summary.outstanding, Amounts::default()),
        Status::InArrears => prop_assert!(summary.days_past_due > 0),
        Status::Active => prop_assert_eq!(summary.days_past_due, 0),
    }
    let mut instalments = Amounts::default();
    for row in loan.instalments() {
        for component in Component::ALL {
            let settled = row.paid.get(component).get() + row.written_off.get(component).get();
            prop_assert!(settled <= row.charged.get(component).get());
            prop_assert_eq!(
                settled + row.outstanding.get(component).get(),
                row.charged.get(component).get()
            );
        }
        instalments = add(&instalments, &row.outstanding);
    }
    // What the instalments owe is part of what the loan owes (a revenue-based loan also owes
    // its balance not yet due).
    for component in Component::ALL {
        prop_assert!(instalments.get(component) <= summary.outstanding.get(component));
    }
    Ok(())
}

fn add(left: &Amounts, right: &Amounts) -> Amounts {
    Amounts {
        principal: left.principal.saturating_add(right.principal),
        interest: left.interest.saturating_add(right.interest),
        fee: left.fee.saturating_add(right.fee),
        penalty: left.penalty.saturating_add(right.penalty),
    }
}

/// Applies `op` on `on` and checks what it answered. A refused call must leave the loan as it
/// was once moved to `on`.
fn apply(loan: &mut Loan, on: CivilDate, op: &Op) -> Check {
    let before = {
        let mut moved = loan.clone();
        moved
            .on_day(on)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        moved
    };
    let days = |count: u32| on.add_days(count).unwrap_or(on);
    let refused = match *op {
        Op::Advance(_) => loan.on_day(on).err(),
        Op::Pay(amount) => match loan.apply_payment(on, fen(amount)) {
            Ok(allocation) => {
                let lines: u64 = allocation.lines.iter().map(|line| line.amount.get()).sum();
                prop_assert_eq!(lines, allocation.applied.total().get());
                prop_assert_eq!(
                    allocation.applied.total().get() + allocation.excess.get(),
                    amount
                );
                None
            }
            Err(error) => Some(error),
        },
        Op::Settle(net) => {
            let owed = before.summary().outstanding.total();
            let collection = loan
                .collect_from_settlement(on, fen(net))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(collection.withheld.get() <= net);
            prop_assert!(collection.withheld <= owed);
            prop_assert_eq!(collection.allocation.amount, collection.withheld);
            prop_assert_eq!(collection.allocation.excess, Fen::ZERO);
            prop_assert_eq!(collection.allocation.applied.total(), collection.withheld);
            None
        }
        Op::Holiday(start, length) => loan
            .on_day(on)
            .and_then(|_| loan.grant_holiday(days(start), days(start + length)))
            .err(),
        Op::InterestFree(start, length) => loan
            .on_day(on)
            .and_then(|_| loan.grant_interest_free(days(start), days(start + length)))
            .err(),
        Op::WriteOff => loan.write_off(on).err(),
    };
    if refused.is_some() {
        prop_assert_eq!(&*loan, &before);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn allocations_add_up_and_the_books_balance(
        loan in loan(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut loan = loan;
        let principal = loan.summary().charged.principal;
        let mut on = loan.as_of();
        for op in &ops {
            if let Op::Advance(days) = op {
                on = on.add_days(*days).unwrap_or(on);
            }
            apply(&mut loan, on, op)?;
            check_books(&loan, principal)?;
        }
        // Whatever happened, the loan can still be moved on and still balances.
        let later = on.add_days(400).unwrap_or(on);
        loan.on_day(later).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_books(&loan, principal)?;
    }

    #[test]
    fn moving_day_by_day_or_at_once_ends_in_the_same_state(
        loan in loan(),
        ops in prop::collection::vec(op(), 1..12),
    ) {
        let mut daily = loan.clone();
        let mut at_once = loan;
        let mut on = at_once.as_of();
        for op in &ops {
            if let Op::Advance(days) = op {
                on = on.add_days(*days).unwrap_or(on);
            }
            let mut interest = 0;
            let mut penalty = 0;
            let mut day = daily.as_of();
            while day < on {
                day = day.add_days(1).unwrap_or(on);
                let progress = daily.on_day(day).map_err(|e| TestCaseError::fail(e.to_string()))?;
                interest += progress.interest_accrued.get();
                penalty += progress.penalty_charged.get();
            }
            let progress = at_once.on_day(on).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(progress.interest_accrued.get(), interest);
            prop_assert_eq!(progress.penalty_charged.get(), penalty);
            prop_assert_eq!(&daily, &at_once);
            apply(&mut daily, on, op)?;
            apply(&mut at_once, on, op)?;
            prop_assert_eq!(&daily, &at_once);
        }
    }

    #[test]
    fn an_on_time_borrower_pays_the_schedule_to_the_fen(terms in terms(600), fee in 0_u64..=1_000) {
        let schedule = schedule(&terms).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut loan = Loan::from_schedule(&terms, &schedule, fen(fee), Policy::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for row in &schedule.rows {
            let progress = loan.on_day(row.due_on).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(progress.interest_accrued, row.interest);
            prop_assert_eq!(progress.fell_due.len(), 1);
            let due = progress.fell_due[0];
            prop_assert_eq!(due.amounts.principal, row.principal);
            prop_assert_eq!(due.amounts.interest, row.interest);
            let total = row.total.saturating_add(fen(fee));
            if total.is_zero() {
                // A row of nothing (a level principal rounded to zero, no interest).
                continue;
            }
            let allocation = loan.apply_payment(row.due_on, total)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(allocation.excess, Fen::ZERO);
            prop_assert_eq!(loan.status(), if row.balance.is_zero() { Status::Closed } else { Status::Active });
        }
        prop_assert_eq!(loan.summary().charged.interest.get(), schedule.total_interest());
    }
}
