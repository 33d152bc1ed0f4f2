//! The printable reports of training and evaluation. Neither ends with a line break, so that
//! the binary can `println!` them; the evaluation report's last line is always
//! `auc=<x> ks=<y>` with four decimals, for scripts.

use std::fmt::Write as _;

use crate::binning::{Kind, Rule};
use crate::evaluate::Evaluation;
use crate::model::{Outcome, Scorecard, ScoredVariable};

/// The training report: IV of every candidate (highest first), the selected variables and
/// their coefficients, the scaling, every bin with its points, and the training AUC and KS.
pub fn training(card: &Scorecard) -> String {
    let mut out = String::new();
    let t = &card.training;
    let _ = writeln!(
        out,
        "scorecard {} trained {} on {} rows, {} bad ({:.1}%); target {} = {:?}",
        card.model_version,
        card.created_on,
        t.rows,
        t.bads,
        percent(t.bads, t.rows),
        card.target,
        card.bad
    );
    let _ = writeln!(out);
    information_values(&mut out, card);
    let _ = writeln!(out);
    coefficients(&mut out, card);
    let _ = writeln!(out);
    let _ = writeln!(out, "bins and points:");
    for v in &card.variables {
        bins(&mut out, v);
    }
    let _ = write!(out, "train: auc={:.4} ks={:.4}", t.auc, t.ks);
    out
}

/// Every candidate with its IV, highest first, and what became of it.
fn information_values(out: &mut String, card: &Scorecard) {
    let _ = writeln!(
        out,
        "information value (minimum {:.4}):",
        card.training.min_iv
    );
    let mut candidates: Vec<_> = card.candidates.iter().collect();
    candidates.sort_by(|a, b| {
        b.iv.unwrap_or(-1.0)
            .total_cmp(&a.iv.unwrap_or(-1.0))
            .then_with(|| a.name.cmp(&b.name))
    });
    let width = candidates.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in candidates {
        let iv =
            c.iv.map_or_else(|| "     -".to_owned(), |iv| format!("{iv:.4}"));
        let outcome = match c.outcome {
            Outcome::Selected => "selected",
            Outcome::LowIv => "dropped: IV below the minimum",
            Outcome::WrongSign => "dropped: coefficient of the wrong sign (collinear)",
            Outcome::TooManyCategories => "dropped: too many categories",
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:11}  {iv}  {outcome}",
            c.name,
            c.kind.as_str()
        );
    }
}

/// The selected variables, the regression and the scaling.
fn coefficients(out: &mut String, card: &Scorecard) {
    let names: Vec<&str> = card.variables.iter().map(|v| v.name.as_str()).collect();
    let _ = writeln!(
        out,
        "selected variables ({}): {}",
        names.len(),
        names.join(", ")
    );
    let _ = writeln!(
        out,
        "coefficients of logit P(bad) on WoE = ln(good share / bad share), negative as expected:"
    );
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(9);
    let _ = writeln!(out, "  {:width$}  {:+.4}", "intercept", card.intercept);
    for v in &card.variables {
        let _ = writeln!(out, "  {:width$}  {:+.4}", v.name, v.coefficient);
    }
    let s = &card.scaling;
    let _ = writeln!(
        out,
        "scaling: {} points at {}:1 good:bad odds, {} points to double the odds (factor {:.4}, offset {:.4})",
        s.base_score,
        s.base_odds,
        s.pdo,
        s.factor(),
        s.offset()
    );
}

fn bins(out: &mut String, variable: &ScoredVariable) {
    let binning = &variable.binning;
    let _ = writeln!(
        out,
        "  {} ({}, iv {:.4})",
        variable.name,
        binning.kind.as_str(),
        binning.iv
    );
    let labels: Vec<String> = binning
        .bins
        .iter()
        .enumerate()
        .map(|(at, bin)| {
            let label = label(&bin.rule);
            if binning.kind == Kind::Categorical && at == binning.unseen {
                format!("{label} (and unseen categories)")
            } else {
                label
            }
        })
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(3);
    let _ = writeln!(
        out,
        "    {:width$}  {:>6}  {:>6}  {:>7}  {:>6}",
        "bin", "goods", "bads", "woe", "points"
    );
    for ((label, bin), points) in labels.iter().zip(&binning.bins).zip(&variable.points) {
        let _ = writeln!(
            out,
            "    {label:width$}  {:>6}  {:>6}  {:>+7.4}  {points:>6}",
            bin.goods, bin.bads, bin.woe
        );
    }
}

fn label(rule: &Rule) -> String {
    match rule {
        Rule::Range { lower, upper } => match (lower, upper) {
            (None, None) => "any value".to_owned(),
            (None, Some(upper)) => format!("< {upper}"),
            (Some(lower), None) => format!(">= {lower}"),
            (Some(lower), Some(upper)) => format!("[{lower}, {upper})"),
        },
        Rule::Categories(categories) => categories.join(" | "),
        Rule::Missing => "(missing)".to_owned(),
    }
}

/// The evaluation report; its last line is `auc=<x> ks=<y>`.
pub fn evaluation(card: &Scorecard, evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scorecard {} trained {}; evaluated on {} rows, {} bad ({:.1}%)",
        card.model_version,
        card.created_on,
        evaluation.rows,
        evaluation.bads,
        percent(evaluation.bads, evaluation.rows)
    );
    let verdict = match evaluation.psi {
        p if p < 0.1 => "stable",
        p if p < 0.25 => "some shift, watch",
        _ => "population changed",
    };
    let _ = writeln!(
        out,
        "psi={:.4} ({verdict}; below 0.10 stable, 0.10 to 0.25 watch, above 0.25 changed)",
        evaluation.psi
    );
    let _ = writeln!(out, "score bucket (training deciles)   train   this file");
    let edges = &card.training.score_edges;
    for (at, (train, here)) in card
        .training
        .score_shares
        .iter()
        .zip(&evaluation.score_shares)
        .enumerate()
    {
        let bucket = match (at.checked_sub(1).and_then(|i| edges.get(i)), edges.get(at)) {
            (None, None) => "all scores".to_owned(),
            (None, Some(upper)) => format!("< {upper}"),
            (Some(lower), None) => format!(">= {lower}"),
            (Some(lower), Some(upper)) => format!("[{lower}, {upper})"),
        };
        let _ = writeln!(
            out,
            "  {bucket:31}  {:>5.1}%  {:>8.1}%",
            train * 100.0,
            here * 100.0
        );
    }
    let _ = writeln!(
        out,
        "train: auc={:.4} ks={:.4}",
        card.training.auc, card.training.ks
    );
    let _ = write!(out, "auc={:.4} ks={:.4}", evaluation.auc, evaluation.ks);
    out
}

fn percent(part: u64, whole: u64) -> f64 {
    part as f64 * 100.0 / whole.max(1) as f64
}
