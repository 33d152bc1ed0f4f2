//! One bank's answer to one application: its checks in order, the amount its limits and
//! quotas leave, and the cheapest of its products that fits, priced. Nothing here allocates.

use chunlei_ledger::Fen;

use super::{BankAnswer, BankDecline, BankPolicy, BankUsage, Offer, OfferedProduct, Product};
use crate::decision::BPS_PER_ONE;
use crate::decision::features::Features;
use crate::decision::grade::Grade;
use crate::decision::sizing::{Sizing, fen_clamped};
use crate::decision::terms::TermSet;

/// A month, where a revenue-based advance's expected days are held against a term in months.
const DAYS_PER_MONTH: u128 = 30;
/// A year, for the equivalent annual rate of a revenue-based advance.
const DAYS_PER_YEAR: u128 = 365;
/// The days of [`Features::sales_90d`], whose daily average a revenue-based advance is
/// expected to withhold from.
const SALES_DAYS: u128 = 90;

/// What every bank is asked: the application as the platform sized it.
#[derive(Debug)]
pub(in crate::decision) struct Ask<'a> {
    pub features: &'a Features,
    pub score: i64,
    pub grade: Grade,
    /// The request and the sized amount, the smaller, rounded down to the unit: the most any
    /// bank lends.
    pub ceiling: Fen,
    pub sizing: &'a Sizing,
    /// The platform's terms, narrowed to the requested term if there is one.
    pub terms: TermSet,
    /// The platform's share of a joint loan; zero when there is none. Below 10,000.
    pub platform_share_bps: u32,
}

/// One bank's answer (the order of checks is on [`BankPolicy`]).
pub(super) fn answer(bank: &BankPolicy, usage: Option<&BankUsage>, ask: &Ask<'_>) -> BankAnswer {
    let bank_id = bank.bank_id;
    let declined = |reason| BankAnswer::Declined { bank_id, reason };
    if !bank.regions.has_prefix_of(&ask.features.region_code) {
        return declined(BankDecline::RegionNotServed);
    }
    if !bank.industries.has(&ask.features.industry) {
        return declined(BankDecline::IndustryNotServed);
    }
    if ask.score < bank.score_cutoff {
        let cutoff = bank.score_cutoff;
        return declined(BankDecline::ScoreBelowCutoff { cutoff });
    }
    let Some(rate_bps) = bank
        .rate_bps_by_grade
        .get(ask.grade.index())
        .copied()
        .flatten()
    else {
        let grade = ask.grade;
        return declined(BankDecline::GradeNotPriced { grade });
    };
    let Some(usage) = usage else {
        return declined(BankDecline::UsageMissing);
    };
    let (amount, bank_part, platform_part) = match amount(bank, usage, ask) {
        Ok(parts) => parts,
        Err(reason) => return declined(reason),
    };
    let best = bank
        .products
        .iter()
        .enumerate()
        .filter_map(|(index, product)| {
            let priced = price(bank, product, rate_bps, amount, ask)?;
            Some((index, priced))
        })
        .min_by_key(|(index, (_, price_bps))| (*price_bps, *index));
    match best {
        Some((product_index, (product, price_bps))) => BankAnswer::Offered(Offer {
            bank_id,
            product_index,
            product,
            amount,
            bank_part,
            platform_part,
            price_bps,
        }),
        None => declined(BankDecline::NoProductFits),
    }
}

/// The amount the bank lends with the platform's part of it: the ceiling, at most what the
/// bank's tightest limit lets its part be, rounded down to the unit; or, when that is below
/// the smallest loan, the limit that stopped it.
fn amount(
    bank: &BankPolicy,
    usage: &BankUsage,
    ask: &Ask<'_>,
) -> Result<(Fen, Fen, Fen), BankDecline> {
    let share_of_total = |share_bps: u32| {
        fen_clamped(
            u128::from(bank.total_quota.get()) * u128::from(share_bps) / u128::from(BPS_PER_ONE),
        )
    };
    // The limits on the bank's part, in the order a tie names them.
    let lefts = [
        bank.daily_quota.saturating_sub(usage.daily_used),
        bank.total_quota.saturating_sub(usage.total_used),
        share_of_total(bank.region_share_max_bps).saturating_sub(usage.region_used),
        share_of_total(bank.industry_share_max_bps).saturating_sub(usage.industry_used),
        bank.per_borrower_limit,
    ];
    let (binding, bank_cap) = lefts
        .into_iter()
        .enumerate()
        .min_by_key(|(at, left)| (*left, *at))
        .unwrap_or((0, Fen::ZERO));
    // The largest loan whose bank part, `amount − ⌊amount × share⌋`, is at most `bank_cap`:
    // `amount × (1 − share) ≤ bank_cap` exactly when the rounded-up bank part is.
    let bank_bps = u128::from(BPS_PER_ONE - ask.platform_share_bps.min(BPS_PER_ONE - 1));
    let most = fen_clamped(u128::from(bank_cap.get()) * u128::from(BPS_PER_ONE) / bank_bps);
    let amount = ask.sizing.round_down(ask.ceiling.min(most));
    if amount < ask.sizing.smallest() {
        return Err(match binding {
            0 => BankDecline::DailyQuotaExhausted { left: bank_cap },
            1 => BankDecline::TotalQuotaExhausted { left: bank_cap },
            2 => BankDecline::RegionShareReached { left: bank_cap },
            3 => BankDecline::IndustryShareReached { left: bank_cap },
            _ => BankDecline::BorrowerLimitBelowMinimum { limit: bank_cap },
        });
    }
    let platform_part = fen_clamped(
        u128::from(amount.get()) * u128::from(ask.platform_share_bps) / u128::from(BPS_PER_ONE),
    );
    let bank_part = amount.saturating_sub(platform_part);
    Ok((amount, bank_part, platform_part))
}

/// The product as offered for `amount`, with its price; `None` when it does not fit.
fn price(
    bank: &BankPolicy,
    product: &Product,
    rate_bps: u32,
    amount: Fen,
    ask: &Ask<'_>,
) -> Option<(OfferedProduct, u32)> {
    let allowed = ask.terms.intersect(bank.terms);
    match *product {
        Product::Amortising {
            method,
            day_count,
            terms,
        } => {
            let terms = allowed.intersect(terms);
            let offered = OfferedProduct::Amortising {
                method,
                day_count,
                annual_rate_bps: rate_bps,
                terms,
            };
            (!terms.is_empty()).then_some((offered, rate_bps))
        }
        Product::RevenueBased {
            fee_bps,
            withholding_bps,
            term_days_max,
        } => {
            let days_max =
                (u128::from(allowed.longest()?) * DAYS_PER_MONTH).min(u128::from(term_days_max));
            let amount = u128::from(amount.get());
            let bps = u128::from(BPS_PER_ONE);
            // Half up: add half the divisor before dividing.
            let fee = (amount * u128::from(fee_bps) + bps / 2) / bps;
            let withheld_per_90_days =
                u128::from(ask.features.sales_90d.get()) * u128::from(withholding_bps);
            if withheld_per_90_days == 0 || amount == 0 {
                return None;
            }
            let days = ((amount + fee) * SALES_DAYS * bps).div_ceil(withheld_per_90_days);
            if days > days_max {
                return None;
            }
            let price = (2 * fee * DAYS_PER_YEAR * bps).div_ceil(amount * days.max(1));
            let offered = OfferedProduct::RevenueBased {
                fee: fen_clamped(fee),
                fee_bps,
                withholding_bps,
                expected_days: u32::try_from(days).ok()?,
                term_days_max,
            };
            Some((offered, u32::try_from(price).unwrap_or(u32::MAX)))
        }
    }
}
