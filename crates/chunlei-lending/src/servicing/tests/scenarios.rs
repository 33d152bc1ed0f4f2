//! Scenario tests as data: a script of dated steps in, the loan's answers and state after each
//! step out, compared with `expect-test` snapshots. Every figure of every snapshot was checked
//! by hand; the working is in the comment above each test.
//!
//! A step is `YYYY-MM-DD verb [args]`, amounts in yuan with two decimals:
//!
//! - `day`: move the loan to the date (accruals, instalments falling due);
//! - `pay 4120.00`: a payment;
//! - `settle 5000.00`: a settlement's net amount, withheld from;
//! - `holiday FROM TO`, `interest_free FROM TO`: relief, granted on the date;
//! - `write_off`.
//!
//! After each step one line gives the state: status, days past due and bucket, what is owed
//! (`p` principal, `i` interest, `f` fee, `pen` penalty), interest accrued not yet charged,
//! and the total paid.

use std::fmt::Write as _;

use expect_test::{Expect, expect};

use super::*;
use crate::schedule::yuan;

fn parse_yuan(text: &str) -> Fen {
    let (whole, cents) = text.split_once('.').expect("yuan with two decimals");
    assert_eq!(cents.len(), 2, "{text}");
    let whole: u64 = whole.parse().expect("whole yuan");
    let cents: u64 = cents.parse().expect("fen");
    fen_of(whole * 100 + cents)
}

fn run(loan: &mut Loan, script: &str) -> String {
    let mut out = String::new();
    for line in script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let on = date(words[0]);
        let _ = writeln!(out, "{line}");
        let answer = match words[1] {
            "day" => loan.on_day(on).map(|progress| render_progress(&progress)),
            "pay" => loan
                .apply_payment(on, parse_yuan(words[2]))
                .map(|allocation| render_allocation(&allocation)),
            "settle" => loan
                .collect_from_settlement(on, parse_yuan(words[2]))
                .map(|collection| {
                    format!(
                        "withheld {}; {}",
                        yuan(collection.withheld),
                        render_allocation(&collection.allocation)
                    )
                }),
            "holiday" => loan
                .on_day(on)
                .and_then(|_| loan.grant_holiday(date(words[2]), date(words[3])))
                .map(|moves| render_moves(&moves)),
            "interest_free" => loan
                .on_day(on)
                .and_then(|_| loan.grant_interest_free(date(words[2]), date(words[3])))
                .map(|()| "granted".to_owned()),
            "write_off" => loan.write_off(on).map(|write_off| {
                format!(
                    "written off {} ({} dpd)",
                    render_amounts(&write_off.amounts),
                    write_off.days_past_due
                )
            }),
            verb => panic!("unknown verb {verb}"),
        };
        let answer = answer.unwrap_or_else(|error| format!("refused: {error}"));
        let _ = writeln!(out, "  {answer}");
        let _ = writeln!(out, "  = {}", render_summary(&loan.summary()));
    }
    out
}

fn render_amounts(amounts: &Amounts) -> String {
    format!(
        "p {} i {} f {} pen {}",
        yuan(amounts.principal),
        yuan(amounts.interest),
        yuan(amounts.fee),
        yuan(amounts.penalty)
    )
}

fn render_progress(progress: &Progress) -> String {
    let mut text = format!(
        "accrued {}, penalty {}",
        yuan(progress.interest_accrued),
        yuan(progress.penalty_charged)
    );
    for due in &progress.fell_due {
        let _ = write!(
            text,
            "; #{} due {}: {}",
            due.instalment,
            due.due_on,
            render_amounts(&due.amounts)
        );
    }
    text
}

fn render_allocation(allocation: &Allocation) -> String {
    let lines: Vec<String> = allocation
        .lines
        .iter()
        .map(|line| {
            let target = line
                .instalment
                .map_or_else(|| "balance".to_owned(), |number| format!("#{number}"));
            let ahead = if line.in_advance { " ahead" } else { "" };
            format!("{target} {} {}{ahead}", line.component, yuan(line.amount))
        })
        .collect();
    let mut text = if lines.is_empty() {
        "nothing applied".to_owned()
    } else {
        lines.join(", ")
    };
    if !allocation.interest_accrued.is_zero() {
        let _ = write!(
            text,
            "; interest accrued {}",
            yuan(allocation.interest_accrued)
        );
    }
    if !allocation.excess.is_zero() {
        let _ = write!(text, "; excess {}", yuan(allocation.excess));
    }
    text
}

fn render_moves(moves: &[DueDateMove]) -> String {
    if moves.is_empty() {
        return "no due date moved".to_owned();
    }
    let moves: Vec<String> = moves
        .iter()
        .map(|moved| {
            let target = moved
                .instalment
                .map_or_else(|| "period end".to_owned(), |number| format!("#{number}"));
            format!("{target} {} -> {}", moved.from, moved.to)
        })
        .collect();
    moves.join(", ")
}

fn render_summary(summary: &Summary) -> String {
    format!(
        "{} {} dpd ({}) | owed {} | accrued {} | paid {}",
        summary.status,
        summary.days_past_due,
        summary.arrears,
        render_amounts(&summary.outstanding),
        yuan(summary.interest_accrued),
        yuan(summary.total_paid)
    )
}

fn check(loan: &mut Loan, script: &str, expected: Expect) {
    let rendered = run(loan, script);
    expected.assert_eq(&rendered);
    let summary = loan.summary();
    // The accounting identity holds at the end of every scenario.
    for component in Component::ALL {
        let sum = summary.paid.get(component).get()
            + summary.outstanding.get(component).get()
            + summary.written_off.get(component).get();
        assert_eq!(sum, summary.charged.get(component).get(), "{component}");
    }
}

fn penalty_18() -> Policy {
    Policy {
        penalty_rate: rate("18"),
        ..Policy::default()
    }
}

fn render_instalments(loan: &Loan) -> String {
    let mut out = String::new();
    for row in loan.instalments() {
        let _ = writeln!(
            out,
            "#{} {} -> {} {}: charged {}; paid {}",
            row.number,
            row.start_on,
            row.due_on,
            row.state.as_str(),
            render_amounts(&row.charged),
            render_amounts(&row.paid)
        );
    }
    out
}

/// Loan A (12,000.00 at 12 %, 30/360, equal principal, three months from 2024-01-01) paid on
/// time. January has 31 days and earns 1 % of 12,000.00 = 120.00, 120.00/31 a day: by the
/// 16th (15 days) 58.0645… → 58.06 accrued; the other 16 days bring it to 120.00 (61.94).
/// February (29 days) earns 1 % of 8,000.00 = 80.00, March 1 % of 4,000.00 = 40.00.
#[test]
fn on_time() {
    let mut loan = loan_a(Policy::default());
    check(
        &mut loan,
        "
        2024-01-16 day
        2024-02-01 day
        2024-02-01 pay 4120.00
        2024-03-01 pay 4080.00
        2024-04-01 day
        2024-04-01 pay 4040.00
        2024-04-02 pay 1.00
        ",
        expect![[r#"
            2024-01-16 day
              accrued 58.06, penalty 0.00
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 58.06 | paid 0.00
            2024-02-01 day
              accrued 61.94, penalty 0.00; #1 due 2024-02-01: p 4000.00 i 120.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 12000.00 i 120.00 f 0.00 pen 0.00 | accrued 0.00 | paid 0.00
            2024-02-01 pay 4120.00
              #1 interest 120.00, #1 principal 4000.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
            2024-03-01 pay 4080.00
              #2 interest 80.00, #2 principal 4000.00
              = active 0 dpd (current) | owed p 4000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 8200.00
            2024-04-01 day
              accrued 40.00, penalty 0.00; #3 due 2024-04-01: p 4000.00 i 40.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 4000.00 i 40.00 f 0.00 pen 0.00 | accrued 0.00 | paid 8200.00
            2024-04-01 pay 4040.00
              #3 interest 40.00, #3 principal 4000.00
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12240.00
            2024-04-02 pay 1.00
              refused: the loan is repaid
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12240.00
        "#]],
    );
}

/// Loan A with penalty interest at 18 % on overdue principal: each unpaid 4,000.00 costs
/// 4,000.00 × 18 % / 360 = 2.00 a day. Nothing is paid, so the days past due are counted from
/// 1 February: 1 on 2 February (1–30), 30 on 2 March (29 February days + 1), 31 on 3 March
/// (31–60), 61 on 2 April (61–90), 90 on 1 May, 91 on 2 May (90+).
/// Penalties by 2 May: #1 91 days = 182.00, #2 (from 1 March) 62 days = 124.00, #3 (from
/// 1 April) 31 days = 62.00; 368.00 in all. Owed then: 12,000.00 + 240.00 + 368.00 =
/// 12,608.00, paid in full: penalty, interest, principal of #1, then #2, then #3.
/// On 2 March: #1 30 days = 60.00, #2 1 day = 2.00 → 62.00 by then; 3 March adds 4.00.
#[test]
fn late_with_penalty_and_buckets() {
    let mut loan = loan_a(penalty_18());
    check(
        &mut loan,
        "
        2024-02-01 day
        2024-02-02 day
        2024-03-01 day
        2024-03-02 day
        2024-03-03 day
        2024-04-01 day
        2024-04-02 day
        2024-05-01 day
        2024-05-02 day
        2024-05-02 pay 12608.00
        ",
        expect![[r#"
            2024-02-01 day
              accrued 120.00, penalty 0.00; #1 due 2024-02-01: p 4000.00 i 120.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 12000.00 i 120.00 f 0.00 pen 0.00 | accrued 0.00 | paid 0.00
            2024-02-02 day
              accrued 2.75, penalty 2.00
              = in_arrears 1 dpd (1-30) | owed p 12000.00 i 120.00 f 0.00 pen 2.00 | accrued 2.75 | paid 0.00
            2024-03-01 day
              accrued 77.25, penalty 56.00; #2 due 2024-03-01: p 4000.00 i 80.00 f 0.00 pen 0.00
              = in_arrears 29 dpd (1-30) | owed p 12000.00 i 200.00 f 0.00 pen 58.00 | accrued 0.00 | paid 0.00
            2024-03-02 day
              accrued 1.29, penalty 4.00
              = in_arrears 30 dpd (1-30) | owed p 12000.00 i 200.00 f 0.00 pen 62.00 | accrued 1.29 | paid 0.00
            2024-03-03 day
              accrued 1.29, penalty 4.00
              = in_arrears 31 dpd (31-60) | owed p 12000.00 i 200.00 f 0.00 pen 66.00 | accrued 2.58 | paid 0.00
            2024-04-01 day
              accrued 37.42, penalty 116.00; #3 due 2024-04-01: p 4000.00 i 40.00 f 0.00 pen 0.00
              = in_arrears 60 dpd (31-60) | owed p 12000.00 i 240.00 f 0.00 pen 182.00 | accrued 0.00 | paid 0.00
            2024-04-02 day
              accrued 0.00, penalty 6.00
              = in_arrears 61 dpd (61-90) | owed p 12000.00 i 240.00 f 0.00 pen 188.00 | accrued 0.00 | paid 0.00
            2024-05-01 day
              accrued 0.00, penalty 174.00
              = in_arrears 90 dpd (61-90) | owed p 12000.00 i 240.00 f 0.00 pen 362.00 | accrued 0.00 | paid 0.00
            2024-05-02 day
              accrued 0.00, penalty 6.00
              = in_arrears 91 dpd (90+) | owed p 12000.00 i 240.00 f 0.00 pen 368.00 | accrued 0.00 | paid 0.00
            2024-05-02 pay 12608.00
              #1 penalty 182.00, #1 interest 120.00, #1 principal 4000.00, #2 penalty 124.00, #2 interest 80.00, #2 principal 4000.00, #3 penalty 62.00, #3 interest 40.00, #3 principal 4000.00
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12608.00
        "#]],
    );
}

/// Loan A, 1,000.00 paid on the first due date: interest 120.00 first, then 880.00 of
/// principal, leaving 3,120.00 of #1's principal overdue, which costs 3,120.00 × 18 % / 360 =
/// 1.56 a day: 15.60 by 11 February (10 days). Paying 3,135.60 then clears #1 (penalty first)
/// and the loan is current again.
#[test]
fn partial_payment() {
    let mut loan = loan_a(penalty_18());
    check(
        &mut loan,
        "
        2024-02-01 pay 1000.00
        2024-02-11 day
        2024-02-11 pay 3135.60
        ",
        expect![[r#"
            2024-02-01 pay 1000.00
              #1 interest 120.00, #1 principal 880.00
              = active 0 dpd (current) | owed p 11120.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 1000.00
            2024-02-11 day
              accrued 27.58, penalty 15.60
              = in_arrears 10 dpd (1-30) | owed p 11120.00 i 0.00 f 0.00 pen 15.60 | accrued 27.58 | paid 1000.00
            2024-02-11 pay 3135.60
              #1 penalty 15.60, #1 principal 3120.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 27.58 | paid 4135.60
        "#]],
    );
}

/// Loan A, 2,000.00 prepaid on 16 February (15 days into February's 29): it comes off #3, the
/// last instalment (the term is shortened). February's interest is 1 % a month spread over 29
/// days on 8,000.00 for 15 days and 6,000.00 for 14: (8,000.00 × 15 + 6,000.00 × 14) × 1 % /
/// 29 = 70.3448… → 70.34 due on 1 March with #2's 4,000.00. March then accrues on 2,000.00:
/// 20.00 over 31 days; by 16 March (15 days) 9.6774…, reported as 9.67. Paying 3,000.00 then
/// pays #3's last 2,000.00 of principal, which forecloses: the period's interest is charged
/// rounded half to even, 9.68 (0.01 more than reported), paid, and 990.32 is excess.
#[test]
fn prepayment_shortens_the_term_then_forecloses() {
    let mut loan = loan_a(Policy::default());
    check(
        &mut loan,
        "
        2024-02-01 pay 4120.00
        2024-02-16 pay 2000.00
        2024-03-01 day
        2024-03-01 pay 4070.34
        2024-03-16 day
        2024-03-16 pay 3000.00
        ",
        expect![[r#"
            2024-02-01 pay 4120.00
              #1 interest 120.00, #1 principal 4000.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
            2024-02-16 pay 2000.00
              #3 principal 2000.00 ahead
              = active 0 dpd (current) | owed p 6000.00 i 0.00 f 0.00 pen 0.00 | accrued 41.37 | paid 6120.00
            2024-03-01 day
              accrued 28.97, penalty 0.00; #2 due 2024-03-01: p 4000.00 i 70.34 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 6000.00 i 70.34 f 0.00 pen 0.00 | accrued 0.00 | paid 6120.00
            2024-03-01 pay 4070.34
              #2 interest 70.34, #2 principal 4000.00
              = active 0 dpd (current) | owed p 2000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 10190.34
            2024-03-16 day
              accrued 9.67, penalty 0.00
              = active 0 dpd (current) | owed p 2000.00 i 0.00 f 0.00 pen 0.00 | accrued 9.67 | paid 10190.34
            2024-03-16 pay 3000.00
              #3 principal 2000.00 ahead, #3 interest 9.68; interest accrued 0.01; excess 990.32
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12200.02
        "#]],
    );
}

/// Loan A: #1 paid on time, #2 (due 1 March) not. On 11 March #2 is 10 days past due with
/// 10 × 2.00 = 20.00 of penalty, and #3's period has accrued 10 of March's 31 days on
/// 4,000.00: 40.00 × 10 / 31 = 12.9032… → 12.90. The write-off charges that (no rounding
/// left over) and writes off principal 8,000.00, interest 80.00 + 12.90 = 92.90 and penalty
/// 20.00; then the loan refuses payments and accrues nothing.
#[test]
fn write_off() {
    let mut loan = loan_a(penalty_18());
    check(
        &mut loan,
        "
        2024-02-01 pay 4120.00
        2024-03-11 write_off
        2024-03-12 pay 100.00
        2024-06-01 day
        ",
        expect![[r#"
            2024-02-01 pay 4120.00
              #1 interest 120.00, #1 principal 4000.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
            2024-03-11 write_off
              written off p 8000.00 i 92.90 f 0.00 pen 20.00 (10 dpd)
              = written_off 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
            2024-03-12 pay 100.00
              refused: the loan is written off
              = written_off 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
            2024-06-01 day
              accrued 0.00, penalty 0.00
              = written_off 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4120.00
        "#]],
    );
}

/// Loan A, holiday for February granted on 15 January: #1 (due 1 February) moves to 1 March,
/// #2 and #3 are generated again monthly from there (1 April, 1 May). #1's period keeps its
/// 30/360 month (120.00) and earns 29 more days at 12,000.00 × 12 % / 360 = 4.00 a day
/// (116.00): 236.00. #2 (1 March to 1 April) is again 1 % of 8,000.00, #3 1 % of 4,000.00.
#[test]
fn holiday() {
    let mut loan = loan_a(Policy::default());
    check(
        &mut loan,
        "
        2024-01-15 holiday 2024-02-01 2024-02-29
        2024-02-01 day
        2024-03-01 day
        2024-03-01 pay 4236.00
        2024-04-01 pay 4080.00
        2024-05-01 pay 4040.00
        ",
        expect![[r#"
            2024-01-15 holiday 2024-02-01 2024-02-29
              #1 2024-02-01 -> 2024-03-01, #2 2024-03-01 -> 2024-04-01, #3 2024-04-01 -> 2024-05-01
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 54.19 | paid 0.00
            2024-02-01 day
              accrued 65.81, penalty 0.00
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 120.00 | paid 0.00
            2024-03-01 day
              accrued 116.00, penalty 0.00; #1 due 2024-03-01: p 4000.00 i 236.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 12000.00 i 236.00 f 0.00 pen 0.00 | accrued 0.00 | paid 0.00
            2024-03-01 pay 4236.00
              #1 interest 236.00, #1 principal 4000.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4236.00
            2024-04-01 pay 4080.00
              #2 interest 80.00, #2 principal 4000.00
              = active 0 dpd (current) | owed p 4000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 8316.00
            2024-05-01 pay 4040.00
              #3 interest 40.00, #3 principal 4000.00
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12356.00
        "#]],
    );
    expect![[r#"
        #1 2024-01-01 -> 2024-03-01 due: charged p 4000.00 i 236.00 f 0.00 pen 0.00; paid p 4000.00 i 236.00 f 0.00 pen 0.00
        #2 2024-03-01 -> 2024-04-01 due: charged p 4000.00 i 80.00 f 0.00 pen 0.00; paid p 4000.00 i 80.00 f 0.00 pen 0.00
        #3 2024-04-01 -> 2024-05-01 due: charged p 4000.00 i 40.00 f 0.00 pen 0.00; paid p 4000.00 i 40.00 f 0.00 pen 0.00
    "#]].assert_eq(&render_instalments(&loan));
}

/// Loan A, interest-free from 11 to 20 January and for all of February: January earns 21 of
/// its 31 days, 120.00 × 21 / 31 = 81.2903… → 81.29; February nothing; March 40.00.
#[test]
fn interest_free_period() {
    let mut loan = loan_a(Policy::default());
    check(
        &mut loan,
        "
        2024-01-01 interest_free 2024-01-11 2024-01-20
        2024-01-01 interest_free 2024-02-01 2024-02-29
        2024-02-01 pay 4081.29
        2024-03-01 pay 4000.00
        2024-04-01 pay 4040.00
        ",
        expect![[r#"
            2024-01-01 interest_free 2024-01-11 2024-01-20
              granted
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 0.00
            2024-01-01 interest_free 2024-02-01 2024-02-29
              granted
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 0.00
            2024-02-01 pay 4081.29
              #1 interest 81.29, #1 principal 4000.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 4081.29
            2024-03-01 pay 4000.00
              #2 principal 4000.00
              = active 0 dpd (current) | owed p 4000.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 8081.29
            2024-04-01 pay 4040.00
              #3 interest 40.00, #3 principal 4000.00
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 12121.29
        "#]],
    );
}

/// A revenue-based loan: 10,000.00 and a fee of 800.00, 10 % of every settlement, at least
/// 2,000.00 per 60 days (the first period ends 1 March 2024: 31 + 29 days), penalty 18.25 %
/// over 365 days (on 500.00: 0.25 a day).
/// - 10 Jan: 10 % of 5,000.00 = 500.00, fee first (the default order puts fee before
///   principal).
/// - 10 Feb: 1,000.00: the fee's last 300.00, then 700.00 of principal.
/// - 1 Mar: 1,500.00 paid this period, 500.00 short: #1 due, principal (no fee left).
/// - 5 Mar: 4 days past due, 1.00 penalty; 800.00 withheld pays it, #1's 500.00 and 299.00
///   of the balance (counted towards the second period's minimum).
/// - 30 Apr (1 Mar + 60 days): 2,000.00 − 299.00 = 1,701.00 short: #2 due.
/// - 30 Apr: 10 % of 100,000.00 is capped at what is owed: 1,701.00 + 10,000.00 − 700.00 −
///   500.00 − 299.00 − 1,701.00 = 8,501.00; the loan closes.
#[test]
fn revenue_based_withholding() {
    let terms = RevenueTerms {
        principal: fen_of(1_000_000),
        fee: fen_of(80_000),
        withholding_bps: 1_000,
        minimum_per_period: fen_of(200_000),
        disbursed_on: date("2024-01-01"),
    };
    let policy = Policy {
        penalty_rate: rate("18.25"),
        ..Policy::default()
    };
    let mut loan = Loan::revenue_based(&terms, policy).expect("a loan");
    check(
        &mut loan,
        "
        2024-01-10 settle 5000.00
        2024-02-10 settle 10000.00
        2024-03-01 day
        2024-03-05 day
        2024-03-05 settle 8000.00
        2024-04-30 day
        2024-04-30 settle 100000.00
        2024-05-10 settle 100000.00
        ",
        expect![[r#"
            2024-01-10 settle 5000.00
              withheld 500.00; balance fee 500.00 ahead
              = active 0 dpd (current) | owed p 10000.00 i 0.00 f 300.00 pen 0.00 | accrued 0.00 | paid 500.00
            2024-02-10 settle 10000.00
              withheld 1000.00; balance fee 300.00 ahead, balance principal 700.00 ahead
              = active 0 dpd (current) | owed p 9300.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 1500.00
            2024-03-01 day
              accrued 0.00, penalty 0.00; #1 due 2024-03-01: p 500.00 i 0.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 9300.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 1500.00
            2024-03-05 day
              accrued 0.00, penalty 1.00
              = in_arrears 4 dpd (1-30) | owed p 9300.00 i 0.00 f 0.00 pen 1.00 | accrued 0.00 | paid 1500.00
            2024-03-05 settle 8000.00
              withheld 800.00; #1 penalty 1.00, #1 principal 500.00, balance principal 299.00 ahead
              = active 0 dpd (current) | owed p 8501.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 2300.00
            2024-04-30 day
              accrued 0.00, penalty 0.00; #2 due 2024-04-30: p 1701.00 i 0.00 f 0.00 pen 0.00
              = active 0 dpd (current) | owed p 8501.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 2300.00
            2024-04-30 settle 100000.00
              withheld 8501.00; #2 principal 1701.00, balance principal 6800.00 ahead
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 10801.00
            2024-05-10 settle 100000.00
              withheld 0.00; nothing applied
              = closed 0 dpd (current) | owed p 0.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 10801.00
        "#]],
    );
}

/// Loan A collected from settlements: nothing is withheld before anything is due; on
/// 1 February 3,000.00 of a 3,000.00 settlement (interest 120.00, principal 2,880.00); on
/// 2 February the 1,120.00 left of #1 plus a day's penalty on it, 1,120.00 × 18 % / 360 =
/// 0.56.
#[test]
fn amortising_collection_from_settlements() {
    let mut loan = loan_a(penalty_18());
    check(
        &mut loan,
        "
        2024-01-20 settle 5000.00
        2024-02-01 settle 3000.00
        2024-02-02 settle 5000.00
        ",
        expect![[r#"
            2024-01-20 settle 5000.00
              withheld 0.00; nothing applied
              = active 0 dpd (current) | owed p 12000.00 i 0.00 f 0.00 pen 0.00 | accrued 73.54 | paid 0.00
            2024-02-01 settle 3000.00
              withheld 3000.00; #1 interest 120.00, #1 principal 2880.00
              = active 0 dpd (current) | owed p 9120.00 i 0.00 f 0.00 pen 0.00 | accrued 0.00 | paid 3000.00
            2024-02-02 settle 5000.00
              withheld 1120.56; #1 penalty 0.56, #1 principal 1120.00
              = active 0 dpd (current) | owed p 8000.00 i 0.00 f 0.00 pen 0.00 | accrued 2.75 | paid 4120.56
        "#]],
    );
}

/// Loan A with an instalment fee of 5.00, #1 unpaid for 10 days (20.00 penalty), then 200.00
/// paid in each order:
/// - penalty, fee, interest, principal: 20.00, 5.00, 120.00, 55.00;
/// - principal, interest, penalty, fee: 200.00 of principal;
/// - interest, principal, penalty, fee: 120.00 of interest, 80.00 of principal.
///
/// Then on 11 March #2 is 10 days past due too (20.00 of penalty) and #1's penalty has run 29
/// more days on what was left of its principal, at 0.05 % a day: 3,945.00 → 57.20 (57.2025),
/// 3,800.00 → 75.10 (10 × 4,000.00 + 29 × 3,800.00 = 150,200.00 × 0.05 % = 75.10 in all, none
/// paid yet), 3,920.00 → 76.84. 5,000.00 pays all of #1 before any of #2, in every order, and
/// the rest goes to #2 in the order: 892.80 of principal after 20.00 + 5.00 + 80.00; 999.90 of
/// principal; 80.00 of interest and 918.16 of principal. March has accrued 10 of its 31 days
/// on 4,000.00 (12.90) throughout.
#[test]
fn allocation_order_variants() {
    let orders = [
        AllocationOrder::PENALTY_FEE_INTEREST_PRINCIPAL,
        AllocationOrder::PRINCIPAL_INTEREST_PENALTY_FEE,
        AllocationOrder::INTEREST_PRINCIPAL_PENALTY_FEE,
    ];
    let mut out = String::new();
    for allocation in orders {
        let policy = Policy {
            allocation,
            penalty_rate: rate("18"),
        };
        let mut loan = Loan::from_terms(&loan_a_terms(), fen_of(500), policy).expect("a loan");
        let _ = writeln!(out, "{:?}", allocation.components());
        out.push_str(&run(
            &mut loan,
            "
            2024-02-11 pay 200.00
            2024-03-11 pay 5000.00
            ",
        ));
    }
    expect![[r#"
        [Penalty, Fee, Interest, Principal]
        2024-02-11 pay 200.00
          #1 penalty 20.00, #1 fee 5.00, #1 interest 120.00, #1 principal 55.00
          = in_arrears 10 dpd (1-30) | owed p 11945.00 i 0.00 f 0.00 pen 0.00 | accrued 27.58 | paid 200.00
        2024-03-11 pay 5000.00
          #1 penalty 57.20, #1 principal 3945.00, #2 penalty 20.00, #2 fee 5.00, #2 interest 80.00, #2 principal 892.80
          = in_arrears 10 dpd (1-30) | owed p 7107.20 i 0.00 f 0.00 pen 0.00 | accrued 12.90 | paid 5200.00
        [Principal, Interest, Penalty, Fee]
        2024-02-11 pay 200.00
          #1 principal 200.00
          = in_arrears 10 dpd (1-30) | owed p 11800.00 i 120.00 f 5.00 pen 20.00 | accrued 27.58 | paid 200.00
        2024-03-11 pay 5000.00
          #1 principal 3800.00, #1 interest 120.00, #1 penalty 75.10, #1 fee 5.00, #2 principal 999.90
          = in_arrears 10 dpd (1-30) | owed p 7000.10 i 80.00 f 5.00 pen 20.00 | accrued 12.90 | paid 5200.00
        [Interest, Principal, Penalty, Fee]
        2024-02-11 pay 200.00
          #1 interest 120.00, #1 principal 80.00
          = in_arrears 10 dpd (1-30) | owed p 11920.00 i 0.00 f 5.00 pen 20.00 | accrued 27.58 | paid 200.00
        2024-03-11 pay 5000.00
          #1 principal 3920.00, #1 penalty 76.84, #1 fee 5.00, #2 interest 80.00, #2 principal 918.16
          = in_arrears 10 dpd (1-30) | owed p 7081.84 i 0.00 f 5.00 pen 20.00 | accrued 12.90 | paid 5200.00
    "#]].assert_eq(&out);
}
