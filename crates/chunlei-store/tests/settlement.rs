//! The settlement book through the store, on every backend: a script of merchants, order
//! events, payouts and the bank's answers in; each command's answer, then every merchant's
//! balances, the platform's accounts, each order's statement and the programme's totals out.
//!
//! One script line is one command, sent in a commit of its own; a line that starts with `&`
//! joins the commit of the line before it.
//!
//! ```text
//! merchant <id> <risk tier> <joined on>          registers (or replaces) a merchant
//! paid <event> <order> <merchant> <fen> <category> <channel> <time>
//! shipped <event> <order> <merchant> express|surface <time>
//! confirmed <event> <order> <merchant> <time>
//! refunded <event> <order> <merchant> <fen> <time>
//! cancelled <event> <order> <merchant> <time>
//! payout <payout> <merchant> [<fen>]              everything available without an amount
//! payout_result <payout> ok|failed
//! tick                                            an empty commit: work due by the clock runs
//! balances                                        renders the balances at this point
//! reopen                                          closes the store and opens it again
//! ```
//!
//! Times are event times in RFC 3339 (`2020-04-01T08:00:00Z`). Scheduled work runs on the
//! event clock, the latest `occurred_at` of any order event applied (never the wall clock):
//! at the start of every commit, before the commit's own commands, the writer confirms
//! orders automatically and releases reserves that are due by that clock. A scenario moves
//! the clock with an event of an unrelated order (a `paid` at a later time), and the next
//! commit (a `tick`, or the next command) does what fell due; an event never makes work due
//! in its own commit. Scenarios that do not test it set the automatic confirmation so far out
//! that nothing falls due.
//!
//! Every figure in the expectations below was checked by hand against the rules; the comment
//! above each scenario gives the arithmetic.

use std::fmt::Write as _;
use std::sync::Arc;

use chunlei_ledger::{Account, Fen};
use chunlei_settlement::book::{
    Command, CommandResult, EventIn, OrderRecord, PayoutIn, PayoutResultIn, PayoutStatus,
    Rejection, Settings, merchant_accounts,
};
use chunlei_settlement::{
    FeeRule, FeeSchedule, Merchant, MerchantFields, OrderEvent, OrderStatus, Relief, Shipping,
};
use chunlei_store::testing::TestDb;
use chunlei_store::{PayoutFilter, QUERY_LIMIT_MAX, Store, StoreOptions};
use expect_test::{Expect, expect};

const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// Days until automatic confirmation in scenarios that do not test it: far beyond any event
/// time a scenario reaches, and still a timestamp that fits the database.
const NEVER_DAYS: u32 = 50_000;

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

/// The settings every scenario starts from: the standard 2 % commission, a ¥5,000 exposure
/// cap per merchant, a ¥10,000 pool, no refund-rate limit (scenarios refund a lot), and no
/// automatic confirmation at any event time a scenario reaches.
fn base() -> Settings {
    let mut s = Settings::standard();
    s.program.merchant_cap = fen(500_000);
    s.program.pool_cap = fen(1_000_000);
    s.program.eligibility.refund_rate_bps_max = 10_000;
    s.program.auto_confirm_express_days = NEVER_DAYS;
    s.program.auto_confirm_surface_days = NEVER_DAYS;
    s
}

/// RFC 3339 in UTC with whole seconds (`2020-04-01T08:00:00Z`) to ns since the epoch.
fn time(text: &str) -> u64 {
    let bad = || panic!("not a time: {text}");
    let number = |range: std::ops::Range<usize>| -> u64 {
        text.get(range)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(bad)
    };
    if text.len() != 20 || !text.ends_with('Z') || text.as_bytes()[10] != b'T' {
        bad();
    }
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let seconds = number(11..13) * 3_600 + number(14..16) * 60 + number(17..19);
    // Days from civil (H. Hinnant): March-based years make February the last month.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + seconds) * NANOS_PER_SECOND
}

fn merchant(id: &str, risk_tier: &str, joined_on: &str) -> Merchant {
    let fields = MerchantFields {
        id,
        name: "Shop",
        kind: "trader",
        foreign_trade: "true",
        region_code: "330102",
        category: "apparel",
        joined_on,
        cluster_id: "",
        agriculture_base_id: "",
        risk_tier,
        bank_code: "ICBC",
        account_number: "6222020000000001",
        holder_name: "Shop owner",
    };
    Merchant::parse(&fields).expect("valid merchant")
}

/// One parsed script line.
enum Line {
    Merchant(Merchant),
    Command(Command),
    Tick,
    Balances,
    Reopen,
}

fn parse(line: &str) -> Line {
    let w: Vec<&str> = line.split_whitespace().collect();
    let event = |at: &str, event: OrderEvent| {
        Line::Command(Command::Order(EventIn {
            event_id: w[1].to_owned(),
            order_id: w[2].to_owned(),
            merchant_id: w[3].to_owned(),
            occurred_at: time(at),
            event,
        }))
    };
    let shipping = |s: &str| match s {
        "express" => Shipping::Express,
        "surface" => Shipping::Surface,
        other => panic!("shipping {other}"),
    };
    let amount = |s: &str| fen(s.parse().unwrap_or_else(|_| panic!("amount {s}")));
    match w.as_slice() {
        ["merchant", id, tier, joined] => Line::Merchant(merchant(id, tier, joined)),
        ["paid", _, _, m, a, category, channel, at] => event(
            at,
            OrderEvent::Paid {
                merchant_id: (*m).to_owned(),
                amount: amount(a),
                category: (*category).to_owned(),
                channel: (*channel).to_owned(),
            },
        ),
        ["shipped", _, _, _, s, at] => event(
            at,
            OrderEvent::Shipped {
                shipping: shipping(s),
            },
        ),
        ["confirmed", _, _, _, at] => event(at, OrderEvent::Confirmed),
        ["refunded", _, _, _, a, at] => event(at, OrderEvent::Refunded { amount: amount(a) }),
        ["cancelled", _, _, _, at] => event(at, OrderEvent::Cancelled),
        ["payout", id, m, rest @ ..] if rest.len() <= 1 => {
            Line::Command(Command::Payout(PayoutIn {
                payout_id: (*id).to_owned(),
                merchant_id: (*m).to_owned(),
                amount: rest.first().map(|a| amount(a)),
            }))
        }
        ["payout_result", id, answer @ ("ok" | "failed")] => {
            Line::Command(Command::PayoutResult(PayoutResultIn {
                payout_id: (*id).to_owned(),
                succeeded: *answer == "ok",
            }))
        }
        ["tick"] => Line::Tick,
        ["balances"] => Line::Balances,
        ["reopen"] => Line::Reopen,
        _ => panic!("cannot parse script line: {line}"),
    }
}

/// Runs `script` on every backend with the settings `settings` makes; every backend must
/// render the same text, and every ledger must balance at the end.
fn scenario(settings: impl Fn() -> Settings, script: &str, expect: Expect) {
    let mut first: Option<(String, String)> = None;
    for db in TestDb::all() {
        let mut play = Play {
            store: open(&db, &settings),
            settings: settings(),
            merchants: Vec::new(),
            out: String::new(),
        };
        play.script(script, || open(&db, &settings));
        play.out += &play.state();
        let violations = play.store.verify().expect("verify");
        assert!(
            violations.is_empty(),
            "{}: ledger does not verify: {violations:?}",
            db.url_string()
        );
        match &first {
            None => first = Some((db.url_string(), play.out)),
            Some((url, text)) => assert_eq!(
                text,
                &play.out,
                "{url} and {} render differently",
                db.url_string()
            ),
        }
    }
    let (_, text) = first.expect("at least one backend");
    expect.assert_eq(&text);
}

fn open(db: &TestDb, settings: &impl Fn() -> Settings) -> Store {
    let options = StoreOptions {
        settlement: Arc::new(settings()),
        ..StoreOptions::default()
    };
    Store::open(&db.url, options).expect("open")
}

struct Play {
    store: Store,
    settings: Settings,
    /// Merchants in the order the script registered them.
    merchants: Vec<String>,
    out: String,
}

impl Play {
    fn script(&mut self, script: &str, reopen: impl Fn() -> Store) {
        let mut batch: Vec<(String, Command)> = Vec::new();
        for raw in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (joins, text) = match raw.strip_prefix('&') {
                Some(rest) => (true, rest.trim()),
                None => (false, raw),
            };
            if !joins {
                self.send(std::mem::take(&mut batch));
            }
            match parse(text) {
                Line::Command(command) => batch.push((text.to_owned(), command)),
                directive @ (Line::Merchant(_) | Line::Tick | Line::Balances | Line::Reopen) => {
                    assert!(!joins, "only commands join a commit: {text}");
                    self.directive(text, directive, &reopen);
                }
            }
        }
        self.send(batch);
    }

    fn directive(&mut self, text: &str, line: Line, reopen: &impl Fn() -> Store) {
        match line {
            Line::Merchant(m) => {
                self.store
                    .upsert_merchants(std::slice::from_ref(&m))
                    .expect("register merchant");
                let id = m.id.as_str().to_owned();
                if !self.merchants.contains(&id) {
                    self.merchants.push(id);
                }
                writeln!(self.out, "{text}").expect("write");
            }
            Line::Tick => {
                let results = self.store.settle_blocking(Vec::new()).expect("tick");
                assert!(results.is_empty());
                writeln!(self.out, "tick").expect("write");
            }
            Line::Balances => {
                writeln!(self.out, "balances").expect("write");
                let balances = self.balances();
                for line in balances.lines() {
                    writeln!(self.out, "  {line}").expect("write");
                }
            }
            Line::Reopen => {
                // The old store's writer stops (and SQLite's lock goes) before the new one
                // opens: a store without a writer takes its place meanwhile.
                let url = self.store.url().clone();
                self.store = Store::open_without_writer(&url).expect("open to read");
                self.store = reopen();
                writeln!(self.out, "reopen").expect("write");
            }
            Line::Command(_) => unreachable!("commands are batched"),
        }
    }

    /// Sends one commit's commands and renders each answer. When every command was refused
    /// and no due work could have run in the commit, nothing may have changed.
    fn send(&mut self, batch: Vec<(String, Command)>) {
        if batch.is_empty() {
            return;
        }
        let quiet = !self.due_work_pending();
        let before = self.state();
        let (texts, commands): (Vec<String>, Vec<Command>) = batch.into_iter().unzip();
        let results = self.store.settle_blocking(commands).expect("settle");
        assert_eq!(results.len(), texts.len());
        for (i, (text, result)) in texts.iter().zip(&results).enumerate() {
            let joined = if i == 0 { "" } else { "& " };
            writeln!(self.out, "{joined}{text} => {}", answer(result)).expect("write");
        }
        if quiet && results.iter().all(Result::is_err) {
            assert_eq!(before, self.state(), "a refused command changed something");
        }
    }

    /// Whether an order's automatic confirmation or reserve release is due by the event clock,
    /// so that the next commit does it.
    fn due_work_pending(&self) -> bool {
        let clock = self.store.settlement_meta().expect("meta").event_clock;
        self.orders()
            .iter()
            .any(|(_, o)| o.due_at() != 0 && o.due_at() <= clock)
    }

    fn orders(&self) -> Vec<(String, OrderRecord)> {
        self.merchants
            .iter()
            .flat_map(|m| {
                self.store
                    .merchant_orders(m, "", QUERY_LIMIT_MAX)
                    .expect("orders")
            })
            .collect()
    }

    /// Everything the scenario renders at the end.
    fn state(&self) -> String {
        let mut out = self.balances();
        out += "orders\n";
        for (id, order) in self.orders() {
            writeln!(out, "  {id} {}", statement(&order)).expect("write");
        }
        out += "payouts\n";
        for m in &self.merchants {
            for (id, p) in self
                .store
                .payouts(PayoutFilter::Merchant(m), "", QUERY_LIMIT_MAX)
                .expect("payouts")
            {
                writeln!(out, "  {id} {m} {} {}", p.status.as_str(), p.amount.get())
                    .expect("write");
            }
        }
        let t = self.store.settlement_meta().expect("meta").totals;
        out += "totals\n";
        writeln!(
            out,
            "  advanced {} gross {}, released {} (outstanding {}), confirmed {}, saved {}s",
            t.advanced_count,
            t.advanced_gross.get(),
            t.exposure_released.get(),
            t.outstanding().get(),
            t.advanced_confirmed,
            t.days_saved_seconds,
        )
        .expect("write");
        writeln!(
            out,
            "  fees {} of standard {}, withheld {}, clawed back {}, receivable booked {} recovered {} (unrecovered {}), paid out {}",
            t.fee_charged.get(),
            t.fee_standard.get(),
            t.withheld.get(),
            t.clawed_back.get(),
            t.receivable_booked.get(),
            t.receivable_recovered.get(),
            t.unrecovered().get(),
            t.paid_out.get(),
        )
        .expect("write");
        out
    }

    /// Each merchant's accounts and the platform's, read from the ledger.
    fn balances(&self) -> String {
        let mut out = String::from("merchants\n");
        for m in &self.merchants {
            let Some(book) = self.store.settlement_merchant(m).expect("merchant") else {
                writeln!(out, "  {m}: no settlement accounts").expect("write");
                continue;
            };
            let a = merchant_accounts(book.seq);
            let [available, reserve, headroom, used, receivable] = self.accounts([
                a.available,
                a.reserve,
                a.exposure_headroom,
                a.exposure_used,
                a.receivable,
            ]);
            let paid_out: u64 = self
                .store
                .payouts(PayoutFilter::Merchant(m), "", QUERY_LIMIT_MAX)
                .expect("payouts")
                .iter()
                .filter(|(_, p)| p.status == PayoutStatus::Paid)
                .map(|(_, p)| p.amount.get())
                .sum();
            writeln!(
                out,
                "  {m}: available {} (pending payout {}), reserve {}, receivable {}, paid out {}, exposure {} (headroom {} of cap {})",
                credit(&available) - i128::from(available.debits_pending.get()),
                available.debits_pending.get(),
                credit(&reserve),
                -credit(&receivable),
                paid_out,
                credit(&used),
                credit(&headroom),
                book.cap_granted.get(),
            )
            .expect("write");
        }
        let p = self.settings.platform();
        let [
            escrow,
            pool,
            funding,
            fees,
            withheld,
            clearing,
            payouts,
            buyers,
        ] = self.accounts([
            p.escrow,
            p.advance_pool,
            p.pool_funding,
            p.fee_revenue,
            p.loan_withholding,
            p.clearing,
            p.payouts,
            p.buyer_clearing,
        ]);
        writeln!(
            out,
            "platform\n  escrow {}, advance pool {} (funded {}), fee revenue {}, loan withholding {}, clearing {}, payouts {} (pending {}), from buyers {}",
            credit(&escrow),
            credit(&pool),
            -credit(&funding),
            credit(&fees),
            credit(&withheld),
            credit(&clearing),
            credit(&payouts),
            payouts.credits_pending.get(),
            -credit(&buyers),
        )
        .expect("write");
        out
    }

    /// The accounts `ids`, in order; an account not created yet reads as all zero.
    fn accounts<const N: usize>(&self, ids: [u128; N]) -> [Account; N] {
        let found = self.store.lookup_accounts(&ids).expect("lookup");
        ids.map(|id| {
            found
                .iter()
                .find(|a| a.id == id)
                .cloned()
                .unwrap_or_else(|| Account::new(id, 0, 0))
        })
    }
}

/// Credits minus debits posted: what a credit-normal account holds.
fn credit(a: &Account) -> i128 {
    i128::from(a.credits_posted.get()) - i128::from(a.debits_posted.get())
}

fn answer(result: &CommandResult) -> String {
    match result {
        Ok(applied) => {
            let mut text = format!("ok {}", applied.effect.as_str());
            if let Some(reason) = &applied.reason {
                text += &format!(" ({reason})");
            }
            if let Some(amount) = applied.amount {
                text += &format!(" {}", amount.get());
            }
            text
        }
        Err(Rejection::LedgerRejected(r)) => format!("err ledger_rejected ({})", r.as_str()),
        Err(rejection) => format!("err {}", rejection.as_str()),
    }
}

/// One order's line of the merchant's statement.
fn statement(r: &OrderRecord) -> String {
    let status = match r.order.status {
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Confirmed => "confirmed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
    };
    let mut line = format!(
        "{} {status}: paid {} refunded {}",
        r.order.merchant_id,
        r.order.paid.get(),
        r.order.refunded.get()
    );
    if let Some(why) = &r.not_advanced {
        line += &format!(", not advanced ({why})");
    }
    if let Some(s) = &r.settlement {
        line += &format!(
            " | {} gross {} fee {} relief {} withholding {} reserve {} net {} recovered {}",
            if s.advanced { "advanced" } else { "settled" },
            s.gross.get(),
            s.fee_charged.get(),
            s.fee_standard.saturating_sub(s.fee_charged).get(),
            s.withholding.get(),
            s.reserve.get(),
            s.net.get(),
            s.receivable_recovered.get(),
        );
        if let Some(early) = r.seconds_early() {
            line += &format!(" early {early}s");
        }
        if !s.reserve.is_zero() {
            line += &if r.reserve_release_at == 0 {
                format!(" reserve released {}", r.reserve_released.get())
            } else {
                " reserve held".to_owned()
            };
        }
    }
    line
}

#[test]
fn time_parses_rfc_3339() {
    assert_eq!(time("1970-01-01T00:00:00Z"), 0);
    assert_eq!(
        time("2020-04-01T08:00:00Z"),
        1_585_728_000 * NANOS_PER_SECOND
    );
    assert_eq!(time("2000-03-01T00:00:01Z"), 951_868_801 * NANOS_PER_SECOND);
}

/// An eligible merchant's order is advanced on shipping: the pool pays the 2 % fee (200) to
/// revenue and the net (9,800) to the merchant, and 10,000 counts against its exposure. The
/// buyer's confirmation three days later repays the pool from escrow and frees the exposure:
/// the pool is whole again and the merchant was paid 259,200 s (3 days) early.
#[test]
fn advance_on_shipping_then_confirmation_repays_the_pool() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        balances
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        balances
        confirmed e3 o1 m1 2020-04-05T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            balances
              merchants
                m1: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10000, advance pool 1000000 (funded 1000000), fee revenue 0, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 10000
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            balances
              merchants
                m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
              platform
                escrow 10000, advance pool 990000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 10000
            confirmed e3 o1 m1 2020-04-05T08:00:00Z => ok advance_repaid
            merchants
              m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 0, advance pool 1000000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 10000
            orders
              o1 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 259200s
            payouts
            totals
              advanced 1 gross 10000, released 10000 (outstanding 0), confirmed 1, saved 259200s
              fees 200 of standard 200, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Merchants the programme does not admit are settled on confirmation instead: d1 is of risk
/// tier D (C is the riskiest admitted), n1 joined 23 days before shipping (30 needed; n2,
/// joined exactly 30 days before, is admitted), r1 had one of its two orders refunded
/// (5,000 bps > 1,000). Settled orders pay 10,000 − 2 % = 9,800 from escrow on confirmation
/// and were paid 0 s early. Once d1 is re-graded C, its next order is advanced.
#[test]
fn ineligible_merchants_are_settled_on_confirmation() {
    scenario(
        || {
            let mut s = base();
            s.program.eligibility.refund_rate_bps_max = 1_000;
            s
        },
        "
        merchant a1 A 2019-01-01
        merchant d1 D 2019-01-01
        merchant n1 B 2020-03-10
        merchant n2 B 2020-03-03
        merchant r1 B 2019-01-01
        paid e1 o1 a1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 a1 express 2020-04-02T08:00:00Z
        paid e3 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 d1 express 2020-04-02T08:00:00Z
        paid e5 o3 n1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e6 o3 n1 express 2020-04-02T08:00:00Z
        paid e7 o4 n2 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e8 o4 n2 express 2020-04-02T00:00:00Z
        paid e9 o5 r1 10000 apparel taobao 2020-04-01T08:00:00Z
        refunded e10 o5 r1 10000 2020-04-01T09:00:00Z
        paid e11 o6 r1 10000 apparel taobao 2020-04-01T10:00:00Z
        shipped e12 o6 r1 express 2020-04-02T08:00:00Z
        confirmed e13 o2 d1 2020-04-05T08:00:00Z
        confirmed e14 o3 n1 2020-04-05T08:00:00Z
        confirmed e15 o6 r1 2020-04-05T08:00:00Z
        merchant d1 C 2019-01-01
        paid e16 o7 d1 10000 apparel taobao 2020-04-06T08:00:00Z
        shipped e17 o7 d1 express 2020-04-07T08:00:00Z
        ",
        expect![[r#"
            merchant a1 A 2019-01-01
            merchant d1 D 2019-01-01
            merchant n1 B 2020-03-10
            merchant n2 B 2020-03-03
            merchant r1 B 2019-01-01
            paid e1 o1 a1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 a1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            paid e5 o3 n1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e6 o3 n1 express 2020-04-02T08:00:00Z => ok not_advanced (merchant_too_new)
            paid e7 o4 n2 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e8 o4 n2 express 2020-04-02T00:00:00Z => ok advanced
            paid e9 o5 r1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            refunded e10 o5 r1 10000 2020-04-01T09:00:00Z => ok refunded
            paid e11 o6 r1 10000 apparel taobao 2020-04-01T10:00:00Z => ok escrowed
            shipped e12 o6 r1 express 2020-04-02T08:00:00Z => ok not_advanced (refund_rate_too_high)
            confirmed e13 o2 d1 2020-04-05T08:00:00Z => ok settled
            confirmed e14 o3 n1 2020-04-05T08:00:00Z => ok settled
            confirmed e15 o6 r1 2020-04-05T08:00:00Z => ok settled
            merchant d1 C 2019-01-01
            paid e16 o7 d1 10000 apparel taobao 2020-04-06T08:00:00Z => ok escrowed
            shipped e17 o7 d1 express 2020-04-07T08:00:00Z => ok advanced
            merchants
              a1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
              d1: available 19600 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
              n1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              n2: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
              r1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 30000, advance pool 970000 (funded 1000000), fee revenue 1200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 60000
            orders
              o1 a1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o2 d1 confirmed: paid 10000 refunded 0, not advanced (risk_tier_too_high) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
              o7 d1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o3 n1 confirmed: paid 10000 refunded 0, not advanced (merchant_too_new) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
              o4 n2 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o5 r1 refunded: paid 10000 refunded 10000
              o6 r1 confirmed: paid 10000 refunded 0, not advanced (refund_rate_too_high) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
            payouts
            totals
              advanced 3 gross 30000, released 0 (outstanding 30000), confirmed 0, saved 0s
              fees 1200 of standard 1200, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Only orders shipped within `starts_at..ends_at` (2020-02-01 inclusive to 2020-07-01
/// exclusive) are advanced, whenever they were paid. Each order is 1,000: fee 20, net 980.
#[test]
fn orders_shipped_outside_the_window_are_not_advanced() {
    scenario(
        || {
            let mut s = base();
            s.program.starts_at = time("2020-02-01T00:00:00Z");
            s.program.ends_at = time("2020-07-01T00:00:00Z");
            s
        },
        "
        merchant m1 C 2019-01-01
        paid e1 o1 m1 1000 apparel taobao 2020-01-15T00:00:00Z
        shipped e2 o1 m1 express 2020-01-31T23:59:59Z
        paid e3 o2 m1 1000 apparel taobao 2020-01-15T00:00:00Z
        shipped e4 o2 m1 express 2020-02-01T00:00:00Z
        paid e5 o3 m1 1000 apparel taobao 2020-06-30T00:00:00Z
        shipped e6 o3 m1 express 2020-06-30T23:59:59Z
        paid e7 o4 m1 1000 apparel taobao 2020-06-30T00:00:00Z
        shipped e8 o4 m1 express 2020-07-01T00:00:00Z
        confirmed e9 o1 m1 2020-02-03T00:00:00Z
        confirmed e10 o4 m1 2020-07-03T00:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            paid e1 o1 m1 1000 apparel taobao 2020-01-15T00:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-01-31T23:59:59Z => ok not_advanced (outside_program_window)
            paid e3 o2 m1 1000 apparel taobao 2020-01-15T00:00:00Z => ok escrowed
            shipped e4 o2 m1 express 2020-02-01T00:00:00Z => ok advanced
            paid e5 o3 m1 1000 apparel taobao 2020-06-30T00:00:00Z => ok escrowed
            shipped e6 o3 m1 express 2020-06-30T23:59:59Z => ok advanced
            paid e7 o4 m1 1000 apparel taobao 2020-06-30T00:00:00Z => ok escrowed
            shipped e8 o4 m1 express 2020-07-01T00:00:00Z => ok not_advanced (outside_program_window)
            confirmed e9 o1 m1 2020-02-03T00:00:00Z => ok settled
            confirmed e10 o4 m1 2020-07-03T00:00:00Z => ok settled
            merchants
              m1: available 3920 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 2000 (headroom 498000 of cap 500000)
            platform
              escrow 2000, advance pool 998000 (funded 1000000), fee revenue 80, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 4000
            orders
              o1 m1 confirmed: paid 1000 refunded 0, not advanced (outside_program_window) | settled gross 1000 fee 20 relief 0 withholding 0 reserve 0 net 980 recovered 0 early 0s
              o2 m1 shipped: paid 1000 refunded 0 | advanced gross 1000 fee 20 relief 0 withholding 0 reserve 0 net 980 recovered 0
              o3 m1 shipped: paid 1000 refunded 0 | advanced gross 1000 fee 20 relief 0 withholding 0 reserve 0 net 980 recovered 0
              o4 m1 confirmed: paid 1000 refunded 0, not advanced (outside_program_window) | settled gross 1000 fee 20 relief 0 withholding 0 reserve 0 net 980 recovered 0 early 0s
            payouts
            totals
              advanced 2 gross 2000, released 0 (outstanding 2000), confirmed 0, saved 0s
              fees 80 of standard 80, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// A merchant's outstanding advances never pass its cap (15,000): o1 (10,000) is advanced,
/// o2 (10,000) would make 20,000 and is not, o3 (5,000) makes exactly 15,000 and is. m2 has
/// a cap of its own. o1's confirmation frees 10,000, so o5 is advanced. o2 is settled from
/// escrow on confirmation. m1 received 9,800 + 4,900 + 9,800 + 9,800 = 34,300.
#[test]
fn the_merchant_cap_limits_outstanding_advances() {
    scenario(
        || {
            let mut s = base();
            s.program.merchant_cap = fen(15_000);
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 m1 express 2020-04-02T08:00:00Z
        paid e5 o3 m1 5000 apparel taobao 2020-04-01T08:00:00Z
        shipped e6 o3 m1 express 2020-04-02T08:00:00Z
        paid e7 o4 m2 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e8 o4 m2 express 2020-04-02T08:00:00Z
        confirmed e9 o1 m1 2020-04-03T08:00:00Z
        paid e10 o5 m1 10000 apparel taobao 2020-04-03T09:00:00Z
        shipped e11 o5 m1 express 2020-04-04T08:00:00Z
        confirmed e12 o2 m1 2020-04-05T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 m1 express 2020-04-02T08:00:00Z => ok not_advanced (merchant_cap_reached)
            paid e5 o3 m1 5000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e6 o3 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e7 o4 m2 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e8 o4 m2 express 2020-04-02T08:00:00Z => ok advanced
            confirmed e9 o1 m1 2020-04-03T08:00:00Z => ok advance_repaid
            paid e10 o5 m1 10000 apparel taobao 2020-04-03T09:00:00Z => ok escrowed
            shipped e11 o5 m1 express 2020-04-04T08:00:00Z => ok advanced
            confirmed e12 o2 m1 2020-04-05T08:00:00Z => ok settled
            merchants
              m1: available 34300 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 15000 (headroom 0 of cap 15000)
              m2: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 5000 of cap 15000)
            platform
              escrow 25000, advance pool 975000 (funded 1000000), fee revenue 900, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 45000
            orders
              o1 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 86400s
              o2 m1 confirmed: paid 10000 refunded 0, not advanced (merchant_cap_reached) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
              o3 m1 shipped: paid 5000 refunded 0 | advanced gross 5000 fee 100 relief 0 withholding 0 reserve 0 net 4900 recovered 0
              o5 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o4 m2 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
            payouts
            totals
              advanced 4 gross 35000, released 10000 (outstanding 25000), confirmed 1, saved 86400s
              fees 900 of standard 900, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// The pool (15,000) pays out at most what the programme funded: o1 takes 10,000, o2
/// (10,000) does not fit in the 5,000 left, o3 (5,000) takes exactly the rest. o1's
/// confirmation refills the pool by 10,000, so o4 fits again.
#[test]
fn the_pool_cap_limits_all_advances() {
    scenario(
        || {
            let mut s = base();
            s.program.pool_cap = fen(15_000);
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        paid e3 o2 m2 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 m2 express 2020-04-02T08:00:00Z
        paid e5 o3 m2 5000 apparel taobao 2020-04-01T08:00:00Z
        shipped e6 o3 m2 express 2020-04-02T08:00:00Z
        balances
        confirmed e7 o1 m1 2020-04-03T08:00:00Z
        paid e8 o4 m2 10000 apparel taobao 2020-04-03T09:00:00Z
        shipped e9 o4 m2 express 2020-04-04T08:00:00Z
        confirmed e10 o2 m2 2020-04-05T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 o2 m2 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 m2 express 2020-04-02T08:00:00Z => ok not_advanced (pool_cap_reached)
            paid e5 o3 m2 5000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e6 o3 m2 express 2020-04-02T08:00:00Z => ok advanced
            balances
              merchants
                m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
                m2: available 4900 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 5000 (headroom 495000 of cap 500000)
              platform
                escrow 25000, advance pool 0 (funded 15000), fee revenue 300, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 25000
            confirmed e7 o1 m1 2020-04-03T08:00:00Z => ok advance_repaid
            paid e8 o4 m2 10000 apparel taobao 2020-04-03T09:00:00Z => ok escrowed
            shipped e9 o4 m2 express 2020-04-04T08:00:00Z => ok advanced
            confirmed e10 o2 m2 2020-04-05T08:00:00Z => ok settled
            merchants
              m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              m2: available 24500 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 15000 (headroom 485000 of cap 500000)
            platform
              escrow 15000, advance pool 0 (funded 15000), fee revenue 700, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 35000
            orders
              o1 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 86400s
              o2 m2 confirmed: paid 10000 refunded 0, not advanced (pool_cap_reached) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
              o3 m2 shipped: paid 5000 refunded 0 | advanced gross 5000 fee 100 relief 0 withholding 0 reserve 0 net 4900 recovered 0
              o4 m2 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
            payouts
            totals
              advanced 3 gross 25000, released 10000 (outstanding 15000), confirmed 1, saved 86400s
              fees 700 of standard 700, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Before shipping, escrow pays refunds back and nothing reaches the merchant. o1 is refunded
/// in full; o2 in part (3,000), so the advance is on the 7,000 left (fee 140, net 6,860) and
/// confirmation repays 7,000; o3 is cancelled; o4 is refunded 1,000 and then cancelled, which
/// returns the other 4,000. After shipping without an advance (d1 is tier D), a refund also
/// comes from escrow and the confirmation settles what is left: 7,500, fee 150, net 7,350.
/// Nothing may follow a cancellation or a full refund.
#[test]
fn refunds_and_cancellations_before_the_merchant_is_paid_come_from_escrow() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        merchant d1 D 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        refunded e2 o1 m1 10000 2020-04-01T09:00:00Z
        paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        refunded e4 o2 m1 3000 2020-04-01T09:00:00Z
        shipped e5 o2 m1 express 2020-04-02T08:00:00Z
        confirmed e6 o2 m1 2020-04-04T08:00:00Z
        paid e7 o3 m1 5000 apparel taobao 2020-04-01T08:00:00Z
        cancelled e8 o3 m1 2020-04-01T09:00:00Z
        paid e9 o4 m1 5000 apparel taobao 2020-04-01T08:00:00Z
        refunded e10 o4 m1 1000 2020-04-01T09:00:00Z
        cancelled e11 o4 m1 2020-04-01T10:00:00Z
        paid e12 o5 d1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e13 o5 d1 express 2020-04-02T08:00:00Z
        refunded e14 o5 d1 2500 2020-04-03T08:00:00Z
        confirmed e15 o5 d1 2020-04-04T08:00:00Z
        shipped e16 o3 m1 express 2020-04-02T08:00:00Z
        refunded e17 o1 m1 1 2020-04-02T08:00:00Z
        cancelled e18 o2 m1 2020-04-04T09:00:00Z
        refunded e19 o2 m1 7001 2020-04-04T09:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant d1 D 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            refunded e2 o1 m1 10000 2020-04-01T09:00:00Z => ok refunded
            paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            refunded e4 o2 m1 3000 2020-04-01T09:00:00Z => ok refunded
            shipped e5 o2 m1 express 2020-04-02T08:00:00Z => ok advanced
            confirmed e6 o2 m1 2020-04-04T08:00:00Z => ok advance_repaid
            paid e7 o3 m1 5000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            cancelled e8 o3 m1 2020-04-01T09:00:00Z => ok refunded
            paid e9 o4 m1 5000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            refunded e10 o4 m1 1000 2020-04-01T09:00:00Z => ok refunded
            cancelled e11 o4 m1 2020-04-01T10:00:00Z => ok refunded
            paid e12 o5 d1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e13 o5 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            refunded e14 o5 d1 2500 2020-04-03T08:00:00Z => ok refunded
            confirmed e15 o5 d1 2020-04-04T08:00:00Z => ok settled
            shipped e16 o3 m1 express 2020-04-02T08:00:00Z => err order_cancelled
            refunded e17 o1 m1 1 2020-04-02T08:00:00Z => err order_fully_refunded
            cancelled e18 o2 m1 2020-04-04T09:00:00Z => err cancel_after_shipping
            refunded e19 o2 m1 7001 2020-04-04T09:00:00Z => err refund_exceeds_paid
            merchants
              m1: available 6860 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              d1: available 7350 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 0, advance pool 1000000 (funded 1000000), fee revenue 290, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 14500
            orders
              o1 m1 refunded: paid 10000 refunded 10000
              o2 m1 confirmed: paid 10000 refunded 3000 | advanced gross 7000 fee 140 relief 0 withholding 0 reserve 0 net 6860 recovered 0 early 172800s
              o3 m1 cancelled: paid 5000 refunded 5000
              o4 m1 cancelled: paid 5000 refunded 5000
              o5 d1 confirmed: paid 10000 refunded 2500, not advanced (risk_tier_too_high) | settled gross 7500 fee 150 relief 0 withholding 0 reserve 0 net 7350 recovered 0 early 0s
            payouts
            totals
              advanced 1 gross 7000, released 7000 (outstanding 0), confirmed 1, saved 172800s
              fees 290 of standard 290, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// A refund after the advance and before confirmation: escrow pays the buyer, and the pool
/// recovers the refunded amount from the merchant's available balance (9,800 − 3,000 −
/// 2,000 = 4,800); the refunded amounts no longer count against the exposure (10,000 −
/// 5,000). Confirmation repays the pool the 5,000 still in escrow. The 200 fee on the whole
/// 10,000 stays with the platform.
#[test]
fn refunds_after_an_advance_are_clawed_back_from_available() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        refunded e3 o1 m1 3000 2020-04-03T08:00:00Z
        balances
        refunded e4 o1 m1 2000 2020-04-03T09:00:00Z
        confirmed e5 o1 m1 2020-04-05T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            refunded e3 o1 m1 3000 2020-04-03T08:00:00Z => ok clawed_back
            balances
              merchants
                m1: available 6800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 7000 (headroom 493000 of cap 500000)
              platform
                escrow 7000, advance pool 993000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 7000
            refunded e4 o1 m1 2000 2020-04-03T09:00:00Z => ok clawed_back
            confirmed e5 o1 m1 2020-04-05T08:00:00Z => ok advance_repaid
            merchants
              m1: available 4800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 0, advance pool 1000000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 5000
            orders
              o1 m1 confirmed: paid 10000 refunded 5000 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 259200s
            payouts
            totals
              advanced 1 gross 10000, released 10000 (outstanding 0), confirmed 1, saved 259200s
              fees 200 of standard 200, withheld 0, clawed back 5000, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// The merchant was advanced 9,800 for o1 and paid all of it out. The refund of 4,000 finds
/// nothing available and no reserve, so it is booked as a receivable. o2's advance (5,000:
/// fee 100, net 4,900) pays the receivable first (4,000 recovered) and 900 to available.
#[test]
fn a_refund_after_a_payout_books_a_receivable_that_the_next_settlement_recovers() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        payout p1 m1
        payout_result p1 ok
        refunded e3 o1 m1 4000 2020-04-03T08:00:00Z
        balances
        paid e4 o2 m1 5000 apparel taobao 2020-04-03T08:00:00Z
        shipped e5 o2 m1 express 2020-04-04T08:00:00Z
        confirmed e6 o1 m1 2020-04-06T08:00:00Z
        confirmed e7 o2 m1 2020-04-06T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            payout p1 m1 => ok payout_pending 9800
            payout_result p1 ok => ok payout_paid 9800
            refunded e3 o1 m1 4000 2020-04-03T08:00:00Z => ok clawed_back
            balances
              merchants
                m1: available 0 (pending payout 0), reserve 0, receivable 4000, paid out 9800, exposure 6000 (headroom 494000 of cap 500000)
              platform
                escrow 6000, advance pool 994000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 9800 (pending 0), from buyers 6000
            paid e4 o2 m1 5000 apparel taobao 2020-04-03T08:00:00Z => ok escrowed
            shipped e5 o2 m1 express 2020-04-04T08:00:00Z => ok advanced
            confirmed e6 o1 m1 2020-04-06T08:00:00Z => ok advance_repaid
            confirmed e7 o2 m1 2020-04-06T08:00:00Z => ok advance_repaid
            merchants
              m1: available 900 (pending payout 0), reserve 0, receivable 0, paid out 9800, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 0, advance pool 1000000 (funded 1000000), fee revenue 300, loan withholding 0, clearing 0, payouts 9800 (pending 0), from buyers 11000
            orders
              o1 m1 confirmed: paid 10000 refunded 4000 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 345600s
              o2 m1 confirmed: paid 5000 refunded 0 | advanced gross 5000 fee 100 relief 0 withholding 0 reserve 0 net 4900 recovered 4000 early 172800s
            payouts
              p1 m1 paid 9800
            totals
              advanced 2 gross 15000, released 15000 (outstanding 0), confirmed 2, saved 518400s
              fees 300 of standard 300, withheld 0, clawed back 4000, receivable booked 4000 recovered 4000 (unrecovered 0), paid out 9800
        "#]],
    );
}

/// A 10 % reserve of what is left after the fee: on 10,000, fee 200, reserve 980, net 8,820.
/// It is held for 30 days from the settlement: from o1's advance (shipped 04-02 08:00, so
/// until 05-02 08:00) and from o2's confirmation (d1 is tier D; confirmed 04-05 08:00, so
/// until 05-05 08:00). Unrelated orders (x1..x3 of m2, 100 each, only paid) move the event
/// clock. At 05-02 07:59:59, one second short, the next commit releases nothing; at 05-02
/// 08:00 it releases o1's 980 (m1: 8,820 + 980 = 9,800) and not yet o2's; at 05-05 08:00
/// o2's (d1: 9,800). Escrow keeps o1's 10,000 (advanced, not confirmed) and the 300 of x1..x3.
#[test]
fn the_reserve_is_held_and_released_after_its_days() {
    scenario(
        || {
            let mut s = base();
            s.program.reserve_bps = 1_000;
            s.program.reserve_days = 30;
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant d1 D 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        paid e3 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 d1 express 2020-04-02T08:00:00Z
        confirmed e5 o2 d1 2020-04-05T08:00:00Z
        balances
        paid e6 x1 m2 100 apparel taobao 2020-05-02T07:59:59Z
        tick
        balances
        paid e7 x2 m2 100 apparel taobao 2020-05-02T08:00:00Z
        tick
        balances
        paid e8 x3 m2 100 apparel taobao 2020-05-05T08:00:00Z
        tick
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant d1 D 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            confirmed e5 o2 d1 2020-04-05T08:00:00Z => ok settled
            balances
              merchants
                m1: available 8820 (pending payout 0), reserve 980, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
                d1: available 8820 (pending payout 0), reserve 980, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                m2: no settlement accounts
              platform
                escrow 10000, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 20000
            paid e6 x1 m2 100 apparel taobao 2020-05-02T07:59:59Z => ok escrowed
            tick
            balances
              merchants
                m1: available 8820 (pending payout 0), reserve 980, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
                d1: available 8820 (pending payout 0), reserve 980, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10100, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 20100
            paid e7 x2 m2 100 apparel taobao 2020-05-02T08:00:00Z => ok escrowed
            tick
            balances
              merchants
                m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
                d1: available 8820 (pending payout 0), reserve 980, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10200, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 20200
            paid e8 x3 m2 100 apparel taobao 2020-05-05T08:00:00Z => ok escrowed
            tick
            merchants
              m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
              d1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 10300, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 20300
            orders
              o1 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 0 reserve released 980
              o2 d1 confirmed: paid 10000 refunded 0, not advanced (risk_tier_too_high) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 0 early 0s reserve released 980
              x1 m2 paid: paid 100 refunded 0
              x2 m2 paid: paid 100 refunded 0
              x3 m2 paid: paid 100 refunded 0
            payouts
            totals
              advanced 1 gross 10000, released 0 (outstanding 10000), confirmed 0, saved 0s
              fees 400 of standard 400, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// A refund takes back only the reserve held for its own order: another order's hold is not
/// released early under the refunded order's name. o1 is advanced (8,820 net, 980 held until
/// 05-02 08:00) and its 8,820 paid out; its full refund on 04-03 takes 980 from the reserve
/// (o1's own hold) and books 9,020. o2 (shipped 04-04) pays 8,820 of that (200 left) and holds
/// 980 until 05-04 08:00. When the clock passes 05-02 08:00, o1 has nothing left to release:
/// the reserve keeps o2's 980; at 05-04 08:00 o2's release pays the 200 owed and 780 to
/// available.
#[test]
fn a_refund_takes_back_only_its_own_orders_reserve() {
    scenario(
        || {
            let mut s = base();
            s.program.reserve_bps = 1_000;
            s.program.reserve_days = 30;
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        payout p1 m1
        payout_result p1 ok
        refunded e3 o1 m1 10000 2020-04-03T08:00:00Z
        paid e4 o2 m1 10000 apparel taobao 2020-04-03T08:00:00Z
        shipped e5 o2 m1 express 2020-04-04T08:00:00Z
        paid e6 x1 m2 100 apparel taobao 2020-05-02T08:00:00Z
        tick
        balances
        paid e7 x2 m2 100 apparel taobao 2020-05-04T08:00:00Z
        tick
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            payout p1 m1 => ok payout_pending 8820
            payout_result p1 ok => ok payout_paid 8820
            refunded e3 o1 m1 10000 2020-04-03T08:00:00Z => ok clawed_back
            paid e4 o2 m1 10000 apparel taobao 2020-04-03T08:00:00Z => ok escrowed
            shipped e5 o2 m1 express 2020-04-04T08:00:00Z => ok advanced
            paid e6 x1 m2 100 apparel taobao 2020-05-02T08:00:00Z => ok escrowed
            tick
            balances
              merchants
                m1: available 0 (pending payout 0), reserve 980, receivable 200, paid out 8820, exposure 10000 (headroom 490000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10100, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 8820 (pending 0), from buyers 10100
            paid e7 x2 m2 100 apparel taobao 2020-05-04T08:00:00Z => ok escrowed
            tick
            merchants
              m1: available 780 (pending payout 0), reserve 0, receivable 0, paid out 8820, exposure 10000 (headroom 490000 of cap 500000)
              m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 10200, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 8820 (pending 0), from buyers 10200
            orders
              o1 m1 refunded: paid 10000 refunded 10000 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 0 reserve released 0
              o2 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 8820 reserve released 980
              x1 m2 paid: paid 100 refunded 0
              x2 m2 paid: paid 100 refunded 0
            payouts
              p1 m1 paid 8820
            totals
              advanced 2 gross 20000, released 10000 (outstanding 10000), confirmed 0, saved 0s
              fees 400 of standard 400, withheld 0, clawed back 10000, receivable booked 9020 recovered 9020 (unrecovered 0), paid out 8820
        "#]],
    );
}

/// A reserve released while the merchant owes pays the receivable first. o1: advanced 8,820
/// with 980 reserved until 05-02 08:00; once an unrelated order (x1 of m2) moves the event
/// clock there, the next commit releases it (9,800 available), which is paid out. The full
/// refund on 05-03 finds nothing available and nothing in reserve and books 10,000. o2's
/// advance (shipped 05-04 08:00) pays 8,820 of it (1,180 left) and holds 980 until 06-03
/// 08:00; when x2 moves the clock there, the release pays 980 more: 200 stays owed, o1's fee.
/// Recovered in all: 8,820 + 980 = 9,800.
#[test]
fn a_reserve_released_while_the_merchant_owes_pays_the_receivable_first() {
    scenario(
        || {
            let mut s = base();
            s.program.reserve_bps = 1_000;
            s.program.reserve_days = 30;
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        paid e3 x1 m2 100 apparel taobao 2020-05-02T08:00:00Z
        tick
        payout p1 m1
        payout_result p1 ok
        refunded e4 o1 m1 10000 2020-05-03T08:00:00Z
        paid e5 o2 m1 10000 apparel taobao 2020-05-03T08:00:00Z
        shipped e6 o2 m1 express 2020-05-04T08:00:00Z
        balances
        paid e7 x2 m2 100 apparel taobao 2020-06-03T08:00:00Z
        tick
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 x1 m2 100 apparel taobao 2020-05-02T08:00:00Z => ok escrowed
            tick
            payout p1 m1 => ok payout_pending 9800
            payout_result p1 ok => ok payout_paid 9800
            refunded e4 o1 m1 10000 2020-05-03T08:00:00Z => ok clawed_back
            paid e5 o2 m1 10000 apparel taobao 2020-05-03T08:00:00Z => ok escrowed
            shipped e6 o2 m1 express 2020-05-04T08:00:00Z => ok advanced
            balances
              merchants
                m1: available 0 (pending payout 0), reserve 980, receivable 1180, paid out 9800, exposure 10000 (headroom 490000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10100, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 9800 (pending 0), from buyers 10100
            paid e7 x2 m2 100 apparel taobao 2020-06-03T08:00:00Z => ok escrowed
            tick
            merchants
              m1: available 0 (pending payout 0), reserve 0, receivable 200, paid out 9800, exposure 10000 (headroom 490000 of cap 500000)
              m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 10200, advance pool 990000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 9800 (pending 0), from buyers 10200
            orders
              o1 m1 refunded: paid 10000 refunded 10000 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 0 reserve released 980
              o2 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 980 net 8820 recovered 8820 reserve released 980
              x1 m2 paid: paid 100 refunded 0
              x2 m2 paid: paid 100 refunded 0
            payouts
              p1 m1 paid 9800
            totals
              advanced 2 gross 20000, released 10000 (outstanding 10000), confirmed 0, saved 0s
              fees 400 of standard 400, withheld 0, clawed back 10000, receivable booked 10000 recovered 9800 (unrecovered 200), paid out 9800
        "#]],
    );
}

/// Orders are confirmed automatically 10 days after express shipping and 30 after surface
/// mail, by the event clock: o1 and o3 (m1, express) fall due at 04-12 08:00, o2 (d1, tier D,
/// surface) at 05-02 08:00. Unrelated orders (x1..x3 of m2, 100 each, only paid) move the
/// clock. At 04-12 07:59:59 nothing is due yet, and o3's buyer confirms at that time: applied
/// as usual, 863,999 s early. At 04-12 08:00 o1 falls due; the next command, o1's buyer's
/// confirmation, comes after the automatic one its commit does first, and is refused: o1 was
/// repaid once, 864,000 s (10 days) after the advance. o2 is not due then (d1 has nothing);
/// at 05-02 08:00 it is settled on its automatic confirmation (9,800 to d1, 0 s early). A
/// refund after confirmation is recovered from d1's available balance: 8,800.
#[test]
fn shipped_orders_are_confirmed_automatically() {
    scenario(
        || {
            let mut s = base();
            s.program.auto_confirm_express_days = 10;
            s.program.auto_confirm_surface_days = 30;
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant d1 D 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        paid e2 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z
        paid e3 o3 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o1 m1 express 2020-04-02T08:00:00Z
        & shipped e5 o2 d1 surface 2020-04-02T08:00:00Z
        & shipped e6 o3 m1 express 2020-04-02T08:00:00Z
        paid e7 x1 m2 100 apparel taobao 2020-04-12T07:59:59Z
        tick
        balances
        confirmed e8 o3 m1 2020-04-12T07:59:59Z
        paid e9 x2 m2 100 apparel taobao 2020-04-12T08:00:00Z
        confirmed e10 o1 m1 2020-04-13T08:00:00Z
        balances
        paid e11 x3 m2 100 apparel taobao 2020-05-02T08:00:00Z
        tick
        refunded e12 o2 d1 1000 2020-05-10T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant d1 D 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            paid e2 o2 d1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            paid e3 o3 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            & shipped e5 o2 d1 surface 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            & shipped e6 o3 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e7 x1 m2 100 apparel taobao 2020-04-12T07:59:59Z => ok escrowed
            tick
            balances
              merchants
                m1: available 19600 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 20000 (headroom 480000 of cap 500000)
                d1: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 30100, advance pool 980000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 30100
            confirmed e8 o3 m1 2020-04-12T07:59:59Z => ok advance_repaid
            paid e9 x2 m2 100 apparel taobao 2020-04-12T08:00:00Z => ok escrowed
            confirmed e10 o1 m1 2020-04-13T08:00:00Z => err order_already_confirmed
            balances
              merchants
                m1: available 19600 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                d1: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
                m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              platform
                escrow 10200, advance pool 1000000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 30200
            paid e11 x3 m2 100 apparel taobao 2020-05-02T08:00:00Z => ok escrowed
            tick
            refunded e12 o2 d1 1000 2020-05-10T08:00:00Z => ok recovered_from_merchant
            merchants
              m1: available 19600 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              d1: available 8800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 300, advance pool 1000000 (funded 1000000), fee revenue 600, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 29300
            orders
              o1 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 864000s
              o3 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 863999s
              o2 d1 confirmed: paid 10000 refunded 1000, not advanced (risk_tier_too_high) | settled gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 0s
              x1 m2 paid: paid 100 refunded 0
              x2 m2 paid: paid 100 refunded 0
              x3 m2 paid: paid 100 refunded 0
            payouts
            totals
              advanced 2 gross 20000, released 20000 (outstanding 0), confirmed 2, saved 1727999s
              fees 600 of standard 600, withheld 0, clawed back 1000, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// The same event sent again (even in the same commit) gets the same answer and moves no
/// money; the same id with anything different is refused and changes nothing; the same
/// change under another id is refused by the life cycle. An answer kept in the database
/// (d1's `not_advanced` with its reason) is given again after a restart.
#[test]
fn duplicate_events_answer_the_same_and_conflicting_ones_are_refused() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        merchant d1 D 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        paid e1 o1 m1 12000 apparel taobao 2020-04-01T08:00:00Z
        paid e9 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        & shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        shipped e2 o1 m1 surface 2020-04-02T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:01Z
        confirmed e2 o1 m1 2020-04-02T08:00:00Z
        refunded e5 o1 m1 1000 2020-04-03T08:00:00Z
        refunded e5 o1 m1 1000 2020-04-03T08:00:00Z
        refunded e5 o1 m1 999 2020-04-03T08:00:00Z
        paid e3 o2 d1 5000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 d1 express 2020-04-02T08:00:00Z
        reopen
        shipped e4 o2 d1 express 2020-04-02T08:00:00Z
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant d1 D 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            paid e1 o1 m1 12000 apparel taobao 2020-04-01T08:00:00Z => err event_id_conflict
            paid e9 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => err order_already_paid
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            & shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            shipped e2 o1 m1 surface 2020-04-02T08:00:00Z => err event_id_conflict
            shipped e2 o1 m1 express 2020-04-02T08:00:01Z => err event_id_conflict
            confirmed e2 o1 m1 2020-04-02T08:00:00Z => err event_id_conflict
            refunded e5 o1 m1 1000 2020-04-03T08:00:00Z => ok clawed_back
            refunded e5 o1 m1 1000 2020-04-03T08:00:00Z => ok clawed_back
            refunded e5 o1 m1 999 2020-04-03T08:00:00Z => err event_id_conflict
            paid e3 o2 d1 5000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            reopen
            shipped e4 o2 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            merchants
              m1: available 8800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 9000 (headroom 491000 of cap 500000)
              d1: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 14000, advance pool 991000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 14000
            orders
              o1 m1 shipped: paid 10000 refunded 1000 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o2 d1 shipped: paid 5000 refunded 0, not advanced (risk_tier_too_high)
            payouts
            totals
              advanced 1 gross 10000, released 1000 (outstanding 9000), confirmed 0, saved 0s
              fees 200 of standard 200, withheld 0, clawed back 1000, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Events that come before the order was paid are refused and change nothing; once the
/// payment arrives, the same events (same ids) are accepted. An event naming another
/// merchant than the order's, and an order of an unregistered merchant, are refused. (The
/// first order sets the platform up, so that the refusals that follow are seen to change
/// nothing at all.)
#[test]
fn events_out_of_order_are_refused_until_they_fit() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e0 o0 m2 1000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        confirmed e3 o1 m1 2020-04-03T08:00:00Z
        refunded e4 o1 m1 100 2020-04-03T08:00:00Z
        cancelled e5 o1 m1 2020-04-03T08:00:00Z
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        confirmed e3 o1 m1 2020-04-03T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        shipped e6 o1 m2 express 2020-04-02T08:00:00Z
        paid e7 o9 zz 100 apparel taobao 2020-04-01T08:00:00Z
        paid e8 o1 m2 10000 apparel taobao 2020-04-01T08:00:00Z
        confirmed e3 o1 m1 2020-04-03T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e0 o0 m2 1000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => err order_not_paid
            confirmed e3 o1 m1 2020-04-03T08:00:00Z => err order_not_paid
            refunded e4 o1 m1 100 2020-04-03T08:00:00Z => err order_not_paid
            cancelled e5 o1 m1 2020-04-03T08:00:00Z => err order_not_paid
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            confirmed e3 o1 m1 2020-04-03T08:00:00Z => err order_not_shipped
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            shipped e6 o1 m2 express 2020-04-02T08:00:00Z => err merchant_mismatch
            paid e7 o9 zz 100 apparel taobao 2020-04-01T08:00:00Z => err merchant_not_found
            paid e8 o1 m2 10000 apparel taobao 2020-04-01T08:00:00Z => err merchant_mismatch
            confirmed e3 o1 m1 2020-04-03T08:00:00Z => ok advance_repaid
            merchants
              m1: available 9800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
              m2: available 0 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 1000, advance pool 1000000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 11000
            orders
              o1 m1 confirmed: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0 early 86400s
              o0 m2 paid: paid 1000 refunded 0
            payouts
            totals
              advanced 1 gross 10000, released 10000 (outstanding 0), confirmed 1, saved 86400s
              fees 200 of standard 200, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Payouts hold the amount as a pending transfer until the bank answers: `ok` posts it,
/// `failed` voids it and the money is available again. A request sent again gets the
/// payout's current state; under the same id with another amount it is refused; a second
/// answer that agrees is repeated, one that contradicts is refused.
#[test]
fn payouts_are_pending_until_the_bank_answers() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        payout p1 m1 5000
        payout p1 m1 5000
        payout p1 m1 6000
        payout p1 m1
        payout p2 m1
        balances
        payout p3 m1
        payout p4 m1 1
        payout_result p1 ok
        payout_result p1 ok
        payout_result p1 failed
        payout_result p2 failed
        payout_result p2 ok
        payout p1 m1 5000
        payout_result p9 ok
        payout p5 m2
        payout p6 m1 4801
        payout p6 m1 4800
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            payout p1 m1 5000 => ok payout_pending 5000
            payout p1 m1 5000 => ok payout_pending 5000
            payout p1 m1 6000 => err payout_id_conflict
            payout p1 m1 => err payout_id_conflict
            payout p2 m1 => ok payout_pending 4800
            balances
              merchants
                m1: available 0 (pending payout 9800), reserve 0, receivable 0, paid out 0, exposure 10000 (headroom 490000 of cap 500000)
                m2: no settlement accounts
              platform
                escrow 10000, advance pool 990000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 0 (pending 9800), from buyers 10000
            payout p3 m1 => err nothing_to_pay_out
            payout p4 m1 1 => err exceeds_available
            payout_result p1 ok => ok payout_paid 5000
            payout_result p1 ok => ok payout_paid 5000
            payout_result p1 failed => err payout_already_settled
            payout_result p2 failed => ok payout_failed 4800
            payout_result p2 ok => err payout_already_settled
            payout p1 m1 5000 => ok payout_paid 5000
            payout_result p9 ok => err payout_not_found
            payout p5 m2 => err nothing_to_pay_out
            payout p6 m1 4801 => err exceeds_available
            payout p6 m1 4800 => ok payout_pending 4800
            merchants
              m1: available 0 (pending payout 4800), reserve 0, receivable 0, paid out 5000, exposure 10000 (headroom 490000 of cap 500000)
              m2: no settlement accounts
            platform
              escrow 10000, advance pool 990000 (funded 1000000), fee revenue 200, loan withholding 0, clearing 0, payouts 5000 (pending 4800), from buyers 10000
            orders
              o1 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
            payouts
              p1 m1 paid 5000
              p2 m1 failed 4800
              p6 m1 pending 4800
            totals
              advanced 1 gross 10000, released 0 (outstanding 10000), confirmed 0, saved 0s
              fees 200 of standard 200, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 5000
        "#]],
    );
}

/// Fee relief for masks: nothing is charged.
struct MasksFree;

impl Relief for MasksFree {
    fn fee(&self, category: &str, _channel: &str, standard: Fen) -> Fen {
        if category == "masks" {
            Fen::ZERO
        } else {
            standard
        }
    }
}

/// Fees and relief on the statement (withholding for loans is tested with real loans in
/// `loans.rs`). m1: apparel 10,000 → fee 200, net 9,800; masks 10,000 → fee 0 (relief 200),
/// net 10,000. m2: tea at 0.6 % with a 100 minimum: 10,000 → 60, raised to 100, net 9,900;
/// 50 → 0.3 rounds to 0, raised to 100, capped at the order's 50, net 0. Apparel 12,345 →
/// 246.9 and 12,325 → 246.5 both round half up to 247: nets 12,098 and 12,078. o7 (d1, not
/// advanced) is settled on confirmation with the same split.
#[test]
fn fees_and_relief_are_split_off() {
    scenario(
        || {
            let mut s = base();
            s.fees = FeeSchedule::new(
                FeeRule {
                    category: None,
                    channel: None,
                    rate_bps: 200,
                    min_fen: Fen::ZERO,
                },
                vec![FeeRule {
                    category: Some("tea".to_owned()),
                    channel: None,
                    rate_bps: 60,
                    min_fen: fen(100),
                }],
            );
            s.relief = Box::new(MasksFree);
            s
        },
        "
        merchant m1 C 2019-01-01
        merchant m2 C 2019-01-01
        merchant d1 D 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        paid e3 o2 m1 10000 masks taobao 2020-04-01T08:00:00Z
        shipped e4 o2 m1 express 2020-04-02T08:00:00Z
        paid e5 o3 m2 10000 tea taobao 2020-04-01T08:00:00Z
        shipped e6 o3 m2 express 2020-04-02T08:00:00Z
        paid e7 o4 m2 50 tea taobao 2020-04-01T08:00:00Z
        shipped e8 o4 m2 express 2020-04-02T08:00:00Z
        paid e9 o5 m2 12345 apparel taobao 2020-04-01T08:00:00Z
        shipped e10 o5 m2 express 2020-04-02T08:00:00Z
        paid e11 o6 m2 12325 apparel taobao 2020-04-01T08:00:00Z
        shipped e12 o6 m2 express 2020-04-02T08:00:00Z
        paid e13 o7 d1 10000 tea taobao 2020-04-01T08:00:00Z
        shipped e14 o7 d1 express 2020-04-02T08:00:00Z
        confirmed e15 o7 d1 2020-04-03T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            merchant m2 C 2019-01-01
            merchant d1 D 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e3 o2 m1 10000 masks taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 m1 express 2020-04-02T08:00:00Z => ok advanced
            paid e5 o3 m2 10000 tea taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e6 o3 m2 express 2020-04-02T08:00:00Z => ok advanced
            paid e7 o4 m2 50 tea taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e8 o4 m2 express 2020-04-02T08:00:00Z => ok advanced
            paid e9 o5 m2 12345 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e10 o5 m2 express 2020-04-02T08:00:00Z => ok advanced
            paid e11 o6 m2 12325 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e12 o6 m2 express 2020-04-02T08:00:00Z => ok advanced
            paid e13 o7 d1 10000 tea taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e14 o7 d1 express 2020-04-02T08:00:00Z => ok not_advanced (risk_tier_too_high)
            confirmed e15 o7 d1 2020-04-03T08:00:00Z => ok settled
            merchants
              m1: available 19800 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 20000 (headroom 480000 of cap 500000)
              m2: available 34076 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 34720 (headroom 465280 of cap 500000)
              d1: available 9900 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 0 (headroom 500000 of cap 500000)
            platform
              escrow 54720, advance pool 945280 (funded 1000000), fee revenue 944, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 64720
            orders
              o1 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o2 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 0 relief 200 withholding 0 reserve 0 net 10000 recovered 0
              o3 m2 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 100 relief 0 withholding 0 reserve 0 net 9900 recovered 0
              o4 m2 shipped: paid 50 refunded 0 | advanced gross 50 fee 50 relief 0 withholding 0 reserve 0 net 0 recovered 0
              o5 m2 shipped: paid 12345 refunded 0 | advanced gross 12345 fee 247 relief 0 withholding 0 reserve 0 net 12098 recovered 0
              o6 m2 shipped: paid 12325 refunded 0 | advanced gross 12325 fee 247 relief 0 withholding 0 reserve 0 net 12078 recovered 0
              o7 d1 confirmed: paid 10000 refunded 0, not advanced (risk_tier_too_high) | settled gross 10000 fee 100 relief 0 withholding 0 reserve 0 net 9900 recovered 0 early 0s
            payouts
            totals
              advanced 6 gross 54720, released 0 (outstanding 54720), confirmed 0, saved 0s
              fees 944 of standard 1144, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// A commit with no commands (the writer's idle wake-ups and due work are such commits) on a
/// book that already exists changes nothing, before and after a restart.
#[test]
fn an_empty_commit_changes_nothing() {
    scenario(
        base,
        "
        merchant m1 C 2019-01-01
        paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e2 o1 m1 express 2020-04-02T08:00:00Z
        tick
        reopen
        tick
        paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z
        shipped e4 o2 m1 express 2020-04-02T08:00:00Z
        ",
        expect![[r#"
            merchant m1 C 2019-01-01
            paid e1 o1 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e2 o1 m1 express 2020-04-02T08:00:00Z => ok advanced
            tick
            reopen
            tick
            paid e3 o2 m1 10000 apparel taobao 2020-04-01T08:00:00Z => ok escrowed
            shipped e4 o2 m1 express 2020-04-02T08:00:00Z => ok advanced
            merchants
              m1: available 19600 (pending payout 0), reserve 0, receivable 0, paid out 0, exposure 20000 (headroom 480000 of cap 500000)
            platform
              escrow 20000, advance pool 980000 (funded 1000000), fee revenue 400, loan withholding 0, clearing 0, payouts 0 (pending 0), from buyers 20000
            orders
              o1 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
              o2 m1 shipped: paid 10000 refunded 0 | advanced gross 10000 fee 200 relief 0 withholding 0 reserve 0 net 9800 recovered 0
            payouts
            totals
              advanced 2 gross 20000, released 0 (outstanding 20000), confirmed 0, saved 0s
              fees 400 of standard 400, withheld 0, clawed back 0, receivable booked 0 recovered 0 (unrecovered 0), paid out 0
        "#]],
    );
}

/// Threads sending commands at once end up in shared commits (group commit; on SQLite the
/// pipeline applies the next group while the last one commits). Each of 4 threads pays,
/// ships and confirms 25 orders of 1,000 for merchants it shares with the others, sending
/// every event twice; each order is advanced and repaid exactly once.
#[test]
fn concurrent_commands_settle_each_order_once() {
    const THREADS: usize = 4;
    const ORDERS: usize = 25;
    for db in TestDb::all() {
        let store = open(&db, &base);
        let merchants: Vec<Merchant> = (0..THREADS)
            .map(|m| merchant(&format!("m{m}"), "C", "2019-01-01"))
            .collect();
        store.upsert_merchants(&merchants).expect("register");
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let store = store.clone();
                scope.spawn(move || {
                    for n in 0..ORDERS {
                        let order = format!("t{thread}-o{n}");
                        let merchant = format!("m{}", (thread + n) % THREADS);
                        let lines = [
                            format!("paid {order}-p {order} {merchant} 1000 apparel taobao 2020-04-01T08:00:00Z"),
                            format!("shipped {order}-s {order} {merchant} express 2020-04-02T08:00:00Z"),
                            format!("confirmed {order}-c {order} {merchant} 2020-04-03T08:00:00Z"),
                        ];
                        for line in &lines {
                            let Line::Command(command) = parse(line) else {
                                unreachable!("an order event")
                            };
                            for _ in 0..2 {
                                let results = store
                                    .settle_blocking(vec![command.clone()])
                                    .expect("settle");
                                assert!(results[0].is_ok(), "{line}: {:?}", results[0]);
                            }
                        }
                    }
                });
            }
        });
        let orders = THREADS * ORDERS;
        let gross = u64::try_from(orders).expect("fits") * 1_000;
        let totals = store.settlement_meta().expect("meta").totals;
        assert_eq!(totals.advanced_count, orders as u64);
        assert_eq!(totals.advanced_confirmed, orders as u64);
        assert_eq!(totals.advanced_gross.get(), gross);
        assert_eq!(totals.exposure_released.get(), gross);
        assert_eq!(totals.fee_charged.get(), gross / 50);
        let mut available = 0;
        for m in &merchants {
            let book = store
                .settlement_merchant(m.id.as_str())
                .expect("read")
                .expect("merchant has accounts");
            let a = merchant_accounts(book.seq);
            let accounts = store
                .lookup_accounts(&[a.available, a.exposure_used])
                .expect("lookup");
            available += credit(&accounts[0]);
            assert_eq!(credit(&accounts[1]), 0, "exposure of {}", m.id);
        }
        assert_eq!(available, i128::from(gross - gross / 50));
        let p = base().platform();
        let accounts = store
            .lookup_accounts(&[p.escrow, p.advance_pool])
            .expect("lookup");
        assert_eq!(credit(&accounts[0]), 0, "escrow");
        assert_eq!(credit(&accounts[1]), 1_000_000, "pool");
        assert!(store.verify().expect("verify").is_empty());
    }
}
