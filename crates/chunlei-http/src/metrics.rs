//! What the server counts of its loan decisions, for a monitoring system to read at
//! `GET /metrics` in the Prometheus text format (version 0.0.4): decisions by outcome, how
//! long each took to be decided and stored, applications answered with a decision stored
//! before, applications refused by error code, and where decisions got their inputs. An
//! application is timed from when its handler has its key and body (the key is checked and
//! the body read before) to its answer, the decision stored durably. With them, the store's
//! commits (`chunlei_store::CommitStats`): every decision waits for one, so when decisions
//! slow down the commits' times tell whether the wait is for the database. And the
//! settlement commands answered (order events, payouts, banks' answers on payouts): by
//! effect when applied, with why each shipped order was not advanced, and by code when
//! refused; on shipping, `advanced` against `not_advanced` is the zero account period at work.
//!
//! Counting costs a decision three atomic additions; the text is made only when asked for.
//! The counts are this process's since it started, as Prometheus counters are: a restart
//! starts them at zero, which Prometheus's `rate()` and `increase()` allow for.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chunlei_settlement::book::{CommandResult, Effect};
use chunlei_store::{CheckpointStats, CommitStats, Histogram, HistogramReading, InputsStats};

use crate::ApiError;

/// The upper bounds of the decision time's buckets, in µs: 1 ms to 2.5 s, with the 10 ms of
/// the decision target as one of them.
const DECISION_BUCKETS_US: [u64; 11] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
];

/// Codes counted apart at most in each family counted by code (errors, refusals, reasons an
/// order was not advanced); each is a fixed set of the code's, far fewer.
const ERROR_CODES_MAX: usize = 256;

/// How an application was answered with a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answered {
    /// Decided now and stored.
    Decided { approved: bool },
    /// The decision stored under its id before: the same application sent again.
    Replayed,
}

/// The server's counts (see the module's documentation). One per server, shared by its
/// handlers.
#[derive(Debug)]
pub struct Metrics {
    approved: AtomicU64,
    declined: AtomicU64,
    replayed: AtomicU64,
    /// The time of decisions made and stored, over [`DECISION_BUCKETS_US`].
    decision_time: Histogram,
    /// Applications answered with an error, by its code.
    errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Settlement commands applied, by effect (in the order of [`Effect::ALL`]).
    applied: [AtomicU64; Effect::ALL.len()],
    /// Shipped orders not advanced, by the reason's code.
    not_advanced: Mutex<BTreeMap<String, u64>>,
    /// Settlement commands refused, by the rejection's code.
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            approved: AtomicU64::new(0),
            declined: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            decision_time: Histogram::new(&DECISION_BUCKETS_US),
            errors: Mutex::default(),
            applied: std::array::from_fn(|_| AtomicU64::new(0)),
            not_advanced: Mutex::default(),
            refused: Mutex::default(),
        }
    }
}

/// What the store tells of itself at `GET /metrics`.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoreStats {
    /// Where decisions got their inputs, where the store keeps them (SQLite).
    pub inputs: Option<InputsStats>,
    /// The writer's commits, where the store has a writer.
    pub commits: Option<CommitStats>,
}

impl Metrics {
    /// Counts an application answered after `took` from its arrival.
    pub(crate) fn application(&self, answered: Result<Answered, &ApiError>, took: Duration) {
        match answered {
            Ok(Answered::Decided { approved }) => {
                let counter = if approved {
                    &self.approved
                } else {
                    &self.declined
                };
                counter.fetch_add(1, Ordering::Relaxed);
                self.decision_time.observe(took);
            }
            Ok(Answered::Replayed) => {
                self.replayed.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                let (_, code) = error.status_and_code();
                add_by_code(&self.errors, code);
            }
        }
    }

    /// Counts the answers of a batch of settlement commands: a command sent again is
    /// counted again, as it is answered again.
    pub(crate) fn settled(&self, results: &[CommandResult]) {
        for result in results {
            match result {
                Ok(applied) => {
                    let at = Effect::ALL.iter().position(|&e| e == applied.effect);
                    if let Some(count) = at.and_then(|at| self.applied.get(at)) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    if let (Effect::NotAdvanced, Some(reason)) = (applied.effect, &applied.reason) {
                        add_by_code(&self.not_advanced, reason.as_str());
                    }
                }
                Err(rejection) => add_by_code(&self.refused, rejection.as_str()),
            }
        }
    }

    /// The counts in the Prometheus text format, with the store's.
    pub(crate) fn render(&self, store: StoreStats) -> String {
        let mut text = String::with_capacity(4_096);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        family(
            &mut text,
            "chunlei_loan_decisions_total",
            "counter",
            "Loan applications decided and stored, by outcome.",
        );
        sample(
            &mut text,
            "chunlei_loan_decisions_total{outcome=\"approved\"}",
            load(&self.approved),
        );
        sample(
            &mut text,
            "chunlei_loan_decisions_total{outcome=\"declined\"}",
            load(&self.declined),
        );

        histogram(
            &mut text,
            "chunlei_loan_decision_seconds",
            "Time to decide an application and store its decision, from its key and body accepted \
             to its answer.",
            &self.decision_time.read(),
        );

        family(
            &mut text,
            "chunlei_loan_applications_replayed_total",
            "counter",
            "Applications answered with the decision stored under their id before.",
        );
        sample(
            &mut text,
            "chunlei_loan_applications_replayed_total",
            load(&self.replayed),
        );

        by_code(
            &mut text,
            "chunlei_loan_applications_refused_total",
            "code",
            "Applications answered with an error after their key and body were accepted, by the \
             error's code.",
            &self.errors,
        );

        self.settlement_families(&mut text);
        if let Some(commits) = store.commits {
            commit_families(&mut text, &commits);
        }
        if let Some(inputs) = store.inputs {
            family(
                &mut text,
                "chunlei_loan_decision_inputs_total",
                "counter",
                "Decisions by where their inputs came from: kept in memory, or read from the \
                 database.",
            );
            sample(
                &mut text,
                "chunlei_loan_decision_inputs_total{source=\"memory\"}",
                inputs.from_memory,
            );
            sample(
                &mut text,
                "chunlei_loan_decision_inputs_total{source=\"read\"}",
                inputs.read,
            );
            family(
                &mut text,
                "chunlei_loan_decisions_remade_total",
                "counter",
                "Decisions made from inputs kept in memory that the writer refused, since the \
                 merchant's registry entry had changed, and that were made again.",
            );
            sample(
                &mut text,
                "chunlei_loan_decisions_remade_total",
                inputs.refused,
            );
        }
        text
    }
}

/// The value of `series` (a name with its labels, as written) in a page of the Prometheus
/// text format, such as [`Metrics`] writes: `None` unless exactly one line holds it.
pub fn read_sample(page: &str, series: &str) -> Option<f64> {
    let mut values = page
        .lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '));
    let value = values.next()?.parse().ok()?;
    values.next().is_none().then_some(value)
}

impl Metrics {
    fn settlement_families(&self, text: &mut String) {
        family(
            text,
            "chunlei_settlement_applied_total",
            "counter",
            "Settlement commands (order events, payouts, banks' answers) answered as applied, by \
             effect; a command sent again is counted again.",
        );
        for (effect, count) in Effect::ALL.iter().zip(&self.applied) {
            sample(
                text,
                &format!(
                    "chunlei_settlement_applied_total{{effect=\"{}\"}}",
                    effect.as_str()
                ),
                count.load(Ordering::Relaxed),
            );
        }
        by_code(
            text,
            "chunlei_settlement_not_advanced_total",
            "reason",
            "Shipped orders not advanced, settled on confirmation instead, by the reason's code.",
            &self.not_advanced,
        );
        by_code(
            text,
            "chunlei_settlement_refused_total",
            "code",
            "Settlement commands refused, by the rejection's code.",
            &self.refused,
        );
    }
}

/// Adds one to `code`'s count in `counts`, unless [`ERROR_CODES_MAX`] other codes are
/// counted already.
fn add_by_code<K, C>(counts: &Mutex<BTreeMap<K, u64>>, code: C)
where
    K: Ord + std::borrow::Borrow<str> + From<C>,
    C: AsRef<str>,
{
    // A poisoned lock still holds counts that are whole: each change is one addition.
    let mut counts = counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(count) = counts.get_mut(code.as_ref()) {
        *count += 1;
    } else if counts.len() < ERROR_CODES_MAX {
        counts.insert(K::from(code), 1);
    }
}

/// A counter family with a sample for each code counted, labelled `label`.
fn by_code<K: Ord + Clone + std::fmt::Display>(
    text: &mut String,
    name: &str,
    label: &str,
    help: &str,
    counts: &Mutex<BTreeMap<K, u64>>,
) {
    family(text, name, "counter", help);
    let counts = counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    for (code, count) in counts {
        sample(text, &format!("{name}{{{label}=\"{code}\"}}"), count);
    }
}

/// The store's commits: by result, with the committed ones' times and the decisions they
/// stored.
fn commit_families(text: &mut String, commits: &CommitStats) {
    family(
        text,
        "chunlei_store_commits_total",
        "counter",
        "Transactions of the store's writer, by result: committed, or failed and rolled back \
         with every request of theirs answered the error.",
    );
    sample(
        text,
        "chunlei_store_commits_total{result=\"committed\"}",
        commits.committed,
    );
    sample(
        text,
        "chunlei_store_commits_total{result=\"failed\"}",
        commits.failed,
    );
    histogram(
        text,
        "chunlei_store_commit_seconds",
        "Time of a committed transaction of the store's writer, from its first write to its \
         commit durable; every decision's time holds one.",
        &commits.time,
    );
    family(
        text,
        "chunlei_store_committed_decisions_total",
        "counter",
        "Loan decisions stored by the writer's committed transactions; over the commits, how \
         many share one.",
    );
    sample(
        text,
        "chunlei_store_committed_decisions_total",
        commits.decisions,
    );
    if let Some(checkpoints) = &commits.checkpoints {
        checkpoint_families(text, checkpoints);
    }
}

/// SQLite's checkpoints of its WAL: each ends with a sync of the database file, which slows
/// the commits beside it.
fn checkpoint_families(text: &mut String, checkpoints: &CheckpointStats) {
    family(
        text,
        "chunlei_store_wal_checkpoints_total",
        "counter",
        "Checkpoints of the SQLite store's WAL into its database file, by result: done, or \
         failed and left for the next.",
    );
    sample(
        text,
        "chunlei_store_wal_checkpoints_total{result=\"done\"}",
        checkpoints.done,
    );
    sample(
        text,
        "chunlei_store_wal_checkpoints_total{result=\"failed\"}",
        checkpoints.failed,
    );
    histogram(
        text,
        "chunlei_store_wal_checkpoint_seconds",
        "Time of a checkpoint of the SQLite store's WAL, to its database file synced; the \
         commits beside it are slower.",
        &checkpoints.time,
    );
    family(
        text,
        "chunlei_store_wal_frames",
        "gauge",
        "Frames (pages) in the SQLite store's WAL at its last checkpoint.",
    );
    sample(text, "chunlei_store_wal_frames", checkpoints.wal_frames);
}

/// A histogram family: its buckets (cumulative, the last `+Inf`), sum and count.
fn histogram(text: &mut String, name: &str, help: &str, reading: &HistogramReading) {
    family(text, name, "histogram", help);
    for &(bound, count) in &reading.buckets {
        let le = seconds(bound);
        sample(text, &format!("{name}_bucket{{le=\"{le}\"}}"), count);
    }
    // The count is the buckets' total, so the two always agree.
    sample(
        text,
        &format!("{name}_bucket{{le=\"+Inf\"}}"),
        reading.count,
    );
    let _ = writeln!(text, "{name}_sum {}", seconds(reading.sum_us));
    sample(text, &format!("{name}_count"), reading.count);
}

fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

fn sample(text: &mut String, series: &str, value: u64) {
    let _ = writeln!(text, "{series} {value}");
}

/// `us` microseconds as seconds, exactly: `2500` is `0.0025`.
fn seconds(us: u64) -> String {
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::{Answered, Metrics, StoreStats, read_sample, seconds};
    use crate::ApiError;
    use std::time::Duration;

    /// The count of `series` in `text`, which must hold it once.
    fn value(text: &str, series: &str) -> u64 {
        let value = read_sample(text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
        value as u64
    }

    #[test]
    fn a_sample_is_read_only_when_it_is_there_once() {
        let page = "a{x=\"1\"} 3\nab 4\nb 1.5\nc 1\nc 2\nd x\n";
        assert_eq!(read_sample(page, "a{x=\"1\"}"), Some(3.0));
        assert_eq!(
            read_sample(page, "a"),
            None,
            "a is only a prefix of other series"
        );
        assert_eq!(read_sample(page, "b"), Some(1.5));
        assert_eq!(read_sample(page, "c"), None, "twice");
        assert_eq!(read_sample(page, "d"), None, "not a number");
        assert_eq!(read_sample(page, "e"), None);
    }

    #[test]
    fn seconds_are_written_exactly() {
        assert_eq!(seconds(2_500), "0.0025");
        assert_eq!(seconds(10_000), "0.01");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(1_234_567), "1.234567");
    }

    #[test]
    fn decisions_fall_in_the_first_bucket_they_fit() {
        let metrics = Metrics::default();
        let decided = |approved, us| {
            metrics.application(
                Ok(Answered::Decided { approved }),
                Duration::from_micros(us),
            );
        };
        decided(true, 900);
        decided(true, 10_000);
        decided(false, 10_001);
        decided(true, 3_000_000);
        metrics.application(Ok(Answered::Replayed), Duration::from_micros(50));
        let conflict = ApiError::ApplicationIdConflict("a-1".into());
        metrics.application(Err(&conflict), Duration::ZERO);
        metrics.application(Err(&conflict), Duration::ZERO);
        let text = metrics.render(StoreStats::default());

        let decisions = "chunlei_loan_decisions_total";
        assert_eq!(
            value(&text, &format!("{decisions}{{outcome=\"approved\"}}")),
            3
        );
        assert_eq!(
            value(&text, &format!("{decisions}{{outcome=\"declined\"}}")),
            1
        );
        let bucket = |le: &str| {
            value(
                &text,
                &format!("chunlei_loan_decision_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.001"), 1);
        assert_eq!(bucket("0.005"), 1);
        assert_eq!(bucket("0.01"), 2, "a bound holds what equals it");
        assert_eq!(bucket("0.025"), 3);
        assert_eq!(bucket("2.5"), 3);
        assert_eq!(bucket("+Inf"), 4);
        assert_eq!(value(&text, "chunlei_loan_decision_seconds_count"), 4);
        assert!(
            text.contains("chunlei_loan_decision_seconds_sum 3.020901\n"),
            "{text}"
        );
        assert_eq!(value(&text, "chunlei_loan_applications_replayed_total"), 1);
        assert_eq!(
            value(
                &text,
                "chunlei_loan_applications_refused_total{code=\"application_id_conflict\"}"
            ),
            2
        );
        // PostgreSQL keeps no inputs: the families are left out rather than shown at zero;
        // and a store without a writer has no commits.
        assert!(
            !text.contains("chunlei_loan_decision_inputs_total"),
            "{text}"
        );
        assert!(!text.contains("chunlei_store_commit"), "{text}");
    }

    #[test]
    fn settlement_answers_are_counted_by_effect_reason_and_code() {
        use chunlei_settlement::book::{Applied, Effect, Rejection};
        let metrics = Metrics::default();
        metrics.settled(&[
            Ok(Applied::new(Effect::Advanced)),
            Ok(Applied::not_advanced("pool_cap_reached")),
            Ok(Applied::not_advanced("pool_cap_reached")),
            Ok(Applied::not_advanced("merchant_too_new")),
            Err(Rejection::EventIdConflict),
        ]);
        metrics.settled(&[Ok(Applied::new(Effect::Advanced))]);
        let text = metrics.render(StoreStats::default());
        let applied = |effect: &str| {
            value(
                &text,
                &format!("chunlei_settlement_applied_total{{effect=\"{effect}\"}}"),
            )
        };
        assert_eq!(applied("advanced"), 2);
        assert_eq!(applied("not_advanced"), 3);
        assert_eq!(
            applied("payout_paid"),
            0,
            "every effect is shown, at zero too"
        );
        let reason = |code: &str| {
            value(
                &text,
                &format!("chunlei_settlement_not_advanced_total{{reason=\"{code}\"}}"),
            )
        };
        assert_eq!(reason("pool_cap_reached"), 2);
        assert_eq!(reason("merchant_too_new"), 1);
        assert_eq!(
            value(
                &text,
                "chunlei_settlement_refused_total{code=\"event_id_conflict\"}"
            ),
            1
        );
    }

    #[test]
    fn codes_past_the_limit_are_not_counted_apart() {
        let counts = std::sync::Mutex::new(std::collections::BTreeMap::<String, u64>::new());
        for n in 0..super::ERROR_CODES_MAX + 10 {
            super::add_by_code(&counts, format!("code_{n}").as_str());
        }
        super::add_by_code(&counts, "code_0");
        let counts = counts.into_inner().expect("not poisoned");
        assert_eq!(counts.len(), super::ERROR_CODES_MAX);
        assert_eq!(
            counts.get("code_0"),
            Some(&2),
            "a code counted already still counts"
        );
    }

    /// Every family is announced once, before its samples, and every sample line is a name,
    /// optional labels and a number.
    #[test]
    fn the_text_is_well_formed() {
        let metrics = Metrics::default();
        let inputs = chunlei_store::InputsStats {
            from_memory: 7,
            read: 2,
            refused: 1,
            snapshots: 2,
        };
        let commits = chunlei_store::CommitStats {
            committed: 5,
            failed: 1,
            decisions: 40,
            time: chunlei_store::HistogramReading {
                buckets: vec![(250, 1), (1_000, 4)],
                count: 5,
                sum_us: 12_000,
            },
            checkpoints: Some(chunlei_store::CheckpointStats {
                done: 3,
                failed: 1,
                time: chunlei_store::HistogramReading {
                    buckets: vec![(1_000, 0), (25_000, 3)],
                    count: 3,
                    sum_us: 31_000,
                },
                wal_frames: 2_700,
            }),
        };
        let text = metrics.render(StoreStats {
            inputs: Some(inputs),
            commits: Some(commits),
        });
        assert_eq!(
            value(
                &text,
                "chunlei_loan_decision_inputs_total{source=\"memory\"}"
            ),
            7
        );
        assert_eq!(value(&text, "chunlei_loan_decisions_remade_total"), 1);
        let commits = "chunlei_store_commits_total";
        assert_eq!(
            value(&text, &format!("{commits}{{result=\"committed\"}}")),
            5
        );
        assert_eq!(value(&text, &format!("{commits}{{result=\"failed\"}}")), 1);
        let bucket = |le: &str| {
            value(
                &text,
                &format!("chunlei_store_commit_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.00025"), 1);
        assert_eq!(bucket("0.001"), 4);
        assert_eq!(bucket("+Inf"), 5, "one over every bound");
        assert!(
            text.contains("chunlei_store_commit_seconds_sum 0.012\n"),
            "{text}"
        );
        assert_eq!(value(&text, "chunlei_store_committed_decisions_total"), 40);
        let checkpoints = "chunlei_store_wal_checkpoints_total";
        assert_eq!(
            value(&text, &format!("{checkpoints}{{result=\"done\"}}")),
            3
        );
        assert_eq!(
            value(&text, &format!("{checkpoints}{{result=\"failed\"}}")),
            1
        );
        assert_eq!(
            value(
                &text,
                "chunlei_store_wal_checkpoint_seconds_bucket{le=\"0.025\"}"
            ),
            3
        );
        assert!(
            text.contains("chunlei_store_wal_checkpoint_seconds_sum 0.031\n"),
            "{text}"
        );
        assert_eq!(value(&text, "chunlei_store_wal_frames"), 2_700);
        let mut announced = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().expect("a name");
                assert!(!announced.contains(&name), "{name} announced twice");
                announced.push(name);
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, number) = line.rsplit_once(' ').expect("a series and a value");
            assert!(number.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().expect("a name");
            assert!(
                announced.iter().any(|family| name.starts_with(family)),
                "{line} before its family"
            );
        }
        assert_eq!(announced.len(), 15, "{text}");
    }
}
