//! Each merchant's daily activity, kept by the ledger writer as events arrive (the source of
//! loan features), and the banks' usage a decision reads, on every backend.

use chunlei_ledger::Fen;
use chunlei_lending::decision::ActivityTotals;
use chunlei_settlement::book::{Command, DailyActivity, EventIn};
use chunlei_settlement::{OrderEvent, Shipping};
use chunlei_store::testing::{TestDb, merchant};
use chunlei_store::{Store, StoreOptions};

const DAY: u64 = 86_400 * 1_000_000_000;
/// 2020-04-01T00:00:00Z in days and in nanoseconds.
const APRIL_1: i32 = 18_353;

fn at(day: i32, hour: u64) -> u64 {
    u64::try_from(day).expect("after 1970") * DAY + hour * 3_600 * 1_000_000_000
}

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount")
}

fn event(id: &str, order: &str, merchant: &str, when: u64, event: OrderEvent) -> Command {
    Command::Order(EventIn {
        event_id: id.to_owned(),
        order_id: order.to_owned(),
        merchant_id: merchant.to_owned(),
        occurred_at: when,
        event,
    })
}

fn paid(id: &str, order: &str, merchant: &str, when: u64, amount: u64) -> Command {
    event(
        id,
        order,
        merchant,
        when,
        OrderEvent::Paid {
            merchant_id: merchant.to_owned(),
            amount: fen(amount),
            category: "toys".into(),
            channel: "aliexpress".into(),
        },
    )
}

#[test]
fn daily_activity_counts_applied_events_by_event_day() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        store
            .upsert_merchants(&[merchant("m-1", "toys"), merchant("m-2", "toys")])
            .expect("register");
        let express = OrderEvent::Shipped {
            shipping: Shipping::Express,
        };
        // Day 1: two orders of m-1 (one shipped and advanced at once), one of m-2. Day 2: m-1's
        // second order shipped (advanced) and partly refunded; a refused event and an event
        // sent again add nothing.
        let results = store
            .settle_blocking(vec![
                paid("e1", "o1", "m-1", at(APRIL_1, 8), 10_000),
                paid("e2", "o2", "m-1", at(APRIL_1, 9), 5_000),
                paid("e3", "o3", "m-2", at(APRIL_1, 9), 7_000),
                event("e4", "o1", "m-1", at(APRIL_1, 10), express.clone()),
            ])
            .expect("day 1");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let results = store
            .settle_blocking(vec![
                event("e5", "o2", "m-1", at(APRIL_1 + 1, 8), express),
                event(
                    "e6",
                    "o2",
                    "m-1",
                    at(APRIL_1 + 1, 9),
                    OrderEvent::Refunded { amount: fen(1_000) },
                ),
                // Refused: more than was paid.
                event(
                    "e7",
                    "o1",
                    "m-1",
                    at(APRIL_1 + 1, 9),
                    OrderEvent::Refunded {
                        amount: fen(10_001),
                    },
                ),
                // Sent again: the same answer, counted once.
                paid("e1", "o1", "m-1", at(APRIL_1, 8), 10_000),
            ])
            .expect("day 2");
        assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
        assert!(results[2].is_err(), "{results:?}");
        assert!(results[3].is_ok(), "{results:?}");

        let days = store
            .merchant_daily("m-1", APRIL_1 - 1, APRIL_1 + 30)
            .expect("read");
        // The standard programme charges 2 %: o1 advances 10,000 − 200 = 9,800 on day 1; o2
        // advances its 5,000 − 100 = 4,900 on day 2, then 1,000 of it is refunded.
        assert_eq!(
            days,
            vec![
                (
                    APRIL_1,
                    DailyActivity {
                        orders: 2,
                        gross: fen(15_000),
                        refunds: 0,
                        refunded: Fen::ZERO,
                        settlements: 1,
                        settled_net: fen(9_800),
                    }
                ),
                (
                    APRIL_1 + 1,
                    DailyActivity {
                        orders: 0,
                        gross: Fen::ZERO,
                        refunds: 1,
                        refunded: fen(1_000),
                        settlements: 1,
                        settled_net: fen(4_900),
                    }
                ),
            ],
            "{}",
            db.url_string()
        );
        let other = store.merchant_daily("m-2", APRIL_1, APRIL_1).expect("read");
        assert_eq!(other.len(), 1);
        assert_eq!((other[0].1.orders, other[0].1.gross), (1, fen(7_000)));
        // Outside the range, and for a merchant without activity: nothing.
        assert!(
            store
                .merchant_daily("m-1", APRIL_1 + 2, APRIL_1 + 9)
                .expect("read")
                .is_empty()
        );
        assert!(
            store
                .merchant_daily("m-9", APRIL_1, APRIL_1 + 9)
                .expect("read")
                .is_empty()
        );
        // Summed over ranges (what a decision reads): day 2 refunds but sells nothing, so it
        // is not an active day; a range without rows, and one that ends before it starts, sum
        // to nothing.
        let totals = store
            .merchant_activity_totals(
                "m-1",
                [
                    (APRIL_1, APRIL_1),
                    (APRIL_1 - 5, APRIL_1 + 1),
                    (APRIL_1 + 2, APRIL_1 + 9),
                    (APRIL_1 + 1, APRIL_1),
                ],
            )
            .expect("totals");
        let sums =
            |t: &ActivityTotals| (t.orders, t.gross, t.refunded, t.settlements, t.active_days);
        assert_eq!(
            totals.iter().map(sums).collect::<Vec<_>>(),
            [
                (2, 15_000, 0, 1, 1),
                (2, 15_000, 1_000, 2, 1),
                (0, 0, 0, 0, 0),
                (0, 0, 0, 0, 0)
            ],
            "{}",
            db.url_string()
        );
        let [none] = store
            .merchant_activity_totals("m-9", [(APRIL_1, APRIL_1 + 9)])
            .expect("totals");
        assert_eq!(none, ActivityTotals::default());
        drop(store);
    }
}

/// Runs `sql` on the database behind the store, outside it.
fn execute(db: &TestDb, sql: &str) {
    match &db.url {
        chunlei_store::DbUrl::Sqlite(path) => {
            rusqlite::Connection::open(path)
                .expect("connect")
                .execute_batch(sql)
                .expect(sql);
        }
        chunlei_store::DbUrl::Postgres(_) => {
            postgres::Client::connect(&db.url_string(), postgres::NoTls)
                .expect("connect")
                .batch_execute(sql)
                .expect(sql);
        }
    }
}

/// Day rows added to as the writer adds to them: a first row, then more for the same day, some
/// days with refunds and no orders, in no order of day.
fn add_days(db: &TestDb, seed: u64, count: usize) {
    let mut state = seed;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut sql = String::new();
    for _ in 0..count {
        let merchant = format!("w-{}", next(2));
        let day = APRIL_1 - 400 + i32::try_from(next(420)).expect("small");
        let orders = if next(4) == 0 { 0 } else { 1 + next(3) };
        sql.push_str(&format!(
            "INSERT INTO merchant_daily (merchant_id, day, orders, gross, refunds, refunded, \
             settlements, settled_net) VALUES ('{merchant}', {day}, {orders}, {}, {}, {}, {}, 0) \
             ON CONFLICT (merchant_id, day) DO UPDATE SET \
             orders = merchant_daily.orders + excluded.orders, \
             gross = merchant_daily.gross + excluded.gross, \
             refunds = merchant_daily.refunds + excluded.refunds, \
             refunded = merchant_daily.refunded + excluded.refunded, \
             settlements = merchant_daily.settlements + excluded.settlements, \
             settled_net = merchant_daily.settled_net + excluded.settled_net;\n",
            orders * (1_000 + next(9_000)),
            next(2),
            next(500),
            next(2),
        ));
    }
    execute(db, &sql);
}

/// The sums over ranges of days (each the difference of two running totals) are the sums of
/// the daily rows, on every backend: for days added to after the running totals existed (their
/// triggers, days written in no order, so that earlier days change later totals), and for days
/// that were there before them (their migration).
#[test]
fn range_sums_match_the_daily_rows() {
    for db in TestDb::all() {
        let check = |store: &Store, seed: u64| {
            let mut state = seed;
            for _ in 0..150 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let from = APRIL_1 - 410 + i32::try_from((state >> 33) % 430).expect("small");
                let to = from + i32::try_from((state >> 20) % 200).expect("small") - 3;
                for merchant in ["w-0", "w-1"] {
                    let rows = store.merchant_daily(merchant, from, to).expect("rows");
                    let want = ActivityTotals {
                        orders: rows.iter().map(|(_, a)| a.orders).sum(),
                        gross: rows.iter().map(|(_, a)| u128::from(a.gross.get())).sum(),
                        refunded: rows.iter().map(|(_, a)| u128::from(a.refunded.get())).sum(),
                        settlements: rows.iter().map(|(_, a)| a.settlements).sum(),
                        active_days: u32::try_from(
                            rows.iter().filter(|(_, a)| a.orders > 0).count(),
                        )
                        .expect("small"),
                    };
                    let [got] = store
                        .merchant_activity_totals(merchant, [(from, to)])
                        .expect("totals");
                    assert_eq!(got, want, "{} {merchant} {from}..={to}", db.url_string());
                }
            }
        };
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        add_days(&db, 7, 600);
        check(&store, 11);
        drop(store);
        // As if the days had been written before the running totals: the migration builds
        // them.
        let (undo, version) = match db.url {
            chunlei_store::DbUrl::Sqlite(_) => (
                "DROP TABLE merchant_running; DROP TRIGGER merchant_running_insert; \
                 DROP TRIGGER merchant_running_update;",
                11,
            ),
            chunlei_store::DbUrl::Postgres(_) => (
                "DROP TABLE merchant_running; DROP TRIGGER merchant_running_add ON merchant_daily; \
                 DROP FUNCTION merchant_running_add();",
                10,
            ),
        };
        execute(
            &db,
            &format!("{undo} DELETE FROM schema_migrations WHERE version = {version};"),
        );
        add_days(&db, 13, 300);
        let store = Store::open(&db.url, StoreOptions::default()).expect("reopen");
        check(&store, 17);
        add_days(&db, 19, 300);
        check(&store, 23);
    }
}

/// Each bank's usage on a day, in a province and an industry, and in all, as a decision reads
/// it: found by dimension and key among every bank's usage of many days, through an index.
#[test]
fn bank_usage_is_read_by_key_for_every_bank() {
    for db in TestDb::all() {
        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let mut sql = String::new();
        for bank in ["icbc", "webank", "mybank"] {
            for day in 0..200 {
                sql.push_str(&format!(
                    "INSERT INTO loan_usage (bank_id, dimension, key, lent) \
                     VALUES ('{bank}', 'day', '{}', {});\n",
                    chunlei_ledger::CivilDate::from_days(APRIL_1 + day).expect("a date"),
                    1_000 + day,
                ));
            }
        }
        sql.push_str(
            "INSERT INTO loan_usage (bank_id, dimension, key, lent) VALUES \
             ('icbc', 'total', '', 90000), ('webank', 'total', '', 80000), \
             ('icbc', 'region', '33', 700), ('icbc', 'region', '44', 600), \
             ('webank', 'industry', 'toys', 500), ('mybank', 'industry', 'food', 400);",
        );
        execute(&db, &sql);
        let day = chunlei_ledger::CivilDate::from_days(APRIL_1 + 7).expect("a date");
        let lent = store.bank_lent(day, "330782", "toys").expect("usage");
        let row = |bank: &str, day, total, region, industry| chunlei_store::BankLent {
            bank_id: bank.to_owned(),
            day,
            total,
            region,
            industry,
        };
        assert_eq!(
            lent,
            [
                row("icbc", 1_007, 90_000, 700, 0),
                row("mybank", 1_007, 0, 0, 0),
                row("webank", 1_007, 80_000, 0, 500),
            ],
            "{}",
            db.url_string()
        );
        if let chunlei_store::DbUrl::Sqlite(path) = &db.url {
            let conn = rusqlite::Connection::open(path).expect("connect");
            let plan: Vec<String> = conn
                .prepare(
                    "EXPLAIN QUERY PLAN SELECT bank_id, dimension, lent FROM loan_usage \
                     WHERE dimension = ?1 AND key = ?2",
                )
                .expect("plan")
                .query_map(["day", "2020-04-08"], |r| r.get(3))
                .expect("plan rows")
                .collect::<Result<_, _>>()
                .expect("plan");
            assert!(
                plan.iter().any(|step| step.contains("loan_usage_by_key")),
                "{plan:?}"
            );
        }
    }
}
