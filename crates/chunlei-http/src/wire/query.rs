//! Query parameters of the account listings (`/accounts/{id}/transfers` and `/balances`)
//! and of the merchant listing (`/merchants`).

use chunlei_settlement::MerchantId;
use chunlei_store::{AccountFilter, QUERY_LIMIT_MAX};

use super::input::parse_decimal;
use crate::ApiError;

/// Refuses a query parameter named twice; `seen` holds the names read so far.
pub(super) fn once<'a>(seen: &mut Vec<&'a str>, name: &'a str) -> Result<(), ApiError> {
    if seen.contains(&name) {
        return Err(ApiError::InvalidField(format!(
            "query parameter {name} is given twice"
        )));
    }
    seen.push(name);
    Ok(())
}

/// Rows a listing returns when the client names no `limit`.
pub(crate) const LIST_LIMIT_DEFAULT: u32 = 100;

const PARAMETERS: &str = "limit, timestamp_min, timestamp_max, reversed, debits, credits";

/// The filter for `account_id` from decoded `name=value` pairs. Unknown or repeated
/// parameters are rejected rather than ignored, so a typo cannot silently widen a query.
pub(crate) fn account_filter(
    account_id: u128,
    pairs: &[(String, String)],
) -> Result<AccountFilter, ApiError> {
    let mut filter = AccountFilter::new(account_id);
    filter.limit = LIST_LIMIT_DEFAULT;
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        once(&mut seen, name)?;
        match name.as_str() {
            "limit" => filter.limit = limit(value)?,
            "timestamp_min" => filter.timestamp_min = timestamp(name, value)?,
            "timestamp_max" => filter.timestamp_max = timestamp(name, value)?,
            "reversed" => filter.reversed = boolean(name, value)?,
            "debits" => filter.debits = boolean(name, value)?,
            "credits" => filter.credits = boolean(name, value)?,
            _ => {
                return Err(ApiError::UnknownField(format!(
                    "unknown query parameter {name}; known parameters are: {PARAMETERS}"
                )));
            }
        }
    }
    if !filter.debits && !filter.credits {
        return Err(ApiError::InvalidField(
            "debits and credits are both false, which selects nothing; set at least one".into(),
        ));
    }
    if filter.timestamp_max != 0 && filter.timestamp_min > filter.timestamp_max {
        return Err(ApiError::InvalidField(
            "timestamp_min is after timestamp_max".into(),
        ));
    }
    Ok(filter)
}

pub(super) fn limit(value: &str) -> Result<u32, ApiError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::InvalidField(format!(
            "limit must be an integer from 1 to {QUERY_LIMIT_MAX}"
        )));
    }
    // Digits that overflow `u32` are a limit out of range too.
    match value.parse::<u32>() {
        Ok(limit) if (1..=QUERY_LIMIT_MAX).contains(&limit) => Ok(limit),
        Ok(_) | Err(_) => Err(ApiError::LimitOutOfRange(format!(
            "limit must be from 1 to {QUERY_LIMIT_MAX}"
        ))),
    }
}

fn timestamp(name: &str, value: &str) -> Result<u64, ApiError> {
    parse_decimal(value).ok_or_else(|| {
        ApiError::InvalidField(format!(
            "{name} must be a timestamp in nanoseconds since the Unix epoch, as decimal digits"
        ))
    })
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::InvalidField(format!(
            "{name} must be true or false"
        ))),
    }
}

/// One page of the merchant listing: those after `after` in order of id.
#[derive(Debug)]
pub(crate) struct MerchantPage {
    pub after: Option<MerchantId>,
    pub limit: u32,
}

/// The page `GET /merchants?after=&limit=` asks for. An empty `after` means from the start;
/// unknown or repeated parameters are rejected.
pub(crate) fn merchant_page(pairs: &[(String, String)]) -> Result<MerchantPage, ApiError> {
    let mut page = MerchantPage {
        after: None,
        limit: LIST_LIMIT_DEFAULT,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        once(&mut seen, name)?;
        match name.as_str() {
            "limit" => page.limit = limit(value)?,
            "after" if value.is_empty() => page.after = None,
            "after" => {
                let id = MerchantId::parse(value)
                    .map_err(|reason| ApiError::InvalidField(format!("after: {reason}")))?;
                page.after = Some(id);
            }
            _ => {
                return Err(ApiError::UnknownField(format!(
                    "unknown query parameter {name}; known parameters are: after, limit"
                )));
            }
        }
    }
    Ok(page)
}
