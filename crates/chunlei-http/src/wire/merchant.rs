//! Merchants on the wire: the body of `PUT /merchants/{id}` and the merchant in answers.
//!
//! The attributes are flat, with the same names as the columns of an import file
//! (`bank_code`, `account_number` and `holder_name` are the payout account), so that one
//! spelling serves both. Text travels as strings, `foreign_trade` as a boolean, `joined_on` as
//! `YYYY-MM-DD`; `cluster_id` and `agriculture_base_id` may be absent or null.

use chunlei_settlement::{Merchant, MerchantFields, MerchantId};
use chunlei_store::{FraudFlag, FraudFlagEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::object;
use crate::ApiError;

/// A merchant as a client submits it. Every field is raw JSON so that a value of the wrong
/// type is reported with the name of its field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantIn {
    /// Optional, since the path names the merchant; when given it must agree.
    id: Option<Value>,
    name: Option<Value>,
    kind: Option<Value>,
    foreign_trade: Option<Value>,
    region_code: Option<Value>,
    category: Option<Value>,
    joined_on: Option<Value>,
    cluster_id: Option<Value>,
    agriculture_base_id: Option<Value>,
    risk_tier: Option<Value>,
    bank_code: Option<Value>,
    account_number: Option<Value>,
    holder_name: Option<Value>,
}

/// Parses a `PUT /merchants/{id}` body for the merchant `id`.
pub(crate) fn merchant_from_json(id: &MerchantId, body: &[u8]) -> Result<Merchant, ApiError> {
    let fields: MerchantIn = object(body)?;
    if let Some(given) = &fields.id
        && given.as_str() != Some(id.as_str())
    {
        return Err(ApiError::InvalidField(format!(
            "id: must be absent or equal to the id in the path, {id}"
        )));
    }
    let foreign_trade = match &fields.foreign_trade {
        Some(Value::Bool(true)) => "true",
        Some(Value::Bool(false)) => "false",
        None => return Err(required("foreign_trade")),
        Some(_) => {
            return Err(ApiError::InvalidField(
                "foreign_trade: must be true or false".into(),
            ));
        }
    };
    let text = MerchantFields {
        id: id.as_str(),
        name: required_text(fields.name.as_ref(), "name")?,
        kind: required_text(fields.kind.as_ref(), "kind")?,
        foreign_trade,
        region_code: required_text(fields.region_code.as_ref(), "region_code")?,
        category: required_text(fields.category.as_ref(), "category")?,
        joined_on: required_text(fields.joined_on.as_ref(), "joined_on")?,
        cluster_id: optional_text(fields.cluster_id.as_ref(), "cluster_id")?,
        agriculture_base_id: optional_text(
            fields.agriculture_base_id.as_ref(),
            "agriculture_base_id",
        )?,
        risk_tier: required_text(fields.risk_tier.as_ref(), "risk_tier")?,
        bank_code: required_text(fields.bank_code.as_ref(), "bank_code")?,
        account_number: required_text(fields.account_number.as_ref(), "account_number")?,
        holder_name: required_text(fields.holder_name.as_ref(), "holder_name")?,
    };
    Merchant::parse(&text).map_err(|error| ApiError::InvalidField(error.to_string()))
}

fn required(name: &str) -> ApiError {
    ApiError::InvalidField(format!("{name}: is required"))
}

fn required_text<'v>(value: Option<&'v Value>, name: &str) -> Result<&'v str, ApiError> {
    match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(required(name)),
        Some(_) => Err(ApiError::InvalidField(format!("{name}: must be a string"))),
    }
}

/// Absent, null and the empty string all mean "none".
fn optional_text<'v>(value: Option<&'v Value>, name: &str) -> Result<&'v str, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(""),
        Some(_) => required_text(value, name),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct MerchantOut {
    id: String,
    name: String,
    kind: &'static str,
    foreign_trade: bool,
    region_code: String,
    category: String,
    joined_on: String,
    cluster_id: Option<String>,
    agriculture_base_id: Option<String>,
    risk_tier: &'static str,
    bank_code: String,
    account_number: String,
    holder_name: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Merchants {
    pub merchants: Vec<MerchantOut>,
}

impl From<&Merchant> for MerchantOut {
    fn from(merchant: &Merchant) -> MerchantOut {
        let account = &merchant.payout_account;
        MerchantOut {
            id: merchant.id.to_string(),
            name: merchant.name.clone(),
            kind: merchant.kind.as_str(),
            foreign_trade: merchant.foreign_trade,
            region_code: merchant.region_code.as_str().to_owned(),
            category: merchant.category.clone(),
            joined_on: merchant.joined_on.to_string(),
            cluster_id: merchant.cluster_id.clone(),
            agriculture_base_id: merchant.agriculture_base_id.clone(),
            risk_tier: merchant.risk_tier.as_str(),
            bank_code: account.bank_code.as_str().to_owned(),
            account_number: account.account_number.as_str().to_owned(),
            holder_name: account.holder_name.clone(),
        }
    }
}

/// Longest reason a fraud flag may give, in characters.
pub(crate) const FRAUD_REASON_CHARS_MAX: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FraudFlagIn {
    reason: Option<Value>,
}

/// Parses a `PUT /merchants/{id}/fraud-flag` body, `{"reason"}`: the reason, trimmed, 1 to
/// [`FRAUD_REASON_CHARS_MAX`] characters without control characters.
pub(crate) fn fraud_reason_from_json(body: &[u8]) -> Result<String, ApiError> {
    let flag: FraudFlagIn = object(body)?;
    let reason = required_text(flag.reason.as_ref(), "reason")?.trim();
    if reason.is_empty() {
        return Err(ApiError::InvalidField("reason: must not be blank".into()));
    }
    if reason.chars().count() > FRAUD_REASON_CHARS_MAX {
        return Err(ApiError::InvalidField(format!(
            "reason: must be at most {FRAUD_REASON_CHARS_MAX} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(ApiError::InvalidField(
            "reason: must not contain control characters (line breaks, tabs)".into(),
        ));
    }
    Ok(reason.to_owned())
}

#[derive(Debug, Serialize)]
pub(crate) struct FraudFlagOut {
    merchant_id: String,
    reason: String,
    /// RFC 3339, UTC.
    flagged_at: String,
    /// The id of the API key that set it.
    flagged_by: String,
}

impl From<&FraudFlag> for FraudFlagOut {
    fn from(flag: &FraudFlag) -> FraudFlagOut {
        FraudFlagOut {
            merchant_id: flag.merchant_id.clone(),
            reason: flag.reason.clone(),
            flagged_at: super::format_time(flag.flagged_at),
            flagged_by: flag.flagged_by.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct FraudFlagEventOut {
    /// `set` or `cleared`.
    action: &'static str,
    /// The flag's reason; for `cleared`, the reason of the flag cleared.
    reason: String,
    /// RFC 3339, UTC.
    at: String,
    /// The id of the API key that did it.
    by: String,
}

impl From<&FraudFlagEvent> for FraudFlagEventOut {
    fn from(event: &FraudFlagEvent) -> FraudFlagEventOut {
        FraudFlagEventOut {
            action: event.action.as_str(),
            reason: event.reason.clone(),
            at: super::format_time(event.at),
            by: event.actor.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct FraudFlagEventsOut {
    pub events: Vec<FraudFlagEventOut>,
}
