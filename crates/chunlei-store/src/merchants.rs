//! The merchant registry's rows, shared by both backends.
//!
//! Merchants are not ledger records: no transfer depends on them, so they are written through
//! the read connections, each call in one transaction of its own, and never by the ledger
//! writer. Rows are converted back through [`Merchant::parse`], so a row that no longer parses
//! is reported as corrupt rather than handed out.

use chunlei_settlement::{CivilDate, Merchant, MerchantFields};

use crate::StoreError;

/// The columns every merchant query selects, in the order [`MerchantRow`] takes them.
pub(crate) const MERCHANT_COLUMNS: &str = "id, name, kind, foreign_trade, region_code, category, \
    joined_on, cluster_id, agriculture_base_id, risk_tier, bank_code, account_number, holder_name";

/// The columns of the upsert that every backend writes the same way; `created_at` stays as
/// first written, and `version` counts the writes.
pub(crate) const MERCHANT_UPDATES: &str = "name = excluded.name, kind = excluded.kind, \
    foreign_trade = excluded.foreign_trade, region_code = excluded.region_code, \
    category = excluded.category, joined_on = excluded.joined_on, \
    cluster_id = excluded.cluster_id, agriculture_base_id = excluded.agriculture_base_id, \
    risk_tier = excluded.risk_tier, bank_code = excluded.bank_code, \
    account_number = excluded.account_number, holder_name = excluded.holder_name, \
    updated_at = excluded.updated_at, version = merchants.version + 1";

/// A stored merchant as its columns hold it, borrowed from the row read: a merchant's first
/// read parses its texts straight from the row, with no copy of each on the way.
pub(crate) struct MerchantRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub foreign_trade: bool,
    pub region_code: &'a str,
    pub category: &'a str,
    pub joined_on: i32,
    pub cluster_id: Option<&'a str>,
    pub agriculture_base_id: Option<&'a str>,
    pub risk_tier: &'a str,
    pub bank_code: &'a str,
    pub account_number: &'a str,
    pub holder_name: &'a str,
}

impl MerchantRow<'_> {
    pub(crate) fn to_merchant(&self) -> Result<Merchant, StoreError> {
        let joined_on = CivilDate::from_days(self.joined_on).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "merchant {}: joined_on {} is out of range",
                self.id, self.joined_on
            ))
        })?;
        let joined_on = joined_on.to_string();
        let fields = MerchantFields {
            id: self.id,
            name: self.name,
            kind: self.kind,
            foreign_trade: if self.foreign_trade { "true" } else { "false" },
            region_code: self.region_code,
            category: self.category,
            joined_on: &joined_on,
            cluster_id: self.cluster_id.unwrap_or(""),
            agriculture_base_id: self.agriculture_base_id.unwrap_or(""),
            risk_tier: self.risk_tier,
            bank_code: self.bank_code,
            account_number: self.account_number,
            holder_name: self.holder_name,
        };
        Merchant::parse(&fields)
            .map_err(|error| StoreError::Corrupt(format!("merchant {}: {error}", self.id)))
    }
}

/// `merchants` with only the last of each id kept, in the order of their first appearance:
/// a batch that names a merchant twice means its later row, as if applied one by one.
pub(crate) fn last_of_each(merchants: &[Merchant]) -> Vec<&Merchant> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut kept: Vec<&Merchant> = Vec::with_capacity(merchants.len());
    for merchant in merchants {
        match index.get(merchant.id.as_str()) {
            Some(&at) => kept[at] = merchant,
            None => {
                index.insert(merchant.id.as_str(), kept.len());
                kept.push(merchant);
            }
        }
    }
    kept
}

/// Nanoseconds since the Unix epoch, for `created_at` and `updated_at`.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A fraud flag an operator or the marketplace's risk systems put on a merchant. While it
/// stands, the merchant's loan applications are declined (a knock-out) and no offer made to it
/// is disbursed. One per merchant at most; it stays until cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FraudFlag {
    pub merchant_id: String,
    /// Why, in the flagger's words.
    pub reason: String,
    /// Nanoseconds since the Unix epoch.
    pub flagged_at: u64,
    /// The id of the API key that set it.
    pub flagged_by: String,
}

/// A fraud flag set or cleared: the merchant's flag history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FraudFlagEvent {
    /// Nanoseconds since the Unix epoch.
    pub at: u64,
    pub action: FlagAction,
    /// The flag's reason; for [`FlagAction::Cleared`], the reason of the flag cleared.
    pub reason: String,
    /// The id of the API key that did it.
    pub actor: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagAction {
    Set,
    Cleared,
}

impl FlagAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagAction::Set => "set",
            FlagAction::Cleared => "cleared",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<FlagAction, StoreError> {
        match text {
            "set" => Ok(FlagAction::Set),
            "cleared" => Ok(FlagAction::Cleared),
            other => Err(StoreError::Corrupt(format!(
                "a fraud flag event's action is {other:?}"
            ))),
        }
    }
}

/// Events of one merchant's flag history one read returns at most, the latest.
pub const FLAG_EVENTS_MAX: u32 = 100;

/// The statement that records a [`FraudFlagEvent`], numbered as both backends bind it:
/// merchant, time, action, reason, actor.
pub(crate) const INSERT_FLAG_EVENT: &str = "INSERT INTO merchant_fraud_flag_events \
    (merchant_id, at, action, reason, actor) VALUES ($1, $2, $3, $4, $5)";

/// What [`crate::Store::flag_fraud`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagOutcome {
    /// The flag is new.
    Flagged(FraudFlag),
    /// The merchant carried a flag with the same reason already: it stands as it was.
    AlreadyFlagged(FraudFlag),
    /// The merchant carries a flag with another reason, which stands.
    Conflict(FraudFlag),
    UnknownMerchant,
}

/// What [`crate::Store::clear_fraud_flag`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClearOutcome {
    Cleared,
    /// The merchant carried no flag.
    NotFlagged,
    UnknownMerchant,
}
