//! `chunlei bench machine`: how steadily the machine gives this process its cores.
//!
//! One thread per core does a fixed piece of arithmetic over and over and counts the pieces
//! it finishes in each 5 ms window. On a machine of its own every window holds about as many
//! as the next. On a virtual machine whose host lends its cores to others, some windows hold
//! far fewer: the thread was not running, or ran slowly, and any request in flight then took
//! that much longer. A latency benchmark's tail follows those windows, so its figures are
//! comparable only between runs on an equally steady machine; this prints how steady it is.
//!
//! A window is *slow* when it holds under half the work of a full-speed window, taken as the
//! 90th percentile of all windows (robust to a few unusually fast ones).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;

#[derive(Debug, clap::Args)]
pub struct MachineArgs {
    /// How long to measure, in seconds (1 to 60).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Spinning threads; by default one per core the process may use.
    #[arg(long)]
    threads: Option<usize>,
}

/// The window the work is counted in.
const WINDOW: Duration = Duration::from_millis(5);
const SECONDS_MAX: u64 = 60;
const THREADS_MAX: usize = 256;
/// Arithmetic steps between two looks at the clock: about a microsecond.
const STEPS_PER_PIECE: u32 = 512;

pub fn run(args: MachineArgs) -> anyhow::Result<ExitCode> {
    if args.seconds == 0 || args.seconds > SECONDS_MAX {
        bail!("--seconds must be between 1 and {SECONDS_MAX}");
    }
    let threads = match args.threads {
        Some(n) if n == 0 || n > THREADS_MAX => {
            bail!("--threads must be between 1 and {THREADS_MAX}")
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let length = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| std::thread::spawn(move || count_windows(started, length)))
        .collect();
    let mut all = Steadiness::default();
    println!(
        "threads={threads} seconds={} window_ms={}",
        args.seconds,
        WINDOW.as_millis()
    );
    for (index, handle) in handles.into_iter().enumerate() {
        let Ok(counts) = handle.join() else {
            bail!("a spinning thread panicked");
        };
        let steadiness = Steadiness::of(&counts);
        println!(
            "thread={index} windows={} slow={} ({:.1} %) longest_slow_ms={} available_percent={:.1}",
            steadiness.windows,
            steadiness.slow,
            steadiness.slow_percent(),
            steadiness.longest_slow * WINDOW.as_millis() as usize,
            steadiness.available_percent()
        );
        all.add(&steadiness);
    }
    println!("available_percent={:.1}", all.available_percent());
    println!("slow_windows_percent={:.1}", all.slow_percent());
    Ok(ExitCode::SUCCESS)
}

/// Spins from `started` for `length`, counting the pieces of work finished in each window.
fn count_windows(started: Instant, length: Duration) -> Vec<u64> {
    let windows = usize::try_from(length.as_nanos() / WINDOW.as_nanos()).unwrap_or(0);
    let mut counts = vec![0u64; windows];
    let mut x: u64 = 1;
    loop {
        for _ in 0..STEPS_PER_PIECE {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
        }
        std::hint::black_box(x);
        let at = started.elapsed().as_nanos() / WINDOW.as_nanos();
        match counts.get_mut(usize::try_from(at).unwrap_or(usize::MAX)) {
            Some(count) => *count += 1,
            None => return counts,
        }
    }
}

/// What the windows of one or more threads say.
#[derive(Debug, Default, PartialEq)]
struct Steadiness {
    windows: usize,
    /// Windows under half of full speed.
    slow: usize,
    /// The most slow windows in a row.
    longest_slow: usize,
    /// Pieces done, and the pieces full speed would have done, in all windows.
    done: u64,
    full: u64,
}

impl Steadiness {
    /// The first and last windows are left out: the threads start and stop within them.
    fn of(counts: &[u64]) -> Steadiness {
        let inner = match counts {
            [_, inner @ .., _] => inner,
            _ => &[],
        };
        let mut sorted = inner.to_vec();
        sorted.sort_unstable();
        let full = sorted
            .get(sorted.len().saturating_mul(9) / 10)
            .copied()
            .unwrap_or(0);
        let (mut slow, mut run, mut longest_slow) = (0, 0, 0);
        for &count in inner {
            if count.saturating_mul(2) < full {
                slow += 1;
                run += 1;
                longest_slow = longest_slow.max(run);
            } else {
                run = 0;
            }
        }
        Steadiness {
            windows: inner.len(),
            slow,
            longest_slow,
            done: inner.iter().map(|&c| c.min(full)).sum(),
            full: full.saturating_mul(inner.len() as u64),
        }
    }

    fn add(&mut self, other: &Steadiness) {
        self.windows += other.windows;
        self.slow += other.slow;
        self.longest_slow = self.longest_slow.max(other.longest_slow);
        self.done += other.done;
        self.full += other.full;
    }

    fn slow_percent(&self) -> f64 {
        100.0 * self.slow as f64 / self.windows.max(1) as f64
    }

    /// The share of full speed the windows got, counting no window above full speed.
    fn available_percent(&self) -> f64 {
        100.0 * self.done as f64 / self.full.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_machine_has_no_slow_window() {
        let steady = Steadiness::of(&[3, 100, 101, 99, 100, 100, 98, 100, 100, 101, 100, 7]);
        assert_eq!(steady.windows, 10);
        assert_eq!(steady.slow, 0);
        assert_eq!(steady.longest_slow, 0);
        assert!(steady.available_percent() > 98.0, "{steady:?}");
    }

    #[test]
    fn windows_under_half_speed_are_slow_and_their_longest_run_is_kept() {
        // Full speed is 100 (the 90th percentile of the inner windows); 49 and below are slow.
        let counts = [0, 100, 10, 0, 49, 100, 100, 50, 0, 100, 100, 100, 100, 0];
        let s = Steadiness::of(&counts);
        assert_eq!(s.windows, 12);
        assert_eq!(s.slow, 4);
        assert_eq!(s.longest_slow, 3);
        assert!((s.slow_percent() - 100.0 * 4.0 / 12.0).abs() < 1e-9);
        // 10 + 0 + 49 + 50 + 0 + 7 windows at 100, out of 12 at 100.
        let expected = 100.0 * (10 + 49 + 50 + 700) as f64 / 1_200.0;
        assert!((s.available_percent() - expected).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn threads_add_up() {
        let mut all = Steadiness::of(&[0, 100, 0, 100, 100, 100, 100, 100, 100, 100, 100, 0]);
        all.add(&Steadiness::of(&[
            0, 100, 0, 0, 100, 100, 100, 100, 100, 100, 100, 0,
        ]));
        assert_eq!(all.windows, 20);
        assert_eq!(all.slow, 3);
        assert_eq!(all.longest_slow, 2);
    }

    #[test]
    fn spinning_counts_every_window_of_the_run() {
        let counts = count_windows(Instant::now(), Duration::from_millis(50));
        assert_eq!(counts.len(), 10);
        assert!(counts.iter().sum::<u64>() > 0);
    }
}
