//! The life cycle and the fee schedule as data: scripts in, rendered outcomes out.

use chunlei_ledger::Fen;
use expect_test::{Expect, expect};

use crate::{FeeRule, FeeSchedule, NoRelief, Order, OrderEvent, Relief, Shipping};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

fn paid(amount: u64) -> OrderEvent {
    OrderEvent::Paid {
        merchant_id: "m-1".into(),
        amount: fen(amount),
        category: "apparel".into(),
        channel: "taobao".into(),
    }
}

fn refunded(amount: u64) -> OrderEvent {
    OrderEvent::Refunded {
        amount: fen(amount),
    }
}

/// Applies each event in turn; a rejected event changes nothing.
fn script(events: &[OrderEvent], expect: Expect) {
    let mut order: Option<Order> = None;
    let mut out = String::new();
    for event in events {
        match Order::apply(order.as_ref(), event) {
            Ok(next) => {
                out += &format!(
                    "{:?} -> {:?} paid={} refunded={}\n",
                    event, next.status, next.paid, next.refunded
                );
                order = Some(next);
            }
            Err(error) => out += &format!("{event:?} -> rejected {}\n", error.as_str()),
        }
    }
    expect.assert_eq(&out);
}

#[test]
fn the_usual_path() {
    script(
        &[
            paid(10_000),
            OrderEvent::Shipped {
                shipping: Shipping::Express,
            },
            OrderEvent::Confirmed,
        ],
        expect![[r#"
            Paid { merchant_id: "m-1", amount: 10000fen, category: "apparel", channel: "taobao" } -> Paid paid=10000 refunded=0
            Shipped { shipping: Express } -> Shipped paid=10000 refunded=0
            Confirmed -> Confirmed paid=10000 refunded=0
        "#]],
    );
}

#[test]
fn events_out_of_the_life_cycle_are_rejected_and_change_nothing() {
    script(
        &[
            OrderEvent::Shipped {
                shipping: Shipping::Surface,
            },
            paid(0),
            paid(500),
            paid(500),
            OrderEvent::Confirmed,
            refunded(501),
            refunded(0),
            OrderEvent::Shipped {
                shipping: Shipping::Surface,
            },
            OrderEvent::Shipped {
                shipping: Shipping::Surface,
            },
            OrderEvent::Cancelled,
            refunded(200),
            OrderEvent::Confirmed,
            OrderEvent::Confirmed,
            refunded(300),
            refunded(1),
            OrderEvent::Confirmed,
        ],
        expect![[r#"
            Shipped { shipping: Surface } -> rejected order_not_paid
            Paid { merchant_id: "m-1", amount: 0fen, category: "apparel", channel: "taobao" } -> rejected amount_must_not_be_zero
            Paid { merchant_id: "m-1", amount: 500fen, category: "apparel", channel: "taobao" } -> Paid paid=500 refunded=0
            Paid { merchant_id: "m-1", amount: 500fen, category: "apparel", channel: "taobao" } -> rejected order_already_paid
            Confirmed -> rejected order_not_shipped
            Refunded { amount: 501fen } -> rejected refund_exceeds_paid
            Refunded { amount: 0fen } -> rejected amount_must_not_be_zero
            Shipped { shipping: Surface } -> Shipped paid=500 refunded=0
            Shipped { shipping: Surface } -> rejected order_already_shipped
            Cancelled -> rejected cancel_after_shipping
            Refunded { amount: 200fen } -> Shipped paid=500 refunded=200
            Confirmed -> Confirmed paid=500 refunded=200
            Confirmed -> rejected order_already_confirmed
            Refunded { amount: 300fen } -> Refunded paid=500 refunded=500
            Refunded { amount: 1fen } -> rejected order_fully_refunded
            Confirmed -> rejected order_fully_refunded
        "#]],
    );
}

#[test]
fn a_cancelled_order_takes_no_further_event() {
    script(
        &[
            paid(800),
            OrderEvent::Cancelled,
            OrderEvent::Shipped {
                shipping: Shipping::Express,
            },
            refunded(1),
        ],
        expect![[r#"
            Paid { merchant_id: "m-1", amount: 800fen, category: "apparel", channel: "taobao" } -> Paid paid=800 refunded=0
            Cancelled -> Cancelled paid=800 refunded=800
            Shipped { shipping: Express } -> rejected order_cancelled
            Refunded { amount: 1fen } -> rejected order_cancelled
        "#]],
    );
}

fn schedule() -> FeeSchedule {
    let rule = |category: Option<&str>, channel: Option<&str>, rate_bps, min| FeeRule {
        category: category.map(Into::into),
        channel: channel.map(Into::into),
        rate_bps,
        min_fen: fen(min),
    };
    FeeSchedule::new(
        rule(None, None, 500, 10),
        vec![
            rule(Some("apparel"), None, 300, 0),
            rule(None, Some("aliexpress"), 800, 0),
            rule(Some("apparel"), Some("aliexpress"), 650, 50),
        ],
    )
}

#[test]
fn fees_round_half_up_respect_the_minimum_and_never_exceed_the_order() {
    let s = schedule();
    let fee = |category: &str, channel: &str, amount| {
        s.standard_fee(category, channel, fen(amount)).get()
    };
    // Default 5 %: 1,010 fen → 50.5 → 51 (half up); 1,009 → 50.45 → 50.
    assert_eq!(
        (fee("toys", "taobao", 1_010), fee("toys", "taobao", 1_009)),
        (51, 50)
    );
    // The minimum of 10 fen applies to small orders, but never more than the order itself.
    assert_eq!(
        (fee("toys", "taobao", 100), fee("toys", "taobao", 7)),
        (10, 7)
    );
    // The most specific rule wins: category and channel, then category, then channel.
    assert_eq!(fee("apparel", "aliexpress", 10_000), 650);
    assert_eq!(fee("apparel", "taobao", 10_000), 300);
    assert_eq!(fee("toys", "aliexpress", 10_000), 800);
    // No overflow at the largest amount the ledger holds.
    assert_eq!(
        fee("toys", "taobao", Fen::MAX.get()),
        461_168_601_842_738_790
    );
}

#[test]
fn relief_lowers_the_fee_and_the_standard_fee_is_kept_beside_it() {
    struct HalfOff;
    impl Relief for HalfOff {
        fn fee(&self, _: &str, _: &str, standard: Fen) -> Fen {
            Fen::new(standard.get() / 2).unwrap_or(standard)
        }
    }
    struct Greedy;
    impl Relief for Greedy {
        fn fee(&self, _: &str, _: &str, standard: Fen) -> Fen {
            standard.checked_add(fen(1)).unwrap_or(standard)
        }
    }
    let s = schedule();
    let quote = s.quote("toys", "taobao", fen(10_000), &HalfOff);
    assert_eq!(
        (
            quote.standard_fen.get(),
            quote.charged_fen.get(),
            quote.relief_fen().get()
        ),
        (500, 250, 250)
    );
    let quote = s.quote("toys", "taobao", fen(10_000), &NoRelief);
    assert_eq!(
        (quote.charged_fen.get(), quote.relief_fen().get()),
        (500, 0)
    );
    // A policy can never raise the fee above the schedule.
    assert_eq!(
        s.quote("toys", "taobao", fen(10_000), &Greedy)
            .charged_fen
            .get(),
        500
    );
}
