//! The PostgreSQL backend: one database that several `chunlei serve` processes may share.
//!
//! Each process runs its own writer thread with its own connection. Writers of different
//! processes are serialised by one row lock: every write transaction starts with
//! `SELECT timestamp FROM ledger_clock WHERE singleton = 1 FOR UPDATE` ([`WriteTx::lock_clock`])
//! and holds the lock until it commits or rolls back. Transactions run at PostgreSQL's default
//! READ COMMITTED isolation, where every statement sees all rows committed before it started;
//! since the lock is taken before anything else is read, everything a writer loads after it
//! (balances, transfers, pending state) includes every commit of every other process. That is
//! why no account with a balance-limit flag can be overdrawn by two processes at once, why a
//! transfer id cannot be applied twice, and why timestamps stay unique and increasing across
//! processes. The unique constraints and CHECKs of the schema are a second line of defence.
//!
//! Because other processes change balances between our transactions, the writer does not keep
//! accounts in memory between groups ([`WriteBackend::sole_writer`] is false). No advisory
//! locks and no LISTEN/NOTIFY are used: the clock row is the only coordination.
//!
//! Commits are durable (`synchronous_commit` keeps its default, on). A group is loaded with a
//! handful of set-based statements (`= ANY($1)` for transfers, a join with `UNNEST($1)` for
//! accounts) and written with binary COPY for new rows and `UPDATE … FROM UNNEST(…)` for
//! balances, so its cost does not grow with round trips. If the connection breaks during
//! `COMMIT`, the group may or may not have landed; its requests get an error, and a client that
//! retries with the same ids gets `exists` for whatever did.
//!
//! Migrations may also race when processes start together: the first statement creates
//! `schema_migrations` if needed, and every migration then runs in a transaction that holds an
//! exclusive lock on that table, so exactly one process applies each version.

use std::collections::HashMap;

use chunlei_ledger::{
    Account, Changes, CreateTransferResult, HistoryRow, IdMap, PendingInfo, State, Transfer,
};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row, Statement, Transaction};

use crate::chunks;
use crate::codec::{
    self, ACCOUNT_COLUMNS, TRANSFER_COLUMNS, account_in, id_bytes, id_from, opt_id,
};
use crate::decisions::DECISIONS;
use crate::loans::{LOAN_OPS, LOANS, LoanRows, USAGE_ADD, USAGE_INSERT};
use crate::merchants::MERCHANT_COLUMNS;
use crate::settlement::{
    BookRows, Cell, DAILY_ADD, DAILY_COLUMNS, Kind, LoadRows, META, Table, Updates,
};
use crate::writer::{Load, WriteBackend, WriteTx};
use crate::{DbUrl, StoreError, StoreOptions};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("postgres/schema.sql")),
    (2, include_str!("postgres/schema_2.sql")),
    (3, include_str!("postgres/schema_3.sql")),
    (4, include_str!("postgres/schema_4.sql")),
    (5, include_str!("postgres/schema_5.sql")),
    (6, include_str!("postgres/schema_6.sql")),
    (7, include_str!("postgres/schema_7.sql")),
    (8, include_str!("postgres/schema_8.sql")),
    (9, include_str!("postgres/schema_9.sql")),
    (10, include_str!("postgres/schema_10.sql")),
    (11, include_str!("postgres/schema_11.sql")),
    (12, include_str!("postgres/schema_12.sql")),
    (13, include_str!("postgres/schema_13.sql")),
];

const COPY_ACCOUNTS: &str = "COPY accounts (id, debits_pending, debits_posted, credits_pending, \
    credits_posted, user_data_128, user_data_64, user_data_32, ledger, code, flags, timestamp) \
    FROM STDIN BINARY";
const COPY_ACCOUNT_TYPES: &[Type] = &[
    Type::BYTEA,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::BYTEA,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::INT4,
    Type::INT8,
];
const COPY_TRANSFERS: &str = "COPY transfers (timestamp, id, debit_account_id, credit_account_id, \
    amount, pending_id, user_data_128, user_data_64, user_data_32, timeout_s, ledger, code, flags) \
    FROM STDIN BINARY";
const COPY_TRANSFER_TYPES: &[Type] = &[
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::INT4,
];

pub(crate) fn open(
    conninfo: &str,
    options: &StoreOptions,
) -> Result<(PostgresWriter, PostgresReads), StoreError> {
    let mut client = connect(conninfo)?;
    migrate(&mut client)?;
    let writer = PostgresWriter::new(conninfo.to_owned(), client)?;
    Ok((writer, PostgresReads::new(conninfo, options.read_pool_max)))
}

/// Reads without a writer, for commands that only look (`ledger verify`).
pub(crate) fn reads_only(conninfo: &str) -> PostgresReads {
    PostgresReads::new(conninfo, 1)
}

/// Connects without TLS. Driver errors name neither the URL nor its password.
fn connect(conninfo: &str) -> Result<Client, StoreError> {
    Ok(Client::connect(conninfo, NoTls)?)
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    create_migrations_table(client)?;
    let mut tx = client.transaction()?;
    // Held until commit: a process that starts at the same time waits here, then sees the
    // versions this one applied.
    tx.batch_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")?;
    for (version, sql) in MIGRATIONS {
        let applied = tx.query_opt(
            "SELECT version FROM schema_migrations WHERE version = $1",
            &[version],
        )?;
        if applied.is_none() {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )?;
            tracing::info!(version, "applied PostgreSQL migration");
        }
    }
    tx.commit()?;
    Ok(())
}

/// `CREATE TABLE IF NOT EXISTS` is not atomic against a concurrent one: both may find no
/// table, and the one that commits second then fails on the catalog ("type … already exists"
/// or a unique violation on a catalog index). That failure means the other process created
/// the table and committed, so running the statement again finds it and does nothing.
fn create_migrations_table(client: &mut Client) -> Result<(), StoreError> {
    let sql = "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY)";
    let lost_race = |e: &postgres::Error| {
        matches!(
            e.code(),
            Some(
                &SqlState::UNIQUE_VIOLATION
                    | &SqlState::DUPLICATE_TABLE
                    | &SqlState::DUPLICATE_OBJECT
            )
        )
    };
    match client.batch_execute(sql) {
        Err(e) if lost_race(&e) => Ok(client.batch_execute(sql)?),
        result => Ok(result?),
    }
}

/// Balances of accounts by id. Not prepared: see [`WriterStatements`].
const UPDATE_BALANCES: &str = "UPDATE accounts a SET debits_pending = u.debits_pending, \
    debits_posted = u.debits_posted, credits_pending = u.credits_pending, \
    credits_posted = u.credits_posted \
    FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) \
    AS u (id, debits_pending, debits_posted, credits_pending, credits_posted) WHERE a.id = u.id";
const LOCK_CLOCK: &str = "SELECT timestamp FROM ledger_clock WHERE singleton = 1 FOR UPDATE";
const SET_CLOCK: &str = "UPDATE ledger_clock SET timestamp = $1::bigint WHERE singleton = 1";
const DUE_PENDING: &str = "SELECT id FROM pending_transfers \
    WHERE status = 0 AND expires_at > 0 AND expires_at <= $1::bigint \
    ORDER BY expires_at LIMIT $2::bigint";
const INSERT_OWNERS: &str = "INSERT INTO account_owners (account_id, kind, owner_id) \
    SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[])";
const UPSERT_PENDING: &str = "INSERT INTO pending_transfers (id, status, expires_at) \
    SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[]) \
    ON CONFLICT (id) DO UPDATE SET status = excluded.status";
const INSERT_CHUNKS: &str = "INSERT INTO account_transfer_chunks (account_id, last_ts, timestamps) \
    SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bytea[])";
const LOAD_FAILED: &str = "SELECT id, result FROM failed_transfers WHERE id = ANY($1::bytea[])";
const INSERT_FAILED: &str = "INSERT INTO failed_transfers (id, result) \
    SELECT * FROM UNNEST($1::bytea[], $2::text[])";
const UPSERT_HISTORY: &str = "INSERT INTO account_balances (account_id, timestamp, \
    debits_pending, debits_posted, credits_pending, credits_posted) \
    SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], \
    $6::bigint[]) \
    ON CONFLICT (account_id, timestamp) DO UPDATE SET debits_pending = excluded.debits_pending, \
    debits_posted = excluded.debits_posted, credits_pending = excluded.credits_pending, \
    credits_posted = excluded.credits_posted";

/// The writer's statements, prepared once per connection.
///
/// The two statements on `accounts` are the exception: they are sent unprepared, so PostgreSQL
/// plans each one for the arrays it actually gets. A group names anything from one account to
/// some 16,000; a prepared statement's generic plan assumes a handful and probes the index once
/// per id even when the group names most of the table, where a hash join is several times
/// faster. Joining with `UNNEST` rather than `= ANY` keeps that planning cheap (the planner
/// counts the array instead of estimating every element). Transfers are always a small part
/// of their table, so the index probes of a generic plan are right for them.
struct WriterStatements {
    lock_clock: Statement,
    set_clock: Statement,
    load_accounts: String,
    load_transfers: Statement,
    due_pending: Statement,
    insert_owners: Statement,
    upsert_pending: Statement,
    upsert_history: Statement,
    load_failed: Statement,
    insert_failed: Statement,
    insert_chunks: Statement,
}

impl WriterStatements {
    fn prepare(client: &mut Client) -> Result<WriterStatements, StoreError> {
        let load_accounts = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM UNNEST($1::bytea[]) AS k (id) \
             JOIN accounts a ON a.id = k.id LEFT JOIN account_owners o ON o.account_id = a.id"
        );
        let load_transfers = format!(
            "SELECT {TRANSFER_COLUMNS}, p.status, p.expires_at FROM transfers t \
             LEFT JOIN pending_transfers p ON p.id = t.id WHERE t.id = ANY($1::bytea[])"
        );
        Ok(WriterStatements {
            lock_clock: client.prepare(LOCK_CLOCK)?,
            set_clock: client.prepare(SET_CLOCK)?,
            load_accounts,
            load_transfers: client.prepare(&load_transfers)?,
            due_pending: client.prepare(DUE_PENDING)?,
            insert_owners: client.prepare(INSERT_OWNERS)?,
            upsert_pending: client.prepare(UPSERT_PENDING)?,
            upsert_history: client.prepare(UPSERT_HISTORY)?,
            load_failed: client.prepare(LOAD_FAILED)?,
            insert_failed: client.prepare(INSERT_FAILED)?,
            insert_chunks: client.prepare(INSERT_CHUNKS)?,
        })
    }
}

pub(crate) struct PostgresWriter {
    conninfo: String,
    client: Client,
    statements: WriterStatements,
}

impl PostgresWriter {
    fn new(conninfo: String, mut client: Client) -> Result<PostgresWriter, StoreError> {
        let statements = WriterStatements::prepare(&mut client)?;
        Ok(PostgresWriter {
            conninfo,
            client,
            statements,
        })
    }

    /// Replaces a connection the server or the network closed; the failed group has already
    /// been rejected, so nothing is lost by starting over on a new one.
    fn reconnect_if_closed(&mut self) -> Result<(), StoreError> {
        if !self.client.is_closed() {
            return Ok(());
        }
        let url = DbUrl::redact(&self.conninfo);
        tracing::warn!(%url, "PostgreSQL writer connection closed; reconnecting");
        *self = PostgresWriter::new(self.conninfo.clone(), connect(&self.conninfo)?)?;
        Ok(())
    }
}

impl WriteBackend for PostgresWriter {
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, StoreError> {
        self.reconnect_if_closed()?;
        let PostgresWriter {
            client, statements, ..
        } = self;
        Ok(Box::new(PostgresTx {
            tx: client.transaction()?,
            statements,
        }))
    }

    fn sole_writer(&self) -> bool {
        false
    }
}

struct PostgresTx<'c> {
    tx: Transaction<'c>,
    statements: &'c WriterStatements,
}

impl Load for PostgresTx<'_> {
    fn load_accounts(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys = IdArray::new(ids.iter().copied());
        let params: [(&(dyn ToSql + Sync), Type); 1] = [(&keys.slices(), Type::BYTEA_ARRAY)];
        for row in self
            .tx
            .query_typed(&self.statements.load_accounts, &params)?
        {
            let account = account_row(&row)?;
            state.accounts.insert(account.id, account);
        }
        Ok(())
    }

    fn load_transfers(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys = IdArray::new(ids.iter().copied());
        for row in self
            .tx
            .query(&self.statements.load_transfers, &[&keys.slices()])?
        {
            let transfer = transfer_row(&row)?;
            let status: Option<i32> = row.try_get(13)?;
            let expires_at: Option<i64> = row.try_get(14)?;
            if let (Some(status), Some(expires_at)) = (status, expires_at) {
                let info = PendingInfo {
                    status: codec::status_from(i64::from(status))?,
                    expires_at: codec::i64_to_u64(expires_at),
                };
                state.pending.insert(transfer.id, info);
            }
            state.transfers.insert(transfer.id, transfer);
        }
        for row in self
            .tx
            .query(&self.statements.load_failed, &[&keys.slices()])?
        {
            let id = id_from(row.try_get(0)?)?;
            let code: &str = row.try_get(1)?;
            let result = CreateTransferResult::parse(code)
                .ok_or_else(|| StoreError::Corrupt(format!("failed transfer result {code}")))?;
            state.failed.insert(id, result);
        }
        Ok(())
    }

    fn due_pending(&mut self, now: u64, limit: usize) -> Result<Vec<u128>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.tx.query(
            &self.statements.due_pending,
            &[&codec::timestamp(now), &limit],
        )?;
        rows.iter().map(|r| id_from(r.try_get(0)?)).collect()
    }
}

impl LoadRows for PostgresTx<'_> {
    fn rows(
        &mut self,
        table: &'static Table,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let columns = table.column_list();
        let rows = if table.name == META.name {
            self.tx.query(
                &format!("SELECT {columns} FROM {} WHERE singleton = 1", table.name),
                &[],
            )?
        } else {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            self.tx.query(
                &format!(
                    "SELECT {columns} FROM {} WHERE {} = ANY($1::text[])",
                    table.name,
                    table.key()
                ),
                &[&keys],
            )?
        };
        rows.iter().map(|r| cells(table, r)).collect()
    }

    fn rows_where(
        &mut self,
        table: &'static Table,
        column: &'static str,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.tx.query(
            &format!(
                "SELECT {} FROM {} WHERE {column} = ANY($1::text[])",
                table.column_list(),
                table.name
            ),
            &[&keys],
        )?;
        rows.iter().map(|r| cells(table, r)).collect()
    }

    fn scalar(&mut self, sql: &'static str) -> Result<i64, StoreError> {
        Ok(self.tx.query_one(sql, &[])?.try_get(0)?)
    }

    fn due_orders(&mut self, at: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.tx.query(
            "SELECT order_id FROM settlement_orders WHERE due_at > 0 AND due_at <= $1 \
             ORDER BY due_at LIMIT $2",
            &[&codec::timestamp(at), &limit],
        )?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    fn registry(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<chunlei_settlement::Merchant>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.tx.query(
            &format!("SELECT {MERCHANT_COLUMNS} FROM merchants WHERE id = ANY($1::text[])"),
            &[&ids],
        )?;
        rows.iter()
            .map(|r| reads::merchant_row(r)?.to_merchant())
            .collect()
    }
}

/// Reads one settlement row by the table's column kinds.
pub(crate) fn cells(table: &Table, r: &Row) -> Result<Vec<Cell>, StoreError> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Int | Kind::OptInt => r
                    .try_get::<_, Option<i64>>(i)?
                    .map_or(Cell::NullInt, Cell::Int),
                Kind::Text | Kind::OptText => r
                    .try_get::<_, Option<String>>(i)?
                    .map_or(Cell::NullText, Cell::Text),
            })
        })
        .collect()
}

/// Settlement rows per `INSERT … ON CONFLICT` statement.
const BOOK_ROWS_PER_STATEMENT: usize = 256;

/// Writes settlement rows, replacing those with the same key.
fn upsert_rows(
    tx: &mut Transaction<'_>,
    table: &Table,
    rows: &[Vec<Cell>],
) -> Result<(), StoreError> {
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        table.name,
        table.column_list()
    );
    let tail = format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        table.key(),
        table.updates()
    );
    insert_values(tx, &head, &tail, table.columns.len(), rows, None)
}

/// Runs `head (…),(…)… tail` over `rows` of `width` cells, in statements of at most
/// [`BOOK_ROWS_PER_STATEMENT`] rows.
/// Inserts `rows` with multi-row statements `head (…),(…) tail`, `width` cells a row. With
/// `returned`, `tail` ends in a `RETURNING` clause of one text column, whose values are added
/// to it.
fn insert_values(
    tx: &mut Transaction<'_>,
    head: &str,
    tail: &str,
    width: usize,
    rows: &[Vec<Cell>],
    mut returned: Option<&mut Vec<String>>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(BOOK_ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", cells.join(","))
            })
            .collect();
        let sql = format!("{head}{}{tail}", values.join(","));
        let params: Vec<Box<dyn ToSql + Sync>> = chunk
            .iter()
            .flatten()
            .map(|cell| -> Box<dyn ToSql + Sync> {
                match cell {
                    Cell::Int(v) => Box::new(*v),
                    Cell::Text(v) => Box::new(v.clone()),
                    Cell::Static(v) => Box::new(*v),
                    Cell::NullInt => Box::new(None::<i64>),
                    Cell::NullText => Box::new(None::<String>),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        match returned.as_deref_mut() {
            None => {
                tx.execute(&sql, &refs)?;
            }
            Some(values) => {
                for row in tx.query(&sql, &refs)? {
                    values.push(row.try_get(0)?);
                }
            }
        }
    }
    Ok(())
}

impl WriteTx for PostgresTx<'_> {
    fn write_book(
        &mut self,
        book: &chunlei_settlement::book::Book,
        changed: &chunlei_settlement::book::BookKeys,
        activity: &chunlei_settlement::book::ActivityDeltas,
    ) -> Result<(), StoreError> {
        let rows = BookRows::new(book, changed, activity, Updates::Full)?;
        for (table, table_rows) in rows.tables() {
            upsert_rows(&mut self.tx, table, &table_rows.inserts)?;
            upsert_rows(&mut self.tx, table, &table_rows.updates)?;
        }
        if let Some(meta) = &rows.meta {
            upsert_rows(&mut self.tx, &META, std::slice::from_ref(meta))?;
        }
        insert_values(
            &mut self.tx,
            &format!("INSERT INTO merchant_daily ({DAILY_COLUMNS}) VALUES "),
            &format!(" ON CONFLICT (merchant_id, day) DO UPDATE SET {DAILY_ADD}"),
            8,
            &rows.daily,
            None,
        )
    }

    fn write_decisions(&mut self, rows: &[Vec<Cell>]) -> Result<Vec<String>, StoreError> {
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            DECISIONS.name,
            DECISIONS.column_list()
        );
        let tail = format!(
            " ON CONFLICT ({key}) DO NOTHING RETURNING {key}",
            key = DECISIONS.key()
        );
        let mut stored = Vec::new();
        insert_values(
            &mut self.tx,
            &head,
            &tail,
            DECISIONS.columns.len(),
            rows,
            Some(&mut stored),
        )?;
        Ok(stored)
    }

    fn write_loans(
        &mut self,
        loans: &chunlei_lending::loans::LoanBook,
        changed: &chunlei_lending::loans::LoanKeys,
    ) -> Result<(), StoreError> {
        let rows = LoanRows::new(loans, changed)?;
        upsert_rows(&mut self.tx, &LOANS, &rows.loans.inserts)?;
        upsert_rows(&mut self.tx, &LOANS, &rows.loans.updates)?;
        insert_values(
            &mut self.tx,
            &format!(
                "INSERT INTO {} ({}) VALUES ",
                LOAN_OPS.name,
                LOAN_OPS.column_list()
            ),
            "",
            LOAN_OPS.columns.len(),
            &rows.ops,
            None,
        )?;
        insert_values(&mut self.tx, USAGE_INSERT, USAGE_ADD, 4, &rows.usage, None)
    }

    fn lock_clock(&mut self) -> Result<u64, StoreError> {
        let row = self.tx.query_one(&self.statements.lock_clock, &[])?;
        Ok(codec::i64_to_u64(row.try_get(0)?))
    }

    fn write(&mut self, state: &State, changes: &Changes) -> Result<(), StoreError> {
        if !changes.accounts_created.is_empty() {
            self.insert_accounts(state, &changes.accounts_created)?;
        }
        if !changes.accounts_updated.is_empty() {
            self.update_balances(state, changes)?;
        }
        if !changes.transfers_created.is_empty() {
            self.insert_transfers(state, &changes.transfers_created)?;
            self.insert_chunks(state, &changes.transfers_created)?;
        }
        if !changes.pending_updated.is_empty() {
            self.upsert_pending(state, changes)?;
        }
        if !changes.history.is_empty() {
            self.upsert_history(&changes.history)?;
        }
        if !changes.transfers_failed.is_empty() {
            let ids = IdArray::new(changes.transfers_failed.iter().map(|(id, _)| *id));
            let results: Vec<&str> = changes
                .transfers_failed
                .iter()
                .map(|(_, r)| r.as_str())
                .collect();
            self.tx
                .execute(&self.statements.insert_failed, &[&ids.slices(), &results])?;
        }
        self.tx.execute(
            &self.statements.set_clock,
            &[&codec::timestamp(state.clock)],
        )?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

impl PostgresTx<'_> {
    fn insert_accounts(&mut self, state: &State, created: &[u128]) -> Result<(), StoreError> {
        let accounts = created
            .iter()
            .map(|id| account_in(state, *id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut copy = BinaryCopyInWriter::new(self.tx.copy_in(COPY_ACCOUNTS)?, COPY_ACCOUNT_TYPES);
        for a in &accounts {
            let id = id_bytes(a.id);
            let user_data_128 = opt_id(a.user_data_128);
            copy.write(&[
                &&id[..],
                &a.debits_pending.as_i64(),
                &a.debits_posted.as_i64(),
                &a.credits_pending.as_i64(),
                &a.credits_posted.as_i64(),
                &user_data_128.as_ref().map(|b| &b[..]),
                &codec::u64_to_i64(a.user_data_64),
                &i64::from(a.user_data_32),
                &i64::from(a.ledger),
                &i32::from(a.code),
                &i32::from(a.flags.bits()),
                &codec::timestamp(a.timestamp),
            ])?;
        }
        copy.finish()?;
        let ids = IdArray::new(accounts.iter().map(|a| a.id));
        let kinds: Vec<&str> = accounts.iter().map(|a| a.owner.kind.as_str()).collect();
        let owner_ids: Vec<&str> = accounts.iter().map(|a| a.owner.id.as_str()).collect();
        self.tx.execute(
            &self.statements.insert_owners,
            &[&ids.slices(), &kinds, &owner_ids],
        )?;
        Ok(())
    }

    fn update_balances(&mut self, state: &State, changes: &Changes) -> Result<(), StoreError> {
        // Accounts created in this group are in the table already (inserted above), so one
        // update covers them too.
        let accounts = changes
            .accounts_updated
            .iter()
            .map(|id| account_in(state, *id))
            .collect::<Result<Vec<_>, _>>()?;
        let ids = IdArray::new(accounts.iter().map(|a| a.id));
        let column = |f: fn(&Account) -> i64| accounts.iter().map(|a| f(a)).collect::<Vec<i64>>();
        let debits_pending = column(|a| a.debits_pending.as_i64());
        let debits_posted = column(|a| a.debits_posted.as_i64());
        let credits_pending = column(|a| a.credits_pending.as_i64());
        let credits_posted = column(|a| a.credits_posted.as_i64());
        let params: [(&(dyn ToSql + Sync), Type); 5] = [
            (&ids.slices(), Type::BYTEA_ARRAY),
            (&debits_pending, Type::INT8_ARRAY),
            (&debits_posted, Type::INT8_ARRAY),
            (&credits_pending, Type::INT8_ARRAY),
            (&credits_posted, Type::INT8_ARRAY),
        ];
        let updated = self.tx.execute_typed(UPDATE_BALANCES, &params)?;
        if updated != accounts.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "updated {updated} of {} changed accounts",
                accounts.len()
            )));
        }
        Ok(())
    }

    fn insert_transfers(&mut self, state: &State, created: &[u128]) -> Result<(), StoreError> {
        let mut copy =
            BinaryCopyInWriter::new(self.tx.copy_in(COPY_TRANSFERS)?, COPY_TRANSFER_TYPES);
        for id in created {
            let t = state
                .transfers
                .get(id)
                .ok_or_else(|| StoreError::Corrupt(format!("created transfer {id} missing")))?;
            let (id, debit, credit) = (
                id_bytes(t.id),
                id_bytes(t.debit_account_id),
                id_bytes(t.credit_account_id),
            );
            let (pending_id, user_data_128) = (opt_id(t.pending_id), opt_id(t.user_data_128));
            copy.write(&[
                &codec::timestamp(t.timestamp),
                &&id[..],
                &&debit[..],
                &&credit[..],
                &t.amount.as_i64(),
                &pending_id.as_ref().map(|b| &b[..]),
                &user_data_128.as_ref().map(|b| &b[..]),
                &codec::u64_to_i64(t.user_data_64),
                &i64::from(t.user_data_32),
                &i64::from(t.timeout_s),
                &i64::from(t.ledger),
                &i32::from(t.code),
                &i32::from(t.flags.bits()),
            ])?;
        }
        copy.finish()?;
        Ok(())
    }

    /// One chunk row per account the commit touches, holding that account's new timestamps.
    fn insert_chunks(&mut self, state: &State, created: &[u128]) -> Result<(), StoreError> {
        let mut lists: IdMap<Vec<u64>> = IdMap::default();
        for t in created.iter().filter_map(|id| state.transfers.get(id)) {
            lists
                .entry(t.debit_account_id)
                .or_default()
                .push(t.timestamp);
            lists
                .entry(t.credit_account_id)
                .or_default()
                .push(t.timestamp);
        }
        let accounts = IdArray::new(lists.keys().copied());
        let last: Vec<i64> = lists
            .values()
            .map(|l| l.last().map_or(0, |ts| codec::timestamp(*ts)))
            .collect();
        let encoded: Vec<Vec<u8>> = lists.values().map(|l| chunks::encode(l)).collect();
        self.tx.execute(
            &self.statements.insert_chunks,
            &[&accounts.slices(), &last, &encoded],
        )?;
        Ok(())
    }

    fn upsert_pending(&mut self, state: &State, changes: &Changes) -> Result<(), StoreError> {
        // An id no longer in `state.pending` was created and undone by a failed chain.
        let pending: Vec<(u128, PendingInfo)> = changes
            .pending_updated
            .iter()
            .filter_map(|id| state.pending.get(id).map(|info| (*id, *info)))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let ids = IdArray::new(pending.iter().map(|(id, _)| *id));
        let statuses: Vec<i64> = pending
            .iter()
            .map(|(_, info)| codec::status_code(info.status))
            .collect();
        let expires_at: Vec<i64> = pending
            .iter()
            .map(|(_, info)| codec::timestamp(info.expires_at))
            .collect();
        self.tx.execute(
            &self.statements.upsert_pending,
            &[&ids.slices(), &statuses, &expires_at],
        )?;
        Ok(())
    }

    fn upsert_history(&mut self, history: &[HistoryRow]) -> Result<(), StoreError> {
        // One statement may not touch a row twice, but a group can snapshot one account twice
        // at one timestamp (a post moves both balances of both accounts): the last one wins.
        let mut last: HashMap<(u128, u64), usize> = HashMap::with_capacity(history.len());
        for (index, h) in history.iter().enumerate() {
            last.insert((h.account_id, h.timestamp), index);
        }
        let rows: Vec<&HistoryRow> = history
            .iter()
            .enumerate()
            .filter(|(i, h)| last.get(&(h.account_id, h.timestamp)) == Some(i))
            .map(|(_, h)| h)
            .collect();
        let ids = IdArray::new(rows.iter().map(|h| h.account_id));
        let column = |f: fn(&HistoryRow) -> i64| rows.iter().map(|h| f(h)).collect::<Vec<i64>>();
        let timestamps = column(|h| codec::timestamp(h.timestamp));
        let debits_pending = column(|h| h.debits_pending.as_i64());
        let debits_posted = column(|h| h.debits_posted.as_i64());
        let credits_pending = column(|h| h.credits_pending.as_i64());
        let credits_posted = column(|h| h.credits_posted.as_i64());
        let params: [&(dyn ToSql + Sync); 6] = [
            &ids.slices(),
            &timestamps,
            &debits_pending,
            &debits_posted,
            &credits_pending,
            &credits_posted,
        ];
        self.tx.execute(&self.statements.upsert_history, &params)?;
        Ok(())
    }
}

/// Ids as 16-byte keys, for a `bytea[]` parameter.
struct IdArray(Vec<[u8; 16]>);

impl IdArray {
    fn new(ids: impl Iterator<Item = u128>) -> IdArray {
        IdArray(ids.map(id_bytes).collect())
    }

    fn slices(&self) -> Vec<&[u8]> {
        self.0.iter().map(|k| &k[..]).collect()
    }
}

fn opt_id_from(bytes: Option<&[u8]>) -> Result<u128, StoreError> {
    bytes.map_or(Ok(0), id_from)
}

fn account_row(r: &Row) -> Result<Account, StoreError> {
    let owner = codec::owner(r.try_get(12)?, r.try_get(13)?)?;
    Ok(Account {
        id: id_from(r.try_get(0)?)?,
        debits_pending: codec::fen(r.try_get(1)?)?,
        debits_posted: codec::fen(r.try_get(2)?)?,
        credits_pending: codec::fen(r.try_get(3)?)?,
        credits_posted: codec::fen(r.try_get(4)?)?,
        user_data_128: opt_id_from(r.try_get(5)?)?,
        user_data_64: codec::i64_to_u64(r.try_get(6)?),
        user_data_32: codec::u32_from(r.try_get(7)?, "user_data_32")?,
        ledger: codec::u32_from(r.try_get(8)?, "ledger")?,
        code: codec::u16_from(i64::from(r.try_get::<_, i32>(9)?), "code")?,
        flags: codec::account_flags(i64::from(r.try_get::<_, i32>(10)?))?,
        owner,
        timestamp: codec::i64_to_u64(r.try_get(11)?),
    })
}

fn transfer_row(r: &Row) -> Result<Transfer, StoreError> {
    Ok(Transfer {
        id: id_from(r.try_get(0)?)?,
        debit_account_id: id_from(r.try_get(1)?)?,
        credit_account_id: id_from(r.try_get(2)?)?,
        amount: codec::fen(r.try_get(3)?)?,
        pending_id: opt_id_from(r.try_get(4)?)?,
        user_data_128: opt_id_from(r.try_get(5)?)?,
        user_data_64: codec::i64_to_u64(r.try_get(6)?),
        user_data_32: codec::u32_from(r.try_get(7)?, "user_data_32")?,
        timeout_s: codec::u32_from(r.try_get(8)?, "timeout_s")?,
        ledger: codec::u32_from(r.try_get(9)?, "ledger")?,
        code: codec::u16_from(i64::from(r.try_get::<_, i32>(10)?), "code")?,
        flags: codec::transfer_flags(i64::from(r.try_get::<_, i32>(11)?))?,
        timestamp: codec::i64_to_u64(r.try_get(12)?),
    })
}

mod reads;
pub(crate) use reads::PostgresReads;
