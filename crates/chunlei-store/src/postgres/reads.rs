//! PostgreSQL reads: a pool of connections, each with its statements prepared once.
//!
//! Reads run outside the writer's transactions and see what was committed when each statement
//! started, by this process or any other. `verify` reads from one snapshot.

use std::collections::HashMap;
use std::sync::Mutex;

use chunlei_ledger::{Account, HistoryRow, Recomputed, Transfer, Violation};
use chunlei_settlement::{Merchant, MerchantId};
use postgres::{Client, IsolationLevel, Row, Statement};

use super::{account_row, connect, transfer_row};
use crate::chunks::{self, ChunkSource, Cursor};
use crate::codec::{self, id_bytes};
use crate::codec::{ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use crate::merchants::INSERT_FLAG_EVENT;
use crate::merchants::{MERCHANT_COLUMNS, MERCHANT_UPDATES, MerchantRow};
use crate::settlement::{Cell, META, Table};
use crate::{
    AccountFilter, ApiKeyRecord, FlagAction, FraudFlag, FraudFlagEvent, ReadPool, StoreError,
    UsageRow,
};
use chunlei_settlement::book::DailyActivity;

/// Transfers `verify` holds in memory at once while it streams the whole table.
const VERIFY_FETCH_ROWS_MAX: i32 = 8_189;
/// Prepared statements kept per connection; the queries are built from a few fixed shapes,
/// so this is never reached in practice.
const STATEMENTS_PER_CONNECTION_MAX: usize = 64;

pub(crate) struct PostgresReads {
    conninfo: String,
    idle: Mutex<Vec<ReadConn>>,
    idle_max: usize,
}

struct ReadConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl ReadConn {
    /// The statement for `sql`, prepared on this connection the first time it is used.
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        if self.statements.len() >= STATEMENTS_PER_CONNECTION_MAX {
            self.statements.clear();
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl PostgresReads {
    pub(super) fn new(conninfo: &str, idle_max: usize) -> PostgresReads {
        PostgresReads {
            conninfo: conninfo.to_owned(),
            idle: Mutex::new(Vec::new()),
            idle_max,
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut ReadConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = {
            let mut idle = self
                .idle
                .lock()
                .map_err(|_| StoreError::Corrupt("read pool poisoned".into()))?;
            // A connection the server closed while it sat idle is dropped, not handed out.
            idle.retain(|conn| !conn.client.is_closed());
            idle.pop()
        };
        let mut conn = match pooled {
            Some(conn) => conn,
            None => ReadConn {
                client: connect(&self.conninfo)?,
                statements: HashMap::new(),
            },
        };
        let result = f(&mut conn);
        if !conn.client.is_closed()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.idle_max
        {
            idle.push(conn);
        }
        result
    }
}

impl Drop for PostgresReads {
    /// The synchronous client runs a small runtime of its own, which must not be shut down
    /// from inside an async runtime: the idle connections are closed on a thread of their
    /// own, so a `Store` may be dropped anywhere.
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !idle.is_empty() {
            let closer = std::thread::spawn(move || drop(idle));
            let _ = closer.join();
        }
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

/// Puts rows found by one `= ANY(…)` query back in the order of `ids`, as the SQLite backend
/// returns them (one lookup per id, unknown ids left out).
fn in_order_of<T: Clone>(ids: &[u128], found: Vec<T>, id_of: impl Fn(&T) -> u128) -> Vec<T> {
    let by_id: HashMap<u128, T> = found.into_iter().map(|item| (id_of(&item), item)).collect();
    ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()
}

fn id_array(ids: &[u128]) -> Vec<[u8; 16]> {
    ids.iter().map(|id| id_bytes(*id)).collect()
}

impl ReadPool for PostgresReads {
    fn lookup_accounts(&self, ids: &[u128]) -> Result<Vec<Account>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
             LEFT JOIN account_owners o ON o.account_id = a.id \
             WHERE a.id = ANY($1::bytea[])"
        );
        let keys = id_array(ids);
        let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        let found = self.with(|conn| {
            let statement = conn.statement(&sql)?;
            conn.client
                .query(&statement, &[&keys])?
                .iter()
                .map(account_row)
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(in_order_of(ids, found, |a| a.id))
    }

    fn lookup_transfers(&self, ids: &[u128]) -> Result<Vec<Transfer>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.id = ANY($1::bytea[])");
        let keys = id_array(ids);
        let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        let found = self.with(|conn| {
            let statement = conn.statement(&sql)?;
            conn.client
                .query(&statement, &[&keys])?
                .iter()
                .map(transfer_row)
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(in_order_of(ids, found, |t| t.id))
    }

    fn account_transfers(&self, filter: &AccountFilter) -> Result<Vec<Transfer>, StoreError> {
        self.with(|conn| {
            let chunks_after = conn.statement(
                "SELECT last_ts, timestamps FROM account_transfer_chunks WHERE account_id = $1 \
                 AND last_ts > $2 ORDER BY last_ts LIMIT $3",
            )?;
            let chunks_before = conn.statement(
                "SELECT last_ts, timestamps FROM account_transfer_chunks WHERE account_id = $1 \
                 AND last_ts < $2 ORDER BY last_ts DESC LIMIT $3",
            )?;
            let at = conn.statement(&format!(
                "SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.timestamp = $1"
            ))?;
            // One snapshot for the whole walk, so pages and transfers agree.
            let mut tx = conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let mut source = PostgresChunks {
                tx: &mut tx,
                chunks_after,
                chunks_before,
                at,
            };
            let listed = chunks::account_transfers(&mut source, filter, &[])?;
            tx.commit()?;
            Ok(listed)
        })
    }

    fn account_balances(&self, filter: &AccountFilter) -> Result<Vec<HistoryRow>, StoreError> {
        let order = if filter.reversed { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT timestamp, debits_pending, debits_posted, credits_pending, credits_posted \
             FROM account_balances \
             WHERE account_id = $1::bytea AND timestamp BETWEEN $2::bigint AND $3::bigint \
             ORDER BY timestamp {order} LIMIT $4::bigint"
        );
        let (min, max) = bounds(filter);
        let account_id = id_bytes(filter.account_id);
        let limit = i64::from(filter.limit);
        self.with(|conn| {
            let statement = conn.statement(&sql)?;
            let rows = conn
                .client
                .query(&statement, &[&&account_id[..], &min, &max, &limit])?;
            rows.iter()
                .map(|r| {
                    Ok(HistoryRow {
                        account_id: filter.account_id,
                        timestamp: codec::i64_to_u64(r.try_get(0)?),
                        debits_pending: codec::fen(r.try_get(1)?)?,
                        debits_posted: codec::fen(r.try_get(2)?)?,
                        credits_pending: codec::fen(r.try_get(3)?)?,
                        credits_posted: codec::fen(r.try_get(4)?)?,
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
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM account_owners o JOIN accounts a ON a.id = o.account_id \
             WHERE o.kind = $1::text AND o.owner_id = $2::text \
             ORDER BY a.timestamp LIMIT $3::bigint"
        );
        let limit = i64::from(limit);
        self.with(|conn| {
            let statement = conn.statement(&sql)?;
            conn.client
                .query(&statement, &[&kind, &owner_id, &limit])?
                .iter()
                .map(account_row)
                .collect()
        })
    }

    fn verify(&self) -> Result<Vec<Violation>, StoreError> {
        self.with(verify_in)
    }

    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.with(|conn| {
            let statement = conn.statement(
                "INSERT INTO api_keys \
                 (key_id, secret_sha256, role, merchant_id, bank_id, created_at) \
                 VALUES ($1::text, $2::bytea, $3::text, $4::text, $5::text, $6::bigint)",
            )?;
            conn.client.execute(
                &statement,
                &[
                    &key.key_id,
                    &key.secret_sha256.as_slice(),
                    &key.role,
                    &key.merchant_id,
                    &key.bank_id,
                    &codec::timestamp(key.created_at),
                ],
            )?;
            Ok(())
        })
    }

    fn find_api_key(&self, secret_sha256: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with(|conn| {
            let statement = conn.statement(
                "SELECT key_id, role, merchant_id, bank_id, created_at FROM api_keys \
                 WHERE secret_sha256 = $1::bytea",
            )?;
            let Some(r) = conn
                .client
                .query_opt(&statement, &[&secret_sha256.as_slice()])?
            else {
                return Ok(None);
            };
            Ok(Some(ApiKeyRecord {
                key_id: r.try_get(0)?,
                secret_sha256: *secret_sha256,
                role: r.try_get(1)?,
                merchant_id: r.try_get(2)?,
                bank_id: r.try_get(3)?,
                created_at: codec::i64_to_u64(r.try_get(4)?),
            }))
        })
    }

    fn upsert_merchants(&self, merchants: &[&Merchant], now: u64) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO merchants ({MERCHANT_COLUMNS}, created_at, updated_at, version) \
             SELECT u.*, $14::bigint, $14::bigint, 1 FROM UNNEST($1::text[], $2::text[], \
             $3::text[], $4::bool[], $5::text[], $6::text[], $7::int4[], $8::text[], $9::text[], \
             $10::text[], $11::text[], $12::text[], $13::text[]) AS u \
             ON CONFLICT (id) DO UPDATE SET {MERCHANT_UPDATES}"
        );
        self.with(|conn| {
            let statement = conn.statement(&sql)?;
            let mut tx = conn.client.transaction()?;
            for chunk in merchants.chunks(MERCHANTS_PER_STATEMENT) {
                let columns = MerchantColumns::of(chunk);
                tx.execute(
                    &statement,
                    &[
                        &columns.id,
                        &columns.name,
                        &columns.kind,
                        &columns.foreign_trade,
                        &columns.region_code,
                        &columns.category,
                        &columns.joined_on,
                        &columns.cluster_id,
                        &columns.agriculture_base_id,
                        &columns.risk_tier,
                        &columns.bank_code,
                        &columns.account_number,
                        &columns.holder_name,
                        &codec::timestamp(now),
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn merchant_daily(
        &self,
        merchant_id: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, DailyActivity)>, StoreError> {
        self.with(|conn| {
            let rows = conn.client.query(
                "SELECT day, orders, gross, refunds, refunded, settlements, settled_net \
                 FROM merchant_daily WHERE merchant_id = $1::text \
                 AND day BETWEEN $2::bigint AND $3::bigint ORDER BY day",
                &[&merchant_id, &i64::from(from), &i64::from(to)],
            )?;
            rows.iter()
                .map(|r| crate::settlement::daily_from(bigints(r)?))
                .collect()
        })
    }

    fn merchant_running_totals(
        &self,
        merchant_id: &str,
        days: &[i32],
    ) -> Result<Vec<[i64; 5]>, StoreError> {
        let wanted: Vec<i64> = days.iter().map(|&d| i64::from(d)).collect();
        self.with(|conn| {
            // Every day's running total in one round trip: the merchant's last row on or
            // before it, zeros when there is none.
            let rows = conn.client.query(
                "SELECT coalesce(r.orders, 0), coalesce(r.gross, 0), coalesce(r.refunded, 0), \
                 coalesce(r.settlements, 0), coalesce(r.active_days, 0) \
                 FROM unnest($2::bigint[]) WITH ORDINALITY AS d(day, n) \
                 LEFT JOIN LATERAL (SELECT orders, gross, refunded, settlements, active_days \
                 FROM merchant_running WHERE merchant_id = $1::text AND day <= d.day \
                 ORDER BY day DESC LIMIT 1) r ON true ORDER BY d.n",
                &[&merchant_id, &wanted],
            )?;
            rows.iter().map(bigints::<5>).collect()
        })
    }

    fn loan_usage(&self, keys: &[(&'static str, String)]) -> Result<Vec<UsageRow>, StoreError> {
        let dimensions: Vec<&str> = keys.iter().map(|(d, _)| *d).collect();
        let values: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
        self.with(|conn| {
            let rows = conn.client.query(
                "SELECT u.bank_id, u.dimension, u.lent FROM loan_usage u \
                 JOIN UNNEST($1::text[], $2::text[]) AS k (dimension, key) \
                 ON u.dimension = k.dimension AND u.key = k.key",
                &[&dimensions, &values],
            )?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        crate::codec::i64_to_u64(r.try_get(2)?),
                    ))
                })
                .collect()
        })
    }

    fn settlement_rows(
        &self,
        table: &'static Table,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let columns = table.column_list();
        self.with(|conn| {
            let rows = if table.name == META.name {
                conn.client.query(
                    &format!("SELECT {columns} FROM {} WHERE singleton = 1", table.name),
                    &[],
                )?
            } else {
                conn.client.query(
                    &format!(
                        "SELECT {columns} FROM {} WHERE {} = ANY($1::text[])",
                        table.name,
                        table.key()
                    ),
                    &[&keys],
                )?
            };
            rows.iter().map(|r| super::cells(table, r)).collect()
        })
    }

    fn settlement_list(
        &self,
        table: &'static Table,
        column: &'static str,
        value: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let key = table.key();
        let sql = format!(
            "SELECT {} FROM {} WHERE {column} = $1::text AND {key} > $2::text \
             ORDER BY {key} LIMIT $3",
            table.column_list(),
            table.name
        );
        self.with(|conn| {
            let rows = conn
                .client
                .query(&sql, &[&value, &after, &i64::from(limit)])?;
            rows.iter().map(|r| super::cells(table, r)).collect()
        })
    }

    fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        self.with(|conn| {
            let statement = conn.statement(&format!(
                "SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id = $1::text"
            ))?;
            let row = conn.client.query_opt(&statement, &[&id.as_str()])?;
            row.map(|r| merchant_row(&r)?.to_merchant()).transpose()
        })
    }

    fn insert_fraud_flag(&self, flag: &FraudFlag) -> Result<bool, StoreError> {
        self.with(|conn| {
            let insert = conn.statement(
                "INSERT INTO merchant_fraud_flags (merchant_id, reason, flagged_at, flagged_by) \
                 SELECT $1::text, $2::text, $3::bigint, $4::text \
                 WHERE EXISTS (SELECT 1 FROM merchants WHERE id = $1::text) \
                 ON CONFLICT (merchant_id) DO NOTHING",
            )?;
            let event = conn.statement(INSERT_FLAG_EVENT)?;
            let at = codec::timestamp(flag.flagged_at);
            let mut tx = conn.client.transaction()?;
            let inserted = tx.execute(
                &insert,
                &[&flag.merchant_id, &flag.reason, &at, &flag.flagged_by],
            )?;
            if inserted == 1 {
                let action = FlagAction::Set.as_str();
                tx.execute(
                    &event,
                    &[
                        &flag.merchant_id,
                        &at,
                        &action,
                        &flag.reason,
                        &flag.flagged_by,
                    ],
                )?;
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
        self.with(|conn| {
            let delete = conn.statement(
                "DELETE FROM merchant_fraud_flags WHERE merchant_id = $1::text RETURNING reason",
            )?;
            let event = conn.statement(INSERT_FLAG_EVENT)?;
            let mut tx = conn.client.transaction()?;
            let reason: Option<String> = tx.query_opt(&delete, &[&merchant_id])?.map(|r| r.get(0));
            if let Some(reason) = &reason {
                let action = FlagAction::Cleared.as_str();
                tx.execute(
                    &event,
                    &[&merchant_id, &codec::timestamp(at), &action, reason, &actor],
                )?;
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
            let statement = conn.statement(
                "SELECT at, action, reason, actor FROM merchant_fraud_flag_events \
                 WHERE merchant_id = $1::text ORDER BY at DESC, id DESC LIMIT $2::bigint",
            )?;
            let rows = conn
                .client
                .query(&statement, &[&merchant_id, &i64::from(limit)])?;
            rows.iter()
                .map(|r| {
                    Ok(FraudFlagEvent {
                        at: codec::i64_to_u64(r.get(0)),
                        action: FlagAction::parse(r.get(1))?,
                        reason: r.get(2),
                        actor: r.get(3),
                    })
                })
                .collect()
        })
    }

    fn fraud_flag(&self, merchant_id: &str) -> Result<Option<FraudFlag>, StoreError> {
        self.with(|conn| {
            let statement = conn.statement(
                "SELECT reason, flagged_at, flagged_by FROM merchant_fraud_flags \
                 WHERE merchant_id = $1::text",
            )?;
            let row = conn.client.query_opt(&statement, &[&merchant_id])?;
            Ok(row.map(|r| FraudFlag {
                merchant_id: merchant_id.to_owned(),
                reason: r.get(0),
                flagged_at: codec::i64_to_u64(r.get(1)),
                flagged_by: r.get(2),
            }))
        })
    }

    fn merchants(
        &self,
        after: Option<&MerchantId>,
        limit: u32,
    ) -> Result<Vec<Merchant>, StoreError> {
        // Every id is non-empty, so all of them sort after the empty string.
        let after = after.map_or("", MerchantId::as_str);
        self.with(|conn| {
            let statement = conn.statement(&format!(
                "SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id > $1::text \
                 ORDER BY id LIMIT $2::bigint"
            ))?;
            let rows = conn
                .client
                .query(&statement, &[&after, &i64::from(limit)])?;
            rows.iter()
                .map(|r| merchant_row(r)?.to_merchant())
                .collect()
        })
    }
}

/// Merchants one upsert statement sends as arrays: large enough that an import of a million
/// rows takes a few hundred round trips, small enough to keep each statement's memory modest.
const MERCHANTS_PER_STATEMENT: usize = 4_096;

/// A batch of merchants as one array per column, for `UNNEST`.
struct MerchantColumns<'m> {
    id: Vec<&'m str>,
    name: Vec<&'m str>,
    kind: Vec<&'static str>,
    foreign_trade: Vec<bool>,
    region_code: Vec<&'m str>,
    category: Vec<&'m str>,
    joined_on: Vec<i32>,
    cluster_id: Vec<Option<&'m str>>,
    agriculture_base_id: Vec<Option<&'m str>>,
    risk_tier: Vec<&'static str>,
    bank_code: Vec<&'m str>,
    account_number: Vec<&'m str>,
    holder_name: Vec<&'m str>,
}

impl<'m> MerchantColumns<'m> {
    fn of(merchants: &[&'m Merchant]) -> MerchantColumns<'m> {
        let column = |f: fn(&'m Merchant) -> &'m str| merchants.iter().map(|m| f(m)).collect();
        MerchantColumns {
            id: column(|m| m.id.as_str()),
            name: column(|m| &m.name),
            kind: merchants.iter().map(|m| m.kind.as_str()).collect(),
            foreign_trade: merchants.iter().map(|m| m.foreign_trade).collect(),
            region_code: column(|m| m.region_code.as_str()),
            category: column(|m| &m.category),
            joined_on: merchants
                .iter()
                .map(|m| m.joined_on.days_since_epoch())
                .collect(),
            cluster_id: merchants.iter().map(|m| m.cluster_id.as_deref()).collect(),
            agriculture_base_id: merchants
                .iter()
                .map(|m| m.agriculture_base_id.as_deref())
                .collect(),
            risk_tier: merchants.iter().map(|m| m.risk_tier.as_str()).collect(),
            bank_code: column(|m| m.payout_account.bank_code.as_str()),
            account_number: column(|m| m.payout_account.account_number.as_str()),
            holder_name: column(|m| &m.payout_account.holder_name),
        }
    }
}

pub(crate) fn merchant_row(r: &Row) -> Result<MerchantRow<'_>, StoreError> {
    Ok(MerchantRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: r.try_get(2)?,
        foreign_trade: r.try_get(3)?,
        region_code: r.try_get(4)?,
        category: r.try_get(5)?,
        joined_on: r.try_get(6)?,
        cluster_id: r.try_get(7)?,
        agriculture_base_id: r.try_get(8)?,
        risk_tier: r.try_get(9)?,
        bank_code: r.try_get(10)?,
        account_number: r.try_get(11)?,
        holder_name: r.try_get(12)?,
    })
}

/// Streams every transfer through [`Recomputed`] in pages, then checks every account, all
/// inside one read-only REPEATABLE READ transaction: one snapshot, so a transfer committed
/// meanwhile by any process is seen either with its balance changes or not at all.
fn verify_in(conn: &mut ReadConn) -> Result<Vec<Violation>, StoreError> {
    let transfers = conn.statement(&format!(
        "SELECT {TRANSFER_COLUMNS}, p.status FROM transfers t \
         LEFT JOIN pending_transfers p ON p.id = t.id"
    ))?;
    let accounts = conn.statement(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN account_owners o ON o.account_id = a.id"
    ))?;
    let mut tx = conn
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let mut recomputed = Recomputed::default();
    let portal = tx.bind(&transfers, &[])?;
    loop {
        let rows = tx.query_portal(&portal, VERIFY_FETCH_ROWS_MAX)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let transfer = transfer_row(row)?;
            let status = row
                .try_get::<_, Option<i32>>(13)?
                .map(|s| codec::status_from(i64::from(s)))
                .transpose()?;
            recomputed.add_transfer(&transfer, status);
        }
    }
    let accounts: Vec<Account> = tx
        .query(&accounts, &[])?
        .iter()
        .map(account_row)
        .collect::<Result<_, _>>()?;
    tx.commit()?;
    Ok(recomputed.check(accounts.iter()))
}

/// An account's chunks and transfers by timestamp, inside one read-only transaction.
struct PostgresChunks<'t, 'c> {
    tx: &'t mut postgres::Transaction<'c>,
    chunks_after: Statement,
    chunks_before: Statement,
    at: Statement,
}

impl ChunkSource for PostgresChunks<'_, '_> {
    fn chunks(
        &mut self,
        account: u128,
        cursor: Cursor,
    ) -> Result<Vec<(i64, Vec<u64>)>, StoreError> {
        let (statement, bound) = match cursor {
            Cursor::After(after) => (&self.chunks_after, after),
            Cursor::Before(before) => (&self.chunks_before, before),
        };
        let account = id_bytes(account);
        let rows = self
            .tx
            .query(statement, &[&&account[..], &bound, &chunks::PAGE_ROWS])?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, i64>(0)?,
                    chunks::decode(r.try_get::<_, &[u8]>(1)?)?,
                ))
            })
            .collect()
    }

    fn transfer_at(&mut self, timestamp: u64) -> Result<Option<Transfer>, StoreError> {
        let rows = self.tx.query(&self.at, &[&codec::timestamp(timestamp)])?;
        rows.first().map(transfer_row).transpose()
    }
}

/// The first `N` columns of a row, all `bigint`.
fn bigints<const N: usize>(row: &Row) -> Result<[i64; N], StoreError> {
    let mut values = [0i64; N];
    for (i, value) in values.iter_mut().enumerate() {
        *value = row.try_get(i)?;
    }
    Ok(values)
}
