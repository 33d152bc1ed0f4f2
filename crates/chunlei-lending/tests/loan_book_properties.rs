//! Property test of the loan book on the real ledger engine and settlement book: for any
//! sequence of sales (withheld from), payments, due collection, relief and write-offs over two
//! loans of one merchant from two banks,
//!
//! - the ledger verifies (every balance matches its transfers, debits equal credits, no limit
//!   crossed — so the merchant's available balance never goes below zero);
//! - each bank's funding account is debited by exactly the principal it lent, and its
//!   repayment account credited by exactly what the loans' histories say was taken — less the
//!   platform's share of a joint loan, which its own accounts show;
//! - every loan's history replays to the state the book holds, and what the loan reports as
//!   paid is what the ledger moved;
//! - the platform's withholding account is back at zero after every step;
//! - a command refused changes nothing.

use chunlei_ledger::{CivilDate, Fen, State, verify};
use chunlei_lending::loans::{
    Adjustment, Disbursement, LoanBook, LoanCommand, LoanRecord, LoanSpec, ProductSpec,
    bank_accounts, platform_lending_accounts,
};
use chunlei_lending::servicing::{Policy, RevenueTerms};
use chunlei_lending::{AnnualRate, DayCount, Method, Terms};
use chunlei_settlement::book::{Book, Command, EventIn, Settings, merchant_accounts};
use chunlei_settlement::{Merchant, MerchantFields, OrderEvent, Shipping};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const DAY_NS: u64 = 86_400 * 1_000_000_000;

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("fen")
}

fn start() -> CivilDate {
    CivilDate::parse("2020-03-02").expect("date")
}

#[derive(Clone, Debug)]
enum Step {
    /// A sale of `amount` fen, paid and shipped (advanced, so settled and withheld from).
    Sale {
        amount: u64,
    },
    Pay {
        loan: usize,
        amount: u64,
    },
    CollectDue,
    Holiday {
        loan: usize,
        days: u32,
    },
    WriteOff {
        loan: usize,
    },
}

fn step() -> impl Strategy<Value = (u32, Step)> {
    let step = prop_oneof![
        4 => (1_000..300_000_u64).prop_map(|amount| Step::Sale { amount }),
        3 => (0..2_usize, 1..80_000_u64).prop_map(|(loan, amount)| Step::Pay { loan, amount }),
        4 => Just(Step::CollectDue),
        1 => (0..2_usize, 1..60_u32).prop_map(|(loan, days)| Step::Holiday { loan, days }),
        1 => (0..2_usize).prop_map(|loan| Step::WriteOff { loan }),
    ];
    (0..25_u32, step)
}

struct Model {
    settings: Settings,
    book: Book,
    loans: LoanBook,
    ledger: State,
    now: u64,
    day: CivilDate,
    orders: u64,
}

impl Model {
    fn new() -> Model {
        let settings = Settings::standard();
        let mut book = Book::default();
        let merchant = Merchant::parse(&MerchantFields {
            id: "m0",
            name: "Shop",
            kind: "trader",
            foreign_trade: "false",
            region_code: "330102",
            category: "apparel",
            joined_on: "2019-01-01",
            cluster_id: "",
            agriculture_base_id: "",
            risk_tier: "A",
            bank_code: "ICBC",
            account_number: "6222020000000001",
            holder_name: "Shop owner",
        })
        .expect("merchant");
        book.registry.insert("m0".into(), merchant);
        let mut model = Model {
            settings,
            book,
            loans: LoanBook::default(),
            ledger: State::new(0),
            now: 1_700_000_000_000_000_000,
            day: start(),
            orders: 0,
        };
        model.sale(10_000).expect("first sale");
        let amortising = LoanSpec {
            product: ProductSpec::Amortising {
                terms: Terms::monthly(
                    fen(100_000),
                    AnnualRate::from_basis_points(1_200).expect("rate"),
                    3,
                    Method::EqualInstallments,
                    DayCount::Thirty360,
                    start(),
                ),
                instalment_fee: Fen::ZERO,
            },
            policy: Policy {
                penalty_rate: AnnualRate::from_basis_points(1_800).expect("rate"),
                ..Policy::default()
            },
        };
        let revenue = LoanSpec {
            product: ProductSpec::RevenueBased(RevenueTerms {
                principal: fen(50_000),
                fee: fen(2_500),
                withholding_bps: 1_000,
                minimum_per_period: fen(10_000),
                disbursed_on: start(),
            }),
            policy: Policy::default(),
        };
        // l1 is a joint loan: the platform lends 10,000 of its 50,000.
        for (id, bank, spec, platform_part) in [
            ("l0", "b0", amortising, Fen::ZERO),
            ("l1", "b1", revenue, fen(10_000)),
        ] {
            let results = model.command(LoanCommand::Disburse(Disbursement {
                loan_id: id.into(),
                application_id: id.into(),
                merchant_id: "m0".into(),
                bank_id: bank.into(),
                spec,
                platform_part,
            }));
            assert!(results.is_ok(), "{results:?}");
        }
        model
    }

    fn tick(&mut self) -> u64 {
        self.now += 1_000_000;
        self.now
    }

    fn command(
        &mut self,
        command: LoanCommand,
    ) -> Result<chunlei_lending::loans::LoanApplied, chunlei_lending::loans::LoanRejection> {
        let now = self.tick();
        let mut results = self.loans.apply(
            &self.book,
            self.settings.ledger,
            &mut self.ledger,
            now,
            &[command],
        );
        self.ledger.take_changes();
        self.loans.changed = Default::default();
        results.pop().expect("one result")
    }

    fn sale(&mut self, amount: u64) -> Result<(), String> {
        self.orders += 1;
        let order = format!("o{}", self.orders);
        let at = u64::try_from(self.day.days_since_epoch()).unwrap_or(0) * DAY_NS + 3_600;
        let event = |suffix: &str, event: OrderEvent| {
            Command::Order(EventIn {
                event_id: format!("{order}-{suffix}"),
                order_id: order.clone(),
                merchant_id: "m0".into(),
                occurred_at: at,
                event,
            })
        };
        let commands = [
            event(
                "paid",
                OrderEvent::Paid {
                    merchant_id: "m0".into(),
                    amount: fen(amount),
                    category: "apparel".into(),
                    channel: "taobao".into(),
                },
            ),
            event(
                "shipped",
                OrderEvent::Shipped {
                    shipping: Shipping::Express,
                },
            ),
        ];
        let now = self.tick();
        let platform = self.settings.platform();
        let mut withheld = Vec::new();
        let results = {
            let mut hook = self.loans.withholder(&platform, now, &mut withheld);
            self.book
                .apply_with(&self.settings, &mut self.ledger, now, &commands, &mut hook)
        };
        if results.iter().any(Result::is_err) {
            return Err(format!("{results:?}"));
        }
        let posted = self.ledger.create_transfers(now, &withheld);
        if posted
            .iter()
            .any(|r| *r != chunlei_ledger::CreateTransferResult::Ok)
        {
            return Err(format!("withholding transfers: {posted:?}"));
        }
        self.ledger.take_changes();
        self.loans.changed = Default::default();
        Ok(())
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let id = |loan: usize| format!("l{loan}");
        let before = Snapshot::of(self);
        let refused = match step {
            Step::Sale { amount } => {
                self.sale(*amount).map_err(TestCaseError::fail)?;
                false
            }
            Step::Pay { loan, amount } => {
                let n = self.orders;
                self.command(LoanCommand::Pay {
                    loan_id: id(*loan),
                    payment_id: format!("p{n}-{}", self.now),
                    on: self.day,
                    amount: fen(*amount),
                })
                .is_err()
            }
            Step::CollectDue => self
                .command(LoanCommand::CollectDue {
                    loan_ids: vec![id(0), id(1)],
                    on: self.day,
                })
                .is_err(),
            Step::Holiday { loan, days } => {
                let from = self.day.add_days(1).expect("date");
                let to = from.add_days(*days).expect("date");
                self.command(LoanCommand::Adjust {
                    loan_id: id(*loan),
                    request_id: format!("h{}", self.now),
                    on: from,
                    adjustment: Adjustment::Holiday { to },
                })
                .is_err()
            }
            Step::WriteOff { loan } => self
                .command(LoanCommand::Adjust {
                    loan_id: id(*loan),
                    request_id: format!("w{}", self.now),
                    on: self.day,
                    adjustment: Adjustment::WriteOff,
                })
                .is_err(),
        };
        if refused {
            prop_assert_eq!(
                &before,
                &Snapshot::of(self),
                "a refused command changed something"
            );
        }
        check(self)
    }
}

/// What a refused command must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    balances: Vec<(u128, u64, u64, u64)>,
    histories: Vec<usize>,
}

impl Snapshot {
    fn of(model: &Model) -> Snapshot {
        let mut balances: Vec<(u128, u64, u64, u64)> = model
            .ledger
            .accounts
            .values()
            .map(|a| {
                (
                    a.id,
                    a.debits_posted.get(),
                    a.credits_posted.get(),
                    a.debits_pending.get(),
                )
            })
            .collect();
        balances.sort_unstable();
        Snapshot {
            balances,
            histories: model.loans.loans.values().map(|l| l.ops.len()).collect(),
        }
    }
}

/// The platform's share of what a loan's operations took: each operation's amount in
/// proportion to the platform's part of the principal, rounded down.
fn platform_share(record: &LoanRecord) -> u64 {
    let principal = record.spec.principal().get();
    record
        .ops
        .iter()
        .map(|op| op.taken.get() * record.platform_part.get() / principal)
        .sum()
}

fn check(model: &Model) -> Result<(), TestCaseError> {
    let ledger = &model.ledger;
    let transfers = ledger.transfers.values().map(|t| {
        let status = ledger.pending.get(&t.id).map(|p| p.status);
        (t, status)
    });
    let violations = verify(ledger.accounts.values(), transfers);
    prop_assert!(violations.is_empty(), "ledger: {:?}", violations);
    let account = |id: u128| ledger.accounts.get(&id).cloned();
    let (mut platform_lent, mut platform_repaid) = (0, 0);
    for record in model.loans.loans.values() {
        let replayed =
            LoanRecord::rebuild(&record.spec, &record.ops).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&replayed, &record.loan, "loan {} replays", &record.id);
        let taken: u64 = record.ops.iter().map(|op| op.taken.get()).sum();
        prop_assert_eq!(record.loan.summary().total_paid.get(), taken);
        let bank = bank_accounts(&record.bank_id);
        let funding = account(bank.funding).expect("funding account");
        let bank_part = record.spec.principal().saturating_sub(record.platform_part);
        prop_assert_eq!(funding.debits_posted, bank_part);
        prop_assert_eq!(funding.credits_posted, Fen::ZERO);
        let repayments = account(bank.repayments).expect("repayment account");
        let share = platform_share(record);
        prop_assert_eq!(
            repayments.credits_posted.get(),
            taken - share,
            "bank {}",
            &record.bank_id
        );
        platform_lent += record.platform_part.get();
        platform_repaid += share;
    }
    let platform = platform_lending_accounts();
    let platform_funding = account(platform.funding).expect("platform funding");
    prop_assert_eq!(platform_funding.debits_posted.get(), platform_lent);
    let platform_repayments = account(platform.repayments).expect("platform repayments");
    prop_assert_eq!(platform_repayments.credits_posted.get(), platform_repaid);
    let withholding = account(model.settings.platform().loan_withholding).expect("account");
    prop_assert_eq!(withholding.credits_posted, withholding.debits_posted);
    let seq = model.book.merchants.get("m0").expect("merchant").seq;
    let available = account(merchant_accounts(seq).available).expect("available");
    prop_assert!(available.debits_posted <= available.credits_posted);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_loan_book_keeps_the_ledger_and_the_histories_in_step(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let mut model = Model::new();
        check(&model)?;
        for (days, step) in &steps {
            model.day = model.day.add_days(*days).expect("date");
            model.run(step)?;
        }
    }
}
