//! Property tests of the loan decision: for any platform policy, merchant, consortium and
//! usage, no offer exceeds the request, the sizing, a bank's limit or any quota left; the
//! chosen offer is the cheapest; a decline has one to four bilingual reasons; and the same
//! inputs, in any bank or usage order, give the same decision.

use chunlei_ledger::Fen;
use chunlei_lending::decision::{
    Application, BankAnswer, BankId, BankPolicy, BankUsage, Consortium, DECLINE_REASONS_MAX,
    Decision, Features, GradeGrid, JointLoan, KnockoutRules, ModelScore, OfferedProduct, Outcome,
    Policy, Product, SalesBasis, Served, Sizing, TermSet,
};
use chunlei_lending::{DayCount, Method};
use chunlei_scorecard::Reason;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Check = Result<(), TestCaseError>;

const REGIONS: [&str; 4] = ["440305", "440106", "110101", "310104"];
const REGION_PREFIXES: [&str; 5] = ["44", "4403", "440305", "11", "31"];
const INDUSTRIES: [&str; 3] = ["apparel", "food", "toys"];
/// Below the first CJK radical: a Chinese text has a character above it.
const CJK_FIRST: char = '\u{2e80}';

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

fn fen(max_yuan: u64) -> impl Strategy<Value = Fen> {
    prop_oneof![
        1 => Just(0_u64),
        6 => 0..=max_yuan * 100,
        1 => (0..=max_yuan).prop_map(|yuan| yuan * 100),
    ]
    .prop_map(|value| Fen::new(value).unwrap_or(Fen::MAX))
}

/// Zero half the time, else up to `max_yuan`: usage and debt, often nothing.
fn often_zero(max_yuan: u64) -> impl Strategy<Value = Fen> {
    prop_oneof![Just(Fen::ZERO), fen(max_yuan)]
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn served(items: &'static [&'static str]) -> impl Strategy<Value = Served> {
    prop_oneof![
        2 => Just(Served::All),
        1 => proptest::sample::subsequence(items, 0..=items.len())
            .prop_map(|listed| Served::Only(listed.into_iter().map(str::to_owned).collect())),
    ]
}

fn terms() -> impl Strategy<Value = TermSet> {
    (1_u16..=24, 0_u16..=24).prop_map(|(min, span)| TermSet::range(min, min + span))
}

fn product() -> impl Strategy<Value = Product> {
    prop_oneof![
        (
            pick(&[Method::EqualInstallments, Method::EqualPrincipal]),
            pick(&[DayCount::Thirty360, DayCount::Actual365]),
            terms()
        )
            .prop_map(|(method, day_count, terms)| Product::Amortising {
                method,
                day_count,
                terms
            }),
        (0_u32..=600, 1_u32..=5_000, 1_u16..=400).prop_map(
            |(fee_bps, withholding_bps, term_days_max)| Product::RevenueBased {
                fee_bps,
                withholding_bps,
                term_days_max,
            }
        ),
    ]
}

fn rate_grid() -> impl Strategy<Value = [Option<u32>; 5]> {
    // A few rates are common, so that offers tie on price.
    let rate = prop_oneof![200_u32..=3_000, pick(&[600_u32, 800, 1_200])];
    proptest::array::uniform5(proptest::option::weighted(0.8, rate))
}

/// A bank policy with its usage; the id is given later, so that ids are unique.
fn bank() -> impl Strategy<Value = (BankPolicy, BankUsage)> {
    let policy = (
        (
            proptest::collection::vec(product(), 1..=3),
            450_i64..=700,
            served(&REGION_PREFIXES),
            served(&INDUSTRIES),
            fen(300_000),
            terms(),
            rate_grid(),
        ),
        (
            fen(1_000_000),
            fen(20_000_000),
            1_000_u32..=10_000,
            1_000_u32..=10_000,
        ),
    );
    let usage = (
        often_zero(1_100_000),
        often_zero(22_000_000),
        often_zero(4_000_000),
        often_zero(4_000_000),
    );
    (policy, usage).prop_map(|(policy, usage)| {
        let (
            (products, score_cutoff, regions, industries, per_borrower_limit, terms, grid),
            (daily_quota, total_quota, region_share_max_bps, industry_share_max_bps),
        ) = policy;
        let placeholder = BankId::parse("unset").unwrap_or_else(|| unreachable!());
        let bank = BankPolicy {
            bank_id: placeholder,
            products,
            score_cutoff,
            regions,
            industries,
            per_borrower_limit,
            terms,
            rate_bps_by_grade: grid,
            daily_quota,
            total_quota,
            region_share_max_bps,
            industry_share_max_bps,
        };
        let (daily_used, total_used, region_used, industry_used) = usage;
        let usage = BankUsage {
            bank_id: placeholder,
            daily_used,
            total_used,
            region_used,
            industry_used,
        };
        (bank, usage)
    })
}

fn banks() -> impl Strategy<Value = (Vec<BankPolicy>, Vec<BankUsage>)> {
    proptest::collection::vec(bank(), 1..=16).prop_map(|pairs| {
        pairs
            .into_iter()
            .enumerate()
            .map(|(at, (mut bank, mut usage))| {
                let id = BankId::parse(&format!("bank-{at:02}")).unwrap_or(bank.bank_id);
                bank.bank_id = id;
                usage.bank_id = id;
                (bank, usage)
            })
            .unzip()
    })
}

/// Mostly `usual`, now and then `rare`: the values that trip a knock-out are drawn rarely
/// enough that most cases reach the banks.
fn mostly<S: Strategy<Value = u32> + 'static>(usual: S, rare: S) -> BoxedStrategy<u32> {
    prop_oneof![24 => usual, 1 => rare].boxed()
}

fn features() -> impl Strategy<Value = Features> {
    (
        (
            fen(1_000_000),
            fen(3_000_000),
            fen(12_000_000),
            -10_000_i32..=30_000,
        ),
        (
            mostly(0_u32..=1_500, 0..=3_000),
            mostly(180_u32..=2_000, 0..=180),
            mostly(10_u32..=90, 0..=10),
            fen(2_000),
            0_u32..=200,
        ),
        (
            often_zero(300_000),
            mostly(0_u32..=0, 0..=90),
            mostly(0_u32..=30, 0..=60),
            proptest::bool::weighted(0.02),
            pick(&REGIONS),
            pick(&INDUSTRIES),
        ),
    )
        .prop_map(
            |(
                (sales_30d, sales_90d, sales_365d, sales_growth_bps),
                (refund_rate_bps, tenure_days, active_days_90d, average_order_value, settlements),
                (existing_debt, days_past_due, worst, fraud_flag, region, industry),
            )| Features {
                sales_30d,
                // Sales of 90 days include those of 30, and a year's those of 90.
                sales_90d: sales_90d.saturating_add(sales_30d),
                sales_365d: sales_365d
                    .saturating_add(sales_90d)
                    .saturating_add(sales_30d),
                sales_growth_bps,
                refund_rate_bps,
                tenure_days,
                active_days_90d,
                average_order_value,
                settlements_90d: settlements,
                existing_debt,
                days_past_due,
                worst_days_past_due_12m: worst,
                fraud_flag,
                region_code: region.to_owned(),
                industry: industry.to_owned(),
            },
        )
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        pick(&[SalesBasis::Sales30d, SalesBasis::Sales90d]),
        proptest::array::uniform5(prop_oneof![1 => Just(0_u32), 6 => 1_u32..=40_000]),
        fen(800_000),
        fen(2_000),
        pick(&[0_u64, 1, 100, 10_000, 12_345]),
        terms(),
        proptest::option::of(1_u32..=9_999),
    )
        .prop_map(
            |(basis, multiples, cap, amount_min, unit, terms, share)| Policy {
                version: "p".to_owned(),
                knockouts: KnockoutRules::default(),
                grades: GradeGrid::new(700, 650, 600, 550).unwrap_or_else(|| unreachable!()),
                sizing: Sizing {
                    basis,
                    multiple_bps_by_grade: multiples,
                    cap,
                    amount_min,
                    unit: Fen::new(unit).unwrap_or(Fen::ZERO),
                },
                terms,
                joint: share.and_then(JointLoan::new),
                servicing: chunlei_lending::decision::ServicingPolicy::default(),
            },
        )
}

fn application() -> impl Strategy<Value = Application> {
    let requested = prop_oneof![
        1 => fen(600_000),
        3 => (1_000_u64..=600_000).prop_filter_map("an amount", |yuan| Fen::new(yuan * 100)),
    ];
    let term = proptest::option::weighted(0.2, prop_oneof![1_u16..=15, pick(&[3_u16, 6, 12])]);
    (requested, term).prop_map(|(requested, term_months)| Application {
        application_id: "a".to_owned(),
        merchant_id: "m".to_owned(),
        requested,
        term_months,
        applied_at: 0,
    })
}

fn reasons() -> Vec<Reason> {
    [
        "tenure_days",
        "refund_rate_bps",
        "x_unknown",
        "sales_30d_fen",
        "industry",
    ]
    .iter()
    .map(|code| Reason {
        code: (*code).to_owned(),
        points: 0,
        best_points: 9,
        points_lost: 9,
    })
    .collect()
}

#[derive(Clone, Debug)]
struct Inputs {
    policy: Policy,
    application: Application,
    features: Features,
    score: i64,
    banks: Vec<BankPolicy>,
    usage: Vec<BankUsage>,
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (policy(), application(), features(), 450_i64..=800, banks()).prop_map(
        |(policy, application, features, score, (banks, usage))| Inputs {
            policy,
            application,
            features,
            score,
            banks,
            usage,
        },
    )
}

fn decide(inputs: &Inputs, banks: Vec<BankPolicy>, usage: &[BankUsage]) -> Decision {
    let consortium = Consortium::new(banks).unwrap_or_else(|error| panic!("{error}"));
    inputs.policy.decide(
        inputs.application.clone(),
        inputs.features.clone(),
        ModelScore {
            model_version: "m".to_owned(),
            score: inputs.score,
        },
        reasons(),
        &consortium,
        usage,
    )
}

fn share_of(total: Fen, bps: u32) -> u64 {
    u64::try_from(u128::from(total.get()) * u128::from(bps) / 10_000).unwrap_or(u64::MAX)
}

/// Every offer is within the request, the sizing, the unit and the smallest loan, splits
/// exactly, and its bank part within the bank's limit and every quota left; the bank's
/// region, industry, cut-off, grade and terms all allow it.
fn check_offers_within_limits(inputs: &Inputs, decision: &Decision) -> Check {
    let sizing = &inputs.policy.sizing;
    let unit = sizing.unit.get().max(1);
    let share_bps = inputs.policy.joint.map_or(0, JointLoan::platform_share_bps);
    let features = &inputs.features;
    for offer in decision.answers.iter().filter_map(BankAnswer::offer) {
        let bank = inputs.banks.iter().find(|b| b.bank_id == offer.bank_id);
        let usage = inputs.usage.iter().find(|u| u.bank_id == offer.bank_id);
        let (Some(bank), Some(usage)) = (bank, usage) else {
            return Err(TestCaseError::fail("an offer from an unknown bank"));
        };
        let amount = offer.amount.get();
        let bank_part = offer.bank_part.get();
        prop_assert!(amount <= inputs.application.requested.get());
        prop_assert!(amount <= decision.sized.amount.get());
        prop_assert!(amount >= sizing.amount_min.get().max(1));
        prop_assert_eq!(amount % unit, 0);
        prop_assert_eq!(bank_part + offer.platform_part.get(), amount);
        prop_assert_eq!(
            u128::from(offer.platform_part.get()),
            u128::from(amount) * u128::from(share_bps) / 10_000
        );
        prop_assert!(bank_part <= bank.per_borrower_limit.get());
        prop_assert!(usage.daily_used.get() + bank_part <= bank.daily_quota.get());
        prop_assert!(usage.total_used.get() + bank_part <= bank.total_quota.get());
        let region_max = share_of(bank.total_quota, bank.region_share_max_bps);
        prop_assert!(usage.region_used.get() + bank_part <= region_max);
        let industry_max = share_of(bank.total_quota, bank.industry_share_max_bps);
        prop_assert!(usage.industry_used.get() + bank_part <= industry_max);
        prop_assert!(inputs.score >= bank.score_cutoff);
        prop_assert!(bank.rate_bps_by_grade[decision.grade.index()].is_some());
        let region_ok = match &bank.regions {
            Served::All => true,
            Served::Only(p) => p
                .iter()
                .any(|p| features.region_code.starts_with(p.as_str())),
        };
        let industry_ok = match &bank.industries {
            Served::All => true,
            Served::Only(listed) => listed.contains(&features.industry),
        };
        prop_assert!(region_ok && industry_ok);
        prop_assert!(decision.knockouts.is_empty());
        let allowed = inputs.policy.terms.intersect(bank.terms);
        match offer.product {
            OfferedProduct::Amortising { terms, .. } => {
                prop_assert!(!terms.is_empty());
                prop_assert_eq!(terms.intersect(allowed), terms);
                if let Some(term) = inputs.application.term_months {
                    prop_assert_eq!(terms.iter().collect::<Vec<_>>(), vec![term]);
                }
            }
            OfferedProduct::RevenueBased { expected_days, .. } => {
                let longest = u32::from(allowed.longest().unwrap_or(0));
                prop_assert!(expected_days >= 1 && expected_days <= 30 * longest);
            }
        }
    }
    Ok(())
}

/// Approved exactly when some bank offered, with an offer from the answers at the lowest
/// price of them all; declined with one to four reasons in both languages.
fn check_choice(decision: &Decision) -> Check {
    let offers: Vec<_> = decision
        .answers
        .iter()
        .filter_map(BankAnswer::offer)
        .collect();
    match &decision.outcome {
        Outcome::Approved(chosen) => {
            prop_assert!(offers.contains(&chosen));
            for offer in &offers {
                prop_assert!(chosen.price_bps <= offer.price_bps);
                if offer.price_bps == chosen.price_bps {
                    prop_assert!(chosen.amount >= offer.amount);
                }
            }
        }
        Outcome::Declined { reasons, .. } => {
            prop_assert!(offers.is_empty());
            prop_assert!(!reasons.is_empty() && reasons.len() <= DECLINE_REASONS_MAX);
            for reason in reasons {
                prop_assert!(!reason.code.is_empty());
                prop_assert!(reason.en.is_ascii() && !reason.en.is_empty());
                let chinese = reason.zh.chars().any(|c| c > CJK_FIRST);
                prop_assert!(chinese, "not Chinese: {}", reason.zh);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn offers_stay_within_every_limit_and_the_cheapest_wins(inputs in inputs()) {
        let decision = decide(&inputs, inputs.banks.clone(), &inputs.usage);
        check_offers_within_limits(&inputs, &decision)?;
        check_choice(&decision)?;
    }

    #[test]
    fn decisions_do_not_depend_on_order_or_repetition(inputs in inputs()) {
        let decision = decide(&inputs, inputs.banks.clone(), &inputs.usage);
        prop_assert_eq!(&decision, &decide(&inputs, inputs.banks.clone(), &inputs.usage));
        let mut banks = inputs.banks.clone();
        banks.reverse();
        let mut usage = inputs.usage.clone();
        usage.rotate_left(1);
        prop_assert_eq!(&decision, &decide(&inputs, banks, &usage));
    }
}
