use chunlei_ledger::Fen;

use super::EventIn;
use crate::{OrderEvent, Shipping};

/// FNV-1a as its definition states it, over a whole text.
fn reference(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn event(event: OrderEvent) -> EventIn {
    EventIn {
        event_id: "e-1".into(),
        order_id: "o-1".into(),
        merchant_id: "m-1".into(),
        occurred_at: 1_585_728_000_000_000_000,
        event,
    }
}

/// The digest is the canonical text's FNV-1a, so stored digests stay comparable across
/// versions; every field the event says changes it, the event id does not.
#[test]
fn the_fingerprint_is_fnv_1a_of_the_canonical_text() {
    let fen = |v| Fen::new(v).expect("amount");
    let cases = [
        (
            OrderEvent::Paid {
                merchant_id: "m-1".into(),
                amount: fen(10_000),
                category: "tea".into(),
                channel: "taobao".into(),
            },
            "o-1|m-1|1585728000000000000|paid|10000|tea|taobao",
        ),
        (
            OrderEvent::Shipped {
                shipping: Shipping::Surface,
            },
            "o-1|m-1|1585728000000000000|shipped|surface",
        ),
        (
            OrderEvent::Confirmed,
            "o-1|m-1|1585728000000000000|confirmed",
        ),
        (
            OrderEvent::Refunded { amount: fen(0) },
            "o-1|m-1|1585728000000000000|refunded|0",
        ),
        (
            OrderEvent::Cancelled,
            "o-1|m-1|1585728000000000000|cancelled",
        ),
    ];
    for (kind, text) in cases {
        assert_eq!(event(kind).fingerprint(), reference(text), "{text}");
    }
    let base = event(OrderEvent::Confirmed);
    let mut other_id = base.clone();
    other_id.event_id = "e-2".into();
    assert_eq!(base.fingerprint(), other_id.fingerprint());
    let mut later = base.clone();
    later.occurred_at += 1;
    assert_ne!(base.fingerprint(), later.fingerprint());
}
