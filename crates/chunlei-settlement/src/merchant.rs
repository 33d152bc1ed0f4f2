//! Merchants as the settlement rules see them.
//!
//! A [`Merchant`] carries the attributes later rules decide on: what kind of business it is,
//! whether it trades abroad, where it is, when it joined, which cluster or agriculture base it
//! belongs to, its risk tier and the account its payouts go to. Every attribute is parsed from
//! text once, at the edge, by [`Merchant::parse`]; a [`FieldError`] names the field that is
//! wrong, so an import can report `line 7: region_code: …` and the API `region_code: …`.

use std::fmt;

/// The attributes of a merchant as text, the way a CSV row or a JSON body carries them.
/// An empty `cluster_id` or `agriculture_base_id` means the merchant has none.
#[derive(Clone, Copy, Debug, Default)]
pub struct MerchantFields<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    /// `true` or `false`.
    pub foreign_trade: &'a str,
    pub region_code: &'a str,
    pub category: &'a str,
    /// `YYYY-MM-DD`.
    pub joined_on: &'a str,
    pub cluster_id: &'a str,
    pub agriculture_base_id: &'a str,
    pub risk_tier: &'a str,
    pub bank_code: &'a str,
    pub account_number: &'a str,
    pub holder_name: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merchant {
    pub id: MerchantId,
    /// 1 to [`NAME_CHARS_MAX`] characters, no control characters, not blank.
    pub name: String,
    pub kind: MerchantKind,
    /// Sells abroad (外贸): rules for export businesses apply.
    pub foreign_trade: bool,
    pub region_code: RegionCode,
    /// A category token as the fee schedule names it: 1 to 64 of `[A-Za-z0-9_-]`.
    pub category: String,
    pub joined_on: CivilDate,
    /// The industrial cluster (产业集群) the merchant belongs to, if any.
    pub cluster_id: Option<String>,
    /// The agriculture base (农业基地) the merchant belongs to, if any.
    pub agriculture_base_id: Option<String>,
    pub risk_tier: RiskTier,
    pub payout_account: PayoutAccount,
}

/// Characters a merchant's or account holder's name has at most.
pub const NAME_CHARS_MAX: usize = 200;

/// Characters an identifier token (merchant, cluster, base, category) has at most.
pub const TOKEN_CHARS_MAX: usize = 64;

impl Merchant {
    /// Parses every field; the first that is wrong is reported with its name.
    pub fn parse(fields: &MerchantFields<'_>) -> Result<Merchant, FieldError> {
        let at = |field: &'static str| move |reason: String| FieldError { field, reason };
        Ok(Merchant {
            id: MerchantId::parse(fields.id).map_err(at("id"))?,
            name: name(fields.name).map_err(at("name"))?,
            kind: MerchantKind::parse(fields.kind).map_err(at("kind"))?,
            foreign_trade: flag(fields.foreign_trade).map_err(at("foreign_trade"))?,
            region_code: RegionCode::parse(fields.region_code).map_err(at("region_code"))?,
            category: token(fields.category).map_err(at("category"))?,
            joined_on: CivilDate::parse(fields.joined_on).map_err(at("joined_on"))?,
            cluster_id: optional_token(fields.cluster_id).map_err(at("cluster_id"))?,
            agriculture_base_id: optional_token(fields.agriculture_base_id)
                .map_err(at("agriculture_base_id"))?,
            risk_tier: RiskTier::parse(fields.risk_tier).map_err(at("risk_tier"))?,
            payout_account: PayoutAccount {
                bank_code: BankCode::parse(fields.bank_code).map_err(at("bank_code"))?,
                account_number: AccountNumber::parse(fields.account_number)
                    .map_err(at("account_number"))?,
                holder_name: name(fields.holder_name).map_err(at("holder_name"))?,
            },
        })
    }
}

/// A field that did not parse, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as CSV headers and JSON bodies spell it.
    pub field: &'static str,
    /// A sentence fragment that follows the field's name.
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// A merchant's id: 1 to 64 characters of `[A-Za-z0-9_-]`, the same alphabet as the party ids
/// of accounts and API keys, so that it is safe in logs, URLs and file names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MerchantId(String);

impl MerchantId {
    pub fn parse(text: &str) -> Result<MerchantId, String> {
        token(text).map(MerchantId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MerchantKind {
    Factory,
    Trader,
    FarmCooperative,
    Retailer,
}

impl MerchantKind {
    pub const ALL: [MerchantKind; 4] = [
        MerchantKind::Factory,
        MerchantKind::Trader,
        MerchantKind::FarmCooperative,
        MerchantKind::Retailer,
    ];

    /// The stable name in files, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantKind::Factory => "factory",
            MerchantKind::Trader => "trader",
            MerchantKind::FarmCooperative => "farm_cooperative",
            MerchantKind::Retailer => "retailer",
        }
    }

    pub fn parse(text: &str) -> Result<MerchantKind, String> {
        MerchantKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| "must be one of factory, trader, farm_cooperative, retailer".to_owned())
    }
}

/// How risky the platform judges a merchant, from `A` (lowest) to `E` (highest). Five
/// letters rather than low/medium/high because credit policies in use grade in five steps,
/// and a coarser rule can always group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskTier {
    A,
    B,
    C,
    D,
    E,
}

impl RiskTier {
    pub const ALL: [RiskTier; 5] = [
        RiskTier::A,
        RiskTier::B,
        RiskTier::C,
        RiskTier::D,
        RiskTier::E,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::A => "A",
            RiskTier::B => "B",
            RiskTier::C => "C",
            RiskTier::D => "D",
            RiskTier::E => "E",
        }
    }

    pub fn parse(text: &str) -> Result<RiskTier, String> {
        RiskTier::ALL
            .into_iter()
            .find(|tier| tier.as_str() == text)
            .ok_or_else(|| "must be one of A, B, C, D, E (A is the lowest risk)".to_owned())
    }
}

/// A Chinese administrative division code (行政区划代码): six digits, the first two a
/// province-level division from 11 to 82.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> Result<RegionCode, String> {
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be a 6-digit administrative division code, such as 330782".into());
        }
        let province: u8 = text[..2]
            .parse()
            .map_err(|_| "is not a number".to_owned())?;
        if !(11..=82).contains(&province) {
            return Err("must start with a province code from 11 to 82".into());
        }
        Ok(RegionCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date without a time zone, held as days since 1970-01-01 (negative before).
/// Parsed from and shown as `YYYY-MM-DD`, years 1900 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate(i32);

const YEAR_MIN: i32 = 1900;
const YEAR_MAX: i32 = 9999;

impl CivilDate {
    pub fn parse(text: &str) -> Result<CivilDate, String> {
        let shape = || format!("must be a date as YYYY-MM-DD, got {text:?}");
        let bytes = text.as_bytes();
        let digits_at =
            |range: std::ops::Range<usize>| bytes[range.clone()].iter().all(u8::is_ascii_digit);
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !digits_at(0..4)
            || !digits_at(5..7)
            || !digits_at(8..10)
        {
            return Err(shape());
        }
        let number =
            |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| shape());
        let year = i32::try_from(number(0..4)?).map_err(|_| shape())?;
        let month = number(5..7)?;
        let day = number(8..10)?;
        CivilDate::from_ymd(year, month, day).ok_or_else(|| {
            format!("{text} is not a date from {YEAR_MIN}-01-01 to {YEAR_MAX}-12-31")
        })
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
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
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

// The two conversions below are Howard Hinnant's `days_from_civil` and `civil_from_days`
// (public domain): years are counted from March, so the leap day ends a year, and eras of
// 400 years (146,097 days) repeat exactly. Callers keep years within 1900..=9999, so no
// intermediate value comes near overflowing an `i32`.

fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i32::try_from(month).unwrap_or(1);
    let day = i32::try_from(day).unwrap_or(1);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let narrow = |value: i64| u32::try_from(value).unwrap_or(0);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        narrow(month),
        narrow(day),
    )
}

/// Where a merchant's payouts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutAccount {
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    /// The name the bank holds the account under; payouts to a different name bounce.
    pub holder_name: String,
}

/// The receiving bank: 2 to 12 characters of `[A-Z0-9]`, which covers both the short codes
/// of the clearing systems (`ICBC`) and the 12-digit CNAPS bank numbers (联行号).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BankCode(String);

impl BankCode {
    pub fn parse(text: &str) -> Result<BankCode, String> {
        let valid = (2..=12).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !valid {
            return Err("must be 2 to 12 characters of A-Z and 0-9, such as ICBC".into());
        }
        Ok(BankCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bank account number: 8 to 30 digits, kept as text so that leading zeros survive.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccountNumber(String);

impl AccountNumber {
    pub fn parse(text: &str) -> Result<AccountNumber, String> {
        if !(8..=30).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 8 to 30 digits".into());
        }
        Ok(AccountNumber(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shows only the last four digits, so that logs of a merchant do not carry its account.
impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self.0.get(self.0.len().saturating_sub(4)..).unwrap_or("");
        write!(f, "AccountNumber(****{tail})")
    }
}

fn flag(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

fn name(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > NAME_CHARS_MAX {
        return Err(format!("must be at most {NAME_CHARS_MAX} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if text.trim() != text {
        return Err("must not start or end with whitespace".into());
    }
    Ok(text.to_owned())
}

fn token(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.len() > TOKEN_CHARS_MAX {
        return Err(format!("must be at most {TOKEN_CHARS_MAX} characters"));
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("may contain only letters A-Z and a-z, digits, '_' and '-'".into());
    }
    Ok(text.to_owned())
}

fn optional_token(text: &str) -> Result<Option<String>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    token(text).map(Some)
}

#[cfg(test)]
mod tests;
