//! The decision: the platform's policy applied to one application, every bank asked, the
//! best offer chosen or the principal reasons of the decline given; everything that went in
//! is kept in the [`Decision`] for audit.

use chunlei_ledger::Fen;
use chunlei_scorecard::Reason;

use super::BPS_PER_ONE;
use super::bank::{Ask, BankAnswer, BankUsage, Consortium, Offer};
use super::features::Features;
use super::grade::{Grade, GradeGrid};
use super::knockout::{Knockout, KnockoutRules};
use super::reason::{self, DeclineReason, ReasonSource};
use super::sizing::{Sized, Sizing};
use super::terms::TermSet;
use crate::schedule::yuan;

/// A joint loan (联合贷款): the platform lends this share of every loan itself, the bank the
/// rest; only the bank's part counts against the bank's limits and quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JointLoan {
    platform_share_bps: u32,
}

impl JointLoan {
    /// `None` unless the share is 1 to 9,999 basis points: the bank always lends some of it.
    pub fn new(platform_share_bps: u32) -> Option<JointLoan> {
        (1..BPS_PER_ONE)
            .contains(&platform_share_bps)
            .then_some(JointLoan { platform_share_bps })
    }

    pub fn platform_share_bps(self) -> u32 {
        self.platform_share_bps
    }
}

/// The platform's lending policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Recorded in every decision, so an audit knows which thresholds applied.
    pub version: String,
    pub knockouts: KnockoutRules,
    pub grades: GradeGrid,
    pub sizing: Sizing,
    /// The terms the platform offers, in months.
    pub terms: TermSet,
    pub joint: Option<JointLoan>,
    /// How accepted loans are serviced.
    pub servicing: ServicingPolicy,
}

/// How the platform services the loans it arranges: the order payments pay the components of
/// an instalment in, and the penalty rate on overdue principal as a multiple of the loan's
/// rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServicingPolicy {
    pub allocation: crate::servicing::AllocationOrder,
    /// Penalty rate = the loan's rate × this / 10,000 (15,000: one and a half times, the
    /// usual 罚息 markup), capped at 100 % a year.
    pub penalty_multiple_bps: u32,
}

impl Default for ServicingPolicy {
    fn default() -> ServicingPolicy {
        ServicingPolicy {
            allocation: crate::servicing::AllocationOrder::default(),
            penalty_multiple_bps: 15_000,
        }
    }
}

/// A merchant's application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub application_id: String,
    pub merchant_id: String,
    pub requested: Fen,
    /// The term asked for, in months; `None` lets the merchant choose from what is offered.
    pub term_months: Option<u16>,
    /// When the merchant applied, in nanoseconds since the Unix epoch (UTC), as the caller's
    /// clock read it. Recorded only: the quotas "used today" come with the usage.
    pub applied_at: u64,
}

/// The scorecard's verdict on the application's features.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelScore {
    /// `Scorecard::model_version` of the model that scored.
    pub model_version: String,
    pub score: i64,
}

/// Why the platform itself declined, before asking any bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformDecline {
    /// The request, rounded down to the unit, is below the smallest loan.
    RequestBelowMinimum { amount_min: Fen },
    /// The platform does not offer the requested term.
    TermNotOffered { term_months: u16 },
    /// The sizing multiple of the grade is zero: the score is too low for any loan.
    GradeNotLent { grade: Grade },
    /// The sales support less than the smallest loan.
    SalesTooLow { amount_min: Fen },
    /// The sales would support the smallest loan, but not after the existing debt.
    DebtTooHigh { amount_min: Fen },
}

impl PlatformDecline {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformDecline::RequestBelowMinimum { .. } => "request_below_minimum",
            PlatformDecline::TermNotOffered { .. } => "term_not_offered",
            PlatformDecline::GradeNotLent { .. } => "grade_not_lent",
            PlatformDecline::SalesTooLow { .. } => "sales_too_low",
            PlatformDecline::DebtTooHigh { .. } => "debt_too_high",
        }
    }

    /// The reasons it gives: the scorecard's for a grade not lent to, else its own.
    fn reasons(self, scorecard: &[Reason]) -> Vec<DeclineReason> {
        let (zh, en) = match self {
            PlatformDecline::GradeNotLent { .. } => {
                return reason::from_score(scorecard, reason::DECLINE_REASONS_MAX);
            }
            PlatformDecline::RequestBelowMinimum { amount_min } => (
                format!("申请金额低于最低贷款金额{}元", yuan(amount_min)),
                format!(
                    "the amount requested is below the smallest loan of {} yuan",
                    yuan(amount_min)
                ),
            ),
            PlatformDecline::TermNotOffered { term_months } => (
                format!("平台不提供{term_months}个月期限的贷款"),
                format!("the platform offers no loan over {term_months} months"),
            ),
            PlatformDecline::SalesTooLow { amount_min } => (
                format!("经营流水不足以支持最低贷款金额{}元", yuan(amount_min)),
                format!(
                    "sales are too low for the smallest loan of {} yuan",
                    yuan(amount_min)
                ),
            ),
            PlatformDecline::DebtTooHigh { amount_min } => (
                format!(
                    "现有负债较高，可贷金额低于最低贷款金额{}元",
                    yuan(amount_min)
                ),
                format!(
                    "existing debt leaves less than the smallest loan of {} yuan",
                    yuan(amount_min)
                ),
            ),
        };
        vec![DeclineReason {
            source: ReasonSource::Platform,
            code: self.as_str().to_owned(),
            zh,
            en,
        }]
    }
}

/// What settled a decline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclineCause {
    /// A knock-out rule ([`Decision::knockouts`]).
    Knockout,
    Platform(PlatformDecline),
    /// Every bank declined ([`Decision::answers`]).
    NoOffer,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The chosen offer, one of [`Decision::answers`].
    Approved(Offer),
    Declined {
        cause: DeclineCause,
        /// 1 to [`reason::DECLINE_REASONS_MAX`] principal reasons, most important first.
        reasons: Vec<DeclineReason>,
    },
}

/// A decision with everything it was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub application: Application,
    pub features: Features,
    pub model_version: String,
    pub score: i64,
    pub grade: Grade,
    /// The scorecard's principal reasons as passed in.
    pub scorecard_reasons: Vec<Reason>,
    pub policy_version: String,
    /// Every knock-out rule that fired; when any did, no bank was asked.
    pub knockouts: Vec<Knockout>,
    pub sized: Sized,
    /// Every bank's answer, in bank id order; empty when the platform declined first.
    pub answers: Vec<BankAnswer>,
    /// The usage each bank was asked with, in bank id order (a bank without usage has
    /// none); empty when no bank was asked.
    pub usage: Vec<BankUsage>,
    pub outcome: Outcome,
}

impl Decision {
    /// The chosen offer, when approved.
    pub fn offer(&self) -> Option<&Offer> {
        match &self.outcome {
            Outcome::Approved(offer) => Some(offer),
            Outcome::Declined { .. } => None,
        }
    }

    /// The principal reasons, when declined; empty when approved.
    pub fn reasons(&self) -> &[DeclineReason] {
        match &self.outcome {
            Outcome::Approved(_) => &[],
            Outcome::Declined { reasons, .. } => reasons,
        }
    }
}

impl Policy {
    /// Decides `application` (module documentation: steps 2 to 6). `score` and
    /// `scorecard_reasons` are the scorecard's on `features.record()`, the reasons most
    /// points lost first (`Scorecard::reasons` with a `top_n` of at least
    /// [`reason::DECLINE_REASONS_MAX`]); `usage` holds each bank's usage, ideally in
    /// consortium order. A bank without usage declines with `usage_missing`.
    pub fn decide(
        &self,
        application: Application,
        features: Features,
        score: ModelScore,
        scorecard_reasons: Vec<Reason>,
        consortium: &Consortium,
        usage: &[BankUsage],
    ) -> Decision {
        let grade = self.grades.grade(score.score);
        let knockouts = self.knockouts.check(&features);
        let sized = self.sizing.size(&features, grade);
        let (mut answers, mut asked_with) = (Vec::new(), Vec::new());
        let outcome = if !knockouts.is_empty() {
            Outcome::Declined {
                cause: DeclineCause::Knockout,
                reasons: reason::from_knockouts(&knockouts),
            }
        } else {
            match self.ask(&application, grade, &sized) {
                Err(decline) => Outcome::Declined {
                    cause: DeclineCause::Platform(decline),
                    reasons: decline.reasons(&scorecard_reasons),
                },
                Ok((ceiling, terms)) => {
                    let ask = Ask {
                        features: &features,
                        score: score.score,
                        grade,
                        ceiling,
                        sizing: &self.sizing,
                        terms,
                        platform_share_bps: self.joint.map_or(0, JointLoan::platform_share_bps),
                    };
                    (answers, asked_with) = consortium.ask(&ask, usage);
                    choose(&answers, &scorecard_reasons)
                }
            }
        };
        Decision {
            application,
            features,
            model_version: score.model_version,
            score: score.score,
            grade,
            scorecard_reasons,
            policy_version: self.version.clone(),
            knockouts,
            sized,
            answers,
            usage: asked_with,
            outcome,
        }
    }

    /// The most any bank may lend and the terms it may lend for, or why the platform declines
    /// without asking.
    fn ask(
        &self,
        application: &Application,
        grade: Grade,
        sized: &Sized,
    ) -> Result<(Fen, TermSet), PlatformDecline> {
        let amount_min = self.sizing.smallest();
        let requested = self.sizing.round_down(application.requested);
        if requested < amount_min {
            return Err(PlatformDecline::RequestBelowMinimum { amount_min });
        }
        let terms = match application.term_months {
            None => self.terms,
            Some(term_months) => {
                let one = TermSet::one(term_months).unwrap_or(TermSet::EMPTY);
                let terms = self.terms.intersect(one);
                if terms.is_empty() {
                    return Err(PlatformDecline::TermNotOffered { term_months });
                }
                terms
            }
        };
        if sized.multiple_bps == 0 {
            return Err(PlatformDecline::GradeNotLent { grade });
        }
        if sized.amount < amount_min {
            return Err(if self.sizing.round_down(sized.gross) >= amount_min {
                PlatformDecline::DebtTooHigh { amount_min }
            } else {
                PlatformDecline::SalesTooLow { amount_min }
            });
        }
        Ok((requested.min(sized.amount), terms))
    }
}

/// The best offer ([`Offer::preference`]), or the reasons there is none.
fn choose(answers: &[BankAnswer], scorecard: &[Reason]) -> Outcome {
    let best = answers
        .iter()
        .filter_map(BankAnswer::offer)
        .min_by_key(|offer| offer.preference());
    match best {
        Some(offer) => Outcome::Approved(*offer),
        None => Outcome::Declined {
            cause: DeclineCause::NoOffer,
            reasons: reason::from_answers(answers, scorecard),
        },
    }
}
