//! Stored loan decisions (migration 5, `loan_decisions`): one row per application, described
//! once as a [`Table`] like the settlement book's, so both backends store the same cells.
//!
//! The store does not know the lending crate's types: the caller flattens a decision into a
//! [`LoanDecisionRecord`] of plain columns and audit text, and reads it back the same way.

use crate::StoreError;
use crate::codec;
use crate::settlement::{Cell, Cells, Kind, Table};

use Kind::{Int, OptText, Text};

pub(crate) const DECISIONS: Table = Table {
    name: "loan_decisions",
    // A decision never changes once stored.
    mutable_from: 15,
    columns: &[
        ("application_id", Text),
        ("merchant_id", Text),
        ("requested", Int),
        ("term_months", Int),
        ("decided_at", Int),
        ("model_version", Text),
        ("score", Int),
        ("grade", Text),
        ("policy_version", Text),
        ("outcome", Text),
        ("bank_id", OptText),
        ("features", Text),
        ("offer", OptText),
        ("reasons", Text),
        ("answers", Text),
    ],
};

/// One loan decision as stored. The application id is the idempotency key: the first
/// decision stored under an id stays, and storing another under the same id changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanDecisionRecord {
    pub application_id: String,
    pub merchant_id: String,
    /// The amount asked for, in fen.
    pub requested: u64,
    pub term_months: u16,
    /// Nanoseconds since the Unix epoch.
    pub decided_at: u64,
    pub model_version: String,
    pub score: i64,
    /// `A` to `E`.
    pub grade: String,
    pub policy_version: String,
    /// `approved` or `declined`.
    pub outcome: String,
    /// The bank whose offer was chosen; `None` when declined.
    pub bank_id: Option<String>,
    /// The features the decision was made from, as audit text.
    pub features: String,
    /// The chosen offer, as audit text; `None` when declined.
    pub offer: Option<String>,
    /// The principal reasons of a decline, as audit text (empty when approved).
    pub reasons: String,
    /// Every bank's answer, as audit text.
    pub answers: String,
}

/// The row of `r`, its texts moved out of it but for the application id: what is left of `r`
/// only names the decision, for telling its caller whether it was stored.
pub(crate) fn take_decision_row(r: &mut LoanDecisionRecord) -> Vec<Cell> {
    let text = |v: &mut String| Cell::Text(std::mem::take(v));
    let opt = |v: &mut Option<String>| v.take().map_or(Cell::NullText, Cell::Text);
    vec![
        Cell::Text(r.application_id.clone()),
        text(&mut r.merchant_id),
        Cell::Int(codec::u64_to_i64(r.requested)),
        Cell::Int(i64::from(r.term_months)),
        Cell::Int(codec::u64_to_i64(r.decided_at)),
        text(&mut r.model_version),
        Cell::Int(r.score),
        text(&mut r.grade),
        text(&mut r.policy_version),
        text(&mut r.outcome),
        opt(&mut r.bank_id),
        text(&mut r.features),
        opt(&mut r.offer),
        text(&mut r.reasons),
        text(&mut r.answers),
    ]
}

pub(crate) fn decision_from(cells: &[Cell]) -> Result<LoanDecisionRecord, StoreError> {
    let mut c = Cells::new(&DECISIONS, cells);
    Ok(LoanDecisionRecord {
        application_id: c.text()?,
        merchant_id: c.text()?,
        requested: c.u64()?,
        term_months: codec::u16_from(c.int()?, "loan_decisions.term_months")?,
        decided_at: c.u64()?,
        model_version: c.text()?,
        score: c.int()?,
        grade: c.text()?,
        policy_version: c.text()?,
        outcome: c.text()?,
        bank_id: c.opt_text()?,
        features: c.text()?,
        offer: c.opt_text()?,
        reasons: c.text()?,
        answers: c.text()?,
    })
}
