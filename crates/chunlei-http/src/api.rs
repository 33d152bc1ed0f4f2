//! The handlers of `/api/v1`. Each one authenticates by taking a [`Principal`], asks
//! [`authorize`] before it acts, and answers in the types of [`crate::wire`].

use std::collections::HashMap;

use crate::body::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::Uri;
use axum::http::request::Parts;
use chunlei_ledger::{Account, CreateAccountResult, CreateTransferResult, Owner, Transfer};
use chunlei_settlement::MerchantId;
use serde::Serialize;

use crate::access::{Action, account_not_found, authorize, merchant_not_found, transfer_not_found};
use crate::auth::Principal;
use crate::body::JsonBody;
use crate::wire::{
    self, AccountOut, Accounts, BalanceOut, Balances, MerchantOut, Merchants, Results, TransferOut,
    Transfers,
};
use crate::{ApiError, AppState, blocking};

/// The `{id}` of a route: a decimal 128-bit id.
#[derive(Debug)]
pub(crate) struct IdPath(u128);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<IdPath, ApiError> {
        let invalid = || {
            ApiError::InvalidField(
                "the id in the path must be an unsigned 128-bit integer in decimal digits".into(),
            )
        };
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid())?;
        wire::parse_decimal(&text).map(IdPath).ok_or_else(invalid)
    }
}

/// The `{id}` of a merchant route.
#[derive(Debug)]
pub(crate) struct MerchantIdPath(pub(crate) MerchantId);

impl<S: Send + Sync> FromRequestParts<S> for MerchantIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<MerchantIdPath, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::InvalidField("the merchant id in the path is malformed".into())
            })?;
        MerchantId::parse(&text)
            .map(MerchantIdPath)
            .map_err(|reason| ApiError::InvalidField(format!("id: {reason}")))
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Health {
    status: &'static str,
}

/// `GET /healthz`: the process is up and serving. Does not touch the database, so a
/// load balancer keeps routing to a node whose database is merely slow.
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `GET /metrics`: the loan decisions', the settlement answers' and the store's commits'
/// counts in the Prometheus text format, for the platform's monitoring (an operator or
/// integration key).
pub(crate) async fn metrics(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    authorize(&principal, &Action::ReadMetrics)?;
    let store = crate::metrics::StoreStats {
        inputs: state.store.decision_inputs_stats(),
        commits: state.store.commit_stats(),
    };
    let text = state.metrics.render(store);
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    Ok(([(axum::http::header::CONTENT_TYPE, kind)], text).into_response())
}

/// `POST /api/v1/accounts`.
pub(crate) async fn create_accounts(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<Results>, ApiError> {
    authorize(&principal, &Action::CreateAccounts)?;
    let accounts = wire::accounts_from_json(&body)?;
    let results = state.store.create_accounts(accounts).await?;
    Ok(Json(Results::new(
        results.into_iter().map(CreateAccountResult::as_str),
    )))
}

/// `POST /api/v1/transfers`.
pub(crate) async fn create_transfers(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<Results>, ApiError> {
    authorize(&principal, &Action::CreateTransfers)?;
    let transfers = wire::transfers_from_json(&body)?;
    let results = state.store.create_transfers(transfers).await?;
    Ok(Json(Results::new(
        results.into_iter().map(CreateTransferResult::as_str),
    )))
}

/// `GET /api/v1/accounts/{id}`.
pub(crate) async fn get_account(
    State(state): State<AppState>,
    principal: Principal,
    IdPath(id): IdPath,
) -> Result<Json<AccountOut>, ApiError> {
    let account = readable_account(&state, &principal, id).await?;
    Ok(Json(AccountOut::from(&account)))
}

/// `POST /api/v1/accounts/lookup`: the accounts among `ids` the caller may see.
pub(crate) async fn lookup_accounts(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<Accounts>, ApiError> {
    let ids = wire::ids_from_json(&body)?;
    let store = state.store.clone();
    let found = blocking(move || store.lookup_accounts(&ids)).await?;
    let accounts = found
        .iter()
        .filter(|account| authorize(&principal, &Action::ReadAccount(account)).is_ok())
        .map(AccountOut::from)
        .collect();
    Ok(Json(Accounts { accounts }))
}

/// `GET /api/v1/transfers/{id}`.
pub(crate) async fn get_transfer(
    State(state): State<AppState>,
    principal: Principal,
    IdPath(id): IdPath,
) -> Result<Json<TransferOut>, ApiError> {
    let visible = readable_transfers(&state, &principal, vec![id]).await?;
    let transfer = visible.first().ok_or_else(|| transfer_not_found(id))?;
    Ok(Json(TransferOut::from(transfer)))
}

/// `POST /api/v1/transfers/lookup`: the transfers among `ids` the caller may see.
pub(crate) async fn lookup_transfers(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<Transfers>, ApiError> {
    let ids = wire::ids_from_json(&body)?;
    let visible = readable_transfers(&state, &principal, ids).await?;
    Ok(Json(Transfers {
        transfers: visible.iter().map(TransferOut::from).collect(),
    }))
}

/// `GET /api/v1/accounts/{id}/transfers`.
pub(crate) async fn account_transfers(
    State(state): State<AppState>,
    principal: Principal,
    IdPath(id): IdPath,
    uri: Uri,
) -> Result<Json<Transfers>, ApiError> {
    let filter = wire::account_filter(id, &query_pairs(&uri)?)?;
    readable_account(&state, &principal, id).await?;
    let store = state.store.clone();
    let transfers = blocking(move || store.account_transfers(&filter)).await?;
    Ok(Json(Transfers {
        transfers: transfers.iter().map(TransferOut::from).collect(),
    }))
}

/// `GET /api/v1/accounts/{id}/balances`: the balance history of a `history` account.
pub(crate) async fn account_balances(
    State(state): State<AppState>,
    principal: Principal,
    IdPath(id): IdPath,
    uri: Uri,
) -> Result<Json<Balances>, ApiError> {
    let filter = wire::account_filter(id, &query_pairs(&uri)?)?;
    readable_account(&state, &principal, id).await?;
    let store = state.store.clone();
    let rows = blocking(move || store.account_balances(&filter)).await?;
    Ok(Json(Balances {
        balances: rows.iter().map(BalanceOut::from).collect(),
    }))
}

/// `PUT /api/v1/merchants/{id}`: creates the merchant or replaces every attribute of it.
pub(crate) async fn put_merchant(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<MerchantOut>, ApiError> {
    authorize(&principal, &Action::WriteMerchant)?;
    let merchant = wire::merchant_from_json(&id, &body)?;
    let out = MerchantOut::from(&merchant);
    let store = state.store.clone();
    blocking(move || store.upsert_merchants(&[merchant])).await?;
    Ok(Json(out))
}

/// `GET /api/v1/merchants/{id}`.
pub(crate) async fn get_merchant(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
) -> Result<Json<MerchantOut>, ApiError> {
    authorize(&principal, &Action::ReadMerchant(&id))?;
    let store = state.store.clone();
    let wanted = id.clone();
    let found = blocking(move || store.merchant(&wanted)).await?;
    let merchant = found.ok_or_else(|| merchant_not_found(&id))?;
    Ok(Json(MerchantOut::from(&merchant)))
}

/// `GET /api/v1/merchants?after=&limit=`: merchants in order of id; to page on, pass the last
/// id of a page as `after`.
pub(crate) async fn list_merchants(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Json<Merchants>, ApiError> {
    authorize(&principal, &Action::ListMerchants)?;
    let page = wire::merchant_page(&query_pairs(&uri)?)?;
    let store = state.store.clone();
    let found = blocking(move || store.merchants(page.after.as_ref(), page.limit)).await?;
    Ok(Json(Merchants {
        merchants: found.iter().map(MerchantOut::from).collect(),
    }))
}

/// Answers unknown paths in the API's error shape.
pub(crate) async fn route_not_found() -> ApiError {
    ApiError::NotFound("no route matches this path".into())
}

/// Answers known paths called with the wrong method in the API's error shape.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The account `id`, if it exists and the caller may see it; 404 otherwise either way.
async fn readable_account(
    state: &AppState,
    principal: &Principal,
    id: u128,
) -> Result<Account, ApiError> {
    let store = state.store.clone();
    let found = blocking(move || store.lookup_accounts(&[id])).await?;
    let account = found
        .into_iter()
        .next()
        .ok_or_else(|| account_not_found(id))?;
    authorize(principal, &Action::ReadAccount(&account))?;
    Ok(account)
}

/// The transfers among `ids` the caller may see, with the owners of their accounts loaded
/// to decide.
async fn readable_transfers(
    state: &AppState,
    principal: &Principal,
    ids: Vec<u128>,
) -> Result<Vec<Transfer>, ApiError> {
    let store = state.store.clone();
    let (transfers, accounts) = blocking(move || {
        let transfers = store.lookup_transfers(&ids)?;
        let mut account_ids: Vec<u128> = transfers
            .iter()
            .flat_map(|t| [t.debit_account_id, t.credit_account_id])
            .collect();
        account_ids.sort_unstable();
        account_ids.dedup();
        let accounts = store.lookup_accounts(&account_ids)?;
        Ok((transfers, accounts))
    })
    .await?;
    let owners: HashMap<u128, Owner> = accounts.into_iter().map(|a| (a.id, a.owner)).collect();
    let visible = transfers
        .into_iter()
        .filter(|transfer| {
            let action = Action::ReadTransfer {
                transfer,
                debit_owner: owners.get(&transfer.debit_account_id),
                credit_owner: owners.get(&transfer.credit_account_id),
            };
            authorize(principal, &action).is_ok()
        })
        .collect();
    Ok(visible)
}

/// The decoded `name=value` pairs of the query string.
pub(crate) fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| pairs)
        .map_err(|r| {
            ApiError::InvalidField(format!("the query string is malformed: {}", r.body_text()))
        })
}
