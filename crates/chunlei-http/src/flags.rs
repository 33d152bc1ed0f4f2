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
use crate::wire::{FraudFlagOut, fraud_reason_from_json};
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
    match blocking(move || store.clear_fraud_flag(&merchant)).await? {
        ClearOutcome::Cleared => {
            let Credential::ApiKey { key_id } = &principal.credential;
            tracing::info!(merchant_id = %id, cleared_by = %key_id, "fraud flag cleared");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ClearOutcome::NotFlagged => Ok(StatusCode::NO_CONTENT.into_response()),
        ClearOutcome::UnknownMerchant => Err(merchant_not_found(&id)),
    }
}

fn not_flagged(id: &MerchantId) -> ApiError {
    ApiError::NotFound(format!("merchant {id} carries no fraud flag"))
}
