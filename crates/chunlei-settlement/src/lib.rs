//! The rules of the zero account period (0账期) that need no storage: an order's life cycle
//! and the commission it is charged, and the ledger transfers each money flow makes.
//!
//! Like the ledger engine this crate is pure: it reads no clock and touches no database. The
//! settlement service (a later step) keeps orders in the store, turns accepted events into
//! ledger transfers, and asks this crate what is allowed and what is owed.

pub mod book;
mod fees;
mod merchant;
mod order;
mod program;

pub use fees::{FeeQuote, FeeRule, FeeSchedule, NoRelief, Relief};
pub use flows::{Ids, MerchantAccounts, PlatformAccounts, Split, SplitError};
pub use merchant::{
    AccountNumber, BankCode, CivilDate, FieldError, Merchant, MerchantFields, MerchantId,
    MerchantKind, PayoutAccount, RegionCode, RiskTier,
};
pub mod flows;
pub use order::{LifecycleError, Order, OrderEvent, OrderStatus, Shipping};
pub use program::{Eligibility, Ineligible, MerchantMetrics, Program, start_of};

#[cfg(test)]
mod tests;
