//! SQLite reads: a small pool of connections, each reading the last committed state.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use chunlei_ledger::{Account, HistoryRow, Recomputed, Transfer, Violation};
use chunlei_settlement::{Merchant, MerchantId};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::postings::{self, SharedPostings};
use super::registry::RegistryChanges;
use super::{account_row, connect, transfer_row};
use crate::chunks::{self, ChunkSource, Cursor};
use crate::codec::{self, id_bytes};
use crate::codec::{ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use crate::merchants::INSERT_FLAG_EVENT;
use crate::merchants::{MERCHANT_COLUMNS, MERCHANT_UPDATES, MerchantRow};
use crate::settlement::{Cell, Table};
use crate::shards::{SHARDS, Shards};
use crate::{
    AccountFilter, ApiKeyRecord, FlagAction, FraudFlag, FraudFlagEvent, ReadPool, StoreError,
    UsageRow,
};
use chunlei_settlement::book::DailyActivity;

pub(crate) struct SqliteReads {
    pub(super) path: PathBuf,
    pub(super) pool: Mutex<Pool>,
    /// Signalled whenever a connection goes back to the pool or an opening fails.
    pub(super) returned: Condvar,
    /// Connections open at most; a read finding none idle waits for one.
    pub(super) open_max: usize,
    pub(super) postings: SharedPostings,
    /// Merchants parsed from their rows, each with the registry change count it was read at.
    pub(super) registry: Shards<Registry>,
    /// The registry's changes known here, which say whether such a merchant still holds.
    pub(super) registry_changes: Arc<RegistryChanges>,
}

/// One shard's merchants read from the registry, each with the change count it was read at: a
/// read whose snapshot has another count may answer one from here, without reading and parsing
/// its row again, while the merchant has no change between the two
/// ([`RegistryChanges::holds`]).
#[derive(Default)]
pub(super) struct Registry {
    /// Shared with the decision inputs made from them: keeping one copies no merchant.
    merchants: HashMap<String, (i64, Arc<Merchant>)>,
}

/// Merchants held in the registry's shards at most; past it each new one takes an old one's
/// place in its shard.
const REGISTRY_CACHED_MAX: usize = 1 << 16;
const REGISTRY_SHARD_MAX: usize = REGISTRY_CACHED_MAX / SHARDS;

impl Registry {
    /// The merchant as of count `at`, which `changes` has caught up to.
    fn get(&self, changes: &RegistryChanges, at: i64, id: &MerchantId) -> Option<Arc<Merchant>> {
        let (read_at, merchant) = self.merchants.get(id.as_str())?;
        changes
            .holds(id.as_str(), *read_at, at)
            .then(|| Arc::clone(merchant))
    }

    /// Keeps `merchant`, read at count `at`, unless a copy read at a later count is kept.
    fn keep(&mut self, at: i64, merchant: &Arc<Merchant>) {
        let id = merchant.id.as_str();
        if let Some(kept) = self.merchants.get_mut(id) {
            if kept.0 < at {
                *kept = (at, Arc::clone(merchant));
            }
            return;
        }
        if self.merchants.len() >= REGISTRY_SHARD_MAX {
            let evicted = self.merchants.keys().next().cloned();
            if let Some(evicted) = evicted {
                self.merchants.remove(&evicted);
            }
        }
        self.merchants
            .insert(id.to_owned(), (at, Arc::clone(merchant)));
    }
}

/// The read connections: those idle, and how many are open in all.
#[derive(Default)]
pub(super) struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

/// A connection taken from the pool; it goes back when dropped, even when the read panics.
struct Lease<'a> {
    reads: &'a SqliteReads,
    conn: Option<Connection>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut pool)) = (self.conn.take(), self.reads.pool.lock()) {
            pool.idle.push(conn);
        }
        self.reads.returned.notify_one();
    }
}

thread_local! {
    /// Connections pinned to this thread by [`SqliteReads::in_snapshot`], each with its read
    /// transaction open, by the address of the pool they came from.
    static PINNED: RefCell<Vec<Pinned>> = const { RefCell::new(Vec::new()) };
}

/// A connection pinned to a thread for a snapshot.
struct Pinned {
    /// The address of the pool it came from.
    key: usize,
    conn: Connection,
    /// The registry's change count in the snapshot, caught up to, once a read has asked: it
    /// cannot change while the snapshot lasts, so the merchants read in it ask once.
    registry_changes: std::cell::Cell<Option<i64>>,
}

/// Gives a pinned connection back to its lease when the snapshot ends, even when the reads
/// inside it panicked.
struct Pin<'a> {
    lease: Lease<'a>,
    key: usize,
}

impl Drop for Pin<'_> {
    fn drop(&mut self) {
        let key = self.key;
        let conn = PINNED.with(|pinned| {
            let mut pinned = pinned.borrow_mut();
            let at = pinned.iter().position(|p| p.key == key)?;
            Some(pinned.remove(at).conn)
        });
        let Some(conn) = conn else { return };
        // A read transaction keeps nothing: ending it either way gives the same.
        if super::run_cached(&conn, "ROLLBACK").is_ok() {
            self.lease.conn = Some(conn);
        } else if let Ok(mut pool) = self.lease.reads.pool.lock() {
            // In an unknown state: closed rather than handed to the next read.
            pool.open -= 1;
        }
    }
}

impl SqliteReads {
    /// Runs `f` on a connection: the one [`SqliteReads::in_snapshot`] pinned to this thread
    /// when there is one, else a pooled one. Only single-statement reads come this way; reads
    /// with a transaction of their own and writes take [`SqliteReads::with_pooled`].
    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.is_pinned() {
            return self.with_pooled(f);
        }
        self.with_pin(|pin| f(&pin.conn))
    }

    /// Runs `f` on the connection [`SqliteReads::in_snapshot`] pinned to this thread.
    fn with_pin<T>(
        &self,
        f: impl FnOnce(&Pinned) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = self.key();
        PINNED.with(|pinned| {
            let pinned = pinned.borrow();
            match pinned.iter().find(|p| p.key == key) {
                Some(pin) => f(pin),
                None => Err(StoreError::Corrupt("a pinned connection is missing".into())),
            }
        })
    }

    /// [`SqliteReads::with`], giving `f` the registry's change count its read sees, caught up
    /// to ([`RegistryChanges::catch_up_with`]). Inside a snapshot the count is read once.
    fn with_registry_changes<T>(
        &self,
        f: impl FnOnce(&Connection, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.is_pinned() {
            return self.with_pooled(|conn| f(conn, self.registry_changes.catch_up_with(conn)?));
        }
        self.with_pin(|pin| {
            let changes = match pin.registry_changes.get() {
                Some(changes) => changes,
                None => {
                    let changes = self.registry_changes.catch_up_with(&pin.conn)?;
                    pin.registry_changes.set(Some(changes));
                    changes
                }
            };
            f(&pin.conn, changes)
        })
    }

    fn key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Whether this thread is inside a snapshot of this pool's database.
    fn is_pinned(&self) -> bool {
        let key = self.key();
        PINNED.with(|pinned| pinned.borrow().iter().any(|p| p.key == key))
    }

    /// Runs `f` on a pooled connection, never a pinned one.
    fn with_pooled<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let lease = self.lease()?;
        match &lease.conn {
            Some(conn) => f(conn),
            None => Err(StoreError::Corrupt("a leased connection is missing".into())),
        }
    }

    /// Opens connections until `count` are idle (no more than the pool's bound), so that the
    /// reads that first need them do not pay for opening them: the decision readers'
    /// connections open with the store, not under the first applications.
    pub(super) fn open_idle(&self, count: usize) -> Result<(), StoreError> {
        let poisoned = |_| StoreError::Corrupt("read pool poisoned".into());
        let mut pool = self.pool.lock().map_err(poisoned)?;
        while pool.idle.len() < count && pool.open < self.open_max.max(1) {
            pool.idle.push(connect(&self.path)?);
            pool.open += 1;
        }
        Ok(())
    }

    /// Takes a connection from the pool. At most `open_max` are open: under more concurrent
    /// reads than that, a read waits for one to come back rather than open another, which
    /// would cost more than most reads (opening sets pragmas and prepares anew).
    fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let poisoned = |_| StoreError::Corrupt("read pool poisoned".into());
        let mut pool = self.pool.lock().map_err(poisoned)?;
        let pooled = loop {
            if let Some(conn) = pool.idle.pop() {
                break Some(conn);
            }
            if pool.open < self.open_max.max(1) {
                pool.open += 1;
                break None;
            }
            pool = self.returned.wait(pool).map_err(poisoned)?;
        };
        drop(pool);
        let conn = match pooled {
            Some(conn) => conn,
            None => match connect(&self.path) {
                Ok(conn) => conn,
                Err(error) => {
                    if let Ok(mut pool) = self.pool.lock() {
                        pool.open -= 1;
                    }
                    self.returned.notify_one();
                    return Err(error);
                }
            },
        };
        Ok(Lease {
            reads: self,
            conn: Some(conn),
        })
    }
}

/// `(min, max)` timestamps of a filter as inclusive SQL bounds.
fn bounds(filter: &AccountFilter) -> (i64, i64) {
    let max = if filter.timestamp_max == 0 {
        i64::MAX
    } else {
        codec::timestamp(filter.timestamp_max)
    };
    (codec::timestamp(filter.timestamp_min), max)
}

impl ReadPool for SqliteReads {
    fn in_snapshot(&self, f: &mut dyn FnMut() -> Result<(), StoreError>) -> Result<(), StoreError> {
        if self.is_pinned() {
            // Already inside a snapshot of this database: the same one.
            return f();
        }
        // The pooled connection is pinned to this thread for the snapshot.
        let mut lease = self.lease()?;
        let key = self.key();
        let conn = lease
            .conn
            .take()
            .ok_or_else(|| StoreError::Corrupt("a leased connection is missing".into()))?;
        // Deferred: the snapshot is taken by the first read.
        if let Err(error) = super::run_cached(&conn, "BEGIN") {
            lease.conn = Some(conn);
            return Err(error.into());
        }
        PINNED.with(|pinned| {
            pinned.borrow_mut().push(Pinned {
                key,
                conn,
                registry_changes: std::cell::Cell::new(None),
            });
        });
        let pin = Pin { lease, key };
        let result = f();
        drop(pin);
        result
    }

    fn lookup_accounts(&self, ids: &[u128]) -> Result<Vec<Account>, StoreError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN account_owners o ON o.account_id = a.id WHERE a.id = ?1"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(a) = stmt.query_row([id_bytes(*id)], |r| Ok(account_row(r))).optional()? {
                    found.push(a?);
                }
            }
            Ok(found)
        })
    }

    fn lookup_transfers(&self, ids: &[u128]) -> Result<Vec<Transfer>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.id = ?1"
            ))?;
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(t) = stmt
                    .query_row([id_bytes(*id)], |r| Ok(transfer_row(r)))
                    .optional()?
                {
                    found.push(t?);
                }
            }
            Ok(found)
        })
    }

    fn account_transfers(&self, filter: &AccountFilter) -> Result<Vec<Transfer>, StoreError> {
        if !filter.debits && !filter.credits || filter.limit == 0 {
            return Ok(Vec::new());
        }
        // Copy the in-memory entries before reading the database: entries leave memory only
        // after their chunk committed, so together the two miss nothing.
        let recent = postings::lock(&self.postings).entries(filter.account_id);
        self.with_pooled(|conn| {
            conn.execute_batch("BEGIN")?;
            let result = chunks::account_transfers(&mut SqliteChunks { conn }, filter, &recent);
            conn.execute_batch("COMMIT")?;
            result
        })
    }

    fn account_balances(&self, filter: &AccountFilter) -> Result<Vec<HistoryRow>, StoreError> {
        let order = if filter.reversed { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT timestamp, debits_pending, debits_posted, credits_pending, credits_posted FROM account_balances \
             WHERE account_id = ?1 AND timestamp BETWEEN ?2 AND ?3 ORDER BY timestamp {order} LIMIT ?4"
        );
        let (min, max) = bounds(filter);
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![id_bytes(filter.account_id), min, max, filter.limit],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )?;
            rows.map(|row| {
                let (ts, dp, dpo, cp, cpo) = row?;
                Ok(HistoryRow {
                    account_id: filter.account_id,
                    timestamp: codec::i64_to_u64(ts),
                    debits_pending: codec::fen(dp)?,
                    debits_posted: codec::fen(dpo)?,
                    credits_pending: codec::fen(cp)?,
                    credits_posted: codec::fen(cpo)?,
                })
            })
            .collect()
        })
    }

    fn accounts_of_owner(
        &self,
        kind: &str,
        owner_id: &str,
        limit: u32,
    ) -> Result<Vec<Account>, StoreError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account_owners o JOIN accounts a ON a.id = o.account_id \
                 WHERE o.kind = ?1 AND o.owner_id = ?2 ORDER BY a.timestamp LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![kind, owner_id, limit], |r| Ok(account_row(r)))?;
            rows.map(|row| row?).collect()
        })
    }

    fn verify(&self) -> Result<Vec<Violation>, StoreError> {
        self.with_pooled(|conn| {
            // One read transaction, so accounts and transfers come from the same snapshot.
            conn.execute_batch("BEGIN")?;
            let result = verify_in(conn);
            conn.execute_batch("COMMIT")?;
            result
        })
    }

    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with_pooled(|conn| {
            conn.execute(
                "INSERT INTO api_keys (key_id, secret_sha256, role, merchant_id, bank_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key.key_id,
                    key.secret_sha256.as_slice(),
                    key.role,
                    key.merchant_id,
                    key.bank_id,
                    codec::timestamp(key.created_at)
                ],
            )?;
            Ok(())
        })
    }

    fn find_api_key(&self, secret_sha256: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key_id, role, merchant_id, bank_id, created_at FROM api_keys WHERE secret_sha256 = ?1",
            )?;
            let row = stmt
                .query_row([secret_sha256.as_slice()], |r| {
                    Ok(ApiKeyRecord {
                        key_id: r.get(0)?,
                        secret_sha256: *secret_sha256,
                        role: r.get(1)?,
                        merchant_id: r.get(2)?,
                        bank_id: r.get(3)?,
                        created_at: codec::i64_to_u64(r.get(4)?),
                    })
                })
                .optional()?;
            Ok(row)
        })
    }

    fn upsert_merchants(&self, merchants: &[&Merchant], now: u64) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO merchants ({MERCHANT_COLUMNS}, created_at, updated_at, version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 1) \
             ON CONFLICT (id) DO UPDATE SET {MERCHANT_UPDATES}"
        );
        self.with_pooled(|conn| {
            // IMMEDIATE: take the write lock at the start, so the transaction cannot fail
            // half-way on a lock it could not upgrade. Dropped without commit, it rolls back.
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            {
                let mut upsert = tx.prepare_cached(&sql)?;
                for m in merchants {
                    let account = &m.payout_account;
                    upsert.execute(params![
                        m.id.as_str(),
                        m.name,
                        m.kind.as_str(),
                        m.foreign_trade,
                        m.region_code.as_str(),
                        m.category,
                        m.joined_on.days_since_epoch(),
                        m.cluster_id,
                        m.agriculture_base_id,
                        m.risk_tier.as_str(),
                        account.bank_code.as_str(),
                        account.account_number.as_str(),
                        account.holder_name,
                        codec::timestamp(now),
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn insert_fraud_flag(&self, flag: &FraudFlag) -> Result<bool, StoreError> {
        self.with_pooled(|conn| {
            // IMMEDIATE: the write lock from the start, so the flag and its event commit
            // together or not at all. Dropped without commit, it rolls back.
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO merchant_fraud_flags (merchant_id, reason, flagged_at, flagged_by) \
                     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM merchants WHERE id = ?1) \
                     ON CONFLICT (merchant_id) DO NOTHING",
                )?
                .execute(params![
                    flag.merchant_id,
                    flag.reason,
                    codec::timestamp(flag.flagged_at),
                    flag.flagged_by
                ])?;
            if inserted == 1 {
                tx.prepare_cached(INSERT_FLAG_EVENT)?.execute(params![
                    flag.merchant_id,
                    codec::timestamp(flag.flagged_at),
                    FlagAction::Set.as_str(),
                    flag.reason,
                    flag.flagged_by
                ])?;
            }
            tx.commit()?;
            Ok(inserted == 1)
        })
    }

    fn delete_fraud_flag(
        &self,
        merchant_id: &str,
        actor: &str,
        at: u64,
    ) -> Result<bool, StoreError> {
        self.with_pooled(|conn| {
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            let reason: Option<String> = tx
                .prepare_cached(
                    "DELETE FROM merchant_fraud_flags WHERE merchant_id = ?1 RETURNING reason",
                )?
                .query_row([merchant_id], |r| r.get(0))
                .optional()?;
            if let Some(reason) = &reason {
                tx.prepare_cached(INSERT_FLAG_EVENT)?.execute(params![
                    merchant_id,
                    codec::timestamp(at),
                    FlagAction::Cleared.as_str(),
                    reason,
                    actor
                ])?;
            }
            tx.commit()?;
            Ok(reason.is_some())
        })
    }

    fn fraud_flag_events(
        &self,
        merchant_id: &str,
        limit: u32,
    ) -> Result<Vec<FraudFlagEvent>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at, action, reason, actor FROM merchant_fraud_flag_events \
                 WHERE merchant_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![merchant_id, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            rows.map(|row| {
                let (at, action, reason, actor) = row?;
                Ok(FraudFlagEvent {
                    at: codec::i64_to_u64(at),
                    action: FlagAction::parse(&action)?,
                    reason,
                    actor,
                })
            })
            .collect()
        })
    }

    fn fraud_flag(&self, merchant_id: &str) -> Result<Option<FraudFlag>, StoreError> {
        self.with(|conn| {
            let flag = conn
                .prepare_cached(
                    "SELECT reason, flagged_at, flagged_by FROM merchant_fraud_flags \
                     WHERE merchant_id = ?1",
                )?
                .query_row([merchant_id], |r| {
                    Ok(FraudFlag {
                        merchant_id: merchant_id.to_owned(),
                        reason: r.get(0)?,
                        flagged_at: codec::i64_to_u64(r.get(1)?),
                        flagged_by: r.get(2)?,
                    })
                })
                .optional()?;
            Ok(flag)
        })
    }

    fn merchant_daily(
        &self,
        merchant_id: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, DailyActivity)>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT day, orders, gross, refunds, refunded, settlements, settled_net \
                 FROM merchant_daily WHERE merchant_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
            )?;
            let rows = stmt.query_map(params![merchant_id, from, to], |r| {
                let mut values = [0i64; 7];
                for (i, v) in values.iter_mut().enumerate() {
                    *v = r.get(i)?;
                }
                Ok(values)
            })?;
            rows.map(|values| crate::settlement::daily_from(values?))
                .collect()
        })
    }

    fn merchant_running_totals(
        &self,
        merchant_id: &str,
        days: &[i32],
    ) -> Result<Vec<[i64; 5]>, StoreError> {
        self.with(|conn| {
            let mut through = conn.prepare_cached(
                "SELECT orders, gross, refunded, settlements, active_days FROM merchant_running \
                 WHERE merchant_id = ?1 AND day <= ?2 ORDER BY day DESC LIMIT 1",
            )?;
            let mut running = Vec::with_capacity(days.len());
            // The merchant bound once: each run keeps the bindings, and only the day changes.
            through.raw_bind_parameter(1, merchant_id)?;
            for &day in days {
                let mut sums = [0i64; 5];
                through.raw_bind_parameter(2, day)?;
                let mut rows = through.raw_query();
                if let Some(row) = rows.next()? {
                    for (i, sum) in sums.iter_mut().enumerate() {
                        *sum = row.get(i)?;
                    }
                }
                running.push(sums);
            }
            Ok(running)
        })
    }

    fn loan_usage(&self, keys: &[(&'static str, String)]) -> Result<Vec<UsageRow>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT bank_id, dimension, lent FROM loan_usage WHERE dimension = ?1 AND key = ?2",
            )?;
            let mut out = Vec::new();
            for (dimension, key) in keys {
                let rows = stmt.query_map(params![dimension, key], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?;
                for row in rows {
                    let (bank, dimension, lent) = row?;
                    out.push((bank, dimension, crate::codec::i64_to_u64(lent)));
                }
            }
            Ok(out)
        })
    }

    fn settlement_rows(
        &self,
        table: &'static Table,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        self.with(|conn| super::select_rows(conn, table, keys))
    }

    fn settlement_list(
        &self,
        table: &'static Table,
        column: &'static str,
        value: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        self.with(|conn| {
            let sql = super::table_sql("list", table, column, || {
                let key = table.key();
                format!(
                    "SELECT {} FROM {} WHERE {column} = ?1 AND {key} > ?2 ORDER BY {key} LIMIT ?3",
                    table.column_list(),
                    table.name
                )
            });
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![value, after, limit], |r| super::cells(table, r))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        Ok(self.merchant_as_of(id)?.0.map(Arc::unwrap_or_clone))
    }

    fn merchant_as_of(
        &self,
        id: &MerchantId,
    ) -> Result<(Option<Arc<Merchant>>, Option<i64>), StoreError> {
        let lock = || self.registry.lock(id.as_str());
        // The count in this read's snapshot: the cache answers for it while the merchant has
        // not changed since its copy was read, by the changes up to it.
        self.with_registry_changes(|conn, changes| {
            if let Some(merchant) = lock().get(&self.registry_changes, changes, id) {
                return Ok((Some(merchant), Some(changes)));
            }
            let mut stmt = conn.prepare_cached(&MERCHANT_BY_ID)?;
            let row = stmt.query_row([id.as_str()], merchant_row).optional()?;
            let merchant = row.transpose()?.map(Arc::new);
            if let Some(merchant) = &merchant {
                lock().keep(changes, merchant);
            }
            Ok((merchant, Some(changes)))
        })
    }

    fn in_open_snapshot(&self) -> bool {
        self.is_pinned()
    }

    fn catch_up_registry(&self) -> Result<(), StoreError> {
        self.with(|conn| self.registry_changes.catch_up_with(conn).map(drop))
    }

    fn merchants(
        &self,
        after: Option<&MerchantId>,
        limit: u32,
    ) -> Result<Vec<Merchant>, StoreError> {
        // Every id is non-empty, so all of them sort after the empty string.
        let after = after.map_or("", MerchantId::as_str);
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![after, limit], merchant_row)?;
            rows.map(|row| row?).collect()
        })
    }
}

/// One merchant by id: formatted once, not at every read.
pub(crate) static MERCHANT_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id = ?1"));

/// The merchant in a row of [`MERCHANT_COLUMNS`], parsed from the row's own texts. A row that
/// does not parse is the inner error.
pub(crate) fn merchant_row(r: &Row<'_>) -> rusqlite::Result<Result<Merchant, StoreError>> {
    use rusqlite::types::Type;
    let optional = |i: usize| {
        r.get_ref(i)?.as_str_or_null().map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(error))
        })
    };
    let text = |i: usize| {
        optional(i)?.ok_or_else(|| {
            let name = r.as_ref().column_name(i).unwrap_or_default().to_owned();
            rusqlite::Error::InvalidColumnType(i, name, Type::Null)
        })
    };
    let row = MerchantRow {
        id: text(0)?,
        name: text(1)?,
        kind: text(2)?,
        foreign_trade: r.get(3)?,
        region_code: text(4)?,
        category: text(5)?,
        joined_on: r.get(6)?,
        cluster_id: optional(7)?,
        agriculture_base_id: optional(8)?,
        risk_tier: text(9)?,
        bank_code: text(10)?,
        account_number: text(11)?,
        holder_name: text(12)?,
    };
    Ok(row.to_merchant())
}

fn verify_in(conn: &Connection) -> Result<Vec<Violation>, StoreError> {
    let mut recomputed = Recomputed::default();
    let sql = format!(
        "SELECT {TRANSFER_COLUMNS}, p.status FROM transfers t LEFT JOIN pending_transfers p ON p.id = t.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let transfer = transfer_row(row)?;
        let status = row
            .get::<_, Option<i64>>(13)?
            .map(codec::status_from)
            .transpose()?;
        recomputed.add_transfer(&transfer, status);
    }
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN account_owners o ON o.account_id = a.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let accounts: Vec<Account> = stmt
        .query_map([], |r| Ok(account_row(r)))?
        .map(|row| row?)
        .collect::<Result<_, _>>()?;
    Ok(recomputed.check(accounts.iter()))
}

/// An account's chunks and transfers by timestamp, on one connection inside a transaction.
struct SqliteChunks<'c> {
    conn: &'c Connection,
}

impl ChunkSource for SqliteChunks<'_> {
    fn chunks(
        &mut self,
        account: u128,
        cursor: Cursor,
    ) -> Result<Vec<(i64, Vec<u64>)>, StoreError> {
        let (sql, bound) = match cursor {
            Cursor::After(after) => (
                "SELECT last_ts, timestamps FROM account_transfer_chunks WHERE account_id = ?1 \
                 AND last_ts > ?2 ORDER BY last_ts LIMIT ?3",
                after,
            ),
            Cursor::Before(before) => (
                "SELECT last_ts, timestamps FROM account_transfer_chunks WHERE account_id = ?1 \
                 AND last_ts < ?2 ORDER BY last_ts DESC LIMIT ?3",
                before,
            ),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![id_bytes(account), bound, chunks::PAGE_ROWS], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        rows.map(|row| {
            let (last, bytes) = row?;
            Ok((last, chunks::decode(&bytes)?))
        })
        .collect()
    }

    fn transfer_at(&mut self, timestamp: u64) -> Result<Option<Transfer>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.timestamp = ?1"
        ))?;
        stmt.query_row([codec::timestamp(timestamp)], |r| Ok(transfer_row(r)))
            .optional()?
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{REGISTRY_SHARD_MAX, Registry};
    use crate::ReadPool;
    use crate::sqlite::registry::RegistryChanges;
    use chunlei_settlement::{Merchant, MerchantId};

    fn merchant(id: &str) -> Arc<Merchant> {
        Arc::new(crate::testing::merchant(id, "toys"))
    }

    fn id(text: &str) -> MerchantId {
        MerchantId::parse(text).expect("an id")
    }

    #[test]
    fn a_full_registry_cache_makes_room_one_merchant_at_a_time() {
        let changes = RegistryChanges::default();
        let mut registry = Registry::default();
        for n in 0..REGISTRY_SHARD_MAX + 5 {
            registry.keep(3, &merchant(&format!("m-{n}")));
        }
        assert_eq!(registry.merchants.len(), REGISTRY_SHARD_MAX);
        let newest = format!("m-{}", REGISTRY_SHARD_MAX + 4);
        assert!(registry.get(&changes, 3, &id(&newest)).is_some());
        // Replacing a kept merchant evicts nothing.
        registry.keep(4, &merchant(&newest));
        assert_eq!(registry.merchants.len(), REGISTRY_SHARD_MAX);
    }

    #[test]
    fn a_copy_read_at_a_later_count_is_not_replaced_by_an_older_one() {
        let mut registry = Registry::default();
        let mut older = crate::testing::merchant("m-1", "toys");
        older.category = "older".into();
        let older = Arc::new(older);
        registry.keep(5, &merchant("m-1"));
        registry.keep(4, &older);
        assert_eq!(registry.merchants.get("m-1").map(|m| m.0), Some(5));
        registry.keep(6, &older);
        assert_eq!(
            registry
                .merchants
                .get("m-1")
                .map(|m| (m.0, m.1.category.as_str())),
            Some((6, "older"))
        );
    }

    #[test]
    fn connections_opened_ahead_stay_within_the_pools_bound() {
        let db = crate::testing::TestDb::sqlite();
        let crate::DbUrl::Sqlite(path) = &db.url else {
            panic!("a SQLite database")
        };
        let counts = |reads: &super::SqliteReads| {
            let pool = reads.pool.lock().expect("pool");
            (pool.idle.len(), pool.open)
        };
        let mut reads = crate::sqlite::reads_only(path);
        reads.open_max = 3;
        reads.open_idle(2).expect("open");
        assert_eq!(counts(&reads), (2, 2));
        // Idle ones count: asking again opens none.
        reads.open_idle(2).expect("open");
        assert_eq!(counts(&reads), (2, 2));
        reads.open_idle(5).expect("open");
        assert_eq!(counts(&reads), (3, 3), "no more than the bound");
        // A snapshot takes one of them and gives it back.
        reads.in_snapshot(&mut || Ok(())).expect("snapshot");
        assert_eq!(counts(&reads), (3, 3));
    }
}
