//! Merchants as the settlement rules see them.
//!
//! A [`Merchant`] carries the attributes later rules decide on: what kind of business it is,
//! whether it trades abroad, where it is, when it joined, which cluster or agriculture base it
//! belongs to, its risk tier and the account its payouts go to. Every attribute is parsed from
//! text once, at the edge, by [`Merchant::parse`]; a [`FieldError`] names the field that is
//! wrong, so an import can report `line 7: region_code: …` and the API `region_code: …`.

use std::fmt;

pub use chunlei_ledger::CivilDate;

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
            joined_on: CivilDate::parse(fields.joined_on)
                .map_err(|e| e.to_string())
                .map_err(at("joined_on"))?,
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
