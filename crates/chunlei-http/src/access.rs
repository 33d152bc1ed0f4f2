//! Authorisation: what a [`Principal`] may do, decided in [`authorize`] and nowhere else.
//!
//! Every handler describes what it is about to do as an [`Action`] and calls `authorize`
//! before doing it. Denied reads answer 404, exactly as for records that do not exist, so a
//! merchant cannot probe for the ids of other merchants' accounts or registry entries; denied
//! writes, and listings a role may not use at all, answer 403.

use chunlei_ledger::{Account, Owner, OwnerKind, Transfer};
use chunlei_settlement::MerchantId;

use crate::auth::{Principal, Role};
use crate::{ApiError, PartyId};

/// Something a request wants to do.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    CreateAccounts,
    CreateTransfers,
    /// Read an account, its transfers or its balance history.
    ReadAccount(&'a Account),
    /// Read a transfer. For merchants and banks the owners of its accounts decide; `None`
    /// where an account is not stored, which grants them nothing.
    ReadTransfer {
        transfer: &'a Transfer,
        debit_owner: Option<&'a Owner>,
        credit_owner: Option<&'a Owner>,
    },
    /// Create or replace a merchant's registry entry.
    WriteMerchant,
    /// Read one merchant's registry entry: a merchant key reads only its own.
    ReadMerchant(&'a MerchantId),
    /// List the registry.
    ListMerchants,
    /// Put, read or clear a merchant's fraud flag: the platform's risk work, never the
    /// merchant's or a bank's.
    FraudFlags,
    /// Send order events (the marketplace's systems).
    SendEvents,
    /// Read an order: a merchant key reads only its own merchant's orders.
    ReadOrder {
        merchant_id: &'a str,
        order_id: &'a str,
    },
    /// Read a merchant's settlement statement, or ask for its payout.
    MerchantSettlement(&'a MerchantId),
    /// List payout instructions and report the bank's answers.
    ServicePayouts,
    /// Read the programme's figures.
    ReadProgram,
    /// Read the server's counts (`GET /metrics`): the platform's monitoring.
    ReadMetrics,
    /// Apply for a loan for a merchant: the merchant itself, or the platform's systems.
    ApplyForLoan(&'a MerchantId),
    /// Grant relief on a loan or write it off.
    AdjustLoan {
        bank_id: &'a str,
    },
    /// Read an accepted loan.
    ReadLoan {
        merchant_id: &'a str,
        bank_id: &'a str,
    },
    /// Read a stored loan decision: a merchant reads its own; a bank only one whose chosen
    /// offer is its own (`bank_id` is the chosen offer's bank, `None` when declined).
    ReadLoanDecision {
        application_id: &'a str,
        merchant_id: &'a str,
        bank_id: Option<&'a str>,
    },
}

/// `Ok` when `principal` may perform `action`; otherwise the error to answer with.
pub fn authorize(principal: &Principal, action: &Action<'_>) -> Result<(), ApiError> {
    let role = &principal.role;
    let allowed = match action {
        Action::CreateAccounts
        | Action::CreateTransfers
        | Action::WriteMerchant
        | Action::ListMerchants
        | Action::FraudFlags
        | Action::SendEvents
        | Action::ServicePayouts
        | Action::ReadMetrics => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(_) | Role::Bank(_) => false,
        },
        Action::ReadProgram => matches!(role, Role::Operator),
        Action::ReadOrder { merchant_id, .. } => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(own) => own.as_str() == *merchant_id,
            Role::Bank(_) => false,
        },
        Action::ReadMerchant(id) | Action::MerchantSettlement(id) => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(own) => own.as_str() == id.as_str(),
            Role::Bank(_) => false,
        },
        Action::ApplyForLoan(id) => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(own) => own.as_str() == id.as_str(),
            Role::Bank(_) => false,
        },
        Action::ReadLoanDecision {
            merchant_id,
            bank_id,
            ..
        } => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(own) => own.as_str() == *merchant_id,
            Role::Bank(own) => *bank_id == Some(own.as_str()),
        },
        Action::AdjustLoan { bank_id } => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(_) => false,
            Role::Bank(own) => own.as_str() == *bank_id,
        },
        Action::ReadLoan {
            merchant_id,
            bank_id,
        } => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(own) => own.as_str() == *merchant_id,
            Role::Bank(own) => own.as_str() == *bank_id,
        },
        Action::ReadAccount(account) => owns(role, &account.owner),
        Action::ReadTransfer {
            debit_owner,
            credit_owner,
            ..
        } => match role {
            Role::Operator | Role::Integration => true,
            Role::Merchant(_) | Role::Bank(_) => {
                debit_owner.is_some_and(|owner| owns(role, owner))
                    || credit_owner.is_some_and(|owner| owns(role, owner))
            }
        },
    };
    if allowed {
        return Ok(());
    }
    Err(match action {
        Action::CreateAccounts
        | Action::CreateTransfers
        | Action::WriteMerchant
        | Action::ListMerchants
        | Action::FraudFlags
        | Action::SendEvents
        | Action::ServicePayouts
        | Action::ReadProgram
        | Action::ReadMetrics
        | Action::ApplyForLoan(_)
        | Action::AdjustLoan { .. } => ApiError::Forbidden,
        Action::ReadLoanDecision { application_id, .. } => decision_not_found(application_id),
        Action::ReadLoan { .. } => {
            ApiError::Loan(chunlei_lending::loans::LoanRejection::LoanNotFound)
        }
        Action::ReadAccount(account) => account_not_found(account.id),
        Action::ReadMerchant(id) | Action::MerchantSettlement(id) => merchant_not_found(id),
        Action::ReadOrder { order_id, .. } => order_not_found(order_id),
        Action::ReadTransfer { transfer, .. } => transfer_not_found(transfer.id),
    })
}

/// True when `role` may see what `owner` owns: the platform's roles see everything, a
/// merchant or bank only its own.
fn owns(role: &Role, owner: &Owner) -> bool {
    let is = |kind: OwnerKind, id: &PartyId| owner.kind == kind && owner.id == id.as_str();
    match role {
        Role::Operator | Role::Integration => true,
        Role::Merchant(id) => is(OwnerKind::Merchant, id),
        Role::Bank(id) => is(OwnerKind::Bank, id),
    }
}

/// The answer for an account that does not exist or may not be seen; the two are the same.
pub(crate) fn account_not_found(id: u128) -> ApiError {
    ApiError::NotFound(format!("account {id} was not found"))
}

/// The answer for a transfer that does not exist or may not be seen.
pub(crate) fn transfer_not_found(id: u128) -> ApiError {
    ApiError::NotFound(format!("transfer {id} was not found"))
}

/// The answer for an order that does not exist or may not be seen.
pub(crate) fn order_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("order {id} was not found"))
}

/// The answer for a payout that does not exist.
pub(crate) fn payout_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("payout {id} was not found"))
}

/// The answer for a loan decision that does not exist or may not be seen.
pub(crate) fn decision_not_found(application_id: &str) -> ApiError {
    ApiError::NotFound(format!("loan application {application_id} was not found"))
}

/// The answer for a merchant that does not exist or may not be seen.
pub(crate) fn merchant_not_found(id: &MerchantId) -> ApiError {
    ApiError::NotFound(format!("merchant {id} was not found"))
}

#[cfg(test)]
mod tests;
