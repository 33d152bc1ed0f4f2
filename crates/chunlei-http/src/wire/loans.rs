//! Loan applications on the wire: the body of `POST /api/v1/loan-applications` and the
//! decision in answers, read from the stored record (so a re-sent application and a later
//! `GET` answer exactly what the first answer said).

use std::borrow::Cow;

use chunlei_ledger::Fen;
use chunlei_lending::decision::TERM_MONTHS_MAX;
use chunlei_lending::decision::audit::parse_lines;
use chunlei_settlement::MerchantId;
use chunlei_store::LoanDecisionRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::check_key;
use super::input::object;
use crate::ApiError;

/// A loan application as the client sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApplicationIn {
    pub id: String,
    pub merchant_id: MerchantId,
    pub amount: Fen,
    pub term_months: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    id: Option<Value>,
    merchant_id: Option<Value>,
    amount: Option<Value>,
    term_months: Option<Value>,
}

/// Parses `{"id", "merchant_id", "amount" (fen), "term_months"}`; every field is required.
pub(crate) fn application_from_json(body: &[u8]) -> Result<ApplicationIn, ApiError> {
    let raw: RawApplication = object(body)?;
    let text = |value: Option<Value>, name: &str| match value {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(ApiError::InvalidField(format!("{name}: is required"))),
        Some(_) => Err(ApiError::InvalidField(format!("{name}: must be a string"))),
    };
    let id = text(raw.id, "id")?;
    check_key(&id).map_err(|reason| ApiError::InvalidField(format!("id: {reason}")))?;
    let merchant_id = MerchantId::parse(&text(raw.merchant_id, "merchant_id")?)
        .map_err(|reason| ApiError::InvalidField(format!("merchant_id: {reason}")))?;
    let amount = match &raw.amount {
        None | Some(Value::Null) => {
            return Err(ApiError::InvalidField("amount: is required".into()));
        }
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => return Err(ApiError::AmountZero("amount: must be above zero".into())),
            Some(fen) => Fen::new(fen).ok_or_else(|| {
                ApiError::AmountOutOfRange(format!("amount: {fen} is above {}", Fen::MAX.get()))
            })?,
            None => {
                return Err(ApiError::InvalidField(
                    "amount: must be a whole number of fen".into(),
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::InvalidField(
                "amount: must be a whole number of fen".into(),
            ));
        }
    };
    let term_months = raw
        .term_months
        .as_ref()
        .and_then(Value::as_u64)
        .and_then(|m| u16::try_from(m).ok())
        .filter(|m| (1..=TERM_MONTHS_MAX).contains(m))
        .ok_or_else(|| {
            ApiError::InvalidField(format!(
                "term_months: must be a whole number of months from 1 to {TERM_MONTHS_MAX}"
            ))
        })?;
    Ok(ApplicationIn {
        id,
        merchant_id,
        amount,
        term_months,
    })
}

impl ApplicationIn {
    /// True when `stored` was decided on this same application: same merchant, amount and
    /// term. Anything else under the same id is a conflict.
    pub(crate) fn is_same_as(&self, stored: &LoanDecisionRecord) -> bool {
        stored.merchant_id == self.merchant_id.as_str()
            && stored.requested == self.amount.get()
            && stored.term_months == self.term_months
    }
}

/// A decision as answered, borrowed from the stored record it is read from.
#[derive(Debug, Serialize)]
pub(crate) struct DecisionOut<'a> {
    id: &'a str,
    merchant_id: &'a str,
    amount: u64,
    term_months: u16,
    /// `approved` or `declined`.
    status: &'a str,
    decided_at: u64,
    model_version: &'a str,
    score: i64,
    grade: &'a str,
    policy_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    offer: Option<OfferOut<'a>>,
    /// Empty when approved; one to four when declined.
    reasons: Vec<ReasonOut<'a>>,
}

#[derive(Debug, Serialize)]
struct OfferOut<'a> {
    bank_id: Cow<'a, str>,
    amount: u64,
    /// The price offers are compared by: the annual rate of an amortising loan, the
    /// equivalent annual rate of a revenue-based advance.
    rate_bps: u64,
    term_months: u16,
    /// `amortising` or `revenue_based`.
    product: Cow<'a, str>,
    /// The full offer as stored for audit: bank, product and its terms, amounts and parts; an
    /// object, its keys in order.
    #[serde(serialize_with = "entries_as_object")]
    detail: Vec<(&'a str, Cow<'a, str>)>,
}

/// `(key, value)` entries, sorted by key with no key twice, as a JSON object.
fn entries_as_object<S: serde::Serializer>(
    entries: &[(&str, Cow<'_, str>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(entries.iter().map(|(k, v)| (k, v)))
}

#[derive(Debug, Default, Serialize)]
struct ReasonOut<'a> {
    code: Cow<'a, str>,
    zh: Cow<'a, str>,
    en: Cow<'a, str>,
}

impl<'a> DecisionOut<'a> {
    pub(crate) fn new(r: &'a LoanDecisionRecord) -> DecisionOut<'a> {
        DecisionOut {
            id: &r.application_id,
            merchant_id: &r.merchant_id,
            amount: r.requested,
            term_months: r.term_months,
            status: &r.outcome,
            decided_at: r.decided_at,
            model_version: &r.model_version,
            score: r.score,
            grade: &r.grade,
            policy_version: &r.policy_version,
            offer: r
                .offer
                .as_deref()
                .map(|text| offer_out(text, r.term_months)),
            reasons: reasons_out(&r.reasons),
        }
    }
}

fn offer_out(text: &str, term_months: u16) -> OfferOut<'_> {
    let mut detail = parse_lines(text);
    let find = |key: &str| {
        detail
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let number = |key: &str| find(key).parse::<u64>().unwrap_or(0);
    let (bank_id, product) = (find("bank_id"), find("product"));
    let (amount, rate_bps) = (number("amount_fen"), number("price_bps"));
    // In key order; of a key written twice, the last (as an object built entry by entry).
    detail.reverse();
    detail.sort_by(|a, b| a.0.cmp(b.0));
    detail.dedup_by(|later, earlier| later.0 == earlier.0);
    OfferOut {
        bank_id,
        amount,
        rate_bps,
        term_months,
        product,
        detail,
    }
}

/// `reason.<n>.<field>` lines back into reasons, in order.
fn reasons_out(text: &str) -> Vec<ReasonOut<'_>> {
    let mut reasons: Vec<ReasonOut<'_>> = Vec::new();
    for (key, value) in parse_lines(text) {
        let Some((n, field)) = key
            .strip_prefix("reason.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        while reasons.len() < n {
            reasons.push(ReasonOut::default());
        }
        let Some(reason) = n.checked_sub(1).and_then(|at| reasons.get_mut(at)) else {
            continue;
        };
        match field {
            "code" => reason.code = value,
            "zh" => reason.zh = value,
            "en" => reason.en = value,
            _ => {}
        }
    }
    reasons
}
