use chunlei_ledger::Fen;

use super::{DayActivity, MerchantFacts, features_from_activity};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount")
}

fn day(day: i32, orders: u64, gross: u64, refunded: u64, settlements: u64) -> DayActivity {
    DayActivity {
        day,
        orders,
        gross: fen(gross),
        refunded: fen(refunded),
        settlements,
    }
}

fn facts() -> MerchantFacts {
    MerchantFacts {
        joined_day: 18_000,
        region_code: "330782".into(),
        industry: "toys".into(),
        existing_debt: fen(5_000),
        days_past_due: 0,
        worst_days_past_due_12m: 3,
        fraud_flag: false,
    }
}

/// Each day falls in the windows it belongs to: today is day 0, so 29 days ago is the last
/// day of the 30-day window and 89 days ago of the 90-day one.
#[test]
fn windows_sum_the_days_they_cover() {
    let today = 18_500;
    let days = [
        day(today, 2, 10_000, 1_000, 1),
        day(today - 29, 1, 5_000, 0, 1),
        day(today - 30, 1, 7_000, 0, 0),
        day(today - 89, 1, 3_000, 500, 2),
        day(today - 90, 4, 20_000, 0, 0),
        day(today - 179, 1, 5_000, 0, 0),
        day(today - 364, 1, 1_000, 0, 0),
        day(today - 365, 9, 99_000, 0, 0),
        // After today: not yet.
        day(today + 1, 9, 99_000, 0, 0),
    ];
    let f = features_from_activity(today, &days, facts());
    assert_eq!(f.sales_30d, fen(15_000));
    assert_eq!(f.sales_90d, fen(25_000));
    assert_eq!(f.sales_365d, fen(51_000));
    // 25,000 now against 25,000 in the 90 days before: no change.
    assert_eq!(f.sales_growth_bps, 0);
    // 1,500 refunded of 25,000.
    assert_eq!(f.refund_rate_bps, 600);
    assert_eq!(f.active_days_90d, 4);
    // 25,000 over 5 orders.
    assert_eq!(f.average_order_value, fen(5_000));
    assert_eq!(f.settlements_90d, 4);
    assert_eq!(f.tenure_days, 500);
    assert_eq!(f.existing_debt, fen(5_000));
    assert_eq!(f.worst_days_past_due_12m, 3);
    assert_eq!(
        (f.region_code.as_str(), f.industry.as_str()),
        ("330782", "toys")
    );
}

#[test]
fn growth_and_rates_have_sensible_edges() {
    let today = 18_500;
    let none = features_from_activity(today, &[], facts());
    assert_eq!(
        (
            none.sales_growth_bps,
            none.refund_rate_bps,
            none.average_order_value
        ),
        (0, 0, Fen::ZERO)
    );
    let new = features_from_activity(today, &[day(today, 1, 100, 0, 0)], facts());
    assert_eq!(new.sales_growth_bps, 10_000);
    let halved = features_from_activity(
        today,
        &[day(today, 1, 500, 0, 0), day(today - 100, 1, 1_000, 0, 0)],
        facts(),
    );
    assert_eq!(halved.sales_growth_bps, -5_000);
    let joined_later = MerchantFacts {
        joined_day: today + 3,
        ..facts()
    };
    assert_eq!(
        features_from_activity(today, &[], joined_later).tenure_days,
        0
    );
}
