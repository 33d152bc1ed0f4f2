//! The principal reasons of a decline: at most [`DECLINE_REASONS_MAX`], each with a stable code
//! and a text in Chinese and in English, from the knock-outs, the platform's sizing, the
//! scorecard and the banks' answers (the order is in the module documentation).

use std::cmp::Reverse;

use chunlei_scorecard::Reason;

use super::bank::{BankAnswer, BankDecline};
use super::features::Column;
use super::knockout::Knockout;

/// The most reasons a decline gives.
pub const DECLINE_REASONS_MAX: usize = 4;

/// Where a reason comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonSource {
    Knockout,
    Platform,
    /// A scorecard variable (the code is its name) or, when the scorecard gave none, the
    /// generic `score_below_requirement`.
    Scorecard,
    /// The banks' policies; the code is a [`BankDecline`] code.
    Bank,
}

impl ReasonSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonSource::Knockout => "knockout",
            ReasonSource::Platform => "platform",
            ReasonSource::Scorecard => "scorecard",
            ReasonSource::Bank => "bank",
        }
    }
}

/// One principal reason of a decline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclineReason {
    pub source: ReasonSource,
    /// Stable and machine-readable.
    pub code: String,
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl DeclineReason {
    fn new(source: ReasonSource, code: &str, zh: String, en: String) -> DeclineReason {
        DeclineReason {
            source,
            code: code.to_owned(),
            zh,
            en,
        }
    }
}

/// The code of the reason given when the score kept banks from lending but the scorecard
/// named no variable.
const SCORE_BELOW_REQUIREMENT: &str = "score_below_requirement";
/// Its text, `(zh, en)`.
const SCORE_BELOW_REQUIREMENT_TEXT: (&str, &str) = (
    "信用评分未达到合作银行的要求",
    "the credit score is below what partner banks require",
);

/// A scorecard variable's reason, `(zh, en)`: the table below for the [`Column`]s, and a
/// generic text naming the variable for anything else a model may use.
pub fn scorecard_reason_text(code: &str) -> (String, String) {
    let Some(column) = Column::from_name(code) else {
        return (
            format!("评分因素“{code}”对信用评分不利"),
            format!("score factor \"{code}\" lowered the credit score"),
        );
    };
    let (zh, en) = match column {
        Column::Sales30d => ("近30天销售额", "sales of the last 30 days"),
        Column::Sales90d => ("近90天销售额", "sales of the last 90 days"),
        Column::Sales365d => ("近一年销售额", "sales of the last year"),
        Column::SalesGrowth => ("销售额增长情况", "growth of sales"),
        Column::RefundRate => ("退款率", "the refund rate"),
        Column::Tenure => ("在平台经营的时间", "time in business on the platform"),
        Column::ActiveDays90d => ("近90天有销售的天数", "days with sales in the last 90 days"),
        Column::AverageOrderValue => ("平均订单金额", "the average order value"),
        Column::Settlements90d => ("近90天结算笔数", "settlements in the last 90 days"),
        Column::ExistingDebt => ("现有负债", "existing debt"),
        Column::DebtToSales365d => ("负债与年销售额之比", "debt compared with a year's sales"),
        Column::DaysPastDue => ("当前逾期情况", "repayments past due now"),
        Column::WorstDaysPastDue12m => (
            "近12个月的逾期记录",
            "repayments past due in the last 12 months",
        ),
        Column::FraudFlag => ("账户风险标记", "risk flags on the account"),
        Column::RegionCode | Column::Province => ("所在地区", "the region"),
        Column::Industry => ("所属行业", "the industry"),
    };
    (
        format!("{zh}对信用评分不利"),
        format!("{en} lowered the credit score"),
    )
}

/// `bps` as a percentage without trailing zeros: 2,000 is `20%`, 1,550 `15.5%`.
pub(super) fn percent(bps: u32) -> String {
    let (whole, hundredths) = (bps / 100, bps % 100);
    match (hundredths, hundredths % 10) {
        (0, _) => format!("{whole}%"),
        (_, 0) => format!("{whole}.{}%", hundredths / 10),
        _ => format!("{whole}.{hundredths:02}%"),
    }
}

pub(super) fn from_knockouts(knockouts: &[Knockout]) -> Vec<DeclineReason> {
    knockouts
        .iter()
        .take(DECLINE_REASONS_MAX)
        .map(|k| DeclineReason::new(ReasonSource::Knockout, k.as_str(), k.zh(), k.en()))
        .collect()
}

/// Up to `room` reasons for a score too low: the scorecard's, in its order, or the generic
/// one when it gave none.
pub(super) fn from_score(scorecard: &[Reason], room: usize) -> Vec<DeclineReason> {
    if scorecard.is_empty() {
        let generic = DeclineReason::new(
            ReasonSource::Scorecard,
            SCORE_BELOW_REQUIREMENT,
            SCORE_BELOW_REQUIREMENT_TEXT.0.to_owned(),
            SCORE_BELOW_REQUIREMENT_TEXT.1.to_owned(),
        );
        return std::iter::once(generic).take(room).collect();
    }
    scorecard
        .iter()
        .take(room)
        .map(|reason| {
            let (zh, en) = scorecard_reason_text(&reason.code);
            DeclineReason::new(ReasonSource::Scorecard, &reason.code, zh, en)
        })
        .collect()
}

/// The reasons no bank made an offer: the scorecard's first when the score kept any bank
/// from lending (at least one, more when fewer other reasons need the room), then each other
/// reason the banks gave, the one most banks gave first (ties in check order).
pub(super) fn from_answers(answers: &[BankAnswer], scorecard: &[Reason]) -> Vec<DeclineReason> {
    // Per check: how many banks it stopped, and one of their answers.
    let mut tally: [(usize, Option<BankDecline>); BankDecline::CODES.len()] =
        [(0, None); BankDecline::CODES.len()];
    for answer in answers {
        if let BankAnswer::Declined { reason, .. } = answer
            && let Some((count, example)) = tally.get_mut(reason.rank())
        {
            *count += 1;
            *example = Some(*reason);
        }
    }
    let about_score = tally
        .iter()
        .any(|(_, example)| example.is_some_and(BankDecline::is_about_the_score));
    let mut others: Vec<(usize, usize, BankDecline)> = tally
        .iter()
        .enumerate()
        .filter_map(|(rank, (count, example))| Some((*count, rank, (*example)?)))
        .filter(|(_, _, decline)| !decline.is_about_the_score())
        .collect();
    others.sort_by_key(|(count, rank, _)| (Reverse(*count), *rank));
    let score_room = if about_score {
        DECLINE_REASONS_MAX.saturating_sub(others.len()).max(1)
    } else {
        0
    };
    let mut reasons = from_score(scorecard, score_room);
    let room = DECLINE_REASONS_MAX.saturating_sub(reasons.len());
    reasons.extend(
        others
            .into_iter()
            .take(room)
            .map(|(_, _, decline)| bank_reason(decline)),
    );
    reasons
}

/// The reason for the banks that declined like `decline`, worded for all of them.
fn bank_reason(decline: BankDecline) -> DeclineReason {
    let (zh, en) = match decline {
        BankDecline::RegionNotServed => (
            "合作银行暂不服务您所在的地区",
            "partner banks do not lend in your region",
        ),
        BankDecline::IndustryNotServed => (
            "合作银行暂不服务您所在的行业",
            "partner banks do not lend to your industry",
        ),
        // Reported through the scorecard's reasons (`from_score`); worded here all the same.
        BankDecline::ScoreBelowCutoff { .. } | BankDecline::GradeNotPriced { .. } => {
            SCORE_BELOW_REQUIREMENT_TEXT
        }
        BankDecline::UsageMissing => (
            "暂时无法核实合作银行的放款额度",
            "partner banks' lending quotas could not be checked",
        ),
        BankDecline::DailyQuotaExhausted { .. } => (
            "合作银行今日的放款额度已用完",
            "partner banks have used up today's lending quota",
        ),
        BankDecline::TotalQuotaExhausted { .. } => (
            "合作银行的放款总额度已用完",
            "partner banks have used up their total lending quota",
        ),
        BankDecline::RegionShareReached { .. } => (
            "合作银行在您所在地区的放款已达上限",
            "partner banks have reached their lending limit for your region",
        ),
        BankDecline::IndustryShareReached { .. } => (
            "合作银行在您所在行业的放款已达上限",
            "partner banks have reached their lending limit for your industry",
        ),
        BankDecline::BorrowerLimitBelowMinimum { .. } => (
            "合作银行的单户限额低于最低贷款金额",
            "partner banks' limit per borrower is below the smallest loan",
        ),
        BankDecline::NoProductFits => (
            "没有符合所需期限和经营流水的贷款产品",
            "no loan product fits the term and the sales",
        ),
    };
    DeclineReason::new(
        ReasonSource::Bank,
        decline.as_str(),
        zh.to_owned(),
        en.to_owned(),
    )
}
