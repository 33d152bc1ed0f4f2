//! `CivilDate`: a calendar date stored as days since 1970-01-01 and converted by hand, with the
//! day and month arithmetic a repayment schedule needs. One type for every crate: a merchant's
//! joining day, a loan's due dates, a payout's day.

use std::fmt;
use std::ops::Range;

/// The first year a date may have.
pub const YEAR_MIN: i32 = 1900;
/// The last year a date may have; a schedule whose due dates pass it is refused.
pub const YEAR_MAX: i32 = 9999;

/// A date of the proleptic Gregorian calendar from 1900-01-01 to 9999-12-31.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate(i32);

/// Why a text is not a [`CivilDate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not ten characters shaped `YYYY-MM-DD`.
    NotYyyyMmDd,
    /// Shaped right, but the month or the day does not exist (`2023-02-29`, `2024-13-01`).
    NoSuchDay,
    /// A real date, but outside 1900-01-01 to 9999-12-31.
    YearOutOfRange,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateError::NotYyyyMmDd => "must be a date as YYYY-MM-DD",
            DateError::NoSuchDay => "is not a day of the calendar",
            DateError::YearOutOfRange => "must be from 1900-01-01 to 9999-12-31",
        })
    }
}

impl CivilDate {
    /// Parses `YYYY-MM-DD`, nothing else (no time, no surrounding spaces).
    pub fn parse(text: &str) -> Result<CivilDate, DateError> {
        let bytes = text.as_bytes();
        let digits_at = |range: Range<usize>| {
            bytes
                .get(range)
                .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
        };
        if bytes.len() != 10
            || bytes.get(4) != Some(&b'-')
            || bytes.get(7) != Some(&b'-')
            || !digits_at(0..4)
            || !digits_at(5..7)
            || !digits_at(8..10)
        {
            return Err(DateError::NotYyyyMmDd);
        }
        let number = |range: Range<usize>| {
            bytes
                .get(range)
                .unwrap_or_default()
                .iter()
                .fold(0_u32, |value, digit| value * 10 + u32::from(digit - b'0'))
        };
        let year = i32::try_from(number(0..4)).map_err(|_| DateError::NotYyyyMmDd)?;
        let (month, day) = (number(5..7), number(8..10));
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay);
        }
        CivilDate::from_ymd(year, month, day).ok_or(DateError::YearOutOfRange)
    }

    /// The date, if it exists and its year is from 1900 to 9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<CivilDate> {
        if !(YEAR_MIN..=YEAR_MAX).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(CivilDate(days_from_civil(year, month, day)))
    }

    /// The date `days` after 1970-01-01, if its year is from 1900 to 9999.
    pub fn from_days(days: i32) -> Option<CivilDate> {
        let (year, _, _) = civil_from_days(days);
        (YEAR_MIN..=YEAR_MAX)
            .contains(&year)
            .then_some(CivilDate(days))
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The date `days` later, if it is not after 9999-12-31.
    pub fn add_days(self, days: u32) -> Option<CivilDate> {
        let days = i32::try_from(days).ok()?;
        CivilDate::from_days(self.0.checked_add(days)?)
    }

    /// The same day `months` later, or the last day of that month when it is shorter: one month
    /// after 31 January is 28 (or 29) February. A schedule counts every due date from its
    /// anchor (the disbursement date), so the third month after 31 January is 30 April, not
    /// the 28th carried on from February.
    pub fn add_months(self, months: u32) -> Option<CivilDate> {
        let (year, month, day) = self.ymd();
        let index = i64::from(year) * 12 + i64::from(month) - 1 + i64::from(months);
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
        if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
            return None;
        }
        CivilDate::from_ymd(year, month, day.min(days_in_month(year, month)))
    }

    /// Days from `self` to `later`; negative when `later` is earlier.
    pub fn days_until(self, later: CivilDate) -> i64 {
        i64::from(later.0) - i64::from(self.0)
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl fmt::Debug for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` and `civil_from_days` (public domain algorithms, written
// out here): the year is counted from 1 March, so the leap day is the last day of a year, and
// eras of 400 years (146,097 days) repeat exactly. The arithmetic is done in `i64`; dates are
// kept within 1900..=9999, far from any overflow.

fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    // Callers pass years 1900..=9999, whose day numbers fit an `i32` with room to spare.
    i32::try_from(days).unwrap_or(i32::MAX)
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = (month_from_march + 2) % 12 + 1;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests;
