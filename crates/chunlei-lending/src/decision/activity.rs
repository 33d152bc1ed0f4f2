//! [`Features`] from a merchant's daily activity, as the settlement book counts it per day of
//! event time (orders and gross paid, refunds, settlements): the activity of a year summed over
//! four ranges of days ([`ACTIVITY_WINDOWS`]) in, or the daily rows themselves, the figures of
//! a decision out, so no decision scans orders.

use chunlei_ledger::Fen;

use super::Features;

/// One day of a merchant's activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayActivity {
    /// Days since 1970-01-01 (UTC).
    pub day: i32,
    pub orders: u64,
    pub gross: Fen,
    pub refunded: Fen,
    pub settlements: u64,
}

/// What the decision needs to know of a merchant beyond its sales.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerchantFacts {
    /// The day the merchant joined the platform (days since 1970-01-01).
    pub joined_day: i32,
    pub region_code: String,
    pub industry: String,
    pub existing_debt: Fen,
    pub days_past_due: u32,
    pub worst_days_past_due_12m: u32,
    pub fraud_flag: bool,
}

/// The days a decision looks at, as disjoint ranges of age in days (today is age 0):
/// the last 30 days, the 60 before them, the 90 before those, and the rest of the year. The
/// 30-, 90- and 365-day figures and the prior 90 days of the growth rate are unions of these,
/// so a store can sum each range once and no decision reads day by day.
pub const ACTIVITY_WINDOWS: [(i32, i32); 4] = [(0, 29), (30, 89), (90, 179), (180, 364)];

/// A merchant's activity summed over one range of days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityTotals {
    pub orders: u64,
    pub gross: u128,
    pub refunded: u128,
    pub settlements: u64,
    /// Days in the range with at least one order.
    pub active_days: u32,
}

impl ActivityTotals {
    /// Adds `other`'s sums to these (of a range of days next to this one).
    pub fn add(&mut self, other: &ActivityTotals) {
        self.orders += other.orders;
        self.gross += other.gross;
        self.refunded += other.refunded;
        self.settlements += other.settlements;
        self.active_days += other.active_days;
    }
}

fn fen(value: u128) -> Fen {
    Fen::new(u64::try_from(value).unwrap_or(u64::MAX)).unwrap_or(Fen::MAX)
}

/// The features on `today` (days since 1970-01-01) from daily rows: each day is added to the
/// [`ACTIVITY_WINDOWS`] range its age falls in (days after `today` or older than a year are
/// ignored), then [`features_from_totals`].
pub fn features_from_activity(today: i32, days: &[DayActivity], facts: MerchantFacts) -> Features {
    let mut totals = [ActivityTotals::default(); ACTIVITY_WINDOWS.len()];
    for a in days.iter().filter(|a| a.day <= today) {
        let age = today - a.day;
        let Some(window) = ACTIVITY_WINDOWS
            .iter()
            .position(|(young, old)| (*young..=*old).contains(&age))
        else {
            continue;
        };
        totals[window].add(&ActivityTotals {
            orders: a.orders,
            gross: u128::from(a.gross.get()),
            refunded: u128::from(a.refunded.get()),
            settlements: a.settlements,
            active_days: u32::from(a.orders > 0),
        });
    }
    features_from_totals(today, &totals, facts)
}

/// The features on `today` from the activity summed over each of the [`ACTIVITY_WINDOWS`]
/// ranges, in that order: the last 30, 90 and 365 days are the days `today − n + 1 ..= today`;
/// growth compares the last 90 days' sales with the 90 before (+10,000 bps when there were
/// none before and some now, 0 when neither); the refund rate and the average order value are
/// over the last 90 days.
pub fn features_from_totals(
    today: i32,
    totals: &[ActivityTotals; ACTIVITY_WINDOWS.len()],
    facts: MerchantFacts,
) -> Features {
    let [last30, rest90, prior90, rest365] = totals;
    let d30 = *last30;
    let mut d90 = d30;
    d90.add(rest90);
    let mut d365 = d90;
    d365.add(prior90);
    d365.add(rest365);
    let growth = if prior90.gross == 0 {
        if d90.gross == 0 { 0 } else { 10_000 }
    } else {
        let change = (i128::try_from(d90.gross).unwrap_or(i128::MAX)
            - i128::try_from(prior90.gross).unwrap_or(i128::MAX))
            * 10_000
            / i128::try_from(prior90.gross).unwrap_or(i128::MAX);
        i32::try_from(change.clamp(i128::from(i32::MIN), i128::from(i32::MAX))).unwrap_or(0)
    };
    let refund_rate = (d90.refunded * 10_000)
        .checked_div(d90.gross)
        .map_or(0, |rate| u32::try_from(rate).unwrap_or(u32::MAX));
    let average = d90
        .gross
        .checked_div(u128::from(d90.orders))
        .map_or(Fen::ZERO, fen);
    Features {
        sales_30d: fen(d30.gross),
        sales_90d: fen(d90.gross),
        sales_365d: fen(d365.gross),
        sales_growth_bps: growth,
        refund_rate_bps: refund_rate,
        tenure_days: u32::try_from(today.saturating_sub(facts.joined_day)).unwrap_or(0),
        active_days_90d: d90.active_days,
        average_order_value: average,
        settlements_90d: u32::try_from(d90.settlements).unwrap_or(u32::MAX),
        existing_debt: facts.existing_debt,
        days_past_due: facts.days_past_due,
        worst_days_past_due_12m: facts.worst_days_past_due_12m,
        fraud_flag: facts.fraud_flag,
        region_code: facts.region_code,
        industry: facts.industry,
    }
}

#[cfg(test)]
mod tests;
