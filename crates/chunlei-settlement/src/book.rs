//! The settlement book: applies order events, payout instructions and due work (automatic
//! confirmation, reserve release) to orders, merchants and the ledger, as one pure step.
//!
//! The store loads the records a group of commands touches into a [`Book`] and the ledger
//! accounts into a [`State`], calls [`Book::apply`] (or [`Book::run_due`]), and writes what
//! the book and the ledger say changed in the same database transaction: an order's new state
//! and the money its event moved commit together or not at all.
//!
//! Each command is decided whole: its order (or payout) record changes only when every ledger
//! chain it needs succeeded, so a rejected command changes nothing but, at most, the creation of
//! a merchant's accounts.

use chunlei_ledger::{CreateTransferResult, Fen, State, Transfer, TransferFlags};

use crate::flows::{self, Ids, MerchantAccounts, PlatformAccounts, Split};
use crate::{
    FeeSchedule, LifecycleError, Merchant, MerchantMetrics, Order, OrderEvent, OrderStatus,
    Program, Relief,
};

mod records;
pub use records::{
    ActivityDeltas, Applied, BookKeys, Command, DailyActivity, Effect, EventIn, EventRecord,
    KeyMap, KeySet, MerchantBook, Meta, OrderRecord, PayoutIn, PayoutRecord, PayoutResultIn,
    PayoutStatus, Rejection, Settlement, Totals,
};

/// Nanoseconds in a day.
const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// Characters an event, order or payout id has at most.
pub const ID_CHARS_MAX: usize = 64;

/// Ids at and above this value belong to the settlement book's own accounts and transfers;
/// clients cannot use them.
pub const SYSTEM_ID_MIN: u128 = 0xFFFF << 112;

/// The id of account `code` of the merchant numbered `seq` (0 is the platform).
pub fn system_account_id(seq: u64, code: u16) -> u128 {
    SYSTEM_ID_MIN | (u128::from(seq) << 16) | u128::from(code)
}

/// Where loan repayments come from: what to withhold from a merchant's settlement for its
/// lenders (the lending side supplies the loans). Asked twice per settlement: `quote` while the
/// split is worked out, `withheld` once the settlement's chain was applied, with the quoted
/// amount; a settlement whose chain fails is never reported.
pub trait Withholding {
    /// What to withhold from a settlement paying `net` (after the fee) to `merchant_id` at
    /// event time `at` (ns). At most `net`.
    fn quote(&self, merchant_id: &str, at: u64, net: Fen) -> Fen;
    /// The settlement of `order_id` was applied and withheld `withheld`, as quoted.
    fn withheld(&mut self, merchant_id: &str, order_id: &str, at: u64, net: Fen, withheld: Fen);
}

/// No loans: nothing is withheld.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWithholding;

impl Withholding for NoWithholding {
    fn quote(&self, _merchant_id: &str, _at: u64, _net: Fen) -> Fen {
        Fen::ZERO
    }

    fn withheld(&mut self, _: &str, _: &str, _: u64, _: Fen, _: Fen) {}
}

/// The settlement configuration: the programme, the fee schedule and the hooks.
pub struct Settings {
    /// The ledger (currency) settlement runs in; 156 is CNY.
    pub ledger: u32,
    pub program: Program,
    pub fees: FeeSchedule,
    pub relief: Box<dyn Relief + Send + Sync>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("ledger", &self.ledger)
            .field("program", &self.program)
            .field("fees", &self.fees)
            .finish_non_exhaustive()
    }
}

/// The ledger of the Chinese yuan (ISO 4217 numeric code).
pub const LEDGER_CNY: u32 = 156;

impl Settings {
    /// The settings a server runs with unless configured otherwise: the programme open at all
    /// times to merchants of tier C or better with 30 days on the platform and at most 10 %
    /// of orders refunded; ¥1,000,000 of advances per merchant and ¥10 bn over the programme;
    /// no reserve; automatic confirmation after 10 days (express) or 30 (surface mail); a
    /// 2 % commission.
    pub fn standard() -> Settings {
        let yuan = |y: u64| Fen::new(y * 100).unwrap_or(Fen::MAX);
        Settings {
            ledger: LEDGER_CNY,
            program: Program {
                starts_at: 0,
                ends_at: u64::MAX,
                eligibility: crate::Eligibility {
                    tenure_days_min: 30,
                    refund_rate_bps_max: 1_000,
                    risk_tier_max: crate::RiskTier::C,
                    kinds: Vec::new(),
                    foreign_trade_only: false,
                },
                merchant_cap: yuan(1_000_000),
                pool_cap: yuan(10_000_000_000),
                reserve_bps: 0,
                reserve_days: 0,
                auto_confirm_express_days: 10,
                auto_confirm_surface_days: 30,
            },
            fees: FeeSchedule::new(
                crate::FeeRule {
                    category: None,
                    channel: None,
                    rate_bps: 200,
                    min_fen: Fen::ZERO,
                },
                Vec::new(),
            ),
            relief: Box::new(crate::NoRelief),
        }
    }

    /// The platform's accounts in the settlement ledger.
    pub fn platform(&self) -> PlatformAccounts {
        let id = |code| system_account_id(0, code);
        PlatformAccounts {
            ledger: self.ledger,
            buyer_clearing: id(flows::code::BUYER_CLEARING),
            escrow: id(flows::code::ESCROW),
            advance_pool: id(flows::code::ADVANCE_POOL),
            pool_funding: id(flows::code::POOL_FUNDING),
            fee_revenue: id(flows::code::FEE_REVENUE),
            loan_withholding: id(flows::code::LOAN_WITHHOLDING),
            clearing: id(flows::code::CLEARING),
            payouts: id(flows::code::PAYOUTS),
        }
    }
}

/// The accounts of the merchant numbered `seq`.
pub fn merchant_accounts(seq: u64) -> MerchantAccounts {
    let id = |code| system_account_id(seq, code);
    MerchantAccounts {
        available: id(flows::code::MERCHANT_AVAILABLE),
        reserve: id(flows::code::MERCHANT_RESERVE),
        exposure_headroom: id(flows::code::EXPOSURE_HEADROOM),
        exposure_used: id(flows::code::EXPOSURE_USED),
        exposure_cap: id(flows::code::EXPOSURE_CAP),
        receivable: id(flows::code::MERCHANT_RECEIVABLE),
    }
}

/// The working set of one group: the records its commands touch, loaded by the store, and
/// the keys of those it changed, for the store to write.
#[derive(Debug, Default)]
pub struct Book {
    pub orders: KeyMap<OrderRecord>,
    pub events: KeyMap<EventRecord>,
    pub merchants: KeyMap<MerchantBook>,
    pub payouts: KeyMap<PayoutRecord>,
    /// The merchant registry's records of the merchants the group names (read only here).
    pub registry: KeyMap<Merchant>,
    /// `None` until loaded; the platform is set up on the first command.
    pub meta: Option<Meta>,
    pub changed: BookKeys,
    /// Activity this group added, for the store to add to its daily counters.
    pub activity: ActivityDeltas,
}

/// What a group needs loaded before it can be applied.
#[derive(Debug, Default)]
pub struct Needs {
    pub events: Vec<String>,
    pub orders: Vec<String>,
    pub merchants: Vec<String>,
    pub payouts: Vec<String>,
}

/// One command's result: applied (with what it did), or rejected with why.
pub type CommandResult = Result<Applied, Rejection>;

impl Book {
    /// The records `commands` name that are not in the book yet.
    pub fn needs<'c>(&self, commands: impl IntoIterator<Item = &'c Command>) -> Needs {
        let mut needs = Needs::default();
        for command in commands {
            match command {
                Command::Order(e) => {
                    if !self.events.contains_key(&e.event_id) {
                        needs.events.push(e.event_id.clone());
                    }
                    if !self.orders.contains_key(&e.order_id) {
                        needs.orders.push(e.order_id.clone());
                    }
                    needs.merchants.push(e.merchant_id.clone());
                }
                Command::Payout(p) => {
                    if !self.payouts.contains_key(&p.payout_id) {
                        needs.payouts.push(p.payout_id.clone());
                    }
                    needs.merchants.push(p.merchant_id.clone());
                }
                Command::PayoutResult(r) => {
                    if !self.payouts.contains_key(&r.payout_id) {
                        needs.payouts.push(r.payout_id.clone());
                    }
                }
            }
        }
        needs.merchants.sort_unstable();
        needs.merchants.dedup();
        needs.events.sort_unstable();
        needs.events.dedup();
        needs.orders.sort_unstable();
        needs.orders.dedup();
        needs.payouts.sort_unstable();
        needs.payouts.dedup();
        needs
    }

    /// Merchants of loaded orders and payouts not named by the commands themselves (a
    /// payout result or due work names only its record).
    pub fn merchants_of_records(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .orders
            .values()
            .map(|o| &o.order.merchant_id)
            .chain(self.payouts.values().map(|p| &p.merchant_id))
            .filter(|m| !self.merchants.contains_key(*m))
            .cloned()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The ledger accounts and transfers the loaded records use, for the store to load into
    /// the ledger's working set.
    pub fn ledger_needs(&self, settings: &Settings) -> (Vec<u128>, Vec<u128>) {
        let p = settings.platform();
        let mut accounts = vec![
            p.buyer_clearing,
            p.escrow,
            p.advance_pool,
            p.pool_funding,
            p.fee_revenue,
            p.loan_withholding,
            p.clearing,
            p.payouts,
        ];
        for m in self.merchants.values() {
            let a = merchant_accounts(m.seq);
            accounts.extend([
                a.available,
                a.reserve,
                a.exposure_headroom,
                a.exposure_used,
                a.exposure_cap,
                a.receivable,
            ]);
        }
        let transfers = self
            .payouts
            .values()
            .filter(|p| p.status == PayoutStatus::Pending)
            .map(|p| p.transfer_id)
            .collect();
        (accounts, transfers)
    }

    /// Forgets every record except those whose keys are in `keep` (changed by groups not yet
    /// committed), so the working set stays small.
    pub fn retain(&mut self, keep: &BookKeys) {
        self.orders.retain(|k, _| keep.orders.contains(k));
        self.events.retain(|k, _| keep.events.contains(k));
        self.merchants.retain(|k, _| keep.merchants.contains(k));
        self.payouts.retain(|k, _| keep.payouts.contains(k));
        self.registry.clear();
    }

    /// Applies `commands` in order at ledger time `now` (ns). Needs the records of
    /// [`Book::needs`], [`Book::merchants_of_records`] and [`Book::ledger_needs`] loaded, and
    /// `meta`.
    pub fn apply(
        &mut self,
        settings: &Settings,
        ledger: &mut State,
        now: u64,
        commands: &[Command],
    ) -> Vec<CommandResult> {
        self.apply_with(settings, ledger, now, commands, &mut NoWithholding)
    }

    /// [`Book::apply`], withholding from settlements what `withholding` asks.
    pub fn apply_with(
        &mut self,
        settings: &Settings,
        ledger: &mut State,
        now: u64,
        commands: &[Command],
        withholding: &mut dyn Withholding,
    ) -> Vec<CommandResult> {
        // No commands, nothing to set up: the store loads `meta` only for a group that names
        // something, and setting up on a book whose `meta` was not loaded would create the
        // platform's accounts again and reset the counters.
        if commands.is_empty() {
            return Vec::new();
        }
        let mut desk = Desk::new(self, settings, ledger, now, withholding);
        desk.set_up();
        commands
            .iter()
            .map(|command| match command {
                Command::Order(event) => desk.order_event(event),
                Command::Payout(payout) => desk.payout(payout),
                Command::PayoutResult(result) => desk.payout_result(result),
            })
            .collect()
    }

    /// Does the work due at event time `due_at` for the loaded orders named: confirms orders
    /// whose automatic confirmation is due and releases reserves whose hold has ended.
    /// Returns how many actions were taken.
    pub fn run_due(
        &mut self,
        settings: &Settings,
        ledger: &mut State,
        now: u64,
        due_at: u64,
        order_ids: &[String],
    ) -> usize {
        self.run_due_with(settings, ledger, now, due_at, order_ids, &mut NoWithholding)
    }

    /// [`Book::run_due`], withholding from settlements what `withholding` asks.
    pub fn run_due_with(
        &mut self,
        settings: &Settings,
        ledger: &mut State,
        now: u64,
        due_at: u64,
        order_ids: &[String],
        withholding: &mut dyn Withholding,
    ) -> usize {
        let mut desk = Desk::new(self, settings, ledger, now, withholding);
        desk.set_up();
        order_ids
            .iter()
            .map(|order_id| desk.due_work(order_id, due_at))
            .sum()
    }
}

/// Puts `value` under `key` and marks it changed. Looked up before inserting: most events save
/// a record already held and already marked, and an owned key costs an allocation.
fn save<V>(records: &mut KeyMap<V>, changed: &mut KeySet, key: &str, value: V) {
    match records.get_mut(key) {
        Some(held) => *held = value,
        None => {
            records.insert(key.to_owned(), value);
        }
    }
    mark(changed, key);
}

/// Adds `key` to `keys` unless it is there, without allocating when it is.
fn mark(keys: &mut KeySet, key: &str) {
    if !keys.contains(key) {
        keys.insert(key.to_owned());
    }
}

/// Applies commands: the book, the settings, the ledger and the ledger time together.
struct Desk<'a> {
    book: &'a mut Book,
    settings: &'a Settings,
    ledger: &'a mut State,
    now: u64,
    platform: PlatformAccounts,
    withholding: &'a mut dyn Withholding,
}

impl<'a> Desk<'a> {
    fn new(
        book: &'a mut Book,
        settings: &'a Settings,
        ledger: &'a mut State,
        now: u64,
        withholding: &'a mut dyn Withholding,
    ) -> Desk<'a> {
        Desk {
            platform: settings.platform(),
            book,
            settings,
            ledger,
            now,
            withholding,
        }
    }

    fn meta(&mut self) -> &mut Meta {
        self.book.changed.meta = true;
        self.book.meta.get_or_insert_with(Meta::default)
    }

    /// Creates the platform's accounts on first use and funds the advance pool up to the
    /// programme's cap (raising the cap later funds the difference).
    fn set_up(&mut self) {
        let cap = self.settings.program.pool_cap;
        let meta = self.book.meta.get_or_insert_with(Meta::default);
        if meta.next_merchant_seq == 0 {
            meta.next_merchant_seq = 1;
            self.book.changed.meta = true;
            let accounts = self.platform.accounts();
            self.ledger.create_accounts(self.now, &accounts);
        }
        let funded = self.book.meta.as_ref().map_or(Fen::ZERO, |m| m.pool_funded);
        if cap > funded {
            let more = cap.saturating_sub(funded);
            let chain = flows::fund_pool(&mut self.ids(), &self.platform, more);
            if self.run(&chain).is_ok() {
                self.meta().pool_funded = cap;
            }
        }
    }

    /// Ids for one chain's transfers: the next [`flows::Ids::LEGS_MAX`] of the book's counter.
    fn ids(&mut self) -> Ids {
        let meta = self.meta();
        let base = SYSTEM_ID_MIN | (u128::from(meta.next_transfer_seq) << 4);
        meta.next_transfer_seq += 1;
        Ids::new(base)
    }

    /// Applies one chain; on failure the ledger is unchanged and the first real failure is
    /// returned with the index of the transfer that failed.
    fn run(&mut self, chain: &[Transfer]) -> Result<(), (usize, CreateTransferResult)> {
        if chain.is_empty() {
            return Ok(());
        }
        let results = self.ledger.create_transfers(self.now, chain);
        match results
            .iter()
            .enumerate()
            .find(|(_, r)| **r != CreateTransferResult::Ok)
        {
            None => Ok(()),
            Some(_) => Err(results
                .iter()
                .enumerate()
                .find(|(_, r)| {
                    **r != CreateTransferResult::Ok
                        && **r != CreateTransferResult::LinkedEventFailed
                })
                .map_or((0, CreateTransferResult::LinkedEventFailed), |(i, r)| {
                    (i, *r)
                })),
        }
    }

    /// The amount a transfer of the last chain moved (balancing legs move what they find).
    fn moved(&self, id: u128) -> Fen {
        self.ledger
            .transfers
            .get(&id)
            .map_or(Fen::ZERO, |t| t.amount)
    }

    /// The merchant's book, opened (accounts created, exposure cap granted) on first use.
    fn merchant(&mut self, merchant_id: &str) -> Result<MerchantBook, Rejection> {
        if let Some(m) = self.book.merchants.get(merchant_id) {
            return Ok(*m);
        }
        if !self.book.registry.contains_key(merchant_id) {
            return Err(Rejection::MerchantNotFound);
        }
        let seq = {
            let meta = self.meta();
            let seq = meta.next_merchant_seq;
            meta.next_merchant_seq += 1;
            seq
        };
        let accounts = merchant_accounts(seq);
        let created = self.ledger.create_accounts(
            self.now,
            &self.platform.merchant_accounts(merchant_id, &accounts),
        );
        if !created.iter().all(|r| r.is_success()) {
            return Err(Rejection::LedgerRejected(
                CreateTransferResult::DebitAccountNotFound,
            ));
        }
        let cap = self.settings.program.merchant_cap;
        let chain = flows::raise_cap(&mut self.ids(), &self.platform, &accounts, cap);
        self.run(&chain)
            .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
        let book = MerchantBook {
            seq,
            metrics: MerchantMetrics::default(),
            cap_granted: cap,
        };
        self.book.merchants.insert(merchant_id.to_owned(), book);
        self.book.changed.merchants.insert(merchant_id.to_owned());
        self.book
            .changed
            .new_merchants
            .insert(merchant_id.to_owned());
        Ok(book)
    }

    /// The activity counters of `merchant_id` on the day of event time `at`, for this group.
    fn activity(&mut self, merchant_id: &str, at: u64) -> &mut DailyActivity {
        let day = i32::try_from(at / NANOS_PER_DAY).unwrap_or(i32::MAX);
        self.book
            .activity
            .entry((merchant_id.to_owned(), day))
            .or_default()
    }

    fn save_merchant(&mut self, merchant_id: &str, book: MerchantBook) {
        save(
            &mut self.book.merchants,
            &mut self.book.changed.merchants,
            merchant_id,
            book,
        );
    }

    /// Stores an order's record and marks it changed.
    fn save_order(&mut self, order_id: &str, record: OrderRecord) {
        save(
            &mut self.book.orders,
            &mut self.book.changed.orders,
            order_id,
            record,
        );
    }

    /// Does an order's scheduled work due at event time `at`: its automatic confirmation,
    /// then its reserve release. Returns how many were done.
    fn due_work(&mut self, order_id: &str, at: u64) -> usize {
        let due = |at_: u64| at_ != 0 && at_ <= at;
        let Some(record) = self
            .book
            .orders
            .get(order_id)
            .filter(|r| due(r.auto_confirm_at) || due(r.reserve_release_at))
            .cloned()
        else {
            return 0;
        };
        let mut done = 0;
        if due(record.auto_confirm_at) {
            let event = EventIn {
                event_id: format!("auto-confirm:{order_id}"),
                order_id: order_id.to_owned(),
                merchant_id: record.order.merchant_id.clone(),
                occurred_at: record.auto_confirm_at,
                event: OrderEvent::Confirmed,
            };
            if self.apply_event(&event).is_ok() {
                done += 1;
            }
        }
        let Some(record) = self.book.orders.get(order_id).cloned() else {
            return done;
        };
        if due(record.reserve_release_at) && self.release_reserve(order_id, &record) {
            done += 1;
        }
        done
    }

    /// An order event from the marketplace. The order's own scheduled work that falls due
    /// by the time the event happened is done first (as the scheduler does once the event
    /// clock reaches it), so its outcome does not depend on how events
    /// were grouped into commits (a buyer's confirmation dated after the automatic one is
    /// refused whether or not the scheduler ran in between).
    fn order_event(&mut self, event: &EventIn) -> CommandResult {
        if !self.book.events.contains_key(&event.event_id) {
            self.due_work(&event.order_id, event.occurred_at);
        }
        self.apply_event(event)
    }

    fn apply_event(&mut self, event: &EventIn) -> CommandResult {
        let fingerprint = event.fingerprint();
        if let Some(seen) = self.book.events.get(&event.event_id) {
            return if seen.fingerprint == fingerprint {
                Ok(seen.applied.clone())
            } else {
                Err(Rejection::EventIdConflict)
            };
        }
        let current = self.book.orders.get(&event.order_id).cloned();
        if let Some(current) = &current
            && current.order.merchant_id != event.merchant_id
        {
            return Err(Rejection::MerchantMismatch);
        }
        let next = Order::apply(current.as_ref().map(|r| &r.order), &event.event)
            .map_err(Rejection::Lifecycle)?;
        let mut merchant = self.merchant(&event.merchant_id)?;
        let accounts = merchant_accounts(merchant.seq);
        let (record, applied) = match (&event.event, current) {
            (OrderEvent::Paid { amount, .. }, _) => {
                let chain = flows::paid(&mut self.ids(), &self.platform, *amount);
                self.run(&chain)
                    .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
                merchant.metrics.orders += 1;
                let day = self.activity(&event.merchant_id, event.occurred_at);
                day.orders += 1;
                day.gross = day.gross.saturating_add(*amount);
                let record = OrderRecord::new(next, event.occurred_at);
                (record, Applied::new(Effect::Escrowed))
            }
            (_, None) => return Err(Rejection::Lifecycle(LifecycleError::OrderNotPaid)),
            (OrderEvent::Shipped { shipping }, Some(mut record)) => {
                record.order = next;
                record.shipped_at = event.occurred_at;
                record.auto_confirm_at = self
                    .settings
                    .program
                    .auto_confirm_at(event.occurred_at, *shipping);
                let applied = self.advance(&mut record, &merchant, &accounts, event);
                (record, applied)
            }
            (OrderEvent::Confirmed, Some(mut record)) => {
                let applied = self.confirm(&mut record, next, &accounts, event)?;
                (record, applied)
            }
            (OrderEvent::Refunded { amount }, Some(mut record)) => {
                let applied = self.refund(&mut record, *amount, &accounts)?;
                let day = self.activity(&event.merchant_id, event.occurred_at);
                day.refunds += 1;
                day.refunded = day.refunded.saturating_add(*amount);
                if record.order.refunded.is_zero() {
                    merchant.metrics.refunded_orders += 1;
                }
                record.order = next;
                if record.order.status == OrderStatus::Refunded {
                    record.auto_confirm_at = 0;
                }
                (record, applied)
            }
            (OrderEvent::Cancelled, Some(mut record)) => {
                let amount = record.order.outstanding();
                let chain = flows::refund_from_escrow(&mut self.ids(), &self.platform, amount);
                self.run(&chain)
                    .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
                record.order = next;
                (record, Applied::new(Effect::Refunded))
            }
        };
        self.save_merchant(&event.merchant_id, merchant);
        if matches!(event.event, OrderEvent::Paid { .. }) {
            self.book.changed.new_orders.insert(event.order_id.clone());
        }
        self.save_order(&event.order_id, record);
        self.book.events.insert(
            event.event_id.clone(),
            EventRecord {
                order_id: event.order_id.clone(),
                fingerprint,
                applied: applied.clone(),
            },
        );
        self.book.changed.events.insert(event.event_id.clone());
        let meta = self.meta();
        meta.event_clock = meta.event_clock.max(event.occurred_at);
        Ok(applied)
    }

    /// The split of `gross` for `record`'s merchant and category at settlement.
    fn split(&self, record: &OrderRecord, gross: Fen, at: u64) -> Split {
        let order = &record.order;
        let fee = self.settings.fees.quote(
            &order.category,
            &order.channel,
            gross,
            self.settings.relief.as_ref(),
        );
        let after_fee = gross.saturating_sub(fee.charged_fen);
        let withholding = self
            .withholding
            .quote(&order.merchant_id, at, after_fee)
            .min(after_fee);
        let reserve_bps = self.settings.program.reserve_bps;
        let mut split = Split::new(gross, fee, withholding, reserve_bps).unwrap_or(Split {
            gross,
            fee,
            withholding: Fen::ZERO,
            reserve: Fen::ZERO,
            net: after_fee,
            owes: true,
        });
        // The writer applies chains one after another on the same balances, so what the
        // receivable shows now is what the chain will find.
        let receivable = merchant_accounts(self.merchant_seq(&order.merchant_id));
        split.owes = self
            .ledger
            .accounts
            .get(&receivable.receivable)
            .is_none_or(|a| a.debits_posted > a.credits_posted || !a.debits_pending.is_zero());
        split
    }

    fn merchant_seq(&self, merchant_id: &str) -> u64 {
        self.book.merchants.get(merchant_id).map_or(0, |m| m.seq)
    }

    /// `order.shipped`: advances the order when the merchant is eligible and the caps allow.
    fn advance(
        &mut self,
        record: &mut OrderRecord,
        merchant: &MerchantBook,
        accounts: &MerchantAccounts,
        event: &EventIn,
    ) -> Applied {
        let Some(registered) = self.book.registry.get(&event.merchant_id) else {
            return Applied::not_advanced("merchant_not_found");
        };
        if let Err(why) =
            self.settings
                .program
                .eligibility(registered, &merchant.metrics, event.occurred_at)
        {
            record.not_advanced = Some(why.as_str().to_owned());
            return Applied::not_advanced(why.as_str());
        }
        let gross = record.order.outstanding();
        let split = self.split(record, gross, event.occurred_at);
        let chain = flows::advance(&mut self.ids(), &self.platform, accounts, &split);
        if let Err((index, _)) = self.run(&chain) {
            let why = if chain.get(index).map(|t| t.debit_account_id)
                == Some(accounts.exposure_headroom)
            {
                "merchant_cap_reached"
            } else {
                "pool_cap_reached"
            };
            record.not_advanced = Some(why.to_owned());
            return Applied::not_advanced(why);
        }
        self.settled(record, &chain, &split, true, event, accounts);
        let totals = &mut self.meta().totals;
        totals.advanced_count += 1;
        totals.advanced_gross = totals.advanced_gross.saturating_add(split.gross);
        Applied::new(Effect::Advanced)
    }

    /// Records a settlement (advance or confirmation): the split, what the merchant's
    /// receivable took, the reserve's release date and the fee totals.
    fn settled(
        &mut self,
        record: &mut OrderRecord,
        chain: &[Transfer],
        split: &Split,
        advanced: bool,
        event: &EventIn,
        accounts: &MerchantAccounts,
    ) {
        let at = event.occurred_at;
        if !split.withholding.is_zero() {
            self.withholding.withheld(
                &record.order.merchant_id,
                &event.order_id,
                at,
                split.gross.saturating_sub(split.fee.charged_fen),
                split.withholding,
            );
        }
        let recovered = chain
            .iter()
            .filter(|t| t.credit_account_id == accounts.receivable)
            .map(|t| self.moved(t.id))
            .fold(Fen::ZERO, Fen::saturating_add);
        let day = self.activity(&record.order.merchant_id, at);
        day.settlements += 1;
        day.settled_net = day.settled_net.saturating_add(split.net);
        record.settlement = Some(Settlement {
            advanced,
            at,
            gross: split.gross,
            fee_standard: split.fee.standard_fen,
            fee_charged: split.fee.charged_fen,
            withholding: split.withholding,
            reserve: split.reserve,
            net: split.net,
            receivable_recovered: recovered,
        });
        if !split.reserve.is_zero() {
            record.reserve_release_at = self.settings.program.reserve_release_at(at);
        }
        let totals = &mut self.meta().totals;
        totals.fee_standard = totals.fee_standard.saturating_add(split.fee.standard_fen);
        totals.fee_charged = totals.fee_charged.saturating_add(split.fee.charged_fen);
        totals.withheld = totals.withheld.saturating_add(split.withholding);
        totals.receivable_recovered = totals.receivable_recovered.saturating_add(recovered);
    }

    fn confirm(
        &mut self,
        record: &mut OrderRecord,
        next: Order,
        accounts: &MerchantAccounts,
        event: &EventIn,
    ) -> Result<Applied, Rejection> {
        let outstanding = record.order.outstanding();
        let advanced = record.settlement.as_ref().is_some_and(|s| s.advanced);
        let effect = if advanced {
            let chain =
                flows::repay_advance(&mut self.ids(), &self.platform, accounts, outstanding);
            self.run(&chain)
                .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
            let saved = event
                .occurred_at
                .saturating_sub(record.settlement.as_ref().map_or(0, |s| s.at));
            let totals = &mut self.meta().totals;
            totals.exposure_released = totals.exposure_released.saturating_add(outstanding);
            totals.advanced_confirmed += 1;
            totals.days_saved_seconds = totals
                .days_saved_seconds
                .saturating_add(saved / 1_000_000_000);
            Effect::AdvanceRepaid
        } else {
            let split = self.split(record, outstanding, event.occurred_at);
            let chain = flows::settle(&mut self.ids(), &self.platform, accounts, &split);
            self.run(&chain)
                .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
            self.settled(record, &chain, &split, false, event, accounts);
            Effect::Settled
        };
        record.order = next;
        record.confirmed_at = event.occurred_at;
        record.auto_confirm_at = 0;
        Ok(Applied::new(effect))
    }

    fn refund(
        &mut self,
        record: &mut OrderRecord,
        amount: Fen,
        accounts: &MerchantAccounts,
    ) -> Result<Applied, Rejection> {
        let settled = record.settlement.as_ref();
        let advanced = settled.is_some_and(|s| s.advanced);
        let confirmed = record.order.status == OrderStatus::Confirmed;
        let (chain, effect) = if confirmed {
            // The merchant was paid and escrow is empty: the merchant pays the buyer back.
            let chain = flows::recover(
                &mut self.ids(),
                &self.platform,
                accounts,
                amount,
                record.reserve_held(),
                self.platform.buyer_clearing,
            );
            (chain, Effect::RecoveredFromMerchant)
        } else if advanced {
            let chain = flows::claw_back(
                &mut self.ids(),
                &self.platform,
                accounts,
                amount,
                record.reserve_held(),
            );
            (chain, Effect::ClawedBack)
        } else {
            let chain = flows::refund_from_escrow(&mut self.ids(), &self.platform, amount);
            (chain, Effect::Refunded)
        };
        self.run(&chain)
            .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
        let from_reserve = chain
            .iter()
            .filter(|t| t.debit_account_id == accounts.reserve)
            .map(|t| self.moved(t.id))
            .fold(Fen::ZERO, Fen::saturating_add);
        record.reserve_used = record.reserve_used.saturating_add(from_reserve);
        if effect != Effect::Refunded {
            let booked = chain
                .iter()
                .filter(|t| t.debit_account_id == accounts.receivable)
                .map(|t| self.moved(t.id))
                .fold(Fen::ZERO, Fen::saturating_add);
            let totals = &mut self.meta().totals;
            totals.clawed_back = totals.clawed_back.saturating_add(amount);
            totals.receivable_booked = totals.receivable_booked.saturating_add(booked);
            if effect == Effect::ClawedBack {
                totals.exposure_released = totals.exposure_released.saturating_add(amount);
            }
        }
        Ok(Applied::new(effect))
    }

    /// Releases the reserve held for an order to the merchant (after what it owes).
    fn release_reserve(&mut self, order_id: &str, record: &OrderRecord) -> bool {
        let Some(merchant) = self.book.merchants.get(&record.order.merchant_id).copied() else {
            return false;
        };
        let held = record.reserve_held();
        let accounts = merchant_accounts(merchant.seq);
        let chain = flows::release_reserve(&mut self.ids(), &self.platform, &accounts, held);
        if self.run(&chain).is_err() {
            return false;
        }
        let released = chain.first().map_or(Fen::ZERO, |t| self.moved(t.id));
        // The release pays what the merchant owes first, like a settlement: that recovers
        // receivables too.
        let recovered = chain
            .iter()
            .filter(|t| t.credit_account_id == accounts.receivable)
            .map(|t| self.moved(t.id))
            .fold(Fen::ZERO, Fen::saturating_add);
        let totals = &mut self.meta().totals;
        totals.receivable_recovered = totals.receivable_recovered.saturating_add(recovered);
        let mut record = record.clone();
        record.reserve_release_at = 0;
        record.reserve_released = released;
        self.save_order(order_id, record);
        true
    }

    fn payout(&mut self, payout: &PayoutIn) -> CommandResult {
        if let Some(seen) = self.book.payouts.get(&payout.payout_id) {
            return if seen.merchant_id == payout.merchant_id && seen.requested == payout.amount {
                Ok(Applied::payout(seen))
            } else {
                Err(Rejection::PayoutIdConflict)
            };
        }
        let Some(merchant) = self.book.merchants.get(&payout.merchant_id).copied() else {
            return Err(Rejection::NothingToPayOut);
        };
        let accounts = merchant_accounts(merchant.seq);
        let available = self
            .ledger
            .accounts
            .get(&accounts.available)
            .map_or(Fen::ZERO, |a| {
                a.credits_posted
                    .saturating_sub(a.debits_posted)
                    .saturating_sub(a.debits_pending)
            });
        let amount = payout.amount.unwrap_or(available);
        if amount.is_zero() {
            return Err(Rejection::NothingToPayOut);
        }
        if amount > available {
            return Err(Rejection::ExceedsAvailable);
        }
        let mut ids = self.ids();
        let chain = flows::payout(&mut ids, &self.platform, &accounts, amount);
        self.run(&chain)
            .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
        let record = PayoutRecord {
            merchant_id: payout.merchant_id.clone(),
            requested: payout.amount,
            amount,
            status: PayoutStatus::Pending,
            transfer_id: chain.first().map_or(0, |t| t.id),
            created_at: self.now,
            settled_at: 0,
        };
        let applied = Applied::payout(&record);
        self.book.payouts.insert(payout.payout_id.clone(), record);
        self.book.changed.payouts.insert(payout.payout_id.clone());
        self.book
            .changed
            .new_payouts
            .insert(payout.payout_id.clone());
        Ok(applied)
    }

    fn payout_result(&mut self, result: &PayoutResultIn) -> CommandResult {
        let Some(mut record) = self.book.payouts.get(&result.payout_id).cloned() else {
            return Err(Rejection::PayoutNotFound);
        };
        let wanted = if result.succeeded {
            PayoutStatus::Paid
        } else {
            PayoutStatus::Failed
        };
        match record.status {
            PayoutStatus::Pending => {}
            done if done == wanted => return Ok(Applied::payout(&record)),
            PayoutStatus::Paid | PayoutStatus::Failed => {
                return Err(Rejection::PayoutAlreadySettled);
            }
        }
        let flags = if result.succeeded {
            TransferFlags::POST_PENDING_TRANSFER
        } else {
            TransferFlags::VOID_PENDING_TRANSFER
        };
        let mut ids = self.ids();
        let chain = flows::finish_payout(&mut ids, &self.platform, record.transfer_id, flags);
        self.run(&chain)
            .map_err(|(_, r)| Rejection::LedgerRejected(r))?;
        record.status = wanted;
        record.settled_at = self.now;
        if result.succeeded {
            let totals = &mut self.meta().totals;
            totals.paid_out = totals.paid_out.saturating_add(record.amount);
        }
        let applied = Applied::payout(&record);
        self.book.payouts.insert(result.payout_id.clone(), record);
        self.book.changed.payouts.insert(result.payout_id.clone());
        Ok(applied)
    }
}
