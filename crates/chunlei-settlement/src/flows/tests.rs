//! Flows applied to the real ledger engine in memory: scripts in, balances out.

use chunlei_ledger::{Fen, State, Transfer, verify};
use expect_test::{Expect, expect};

use super::{Ids, MerchantAccounts, PlatformAccounts, Split};
use crate::flows;
use crate::{FeeQuote, FeeRule, FeeSchedule, NoRelief};

const P: PlatformAccounts = PlatformAccounts {
    ledger: 156,
    buyer_clearing: 1,
    escrow: 2,
    advance_pool: 3,
    pool_funding: 4,
    fee_revenue: 5,
    loan_withholding: 6,
    clearing: 7,
    payouts: 8,
};
const M: MerchantAccounts = MerchantAccounts {
    available: 10,
    reserve: 11,
    exposure_headroom: 12,
    exposure_used: 13,
    exposure_cap: 14,
    receivable: 15,
};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

/// A ledger with the platform's and one merchant's accounts.
fn ledger() -> State {
    let mut state = State::new(0);
    let mut accounts = P.accounts();
    accounts.extend(P.merchant_accounts("m-1", &M));
    let results = state.create_accounts(1, &accounts);
    assert!(results.iter().all(|r| r.is_success()), "{results:?}");
    state
}

/// 5 % fee, 10 % reserve, no withholding.
fn split(gross: u64) -> Split {
    let schedule = FeeSchedule::new(
        FeeRule {
            category: None,
            channel: None,
            rate_bps: 500,
            min_fen: Fen::ZERO,
        },
        Vec::new(),
    );
    let fee: FeeQuote = schedule.quote("apparel", "taobao", fen(gross), &NoRelief);
    Split::new(fen(gross), fee, Fen::ZERO, 1_000).expect("split")
}

struct Script {
    state: State,
    out: String,
}

impl Script {
    fn new() -> Script {
        Script {
            state: ledger(),
            out: String::new(),
        }
    }

    fn run(mut self, name: &str, transfers: Vec<Transfer>) -> Script {
        let results = self.state.create_transfers(2, &transfers);
        let codes: Vec<&str> = results.iter().map(|r| r.as_str()).collect();
        self.out += &format!("{name}: {}\n", codes.join(" "));
        self
    }

    fn check(self, expect: Expect) {
        let names = [
            (P.escrow, "escrow"),
            (P.advance_pool, "pool"),
            (P.fee_revenue, "fee revenue"),
            (M.available, "m-1 available"),
            (M.reserve, "m-1 reserve"),
            (M.exposure_headroom, "m-1 headroom"),
            (M.exposure_used, "m-1 exposure"),
            (M.receivable, "m-1 receivable"),
            (P.clearing, "clearing"),
        ];
        let mut out = self.out;
        for (id, name) in names {
            let a = &self.state.accounts[&id];
            let balance = i128::from(a.credits_posted.get()) - i128::from(a.debits_posted.get());
            out += &format!("{name}: {balance}\n");
        }
        let transfers: Vec<&Transfer> = self.state.transfers.values().collect();
        let violations = verify(
            self.state.accounts.values(),
            transfers.into_iter().map(|t| (t, None)),
        );
        assert_eq!(violations, vec![]);
        expect.assert_eq(&out);
    }
}

fn funded() -> Script {
    Script::new()
        .run(
            "fund pool",
            flows::fund_pool(&mut Ids::new(100), &P, fen(1_000_000)),
        )
        .run(
            "cap",
            flows::raise_cap(&mut Ids::new(200), &P, &M, fen(50_000)),
        )
}

#[test]
fn advance_on_shipping_then_repaid_on_confirmation() {
    let s = split(10_000);
    funded()
        .run("paid", flows::paid(&mut Ids::new(1_000), &P, s.gross))
        .run("shipped", flows::advance(&mut Ids::new(1_100), &P, &M, &s))
        .run(
            "shipped again",
            flows::advance(&mut Ids::new(1_100), &P, &M, &s),
        )
        .run(
            "confirmed",
            flows::repay_advance(&mut Ids::new(1_200), &P, &M, s.gross),
        )
        .check(expect![[r#"
            fund pool: ok
            cap: ok
            paid: ok
            shipped: ok ok ok ok ok ok
            shipped again: exists exists exists exists exists exists
            confirmed: ok ok
            escrow: 0
            pool: 1000000
            fee revenue: 500
            m-1 available: 8550
            m-1 reserve: 950
            m-1 headroom: 50000
            m-1 exposure: 0
            m-1 receivable: 0
            clearing: 0
        "#]]);
}

#[test]
fn an_order_not_advanced_settles_from_escrow_on_confirmation() {
    let s = split(10_000);
    funded()
        .run("paid", flows::paid(&mut Ids::new(1_000), &P, s.gross))
        .run("confirmed", flows::settle(&mut Ids::new(1_200), &P, &M, &s))
        .check(expect![[r#"
            fund pool: ok
            cap: ok
            paid: ok
            confirmed: ok ok ok ok ok
            escrow: 0
            pool: 1000000
            fee revenue: 500
            m-1 available: 8550
            m-1 reserve: 950
            m-1 headroom: 50000
            m-1 exposure: 0
            m-1 receivable: 0
            clearing: 0
        "#]]);
}

#[test]
fn the_merchant_cap_and_the_pool_cap_stop_an_advance_whole() {
    let big = split(60_000);
    Script::new()
        .run("fund pool", flows::fund_pool(&mut Ids::new(100), &P, fen(20_000)))
        .run("cap", flows::raise_cap(&mut Ids::new(200), &P, &M, fen(50_000)))
        .run("paid", flows::paid(&mut Ids::new(1_000), &P, big.gross))
        .run("over the merchant cap", flows::advance(&mut Ids::new(1_100), &P, &M, &big))
        .run("cap raised", flows::raise_cap(&mut Ids::new(300), &P, &M, fen(50_000)))
        // A new attempt (a retried event would answer `id_already_failed` and move nothing).
        .run("over the pool", flows::advance(&mut Ids::new(1_500), &P, &M, &big))
        .run("refunded before shipping", flows::refund_from_escrow(&mut Ids::new(1_300), &P, big.gross))
        .check(expect![[r#"
            fund pool: ok
            cap: ok
            paid: ok
            over the merchant cap: exceeds_credits linked_event_failed linked_event_failed linked_event_failed linked_event_failed linked_event_failed
            cap raised: ok
            over the pool: linked_event_failed linked_event_failed linked_event_failed exceeds_credits linked_event_failed linked_event_failed
            refunded before shipping: ok
            escrow: 0
            pool: 20000
            fee revenue: 0
            m-1 available: 0
            m-1 reserve: 0
            m-1 headroom: 100000
            m-1 exposure: 0
            m-1 receivable: 0
            clearing: 0
        "#]]);
}

#[test]
fn a_refund_after_the_advance_is_clawed_back_from_available_then_reserve_then_a_receivable() {
    let s = split(10_000);
    let second = split(20_000);
    funded()
        .run("paid", flows::paid(&mut Ids::new(1_000), &P, s.gross))
        .run("shipped", flows::advance(&mut Ids::new(1_100), &P, &M, &s))
        // Available 8,550 and reserve 950 cover 9,500 of a 10,000 refund; 500 is owed.
        .run(
            "refunded in full",
            flows::claw_back(&mut Ids::new(1_200), &P, &M, s.gross, s.reserve),
        )
        .run(
            "refunded again",
            flows::claw_back(&mut Ids::new(1_200), &P, &M, s.gross, s.reserve),
        )
        // The next order's advance pays the 500 owed first, then the merchant.
        .run(
            "second paid",
            flows::paid(&mut Ids::new(2_000), &P, second.gross),
        )
        .run(
            "second shipped",
            flows::advance(&mut Ids::new(2_100), &P, &M, &second),
        )
        .run(
            "second confirmed",
            flows::repay_advance(&mut Ids::new(2_200), &P, &M, second.gross),
        )
        .check(expect![[r#"
            fund pool: ok
            cap: ok
            paid: ok
            shipped: ok ok ok ok ok ok
            refunded in full: ok ok ok ok ok ok
            refunded again: exists exists exists exists exists exists
            second paid: ok
            second shipped: ok ok ok ok ok ok
            second confirmed: ok ok
            escrow: 0
            pool: 1000000
            fee revenue: 1500
            m-1 available: 16600
            m-1 reserve: 1900
            m-1 headroom: 50000
            m-1 exposure: 0
            m-1 receivable: 0
            clearing: 0
        "#]]);
}

#[test]
fn a_partial_refund_after_the_advance_leaves_the_rest_to_confirmation() {
    let s = split(10_000);
    funded()
        .run("paid", flows::paid(&mut Ids::new(1_000), &P, s.gross))
        .run("shipped", flows::advance(&mut Ids::new(1_100), &P, &M, &s))
        .run(
            "refunded 4,000",
            flows::claw_back(&mut Ids::new(1_200), &P, &M, fen(4_000), s.reserve),
        )
        .run(
            "confirmed",
            flows::repay_advance(&mut Ids::new(1_300), &P, &M, fen(6_000)),
        )
        .check(expect![[r#"
            fund pool: ok
            cap: ok
            paid: ok
            shipped: ok ok ok ok ok ok
            refunded 4,000: ok ok ok ok ok ok
            confirmed: ok ok
            escrow: 0
            pool: 1000000
            fee revenue: 500
            m-1 available: 4550
            m-1 reserve: 950
            m-1 headroom: 50000
            m-1 exposure: 0
            m-1 receivable: 0
            clearing: 0
        "#]]);
}

#[test]
fn splits_keep_every_fen() {
    let s = split(9_999);
    assert_eq!(
        (s.fee.charged_fen.get(), s.reserve.get(), s.net.get()),
        (500, 949, 8_550)
    );
    assert_eq!(
        s.fee.charged_fen.get() + s.withholding.get() + s.reserve.get() + s.net.get(),
        9_999
    );
    let fee = FeeQuote {
        standard_fen: fen(10),
        charged_fen: fen(10),
    };
    assert!(Split::new(fen(5), fee, Fen::ZERO, 0).is_err());
}
