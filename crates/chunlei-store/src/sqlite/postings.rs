//! Each account's list of transfers, kept as chunks of timestamps.
//!
//! A B-tree index on `(account_id, timestamp)` costs one dirty page per touched account per
//! commit: with 10,000 accounts a batch of 8,189 transfers rewrites thousands of pages, and
//! the ledger runs at a third of its speed. Instead the writer appends each transfer's
//! timestamp to an in-memory list per account and writes a list as one row when it reaches
//! [`CHUNK_LEN`] entries, and every list at each checkpoint (every [`CHECKPOINT_TRANSFERS`]
//! transfers). The transfers table itself is the durable record: on open, the lists since the
//! last checkpoint are rebuilt from it. Readers merge the stored chunks with a copy of the
//! in-memory list; entries leave the in-memory list only after the chunk holding them has
//! committed, so a reader never misses a committed transfer.

use std::sync::{Arc, Mutex, MutexGuard};

use chunlei_ledger::IdMap;
use rusqlite::{Connection, params};

use crate::StoreError;
use crate::chunks::encode;
use crate::codec::{self, id_bytes, id_from};

/// Entries that make an account's list be written as a chunk.
pub(crate) const CHUNK_LEN: usize = 128;
/// Transfers between checkpoints, which bound the work of rebuilding on open.
pub(crate) const CHECKPOINT_TRANSFERS: u64 = 1 << 20;

#[derive(Default)]
pub(crate) struct Postings {
    /// Timestamps not yet trimmed, ascending, per account.
    pending: IdMap<Vec<u64>>,
    transfers_since_checkpoint: u64,
    /// Set when a transaction that appended entries did not commit: the lists must be
    /// rebuilt from the database before the next write.
    stale: bool,
}

pub(crate) type SharedPostings = Arc<Mutex<Postings>>;

pub(crate) fn lock(postings: &SharedPostings) -> MutexGuard<'_, Postings> {
    // A panic while holding the lock leaves lists that may hold uncommitted entries, which
    // readers skip anyway; rebuild before the next write.
    postings.lock().unwrap_or_else(|poisoned| {
        let mut guard = poisoned.into_inner();
        guard.stale = true;
        guard
    })
}

/// What a write transaction must do to the lists once it has committed.
#[derive(Default)]
pub(crate) struct Trim {
    counts: Vec<(u128, usize)>,
    checkpoint: bool,
}

impl Postings {
    pub(crate) fn is_stale(&self) -> bool {
        self.stale
    }

    pub(crate) fn mark_stale(&mut self) {
        self.stale = true;
    }

    pub(crate) fn mark_fresh(&mut self) {
        self.stale = false;
    }

    /// A copy of the in-memory entries of one account.
    pub(crate) fn entries(&self, account_id: u128) -> Vec<u64> {
        self.pending.get(&account_id).cloned().unwrap_or_default()
    }

    /// Rebuilds the lists from the transfers after the last checkpoint.
    pub(crate) fn rebuild(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let through: i64 = conn.query_row(
            "SELECT chunks_through FROM ledger_clock WHERE singleton = 1",
            [],
            |r| r.get(0),
        )?;
        // Chunks written after the checkpoint already hold a prefix of some accounts' entries.
        let mut written: IdMap<i64> = IdMap::default();
        let mut stmt = conn.prepare(
            "SELECT account_id, MAX(last_ts) FROM account_transfer_chunks WHERE last_ts > ?1 GROUP BY account_id",
        )?;
        let mut rows = stmt.query([through])?;
        while let Some(row) = rows.next()? {
            written.insert(id_from(&row.get::<_, Vec<u8>>(0)?)?, row.get(1)?);
        }
        self.pending.clear();
        self.transfers_since_checkpoint = 0;
        let mut stmt = conn.prepare(
            "SELECT timestamp, debit_account_id, credit_account_id FROM transfers WHERE timestamp > ?1 ORDER BY timestamp",
        )?;
        let mut rows = stmt.query([through])?;
        while let Some(row) = rows.next()? {
            let ts: i64 = row.get(0)?;
            for column in [1, 2] {
                let account = id_from(&row.get::<_, Vec<u8>>(column)?)?;
                if written.get(&account).is_none_or(|last| ts > *last) {
                    self.pending
                        .entry(account)
                        .or_default()
                        .push(codec::i64_to_u64(ts));
                }
            }
            self.transfers_since_checkpoint += 1;
        }
        self.stale = false;
        Ok(())
    }

    /// Appends new transfers and writes the chunks that are due inside `tx`. The caller
    /// applies the returned [`Trim`] after the commit, or marks the lists stale if it fails.
    pub(crate) fn append(
        &mut self,
        tx: &Connection,
        transfers: impl Iterator<Item = (u64, u128, u128)>,
        clock: u64,
    ) -> Result<Trim, StoreError> {
        let mut touched: Vec<u128> = Vec::new();
        for (ts, debit, credit) in transfers {
            for account in [debit, credit] {
                let list = self.pending.entry(account).or_default();
                list.push(ts);
                if list.len() == CHUNK_LEN {
                    touched.push(account);
                }
            }
            self.transfers_since_checkpoint += 1;
        }
        let checkpoint = self.transfers_since_checkpoint >= CHECKPOINT_TRANSFERS;
        let mut insert = tx.prepare_cached(
            "INSERT INTO account_transfer_chunks (account_id, last_ts, timestamps) VALUES (?1, ?2, ?3)",
        )?;
        let mut trim = Trim {
            counts: Vec::new(),
            checkpoint,
        };
        let mut write = |account: u128, list: &[u64]| -> Result<(), StoreError> {
            if let Some(last) = list.last() {
                insert.execute(params![
                    id_bytes(account),
                    codec::timestamp(*last),
                    encode(list)
                ])?;
                trim.counts.push((account, list.len()));
            }
            Ok(())
        };
        if checkpoint {
            for (account, list) in &self.pending {
                write(*account, list)?;
            }
            tx.execute(
                "UPDATE ledger_clock SET chunks_through = ?1 WHERE singleton = 1",
                [codec::timestamp(clock)],
            )?;
        } else {
            for account in touched {
                write(account, &self.pending[&account])?;
            }
        }
        Ok(trim)
    }

    /// Drops the entries that the committed transaction wrote as chunks.
    pub(crate) fn trim(&mut self, trim: Trim) {
        for (account, count) in trim.counts {
            if let Some(list) = self.pending.get_mut(&account) {
                list.drain(..count.min(list.len()));
                if list.is_empty() {
                    self.pending.remove(&account);
                }
            }
        }
        if trim.checkpoint {
            self.pending.retain(|_, list| !list.is_empty());
            self.transfers_since_checkpoint = 0;
        }
    }
}
