//! The records the settlement book keeps, and what its commands say and answer.

/// Maps and sets keyed by ids (orders, events, merchants, payouts); foldhash is several times
/// faster than the standard hasher, and the keys come from authenticated callers.
pub type KeyMap<V> = std::collections::HashMap<String, V, foldhash::fast::RandomState>;
pub type KeySet = std::collections::HashSet<String, foldhash::fast::RandomState>;

use chunlei_ledger::{CreateTransferResult, Fen};

use crate::{LifecycleError, MerchantMetrics, Order, OrderEvent};

/// A command to the settlement book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Order(EventIn),
    Payout(PayoutIn),
    PayoutResult(PayoutResultIn),
}

/// An order event as the marketplace sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIn {
    /// Unique per event: the idempotency key.
    pub event_id: String,
    pub order_id: String,
    pub merchant_id: String,
    /// When it happened (ns since the epoch): the programme decides on this time.
    pub occurred_at: u64,
    pub event: OrderEvent,
}

impl EventIn {
    /// A digest of everything the event says, to tell a re-sent event from a different one
    /// under the same id (64-bit FNV-1a over a canonical text; stable across versions).
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv1a::new();
        h.text(&self.order_id);
        h.text("|");
        h.text(&self.merchant_id);
        h.text("|");
        h.number(self.occurred_at);
        h.text("|");
        match &self.event {
            OrderEvent::Paid {
                amount,
                category,
                channel,
                ..
            } => {
                h.text("paid|");
                h.number(amount.get());
                h.text("|");
                h.text(category);
                h.text("|");
                h.text(channel);
            }
            OrderEvent::Shipped { shipping } => {
                h.text("shipped|");
                h.text(shipping.as_str());
            }
            OrderEvent::Confirmed => h.text("confirmed"),
            OrderEvent::Refunded { amount } => {
                h.text("refunded|");
                h.number(amount.get());
            }
            OrderEvent::Cancelled => h.text("cancelled"),
        }
        h.0
    }
}

/// 64-bit FNV-1a over the canonical text `order|merchant|occurred_at|kind|details…`, fed piece
/// by piece (numbers in decimal) so that no text is built.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn text(&mut self, text: &str) {
        for byte in text.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn number(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        for byte in &digits[at..] {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A payout request: all of the available balance when `amount` is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutIn {
    pub payout_id: String,
    pub merchant_id: String,
    pub amount: Option<Fen>,
}

/// The bank's answer to a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutResultIn {
    pub payout_id: String,
    pub succeeded: bool,
}

/// What an applied command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `paid`: the buyer's money is in escrow.
    Escrowed,
    /// `shipped`: the merchant was paid at once.
    Advanced,
    /// `shipped`: not advanced (see the reason); settled on confirmation instead.
    NotAdvanced,
    /// `confirmed` after an advance: escrow repaid the pool.
    AdvanceRepaid,
    /// `confirmed` without an advance: escrow paid the merchant.
    Settled,
    /// Refunded or cancelled from escrow, before the merchant was paid.
    Refunded,
    /// Refunded after an advance: the advance was recovered from the merchant.
    ClawedBack,
    /// Refunded after confirmation: the merchant paid the buyer back.
    RecoveredFromMerchant,
    PayoutPending,
    PayoutPaid,
    PayoutFailed,
}

impl Effect {
    pub const ALL: [Effect; 11] = [
        Effect::Escrowed,
        Effect::Advanced,
        Effect::NotAdvanced,
        Effect::AdvanceRepaid,
        Effect::Settled,
        Effect::Refunded,
        Effect::ClawedBack,
        Effect::RecoveredFromMerchant,
        Effect::PayoutPending,
        Effect::PayoutPaid,
        Effect::PayoutFailed,
    ];

    /// The stable machine-readable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Escrowed => "escrowed",
            Effect::Advanced => "advanced",
            Effect::NotAdvanced => "not_advanced",
            Effect::AdvanceRepaid => "advance_repaid",
            Effect::Settled => "settled",
            Effect::Refunded => "refunded",
            Effect::ClawedBack => "clawed_back",
            Effect::RecoveredFromMerchant => "recovered_from_merchant",
            Effect::PayoutPending => "payout_pending",
            Effect::PayoutPaid => "payout_paid",
            Effect::PayoutFailed => "payout_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Effect> {
        Effect::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// An applied command's answer; the same command sent again gets the same answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub effect: Effect,
    /// Why an order was not advanced (`merchant_too_new`, `pool_cap_reached`, …).
    pub reason: Option<String>,
    /// For payouts: the amount paid out.
    pub amount: Option<Fen>,
}

impl Applied {
    pub fn new(effect: Effect) -> Applied {
        Applied {
            effect,
            reason: None,
            amount: None,
        }
    }

    pub fn not_advanced(reason: &str) -> Applied {
        Applied {
            effect: Effect::NotAdvanced,
            reason: Some(reason.to_owned()),
            amount: None,
        }
    }

    pub fn payout(record: &PayoutRecord) -> Applied {
        let effect = match record.status {
            PayoutStatus::Pending => Effect::PayoutPending,
            PayoutStatus::Paid => Effect::PayoutPaid,
            PayoutStatus::Failed => Effect::PayoutFailed,
        };
        Applied {
            effect,
            reason: None,
            amount: Some(record.amount),
        }
    }
}

/// Why a command was refused. A refused command changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    Lifecycle(LifecycleError),
    /// The event id was used before for an event that said something else.
    EventIdConflict,
    /// The event names another merchant than the order's.
    MerchantMismatch,
    /// The merchant is not in the registry.
    MerchantNotFound,
    /// The ledger refused the money movement (should not happen: a bug or tampered data).
    LedgerRejected(CreateTransferResult),
    PayoutIdConflict,
    PayoutNotFound,
    /// The bank's answer contradicts the one recorded before.
    PayoutAlreadySettled,
    NothingToPayOut,
    ExceedsAvailable,
}

impl Rejection {
    /// The stable machine-readable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Lifecycle(e) => e.as_str(),
            Rejection::EventIdConflict => "event_id_conflict",
            Rejection::MerchantMismatch => "merchant_mismatch",
            Rejection::MerchantNotFound => "merchant_not_found",
            Rejection::LedgerRejected(_) => "ledger_rejected",
            Rejection::PayoutIdConflict => "payout_id_conflict",
            Rejection::PayoutNotFound => "payout_not_found",
            Rejection::PayoutAlreadySettled => "payout_already_settled",
            Rejection::NothingToPayOut => "nothing_to_pay_out",
            Rejection::ExceedsAvailable => "exceeds_available",
        }
    }
}

/// How an order was settled: advanced on shipping, or paid on confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub advanced: bool,
    /// Event time of the settlement (ns).
    pub at: u64,
    pub gross: Fen,
    pub fee_standard: Fen,
    pub fee_charged: Fen,
    pub withholding: Fen,
    pub reserve: Fen,
    /// Paid to the merchant: gross − fee − withholding − reserve (of which `receivable_recovered`
    /// went to what the merchant owed).
    pub net: Fen,
    pub receivable_recovered: Fen,
}

/// An order as the settlement book keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub paid_at: u64,
    pub shipped_at: u64,
    pub confirmed_at: u64,
    /// When it is confirmed automatically if the buyer does not; 0 when nothing is due.
    pub auto_confirm_at: u64,
    pub settlement: Option<Settlement>,
    /// Why it was not advanced on shipping.
    pub not_advanced: Option<String>,
    /// When its reserve is released; 0 when nothing is due.
    pub reserve_release_at: u64,
    pub reserve_released: Fen,
    /// Of the reserve held for this order, what refunds of it took back before its release.
    pub reserve_used: Fen,
}

impl OrderRecord {
    pub fn new(order: Order, paid_at: u64) -> OrderRecord {
        OrderRecord {
            order,
            paid_at,
            shipped_at: 0,
            confirmed_at: 0,
            auto_confirm_at: 0,
            settlement: None,
            not_advanced: None,
            reserve_release_at: 0,
            reserve_released: Fen::ZERO,
            reserve_used: Fen::ZERO,
        }
    }

    /// What is still held in the reserve for this order: held at settlement, less what refunds
    /// took and what was released.
    pub fn reserve_held(&self) -> Fen {
        self.settlement
            .as_ref()
            .map_or(Fen::ZERO, |s| s.reserve)
            .saturating_sub(self.reserve_used)
            .saturating_sub(self.reserve_released)
    }

    /// The earliest scheduled work on this order (event time, ns); 0 when none.
    pub fn due_at(&self) -> u64 {
        match (self.auto_confirm_at, self.reserve_release_at) {
            (0, r) => r,
            (a, 0) => a,
            (a, r) => a.min(r),
        }
    }

    /// Seconds the merchant was paid before standard settlement (the buyer's confirmation);
    /// known once the order is confirmed.
    pub fn seconds_early(&self) -> Option<u64> {
        let s = self.settlement.as_ref()?;
        (self.confirmed_at != 0).then(|| self.confirmed_at.saturating_sub(s.at) / 1_000_000_000)
    }
}

/// An applied event, kept so that the same event sent again gets the same answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub order_id: String,
    pub fingerprint: u64,
    pub applied: Applied,
}

/// A merchant's place in the settlement book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MerchantBook {
    /// Numbers the merchant's ledger accounts ([`super::merchant_accounts`]).
    pub seq: u64,
    pub metrics: MerchantMetrics,
    /// The exposure cap granted when the merchant's accounts were opened.
    pub cap_granted: Fen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    Pending,
    Paid,
    Failed,
}

impl PayoutStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<PayoutStatus> {
        [
            PayoutStatus::Pending,
            PayoutStatus::Paid,
            PayoutStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRecord {
    pub merchant_id: String,
    /// What was asked for (`None`: everything available), for telling a re-sent request from a
    /// different one.
    pub requested: Option<Fen>,
    pub amount: Fen,
    pub status: PayoutStatus,
    /// The pending ledger transfer.
    pub transfer_id: u128,
    /// Ledger time of the request and of the bank's answer (ns).
    pub created_at: u64,
    pub settled_at: u64,
}

/// Programme-wide figures, kept as events arrive so reports never scan orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub advanced_count: u64,
    pub advanced_gross: Fen,
    /// Advances repaid by escrow or recovered on refund.
    pub exposure_released: Fen,
    pub advanced_confirmed: u64,
    /// Seconds between advance and confirmation, summed over confirmed advanced orders.
    pub days_saved_seconds: u64,
    pub fee_standard: Fen,
    pub fee_charged: Fen,
    pub withheld: Fen,
    /// Refunds recovered from merchants (after an advance or a settlement).
    pub clawed_back: Fen,
    /// Of those, what the merchants' balances could not cover.
    pub receivable_booked: Fen,
    pub receivable_recovered: Fen,
    pub paid_out: Fen,
}

impl Totals {
    /// Advances not yet repaid.
    pub fn outstanding(&self) -> Fen {
        self.advanced_gross.saturating_sub(self.exposure_released)
    }

    /// Receivables still owed.
    pub fn unrecovered(&self) -> Fen {
        self.receivable_booked
            .saturating_sub(self.receivable_recovered)
    }

    /// Average days a confirmed advanced order was paid early, in hundredths of a day.
    pub fn average_days_saved_centi(&self) -> u64 {
        if self.advanced_confirmed == 0 {
            return 0;
        }
        self.days_saved_seconds * 100 / 86_400 / self.advanced_confirmed
    }
}

/// One merchant's activity on one day (UTC, event time), kept as counters added to as events
/// arrive, so that loan features (sales over 30/90/365 days, refund rate, active days) never
/// scan orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyActivity {
    /// Orders paid and their gross.
    pub orders: u64,
    pub gross: Fen,
    /// Refund events and what they returned.
    pub refunds: u64,
    pub refunded: Fen,
    /// Orders settled (advanced or on confirmation) and the net paid for them.
    pub settlements: u64,
    pub settled_net: Fen,
}

impl DailyActivity {
    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &DailyActivity) {
        self.orders += other.orders;
        self.gross = self.gross.saturating_add(other.gross);
        self.refunds += other.refunds;
        self.refunded = self.refunded.saturating_add(other.refunded);
        self.settlements += other.settlements;
        self.settled_net = self.settled_net.saturating_add(other.settled_net);
    }
}

/// Activity added by one group, by merchant and day (days since 1970-01-01).
pub type ActivityDeltas =
    std::collections::HashMap<(String, i32), DailyActivity, foldhash::fast::RandomState>;

/// The book's counters and totals (one row).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub next_transfer_seq: u64,
    /// 0 until the platform's accounts exist.
    pub next_merchant_seq: u64,
    pub pool_funded: Fen,
    /// The latest event time applied (ns): the clock scheduled work runs on, so a replay of
    /// past events confirms and releases exactly as the live run did.
    pub event_clock: u64,
    pub totals: Totals,
}

/// Keys of the records a group changed.
#[derive(Clone, Debug, Default)]
pub struct BookKeys {
    pub orders: KeySet,
    pub events: KeySet,
    pub merchants: KeySet,
    pub payouts: KeySet,
    pub meta: bool,
    /// Of the orders, merchants and payouts changed, those created by this group: the store
    /// inserts them, and updates the others.
    pub new_orders: KeySet,
    pub new_merchants: KeySet,
    pub new_payouts: KeySet,
}

impl BookKeys {
    pub fn is_empty(&self) -> bool {
        !self.meta
            && self.orders.is_empty()
            && self.events.is_empty()
            && self.merchants.is_empty()
            && self.payouts.is_empty()
    }

    pub fn extend(&mut self, other: &BookKeys) {
        self.orders.extend(other.orders.iter().cloned());
        self.events.extend(other.events.iter().cloned());
        self.merchants.extend(other.merchants.iter().cloned());
        self.payouts.extend(other.payouts.iter().cloned());
        self.meta |= other.meta;
        self.new_orders.extend(other.new_orders.iter().cloned());
        self.new_merchants
            .extend(other.new_merchants.iter().cloned());
        self.new_payouts.extend(other.new_payouts.iter().cloned());
    }
}

#[cfg(test)]
mod tests;
