//! Settlement on the wire: order events in, orders, statements, programme figures and payouts
//! out.
//!
//! Event times travel as RFC 3339 UTC text (`2020-04-01T08:00:00Z`, fractions of a second
//! allowed, offsets `+08:00` too) and are kept as nanoseconds since the Unix epoch. Amounts
//! are integers in fen.

use chunlei_ledger::Fen;
use chunlei_settlement::book::{
    Applied, Command, CommandResult, EventIn, Meta, OrderRecord, PayoutIn, PayoutRecord,
    PayoutResultIn, PayoutStatus,
};
use chunlei_settlement::{CivilDate, Merchant, MerchantId, OrderEvent, Shipping};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::{Place, amount, events_from_json, object};
use super::query::{limit, once};
use crate::ApiError;

/// An order event as the marketplace sends it; see [`event`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventWire {
    id: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<Value>,
    order_id: Option<Value>,
    merchant_id: Option<Value>,
    occurred_at: Option<Value>,
    amount: Option<Value>,
    category: Option<Value>,
    channel: Option<Value>,
    shipping: Option<Value>,
}

/// Parses a `POST /events` body: a JSON array of 1 to 8,189 order events.
pub(crate) fn order_events_from_json(body: &[u8]) -> Result<Vec<Command>, ApiError> {
    let events = events_from_json(body, "events", event)?;
    Ok(events.into_iter().map(Command::Order).collect())
}

fn event(fields: EventWire, at: &Place) -> Result<EventIn, ApiError> {
    let kind = text(fields.kind, at, "type")?;
    let merchant_id = text(fields.merchant_id, at, "merchant_id")?;
    MerchantId::parse(&merchant_id).map_err(|reason| {
        ApiError::InvalidField(format!("{}: {reason}", at.field("merchant_id")))
    })?;
    let occurred_at = text(fields.occurred_at, at, "occurred_at")?;
    let occurred_at = parse_time(&occurred_at).ok_or_else(|| {
        ApiError::InvalidField(format!(
            "{} must be an RFC 3339 time from 1970 to 2262, such as \"2020-04-01T08:00:00Z\"",
            at.field("occurred_at")
        ))
    })?;
    let absent = |name: &str, value: &Option<Value>| -> Result<(), ApiError> {
        match value {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(ApiError::InvalidField(format!(
                "{} is not part of a {kind} event",
                at.field(name)
            ))),
        }
    };
    let positive = |value: Option<Value>| -> Result<Fen, ApiError> {
        let fen = amount(value, at)?;
        if fen.is_zero() {
            return Err(ApiError::AmountZero(format!(
                "{} must be greater than zero",
                at.field("amount")
            )));
        }
        Ok(fen)
    };
    let event = match kind.as_str() {
        "order.paid" => {
            absent("shipping", &fields.shipping)?;
            OrderEvent::Paid {
                merchant_id: merchant_id.clone(),
                amount: positive(fields.amount)?,
                category: token(fields.category, at, "category")?,
                channel: token(fields.channel, at, "channel")?,
            }
        }
        "order.shipped" => {
            absent("amount", &fields.amount)?;
            absent("category", &fields.category)?;
            absent("channel", &fields.channel)?;
            let shipping = match &fields.shipping {
                None | Some(Value::Null) => Some(Shipping::Express),
                Some(Value::String(s)) => Shipping::parse(s),
                Some(_) => None,
            }
            .ok_or_else(|| {
                ApiError::InvalidField(format!(
                    "{} must be \"express\" or \"surface\"",
                    at.field("shipping")
                ))
            })?;
            OrderEvent::Shipped { shipping }
        }
        "order.confirmed" | "order.cancelled" => {
            for (name, value) in [
                ("amount", &fields.amount),
                ("category", &fields.category),
                ("channel", &fields.channel),
                ("shipping", &fields.shipping),
            ] {
                absent(name, value)?;
            }
            if kind == "order.confirmed" {
                OrderEvent::Confirmed
            } else {
                OrderEvent::Cancelled
            }
        }
        "order.refunded" => {
            for (name, value) in [
                ("category", &fields.category),
                ("channel", &fields.channel),
                ("shipping", &fields.shipping),
            ] {
                absent(name, value)?;
            }
            OrderEvent::Refunded {
                amount: positive(fields.amount)?,
            }
        }
        _ => {
            return Err(ApiError::InvalidField(format!(
                "{} must be one of order.paid, order.shipped, order.confirmed, order.refunded, \
                 order.cancelled",
                at.field("type")
            )));
        }
    };
    Ok(EventIn {
        event_id: key(fields.id, at, "id")?,
        order_id: key(fields.order_id, at, "order_id")?,
        merchant_id,
        occurred_at,
        event,
    })
}

fn text(value: Option<Value>, at: &Place, name: &str) -> Result<String, ApiError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(ApiError::InvalidField(format!(
            "{} is required",
            at.field(name)
        ))),
        Some(_) => Err(ApiError::InvalidField(format!(
            "{} must be a string",
            at.field(name)
        ))),
    }
}

/// An event, order or payout id: 1 to 64 of `A-Z a-z 0-9 _ . -`.
fn key(value: Option<Value>, at: &Place, name: &str) -> Result<String, ApiError> {
    let text = text(value, at, name)?;
    check_key(&text)
        .map_err(|reason| ApiError::InvalidField(format!("{} {reason}", at.field(name))))?;
    Ok(text)
}

pub(crate) fn check_key(text: &str) -> Result<(), String> {
    let max = chunlei_settlement::book::ID_CHARS_MAX;
    if text.is_empty() || text.len() > max {
        return Err(format!("must have 1 to {max} characters"));
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err("may hold only letters, digits, '_', '.' and '-'".into());
    }
    Ok(())
}

/// A category or channel: 1 to 64 of `A-Z a-z 0-9 _ -`.
fn token(value: Option<Value>, at: &Place, name: &str) -> Result<String, ApiError> {
    let text = text(value, at, name)?;
    if text.is_empty()
        || text.len() > 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        return Err(ApiError::InvalidField(format!(
            "{} must be 1 to 64 letters, digits, '_' or '-'",
            at.field(name)
        )));
    }
    Ok(text)
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as nanoseconds since the Unix epoch.
pub(crate) fn parse_time(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let part = text.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date = CivilDate::from_ymd(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos: u64 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let value: u64 = fraction[..digits].parse().ok()?;
        nanos = value * 10u64.pow(u32::try_from(9 - digits).ok()?);
        rest = &fraction[digits..];
    }
    let offset_seconds: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            if o.len() != 6 || !matches!(o[0], b'+' | b'-') || o[3] != b':' {
                return None;
            }
            let digits = |part: &str| -> Option<i64> {
                part.bytes()
                    .all(|c| c.is_ascii_digit())
                    .then(|| part.parse().ok())?
            };
            let hours = digits(rest.get(1..3)?)?;
            let minutes = digits(rest.get(4..6)?)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let sign = if o[0] == b'+' { 1 } else { -1 };
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = i64::from(date.days_since_epoch());
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    seconds
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(nanos)
        .filter(|ns| i64::try_from(*ns).is_ok())
}

/// Nanoseconds since the epoch as RFC 3339 UTC text (`Z`), with fractions only when present.
pub fn format_time(ns: u64) -> String {
    let seconds = ns / NANOS_PER_SECOND;
    let nanos = ns % NANOS_PER_SECOND;
    let days = i32::try_from(seconds / 86_400).unwrap_or(i32::MAX);
    let of_day = seconds % 86_400;
    let (y, m, d) = CivilDate::from_days(days).map_or((9999, 12, 31), CivilDate::ymd);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    if nanos == 0 {
        format!("{base}Z")
    } else {
        let fraction = format!("{nanos:09}");
        format!("{base}.{}Z", fraction.trim_end_matches('0'))
    }
}

fn time_or_none(ns: u64) -> Option<String> {
    (ns != 0).then(|| format_time(ns))
}

/// `{"results":[…]}` for a batch of events: one per event, in order.
#[derive(Debug, Serialize)]
pub(crate) struct EventResults {
    results: Vec<EventResultOut>,
}

#[derive(Debug, Serialize)]
struct EventResultOut {
    id: String,
    /// `ok`, or the code of the rejection.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl EventResults {
    pub(crate) fn new(commands: &[Command], results: Vec<CommandResult>) -> EventResults {
        let results = commands
            .iter()
            .zip(results)
            .map(|(command, result)| {
                let id = match command {
                    Command::Order(e) => e.event_id.clone(),
                    Command::Payout(p) => p.payout_id.clone(),
                    Command::PayoutResult(r) => r.payout_id.clone(),
                };
                match result {
                    Ok(applied) => EventResultOut {
                        id,
                        result: "ok",
                        effect: Some(applied.effect.as_str()),
                        reason: applied.reason,
                    },
                    Err(rejection) => EventResultOut {
                        id,
                        result: rejection.as_str(),
                        effect: None,
                        reason: None,
                    },
                }
            })
            .collect();
        EventResults { results }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct SettlementOut {
    advanced: bool,
    settled_at: String,
    gross: u64,
    fee_standard: u64,
    fee: u64,
    relief: u64,
    withholding: u64,
    reserve: u64,
    net: u64,
    receivable_recovered: u64,
    /// Days between settlement and the buyer's confirmation (standard settlement), with two
    /// decimals; absent until confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    days_early: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OrderOut {
    order_id: String,
    merchant_id: String,
    category: String,
    channel: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping: Option<&'static str>,
    paid: u64,
    refunded: u64,
    paid_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipped_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_confirm_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settlement: Option<SettlementOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_advanced: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reserve_release_at: Option<String>,
    reserve_released: u64,
}

/// Hundredths as `12.34`.
fn centi(value: u64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

impl OrderOut {
    pub(crate) fn new(order_id: &str, r: &OrderRecord) -> OrderOut {
        let settlement = r.settlement.as_ref().map(|s| SettlementOut {
            advanced: s.advanced,
            settled_at: format_time(s.at),
            gross: s.gross.get(),
            fee_standard: s.fee_standard.get(),
            fee: s.fee_charged.get(),
            relief: s.fee_standard.saturating_sub(s.fee_charged).get(),
            withholding: s.withholding.get(),
            reserve: s.reserve.get(),
            net: s.net.get(),
            receivable_recovered: s.receivable_recovered.get(),
            days_early: r
                .seconds_early()
                .map(|seconds| centi(seconds * 100 / 86_400)),
        });
        OrderOut {
            order_id: order_id.to_owned(),
            merchant_id: r.order.merchant_id.clone(),
            category: r.order.category.clone(),
            channel: r.order.channel.clone(),
            status: r.order.status.as_str(),
            shipping: r.order.shipping.map(Shipping::as_str),
            paid: r.order.paid.get(),
            refunded: r.order.refunded.get(),
            paid_at: format_time(r.paid_at),
            shipped_at: time_or_none(r.shipped_at),
            confirmed_at: time_or_none(r.confirmed_at),
            auto_confirm_at: time_or_none(r.auto_confirm_at),
            settlement,
            not_advanced: r.not_advanced.clone(),
            reserve_release_at: time_or_none(r.reserve_release_at),
            reserve_released: r.reserve_released.get(),
        }
    }
}

/// A merchant's balances in the settlement book, in fen.
#[derive(Debug, Default, Serialize)]
pub(crate) struct BalancesOut {
    pub available: u64,
    pub reserve: u64,
    /// What the merchant owes after clawbacks its balances could not cover.
    pub receivable: u64,
    pub pending_payout: u64,
    pub advances_outstanding: u64,
    pub exposure_cap: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatementOut {
    pub merchant_id: String,
    pub balances: BalancesOut,
    pub orders: Vec<OrderOut>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProgramOut {
    advanced_orders: u64,
    advanced_total: u64,
    advances_outstanding: u64,
    advances_confirmed: u64,
    /// Average days a confirmed advanced order was paid before its confirmation.
    average_days_saved: String,
    fees_standard: u64,
    fees_charged: u64,
    relief: u64,
    withheld: u64,
    clawed_back: u64,
    clawbacks_recovered: u64,
    clawbacks_unrecovered: u64,
    paid_out: u64,
    pool_cap: u64,
}

impl ProgramOut {
    pub(crate) fn new(meta: &Meta) -> ProgramOut {
        let t = &meta.totals;
        ProgramOut {
            advanced_orders: t.advanced_count,
            advanced_total: t.advanced_gross.get(),
            advances_outstanding: t.outstanding().get(),
            advances_confirmed: t.advanced_confirmed,
            average_days_saved: centi(t.average_days_saved_centi()),
            fees_standard: t.fee_standard.get(),
            fees_charged: t.fee_charged.get(),
            relief: t.fee_standard.saturating_sub(t.fee_charged).get(),
            withheld: t.withheld.get(),
            clawed_back: t.clawed_back.get(),
            clawbacks_recovered: t.clawed_back.saturating_sub(t.unrecovered()).get(),
            clawbacks_unrecovered: t.unrecovered().get(),
            paid_out: t.paid_out.get(),
            pool_cap: meta.pool_funded.get(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutWire {
    id: Option<Value>,
    amount: Option<Value>,
}

/// Parses `POST /merchants/{id}/payouts`: `{"id":"p-1"}` pays out everything available,
/// `{"id":"p-1","amount":5000}` that much.
pub(crate) fn payout_from_json(merchant_id: &MerchantId, body: &[u8]) -> Result<Command, ApiError> {
    let fields: PayoutWire = object(body)?;
    let at = Place {
        list: "payout",
        index: 0,
    };
    let requested = match fields.amount {
        None | Some(Value::Null) => None,
        Some(value) => {
            let fen = amount(Some(value), &at)?;
            if fen.is_zero() {
                return Err(ApiError::AmountZero(
                    "amount must be greater than zero; leave it out to pay out everything available"
                        .into(),
                ));
            }
            Some(fen)
        }
    };
    let payout_id = match fields.id {
        Some(Value::String(id)) => id,
        _ => {
            return Err(ApiError::InvalidField(
                "id is required: the payout's unique id".into(),
            ));
        }
    };
    check_key(&payout_id).map_err(|reason| ApiError::InvalidField(format!("id {reason}")))?;
    Ok(Command::Payout(PayoutIn {
        payout_id,
        merchant_id: merchant_id.as_str().to_owned(),
        amount: requested,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutResultWire {
    succeeded: Option<Value>,
}

/// Parses `POST /payouts/{id}/result`: `{"succeeded":true}` or `{"succeeded":false}`.
pub(crate) fn payout_result_from_json(payout_id: &str, body: &[u8]) -> Result<Command, ApiError> {
    let fields: PayoutResultWire = object(body)?;
    let succeeded = match fields.succeeded {
        Some(Value::Bool(b)) => b,
        _ => {
            return Err(ApiError::InvalidField(
                "succeeded is required: true when the bank paid, false when it refused".into(),
            ));
        }
    };
    Ok(Command::PayoutResult(PayoutResultIn {
        payout_id: payout_id.to_owned(),
        succeeded,
    }))
}

/// A payout instruction: what to pay, to whom, and where it stands.
#[derive(Debug, Serialize)]
pub(crate) struct PayoutOut {
    id: String,
    merchant_id: String,
    amount: u64,
    status: &'static str,
    requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    settled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    holder_name: Option<String>,
}

impl PayoutOut {
    pub(crate) fn id(&self) -> String {
        self.id.clone()
    }

    pub(crate) fn new(id: &str, p: &PayoutRecord, merchant: Option<&Merchant>) -> PayoutOut {
        let account = merchant.map(|m| &m.payout_account);
        PayoutOut {
            id: id.to_owned(),
            merchant_id: p.merchant_id.clone(),
            amount: p.amount.get(),
            status: p.status.as_str(),
            requested_at: format_time(p.created_at),
            settled_at: time_or_none(p.settled_at),
            bank_code: account.map(|a| a.bank_code.as_str().to_owned()),
            account_number: account.map(|a| a.account_number.as_str().to_owned()),
            holder_name: account.map(|a| a.holder_name.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct PayoutsOut {
    pub payouts: Vec<PayoutOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// The answer to a payout command.
#[derive(Debug, Serialize)]
pub(crate) struct PayoutAnswer {
    pub id: String,
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
}

impl PayoutAnswer {
    pub(crate) fn new(id: &str, result: CommandResult) -> PayoutAnswer {
        match result {
            Ok(Applied { effect, amount, .. }) => PayoutAnswer {
                id: id.to_owned(),
                result: "ok",
                status: Some(match effect.as_str() {
                    "payout_paid" => PayoutStatus::Paid.as_str(),
                    "payout_failed" => PayoutStatus::Failed.as_str(),
                    _ => PayoutStatus::Pending.as_str(),
                }),
                amount: amount.map(Fen::get),
            },
            Err(rejection) => PayoutAnswer {
                id: id.to_owned(),
                result: rejection.as_str(),
                status: None,
                amount: None,
            },
        }
    }
}

/// A page of a settlement listing: `after` (a key) and `limit`.
#[derive(Debug)]
pub(crate) struct Page {
    pub after: String,
    pub limit: u32,
    pub status: Option<PayoutStatus>,
}

/// Reads `after`, `limit` and, where `with_status`, `status` from the query.
pub(crate) fn page(pairs: &[(String, String)], with_status: bool) -> Result<Page, ApiError> {
    let mut page = Page {
        after: String::new(),
        limit: super::query::LIST_LIMIT_DEFAULT,
        status: None,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        once(&mut seen, name)?;
        match name.as_str() {
            "limit" => page.limit = limit(value)?,
            "after" => {
                if !value.is_empty() {
                    check_key(value)
                        .map_err(|reason| ApiError::InvalidField(format!("after {reason}")))?;
                }
                page.after = value.clone();
            }
            "status" if with_status => {
                page.status = Some(PayoutStatus::parse(value).ok_or_else(|| {
                    ApiError::InvalidField("status must be pending, paid or failed".into())
                })?);
            }
            _ => {
                let known = if with_status {
                    "after, limit, status"
                } else {
                    "after, limit"
                };
                return Err(ApiError::UnknownField(format!(
                    "unknown query parameter {name}; known parameters are: {known}"
                )));
            }
        }
    }
    Ok(page)
}
