//! A trained scorecard: the bins of each selected variable with their WoE and points, the
//! regression behind them and the scaling that turned log-odds into points. It scores a
//! record (column name → text) and names the principal reasons for a low score.
//!
//! Scaling: `factor = pdo / ln 2`, `offset = base_score − factor · ln(base_odds)` with the
//! odds good:bad, so a score of `base_score` means `base_odds` to one and every `pdo` points
//! more double them. With `n` variables, intercept `α` and coefficients `β_j` of
//! `logit P(bad)`, bin `i` of variable `j` is worth
//! `−(β_j · WoE_ij + α / n) · factor + offset / n` points, rounded half away from zero to an
//! integer, and a score is the sum of its variables' points.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::Error;
use crate::binning::Binning;
use crate::regression::sigmoid;

pub mod file;

/// A record to score: the text value of each column. An empty value is missing; a column the
/// record does not have at all is an error, so that a misspelt column is never scored as
/// missing.
pub trait Record {
    fn value(&self, column: &str) -> Option<&str>;
}

impl<S: BuildHasher> Record for HashMap<String, String, S> {
    fn value(&self, column: &str) -> Option<&str> {
        self.get(column).map(String::as_str)
    }
}

impl Record for BTreeMap<String, String> {
    fn value(&self, column: &str) -> Option<&str> {
        self.get(column).map(String::as_str)
    }
}

/// How log-odds become points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    /// Points to double the odds.
    pub pdo: f64,
    /// The score at `base_odds`.
    pub base_score: f64,
    /// Good:bad odds (e.g. 50 for 50:1) that score `base_score`.
    pub base_odds: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            pdo: 20.0,
            base_score: 600.0,
            base_odds: 50.0,
        }
    }
}

impl Scaling {
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    pub fn offset(&self) -> f64 {
        self.base_score - self.factor() * self.base_odds.ln()
    }

    /// The points of one bin (see the module documentation), rounded half away from zero.
    pub fn points(&self, coefficient: f64, woe: f64, intercept: f64, variables: usize) -> i64 {
        let n = variables.max(1) as f64;
        let exact = -(coefficient * woe + intercept / n) * self.factor() + self.offset() / n;
        // A bin is worth a few hundred points at most; the cast cannot saturate.
        exact.round() as i64
    }
}

/// A variable of the scorecard.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredVariable {
    pub name: String,
    pub binning: Binning,
    /// Its coefficient in `logit P(bad)`; negative, as a higher WoE means lower risk.
    pub coefficient: f64,
    /// The points of each bin of `binning`, in the same order.
    pub points: Vec<i64>,
}

impl ScoredVariable {
    /// The most points any bin that had training rows gives: the yardstick for reasons.
    pub fn best_points(&self) -> i64 {
        self.binning
            .bins
            .iter()
            .zip(&self.points)
            .filter(|(bin, _)| bin.goods + bin.bads > 0)
            .map(|(_, points)| *points)
            .max()
            .unwrap_or(0)
    }
}

/// What happened to a candidate variable at training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Selected,
    /// Its information value was below the minimum.
    LowIv,
    /// With the others in the model its coefficient said "better bin, more risk", which a
    /// scorecard cannot explain (usually collinearity), so it was dropped and the rest refit.
    WrongSign,
    /// Too many distinct values to be a characteristic.
    TooManyCategories,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Selected => "selected",
            Outcome::LowIv => "low_iv",
            Outcome::WrongSign => "wrong_sign",
            Outcome::TooManyCategories => "too_many_categories",
        }
    }
}

/// A candidate variable and its information value (`None` if it could not be binned).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub name: String,
    pub kind: crate::binning::Kind,
    pub iv: Option<f64>,
    pub outcome: Outcome,
}

/// Figures of the training run, kept with the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSummary {
    pub rows: u64,
    pub bads: u64,
    pub auc: f64,
    pub ks: f64,
    pub min_iv: f64,
    /// The training scores' decile cut points and each bucket's share of the training rows,
    /// the baseline of the PSI.
    pub score_edges: Vec<f64>,
    pub score_shares: Vec<f64>,
}

/// A trained scorecard.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub model_version: String,
    /// The day the model was trained, `YYYY-MM-DD`, as given by the caller.
    pub created_on: String,
    pub target: String,
    pub bad: String,
    pub scaling: Scaling,
    pub intercept: f64,
    pub variables: Vec<ScoredVariable>,
    pub candidates: Vec<Candidate>,
    pub training: TrainingSummary,
}

/// One variable's part of a score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub variable: String,
    /// The bin the value fell into (an index into the variable's bins).
    pub bin: usize,
    pub points: i64,
}

/// The score of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: i64,
    /// The model's probability of bad, from the unrounded log-odds (so it can differ in the
    /// last digits from what the rounded score implies).
    pub probability_bad: f64,
    /// One entry per model variable, in model order.
    pub contributions: Vec<Contribution>,
}

/// A principal reason for a low score: a variable whose value earned fewer points than the
/// best bin of that variable would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The stable code of the reason: the variable's name.
    pub code: String,
    pub points: i64,
    pub best_points: i64,
    /// `best_points − points`, always above zero.
    pub points_lost: i64,
}

impl Scorecard {
    /// Scores `record`.
    pub fn score<R: Record + ?Sized>(&self, record: &R) -> Result<Scored, Error> {
        let mut contributions = Vec::with_capacity(self.variables.len());
        let mut log_odds_bad = self.intercept;
        for variable in &self.variables {
            let raw = record
                .value(&variable.name)
                .ok_or_else(|| Error::MissingVariable {
                    variable: variable.name.clone(),
                })?;
            let bin = variable
                .binning
                .locate(raw)
                .ok_or_else(|| Error::NotANumber {
                    variable: variable.name.clone(),
                    value: raw.to_owned(),
                })?;
            let woe = variable.binning.bins.get(bin).map_or(0.0, |b| b.woe);
            log_odds_bad += variable.coefficient * woe;
            contributions.push(Contribution {
                variable: variable.name.clone(),
                bin,
                points: variable.points.get(bin).copied().unwrap_or(0),
            });
        }
        Ok(Scored {
            score: contributions.iter().map(|c| c.points).sum(),
            probability_bad: sigmoid(log_odds_bad),
            contributions,
        })
    }

    /// The `top_n` variables that cost `record` the most points against the best bin of each,
    /// most first (ties in model order). Variables already in their best bin are no reason.
    pub fn reasons<R: Record + ?Sized>(
        &self,
        record: &R,
        top_n: usize,
    ) -> Result<Vec<Reason>, Error> {
        Ok(self.reasons_of(&self.score(record)?, top_n))
    }

    /// [`Scorecard::reasons`] of a record this scorecard has already scored as `scored`, so
    /// that a decision needing both scores its record once. Only the `top_n` kept are named.
    pub fn reasons_of(&self, scored: &Scored, top_n: usize) -> Vec<Reason> {
        // (variable, points, best points) of each variable short of its best bin.
        let mut short: Vec<(&str, i64, i64)> = self
            .variables
            .iter()
            .zip(&scored.contributions)
            .map(|(variable, c)| (variable.name.as_str(), c.points, variable.best_points()))
            .filter(|&(_, points, best_points)| best_points > points)
            .collect();
        // Stable: ties stay in model order.
        short.sort_by_key(|&(_, points, best_points)| std::cmp::Reverse(best_points - points));
        short.truncate(top_n);
        short
            .into_iter()
            .map(|(name, points, best_points)| Reason {
                code: name.to_owned(),
                points,
                best_points,
                points_lost: best_points - points,
            })
            .collect()
    }

    pub fn variable(&self, name: &str) -> Option<&ScoredVariable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

#[cfg(test)]
mod tests;
