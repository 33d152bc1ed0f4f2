//! A merchant's fraud flag: `PUT`, `GET` and `DELETE /api/v1/merchants/{id}/fraud-flag`.
//!
//! The platform's operators and risk systems (integration keys) set and clear flags; merchants
//! and banks neither see nor touch them. While a flag stands, the merchant's loan applications
//! are declined with the fraud-flag knock-out and its offers are not disbursed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chunlei_settlement::MerchantId;
use chunlei_store::{ClearOutcome, FlagOutcome};

use crate::access::{Action, authorize, merchant_not_found};
use crate::api::MerchantIdPath;
use crate::auth::{Credential, Principal};
use crate::body::{Json, JsonBody};
use crate::wire::{FraudFlagEventOut, FraudFlagEventsOut, FraudFlagOut, fraud_reason_from_json};
use crate::{ApiError, AppState, blocking};

/// `PUT /api/v1/merchants/{id}/fraud-flag {"reason"}`: flags the merchant. Sent again with the
/// same reason it answers the standing flag, unchanged; with another reason while a flag stands
/// it is a conflict.
pub(crate) async fn put_fraud_flag(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<FraudFlagOut>, ApiError> {
    authorize(&principal, &Action::FraudFlags)?;
    let reason = fraud_reason_from_json(&body)?;
    let Credential::ApiKey { key_id } = &principal.credential;
    let flagged_by = key_id.clone();
    let store = state.store.clone();
    let merchant = id.clone();
    let outcome = blocking(move || store.flag_fraud(&merchant, &reason, &flagged_by)).await?;
    match outcome {
        FlagOutcome::Flagged(flag) => {
            tracing::info!(merchant_id = %id, flagged_by = %flag.flagged_by, "fraud flag set");
            Ok(Json(FraudFlagOut::from(&flag)))
        }
        FlagOutcome::AlreadyFlagged(flag) => Ok(Json(FraudFlagOut::from(&flag))),
        FlagOutcome::Conflict(_) => Err(ApiError::FraudFlagConflict(id.to_string())),
        FlagOutcome::UnknownMerchant => Err(merchant_not_found(&id)),
    }
}

/// `GET /api/v1/merchants/{id}/fraud-flag`: the standing flag, or 404.
pub(crate) async fn get_fraud_flag(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
) -> Result<Json<FraudFlagOut>, ApiError> {
    authorize(&principal, &Action::FraudFlags)?;
    let store = state.store.clone();
    let merchant = id.clone();
    let (flag, registered) = blocking(move || {
        Ok(match store.fraud_flag(merchant.as_str())? {
            Some(flag) => (Some(flag), true),
            None => (None, store.merchant(&merchant)?.is_some()),
        })
    })
    .await?;
    match flag {
        Some(flag) => Ok(Json(FraudFlagOut::from(&flag))),
        None if registered => Err(not_flagged(&id)),
        None => Err(merchant_not_found(&id)),
    }
}

/// `DELETE /api/v1/merchants/{id}/fraud-flag`: clears the flag; 204 whether or not one stood.
pub(crate) async fn delete_fraud_flag(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
) -> Result<Response, ApiError> {
    authorize(&principal, &Action::FraudFlags)?;
    let store = state.store.clone();
    let merchant = id.clone();
    let Credential::ApiKey { key_id } = &principal.credential;
    let actor = key_id.clone();
    match blocking(move || store.clear_fraud_flag(&merchant, &actor)).await? {
        ClearOutcome::Cleared => {
            tracing::info!(merchant_id = %id, cleared_by = %key_id, "fraud flag cleared");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ClearOutcome::NotFlagged => Ok(StatusCode::NO_CONTENT.into_response()),
        ClearOutcome::UnknownMerchant => Err(merchant_not_found(&id)),
    }
}

/// `GET /api/v1/merchants/{id}/fraud-flag/events`: every flag set on the merchant and
/// cleared, with who did it and when, the latest first (at most
/// [`chunlei_store::FLAG_EVENTS_MAX`]).
pub(crate) async fn get_fraud_flag_events(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
) -> Result<Json<FraudFlagEventsOut>, ApiError> {
    authorize(&principal, &Action::FraudFlags)?;
    let store = state.store.clone();
    let merchant = id.clone();
    let events = blocking(move || {
        let events = store.fraud_flag_events(merchant.as_str())?;
        // A merchant with no history may still be registered: only an unknown one is 404.
        if events.is_empty() && store.merchant(&merchant)?.is_none() {
            return Ok(None);
        }
        Ok(Some(events))
    })
    .await?
    .ok_or_else(|| merchant_not_found(&id))?;
    Ok(Json(FraudFlagEventsOut {
        events: events.iter().map(FraudFlagEventOut::from).collect(),
    }))
}

fn not_flagged(id: &MerchantId) -> ApiError {
    ApiError::NotFound(format!("merchant {id} carries no fraud flag"))
}
