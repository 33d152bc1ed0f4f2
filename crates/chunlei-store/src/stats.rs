//! What the store counts of its own work for a monitoring system: how long the writer's
//! commits take and how many fail, and on SQLite how long the WAL's checkpoints take. A loan
//! decision is answered only once its commit is durable, so a commit's time is part of every
//! decision's; when decisions slow down, these counts tell whether the wait is for the
//! database.
//!
//! Counting costs a commit a clock read and four atomic additions; the counts are this
//! process's since the store opened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counts of durations by the first of its bounds each fits, and their sum: a Prometheus
/// histogram's content, kept in atomics so any thread may add to it.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds in µs, ascending.
    bounds_us: &'static [u64],
    /// By bound, with one more for what is over every bound.
    counts: Box<[AtomicU64]>,
    sum_us: AtomicU64,
}

/// A [`Histogram`] as read at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramReading {
    /// Each upper bound in µs with the count of durations at most it (cumulative, as
    /// Prometheus writes buckets).
    pub buckets: Vec<(u64, u64)>,
    /// Every duration counted, over the bounds included.
    pub count: u64,
    pub sum_us: u64,
}

impl Histogram {
    /// An empty histogram over `bounds_us`, which must be ascending.
    pub fn new(bounds_us: &'static [u64]) -> Histogram {
        debug_assert!(bounds_us.is_sorted());
        Histogram {
            bounds_us,
            counts: (0..=bounds_us.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = self.bounds_us.partition_point(|&bound| bound < us);
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The counts now. Read one by one while others add, so a reading may miss an addition
    /// made as it reads, never count one twice; the count is always the buckets' total.
    pub fn read(&self) -> HistogramReading {
        let mut cumulative = 0;
        let buckets = self
            .bounds_us
            .iter()
            .zip(self.counts.iter())
            .map(|(&bound, count)| {
                cumulative += count.load(Ordering::Relaxed);
                (bound, cumulative)
            })
            .collect();
        let over = self
            .counts
            .last()
            .map_or(0, |count| count.load(Ordering::Relaxed));
        HistogramReading {
            buckets,
            count: cumulative + over,
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }
}

/// The upper bounds of a commit's time's buckets, in µs: 250 µs (about one sync of the WAL on
/// an idle disk) to 2.5 s.
const COMMIT_BUCKETS_US: [u64; 12] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 2_500_000,
];

/// The upper bounds of a WAL checkpoint's time's buckets, in µs: 1 ms to 10 s.
const CHECKPOINT_BUCKETS_US: [u64; 11] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 2_500_000, 10_000_000,
];

/// The writer's counts of its commits (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Commits {
    committed: AtomicU64,
    failed: AtomicU64,
    decisions: AtomicU64,
    time: Histogram,
    /// SQLite's checkpoints of its WAL; none on PostgreSQL.
    checkpoints: Option<Arc<Checkpoints>>,
}

impl Default for Commits {
    fn default() -> Commits {
        Commits {
            committed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            decisions: AtomicU64::new(0),
            time: Histogram::new(&COMMIT_BUCKETS_US),
            checkpoints: None,
        }
    }
}

/// Counts of SQLite's checkpoints, which copy the WAL into the database file: each ends with
/// a sync of the database file that slows the commits beside it.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    done: AtomicU64,
    failed: AtomicU64,
    time: Histogram,
    wal_frames: AtomicU64,
}

impl Default for Checkpoints {
    fn default() -> Checkpoints {
        Checkpoints {
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            time: Histogram::new(&CHECKPOINT_BUCKETS_US),
            wal_frames: AtomicU64::new(0),
        }
    }
}

impl Checkpoints {
    /// Counts a checkpoint that took `took` and found `frames` frames in the WAL.
    pub(crate) fn done(&self, took: Duration, frames: i64) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.time.observe(took);
        self.wal_frames
            .store(u64::try_from(frames).unwrap_or(0), Ordering::Relaxed);
    }

    /// Counts a checkpoint that failed.
    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> CheckpointStats {
        CheckpointStats {
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            time: self.time.read(),
            wal_frames: self.wal_frames.load(Ordering::Relaxed),
        }
    }
}

/// SQLite's checkpoints of its WAL since the store opened, the checkpointer's and the
/// writer's before it starts the WAL over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Checkpoints that ran.
    pub done: u64,
    /// Checkpoints that failed: the WAL stays longer until the next.
    pub failed: u64,
    /// The checkpoints' times, from their start to the database file synced.
    pub time: HistogramReading,
    /// Frames in the WAL at the last checkpoint: how long it had grown.
    pub wal_frames: u64,
}

/// The writer's commits since the store opened, as [`crate::Store::commit_stats`] reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions committed.
    pub committed: u64,
    /// Transactions that failed and were rolled back: every request of theirs got the error.
    pub failed: u64,
    /// Loan decisions the committed transactions stored.
    pub decisions: u64,
    /// The committed transactions' times, from their first write to their commit durable.
    pub time: HistogramReading,
    /// SQLite's checkpoints of its WAL; `None` on PostgreSQL.
    pub checkpoints: Option<CheckpointStats>,
}

impl Commits {
    /// Counts that also tell of SQLite's `checkpoints`.
    pub(crate) fn with_checkpoints(checkpoints: Arc<Checkpoints>) -> Commits {
        Commits {
            checkpoints: Some(checkpoints),
            ..Commits::default()
        }
    }

    /// Counts a transaction that committed after `took`, storing `decisions` loan decisions.
    pub(crate) fn committed(&self, took: Duration, decisions: usize) {
        self.committed.fetch_add(1, Ordering::Relaxed);
        self.decisions.fetch_add(
            u64::try_from(decisions).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.time.observe(took);
    }

    /// Counts a transaction that failed.
    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> CommitStats {
        CommitStats {
            committed: self.committed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            decisions: self.decisions.load(Ordering::Relaxed),
            time: self.time.read(),
            checkpoints: self.checkpoints.as_deref().map(Checkpoints::read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Commits, Histogram};
    use std::time::Duration;

    #[test]
    fn a_duration_counts_in_the_first_bucket_it_fits_and_over_all_of_them_past_the_last() {
        static BOUNDS: [u64; 3] = [10, 100, 1_000];
        let histogram = Histogram::new(&BOUNDS);
        for us in [0, 10, 11, 100, 5_000, 7_000] {
            histogram.observe(Duration::from_micros(us));
        }
        let reading = histogram.read();
        assert_eq!(reading.buckets, vec![(10, 2), (100, 4), (1_000, 4)]);
        assert_eq!(reading.count, 6, "the two over every bound count too");
        assert_eq!(reading.sum_us, 12_121);
    }

    #[test]
    fn commits_count_their_decisions_and_time_and_failures_apart() {
        let commits = Commits::default();
        commits.committed(Duration::from_micros(400), 30);
        commits.committed(Duration::from_millis(3), 0);
        commits.failed();
        let stats = commits.read();
        assert_eq!((stats.committed, stats.failed, stats.decisions), (2, 1, 30));
        assert_eq!(stats.time.count, 2, "a failed commit has no time counted");
        assert_eq!(stats.time.buckets.first(), Some(&(250, 0)));
        assert_eq!(stats.time.buckets.get(1), Some(&(500, 1)));
        assert_eq!(stats.time.buckets.get(3), Some(&(2_500, 1)));
        assert_eq!(stats.time.buckets.get(4), Some(&(5_000, 2)));
    }
}
