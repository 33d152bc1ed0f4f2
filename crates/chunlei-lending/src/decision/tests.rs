//! Decision scenarios as data: a platform policy, a merchant, a consortium and its usage in;
//! the decision rendered as text out (`expect-test`).

use std::fmt::Write as _;

use chunlei_ledger::Fen;
use chunlei_scorecard::Reason;
use expect_test::{Expect, expect};

use super::*;
use crate::{CivilDate, DayCount, Method, schedule};

/// Fen from yuan.
fn yuan(yuan: u64) -> Fen {
    Fen::new(yuan * 100).expect("a test amount")
}

fn fen(fen: u64) -> Fen {
    Fen::new(fen).expect("a test amount")
}

fn bank_id(text: &str) -> BankId {
    BankId::parse(text).expect("a valid bank id")
}

/// Grades at 700/650/600/550; 2.5× to 1× the 30-day sales by grade A–D, nothing for E, at
/// most 500,000 yuan; loans of 1,000 yuan or more in hundreds of yuan; 3, 6 or 12 months.
fn policy() -> Policy {
    Policy {
        version: "policy-2026-11".to_owned(),
        knockouts: KnockoutRules::default(),
        grades: GradeGrid::new(700, 650, 600, 550).expect("falling cut-offs"),
        sizing: Sizing {
            basis: SalesBasis::Sales30d,
            multiple_bps_by_grade: [25_000, 20_000, 15_000, 10_000, 0],
            cap: yuan(500_000),
            amount_min: yuan(1_000),
            unit: yuan(100),
        },
        terms: TermSet::of(&[3, 6, 12]).expect("valid terms"),
        joint: None,
        servicing: crate::decision::ServicingPolicy::default(),
    }
}

/// A shop in Shenzhen (Nanshan) selling clothes for two years, 100,000 yuan a month.
fn features() -> Features {
    Features {
        sales_30d: yuan(100_000),
        sales_90d: yuan(300_000),
        sales_365d: yuan(1_200_000),
        sales_growth_bps: 500,
        refund_rate_bps: 150,
        tenure_days: 730,
        active_days_90d: 85,
        average_order_value: yuan(120),
        settlements_90d: 88,
        existing_debt: Fen::ZERO,
        days_past_due: 0,
        worst_days_past_due_12m: 0,
        fraud_flag: false,
        region_code: "440305".to_owned(),
        industry: "apparel".to_owned(),
    }
}

fn application(requested: Fen) -> Application {
    Application {
        application_id: "app-1".to_owned(),
        merchant_id: "m-1".to_owned(),
        requested,
        term_months: None,
        applied_at: 1_795_000_000_000_000_000,
    }
}

/// A nationwide bank lending to every industry, equal instalments under 30/360 for 1 to 12
/// months, `rate_bps` to grades A–C, 200,000 yuan per borrower, ample quotas.
fn bank(id: &str, score_cutoff: i64, rate_bps: u32) -> BankPolicy {
    BankPolicy {
        bank_id: bank_id(id),
        products: vec![Product::Amortising {
            method: Method::EqualInstallments,
            day_count: DayCount::Thirty360,
            terms: TermSet::range(1, 12),
        }],
        score_cutoff,
        regions: Served::All,
        industries: Served::All,
        per_borrower_limit: yuan(200_000),
        terms: TermSet::range(1, 36),
        rate_bps_by_grade: [Some(rate_bps), Some(rate_bps), Some(rate_bps), None, None],
        daily_quota: yuan(10_000_000),
        total_quota: yuan(1_000_000_000),
        region_share_max_bps: 2_000,
        industry_share_max_bps: 3_000,
    }
}

fn unused(bank: &BankPolicy) -> BankUsage {
    BankUsage {
        bank_id: bank.bank_id,
        daily_used: Fen::ZERO,
        total_used: Fen::ZERO,
        region_used: Fen::ZERO,
        industry_used: Fen::ZERO,
    }
}

fn score(score: i64) -> ModelScore {
    ModelScore {
        model_version: "sc-2026-10".to_owned(),
        score,
    }
}

fn reason(code: &str, points_lost: i64) -> Reason {
    Reason {
        code: code.to_owned(),
        points: 10,
        best_points: 10 + points_lost,
        points_lost,
    }
}

/// One case: everything a decision takes, with defaults the scenarios change.
struct Case {
    policy: Policy,
    application: Application,
    features: Features,
    score: i64,
    reasons: Vec<Reason>,
    banks: Vec<BankPolicy>,
    usage: Vec<BankUsage>,
}

impl Case {
    fn new(banks: Vec<BankPolicy>) -> Case {
        Case {
            policy: policy(),
            application: application(yuan(150_000)),
            features: features(),
            score: 660,
            reasons: vec![reason("tenure_days", 12), reason("refund_rate_bps", 5)],
            usage: banks.iter().map(unused).collect(),
            banks,
        }
    }

    fn decide(self) -> Decision {
        let consortium = Consortium::new(self.banks).expect("a valid consortium");
        self.policy.decide(
            self.application,
            self.features,
            score(self.score),
            self.reasons,
            &consortium,
            &self.usage,
        )
    }

    fn check(self, expect: Expect) {
        expect.assert_eq(&render(&self.decide()));
    }
}

fn render(decision: &Decision) -> String {
    let sized = &decision.sized;
    let mut out = format!(
        "score {} grade {} (model {}, policy {})\nsized {} from gross {} ({} x {}bp, capped) less debt {}\n",
        decision.score,
        decision.grade.as_str(),
        decision.model_version,
        decision.policy_version,
        crate::yuan(sized.amount),
        crate::yuan(sized.gross),
        crate::yuan(sized.basis),
        sized.multiple_bps,
        crate::yuan(sized.existing_debt),
    );
    for answer in &decision.answers {
        match answer {
            BankAnswer::Offered(offer) => {
                writeln!(out, "{}: offers {}", offer.bank_id, offer_text(offer))
            }
            BankAnswer::Declined { bank_id, reason } => {
                writeln!(out, "{bank_id}: declines {} {reason:?}", reason.as_str())
            }
        }
        .expect("writing to a String");
    }
    match &decision.outcome {
        Outcome::Approved(offer) => {
            writeln!(out, "APPROVED {}: {}", offer.bank_id, offer_text(offer))
        }
        Outcome::Declined { cause, reasons } => {
            let knocked_out: Vec<_> = decision.knockouts.iter().map(|k| k.as_str()).collect();
            writeln!(out, "DECLINED {cause:?} knockouts {knocked_out:?}").and_then(|()| {
                reasons.iter().try_for_each(|r| {
                    writeln!(
                        out,
                        "  {} {}: {} / {}",
                        r.source.as_str(),
                        r.code,
                        r.zh,
                        r.en
                    )
                })
            })
        }
    }
    .expect("writing to a String");
    out
}

fn offer_text(offer: &Offer) -> String {
    let product = match offer.product {
        OfferedProduct::Amortising {
            method,
            day_count,
            annual_rate_bps,
            terms,
        } => format!(
            "#{} {} {} {annual_rate_bps}bp {terms:?}",
            offer.product_index,
            method.as_str(),
            day_count.as_str()
        ),
        OfferedProduct::RevenueBased {
            fee,
            fee_bps,
            withholding_bps,
            expected_days,
            ..
        } => format!(
            "#{} revenue_based fee {} ({fee_bps}bp) withholding {withholding_bps}bp \
             {expected_days} days",
            offer.product_index,
            crate::yuan(fee)
        ),
    };
    format!(
        "{} (bank {} + platform {}) price {}bp {product}",
        crate::yuan(offer.amount),
        crate::yuan(offer.bank_part),
        crate::yuan(offer.platform_part),
        offer.price_bps
    )
}

#[test]
fn the_best_price_wins_among_several_banks() {
    Case::new(vec![
        bank("bank-c", 600, 900),
        bank("bank-a", 600, 750),
        bank("bank-b", 600, 800),
    ])
    .check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: offers 150000.00 (bank 150000.00 + platform 0.00) price 750bp #0 equal_installment 30_360 750bp [3, 6, 12]
        bank-b: offers 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
        bank-c: offers 150000.00 (bank 150000.00 + platform 0.00) price 900bp #0 equal_installment 30_360 900bp [3, 6, 12]
        APPROVED bank-a: 150000.00 (bank 150000.00 + platform 0.00) price 750bp #0 equal_installment 30_360 750bp [3, 6, 12]
    "#]]);
}

#[test]
fn a_tie_on_price_goes_to_the_larger_amount_then_the_lower_bank_id() {
    let small = BankPolicy {
        per_borrower_limit: yuan(100_000),
        ..bank("bank-a", 600, 800)
    };
    Case::new(vec![bank("bank-c", 600, 800), small, bank("bank-b", 600, 800)])
        .check(expect![[r#"
            score 660 grade B (model sc-2026-10, policy policy-2026-11)
            sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
            bank-a: offers 100000.00 (bank 100000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
            bank-b: offers 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
            bank-c: offers 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
            APPROVED bank-b: 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
        "#]]);
}

#[test]
fn banks_without_quota_left_are_skipped() {
    let banks = vec![
        bank("bank-a", 600, 700),
        bank("bank-b", 600, 710),
        bank("bank-c", 600, 720),
        bank("bank-d", 600, 730),
        bank("bank-e", 600, 900),
    ];
    let mut case = Case::new(banks);
    // bank-a used all of today's quota; bank-b all but 999 yuan (less than the smallest
    // loan) of its total; bank-c its whole share of the region (20 % of its total quota).
    // bank-d has 80,000 yuan of its industry share (30 %) left and lends that: its price is
    // lower than bank-e's, which lends the whole request, and the price decides first.
    case.usage[0].daily_used = yuan(10_000_000);
    case.usage[1].total_used = yuan(1_000_000_000 - 999);
    case.usage[2].region_used = yuan(200_000_000);
    case.usage[3].industry_used = yuan(300_000_000 - 80_000);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines daily_quota_exhausted DailyQuotaExhausted { left: 0fen }
        bank-b: declines total_quota_exhausted TotalQuotaExhausted { left: 99900fen }
        bank-c: declines region_share_reached RegionShareReached { left: 0fen }
        bank-d: offers 80000.00 (bank 80000.00 + platform 0.00) price 730bp #0 equal_installment 30_360 730bp [3, 6, 12]
        bank-e: offers 150000.00 (bank 150000.00 + platform 0.00) price 900bp #0 equal_installment 30_360 900bp [3, 6, 12]
        APPROVED bank-d: 80000.00 (bank 80000.00 + platform 0.00) price 730bp #0 equal_installment 30_360 730bp [3, 6, 12]
    "#]]);
}

#[test]
fn regions_and_industries_not_served() {
    let beijing = BankPolicy {
        regions: Served::Only(vec!["11".to_owned()]),
        ..bank("bank-a", 600, 700)
    };
    let food = BankPolicy {
        industries: Served::Only(vec!["food".to_owned(), "grocery".to_owned()]),
        ..bank("bank-b", 600, 700)
    };
    let shenzhen = BankPolicy {
        regions: Served::Only(vec!["4403".to_owned(), "11".to_owned()]),
        ..bank("bank-c", 600, 950)
    };
    Case::new(vec![beijing.clone(), food.clone(), shenzhen]).check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines region_not_served RegionNotServed
        bank-b: declines industry_not_served IndustryNotServed
        bank-c: offers 150000.00 (bank 150000.00 + platform 0.00) price 950bp #0 equal_installment 30_360 950bp [3, 6, 12]
        APPROVED bank-c: 150000.00 (bank 150000.00 + platform 0.00) price 950bp #0 equal_installment 30_360 950bp [3, 6, 12]
    "#]]);
    // Without the Shenzhen bank nobody lends: two bank reasons, no score reason.
    Case::new(vec![beijing, food]).check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines region_not_served RegionNotServed
        bank-b: declines industry_not_served IndustryNotServed
        DECLINED NoOffer knockouts []
          bank region_not_served: 合作银行暂不服务您所在的地区 / partner banks do not lend in your region
          bank industry_not_served: 合作银行暂不服务您所在的行业 / partner banks do not lend to your industry
    "#]]);
}

#[test]
fn a_score_below_one_banks_cutoff_but_above_anothers() {
    // 660 is below bank-a's 680 but above bank-b's 640; bank-c prices only grades A and B...
    // and 660 is grade B, so it lends; bank-d lends to grade A only.
    let grade_a_only = BankPolicy {
        rate_bps_by_grade: [Some(500), None, None, None, None],
        ..bank("bank-d", 600, 500)
    };
    Case::new(vec![
        bank("bank-a", 680, 600),
        bank("bank-b", 640, 800),
        bank("bank-c", 600, 850),
        grade_a_only,
    ])
    .check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines score_below_cutoff ScoreBelowCutoff { cutoff: 680 }
        bank-b: offers 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
        bank-c: offers 150000.00 (bank 150000.00 + platform 0.00) price 850bp #0 equal_installment 30_360 850bp [3, 6, 12]
        bank-d: declines grade_not_priced GradeNotPriced { grade: B }
        APPROVED bank-b: 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
    "#]]);
}

#[test]
fn a_score_below_every_cutoff_gives_the_scorecards_reasons() {
    let mut case = Case::new(vec![bank("bank-a", 680, 600), bank("bank-b", 700, 800)]);
    case.reasons = vec![
        reason("tenure_days", 30),
        reason("refund_rate_bps", 20),
        reason("bureau_inquiries_6m", 8),
        reason("sales_growth_bps", 6),
        reason("province", 2),
    ];
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines score_below_cutoff ScoreBelowCutoff { cutoff: 680 }
        bank-b: declines score_below_cutoff ScoreBelowCutoff { cutoff: 700 }
        DECLINED NoOffer knockouts []
          scorecard tenure_days: 在平台经营的时间对信用评分不利 / time in business on the platform lowered the credit score
          scorecard refund_rate_bps: 退款率对信用评分不利 / the refund rate lowered the credit score
          scorecard bureau_inquiries_6m: 评分因素“bureau_inquiries_6m”对信用评分不利 / score factor "bureau_inquiries_6m" lowered the credit score
          scorecard sales_growth_bps: 销售额增长情况对信用评分不利 / growth of sales lowered the credit score
    "#]]);
}

#[test]
fn knockouts_decline_before_any_bank_is_asked() {
    let mut case = Case::new(vec![bank("bank-a", 600, 700)]);
    case.features.fraud_flag = true;
    case.features.days_past_due = 3;
    case.features.tenure_days = 90;
    case.features.sales_90d = Fen::ZERO;
    case.features.refund_rate_bps = 2_550;
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        DECLINED Knockout knockouts ["fraud_flag", "in_arrears", "too_new", "no_sales", "high_refund_rate"]
          knockout fraud_flag: 账户存在欺诈风险标记 / the account carries a fraud flag
          knockout in_arrears: 当前有逾期未还的款项 / a repayment is past due
          knockout too_new: 在平台经营时间不足180天 / in business on the platform for less than 180 days
          knockout no_sales: 近90天没有销售 / no sales in the last 90 days
    "#]]);
}

#[test]
fn each_knockout_in_both_languages() {
    let rules = KnockoutRules {
        days_past_due_max: 7,
        sales_90d_min: yuan(5_000),
        ..KnockoutRules::default()
    };
    let mut worst = features();
    worst.fraud_flag = true;
    worst.days_past_due = 8;
    worst.worst_days_past_due_12m = 31;
    worst.tenure_days = 179;
    worst.sales_90d = yuan(4_999);
    worst.active_days_90d = 9;
    worst.refund_rate_bps = 2_001;
    let mut out = String::new();
    for rules in [KnockoutRules::default(), rules] {
        for knockout in rules.check(&worst) {
            writeln!(
                out,
                "{}: {} / {}",
                knockout.as_str(),
                knockout.zh(),
                knockout.en()
            )
            .expect("writing to a String");
        }
    }
    assert!(KnockoutRules::default().check(&features()).is_empty());
    expect![[r#"
        fraud_flag: 账户存在欺诈风险标记 / the account carries a fraud flag
        in_arrears: 当前有逾期未还的款项 / a repayment is past due
        past_arrears: 近12个月内曾逾期超过30天 / a repayment was more than 30 days past due in the last 12 months
        too_new: 在平台经营时间不足180天 / in business on the platform for less than 180 days
        inactive: 近90天有销售的天数不足10天 / sales on fewer than 10 of the last 90 days
        high_refund_rate: 退款率高于20% / refunds above 20% of sales
        fraud_flag: 账户存在欺诈风险标记 / the account carries a fraud flag
        in_arrears: 当前有逾期超过7天未还的款项 / a repayment is more than 7 days past due
        past_arrears: 近12个月内曾逾期超过30天 / a repayment was more than 30 days past due in the last 12 months
        too_new: 在平台经营时间不足180天 / in business on the platform for less than 180 days
        no_sales: 近90天销售额不足5000.00元 / sales of the last 90 days below 5000.00 yuan
        inactive: 近90天有销售的天数不足10天 / sales on fewer than 10 of the last 90 days
        high_refund_rate: 退款率高于20% / refunds above 20% of sales
    "#]].assert_eq(&out);
}

#[test]
fn decline_reasons_are_at_most_four_and_bilingual() {
    let mut banks: Vec<BankPolicy> = (0..9)
        .map(|i| bank(&format!("bank-{i}"), 600, 700))
        .collect();
    for bank in &mut banks[0..3] {
        bank.regions = Served::Only(vec!["31".to_owned()]);
    }
    banks[3].industries = Served::Only(vec!["food".to_owned()]);
    banks[4].score_cutoff = 700;
    banks[5].daily_quota = yuan(500);
    banks[6].per_borrower_limit = yuan(999);
    banks[7].total_quota = Fen::ZERO;
    banks[8].terms = TermSet::range(24, 36);
    let decision = Case::new(banks).decide();
    let reasons = decision.reasons();
    assert_eq!(reasons.len(), DECLINE_REASONS_MAX);
    for reason in reasons {
        assert!(reason.en.is_ascii() && !reason.en.is_empty(), "{reason:?}");
        assert!(reason.zh.chars().any(|c| c > '\u{2e80}'), "{reason:?}");
    }
    expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-0: declines region_not_served RegionNotServed
        bank-1: declines region_not_served RegionNotServed
        bank-2: declines region_not_served RegionNotServed
        bank-3: declines industry_not_served IndustryNotServed
        bank-4: declines score_below_cutoff ScoreBelowCutoff { cutoff: 700 }
        bank-5: declines daily_quota_exhausted DailyQuotaExhausted { left: 50000fen }
        bank-6: declines borrower_limit_below_minimum BorrowerLimitBelowMinimum { limit: 99900fen }
        bank-7: declines total_quota_exhausted TotalQuotaExhausted { left: 0fen }
        bank-8: declines no_product_fits NoProductFits
        DECLINED NoOffer knockouts []
          scorecard tenure_days: 在平台经营的时间对信用评分不利 / time in business on the platform lowered the credit score
          bank region_not_served: 合作银行暂不服务您所在的地区 / partner banks do not lend in your region
          bank industry_not_served: 合作银行暂不服务您所在的行业 / partner banks do not lend to your industry
          bank daily_quota_exhausted: 合作银行今日的放款额度已用完 / partner banks have used up today's lending quota
    "#]].assert_eq(&render(&decision));
}

#[test]
fn a_joint_loan_splits_every_offer() {
    let mut case = Case::new(vec![bank("bank-a", 600, 700), bank("bank-b", 600, 650)]);
    case.policy.joint = JointLoan::new(3_000);
    // bank-b has 70,000.01 yuan left today: its part may be that, so the loan 100,000 yuan.
    case.usage[1].daily_used = yuan(10_000_000 - 70_000).checked_sub(fen(1)).expect("less");
    case.application.requested = yuan(150_033);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: offers 150000.00 (bank 105000.00 + platform 45000.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
        bank-b: offers 100000.00 (bank 70000.00 + platform 30000.00) price 650bp #0 equal_installment 30_360 650bp [3, 6, 12]
        APPROVED bank-b: 100000.00 (bank 70000.00 + platform 30000.00) price 650bp #0 equal_installment 30_360 650bp [3, 6, 12]
    "#]]);
}

#[test]
fn joint_loan_shares_are_1_to_9999_bp() {
    assert_eq!(JointLoan::new(0), None);
    assert_eq!(JointLoan::new(10_000), None);
    assert_eq!(
        JointLoan::new(1).map(JointLoan::platform_share_bps),
        Some(1)
    );
    assert_eq!(
        JointLoan::new(9_999).map(JointLoan::platform_share_bps),
        Some(9_999)
    );
}

#[test]
fn offers_are_sized_from_sales_less_debt_and_rounded_down_to_the_unit() {
    let mut case = Case::new(vec![bank("bank-a", 600, 700)]);
    // 123,456.78 yuan × 1.5 (grade C) = 185,185.17; less 10,000.50 of debt = 175,184.67,
    // rounded down to 175,100 yuan. The request of 180,000 is larger, the bank's limit too.
    case.features.sales_30d = fen(12_345_678);
    case.features.existing_debt = fen(1_000_050);
    case.score = 610;
    case.application.requested = yuan(180_000);
    case.check(expect![[r#"
        score 610 grade C (model sc-2026-10, policy policy-2026-11)
        sized 175100.00 from gross 185185.17 (123456.78 x 15000bp, capped) less debt 10000.50
        bank-a: offers 175100.00 (bank 175100.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
        APPROVED bank-a: 175100.00 (bank 175100.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
    "#]]);
    // A request that is not a multiple of 100 yuan is rounded down too.
    let mut case = Case::new(vec![bank("bank-a", 600, 700)]);
    case.application.requested = fen(5_432_199);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: offers 54300.00 (bank 54300.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
        APPROVED bank-a: 54300.00 (bank 54300.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
    "#]]);
    // The cap applies before the debt: 2.5 × 300,000 = 750,000, capped at 500,000, less
    // 450,000.01 leaves 49,999.99, rounded down to 49,900.
    let mut case = Case::new(vec![bank("bank-a", 600, 700)]);
    case.features.sales_30d = yuan(300_000);
    case.features.existing_debt = fen(45_000_001);
    case.score = 720;
    case.check(expect![[r#"
        score 720 grade A (model sc-2026-10, policy policy-2026-11)
        sized 49900.00 from gross 500000.00 (300000.00 x 25000bp, capped) less debt 450000.01
        bank-a: offers 49900.00 (bank 49900.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
        APPROVED bank-a: 49900.00 (bank 49900.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [3, 6, 12]
    "#]]);
}

#[test]
fn the_platform_declines_what_no_bank_needs_to_see() {
    let banks = || vec![bank("bank-a", 0, 700)];
    let mut out = String::new();
    let mut below = Case::new(banks());
    below.application.requested = fen(99_999);
    let mut term = Case::new(banks());
    term.application.term_months = Some(9);
    let mut grade_e = Case::new(banks());
    grade_e.score = 549;
    let mut small = Case::new(banks());
    small.features.sales_30d = fen(99_999);
    small.score = 560;
    let mut indebted = Case::new(banks());
    indebted.features.existing_debt = yuan(199_500);
    for case in [below, term, grade_e, small, indebted] {
        out += &render(&case.decide());
    }
    expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        DECLINED Platform(RequestBelowMinimum { amount_min: 100000fen }) knockouts []
          platform request_below_minimum: 申请金额低于最低贷款金额1000.00元 / the amount requested is below the smallest loan of 1000.00 yuan
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        DECLINED Platform(TermNotOffered { term_months: 9 }) knockouts []
          platform term_not_offered: 平台不提供9个月期限的贷款 / the platform offers no loan over 9 months
        score 549 grade E (model sc-2026-10, policy policy-2026-11)
        sized 0.00 from gross 0.00 (100000.00 x 0bp, capped) less debt 0.00
        DECLINED Platform(GradeNotLent { grade: E }) knockouts []
          scorecard tenure_days: 在平台经营的时间对信用评分不利 / time in business on the platform lowered the credit score
          scorecard refund_rate_bps: 退款率对信用评分不利 / the refund rate lowered the credit score
        score 560 grade D (model sc-2026-10, policy policy-2026-11)
        sized 900.00 from gross 999.99 (999.99 x 10000bp, capped) less debt 0.00
        DECLINED Platform(SalesTooLow { amount_min: 100000fen }) knockouts []
          platform sales_too_low: 经营流水不足以支持最低贷款金额1000.00元 / sales are too low for the smallest loan of 1000.00 yuan
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 500.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 199500.00
        DECLINED Platform(DebtTooHigh { amount_min: 100000fen }) knockouts []
          platform debt_too_high: 现有负债较高，可贷金额低于最低贷款金额1000.00元 / existing debt leaves less than the smallest loan of 1000.00 yuan
    "#]].assert_eq(&out);
}

#[test]
fn a_requested_term_narrows_the_offer() {
    let mut case = Case::new(vec![bank("bank-a", 600, 700)]);
    case.application.term_months = Some(6);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: offers 150000.00 (bank 150000.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [6]
        APPROVED bank-a: 150000.00 (bank 150000.00 + platform 0.00) price 700bp #0 equal_installment 30_360 700bp [6]
    "#]]);
}

#[test]
fn a_revenue_based_advance_is_priced_by_its_equivalent_rate() {
    let advance = Product::RevenueBased {
        fee_bps: 150,
        withholding_bps: 2_000,
        term_days_max: 180,
    };
    let rbf = BankPolicy {
        products: vec![advance],
        ..bank("bank-r", 600, 9_999)
    };
    let both = BankPolicy {
        products: vec![
            Product::Amortising {
                method: Method::EqualPrincipal,
                day_count: DayCount::Actual365,
                terms: TermSet::of(&[12]).expect("a term"),
            },
            advance,
        ],
        ..bank("bank-s", 600, 1_200)
    };
    // 150,000 yuan + 1.5 % fee = 152,250, at 20 % of 300,000 yuan per 90 days (666.67 a
    // day) takes 229 days (> 180): too slow. 50,000 yuan: 50,750 / 666.67 = 76.125 → 77
    // days; equivalent rate 2 × 750 × 365 / (50,000 × 77) = 14.22 % → 1,423 bp (rounded up).
    Case::new(vec![rbf.clone(), both.clone()]).check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-r: declines no_product_fits NoProductFits
        bank-s: offers 150000.00 (bank 150000.00 + platform 0.00) price 1200bp #0 equal_principal act_365 1200bp [12]
        APPROVED bank-s: 150000.00 (bank 150000.00 + platform 0.00) price 1200bp #0 equal_principal act_365 1200bp [12]
    "#]]);
    let mut case = Case::new(vec![rbf, both]);
    case.application.requested = yuan(50_000);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-r: offers 50000.00 (bank 50000.00 + platform 0.00) price 1423bp #0 revenue_based fee 750.00 (150bp) withholding 2000bp 77 days
        bank-s: offers 50000.00 (bank 50000.00 + platform 0.00) price 1200bp #0 equal_principal act_365 1200bp [12]
        APPROVED bank-s: 50000.00 (bank 50000.00 + platform 0.00) price 1200bp #0 equal_principal act_365 1200bp [12]
    "#]]);
}

#[test]
fn a_bank_without_usage_declines() {
    let mut case = Case::new(vec![bank("bank-a", 600, 700), bank("bank-b", 600, 800)]);
    case.usage.remove(0);
    case.check(expect![[r#"
        score 660 grade B (model sc-2026-10, policy policy-2026-11)
        sized 200000.00 from gross 200000.00 (100000.00 x 20000bp, capped) less debt 0.00
        bank-a: declines usage_missing UsageMissing
        bank-b: offers 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
        APPROVED bank-b: 150000.00 (bank 150000.00 + platform 0.00) price 800bp #0 equal_installment 30_360 800bp [3, 6, 12]
    "#]]);
}

#[test]
fn usage_is_found_whatever_its_order() {
    let banks = vec![bank("bank-b", 600, 700), bank("bank-a", 600, 800)];
    let mut case = Case::new(banks);
    // The consortium sorts banks by id; the usage stays in the order given.
    case.usage[0].daily_used = yuan(10_000_000);
    let decision = case.decide();
    let offer = decision.offer().expect("approved");
    assert_eq!(offer.bank_id.as_str(), "bank-a");
}

#[test]
fn an_offer_gives_the_schedule_of_each_of_its_terms() {
    let decision = Case::new(vec![bank("bank-a", 600, 1_200)]).decide();
    let offer = decision.offer().expect("approved");
    let disbursed_on = CivilDate::parse("2026-11-30").expect("a date");
    assert!(offer.schedule_terms(5, disbursed_on).is_none());
    let terms = offer
        .schedule_terms(3, disbursed_on)
        .expect("a term offered");
    expect![[r#"
        period,due_date,principal,interest,total,balance
        1,2026-12-30,49503.32,1500.00,51003.32,100496.68
        2,2027-01-30,49998.35,1004.97,51003.32,50498.33
        3,2027-02-28,50498.33,504.98,51003.31,0.00
    "#]]
    .assert_eq(&schedule(&terms).expect("a schedule").to_csv());
}

#[test]
fn features_become_a_scorecard_record() {
    let mut merchant = features();
    merchant.existing_debt = fen(12_345_678);
    merchant.sales_growth_bps = -1_250;
    let record = merchant.record();
    let mut out = String::new();
    for (column, value) in record.iter() {
        writeln!(out, "{column}={value}").expect("writing to a String");
    }
    expect![[r#"
        sales_30d_fen=10000000
        sales_90d_fen=30000000
        sales_365d_fen=120000000
        sales_growth_bps=-1250
        refund_rate_bps=150
        tenure_days=730
        active_days_90d=85
        average_order_value_fen=12000
        settlements_90d=88
        existing_debt_fen=12345678
        debt_to_sales_365d_bps=1028
        days_past_due=0
        worst_days_past_due_12m=0
        fraud_flag=0
        region_code=440305
        province=44
        industry=apparel
    "#]]
    .assert_eq(&out);
    let map = record.to_map();
    assert_eq!(map.len(), Column::ALL.len());
    assert_eq!(
        chunlei_scorecard::Record::value(&record, "province"),
        Some("44")
    );
    assert_eq!(
        chunlei_scorecard::Record::value(&record, "no_such_column"),
        None
    );
    assert_eq!(record.get(Column::FraudFlag), "0");
    merchant.sales_365d = Fen::ZERO;
    assert_eq!(merchant.record().get(Column::DebtToSales365d), "");
    for column in Column::ALL {
        assert_eq!(Column::from_name(column.name()), Some(column));
    }
}

proptest::proptest! {
    /// The record's values, written digit by digit into one buffer, read as each figure's
    /// decimal text, whatever the figures.
    #[test]
    fn record_values_are_the_figures_in_decimal(
        sales in proptest::array::uniform3(0..=Fen::MAX.get()),
        growth in proptest::num::i32::ANY,
        small in proptest::array::uniform6(proptest::num::u32::ANY),
        debt in 0..=Fen::MAX.get(),
        fraud in proptest::bool::ANY,
        region in "[0-9]{0,6}",
        industry in "[a-z_]{0,12}",
    ) {
        let merchant = Features {
            sales_30d: fen(sales[0]),
            sales_90d: fen(sales[1]),
            sales_365d: fen(sales[2]),
            sales_growth_bps: growth,
            refund_rate_bps: small[0],
            tenure_days: small[1],
            active_days_90d: small[2],
            average_order_value: fen(debt / 3),
            settlements_90d: small[3],
            existing_debt: fen(debt),
            days_past_due: small[4],
            worst_days_past_due_12m: small[5],
            fraud_flag: fraud,
            region_code: region.clone(),
            industry: industry.clone(),
        };
        let ratio = merchant
            .debt_to_sales_365d_bps()
            .map_or_else(String::new, |ratio| ratio.to_string());
        let expected = [
            sales[0].to_string(),
            sales[1].to_string(),
            sales[2].to_string(),
            growth.to_string(),
            small[0].to_string(),
            small[1].to_string(),
            small[2].to_string(),
            (debt / 3).to_string(),
            small[3].to_string(),
            debt.to_string(),
            ratio,
            small[4].to_string(),
            small[5].to_string(),
            u8::from(fraud).to_string(),
            region.clone(),
            region.chars().take(2).collect(),
            industry,
        ];
        let record = merchant.record();
        for (at, column) in Column::ALL.into_iter().enumerate() {
            proptest::prop_assert_eq!(record.get(column), expected[at].as_str(), "{:?}", column);
            proptest::prop_assert_eq!(merchant.value(column), expected[at].clone());
        }
    }
}

#[test]
fn scorecard_variables_map_to_text_with_a_fallback() {
    let mut out = String::new();
    for code in ["tenure_days", "province", "bureau_inquiries_6m"] {
        let (zh, en) = scorecard_reason_text(code);
        writeln!(out, "{code}: {zh} / {en}").expect("writing to a String");
    }
    expect![[r#"
        tenure_days: 在平台经营的时间对信用评分不利 / time in business on the platform lowered the credit score
        province: 所在地区对信用评分不利 / the region lowered the credit score
        bureau_inquiries_6m: 评分因素“bureau_inquiries_6m”对信用评分不利 / score factor "bureau_inquiries_6m" lowered the credit score
    "#]].assert_eq(&out);
}

#[test]
fn grades_follow_the_grid() {
    let grid = GradeGrid::new(700, 650, 600, 550).expect("falling");
    let grades: String = [i64::MIN, 549, 550, 599, 600, 649, 650, 699, 700, i64::MAX]
        .into_iter()
        .map(|score| grid.grade(score).as_str())
        .collect();
    assert_eq!(grades, "EEDDCCBBAA");
    assert_eq!(grid.min_score(Grade::B), Some(650));
    assert_eq!(grid.min_score(Grade::E), None);
    assert_eq!(GradeGrid::new(700, 700, 600, 550), None);
    assert_eq!(GradeGrid::new(550, 600, 650, 700), None);
}

#[test]
fn term_sets_hold_1_to_60_months() {
    assert_eq!(format!("{:?}", TermSet::range(10, 13)), "[10, 11, 12, 13]");
    assert_eq!(format!("{:?}", TermSet::range(0, 2)), "[1, 2]");
    assert_eq!(TermSet::range(55, 200).longest(), Some(TERM_MONTHS_MAX));
    assert_eq!(TermSet::range(1, TERM_MONTHS_MAX).iter().count(), 60);
    assert!(TermSet::range(7, 6).is_empty());
    assert_eq!(TermSet::one(0), None);
    assert_eq!(TermSet::one(TERM_MONTHS_MAX + 1), None);
    assert_eq!(TermSet::of(&[3, 61]), None);
    let set = TermSet::of(&[12, 3, 6]).expect("valid");
    assert_eq!((set.shortest(), set.longest()), (Some(3), Some(12)));
    assert_eq!(
        set.intersect(TermSet::range(4, 60)),
        TermSet::of(&[6, 12]).expect("valid")
    );
    assert_eq!(TermSet::EMPTY.longest(), None);
}

#[test]
fn bank_ids_are_short_tokens_ordered_as_text() {
    let long = "b".repeat(BANK_ID_LEN_MAX);
    assert_eq!(
        BankId::parse(&long).map(|id| id.to_string()),
        Some(long.clone())
    );
    assert_eq!(BankId::parse(&format!("{long}b")), None);
    assert_eq!(BankId::parse(""), None);
    assert_eq!(BankId::parse("bank a"), None);
    assert_eq!(BankId::parse("银行"), None);
    assert!(bank_id("ab") < bank_id("abc"));
    assert!(bank_id("abc") < bank_id("abd"));
    assert!(bank_id("B") < bank_id("a"));
}

#[test]
fn a_consortium_checks_every_policy() {
    let errors: Vec<String> = [
        vec![],
        vec![bank("x", 0, 700), bank("x", 0, 800)],
        vec![BankPolicy {
            products: vec![],
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            products: vec![bank("x", 0, 1).products[0]; PRODUCTS_MAX + 1],
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            regions: Served::Only(vec!["44".to_owned(); REGION_PREFIXES_MAX + 1]),
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            regions: Served::Only(vec!["4403055".to_owned()]),
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            industries: Served::Only(vec!["food".to_owned(); INDUSTRIES_MAX + 1]),
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            industries: Served::Only(vec![String::new()]),
            ..bank("x", 0, 700)
        }],
        vec![bank("x", 0, RATE_BPS_MAX + 1)],
        vec![BankPolicy {
            industry_share_max_bps: 10_001,
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            products: vec![Product::RevenueBased {
                fee_bps: 10_001,
                withholding_bps: 1,
                term_days_max: 1,
            }],
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            products: vec![Product::RevenueBased {
                fee_bps: 1,
                withholding_bps: 0,
                term_days_max: 1,
            }],
            ..bank("x", 0, 700)
        }],
        vec![BankPolicy {
            products: vec![Product::RevenueBased {
                fee_bps: 1,
                withholding_bps: 1,
                term_days_max: 0,
            }],
            ..bank("x", 0, 700)
        }],
    ]
    .into_iter()
    .map(|banks| match Consortium::new(banks) {
        Ok(_) => "accepted".to_owned(),
        Err(error) => error.to_string(),
    })
    .collect();
    expect![[r#"
        the consortium has no bank
        bank x is listed twice
        bank x has no product
        bank x has 9 products, at most 8 are allowed
        bank x lists 65 region prefixes, at most 64 are allowed
        bank x: region prefix "4403055" must be 1 to 6 digits
        bank x lists 65 industries, at most 64 are allowed
        bank x lists an empty industry code
        bank x: the rate of grade A is 10001 bp, above 10000
        bank x: a concentration share of 10001 bp is above 10000
        bank x, product 0: a fee of 10001 bp is above 10000
        bank x, product 0: withholding must be 1 to 10000 bp, got 0
        bank x, product 0: term_days_max must be at least 1"#]]
    .assert_eq(&errors.join("\n"));
}

#[test]
fn a_consortium_has_at_most_banks_max_banks() {
    let banks = |count: usize| -> Vec<BankPolicy> {
        (0..count)
            .map(|i| bank(&format!("bank-{i:03}"), 600, 700))
            .collect()
    };
    let full = Consortium::new(banks(BANKS_MAX)).expect("the most banks allowed");
    assert_eq!(full.banks().len(), BANKS_MAX);
    assert_eq!(
        Consortium::new(banks(BANKS_MAX + 1)),
        Err(ConsortiumError::TooManyBanks {
            count: BANKS_MAX + 1
        })
    );
    // Every one of the most banks allowed is asked; the first by id wins the tie.
    let mut case = Case::new(banks(BANKS_MAX));
    case.usage.reverse();
    let decision = case.decide();
    assert_eq!(decision.answers.len(), BANKS_MAX);
    assert_eq!(
        decision.offer().map(|o| o.bank_id.as_str()),
        Some("bank-000")
    );
}

/// A deterministic pseudo-random number for row `row` and stream `stream` (SplitMix64).
fn noise(row: u64, stream: u64) -> u64 {
    let mut z = row
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(stream.wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 3,000 merchants whose risk rises with a short tenure, refunds and past arrears, written
/// as a training file through [`Features::record`], so its header is the record's columns.
fn training_file() -> String {
    let header: Vec<&str> = features()
        .record()
        .iter()
        .map(|(column, _)| column)
        .collect();
    let mut text = format!("{},outcome\n", header.join(","));
    for row in 0..3_000 {
        let mut merchant = features();
        merchant.tenure_days = 30 + u32::try_from(noise(row, 1) % 1_500).unwrap_or(0);
        merchant.refund_rate_bps = u32::try_from(noise(row, 2) % 2_500).unwrap_or(0);
        merchant.worst_days_past_due_12m = u32::try_from(noise(row, 3) % 40).unwrap_or(0);
        merchant.sales_30d = fen(1_000_000 + noise(row, 4) % 20_000_000);
        merchant.industry =
            ["apparel", "food", "toys"][usize::try_from(noise(row, 5) % 3).unwrap_or(0)].to_owned();
        let risk_percent = 5
            + if merchant.tenure_days < 365 { 25 } else { 0 }
            + merchant.refund_rate_bps / 100
            + merchant.worst_days_past_due_12m / 2;
        let bad = noise(row, 6) % 100 < u64::from(risk_percent);
        let values: Vec<String> = merchant
            .record()
            .iter()
            .map(|(_, v)| v.to_owned())
            .collect();
        writeln!(
            text,
            "{},{}",
            values.join(","),
            if bad { "bad" } else { "good" }
        )
        .expect("writing to a String");
    }
    text
}

#[test]
fn a_scorecard_trained_on_the_columns_scores_features_for_a_decision() {
    let table = chunlei_scorecard::csv::Table::parse(training_file().as_bytes()).expect("a table");
    let mut options = chunlei_scorecard::TrainOptions::new("2026-11-01");
    options.model_version = Some("e2e-1".to_owned());
    let card = chunlei_scorecard::train(&table, "outcome", "bad", &options).expect("trained");
    // The model found the variables that carry risk, and every one has its own reason text.
    let used: Vec<&str> = card.variables.iter().map(|v| v.name.as_str()).collect();
    for column in ["tenure_days", "refund_rate_bps", "worst_days_past_due_12m"] {
        assert!(used.contains(&column), "{used:?}");
    }
    assert!(
        used.iter().all(|name| Column::from_name(name).is_some()),
        "{used:?}"
    );

    let steady = features();
    let mut risky = features();
    risky.tenure_days = 200;
    risky.refund_rate_bps = 1_900;
    risky.worst_days_past_due_12m = 25;
    let scored = |merchant: &Features| {
        let record = merchant.record();
        let score = card.score(&record).expect("scored").score;
        let reasons = card.reasons(&record, DECLINE_REASONS_MAX).expect("reasons");
        (score, reasons)
    };
    let (steady_score, steady_reasons) = scored(&steady);
    let (risky_score, risky_reasons) = scored(&risky);
    assert!(risky_score < steady_score, "{risky_score} < {steady_score}");

    // One bank lends down to the steady merchant's score; every grade is lent to.
    let mut lenient = policy();
    lenient.sizing.multiple_bps_by_grade = [10_000; 5];
    let banks = vec![BankPolicy {
        rate_bps_by_grade: [Some(800); 5],
        ..bank("bank-a", steady_score, 800)
    }];
    let decide = |merchant: Features, score: i64, reasons: Vec<Reason>| {
        let consortium = Consortium::new(banks.clone()).expect("valid");
        let usage: Vec<BankUsage> = consortium.banks().iter().map(unused).collect();
        let model = ModelScore {
            model_version: card.model_version.clone(),
            score,
        };
        lenient.decide(
            application(yuan(50_000)),
            merchant,
            model,
            reasons,
            &consortium,
            &usage,
        )
    };
    let approved = decide(steady, steady_score, steady_reasons);
    assert_eq!(
        approved.offer().map(|offer| offer.amount),
        Some(yuan(50_000))
    );
    assert_eq!(approved.model_version, "e2e-1");
    let declined = decide(risky, risky_score, risky_reasons);
    let reasons = declined.reasons();
    assert!(!reasons.is_empty() && reasons.len() <= DECLINE_REASONS_MAX);
    assert!(
        reasons.iter().all(|r| r.source == ReasonSource::Scorecard),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().all(|r| !r.zh.contains("评分因素“")),
        "{reasons:?}"
    );
    assert_eq!(
        reasons.first().map(|r| r.code.as_str()),
        declined.scorecard_reasons.first().map(|r| r.code.as_str())
    );
}
