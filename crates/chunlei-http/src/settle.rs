//! The settlement routes: order events in; orders, statements, programme figures and payouts
//! out. Every write goes through [`Store::settle`](chunlei_store::Store::settle), which applies
//! an event's order change and its money movement in one durable commit.

use crate::body::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::Uri;
use axum::http::request::Parts;
use chunlei_ledger::Account;
use chunlei_settlement::MerchantId;
use chunlei_settlement::book::{Command, merchant_accounts};
use chunlei_store::PayoutFilter;

use crate::access::{Action, authorize, merchant_not_found, order_not_found, payout_not_found};
use crate::api::{MerchantIdPath, query_pairs};
use crate::auth::Principal;
use crate::body::JsonBody;
use crate::wire::{
    self, BalancesOut, EventResults, OrderOut, PayoutAnswer, PayoutOut, PayoutsOut, ProgramOut,
    StatementOut,
};
use crate::{ApiError, AppState, blocking};

/// The `{id}` of an order or payout route.
#[derive(Debug)]
pub(crate) struct KeyPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for KeyPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<KeyPath, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::InvalidField("the id in the path is malformed".into()))?;
        wire::check_key(&text).map_err(|reason| ApiError::InvalidField(format!("id {reason}")))?;
        Ok(KeyPath(text))
    }
}

/// `POST /api/v1/events`: a batch of order events, one result per event.
pub(crate) async fn post_events(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<EventResults>, ApiError> {
    authorize(&principal, &Action::SendEvents)?;
    let commands = wire::order_events_from_json(&body)?;
    let results = state.store.settle(commands.clone()).await?;
    state.metrics.settled(&results);
    Ok(Json(EventResults::new(&commands, results)))
}

/// `GET /api/v1/orders/{id}`.
pub(crate) async fn get_order(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(id): KeyPath,
) -> Result<Json<OrderOut>, ApiError> {
    let store = state.store.clone();
    let wanted = id.clone();
    let order = blocking(move || store.order(&wanted))
        .await?
        .ok_or_else(|| order_not_found(&id))?;
    authorize(
        &principal,
        &Action::ReadOrder {
            merchant_id: &order.order.merchant_id,
            order_id: &id,
        },
    )?;
    Ok(Json(OrderOut::new(&id, &order)))
}

/// `GET /api/v1/merchants/{id}/statement?after=&limit=`: balances and a page of orders.
pub(crate) async fn get_statement(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
    uri: Uri,
) -> Result<Json<StatementOut>, ApiError> {
    authorize(&principal, &Action::MerchantSettlement(&id))?;
    let page = wire::page(&query_pairs(&uri)?, false)?;
    let store = state.store.clone();
    let merchant_id = id.as_str().to_owned();
    let (registered, book, orders, accounts) = blocking(move || {
        let registered = store.merchant(&MerchantId::parse(&merchant_id).map_err(|e| {
            chunlei_store::StoreError::Corrupt(format!("merchant id {merchant_id}: {e}"))
        })?)?;
        let book = store.settlement_merchant(&merchant_id)?;
        let orders = store.merchant_orders(&merchant_id, &page.after, page.limit)?;
        let accounts = match &book {
            Some(book) => {
                let a = merchant_accounts(book.seq);
                store.lookup_accounts(&[
                    a.available,
                    a.reserve,
                    a.receivable,
                    a.exposure_used,
                    a.exposure_headroom,
                ])?
            }
            None => Vec::new(),
        };
        Ok((registered, book, orders, accounts))
    })
    .await?;
    if registered.is_none() && book.is_none() {
        return Err(merchant_not_found(&id));
    }
    let balances = book.map_or_else(BalancesOut::default, |book| balances(book.seq, &accounts));
    let next_after = (orders.len() == page.limit as usize)
        .then(|| orders.last().map(|(key, _)| key.clone()))
        .flatten();
    Ok(Json(StatementOut {
        merchant_id: id.as_str().to_owned(),
        balances,
        orders: orders
            .iter()
            .map(|(key, o)| OrderOut::new(key, o))
            .collect(),
        next_after,
    }))
}

/// The merchant's balances from its ledger accounts.
fn balances(seq: u64, accounts: &[Account]) -> BalancesOut {
    let a = merchant_accounts(seq);
    let find = |id: u128| accounts.iter().find(|x| x.id == id);
    let credit = |id: u128| {
        find(id).map_or(0, |x| {
            x.credits_posted
                .saturating_sub(x.debits_posted)
                .saturating_sub(x.debits_pending)
                .get()
        })
    };
    let debit = |id: u128| {
        find(id).map_or(0, |x| {
            x.debits_posted.saturating_sub(x.credits_posted).get()
        })
    };
    BalancesOut {
        available: credit(a.available),
        reserve: credit(a.reserve),
        receivable: debit(a.receivable),
        pending_payout: find(a.available).map_or(0, |x| x.debits_pending.get()),
        advances_outstanding: credit(a.exposure_used),
        exposure_cap: credit(a.exposure_used) + credit(a.exposure_headroom),
    }
}

/// `GET /api/v1/program`: the programme's figures.
pub(crate) async fn get_program(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ProgramOut>, ApiError> {
    authorize(&principal, &Action::ReadProgram)?;
    let store = state.store.clone();
    let meta = blocking(move || store.settlement_meta()).await?;
    Ok(Json(ProgramOut::new(&meta)))
}

/// `POST /api/v1/merchants/{id}/payouts`: pays out the available balance (or part of it).
pub(crate) async fn post_payout(
    State(state): State<AppState>,
    principal: Principal,
    MerchantIdPath(id): MerchantIdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<PayoutAnswer>, ApiError> {
    authorize(&principal, &Action::MerchantSettlement(&id))?;
    let command = wire::payout_from_json(&id, &body)?;
    answer_payout(&state, command).await
}

/// `POST /api/v1/payouts/{id}/result`: the bank's answer, `{"succeeded":true|false}`.
pub(crate) async fn post_payout_result(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(id): KeyPath,
    JsonBody(body): JsonBody,
) -> Result<Json<PayoutAnswer>, ApiError> {
    authorize(&principal, &Action::ServicePayouts)?;
    let command = wire::payout_result_from_json(&id, &body)?;
    answer_payout(&state, command).await
}

async fn answer_payout(state: &AppState, command: Command) -> Result<Json<PayoutAnswer>, ApiError> {
    let id = match &command {
        Command::Payout(p) => p.payout_id.clone(),
        Command::PayoutResult(r) => r.payout_id.clone(),
        Command::Order(e) => e.event_id.clone(),
    };
    let mut results = state.store.settle(vec![command]).await?;
    state.metrics.settled(&results);
    let result = results
        .pop()
        .ok_or_else(|| ApiError::Internal("the writer gave no result".into()))?;
    if matches!(
        result,
        Err(chunlei_settlement::book::Rejection::PayoutNotFound)
    ) {
        return Err(payout_not_found(&id));
    }
    Ok(Json(PayoutAnswer::new(&id, result)))
}

/// `GET /api/v1/payouts?status=pending&after=&limit=`: payout instructions with the bank
/// account to pay, in order of id.
pub(crate) async fn list_payouts(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Json<PayoutsOut>, ApiError> {
    authorize(&principal, &Action::ServicePayouts)?;
    let page = wire::page(&query_pairs(&uri)?, true)?;
    let status = page
        .status
        .unwrap_or(chunlei_settlement::book::PayoutStatus::Pending);
    let store = state.store.clone();
    let limit = page.limit;
    let rows = blocking(move || {
        let payouts = store.payouts(PayoutFilter::Status(status), &page.after, page.limit)?;
        let mut out = Vec::with_capacity(payouts.len());
        for (id, payout) in payouts {
            let merchant = MerchantId::parse(&payout.merchant_id)
                .ok()
                .map(|m| store.merchant(&m))
                .transpose()?
                .flatten();
            out.push(PayoutOut::new(&id, &payout, merchant.as_ref()));
        }
        Ok(out)
    })
    .await?;
    let next_after = (rows.len() == limit as usize)
        .then(|| payouts_last_id(&rows))
        .flatten();
    Ok(Json(PayoutsOut {
        payouts: rows,
        next_after,
    }))
}

fn payouts_last_id(rows: &[PayoutOut]) -> Option<String> {
    rows.last().map(PayoutOut::id)
}
