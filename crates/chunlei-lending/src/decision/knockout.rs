//! Knock-out rules: the hard rules that decline an application whatever its score, before any
//! bank is asked. Each has a stable code and a plain reason in Chinese and in English that
//! names the threshold in force.

use chunlei_ledger::Fen;

use super::ONE_FEN;
use super::features::Features;
use super::reason::percent;
use crate::schedule::yuan;

/// The thresholds of the knock-out rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnockoutRules {
    /// `in_arrears` when an instalment is more days past due now than this (0: any arrears).
    pub days_past_due_max: u32,
    /// `past_arrears` when an instalment was more days past due than this in the last 12
    /// months.
    pub worst_days_past_due_12m_max: u32,
    /// `too_new` when the merchant joined the platform fewer days ago than this.
    pub tenure_days_min: u32,
    /// `no_sales` when the last 90 days' sales are below this (1 fen: no sales at all).
    pub sales_90d_min: Fen,
    /// `inactive` when the merchant sold on fewer of the last 90 days than this.
    pub active_days_90d_min: u32,
    /// `high_refund_rate` when refunds are more of sales than this, in basis points.
    pub refund_rate_bps_max: u32,
}

impl Default for KnockoutRules {
    /// No arrears now, none over 30 days in a year, 180 days on the platform, some sales,
    /// 10 active days in 90, refunds at most 20 % of sales.
    fn default() -> Self {
        KnockoutRules {
            days_past_due_max: 0,
            worst_days_past_due_12m_max: 30,
            tenure_days_min: 180,
            sales_90d_min: ONE_FEN,
            active_days_90d_min: 10,
            refund_rate_bps_max: 2_000,
        }
    }
}

/// A knock-out that fired, with the figure and the threshold that made it fire. Variants are
/// in the order the rules are checked, which is also the order of the decline reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knockout {
    FraudFlag,
    InArrears {
        days_past_due: u32,
        max: u32,
    },
    PastArrears {
        worst_days_past_due_12m: u32,
        max: u32,
    },
    TooNew {
        tenure_days: u32,
        min: u32,
    },
    NoSales {
        sales_90d: Fen,
        min: Fen,
    },
    Inactive {
        active_days_90d: u32,
        min: u32,
    },
    HighRefundRate {
        refund_rate_bps: u32,
        max: u32,
    },
}

impl KnockoutRules {
    /// Every rule `features` break, in rule order; empty (and not allocated) when none.
    pub fn check(&self, features: &Features) -> Vec<Knockout> {
        let f = features;
        let rules = [
            f.fraud_flag.then_some(Knockout::FraudFlag),
            (f.days_past_due > self.days_past_due_max).then_some(Knockout::InArrears {
                days_past_due: f.days_past_due,
                max: self.days_past_due_max,
            }),
            (f.worst_days_past_due_12m > self.worst_days_past_due_12m_max).then_some(
                Knockout::PastArrears {
                    worst_days_past_due_12m: f.worst_days_past_due_12m,
                    max: self.worst_days_past_due_12m_max,
                },
            ),
            (f.tenure_days < self.tenure_days_min).then_some(Knockout::TooNew {
                tenure_days: f.tenure_days,
                min: self.tenure_days_min,
            }),
            (f.sales_90d < self.sales_90d_min).then_some(Knockout::NoSales {
                sales_90d: f.sales_90d,
                min: self.sales_90d_min,
            }),
            (f.active_days_90d < self.active_days_90d_min).then_some(Knockout::Inactive {
                active_days_90d: f.active_days_90d,
                min: self.active_days_90d_min,
            }),
            (f.refund_rate_bps > self.refund_rate_bps_max).then_some(Knockout::HighRefundRate {
                refund_rate_bps: f.refund_rate_bps,
                max: self.refund_rate_bps_max,
            }),
        ];
        rules.into_iter().flatten().collect()
    }
}

impl Knockout {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Knockout::FraudFlag => "fraud_flag",
            Knockout::InArrears { .. } => "in_arrears",
            Knockout::PastArrears { .. } => "past_arrears",
            Knockout::TooNew { .. } => "too_new",
            Knockout::NoSales { .. } => "no_sales",
            Knockout::Inactive { .. } => "inactive",
            Knockout::HighRefundRate { .. } => "high_refund_rate",
        }
    }

    /// The reason in Chinese.
    pub fn zh(self) -> String {
        match self {
            Knockout::FraudFlag => "账户存在欺诈风险标记".to_owned(),
            Knockout::InArrears { max: 0, .. } => "当前有逾期未还的款项".to_owned(),
            Knockout::InArrears { max, .. } => format!("当前有逾期超过{max}天未还的款项"),
            Knockout::PastArrears { max, .. } => format!("近12个月内曾逾期超过{max}天"),
            Knockout::TooNew { min, .. } => format!("在平台经营时间不足{min}天"),
            Knockout::NoSales { min, .. } if min.get() <= 1 => "近90天没有销售".to_owned(),
            Knockout::NoSales { min, .. } => format!("近90天销售额不足{}元", yuan(min)),
            Knockout::Inactive { min, .. } => format!("近90天有销售的天数不足{min}天"),
            Knockout::HighRefundRate { max, .. } => format!("退款率高于{}", percent(max)),
        }
    }

    /// The reason in English.
    pub fn en(self) -> String {
        match self {
            Knockout::FraudFlag => "the account carries a fraud flag".to_owned(),
            Knockout::InArrears { max: 0, .. } => "a repayment is past due".to_owned(),
            Knockout::InArrears { max, .. } => {
                format!("a repayment is more than {max} days past due")
            }
            Knockout::PastArrears { max, .. } => {
                format!("a repayment was more than {max} days past due in the last 12 months")
            }
            Knockout::TooNew { min, .. } => {
                format!("in business on the platform for less than {min} days")
            }
            Knockout::NoSales { min, .. } if min.get() <= 1 => {
                "no sales in the last 90 days".to_owned()
            }
            Knockout::NoSales { min, .. } => {
                format!("sales of the last 90 days below {} yuan", yuan(min))
            }
            Knockout::Inactive { min, .. } => {
                format!("sales on fewer than {min} of the last 90 days")
            }
            Knockout::HighRefundRate { max, .. } => {
                format!("refunds above {} of sales", percent(max))
            }
        }
    }
}
