//! The double-entry ledger engine, modelled on TigerBeetle's semantics.
//!
//! This crate is pure: it holds no connection, reads no clock and does no IO. The store loads
//! the records a batch needs into a [`State`], the engine applies the batch to it and records
//! what changed in [`Changes`], and the store writes those changes in one transaction. That
//! split is what lets the engine be tested as data and the store be swapped.

mod codes;
mod date;
mod engine;
mod fen;
mod types;
mod verify;

pub use codes::{CreateAccountResult, CreateTransferResult};
pub use date::{CivilDate, DateError, YEAR_MAX, YEAR_MIN};
pub use engine::{Changes, HistoryRow, IdMap, IdSet, State};
pub use fen::Fen;
pub use types::{
    Account, AccountFlags, BATCH_EVENTS_MAX, ID_INT_MAX, Owner, OwnerKind, PendingInfo,
    PendingStatus, Transfer, TransferFlags,
};
pub use verify::{Recomputed, Violation, verify};

#[cfg(test)]
mod tests;
