//! Durable storage for the ledger: SQLite (the embedded default) and PostgreSQL behind one API.
//!
//! Writes go through a single writer thread per process that coalesces concurrent requests
//! into one database transaction (group commit) and acknowledges each request only after the
//! commit is durable. Reads use their own connections and never wait for the writer.
//! Only this crate speaks SQL.

mod chunks;
mod codec;
mod decisions;
mod input_reads;
mod inputs;
mod loans;
mod merchants;
mod postgres;
mod settlement;
mod shards;
mod sqlite;
mod stats;
pub mod testing;
mod url;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use chunlei_ledger::{
    Account, CreateAccountResult, CreateTransferResult, HistoryRow, Transfer, Violation,
};
use chunlei_lending::decision::ActivityTotals;
use chunlei_lending::loans::{LoanApplied, LoanCommand, LoanRecord, LoanResult};
use chunlei_settlement::book::{
    Command, CommandResult, DailyActivity, MerchantBook, Meta, OrderRecord, PayoutIn, PayoutRecord,
    PayoutStatus, Settings,
};
use chunlei_settlement::{CivilDate, Merchant, MerchantId};

pub use decisions::LoanDecisionRecord;
pub use input_reads::{QueuedInputs, READS_WAITING_MAX};
pub use inputs::{CachedInputs, DECISION_LOANS_MAX, DecisionInputs, InputsStats, RegistryVersion};
pub use merchants::{
    ClearOutcome, FLAG_EVENTS_MAX, FlagAction, FlagOutcome, FraudFlag, FraudFlagEvent,
};
pub use stats::{CheckpointStats, CommitStats, Histogram, HistogramReading};
pub use url::DbUrl;
pub use writer::{GROUP_EVENTS_MAX, QUEUE_REQUESTS_MAX};

/// Rows a single list query returns at most.
pub const QUERY_LIMIT_MAX: u32 = 8_189;

/// Merchants one [`Store::upsert_merchants`] call writes at most: a whole import file, which
/// is still one transaction.
pub const UPSERT_MERCHANTS_MAX: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres_detail(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The writer's queue ([`QUEUE_REQUESTS_MAX`]) or the decision reader's
    /// ([`READS_WAITING_MAX`]) is full.
    #[error("the store's queue is full; retry later")]
    Overloaded,
    #[error("{0}")]
    InUse(String),
    #[error(
        "this store was opened without the ledger writer (for administration beside a running server)"
    )]
    WithoutWriter,
    #[error("the ledger writer has stopped")]
    WriterStopped,
    #[error("the decision reader has stopped")]
    ReaderStopped,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("too many events in one request: {count} (at most {max})")]
    BatchTooLarge { count: usize, max: usize },
    /// Decisions made from inputs kept in memory were not stored: the merchant's registry
    /// entry (or its fraud flag) changed after those inputs were read. Decide again from a
    /// fresh read.
    #[error("the merchant's registry entry changed after the decision's inputs were read")]
    InputsChanged,
}

/// The server's own message when there is one ("db error" alone says nothing).
fn postgres_detail(error: &::postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}

/// Which of an account's transfers to list, oldest first unless `reversed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFilter {
    pub account_id: u128,
    /// Inclusive bounds on the transfer timestamp; zero means unbounded.
    pub timestamp_min: u64,
    pub timestamp_max: u64,
    /// At most [`QUERY_LIMIT_MAX`].
    pub limit: u32,
    /// Include transfers that debit the account.
    pub debits: bool,
    /// Include transfers that credit the account.
    pub credits: bool,
    pub reversed: bool,
}

impl AccountFilter {
    pub fn new(account_id: u128) -> AccountFilter {
        AccountFilter {
            account_id,
            timestamp_min: 0,
            timestamp_max: 0,
            limit: QUERY_LIMIT_MAX,
            debits: true,
            credits: true,
            reversed: false,
        }
    }
}

/// A stored API key: only the SHA-256 of its secret is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part of the key, safe to log.
    pub key_id: String,
    pub secret_sha256: [u8; 32],
    pub role: String,
    /// Set for merchant keys: the merchant the key acts for.
    pub merchant_id: Option<String>,
    /// Set for bank keys: the bank the key acts for.
    pub bank_id: Option<String>,
    pub created_at: u64,
}

/// Tuning and limits of an opened store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Read connections kept open for reuse. On SQLite also the most open at once: a read
    /// that finds none idle waits for one instead of opening another.
    pub read_pool_max: usize,
    /// Requests waiting for the writer at most (default [`QUEUE_REQUESTS_MAX`]); beyond it
    /// callers get [`StoreError::Overloaded`] at once instead of a queue without bound. On
    /// SQLite loan decisions wait apart from the other requests, in the committer's queue,
    /// which has the same bound.
    pub queue_requests_max: usize,
    /// The settlement programme, fee schedule and hooks the writer applies order events with.
    pub settlement: Arc<Settings>,
    /// SQLite: the WAL length past which the writer starts the WAL over (default
    /// [`WAL_RESTART_BYTES`]). Under steady writes the WAL would otherwise grow by every page
    /// written; each restart pauses the writer while it copies the WAL's last frames and syncs
    /// the database file: 20–70 ms at 256 MiB and 220 ms at 1 GiB, measured under the loan
    /// benchmark's full load. Zero starts it over after every checkpoint that leaves it short.
    pub wal_restart_bytes: u64,
    /// SQLite: how often a background thread copies the WAL into the database file (default
    /// [`CHECKPOINT_INTERVAL`]). Each checkpoint ends with a sync of the database file, which
    /// slows the commits' syncs of the WAL while it lasts, and every request waiting for a
    /// commit feels that. Longer intervals mean fewer such pauses and a longer WAL between
    /// them. It is also the longest a store's checkpoint thread sleeps: a stopping store wakes
    /// it. Shorter than [`CHECKPOINT_INTERVAL_MIN`] counts as that, so that the thread never
    /// checkpoints without a pause.
    pub checkpoint_interval: Duration,
}

/// The default [`StoreOptions::checkpoint_interval`]: 5 s. Under the loan benchmark's full
/// load, checkpoints every 250 ms stalled the whole server once or twice in most 0.45 s runs,
/// a round of the 200 clients' answers each time, which is 1 % of the run; every 5 s the run's
/// p99 fell from 9.3 to 7.5 ms (median of ten alternating runs, `docs/benchmarks.md`). The WAL
/// then holds up to 5 s of writes, some 170 MiB at the busiest, far below
/// [`WAL_RESTART_BYTES`].
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest [`StoreOptions::checkpoint_interval`] taken.
pub const CHECKPOINT_INTERVAL_MIN: Duration = Duration::from_millis(10);

/// The default [`StoreOptions::wal_restart_bytes`]: 1 GiB, about half a minute of the busiest
/// writing measured (`docs/benchmarks.md`), so the writer's pause comes rarely: a closed loop
/// of 200 clients sees it in 200 of some 600,000 answers.
pub const WAL_RESTART_BYTES: u64 = 1 << 30;

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            read_pool_max: 16,
            queue_requests_max: QUEUE_REQUESTS_MAX,
            settlement: Arc::new(Settings::standard()),
            wal_restart_bytes: WAL_RESTART_BYTES,
            checkpoint_interval: CHECKPOINT_INTERVAL,
        }
    }
}

/// An open store. Cheap to clone; the writer stops when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    url: DbUrl,
    /// `None` for a store opened for administration only (see [`Store::open_without_writer`]).
    writer: Option<writer::WriterHandle>,
    reads: Box<dyn ReadPool>,
    /// Loan decisions' inputs kept between decisions: on SQLite with the writer only.
    inputs: Option<Arc<inputs::InputsCache>>,
    /// Decision inputs read in batches on a thread of their own: where `inputs` is kept.
    input_reads: Option<input_reads::InputReads>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.inner.url)
            .finish()
    }
}

/// The read side of a backend. Implementations keep a pool of connections.
pub(crate) trait ReadPool: Send + Sync {
    /// Runs `f` with the reads it makes on this thread through the pool on one connection and
    /// one snapshot, where the backend can; by default each read sees the latest commit.
    fn in_snapshot(&self, f: &mut dyn FnMut() -> Result<(), StoreError>) -> Result<(), StoreError> {
        f()
    }
    fn lookup_accounts(&self, ids: &[u128]) -> Result<Vec<Account>, StoreError>;
    fn lookup_transfers(&self, ids: &[u128]) -> Result<Vec<Transfer>, StoreError>;
    fn account_transfers(&self, filter: &AccountFilter) -> Result<Vec<Transfer>, StoreError>;
    fn account_balances(&self, filter: &AccountFilter) -> Result<Vec<HistoryRow>, StoreError>;
    fn accounts_of_owner(
        &self,
        kind: &str,
        owner_id: &str,
        limit: u32,
    ) -> Result<Vec<Account>, StoreError>;
    fn verify(&self) -> Result<Vec<Violation>, StoreError>;
    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    fn find_api_key(&self, secret_sha256: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Writes every merchant or none, in one transaction; ids are distinct.
    fn upsert_merchants(&self, merchants: &[&Merchant], now: u64) -> Result<(), StoreError>;
    fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError>;
    /// [`ReadPool::merchant`] with the registry's change count it was read at, where the
    /// backend keeps one (SQLite).
    fn merchant_as_of(
        &self,
        id: &MerchantId,
    ) -> Result<(Option<Arc<Merchant>>, Option<i64>), StoreError> {
        Ok((self.merchant(id)?.map(Arc::new), None))
    }
    /// Stores `flag` if its merchant is registered and carries none, and its event in the
    /// same transaction; whether it did.
    fn insert_fraud_flag(&self, flag: &FraudFlag) -> Result<bool, StoreError>;
    /// Removes the merchant's flag and records `cleared` by `actor` at `at` in the same
    /// transaction; whether there was one.
    fn delete_fraud_flag(
        &self,
        merchant_id: &str,
        actor: &str,
        at: u64,
    ) -> Result<bool, StoreError>;
    fn fraud_flag(&self, merchant_id: &str) -> Result<Option<FraudFlag>, StoreError>;
    /// The merchant's latest `limit` flag events, the latest first.
    fn fraud_flag_events(
        &self,
        merchant_id: &str,
        limit: u32,
    ) -> Result<Vec<FraudFlagEvent>, StoreError>;
    /// A merchant's daily activity for days `from..=to`, oldest first.
    fn merchant_daily(
        &self,
        merchant_id: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, DailyActivity)>, StoreError>;
    /// A merchant's running totals (`merchant_running`: orders, gross, refunded, settlements
    /// and active days from its first day) through each of `days` (none negative), in order;
    /// zeros before its first day.
    fn merchant_running_totals(
        &self,
        merchant_id: &str,
        days: &[i32],
    ) -> Result<Vec<[i64; 5]>, StoreError>;
    /// Stored usage rows among `keys` (dimension, key): (bank, dimension, lent).
    fn loan_usage(&self, keys: &[(&'static str, String)]) -> Result<Vec<UsageRow>, StoreError>;
    /// Settlement rows by key.
    fn settlement_rows(
        &self,
        table: &'static settlement::Table,
        keys: &[String],
    ) -> Result<Vec<Vec<settlement::Cell>>, StoreError>;
    /// Settlement rows whose `column` is `value`, keys after `after`, in key order.
    fn settlement_list(
        &self,
        table: &'static settlement::Table,
        column: &'static str,
        value: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Vec<settlement::Cell>>, StoreError>;
    fn merchants(
        &self,
        after: Option<&MerchantId>,
        limit: u32,
    ) -> Result<Vec<Merchant>, StoreError>;
    /// Learns which merchants' registry entries (fraud flags included) changed up to the
    /// latest commit, where the backend keeps copies of them (SQLite).
    fn catch_up_registry(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether this thread's reads are inside a snapshot already ([`ReadPool::in_snapshot`]).
    fn in_open_snapshot(&self) -> bool {
        false
    }
}

/// Times [`Store::flag_fraud`] tries before reporting the store too busy: each further try
/// needs a flag cleared between its insert and its read.
const FLAG_ATTEMPTS: usize = 3;

impl Store {
    /// Opens the database, applies pending migrations and starts the writer.
    pub fn open(url: &DbUrl, options: StoreOptions) -> Result<Store, StoreError> {
        let (writer, reads, inputs): (writer::WriterHandle, Box<dyn ReadPool>, _) = match url {
            DbUrl::Sqlite(path) => {
                let cache = Arc::new(inputs::InputsCache::default());
                let (writer, reads) = sqlite::open(path, &options, cache.clone())?;
                (writer, Box::new(reads), Some(cache))
            }
            DbUrl::Postgres(conninfo) => {
                let (backend, reads) = postgres::open(conninfo, &options)?;
                (
                    writer::spawn(
                        backend,
                        options.queue_requests_max,
                        options.settlement.clone(),
                    )?,
                    Box::new(reads),
                    None,
                )
            }
        };
        // The readers hold the store weakly, so they start while it is being made.
        let mut failed = None;
        let inner = Arc::new_cyclic(|store| {
            let input_reads = match inputs {
                None => None,
                Some(_) => match input_reads::InputReads::start(store.clone()) {
                    Ok(readers) => Some(readers),
                    Err(error) => {
                        failed = Some(error);
                        None
                    }
                },
            };
            Inner {
                url: url.clone(),
                writer: Some(writer),
                reads,
                inputs,
                input_reads,
            }
        });
        match failed {
            Some(error) => Err(error),
            None => Ok(Store { inner }),
        }
    }

    /// Recomputes every balance of the database at `url` without opening it for writing, so
    /// it works while a server is running on it (on SQLite too, whose writer holds a lock).
    /// The database must already exist: nothing is created or migrated.
    pub fn verify_at(url: &DbUrl) -> Result<Vec<Violation>, StoreError> {
        Store::open_without_writer(url)?.verify()
    }

    pub fn url(&self) -> &DbUrl {
        &self.inner.url
    }

    fn writer(&self) -> Result<&writer::WriterHandle, StoreError> {
        self.inner.writer.as_ref().ok_or(StoreError::WithoutWriter)
    }

    /// Opens an existing, migrated database without starting the ledger writer: for commands
    /// that only read or that write administrative tables (API keys, merchants) while a server
    /// runs on the database. On SQLite, where the server holds the writer's lock, this is the
    /// only way in. Ledger writes answer [`StoreError::WithoutWriter`]; listing an account's
    /// transfers may miss the newest ones, which only the running writer knows.
    pub fn open_without_writer(url: &DbUrl) -> Result<Store, StoreError> {
        let reads: Box<dyn ReadPool> = match url {
            DbUrl::Sqlite(path) => {
                if !path.exists() {
                    return Err(StoreError::BadUrl(format!(
                        "{} does not exist",
                        path.display()
                    )));
                }
                Box::new(sqlite::reads_only(path))
            }
            DbUrl::Postgres(conninfo) => Box::new(postgres::reads_only(conninfo)),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                url: url.clone(),
                writer: None,
                reads,
                inputs: None,
                input_reads: None,
            }),
        })
    }

    /// Creates accounts in one durable commit, one result per event.
    pub async fn create_accounts(
        &self,
        events: Vec<Account>,
    ) -> Result<Vec<CreateAccountResult>, StoreError> {
        self.writer()?
            .create_accounts(events)?
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// Creates transfers in one durable commit, one result per event.
    pub async fn create_transfers(
        &self,
        events: Vec<Transfer>,
    ) -> Result<Vec<CreateTransferResult>, StoreError> {
        self.writer()?
            .create_transfers(events)?
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Store::create_accounts`] for callers outside an async runtime.
    pub fn create_accounts_blocking(
        &self,
        events: Vec<Account>,
    ) -> Result<Vec<CreateAccountResult>, StoreError> {
        self.writer()?
            .create_accounts(events)?
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Store::create_transfers`] for callers outside an async runtime.
    pub fn create_transfers_blocking(
        &self,
        events: Vec<Transfer>,
    ) -> Result<Vec<CreateTransferResult>, StoreError> {
        self.writer()?
            .create_transfers(events)?
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// Applies settlement commands (order events, payouts, the bank's answers) in one durable
    /// commit, one result per command, in order.
    pub async fn settle(&self, commands: Vec<Command>) -> Result<Vec<CommandResult>, StoreError> {
        self.writer()?
            .settle(commands)?
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Store::settle`] for callers outside an async runtime.
    pub fn settle_blocking(
        &self,
        commands: Vec<Command>,
    ) -> Result<Vec<CommandResult>, StoreError> {
        self.writer()?
            .settle(commands)?
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// Accounts by id, in the order found; unknown ids are left out.
    pub fn lookup_accounts(&self, ids: &[u128]) -> Result<Vec<Account>, StoreError> {
        self.inner.reads.lookup_accounts(ids)
    }

    /// Transfers by id, in the order found; unknown ids are left out.
    pub fn lookup_transfers(&self, ids: &[u128]) -> Result<Vec<Transfer>, StoreError> {
        self.inner.reads.lookup_transfers(ids)
    }

    /// An account's transfers by timestamp, at most `filter.limit` (capped at [`QUERY_LIMIT_MAX`]).
    pub fn account_transfers(&self, filter: &AccountFilter) -> Result<Vec<Transfer>, StoreError> {
        self.inner.reads.account_transfers(&capped(filter))
    }

    /// The balance history of an account created with the `history` flag.
    pub fn account_balances(&self, filter: &AccountFilter) -> Result<Vec<HistoryRow>, StoreError> {
        self.inner.reads.account_balances(&capped(filter))
    }

    /// The accounts that belong to one merchant or bank, oldest first.
    pub fn accounts_of_owner(
        &self,
        kind: &str,
        owner_id: &str,
        limit: u32,
    ) -> Result<Vec<Account>, StoreError> {
        self.inner
            .reads
            .accounts_of_owner(kind, owner_id, limit.min(QUERY_LIMIT_MAX))
    }

    /// Recomputes every balance from the transfers and lists what disagrees.
    pub fn verify(&self) -> Result<Vec<Violation>, StoreError> {
        self.inner.reads.verify()
    }

    pub fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.reads.insert_api_key(key)
    }

    pub fn find_api_key(
        &self,
        secret_sha256: &[u8; 32],
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner.reads.find_api_key(secret_sha256)
    }

    /// Creates or replaces merchants, all of them or none, in one transaction. A merchant
    /// named twice is written as its last occurrence. Every write of a merchant sets its
    /// `updated_at` and adds one to its `version`, even when nothing changed.
    pub fn upsert_merchants(&self, merchants: &[Merchant]) -> Result<(), StoreError> {
        if merchants.len() > UPSERT_MERCHANTS_MAX {
            return Err(StoreError::BatchTooLarge {
                count: merchants.len(),
                max: UPSERT_MERCHANTS_MAX,
            });
        }
        if merchants.is_empty() {
            return Ok(());
        }
        let distinct = merchants::last_of_each(merchants);
        self.inner
            .reads
            .upsert_merchants(&distinct, merchants::now_ns())?;
        self.note_registry_change()
    }

    /// After a registry write of this process committed: copies read before it of the
    /// merchants it changed (their entries, their decision inputs) are not answered again
    /// (see [`inputs`]). The count read now is at least the write's own.
    fn note_registry_change(&self) -> Result<(), StoreError> {
        self.inner.reads.catch_up_registry()
    }

    pub fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        self.inner.reads.merchant(id)
    }

    /// Puts a fraud flag on a registered merchant, stamped now. Flagging again with the same
    /// reason leaves the standing flag as it is; with another reason it is a conflict, and the
    /// standing flag stays.
    pub fn flag_fraud(
        &self,
        merchant_id: &MerchantId,
        reason: &str,
        flagged_by: &str,
    ) -> Result<FlagOutcome, StoreError> {
        let flag = FraudFlag {
            merchant_id: merchant_id.as_str().to_owned(),
            reason: reason.to_owned(),
            flagged_at: merchants::now_ns(),
            flagged_by: flagged_by.to_owned(),
        };
        let reads = &self.inner.reads;
        // A flag cleared between the insert and the read is tried again, a few times.
        for _ in 0..FLAG_ATTEMPTS {
            if reads.insert_fraud_flag(&flag)? {
                self.note_registry_change()?;
                return Ok(FlagOutcome::Flagged(flag));
            }
            match reads.fraud_flag(&flag.merchant_id)? {
                Some(standing) if standing.reason == flag.reason => {
                    return Ok(FlagOutcome::AlreadyFlagged(standing));
                }
                Some(standing) => return Ok(FlagOutcome::Conflict(standing)),
                None if reads.merchant(merchant_id)?.is_none() => {
                    return Ok(FlagOutcome::UnknownMerchant);
                }
                None => {}
            }
        }
        Err(StoreError::Overloaded)
    }

    /// Clears the merchant's fraud flag, if it carries one, as `actor` (an API key's id).
    pub fn clear_fraud_flag(
        &self,
        merchant_id: &MerchantId,
        actor: &str,
    ) -> Result<ClearOutcome, StoreError> {
        let reads = &self.inner.reads;
        if reads.delete_fraud_flag(merchant_id.as_str(), actor, merchants::now_ns())? {
            self.note_registry_change()?;
            return Ok(ClearOutcome::Cleared);
        }
        Ok(match reads.merchant(merchant_id)? {
            Some(_) => ClearOutcome::NotFlagged,
            None => ClearOutcome::UnknownMerchant,
        })
    }

    /// The merchant's standing fraud flag; `None` when it carries none (or is not registered).
    pub fn fraud_flag(&self, merchant_id: &str) -> Result<Option<FraudFlag>, StoreError> {
        self.inner.reads.fraud_flag(merchant_id)
    }

    /// Every fraud flag set on the merchant and cleared, the latest [`FLAG_EVENTS_MAX`], the
    /// latest first.
    pub fn fraud_flag_events(&self, merchant_id: &str) -> Result<Vec<FraudFlagEvent>, StoreError> {
        self.inner
            .reads
            .fraud_flag_events(merchant_id, FLAG_EVENTS_MAX)
    }

    /// Runs `f`, with the store's single-statement reads that it makes on this thread (records,
    /// lists, a merchant's activity, loans) taken on SQLite from one connection in one read
    /// transaction: one snapshot, and one lease and one lock instead of one per read. Reads
    /// with a transaction of their own (`verify`, account transfer lists) and writes are not
    /// part of it. On PostgreSQL each read still sees the latest commit.
    pub fn in_snapshot<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.inner
            .reads
            .in_snapshot(&mut snapshot_call(&mut f, &mut out))?;
        out.ok_or_else(|| StoreError::Corrupt("a snapshot's reads did not run".into()))
    }

    /// Merchants in order of id, those after `after` (all when `None`), at most `limit`
    /// (capped at [`QUERY_LIMIT_MAX`]).
    pub fn merchants(
        &self,
        after: Option<&MerchantId>,
        limit: u32,
    ) -> Result<Vec<Merchant>, StoreError> {
        self.inner
            .reads
            .merchants(after, limit.min(QUERY_LIMIT_MAX))
    }
}

/// The settlement book's records, as the last commit left them.
impl Store {
    /// An order by id.
    pub fn order(&self, order_id: &str) -> Result<Option<OrderRecord>, StoreError> {
        let rows = self
            .inner
            .reads
            .settlement_rows(&settlement::ORDERS, &[order_id.to_owned()])?;
        rows.first()
            .map(|r| settlement::order_from(r).map(|(_, o)| o))
            .transpose()
    }

    /// A merchant's orders in order of id, those after `after`, at most `limit` (capped at
    /// [`QUERY_LIMIT_MAX`]).
    pub fn merchant_orders(
        &self,
        merchant_id: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(String, OrderRecord)>, StoreError> {
        let rows = self.inner.reads.settlement_list(
            &settlement::ORDERS,
            "merchant_id",
            merchant_id,
            after,
            limit.min(QUERY_LIMIT_MAX),
        )?;
        rows.iter().map(|r| settlement::order_from(r)).collect()
    }

    /// A merchant's place in the settlement book: `None` before its first order.
    pub fn settlement_merchant(
        &self,
        merchant_id: &str,
    ) -> Result<Option<MerchantBook>, StoreError> {
        let rows = self
            .inner
            .reads
            .settlement_rows(&settlement::MERCHANTS, &[merchant_id.to_owned()])?;
        rows.first()
            .map(|r| settlement::merchant_from(r).map(|(_, m)| m))
            .transpose()
    }

    /// A payout by id.
    pub fn payout(&self, payout_id: &str) -> Result<Option<PayoutRecord>, StoreError> {
        let rows = self
            .inner
            .reads
            .settlement_rows(&settlement::PAYOUTS, &[payout_id.to_owned()])?;
        rows.first()
            .map(|r| settlement::payout_from(r).map(|(_, p)| p))
            .transpose()
    }

    /// Payouts with `status`, or of one merchant, in order of id after `after`.
    pub fn payouts(
        &self,
        filter: PayoutFilter<'_>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(String, PayoutRecord)>, StoreError> {
        let (column, value) = match filter {
            PayoutFilter::Status(status) => ("status", status.as_str()),
            PayoutFilter::Merchant(merchant_id) => ("merchant_id", merchant_id),
        };
        let rows = self.inner.reads.settlement_list(
            &settlement::PAYOUTS,
            column,
            value,
            after,
            limit.min(QUERY_LIMIT_MAX),
        )?;
        rows.iter().map(|r| settlement::payout_from(r)).collect()
    }

    /// A merchant's activity per day (UTC, event time) for days `from..=to` (days since
    /// 1970-01-01), oldest first; days without activity are left out. At most 3,660 days.
    pub fn merchant_daily(
        &self,
        merchant_id: &str,
        from: i32,
        to: i32,
    ) -> Result<Vec<(i32, DailyActivity)>, StoreError> {
        let to = to.min(from.saturating_add(DAILY_DAYS_MAX - 1));
        self.inner.reads.merchant_daily(merchant_id, from, to)
    }

    /// A merchant's activity summed over each range of days `(from, to)` (both included, days
    /// since 1970-01-01), in the order given: what a loan decision needs of a year of activity.
    /// Each sum is the difference of two running totals (the last day of the range, the day
    /// before its first), so a range costs two index seeks whatever its length. A range longer
    /// than 3,660 days is cut to its first 3,660; an empty one (`to < from`) sums nothing.
    pub fn merchant_activity_totals<const N: usize>(
        &self,
        merchant_id: &str,
        ranges: [(i32, i32); N],
    ) -> Result<[ActivityTotals; N], StoreError> {
        let ranges =
            ranges.map(|(from, to)| (from, to.min(from.saturating_add(DAILY_DAYS_MAX - 1))));
        let days = settlement::running_days(&ranges);
        let running = self
            .inner
            .reads
            .merchant_running_totals(merchant_id, &days)?;
        let totals = settlement::totals_from_running(&ranges, &days, &running)?;
        totals.try_into().map_err(|totals: Vec<ActivityTotals>| {
            StoreError::Corrupt(format!("{} activity totals for {N} ranges", totals.len()))
        })
    }

    /// The daily payout schedule: asks for a payout of every registered merchant's available
    /// balance, one per merchant and day, with the id `daily-<date>-<merchant>`, so a second run
    /// the same day (or a run after a restart) pays nothing twice. Merchants with nothing
    /// available are skipped by the book (`nothing_to_pay_out`).
    pub fn daily_payouts_blocking(&self, date: CivilDate) -> Result<DailyPayouts, StoreError> {
        let mut done = DailyPayouts::default();
        let mut after: Option<MerchantId> = None;
        loop {
            let page = self.merchants(after.as_ref(), QUERY_LIMIT_MAX)?;
            let Some(last) = page.last() else {
                return Ok(done);
            };
            after = Some(last.id.clone());
            done.merchants += page.len() as u64;
            let commands: Vec<Command> = page
                .iter()
                .map(|m| {
                    Command::Payout(PayoutIn {
                        payout_id: format!("daily-{date}-{}", m.id.as_str()),
                        merchant_id: m.id.as_str().to_owned(),
                        amount: None,
                    })
                })
                .collect();
            for result in self.settle_blocking(commands)?.into_iter().flatten() {
                done.payouts += 1;
                done.amount += result.amount.map_or(0, chunlei_ledger::Fen::get);
            }
        }
    }

    /// The programme's counters and totals (all zero before the first settlement).
    pub fn settlement_meta(&self) -> Result<Meta, StoreError> {
        let rows = self.inner.reads.settlement_rows(&settlement::META, &[])?;
        rows.first()
            .map_or(Ok(Meta::default()), |r| settlement::meta_from(r))
    }
}

/// Loan decisions: stored through the writer, in the commit of its group, so a decision is
/// durable before anyone hears it; read from the read connections.
impl Store {
    /// Stores `decisions` in one durable commit. A decision whose application id is stored
    /// already is not written: the stored one stays, and [`Store::loan_decision`] returns it.
    /// For each decision, whether it is the one now stored under its id (false when another
    /// was stored first, before or in the same commit).
    pub async fn record_decisions(
        &self,
        decisions: Vec<LoanDecisionRecord>,
    ) -> Result<Vec<bool>, StoreError> {
        self.store_decisions(decisions, None).await
    }

    /// [`Store::record_decisions`] for callers outside an async runtime.
    pub fn record_decisions_blocking(
        &self,
        decisions: Vec<LoanDecisionRecord>,
    ) -> Result<Vec<bool>, StoreError> {
        self.store_decisions_blocking(decisions, None)
    }

    async fn store_decisions(
        &self,
        decisions: Vec<LoanDecisionRecord>,
        as_of: Option<RegistryVersion>,
    ) -> Result<Vec<bool>, StoreError> {
        self.writer()?
            .decisions(decisions, as_of.map(|v| v.0))?
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    fn store_decisions_blocking(
        &self,
        decisions: Vec<LoanDecisionRecord>,
        as_of: Option<RegistryVersion>,
    ) -> Result<Vec<bool>, StoreError> {
        self.writer()?
            .decisions(decisions, as_of.map(|v| v.0))?
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Store::record_decisions`] for decisions made from [`CachedInputs`] read at `as_of`:
    /// none is stored, and the answer is [`StoreError::InputsChanged`], when the registry entry
    /// of a decision's merchant has changed since. (Only the SQLite store hands out such
    /// inputs; PostgreSQL keeps no count to check and stores them as
    /// [`Store::record_decisions`] does.)
    pub async fn record_decisions_as_of(
        &self,
        decisions: Vec<LoanDecisionRecord>,
        as_of: RegistryVersion,
    ) -> Result<Vec<bool>, StoreError> {
        self.store_decisions(decisions, Some(as_of)).await
    }

    /// [`Store::record_decisions_as_of`] for callers outside an async runtime.
    pub fn record_decisions_as_of_blocking(
        &self,
        decisions: Vec<LoanDecisionRecord>,
        as_of: RegistryVersion,
    ) -> Result<Vec<bool>, StoreError> {
        self.store_decisions_blocking(decisions, Some(as_of))
    }

    /// What a loan decision for `merchant_id` on `day` (days since the Unix epoch) is made
    /// from, from memory, when it was read before and nothing it comes from has changed since
    /// (on SQLite; never on PostgreSQL). Never blocks on the database.
    pub fn cached_decision_inputs(&self, merchant_id: &str, day: i32) -> Option<CachedInputs> {
        self.inner.inputs.as_ref()?.get(merchant_id, day)
    }

    /// How loan decisions got their inputs since the store opened: from memory, read, or
    /// refused at the write and read again. `None` where nothing is kept (PostgreSQL, or a
    /// store opened without the writer).
    pub fn decision_inputs_stats(&self) -> Option<InputsStats> {
        Some(self.inner.inputs.as_ref()?.stats())
    }

    /// The writer's commits since the store opened: how many, how long they took, how many
    /// failed. `None` for a store opened without the writer.
    pub fn commit_stats(&self) -> Option<CommitStats> {
        Some(self.inner.writer.as_ref()?.commit_stats())
    }

    /// Reads what a loan decision for `merchant` on `day` is made from, in one snapshot of its
    /// own, and keeps it for the next decisions; `None` when the merchant is not registered.
    /// Called inside [`Store::in_snapshot`] it reads in that snapshot and keeps nothing: a
    /// copy's snapshot must begin after the writer's counts are taken.
    pub fn decision_inputs(
        &self,
        merchant: &MerchantId,
        day: i32,
    ) -> Result<Option<Arc<DecisionInputs>>, StoreError> {
        let ticket = self.inputs_ticket(merchant);
        let read = self
            .in_snapshot(|| self.read_decision_inputs(merchant, day, &mut LentInSnapshot::new()))?;
        self.keep_inputs(day, ticket, read)
    }

    /// Queues a read of what [`Store::decision_inputs`] reads, for an async caller to await:
    /// the store's decision reader reads it with the other reads waiting, in one snapshot (see
    /// `input_reads.rs`), and keeps it. `None`, with nothing queued, where the store has no
    /// reader (PostgreSQL, or a store opened without the writer).
    pub fn queue_decision_inputs(&self, merchant: &MerchantId, day: i32) -> Option<QueuedInputs> {
        let reader = self.inner.input_reads.as_ref()?;
        let ticket = self.inputs_ticket(merchant);
        Some(reader.push(merchant.clone(), day, ticket))
    }

    /// The writer's counts, taken before a read of decision inputs begins its snapshot.
    fn inputs_ticket(&self, merchant: &MerchantId) -> Option<inputs::Ticket> {
        let cache = self.inner.inputs.as_ref()?;
        // In a snapshot begun earlier a commit may already be missed: nothing to keep.
        if self.inner.reads.in_open_snapshot() {
            return None;
        }
        Some(cache.ticket(merchant.as_str()))
    }

    fn keep_inputs(
        &self,
        day: i32,
        ticket: Option<inputs::Ticket>,
        read: Option<(DecisionInputs, Option<i64>)>,
    ) -> Result<Option<Arc<DecisionInputs>>, StoreError> {
        let Some((inputs, registry)) = read else {
            return Ok(None);
        };
        let inputs = Arc::new(inputs);
        if let (Some(cache), Some(ticket), Some(registry)) = (&self.inner.inputs, ticket, registry)
        {
            cache.keep(day, ticket, registry, inputs.clone());
        }
        Ok(Some(inputs))
    }

    /// The reads of [`Store::decision_inputs`], inside its snapshot, with the registry's
    /// change count in that snapshot where the backend keeps one.
    /// `read_lent` holds what banks have lent as already read in this snapshot, which every
    /// merchant of the same province and industry shares.
    fn read_decision_inputs(
        &self,
        merchant: &MerchantId,
        day: i32,
        read_lent: &mut LentInSnapshot,
    ) -> Result<Option<(DecisionInputs, Option<i64>)>, StoreError> {
        let (found, registry) = self.inner.reads.merchant_as_of(merchant)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let id = merchant.as_str();
        let totals = self.merchant_activity_totals(
            id,
            chunlei_lending::decision::ACTIVITY_WINDOWS
                .map(|(young, old)| (day - old, day - young)),
        )?;
        let civil = CivilDate::from_days(day)
            .ok_or_else(|| StoreError::Corrupt(format!("day {day} is outside the calendar")))?;
        let loans = self.loan_list(LoanFilter::Merchant(id), "", DECISION_LOANS_MAX)?;
        let fraud_flagged = self.fraud_flag(id)?.is_some();
        let (region, industry) = (found.region_code.as_str(), found.category.as_str());
        let already = read_lent
            .iter()
            .find(|(d, r, i, _)| *d == day && r == region && i == industry);
        let lent = match already {
            Some((.., banks)) => banks.clone(),
            None => {
                let banks = self.bank_lent(civil, region, industry)?;
                read_lent.push((day, region.to_owned(), industry.to_owned(), banks.clone()));
                banks
            }
        };
        Ok(Some((
            DecisionInputs {
                merchant: found,
                totals,
                loans,
                fraud_flagged,
                lent,
            },
            registry,
        )))
    }

    /// The decision stored for an application.
    pub fn loan_decision(
        &self,
        application_id: &str,
    ) -> Result<Option<LoanDecisionRecord>, StoreError> {
        let rows = self
            .inner
            .reads
            .settlement_rows(&decisions::DECISIONS, &[application_id.to_owned()])?;
        rows.first()
            .map(|r| decisions::decision_from(r))
            .transpose()
    }
}

/// Accepted loans: the loan book's commands through the writer, and its records as the last
/// commit left them.
impl Store {
    /// Applies loan commands (disbursements, payments, relief, due collection) in one durable
    /// commit, one result per command, in order.
    pub async fn loans(&self, commands: Vec<LoanCommand>) -> Result<Vec<LoanResult>, StoreError> {
        self.writer()?
            .loans(commands)?
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Store::loans`] for callers outside an async runtime.
    pub fn loans_blocking(
        &self,
        commands: Vec<LoanCommand>,
    ) -> Result<Vec<LoanResult>, StoreError> {
        self.writer()?
            .loans(commands)?
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// A loan with its history, replayed.
    pub fn loan(&self, loan_id: &str) -> Result<Option<LoanRecord>, StoreError> {
        let rows = self
            .inner
            .reads
            .settlement_rows(&loans::LOANS, &[loan_id.to_owned()])?;
        rows.first().map(|row| self.loan_from_row(row)).transpose()
    }

    fn loan_from_row(&self, row: &[settlement::Cell]) -> Result<LoanRecord, StoreError> {
        let id = match row.first() {
            Some(settlement::Cell::Text(id)) => id.as_str(),
            _ => return Err(StoreError::Corrupt("a loan row without an id".into())),
        };
        let ops = self.inner.reads.settlement_list(
            &loans::LOAN_OPS,
            "loan_id",
            id,
            "",
            u32::try_from(chunlei_lending::loans::OPS_PER_LOAN_MAX).unwrap_or(u32::MAX),
        )?;
        loans::loan_from(row, ops)
    }

    /// Loans of a bank, of a merchant or in a status, in order of id after `after`, at most
    /// `limit` (capped at [`QUERY_LIMIT_MAX`]).
    pub fn loan_list(
        &self,
        filter: LoanFilter<'_>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<LoanRecord>, StoreError> {
        let (column, value) = match filter {
            LoanFilter::Bank(bank) => ("bank_id", bank),
            LoanFilter::Merchant(merchant) => ("merchant_id", merchant),
            LoanFilter::Status(status) => ("status", status),
        };
        let rows = self.inner.reads.settlement_list(
            &loans::LOANS,
            column,
            value,
            after,
            limit.min(QUERY_LIMIT_MAX),
        )?;
        rows.iter().map(|row| self.loan_from_row(row)).collect()
    }

    /// What every bank has lent: on `day`, in all, in the province of `region_code` and to
    /// `industry`; banks that have lent nothing are left out.
    pub fn bank_lent(
        &self,
        day: CivilDate,
        region_code: &str,
        industry: &str,
    ) -> Result<Vec<BankLent>, StoreError> {
        let keys = chunlei_lending::loans::usage_keys(day, region_code, industry);
        let rows = self.inner.reads.loan_usage(&keys)?;
        let mut banks: std::collections::BTreeMap<String, BankLent> = Default::default();
        for (bank, dimension, lent) in rows {
            let entry = banks.entry(bank.clone()).or_insert_with(|| BankLent {
                bank_id: bank,
                ..BankLent::default()
            });
            match dimension.as_str() {
                "day" => entry.day = lent,
                "total" => entry.total = lent,
                "region" => entry.region = lent,
                "industry" => entry.industry = lent,
                _ => {}
            }
        }
        Ok(banks.into_values().collect())
    }

    /// Every loan of a bank (or of every bank), read a page at a time; `None` when there are
    /// more than `max`.
    pub fn all_loans(
        &self,
        bank_id: Option<&str>,
        max: usize,
    ) -> Result<Option<Vec<LoanRecord>>, StoreError> {
        let filters: Vec<LoanFilter<'_>> = match bank_id {
            Some(bank) => vec![LoanFilter::Bank(bank)],
            None => ["open", "closed", "written_off"]
                .into_iter()
                .map(LoanFilter::Status)
                .collect(),
        };
        let mut loans = Vec::new();
        for filter in filters {
            let mut after = String::new();
            loop {
                let page = self.loan_list(filter, &after, QUERY_LIMIT_MAX)?;
                let Some(last) = page.last().map(|l| l.id.clone()) else {
                    break;
                };
                loans.extend(page);
                if loans.len() > max {
                    return Ok(None);
                }
                after = last;
            }
        }
        Ok(Some(loans))
    }

    /// Collects what is due on `on` from the merchants' available balances, for every open
    /// loan, a page of loans per commit. Running it again the same day collects nothing twice.
    pub fn collect_due_blocking(&self, on: CivilDate) -> Result<DueCollection, StoreError> {
        let mut done = DueCollection::default();
        let mut after = String::new();
        loop {
            let page = self.inner.reads.settlement_list(
                &loans::LOANS,
                "status",
                "open",
                &after,
                QUERY_LIMIT_MAX,
            )?;
            let ids: Vec<String> = page
                .iter()
                .filter_map(|row| match row.first() {
                    Some(settlement::Cell::Text(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            let Some(last) = ids.last().cloned() else {
                return Ok(done);
            };
            done.loans += ids.len() as u64;
            for chunk in ids.chunks(chunlei_ledger::BATCH_EVENTS_MAX) {
                let command = LoanCommand::CollectDue {
                    loan_ids: chunk.to_vec(),
                    on,
                };
                for result in self.loans_blocking(vec![command])? {
                    if let Ok(LoanApplied::Collected(collected)) = result {
                        done.collections += collected.len() as u64;
                        done.amount += collected.iter().map(|(_, fen)| fen.get()).sum::<u64>();
                    }
                }
            }
            after = last;
        }
    }
}

/// A usage row as read: bank, dimension, fen lent.
pub(crate) type UsageRow = (String, String, u64);

/// What banks have lent as read within one snapshot, by day, province and industry: at most
/// one entry a merchant of a batch (`input_reads::BATCH_MAX`), searched in order, so that a
/// lookup builds no key.
type LentInSnapshot = Vec<(i32, String, String, Vec<BankLent>)>;

/// What one bank has lent, as its quotas and concentration limits count it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankLent {
    pub bank_id: String,
    /// On the day asked.
    pub day: u64,
    pub total: u64,
    /// In the province asked.
    pub region: u64,
    /// To the industry asked.
    pub industry: u64,
}

/// Which loans to list.
#[derive(Clone, Copy, Debug)]
pub enum LoanFilter<'a> {
    Bank(&'a str),
    Merchant(&'a str),
    /// `open`, `closed` or `written_off`.
    Status(&'a str),
}

/// What one run of [`Store::collect_due_blocking`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DueCollection {
    /// Open loans looked at.
    pub loans: u64,
    /// Loans something was collected for.
    pub collections: u64,
    /// Their total, in fen.
    pub amount: u64,
}

/// What one run of [`Store::daily_payouts_blocking`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyPayouts {
    /// Registered merchants asked.
    pub merchants: u64,
    /// Payouts requested (or found requested by an earlier run the same day).
    pub payouts: u64,
    /// Their total.
    pub amount: u64,
}

/// The closure a backend's snapshot runs: `f` once, its answer into `out`.
fn snapshot_call<'a, T>(
    f: &'a mut Option<impl FnOnce() -> Result<T, StoreError>>,
    out: &'a mut Option<T>,
) -> impl FnMut() -> Result<(), StoreError> + 'a {
    move || {
        let f = f
            .take()
            .ok_or_else(|| StoreError::Corrupt("a snapshot ran its reads twice".into()))?;
        *out = Some(f()?);
        Ok(())
    }
}

/// Days one [`Store::merchant_daily`] call reads at most (ten years).
pub const DAILY_DAYS_MAX: i32 = 3_660;

/// Which payouts to list.
#[derive(Clone, Copy, Debug)]
pub enum PayoutFilter<'a> {
    Status(PayoutStatus),
    Merchant(&'a str),
}

fn capped(filter: &AccountFilter) -> AccountFilter {
    AccountFilter {
        limit: filter.limit.min(QUERY_LIMIT_MAX),
        ..filter.clone()
    }
}
