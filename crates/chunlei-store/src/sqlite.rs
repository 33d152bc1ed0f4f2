//! The SQLite backend: one file in WAL mode with `synchronous = FULL`, so a commit is on disk
//! before the writer acknowledges it. One process writes (an exclusive lock file enforces it);
//! readers use their own connections and see the last committed state without blocking it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use chunlei_ledger::{
    Account, Changes, CreateTransferResult, HistoryRow, IdSet, PendingInfo, State, Transfer,
};
use rusqlite::{Connection, OptionalExtension, Row, Statement, TransactionBehavior, params};

use crate::codec::{
    self, ACCOUNT_COLUMNS, TRANSFER_COLUMNS, account_in, id_bytes, id_from, opt_id,
};
use crate::decisions::DECISIONS;
use crate::inputs::{InputsCache, Touched};
use crate::loans::{LOAN_OPS, LOANS, LoanRows, USAGE_ADD, USAGE_INSERT};
use crate::settlement::{
    BookRows, Cell, DAILY_ADD, DAILY_COLUMNS, Kind, LoadRows, META, Table, TableRows, Updates,
};
use crate::shards::Shards;
use crate::stats::{Checkpoints, Commits};
use crate::writer::{GroupChanges, Load, WriterHandle};
use crate::{StoreError, StoreOptions};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sqlite/schema.sql")),
    (2, include_str!("sqlite/schema_2.sql")),
    (3, include_str!("sqlite/schema_3.sql")),
    (4, include_str!("sqlite/schema_4.sql")),
    (5, include_str!("sqlite/schema_5.sql")),
    (6, include_str!("sqlite/schema_6.sql")),
    (7, include_str!("sqlite/schema_7.sql")),
    (8, include_str!("sqlite/schema_8.sql")),
    (9, include_str!("sqlite/schema_9.sql")),
    (10, include_str!("sqlite/schema_10.sql")),
    (11, include_str!("sqlite/schema_11.sql")),
    (12, include_str!("sqlite/schema_12.sql")),
    (13, include_str!("sqlite/schema_13.sql")),
    (14, include_str!("sqlite/schema_14.sql")),
    (15, include_str!("sqlite/schema_15.sql")),
    (16, include_str!("sqlite/schema_16.sql")),
];

pub(crate) fn open(
    path: &Path,
    options: &StoreOptions,
    inputs: Arc<InputsCache>,
) -> Result<(WriterHandle, SqliteReads), StoreError> {
    let lock_path = lock_path(path);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            StoreError::BadUrl(format!(
                "cannot open lock file {}: {e}",
                lock_path.display()
            ))
        })?;
    lock.try_lock().map_err(|_| {
        StoreError::InUse(format!(
            "{} is in use by another chunlei process (SQLite allows one writer; use PostgreSQL for several)",
            path.display()
        ))
    })?;
    let mut conn = connect(path)?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    // The checkpointer thread copies the WAL into the database file, off the writer's path.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    migrate(&mut conn)?;
    let checkpoints = Arc::new(Checkpoints::default());
    let checkpointer = Checkpointer::start(path, options, checkpoints.clone())?;
    let postings = SharedPostings::default();
    postings::lock(&postings).rebuild(&conn)?;
    let reads = SqliteReads {
        path: path.to_owned(),
        pool: Mutex::default(),
        returned: Condvar::new(),
        open_max: options.read_pool_max,
        postings: postings.clone(),
        registry: Shards::default(),
        registry_changes: inputs.registry.clone(),
    };
    reads.open_idle(crate::input_reads::READERS)?;
    let committer = Committer {
        conn,
        postings,
        checkpointer,
        inputs,
        commits: Arc::new(Commits::with_checkpoints(checkpoints)),
        _lock: lock,
    };
    let engine = Engine::open(path)?;
    Ok((
        pipeline::spawn(
            engine,
            committer,
            options.queue_requests_max,
            options.settlement.clone(),
        )?,
        reads,
    ))
}

/// Reads without the writer or its lock, for commands that only look (`ledger verify`). The
/// per-account transfer lists are not loaded: listing is not what these commands do.
pub(crate) fn reads_only(path: &Path) -> SqliteReads {
    SqliteReads {
        path: path.to_owned(),
        pool: Mutex::default(),
        returned: Condvar::new(),
        open_max: 1,
        postings: SharedPostings::default(),
        registry: Shards::default(),
        registry_changes: Arc::default(),
    }
}

/// What a group's changes change of loan decisions' inputs: the merchants whose daily
/// activity or loans they change, and whether banks' usage moves.
fn touched_inputs(changes: &GroupChanges, loans: &chunlei_lending::loans::LoanBook) -> Touched {
    let changed = &changes.loans;
    let mut merchants: Vec<String> = changes
        .activity
        .keys()
        .map(|(merchant, _)| merchant.clone())
        .chain(
            changed
                .created
                .iter()
                .chain(changed.grown.keys())
                .filter_map(|id| loans.loans.get(id))
                .map(|loan| loan.merchant_id.clone()),
        )
        .collect();
    merchants.sort_unstable();
    merchants.dedup();
    Touched {
        merchants,
        usage: !changed.usage.is_empty(),
    }
}

/// Runs a statement without parameters, such as `BEGIN`, from the connection's statement
/// cache: `execute_batch` would parse it anew each time, which costs more than the statement.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The committer's page cache, in KiB: 2,048 pages, which hold the pages it writes again and
/// again (index interiors, the right edge of growing tables, the accounts). More costs time:
/// when an insert splits a page in the middle of a b-tree, SQLite renumbers pages through a
/// temporary number past the end of the file, and the commit then walks the cache's whole
/// hash table to drop pages past the end. With 256 MiB (65,536 pages) that walk took a
/// quarter of the committer's time in the loan benchmark, whose application-id index splits
/// every few decisions.
const WRITER_CACHE_KIB: i64 = 8_192;

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: the WAL is synced at every commit, so an acknowledged transfer survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    // Plan each statement once. Without the query planner stability guarantee, SQLite 3.54
    // marks a cached statement to be planned again on its next step whenever a parameter whose
    // value the plan looked at is rebound: a `LIMIT ?`, and an equality on a parameter next to
    // an `ORDER BY` — the engine's look for due expiries and due orders in every group, every
    // listing by merchant or bank, a merchant's daily activity. Planning such a statement costs
    // more than running it on a small result, and the cached statement saved nothing.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")?;
    for (version, sql) in MIGRATIONS {
        let applied: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_none() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
            tracing::info!(version, "applied SQLite migration");
        }
    }
    tx.commit()?;
    Ok(())
}

/// The write side of the pipeline: owns the writing connection, the lock file and the
/// per-account transfer lists, and commits what the engine produced.
pub(crate) struct Committer {
    conn: Connection,
    postings: SharedPostings,
    checkpointer: Checkpointer,
    /// Told what each commit changed of loan decisions' inputs; asked whether decisions made
    /// from kept inputs may be stored.
    pub(crate) inputs: Arc<InputsCache>,
    /// What the committer counts of its commits, read through the writer's handle.
    pub(crate) commits: Arc<Commits>,
    _lock: File,
}

/// A thread that checkpoints the WAL every [`StoreOptions::checkpoint_interval`] on its own
/// connection, so the writer's commits never pay for copying pages into the database file.
/// PASSIVE checkpoints neither wait for nor block the writer or the readers; but each ends
/// with a sync of the database file, which slows the commits' syncs of the WAL meanwhile, so
/// they come seconds apart, not milliseconds.
///
/// They cannot shorten the WAL, though. SQLite starts the WAL over only at a write that
/// begins when every frame is in the database file, and under steady writes a commit always
/// lands while the checkpoint copies: the WAL would grow by every page ever written. So when
/// it passes [`StoreOptions::wal_restart_bytes`], the thread asks the writer to copy the last
/// few frames itself between two groups ([`Committer::restart_wal`]), and the writer's next
/// group writes the WAL from its start again.
struct Checkpointer {
    stop: Arc<AtomicBool>,
    /// Set when the WAL is long and all but its last frames are in the database file.
    restart: Arc<AtomicBool>,
    /// Every checkpoint's count and time, the writer's before a restart too.
    counts: Arc<Checkpoints>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Frames a checkpoint may leave behind for the writer to copy; while more are left, the
/// checkpointer goes again at once (commits land while it copies), up to
/// [`CHECKPOINT_ROUNDS_MAX`] times.
const WAL_LEFT_MAX: i64 = 256;
const CHECKPOINT_ROUNDS_MAX: usize = 4;

impl Checkpointer {
    fn start(
        path: &Path,
        options: &StoreOptions,
        counts: Arc<Checkpoints>,
    ) -> Result<Checkpointer, StoreError> {
        let conn = connect(path)?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let page_size = u64::try_from(page_size).unwrap_or(1).max(1);
        let restart_frames =
            i64::try_from(options.wal_restart_bytes / page_size).unwrap_or(i64::MAX);
        let interval = options
            .checkpoint_interval
            .max(crate::CHECKPOINT_INTERVAL_MIN);
        let stop = Arc::new(AtomicBool::new(false));
        let restart = Arc::new(AtomicBool::new(false));
        let (flag, ask, counted) = (stop.clone(), restart.clone(), counts.clone());
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let mut next = std::time::Instant::now() + interval;
                while !flag.load(Ordering::Acquire) {
                    // Woken early by a stopping store (or spuriously): only the time decides.
                    let now = std::time::Instant::now();
                    if now < next {
                        std::thread::park_timeout(next - now);
                        continue;
                    }
                    for _ in 0..CHECKPOINT_ROUNDS_MAX {
                        match checkpoint(&conn, &counted) {
                            Ok((frames, copied)) if frames - copied > WAL_LEFT_MAX => continue,
                            Ok((frames, _)) if frames >= restart_frames => {
                                ask.store(true, Ordering::Release);
                            }
                            Ok(_) => {}
                            Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
                        }
                        break;
                    }
                    next = std::time::Instant::now() + interval;
                }
                // Leave a short WAL behind on a clean shutdown.
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            restart,
            counts,
            thread: Some(thread),
        })
    }
}

/// A PASSIVE checkpoint: the frames in the WAL and how many of them are now in the database
/// file. Counted in `counts`, with its time.
fn checkpoint(conn: &Connection, counts: &Checkpoints) -> rusqlite::Result<(i64, i64)> {
    let started = std::time::Instant::now();
    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    });
    match &done {
        Ok((frames, _)) => counts.done(started.elapsed(), *frames),
        Err(_) => counts.failed(),
    }
    done
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// An account's balances, as an update writes them: copied without the account's owner, whose
/// text would cost an allocation per account per group.
struct Balances {
    id: u128,
    debits_pending: i64,
    debits_posted: i64,
    credits_pending: i64,
    credits_posted: i64,
}

impl Balances {
    fn of(a: &Account) -> Balances {
        Balances {
            id: a.id,
            debits_pending: a.debits_pending.as_i64(),
            debits_posted: a.debits_posted.as_i64(),
            credits_pending: a.credits_pending.as_i64(),
            credits_posted: a.credits_posted.as_i64(),
        }
    }
}

/// What one commit writes: copies of the records the engine changed, so that the engine can go
/// on with the next group while this one is written.
pub(crate) struct CommitRows {
    created: Vec<Account>,
    /// Balances of accounts that existed before the group: only these columns change.
    updated: Vec<Balances>,
    transfers: Vec<Transfer>,
    pending: Vec<(u128, PendingInfo)>,
    history: Vec<HistoryRow>,
    failed: Vec<(u128, CreateTransferResult)>,
    /// The ledger's clock after the group; `None` for loan decisions alone, which leave the
    /// ledger (its clock and postings) untouched.
    clock: Option<u64>,
    book: BookRows,
    /// Loan decision rows, inserted unless their application id is stored.
    decisions: Vec<Vec<Cell>>,
    loans: LoanRows,
    /// What the rows change of loan decisions' inputs.
    pub(crate) touched: Touched,
}

impl CommitRows {
    /// The rows of `changes`; `keys` are the settlement records it changed (taken out of
    /// `changes.book`, which is not read).
    pub(crate) fn new(
        state: &State,
        changes: GroupChanges,
        keys: &chunlei_settlement::book::BookKeys,
        book: &chunlei_settlement::book::Book,
        loans: &chunlei_lending::loans::LoanBook,
    ) -> Result<CommitRows, StoreError> {
        // Updates write only the mutable columns: the others need not be copied.
        let book = BookRows::new(book, keys, &changes.activity, Updates::Mutable)?;
        let touched = touched_inputs(&changes, loans);
        let loans = LoanRows::new(loans, &changes.loans)?;
        let decisions = changes.decisions;
        let changes: Changes = changes.ledger;
        let fresh: IdSet = changes.accounts_created.iter().copied().collect();
        let account = |id: &u128| account_in(state, *id).cloned();
        let transfer = |id: &u128| {
            state
                .transfers
                .get(id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("created transfer {id} missing")))
        };
        Ok(CommitRows {
            created: changes
                .accounts_created
                .iter()
                .map(account)
                .collect::<Result<_, _>>()?,
            // Accounts created in this group are written whole, final balances included.
            updated: changes
                .accounts_updated
                .iter()
                .filter(|id| !fresh.contains(*id))
                .map(|id| account_in(state, *id).map(Balances::of))
                .collect::<Result<_, _>>()?,
            transfers: changes
                .transfers_created
                .iter()
                .map(transfer)
                .collect::<Result<_, _>>()?,
            // An id no longer in the working set was created and undone by a failed chain.
            pending: changes
                .pending_updated
                .iter()
                .filter_map(|id| state.pending.get(id).map(|info| (*id, *info)))
                .collect(),
            history: changes.history,
            failed: changes.transfers_failed,
            clock: Some(state.clock),
            book,
            decisions,
            loans,
            touched,
        })
    }

    /// The rows of loan decisions alone, in arrival order.
    pub(crate) fn decisions(decisions: Vec<Vec<Cell>>) -> CommitRows {
        CommitRows {
            created: Vec::new(),
            updated: Vec::new(),
            transfers: Vec::new(),
            pending: Vec::new(),
            history: Vec::new(),
            failed: Vec::new(),
            clock: None,
            book: BookRows::default(),
            decisions,
            loans: LoanRows::default(),
            touched: Touched::default(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.created.is_empty()
            && self.updated.is_empty()
            && self.transfers.is_empty()
            && self.pending.is_empty()
            && self.history.is_empty()
            && self.failed.is_empty()
            && self.book.is_empty()
            && self.decisions.is_empty()
            && self.loans.is_empty()
    }

    /// The ids whose stored records this commit changes: until it has committed, the engine
    /// must keep its own copies of them rather than read the database.
    pub(crate) fn changed_ids(&self) -> IdSet {
        let transfers = self.transfers.iter().map(|t| t.id);
        let pending = self.pending.iter().map(|(id, _)| *id);
        transfers
            .chain(pending)
            .chain(self.failed.iter().map(|(id, _)| *id))
            .collect()
    }

    /// The largest transfer id this commit stores, failed ones included.
    pub(crate) fn max_transfer_id(&self) -> u128 {
        let failed = self.failed.iter().map(|(id, _)| *id);
        self.transfers
            .iter()
            .map(|t| t.id)
            .chain(failed)
            .max()
            .unwrap_or(0)
    }
}

/// How many times the merchant registry (fraud flags included) has changed, as `conn` sees
/// the database: in its snapshot, or the latest commit outside a transaction.
pub(crate) fn registry_changes(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT changes FROM merchants_changes WHERE singleton = 1")?
        .query_row([], |r| r.get(0))?)
}

impl Committer {
    /// Learns which merchants' registry entries changed up to the latest commit (read
    /// outside any transaction).
    pub(crate) fn catch_up_registry(&self) -> Result<(), StoreError> {
        self.inputs.registry.catch_up_with(&self.conn).map(drop)
    }

    /// Writes and commits one group's rows; durable when it returns `Ok`, with the application
    /// ids of the decisions it stored (not those already stored under their id).
    pub(crate) fn commit(&mut self, rows: &CommitRows) -> Result<Vec<String>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        {
            // Before the transaction: a rebuild must not see this commit's own rows.
            let mut postings = postings::lock(&self.postings);
            if postings.is_stale() {
                postings.rebuild(&self.conn)?;
            }
        }
        self.restart_wal();
        run_cached(&self.conn, "BEGIN IMMEDIATE")?;
        let started = std::time::Instant::now();
        let written = self.write_group(rows, started);
        let done = match written {
            Ok(done) => done,
            Err(error) => {
                // Nothing of a failed group stays; the next group starts clean.
                if run_cached(&self.conn, "ROLLBACK").is_err() {
                    tracing::error!("rolling back a failed commit group failed");
                }
                return Err(error);
            }
        };
        tracing::trace!(
            decisions = rows.decisions.len(),
            rows_us = done.rows.as_micros(),
            postings_us = (done.postings - done.rows).as_micros(),
            commit_us = (started.elapsed() - done.postings).as_micros(),
            "group written"
        );
        let mut postings = postings::lock(&self.postings);
        postings.trim(done.trim);
        postings.mark_fresh();
        Ok(done.stored)
    }

    /// When the checkpointer asks, copies the WAL's last frames into the database file, so
    /// that this writer's next transaction begins with every frame copied and writes the WAL
    /// from its start (a pause of tens to hundreds of milliseconds, once per
    /// [`StoreOptions::wal_restart_bytes`] written).
    /// A failed checkpoint only leaves the WAL long; the group is written all the same.
    fn restart_wal(&mut self) {
        if !self.checkpointer.restart.swap(false, Ordering::Acquire) {
            return;
        }
        let started = std::time::Instant::now();
        match checkpoint(&self.conn, &self.checkpointer.counts) {
            Ok((frames, copied)) => tracing::debug!(
                frames,
                copied,
                pause_us = started.elapsed().as_micros(),
                "WAL copied for a restart"
            ),
            Err(error) => tracing::warn!(%error, "WAL checkpoint before a restart failed"),
        }
    }

    /// Writes a group's rows and postings and commits, in the transaction the caller began.
    fn write_group(
        &mut self,
        rows: &CommitRows,
        started: std::time::Instant,
    ) -> Result<Written, StoreError> {
        let stored = write_rows(&self.conn, rows)?;
        let written = started.elapsed();
        let trim = if let Some(clock) = rows.clock {
            // Held only while the lists change, not while rows are written: readers take it.
            let mut postings = postings::lock(&self.postings);
            // Marked stale until the commit succeeds: if anything below fails, the lists hold
            // entries that never committed and are rebuilt before the next write.
            postings.mark_stale();
            let entries = rows
                .transfers
                .iter()
                .map(|t| (t.timestamp, t.debit_account_id, t.credit_account_id));
            postings.append(&self.conn, entries, clock)?
        } else {
            postings::Trim::default()
        };
        let listed = started.elapsed();
        run_cached(&self.conn, "COMMIT")?;
        Ok(Written {
            rows: written,
            postings: listed,
            trim,
            stored,
        })
    }
}

/// What [`Committer::write_group`] did.
struct Written {
    /// When the rows were written, from the start of the group.
    rows: std::time::Duration,
    /// When the postings were written, from the start of the group.
    postings: std::time::Duration,
    /// What the postings may drop now that the commit holds.
    trim: postings::Trim,
    /// The application ids of the decisions stored.
    stored: Vec<String>,
}

/// Writes a group's rows; the ids of the decisions it stored.
fn write_rows(tx: &Connection, rows: &CommitRows) -> Result<Vec<String>, StoreError> {
    insert_rows(
        tx,
        ACCOUNT_INSERT,
        "",
        12,
        &rows.created.iter().collect::<Vec<_>>(),
        bind_account,
        any_count,
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE accounts SET debits_pending = ?2, debits_posted = ?3, credits_pending = ?4, \
         credits_posted = ?5 WHERE id = ?1",
    )?;
    for a in &rows.updated {
        update.raw_bind_parameter(1, id_bytes(a.id))?;
        update.raw_bind_parameter(2, a.debits_pending)?;
        update.raw_bind_parameter(3, a.debits_posted)?;
        update.raw_bind_parameter(4, a.credits_pending)?;
        update.raw_bind_parameter(5, a.credits_posted)?;
        update.raw_execute()?;
    }
    let mut owner = tx.prepare_cached(
        "INSERT INTO account_owners (account_id, kind, owner_id) VALUES (?1, ?2, ?3)",
    )?;
    for a in &rows.created {
        owner.execute(params![id_bytes(a.id), a.owner.kind.as_str(), a.owner.id])?;
    }
    let started = std::time::Instant::now();
    insert_rows(
        tx,
        TRANSFER_INSERT,
        "",
        13,
        &rows.transfers.iter().collect::<Vec<_>>(),
        bind_transfer,
        any_count,
    )?;
    tracing::trace!(
        rows = rows.transfers.len(),
        us = started.elapsed().as_micros(),
        "transfers written"
    );
    let mut pending = tx.prepare_cached(
        "INSERT INTO pending_transfers (id, status, expires_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status",
    )?;
    for (id, info) in &rows.pending {
        pending.execute(params![
            id_bytes(*id),
            codec::status_code(info.status),
            codec::timestamp(info.expires_at)
        ])?;
    }
    let mut history = tx.prepare_cached(
        "INSERT OR REPLACE INTO account_balances (account_id, timestamp, debits_pending, debits_posted, \
         credits_pending, credits_posted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for h in &rows.history {
        history.execute(params![
            id_bytes(h.account_id),
            codec::timestamp(h.timestamp),
            h.debits_pending.as_i64(),
            h.debits_posted.as_i64(),
            h.credits_pending.as_i64(),
            h.credits_posted.as_i64()
        ])?;
    }
    let mut failed =
        tx.prepare_cached("INSERT INTO failed_transfers (id, result) VALUES (?1, ?2)")?;
    for (id, result) in &rows.failed {
        failed.execute(params![id_bytes(*id), result.as_str()])?;
    }
    if let Some(clock) = rows.clock {
        tx.prepare_cached("UPDATE ledger_clock SET timestamp = ?1 WHERE singleton = 1")?
            .execute([codec::timestamp(clock)])?;
    }
    for (table, table_rows) in rows.book.tables() {
        let started = std::time::Instant::now();
        write_table(tx, table, table_rows)?;
        tracing::trace!(
            table = table.name,
            inserts = table_rows.inserts.len(),
            updates = table_rows.updates.len(),
            us = started.elapsed().as_micros(),
            "settlement rows written"
        );
    }
    if !rows.book.daily.is_empty() {
        let head = format!("INSERT OR FAIL INTO merchant_daily ({DAILY_COLUMNS}) VALUES ");
        let tail = format!(" ON CONFLICT (merchant_id, day) DO UPDATE SET {DAILY_ADD}");
        let daily: Vec<&[Cell]> = rows.book.daily.iter().map(Vec::as_slice).collect();
        let started = std::time::Instant::now();
        insert_rows(tx, &head, &tail, 8, &daily, bind_cells, any_count)?;
        tracing::trace!(
            rows = daily.len(),
            us = started.elapsed().as_micros(),
            "daily activity written"
        );
    }
    let stored = write_decisions(tx, &rows.decisions)?;
    write_table(tx, &LOANS, &rows.loans.loans)?;
    write_table(
        tx,
        &LOAN_OPS,
        &TableRows {
            inserts: rows.loans.ops.clone(),
            updates: Vec::new(),
        },
    )?;
    let usage: Vec<&[Cell]> = rows.loans.usage.iter().map(Vec::as_slice).collect();
    insert_rows(
        tx,
        USAGE_INSERT,
        USAGE_ADD,
        4,
        &usage,
        bind_cells,
        any_count,
    )?;
    if let Some(meta) = &rows.book.meta {
        let mut upsert = tx.prepare_cached(&format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            META.name,
            META.column_list(),
            vec!["?"; META.columns.len()].join(","),
            META.key(),
            META.updates()
        ))?;
        upsert.execute(rusqlite::params_from_iter(meta))?;
    }
    Ok(stored)
}

/// Inserts loan decisions; one whose application id is stored already stays as it is. The ids
/// of those it stored, in order.
///
/// Without `RETURNING`, which cost a third of the insert (SQLite gathers the returned rows in
/// a temporary table): a statement that stored all its rows, as nearly every one does, stored
/// the ids it was given. When one stored fewer, the rows it stored are those after the table's
/// largest rowid before it: SQLite gives each new row the largest rowid plus one, and the
/// writer holds the only write lock.
fn write_decisions(tx: &Connection, rows: &[Vec<Cell>]) -> Result<Vec<String>, StoreError> {
    let mut stored = Vec::new();
    if rows.is_empty() {
        return Ok(stored);
    }
    // `OR FAIL` for any other constraint, as elsewhere ([`ROWS_PER_INSERT`]): no statement
    // journal.
    let head = format!(
        "INSERT OR FAIL INTO {} ({}) VALUES ",
        DECISIONS.name,
        DECISIONS.column_list()
    );
    let tail = format!(" ON CONFLICT ({}) DO NOTHING", DECISIONS.key());
    let rows: Vec<&[Cell]> = rows.iter().map(Vec::as_slice).collect();
    // The table's largest rowid before each statement: the rows a statement stores come
    // right after it.
    let mut last: i64 = tx
        .prepare_cached(&format!(
            "SELECT coalesce(max(rowid), 0) FROM {}",
            DECISIONS.name
        ))?
        .query_row([], |row| row.get(0))?;
    insert_rows(
        tx,
        &head,
        &tail,
        DECISIONS.columns.len(),
        &rows,
        bind_cells,
        |chunk, inserted| {
            let before = last;
            last += i64::try_from(inserted).unwrap_or(i64::MAX);
            if inserted == chunk.len() {
                for row in chunk {
                    match row.first() {
                        Some(Cell::Text(id)) => stored.push(id.clone()),
                        _ => {
                            return Err(StoreError::Corrupt(
                                "a decision row without its id".into(),
                            ));
                        }
                    }
                }
            } else if inserted > 0 {
                let mut ids = tx.prepare_cached(&format!(
                    "SELECT {} FROM {} WHERE rowid > ?1 ORDER BY rowid",
                    DECISIONS.key(),
                    DECISIONS.name
                ))?;
                for id in ids.query_map([before], |row| row.get(0))? {
                    stored.push(id?);
                }
            }
            Ok(())
        },
    )?;
    Ok(stored)
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Cell::Int(v) => ToSqlOutput::from(*v),
            Cell::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Cell::Static(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Cell::NullInt | Cell::NullText => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// Writes one table's settlement rows: new ones with multi-row `INSERT`s, changed ones with an
/// `UPDATE` of their mutable columns (so the indexes on the others are left alone).
fn write_table(tx: &Connection, table: &Table, rows: &TableRows) -> Result<(), StoreError> {
    if rows.inserts.is_empty() && rows.updates.is_empty() {
        return Ok(());
    }
    let columns = table.columns.len();
    let head = format!(
        "INSERT OR FAIL INTO {} ({}) VALUES ",
        table.name,
        table.column_list()
    );
    let inserts: Vec<&[Cell]> = rows.inserts.iter().map(Vec::as_slice).collect();
    insert_rows(tx, &head, "", columns, &inserts, bind_cells, any_count)?;
    if rows.updates.is_empty() {
        return Ok(());
    }
    let sets: Vec<String> = table.columns[table.mutable_from..]
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{name} = ?{}", i + 2))
        .collect();
    let mut update = tx.prepare_cached(&format!(
        "UPDATE {} SET {} WHERE {} = ?1",
        table.name,
        sets.join(", "),
        table.key()
    ))?;
    for row in &rows.updates {
        update.raw_bind_parameter(1, &row[0])?;
        for (i, cell) in row[table.mutable_from..].iter().enumerate() {
            update.raw_bind_parameter(i + 2, cell)?;
        }
        update.raw_execute()?;
    }
    Ok(())
}

/// Reads one settlement row by the table's column kinds.
pub(crate) fn cells(table: &Table, r: &Row<'_>) -> rusqlite::Result<Vec<Cell>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Int | Kind::OptInt => {
                    r.get::<_, Option<i64>>(i)?.map_or(Cell::NullInt, Cell::Int)
                }
                Kind::Text | Kind::OptText => r
                    .get::<_, Option<String>>(i)?
                    .map_or(Cell::NullText, Cell::Text),
            })
        })
        .collect()
}

/// Rows whose `column` is among `keys`, on any connection.
pub(crate) fn select_rows_where(
    conn: &Connection,
    table: &'static Table,
    column: &'static str,
    keys: &[String],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let sql = table_sql("where", table, column, || {
        format!(
            "SELECT {} FROM {} WHERE {column} = ?1",
            table.column_list(),
            table.name
        )
    });
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = Vec::new();
    for key in keys {
        let rows = stmt.query_map([key], |r| cells(table, r))?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// The text of a statement built from a table's description, built once for each `(kind,
/// table, column)` and kept: formatting it with the table's column list cost more than running
/// it on the few rows of a loan decision's reads.
pub(crate) fn table_sql(
    kind: &'static str,
    table: &'static Table,
    column: &'static str,
    build: impl FnOnce() -> String,
) -> Arc<str> {
    type Texts = std::collections::HashMap<(&'static str, &'static str, &'static str), Arc<str>>;
    static TEXTS: std::sync::LazyLock<Mutex<Texts>> = std::sync::LazyLock::new(Mutex::default);
    let mut texts = TEXTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    texts
        .entry((kind, table.name, column))
        .or_insert_with(|| build().into())
        .clone()
}

/// Settlement rows by key, on any connection.
pub(crate) fn select_rows(
    conn: &Connection,
    table: &'static Table,
    keys: &[String],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let sql = table_sql("key", table, table.key(), || {
        if table.name == META.name {
            format!(
                "SELECT {} FROM {} WHERE singleton = 1",
                table.column_list(),
                table.name
            )
        } else {
            format!(
                "SELECT {} FROM {} WHERE {} = ?1",
                table.column_list(),
                table.name,
                table.key()
            )
        }
    });
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = Vec::with_capacity(keys.len());
    if table.name == META.name {
        if let Some(row) = stmt.query_row([], |r| cells(table, r)).optional()? {
            out.push(row);
        }
        return Ok(out);
    }
    for key in keys {
        if let Some(row) = stmt.query_row([key], |r| cells(table, r)).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

impl LoadRows for Engine {
    fn rows(
        &mut self,
        table: &'static Table,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        select_rows(&self.conn, table, keys)
    }

    fn rows_where(
        &mut self,
        table: &'static Table,
        column: &'static str,
        keys: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        select_rows_where(&self.conn, table, column, keys)
    }

    fn scalar(&mut self, sql: &'static str) -> Result<i64, StoreError> {
        Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    }

    fn due_orders(&mut self, at: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id FROM settlement_orders WHERE due_at > 0 AND due_at <= ?1 \
             ORDER BY due_at LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![codec::timestamp(at), limit], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn registry(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<chunlei_settlement::Merchant>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&reads::MERCHANT_BY_ID)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(merchant) = stmt.query_row([id], reads::merchant_row).optional()? {
                out.push(merchant?);
            }
        }
        Ok(out)
    }
}

/// The read side of the pipeline: loads what a group needs on its own connection. It sees
/// only committed data; records changed by a group still being committed are in the
/// engine's working set, which the loader never overwrites.
pub(crate) struct Engine {
    conn: Connection,
    /// The largest transfer id stored or about to be, failed ones included. A transfer id
    /// above it cannot exist, so the lookup is skipped: with time-ordered ids (recommended to
    /// clients) that is nearly every new transfer.
    max_transfer_id: u128,
}

impl Engine {
    fn open(path: &Path) -> Result<Engine, StoreError> {
        let mut engine = Engine {
            conn: connect(path)?,
            max_transfer_id: 0,
        };
        engine.reset()?;
        Ok(engine)
    }

    /// A working set that starts from what is committed, after a start or a failed commit.
    pub(crate) fn reset(&mut self) -> Result<State, StoreError> {
        let max_id: Option<Vec<u8>> = self.conn.query_row(
            "SELECT max(id) FROM (SELECT max(id) AS id FROM transfers \
             UNION ALL SELECT max(id) FROM failed_transfers)",
            [],
            |r| r.get(0),
        )?;
        self.max_transfer_id = max_id.map_or(Ok(0), |bytes| id_from(&bytes))?;
        let clock: i64 = self.conn.query_row(
            "SELECT timestamp FROM ledger_clock WHERE singleton = 1",
            [],
            |r| r.get(0),
        )?;
        Ok(State::new(codec::i64_to_u64(clock)))
    }

    /// Notes ids the engine just gave to a commit, before that commit is written.
    pub(crate) fn note_stored(&mut self, max_transfer_id: u128) {
        self.max_transfer_id = self.max_transfer_id.max(max_transfer_id);
    }
}

impl Load for Engine {
    fn load_accounts(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN account_owners o ON o.account_id = a.id WHERE a.id = ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        for id in ids {
            if let Some(account) = stmt
                .query_row([id_bytes(*id)], |r| Ok(account_row(r)))
                .optional()?
            {
                state.accounts.insert(*id, account?);
            }
        }
        Ok(())
    }

    fn load_transfers(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS}, p.status, p.expires_at FROM transfers t \
             LEFT JOIN pending_transfers p ON p.id = t.id WHERE t.id = ?1"
        );
        let max_id = self.max_transfer_id;
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut failed = self
            .conn
            .prepare_cached("SELECT result FROM failed_transfers WHERE id = ?1")?;
        for id in ids.iter().filter(|id| **id <= max_id) {
            if let Some(result) = failed
                .query_row([id_bytes(*id)], |r| r.get::<_, String>(0))
                .optional()?
            {
                let result = CreateTransferResult::parse(&result).ok_or_else(|| {
                    StoreError::Corrupt(format!("failed transfer result {result}"))
                })?;
                state.failed.insert(*id, result);
                continue;
            }
            let row = stmt
                .query_row([id_bytes(*id)], |r| {
                    Ok((
                        transfer_row(r),
                        r.get::<_, Option<i64>>(13)?,
                        r.get::<_, Option<i64>>(14)?,
                    ))
                })
                .optional()?;
            if let Some((transfer, status, expires_at)) = row {
                if let (Some(status), Some(expires_at)) = (status, expires_at) {
                    let info = PendingInfo {
                        status: codec::status_from(status)?,
                        expires_at: codec::i64_to_u64(expires_at),
                    };
                    state.pending.insert(*id, info);
                }
                state.transfers.insert(*id, transfer?);
            }
        }
        Ok(())
    }

    fn due_pending(&mut self, now: u64, limit: usize) -> Result<Vec<u128>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM pending_transfers WHERE status = 0 AND expires_at > 0 AND expires_at <= ?1 \
             ORDER BY expires_at LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![codec::timestamp(now), limit], |r| {
            r.get::<_, Vec<u8>>(0)
        })?;
        rows.map(|bytes| id_from(&bytes?)).collect()
    }
}

const ACCOUNT_INSERT: &str = "INSERT OR FAIL INTO accounts (id, debits_pending, debits_posted, credits_pending, \
     credits_posted, user_data_128, user_data_64, user_data_32, ledger, code, flags, timestamp) VALUES ";
fn bind_account(insert: &mut Statement<'_>, at: usize, a: &Account) -> rusqlite::Result<()> {
    insert.raw_bind_parameter(at + 1, id_bytes(a.id))?;
    insert.raw_bind_parameter(at + 2, a.debits_pending.as_i64())?;
    insert.raw_bind_parameter(at + 3, a.debits_posted.as_i64())?;
    insert.raw_bind_parameter(at + 4, a.credits_pending.as_i64())?;
    insert.raw_bind_parameter(at + 5, a.credits_posted.as_i64())?;
    insert.raw_bind_parameter(at + 6, opt_id(a.user_data_128))?;
    insert.raw_bind_parameter(at + 7, codec::u64_to_i64(a.user_data_64))?;
    insert.raw_bind_parameter(at + 8, a.user_data_32)?;
    insert.raw_bind_parameter(at + 9, a.ledger)?;
    insert.raw_bind_parameter(at + 10, a.code)?;
    insert.raw_bind_parameter(at + 11, a.flags.bits())?;
    insert.raw_bind_parameter(at + 12, codec::timestamp(a.timestamp))
}

/// Rows per multi-row INSERT: one statement step per this many rows cuts the per-statement
/// overhead that dominated row-at-a-time writes (about a quarter more transfers per second).
///
/// The committer's multi-row statements say `INSERT OR FAIL`: with the default `ABORT`,
/// SQLite keeps a statement journal (a copy of every page a statement first touches) so that
/// a failing statement can undo its own earlier rows — an eighth of the committer's time.
/// Nothing needs that here: any error fails the whole transaction, which is rolled back.
const ROWS_PER_INSERT: usize = 32;

/// Inserts `rows` with multi-row statements `head (?,…),(?,…)… tail`, `columns` parameters
/// per row, bound by `bind` at a 0-based parameter offset. After each statement `inserted`
/// hears its rows and how many of them it stored (fewer where `tail` lets a conflict pass;
/// [`any_count`] where that does not matter).
///
/// Rows go [`ROWS_PER_INSERT`] to a statement, and those left over in statements of a power of
/// two rows each, largest first (29 as 16, 8, 4 and 1): a table then has six statement texts
/// whatever its groups hold, all prepared once and kept in the connection's statement cache.
/// With a statement for each count left over, the first groups of a new load prepared a
/// statement of hundreds of parameters at almost every commit, and the committer's tables
/// together could have more texts than the cache keeps.
fn insert_rows<T: ?Sized>(
    tx: &Connection,
    head: &str,
    tail: &str,
    columns: usize,
    rows: &[&T],
    bind: fn(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
    mut inserted: impl FnMut(&[&T], usize) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut sql = String::new();
    let mut prepared_for = 0;
    let mut left = rows;
    while !left.is_empty() {
        let count = statement_rows(left.len());
        let (chunk, rest) = left.split_at(count);
        left = rest;
        // Built only when the count changes: runs of full statements share one text.
        if count != prepared_for {
            sql.clear();
            sql.push_str(head);
            for row in 0..count {
                sql.push_str(if row == 0 { "(" } else { ",(" });
                for column in 0..columns {
                    sql.push_str(if column == 0 { "?" } else { ",?" });
                }
                sql.push(')');
            }
            sql.push_str(tail);
            prepared_for = count;
        }
        let mut insert = tx.prepare_cached(&sql)?;
        for (index, row) in chunk.iter().enumerate() {
            bind(&mut insert, index * columns, row)?;
        }
        let changed = insert.raw_execute()?;
        inserted(chunk, changed)?;
    }
    Ok(())
}

/// The rows of the next statement of [`insert_rows`] with `left` rows to insert: all of them up
/// to [`ROWS_PER_INSERT`], else the largest power of two within them.
fn statement_rows(left: usize) -> usize {
    if left >= ROWS_PER_INSERT {
        ROWS_PER_INSERT
    } else {
        1 << left.max(1).ilog2()
    }
}

/// For [`insert_rows`] where the count stored needs no check.
fn any_count<T: ?Sized>(_: &[&T], _: usize) -> Result<(), StoreError> {
    Ok(())
}

/// Binds a row of cells from parameter `at + 1` on.
fn bind_cells(stmt: &mut Statement<'_>, at: usize, row: &[Cell]) -> rusqlite::Result<()> {
    for (i, cell) in row.iter().enumerate() {
        stmt.raw_bind_parameter(at + i + 1, cell)?;
    }
    Ok(())
}

const TRANSFER_INSERT: &str = "INSERT OR FAIL INTO transfers (id, debit_account_id, credit_account_id, amount, \
     pending_id, user_data_128, user_data_64, user_data_32, timeout_s, ledger, code, flags, timestamp) VALUES ";

fn bind_transfer(insert: &mut Statement<'_>, at: usize, t: &Transfer) -> rusqlite::Result<()> {
    insert.raw_bind_parameter(at + 1, id_bytes(t.id))?;
    insert.raw_bind_parameter(at + 2, id_bytes(t.debit_account_id))?;
    insert.raw_bind_parameter(at + 3, id_bytes(t.credit_account_id))?;
    insert.raw_bind_parameter(at + 4, t.amount.as_i64())?;
    insert.raw_bind_parameter(at + 5, opt_id(t.pending_id))?;
    insert.raw_bind_parameter(at + 6, opt_id(t.user_data_128))?;
    insert.raw_bind_parameter(at + 7, codec::u64_to_i64(t.user_data_64))?;
    insert.raw_bind_parameter(at + 8, t.user_data_32)?;
    insert.raw_bind_parameter(at + 9, t.timeout_s)?;
    insert.raw_bind_parameter(at + 10, t.ledger)?;
    insert.raw_bind_parameter(at + 11, t.code)?;
    insert.raw_bind_parameter(at + 12, t.flags.bits())?;
    insert.raw_bind_parameter(at + 13, codec::timestamp(t.timestamp))
}

fn opt_id_from(bytes: Option<Vec<u8>>) -> Result<u128, StoreError> {
    bytes.map_or(Ok(0), |b| id_from(&b))
}

fn account_row(r: &Row<'_>) -> Result<Account, StoreError> {
    let get_i = |i: usize| -> Result<i64, StoreError> { Ok(r.get::<_, i64>(i)?) };
    let kind: Option<String> = r.get(12)?;
    let owner = codec::owner(kind.as_deref(), r.get(13)?)?;
    Ok(Account {
        id: id_from(&r.get::<_, Vec<u8>>(0)?)?,
        debits_pending: codec::fen(get_i(1)?)?,
        debits_posted: codec::fen(get_i(2)?)?,
        credits_pending: codec::fen(get_i(3)?)?,
        credits_posted: codec::fen(get_i(4)?)?,
        user_data_128: opt_id_from(r.get(5)?)?,
        user_data_64: codec::i64_to_u64(get_i(6)?),
        user_data_32: codec::u32_from(get_i(7)?, "user_data_32")?,
        ledger: codec::u32_from(get_i(8)?, "ledger")?,
        code: codec::u16_from(get_i(9)?, "code")?,
        flags: codec::account_flags(get_i(10)?)?,
        owner,
        timestamp: codec::i64_to_u64(get_i(11)?),
    })
}

fn transfer_row(r: &Row<'_>) -> Result<Transfer, StoreError> {
    let get_i = |i: usize| -> Result<i64, StoreError> { Ok(r.get::<_, i64>(i)?) };
    let get_b =
        |i: usize| -> Result<Option<Vec<u8>>, StoreError> { Ok(r.get::<_, Option<Vec<u8>>>(i)?) };
    Ok(Transfer {
        id: opt_id_from(get_b(0)?)?,
        debit_account_id: opt_id_from(get_b(1)?)?,
        credit_account_id: opt_id_from(get_b(2)?)?,
        amount: codec::fen(get_i(3)?)?,
        pending_id: opt_id_from(get_b(4)?)?,
        user_data_128: opt_id_from(get_b(5)?)?,
        user_data_64: codec::i64_to_u64(get_i(6)?),
        user_data_32: codec::u32_from(get_i(7)?, "user_data_32")?,
        timeout_s: codec::u32_from(get_i(8)?, "timeout_s")?,
        ledger: codec::u32_from(get_i(9)?, "ledger")?,
        code: codec::u16_from(get_i(10)?, "code")?,
        flags: codec::transfer_flags(get_i(11)?)?,
        timestamp: codec::i64_to_u64(get_i(12)?),
    })
}

mod pipeline;
mod postings;
mod reads;
pub(crate) mod registry;
use postings::SharedPostings;
pub(crate) use reads::SqliteReads;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_inserted_by_six_statement_sizes_at_most() {
        let mut sizes = std::collections::BTreeSet::new();
        for total in 0..=200 {
            let (mut left, mut chunks) = (total, Vec::new());
            while left > 0 {
                let count = statement_rows(left);
                assert!(
                    count <= left && count <= ROWS_PER_INSERT,
                    "{total}: {count}"
                );
                chunks.push(count);
                left -= count;
            }
            assert_eq!(chunks.iter().sum::<usize>(), total);
            // Largest first, and at most one statement of each size below a full one.
            assert!(
                chunks.windows(2).all(|w| w[0] >= w[1]),
                "{total}: {chunks:?}"
            );
            let partial: Vec<_> = chunks.iter().filter(|&&c| c < ROWS_PER_INSERT).collect();
            let mut distinct = partial.clone();
            distinct.dedup();
            assert_eq!(partial, distinct, "{total}: {chunks:?}");
            sizes.extend(chunks);
        }
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [1, 2, 4, 8, 16, 32]);
    }

    #[test]
    fn insert_rows_stores_every_row_once_in_order() -> Result<(), StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)")?;
        fn bind(stmt: &mut Statement<'_>, at: usize, row: &(i64, String)) -> rusqlite::Result<()> {
            stmt.raw_bind_parameter(at + 1, row.0)?;
            stmt.raw_bind_parameter(at + 2, &row.1)
        }
        let mut next = 0;
        for total in [0_usize, 1, 7, 31, 32, 33, 95] {
            let rows: Vec<(i64, String)> = (next..next + total as i64)
                .map(|a| (a, format!("row {a}")))
                .collect();
            next += total as i64;
            let refs: Vec<&(i64, String)> = rows.iter().collect();
            let mut heard = Vec::new();
            insert_rows(
                &conn,
                "INSERT INTO t (a, b) VALUES ",
                "",
                2,
                &refs,
                bind,
                |chunk, stored| {
                    heard.push((chunk.len(), stored));
                    Ok(())
                },
            )?;
            assert!(
                heard.iter().all(|&(len, stored)| len == stored),
                "{total}: {heard:?}"
            );
            assert_eq!(heard.iter().map(|h| h.0).sum::<usize>(), total);
        }
        let (count, sum, text): (i64, i64, String) = conn.query_row(
            "SELECT count(*), sum(a), group_concat(b, '|') FROM (SELECT a, b FROM t ORDER BY a)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!((count, sum), (next, next * (next - 1) / 2));
        assert_eq!(text.split('|').nth(100), Some("row 100"));
        Ok(())
    }
}
