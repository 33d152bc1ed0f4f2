//! Accepted loans: a merchant accepts an approved decision's offer and the loan is disbursed
//! through the ledger (`POST /api/v1/loans`); loans are read one by one or listed by bank or
//! merchant, and a merchant pays from its available balance.
//!
//! Visibility follows the decision's: a merchant sees its own loans, a bank only the loans it
//! lent, operator and integration keys all. A loan another party may not see answers 404, as
//! one that does not exist.

use crate::body::Json;
use axum::extract::State;
use axum::http::Uri;
use chunlei_ledger::{CivilDate, Fen};
use chunlei_lending::decision::Product;
use chunlei_lending::decision::audit::parse_lines;
use chunlei_lending::loans::{
    Adjustment, Disbursement, LoanApplied, LoanCommand, LoanRecord, LoanRejection, LoanSpec,
    ProductSpec, day_of,
};
use chunlei_lending::servicing::REVENUE_PERIOD_DAYS;
use chunlei_lending::servicing::{Policy, RevenueTerms};
use chunlei_lending::{AnnualRate, DayCount, Method, Terms};
use chunlei_settlement::MerchantId;
use chunlei_store::{LoanDecisionRecord, LoanFilter};

use crate::access::{Action, authorize, decision_not_found};
use crate::auth::Principal;
use crate::body::JsonBody;
use crate::loans::Lending;
use crate::settle::KeyPath;
use crate::wire::{AcceptIn, LoanOut, LoansOut, PaymentIn, accept_from_json, payment_from_json};
use crate::{ApiError, AppState, blocking};

/// `POST /api/v1/loans {"id", "application_id"}`: accepts the approved decision's offer and
/// disburses it. The loan id is the idempotency key.
pub(crate) async fn post_loan(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Json<LoanOut>, ApiError> {
    let lending = state
        .lending
        .current()
        .ok_or(ApiError::LendingNotConfigured)?;
    let accept: AcceptIn = accept_from_json(&body)?;
    let store = state.store.clone();
    let wanted = accept.clone();
    let (decision, existing, flagged) = blocking(move || {
        let decision = store.loan_decision(&wanted.application_id)?;
        let flagged = match &decision {
            Some(decision) => store.fraud_flag(&decision.merchant_id)?.is_some(),
            None => false,
        };
        Ok((decision, store.loan(&wanted.id)?, flagged))
    })
    .await?;
    let decision = decision.ok_or_else(|| decision_not_found(&accept.application_id))?;
    let merchant = MerchantId::parse(&decision.merchant_id)
        .map_err(|_| ApiError::Internal("a stored decision names an invalid merchant".into()))?;
    authorize(&principal, &Action::ApplyForLoan(&merchant))?;
    if let Some(loan) = existing {
        return if loan.application_id == accept.application_id {
            Ok(Json(LoanOut::new(&loan, today())))
        } else {
            Err(ApiError::Loan(LoanRejection::LoanIdConflict))
        };
    }
    // A flag set after the decision stops the disbursement; one set while this request runs
    // may not.
    if flagged {
        return Err(ApiError::MerchantFraudFlagged(decision.merchant_id.clone()));
    }
    let (bank_id, spec, platform_part) = offer_spec(&decision, &lending, today())?;
    let command = LoanCommand::Disburse(Disbursement {
        loan_id: accept.id.clone(),
        application_id: accept.application_id.clone(),
        merchant_id: decision.merchant_id.clone(),
        bank_id,
        spec,
        platform_part,
    });
    apply(&state, command).await?;
    read_loan(&state, &principal, &accept.id).await
}

/// `GET /api/v1/loans/{id}`: the loan as it stands today, with its schedule and history.
pub(crate) async fn get_loan(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(id): KeyPath,
) -> Result<Json<LoanOut>, ApiError> {
    read_loan(&state, &principal, &id).await
}

/// `POST /api/v1/loans/{id}/payments {"id", "amount"}`: the merchant pays from its available
/// balance; what is not due prepays. The payment id is the idempotency key.
pub(crate) async fn post_payment(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(loan_id): KeyPath,
    JsonBody(body): JsonBody,
) -> Result<Json<LoanOut>, ApiError> {
    let payment: PaymentIn = payment_from_json(&body)?;
    let loan = visible_loan(&state, &principal, &loan_id).await?;
    let merchant = MerchantId::parse(&loan.merchant_id)
        .map_err(|_| ApiError::Internal("a stored loan names an invalid merchant".into()))?;
    authorize(&principal, &Action::ApplyForLoan(&merchant))?;
    apply(
        &state,
        LoanCommand::Pay {
            loan_id: loan_id.clone(),
            payment_id: payment.id,
            on: today(),
            amount: payment.amount,
        },
    )
    .await?;
    read_loan(&state, &principal, &loan_id).await
}

/// `POST /api/v1/loans/{id}/relief {"id", "kind": "holiday"|"interest_free", "from", "to"}`:
/// relief granted by the operator or the lending bank. The request id is the idempotency key.
pub(crate) async fn post_relief(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(loan_id): KeyPath,
    JsonBody(body): JsonBody,
) -> Result<Json<LoanOut>, ApiError> {
    let relief = crate::wire::relief_from_json(&body)?;
    adjust(
        &state,
        &principal,
        &loan_id,
        relief.id,
        relief.from,
        relief.adjustment,
    )
    .await
}

/// `POST /api/v1/loans/{id}/write-off {"id"}`: the operator or the lending bank writes the
/// loan off today.
pub(crate) async fn post_write_off(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(loan_id): KeyPath,
    JsonBody(body): JsonBody,
) -> Result<Json<LoanOut>, ApiError> {
    let id = crate::wire::request_id_from_json(&body)?;
    adjust(
        &state,
        &principal,
        &loan_id,
        id,
        today(),
        Adjustment::WriteOff,
    )
    .await
}

async fn adjust(
    state: &AppState,
    principal: &Principal,
    loan_id: &str,
    request_id: String,
    on: CivilDate,
    adjustment: Adjustment,
) -> Result<Json<LoanOut>, ApiError> {
    let loan = visible_loan(state, principal, loan_id).await?;
    authorize(
        principal,
        &Action::AdjustLoan {
            bank_id: &loan.bank_id,
        },
    )?;
    apply(
        state,
        LoanCommand::Adjust {
            loan_id: loan_id.to_owned(),
            request_id,
            on,
            adjustment,
        },
    )
    .await?;
    read_loan(state, principal, loan_id).await
}

/// `GET /api/v1/loans?bank_id=|merchant_id=&after=&limit=`: loans in order of id. A bank key
/// lists its own loans and a merchant key its own, whatever the query names.
pub(crate) async fn list_loans(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Json<LoansOut>, ApiError> {
    let query = crate::wire::loans_query(&crate::api::query_pairs(&uri)?)?;
    let (column, value) = match &principal.role {
        crate::auth::Role::Bank(own) => ("bank", own.as_str().to_owned()),
        crate::auth::Role::Merchant(own) => ("merchant", own.as_str().to_owned()),
        crate::auth::Role::Operator | crate::auth::Role::Integration => {
            match (&query.bank_id, &query.merchant_id) {
                (Some(bank), None) => ("bank", bank.clone()),
                (None, Some(merchant)) => ("merchant", merchant.clone()),
                _ => {
                    return Err(ApiError::InvalidField(
                        "give exactly one of bank_id and merchant_id".into(),
                    ));
                }
            }
        }
    };
    let store = state.store.clone();
    let (after, limit) = (query.after.clone(), query.limit);
    let loans = blocking(move || {
        let filter = if column == "bank" {
            LoanFilter::Bank(&value)
        } else {
            LoanFilter::Merchant(&value)
        };
        store.loan_list(filter, &after, limit)
    })
    .await?;
    let day = today();
    let next_after = (loans.len() == limit as usize)
        .then(|| loans.last().map(|l| l.id.clone()))
        .flatten();
    Ok(Json(LoansOut {
        loans: loans.iter().map(|l| LoanOut::new(l, day)).collect(),
        next_after,
    }))
}

async fn apply(state: &AppState, command: LoanCommand) -> Result<LoanApplied, ApiError> {
    let mut results = state.store.loans(vec![command]).await?;
    results
        .pop()
        .ok_or_else(|| ApiError::Internal("no result for a loan command".into()))?
        .map_err(ApiError::Loan)
}

async fn visible_loan(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<LoanRecord, ApiError> {
    let store = state.store.clone();
    let wanted = id.to_owned();
    let loan = blocking(move || store.loan(&wanted))
        .await?
        .ok_or_else(|| ApiError::Loan(LoanRejection::LoanNotFound))?;
    authorize(
        principal,
        &Action::ReadLoan {
            merchant_id: &loan.merchant_id,
            bank_id: &loan.bank_id,
        },
    )?;
    Ok(loan)
}

async fn read_loan(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Json<LoanOut>, ApiError> {
    let loan = visible_loan(state, principal, id).await?;
    Ok(Json(LoanOut::new(&loan, today())))
}

/// The server's UTC day.
fn today() -> CivilDate {
    day_of(crate::now_ns())
}

/// The loan the decision's chosen offer describes, disbursed on `on`. Amortising loans run the
/// term the merchant applied for, monthly, with penalty interest at the policy's multiple of
/// the rate (one and a half times by default); payments follow the policy's allocation order;
/// a revenue-based advance owes, every 60 days, enough to be repaid within the product's
/// longest term (`term_days_max`).
fn offer_spec(
    decision: &LoanDecisionRecord,
    lending: &Lending,
    on: CivilDate,
) -> Result<(String, LoanSpec, Fen), ApiError> {
    let not_approved = || ApiError::ApplicationNotApproved(decision.application_id.clone());
    let text = decision.offer.as_deref().ok_or_else(not_approved)?;
    if decision.outcome != "approved" {
        return Err(not_approved());
    }
    let fields = parse_lines(text);
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
            .ok_or_else(|| ApiError::Internal(format!("the stored offer has no {key}")))
    };
    let num = |key: &str| -> Result<u64, ApiError> {
        get(key)?
            .parse()
            .map_err(|_| ApiError::Internal(format!("the stored offer's {key} is not a number")))
    };
    let fen = |key: &str| {
        Fen::new(num(key)?)
            .ok_or_else(|| ApiError::Internal(format!("the stored offer's {key} is too large")))
    };
    let bank_id = get("bank_id")?.to_owned();
    let amount = fen("amount_fen")?;
    let platform_part = fen("platform_part_fen")?;
    let product = match get("product")? {
        "amortising" => {
            let bps = u32::try_from(num("annual_rate_bps")?).unwrap_or(u32::MAX);
            let rate = AnnualRate::from_basis_points(bps)
                .ok_or_else(|| ApiError::Internal("the stored offer's rate is too high".into()))?;
            let servicing = lending.policy.servicing;
            let multiple = u64::from(servicing.penalty_multiple_bps);
            let penalty_bps = (u64::from(bps) * multiple / 10_000).min(10_000);
            let penalty = AnnualRate::from_basis_points(u32::try_from(penalty_bps).unwrap_or(0))
                .unwrap_or(rate);
            let terms = Terms::monthly(
                amount,
                rate,
                decision.term_months,
                Method::parse(get("method")?)
                    .map_err(|e| ApiError::Internal(format!("the stored offer: {e}")))?,
                DayCount::parse(get("day_count")?)
                    .map_err(|e| ApiError::Internal(format!("the stored offer: {e}")))?,
                on,
            );
            return Ok((
                bank_id,
                LoanSpec {
                    product: ProductSpec::Amortising {
                        terms,
                        instalment_fee: Fen::ZERO,
                    },
                    policy: Policy {
                        penalty_rate: penalty,
                        allocation: servicing.allocation,
                    },
                },
                platform_part,
            ));
        }
        "revenue_based" => {
            let fee = fen("fee_fen")?;
            let index = usize::try_from(num("product_index")?).unwrap_or(usize::MAX);
            // Offers stored before they kept the product's longest term take it from the
            // configuration in force.
            let term_days = match num("term_days_max") {
                Ok(days) => days,
                Err(_) => lending
                    .consortium
                    .banks()
                    .iter()
                    .find(|b| b.bank_id.as_str() == bank_id)
                    .and_then(|b| b.products.get(index))
                    .and_then(|p| match p {
                        Product::RevenueBased { term_days_max, .. } => {
                            Some(u64::from(*term_days_max))
                        }
                        Product::Amortising { .. } => None,
                    })
                    .unwrap_or(0),
            };
            let owed = amount.get().saturating_add(fee.get());
            let minimum = if term_days == 0 {
                0
            } else {
                (owed * u64::from(REVENUE_PERIOD_DAYS)).div_ceil(term_days)
            };
            ProductSpec::RevenueBased(RevenueTerms {
                principal: amount,
                fee,
                withholding_bps: u32::try_from(num("withholding_bps")?).unwrap_or(u32::MAX),
                minimum_per_period: Fen::new(minimum.min(owed)).unwrap_or(Fen::ZERO),
                disbursed_on: on,
            })
        }
        other => {
            return Err(ApiError::Internal(format!(
                "the stored offer has an unknown product {other}"
            )));
        }
    };
    Ok((
        bank_id,
        LoanSpec {
            product,
            policy: Policy {
                allocation: lending.policy.servicing.allocation,
                ..Policy::default()
            },
        },
        platform_part,
    ))
}

/// Loans one portfolio report reads at most; a larger portfolio answers 422
/// `portfolio_too_large` (reports of that size belong in a batch job, not a request).
pub const PORTFOLIO_LOANS_MAX: usize = 100_000;

/// `GET /api/v1/portfolio?bank_id=&on=YYYY-MM-DD`: disbursed, outstanding, arrears buckets,
/// the non-performing ratio and vintage curves on a day (today by default), for one bank or,
/// for the operator without `bank_id`, overall with every bank's figures. A bank key reports
/// on its own loans only.
pub(crate) async fn get_portfolio(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Json<crate::wire::PortfolioOut>, ApiError> {
    let query = crate::wire::portfolio_query(&crate::api::query_pairs(&uri)?)?;
    let bank = match &principal.role {
        crate::auth::Role::Bank(own) => Some(own.as_str().to_owned()),
        crate::auth::Role::Operator | crate::auth::Role::Integration => query.bank_id.clone(),
        crate::auth::Role::Merchant(_) => return Err(ApiError::Forbidden),
    };
    let day = query.on.unwrap_or_else(today);
    let store = state.store.clone();
    let wanted = bank.clone();
    let loans = blocking(move || store.all_loans(wanted.as_deref(), PORTFOLIO_LOANS_MAX))
        .await?
        .ok_or(ApiError::PortfolioTooLarge(PORTFOLIO_LOANS_MAX))?;
    let overall = chunlei_lending::loans::portfolio::portfolio(&loans, day);
    let mut banks: Vec<(String, chunlei_lending::loans::portfolio::Portfolio)> = Vec::new();
    if bank.is_none() {
        let mut ids: Vec<&str> = loans.iter().map(|l| l.bank_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let own: Vec<LoanRecord> = loans.iter().filter(|l| l.bank_id == id).cloned().collect();
            banks.push((
                id.to_owned(),
                chunlei_lending::loans::portfolio::portfolio(&own, day),
            ));
        }
    }
    Ok(Json(crate::wire::PortfolioOut::new(
        bank.as_deref(),
        day,
        &overall,
        &banks,
    )))
}

/// `GET /api/v1/banks`: the banks of the consortium with their policies and what each has
/// lent (today and in all). A bank key sees only itself; merchants see none.
pub(crate) async fn list_banks(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<crate::wire::BanksOut>, ApiError> {
    let lending = state
        .lending
        .current()
        .ok_or(ApiError::LendingNotConfigured)?;
    let own = match &principal.role {
        crate::auth::Role::Bank(own) => Some(own.as_str().to_owned()),
        crate::auth::Role::Operator | crate::auth::Role::Integration => None,
        crate::auth::Role::Merchant(_) => return Err(ApiError::Forbidden),
    };
    let store = state.store.clone();
    let lent = blocking(move || store.bank_lent(today(), "", "")).await?;
    let banks = lending
        .consortium
        .banks()
        .iter()
        .filter(|b| own.as_deref().is_none_or(|own| b.bank_id.as_str() == own))
        .map(|b| {
            let used = lent
                .iter()
                .find(|l| l.bank_id == b.bank_id.as_str())
                .cloned()
                .unwrap_or_default();
            crate::wire::BankOut::new(b, used.day, used.total)
        })
        .collect();
    Ok(Json(crate::wire::BanksOut {
        policy_version: lending.policy.version.clone(),
        model_version: lending.scorecard.model_version.clone(),
        in_force_since: crate::wire::format_time(lending.loaded_at),
        banks,
    }))
}
