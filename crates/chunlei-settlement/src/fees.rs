//! Commission: a rate in basis points by category and channel, with a minimum per order.

use chunlei_ledger::Fen;

/// Basis points in one whole.
const BPS_PER_WHOLE: u128 = 10_000;

/// One line of the schedule. `None` matches any category or channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRule {
    pub category: Option<String>,
    pub channel: Option<String>,
    pub rate_bps: u32,
    /// The least fee an order pays, unless the order is smaller than it.
    pub min_fen: Fen,
}

/// The fee schedule: the most specific rule that matches wins (category and channel, then
/// category, then channel, then the default).
#[derive(Clone, Debug)]
pub struct FeeSchedule {
    rules: Vec<FeeRule>,
    default: FeeRule,
}

/// What an order is charged, and what the standard schedule alone would have charged, so that
/// relief can be reported in fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeQuote {
    pub standard_fen: Fen,
    pub charged_fen: Fen,
}

impl FeeQuote {
    /// The relief granted: standard minus charged.
    pub fn relief_fen(&self) -> Fen {
        self.standard_fen.saturating_sub(self.charged_fen)
    }
}

/// Where relief policies change the fee. Given the order's category and channel and the
/// standard fee, a policy returns the fee to charge; it may lower the fee, never raise it (the
/// schedule enforces that).
pub trait Relief {
    fn fee(&self, category: &str, channel: &str, standard: Fen) -> Fen;
}

/// No relief: the standard fee is charged.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRelief;

impl Relief for NoRelief {
    fn fee(&self, _category: &str, _channel: &str, standard: Fen) -> Fen {
        standard
    }
}

impl FeeSchedule {
    pub fn new(default: FeeRule, rules: Vec<FeeRule>) -> FeeSchedule {
        FeeSchedule { rules, default }
    }

    /// The rule that applies to an order of `category` sold through `channel`.
    pub fn rule(&self, category: &str, channel: &str) -> &FeeRule {
        let specificity = |r: &FeeRule| match (&r.category, &r.channel) {
            (Some(_), Some(_)) => 3,
            (Some(_), None) => 2,
            (None, Some(_)) => 1,
            (None, None) => 0,
        };
        self.rules
            .iter()
            .filter(|r| r.category.as_deref().is_none_or(|c| c == category))
            .filter(|r| r.channel.as_deref().is_none_or(|c| c == channel))
            .max_by_key(|r| specificity(r))
            .unwrap_or(&self.default)
    }

    /// The standard fee on `amount`: `amount × rate_bps / 10,000` rounded half up to the fen
    /// (0.5 fen and above rounds up), at least the rule's minimum, never more than the amount.
    pub fn standard_fee(&self, category: &str, channel: &str, amount: Fen) -> Fen {
        let rule = self.rule(category, channel);
        let exact = u128::from(amount.get()) * u128::from(rule.rate_bps);
        let rounded = (exact + BPS_PER_WHOLE / 2) / BPS_PER_WHOLE;
        // The rounded fee is below the amount times a rate that fits u32 over 10,000, which
        // fits a u64 whenever the rate is at most 100 %; a larger rate is capped by the amount.
        let fee = Fen::new(u64::try_from(rounded).unwrap_or(u64::MAX)).unwrap_or(Fen::MAX);
        fee.max(rule.min_fen).min(amount)
    }

    /// The fee to charge after `relief`, with the standard fee beside it.
    pub fn quote(
        &self,
        category: &str,
        channel: &str,
        amount: Fen,
        relief: &dyn Relief,
    ) -> FeeQuote {
        let standard_fen = self.standard_fee(category, channel, amount);
        let charged_fen = relief
            .fee(category, channel, standard_fen)
            .min(standard_fen);
        FeeQuote {
            standard_fen,
            charged_fen,
        }
    }
}
