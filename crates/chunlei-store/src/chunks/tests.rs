//! The walk against a plain model: every combination of bounds, order, side and limit must
//! list exactly what filtering all of the account's transfers would.

use chunlei_ledger::{Fen, Transfer};

use super::{ChunkSource, Cursor, PAGE_ROWS, account_transfers};
use crate::{AccountFilter, StoreError};

const ACCOUNT: u128 = 7;

/// Transfers at timestamps 10, 20, …; odd ones debit the account, even ones credit it. Some
/// timestamps have no transfer (not committed yet), as a reader can meet.
struct Model {
    chunks: Vec<(i64, Vec<u64>)>,
    transfers: Vec<Transfer>,
}

impl Model {
    fn new(count: u64, chunk_len: usize) -> (Model, Vec<u64>) {
        let timestamps: Vec<u64> = (1..=count).map(|i| i * 10).collect();
        let transfers = timestamps
            .iter()
            .filter(|ts| *ts % 70 != 0)
            .map(|ts| {
                let (debit, credit) = if ts % 20 == 10 {
                    (ACCOUNT, 1)
                } else {
                    (1, ACCOUNT)
                };
                let amount = Fen::new(1).unwrap_or(Fen::ZERO);
                Transfer {
                    timestamp: *ts,
                    ..Transfer::new(u128::from(*ts), debit, credit, amount)
                }
            })
            .collect();
        // The last few entries are only in memory; two of them also made it into a chunk.
        let stored = timestamps.len().saturating_sub(5);
        let chunks = timestamps[..(stored + 2).min(timestamps.len())]
            .chunks(chunk_len)
            .map(|c| {
                (
                    i64::try_from(c[c.len() - 1]).unwrap_or(i64::MAX),
                    c.to_vec(),
                )
            })
            .collect();
        (Model { chunks, transfers }, timestamps[stored..].to_vec())
    }

    fn expected(&self, f: &AccountFilter) -> Vec<u64> {
        let max = if f.timestamp_max == 0 {
            u64::MAX
        } else {
            f.timestamp_max
        };
        let mut all: Vec<u64> = self
            .transfers
            .iter()
            .filter(|t| t.timestamp >= f.timestamp_min && t.timestamp <= max)
            .filter(|t| {
                f.debits && t.debit_account_id == ACCOUNT
                    || f.credits && t.credit_account_id == ACCOUNT
            })
            .map(|t| t.timestamp)
            .collect();
        if f.reversed {
            all.reverse();
        }
        all.truncate(f.limit as usize);
        all
    }
}

impl ChunkSource for Model {
    fn chunks(
        &mut self,
        account: u128,
        cursor: Cursor,
    ) -> Result<Vec<(i64, Vec<u64>)>, StoreError> {
        assert_eq!(account, ACCOUNT);
        let page = PAGE_ROWS as usize;
        Ok(match cursor {
            Cursor::After(after) => self
                .chunks
                .iter()
                .filter(|(l, _)| *l > after)
                .take(page)
                .cloned()
                .collect(),
            Cursor::Before(before) => self
                .chunks
                .iter()
                .rev()
                .filter(|(l, _)| *l < before)
                .take(page)
                .cloned()
                .collect(),
        })
    }

    fn transfer_at(&mut self, timestamp: u64) -> Result<Option<Transfer>, StoreError> {
        Ok(self
            .transfers
            .iter()
            .find(|t| t.timestamp == timestamp)
            .cloned())
    }
}

#[test]
fn the_walk_lists_what_filtering_everything_would() {
    // Enough chunks for several pages, and a small ledger that fits in one.
    for (count, chunk_len) in [(3_000, 7), (12, 5), (1, 1), (0, 3)] {
        let (mut model, recent) = Model::new(count, chunk_len);
        let last = count * 10;
        for (min, max) in [
            (0, 0),
            (0, last / 2),
            (last / 3, 0),
            (last / 3, last / 3 + 95),
            (last + 10, 0),
        ] {
            for reversed in [false, true] {
                for (debits, credits) in
                    [(true, true), (true, false), (false, true), (false, false)]
                {
                    for limit in [0, 1, 3, 100, 8_189] {
                        let filter = AccountFilter {
                            account_id: ACCOUNT,
                            timestamp_min: min,
                            timestamp_max: max,
                            limit,
                            debits,
                            credits,
                            reversed,
                        };
                        let expected = model.expected(&filter);
                        let listed = account_transfers(&mut model, &filter, &recent).expect("walk");
                        let listed: Vec<u64> = listed.iter().map(|t| t.timestamp).collect();
                        assert_eq!(
                            listed, expected,
                            "{count} in chunks of {chunk_len}: {filter:?}"
                        );
                    }
                }
            }
        }
    }
}
