//! `AnnualRate`: a nominal annual interest rate held exactly, in millionths of a percent.

use std::fmt;

use crate::ScheduleError;

/// Millionths of a percent in one percent.
pub const MICRO_PERCENT_PER_PERCENT: u32 = 1_000_000;
/// 100 % a year, the highest rate a schedule accepts.
pub const RATE_MICRO_PERCENT_MAX: u32 = 100 * MICRO_PERCENT_PER_PERCENT;
/// Decimals a rate may be written with: millionths of a percent, no finer.
pub const RATE_DECIMALS_MAX: usize = 6;

/// A nominal annual rate from 0 % to 100 %, exact: 7.5 % is 7,500,000 millionths of a percent.
/// Nothing is ever a float here; periodic rates are fractions built from this integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnnualRate(u32);

impl AnnualRate {
    pub const ZERO: AnnualRate = AnnualRate(0);

    /// `None` above [`RATE_MICRO_PERCENT_MAX`].
    pub const fn from_micro_percent(micro_percent: u32) -> Option<AnnualRate> {
        if micro_percent <= RATE_MICRO_PERCENT_MAX {
            Some(AnnualRate(micro_percent))
        } else {
            None
        }
    }

    /// A rate in basis points (1 bp = 0.01 %); `None` above 10,000 bp.
    pub const fn from_basis_points(basis_points: u32) -> Option<AnnualRate> {
        match basis_points.checked_mul(MICRO_PERCENT_PER_PERCENT / 100) {
            Some(micro_percent) => AnnualRate::from_micro_percent(micro_percent),
            None => None,
        }
    }

    /// Parses a percentage written in decimal, such as `12`, `7.5` or `0.000001`: digits, then
    /// optionally a point and one to six more digits. No sign, exponent or spaces.
    pub fn parse_percent(text: &str) -> Result<AnnualRate, ScheduleError> {
        let malformed = || ScheduleError::RateNotADecimal {
            text: text.to_owned(),
        };
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !is_digits(whole) || fraction.is_some_and(|fraction| !is_digits(fraction)) {
            return Err(malformed());
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > RATE_DECIMALS_MAX {
            return Err(ScheduleError::RateTooManyDecimals {
                text: text.to_owned(),
            });
        }
        // Pad the fraction to six digits: "7.5" is 7 and 500000 millionths.
        let micro_percent = whole
            .bytes()
            .chain(fraction.bytes())
            .chain(std::iter::repeat_n(
                b'0',
                RATE_DECIMALS_MAX - fraction.len(),
            ))
            .fold(0_u64, |value, digit| {
                value
                    .saturating_mul(10)
                    .saturating_add(u64::from(digit - b'0'))
            });
        u32::try_from(micro_percent)
            .ok()
            .and_then(AnnualRate::from_micro_percent)
            .ok_or_else(|| ScheduleError::RateAboveMaximum {
                text: text.to_owned(),
            })
    }

    pub const fn micro_percent(self) -> u32 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// The percentage without trailing zeros: `7.5`, `12`, `0.000001`.
impl fmt::Display for AnnualRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / MICRO_PERCENT_PER_PERCENT;
        let fraction = self.0 % MICRO_PERCENT_PER_PERCENT;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:06}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests;
