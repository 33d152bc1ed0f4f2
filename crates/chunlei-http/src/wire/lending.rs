//! The lending configuration file of `chunlei serve --lending FILE`: the platform's decision
//! policy and the partner banks' policies, as JSON (`docs/lending.example.json` shows every
//! field). Converted by hand into the lending crate's types, which derive no serde, with
//! errors that name the field by its path (`banks[1].products[0].fee_bps: …`). Unknown
//! fields are refused, so a misspelt threshold cannot silently fall back to nothing.

use chunlei_ledger::Fen;
use chunlei_lending::decision::{
    BankId, BankPolicy, Consortium, GradeGrid, JointLoan, KnockoutRules, Policy, Product,
    SalesBasis, Served, ServicingPolicy, Sizing, TermSet,
};
use chunlei_lending::servicing::{AllocationOrder, Component};
use chunlei_lending::{DayCount, Method};
use serde_json::{Map, Value};

/// Why a lending configuration is refused; the text names the field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LendingConfigError(String);

/// Parses a lending configuration: the policy, and the banks checked as a [`Consortium`].
pub fn lending_from_json(bytes: &[u8]) -> Result<(Policy, Consortium), LendingConfigError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| LendingConfigError(format!("not valid JSON: {e}")))?;
    let root = Obj::new(String::new(), &value)?;
    root.only(&["policy", "banks"])?;
    let policy = policy(&root.obj("policy")?)?;
    let banks = root
        .array("banks")?
        .iter()
        .enumerate()
        .map(|(at, bank)| bank_policy(&Obj::new(format!("banks[{at}]"), bank)?))
        .collect::<Result<Vec<_>, _>>()?;
    let consortium =
        Consortium::new(banks).map_err(|e| LendingConfigError(format!("banks: {e}")))?;
    Ok((policy, consortium))
}

fn policy(o: &Obj<'_>) -> Result<Policy, LendingConfigError> {
    o.only(&[
        "version",
        "knockouts",
        "grades",
        "sizing",
        "terms_months",
        "joint_platform_share_bps",
        "servicing",
    ])?;
    let servicing = match o.get("servicing") {
        None | Some(Value::Null) => ServicingPolicy::default(),
        Some(_) => servicing(&o.obj("servicing")?)?,
    };
    let k = o.obj("knockouts")?;
    k.only(&[
        "days_past_due_max",
        "worst_days_past_due_12m_max",
        "tenure_days_min",
        "sales_90d_min_fen",
        "active_days_90d_min",
        "refund_rate_bps_max",
    ])?;
    let knockouts = KnockoutRules {
        days_past_due_max: k.u32("days_past_due_max")?,
        worst_days_past_due_12m_max: k.u32("worst_days_past_due_12m_max")?,
        tenure_days_min: k.u32("tenure_days_min")?,
        sales_90d_min: k.fen("sales_90d_min_fen")?,
        active_days_90d_min: k.u32("active_days_90d_min")?,
        refund_rate_bps_max: k.u32("refund_rate_bps_max")?,
    };
    let g = o.obj("grades")?;
    g.only(&["a_min", "b_min", "c_min", "d_min"])?;
    let grades = GradeGrid::new(
        g.i64("a_min")?,
        g.i64("b_min")?,
        g.i64("c_min")?,
        g.i64("d_min")?,
    )
    .ok_or_else(|| g.error("", "the cut-offs must fall strictly from a_min to d_min"))?;
    let s = o.obj("sizing")?;
    s.only(&[
        "basis",
        "multiple_bps_by_grade",
        "cap_fen",
        "amount_min_fen",
        "unit_fen",
    ])?;
    let basis = match s.str("basis")? {
        "sales_30d" => SalesBasis::Sales30d,
        "sales_90d" => SalesBasis::Sales90d,
        _ => return Err(s.error("basis", "must be sales_30d or sales_90d")),
    };
    let multiples = s.five("multiple_bps_by_grade", |v| v.as_u64())?;
    let mut multiple_bps_by_grade = [0; 5];
    for (slot, value) in multiple_bps_by_grade.iter_mut().zip(multiples) {
        *slot = value
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| s.error("multiple_bps_by_grade", "must be five whole numbers"))?;
    }
    let sizing = Sizing {
        basis,
        multiple_bps_by_grade,
        cap: s.fen("cap_fen")?,
        amount_min: s.fen("amount_min_fen")?,
        unit: s.fen("unit_fen")?,
    };
    let joint = match o.get("joint_platform_share_bps") {
        None | Some(Value::Null) => None,
        Some(_) => Some(
            JointLoan::new(o.u32("joint_platform_share_bps")?).ok_or_else(|| {
                o.error("joint_platform_share_bps", "must be 1 to 9999 basis points")
            })?,
        ),
    };
    let version = o.str("version")?;
    if version.is_empty() || version.len() > VERSION_LEN_MAX {
        return Err(o.error(
            "version",
            &format!("must have 1 to {VERSION_LEN_MAX} characters"),
        ));
    }
    Ok(Policy {
        version: version.to_owned(),
        knockouts,
        grades,
        sizing,
        terms: o.terms("terms_months")?,
        joint,
        servicing,
    })
}

/// `{"allocation": ["penalty", "fee", "interest", "principal"], "penalty_multiple_bps": 15000}`.
fn servicing(o: &Obj<'_>) -> Result<ServicingPolicy, LendingConfigError> {
    o.only(&["allocation", "penalty_multiple_bps"])?;
    let names = o.array("allocation")?;
    let bad = || {
        o.error(
            "allocation",
            "must name penalty, fee, interest and principal once each",
        )
    };
    let mut order = [Component::Penalty; 4];
    if names.len() != order.len() {
        return Err(bad());
    }
    for (slot, name) in order.iter_mut().zip(names) {
        *slot = match name.as_str() {
            Some("penalty") => Component::Penalty,
            Some("fee") => Component::Fee,
            Some("interest") => Component::Interest,
            Some("principal") => Component::Principal,
            _ => return Err(bad()),
        };
    }
    let penalty_multiple_bps = o.u32("penalty_multiple_bps")?;
    if penalty_multiple_bps > 100_000 {
        return Err(o.error(
            "penalty_multiple_bps",
            "must be at most 100000 (ten times the rate)",
        ));
    }
    Ok(ServicingPolicy {
        allocation: AllocationOrder::new(order).ok_or_else(bad)?,
        penalty_multiple_bps,
    })
}

/// The longest policy version.
const VERSION_LEN_MAX: usize = 100;

fn bank_policy(o: &Obj<'_>) -> Result<BankPolicy, LendingConfigError> {
    o.only(&[
        "bank_id",
        "products",
        "score_cutoff",
        "regions",
        "industries",
        "per_borrower_limit_fen",
        "terms_months",
        "rate_bps_by_grade",
        "daily_quota_fen",
        "total_quota_fen",
        "region_share_max_bps",
        "industry_share_max_bps",
    ])?;
    let bank_id = BankId::parse(o.str("bank_id")?)
        .ok_or_else(|| o.error("bank_id", "must be 1 to 32 letters, digits, '_' or '-'"))?;
    let products = o
        .array("products")?
        .iter()
        .enumerate()
        .map(|(at, p)| product(&Obj::new(format!("{}.products[{at}]", o.path), p)?))
        .collect::<Result<Vec<_>, _>>()?;
    let rates = o.five("rate_bps_by_grade", |v| {
        if v.is_null() {
            Some(None)
        } else {
            v.as_u64().and_then(|r| u32::try_from(r).ok()).map(Some)
        }
    })?;
    let mut rate_bps_by_grade = [None; 5];
    for (slot, rate) in rate_bps_by_grade.iter_mut().zip(rates) {
        *slot = rate.ok_or_else(|| {
            o.error(
                "rate_bps_by_grade",
                "must be five entries, each basis points or null",
            )
        })?;
    }
    Ok(BankPolicy {
        bank_id,
        products,
        score_cutoff: o.i64("score_cutoff")?,
        regions: o.served("regions")?,
        industries: o.served("industries")?,
        per_borrower_limit: o.fen("per_borrower_limit_fen")?,
        terms: o.terms("terms_months")?,
        rate_bps_by_grade,
        daily_quota: o.fen("daily_quota_fen")?,
        total_quota: o.fen("total_quota_fen")?,
        region_share_max_bps: o.u32("region_share_max_bps")?,
        industry_share_max_bps: o.u32("industry_share_max_bps")?,
    })
}

fn product(o: &Obj<'_>) -> Result<Product, LendingConfigError> {
    match o.str("kind")? {
        "amortising" => {
            o.only(&["kind", "method", "day_count", "terms_months"])?;
            Ok(Product::Amortising {
                method: Method::parse(o.str("method")?).map_err(|_| {
                    o.error("method", "must be equal_installment or equal_principal")
                })?,
                day_count: DayCount::parse(o.str("day_count")?)
                    .map_err(|_| o.error("day_count", "must be 30_360 or act_365"))?,
                terms: o.terms("terms_months")?,
            })
        }
        "revenue_based" => {
            o.only(&["kind", "fee_bps", "withholding_bps", "term_days_max"])?;
            Ok(Product::RevenueBased {
                fee_bps: o.u32("fee_bps")?,
                withholding_bps: o.u32("withholding_bps")?,
                term_days_max: u16::try_from(o.u64("term_days_max")?)
                    .map_err(|_| o.error("term_days_max", "must be at most 65535"))?,
            })
        }
        _ => Err(o.error("kind", "must be amortising or revenue_based")),
    }
}

/// A JSON object and where it is in the file, for errors.
struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(path: String, value: &'a Value) -> Result<Obj<'a>, LendingConfigError> {
        match value.as_object() {
            Some(map) => Ok(Obj { path, map }),
            None => Err(LendingConfigError(format!(
                "{}: must be an object",
                if path.is_empty() { "the file" } else { &path }
            ))),
        }
    }

    fn error(&self, field: &str, what: &str) -> LendingConfigError {
        let path = match (self.path.is_empty(), field.is_empty()) {
            (true, _) => field.to_owned(),
            (false, true) => self.path.clone(),
            (false, false) => format!("{}.{field}", self.path),
        };
        LendingConfigError(format!("{path}: {what}"))
    }

    /// Refuses fields not in `known`.
    fn only(&self, known: &[&str]) -> Result<(), LendingConfigError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(self.error(unknown, "is not a known field")),
            None => Ok(()),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    fn required(&self, field: &str) -> Result<&'a Value, LendingConfigError> {
        self.get(field)
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn obj(&self, field: &str) -> Result<Obj<'a>, LendingConfigError> {
        let path = if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        };
        Obj::new(path, self.required(field)?)
    }

    fn array(&self, field: &str) -> Result<&'a Vec<Value>, LendingConfigError> {
        self.required(field)?
            .as_array()
            .ok_or_else(|| self.error(field, "must be an array"))
    }

    fn str(&self, field: &str) -> Result<&'a str, LendingConfigError> {
        self.required(field)?
            .as_str()
            .ok_or_else(|| self.error(field, "must be a string"))
    }

    fn u64(&self, field: &str) -> Result<u64, LendingConfigError> {
        self.required(field)?
            .as_u64()
            .ok_or_else(|| self.error(field, "must be a whole number, zero or more"))
    }

    fn u32(&self, field: &str) -> Result<u32, LendingConfigError> {
        u32::try_from(self.u64(field)?).map_err(|_| self.error(field, "is too large"))
    }

    fn i64(&self, field: &str) -> Result<i64, LendingConfigError> {
        self.required(field)?
            .as_i64()
            .ok_or_else(|| self.error(field, "must be a whole number"))
    }

    fn fen(&self, field: &str) -> Result<Fen, LendingConfigError> {
        Fen::new(self.u64(field)?)
            .ok_or_else(|| self.error(field, "must be at most 9223372036854775807 fen"))
    }

    fn terms(&self, field: &str) -> Result<TermSet, LendingConfigError> {
        let months: Option<Vec<u16>> = self
            .array(field)?
            .iter()
            .map(|v| v.as_u64().and_then(|m| u16::try_from(m).ok()))
            .collect();
        months
            .and_then(|months| TermSet::of(&months))
            .ok_or_else(|| self.error(field, "must be months from 1 to 60"))
    }

    /// `"all"`, or a list of codes.
    fn served(&self, field: &str) -> Result<Served, LendingConfigError> {
        match self.required(field)? {
            Value::String(all) if all == "all" => Ok(Served::All),
            Value::Array(codes) => codes
                .iter()
                .map(|c| c.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Served::Only)
                .ok_or_else(|| self.error(field, "must be \"all\" or a list of strings")),
            Value::Null
            | Value::Bool(_)
            | Value::Number(_)
            | Value::String(_)
            | Value::Object(_) => Err(self.error(field, "must be \"all\" or a list of strings")),
        }
    }

    /// Five entries, one per grade A to E, each converted by `convert`.
    fn five<T>(
        &self,
        field: &str,
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Result<Vec<Option<T>>, LendingConfigError> {
        let entries = self.array(field)?;
        if entries.len() != 5 {
            return Err(self.error(field, "must have five entries, grades A to E"));
        }
        Ok(entries.iter().map(convert).collect())
    }
}
