use expect_test::expect;

use super::*;

fn args<'a>(
    principal_fen: &'a str,
    annual_rate_percent: &'a str,
    periods: &'a str,
    method: &'a str,
    day_count: &'a str,
    start: &'a str,
) -> ScheduleArgs<'a> {
    ScheduleArgs {
        principal_fen,
        annual_rate_percent,
        periods,
        method,
        day_count,
        start,
    }
}

fn ok() -> ScheduleArgs<'static> {
    args(
        "1000000",
        "12",
        "3",
        "equal_installment",
        "act_365",
        "2025-01-31",
    )
}

fn message(args: &ScheduleArgs<'_>) -> String {
    schedule_cli(args).expect_err("refused").to_string()
}

#[test]
fn prints_the_schedule_as_csv_in_yuan() {
    // Fineract's MonthEndDueDateStrategyTest worked example (see schedule/tests.rs).
    expect![[r#"
        period,due_date,principal,interest,total,balance
        1,2025-02-28,3307.25,92.05,3399.30,6692.75
        2,2025-03-31,3331.09,68.21,3399.30,3361.66
        3,2025-04-30,3361.66,33.16,3394.82,0.00
    "#]]
    .assert_eq(&schedule_cli(&ok()).expect("a schedule"));
}

#[test]
fn prints_equal_principal_under_30_360() {
    let csv = schedule_cli(&args(
        "100000",
        "7.5",
        "4",
        "equal_principal",
        "30_360",
        "2024-01-31",
    ))
    .expect("a schedule");
    expect![[r#"
        period,due_date,principal,interest,total,balance
        1,2024-02-29,250.00,6.25,256.25,750.00
        2,2024-03-31,250.00,4.69,254.69,500.00
        3,2024-04-30,250.00,3.12,253.12,250.00
        4,2024-05-31,250.00,1.56,251.56,0.00
    "#]]
    .assert_eq(&csv);
}

#[test]
fn accepts_the_limits() {
    let max_principal = PRINCIPAL_FEN_MAX.to_string();
    let lines = |args: &ScheduleArgs<'_>| schedule_cli(args).expect("a schedule").lines().count();
    assert_eq!(
        lines(&ScheduleArgs {
            principal_fen: &max_principal,
            ..ok()
        }),
        4
    );
    assert_eq!(
        lines(&ScheduleArgs {
            principal_fen: "1",
            ..ok()
        }),
        4
    );
    assert_eq!(
        lines(&ScheduleArgs {
            periods: "600",
            start: "1900-01-01",
            ..ok()
        }),
        601
    );
    assert_eq!(
        lines(&ScheduleArgs {
            annual_rate_percent: "100",
            ..ok()
        }),
        4
    );
    assert_eq!(
        lines(&ScheduleArgs {
            annual_rate_percent: "0.000001",
            ..ok()
        }),
        4
    );
}

#[test]
fn explains_every_refusal() {
    let above = (PRINCIPAL_FEN_MAX + 1).to_string();
    let cases: [(ScheduleArgs<'_>, &str); 15] = [
        (
            ScheduleArgs {
                principal_fen: "12.5",
                ..ok()
            },
            r#"principal_fen must be a whole number of fen, got "12.5""#,
        ),
        (
            ScheduleArgs {
                principal_fen: "",
                ..ok()
            },
            r#"principal_fen must be a whole number of fen, got """#,
        ),
        (
            ScheduleArgs {
                principal_fen: "0",
                ..ok()
            },
            "principal_fen must be from 1 to 10000000000000 fen, got 0",
        ),
        (
            ScheduleArgs {
                principal_fen: &above,
                ..ok()
            },
            "principal_fen must be from 1 to 10000000000000 fen, got 10000000000001",
        ),
        (
            ScheduleArgs {
                annual_rate_percent: "12%",
                ..ok()
            },
            r#"annual_rate_percent must be a decimal number of percent such as 12 or 7.5, got "12%""#,
        ),
        (
            ScheduleArgs {
                annual_rate_percent: "7.1234567",
                ..ok()
            },
            r#"annual_rate_percent may have at most 6 decimals, got "7.1234567""#,
        ),
        (
            ScheduleArgs {
                annual_rate_percent: "100.5",
                ..ok()
            },
            r#"annual_rate_percent must be from 0 to 100, got "100.5""#,
        ),
        (
            ScheduleArgs {
                periods: "twelve",
                ..ok()
            },
            r#"periods must be a whole number, got "twelve""#,
        ),
        (
            ScheduleArgs {
                periods: "0",
                ..ok()
            },
            "periods must be from 1 to 600, got 0",
        ),
        (
            ScheduleArgs {
                periods: "601",
                ..ok()
            },
            "periods must be from 1 to 600, got 601",
        ),
        (
            ScheduleArgs {
                method: "annuity",
                ..ok()
            },
            r#"method must be equal_installment or equal_principal, got "annuity""#,
        ),
        (
            ScheduleArgs {
                day_count: "act_360",
                ..ok()
            },
            r#"day_count must be 30_360 or act_365, got "act_360""#,
        ),
        (
            ScheduleArgs {
                start: "31/01/2025",
                ..ok()
            },
            r#"start must be a date as YYYY-MM-DD, got "31/01/2025""#,
        ),
        (
            ScheduleArgs {
                start: "2025-02-29",
                ..ok()
            },
            r#"start is not a day of the calendar, got "2025-02-29""#,
        ),
        (
            ScheduleArgs {
                start: "9999-12-01",
                ..ok()
            },
            "the due date of period 1 falls after 9999-12-31",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(message(&args), expected, "{args:?}");
    }
}

#[test]
fn reports_absurdly_long_numbers_as_out_of_range() {
    assert_eq!(
        schedule_cli(&ScheduleArgs {
            periods: "99999999999999999999999",
            ..ok()
        }),
        Err(ScheduleError::PeriodsOutOfRange { periods: u64::MAX })
    );
    assert_eq!(
        schedule_cli(&ScheduleArgs {
            principal_fen: "99999999999999999999999",
            ..ok()
        }),
        Err(ScheduleError::PrincipalOutOfRange {
            principal_fen: u64::MAX
        })
    );
}
