//! What the server counts of its loan decisions, for a monitoring system to read at
//! `GET /metrics` in the Prometheus text format (version 0.0.4): decisions by outcome, how
//! long each took to be decided and stored, applications answered with a decision stored
//! before, applications refused by error code, and where decisions got their inputs. An
//! application is timed from when its handler has its key and body (the key is checked and
//! the body read before) to its answer, the decision stored durably.
//!
//! Counting costs a decision three atomic additions; the text is made only when asked for.
//! The counts are this process's since it started, as Prometheus counters are: a restart
//! starts them at zero, which Prometheus's `rate()` and `increase()` allow for.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chunlei_store::InputsStats;

use crate::ApiError;

/// The upper bounds of the decision time's buckets, in µs: 1 ms to 2.5 s, with the 10 ms of
/// the decision target as one of them.
const DECISION_BUCKETS_US: [u64; 11] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
];

/// Error codes counted apart at most; the codes are the API's fixed set, far fewer.
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
#[derive(Debug, Default)]
pub struct Metrics {
    approved: AtomicU64,
    declined: AtomicU64,
    replayed: AtomicU64,
    /// Decisions made and stored, by the first bucket of [`DECISION_BUCKETS_US`] they fit;
    /// the last counts those over every bound.
    decision_buckets: [AtomicU64; DECISION_BUCKETS_US.len() + 1],
    decision_us_sum: AtomicU64,
    /// Applications answered with an error, by its code.
    errors: Mutex<BTreeMap<&'static str, u64>>,
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
                let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
                let bucket = DECISION_BUCKETS_US
                    .iter()
                    .position(|&bound| us <= bound)
                    .unwrap_or(DECISION_BUCKETS_US.len());
                if let Some(count) = self.decision_buckets.get(bucket) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                self.decision_us_sum.fetch_add(us, Ordering::Relaxed);
            }
            Ok(Answered::Replayed) => {
                self.replayed.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                let (_, code) = error.status_and_code();
                // A poisoned lock still holds counts that are whole: each change is one
                // addition.
                let mut errors = self
                    .errors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if errors.len() < ERROR_CODES_MAX || errors.contains_key(code) {
                    *errors.entry(code).or_default() += 1;
                }
            }
        }
    }

    /// The counts in the Prometheus text format, with the store's `inputs` where it keeps
    /// decision inputs (SQLite).
    pub(crate) fn render(&self, inputs: Option<InputsStats>) -> String {
        let mut text = String::with_capacity(2_048);
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

        family(
            &mut text,
            "chunlei_loan_decision_seconds",
            "histogram",
            "Time to decide an application and store its decision, from its key and body accepted \
             to its answer.",
        );
        let mut cumulative = 0;
        for (bound, count) in DECISION_BUCKETS_US.iter().zip(&self.decision_buckets) {
            cumulative += load(count);
            let le = seconds(*bound);
            sample(
                &mut text,
                &format!("chunlei_loan_decision_seconds_bucket{{le=\"{le}\"}}"),
                cumulative,
            );
        }
        // The count is the buckets' sum, so the two always agree.
        let over = self.decision_buckets.last().map_or(0, load);
        cumulative += over;
        sample(
            &mut text,
            "chunlei_loan_decision_seconds_bucket{le=\"+Inf\"}",
            cumulative,
        );
        let _ = writeln!(
            text,
            "chunlei_loan_decision_seconds_sum {}",
            seconds(load(&self.decision_us_sum))
        );
        sample(&mut text, "chunlei_loan_decision_seconds_count", cumulative);

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

        family(
            &mut text,
            "chunlei_loan_applications_refused_total",
            "counter",
            "Applications answered with an error after their key and body were accepted, by the \
             error's code.",
        );
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for (code, count) in errors {
            sample(
                &mut text,
                &format!("chunlei_loan_applications_refused_total{{code=\"{code}\"}}"),
                count,
            );
        }

        if let Some(inputs) = inputs {
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
    use super::{Answered, Metrics, read_sample, seconds};
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
        let text = metrics.render(None);

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
        // PostgreSQL keeps no inputs: the families are left out rather than shown at zero.
        assert!(
            !text.contains("chunlei_loan_decision_inputs_total"),
            "{text}"
        );
    }

    /// Every family is announced once, before its samples, and every sample line is a name,
    /// optional labels and a number.
    #[test]
    fn the_text_is_well_formed() {
        let metrics = Metrics::default();
        let stats = chunlei_store::InputsStats {
            from_memory: 7,
            read: 2,
            refused: 1,
            snapshots: 2,
        };
        let text = metrics.render(Some(stats));
        assert_eq!(
            value(
                &text,
                "chunlei_loan_decision_inputs_total{source=\"memory\"}"
            ),
            7
        );
        assert_eq!(value(&text, "chunlei_loan_decisions_remade_total"), 1);
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
        assert_eq!(announced.len(), 6, "{text}");
    }
}
