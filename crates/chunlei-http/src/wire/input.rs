//! Request bodies: batches of accounts and transfers, and lookups by id.
//!
//! A batch is read in two steps so that an error can name the event and the field it is in.
//! First the body is split into its events without parsing them; then each event is read into
//! a struct of raw JSON values, where serde rejects unknown and repeated fields, and each
//! field is converted by hand with a message that names it (`transfers[3].amount`). Any error
//! rejects the whole request before anything is applied.

use std::fmt;
use std::str::FromStr;

use chunlei_ledger::{
    Account, AccountFlags, BATCH_EVENTS_MAX, Fen, Owner, OwnerKind, Transfer, TransferFlags,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::{ApiError, PartyId};
use chunlei_settlement::book::SYSTEM_ID_MIN;

/// An account as a client submits it. Every field is raw JSON so that a bad value can be
/// reported with the name of its field; [`account`] converts them. Absent fields are zero.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountIn {
    id: Option<Value>,
    ledger: Option<Value>,
    code: Option<Value>,
    flags: Option<Value>,
    user_data_128: Option<Value>,
    user_data_64: Option<Value>,
    user_data_32: Option<Value>,
    owner: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerIn {
    kind: String,
    #[serde(default)]
    id: String,
}

/// A transfer as a client submits it; see [`AccountIn`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferIn {
    id: Option<Value>,
    debit_account_id: Option<Value>,
    credit_account_id: Option<Value>,
    amount: Option<Value>,
    pending_id: Option<Value>,
    ledger: Option<Value>,
    code: Option<Value>,
    flags: Option<Value>,
    timeout_s: Option<Value>,
    user_data_128: Option<Value>,
    user_data_64: Option<Value>,
    user_data_32: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupIn {
    ids: Vec<Value>,
}

/// Parses a `POST /accounts` body: a JSON array of 1 to `BATCH_EVENTS_MAX` accounts.
pub(crate) fn accounts_from_json(body: &[u8]) -> Result<Vec<Account>, ApiError> {
    let accounts = events_from_json(body, "accounts", account)?;
    for (index, a) in accounts.iter().enumerate() {
        not_reserved(
            a.id,
            &Place {
                list: "accounts",
                index,
            },
            "id",
        )?;
    }
    Ok(accounts)
}

/// Ids from [`SYSTEM_ID_MIN`] up belong to the settlement book's own accounts and transfers,
/// which only it moves: a client may neither create such ids nor move money through them.
fn not_reserved(id: u128, at: &Place, name: &str) -> Result<(), ApiError> {
    if id >= SYSTEM_ID_MIN {
        return Err(ApiError::InvalidField(format!(
            "{} is in the range reserved for the settlement book (from {SYSTEM_ID_MIN})",
            at.field(name)
        )));
    }
    Ok(())
}

/// Parses a batch body: a JSON array of 1 to `BATCH_EVENTS_MAX` objects of `list`, each read
/// as `In` and converted by `convert`; the first bad event refuses the whole batch.
pub(super) fn events_from_json<In: de::DeserializeOwned, Out>(
    body: &[u8],
    list: &'static str,
    convert: fn(In, &Place) -> Result<Out, ApiError>,
) -> Result<Vec<Out>, ApiError> {
    let events = split_batch(body, list)?;
    let mut parsed = Vec::with_capacity(events.len());
    for (index, raw) in events.into_iter().enumerate() {
        let at = Place { list, index };
        parsed.push(convert(event(raw, &at)?, &at)?);
    }
    Ok(parsed)
}

/// Parses a `POST /transfers` body: a JSON array of 1 to `BATCH_EVENTS_MAX` transfers.
pub(crate) fn transfers_from_json(body: &[u8]) -> Result<Vec<Transfer>, ApiError> {
    let transfers = events_from_json(body, "transfers", transfer)?;
    for (index, t) in transfers.iter().enumerate() {
        let at = Place {
            list: "transfers",
            index,
        };
        not_reserved(t.id, &at, "id")?;
        not_reserved(t.debit_account_id, &at, "debit_account_id")?;
        not_reserved(t.credit_account_id, &at, "credit_account_id")?;
        not_reserved(t.pending_id, &at, "pending_id")?;
    }
    // Only a post or a void may leave the amount out (it then means the pending amount); any
    // other transfer of nothing is malformed, and the whole request is refused. Checked once
    // every event has parsed, so a malformed event is reported as such first.
    if let Some(index) = transfers
        .iter()
        .position(|t| t.amount.is_zero() && !t.resolves_pending())
    {
        let at = Place {
            list: "transfers",
            index,
        };
        return Err(ApiError::AmountZero(format!(
            "{} must be greater than zero (only a post or void may omit it)",
            at.field("amount")
        )));
    }
    Ok(transfers)
}

/// Parses a lookup body, `{"ids":["1","2"]}`, with at most `BATCH_EVENTS_MAX` ids.
pub(crate) fn ids_from_json(body: &[u8]) -> Result<Vec<u128>, ApiError> {
    let lookup: LookupIn = serde_json::from_slice(body).map_err(|e| data_error(e, "the body"))?;
    if lookup.ids.len() > BATCH_EVENTS_MAX {
        return Err(ApiError::BatchTooLarge {
            count: lookup.ids.len(),
            max: BATCH_EVENTS_MAX,
        });
    }
    let mut ids = Vec::with_capacity(lookup.ids.len());
    for (index, value) in lookup.ids.into_iter().enumerate() {
        ids.push(id(Some(value), &Place { list: "ids", index }, None)?);
    }
    Ok(ids)
}

fn account(fields: AccountIn, at: &Place) -> Result<Account, ApiError> {
    let mut account = Account::new(
        id(fields.id, at, Some("id"))?,
        integer(fields.ledger, at, "ledger", u32::MAX.into())?,
        integer(fields.code, at, "code", u16::MAX.into())?,
    );
    account.flags = flags(fields.flags, at, AccountFlags::ALL, AccountFlags::union)?;
    account.user_data_128 = id(fields.user_data_128, at, Some("user_data_128"))?;
    account.user_data_64 = decimal(fields.user_data_64, at, "user_data_64")?;
    account.user_data_32 = integer(fields.user_data_32, at, "user_data_32", u32::MAX.into())?;
    account.owner = owner(fields.owner, at)?;
    Ok(account)
}

fn transfer(fields: TransferIn, at: &Place) -> Result<Transfer, ApiError> {
    let mut transfer = Transfer::new(
        id(fields.id, at, Some("id"))?,
        id(fields.debit_account_id, at, Some("debit_account_id"))?,
        id(fields.credit_account_id, at, Some("credit_account_id"))?,
        amount(fields.amount, at)?,
    );
    transfer.pending_id = id(fields.pending_id, at, Some("pending_id"))?;
    // Set even when absent: `Transfer::new` defaults them to 1, the wire to 0.
    transfer.ledger = integer(fields.ledger, at, "ledger", u32::MAX.into())?;
    transfer.code = integer(fields.code, at, "code", u16::MAX.into())?;
    transfer.flags = flags(fields.flags, at, TransferFlags::ALL, TransferFlags::union)?;
    transfer.timeout_s = integer(fields.timeout_s, at, "timeout_s", u32::MAX.into())?;
    transfer.user_data_128 = id(fields.user_data_128, at, Some("user_data_128"))?;
    transfer.user_data_64 = decimal(fields.user_data_64, at, "user_data_64")?;
    transfer.user_data_32 = integer(fields.user_data_32, at, "user_data_32", u32::MAX.into())?;
    Ok(transfer)
}

/// Where a value sits in the request, for messages: `transfers[3]` and its fields.
pub(super) struct Place {
    pub(super) list: &'static str,
    pub(super) index: usize,
}

impl Place {
    pub(super) fn field(&self, name: &str) -> String {
        format!("{}[{}].{name}", self.list, self.index)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.list, self.index)
    }
}

/// The events of a batch, unparsed. Collects at most `BATCH_EVENTS_MAX` of them and only
/// counts the rest, so an oversized batch costs no memory beyond its body.
struct Batch<'a> {
    events: Vec<&'a RawValue>,
    count: usize,
}

impl<'de> Deserialize<'de> for Batch<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Batch<'de>, D::Error> {
        deserializer.deserialize_seq(BatchVisitor)
    }
}

struct BatchVisitor;

impl<'de> Visitor<'de> for BatchVisitor {
    type Value = Batch<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Batch<'de>, A::Error> {
        let mut events = Vec::new();
        while events.len() < BATCH_EVENTS_MAX {
            match seq.next_element::<&RawValue>()? {
                Some(event) => events.push(event),
                None => {
                    return Ok(Batch {
                        count: events.len(),
                        events,
                    });
                }
            }
        }
        let mut count = events.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(Batch { events, count })
    }
}

fn split_batch<'a>(body: &'a [u8], list: &str) -> Result<Vec<&'a RawValue>, ApiError> {
    let batch: Batch<'a> = serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => ApiError::InvalidBody(format!("the body must be a JSON array of {list}")),
        Category::Io | Category::Syntax | Category::Eof => invalid_json(&e),
    })?;
    if batch.count == 0 {
        return Err(ApiError::BatchEmpty);
    }
    if batch.count > BATCH_EVENTS_MAX {
        return Err(ApiError::BatchTooLarge {
            count: batch.count,
            max: BATCH_EVENTS_MAX,
        });
    }
    Ok(batch.events)
}

/// Reads one event into its struct of raw fields.
fn event<T: de::DeserializeOwned>(raw: &RawValue, at: &Place) -> Result<T, ApiError> {
    if !raw.get().starts_with('{') {
        return Err(ApiError::InvalidField(format!(
            "{at} must be a JSON object"
        )));
    }
    serde_json::from_str(raw.get()).map_err(|e| data_error(e, &at.to_string()))
}

fn invalid_json(error: &serde_json::Error) -> ApiError {
    ApiError::InvalidJson(format!("the body is not valid JSON: {error}"))
}

/// Reads a body that must be one JSON object into `T`. serde would also read a struct from an
/// array of its fields' values in order (`["p-1", null]` as `{"id":"p-1"}`), a shape no client
/// is told about and that would move money all the same;
/// batches of events and merchants are held to objects likewise.
pub(super) fn object<T: de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let raw: Box<RawValue> = serde_json::from_slice(body).map_err(|e| data_error(e, "the body"))?;
    if !raw.get().starts_with('{') {
        return Err(ApiError::InvalidBody(
            "the body must be a JSON object".into(),
        ));
    }
    serde_json::from_str(raw.get()).map_err(|e| data_error(e, "the body"))
}

/// Maps a serde error in an already well-formed JSON value at `place`.
pub(super) fn data_error(error: serde_json::Error, place: &str) -> ApiError {
    match error.classify() {
        Category::Io | Category::Syntax | Category::Eof => invalid_json(&error),
        Category::Data => {
            let message = without_position(&error);
            // serde reports unknown fields only through its message; its wording is stable
            // ("unknown field `x`, expected one of …"), and a unit test pins it.
            if message.starts_with("unknown field") {
                ApiError::UnknownField(format!("{place}: {message}"))
            } else {
                ApiError::InvalidField(format!("{place}: {message}"))
            }
        }
    }
}

/// The message without serde_json's " at line L column C", which would point into the event
/// rather than the body.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix)
        .map_or_else(|| text.clone(), str::to_owned)
}

/// A 128-bit id or user datum: a decimal string. `name` is `None` for an element of `ids`.
fn id(value: Option<Value>, at: &Place, name: Option<&str>) -> Result<u128, ApiError> {
    let place = name.map_or_else(|| at.to_string(), |name| at.field(name));
    match value {
        None | Some(Value::Null) => Some(0),
        Some(Value::String(text)) => parse_decimal(&text),
        Some(_) => None,
    }
    .ok_or_else(|| {
        ApiError::InvalidField(format!(
            "{place} must be a decimal string of an unsigned 128-bit integer, such as \"42\""
        ))
    })
}

/// A 64-bit user datum: a decimal string.
fn decimal(value: Option<Value>, at: &Place, name: &str) -> Result<u64, ApiError> {
    match value {
        None | Some(Value::Null) => Some(0),
        Some(Value::String(text)) => parse_decimal(&text),
        Some(_) => None,
    }
    .ok_or_else(|| {
        ApiError::InvalidField(format!(
            "{} must be a decimal string of an unsigned 64-bit integer, such as \"42\"",
            at.field(name)
        ))
    })
}

/// Digits only: no sign, no spaces, no exponent; `None` on overflow.
pub(crate) fn parse_decimal<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A small unsigned integer field (ledger, code, timeout, user_data_32): a JSON integer.
fn integer<T: TryFrom<u64> + Default>(
    value: Option<Value>,
    at: &Place,
    name: &str,
    max: u64,
) -> Result<T, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(T::default());
    };
    value
        .as_u64()
        .filter(|n| *n <= max)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            ApiError::InvalidField(format!(
                "{} must be an integer from 0 to {max}",
                at.field(name)
            ))
        })
}

/// An amount in fen: a JSON integer from 0 to `i64::MAX`, the largest the ledger stores.
pub(super) fn amount(value: Option<Value>, at: &Place) -> Result<Fen, ApiError> {
    let place = at.field("amount");
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Fen::ZERO);
    };
    let Value::Number(number) = value else {
        return Err(ApiError::InvalidField(format!(
            "{place} must be an integer number of fen"
        )));
    };
    if let Some(fen) = number.as_u64() {
        return Fen::new(fen).ok_or_else(|| out_of_range(&place));
    }
    // serde_json holds integers beyond u64 as floats; those are too large, not malformed.
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= Fen::MAX.get() as f64 => Err(out_of_range(&place)),
        Some(_) | None => Err(ApiError::InvalidField(format!(
            "{place} must be a non-negative integer number of fen"
        ))),
    }
}

fn out_of_range(place: &str) -> ApiError {
    ApiError::AmountOutOfRange(format!(
        "{place} is larger than {}, the largest amount in fen the ledger holds",
        Fen::MAX
    ))
}

/// Flags: an array of names from `all`.
fn flags<F: Copy + Default>(
    value: Option<Value>,
    at: &Place,
    all: &[(F, &'static str)],
    union: fn(F, F) -> F,
) -> Result<F, ApiError> {
    let place = at.field("flags");
    let known = || {
        all.iter()
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let items = match value {
        None | Some(Value::Null) => return Ok(F::default()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::InvalidField(format!(
                "{place} must be an array of flag names from: {}",
                known()
            )));
        }
    };
    let mut flags = F::default();
    for item in items {
        let flag = item
            .as_str()
            .and_then(|name| all.iter().find(|(_, n)| *n == name))
            .map(|(flag, _)| *flag)
            .ok_or_else(|| {
                ApiError::InvalidField(format!(
                    "{place} has an unknown flag {item}; known flags are: {}",
                    known()
                ))
            })?;
        flags = union(flags, flag);
    }
    Ok(flags)
}

/// The owner of an account: absent for the platform, otherwise `{"kind","id"}`.
fn owner(value: Option<Value>, at: &Place) -> Result<Owner, ApiError> {
    let place = at.field("owner");
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Owner::platform());
    };
    let fields: OwnerIn = serde_json::from_value(value).map_err(|e| data_error(e, &place))?;
    let kind = OwnerKind::parse(&fields.kind).ok_or_else(|| {
        ApiError::InvalidField(format!(
            "{place}.kind must be one of platform, merchant, bank"
        ))
    })?;
    match kind {
        OwnerKind::Platform if fields.id.is_empty() => Ok(Owner::platform()),
        OwnerKind::Platform => Err(ApiError::InvalidField(format!(
            "{place}.id must be absent for the platform, which has no id"
        ))),
        OwnerKind::Merchant | OwnerKind::Bank => {
            let id = PartyId::parse(&fields.id)
                .map_err(|reason| ApiError::InvalidField(format!("{place}.id {reason}")))?;
            Ok(Owner {
                kind,
                id: id.as_str().to_owned(),
            })
        }
    }
}
