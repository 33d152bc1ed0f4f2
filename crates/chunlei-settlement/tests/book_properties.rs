//! Property tests of the settlement book: random sequences of order events (paid, shipped,
//! confirmed, refunded in part or in full, cancelled; sent again, under a used id with other
//! content, with the wrong merchant), payouts, the bank's answers and due runs at random
//! times, over a few merchants and orders, applied with [`Book::apply`] and
//! [`Book::run_due`] to one in-memory ledger.
//!
//! The book and the ledger are kept across steps and never cleared, as if everything were
//! loaded. After every step the ledger must balance and keep every limit, each order is
//! advanced at most once, and what the statements say each merchant received must be what
//! the ledger's merchant accounts hold (see [`check_merchant`]); the platform's accounts must
//! agree with the programme's totals. A refused command must change nothing, and a command
//! sent again must get the first answer and move no money.

use std::collections::HashMap;

use chunlei_ledger::{Account, Fen, State, Transfer, verify};
use chunlei_settlement::book::{
    Book, Command, CommandResult, EventIn, MerchantBook, OrderRecord, PayoutIn, PayoutRecord,
    PayoutResultIn, PayoutStatus, Rejection, Settings, Totals, Withholding, merchant_accounts,
};
use chunlei_settlement::flows::reason;
use chunlei_settlement::{
    FeeRule, FeeSchedule, Merchant, MerchantFields, OrderEvent, OrderStatus, Relief, Shipping,
    start_of,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

type Check = Result<(), TestCaseError>;

const NANOS_PER_HOUR: u64 = 3_600 * 1_000_000_000;
/// Merchants: `m0` (tier A, with a loan), `m1` (tier D: never advanced), `m2` (joined
/// 2020-01-15: too new until 2020-02-14).
const MERCHANTS: [(&str, &str, &str); 3] = [
    ("m0", "A", "2019-01-01"),
    ("m1", "D", "2019-01-01"),
    ("m2", "B", "2020-01-15"),
];
/// Orders `o0` … ; order `i` belongs to merchant `i % 3`.
const ORDERS: usize = 9;
const AMOUNT_MAX: u64 = 12_000;
const STEPS_MAX: usize = 48;

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises it for a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        // A failure is kept as a scenario test, not as a file in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

fn date(text: &str) -> u64 {
    start_of(chunlei_settlement::CivilDate::parse(text).expect("a date"))
}

/// Masks are sold without commission.
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

/// `m0` repays a loan with 10 % of every settlement after the fee.
struct LoanOfM0;

impl Withholding for LoanOfM0 {
    fn quote(&self, merchant_id: &str, _at: u64, net: Fen) -> Fen {
        if merchant_id == "m0" {
            fen(net.get() / 10)
        } else {
            Fen::ZERO
        }
    }

    fn withheld(&mut self, merchant_id: &str, _: &str, _: u64, net: Fen, withheld: Fen) {
        assert_eq!(withheld, self.quote(merchant_id, 0, net));
    }
}

/// Small caps, so that they are reached; a reserve held for 3 days; automatic confirmation
/// after 5 days (express) or 10 (surface mail); a window of February 2020 (the steps start
/// on 28 January and end within weeks).
fn settings() -> Settings {
    let mut s = Settings::standard();
    s.program.starts_at = date("2020-02-01");
    s.program.ends_at = date("2020-03-01");
    s.program.eligibility.refund_rate_bps_max = 3_000;
    s.program.merchant_cap = fen(15_000);
    s.program.pool_cap = fen(20_000);
    s.program.reserve_bps = 1_000;
    s.program.reserve_days = 3;
    s.program.auto_confirm_express_days = 5;
    s.program.auto_confirm_surface_days = 10;
    s.fees = FeeSchedule::new(
        FeeRule {
            category: None,
            channel: None,
            rate_bps: 200,
            min_fen: fen(50),
        },
        Vec::new(),
    );
    s.relief = Box::new(MasksFree);
    s
}

fn registry(id: &str, risk_tier: &str, joined_on: &str) -> Merchant {
    Merchant::parse(&MerchantFields {
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
    })
    .expect("valid merchant")
}

/// One random step. Orders and merchants are indices; earlier commands are picked by
/// [`Index`] from the history.
#[derive(Clone, Debug)]
enum Op {
    /// The order's next event in the usual life cycle (paid, shipped, confirmed, then a
    /// refund), so that most orders go the whole way.
    Next {
        order: usize,
        amount: u64,
        masks: bool,
        surface: bool,
    },
    Paid {
        order: usize,
        amount: u64,
        masks: bool,
    },
    Shipped {
        order: usize,
        surface: bool,
    },
    Confirmed {
        order: usize,
    },
    /// `None`: everything still outstanding.
    Refunded {
        order: usize,
        amount: Option<u64>,
    },
    Cancelled {
        order: usize,
    },
    /// Shipped, naming a merchant other than the order's (or an unregistered one).
    WrongMerchant {
        order: usize,
        merchant: usize,
    },
    /// A command of the history sent again unchanged.
    Resend(Index),
    /// An order event of the history sent again under its id with another time.
    Conflict(Index),
    Payout {
        merchant: usize,
        amount: Option<u64>,
    },
    PayoutResult {
        payout: Index,
        succeeded: bool,
    },
    /// The due work of `hours` after the current event time.
    Due {
        hours: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let order = 0..ORDERS;
    prop_oneof![
        10 => (order.clone(), 1..=AMOUNT_MAX, any::<bool>(), any::<bool>()).prop_map(
            |(order, amount, masks, surface)| Op::Next { order, amount, masks, surface }
        ),
        1 => (order.clone(), 1..=AMOUNT_MAX, any::<bool>())
            .prop_map(|(order, amount, masks)| Op::Paid { order, amount, masks }),
        1 => (order.clone(), any::<bool>()).prop_map(|(order, surface)| Op::Shipped { order, surface }),
        1 => order.clone().prop_map(|order| Op::Confirmed { order }),
        2 => (order.clone(), proptest::option::of(1..=AMOUNT_MAX / 2))
            .prop_map(|(order, amount)| Op::Refunded { order, amount }),
        1 => order.clone().prop_map(|order| Op::Cancelled { order }),
        1 => (order.clone(), 0..=MERCHANTS.len())
            .prop_map(|(order, merchant)| Op::WrongMerchant { order, merchant }),
        2 => any::<Index>().prop_map(Op::Resend),
        1 => any::<Index>().prop_map(Op::Conflict),
        3 => (0..MERCHANTS.len(), proptest::option::weighted(0.3, 1..=AMOUNT_MAX))
            .prop_map(|(merchant, amount)| Op::Payout { merchant, amount }),
        3 => (any::<Index>(), any::<bool>())
            .prop_map(|(payout, succeeded)| Op::PayoutResult { payout, succeeded }),
        2 => (0..=12 * 24_u64).prop_map(|hours| Op::Due { hours }),
    ]
}

/// The book, the ledger, the clocks and what was sent.
struct Model {
    settings: Settings,
    book: Book,
    ledger: State,
    /// Ledger time (ns), strictly increasing.
    now: u64,
    /// Event time (ns), moved forward by every step.
    at: u64,
    next_event: usize,
    next_payout: usize,
    /// Every command sent, with its first answer.
    history: Vec<(Command, CommandResult)>,
    /// Ids of the payouts made.
    payouts: Vec<String>,
    /// Advances made per order, counted from the transfers each command created.
    advances: HashMap<String, usize>,
}

impl Model {
    fn new() -> Model {
        let settings = settings();
        let mut book = Book::default();
        for (id, tier, joined) in MERCHANTS {
            book.registry
                .insert(id.to_owned(), registry(id, tier, joined));
        }
        let mut ledger = State::new(0);
        let now = 1_700_000_000_000_000_000;
        // Due work over no orders sets the platform up, so that the first command's refusal
        // can be seen to change nothing.
        book.run_due(&settings, &mut ledger, now, 0, &[]);
        ledger.take_changes();
        Model {
            settings,
            book,
            ledger,
            now,
            at: date("2020-01-28"),
            next_event: 0,
            next_payout: 0,
            history: Vec::new(),
            payouts: Vec::new(),
            advances: HashMap::new(),
        }
    }

    fn event(&mut self, order: usize, merchant: &str, event: OrderEvent) -> Command {
        self.next_event += 1;
        Command::Order(EventIn {
            event_id: format!("e{}", self.next_event),
            order_id: format!("o{order}"),
            merchant_id: merchant.to_owned(),
            occurred_at: self.at,
            event,
        })
    }

    /// The command `op` stands for, or `None` when it needs history there is none of.
    fn command(&mut self, op: &Op) -> Option<Command> {
        let owner = |order: usize| MERCHANTS[order % MERCHANTS.len()].0;
        Some(match op {
            Op::Next {
                order,
                amount,
                masks,
                surface,
            } => {
                let status = self
                    .book
                    .orders
                    .get(&format!("o{order}"))
                    .map(|r| r.order.status);
                let next = match status {
                    None => Op::Paid {
                        order: *order,
                        amount: *amount,
                        masks: *masks,
                    },
                    Some(OrderStatus::Paid) => Op::Shipped {
                        order: *order,
                        surface: *surface,
                    },
                    Some(OrderStatus::Shipped) => Op::Confirmed { order: *order },
                    Some(_) => Op::Refunded {
                        order: *order,
                        amount: Some(amount / 4 + 1),
                    },
                };
                return self.command(&next);
            }
            Op::Paid {
                order,
                amount,
                masks,
            } => {
                let event = OrderEvent::Paid {
                    merchant_id: owner(*order).to_owned(),
                    amount: fen(*amount),
                    category: if *masks { "masks" } else { "apparel" }.to_owned(),
                    channel: "taobao".to_owned(),
                };
                self.event(*order, owner(*order), event)
            }
            Op::Shipped { order, surface } => {
                let shipping = if *surface {
                    Shipping::Surface
                } else {
                    Shipping::Express
                };
                self.event(*order, owner(*order), OrderEvent::Shipped { shipping })
            }
            Op::Confirmed { order } => self.event(*order, owner(*order), OrderEvent::Confirmed),
            Op::Refunded { order, amount } => {
                let outstanding = self
                    .book
                    .orders
                    .get(&format!("o{order}"))
                    .map_or(1, |r| r.order.outstanding().get().max(1));
                let amount = fen(amount.unwrap_or(outstanding));
                self.event(*order, owner(*order), OrderEvent::Refunded { amount })
            }
            Op::Cancelled { order } => self.event(*order, owner(*order), OrderEvent::Cancelled),
            Op::WrongMerchant { order, merchant } => {
                let other = MERCHANTS.get(*merchant).map_or("mx", |m| m.0);
                let other = if other == owner(*order) { "mx" } else { other };
                let shipping = Shipping::Express;
                self.event(*order, other, OrderEvent::Shipped { shipping })
            }
            Op::Resend(index) => {
                if self.history.is_empty() {
                    return None;
                }
                self.history[index.index(self.history.len())].0.clone()
            }
            Op::Conflict(index) => {
                let events: Vec<&EventIn> = self
                    .history
                    .iter()
                    .filter_map(|(c, _)| match c {
                        Command::Order(e) => Some(e),
                        Command::Payout(_) | Command::PayoutResult(_) => None,
                    })
                    .collect();
                if events.is_empty() {
                    return None;
                }
                let mut event = events[index.index(events.len())].clone();
                event.occurred_at += 1;
                Command::Order(event)
            }
            Op::Payout { merchant, amount } => {
                self.next_payout += 1;
                let payout_id = format!("p{}", self.next_payout);
                Command::Payout(PayoutIn {
                    payout_id,
                    merchant_id: MERCHANTS[*merchant].0.to_owned(),
                    amount: amount.map(fen),
                })
            }
            Op::PayoutResult { payout, succeeded } => {
                // One pick in a few names a payout never made.
                if self.payouts.is_empty() {
                    return None;
                }
                let pick = payout.index(self.payouts.len() + 1);
                Command::PayoutResult(PayoutResultIn {
                    payout_id: self
                        .payouts
                        .get(pick)
                        .cloned()
                        .unwrap_or_else(|| "p-unknown".to_owned()),
                    succeeded: *succeeded,
                })
            }
            Op::Due { .. } => return None,
        })
    }

    /// Applies one command and checks what it may change.
    fn apply(&mut self, command: Command) -> Check {
        // An order event first does its own order's scheduled work that fell due by the time
        // it happened (time passing, not the command): do it here, so what the command itself
        // changes is measured alone.
        if let Command::Order(e) = &command
            && self.seen(&command).is_none()
        {
            self.now += 1_000_000;
            self.book.run_due_with(
                &self.settings,
                &mut self.ledger,
                self.now,
                e.occurred_at,
                std::slice::from_ref(&e.order_id),
                &mut LoanOfM0,
            );
            self.ledger.take_changes();
        }
        let before = Snapshot::of(self);
        let seen = self.seen(&command);
        self.now += 1_000_000;
        let result = self
            .book
            .apply_with(
                &self.settings,
                &mut self.ledger,
                self.now,
                std::slice::from_ref(&command),
                &mut LoanOfM0,
            )
            .pop()
            .expect("one result");
        self.ledger.take_changes();
        let created = before.created(&self.ledger);
        let exposures = created
            .iter()
            .filter(|t| t.code == reason::EXPOSURE && is_headroom(t.debit_account_id))
            .count();
        if let Some(first) = &seen {
            prop_assert!(
                created.is_empty(),
                "a command sent again moved money: {:?}",
                command
            );
            match &command {
                // A payout sent again answers with its state now.
                Command::Payout(_) => prop_assert!(result.is_ok()),
                Command::Order(_) | Command::PayoutResult(_) => prop_assert_eq!(
                    &result,
                    first,
                    "a command sent again answers as before: {:?}",
                    command
                ),
            }
        }
        if let Command::Order(e) = &command
            && let Some(fingerprint) = self.recorded(&e.event_id)
            && fingerprint != e.fingerprint()
        {
            prop_assert_eq!(&result, &Err(Rejection::EventIdConflict));
        }
        if result.is_err() {
            prop_assert_eq!(
                &before,
                &Snapshot::of(self),
                "a refused command changed something: {:?} {:?}",
                command,
                result
            );
        }
        if exposures > 0 {
            let order = match &command {
                Command::Order(e) if matches!(e.event, OrderEvent::Shipped { .. }) => &e.order_id,
                Command::Order(_) | Command::Payout(_) | Command::PayoutResult(_) => {
                    return Err(TestCaseError::fail(format!(
                        "only shipping advances: {command:?}"
                    )));
                }
            };
            *self.advances.entry(order.clone()).or_default() += exposures;
        }
        if let Command::Payout(p) = &command
            && result.is_ok()
            && !self.payouts.contains(&p.payout_id)
        {
            self.payouts.push(p.payout_id.clone());
        }
        if seen.is_none() {
            self.history.push((command, result));
        }
        Ok(())
    }

    /// The first answer to the same command, when it was applied before (a refused
    /// command is not remembered and may be accepted later).
    fn seen(&self, command: &Command) -> Option<CommandResult> {
        self.history
            .iter()
            .find(|(c, r)| c == command && r.is_ok())
            .map(|(_, r)| r.clone())
    }

    /// The fingerprint of the event applied under `event_id`, if any was.
    fn recorded(&self, event_id: &str) -> Option<u64> {
        self.history.iter().find_map(|(c, r)| match c {
            Command::Order(e) if e.event_id == event_id && r.is_ok() => Some(e.fingerprint()),
            Command::Order(_) | Command::Payout(_) | Command::PayoutResult(_) => None,
        })
    }

    fn run_due(&mut self, due_at: u64) -> Check {
        let before = Snapshot::of(self);
        let mut orders: Vec<String> = self.book.orders.keys().cloned().collect();
        orders.sort_unstable();
        self.now += 1_000_000;
        self.book.run_due_with(
            &self.settings,
            &mut self.ledger,
            self.now,
            due_at,
            &orders,
            &mut LoanOfM0,
        );
        self.ledger.take_changes();
        let created = before.created(&self.ledger);
        prop_assert!(
            !created
                .iter()
                .any(|t| t.code == reason::EXPOSURE && is_headroom(t.debit_account_id)),
            "due work never advances"
        );
        for record in self.book.orders.values() {
            prop_assert!(record.auto_confirm_at == 0 || record.auto_confirm_at > due_at);
            prop_assert!(record.reserve_release_at == 0 || record.reserve_release_at > due_at);
        }
        Ok(())
    }
}

/// Whether `id` is a merchant's exposure headroom account.
fn is_headroom(id: u128) -> bool {
    (1..=MERCHANTS.len() as u64).any(|seq| merchant_accounts(seq).exposure_headroom == id)
}

/// Everything a refused command must leave as it was. The book's transfer counter may move
/// (ids are never reused), so it is left out.
#[derive(Debug, PartialEq)]
struct Snapshot {
    accounts: Vec<Account>,
    transfers: Vec<u128>,
    orders: Vec<(String, OrderRecord)>,
    events: Vec<String>,
    merchants: Vec<(String, MerchantBook)>,
    payouts: Vec<(String, PayoutRecord)>,
    totals: Option<Totals>,
}

impl Snapshot {
    fn of(model: &Model) -> Snapshot {
        fn sorted<K: Ord + Clone, V: Clone>(items: impl Iterator<Item = (K, V)>) -> Vec<(K, V)> {
            let mut items: Vec<(K, V)> = items.collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            items
        }
        let book = &model.book;
        let mut accounts: Vec<Account> = model.ledger.accounts.values().cloned().collect();
        accounts.sort_by_key(|a| a.id);
        let mut transfers: Vec<u128> = model.ledger.transfers.keys().copied().collect();
        transfers.sort_unstable();
        let mut events: Vec<String> = book.events.keys().cloned().collect();
        events.sort_unstable();
        Snapshot {
            accounts,
            transfers,
            orders: sorted(book.orders.iter().map(|(k, v)| (k.clone(), v.clone()))),
            events,
            merchants: sorted(book.merchants.iter().map(|(k, v)| (k.clone(), *v))),
            payouts: sorted(book.payouts.iter().map(|(k, v)| (k.clone(), v.clone()))),
            totals: book.meta.map(|m| m.totals),
        }
    }

    /// The transfers `ledger` holds that this snapshot did not.
    fn created<'a>(&self, ledger: &'a State) -> Vec<&'a Transfer> {
        ledger
            .transfers
            .iter()
            .filter(|(id, _)| self.transfers.binary_search(id).is_err())
            .map(|(_, t)| t)
            .collect()
    }
}

fn balance(ledger: &State, id: u128) -> Account {
    ledger
        .accounts
        .get(&id)
        .cloned()
        .unwrap_or_else(|| Account::new(id, 0, 0))
}

/// Credits minus debits posted.
fn credit(a: &Account) -> i128 {
    i128::from(a.credits_posted.get()) - i128::from(a.debits_posted.get())
}

/// The invariants that hold after every step.
fn check(model: &Model) -> Check {
    let ledger = &model.ledger;
    let transfers = ledger.transfers.values().map(|t| {
        let status = ledger.pending.get(&t.id).map(|p| p.status);
        (t, status)
    });
    let violations = verify(ledger.accounts.values(), transfers);
    prop_assert!(violations.is_empty(), "ledger: {:?}", violations);
    let p = model.settings.platform();
    let clearing = balance(ledger, p.clearing);
    prop_assert_eq!(credit(&clearing), 0, "every chain leaves clearing at zero");
    prop_assert_eq!(
        clearing.debits_pending.get() + clearing.credits_pending.get(),
        0
    );
    let meta = model.book.meta.expect("set up");
    let totals = meta.totals;
    let orders: Vec<(&String, &OrderRecord)> = model.book.orders.iter().collect();
    let mut sum = Sums::default();
    for (id, record) in &orders {
        check_order(model, id, record, &mut sum)?;
    }
    prop_assert_eq!(
        credit(&balance(ledger, p.escrow)),
        sum.escrow,
        "escrow holds what is not settled"
    );
    prop_assert_eq!(
        credit(&balance(ledger, p.fee_revenue)),
        i128::from(totals.fee_charged.get())
    );
    prop_assert_eq!(totals.fee_charged.get(), sum.fees);
    prop_assert_eq!(totals.fee_standard.get(), sum.fees_standard);
    prop_assert_eq!(
        credit(&balance(ledger, p.loan_withholding)),
        i128::from(totals.withheld.get())
    );
    prop_assert_eq!(totals.withheld.get(), sum.withheld);
    prop_assert_eq!(totals.advanced_count, sum.advanced);
    prop_assert_eq!(totals.advanced_gross.get(), sum.advanced_gross);
    prop_assert_eq!(totals.advanced_confirmed, sum.advanced_confirmed);
    prop_assert_eq!(totals.days_saved_seconds, sum.seconds_early);
    prop_assert_eq!(
        credit(&balance(ledger, p.advance_pool)),
        i128::from(meta.pool_funded.get()) - i128::from(totals.outstanding().get()),
        "the pool lacks exactly the advances outstanding"
    );
    let mut owed = 0;
    let mut paid_out = 0;
    for (merchant, _, _) in MERCHANTS {
        let (o, p) = check_merchant(model, merchant)?;
        owed += o;
        paid_out += p;
    }
    prop_assert_eq!(
        owed,
        i128::from(totals.unrecovered().get()),
        "receivables owed: {:?}",
        totals
    );
    prop_assert_eq!(paid_out, i128::from(totals.paid_out.get()));
    Ok(())
}

/// Sums over the orders' statements.
#[derive(Default)]
struct Sums {
    escrow: i128,
    fees: u64,
    fees_standard: u64,
    withheld: u64,
    advanced: u64,
    advanced_gross: u64,
    advanced_confirmed: u64,
    seconds_early: u64,
}

fn check_order(model: &Model, id: &str, record: &OrderRecord, sum: &mut Sums) -> Check {
    let order = &record.order;
    if matches!(order.status, OrderStatus::Paid | OrderStatus::Shipped) {
        sum.escrow += i128::from(order.outstanding().get());
    }
    let advances = model.advances.get(id).copied().unwrap_or(0);
    prop_assert!(advances <= 1, "{} advanced {} times", id, advances);
    let advanced = record.settlement.is_some_and(|s| s.advanced);
    prop_assert_eq!(advanced, advances == 1, "{} advanced per its statement", id);
    if let Some(s) = &record.settlement {
        let parts = s.fee_charged.get() + s.withholding.get() + s.reserve.get() + s.net.get();
        prop_assert_eq!(
            parts,
            s.gross.get(),
            "{}: fee + withholding + reserve + net",
            id
        );
        prop_assert!(s.fee_charged <= s.fee_standard);
        prop_assert!(s.receivable_recovered <= s.net);
        prop_assert!(s.gross <= order.paid);
        sum.fees += s.fee_charged.get();
        sum.fees_standard += s.fee_standard.get();
        sum.withheld += s.withholding.get();
        if s.advanced {
            sum.advanced += 1;
            sum.advanced_gross += s.gross.get();
            if record.confirmed_at != 0 {
                sum.advanced_confirmed += 1;
                sum.seconds_early += record.seconds_early().unwrap_or(0);
            }
        }
    }
    Ok(())
}

/// What the statements say `merchant` received must be what its accounts hold.
///
/// Each settlement (advance or confirmation) credits the merchant with `net + reserve`: the
/// net to its available balance after paying what it owes, the reserve to its reserve.
/// Releasing a reserve moves money between its own accounts. Every refund after the order
/// was settled (`refunded − (paid − gross)`: refunds before the settlement only lowered the
/// gross) is taken back from it: from available, reserve, or as a receivable. Posted payouts
/// left its available balance for its bank. So
///
/// Σ (net + reserve) − Σ refunds after settlement
///   = available + reserve − receivable + paid out.
///
/// Also: what pending payouts hold is what the available balance has pending, and the
/// exposure used is what the advanced, unconfirmed orders still have in escrow. Returns
/// what the merchant owes and what was paid out to it.
fn check_merchant(model: &Model, merchant: &str) -> Result<(i128, i128), TestCaseError> {
    let Some(book) = model.book.merchants.get(merchant) else {
        prop_assert!(
            !model
                .book
                .orders
                .values()
                .any(|o| o.order.merchant_id == merchant)
        );
        return Ok((0, 0));
    };
    let ledger = &model.ledger;
    let a = merchant_accounts(book.seq);
    let mut statements: i128 = 0;
    let mut exposure: i128 = 0;
    for record in model.book.orders.values() {
        if record.order.merchant_id != merchant {
            continue;
        }
        let Some(s) = &record.settlement else {
            continue;
        };
        let refunded_after =
            record.order.refunded.get() - (record.order.paid.get() - s.gross.get());
        statements += i128::from(s.net.get() + s.reserve.get()) - i128::from(refunded_after);
        if s.advanced && record.confirmed_at == 0 {
            exposure += i128::from(record.order.outstanding().get());
        }
    }
    let (mut paid_out, mut pending) = (0, 0);
    for p in model.book.payouts.values() {
        if p.merchant_id == merchant {
            match p.status {
                PayoutStatus::Paid => paid_out += i128::from(p.amount.get()),
                PayoutStatus::Pending => pending += i128::from(p.amount.get()),
                PayoutStatus::Failed => {}
            }
        }
    }
    let available = balance(ledger, a.available);
    let owed = -credit(&balance(ledger, a.receivable));
    let held = credit(&available) + credit(&balance(ledger, a.reserve)) - owed + paid_out;
    prop_assert_eq!(
        statements,
        held,
        "{} received what its statements say",
        merchant
    );
    prop_assert_eq!(
        i128::from(available.debits_pending.get()),
        pending,
        "{} pending payouts",
        merchant
    );
    prop_assert_eq!(
        credit(&balance(ledger, a.exposure_used)),
        exposure,
        "{} exposure",
        merchant
    );
    prop_assert_eq!(
        credit(&balance(ledger, a.exposure_headroom)) + exposure,
        i128::from(book.cap_granted.get()),
        "{} headroom + exposure = cap",
        merchant
    );
    Ok((owed, paid_out))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_book_keeps_its_invariants(steps in vec((op(), 0..=36_u64), 1..=STEPS_MAX)) {
        let mut model = Model::new();
        for (op, hours) in &steps {
            model.at += hours * NANOS_PER_HOUR;
            if let Op::Due { hours } = op {
                let due_at = model.at + hours * NANOS_PER_HOUR;
                model.run_due(due_at)?;
            } else if let Some(command) = model.command(op) {
                model.apply(command)?;
            }
            check(&model)?;
        }
        // Everything that can fall due does; the invariants still hold.
        model.run_due(u64::MAX / 2)?;
        check(&model)?;
    }
}
