//! A loan's terms as stored: one line of `key=value` pairs separated by spaces, every value a
//! number, a date or a fixed word, so an auditor reads it with any tool and no storage format
//! is tied to the crate's types.

use std::collections::BTreeMap;
use std::fmt;

use chunlei_ledger::{CivilDate, Fen};

use super::{LoanSpec, ProductSpec};
use crate::AnnualRate;
use crate::schedule::{DayCount, InterestPeriod, Method, Period, Terms};
use crate::servicing::{AllocationOrder, Component, Policy, RevenueTerms};

/// Why stored terms could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub key: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loan terms: {} is missing or not valid", self.key)
    }
}

impl std::error::Error for SpecError {}

pub fn spec_text(spec: &LoanSpec) -> String {
    let mut entries: Vec<(&str, String)> = Vec::new();
    match &spec.product {
        ProductSpec::Amortising {
            terms,
            instalment_fee,
        } => {
            let (unit, count) = (terms.every.unit(), terms.every.count());
            entries.extend([
                ("product", "amortising".to_owned()),
                ("principal_fen", terms.principal.get().to_string()),
                (
                    "annual_rate_micro_percent",
                    terms.annual_rate.micro_percent().to_string(),
                ),
                ("periods", terms.periods.to_string()),
                ("every", format!("{count}_{unit}")),
                ("method", terms.method.as_str().to_owned()),
                (
                    "interest_period",
                    match terms.interest_period {
                        InterestPeriod::SameAsRepayment => "same_as_repayment",
                        InterestPeriod::Daily => "daily",
                    }
                    .to_owned(),
                ),
                ("day_count", terms.day_count.as_str().to_owned()),
                ("emi_multiple_fen", terms.emi_multiple_fen.to_string()),
                ("disbursed_on", terms.disbursed_on.to_string()),
                ("instalment_fee_fen", instalment_fee.get().to_string()),
            ]);
        }
        ProductSpec::RevenueBased(terms) => entries.extend([
            ("product", "revenue_based".to_owned()),
            ("principal_fen", terms.principal.get().to_string()),
            ("fee_fen", terms.fee.get().to_string()),
            ("withholding_bps", terms.withholding_bps.to_string()),
            ("minimum_fen", terms.minimum_per_period.get().to_string()),
            ("disbursed_on", terms.disbursed_on.to_string()),
        ]),
    }
    let order: Vec<&str> = spec
        .policy
        .allocation
        .components()
        .iter()
        .map(|c| c.as_str())
        .collect();
    entries.extend([
        ("allocation", order.join(",")),
        (
            "penalty_rate_micro_percent",
            spec.policy.penalty_rate.micro_percent().to_string(),
        ),
    ]);
    entries
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Fields<'t>(BTreeMap<&'t str, &'t str>);

impl<'t> Fields<'t> {
    fn get(&self, key: &str) -> Result<&'t str, SpecError> {
        self.0.get(key).copied().ok_or_else(|| bad(key))
    }

    fn num<T: std::str::FromStr>(&self, key: &str) -> Result<T, SpecError> {
        self.get(key)?.parse().map_err(|_| bad(key))
    }

    fn fen(&self, key: &str) -> Result<Fen, SpecError> {
        Fen::new(self.num(key)?).ok_or_else(|| bad(key))
    }

    fn date(&self, key: &str) -> Result<CivilDate, SpecError> {
        CivilDate::parse(self.get(key)?).map_err(|_| bad(key))
    }

    fn rate(&self, key: &str) -> Result<AnnualRate, SpecError> {
        AnnualRate::from_micro_percent(self.num(key)?).ok_or_else(|| bad(key))
    }
}

fn bad(key: &str) -> SpecError {
    SpecError {
        key: key.to_owned(),
    }
}

pub fn spec_from_text(text: &str) -> Result<LoanSpec, SpecError> {
    let fields = Fields(
        text.split(' ')
            .filter_map(|pair| pair.split_once('='))
            .collect(),
    );
    let product = match fields.get("product")? {
        "amortising" => {
            let every = match fields.get("every")?.split_once('_') {
                Some((count, "days")) => count.parse().map(Period::Days),
                Some((count, "weeks")) => count.parse().map(Period::Weeks),
                Some((count, "months")) => count.parse().map(Period::Months),
                _ => return Err(bad("every")),
            }
            .map_err(|_| bad("every"))?;
            let interest_period = match fields.get("interest_period")? {
                "same_as_repayment" => InterestPeriod::SameAsRepayment,
                "daily" => InterestPeriod::Daily,
                _ => return Err(bad("interest_period")),
            };
            ProductSpec::Amortising {
                terms: Terms {
                    principal: fields.fen("principal_fen")?,
                    annual_rate: fields.rate("annual_rate_micro_percent")?,
                    periods: fields.num("periods")?,
                    every,
                    method: Method::parse(fields.get("method")?).map_err(|_| bad("method"))?,
                    interest_period,
                    day_count: DayCount::parse(fields.get("day_count")?)
                        .map_err(|_| bad("day_count"))?,
                    emi_multiple_fen: fields.num("emi_multiple_fen")?,
                    disbursed_on: fields.date("disbursed_on")?,
                },
                instalment_fee: fields.fen("instalment_fee_fen")?,
            }
        }
        "revenue_based" => ProductSpec::RevenueBased(RevenueTerms {
            principal: fields.fen("principal_fen")?,
            fee: fields.fen("fee_fen")?,
            withholding_bps: fields.num("withholding_bps")?,
            minimum_per_period: fields.fen("minimum_fen")?,
            disbursed_on: fields.date("disbursed_on")?,
        }),
        _ => return Err(bad("product")),
    };
    let mut order = [Component::Penalty; 4];
    let mut parts = fields.get("allocation")?.split(',');
    for slot in &mut order {
        *slot = match parts.next() {
            Some("penalty") => Component::Penalty,
            Some("fee") => Component::Fee,
            Some("interest") => Component::Interest,
            Some("principal") => Component::Principal,
            _ => return Err(bad("allocation")),
        };
    }
    let allocation = AllocationOrder::new(order).ok_or_else(|| bad("allocation"))?;
    Ok(LoanSpec {
        product,
        policy: Policy {
            allocation,
            penalty_rate: fields.rate("penalty_rate_micro_percent")?,
        },
    })
}
