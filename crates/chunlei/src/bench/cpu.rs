//! What a run cost in CPU, and how much of the machine its host took away meanwhile, read
//! from Linux's `/proc`.
//!
//! On a virtual machine whose host takes its cores away in bursts, throughput and latency
//! swing by a third from one run to the next. The CPU time the process itself used for each
//! unit of work swings far less: time the host took is not counted in it. So a run prints both,
//! and two builds are compared by their CPU per unit on days when their throughput cannot be.

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
            process: Duration::from_millis(ticks * 1_000 / TICKS_PER_S),
            steal_percent: if machine == 0 {
                0.0
            } else {
                100.0 * steal as f64 / machine as f64
            },
        }
    }
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
