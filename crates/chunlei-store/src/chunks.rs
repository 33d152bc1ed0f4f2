//! Each account's list of transfers, stored as chunks of timestamps, and the walk that lists
//! an account's transfers from them.
//!
//! A B-tree index on `(account, timestamp)` costs an index entry per side of every transfer,
//! each on a page of its own account: at 10,000 accounts a commit dirties thousands of pages.
//! A chunk row holds many timestamps of one account, so a commit adds a few rows instead
//! (SQLite: one per 128 transfers of an account, see `sqlite/postings.rs`; PostgreSQL: one per
//! account a commit touches). Rows are keyed by `(account_id, last_ts)`, the last timestamp
//! in the chunk; the transfers themselves are found by timestamp, their primary key.

use chunlei_ledger::Transfer;

use crate::{AccountFilter, StoreError};

/// Chunk rows read per query while walking.
pub(crate) const PAGE_ROWS: i64 = 64;

pub(crate) fn encode(timestamps: &[u64]) -> Vec<u8> {
    timestamps.iter().flat_map(|ts| ts.to_le_bytes()).collect()
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<u64>, StoreError> {
    if !bytes.len().is_multiple_of(8) {
        return Err(StoreError::Corrupt(format!(
            "timestamp chunk of {} bytes",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect())
}

/// Where the next page of chunks starts: after or before a `last_ts`, both exclusive.
#[derive(Clone, Copy)]
pub(crate) enum Cursor {
    After(i64),
    Before(i64),
}

/// A backend's access to one account's chunks and to transfers by timestamp, inside one
/// read transaction.
pub(crate) trait ChunkSource {
    /// Up to [`PAGE_ROWS`] chunks of `account` from `cursor`: ascending `last_ts` for
    /// `After`, descending for `Before`.
    fn chunks(&mut self, account: u128, cursor: Cursor)
    -> Result<Vec<(i64, Vec<u64>)>, StoreError>;
    fn transfer_at(&mut self, timestamp: u64) -> Result<Option<Transfer>, StoreError>;
}

/// Lists the account's transfers in the filter's order and bounds: the stored chunks, then
/// (ascending) or first (descending) `recent`, entries not yet in any chunk. An entry in both
/// is visited once; a timestamp whose transfer is not there (not yet committed) is skipped.
pub(crate) fn account_transfers(
    source: &mut dyn ChunkSource,
    filter: &AccountFilter,
    recent: &[u64],
) -> Result<Vec<Transfer>, StoreError> {
    let mut walk = Walk::new(filter);
    if filter.limit == 0 || !filter.debits && !filter.credits {
        return Ok(walk.found);
    }
    let account = filter.account_id;
    if filter.reversed {
        for ts in recent.iter().rev() {
            if !walk.visit(source, *ts)? {
                return Ok(walk.found);
            }
        }
        // The first chunk that can hold the upper bound: the one with the least last_ts >= max.
        let top = source.chunks(account, Cursor::After(as_i64(walk.max).saturating_sub(1)))?;
        let mut cursor = Cursor::Before(
            top.first()
                .map_or(i64::MAX, |(last, _)| last.saturating_add(1)),
        );
        loop {
            let page = source.chunks(account, cursor)?;
            for (last, timestamps) in &page {
                cursor = Cursor::Before(*last);
                for ts in timestamps.iter().rev() {
                    if !walk.visit(source, *ts)? {
                        return Ok(walk.found);
                    }
                }
            }
            if page.len() < PAGE_ROWS as usize {
                return Ok(walk.found);
            }
        }
    }
    let mut cursor = Cursor::After(as_i64(walk.min).saturating_sub(1));
    loop {
        let page = source.chunks(account, cursor)?;
        for (last, timestamps) in &page {
            cursor = Cursor::After(*last);
            for ts in timestamps {
                if !walk.visit(source, *ts)? {
                    return Ok(walk.found);
                }
            }
        }
        if page.len() < PAGE_ROWS as usize {
            break;
        }
    }
    for ts in recent {
        if !walk.visit(source, *ts)? {
            break;
        }
    }
    Ok(walk.found)
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

struct Walk<'f> {
    filter: &'f AccountFilter,
    min: u64,
    max: u64,
    last: Option<u64>,
    found: Vec<Transfer>,
}

impl Walk<'_> {
    fn new(filter: &AccountFilter) -> Walk<'_> {
        let max = if filter.timestamp_max == 0 {
            u64::MAX
        } else {
            filter.timestamp_max
        };
        Walk {
            filter,
            min: filter.timestamp_min,
            max,
            last: None,
            found: Vec::new(),
        }
    }

    /// Visits one timestamp; false once the walk is done (limit reached or past the bound).
    fn visit(&mut self, source: &mut dyn ChunkSource, ts: u64) -> Result<bool, StoreError> {
        let reversed = self.filter.reversed;
        let past_end = if reversed {
            ts < self.min
        } else {
            ts > self.max
        };
        if past_end {
            return Ok(false);
        }
        // Entries arrive in order; one not beyond the last visited was already seen.
        let in_order = self
            .last
            .is_none_or(|last| if reversed { ts < last } else { ts > last });
        if !in_order || ts < self.min || ts > self.max {
            return Ok(true);
        }
        self.last = Some(ts);
        if let Some(t) = source.transfer_at(ts)? {
            let id = self.filter.account_id;
            let wanted = (self.filter.debits && t.debit_account_id == id)
                || (self.filter.credits && t.credit_account_id == id);
            if wanted {
                self.found.push(t);
            }
        }
        Ok(self.found.len() < self.filter.limit as usize)
    }
}

#[cfg(test)]
mod tests;
