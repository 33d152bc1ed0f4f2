//! Accepted loans on the wire: the bodies of `POST /api/v1/loans` and of a payment, the query
//! of the listing, and a loan in answers (its state on the day asked, its schedule and its
//! history).

use chunlei_ledger::{CivilDate, Fen};
use chunlei_lending::decision::{BankPolicy, Product, Served};
use chunlei_lending::loans::portfolio::Portfolio;
use chunlei_lending::loans::{Adjustment, LoanRecord};
use chunlei_lending::servicing::Amounts;
use serde::{Deserialize, Serialize};

use super::check_key;
use super::input::object;
use super::query::{LIST_LIMIT_DEFAULT, limit, once};
use crate::ApiError;

/// `{"id", "application_id"}`: accept the approved application's offer as loan `id`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptIn {
    pub id: String,
    pub application_id: String,
}

pub(crate) fn accept_from_json(body: &[u8]) -> Result<AcceptIn, ApiError> {
    let accept: AcceptIn = object(body)?;
    check_key(&accept.id).map_err(|r| ApiError::InvalidField(format!("id: {r}")))?;
    check_key(&accept.application_id)
        .map_err(|r| ApiError::InvalidField(format!("application_id: {r}")))?;
    Ok(accept)
}

/// `{"id", "amount"}`: a payment of `amount` fen under the idempotency key `id`.
#[derive(Clone, Debug)]
pub(crate) struct PaymentIn {
    pub id: String,
    pub amount: Fen,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    id: String,
    amount: u64,
}

pub(crate) fn payment_from_json(body: &[u8]) -> Result<PaymentIn, ApiError> {
    let raw: RawPayment = object(body)?;
    check_key(&raw.id).map_err(|r| ApiError::InvalidField(format!("id: {r}")))?;
    let amount = match Fen::new(raw.amount) {
        Some(amount) if amount.is_zero() => {
            return Err(ApiError::AmountZero("amount: must be above zero".into()));
        }
        Some(amount) => amount,
        None => {
            return Err(ApiError::AmountOutOfRange(format!(
                "amount: {} is above {}",
                raw.amount,
                Fen::MAX.get()
            )));
        }
    };
    Ok(PaymentIn { id: raw.id, amount })
}

/// Relief on a loan: `{"id", "kind": "holiday"|"interest_free", "from", "to"}` (dates
/// `YYYY-MM-DD`, both included).
#[derive(Clone, Debug)]
pub(crate) struct ReliefIn {
    pub id: String,
    pub from: CivilDate,
    pub adjustment: Adjustment,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelief {
    id: String,
    kind: String,
    from: String,
    to: String,
}

pub(crate) fn relief_from_json(body: &[u8]) -> Result<ReliefIn, ApiError> {
    let raw: RawRelief = object(body)?;
    check_key(&raw.id).map_err(|r| ApiError::InvalidField(format!("id: {r}")))?;
    let date = |name: &str, text: &str| {
        CivilDate::parse(text).map_err(|e| ApiError::InvalidField(format!("{name}: {e}")))
    };
    let (from, to) = (date("from", &raw.from)?, date("to", &raw.to)?);
    let adjustment = match raw.kind.as_str() {
        "holiday" => Adjustment::Holiday { to },
        "interest_free" => Adjustment::InterestFree { to },
        _ => {
            return Err(ApiError::InvalidField(
                "kind: must be holiday or interest_free".into(),
            ));
        }
    };
    Ok(ReliefIn {
        id: raw.id,
        from,
        adjustment,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    id: String,
}

/// `{"id"}`: a request that carries only its idempotency key.
pub(crate) fn request_id_from_json(body: &[u8]) -> Result<String, ApiError> {
    let raw: RawRequest = object(body)?;
    check_key(&raw.id).map_err(|r| ApiError::InvalidField(format!("id: {r}")))?;
    Ok(raw.id)
}

/// `GET /api/v1/loans?bank_id=&merchant_id=&after=&limit=`.
#[derive(Debug)]
pub(crate) struct LoansQuery {
    pub bank_id: Option<String>,
    pub merchant_id: Option<String>,
    pub after: String,
    pub limit: u32,
}

pub(crate) fn loans_query(pairs: &[(String, String)]) -> Result<LoansQuery, ApiError> {
    let mut out = LoansQuery {
        bank_id: None,
        merchant_id: None,
        after: String::new(),
        limit: LIST_LIMIT_DEFAULT,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        once(&mut seen, name)?;
        let key = |what: &str| {
            check_key(value)
                .map(|()| value.clone())
                .map_err(|r| ApiError::InvalidField(format!("{what}: {r}")))
        };
        match name.as_str() {
            "limit" => out.limit = limit(value)?,
            "after" if value.is_empty() => out.after.clear(),
            "after" => out.after = key("after")?,
            "bank_id" => out.bank_id = Some(key("bank_id")?),
            "merchant_id" => out.merchant_id = Some(key("merchant_id")?),
            _ => {
                return Err(ApiError::UnknownField(format!(
                    "unknown query parameter {name}; known parameters are: bank_id, \
                     merchant_id, after, limit"
                )));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub(crate) struct AmountsOut {
    principal: u64,
    interest: u64,
    fee: u64,
    penalty: u64,
    total: u64,
}

impl AmountsOut {
    fn new(a: &Amounts) -> AmountsOut {
        AmountsOut {
            principal: a.principal.get(),
            interest: a.interest.get(),
            fee: a.fee.get(),
            penalty: a.penalty.get(),
            total: a.total().get(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct InstalmentOut {
    number: u16,
    due_on: String,
    state: &'static str,
    charged: AmountsOut,
    paid: AmountsOut,
    outstanding: AmountsOut,
}

#[derive(Debug, Serialize)]
pub(crate) struct OperationOut {
    kind: &'static str,
    on: String,
    reference: String,
    amount: u64,
    taken: u64,
}

/// A loan on the day asked: amounts in fen.
#[derive(Debug, Serialize)]
pub(crate) struct LoanOut {
    id: String,
    application_id: String,
    merchant_id: String,
    bank_id: String,
    product: &'static str,
    principal: u64,
    disbursed_on: String,
    as_of: String,
    status: &'static str,
    outstanding: AmountsOut,
    /// Interest accrued day by day in the current period, not yet charged (rounded down).
    interest_accrued: u64,
    paid: AmountsOut,
    written_off: AmountsOut,
    due: u64,
    overdue: u64,
    days_past_due: u32,
    arrears_bucket: &'static str,
    instalments: Vec<InstalmentOut>,
    operations: Vec<OperationOut>,
}

impl LoanOut {
    pub(crate) fn new(loan: &LoanRecord, today: CivilDate) -> LoanOut {
        let s = loan.summary_on(today);
        let product = match loan.spec.product {
            chunlei_lending::loans::ProductSpec::Amortising { .. } => "amortising",
            chunlei_lending::loans::ProductSpec::RevenueBased(_) => "revenue_based",
        };
        LoanOut {
            id: loan.id.clone(),
            application_id: loan.application_id.clone(),
            merchant_id: loan.merchant_id.clone(),
            bank_id: loan.bank_id.clone(),
            product,
            principal: loan.spec.principal().get(),
            disbursed_on: loan.spec.disbursed_on().to_string(),
            as_of: s.as_of.to_string(),
            status: s.status.as_str(),
            outstanding: AmountsOut::new(&s.outstanding),
            interest_accrued: s.interest_accrued.get(),
            paid: AmountsOut::new(&s.paid),
            written_off: AmountsOut::new(&s.written_off),
            due: s.due.get(),
            overdue: s.overdue.get(),
            days_past_due: s.days_past_due,
            arrears_bucket: s.arrears.as_str(),
            instalments: loan
                .loan
                .instalments()
                .iter()
                .map(|i| InstalmentOut {
                    number: i.number,
                    due_on: i.due_on.to_string(),
                    state: i.state.as_str(),
                    charged: AmountsOut::new(&i.charged),
                    paid: AmountsOut::new(&i.paid),
                    outstanding: AmountsOut::new(&i.outstanding),
                })
                .collect(),
            operations: loan
                .ops
                .iter()
                .map(|op| OperationOut {
                    kind: op.kind.as_str(),
                    on: op.on.to_string(),
                    reference: op.reference.clone(),
                    amount: op.amount.get(),
                    taken: op.taken.get(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct LoansOut {
    pub loans: Vec<LoanOut>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// `GET /api/v1/portfolio?bank_id=&on=`.
#[derive(Debug)]
pub(crate) struct PortfolioQuery {
    pub bank_id: Option<String>,
    pub on: Option<CivilDate>,
}

pub(crate) fn portfolio_query(pairs: &[(String, String)]) -> Result<PortfolioQuery, ApiError> {
    let mut out = PortfolioQuery {
        bank_id: None,
        on: None,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        once(&mut seen, name)?;
        match name.as_str() {
            "bank_id" => {
                check_key(value).map_err(|r| ApiError::InvalidField(format!("bank_id: {r}")))?;
                out.bank_id = Some(value.clone());
            }
            "on" => {
                out.on = Some(
                    CivilDate::parse(value)
                        .map_err(|e| ApiError::InvalidField(format!("on: {e}")))?,
                );
            }
            _ => {
                return Err(ApiError::UnknownField(format!(
                    "unknown query parameter {name}; known parameters are: bank_id, on"
                )));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub(crate) struct BucketOut {
    bucket: &'static str,
    loans: u64,
    principal: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct VintageOut {
    month: String,
    loans: u64,
    disbursed: u64,
    ever_30_bps: Vec<u64>,
}

/// One portfolio's figures, in fen and basis points.
#[derive(Debug, Serialize)]
pub(crate) struct FiguresOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_id: Option<String>,
    loans: u64,
    open_loans: u64,
    disbursed: u64,
    repaid: u64,
    outstanding_principal: u64,
    outstanding_total: u64,
    written_off: u64,
    arrears: Vec<BucketOut>,
    npl_ratio_bps: u64,
    vintages: Vec<VintageOut>,
}

impl FiguresOut {
    fn new(bank_id: Option<&str>, p: &Portfolio) -> FiguresOut {
        let names = ["current", "1-30", "31-60", "61-90", "90+"];
        FiguresOut {
            bank_id: bank_id.map(str::to_owned),
            loans: p.loans,
            open_loans: p.open_loans,
            disbursed: p.disbursed,
            repaid: p.repaid,
            outstanding_principal: p.outstanding_principal,
            outstanding_total: p.outstanding_total,
            written_off: p.written_off,
            arrears: names
                .iter()
                .zip(p.arrears.iter())
                .map(|(bucket, f)| BucketOut {
                    bucket,
                    loans: f.loans,
                    principal: f.principal,
                })
                .collect(),
            npl_ratio_bps: p.npl_ratio_bps,
            vintages: p
                .vintages
                .iter()
                .map(|v| VintageOut {
                    month: v.month.clone(),
                    loans: v.loans,
                    disbursed: v.disbursed,
                    ever_30_bps: v.ever_30_bps.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct PortfolioOut {
    on: String,
    #[serde(flatten)]
    overall: FiguresOut,
    /// Each bank's figures, in bank id order, when the report covers every bank.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    banks: Vec<FiguresOut>,
}

impl PortfolioOut {
    pub(crate) fn new(
        bank_id: Option<&str>,
        on: CivilDate,
        overall: &Portfolio,
        banks: &[(String, Portfolio)],
    ) -> PortfolioOut {
        PortfolioOut {
            on: on.to_string(),
            overall: FiguresOut::new(bank_id, overall),
            banks: banks
                .iter()
                .map(|(id, p)| FiguresOut::new(Some(id), p))
                .collect(),
        }
    }
}

/// A bank of the consortium: its policy as configured, and what it has lent.
#[derive(Debug, Serialize)]
pub(crate) struct BankOut {
    bank_id: String,
    products: Vec<serde_json::Value>,
    score_cutoff: i64,
    /// Region code prefixes, or `"all"`.
    regions: serde_json::Value,
    industries: serde_json::Value,
    per_borrower_limit: u64,
    terms_months: Vec<u16>,
    /// Basis points a year for grades A to E; `null` where the bank does not lend.
    rate_bps_by_grade: [Option<u32>; 5],
    daily_quota: u64,
    total_quota: u64,
    region_share_max_bps: u32,
    industry_share_max_bps: u32,
    lent_today: u64,
    lent_total: u64,
}

fn served(s: &Served) -> serde_json::Value {
    match s {
        Served::All => serde_json::Value::from("all"),
        Served::Only(codes) => serde_json::Value::from(codes.clone()),
    }
}

impl BankOut {
    pub(crate) fn new(b: &BankPolicy, lent_today: u64, lent_total: u64) -> BankOut {
        let products = b
            .products
            .iter()
            .map(|p| match p {
                Product::Amortising {
                    method,
                    day_count,
                    terms,
                } => serde_json::json!({
                    "kind": "amortising",
                    "method": method.as_str(),
                    "day_count": day_count.as_str(),
                    "terms_months": terms.iter().collect::<Vec<u16>>(),
                }),
                Product::RevenueBased {
                    fee_bps,
                    withholding_bps,
                    term_days_max,
                } => serde_json::json!({
                    "kind": "revenue_based",
                    "fee_bps": fee_bps,
                    "withholding_bps": withholding_bps,
                    "term_days_max": term_days_max,
                }),
            })
            .collect();
        BankOut {
            bank_id: b.bank_id.to_string(),
            products,
            score_cutoff: b.score_cutoff,
            regions: served(&b.regions),
            industries: served(&b.industries),
            per_borrower_limit: b.per_borrower_limit.get(),
            terms_months: b.terms.iter().collect(),
            rate_bps_by_grade: b.rate_bps_by_grade,
            daily_quota: b.daily_quota.get(),
            total_quota: b.total_quota.get(),
            region_share_max_bps: b.region_share_max_bps,
            industry_share_max_bps: b.industry_share_max_bps,
            lent_today,
            lent_total,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct BanksOut {
    /// The versions in force, as new decisions store them: whether a reload took effect.
    pub policy_version: String,
    pub model_version: String,
    /// When this configuration was put in force (RFC 3339, UTC).
    pub in_force_since: String,
    pub banks: Vec<BankOut>,
}
