//! A merchant's fraud flag: `PUT`, `GET` and `DELETE /api/v1/merchants/{id}/fraud-flag`.
//!
//! The platform's operators and risk systems (integration keys) set and clear flags; merchants
//! and banks neither see nor touch them. While a flag stands, the merchant's loan applications
//! are declined with the fraud-flag knock-out and its offers are not disbursed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chunlei_settlement::MerchantId;
use chunlei_store::{ClearOutcome, FlagOutcome, FraudFlagEvent, Store, StoreError};

use crate::access::{Action, authorize, merchant_not_found};
use crate::api::MerchantIdPath;
use crate::auth::Principal;
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
    let flagged_by = principal.actor().to_owned();
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
    let flag = read_registered(&state, &id, Store::fraud_flag, Option::is_some).await?;
    let flag = flag.ok_or_else(|| not_flagged(&id))?;
    Ok(Json(FraudFlagOut::from(&flag)))
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
    let actor = principal.actor().to_owned();
    match blocking(move || store.clear_fraud_flag(&merchant, &actor)).await? {
        ClearOutcome::Cleared => {
            let cleared_by = principal.actor();
            tracing::info!(merchant_id = %id, cleared_by, "fraud flag cleared");
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
    let found = |events: &Vec<FraudFlagEvent>| !events.is_empty();
    let events = read_registered(&state, &id, Store::fraud_flag_events, found).await?;
    Ok(Json(FraudFlagEventsOut {
        events: events.iter().map(FraudFlagEventOut::from).collect(),
    }))
}

/// `read` of the merchant's flag records, on a blocking thread. When it finds nothing
/// (`found` false), the merchant must be registered for the empty answer to stand; an unknown
/// merchant is 404.
async fn read_registered<T: Send + 'static>(
    state: &AppState,
    id: &MerchantId,
    read: fn(&Store, &str) -> Result<T, StoreError>,
    found: impl FnOnce(&T) -> bool + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    let merchant = id.clone();
    let (records, registered) = blocking(move || {
        let records = read(&store, merchant.as_str())?;
        let registered = found(&records) || store.merchant(&merchant)?.is_some();
        Ok((records, registered))
    })
    .await?;
    if !registered {
        return Err(merchant_not_found(id));
    }
    Ok(records)
}

fn not_flagged(id: &MerchantId) -> ApiError {
    ApiError::NotFound(format!("merchant {id} carries no fraud flag"))
}
