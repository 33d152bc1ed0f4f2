//! What a run cost in CPU, and how much of the machine its host took away meanwhile, read
//! from Linux's `/proc`.
//!
//! On a virtual machine whose host takes its cores away in bursts, throughput and latency
//! swing by a third from one run to the next. The CPU time the process itself used for each
//! unit of work swings far less: time the host took is not counted in it. So a run prints both,
//! and two builds are compared by their CPU per unit on days when their throughput cannot be.

use std::collections::BTreeMap;
use std::time::Duration;

/// Linux reports times in `/proc/self/stat` and `/proc/stat` in these ticks a second
/// (`USER_HZ`), whatever the kernel's own tick rate.
const TICKS_PER_S: u64 = 100;

/// A reading of the process's CPU time and the machine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuReading {
    /// User and system time of every thread of this process, ended ones included.
    process_ticks: u64,
    /// Every CPU's time in every state (`/proc/stat`'s `cpu` line summed).
    machine_ticks: u64,
    /// Of it, time the host gave another guest while this one had work (`steal`).
    steal_ticks: u64,
}

/// What the process and the machine did between two readings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuSpent {
    /// CPU time the process used.
    pub process: Duration,
    /// Of every CPU's time, the share the host took away, in percent.
    pub steal_percent: f64,
}

impl CpuReading {
    /// Reads now, or `None` where `/proc` does not say (not Linux).
    pub fn now() -> Option<CpuReading> {
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        let (machine_ticks, steal_ticks) = machine_times(&machine)?;
        Some(CpuReading {
            process_ticks: process_ticks(&own)?,
            machine_ticks,
            steal_ticks,
        })
    }

    /// What was spent from `earlier` to this reading.
    pub fn since(&self, earlier: &CpuReading) -> CpuSpent {
        let machine = self.machine_ticks.saturating_sub(earlier.machine_ticks);
        let steal = self.steal_ticks.saturating_sub(earlier.steal_ticks);
        let ticks = self.process_ticks.saturating_sub(earlier.process_ticks);
        CpuSpent {
            process: duration(ticks),
            steal_percent: if machine == 0 {
                0.0
            } else {
                100.0 * steal as f64 / machine as f64
            },
        }
    }
}

/// CPU time of this process's live threads, by thread name (the threads of one name summed):
/// where a run's CPU went without a profiler, and a share that moves less with the machine's
/// speed than the time itself. A thread that ends between two readings takes its time with it;
/// the store's threads and the runtime's workers live as long as a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadsReading(BTreeMap<String, u64>);

impl ThreadsReading {
    /// Reads now, or `None` where `/proc` does not say (not Linux).
    pub fn now() -> Option<ThreadsReading> {
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            // A thread may end between being listed and being read.
            let Ok(task) = task else { continue };
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            if let Some((name, ticks)) = thread_times(&stat) {
                *by_name.entry(name.to_owned()).or_default() += ticks;
            }
        }
        Some(ThreadsReading(by_name))
    }

    /// Each name's CPU time from `earlier` to this reading, the most first; names that used
    /// none are left out.
    pub fn since(&self, earlier: &ThreadsReading) -> Vec<(String, Duration)> {
        let mut spent: Vec<(String, Duration)> = self
            .0
            .iter()
            .map(|(name, &ticks)| {
                let before = earlier.0.get(name).copied().unwrap_or(0);
                (name.clone(), duration(ticks.saturating_sub(before)))
            })
            .filter(|(_, spent)| !spent.is_zero())
            .collect();
        spent.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        spent
    }
}

/// `ticks` of CPU time as a duration.
fn duration(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1_000 / TICKS_PER_S)
}

/// `name=share%` for each of `spent`, the shares of their sum, in the order given.
pub fn shares(spent: &[(String, Duration)]) -> String {
    let total: Duration = spent.iter().map(|(_, d)| *d).sum();
    let total = total.as_secs_f64().max(1e-9);
    spent
        .iter()
        .map(|(name, d)| format!("{name}={:.1}%", 100.0 * d.as_secs_f64() / total))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A thread's name and `utime + stime`, from its `/proc/self/task/TID/stat`.
fn thread_times(stat: &str) -> Option<(&str, u64)> {
    let name = stat.get(stat.find('(')? + 1..stat.rfind(')')?)?;
    Some((name, process_ticks(stat)?))
}

/// `utime + stime` of `/proc/self/stat`: fields 14 and 15, counted after the command name,
/// which is in parentheses and may itself hold spaces and parentheses.
fn process_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields from the third (state) on: utime is the 14th field, the 12th of these.
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// All CPUs' ticks in every state, and those stolen, from `/proc/stat`'s first line:
/// `cpu user nice system idle iowait irq softirq steal guest guest_nice`. Guest time is
/// already counted in user time, so it is left out of the sum.
fn machine_times(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?;
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields
        .take(8)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let steal = *values.get(7)?;
    Some((values.iter().sum(), steal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_times_are_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    250 75 0 0 20 0 5 0 100 1000000 500";
        assert_eq!(process_ticks(stat), Some(325));
        assert_eq!(process_ticks("4242 (cut short) S 1 2"), None);
    }

    #[test]
    fn the_machine_line_sums_every_state_but_guest_and_keeps_steal() {
        let stat = "cpu  67938 0 5221 38431 441 0 406 567 9 9\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(
            machine_times(stat),
            Some((67938 + 5221 + 38431 + 441 + 406 + 567, 567))
        );
        assert_eq!(machine_times("intr 1 2 3\n"), None);
    }

    #[test]
    fn what_was_spent_is_the_difference_in_milliseconds_and_percent() {
        let before = CpuReading {
            process_ticks: 1_000,
            machine_ticks: 10_000,
            steal_ticks: 100,
        };
        let after = CpuReading {
            process_ticks: 1_450,
            machine_ticks: 10_600,
            steal_ticks: 148,
        };
        let spent = after.since(&before);
        assert_eq!(spent.process, Duration::from_millis(4_500));
        assert!((spent.steal_percent - 8.0).abs() < 1e-9);
    }

    #[test]
    fn a_threads_name_and_times_are_read_around_spaces_and_parentheses() {
        let stat = "4243 (decision (reader)) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    30 12 0 0 20 0 5 0 100 1000000 500";
        assert_eq!(thread_times(stat), Some(("decision (reader)", 42)));
        assert_eq!(thread_times("4243 )broken( S"), None);
    }

    #[test]
    fn threads_are_summed_by_name_and_listed_the_busiest_first() {
        let reading = |pairs: &[(&str, u64)]| {
            ThreadsReading(pairs.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect())
        };
        let before = reading(&[("writer", 100), ("reader", 10), ("idle", 5)]);
        let after = reading(&[("writer", 130), ("reader", 70), ("idle", 5), ("new", 10)]);
        let spent = after.since(&before);
        let ms = Duration::from_millis;
        assert_eq!(
            spent,
            [
                ("reader".to_owned(), ms(600)),
                ("writer".to_owned(), ms(300)),
                ("new".to_owned(), ms(100)),
            ]
        );
        assert_eq!(shares(&spent), "reader=60.0% writer=30.0% new=10.0%");
    }

    #[test]
    fn a_busy_thread_of_this_process_is_found_by_its_name() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let (spun, spinning) = std::sync::mpsc::channel::<()>();
        let before = ThreadsReading::now().expect("readable on Linux");
        let thread = std::thread::Builder::new()
            .name("cpu-test-spin".into())
            .spawn(move || {
                // Until this thread itself has used 60 ms of CPU, however busy the machine.
                let own = || {
                    std::fs::read_to_string("/proc/thread-self/stat")
                        .ok()
                        .and_then(|stat| thread_times(&stat).map(|(_, ticks)| ticks))
                        .unwrap_or(0)
                };
                let (start, from) = (std::time::Instant::now(), own());
                let mut n = 0_u64;
                while own() < from + 6 && start.elapsed() < Duration::from_secs(10) {
                    for _ in 0..100_000 {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                }
                spun.send(()).expect("send");
                wait.recv().ok();
            })
            .expect("spawn");
        spinning.recv().expect("spun");
        let after = ThreadsReading::now().expect("readable on Linux");
        done.send(()).expect("send");
        thread.join().expect("join");
        let spent = after.since(&before);
        let spin = spent.iter().find(|(name, _)| name == "cpu-test-spin");
        assert!(
            spin.is_some_and(|(_, d)| *d >= Duration::from_millis(50)),
            "{spent:?}"
        );
    }

    #[test]
    fn this_process_and_this_machine_can_be_read_on_linux() {
        if cfg!(target_os = "linux") {
            let first = CpuReading::now().expect("readable on Linux");
            let second = CpuReading::now().expect("readable on Linux");
            assert!(second.process_ticks >= first.process_ticks);
            assert!(second.machine_ticks >= first.machine_ticks);
            assert!(first.machine_ticks > 0);
        }
    }
}
