//! The loan book: accepted loans on the ledger. A loan is disbursed from its bank's funding
//! account to the merchant's available balance, then serviced by [`crate::servicing`] and
//! repaid into the bank's repayment account — from the merchant's available balance when
//! instalments fall due or the merchant prepays, and from settlements through the settlement
//! book's withholding hook ([`Withholder`]).
//!
//! # Records
//!
//! A [`LoanRecord`] is the loan's terms ([`LoanSpec`]) and its history: every operation that
//! changed it ([`Op`]: a payment, a collection from a settlement, relief, a write-off), in
//! order. The servicing state ([`Loan`]) is not stored; it is rebuilt by replaying the history
//! on the terms ([`LoanRecord::rebuild`]), which is deterministic, so the history is the loan's
//! one source of truth and its audit trail at once. An operation keeps the amount the ledger
//! moved, and the replay checks it.
//!
//! # Time
//!
//! A loan is serviced on calendar days (UTC). An operation dated before the day the loan
//! already stands on (a settlement whose event time is behind a payment already taken) is
//! applied on that day instead, and recorded so.
//!
//! # Ledger
//!
//! Each bank has two accounts in the settlement ledger ([`bank_accounts`]): *funding*, debited
//! by every disbursement (what the bank has lent through the platform), and *repayments*,
//! credited by every repayment (what the platform holds for the bank). Charges (interest,
//! fees, penalties) are not cash and are not posted; the loan's history holds them. A
//! loan's transfers have ids of their own ([`transfer_id`]): the disbursement and then one per
//! operation that moves money.
//!
//! Like the rest of the crate this module is pure: the store loads the records a group needs,
//! calls [`LoanBook::apply`], and writes the records [`LoanBook::changed`] names.

pub mod portfolio;
mod text;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chunlei_ledger::{Account, AccountFlags, CivilDate, Fen, Owner, OwnerKind, State, Transfer};
use chunlei_settlement::book::{Book, SYSTEM_ID_MIN, Withholding, merchant_accounts};
use chunlei_settlement::flows::PlatformAccounts;

use crate::schedule::Terms;
use crate::servicing::{Allocation, Loan, Policy, RevenueTerms, ServicingError, Summary};

pub use text::{SpecError, spec_from_text, spec_text};

/// Loan ids, payment ids and request ids have at most this many characters.
pub const LOAN_ID_CHARS_MAX: usize = 64;
/// Operations one loan records at most (its transfer ids leave room for this many).
pub const OPS_PER_LOAN_MAX: usize = (1 << 24) - 1;

/// Account codes of a bank's accounts, and transfer codes of loan transfers.
pub mod code {
    pub const BANK_FUNDING: u16 = 201;
    pub const BANK_REPAYMENTS: u16 = 202;
    /// The platform's share of joint loans.
    pub const PLATFORM_FUNDING: u16 = 211;
    pub const PLATFORM_REPAYMENTS: u16 = 212;
    pub const DISBURSEMENT: u16 = 201;
    pub const REPAYMENT: u16 = 202;
    pub const COLLECTION: u16 = 203;
}

/// Loan accounts and transfers live in this part of the settlement book's id space.
const LOANS_SPACE: u128 = 1 << 108;

/// A bank's accounts in the settlement ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankAccounts {
    pub funding: u128,
    pub repayments: u128,
}

/// The accounts of `bank_id`: derived from a 64-bit digest of the id, so no table maps banks
/// to numbers.
pub fn bank_accounts(bank_id: &str) -> BankAccounts {
    let base = SYSTEM_ID_MIN | LOANS_SPACE | (u128::from(fnv1a(bank_id.as_bytes())) << 16);
    BankAccounts {
        funding: base | u128::from(code::BANK_FUNDING),
        repayments: base | u128::from(code::BANK_REPAYMENTS),
    }
}

/// The id of transfer `n` of the loan numbered `seq` (0 is the disbursement).
pub fn transfer_id(seq: u64, n: usize) -> u128 {
    SYSTEM_ID_MIN | LOANS_SPACE | (u128::from(seq) << 24) | (n as u128 & 0xFF_FFFF)
}

/// The id of the platform's leg of transfer `n` of a joint loan.
pub fn platform_leg_id(seq: u64, n: usize) -> u128 {
    transfer_id(seq, n) | PLATFORM_LEG
}

/// Marks the platform's legs of joint loans (above every loan number's bits).
const PLATFORM_LEG: u128 = 1 << 106;

/// The platform's accounts for its part of joint loans: what it lent and what came back.
pub fn platform_lending_accounts() -> BankAccounts {
    BankAccounts {
        funding: chunlei_settlement::book::system_account_id(0, code::PLATFORM_FUNDING),
        repayments: chunlei_settlement::book::system_account_id(0, code::PLATFORM_REPAYMENTS),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The UTC day of a timestamp in nanoseconds since the Unix epoch (every `u64` falls between
/// 1970 and 2554, inside the calendar's range).
pub fn day_of(ns: u64) -> CivilDate {
    let days = i32::try_from(ns / 86_400_000_000_000).unwrap_or(0);
    CivilDate::from_days(days)
        .or_else(|| CivilDate::from_days(0))
        .unwrap_or_else(|| unreachable!("1970-01-01 is in the calendar"))
}

/// What a loan is: its product's terms and how it is serviced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanSpec {
    pub product: ProductSpec,
    pub policy: Policy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductSpec {
    Amortising { terms: Terms, instalment_fee: Fen },
    RevenueBased(RevenueTerms),
}

impl LoanSpec {
    pub fn principal(&self) -> Fen {
        match &self.product {
            ProductSpec::Amortising { terms, .. } => terms.principal,
            ProductSpec::RevenueBased(terms) => terms.principal,
        }
    }

    pub fn disbursed_on(&self) -> CivilDate {
        match &self.product {
            ProductSpec::Amortising { terms, .. } => terms.disbursed_on,
            ProductSpec::RevenueBased(terms) => terms.disbursed_on,
        }
    }

    /// The loan as disbursed, before any operation.
    pub fn open(&self) -> Result<Loan, ServicingError> {
        match &self.product {
            ProductSpec::Amortising {
                terms,
                instalment_fee,
            } => Loan::from_terms(terms, *instalment_fee, self.policy),
            ProductSpec::RevenueBased(terms) => Loan::revenue_based(terms, self.policy),
        }
    }
}

/// One thing that happened to a loan after disbursement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    /// The day it applied on.
    pub on: CivilDate,
    /// Ledger time (ns) it was applied at.
    pub at: u64,
    /// A payment's amount offered, or a settlement's net before withholding; zero for relief
    /// and write-offs.
    pub amount: Fen,
    /// What the ledger moved to the bank.
    pub taken: Fen,
    /// The payment or request id, or the order whose settlement was withheld from.
    pub reference: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// The merchant paid from its available balance (a prepayment, or any payment it chose).
    Payment,
    /// Collected from the available balance because it was due.
    DueCollection,
    /// Withheld from a settlement.
    Withheld,
    /// A repayment holiday up to and including `to`.
    Holiday {
        to: CivilDate,
    },
    /// No interest up to and including `to`.
    InterestFree {
        to: CivilDate,
    },
    WriteOff,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Payment => "payment",
            OpKind::DueCollection => "due_collection",
            OpKind::Withheld => "withheld",
            OpKind::Holiday { .. } => "holiday",
            OpKind::InterestFree { .. } => "interest_free",
            OpKind::WriteOff => "write_off",
        }
    }
}

impl Op {
    /// The day the operation belongs to in reports: the day relief was granted (its dates may
    /// lie ahead), the day anything else applied on.
    pub fn recorded_on(&self) -> CivilDate {
        match self.kind {
            OpKind::Holiday { .. } | OpKind::InterestFree { .. } => day_of(self.at).min(self.on),
            OpKind::Payment | OpKind::DueCollection | OpKind::Withheld | OpKind::WriteOff => {
                self.on
            }
        }
    }
}

/// A loan: who, what, and its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanRecord {
    pub id: String,
    /// Numbers the loan's transfers; unique, from 1.
    pub seq: u64,
    pub application_id: String,
    pub merchant_id: String,
    pub bank_id: String,
    pub spec: LoanSpec,
    /// What the platform lent of the principal in a joint loan (zero otherwise); repayments
    /// are shared in proportion.
    pub platform_part: Fen,
    /// Ledger time of the disbursement (ns).
    pub disbursed_at: u64,
    pub ops: Vec<Op>,
    /// The servicing state: the spec with every op replayed.
    pub loan: Loan,
}

impl LoanRecord {
    /// The loan's servicing state from its terms and history; an error if the history does
    /// not replay to the amounts it records (a corrupt record).
    pub fn rebuild(spec: &LoanSpec, ops: &[Op]) -> Result<Loan, String> {
        let mut loan = spec.open().map_err(|e| format!("terms: {e}"))?;
        for (n, op) in ops.iter().enumerate() {
            let taken = replay(&mut loan, op).map_err(|e| format!("op {}: {e}", n + 1))?;
            if taken != op.taken {
                return Err(format!(
                    "op {}: the ledger took {} fen but the replay takes {}",
                    n + 1,
                    op.taken.get(),
                    taken.get()
                ));
            }
        }
        Ok(loan)
    }

    /// The loan's state moved to `day` (no earlier than the day it stands on), as a report.
    pub fn summary_on(&self, day: CivilDate) -> Summary {
        let mut loan = self.loan.clone();
        if day > loan.as_of() {
            let _ = loan.on_day(day);
        }
        loan.summary()
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.loan.status(),
            crate::servicing::Status::Active | crate::servicing::Status::InArrears
        )
    }

    fn find(&self, reference: &str) -> Option<&Op> {
        self.ops
            .iter()
            .find(|op| op.reference == reference && !matches!(op.kind, OpKind::Withheld))
    }
}

/// Applies one op to `loan`, returning what it takes from the merchant.
fn replay(loan: &mut Loan, op: &Op) -> Result<Fen, ServicingError> {
    Ok(match op.kind {
        OpKind::Payment | OpKind::DueCollection => {
            let allocation = loan.apply_payment(op.on, op.amount)?;
            taken(&allocation)
        }
        OpKind::Withheld => loan.collect_from_settlement(op.on, op.amount)?.withheld,
        OpKind::Holiday { to } => {
            loan.grant_holiday(op.on, to)?;
            Fen::ZERO
        }
        OpKind::InterestFree { to } => {
            loan.grant_interest_free(op.on, to)?;
            Fen::ZERO
        }
        OpKind::WriteOff => {
            loan.write_off(op.on)?;
            Fen::ZERO
        }
    })
}

fn taken(allocation: &Allocation) -> Fen {
    allocation.amount.saturating_sub(allocation.excess)
}

/// A command to the loan book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoanCommand {
    /// Opens the loan and pays the principal to the merchant. Idempotent by loan id; one loan
    /// per application.
    Disburse(Disbursement),
    /// The merchant pays `amount` from its available balance; what is not due prepays.
    /// Idempotent by payment id.
    Pay {
        loan_id: String,
        payment_id: String,
        on: CivilDate,
        amount: Fen,
    },
    /// Relief or a write-off, idempotent by request id.
    Adjust {
        loan_id: String,
        request_id: String,
        on: CivilDate,
        adjustment: Adjustment,
    },
    /// Collects what is due on `on` from the merchant's available balance (as much as it
    /// holds) for each loan named.
    CollectDue {
        loan_ids: Vec<String>,
        on: CivilDate,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disbursement {
    pub loan_id: String,
    pub application_id: String,
    pub merchant_id: String,
    pub bank_id: String,
    pub spec: LoanSpec,
    /// The platform's part of a joint loan, below the principal; zero for the bank alone.
    pub platform_part: Fen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adjustment {
    Holiday { to: CivilDate },
    InterestFree { to: CivilDate },
    WriteOff,
}

/// What a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoanApplied {
    /// Disbursed now, or earlier under the same id with the same content (`existed`).
    Disbursed { seq: u64, existed: bool },
    /// A payment, relief or write-off: what the ledger moved (zero for relief), and whether it
    /// was applied earlier under the same id.
    Done { taken: Fen, existed: bool },
    /// Due collection: what was collected, loan by loan (loans with nothing due are left out).
    Collected(Vec<(String, Fen)>),
}

/// Why a command was refused; it changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoanRejection {
    LoanNotFound,
    /// The loan id is taken by a loan of different content.
    LoanIdConflict,
    /// The application was accepted already, as another loan.
    ApplicationAlreadyAccepted {
        loan_id: String,
    },
    /// The request id is taken by an operation of different content.
    RequestIdConflict,
    /// The merchant has no settlement account yet (no order was ever settled for it).
    MerchantHasNoAccount,
    /// The merchant's available balance is below the payment.
    InsufficientFunds {
        available: Fen,
    },
    /// The loan has recorded [`OPS_PER_LOAN_MAX`] operations.
    TooManyOperations,
    /// A joint loan's platform part is not below its principal.
    PlatformPartTooLarge,
    /// The servicing rules refuse it.
    Servicing(ServicingError),
}

impl LoanRejection {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LoanRejection::LoanNotFound => "loan_not_found",
            LoanRejection::LoanIdConflict => "loan_id_conflict",
            LoanRejection::ApplicationAlreadyAccepted { .. } => "application_already_accepted",
            LoanRejection::RequestIdConflict => "request_id_conflict",
            LoanRejection::MerchantHasNoAccount => "merchant_has_no_account",
            LoanRejection::InsufficientFunds { .. } => "insufficient_funds",
            LoanRejection::TooManyOperations => "too_many_operations",
            LoanRejection::PlatformPartTooLarge => "platform_part_too_large",
            LoanRejection::Servicing(e) => servicing_code(e),
        }
    }

    pub fn message(&self) -> String {
        match self {
            LoanRejection::LoanNotFound => "no loan has this id".into(),
            LoanRejection::LoanIdConflict => {
                "this loan id was used for a loan with different content".into()
            }
            LoanRejection::ApplicationAlreadyAccepted { loan_id } => {
                format!("this application was accepted already, as loan {loan_id}")
            }
            LoanRejection::RequestIdConflict => {
                "this id was used for an operation with different content".into()
            }
            LoanRejection::MerchantHasNoAccount => {
                "the merchant has no settlement account yet: no order of it was settled".into()
            }
            LoanRejection::InsufficientFunds { available } => format!(
                "the merchant's available balance is {} fen, less than the payment",
                available.get()
            ),
            LoanRejection::TooManyOperations => {
                format!("a loan records at most {OPS_PER_LOAN_MAX} operations")
            }
            LoanRejection::PlatformPartTooLarge => {
                "the platform's part of a joint loan must be below its principal".into()
            }
            LoanRejection::Servicing(e) => e.to_string(),
        }
    }
}

fn servicing_code(error: &ServicingError) -> &'static str {
    match error {
        ServicingError::LoanClosed => "loan_closed",
        ServicingError::LoanWrittenOff => "loan_written_off",
        ServicingError::PaymentZero => "amount_zero",
        ServicingError::DateBeforeAsOf { .. } => "date_before_loan_day",
        ServicingError::ReliefEndsBeforeStart { .. }
        | ServicingError::ReliefStartsBeforeAsOf { .. }
        | ServicingError::ReliefTooLong { .. }
        | ServicingError::HolidayOverlapsEarlier { .. } => "relief_invalid",
        ServicingError::ReliefMeasuresMax => "relief_measures_max",
        ServicingError::DueDateOutOfRange => "due_date_out_of_range",
        ServicingError::Schedule(_)
        | ServicingError::PrincipalOutOfRange { .. }
        | ServicingError::ScheduleEmpty
        | ServicingError::ScheduleTooLong { .. }
        | ServicingError::ScheduleMismatch { .. }
        | ServicingError::FeeAboveMaximum { .. }
        | ServicingError::WithholdingOutOfRange { .. }
        | ServicingError::MinimumTooLow { .. } => "terms_invalid",
    }
}

pub type LoanResult = Result<LoanApplied, LoanRejection>;

/// Keys of what a group changed, for the store to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoanKeys {
    /// Loans created by this group.
    pub created: BTreeSet<String>,
    /// Loans whose history grew: how many ops each had before the group (new ones from there
    /// are inserted).
    pub grown: BTreeMap<String, usize>,
    /// Principal lent, added to each bank's usage: (bank, dimension, key) → fen, dimensions
    /// as [`usage_keys`] gives them.
    pub usage: BTreeMap<(String, &'static str, String), u64>,
}

/// The usage rows a disbursement on `day` to a merchant of `region_code` and `industry` adds
/// to: lent that day, in all, in the province (the region code's first two digits) and in the
/// industry.
pub fn usage_keys(
    day: CivilDate,
    region_code: &str,
    industry: &str,
) -> [(&'static str, String); 4] {
    [
        ("day", day.to_string()),
        ("total", String::new()),
        ("region", region_code.chars().take(2).collect()),
        ("industry", industry.to_owned()),
    ]
}

impl LoanKeys {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.grown.is_empty() && self.usage.is_empty()
    }

    pub fn extend(&mut self, other: &LoanKeys) {
        self.created.extend(other.created.iter().cloned());
        for (id, from) in &other.grown {
            let entry = self.grown.entry(id.clone()).or_insert(*from);
            *entry = (*entry).min(*from);
        }
        for (key, lent) in &other.usage {
            *self.usage.entry(key.clone()).or_insert(0) += lent;
        }
    }
}

/// The working set of loans: the records a group touches, loaded by the store.
#[derive(Debug, Default)]
pub struct LoanBook {
    pub loans: BTreeMap<String, LoanRecord>,
    /// Application id → loan id, for the loans loaded.
    pub by_application: BTreeMap<String, String>,
    /// The highest loan number in use (loaded by the store before disbursing).
    pub last_seq: u64,
    pub changed: LoanKeys,
}

/// What a group of commands needs loaded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoanNeeds {
    pub loans: Vec<String>,
    pub applications: Vec<String>,
    pub merchants: Vec<String>,
}

impl LoanBook {
    pub fn needs<'c>(&self, commands: impl IntoIterator<Item = &'c LoanCommand>) -> LoanNeeds {
        let mut needs = LoanNeeds::default();
        for command in commands {
            match command {
                LoanCommand::Disburse(d) => {
                    needs.loans.push(d.loan_id.clone());
                    needs.applications.push(d.application_id.clone());
                    needs.merchants.push(d.merchant_id.clone());
                }
                LoanCommand::Pay { loan_id, .. } | LoanCommand::Adjust { loan_id, .. } => {
                    needs.loans.push(loan_id.clone());
                }
                LoanCommand::CollectDue { loan_ids, .. } => {
                    needs.loans.extend(loan_ids.iter().cloned());
                }
            }
        }
        needs.loans.retain(|id| !self.loans.contains_key(id));
        for list in [
            &mut needs.loans,
            &mut needs.applications,
            &mut needs.merchants,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        needs
    }

    /// Adds a loaded record.
    pub fn insert(&mut self, record: LoanRecord) {
        self.last_seq = self.last_seq.max(record.seq);
        self.by_application
            .insert(record.application_id.clone(), record.id.clone());
        self.loans.insert(record.id.clone(), record);
    }

    /// Merchants of loaded loans, for the store to load their settlement records.
    pub fn merchants(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.loans.values().map(|l| l.merchant_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The ledger accounts the loaded loans use (and the platform's lending accounts).
    pub fn ledger_needs(&self) -> Vec<u128> {
        let platform = platform_lending_accounts();
        let mut banks: Vec<&str> = self.loans.values().map(|l| l.bank_id.as_str()).collect();
        banks.sort_unstable();
        banks.dedup();
        banks
            .into_iter()
            .flat_map(|b| {
                let a = bank_accounts(b);
                [a.funding, a.repayments]
            })
            .chain([platform.funding, platform.repayments])
            .collect()
    }

    /// Forgets every record except those `keep` names.
    pub fn retain(&mut self, keep: &LoanKeys) {
        self.loans
            .retain(|id, _| keep.created.contains(id) || keep.grown.contains_key(id));
        let loans = &self.loans;
        self.by_application.retain(|_, id| loans.contains_key(id));
    }

    /// Applies `commands` in order at ledger time `now`, with the settlement records of the
    /// merchants named loaded into `book`.
    pub fn apply(
        &mut self,
        book: &Book,
        ledger_id: u32,
        ledger: &mut State,
        now: u64,
        commands: &[LoanCommand],
    ) -> Vec<LoanResult> {
        let mut desk = Desk {
            loans: self,
            book,
            ledger_id,
            ledger,
            now,
        };
        commands
            .iter()
            .map(|command| match command {
                LoanCommand::Disburse(d) => desk.disburse(d),
                LoanCommand::Pay {
                    loan_id,
                    payment_id,
                    on,
                    amount,
                } => desk.pay(loan_id, payment_id, *on, *amount),
                LoanCommand::Adjust {
                    loan_id,
                    request_id,
                    on,
                    adjustment,
                } => desk.adjust(loan_id, request_id, *on, *adjustment),
                LoanCommand::CollectDue { loan_ids, on } => desk.collect_due(loan_ids, *on),
            })
            .collect()
    }

    /// The withholding hook for a settlement group: withholds for the open loans loaded, and
    /// posts what it withheld from the platform's withholding account to the banks.
    pub fn withholder<'a>(
        &'a mut self,
        platform: &'a PlatformAccounts,
        now: u64,
        pending: &'a mut Vec<Transfer>,
    ) -> Withholder<'a> {
        let mut by_merchant: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut open: Vec<&LoanRecord> = self.loans.values().filter(|l| l.is_open()).collect();
        open.sort_by_key(|l| l.seq);
        for loan in open {
            by_merchant
                .entry(loan.merchant_id.clone())
                .or_default()
                .push(loan.id.clone());
        }
        Withholder {
            loans: self,
            by_merchant,
            platform,
            now,
            pending,
        }
    }

    fn record_op(&mut self, loan_id: &str, op: Op) {
        let Some(record) = self.loans.get_mut(loan_id) else {
            return;
        };
        if !self.changed.created.contains(loan_id) {
            self.changed
                .grown
                .entry(loan_id.to_owned())
                .or_insert(record.ops.len());
        }
        record.ops.push(op);
    }
}

/// Applies loan commands: the loans, the merchants' settlement records and the ledger.
struct Desk<'a> {
    loans: &'a mut LoanBook,
    book: &'a Book,
    ledger_id: u32,
    ledger: &'a mut State,
    now: u64,
}

impl Desk<'_> {
    fn available_account(&self, merchant_id: &str) -> Option<u128> {
        self.book
            .merchants
            .get(merchant_id)
            .map(|m| merchant_accounts(m.seq).available)
    }

    fn available(&self, account: u128) -> Fen {
        self.ledger.accounts.get(&account).map_or(Fen::ZERO, |a| {
            a.credits_posted
                .saturating_sub(a.debits_posted)
                .saturating_sub(a.debits_pending)
        })
    }

    /// Applies `legs` as one linked chain: all or nothing.
    fn run(&mut self, legs: &mut [Transfer]) -> bool {
        let last = legs.len().saturating_sub(1);
        for leg in legs.iter_mut().take(last) {
            leg.flags = leg.flags.union(chunlei_ledger::TransferFlags::LINKED);
        }
        self.ledger
            .create_transfers(self.now, legs)
            .iter()
            .all(|r| *r == chunlei_ledger::CreateTransferResult::Ok)
    }

    fn disburse(&mut self, d: &Disbursement) -> LoanResult {
        if let Some(existing) = self.loans.loans.get(&d.loan_id) {
            let same = existing.application_id == d.application_id
                && existing.merchant_id == d.merchant_id
                && existing.bank_id == d.bank_id
                && existing.spec == d.spec
                && existing.platform_part == d.platform_part;
            return if same {
                Ok(LoanApplied::Disbursed {
                    seq: existing.seq,
                    existed: true,
                })
            } else {
                Err(LoanRejection::LoanIdConflict)
            };
        }
        if let Some(loan_id) = self.loans.by_application.get(&d.application_id) {
            return Err(LoanRejection::ApplicationAlreadyAccepted {
                loan_id: loan_id.clone(),
            });
        }
        let loan = d.spec.open().map_err(LoanRejection::Servicing)?;
        let principal = d.spec.principal();
        if d.platform_part >= principal {
            return Err(LoanRejection::PlatformPartTooLarge);
        }
        let available = self
            .available_account(&d.merchant_id)
            .ok_or(LoanRejection::MerchantHasNoAccount)?;
        let bank = bank_accounts(&d.bank_id);
        let platform = platform_lending_accounts();
        let bank_owner = Owner {
            kind: OwnerKind::Bank,
            id: d.bank_id.clone(),
        };
        let platform_owner = Owner {
            kind: OwnerKind::Platform,
            id: String::new(),
        };
        let accounts: Vec<Account> = [
            (bank.funding, code::BANK_FUNDING, &bank_owner),
            (bank.repayments, code::BANK_REPAYMENTS, &bank_owner),
            (platform.funding, code::PLATFORM_FUNDING, &platform_owner),
            (
                platform.repayments,
                code::PLATFORM_REPAYMENTS,
                &platform_owner,
            ),
        ]
        .into_iter()
        .filter(|(id, _, _)| !self.ledger.accounts.contains_key(id))
        .map(|(id, code, owner)| Account {
            flags: AccountFlags::empty(),
            owner: owner.clone(),
            ..Account::new(id, self.ledger_id, code)
        })
        .collect();
        if !accounts.is_empty() {
            self.ledger.create_accounts(self.now, &accounts);
        }
        let seq = self.loans.last_seq + 1;
        let bank_part = principal.saturating_sub(d.platform_part);
        let mut legs = vec![Transfer {
            ledger: self.ledger_id,
            code: code::DISBURSEMENT,
            ..Transfer::new(transfer_id(seq, 0), bank.funding, available, bank_part)
        }];
        if !d.platform_part.is_zero() {
            legs.push(Transfer {
                ledger: self.ledger_id,
                code: code::DISBURSEMENT,
                ..Transfer::new(
                    platform_leg_id(seq, 0),
                    platform.funding,
                    available,
                    d.platform_part,
                )
            });
        }
        if !self.run(&mut legs) {
            return Err(LoanRejection::MerchantHasNoAccount);
        }
        self.loans.last_seq = seq;
        self.loans.changed.created.insert(d.loan_id.clone());
        let (region, industry) = self
            .book
            .registry
            .get(&d.merchant_id)
            .map_or(("", ""), |m| (m.region_code.as_str(), m.category.as_str()));
        for (dimension, key) in usage_keys(d.spec.disbursed_on(), region, industry) {
            *self
                .loans
                .changed
                .usage
                .entry((d.bank_id.clone(), dimension, key))
                .or_insert(0) += bank_part.get();
        }
        self.loans.insert(LoanRecord {
            id: d.loan_id.clone(),
            seq,
            application_id: d.application_id.clone(),
            merchant_id: d.merchant_id.clone(),
            bank_id: d.bank_id.clone(),
            spec: d.spec.clone(),
            platform_part: d.platform_part,
            disbursed_at: self.now,
            ops: Vec::new(),
            loan,
        });
        Ok(LoanApplied::Disbursed {
            seq,
            existed: false,
        })
    }

    fn record(&self, loan_id: &str) -> Result<&LoanRecord, LoanRejection> {
        self.loans
            .loans
            .get(loan_id)
            .ok_or(LoanRejection::LoanNotFound)
    }

    fn pay(&mut self, loan_id: &str, payment_id: &str, on: CivilDate, amount: Fen) -> LoanResult {
        let record = self.record(loan_id)?;
        if let Some(op) = record.find(payment_id) {
            return if op.kind == OpKind::Payment && op.amount == amount {
                Ok(LoanApplied::Done {
                    taken: op.taken,
                    existed: true,
                })
            } else {
                Err(LoanRejection::RequestIdConflict)
            };
        }
        if record.ops.len() >= OPS_PER_LOAN_MAX {
            return Err(LoanRejection::TooManyOperations);
        }
        let on = on.max(record.loan.as_of());
        let mut loan = record.loan.clone();
        let allocation = loan
            .apply_payment(on, amount)
            .map_err(LoanRejection::Servicing)?;
        let taken = taken(&allocation);
        let account = self
            .available_account(&record.merchant_id)
            .ok_or(LoanRejection::MerchantHasNoAccount)?;
        let available = self.available(account);
        if available < taken {
            return Err(LoanRejection::InsufficientFunds { available });
        }
        let op = Op {
            kind: OpKind::Payment,
            on,
            at: self.now,
            amount,
            taken,
            reference: payment_id.to_owned(),
        };
        self.take(loan_id, loan, op, account)?;
        Ok(LoanApplied::Done {
            taken,
            existed: false,
        })
    }

    /// Moves `op.taken` from `from` to the loan's bank and records the op with the loan's
    /// new state.
    fn take(&mut self, loan_id: &str, loan: Loan, op: Op, from: u128) -> Result<(), LoanRejection> {
        let record = self.record(loan_id)?;
        let code = if op.kind == OpKind::Withheld {
            code::COLLECTION
        } else {
            code::REPAYMENT
        };
        let mut legs = repayment_legs(record, record.ops.len() + 1, from, op.taken, code);
        for leg in &mut legs {
            leg.ledger = self.ledger_id;
        }
        if !legs.is_empty() && !self.run(&mut legs) {
            let available = self.available(from);
            return Err(LoanRejection::InsufficientFunds { available });
        }
        if let Some(record) = self.loans.loans.get_mut(loan_id) {
            record.loan = loan;
        }
        self.loans.record_op(loan_id, op);
        Ok(())
    }

    fn adjust(
        &mut self,
        loan_id: &str,
        request_id: &str,
        on: CivilDate,
        adjustment: Adjustment,
    ) -> LoanResult {
        let record = self.record(loan_id)?;
        let kind = match adjustment {
            Adjustment::Holiday { to } => OpKind::Holiday { to },
            Adjustment::InterestFree { to } => OpKind::InterestFree { to },
            Adjustment::WriteOff => OpKind::WriteOff,
        };
        if let Some(op) = record.find(request_id) {
            return if op.kind == kind && (op.on == on || kind == OpKind::WriteOff) {
                Ok(LoanApplied::Done {
                    taken: Fen::ZERO,
                    existed: true,
                })
            } else {
                Err(LoanRejection::RequestIdConflict)
            };
        }
        if record.ops.len() >= OPS_PER_LOAN_MAX {
            return Err(LoanRejection::TooManyOperations);
        }
        // A write-off applies on the day the loan stands on at the latest; relief keeps its
        // dates (the servicing rules refuse relief that starts in the past).
        let on = if kind == OpKind::WriteOff {
            on.max(record.loan.as_of())
        } else {
            on
        };
        let op = Op {
            kind,
            on,
            at: self.now,
            amount: Fen::ZERO,
            taken: Fen::ZERO,
            reference: request_id.to_owned(),
        };
        let mut loan = record.loan.clone();
        replay(&mut loan, &op).map_err(LoanRejection::Servicing)?;
        if let Some(record) = self.loans.loans.get_mut(loan_id) {
            record.loan = loan;
        }
        self.loans.record_op(loan_id, op);
        Ok(LoanApplied::Done {
            taken: Fen::ZERO,
            existed: false,
        })
    }

    fn collect_due(&mut self, loan_ids: &[String], on: CivilDate) -> LoanResult {
        let mut collected = Vec::new();
        for loan_id in loan_ids {
            let Ok(record) = self.record(loan_id) else {
                continue;
            };
            if !record.is_open() || record.ops.len() >= OPS_PER_LOAN_MAX {
                continue;
            }
            let Some(account) = self.available_account(&record.merchant_id) else {
                continue;
            };
            let day = on.max(record.loan.as_of());
            let mut loan = record.loan.clone();
            if loan.on_day(day).is_err() {
                continue;
            }
            let due = loan.summary().due;
            let amount = due.min(self.available(account));
            let reference = format!("due:{day}");
            // Once a day at most; the loan's stored state stays where it was when nothing is
            // taken (the next operation moves it).
            if amount.is_zero() || record.find(&reference).is_some() {
                continue;
            }
            let Ok(allocation) = loan.apply_payment(day, amount) else {
                continue;
            };
            let op = Op {
                kind: OpKind::DueCollection,
                on: day,
                at: self.now,
                amount,
                taken: taken(&allocation),
                reference,
            };
            let taken = op.taken;
            if self.take(loan_id, loan, op, account).is_ok() {
                collected.push((loan_id.clone(), taken));
            }
        }
        Ok(LoanApplied::Collected(collected))
    }
}

/// The transfers that pay `taken` from `from` to the lenders of `record` as its `n`-th
/// operation: the platform's share of a joint loan (in proportion to its part of the
/// principal, rounded down) to the platform, the rest to the bank. The ledger is left at 0 for
/// the caller to set.
fn repayment_legs(
    record: &LoanRecord,
    n: usize,
    from: u128,
    taken: Fen,
    code: u16,
) -> Vec<Transfer> {
    let principal = u128::from(record.spec.principal().get().max(1));
    let platform_share =
        u64::try_from(u128::from(taken.get()) * u128::from(record.platform_part.get()) / principal)
            .map_or(Fen::ZERO, |v| Fen::new(v).unwrap_or(Fen::ZERO));
    let bank_share = taken.saturating_sub(platform_share);
    let mut legs = Vec::with_capacity(2);
    if !bank_share.is_zero() {
        legs.push(Transfer {
            code,
            ..Transfer::new(
                transfer_id(record.seq, n),
                from,
                bank_accounts(&record.bank_id).repayments,
                bank_share,
            )
        });
    }
    if !platform_share.is_zero() {
        legs.push(Transfer {
            code,
            ..Transfer::new(
                platform_leg_id(record.seq, n),
                from,
                platform_lending_accounts().repayments,
                platform_share,
            )
        });
    }
    legs
}

/// The settlement book's withholding hook over the loans of a group (see
/// [`LoanBook::withholder`]): each open loan of the merchant, oldest first, takes what its
/// product takes from what the loans before it left.
#[derive(Debug)]
pub struct Withholder<'a> {
    loans: &'a mut LoanBook,
    by_merchant: BTreeMap<String, Vec<String>>,
    platform: &'a PlatformAccounts,
    now: u64,
    /// The transfers from the platform's withholding account to the banks, for the store to
    /// create after the settlement chains.
    pending: &'a mut Vec<Transfer>,
}

impl Withholder<'_> {
    /// Each loan's share of a settlement of `net` on `day`, from the loans' states now.
    fn shares(&self, merchant_id: &str, day: CivilDate, net: Fen) -> Vec<(String, Loan, Op)> {
        let mut shares = Vec::new();
        let mut left = net;
        for loan_id in self.by_merchant.get(merchant_id).into_iter().flatten() {
            let Some(record) = self.loans.loans.get(loan_id) else {
                continue;
            };
            if left.is_zero() || record.ops.len() >= OPS_PER_LOAN_MAX {
                break;
            }
            let on = day.max(record.loan.as_of());
            let mut loan = record.loan.clone();
            let Ok(collection) = loan.collect_from_settlement(on, left) else {
                continue;
            };
            if collection.withheld.is_zero() {
                continue;
            }
            let op = Op {
                kind: OpKind::Withheld,
                on,
                at: 0,
                amount: left,
                taken: collection.withheld,
                reference: String::new(),
            };
            left = left.saturating_sub(collection.withheld);
            shares.push((loan_id.clone(), loan, op));
        }
        shares
    }
}

impl Withholding for Withholder<'_> {
    fn quote(&self, merchant_id: &str, at: u64, net: Fen) -> Fen {
        self.shares(merchant_id, day_of(at), net)
            .iter()
            .fold(Fen::ZERO, |sum, (_, _, op)| sum.saturating_add(op.taken))
    }

    fn withheld(&mut self, merchant_id: &str, order_id: &str, at: u64, net: Fen, _withheld: Fen) {
        for (loan_id, loan, mut op) in self.shares(merchant_id, day_of(at), net) {
            let Some(record) = self.loans.loans.get_mut(&loan_id) else {
                continue;
            };
            op.reference = order_id.to_owned();
            op.at = self.now;
            let legs = repayment_legs(
                record,
                record.ops.len() + 1,
                self.platform.loan_withholding,
                op.taken,
                code::COLLECTION,
            );
            self.pending.extend(legs.into_iter().map(|leg| Transfer {
                ledger: self.platform.ledger,
                ..leg
            }));
            record.loan = loan;
            self.loans.record_op(&loan_id, op);
        }
    }
}
