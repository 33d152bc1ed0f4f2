//! Evaluation of a scorecard on a labelled file: how well it ranks (AUC, KS) and how far the
//! file's score distribution is from the training one (PSI over the training deciles).

use crate::Error;
use crate::csv::Table;
use crate::data::labels;
use crate::metrics;
use crate::model::Scorecard;

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub rows: u64,
    pub bads: u64,
    pub auc: f64,
    pub ks: f64,
    pub psi: f64,
    /// The share of this file's rows in each training decile bucket.
    pub score_shares: Vec<f64>,
}

/// Scores every row of `table` and compares the scores with the target.
pub fn evaluate(
    card: &Scorecard,
    table: &Table,
    target: &str,
    bad: &str,
) -> Result<Evaluation, Error> {
    let is_bad = labels(table, target, bad)?;
    for variable in &card.variables {
        table.column(&variable.name)?;
    }
    let mut scores = Vec::with_capacity(is_bad.len());
    for row in 0..table.rows().len() {
        let Some(record) = table.record(row) else {
            continue;
        };
        let scored = card.score(&record).map_err(|source| Error::AtLine {
            line: record.line(),
            source: Box::new(source),
        })?;
        scores.push(scored.score as f64);
    }
    let score_shares = metrics::bucket_shares(&card.training.score_edges, &scores);
    Ok(Evaluation {
        rows: is_bad.len() as u64,
        bads: is_bad.iter().filter(|b| **b).count() as u64,
        auc: metrics::auc(&scores, &is_bad).unwrap_or(0.5),
        ks: metrics::ks(&scores, &is_bad).unwrap_or(0.0),
        psi: metrics::psi(&card.training.score_shares, &score_shares),
        score_shares,
    })
}
