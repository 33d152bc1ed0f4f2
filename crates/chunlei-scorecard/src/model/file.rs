//! The model file: a versioned JSON document, the only wire form of a [`Scorecard`].
//!
//! The domain types derive no serde traits; this module holds the file's own types and
//! converts both ways. Loading checks everything a scorer relies on (bins that cover every
//! number, one missing bin, no category in two bins, finite figures), so a loaded scorecard
//! cannot fail on a well-formed record because of its file.
//!
//! `model_version` is either given at training or `sc-` and the first 16 hex digits of the
//! SHA-256 of the file's compact JSON with `model_version` and `created_on` left empty: the
//! same bins, points and coefficients give the same version on whatever day they are trained.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::binning::{Bin, Binning, Kind, Rule};
use crate::model::{Candidate, Outcome, Scaling, Scorecard, ScoredVariable, TrainingSummary};

/// The version of the file layout this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format_version: u64,
    model_version: String,
    created_on: String,
    target: TargetFile,
    scaling: ScalingFile,
    intercept: f64,
    variables: Vec<VariableFile>,
    candidates: Vec<CandidateFile>,
    training: TrainingFile,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    column: String,
    bad: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScalingFile {
    pdo: f64,
    base_score: f64,
    /// Good:bad.
    base_odds: f64,
    /// Derived from the three above; written for readers of the file, checked on load.
    factor: f64,
    offset: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableFile {
    name: String,
    kind: KindFile,
    iv: f64,
    coefficient: f64,
    /// The bin (from 0) that a category unseen in training falls into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unseen_bin: Option<usize>,
    bins: Vec<BinFile>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindFile {
    Numeric,
    Categorical,
}

#[derive(Debug, Serialize, Deserialize)]
struct BinFile {
    #[serde(flatten)]
    rule: RuleFile,
    goods: u64,
    bads: u64,
    woe: f64,
    points: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RuleFile {
    /// `lower <= x < upper`, `null` for unbounded.
    Range {
        lower: Option<f64>,
        upper: Option<f64>,
    },
    Categories {
        categories: Vec<String>,
    },
    Missing,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateFile {
    name: String,
    kind: KindFile,
    iv: Option<f64>,
    outcome: OutcomeFile,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeFile {
    Selected,
    LowIv,
    WrongSign,
    TooManyCategories,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingFile {
    rows: u64,
    bads: u64,
    auc: f64,
    ks: f64,
    min_iv: f64,
    score_deciles: DecilesFile,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecilesFile {
    /// Cut points: bucket `i` holds `edges[i-1] <= score < edges[i]`.
    edges: Vec<f64>,
    /// The share of training rows in each bucket (`edges.len() + 1` of them).
    shares: Vec<f64>,
}

impl Scorecard {
    /// The model file's text (pretty-printed JSON with a final newline).
    pub fn to_json(&self) -> Result<String, Error> {
        let mut text = serde_json::to_string_pretty(&ModelFile::from(self))
            .map_err(|e| Error::ModelFormat(e.to_string()))?;
        text.push('\n');
        Ok(text)
    }

    /// Reads a model file's text.
    pub fn from_json(text: &str) -> Result<Scorecard, Error> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::ModelFormat(e.to_string()))?;
        let found = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        match found {
            Some(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(Error::UnsupportedFormat {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            None => {
                return Err(Error::ModelFormat(
                    "no format_version (a whole number) at the top level".to_owned(),
                ));
            }
        }
        let file: ModelFile =
            serde_json::from_value(value).map_err(|e| Error::ModelFormat(e.to_string()))?;
        file.into_scorecard()
    }

    /// The version derived from the content (see the module documentation).
    pub fn content_version(&self) -> Result<String, Error> {
        let mut file = ModelFile::from(self);
        file.model_version = String::new();
        file.created_on = String::new();
        let bytes = serde_json::to_vec(&file).map_err(|e| Error::ModelFormat(e.to_string()))?;
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(format!("sc-{hex}"))
    }
}

impl From<&Scorecard> for ModelFile {
    fn from(card: &Scorecard) -> ModelFile {
        ModelFile {
            format_version: FORMAT_VERSION,
            model_version: card.model_version.clone(),
            created_on: card.created_on.clone(),
            target: TargetFile {
                column: card.target.clone(),
                bad: card.bad.clone(),
            },
            scaling: ScalingFile {
                pdo: card.scaling.pdo,
                base_score: card.scaling.base_score,
                base_odds: card.scaling.base_odds,
                factor: card.scaling.factor(),
                offset: card.scaling.offset(),
            },
            intercept: card.intercept,
            variables: card.variables.iter().map(VariableFile::from).collect(),
            candidates: card
                .candidates
                .iter()
                .map(|c| CandidateFile {
                    name: c.name.clone(),
                    kind: c.kind.into(),
                    iv: c.iv,
                    outcome: c.outcome.into(),
                })
                .collect(),
            training: TrainingFile {
                rows: card.training.rows,
                bads: card.training.bads,
                auc: card.training.auc,
                ks: card.training.ks,
                min_iv: card.training.min_iv,
                score_deciles: DecilesFile {
                    edges: card.training.score_edges.clone(),
                    shares: card.training.score_shares.clone(),
                },
            },
        }
    }
}

impl From<&ScoredVariable> for VariableFile {
    fn from(variable: &ScoredVariable) -> VariableFile {
        let binning = &variable.binning;
        VariableFile {
            name: variable.name.clone(),
            kind: binning.kind.into(),
            iv: binning.iv,
            coefficient: variable.coefficient,
            unseen_bin: match binning.kind {
                Kind::Categorical => Some(binning.unseen),
                Kind::Numeric => None,
            },
            bins: binning
                .bins
                .iter()
                .zip(&variable.points)
                .map(|(bin, points)| BinFile {
                    rule: match &bin.rule {
                        Rule::Range { lower, upper } => RuleFile::Range {
                            lower: *lower,
                            upper: *upper,
                        },
                        Rule::Categories(categories) => RuleFile::Categories {
                            categories: categories.clone(),
                        },
                        Rule::Missing => RuleFile::Missing,
                    },
                    goods: bin.goods,
                    bads: bin.bads,
                    woe: bin.woe,
                    points: *points,
                })
                .collect(),
        }
    }
}

impl From<Kind> for KindFile {
    fn from(kind: Kind) -> KindFile {
        match kind {
            Kind::Numeric => KindFile::Numeric,
            Kind::Categorical => KindFile::Categorical,
        }
    }
}

impl From<KindFile> for Kind {
    fn from(kind: KindFile) -> Kind {
        match kind {
            KindFile::Numeric => Kind::Numeric,
            KindFile::Categorical => Kind::Categorical,
        }
    }
}

impl From<Outcome> for OutcomeFile {
    fn from(outcome: Outcome) -> OutcomeFile {
        match outcome {
            Outcome::Selected => OutcomeFile::Selected,
            Outcome::LowIv => OutcomeFile::LowIv,
            Outcome::WrongSign => OutcomeFile::WrongSign,
            Outcome::TooManyCategories => OutcomeFile::TooManyCategories,
        }
    }
}

impl From<OutcomeFile> for Outcome {
    fn from(outcome: OutcomeFile) -> Outcome {
        match outcome {
            OutcomeFile::Selected => Outcome::Selected,
            OutcomeFile::LowIv => Outcome::LowIv,
            OutcomeFile::WrongSign => Outcome::WrongSign,
            OutcomeFile::TooManyCategories => Outcome::TooManyCategories,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ModelFormat(message.into())
}

fn finite(what: &str, x: f64) -> Result<f64, Error> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(invalid(format!("{what} is not a finite number")))
    }
}

impl ModelFile {
    fn into_scorecard(self) -> Result<Scorecard, Error> {
        if !crate::train::is_date(&self.created_on) {
            return Err(invalid(format!(
                "created_on {:?} is not a date YYYY-MM-DD",
                self.created_on
            )));
        }
        let scaling = Scaling {
            pdo: finite("scaling.pdo", self.scaling.pdo)?,
            base_score: finite("scaling.base_score", self.scaling.base_score)?,
            base_odds: finite("scaling.base_odds", self.scaling.base_odds)?,
        };
        if scaling.pdo <= 0.0 || scaling.base_odds <= 0.0 {
            return Err(invalid(
                "scaling.pdo and scaling.base_odds must be above zero",
            ));
        }
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        if !close(scaling.factor(), self.scaling.factor)
            || !close(scaling.offset(), self.scaling.offset)
        {
            return Err(invalid(
                "scaling.factor and scaling.offset do not follow from pdo, base_score and base_odds",
            ));
        }
        let mut names = HashSet::new();
        let mut variables = Vec::with_capacity(self.variables.len());
        for variable in self.variables {
            if !names.insert(variable.name.clone()) {
                return Err(invalid(format!(
                    "variable {:?} appears twice",
                    variable.name
                )));
            }
            variables.push(variable.into_scored()?);
        }
        if variables.is_empty() {
            return Err(invalid("the model has no variables"));
        }
        let deciles = self.training.score_deciles;
        let increasing = deciles.edges.windows(2).all(|w| w[0] < w[1]);
        if !increasing
            || deciles.edges.iter().any(|e| !e.is_finite())
            || deciles.shares.len() != deciles.edges.len() + 1
        {
            return Err(invalid(
                "training.score_deciles: edges must be finite and increasing, with one share more than edges",
            ));
        }
        Ok(Scorecard {
            model_version: self.model_version,
            created_on: self.created_on,
            target: self.target.column,
            bad: self.target.bad,
            scaling,
            intercept: finite("intercept", self.intercept)?,
            variables,
            candidates: self
                .candidates
                .into_iter()
                .map(|c| Candidate {
                    name: c.name,
                    kind: c.kind.into(),
                    iv: c.iv,
                    outcome: c.outcome.into(),
                })
                .collect(),
            training: TrainingSummary {
                rows: self.training.rows,
                bads: self.training.bads,
                auc: self.training.auc,
                ks: self.training.ks,
                min_iv: self.training.min_iv,
                score_edges: deciles.edges,
                score_shares: deciles.shares,
            },
        })
    }
}

impl VariableFile {
    fn into_scored(self) -> Result<ScoredVariable, Error> {
        let name = self.name;
        let what = |detail: &str| invalid(format!("variable {name:?}: {detail}"));
        let kind = Kind::from(self.kind);
        let Some((last, values)) = self.bins.split_last() else {
            return Err(what("no bins"));
        };
        if !matches!(last.rule, RuleFile::Missing) {
            return Err(what("the last bin must be the missing bin"));
        }
        if values.is_empty() {
            return Err(what("no bin besides the missing bin"));
        }
        match kind {
            Kind::Numeric => check_ranges(values).map_err(|d| what(&d))?,
            Kind::Categorical => check_categories(values).map_err(|d| what(&d))?,
        }
        let unseen = match (kind, self.unseen_bin) {
            (Kind::Numeric, None) => values.len(),
            (Kind::Categorical, Some(at)) if at <= values.len() => at,
            (Kind::Categorical, _) => return Err(what("unseen_bin must name one of its bins")),
            (Kind::Numeric, Some(_)) => {
                return Err(what("unseen_bin is for categorical variables"));
            }
        };
        let mut bins = Vec::with_capacity(self.bins.len());
        let mut points = Vec::with_capacity(self.bins.len());
        for bin in self.bins {
            let woe = finite("woe", bin.woe).map_err(|_| what("a woe is not finite"))?;
            bins.push(Bin {
                rule: match bin.rule {
                    RuleFile::Range { lower, upper } => Rule::Range { lower, upper },
                    RuleFile::Categories { categories } => Rule::Categories(categories),
                    RuleFile::Missing => Rule::Missing,
                },
                goods: bin.goods,
                bads: bin.bads,
                woe,
            });
            points.push(bin.points);
        }
        Ok(ScoredVariable {
            binning: Binning {
                kind,
                bins,
                unseen,
                iv: finite("iv", self.iv).map_err(|_| what("iv is not finite"))?,
            },
            coefficient: finite("coefficient", self.coefficient)
                .map_err(|_| what("coefficient is not finite"))?,
            points,
            name,
        })
    }
}

/// Value bins of a numeric variable: ranges that run from −∞ to +∞ without gap or overlap.
fn check_ranges(bins: &[BinFile]) -> Result<(), String> {
    let mut expected_lower: Option<f64> = None;
    for (at, bin) in bins.iter().enumerate() {
        let RuleFile::Range { lower, upper } = bin.rule else {
            return Err(format!("bin {at} of a numeric variable is not a range"));
        };
        if lower != expected_lower {
            return Err(format!("bin {at} does not start where the one before ends"));
        }
        let last = at + 1 == bins.len();
        match (upper, last) {
            (None, true) => {}
            (Some(upper), false) if upper.is_finite() && lower.is_none_or(|l| l < upper) => {}
            (Some(_) | None, _) => {
                return Err(format!(
                    "bin {at}: ranges must increase and only the last may be open above"
                ));
            }
        }
        expected_lower = upper;
    }
    Ok(())
}

/// Value bins of a categorical variable: category sets, no category in two of them.
fn check_categories(bins: &[BinFile]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (at, bin) in bins.iter().enumerate() {
        let RuleFile::Categories { categories } = &bin.rule else {
            return Err(format!(
                "bin {at} of a categorical variable is not a category set"
            ));
        };
        for category in categories {
            if !seen.insert(category.as_str()) {
                return Err(format!("category {category:?} is in two bins"));
            }
        }
    }
    Ok(())
}
