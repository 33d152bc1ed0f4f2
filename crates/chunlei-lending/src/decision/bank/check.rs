//! The checks every bank policy passes once, when the consortium is made, so that asking a
//! bank never meets a policy outside the limits.

use std::fmt;

use super::{
    BANKS_MAX, BankId, BankPolicy, INDUSTRIES_MAX, PRODUCTS_MAX, Product, RATE_BPS_MAX,
    REGION_PREFIXES_MAX,
};
use crate::decision::BPS_PER_ONE;
use crate::decision::grade::Grade;

/// The longest region code; a prefix is one to this many digits.
const REGION_CODE_LEN: usize = 6;

/// Why a list of bank policies is not a consortium.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsortiumError {
    NoBanks,
    TooManyBanks {
        count: usize,
    },
    DuplicateBank {
        bank_id: BankId,
    },
    NoProducts {
        bank_id: BankId,
    },
    TooManyProducts {
        bank_id: BankId,
        count: usize,
    },
    TooManyRegionPrefixes {
        bank_id: BankId,
        count: usize,
    },
    RegionPrefixNotDigits {
        bank_id: BankId,
        prefix: String,
    },
    TooManyIndustries {
        bank_id: BankId,
        count: usize,
    },
    EmptyIndustry {
        bank_id: BankId,
    },
    RateAboveMaximum {
        bank_id: BankId,
        grade: Grade,
        rate_bps: u32,
    },
    ShareAboveWhole {
        bank_id: BankId,
        share_bps: u32,
    },
    FeeAboveWhole {
        bank_id: BankId,
        product: usize,
        fee_bps: u32,
    },
    WithholdingOutOfRange {
        bank_id: BankId,
        product: usize,
        withholding_bps: u32,
    },
    NoTermDays {
        bank_id: BankId,
        product: usize,
    },
}

pub(super) fn check_policy(bank: &BankPolicy) -> Result<(), ConsortiumError> {
    let bank_id = bank.bank_id;
    match bank.products.len() {
        0 => return Err(ConsortiumError::NoProducts { bank_id }),
        count if count > PRODUCTS_MAX => {
            return Err(ConsortiumError::TooManyProducts { bank_id, count });
        }
        _ => {}
    }
    let prefixes = bank.regions.listed();
    if prefixes.len() > REGION_PREFIXES_MAX {
        let count = prefixes.len();
        return Err(ConsortiumError::TooManyRegionPrefixes { bank_id, count });
    }
    let digits = |p: &String| {
        (1..=REGION_CODE_LEN).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if let Some(prefix) = prefixes.iter().find(|p| !digits(p)) {
        let prefix = prefix.clone();
        return Err(ConsortiumError::RegionPrefixNotDigits { bank_id, prefix });
    }
    let industries = bank.industries.listed();
    if industries.len() > INDUSTRIES_MAX {
        let count = industries.len();
        return Err(ConsortiumError::TooManyIndustries { bank_id, count });
    }
    if industries.iter().any(String::is_empty) {
        return Err(ConsortiumError::EmptyIndustry { bank_id });
    }
    for (grade, rate) in Grade::ALL.into_iter().zip(bank.rate_bps_by_grade) {
        if let Some(rate_bps) = rate.filter(|rate| *rate > RATE_BPS_MAX) {
            return Err(ConsortiumError::RateAboveMaximum {
                bank_id,
                grade,
                rate_bps,
            });
        }
    }
    let shares = [bank.region_share_max_bps, bank.industry_share_max_bps];
    if let Some(share_bps) = shares.into_iter().find(|share| *share > BPS_PER_ONE) {
        return Err(ConsortiumError::ShareAboveWhole { bank_id, share_bps });
    }
    bank.products
        .iter()
        .enumerate()
        .try_for_each(|(product, p)| check_product(bank_id, product, p))
}

fn check_product(bank_id: BankId, product: usize, p: &Product) -> Result<(), ConsortiumError> {
    match *p {
        Product::Amortising { .. } => Ok(()),
        Product::RevenueBased { fee_bps, .. } if fee_bps > BPS_PER_ONE => {
            Err(ConsortiumError::FeeAboveWhole {
                bank_id,
                product,
                fee_bps,
            })
        }
        Product::RevenueBased {
            withholding_bps, ..
        } if withholding_bps == 0 || withholding_bps > BPS_PER_ONE => {
            Err(ConsortiumError::WithholdingOutOfRange {
                bank_id,
                product,
                withholding_bps,
            })
        }
        Product::RevenueBased {
            term_days_max: 0, ..
        } => Err(ConsortiumError::NoTermDays { bank_id, product }),
        Product::RevenueBased { .. } => Ok(()),
    }
}

impl fmt::Display for ConsortiumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsortiumError::NoBanks => f.write_str("the consortium has no bank"),
            ConsortiumError::TooManyBanks { count } => {
                write!(f, "{count} banks, but a consortium has at most {BANKS_MAX}")
            }
            ConsortiumError::DuplicateBank { bank_id } => {
                write!(f, "bank {bank_id} is listed twice")
            }
            ConsortiumError::NoProducts { bank_id } => write!(f, "bank {bank_id} has no product"),
            ConsortiumError::TooManyProducts { bank_id, count } => write!(
                f,
                "bank {bank_id} has {count} products, at most {PRODUCTS_MAX} are allowed"
            ),
            ConsortiumError::TooManyRegionPrefixes { bank_id, count } => write!(
                f,
                "bank {bank_id} lists {count} region prefixes, at most {REGION_PREFIXES_MAX} \
                 are allowed"
            ),
            ConsortiumError::RegionPrefixNotDigits { bank_id, prefix } => write!(
                f,
                "bank {bank_id}: region prefix {prefix:?} must be 1 to 6 digits"
            ),
            ConsortiumError::TooManyIndustries { bank_id, count } => write!(
                f,
                "bank {bank_id} lists {count} industries, at most {INDUSTRIES_MAX} are allowed"
            ),
            ConsortiumError::EmptyIndustry { bank_id } => {
                write!(f, "bank {bank_id} lists an empty industry code")
            }
            ConsortiumError::RateAboveMaximum {
                bank_id,
                grade,
                rate_bps,
            } => write!(
                f,
                "bank {bank_id}: the rate of grade {} is {rate_bps} bp, above {RATE_BPS_MAX}",
                grade.as_str()
            ),
            ConsortiumError::ShareAboveWhole { bank_id, share_bps } => write!(
                f,
                "bank {bank_id}: a concentration share of {share_bps} bp is above 10000"
            ),
            ConsortiumError::FeeAboveWhole {
                bank_id,
                product,
                fee_bps,
            } => write!(
                f,
                "bank {bank_id}, product {product}: a fee of {fee_bps} bp is above 10000"
            ),
            ConsortiumError::WithholdingOutOfRange {
                bank_id,
                product,
                withholding_bps,
            } => write!(
                f,
                "bank {bank_id}, product {product}: withholding must be 1 to 10000 bp, got \
                 {withholding_bps}"
            ),
            ConsortiumError::NoTermDays { bank_id, product } => write!(
                f,
                "bank {bank_id}, product {product}: term_days_max must be at least 1"
            ),
        }
    }
}

impl std::error::Error for ConsortiumError {}
