//! The loan book's pure parts: terms as text, and portfolio figures from histories.

use chunlei_ledger::{CivilDate, Fen};

use super::portfolio::{BucketFigures, portfolio, state_on};
use super::{LoanRecord, LoanSpec, Op, OpKind, ProductSpec, spec_from_text, spec_text};
use crate::servicing::{Policy, RevenueTerms};
use crate::{AnnualRate, DayCount, Method, Terms};

fn day(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("date")
}

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("fen")
}

fn amortising(principal: u64, on: &str) -> LoanSpec {
    LoanSpec {
        product: ProductSpec::Amortising {
            terms: Terms::monthly(
                fen(principal),
                AnnualRate::from_basis_points(1_200).expect("rate"),
                3,
                Method::EqualInstallments,
                DayCount::Thirty360,
                day(on),
            ),
            instalment_fee: Fen::ZERO,
        },
        policy: Policy {
            penalty_rate: AnnualRate::from_basis_points(1_800).expect("rate"),
            ..Policy::default()
        },
    }
}

fn record(id: &str, spec: LoanSpec, ops: Vec<Op>) -> LoanRecord {
    let loan = LoanRecord::rebuild(&spec, &ops).expect("replays");
    LoanRecord {
        id: id.into(),
        seq: 1,
        application_id: id.into(),
        merchant_id: "m".into(),
        bank_id: "b".into(),
        spec,
        platform_part: Fen::ZERO,
        disbursed_at: 0,
        ops,
        loan,
    }
}

fn paid(on: &str, amount: u64) -> Op {
    Op {
        kind: OpKind::DueCollection,
        on: day(on),
        at: 0,
        amount: fen(amount),
        taken: fen(amount),
        reference: format!("due:{on}"),
    }
}

#[test]
fn terms_read_back_as_written() {
    let revenue = LoanSpec {
        product: ProductSpec::RevenueBased(RevenueTerms {
            principal: fen(100_000),
            fee: fen(5_000),
            withholding_bps: 1_000,
            minimum_per_period: fen(10_000),
            disbursed_on: day("2020-04-01"),
        }),
        policy: Policy::default(),
    };
    for spec in [amortising(100_000, "2020-04-01"), revenue] {
        let text = spec_text(&spec);
        assert_eq!(spec_from_text(&text), Ok(spec), "{text}");
    }
    let broken = spec_text(&amortising(1, "2020-04-01")).replace("method=", "method=x");
    assert_eq!(
        spec_from_text(&broken).map_err(|e| e.key),
        Err("method".into())
    );
}

#[test]
fn a_history_that_does_not_replay_to_its_amounts_is_refused() {
    let mut op = paid("2020-05-01", 34_002);
    op.taken = fen(34_001);
    let error =
        LoanRecord::rebuild(&amortising(100_000, "2020-04-01"), &[op]).expect_err("refused");
    assert!(
        error.contains("the ledger took 34001 fen but the replay takes 34002"),
        "{error}"
    );
}

/// Two loans of April 2020: one paid on time, one never paid. On 15 July the unpaid one is
/// 75 days past due (first instalment due 1 May): bucket 61–90, not yet non-performing; on
/// 15 August, 106 days: 90+, all of its principal non-performing. Its vintage month (April)
/// has it 30+ days past due from the end of month 2 (31 May, 30 days late) on: 50 % of the
/// cohort's principal.
#[test]
fn portfolio_figures_follow_the_histories() {
    let on_time = record(
        "a",
        amortising(100_000, "2020-04-01"),
        vec![
            paid("2020-05-01", 34_002),
            paid("2020-06-01", 34_002),
            paid("2020-07-01", 34_003),
        ],
    );
    let unpaid = record("b", amortising(100_000, "2020-04-01"), Vec::new());
    assert!(state_on(&unpaid, day("2020-03-31")).is_none());
    let loans = [on_time, unpaid];

    let july = portfolio(&loans, day("2020-07-15"));
    assert_eq!(
        (july.loans, july.open_loans, july.disbursed, july.repaid),
        (2, 1, 200_000, 102_007)
    );
    assert_eq!(july.outstanding_principal, 100_000);
    assert_eq!(
        july.arrears[3],
        BucketFigures {
            loans: 1,
            principal: 100_000
        }
    );
    assert_eq!(july.npl_ratio_bps, 0);

    let august = portfolio(&loans, day("2020-08-15"));
    assert_eq!(august.arrears[4].principal, 100_000);
    assert_eq!(august.npl_ratio_bps, 10_000);
    let april = &august.vintages[0];
    assert_eq!((april.month.as_str(), april.loans), ("2020-04", 2));
    // Month ends 30 April, 31 May, 30 June, 31 July: 30 days late first on 31 May.
    assert_eq!(april.ever_30_bps, [0, 5_000, 5_000, 5_000]);
}

#[test]
fn month_ends_count_from_any_month_either_way() {
    use super::portfolio::month_end;
    let end = |y, m, k| month_end(y, m, k).map(|d| d.to_string());
    assert_eq!(end(2020, 2, 0).as_deref(), Some("2020-02-29"));
    assert_eq!(end(2020, 1, -1).as_deref(), Some("2019-12-31"));
    assert_eq!(end(2020, 12, 2).as_deref(), Some("2021-02-28"));
    assert_eq!(end(2020, 3, -13).as_deref(), Some("2019-02-28"));
}
