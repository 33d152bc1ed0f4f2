//! Eligibility decided on event time, one rule at a time.

use chunlei_ledger::Fen;

use super::{Eligibility, Ineligible, MerchantMetrics, Program, start_of};
use crate::{CivilDate, Merchant, MerchantFields, MerchantKind, RiskTier, Shipping};

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("a date")
}

/// The 2020 programme: from 1 April to 30 June inclusive.
fn program() -> Program {
    Program {
        starts_at: start_of(date("2020-04-01")),
        ends_at: start_of(date("2020-07-01")),
        eligibility: Eligibility {
            tenure_days_min: 90,
            refund_rate_bps_max: 500,
            risk_tier_max: RiskTier::C,
            kinds: vec![MerchantKind::Factory, MerchantKind::Trader],
            foreign_trade_only: false,
        },
        merchant_cap: Fen::new(5_000_000).expect("fen"),
        pool_cap: Fen::new(1_000_000_000).expect("fen"),
        reserve_bps: 1_000,
        reserve_days: 30,
        auto_confirm_express_days: 10,
        auto_confirm_surface_days: 30,
    }
}

fn merchant(kind: &str, joined_on: &str, risk_tier: &str, foreign_trade: &str) -> Merchant {
    Merchant::parse(&MerchantFields {
        id: "m-1",
        name: "义乌小商品厂",
        kind,
        foreign_trade,
        region_code: "330782",
        category: "toys",
        joined_on,
        risk_tier,
        bank_code: "ICBC",
        account_number: "6222020200112233",
        holder_name: "义乌小商品厂",
        ..MerchantFields::default()
    })
    .expect("a valid merchant")
}

#[test]
fn eligibility_checks_each_rule_on_the_event_day() {
    let p = program();
    let ok = merchant("factory", "2019-01-15", "B", "true");
    let metrics = MerchantMetrics {
        orders: 1_000,
        refunded_orders: 50,
    };
    let shipped = start_of(date("2020-05-20"));
    assert_eq!(p.eligibility(&ok, &metrics, shipped), Ok(()));
    // The window closes at the start of 1 July: the last instant of 30 June is in, 1 July out.
    assert_eq!(
        p.eligibility(&ok, &metrics, start_of(date("2020-07-01")) - 1),
        Ok(())
    );
    let outside = [start_of(date("2020-07-01")), start_of(date("2020-03-31"))];
    for at in outside {
        assert_eq!(
            p.eligibility(&ok, &metrics, at),
            Err(Ineligible::OutsideWindow)
        );
    }
    let new = merchant("factory", "2020-03-01", "B", "true");
    assert_eq!(
        p.eligibility(&new, &metrics, shipped),
        Err(Ineligible::TooNew {
            tenure_days: 80,
            tenure_days_min: 90
        })
    );
    let refunds = MerchantMetrics {
        orders: 1_000,
        refunded_orders: 51,
    };
    assert_eq!(
        p.eligibility(&ok, &refunds, shipped),
        Err(Ineligible::RefundRateTooHigh {
            refund_rate_bps: 510,
            refund_rate_bps_max: 500
        })
    );
    let risky = merchant("factory", "2019-01-15", "D", "true");
    assert_eq!(
        p.eligibility(&risky, &metrics, shipped),
        Err(Ineligible::RiskTierTooHigh {
            risk_tier: RiskTier::D
        })
    );
    let farm = merchant("farm_cooperative", "2019-01-15", "A", "true");
    assert_eq!(
        p.eligibility(&farm, &metrics, shipped),
        Err(Ineligible::KindNotAdmitted {
            kind: MerchantKind::FarmCooperative
        })
    );
    let mut foreign_only = program();
    foreign_only.eligibility.foreign_trade_only = true;
    let domestic = merchant("trader", "2019-01-15", "A", "false");
    assert_eq!(
        foreign_only.eligibility(&domestic, &metrics, shipped),
        Err(Ineligible::NotForeignTrade)
    );
    assert_eq!(MerchantMetrics::default().refund_rate_bps(), 0);
}

#[test]
fn auto_confirmation_and_reserve_release_count_whole_days() {
    let p = program();
    let shipped = start_of(date("2020-05-20"));
    assert_eq!(
        p.auto_confirm_at(shipped, Shipping::Express),
        start_of(date("2020-05-30"))
    );
    assert_eq!(
        p.auto_confirm_at(shipped, Shipping::Surface),
        start_of(date("2020-06-19"))
    );
    assert_eq!(p.reserve_release_at(shipped), start_of(date("2020-06-19")));
}
