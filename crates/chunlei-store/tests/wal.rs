//! SQLite's WAL under writes that never pause: the writer starts it over once it passes
//! `StoreOptions::wal_restart_bytes`, where on its own it would grow by every page written.

use std::time::{Duration, Instant};

use chunlei_ledger::{Account, Fen, Transfer};
use chunlei_store::{CheckpointStats, DbUrl, Store, StoreOptions};

/// Checkpoints often enough that two seconds of writing see several.
const CHECKPOINTS_EVERY: Duration = Duration::from_millis(250);

/// Opens a store at `path` with `options` and two accounts to move money between.
fn open_with_accounts(path: &std::path::Path, options: StoreOptions) -> Store {
    let store = Store::open(&DbUrl::Sqlite(path.to_owned()), options).expect("open");
    let r = store
        .create_accounts_blocking(vec![Account::new(1, 1, 1), Account::new(2, 1, 1)])
        .expect("accounts");
    assert!(r.iter().all(|r| r.is_success()), "{r:?}");
    store
}

/// Moves 200 fen from account 1 to account 2, one fen a transfer, with ids from `first` on.
fn transfer_batch(store: &Store, first: u128) {
    let batch: Vec<Transfer> = (0..200)
        .map(|i| Transfer::new(first + i, 1, 2, Fen::new(1).expect("fen")))
        .collect();
    let r = store.create_transfers_blocking(batch).expect("transfers");
    assert!(r.iter().all(|r| r.is_success()), "{:?}", r.first());
}

/// The store's count of its WAL checkpoints so far.
fn checkpoints_of(store: &Store) -> CheckpointStats {
    store
        .commit_stats()
        .and_then(|commits| commits.checkpoints)
        .expect("a SQLite store counts its checkpoints")
}

/// Writes transfers without a pause for `writing`, then answers the WAL file's length and the
/// database file's.
fn write_steadily(restart_bytes: u64, writing: Duration) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal.db");
    let options = StoreOptions {
        wal_restart_bytes: restart_bytes,
        checkpoint_interval: CHECKPOINTS_EVERY,
        ..StoreOptions::default()
    };
    let store = open_with_accounts(&path, options);
    let started = Instant::now();
    let mut id = 10_u128;
    while started.elapsed() < writing {
        transfer_batch(&store, id);
        id += 200;
    }
    let wal = std::fs::metadata(dir.path().join("wal.db-wal"))
        .expect("the WAL while the store is open")
        .len();
    let db = std::fs::metadata(&path).expect("the database file").len();
    drop(store);
    (wal, db)
}

#[test]
fn the_wal_is_started_over_once_it_passes_its_limit() {
    let writing = Duration::from_millis(2_000);
    // Without a limit the WAL holds every page written since the store opened, more than the
    // database file's pages: the checkpoints copy it but a commit always lands meanwhile.
    let (unlimited, db) = write_steadily(u64::MAX, writing);
    assert!(
        unlimited > db,
        "no limit: WAL {unlimited} bytes, database {db} bytes"
    );
    // With a limit of 256 KiB it is written from its start again within a checkpoint interval
    // or two (`CHECKPOINTS_EVERY` each) of passing the limit: it holds the last fraction of a
    // second's writing, not two seconds'.
    let (limited, db) = write_steadily(256 << 10, writing);
    assert!(
        limited.saturating_mul(3) < unlimited,
        "256 KiB limit: WAL {limited} bytes (database {db}), without a limit {unlimited}"
    );
}

/// Opens a store checkpointing every `interval`, writes a few thousand transfers, waits a
/// second with the writer idle, and answers the database file's length then, the store's
/// count of its checkpoints and how long the store took to stop.
fn write_then_wait(interval: Duration) -> (u64, CheckpointStats, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("interval.db");
    let options = StoreOptions {
        checkpoint_interval: interval,
        ..StoreOptions::default()
    };
    let store = open_with_accounts(&path, options);
    for batch in 0..20_u128 {
        transfer_batch(&store, 10 + batch * 200);
    }
    std::thread::sleep(Duration::from_secs(1));
    let db = std::fs::metadata(&path).expect("the database file").len();
    let checkpoints = checkpoints_of(&store);
    let stopping = Instant::now();
    drop(store);
    (db, checkpoints, stopping.elapsed())
}

#[test]
fn the_wal_is_copied_into_the_database_file_at_the_interval_set() {
    // Every 100 ms: within the second the writer was idle the transfers reached the database
    // file. Every minute: they are all still in the WAL only.
    let (often, counted_often, _) = write_then_wait(Duration::from_millis(100));
    let (rarely, counted_rarely, stopped_in) = write_then_wait(Duration::from_secs(60));
    assert!(
        often > rarely,
        "database file {often} bytes checkpointing every 100 ms, {rarely} every minute"
    );
    // Each checkpoint is counted with its time and the WAL's length it found.
    assert!(counted_often.done >= 5, "{counted_often:?}");
    assert_eq!(counted_often.time.count, counted_often.done);
    assert_eq!(counted_often.failed, 0);
    assert!(counted_often.wal_frames > 0, "{counted_often:?}");
    assert_eq!(counted_rarely.done, 0, "{counted_rarely:?}");
    // A stopping store does not wait out its checkpointer's interval.
    assert!(
        stopped_in < Duration::from_secs(5),
        "a store checkpointing every minute took {stopped_in:?} to stop"
    );
}

#[test]
fn a_zero_checkpoint_interval_checkpoints_at_the_shortest_interval_not_without_pause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions {
        checkpoint_interval: Duration::ZERO,
        ..StoreOptions::default()
    };
    let opened = Instant::now();
    let store = open_with_accounts(&dir.path().join("zero.db"), options);
    transfer_batch(&store, 10);
    std::thread::sleep(Duration::from_millis(200));
    let counted = checkpoints_of(&store);
    let waited = opened.elapsed();
    // At most one a `CHECKPOINT_INTERVAL_MIN` since the store opened (each may go again while
    // frames are left, which an idle writer does not leave).
    let most = waited.as_millis() / chunlei_store::CHECKPOINT_INTERVAL_MIN.as_millis() + 2;
    assert!(
        counted.done >= 1 && u128::from(counted.done) <= most,
        "{} checkpoints in {waited:?}, at most {most}",
        counted.done
    );
}
