//! The loan routes: a merchant's application decided in the request that sends it, and the
//! stored decision read back.
//!
//! A decision reads the merchant's registry entry and a year of its daily activity summed
//! over four ranges of days (`Store::merchant_activity_totals`), never its orders; scores the
//! features with the loaded scorecard; asks every bank of the consortium ([`Policy::decide`]); and stores the decision
//! with everything it was made from through the ledger writer (`Store::record_decisions`), so
//! it is durable before the answer. On SQLite what the last decision of the merchant read is
//! kept, and used while nothing it comes from has changed (`Store::cached_decision_inputs`);
//! a decision made from it that the writer refuses because the merchant's registry entry changed meanwhile
//! is made again from a fresh read. The application id is the idempotency key: the same
//! application again answers the stored decision, different content under the same id
//! `application_id_conflict`.
//!
//! The writer tells which decision it stored under each id, so the idempotency check costs no
//! read before deciding: a new decision is answered as stored; when one was stored first under
//! the id (the same application sent again, or sent twice at once, by this process or
//! another), that one is read back and answered, or 409 if the applications differ.

use std::sync::Arc;

use crate::body::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chunlei_ledger::Fen;
use chunlei_lending::decision::audit::{answers_text, offer_text, reasons_text, record_text};
use chunlei_lending::decision::{
    Application, BankUsage, Consortium, DECLINE_REASONS_MAX, Decision, FeatureRecord,
    MerchantFacts, ModelScore, Outcome, Policy, features_from_totals,
};
use chunlei_lending::loans::{LoanRecord, portfolio};
use chunlei_scorecard::Scorecard;
use chunlei_settlement::MerchantId;
use chunlei_store::{BankLent, DecisionInputs, LoanDecisionRecord, StoreError};

use crate::access::{Action, authorize, decision_not_found, merchant_not_found};
use crate::auth::Principal;
use crate::body::JsonBody;
use crate::metrics::Answered;
use crate::settle::KeyPath;
use crate::wire::{ApplicationIn, DecisionOut, application_from_json};
use crate::{ApiError, AppState, blocking, now_ns};

/// Nanoseconds in a day.
const DAY_NS: u64 = 86_400 * 1_000_000_000;
/// Decisions reading the store at once, at most, where it reads them one at a time
/// (PostgreSQL): as many as the store keeps read connections by default. Beyond the pool a
/// read opens a connection of its own, which costs more than the decision; under many
/// concurrent applications waiting here is faster than that.
pub const DECISIONS_READING_MAX: usize = 16;

/// What the server decides loans with: the platform's policy, the banks and the scorecard,
/// loaded once at start (`chunlei serve --lending FILE --scorecard FILE`).
#[derive(Debug)]
pub struct Lending {
    pub policy: Policy,
    pub consortium: Consortium,
    pub scorecard: Scorecard,
    /// Bounds the decisions reading the store at once ([`DECISIONS_READING_MAX`]).
    reading: tokio::sync::Semaphore,
    /// When it was made (ns since the Unix epoch): when it was put in force.
    pub loaded_at: u64,
}

impl Lending {
    pub fn new(policy: Policy, consortium: Consortium, scorecard: Scorecard) -> Lending {
        Lending {
            policy,
            consortium,
            scorecard,
            reading: tokio::sync::Semaphore::new(DECISIONS_READING_MAX),
            loaded_at: crate::now_ns(),
        }
    }
}

/// The lending configuration in force, if any. The server may replace it while it runs
/// (`chunlei serve` does on SIGHUP); a request takes the one in force when it starts and
/// keeps it to its end, and every decision stores the versions it was made with.
#[derive(Clone, Debug, Default)]
pub struct LendingSlot(Arc<std::sync::RwLock<Option<Arc<Lending>>>>);

impl LendingSlot {
    pub fn new(lending: Option<Arc<Lending>>) -> LendingSlot {
        LendingSlot(Arc::new(std::sync::RwLock::new(lending)))
    }

    pub fn current(&self) -> Option<Arc<Lending>> {
        // A panic while replacing cannot leave the value half-written: it is one pointer.
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts `lending` in force for the requests that start from now on.
    pub fn replace(&self, lending: Arc<Lending>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(lending);
    }
}

impl From<Option<Arc<Lending>>> for LendingSlot {
    fn from(lending: Option<Arc<Lending>>) -> LendingSlot {
        LendingSlot::new(lending)
    }
}

/// `POST /api/v1/loan-applications`: decides an application and answers the decision.
pub(crate) async fn post_application(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let answered = application(&state, &principal, &body).await;
    let how = answered.as_ref().map(|(_, how)| *how);
    state.metrics.application(how, started.elapsed());
    answered.map(|(response, _)| response)
}

/// [`post_application`] once its key and body are taken: the answer, and how it was made.
async fn application(
    state: &AppState,
    principal: &Principal,
    body: &[u8],
) -> Result<(Response, Answered), ApiError> {
    let lending = state
        .lending
        .current()
        .ok_or(ApiError::LendingNotConfigured)?;
    let application = application_from_json(body)?;
    authorize(principal, &Action::ApplyForLoan(&application.merchant_id))?;
    let now = now_ns();
    let today = i32::try_from(now / DAY_NS).unwrap_or(i32::MAX);
    let store = &state.store;
    // The merchant's inputs as an earlier decision read them, when nothing they come from has
    // changed since (SQLite): most applications need no read at all.
    if let Some(cached) = store.cached_decision_inputs(application.merchant_id.as_str(), today) {
        let record = decide(&lending, &application, &cached.inputs, now, today)?;
        let answer = Json(DecisionOut::new(&record)).into_response();
        let approved = record.outcome == "approved";
        match store
            .record_decisions_as_of(vec![record], cached.as_of)
            .await
        {
            // The merchant's entry changed after they were read: decide again from a fresh read.
            Err(StoreError::InputsChanged) => {}
            stored => {
                return answer_stored(state, &application, (answer, approved), &stored?).await;
            }
        }
    }
    // On SQLite with other applications' reads in one snapshot, on the store's reader thread.
    let inputs = match store.queue_decision_inputs(&application.merchant_id, today) {
        Some(queued) => queued.await?,
        None => read_inputs(state, &lending, &application.merchant_id, today).await?,
    };
    let Some(inputs) = inputs else {
        // Not in the registry. A decision stored under the id before still answers the same
        // application sent again.
        return match stored_decision(state, &application.id).await? {
            Some(stored) => replayed(&application, &stored),
            None => Err(merchant_not_found(&application.merchant_id)),
        };
    };
    let record = decide(&lending, &application, &inputs, now, today)?;
    // Written before the record goes to the writer: the answer borrows from it.
    let answer = Json(DecisionOut::new(&record)).into_response();
    let approved = record.outcome == "approved";
    let stored = state.store.record_decisions(vec![record]).await?;
    answer_stored(state, &application, (answer, approved), &stored).await
}

/// The inputs of a decision where the store reads them one application at a time
/// (PostgreSQL), at most [`DECISIONS_READING_MAX`] at once.
async fn read_inputs(
    state: &AppState,
    lending: &Lending,
    merchant: &MerchantId,
    today: i32,
) -> Result<Option<Arc<DecisionInputs>>, ApiError> {
    let _reading = lending
        .reading
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("the decision semaphore is closed".into()))?;
    let store = state.store.clone();
    let merchant = merchant.clone();
    blocking(move || store.decision_inputs(&merchant, today)).await
}

/// The answer to an application whose decision went to the store: `answer` when the store
/// kept it (`approved` or not), else the decision stored under the id first.
async fn answer_stored(
    state: &AppState,
    application: &ApplicationIn,
    (answer, approved): (Response, bool),
    stored: &[bool],
) -> Result<(Response, Answered), ApiError> {
    if stored.first() == Some(&true) {
        return Ok((answer, Answered::Decided { approved }));
    }
    // A decision was stored under the id first: it stays and is the answer.
    let stored = stored_decision(state, &application.id)
        .await?
        .ok_or_else(|| ApiError::Internal("a stored decision was not found".into()))?;
    replayed(application, &stored)
}

/// The answer to an application whose id has a decision stored: that decision.
fn replayed(
    application: &ApplicationIn,
    stored: &LoanDecisionRecord,
) -> Result<(Response, Answered), ApiError> {
    Ok((same_or_conflict(application, stored)?, Answered::Replayed))
}

/// The decision stored under an application id, read on a blocking thread.
async fn stored_decision(
    state: &AppState,
    application_id: &str,
) -> Result<Option<LoanDecisionRecord>, ApiError> {
    let store = state.store.clone();
    let id = application_id.to_owned();
    blocking(move || store.loan_decision(&id)).await
}

/// `GET /api/v1/loan-applications/{id}`: the stored decision.
pub(crate) async fn get_application(
    State(state): State<AppState>,
    principal: Principal,
    KeyPath(id): KeyPath,
) -> Result<Response, ApiError> {
    let stored = stored_decision(&state, &id)
        .await?
        .ok_or_else(|| decision_not_found(&id))?;
    authorize(
        &principal,
        &Action::ReadLoanDecision {
            application_id: &id,
            merchant_id: &stored.merchant_id,
            bank_id: stored.bank_id.as_deref(),
        },
    )?;
    Ok(Json(DecisionOut::new(&stored)).into_response())
}

fn same_or_conflict(
    application: &ApplicationIn,
    stored: &LoanDecisionRecord,
) -> Result<Response, ApiError> {
    if application.is_same_as(stored) {
        Ok(Json(DecisionOut::new(stored)).into_response())
    } else {
        Err(ApiError::ApplicationIdConflict(application.id.clone()))
    }
}

/// Decides `application` from `inputs`, the store's figures for its merchant on `today`
/// (days since the Unix epoch), at `now`.
fn decide(
    lending: &Lending,
    application: &ApplicationIn,
    inputs: &DecisionInputs,
    now: u64,
    today: i32,
) -> Result<LoanDecisionRecord, StoreError> {
    let merchant = &inputs.merchant;
    let day = chunlei_ledger::CivilDate::from_days(today)
        .ok_or_else(|| StoreError::Corrupt("today is outside the calendar".into()))?;
    let record = debt_record(&inputs.loans, day);
    let facts = MerchantFacts {
        joined_day: merchant.joined_on.days_since_epoch(),
        region_code: merchant.region_code.as_str().to_owned(),
        industry: merchant.category.clone(),
        existing_debt: record.debt,
        days_past_due: record.days_past_due,
        worst_days_past_due_12m: record.worst_12m,
        fraud_flag: inputs.fraud_flagged,
    };
    let lent = &inputs.lent;
    let fen = |v: u64| Fen::new(v).unwrap_or(Fen::MAX);
    let usage: Vec<BankUsage> = lending
        .consortium
        .banks()
        .iter()
        .map(|bank| {
            let l = lent.iter().find(|l| l.bank_id == bank.bank_id.as_str());
            let used = |of: fn(&BankLent) -> u64| fen(l.map_or(0, of));
            BankUsage {
                bank_id: bank.bank_id,
                daily_used: used(|l| l.day),
                total_used: used(|l| l.total),
                region_used: used(|l| l.region),
                industry_used: used(|l| l.industry),
            }
        })
        .collect();
    let features = features_from_totals(today, &inputs.totals, facts);
    let record = features.record();
    let card = &lending.scorecard;
    let scored = card
        .score(&record)
        .map_err(|e| StoreError::Corrupt(format!("the scorecard cannot score features: {e}")))?;
    let reasons = card.reasons_of(&scored, DECLINE_REASONS_MAX);
    let decision = lending.policy.decide(
        Application {
            application_id: application.id.clone(),
            merchant_id: application.merchant_id.as_str().to_owned(),
            requested: application.amount,
            term_months: Some(application.term_months),
            applied_at: now,
        },
        features,
        ModelScore {
            model_version: card.model_version.clone(),
            score: scored.score,
        },
        reasons,
        &lending.consortium,
        &usage,
    );
    Ok(to_record(decision, &record, application.term_months, now))
}

/// A merchant's record with its lenders on `day`.
struct DebtRecord {
    /// Owed on its open loans.
    debt: Fen,
    /// The most days past due among its loans now.
    days_past_due: u32,
    /// The most days past due of any of its loans at any month's end in the last 12 months,
    /// or now.
    worst_12m: u32,
}

fn debt_record(loans: &[LoanRecord], day: chunlei_ledger::CivilDate) -> DebtRecord {
    let mut record = DebtRecord {
        debt: Fen::ZERO,
        days_past_due: 0,
        worst_12m: 0,
    };
    for loan in loans {
        let now = loan.summary_on(day);
        if loan.is_open() {
            record.debt = record.debt.saturating_add(now.outstanding.total());
        }
        record.days_past_due = record.days_past_due.max(now.days_past_due);
        record.worst_12m = record.worst_12m.max(now.days_past_due);
        let (year, month, _) = day.ymd();
        for back in 1..=12 {
            let end = portfolio::month_end(year, month, -back);
            if let Some(state) = end.and_then(|end| portfolio::state_on(loan, end)) {
                record.worst_12m = record.worst_12m.max(state.days_past_due);
            }
        }
    }
    record
}

/// The record stored of `decision`, its details as audit text; `features` is the record of
/// its features, as scored.
fn to_record(
    decision: Decision,
    features: &FeatureRecord,
    term_months: u16,
    decided_at: u64,
) -> LoanDecisionRecord {
    let (outcome, bank_id, offer) = match &decision.outcome {
        Outcome::Approved(offer) => (
            "approved",
            Some(offer.bank_id.to_string()),
            Some(offer_text(offer)),
        ),
        Outcome::Declined { .. } => ("declined", None, None),
    };
    let reasons = reasons_text(decision.reasons());
    let answers = answers_text(&decision.answers);
    let Decision {
        application,
        model_version,
        score,
        grade,
        policy_version,
        ..
    } = decision;
    LoanDecisionRecord {
        application_id: application.application_id,
        merchant_id: application.merchant_id,
        requested: application.requested.get(),
        term_months,
        decided_at,
        model_version,
        score,
        grade: grade.as_str().to_owned(),
        policy_version,
        outcome: outcome.to_owned(),
        bank_id,
        features: record_text(features),
        offer,
        reasons,
        answers,
    }
}
