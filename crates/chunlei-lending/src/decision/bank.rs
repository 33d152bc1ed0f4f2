//! The bank consortium: each partner bank's lending policy, what it has used of its quotas,
//! and its answer to one application, an [`Offer`] or the reason it makes none. `check`
//! holds the checks a consortium's policies pass once; `answer` what a bank answers.

use std::cmp::Reverse;
use std::fmt;

use chunlei_ledger::Fen;

use super::grade::Grade;
use super::terms::TermSet;
use crate::rate::AnnualRate;
use crate::schedule::{DayCount, Method, Terms};
use chunlei_ledger::CivilDate;

mod answer;
mod check;

pub(super) use answer::Ask;
pub use check::ConsortiumError;

/// The most banks a consortium has.
pub const BANKS_MAX: usize = 256;
/// The most products one bank offers.
pub const PRODUCTS_MAX: usize = 8;
/// The most region prefixes one bank lists.
pub const REGION_PREFIXES_MAX: usize = 64;
/// The most industries one bank lists.
pub const INDUSTRIES_MAX: usize = 64;
/// The longest bank id, in characters.
pub const BANK_ID_LEN_MAX: usize = 32;
/// The highest annual rate a price grid may hold: 100 %, the most an [`AnnualRate`] holds.
pub const RATE_BPS_MAX: u32 = 10_000;

/// A bank's id: 1 to [`BANK_ID_LEN_MAX`] of `[A-Za-z0-9_-]`, held inline so that answers
/// are `Copy` and asking a bank allocates nothing. Ordered as its text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BankId {
    // Padded with zero bytes, which no id contains, so the derived order is the text's.
    bytes: [u8; BANK_ID_LEN_MAX],
    len: u8,
}

impl BankId {
    pub fn parse(text: &str) -> Option<BankId> {
        let valid = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
        if text.is_empty() || text.len() > BANK_ID_LEN_MAX || !text.bytes().all(|b| valid(&b)) {
            return None;
        }
        let mut bytes = [0; BANK_ID_LEN_MAX];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(BankId {
            bytes,
            len: u8::try_from(text.len()).ok()?,
        })
    }

    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        // `parse` let in ASCII only.
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Debug for BankId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for BankId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which regions or industries a bank lends to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    All,
    /// Regions: region codes starting with one of these prefixes (`"44"` is Guangdong,
    /// `"4403"` Shenzhen). Industries: exactly these codes. An empty list serves none.
    Only(Vec<String>),
}

impl Served {
    fn has_prefix_of(&self, code: &str) -> bool {
        match self {
            Served::All => true,
            Served::Only(prefixes) => prefixes
                .iter()
                .any(|prefix| code.starts_with(prefix.as_str())),
        }
    }

    fn has(&self, code: &str) -> bool {
        match self {
            Served::All => true,
            Served::Only(codes) => codes.iter().any(|listed| listed == code),
        }
    }

    fn listed(&self) -> &[String] {
        match self {
            Served::All => &[],
            Served::Only(listed) => listed,
        }
    }
}

/// A loan product of a bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// Monthly instalments ([`crate::schedule()`]) at the bank's rate for the grade.
    Amortising {
        method: Method,
        day_count: DayCount,
        /// The terms this product has, in months.
        terms: TermSet,
    },
    /// A merchant cash advance: a fixed fee on the amount, repaid by withholding a share of
    /// every settlement until amount and fee are paid. It fits when, at the last 90 days'
    /// average sales, it is expected to be repaid within `term_days_max` and within the
    /// longest term (a month counted as 30 days) the platform, the bank and the application
    /// allow.
    RevenueBased {
        /// The fee, in basis points of the amount, whatever the grade.
        fee_bps: u32,
        /// The share of each settlement withheld, in basis points (1 to 10,000).
        withholding_bps: u32,
        /// The advance must be expected to be repaid within this many days.
        term_days_max: u16,
    },
}

/// One partner bank's lending policy.
///
/// A bank answers by checking, in this order: the region is served, the industry is served,
/// the score reaches the cut-off, the grade has a price, the caller passed its usage, an
/// amount of at least the smallest loan fits its limits and quotas, and a product fits the
/// terms. The first that fails is its answer ([`BankDecline`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankPolicy {
    pub bank_id: BankId,
    /// 1 to [`PRODUCTS_MAX`]; of several that fit, the bank offers its cheapest (the first
    /// on a tie).
    pub products: Vec<Product>,
    /// The least score the bank lends to.
    pub score_cutoff: i64,
    /// Region code prefixes of 1 to 6 digits, at most [`REGION_PREFIXES_MAX`].
    pub regions: Served,
    /// Industry codes, at most [`INDUSTRIES_MAX`].
    pub industries: Served,
    /// The most the bank lends one borrower in one loan (its part of a joint loan).
    pub per_borrower_limit: Fen,
    /// The terms the bank lends for, in months; a product's own terms are narrowed to them.
    pub terms: TermSet,
    /// The annual rate by grade (A first), in basis points, at most [`RATE_BPS_MAX`];
    /// `None`: the bank does not lend to that grade. Amortising products charge it; for a
    /// revenue-based product it only says which grades the bank serves.
    pub rate_bps_by_grade: [Option<u32>; 5],
    /// The most the bank lends in one day (the caller's day).
    pub daily_quota: Fen,
    /// The most the bank lends through the platform in all.
    pub total_quota: Fen,
    /// The most of `total_quota` lent in one region, in basis points.
    pub region_share_max_bps: u32,
    /// The most of `total_quota` lent to one industry, in basis points.
    pub industry_share_max_bps: u32,
}

/// What a bank has used so far, as the caller counts it at the time of the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankUsage {
    pub bank_id: BankId,
    /// Lent today.
    pub daily_used: Fen,
    /// Lent in all.
    pub total_used: Fen,
    /// Lent in the applicant's region, as the bank counts regions (say, its province).
    pub region_used: Fen,
    /// Lent to the applicant's industry.
    pub industry_used: Fen,
}

/// The banks of the platform, checked once ([`Consortium::new`]) and kept in bank id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consortium {
    banks: Vec<BankPolicy>,
}

/// Why a bank makes no offer; the first of its checks that failed ([`BankPolicy`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankDecline {
    RegionNotServed,
    IndustryNotServed,
    ScoreBelowCutoff {
        cutoff: i64,
    },
    GradeNotPriced {
        grade: Grade,
    },
    /// The caller passed no [`BankUsage`] for the bank, so its quotas cannot be checked.
    UsageMissing,
    /// Today's quota left (or the limit below) is less than the smallest loan.
    DailyQuotaExhausted {
        left: Fen,
    },
    TotalQuotaExhausted {
        left: Fen,
    },
    RegionShareReached {
        left: Fen,
    },
    IndustryShareReached {
        left: Fen,
    },
    BorrowerLimitBelowMinimum {
        limit: Fen,
    },
    /// No product has a term the platform, the bank and the application all allow, or a
    /// revenue-based advance would take too long to repay from the merchant's sales.
    NoProductFits,
}

impl BankDecline {
    /// Every variant's code, in check order; [`BankDecline::rank`] indexes it.
    pub(super) const CODES: [&'static str; 11] = [
        "region_not_served",
        "industry_not_served",
        "score_below_cutoff",
        "grade_not_priced",
        "usage_missing",
        "daily_quota_exhausted",
        "total_quota_exhausted",
        "region_share_reached",
        "industry_share_reached",
        "borrower_limit_below_minimum",
        "no_product_fits",
    ];

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        BankDecline::CODES
            .get(self.rank())
            .copied()
            .unwrap_or_default()
    }

    /// The position of the check that failed, 0 for the first.
    pub(super) fn rank(self) -> usize {
        match self {
            BankDecline::RegionNotServed => 0,
            BankDecline::IndustryNotServed => 1,
            BankDecline::ScoreBelowCutoff { .. } => 2,
            BankDecline::GradeNotPriced { .. } => 3,
            BankDecline::UsageMissing => 4,
            BankDecline::DailyQuotaExhausted { .. } => 5,
            BankDecline::TotalQuotaExhausted { .. } => 6,
            BankDecline::RegionShareReached { .. } => 7,
            BankDecline::IndustryShareReached { .. } => 8,
            BankDecline::BorrowerLimitBelowMinimum { .. } => 9,
            BankDecline::NoProductFits => 10,
        }
    }

    /// Whether the score (or its grade) is why: then the scorecard's reasons explain it.
    pub fn is_about_the_score(self) -> bool {
        matches!(
            self,
            BankDecline::ScoreBelowCutoff { .. } | BankDecline::GradeNotPriced { .. }
        )
    }
}

/// The product of an offer, with its price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferedProduct {
    Amortising {
        method: Method,
        day_count: DayCount,
        annual_rate_bps: u32,
        /// The terms the merchant may choose from, in months.
        terms: TermSet,
    },
    RevenueBased {
        /// `amount × fee_bps`, rounded half up to the fen.
        fee: Fen,
        fee_bps: u32,
        withholding_bps: u32,
        /// `(amount + fee) / (withholding × sales_90d / 90)`, rounded up: the days the
        /// advance is expected to take to repay at the last 90 days' average sales.
        expected_days: u32,
        /// The product's longest term, in days, which sets the minimum payment per period:
        /// kept with the offer so that accepting it later does not depend on the
        /// configuration then in force.
        term_days_max: u16,
    },
}

/// A bank's offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    pub bank_id: BankId,
    /// Which of the bank's products, from 0.
    pub product_index: usize,
    pub product: OfferedProduct,
    /// The loan: `bank_part + platform_part`, a multiple of the sizing unit.
    pub amount: Fen,
    /// What the bank lends; what its limits and quotas were checked against.
    pub bank_part: Fen,
    /// What the platform lends in a joint loan; zero otherwise.
    pub platform_part: Fen,
    /// The price offers are compared by, in basis points a year: the annual rate of an
    /// amortising loan; for a revenue-based advance the equivalent rate
    /// `2 × fee × 365 / (amount × expected_days)`, rounded up (the fee over the average
    /// balance, about half the amount, for the expected days).
    pub price_bps: u32,
}

impl Offer {
    /// The order of preference: lowest price, then largest amount, then lowest bank id, then
    /// the bank's first product. Bank ids are unique in a consortium, so no two offers tie.
    pub fn preference(&self) -> (u32, Reverse<Fen>, BankId, usize) {
        (
            self.price_bps,
            Reverse(self.amount),
            self.bank_id,
            self.product_index,
        )
    }

    /// The schedule terms of an amortising offer for one of its terms, disbursed on
    /// `disbursed_on`; `None` for a revenue-based offer or a term it does not have.
    pub fn schedule_terms(&self, term_months: u16, disbursed_on: CivilDate) -> Option<Terms> {
        match self.product {
            OfferedProduct::Amortising {
                method,
                day_count,
                annual_rate_bps,
                terms,
            } if terms.contains(term_months) => Some(Terms::monthly(
                self.amount,
                AnnualRate::from_basis_points(annual_rate_bps)?,
                term_months,
                method,
                day_count,
                disbursed_on,
            )),
            OfferedProduct::Amortising { .. } | OfferedProduct::RevenueBased { .. } => None,
        }
    }
}

/// One bank's answer, in the decision for audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankAnswer {
    Offered(Offer),
    Declined {
        bank_id: BankId,
        reason: BankDecline,
    },
}

impl BankAnswer {
    pub fn bank_id(&self) -> BankId {
        match self {
            BankAnswer::Offered(offer) => offer.bank_id,
            BankAnswer::Declined { bank_id, .. } => *bank_id,
        }
    }

    pub fn offer(&self) -> Option<&Offer> {
        match self {
            BankAnswer::Offered(offer) => Some(offer),
            BankAnswer::Declined { .. } => None,
        }
    }
}

impl Consortium {
    /// Checks every policy against the limits and sorts the banks by id.
    pub fn new(mut banks: Vec<BankPolicy>) -> Result<Consortium, ConsortiumError> {
        if banks.is_empty() {
            return Err(ConsortiumError::NoBanks);
        }
        if banks.len() > BANKS_MAX {
            return Err(ConsortiumError::TooManyBanks { count: banks.len() });
        }
        banks.sort_by_key(|bank| bank.bank_id);
        for pair in banks.windows(2) {
            if let [first, second] = pair
                && first.bank_id == second.bank_id
            {
                return Err(ConsortiumError::DuplicateBank {
                    bank_id: first.bank_id,
                });
            }
        }
        banks.iter().try_for_each(check::check_policy)?;
        Ok(Consortium { banks })
    }

    /// The banks, in id order.
    pub fn banks(&self) -> &[BankPolicy] {
        &self.banks
    }

    /// Every bank's answer, in bank id order, and the usage each was asked with (banks
    /// without usage have none).
    pub(super) fn ask(
        &self,
        ask: &Ask<'_>,
        usage: &[BankUsage],
    ) -> (Vec<BankAnswer>, Vec<BankUsage>) {
        let mut answers = Vec::with_capacity(self.banks.len());
        let mut used = Vec::with_capacity(self.banks.len());
        for (at, bank) in self.banks.iter().enumerate() {
            let found = usage_of(usage, at, bank.bank_id);
            answers.push(answer::answer(bank, found, ask));
            used.extend(found.copied());
        }
        (answers, used)
    }
}

/// The bank's usage: at the same position when the caller lists usage in consortium order
/// (the usual case, no search), else the first entry with its id.
fn usage_of(usage: &[BankUsage], at: usize, bank_id: BankId) -> Option<&BankUsage> {
    match usage.get(at) {
        Some(same) if same.bank_id == bank_id => Some(same),
        Some(_) | None => usage.iter().find(|entry| entry.bank_id == bank_id),
    }
}
