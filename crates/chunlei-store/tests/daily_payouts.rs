//! The daily payout schedule on every backend: one payout per merchant and day, never twice.

use chunlei_ledger::Fen;
use chunlei_settlement::book::{Command, EventIn, PayoutStatus};
use chunlei_settlement::{CivilDate, Merchant, MerchantFields, OrderEvent, Shipping};
use chunlei_store::testing::TestDb;
use chunlei_store::{DailyPayouts, PayoutFilter, Store, StoreOptions};

const DAY: u64 = 86_400 * 1_000_000_000;
/// 2020-04-01 in days since 1970-01-01.
const APRIL_1: u64 = 18_353;

fn merchant(id: &str, tier: &str) -> Merchant {
    let fields = MerchantFields {
        id,
        name: "景德镇陶瓷",
        kind: "factory",
        foreign_trade: "false",
        region_code: "360200",
        category: "ceramics",
        joined_on: "2019-01-01",
        cluster_id: "",
        agriculture_base_id: "",
        risk_tier: tier,
        bank_code: "CCB",
        account_number: "6217000011112222",
        holder_name: "景德镇陶瓷",
    };
    Merchant::parse(&fields).expect("valid merchant")
}

/// An order of `merchant` paid and shipped on 2020-04-01: advanced at once for tier A.
fn sold(store: &Store, order: &str, merchant: &str, amount: u64) {
    let at = APRIL_1 * DAY;
    let event = |suffix: &str, when: u64, event: OrderEvent| {
        Command::Order(EventIn {
            event_id: format!("{order}-{suffix}"),
            order_id: order.to_owned(),
            merchant_id: merchant.to_owned(),
            occurred_at: when,
            event,
        })
    };
    let results = store
        .settle_blocking(vec![
            event(
                "paid",
                at,
                OrderEvent::Paid {
                    merchant_id: merchant.to_owned(),
                    amount: Fen::new(amount).expect("amount"),
                    category: "ceramics".into(),
                    channel: "tmall".into(),
                },
            ),
            event(
                "shipped",
                at + 1,
                OrderEvent::Shipped {
                    shipping: Shipping::Express,
                },
            ),
        ])
        .expect("settle");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("date")
}

#[test]
fn every_merchant_with_money_is_paid_out_once_a_day() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        store
            .upsert_merchants(&[
                merchant("m-1", "A"),
                merchant("m-2", "A"),
                merchant("m-3", "E"),
            ])
            .expect("register");
        // m-1 and m-2 are advanced (2 % fee); m-3 is not eligible and has nothing yet.
        sold(&store, "o1", "m-1", 10_000);
        sold(&store, "o2", "m-2", 5_000);
        sold(&store, "o3", "m-3", 7_000);

        let first = store
            .daily_payouts_blocking(date("2020-04-02"))
            .expect("run");
        let expected = DailyPayouts {
            merchants: 3,
            payouts: 2,
            amount: 9_800 + 4_900,
        };
        assert_eq!(first, expected, "{}", db.url_string());
        // Again the same day: the same payouts, no more money moved.
        assert_eq!(
            store
                .daily_payouts_blocking(date("2020-04-02"))
                .expect("run"),
            expected
        );
        let pending = store
            .payouts(PayoutFilter::Status(PayoutStatus::Pending), "", 100)
            .expect("list");
        let listed: Vec<(&str, &str, u64)> = pending
            .iter()
            .map(|(id, p)| (id.as_str(), p.merchant_id.as_str(), p.amount.get()))
            .collect();
        assert_eq!(
            listed,
            [
                ("daily-2020-04-02-m-1", "m-1", 9_800),
                ("daily-2020-04-02-m-2", "m-2", 4_900)
            ]
        );
        // The next day nothing is available: nothing to pay.
        let next = store
            .daily_payouts_blocking(date("2020-04-03"))
            .expect("run");
        assert_eq!((next.merchants, next.payouts), (3, 0));
        assert!(store.verify().expect("verify").is_empty());
        drop(store);
    }
}
