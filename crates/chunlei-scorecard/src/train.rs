//! Training: bin every candidate variable, keep those with enough information value, fit the
//! logistic regression on their WoE, drop variables whose coefficient has the unexplainable
//! sign and refit, then scale to points and record the training score distribution.

use crate::Error;
use crate::binning::{self, BinningOptions, FINE_BINS_MAX, Kind, bin_categorical, bin_numeric};
use crate::csv::Table;
use crate::data::{Dataset, Values};
use crate::metrics;
use crate::model::{Candidate, Outcome, Scaling, Scorecard, ScoredVariable, TrainingSummary};
use crate::regression;

/// The longest model version a caller may give.
pub const MODEL_VERSION_LEN_MAX: usize = 100;

/// Everything training can be told.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// The training day, `YYYY-MM-DD`; the crate reads no clock.
    pub created_on: String,
    /// The version written into the model; derived from its content when `None`.
    pub model_version: Option<String>,
    /// Variables with a lower information value are not used.
    pub min_iv: f64,
    pub binning: BinningOptions,
    pub scaling: Scaling,
    /// L2 penalty on the slopes; zero fits plain maximum likelihood.
    pub l2: f64,
    /// Drop variables whose coefficient comes out with the wrong sign and refit.
    pub drop_wrong_sign: bool,
    /// Columns that are not candidate variables (identifiers, dates, …).
    pub exclude_columns: Vec<String>,
}

impl TrainOptions {
    /// The standard options: IV ≥ 0.02, 20 fine and at most 8 coarse bins of at least 5% of
    /// rows, monotone numeric bins, no penalty, wrong signs dropped, 600 points at 50:1 with
    /// 20 points to double the odds.
    pub fn new(created_on: impl Into<String>) -> TrainOptions {
        TrainOptions {
            created_on: created_on.into(),
            model_version: None,
            min_iv: 0.02,
            binning: BinningOptions::default(),
            scaling: Scaling::default(),
            l2: 0.0,
            drop_wrong_sign: true,
            exclude_columns: Vec::new(),
        }
    }

    fn check(&self) -> Result<(), Error> {
        let invalid = |name, reason: &str| {
            Err(Error::InvalidOption {
                name,
                reason: reason.to_owned(),
            })
        };
        let b = &self.binning;
        let s = &self.scaling;
        if !is_date(&self.created_on) {
            return invalid("created_on", "must be a date YYYY-MM-DD");
        }
        if let Some(version) = &self.model_version
            && (version.trim().is_empty() || version.len() > MODEL_VERSION_LEN_MAX)
        {
            return invalid("model_version", "must be 1 to 100 characters");
        }
        if !(2..=FINE_BINS_MAX).contains(&b.fine_bins) {
            return invalid("fine_bins", "must be from 2 to 100");
        }
        if !(1..=b.fine_bins).contains(&b.max_bins) {
            return invalid("max_bins", "must be from 1 to fine_bins");
        }
        if !(b.min_bin_share > 0.0 && b.min_bin_share <= 0.5) {
            return invalid("min_bin_share", "must be above 0 and at most 0.5");
        }
        if !(self.min_iv.is_finite() && self.min_iv >= 0.0) {
            return invalid("min_iv", "must be a number of at least 0");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return invalid("l2", "must be a number of at least 0");
        }
        if !(s.pdo.is_finite() && s.pdo > 0.0) {
            return invalid("pdo", "must be above 0");
        }
        if !(s.base_odds.is_finite() && s.base_odds > 0.0) {
            return invalid("base_odds", "must be above 0");
        }
        if !s.base_score.is_finite() {
            return invalid("base_score", "must be a finite number");
        }
        Ok(())
    }
}

/// Whether `text` is a calendar date `YYYY-MM-DD`.
pub(crate) fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// A candidate variable after binning.
struct Binned {
    name: String,
    kind: Kind,
    binning: Option<binning::Binning>,
    bins_of_rows: Vec<usize>,
}

/// Trains a scorecard on `table`, whose column `target` equals `bad` for bad rows.
pub fn train(
    table: &Table,
    target: &str,
    bad: &str,
    options: &TrainOptions,
) -> Result<Scorecard, Error> {
    options.check()?;
    let data = Dataset::labelled(table, target, bad, &options.exclude_columns)?;
    let binned: Vec<Binned> = data
        .variables
        .iter()
        .map(|variable| bin_variable(variable, &data.is_bad, &options.binning))
        .collect();
    let mut outcomes: Vec<Outcome> = binned
        .iter()
        .map(|b| match &b.binning {
            None => Outcome::TooManyCategories,
            // An IV of zero means one WoE for every row: a constant column the regression
            // cannot use, whatever the minimum.
            Some(binning) if binning.iv >= options.min_iv && binning.iv > 0.0 => Outcome::Selected,
            Some(_) => Outcome::LowIv,
        })
        .collect();
    let (fit, chosen) = fit_with_signs(&binned, &mut outcomes, &data.is_bad, options)?;
    let rows = data.is_bad.len();
    let (variables, scores) = scale(&binned, &chosen, &fit, &options.scaling, rows);
    let score_edges = metrics::decile_edges(&scores);
    let score_shares = metrics::bucket_shares(&score_edges, &scores);
    let mut card = Scorecard {
        model_version: String::new(),
        created_on: options.created_on.clone(),
        target: target.to_owned(),
        bad: bad.trim().to_owned(),
        scaling: options.scaling,
        intercept: fit.intercept,
        variables,
        candidates: binned
            .iter()
            .zip(&outcomes)
            .map(|(b, outcome)| Candidate {
                name: b.name.clone(),
                kind: b.kind,
                iv: b.binning.as_ref().map(|binning| binning.iv),
                outcome: *outcome,
            })
            .collect(),
        training: TrainingSummary {
            rows: data.is_bad.len() as u64,
            bads: data.is_bad.iter().filter(|b| **b).count() as u64,
            auc: metrics::auc(&scores, &data.is_bad).unwrap_or(0.5),
            ks: metrics::ks(&scores, &data.is_bad).unwrap_or(0.0),
            min_iv: options.min_iv,
            score_edges,
            score_shares,
        },
    };
    card.model_version = match &options.model_version {
        Some(version) => version.trim().to_owned(),
        None => card.content_version()?,
    };
    Ok(card)
}

/// The points of every bin of the chosen variables, and the integer score of every training
/// row from the bins it was assigned at training.
fn scale(
    binned: &[Binned],
    chosen: &[usize],
    fit: &regression::Fit,
    scaling: &Scaling,
    rows: usize,
) -> (Vec<ScoredVariable>, Vec<f64>) {
    let mut variables = Vec::with_capacity(chosen.len());
    let mut scores = vec![0i64; rows];
    for (at, coefficient) in chosen.iter().zip(&fit.coefficients) {
        let Some(binning) = binned[*at].binning.clone() else {
            continue;
        };
        let points: Vec<i64> = binning
            .bins
            .iter()
            .map(|bin| scaling.points(*coefficient, bin.woe, fit.intercept, chosen.len()))
            .collect();
        for (score, bin) in scores.iter_mut().zip(&binned[*at].bins_of_rows) {
            *score += points.get(*bin).copied().unwrap_or(0);
        }
        variables.push(ScoredVariable {
            name: binned[*at].name.clone(),
            binning,
            coefficient: *coefficient,
            points,
        });
    }
    let scores = scores.into_iter().map(|s| s as f64).collect();
    (variables, scores)
}

fn bin_variable(
    variable: &crate::data::Variable,
    is_bad: &[bool],
    options: &BinningOptions,
) -> Binned {
    let (kind, binning) = match &variable.values {
        Values::Numeric(xs) => (Kind::Numeric, Some(bin_numeric(xs, is_bad, options))),
        Values::Categorical(cs) => (
            Kind::Categorical,
            // Too many categories is the one reason a variable cannot be binned.
            bin_categorical(cs, is_bad, options).ok(),
        ),
    };
    let bins_of_rows = binning
        .as_ref()
        .map(|b| binning::assign(b, &variable.values))
        .unwrap_or_default();
    Binned {
        name: variable.name.clone(),
        kind,
        binning,
        bins_of_rows,
    }
}

/// Fits on the selected variables; while one has a positive coefficient (more risk in a
/// better bin) and `drop_wrong_sign` is set, drops the one with the largest and refits.
/// Returns the fit and the positions (in `binned`) of the variables it is over.
fn fit_with_signs(
    binned: &[Binned],
    outcomes: &mut [Outcome],
    is_bad: &[bool],
    options: &TrainOptions,
) -> Result<(regression::Fit, Vec<usize>), Error> {
    loop {
        let chosen: Vec<usize> = (0..binned.len())
            .filter(|at| outcomes[*at] == Outcome::Selected)
            .collect();
        if chosen.is_empty() {
            return Err(no_variable_selected(binned, options.min_iv));
        }
        let columns: Vec<Vec<f64>> = chosen.iter().map(|at| woe_column(&binned[*at])).collect();
        let fit = regression::fit(&columns, is_bad, options.l2).map_err(|singular| {
            let culprit = chosen
                .get(singular.column)
                .map_or("?", |at| &binned[*at].name);
            Error::Singular {
                variables: format!("including {culprit:?}"),
            }
        })?;
        if !fit.converged {
            return Err(Error::NotConverged {
                iterations: fit.iterations,
            });
        }
        let worst = chosen
            .iter()
            .zip(&fit.coefficients)
            .filter(|(_, c)| **c > 0.0)
            .max_by(|a, b| a.1.total_cmp(b.1));
        match worst {
            Some((at, _)) if options.drop_wrong_sign => outcomes[*at] = Outcome::WrongSign,
            Some(_) | None => return Ok((fit, chosen)),
        }
    }
}

fn woe_column(binned: &Binned) -> Vec<f64> {
    let bins = binned
        .binning
        .as_ref()
        .map(|b| b.bins.as_slice())
        .unwrap_or_default();
    binned
        .bins_of_rows
        .iter()
        .map(|bin| bins.get(*bin).map_or(0.0, |b| b.woe))
        .collect()
}

fn no_variable_selected(binned: &[Binned], min_iv: f64) -> Error {
    let best = binned
        .iter()
        .filter_map(|b| {
            b.binning
                .as_ref()
                .map(|binning| (b.name.as_str(), binning.iv))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(
            || "none could be binned".to_owned(),
            |(name, iv)| format!("{name} with {iv:.4}"),
        );
    Error::NoVariableSelected { min_iv, best }
}

#[cfg(test)]
mod tests;
