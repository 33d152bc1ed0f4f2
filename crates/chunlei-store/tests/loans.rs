//! Loan servicing through the store, on every backend: a script of merchants, sales, loan
//! commands and due-date collection in; each command's answer, then every loan's state and
//! the ledger balances it moved out. Every backend must render the same text, and every
//! ledger must verify at the end.
//!
//! ```text
//! merchant <id>                                   registers a merchant (tier C, joined 2019)
//! sale <order> <merchant> <fen> <day>             paid at 08:00 and shipped at 09:00: advanced
//! amortising <loan> <application> <merchant> <bank> <fen> <rate %> <months> <method> <day count> <day>
//! revenue <loan> <application> <merchant> <bank> <fen> <fee> <withholding bps> <minimum> <day>
//! joint <loan> <application> <merchant> <bank> <fen> <platform fen> <day>   12 %, 3 months
//! payout <payout> <merchant> <fen>                 a payout, pending: the balance is spoken for
//! pay <loan> <payment> <fen> <day>
//! collect <day>                                   collects what is due from available balances
//! holiday|interest_free <loan> <request> <from> <to>
//! write_off <loan> <request> <day>
//! show <loan> <day>                               the loan's state moved to that day
//! reopen                                          closes the store and opens it again
//! ```
//!
//! Every figure in the expectations was checked by hand against the rules; the comment above
//! each scenario gives the arithmetic.

use std::fmt::Write as _;

use chunlei_ledger::{CivilDate, Fen};
use chunlei_lending::AnnualRate;
use chunlei_lending::loans::{
    Adjustment, Disbursement, LoanApplied, LoanCommand, LoanRecord, LoanSpec, ProductSpec,
    bank_accounts, platform_lending_accounts,
};
use chunlei_lending::servicing::{Policy, RevenueTerms};
use chunlei_lending::{DayCount, Method, Terms};
use chunlei_settlement::book::{Command, EventIn, PayoutIn, Settings, merchant_accounts};
use chunlei_settlement::{Merchant, MerchantFields, OrderEvent, Shipping};
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};
use expect_test::{Expect, expect};

fn fen(v: u64) -> Fen {
    Fen::new(v).expect("amount fits")
}

fn day(text: &str) -> CivilDate {
    CivilDate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// 08:00 (plus `hours`) UTC of `day`, in ns since the epoch.
fn at(day_text: &str, hours: u64) -> u64 {
    let days = u64::try_from(day(day_text).days_since_epoch()).expect("after 1970");
    (days * 86_400 + (8 + hours) * 3_600) * 1_000_000_000
}

fn settings() -> Settings {
    let mut s = Settings::standard();
    s.program.auto_confirm_express_days = 50_000;
    s.program.auto_confirm_surface_days = 50_000;
    s
}

fn open(db: &TestDb) -> Store {
    Store::open(
        &db.url,
        StoreOptions {
            settlement: std::sync::Arc::new(settings()),
            ..StoreOptions::default()
        },
    )
    .expect("open store")
}

fn merchant(id: &str) -> Merchant {
    Merchant::parse(&MerchantFields {
        id,
        name: "Shop",
        kind: "trader",
        foreign_trade: "false",
        region_code: "330102",
        category: "apparel",
        joined_on: "2019-01-01",
        cluster_id: "",
        agriculture_base_id: "",
        risk_tier: "C",
        bank_code: "ICBC",
        account_number: "6222020000000001",
        holder_name: "Shop owner",
    })
    .expect("valid merchant")
}

/// Penalty interest at 18 % a year (1.5 × a 12 % loan), the default allocation order.
fn policy() -> Policy {
    Policy {
        penalty_rate: AnnualRate::from_basis_points(1_800).expect("rate"),
        ..Policy::default()
    }
}

struct Play {
    store: Store,
    loans: Vec<String>,
    merchants: Vec<String>,
    banks: Vec<String>,
    out: String,
}

impl Play {
    fn run(&mut self, line: &str, db: &TestDb) {
        let w: Vec<&str> = line.split_whitespace().collect();
        let n = |s: &str| -> u64 { s.parse().unwrap_or_else(|_| panic!("number {s}")) };
        let answer = match w.as_slice() {
            ["merchant", id] => {
                self.store
                    .upsert_merchants(&[merchant(id)])
                    .expect("merchant");
                self.merchants.push((*id).to_owned());
                String::new()
            }
            ["sale", order, m, amount, d] => {
                let event = |suffix: &str, hours: u64, event: OrderEvent| {
                    Command::Order(EventIn {
                        event_id: format!("{order}-{suffix}"),
                        order_id: (*order).to_owned(),
                        merchant_id: (*m).to_owned(),
                        occurred_at: at(d, hours),
                        event,
                    })
                };
                let results = self
                    .store
                    .settle_blocking(vec![
                        event(
                            "paid",
                            0,
                            OrderEvent::Paid {
                                merchant_id: (*m).to_owned(),
                                amount: fen(n(amount)),
                                category: "apparel".into(),
                                channel: "taobao".into(),
                            },
                        ),
                        event(
                            "shipped",
                            1,
                            OrderEvent::Shipped {
                                shipping: Shipping::Express,
                            },
                        ),
                    ])
                    .expect("settle");
                let order = self.store.order(order).expect("order").expect("stored");
                let s = order.settlement.expect("settled");
                assert!(results.iter().all(Result::is_ok), "{results:?}");
                format!("net {} withheld {}", s.net.get(), s.withholding.get())
            }
            [
                "amortising",
                loan,
                app,
                m,
                bank,
                amount,
                rate,
                months,
                method,
                count,
                d,
            ] => {
                let terms = Terms::monthly(
                    fen(n(amount)),
                    AnnualRate::parse_percent(rate).expect("rate"),
                    u16::try_from(n(months)).expect("months"),
                    Method::parse(method).expect("method"),
                    DayCount::parse(count).expect("day count"),
                    day(d),
                );
                let product = ProductSpec::Amortising {
                    terms,
                    instalment_fee: Fen::ZERO,
                };
                self.disburse(loan, app, m, bank, product)
            }
            ["joint", loan, app, m, bank, amount, platform, d] => {
                let terms = Terms::monthly(
                    fen(n(amount)),
                    AnnualRate::from_basis_points(1_200).expect("rate"),
                    3,
                    Method::EqualInstallments,
                    DayCount::Thirty360,
                    day(d),
                );
                let product = ProductSpec::Amortising {
                    terms,
                    instalment_fee: Fen::ZERO,
                };
                self.disburse_joint(loan, app, m, bank, product, fen(n(platform)))
            }
            ["revenue", loan, app, m, bank, amount, fee, bps, minimum, d] => {
                let product = ProductSpec::RevenueBased(RevenueTerms {
                    principal: fen(n(amount)),
                    fee: fen(n(fee)),
                    withholding_bps: u32::try_from(n(bps)).expect("bps"),
                    minimum_per_period: fen(n(minimum)),
                    disbursed_on: day(d),
                });
                self.disburse(loan, app, m, bank, product)
            }
            ["payout", id, m, amount] => {
                let results = self
                    .store
                    .settle_blocking(vec![Command::Payout(PayoutIn {
                        payout_id: (*id).to_owned(),
                        merchant_id: (*m).to_owned(),
                        amount: Some(fen(n(amount))),
                    })])
                    .expect("payout");
                format!("{:?}", results[0].as_ref().map(|_| "ok"))
            }
            ["pay", loan, payment, amount, d] => self.command(LoanCommand::Pay {
                loan_id: (*loan).to_owned(),
                payment_id: (*payment).to_owned(),
                on: day(d),
                amount: fen(n(amount)),
            }),
            ["collect", d] => {
                let done = self.store.collect_due_blocking(day(d)).expect("collect");
                format!(
                    "{} loans, {} collected, {} fen",
                    done.loans, done.collections, done.amount
                )
            }
            [
                kind @ ("holiday" | "interest_free"),
                loan,
                request,
                from,
                to,
            ] => {
                let to = day(to);
                self.command(LoanCommand::Adjust {
                    loan_id: (*loan).to_owned(),
                    request_id: (*request).to_owned(),
                    on: day(from),
                    adjustment: if *kind == "holiday" {
                        Adjustment::Holiday { to }
                    } else {
                        Adjustment::InterestFree { to }
                    },
                })
            }
            ["write_off", loan, request, d] => self.command(LoanCommand::Adjust {
                loan_id: (*loan).to_owned(),
                request_id: (*request).to_owned(),
                on: day(d),
                adjustment: Adjustment::WriteOff,
            }),
            ["show", loan, d] => {
                let record = self.store.loan(loan).expect("loan").expect("stored");
                render_loan(&record, day(d))
            }
            ["reopen"] => {
                // The writer of the store open now must let go of the database first.
                let reader = Store::open_without_writer(&db.url).expect("reader");
                drop(std::mem::replace(&mut self.store, reader));
                self.store = open(db);
                String::new()
            }
            _ => panic!("cannot parse script line: {line}"),
        };
        if answer.is_empty() {
            writeln!(self.out, "{line}").ok();
        } else if answer.contains('\n') {
            writeln!(self.out, "{line}\n{answer}").ok();
        } else {
            writeln!(self.out, "{line} => {answer}").ok();
        }
    }

    fn disburse(
        &mut self,
        loan: &str,
        app: &str,
        m: &str,
        bank: &str,
        product: ProductSpec,
    ) -> String {
        self.disburse_joint(loan, app, m, bank, product, Fen::ZERO)
    }

    fn disburse_joint(
        &mut self,
        loan: &str,
        app: &str,
        m: &str,
        bank: &str,
        product: ProductSpec,
        platform_part: Fen,
    ) -> String {
        if !self.loans.iter().any(|l| l == loan) {
            self.loans.push(loan.to_owned());
        }
        if !self.banks.iter().any(|b| b == bank) {
            self.banks.push(bank.to_owned());
        }
        self.command(LoanCommand::Disburse(Disbursement {
            loan_id: loan.to_owned(),
            application_id: app.to_owned(),
            merchant_id: m.to_owned(),
            bank_id: bank.to_owned(),
            platform_part,
            spec: LoanSpec {
                product,
                policy: policy(),
            },
        }))
    }

    fn command(&mut self, command: LoanCommand) -> String {
        let mut results = self.store.loans_blocking(vec![command]).expect("loans");
        match results.pop().expect("one result") {
            Ok(LoanApplied::Disbursed { existed, .. }) => {
                if existed { "ok exists" } else { "ok disbursed" }.to_owned()
            }
            Ok(LoanApplied::Done { taken, existed }) => format!(
                "ok {}taken {}",
                if existed { "exists, " } else { "" },
                taken.get()
            ),
            Ok(LoanApplied::Collected(c)) => format!("ok collected {c:?}"),
            Err(rejection) => rejection.code().to_owned(),
        }
    }

    /// Every merchant's available balance, every bank's accounts and the platform's
    /// withholding account, then every loan as it stands.
    fn state(&self) -> String {
        let mut out = String::from("balances\n");
        let balance = |id: u128| {
            self.store
                .lookup_accounts(&[id])
                .expect("lookup")
                .first()
                .map_or((0, 0), |a| {
                    (
                        a.debits_posted.get() + a.debits_pending.get(),
                        a.credits_posted.get(),
                    )
                })
        };
        for m in &self.merchants {
            let seq = self
                .store
                .settlement_merchant(m)
                .expect("merchant")
                .map(|r| r.seq);
            let available = seq.map_or(0, |seq| {
                let (d, c) = balance(merchant_accounts(seq).available);
                c - d
            });
            writeln!(
                out,
                "  {m}: available {available} (pending payouts deducted)"
            )
            .ok();
        }
        for b in &self.banks {
            let a = bank_accounts(b);
            let (lent, _) = balance(a.funding);
            let (_, repaid) = balance(a.repayments);
            writeln!(out, "  {b}: lent {lent}, repaid {repaid}").ok();
        }
        let platform = platform_lending_accounts();
        let (lent, _) = balance(platform.funding);
        let (_, repaid) = balance(platform.repayments);
        writeln!(
            out,
            "  platform (joint loans): lent {lent}, repaid {repaid}"
        )
        .ok();
        let withholding = settings().platform().loan_withholding;
        let (d, c) = balance(withholding);
        writeln!(out, "  platform loan withholding {}", c - d).ok();
        out
    }
}

fn render_loan(record: &LoanRecord, on: CivilDate) -> String {
    let s = record.summary_on(on);
    let mut out = format!(
        "  {} {} {} on {}: outstanding {} (principal {} interest {} fee {} penalty {}), paid {}, due {}, overdue {}, {} days past due ({}), written off {}",
        record.id,
        record.bank_id,
        s.status.as_str(),
        s.as_of,
        s.outstanding.total().get(),
        s.outstanding.principal.get(),
        s.outstanding.interest.get(),
        s.outstanding.fee.get(),
        s.outstanding.penalty.get(),
        s.total_paid.get(),
        s.due.get(),
        s.overdue.get(),
        s.days_past_due,
        s.arrears.as_str(),
        s.written_off.total().get(),
    );
    for i in record.loan.instalments() {
        write!(
            out,
            "\n    #{} due {} {}: charged {} paid {}",
            i.number,
            i.due_on,
            i.state.as_str(),
            i.charged.total().get(),
            i.paid.total().get()
        )
        .ok();
    }
    for op in &record.ops {
        write!(
            out,
            "\n    {} {} {} amount {} taken {}",
            op.on,
            op.kind.as_str(),
            op.reference,
            op.amount.get(),
            op.taken.get()
        )
        .ok();
    }
    out
}

fn scenario(script: &str, expect: Expect) {
    let mut first: Option<(String, String)> = None;
    for db in TestDb::all() {
        let mut play = Play {
            store: open(&db),
            loans: Vec::new(),
            merchants: Vec::new(),
            banks: Vec::new(),
            out: String::new(),
        };
        for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
            play.run(line, &db);
        }
        play.out += &play.state();
        let violations = play.store.verify().expect("verify");
        assert!(
            violations.is_empty(),
            "{}: ledger does not verify: {violations:?}",
            db.url_string()
        );
        match &first {
            None => first = Some((db.url_string(), play.out)),
            Some((url, out)) => assert_eq!(out, &play.out, "{} and {url} differ", db.url_string()),
        }
    }
    let (_, out) = first.expect("at least one backend");
    expect.assert_eq(&out);
}

/// On time: ¥1,000 at 12 % over 3 months, equal instalments, 30/360. The instalment is
/// 100,000 × 0.01 / (1 − 1.01⁻³) = 34,002.21 → 34,002; interest 1,000, 670 (66,998 × 1 %),
/// 337 (33,666 × 1 %, the last instalment repays the balance: 33,666 + 337 = 34,003). m1's
/// sale of ¥2,000 is advanced at once (fee 2 %: net 1,960 yuan), so every due date finds the
/// instalment in its available balance. Collecting twice on a due date takes nothing more.
#[test]
fn an_amortising_loan_repaid_on_time() {
    scenario(
        "
        merchant m1
        sale o1 m1 200000 2020-03-30
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        collect 2020-04-30
        collect 2020-05-01
        collect 2020-05-01
        collect 2020-06-01
        collect 2020-07-01
        show l1 2020-07-01
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 200000 2020-03-30 => net 196000 withheld 0
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok disbursed
            collect 2020-04-30 => 1 loans, 0 collected, 0 fen
            collect 2020-05-01 => 1 loans, 1 collected, 34002 fen
            collect 2020-05-01 => 1 loans, 0 collected, 0 fen
            collect 2020-06-01 => 1 loans, 1 collected, 34002 fen
            collect 2020-07-01 => 1 loans, 1 collected, 34003 fen
            show l1 2020-07-01
              l1 icbc closed on 2020-07-01: outstanding 0 (principal 0 interest 0 fee 0 penalty 0), paid 102007, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-01 due: charged 34002 paid 34002
                #2 due 2020-06-01 due: charged 34002 paid 34002
                #3 due 2020-07-01 due: charged 34003 paid 34003
                2020-05-01 due_collection due:2020-05-01 amount 34002 taken 34002
                2020-06-01 due_collection due:2020-06-01 amount 34002 taken 34002
                2020-07-01 due_collection due:2020-07-01 amount 34003 taken 34003
            balances
              m1: available 193993 (pending payouts deducted)
              icbc: lent 100000, repaid 102007
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// Late, then collected from a settlement. m1's ¥100 sale nets 9,800; with the loan's
/// 100,000 the balance is 109,800, and a payout of 109,000 leaves 800. On 1 May the 800 is all
/// that can be collected: the allocation order pays interest first (1,000 due: 200 left),
/// principal 33,002 stays overdue. On 10 May, 9 days late, the penalty is 33,002 × 18 % × 9 /
/// 360 = 148.5 → 148 (rounded down). A ¥500 sale that day is withheld from for what is due:
/// 200 + 33,002 + 148 = 33,350 of its 49,000 net. Collecting on 10 May then finds nothing due.
#[test]
fn a_late_instalment_bears_penalty_and_is_collected_from_a_settlement() {
    scenario(
        "
        merchant m1
        sale o1 m1 10000 2020-03-30
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        payout p1 m1 109000
        collect 2020-05-01
        show l1 2020-05-10
        sale o2 m1 50000 2020-05-10
        collect 2020-05-10
        show l1 2020-05-10
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 10000 2020-03-30 => net 9800 withheld 0
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok disbursed
            payout p1 m1 109000 => Ok("ok")
            collect 2020-05-01 => 1 loans, 1 collected, 800 fen
            show l1 2020-05-10
              l1 icbc in_arrears on 2020-05-10: outstanding 100348 (principal 100000 interest 200 fee 0 penalty 148), paid 800, due 33350, overdue 33350, 9 days past due (1-30), written off 0
                #1 due 2020-05-01 due: charged 34002 paid 800
                #2 due 2020-06-01 pending: charged 33332 paid 0
                #3 due 2020-07-01 pending: charged 33666 paid 0
                2020-05-01 due_collection due:2020-05-01 amount 800 taken 800
            sale o2 m1 50000 2020-05-10 => net 15650 withheld 33350
            collect 2020-05-10 => 1 loans, 0 collected, 0 fen
            show l1 2020-05-10
              l1 icbc active on 2020-05-10: outstanding 66998 (principal 66998 interest 0 fee 0 penalty 0), paid 34150, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-01 due: charged 34150 paid 34150
                #2 due 2020-06-01 pending: charged 33332 paid 0
                #3 due 2020-07-01 pending: charged 33666 paid 0
                2020-05-01 due_collection due:2020-05-01 amount 800 taken 800
                2020-05-10 withheld o2 amount 49000 taken 33350
            balances
              m1: available 15650 (pending payouts deducted)
              icbc: lent 100000, repaid 34150
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// Prepayment: 50,000 paid on 16 April, before anything is due, repays principal from the last
/// instalment back (instalment 3's 33,666 and 16,334 of instalment 2's 33,332), so the loan
/// ends a month early. Interest keeps accruing on the smaller balance: instalment 1 is
/// 33,002 plus 500 (15 days on 100,000 at 1 % a month) plus 250 (15 days on 50,000) = 33,752;
/// instalment 2
/// is the 16,998 left + 170 (16,998 × 1 % = 169.98). The same payment id again moves nothing;
/// with another amount it is a conflict. Paying off the rest (50,000 + 500 of interest so far)
/// while a payout holds all but 80 fen of the balance is refused whole.
#[test]
fn a_prepayment_shortens_the_loan_and_payments_are_idempotent() {
    scenario(
        "
        merchant m1
        sale o1 m1 1000 2020-03-30
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        pay l1 p1 50000 2020-04-16
        pay l1 p1 50000 2020-04-16
        pay l1 p1 40000 2020-04-16
        payout x1 m1 50900
        pay l1 p2 900000 2020-04-16
        pay l9 p3 100 2020-04-16
        sale o2 m1 100000 2020-04-20
        collect 2020-05-01
        collect 2020-06-01
        collect 2020-07-01
        show l1 2020-07-01
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 1000 2020-03-30 => net 980 withheld 0
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok disbursed
            pay l1 p1 50000 2020-04-16 => ok taken 50000
            pay l1 p1 50000 2020-04-16 => ok exists, taken 50000
            pay l1 p1 40000 2020-04-16 => request_id_conflict
            payout x1 m1 50900 => Ok("ok")
            pay l1 p2 900000 2020-04-16 => insufficient_funds
            pay l9 p3 100 2020-04-16 => loan_not_found
            sale o2 m1 100000 2020-04-20 => net 98000 withheld 0
            collect 2020-05-01 => 1 loans, 1 collected, 33752 fen
            collect 2020-06-01 => 1 loans, 1 collected, 17168 fen
            collect 2020-07-01 => 0 loans, 0 collected, 0 fen
            show l1 2020-07-01
              l1 icbc closed on 2020-07-01: outstanding 0 (principal 0 interest 0 fee 0 penalty 0), paid 100920, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-01 due: charged 33752 paid 33752
                #2 due 2020-06-01 due: charged 33502 paid 33502
                #3 due 2020-07-01 cancelled: charged 33666 paid 33666
                2020-04-16 payment p1 amount 50000 taken 50000
                2020-05-01 due_collection due:2020-05-01 amount 33752 taken 33752
                2020-06-01 due_collection due:2020-06-01 amount 17168 taken 17168
            balances
              m1: available 47160 (pending payouts deducted)
              icbc: lent 100000, repaid 100920
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// A repayment holiday from 20 April to 15 May moves the first due date to 16 May and the
/// next ones a month on from there; nothing is collected on 1 May. An interest-free period
/// for May waives May's interest. A write-off ends the loan: nothing more is collected, and a
/// payment is refused.
#[test]
fn relief_and_write_off() {
    scenario(
        "
        merchant m1
        sale o1 m1 300000 2020-03-30
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        holiday l1 h1 2020-04-20 2020-05-15
        holiday l1 h1 2020-04-20 2020-05-15
        interest_free l1 f1 2020-05-01 2020-05-31
        collect 2020-05-01
        collect 2020-05-16
        show l1 2020-05-16
        write_off l1 w1 2020-05-20
        collect 2020-06-16
        pay l1 p1 1000 2020-06-16
        show l1 2020-06-16
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 300000 2020-03-30 => net 294000 withheld 0
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok disbursed
            holiday l1 h1 2020-04-20 2020-05-15 => ok taken 0
            holiday l1 h1 2020-04-20 2020-05-15 => ok exists, taken 0
            interest_free l1 f1 2020-05-01 2020-05-31 => ok taken 0
            collect 2020-05-01 => 1 loans, 0 collected, 0 fen
            collect 2020-05-16 => 1 loans, 1 collected, 34002 fen
            show l1 2020-05-16
              l1 icbc active on 2020-05-16: outstanding 66998 (principal 66998 interest 0 fee 0 penalty 0), paid 34002, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-16 due: charged 34002 paid 34002
                #2 due 2020-06-16 pending: charged 33332 paid 0
                #3 due 2020-07-16 pending: charged 33666 paid 0
                2020-04-20 holiday h1 amount 0 taken 0
                2020-05-01 interest_free f1 amount 0 taken 0
                2020-05-16 due_collection due:2020-05-16 amount 34002 taken 34002
            write_off l1 w1 2020-05-20 => ok taken 0
            collect 2020-06-16 => 0 loans, 0 collected, 0 fen
            pay l1 p1 1000 2020-06-16 => loan_written_off
            show l1 2020-06-16
              l1 icbc written_off on 2020-06-16: outstanding 0 (principal 0 interest 0 fee 0 penalty 0), paid 34002, due 0, overdue 0, 0 days past due (current), written off 66998
                #1 due 2020-05-16 due: charged 34002 paid 34002
                #2 due 2020-06-16 pending: charged 33332 paid 0
                #3 due 2020-07-16 pending: charged 33666 paid 0
                2020-04-20 holiday h1 amount 0 taken 0
                2020-05-01 interest_free f1 amount 0 taken 0
                2020-05-16 due_collection due:2020-05-16 amount 34002 taken 34002
                2020-05-20 write_off w1 amount 0 taken 0
            balances
              m1: available 359998 (pending payouts deducted)
              icbc: lent 100000, repaid 34002
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// Revenue-based: ¥1,000 with a ¥50 fee, 10 % of every settlement after the commission. A
/// ¥500 sale nets 49,000: 4,900 withheld, the merchant gets 44,100. A ¥2,000 sale: 19,600 of
/// 196,000. After a restart (the loan replayed from its history) a ¥10,000 sale (net 980,000)
/// would give 98,000 but takes only the 80,500 still owed. A repaid loan withholds nothing.
/// Every withheld fen goes on to the bank: the platform's withholding account ends at zero.
#[test]
fn a_revenue_based_loan_is_repaid_from_settlements() {
    scenario(
        "
        merchant m1
        sale o1 m1 10000 2020-03-30
        revenue l1 a1 m1 mybank 100000 5000 1000 0 2020-04-01
        sale o2 m1 50000 2020-04-02
        sale o3 m1 200000 2020-04-03
        reopen
        sale o4 m1 1000000 2020-04-04
        show l1 2020-04-04
        sale o5 m1 10000 2020-04-05
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 10000 2020-03-30 => net 9800 withheld 0
            revenue l1 a1 m1 mybank 100000 5000 1000 0 2020-04-01 => ok disbursed
            sale o2 m1 50000 2020-04-02 => net 44100 withheld 4900
            sale o3 m1 200000 2020-04-03 => net 176400 withheld 19600
            reopen
            sale o4 m1 1000000 2020-04-04 => net 899500 withheld 80500
            show l1 2020-04-04
              l1 mybank closed on 2020-04-04: outstanding 0 (principal 0 interest 0 fee 0 penalty 0), paid 105000, due 0, overdue 0, 0 days past due (current), written off 0
                2020-04-02 withheld o2 amount 49000 taken 4900
                2020-04-03 withheld o3 amount 196000 taken 19600
                2020-04-04 withheld o4 amount 980000 taken 80500
            sale o5 m1 10000 2020-04-05 => net 9800 withheld 0
            balances
              m1: available 1239600 (pending payouts deducted)
              mybank: lent 100000, repaid 105000
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// Disbursement is idempotent by loan id, one loan per application, and only to a merchant
/// with a settlement account.
#[test]
fn disbursement_is_idempotent_and_checked() {
    scenario(
        "
        merchant m1
        merchant m2
        sale o1 m1 10000 2020-03-30
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        amortising l1 a1 m1 icbc 200000 12 3 equal_installment 30_360 2020-04-01
        amortising l2 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        amortising l3 a3 m2 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        reopen
        amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01
        show l1 2020-04-01
        ",
        expect![[r#"
            merchant m1
            merchant m2
            sale o1 m1 10000 2020-03-30 => net 9800 withheld 0
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok disbursed
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok exists
            amortising l1 a1 m1 icbc 200000 12 3 equal_installment 30_360 2020-04-01 => loan_id_conflict
            amortising l2 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => application_already_accepted
            amortising l3 a3 m2 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => merchant_has_no_account
            reopen
            amortising l1 a1 m1 icbc 100000 12 3 equal_installment 30_360 2020-04-01 => ok exists
            show l1 2020-04-01
              l1 icbc active on 2020-04-01: outstanding 100000 (principal 100000 interest 0 fee 0 penalty 0), paid 0, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-01 pending: charged 33002 paid 0
                #2 due 2020-06-01 pending: charged 33332 paid 0
                #3 due 2020-07-01 pending: charged 33666 paid 0
            balances
              m1: available 109800 (pending payouts deducted)
              m2: available 0 (pending payouts deducted)
              icbc: lent 100000, repaid 0
              platform (joint loans): lent 0, repaid 0
              platform loan withholding 0
        "#]],
    );
}

/// A joint loan: the platform lends 20,000 of 100,000 and takes a fifth of every repayment,
/// rounded down: 6,800 of each of 34,002, 34,002 and 34,003 (6,800.4, 6,800.4, 6,800.6), so
/// 20,400 to the platform and 81,607 to the bank, 102,007 in all.
#[test]
fn a_joint_loan_shares_repayments_in_proportion() {
    scenario(
        "
        merchant m1
        sale o1 m1 200000 2020-03-30
        joint l1 a1 m1 icbc 100000 20000 2020-04-01
        joint l2 a2 m1 icbc 100000 100000 2020-04-01
        collect 2020-05-01
        collect 2020-06-01
        collect 2020-07-01
        show l1 2020-07-01
        ",
        expect![[r#"
            merchant m1
            sale o1 m1 200000 2020-03-30 => net 196000 withheld 0
            joint l1 a1 m1 icbc 100000 20000 2020-04-01 => ok disbursed
            joint l2 a2 m1 icbc 100000 100000 2020-04-01 => platform_part_too_large
            collect 2020-05-01 => 1 loans, 1 collected, 34002 fen
            collect 2020-06-01 => 1 loans, 1 collected, 34002 fen
            collect 2020-07-01 => 1 loans, 1 collected, 34003 fen
            show l1 2020-07-01
              l1 icbc closed on 2020-07-01: outstanding 0 (principal 0 interest 0 fee 0 penalty 0), paid 102007, due 0, overdue 0, 0 days past due (current), written off 0
                #1 due 2020-05-01 due: charged 34002 paid 34002
                #2 due 2020-06-01 due: charged 34002 paid 34002
                #3 due 2020-07-01 due: charged 34003 paid 34003
                2020-05-01 due_collection due:2020-05-01 amount 34002 taken 34002
                2020-06-01 due_collection due:2020-06-01 amount 34002 taken 34002
                2020-07-01 due_collection due:2020-07-01 amount 34003 taken 34003
            balances
              m1: available 193993 (pending payouts deducted)
              icbc: lent 80000, repaid 81607
              platform (joint loans): lent 20000, repaid 20400
              platform loan withholding 0
        "#]],
    );
}
