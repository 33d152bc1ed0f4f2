//! Portfolio reports over loan records: what was lent and what is outstanding, arrears by
//! bucket, the non-performing ratio, and vintage curves — every figure worked out from the
//! loans' histories as of a day, so a report for a past day shows that day as it was.
//!
//! - **Non-performing** follows the usual supervisory line: principal more than 90 days past
//!   due (the "substandard or worse" classes) plus nothing written off; the ratio is that
//!   principal over all outstanding principal, in basis points.
//! - **Vintage curves**: loans grouped by the month they were disbursed; for each month on
//!   book the share (basis points) of the group's disbursed principal whose loan was 30 or
//!   more days past due at the end of that month or of an earlier one (loans are looked at on
//!   month ends). A curve is how a cohort of loans goes bad with age, comparable between
//!   cohorts.

use std::collections::BTreeMap;

use chunlei_ledger::CivilDate;

use super::{LoanRecord, replay};
use crate::servicing::{ArrearsBucket, Loan, Status, Summary};

/// The most months on book a vintage curve reports (three years).
pub const VINTAGE_MONTHS_MAX: u32 = 36;

/// One arrears bucket: how many loans and their outstanding principal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketFigures {
    pub loans: u64,
    pub principal: u64,
}

/// A portfolio on a day. Amounts in fen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Portfolio {
    pub loans: u64,
    /// Loans still owing on the day (active or in arrears).
    pub open_loans: u64,
    pub disbursed: u64,
    /// Paid by the merchants: principal, interest, fees and penalties.
    pub repaid: u64,
    pub outstanding_principal: u64,
    /// Principal, interest, fees and penalties owed.
    pub outstanding_total: u64,
    pub written_off: u64,
    /// Open loans by arrears bucket, in bucket order (current, 1–30, 31–60, 61–90, 90+).
    pub arrears: [BucketFigures; 5],
    /// Outstanding principal more than 90 days past due over all outstanding principal.
    pub npl_ratio_bps: u64,
    pub vintages: Vec<Vintage>,
}

/// The loans disbursed in one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vintage {
    /// `YYYY-MM`.
    pub month: String,
    pub loans: u64,
    pub disbursed: u64,
    /// For months on book 1, 2, … (up to the report's day): basis points of `disbursed` 30+
    /// days past due at the end of that month or an earlier one.
    pub ever_30_bps: Vec<u64>,
}

fn bucket_index(bucket: ArrearsBucket) -> usize {
    match bucket {
        ArrearsBucket::Current => 0,
        ArrearsBucket::Days1To30 => 1,
        ArrearsBucket::Days31To60 => 2,
        ArrearsBucket::Days61To90 => 3,
        ArrearsBucket::Over90 => 4,
    }
}

/// The loan as it stood at the end of `day`: the history recorded by then replayed (relief
/// granted by then counts, whenever it starts) and the loan moved to the next morning. `None`
/// before disbursement.
pub fn state_on(record: &LoanRecord, day: CivilDate) -> Option<Summary> {
    if day < record.spec.disbursed_on() {
        return None;
    }
    let mut loan: Loan = record.spec.open().ok()?;
    for op in record.ops.iter().take_while(|op| op.recorded_on() <= day) {
        replay(&mut loan, op).ok()?;
    }
    let next = day.add_days(1)?;
    if next > loan.as_of() {
        loan.on_day(next).ok()?;
    }
    Some(loan.summary())
}

/// The last day of the month `months` months after `year`-`month` (negative: before).
pub fn month_end(year: i32, month: u32, months: i32) -> Option<CivilDate> {
    let index = year * 12 + i32::try_from(month).ok()? - 1 + months;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    let first = CivilDate::from_ymd(index.div_euclid(12), month, 1)?;
    CivilDate::from_days(first.add_months(1)?.days_since_epoch() - 1)
}

fn bps(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        u64::try_from(u128::from(part) * 10_000 / u128::from(whole)).unwrap_or(10_000)
    }
}

/// The report on `day` over `loans` (those disbursed after `day` are left out).
pub fn portfolio(loans: &[LoanRecord], day: CivilDate) -> Portfolio {
    let mut report = Portfolio::default();
    let mut npl_principal = 0;
    let mut cohorts: BTreeMap<(i32, u32), Vec<&LoanRecord>> = BTreeMap::new();
    for record in loans {
        let Some(s) = state_on(record, day) else {
            continue;
        };
        let principal = record.spec.principal().get();
        report.loans += 1;
        report.disbursed += principal;
        report.repaid += s.total_paid.get();
        report.written_off += s.written_off.total().get();
        if matches!(s.status, Status::Active | Status::InArrears) {
            report.open_loans += 1;
            let owed = s.outstanding.principal.get();
            report.outstanding_principal += owed;
            report.outstanding_total += s.outstanding.total().get();
            let bucket = &mut report.arrears[bucket_index(s.arrears)];
            bucket.loans += 1;
            bucket.principal += owed;
            if s.arrears == ArrearsBucket::Over90 {
                npl_principal += owed;
            }
        }
        let (year, month, _) = record.spec.disbursed_on().ymd();
        cohorts.entry((year, month)).or_default().push(record);
    }
    report.npl_ratio_bps = bps(npl_principal, report.outstanding_principal);
    report.vintages = cohorts
        .into_iter()
        .filter_map(|((year, month), records)| vintage(year, month, &records, day))
        .collect();
    report
}

fn vintage(year: i32, month: u32, records: &[&LoanRecord], day: CivilDate) -> Option<Vintage> {
    let disbursed: u64 = records.iter().map(|r| r.spec.principal().get()).sum();
    let mut ever: Vec<bool> = vec![false; records.len()];
    let mut curve = Vec::new();
    for months_on_book in 1..=VINTAGE_MONTHS_MAX {
        // The last day of the cohort's `months_on_book`-th month.
        let end = month_end(year, month, i32::try_from(months_on_book).ok()? - 1)?;
        if end > day {
            break;
        }
        let mut bad = 0;
        for (record, flag) in records.iter().zip(ever.iter_mut()) {
            if !*flag {
                *flag = state_on(record, end).is_some_and(|s| s.days_past_due >= 30);
            }
            if *flag {
                bad += record.spec.principal().get();
            }
        }
        curve.push(bps(bad, disbursed));
    }
    Some(Vintage {
        month: format!("{year:04}-{month:02}"),
        loans: records.len() as u64,
        disbursed,
        ever_30_bps: curve,
    })
}
