//! Conversions between ledger values and database columns, shared by both backends.
//!
//! 128-bit ids are stored as 16 big-endian bytes, so byte order is numeric order. Unsigned
//! 64-bit user data is stored bit-for-bit in a signed 64-bit column.

use chunlei_ledger::{
    Account, AccountFlags, Fen, Owner, OwnerKind, PendingStatus, State, TransferFlags,
};

use crate::StoreError;

/// The columns every account query selects (accounts `a` joined with their owner `o`), in the
/// order both backends' row readers take them.
pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.debits_pending, a.debits_posted, a.credits_pending, \
    a.credits_posted, a.user_data_128, a.user_data_64, a.user_data_32, a.ledger, a.code, a.flags, \
    a.timestamp, o.kind, o.owner_id";
/// The columns every transfer query selects, in the order both backends' row readers take them.
pub(crate) const TRANSFER_COLUMNS: &str = "t.id, t.debit_account_id, t.credit_account_id, t.amount, \
    t.pending_id, t.user_data_128, t.user_data_64, t.user_data_32, t.timeout_s, t.ledger, t.code, \
    t.flags, t.timestamp";

pub(crate) fn id_bytes(id: u128) -> [u8; 16] {
    id.to_be_bytes()
}

pub(crate) fn id_from(bytes: &[u8]) -> Result<u128, StoreError> {
    let array: [u8; 16] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("id of {} bytes", bytes.len())))?;
    Ok(u128::from_be_bytes(array))
}

pub(crate) fn fen(value: i64) -> Result<Fen, StoreError> {
    Fen::from_i64(value).ok_or_else(|| StoreError::Corrupt(format!("negative amount {value}")))
}

pub(crate) fn u64_to_i64(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

pub(crate) fn i64_to_u64(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

pub(crate) fn u32_from(value: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} out of range")))
}

pub(crate) fn u16_from(value: i64, what: &str) -> Result<u16, StoreError> {
    u16::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} out of range")))
}

pub(crate) fn account_flags(value: i64) -> Result<AccountFlags, StoreError> {
    u16_from(value, "account flags")
        .ok()
        .and_then(AccountFlags::from_bits)
        .ok_or_else(|| StoreError::Corrupt(format!("account flags {value}")))
}

pub(crate) fn transfer_flags(value: i64) -> Result<TransferFlags, StoreError> {
    u16_from(value, "transfer flags")
        .ok()
        .and_then(TransferFlags::from_bits)
        .ok_or_else(|| StoreError::Corrupt(format!("transfer flags {value}")))
}

/// Pending states as small integers in the database.
pub(crate) fn status_code(status: PendingStatus) -> i64 {
    match status {
        PendingStatus::Pending => 0,
        PendingStatus::Posted => 1,
        PendingStatus::Voided => 2,
        PendingStatus::Expired => 3,
    }
}

pub(crate) fn status_from(code: i64) -> Result<PendingStatus, StoreError> {
    match code {
        0 => Ok(PendingStatus::Pending),
        1 => Ok(PendingStatus::Posted),
        2 => Ok(PendingStatus::Voided),
        3 => Ok(PendingStatus::Expired),
        other => Err(StoreError::Corrupt(format!("pending status {other}"))),
    }
}

pub(crate) fn timestamp(value: u64) -> i64 {
    // Nanosecond timestamps fit i64 until the year 2262.
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Zero ids and zero user data are stored as NULL, which keeps rows short.
pub(crate) fn opt_id(value: u128) -> Option<[u8; 16]> {
    (value != 0).then(|| id_bytes(value))
}

/// An account the engine changed; its absence from the working set is a bug, not bad data.
pub(crate) fn account_in(state: &State, id: u128) -> Result<&Account, StoreError> {
    state
        .accounts
        .get(&id)
        .ok_or_else(|| StoreError::Corrupt(format!("changed account {id} missing")))
}

/// The owner from the `account_owners` columns of a join; no row means the platform.
pub(crate) fn owner(kind: Option<&str>, owner_id: Option<String>) -> Result<Owner, StoreError> {
    match kind {
        Some(kind) => Ok(Owner {
            kind: OwnerKind::parse(kind)
                .ok_or_else(|| StoreError::Corrupt(format!("owner kind {kind}")))?,
            id: owner_id.unwrap_or_default(),
        }),
        None => Ok(Owner::platform()),
    }
}
