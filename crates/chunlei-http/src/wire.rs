//! The JSON wire format of the API and its conversion to and from the ledger's types.
//!
//! Domain types derive no serde traits; this module is the only place that knows how an
//! account or a transfer looks on the wire. 128-bit ids and 64-bit user data travel as decimal
//! strings, because most JSON clients lose precision above 2^53; amounts travel as integers in
//! fen, flags as arrays of names. Timestamps (nanoseconds since the Unix epoch) and balances
//! travel as integers, like amounts.

mod accepted;
mod input;
mod lending;
mod loans;
mod merchant;
mod query;
mod settle;
#[cfg(test)]
mod tests;

use chunlei_ledger::{Account, HistoryRow, Owner, OwnerKind, Transfer};
use serde::Serialize;

pub(crate) use accepted::{
    AcceptIn, BankOut, BanksOut, LoanOut, LoansOut, PaymentIn, PortfolioOut, accept_from_json,
    loans_query, payment_from_json, portfolio_query, relief_from_json, request_id_from_json,
};
pub(crate) use input::{accounts_from_json, ids_from_json, parse_decimal, transfers_from_json};
pub use lending::{LendingConfigError, lending_from_json};
pub(crate) use loans::{ApplicationIn, DecisionOut, application_from_json};
pub(crate) use merchant::{
    FraudFlagEventOut, FraudFlagEventsOut, FraudFlagOut, MerchantOut, Merchants,
    fraud_reason_from_json, merchant_from_json,
};
pub(crate) use query::{account_filter, merchant_page};
pub use settle::format_time;
pub(crate) use settle::{
    BalancesOut, EventResults, OrderOut, PayoutAnswer, PayoutOut, PayoutsOut, ProgramOut,
    StatementOut, check_key, order_events_from_json, page, payout_from_json,
    payout_result_from_json,
};

/// `{"results":[{"index":0,"result":"ok"},…]}`: one result per event, in order.
#[derive(Debug, Serialize)]
pub(crate) struct Results {
    results: Vec<EventResult>,
}

#[derive(Debug, Serialize)]
struct EventResult {
    index: usize,
    result: &'static str,
}

impl Results {
    pub(crate) fn new(codes: impl IntoIterator<Item = &'static str>) -> Results {
        let results = codes
            .into_iter()
            .enumerate()
            .map(|(index, result)| EventResult { index, result })
            .collect();
        Results { results }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Accounts {
    pub accounts: Vec<AccountOut>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Transfers {
    pub transfers: Vec<TransferOut>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Balances {
    pub balances: Vec<BalanceOut>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AccountOut {
    id: String,
    ledger: u32,
    code: u16,
    flags: Vec<&'static str>,
    user_data_128: String,
    user_data_64: String,
    user_data_32: u32,
    owner: OwnerOut,
    debits_pending: u64,
    debits_posted: u64,
    credits_pending: u64,
    credits_posted: u64,
    timestamp: u64,
}

#[derive(Debug, Serialize)]
struct OwnerOut {
    kind: &'static str,
    /// Absent for the platform, which has no id.
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TransferOut {
    id: String,
    debit_account_id: String,
    credit_account_id: String,
    amount: u64,
    pending_id: String,
    ledger: u32,
    code: u16,
    flags: Vec<&'static str>,
    timeout_s: u32,
    user_data_128: String,
    user_data_64: String,
    user_data_32: u32,
    timestamp: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct BalanceOut {
    timestamp: u64,
    debits_pending: u64,
    debits_posted: u64,
    credits_pending: u64,
    credits_posted: u64,
}

impl From<&Account> for AccountOut {
    fn from(account: &Account) -> AccountOut {
        AccountOut {
            id: account.id.to_string(),
            ledger: account.ledger,
            code: account.code,
            flags: account.flags.names(),
            user_data_128: account.user_data_128.to_string(),
            user_data_64: account.user_data_64.to_string(),
            user_data_32: account.user_data_32,
            owner: OwnerOut::from(&account.owner),
            debits_pending: account.debits_pending.get(),
            debits_posted: account.debits_posted.get(),
            credits_pending: account.credits_pending.get(),
            credits_posted: account.credits_posted.get(),
            timestamp: account.timestamp,
        }
    }
}

impl From<&Owner> for OwnerOut {
    fn from(owner: &Owner) -> OwnerOut {
        let id = match owner.kind {
            OwnerKind::Platform => String::new(),
            OwnerKind::Merchant | OwnerKind::Bank => owner.id.clone(),
        };
        OwnerOut {
            kind: owner.kind.as_str(),
            id,
        }
    }
}

impl From<&Transfer> for TransferOut {
    fn from(transfer: &Transfer) -> TransferOut {
        TransferOut {
            id: transfer.id.to_string(),
            debit_account_id: transfer.debit_account_id.to_string(),
            credit_account_id: transfer.credit_account_id.to_string(),
            amount: transfer.amount.get(),
            pending_id: transfer.pending_id.to_string(),
            ledger: transfer.ledger,
            code: transfer.code,
            flags: transfer.flags.names(),
            timeout_s: transfer.timeout_s,
            user_data_128: transfer.user_data_128.to_string(),
            user_data_64: transfer.user_data_64.to_string(),
            user_data_32: transfer.user_data_32,
            timestamp: transfer.timestamp,
        }
    }
}

impl From<&HistoryRow> for BalanceOut {
    fn from(row: &HistoryRow) -> BalanceOut {
        BalanceOut {
            timestamp: row.timestamp,
            debits_pending: row.debits_pending.get(),
            debits_posted: row.debits_posted.get(),
            credits_pending: row.credits_pending.get(),
            credits_posted: row.credits_posted.get(),
        }
    }
}
