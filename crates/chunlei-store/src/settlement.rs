//! The settlement book's rows, shared by both backends.
//!
//! Each table is described once ([`Table`]): its columns, in order, with their kinds. A record
//! becomes a row of [`Cell`]s and back here; the backends only bind and read cells, so the
//! two databases store exactly the same thing.

use chunlei_ledger::Fen;
use chunlei_lending::decision::ActivityTotals;
use chunlei_settlement::book::{
    ActivityDeltas, Applied, Book, BookKeys, DailyActivity, Effect, EventRecord, MerchantBook,
    Meta, OrderRecord, PayoutRecord, PayoutStatus, Settlement, Totals,
};
use chunlei_settlement::{MerchantMetrics, Order, OrderStatus, Shipping};

use crate::StoreError;
use crate::codec;

/// One column value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    /// Text known when compiled (a status, an effect): written without an allocation.
    Static(&'static str),
    /// NULL in an integer column.
    NullInt,
    /// NULL in a text column.
    NullText,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    OptInt,
    OptText,
}

/// A settlement table: name, key column (the first) and columns.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Columns from this index on change after the row is written; those before never do
    /// (so an update leaves the indexes on them alone).
    pub mutable_from: usize,
}

impl Table {
    pub(crate) fn key(&self) -> &'static str {
        self.columns[0].0
    }

    pub(crate) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `col = excluded.col, …` for every column that may change.
    pub(crate) fn updates(&self) -> String {
        self.columns[self.mutable_from..]
            .iter()
            .map(|(name, _)| format!("{name} = excluded.{name}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

use Kind::{Int, OptInt, OptText, Text};

pub(crate) const ORDERS: Table = Table {
    name: "settlement_orders",
    mutable_from: 5,
    columns: &[
        ("order_id", Text),
        ("merchant_id", Text),
        ("category", Text),
        ("channel", Text),
        ("paid", Int),
        ("refunded", Int),
        ("status", Text),
        ("shipping", OptText),
        ("paid_at", Int),
        ("shipped_at", Int),
        ("confirmed_at", Int),
        ("auto_confirm_at", Int),
        ("advanced", OptInt),
        ("settled_at", OptInt),
        ("gross", OptInt),
        ("fee_standard", OptInt),
        ("fee_charged", OptInt),
        ("withholding", OptInt),
        ("reserve", OptInt),
        ("net", OptInt),
        ("receivable_recovered", OptInt),
        ("not_advanced", OptText),
        ("reserve_release_at", Int),
        ("reserve_released", Int),
        ("reserve_used", Int),
        ("due_at", Int),
    ],
};

pub(crate) const EVENTS: Table = Table {
    name: "settlement_events",
    mutable_from: 1,
    columns: &[
        ("event_id", Text),
        ("order_id", Text),
        ("fingerprint", Int),
        ("effect", Text),
        ("reason", OptText),
    ],
};

pub(crate) const MERCHANTS: Table = Table {
    name: "settlement_merchants",
    mutable_from: 2,
    columns: &[
        ("merchant_id", Text),
        ("seq", Int),
        ("orders", Int),
        ("refunded_orders", Int),
        ("cap_granted", Int),
    ],
};

pub(crate) const PAYOUTS: Table = Table {
    name: "payouts",
    mutable_from: 4,
    columns: &[
        ("payout_id", Text),
        ("merchant_id", Text),
        ("requested", OptInt),
        ("amount", Int),
        ("status", Text),
        ("transfer_id", Text),
        ("created_at", Int),
        ("settled_at", Int),
    ],
};

pub(crate) const META: Table = Table {
    name: "settlement_meta",
    mutable_from: 1,
    columns: &[
        ("singleton", Int),
        ("next_transfer_seq", Int),
        ("next_merchant_seq", Int),
        ("pool_funded", Int),
        ("event_clock", Int),
        ("advanced_count", Int),
        ("advanced_gross", Int),
        ("exposure_released", Int),
        ("advanced_confirmed", Int),
        ("days_saved_seconds", Int),
        ("fee_standard", Int),
        ("fee_charged", Int),
        ("withheld", Int),
        ("clawed_back", Int),
        ("receivable_booked", Int),
        ("receivable_recovered", Int),
        ("paid_out", Int),
    ],
};

/// The rows one commit writes into one settlement table: new rows, and rows that replace
/// stored ones (only their mutable columns change).
///
/// An update row has every column; with [`Updates::Mutable`] the ones before the table's
/// `mutable_from` (but the key) are NULL placeholders, for a backend that writes only the
/// mutable columns.
#[derive(Debug, Default)]
pub(crate) struct TableRows {
    pub inserts: Vec<Vec<Cell>>,
    pub updates: Vec<Vec<Cell>>,
}

/// The daily activity table: rows are added to, never replaced.
pub(crate) const DAILY_COLUMNS: &str =
    "merchant_id, day, orders, gross, refunds, refunded, settlements, settled_net";
/// What an upsert adds to an existing day.
pub(crate) const DAILY_ADD: &str = "orders = merchant_daily.orders + excluded.orders, \
    gross = merchant_daily.gross + excluded.gross, \
    refunds = merchant_daily.refunds + excluded.refunds, \
    refunded = merchant_daily.refunded + excluded.refunded, \
    settlements = merchant_daily.settlements + excluded.settlements, \
    settled_net = merchant_daily.settled_net + excluded.settled_net";

/// One day's activity as cells, in the order of [`DAILY_COLUMNS`].
pub(crate) fn daily_row(merchant_id: &str, day: i32, a: &DailyActivity) -> Vec<Cell> {
    vec![
        text(merchant_id),
        Cell::Int(i64::from(day)),
        int(a.orders),
        fen(a.gross),
        int(a.refunds),
        fen(a.refunded),
        int(a.settlements),
        fen(a.settled_net),
    ]
}

/// The days whose running totals (`merchant_running`: a merchant's counters summed from its
/// first day through the day) the sums over `ranges` of days need: each range's last day and
/// the day before its first, sorted, once each. Ranges that end before they start, or before
/// 1970, need none, and no day before 1970 is listed (the totals there are zeros).
pub(crate) fn running_days(ranges: &[(i32, i32)]) -> Vec<i32> {
    // A range from day 0 needs the totals before it, which are zeros: no day to read.
    let mut days: Vec<i32> = ranges
        .iter()
        .filter(|(from, to)| to >= from && *to >= 0)
        .flat_map(|(from, to)| [from.max(&0) - 1, *to])
        .filter(|day| *day >= 0)
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// The sums over `ranges` from the running totals at the days of [`running_days`]`(ranges)`
/// (`running[i]` at `days[i]`: orders, gross, refunded, settlements and active days through
/// that day; zeros where the merchant had no activity yet, and before 1970): each range's is
/// the total at its last day less the total on the day before its first.
pub(crate) fn totals_from_running(
    ranges: &[(i32, i32)],
    days: &[i32],
    running: &[[i64; 5]],
) -> Result<Vec<ActivityTotals>, StoreError> {
    let at = |day: i32| {
        if day < 0 {
            return Ok(&[0i64; 5]);
        }
        days.binary_search(&day)
            .ok()
            .and_then(|i| running.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no running total read for day {day}")))
    };
    ranges
        .iter()
        .map(|&(from, to)| {
            if to < from || to < 0 {
                return Ok(ActivityTotals::default());
            }
            let (end, before) = (at(to)?, at(from.max(0) - 1)?);
            let mut sums = [0i64; 5];
            for (i, sum) in sums.iter_mut().enumerate() {
                *sum = end[i].checked_sub(before[i]).ok_or_else(|| {
                    StoreError::Corrupt(format!("running totals {end:?} below {before:?}"))
                })?;
            }
            totals_from(sums)
        })
        .collect()
}

/// Activity totals from the sums of orders, gross, refunded, settlements and active days
/// (none can be negative: every counter only grows).
pub(crate) fn totals_from(sums: [i64; 5]) -> Result<ActivityTotals, StoreError> {
    let unsigned = |sum: i64| {
        u64::try_from(sum).map_err(|_| StoreError::Corrupt(format!("activity sum {sum}")))
    };
    let [orders, gross, refunded, settlements, active_days] = sums;
    Ok(ActivityTotals {
        orders: unsigned(orders)?,
        gross: u128::from(unsigned(gross)?),
        refunded: u128::from(unsigned(refunded)?),
        settlements: unsigned(settlements)?,
        active_days: u32::try_from(active_days)
            .map_err(|_| StoreError::Corrupt(format!("{active_days} active days")))?,
    })
}

/// A day's activity from its counters (the columns after `merchant_id`).
pub(crate) fn daily_from(values: [i64; 7]) -> Result<(i32, DailyActivity), StoreError> {
    let [
        day,
        orders,
        gross,
        refunds,
        refunded,
        settlements,
        settled_net,
    ] = values;
    let day = i32::try_from(day).map_err(|_| StoreError::Corrupt(format!("day {day}")))?;
    Ok((
        day,
        DailyActivity {
            orders: codec::i64_to_u64(orders),
            gross: codec::fen(gross)?,
            refunds: codec::i64_to_u64(refunds),
            refunded: codec::fen(refunded)?,
            settlements: codec::i64_to_u64(settlements),
            settled_net: codec::fen(settled_net)?,
        },
    ))
}

/// The rows one commit writes for the settlement book.
#[derive(Debug, Default)]
pub(crate) struct BookRows {
    pub orders: TableRows,
    pub events: TableRows,
    pub merchants: TableRows,
    pub payouts: TableRows,
    /// Written with an upsert: the row exists from the first commit on.
    pub meta: Option<Vec<Cell>>,
    /// Added to the stored days ([`DAILY_ADD`]).
    pub daily: Vec<Vec<Cell>>,
}

/// What an update row of [`BookRows`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Updates {
    /// Every column (for an upsert).
    Full,
    /// The key and the mutable columns; the others are placeholders (for an `UPDATE`).
    Mutable,
}

impl BookRows {
    /// The rows of the records `changed` names, as the book now holds them.
    pub(crate) fn new(
        book: &Book,
        changed: &BookKeys,
        activity: &ActivityDeltas,
        updates: Updates,
    ) -> Result<BookRows, StoreError> {
        let missing =
            |what: &str, key: &str| StoreError::Corrupt(format!("changed {what} {key} missing"));
        let mut rows = BookRows::default();
        for key in &changed.orders {
            let record = book.orders.get(key).ok_or_else(|| missing("order", key))?;
            let created = changed.new_orders.contains(key);
            let full = created || updates == Updates::Full;
            rows.orders.push(created, order_row(key, record, full));
        }
        for key in &changed.events {
            let record = book.events.get(key).ok_or_else(|| missing("event", key))?;
            rows.events.push(true, event_row(key, record));
        }
        for key in &changed.merchants {
            let record = book
                .merchants
                .get(key)
                .ok_or_else(|| missing("merchant", key))?;
            rows.merchants.push(
                changed.new_merchants.contains(key),
                merchant_row(key, record),
            );
        }
        for key in &changed.payouts {
            let record = book
                .payouts
                .get(key)
                .ok_or_else(|| missing("payout", key))?;
            rows.payouts
                .push(changed.new_payouts.contains(key), payout_row(key, record));
        }
        if changed.meta {
            rows.meta = book.meta.as_ref().map(meta_row);
        }
        rows.daily = activity
            .iter()
            .map(|((merchant_id, day), a)| daily_row(merchant_id, *day, a))
            .collect();
        Ok(rows)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tables()
            .iter()
            .all(|(_, t)| t.inserts.is_empty() && t.updates.is_empty())
            && self.meta.is_none()
            && self.daily.is_empty()
    }

    /// Each table with its rows, in the order they are written (meta apart).
    pub(crate) fn tables(&self) -> [(&'static Table, &TableRows); 4] {
        [
            (&ORDERS, &self.orders),
            (&EVENTS, &self.events),
            (&MERCHANTS, &self.merchants),
            (&PAYOUTS, &self.payouts),
        ]
    }
}

impl TableRows {
    fn push(&mut self, created: bool, row: Vec<Cell>) {
        if created {
            self.inserts.push(row);
        } else {
            self.updates.push(row);
        }
    }
}

fn int(v: u64) -> Cell {
    Cell::Int(codec::timestamp(v))
}

fn fen(v: Fen) -> Cell {
    Cell::Int(v.as_i64())
}

fn text(v: &str) -> Cell {
    Cell::Text(v.to_owned())
}

fn opt_text(v: Option<&str>) -> Cell {
    v.map_or(Cell::NullText, text)
}

fn opt_static(v: Option<&'static str>) -> Cell {
    v.map_or(Cell::NullText, Cell::Static)
}

fn opt_fen(v: Option<Fen>) -> Cell {
    v.map_or(Cell::NullInt, fen)
}

fn status_parse(text: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("order status {text}")))
}

fn shipping_parse(text: &str) -> Result<Shipping, StoreError> {
    Shipping::parse(text).ok_or_else(|| StoreError::Corrupt(format!("shipping {text}")))
}

/// An order's row; without `full`, the columns that never change (but the key) are
/// placeholders.
fn order_row(key: &str, r: &OrderRecord, full: bool) -> Vec<Cell> {
    let s = r.settlement.as_ref();
    let fixed = |cell: fn(&OrderRecord) -> Cell| if full { cell(r) } else { Cell::NullText };
    vec![
        text(key),
        fixed(|r| text(&r.order.merchant_id)),
        fixed(|r| text(&r.order.category)),
        fixed(|r| text(&r.order.channel)),
        fixed(|r| fen(r.order.paid)),
        fen(r.order.refunded),
        Cell::Static(r.order.status.as_str()),
        opt_static(r.order.shipping.map(Shipping::as_str)),
        int(r.paid_at),
        int(r.shipped_at),
        int(r.confirmed_at),
        int(r.auto_confirm_at),
        s.map_or(Cell::NullInt, |s| Cell::Int(i64::from(s.advanced))),
        s.map_or(Cell::NullInt, |s| int(s.at)),
        opt_fen(s.map(|s| s.gross)),
        opt_fen(s.map(|s| s.fee_standard)),
        opt_fen(s.map(|s| s.fee_charged)),
        opt_fen(s.map(|s| s.withholding)),
        opt_fen(s.map(|s| s.reserve)),
        opt_fen(s.map(|s| s.net)),
        opt_fen(s.map(|s| s.receivable_recovered)),
        opt_text(r.not_advanced.as_deref()),
        int(r.reserve_release_at),
        fen(r.reserve_released),
        fen(r.reserve_used),
        int(r.due_at()),
    ]
}

/// Reads cells in order, converting each; errors name the table and column.
pub(crate) struct Cells<'a> {
    table: &'static Table,
    cells: &'a [Cell],
    at: usize,
}

impl<'a> Cells<'a> {
    pub(crate) fn new(table: &'static Table, cells: &'a [Cell]) -> Cells<'a> {
        Cells {
            table,
            cells,
            at: 0,
        }
    }

    fn bad(&self, what: &str) -> StoreError {
        let column = self.table.columns.get(self.at).map_or("?", |c| c.0);
        StoreError::Corrupt(format!("{}.{column}: {what}", self.table.name))
    }

    fn next(&mut self) -> Result<&'a Cell, StoreError> {
        let cell = self.cells.get(self.at).ok_or_else(|| self.bad("missing"))?;
        self.at += 1;
        Ok(cell)
    }

    pub(crate) fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        match self.next()? {
            Cell::Int(v) => Ok(Some(*v)),
            Cell::NullInt | Cell::NullText => Ok(None),
            Cell::Text(_) | Cell::Static(_) => Err(self.bad("text where a number belongs")),
        }
    }

    pub(crate) fn int(&mut self) -> Result<i64, StoreError> {
        self.opt_int()?.ok_or_else(|| self.bad("NULL"))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(codec::i64_to_u64(self.int()?))
    }

    pub(crate) fn fen(&mut self) -> Result<Fen, StoreError> {
        codec::fen(self.int()?)
    }

    pub(crate) fn opt_fen(&mut self) -> Result<Option<Fen>, StoreError> {
        self.opt_int()?.map(codec::fen).transpose()
    }

    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.next()? {
            Cell::Text(v) => Ok(Some(v.clone())),
            Cell::Static(v) => Ok(Some((*v).to_owned())),
            Cell::NullInt | Cell::NullText => Ok(None),
            Cell::Int(_) => Err(self.bad("a number where text belongs")),
        }
    }

    pub(crate) fn text(&mut self) -> Result<String, StoreError> {
        self.opt_text()?.ok_or_else(|| self.bad("NULL"))
    }
}

pub(crate) fn order_from(cells: &[Cell]) -> Result<(String, OrderRecord), StoreError> {
    let mut c = Cells::new(&ORDERS, cells);
    let key = c.text()?;
    let order = Order {
        merchant_id: c.text()?,
        category: c.text()?,
        channel: c.text()?,
        paid: c.fen()?,
        refunded: c.fen()?,
        status: status_parse(&c.text()?)?,
        shipping: c.opt_text()?.as_deref().map(shipping_parse).transpose()?,
    };
    let paid_at = c.u64()?;
    let shipped_at = c.u64()?;
    let confirmed_at = c.u64()?;
    let auto_confirm_at = c.u64()?;
    let advanced = c.opt_int()?;
    let at = c.opt_int()?;
    let amounts = [
        c.opt_fen()?,
        c.opt_fen()?,
        c.opt_fen()?,
        c.opt_fen()?,
        c.opt_fen()?,
        c.opt_fen()?,
        c.opt_fen()?,
    ];
    let settlement = match (advanced, at, amounts) {
        (
            Some(advanced),
            Some(at),
            [
                Some(gross),
                Some(fee_standard),
                Some(fee_charged),
                Some(withholding),
                Some(reserve),
                Some(net),
                Some(receivable_recovered),
            ],
        ) => Some(Settlement {
            advanced: advanced != 0,
            at: codec::i64_to_u64(at),
            gross,
            fee_standard,
            fee_charged,
            withholding,
            reserve,
            net,
            receivable_recovered,
        }),
        _ => None,
    };
    let record = OrderRecord {
        order,
        paid_at,
        shipped_at,
        confirmed_at,
        auto_confirm_at,
        settlement,
        not_advanced: c.opt_text()?,
        reserve_release_at: c.u64()?,
        reserve_released: c.fen()?,
        reserve_used: c.fen()?,
    };
    Ok((key, record))
}

fn event_row(key: &str, r: &EventRecord) -> Vec<Cell> {
    vec![
        text(key),
        text(&r.order_id),
        Cell::Int(codec::u64_to_i64(r.fingerprint)),
        Cell::Static(r.applied.effect.as_str()),
        opt_text(r.applied.reason.as_deref()),
    ]
}

pub(crate) fn event_from(cells: &[Cell]) -> Result<(String, EventRecord), StoreError> {
    let mut c = Cells::new(&EVENTS, cells);
    let key = c.text()?;
    let order_id = c.text()?;
    let fingerprint = c.u64()?;
    let effect = c.text()?;
    let effect = Effect::parse(&effect).ok_or_else(|| c.bad("unknown effect"))?;
    let reason = c.opt_text()?;
    Ok((
        key,
        EventRecord {
            order_id,
            fingerprint,
            applied: Applied {
                effect,
                reason,
                amount: None,
            },
        },
    ))
}

fn merchant_row(key: &str, r: &MerchantBook) -> Vec<Cell> {
    vec![
        text(key),
        int(r.seq),
        int(r.metrics.orders),
        int(r.metrics.refunded_orders),
        fen(r.cap_granted),
    ]
}

pub(crate) fn merchant_from(cells: &[Cell]) -> Result<(String, MerchantBook), StoreError> {
    let mut c = Cells::new(&MERCHANTS, cells);
    Ok((
        c.text()?,
        MerchantBook {
            seq: c.u64()?,
            metrics: MerchantMetrics {
                orders: c.u64()?,
                refunded_orders: c.u64()?,
            },
            cap_granted: c.fen()?,
        },
    ))
}

fn payout_row(key: &str, r: &PayoutRecord) -> Vec<Cell> {
    vec![
        text(key),
        text(&r.merchant_id),
        opt_fen(r.requested),
        fen(r.amount),
        Cell::Static(r.status.as_str()),
        Cell::Text(r.transfer_id.to_string()),
        int(r.created_at),
        int(r.settled_at),
    ]
}

pub(crate) fn payout_from(cells: &[Cell]) -> Result<(String, PayoutRecord), StoreError> {
    let mut c = Cells::new(&PAYOUTS, cells);
    let key = c.text()?;
    let merchant_id = c.text()?;
    let requested = c.opt_fen()?;
    let amount = c.fen()?;
    let status = c.text()?;
    let status = PayoutStatus::parse(&status).ok_or_else(|| c.bad("unknown status"))?;
    let transfer_id = c.text()?;
    let transfer_id = transfer_id
        .parse::<u128>()
        .map_err(|_| c.bad("transfer id is not a number"))?;
    Ok((
        key,
        PayoutRecord {
            merchant_id,
            requested,
            amount,
            status,
            transfer_id,
            created_at: c.u64()?,
            settled_at: c.u64()?,
        },
    ))
}

fn meta_row(m: &Meta) -> Vec<Cell> {
    let t = &m.totals;
    vec![
        Cell::Int(1),
        int(m.next_transfer_seq),
        int(m.next_merchant_seq),
        fen(m.pool_funded),
        int(m.event_clock),
        int(t.advanced_count),
        fen(t.advanced_gross),
        fen(t.exposure_released),
        int(t.advanced_confirmed),
        int(t.days_saved_seconds),
        fen(t.fee_standard),
        fen(t.fee_charged),
        fen(t.withheld),
        fen(t.clawed_back),
        fen(t.receivable_booked),
        fen(t.receivable_recovered),
        fen(t.paid_out),
    ]
}

pub(crate) fn meta_from(cells: &[Cell]) -> Result<Meta, StoreError> {
    let mut c = Cells::new(&META, cells);
    c.int()?;
    Ok(Meta {
        next_transfer_seq: c.u64()?,
        next_merchant_seq: c.u64()?,
        pool_funded: c.fen()?,
        event_clock: c.u64()?,
        totals: Totals {
            advanced_count: c.u64()?,
            advanced_gross: c.fen()?,
            exposure_released: c.fen()?,
            advanced_confirmed: c.u64()?,
            days_saved_seconds: c.u64()?,
            fee_standard: c.fen()?,
            fee_charged: c.fen()?,
            withheld: c.fen()?,
            clawed_back: c.fen()?,
            receivable_booked: c.fen()?,
            receivable_recovered: c.fen()?,
            paid_out: c.fen()?,
        },
    })
}

/// Loads the book's counters unless it has them (none before the first settlement).
pub(crate) fn load_meta(loader: &mut dyn LoadRows, book: &mut Book) -> Result<(), StoreError> {
    if book.meta.is_none()
        && let Some(row) = loader.rows(&META, &[])?.first()
    {
        book.meta = Some(meta_from(row)?);
    }
    Ok(())
}

/// Reading settlement rows: what each backend provides to the writer.
pub(crate) trait LoadRows {
    /// The rows of `table` whose key is among `keys`.
    fn rows(
        &mut self,
        table: &'static Table,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError>;
    /// The rows of `table` whose `column` is among `keys`.
    fn rows_where(
        &mut self,
        table: &'static Table,
        column: &'static str,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError>;
    /// The one integer a query without parameters answers.
    fn scalar(&mut self, sql: &'static str) -> Result<i64, StoreError>;
    /// Orders whose scheduled work is due at `at` (event time), earliest first.
    fn due_orders(&mut self, at: u64, limit: usize) -> Result<Vec<String>, StoreError>;
    /// The merchant registry's records among `ids`.
    fn registry(&mut self, ids: &[String])
    -> Result<Vec<chunlei_settlement::Merchant>, StoreError>;
}

/// Loads into `book` the records named in `needs`, and the merchants of loaded orders and
/// payouts (with their registry records), and `meta` when the book has none.
pub(crate) fn load_book(
    loader: &mut dyn LoadRows,
    book: &mut Book,
    needs: &chunlei_settlement::book::Needs,
) -> Result<(), StoreError> {
    load_meta(loader, book)?;
    for row in loader.rows(&EVENTS, &needs.events)? {
        let (key, record) = event_from(&row)?;
        book.events.entry(key).or_insert(record);
    }
    // The merchants the group names and those of the orders loaded here and of the payouts.
    // Orders the book held already are not walked (it may hold many): the caller names the
    // merchants of those with due work, and an event names its own.
    let mut merchants: Vec<String> = Vec::new();
    for row in loader.rows(&ORDERS, &needs.orders)? {
        let (key, record) = order_from(&row)?;
        merchants.push(record.order.merchant_id.clone());
        book.orders.entry(key).or_insert(record);
    }
    for row in loader.rows(&PAYOUTS, &needs.payouts)? {
        let (key, record) = payout_from(&row)?;
        book.payouts.entry(key).or_insert(record);
    }
    // Payouts are few and held only while in flight: all their merchants.
    merchants.extend(book.payouts.values().map(|p| p.merchant_id.clone()));
    merchants.extend(needs.merchants.iter().cloned());
    merchants.retain(|m| !book.merchants.contains_key(m));
    merchants.sort_unstable();
    merchants.dedup();
    for row in loader.rows(&MERCHANTS, &merchants)? {
        let (key, record) = merchant_from(&row)?;
        book.merchants.entry(key).or_insert(record);
    }
    let mut registry: Vec<String> = needs.merchants.clone();
    registry.extend(merchants);
    registry.sort_unstable();
    registry.dedup();
    registry.retain(|m| !book.registry.contains_key(m));
    for merchant in loader.registry(&registry)? {
        book.registry
            .insert(merchant.id.as_str().to_owned(), merchant);
    }
    Ok(())
}

#[cfg(test)]
mod running_tests {
    use super::{running_days, totals_from_running};

    /// Each range is the difference of two running totals, read once each; empty ranges and
    /// days before 1970 sum to nothing.
    #[test]
    fn ranges_are_differences_of_running_totals() {
        // One order a day on days 0..=9, of 100 fen each: through day d, d + 1 of everything.
        let through = |day: i32| {
            let n = i64::from(day.clamp(-1, 9) + 1);
            [n, 100 * n, 0, n, n]
        };
        let ranges = [(3, 5), (-4, 2), (6, 20), (5, 4), (-9, -2), (0, 9)];
        let days = running_days(&ranges);
        assert_eq!(days, [2, 5, 9, 20]);
        let running: Vec<[i64; 5]> = days.iter().map(|&d| through(d)).collect();
        let totals = totals_from_running(&ranges, &days, &running).expect("sums");
        let orders: Vec<u64> = totals.iter().map(|t| t.orders).collect();
        assert_eq!(orders, [3, 3, 4, 0, 0, 10]);
        assert_eq!(totals[5].gross, 1_000);
        assert_eq!(totals[2].active_days, 4);
        // A total that shrinks is corruption, not a negative sum.
        let mut bad = running.clone();
        bad[1][0] = 50;
        assert!(totals_from_running(&ranges, &days, &bad).is_err());
    }
}
