//! A merchant's features as the platform measures them, and the scorecard record they become.
//! The column names are a contract with the model file: a scorecard trained on a table with
//! these column headers scores the record of any [`Features`].

use std::collections::BTreeMap;

use chunlei_ledger::Fen;
use chunlei_scorecard::Record;

use super::audit::push_digits;

/// The figures of one merchant at the time of the application, computed by the caller from
/// platform data (orders, settlements, the merchant registry, loan servicing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// Sales of the last 30 days.
    pub sales_30d: Fen,
    /// Sales of the last 90 days.
    pub sales_90d: Fen,
    /// Sales of the last 365 days.
    pub sales_365d: Fen,
    /// Change of the last 90 days' sales against the 90 days before, in basis points:
    /// +2,500 is a quarter more, −10,000 nothing sold at all now.
    pub sales_growth_bps: i32,
    /// Refunds over sales of the last 90 days, in basis points.
    pub refund_rate_bps: u32,
    /// Days since the merchant joined the platform.
    pub tenure_days: u32,
    /// Days with at least one sale among the last 90.
    pub active_days_90d: u32,
    pub average_order_value: Fen,
    /// Settlements paid out to the merchant in the last 90 days.
    pub settlements_90d: u32,
    /// Debt the merchant owes now, to the platform's partner banks and advances.
    pub existing_debt: Fen,
    /// Days the oldest unpaid instalment is past due now; zero when nothing is late.
    pub days_past_due: u32,
    /// The most days any instalment was past due in the last 12 months.
    pub worst_days_past_due_12m: u32,
    pub fraud_flag: bool,
    /// The six-digit administrative division code (行政区划代码) of the merchant's registry.
    pub region_code: String,
    /// The industry (category) code of the merchant's registry.
    pub industry: String,
}

/// A column of the scorecard record; the module documentation describes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Sales30d,
    Sales90d,
    Sales365d,
    SalesGrowth,
    RefundRate,
    Tenure,
    ActiveDays90d,
    AverageOrderValue,
    Settlements90d,
    ExistingDebt,
    DebtToSales365d,
    DaysPastDue,
    WorstDaysPastDue12m,
    FraudFlag,
    RegionCode,
    Province,
    Industry,
}

const COLUMNS: usize = 17;

impl Column {
    /// Every column, in the order of the record.
    pub const ALL: [Column; COLUMNS] = [
        Column::Sales30d,
        Column::Sales90d,
        Column::Sales365d,
        Column::SalesGrowth,
        Column::RefundRate,
        Column::Tenure,
        Column::ActiveDays90d,
        Column::AverageOrderValue,
        Column::Settlements90d,
        Column::ExistingDebt,
        Column::DebtToSales365d,
        Column::DaysPastDue,
        Column::WorstDaysPastDue12m,
        Column::FraudFlag,
        Column::RegionCode,
        Column::Province,
        Column::Industry,
    ];

    /// The column's name in training files and model files.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Sales30d => "sales_30d_fen",
            Column::Sales90d => "sales_90d_fen",
            Column::Sales365d => "sales_365d_fen",
            Column::SalesGrowth => "sales_growth_bps",
            Column::RefundRate => "refund_rate_bps",
            Column::Tenure => "tenure_days",
            Column::ActiveDays90d => "active_days_90d",
            Column::AverageOrderValue => "average_order_value_fen",
            Column::Settlements90d => "settlements_90d",
            Column::ExistingDebt => "existing_debt_fen",
            Column::DebtToSales365d => "debt_to_sales_365d_bps",
            Column::DaysPastDue => "days_past_due",
            Column::WorstDaysPastDue12m => "worst_days_past_due_12m",
            Column::FraudFlag => "fraud_flag",
            Column::RegionCode => "region_code",
            Column::Province => "province",
            Column::Industry => "industry",
        }
    }

    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|column| column.name() == name)
    }
}

impl Features {
    /// The value of one column as the scorecard reads it.
    pub fn value(&self, column: Column) -> String {
        let mut value = String::new();
        self.write_value(column, &mut value);
        value
    }

    /// Appends [`Features::value`] of `column` to `out`. Numbers are written digit by digit:
    /// a decision writes seventeen of them, and the formatting machinery and an allocation
    /// each cost several times the digits.
    fn write_value(&self, column: Column, out: &mut String) {
        match column {
            Column::Sales30d => push_digits(out, self.sales_30d.get()),
            Column::Sales90d => push_digits(out, self.sales_90d.get()),
            Column::Sales365d => push_digits(out, self.sales_365d.get()),
            Column::SalesGrowth => {
                if self.sales_growth_bps < 0 {
                    out.push('-');
                }
                push_digits(out, u64::from(self.sales_growth_bps.unsigned_abs()));
            }
            Column::RefundRate => push_digits(out, u64::from(self.refund_rate_bps)),
            Column::Tenure => push_digits(out, u64::from(self.tenure_days)),
            Column::ActiveDays90d => push_digits(out, u64::from(self.active_days_90d)),
            Column::AverageOrderValue => push_digits(out, self.average_order_value.get()),
            Column::Settlements90d => push_digits(out, u64::from(self.settlements_90d)),
            Column::ExistingDebt => push_digits(out, self.existing_debt.get()),
            Column::DebtToSales365d => match self.debt_to_sales_365d_bps() {
                None => {}
                Some(ratio) => match u64::try_from(ratio) {
                    Ok(ratio) => push_digits(out, ratio),
                    Err(_) => out.push_str(&ratio.to_string()),
                },
            },
            Column::DaysPastDue => push_digits(out, u64::from(self.days_past_due)),
            Column::WorstDaysPastDue12m => {
                push_digits(out, u64::from(self.worst_days_past_due_12m))
            }
            Column::FraudFlag => out.push(if self.fraud_flag { '1' } else { '0' }),
            Column::RegionCode => out.push_str(&self.region_code),
            Column::Province => out.extend(self.region_code.chars().take(2)),
            Column::Industry => out.push_str(&self.industry),
        }
    }

    /// Existing debt over the last 365 days' sales in basis points, rounded down; `None`
    /// when there were no sales, as the ratio then means nothing.
    pub fn debt_to_sales_365d_bps(&self) -> Option<u128> {
        let sales = u128::from(self.sales_365d.get());
        (sales != 0).then(|| u128::from(self.existing_debt.get()) * 10_000 / sales)
    }

    /// The record a scorecard scores: every [`Column`] with its value.
    pub fn record(&self) -> FeatureRecord {
        let mut values = String::with_capacity(RECORD_BYTES_RESERVED);
        let mut ends = [0; COLUMNS];
        for (end, column) in ends.iter_mut().zip(Column::ALL) {
            self.write_value(column, &mut values);
            *end = values.len();
        }
        FeatureRecord { values, ends }
    }
}

/// Bytes reserved for a record's values: about 120 for a merchant with a year of sales, so
/// that a record is one allocation.
const RECORD_BYTES_RESERVED: usize = 192;

/// The scorecard record of a [`Features`]: one text per [`Column`], in [`Column::ALL`] order.
/// It implements `chunlei_scorecard::Record`, so `Scorecard::score(&features.record())`
/// works directly; [`FeatureRecord::to_map`] gives the same as a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureRecord {
    /// Every column's value, one after the other, in [`Column::ALL`] order.
    values: String,
    /// Where each column's value ends in `values`; each begins where the one before ends.
    ends: [usize; COLUMNS],
}

impl FeatureRecord {
    pub fn get(&self, column: Column) -> &str {
        Column::ALL
            .iter()
            .position(|c| *c == column)
            .map_or("", |at| self.at(at))
    }

    /// The value of the column at `at` in [`Column::ALL`].
    fn at(&self, at: usize) -> &str {
        let start = at
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .copied()
            .unwrap_or(0);
        let end = self.ends.get(at).copied().unwrap_or(start);
        self.values.get(start..end).unwrap_or_default()
    }

    /// `(column name, value)` in [`Column::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        Column::ALL
            .iter()
            .enumerate()
            .map(|(at, column)| (column.name(), self.at(at)))
    }

    /// Column name → value.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

impl Record for FeatureRecord {
    fn value(&self, column: &str) -> Option<&str> {
        let at = Column::ALL.iter().position(|c| c.name() == column)?;
        Some(self.at(at))
    }
}
