//! `chunlei bench loans`: loan applications decided over HTTP, as merchants send them.
//!
//! Starts the real server in this process on a random port with the example lending
//! configuration (`docs/lending.example.json`, its grade cut-offs and bank cut-offs lowered
//! so that the tiny scorecard trained here lends) and that scorecard, registers merchants and
//! gives each 60 days of sales through the settlement path, then has `--clients` concurrent
//! clients post `--requests` applications, each a new application id. Every decision is
//! stored durably (group commit) before its answer, so the latency is a decision's whole cost.
//!
//! Two ways to send:
//!
//! - closed loop (the default): each client waits for its answer before sending the next, so
//!   the run measures the most decisions a second the machine does; the latency it reports is
//!   mostly time spent queueing behind the other clients (Little's law: at 200 clients the
//!   median is about 200 / throughput).
//! - open loop (`--rate N`): applications are due at N a second in all, spread evenly over the
//!   clients, each client on its own connection with at most one application in flight. A
//!   client whose previous answer is late sends the next one as soon as it can, and every
//!   latency is counted from when the application was *due*, not when it went out, so time
//!   spent waiting behind a slow answer is counted rather than hidden.
//!
//! Every connection is opened, and answers one request the server does not route, before the
//! clock starts: the run times applications on connections kept alive, not connection set-up.
//!
//! `--floor` sends the same requests, in either way, to a path the server does not route: the
//! latency any request has at that concurrency on this machine, through the HTTP stack and the
//! client alone, before anything is decided or stored.
//!
//! Besides latency and throughput it prints the process's CPU time per decision (clients
//! included) and the share of the machine's time the host took away during the run
//! (`bench/cpu.rs`): on a day when runs swing by a third, the CPU a decision costs is what two
//! builds can still be compared by.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chunlei_ledger::Fen;
use chunlei_lending::decision::{BankPolicy, Consortium, GradeGrid};
use chunlei_settlement::book::{Command, EventIn};
use chunlei_settlement::{Merchant, MerchantFields, OrderEvent};
use chunlei_store::Store;

use super::cpu::{CpuReading, ThreadsReading};
use super::http1::Connection;

#[derive(Debug, clap::Args)]
pub struct LoansArgs {
    #[arg(long, default_value = crate::DEFAULT_DB)]
    db: String,
    /// Concurrent clients, each on its own connection with one application in flight at most.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Open loop: applications due per second in all, spread evenly over the clients, each
    /// latency counted from when its application was due. Without it, closed loop: each client
    /// sends its next application when the answer to the last one arrives.
    #[arg(long)]
    rate: Option<u64>,
    /// Applications to decide in all.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Merchants applying; registered and given sales before the run.
    #[arg(long, default_value_t = 1_000)]
    merchants: u64,
    /// Settlement load beside the decisions: order events a second (today's paid orders of the
    /// same merchants), sent in batches every 10 ms through the store's writer while the
    /// clients apply.
    #[arg(long)]
    settle_rate: Option<u64>,
    /// The floor: sends the same requests to a path the server does not route, so that each
    /// costs only the HTTP stack and the client (the router answers 404 before any handler
    /// runs). What the machine allows any request at this concurrency, decisions aside.
    #[arg(long, conflicts_with = "settle_rate")]
    floor: bool,
    /// Writes every answer to this CSV file (`answered_ms,latency_ms`: when it came, from the
    /// clients' start, and its latency as reported), to see when the slow ones came.
    #[arg(long)]
    latency_log: Option<std::path::PathBuf>,
}

/// Where applications go, and where `--floor` sends the same requests instead.
const APPLICATIONS_PATH: &str = "/api/v1/loan-applications";
const UNROUTED_PATH: &str = "/api/v1/loan-applications-floor";
const METRICS_PATH: &str = "/metrics";
/// The bounds of the server's decision histogram shown, in seconds as it writes them.
const SERVER_BOUNDS: [&str; 4] = ["0.0025", "0.005", "0.01", "0.025"];
/// The bounds of the store's commit histogram shown, in seconds as the server writes them.
const COMMIT_BOUNDS: [&str; 5] = ["0.0005", "0.001", "0.0025", "0.005", "0.01"];
const DECISION_HISTOGRAM: &str = "chunlei_loan_decision_seconds";
const COMMIT_HISTOGRAM: &str = "chunlei_store_commit_seconds";

const CLIENTS_MAX: usize = 1_024;
/// Days of sales each merchant has, one order a day.
const SALES_DAYS: u64 = 60;
const DAY_NS: u64 = 86_400 * 1_000_000_000;

pub fn run(args: LoansArgs) -> anyhow::Result<ExitCode> {
    if args.requests == 0 || args.merchants == 0 || args.rate == Some(0) {
        bail!("--requests, --merchants and --rate must be at least 1");
    }
    if args
        .settle_rate
        .is_some_and(|rate| rate == 0 || rate > SETTLE_RATE_MAX)
    {
        bail!("--settle-rate must be between 1 and {SETTLE_RATE_MAX}");
    }
    let clients = args.clients.clamp(1, CLIENTS_MAX);
    // Made before the run, so that a path it cannot write fails at once, not after it.
    let latency_log = args
        .latency_log
        .as_deref()
        .map(|path| {
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))
                .map(|file| (path, file))
        })
        .transpose()?;
    let store = crate::open_store(&args.db)?;
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let lending = Arc::new(lending()?);
    // Outside the runtime: the PostgreSQL client is synchronous and may not block a runtime.
    // Before the merchants' sales: on SQLite a key is written on a read connection, and
    // written after the sales it made the writer's next `BEGIN IMMEDIATE`, the run's first
    // commit, take 0.55-7 ms, a pause that belongs to this setup, not to the run.
    let (key, record) = chunlei_http::auth::new_key(&chunlei_http::auth::Role::Integration);
    store.insert_api_key(&record)?;
    if !args.floor {
        prepare_merchants(&store, run, args.merchants)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicU64::new(0));
    // The server's `GET /metrics` after the run, where decisions were made.
    let mut page = None;
    let (mut answered, approved, elapsed, (cpu, threads), load) = runtime.block_on(async {
        let address = start_server(&store, lending).await?;
        let authorization = format!("Bearer {key}");
        let mut connections = Vec::with_capacity(clients);
        for _ in 0..clients {
            connections.push(Connection::open(address).await?);
        }
        // Each connection is answered once before the clock starts, so that the server has
        // accepted it and set up its HTTP state: what is timed is applications on connections
        // kept alive, as clients send them, not connections being set up.
        for http in &mut connections {
            let answer = http.post_json(UNROUTED_PATH, &authorization, "{}").await?;
            if answer.status != 404 {
                bail!("a connection's first request answered {}", answer.status);
            }
        }
        // What the server counted before the clock starts (registering merchants, seeding
        // their sales) is taken off what it counts at the end.
        let page_at_start = if args.floor {
            None
        } else {
            Some(server_metrics(address, &authorization).await?)
        };
        let started = Instant::now();
        let cpu_at_start = CpuReading::now();
        let threads_at_start = ThreadsReading::now();
        let load = args
            .settle_rate
            .map(|rate| Background::start(&store, run, args.merchants, rate));
        let mut tasks = Vec::with_capacity(clients);
        for (index, http) in connections.into_iter().enumerate() {
            let client = Client {
                started,
                http,
                authorization: authorization.clone(),
                run,
                merchants: args.merchants,
                requests: args.requests,
                floor: args.floor,
            };
            let next = next.clone();
            let schedule = args.rate.map(|rate| Schedule {
                start: tokio::time::Instant::from_std(started),
                rate,
                first: index as u64,
                step: clients as u64,
            });
            tasks.push(tokio::spawn(async move {
                match schedule {
                    None => client.apply(&next).await,
                    Some(schedule) => client.apply_on(schedule).await,
                }
            }));
        }
        let mut answered = Latencies::with_capacity(usize::try_from(args.requests).unwrap_or(0));
        let mut approved = 0;
        for task in tasks {
            let (mine, yes) = task.await.context("client task panicked")??;
            answered.extend(mine);
            approved += yes;
        }
        let elapsed = started.elapsed();
        let cpu = cpu_at_start
            .zip(CpuReading::now())
            .map(|(at_start, now)| now.since(&at_start));
        let threads = threads_at_start
            .zip(ThreadsReading::now())
            .map(|(at_start, now)| now.since(&at_start));
        let load = load.map(Background::stop).transpose()?;
        if let Some(at_start) = page_at_start {
            page = Some((at_start, server_metrics(address, &authorization).await?));
        }
        anyhow::Ok((answered, approved, elapsed, (cpu, threads), load))
    })?;
    drop(runtime);
    // The latencies reported, in the order they came: sorting loses which answer came when.
    let reported = match args.rate {
        Some(_) => answered.due_us.clone(),
        None => answered.sent_us.clone(),
    };
    if let Some((path, file)) = latency_log {
        write_latency_log(path, file, &answered.answered_at_us, &reported)?;
    }
    answered.due_us.sort_unstable();
    answered.sent_us.sort_unstable();
    let decided = answered.sent_us.len() as u64;
    let per_s = decided as f64 / elapsed.as_secs_f64().max(1e-9);
    println!("db={}", store.url());
    match args.rate {
        None => println!(
            "mode=closed clients={clients} (each sends its next application on the last answer)"
        ),
        Some(rate) => println!(
            "mode=open rate={rate}/s clients={clients} (latency from when each application was due)"
        ),
    }
    if args.floor {
        println!(
            "floor requests={decided} clients={clients} (each answered 404 by the router: \
             nothing decided or stored)"
        );
    } else {
        println!(
            "merchants={} requests={decided} clients={clients} approved={approved} declined={}",
            args.merchants,
            decided - approved
        );
    }
    println!("elapsed_s={:.3}", elapsed.as_secs_f64());
    if let Some(inputs) = store.decision_inputs_stats() {
        println!(
            "decision_inputs from_memory={} read={} refused={} snapshots={} (a merchant's \
             inputs are kept while nothing they come from changes; those read share snapshots)",
            inputs.from_memory, inputs.read, inputs.refused, inputs.snapshots
        );
    }
    if let Some((events, took)) = load {
        println!(
            "settle_events={events} settle_events_per_s={:.0} (beside the decisions)",
            events as f64 / took.as_secs_f64().max(1e-9)
        );
    }
    if args.floor {
        println!("requests_per_s={per_s:.0}");
    } else {
        println!("decisions_per_s={per_s:.0}");
    }
    if let Some(cpu) = cpu {
        let unit = if args.floor { "request" } else { "decision" };
        println!(
            "cpu_us_per_{unit}={:.1} steal_percent={:.1} (this process's CPU time over the \
             {unit}s, its clients' included; the share of the machine's time its host took away)",
            cpu.process.as_secs_f64() * 1e6 / decided.max(1) as f64,
            cpu.steal_percent
        );
    }
    if let Some(threads) = threads {
        println!(
            "cpu_by_thread {} (shares of the run's CPU by thread name, in 10 ms ticks; the \
             runtime's workers serve the requests and run the clients)",
            super::cpu::shares(&threads)
        );
    }
    if let Some((at_start, at_end)) = page {
        let run = Run {
            at_start: &at_start,
            at_end: &at_end,
        };
        println!(
            "server_decision_ms {} (the server's own histogram at {METRICS_PATH}: from the route \
             taking an application to its decision stored; the rest of a latency is the HTTP \
             exchange and the wait for a worker)",
            run.shares(DECISION_HISTOGRAM, &SERVER_BOUNDS)
                .context("the server's metrics have no decision histogram")?
        );
        println!(
            "server_commit_ms {} decisions_per_commit={:.1} (the store's commits over the run, \
             by the server's histogram: every decision waits for one)",
            run.shares(COMMIT_HISTOGRAM, &COMMIT_BOUNDS)
                .context("the server's metrics have no commit histogram")?,
            run.per_commit()
                .context("the server's metrics do not count commits")?
        );
        // SQLite only: PostgreSQL has no WAL of the store's own to checkpoint.
        if let Some((checkpoints, seconds)) = run.checkpoints() {
            println!(
                "server_wal_checkpoints={checkpoints} ms_in_all={:.1} (the store's checkpoints \
                 of its WAL during the run: each one's sync of the database file slows the \
                 commits beside it)",
                seconds * 1_000.0
            );
        }
    }
    if args.rate.is_some() {
        // From when the application went out to its answer: what the server took, without
        // the time a client spent waiting to send behind a late answer.
        let sent = &answered.sent_us;
        println!(
            "response_ms p50={:.2} p99={:.2} max={:.2}",
            percentile_ms(sent, 50.0),
            percentile_ms(sent, 99.0),
            percentile_ms(sent, 100.0)
        );
        let late = answered.due_us.iter().filter(|&&us| us > 10_000).count();
        println!(
            "over_10ms={late} ({:.2} %)",
            100.0 * late as f64 / decided.max(1) as f64
        );
    }
    let latencies = match args.rate {
        Some(_) => &answered.due_us,
        None => &answered.sent_us,
    };
    let (slow_windows, windows) = tail_windows(
        &answered.answered_at_us,
        &reported,
        percentile_us(latencies, 99.0),
    );
    println!(
        "tail_windows={slow_windows} of {windows} (50 ms windows holding an answer slower than \
         the p99: few means a few stalls of the whole server, not slow answers throughout)"
    );
    println!("p90_ms={:.2}", percentile_ms(latencies, 90.0));
    println!("p99.9_ms={:.2}", percentile_ms(latencies, 99.9));
    println!("max_ms={:.2}", percentile_ms(latencies, 100.0));
    println!("p50_ms={:.2}", percentile_ms(latencies, 50.0));
    println!("p99_ms={:.2}", percentile_ms(latencies, 99.0));
    // Any refused application stops the run with an error, so reaching here is success.
    Ok(ExitCode::SUCCESS)
}

/// The server's `GET /metrics` page, read on a connection of its own.
async fn server_metrics(
    address: std::net::SocketAddr,
    authorization: &str,
) -> anyhow::Result<String> {
    let mut http = Connection::open(address).await?;
    let answer = http.get(METRICS_PATH, authorization).await?;
    if answer.status != 200 {
        bail!("{METRICS_PATH} answered {}", answer.status);
    }
    Ok(String::from_utf8_lossy(&answer.body).into_owned())
}

/// The server's `GET /metrics` page as the load began and as it ended: what it counted over
/// the run is the difference.
struct Run<'a> {
    at_start: &'a str,
    at_end: &'a str,
}

impl Run<'_> {
    /// How much `series` grew over the run.
    fn grew(&self, series: &str) -> Option<f64> {
        let read = |page| chunlei_http::metrics::read_sample(page, series);
        Some(read(self.at_end)? - read(self.at_start)?)
    }

    /// The share of what the histogram `family` counted over the run within each of
    /// `bounds` (in seconds, as the page writes them): `le_2.5=61.0% … of 20000`, the
    /// bounds in ms.
    fn shares(&self, family: &str, bounds: &[&str]) -> Option<String> {
        let count = self.grew(&format!("{family}_count"))?;
        let mut shares = Vec::with_capacity(bounds.len() + 1);
        for le in bounds {
            let within = self.grew(&format!("{family}_bucket{{le=\"{le}\"}}"))?;
            let ms = le.parse::<f64>().ok()? * 1_000.0;
            shares.push(format!("le_{ms}={:.1}%", 100.0 * within / count.max(1.0)));
        }
        shares.push(format!("of {count}"));
        Some(shares.join(" "))
    }

    /// The WAL checkpoints of the run and their time in all, in seconds; `None` where the
    /// store has no WAL of its own (PostgreSQL).
    fn checkpoints(&self) -> Option<(f64, f64)> {
        Some((
            self.grew("chunlei_store_wal_checkpoint_seconds_count")?,
            self.grew("chunlei_store_wal_checkpoint_seconds_sum")?,
        ))
    }

    /// The decisions each commit of the run stored, on average.
    fn per_commit(&self) -> Option<f64> {
        let decisions = self.grew("chunlei_store_committed_decisions_total")?;
        let commits = self.grew("chunlei_store_commits_total{result=\"committed\"}")?;
        Some(decisions / commits.max(1.0))
    }
}

/// The value below which `percent` of `sorted_us` lie (nearest rank), in milliseconds.
fn percentile_ms(sorted_us: &[u32], percent: f64) -> f64 {
    f64::from(percentile_us(sorted_us, percent)) / 1_000.0
}

/// [`percentile_ms`] in microseconds; 0 when there is none.
fn percentile_us(sorted_us: &[u32], percent: f64) -> u32 {
    if sorted_us.is_empty() {
        return 0;
    }
    let rank = (sorted_us.len() as f64 * percent / 100.0).ceil() as usize;
    let at = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us.get(at).copied().unwrap_or(0)
}

/// Every answer's latency in µs: from when its application was due (open loop; the same as
/// `sent_us` in closed loop, where an application is due when it is sent) and from when it
/// was sent; and when it came, in µs from the clients' start. The same index is the same
/// answer in all three until they are sorted.
struct Latencies {
    due_us: Vec<u32>,
    sent_us: Vec<u32>,
    answered_at_us: Vec<u32>,
}

impl Latencies {
    fn with_capacity(capacity: usize) -> Latencies {
        Latencies {
            due_us: Vec::with_capacity(capacity),
            sent_us: Vec::with_capacity(capacity),
            answered_at_us: Vec::with_capacity(capacity),
        }
    }

    fn extend(&mut self, other: Latencies) {
        self.due_us.extend(other.due_us);
        self.sent_us.extend(other.sent_us);
        self.answered_at_us.extend(other.answered_at_us);
    }

    fn push(&mut self, started: Instant, due: Instant, sent: Instant, answered: Instant) {
        let us = |d: std::time::Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        self.due_us.push(us(answered.duration_since(due)));
        self.sent_us.push(us(answered.duration_since(sent)));
        self.answered_at_us
            .push(us(answered.saturating_duration_since(started)));
    }
}

/// The windows answers are grouped in to tell whether slow ones came together.
const TAIL_WINDOW_US: u32 = 50_000;

/// Of the [`TAIL_WINDOW_US`] windows of the run (by when answers came), how many held an
/// answer slower than `threshold_us`, and how many there were. Slow answers spread over most
/// windows mean each is slow; held in a few, the whole server stalled a few times.
fn tail_windows(answered_at_us: &[u32], latency_us: &[u32], threshold_us: u32) -> (usize, usize) {
    let window = |at: u32| (at / TAIL_WINDOW_US) as usize;
    let windows = answered_at_us
        .iter()
        .map(|&at| window(at) + 1)
        .max()
        .unwrap_or(0);
    let mut slow = vec![false; windows];
    for (&at, &latency) in answered_at_us.iter().zip(latency_us) {
        if latency > threshold_us
            && let Some(flag) = slow.get_mut(window(at))
        {
            *flag = true;
        }
    }
    (slow.iter().filter(|&&flag| flag).count(), windows)
}

/// Writes `answered_ms,latency_ms` to `file` (created at `path`), one line an answer, in the
/// order the clients reported them.
fn write_latency_log(
    path: &std::path::Path,
    file: std::fs::File,
    answered_at_us: &[u32],
    latency_us: &[u32],
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "answered_ms,latency_ms")?;
    for (&at, &latency) in answered_at_us.iter().zip(latency_us) {
        writeln!(
            out,
            "{:.3},{:.3}",
            f64::from(at) / 1_000.0,
            f64::from(latency) / 1_000.0
        )?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// When one open-loop client's applications are due: application `first + k * step` at
/// `start + (first + k * step) / rate` seconds, so that all clients together send `rate` a
/// second, evenly spaced.
struct Schedule {
    start: tokio::time::Instant,
    rate: u64,
    first: u64,
    step: u64,
}

impl Schedule {
    fn due(&self, n: u64) -> tokio::time::Instant {
        let ns = u128::from(n) * 1_000_000_000 / u128::from(self.rate);
        self.start + std::time::Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

struct Client {
    /// When the clients started: answers are timed from it.
    started: Instant,
    /// HTTP/1.1 over its own TCP connection, kept alive.
    http: Connection,
    authorization: String,
    run: u128,
    merchants: u64,
    requests: u64,
    /// Sends to [`UNROUTED_PATH`] and expects 404.
    floor: bool,
}

impl Client {
    /// Closed loop: sends applications, each when the last is answered, until all are taken;
    /// their latencies and the approvals.
    async fn apply(mut self, next: &AtomicU64) -> anyhow::Result<(Latencies, u64)> {
        let mut latencies = Latencies::with_capacity(0);
        let mut approved = 0;
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= self.requests {
                return Ok((latencies, approved));
            }
            let sent = Instant::now();
            approved += u64::from(self.send(n).await?);
            latencies.push(self.started, sent, sent, Instant::now());
        }
    }

    /// Open loop: sends this client's applications of `schedule`, each when it is due or, if
    /// the last answer came after that, as soon as the answer arrives; their latencies from
    /// when each was due, and the approvals.
    async fn apply_on(mut self, schedule: Schedule) -> anyhow::Result<(Latencies, u64)> {
        let mut latencies = Latencies::with_capacity(0);
        let mut approved = 0;
        let mut n = schedule.first;
        while n < self.requests {
            let due = schedule.due(n);
            tokio::time::sleep_until(due).await;
            let sent = Instant::now();
            approved += u64::from(self.send(n).await?);
            latencies.push(self.started, due.into_std(), sent, Instant::now());
            n += schedule.step;
        }
        Ok((latencies, approved))
    }

    /// Sends application `n` and waits for its answer; whether it was approved (never, for the
    /// floor).
    async fn send(&mut self, n: u64) -> anyhow::Result<bool> {
        let merchant = merchant_id(self.run, n % self.merchants);
        // Every tenth application asks for more than the merchant's sales support.
        let amount: u64 = if n.is_multiple_of(10) {
            900_000_000
        } else {
            5_000_000
        };
        let body = format!(
            r#"{{"id":"ba{}-{n}","merchant_id":"{merchant}","amount":{amount},"term_months":6}}"#,
            self.run
        );
        let path = if self.floor {
            UNROUTED_PATH
        } else {
            APPLICATIONS_PATH
        };
        let answer = self
            .http
            .post_json(path, &self.authorization, &body)
            .await?;
        if self.floor {
            if answer.status != 404 {
                bail!("the floor's request {n} answered {}", answer.status);
            }
            return Ok(false);
        }
        if !(200..300).contains(&answer.status) {
            let text = String::from_utf8_lossy(&answer.body);
            bail!("application {n} answered {}: {text}", answer.status);
        }
        let approved = br#""status":"approved""#;
        Ok(answer
            .body
            .windows(approved.len())
            .any(|part| part == approved))
    }
}

/// `--settle-rate` at most: four full batches every 10 ms.
const SETTLE_RATE_MAX: u64 = 400 * chunlei_ledger::BATCH_EVENTS_MAX as u64;
/// How often the settlement load sends its next batch.
const SETTLE_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// Settlement load on a thread of its own, beside the decision clients.
struct Background {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<anyhow::Result<(u64, std::time::Duration)>>,
}

impl Background {
    /// Sends `rate` paid orders a second for the bench's merchants, a batch every
    /// [`SETTLE_TICK`] (at once when the last batch took longer), until stopped.
    fn start(store: &Store, run: u128, merchants: u64, rate: u64) -> Background {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (store, flag) = (store.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut sent: u64 = 0;
            let mut tick: u64 = 0;
            while !flag.load(Ordering::Relaxed) {
                tick += 1;
                let due = rate * tick * SETTLE_TICK.as_millis() as u64 / 1_000;
                let now = now_ns();
                let amount = Fen::new(10_000).unwrap_or(Fen::ZERO);
                let commands: Vec<Command> = (sent..due)
                    .map(|n| {
                        let merchant = merchant_id(run, n % merchants);
                        paid_order(&merchant, &format!("load-{n}"), now, amount)
                    })
                    .collect();
                for batch in commands.chunks(chunlei_ledger::BATCH_EVENTS_MAX) {
                    settle(&store, batch.to_vec())?;
                }
                sent = due;
                let next = started + SETTLE_TICK * u32::try_from(tick).unwrap_or(u32::MAX);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            Ok((sent, started.elapsed()))
        });
        Background { stop, thread }
    }

    /// Stops the load; the events it sent and over how long.
    fn stop(self) -> anyhow::Result<(u64, std::time::Duration)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the settlement load panicked"))?
    }
}

fn merchant_id(run: u128, index: u64) -> String {
    format!("bl{run}-{index}")
}

/// The example configuration with cut-offs the benchmark's scorecard reaches, and that
/// scorecard.
fn lending() -> anyhow::Result<chunlei_http::Lending> {
    let example = include_bytes!("../../../../docs/lending.example.json");
    let (mut policy, consortium) =
        chunlei_http::lending_from_json(example).context("the example lending configuration")?;
    policy.grades = GradeGrid::new(-1_000, -1_001, -1_002, -1_003).context("grade cut-offs")?;
    let banks: Vec<BankPolicy> = consortium
        .banks()
        .iter()
        .map(|bank| BankPolicy {
            score_cutoff: -1_000,
            ..bank.clone()
        })
        .collect();
    let consortium = Consortium::new(banks).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(chunlei_http::Lending::new(policy, consortium, scorecard()?))
}

/// A scorecard trained on a small fixed table (no randomness): sales of the last 30 days
/// separate good from bad, with exceptions so that the regression has a finite fit.
fn scorecard() -> anyhow::Result<chunlei_scorecard::Scorecard> {
    let mut csv = String::from("sales_30d_fen,active_days_90d,bad\n");
    for i in 0..600_u64 {
        let step = i % 30;
        let bad = (step < 10 && i % 3 != 0) || (step >= 10 && i % 11 == 0);
        csv.push_str(&format!(
            "{},{},{}\n",
            (step + 1) * 1_000_000,
            5 + (i * 7) % 86,
            u8::from(bad)
        ));
    }
    let table = chunlei_scorecard::csv::Table::parse(csv.as_bytes())?;
    let mut options = chunlei_scorecard::TrainOptions::new("2026-11-26");
    options.model_version = Some("bench-loans-1".to_owned());
    Ok(chunlei_scorecard::train(&table, "bad", "1", &options)?)
}

/// Registers the merchants, half in Zhejiang and half in Guangdong, and books one paid order
/// a day for each over the last [`SALES_DAYS`] days.
fn prepare_merchants(store: &Store, run: u128, merchants: u64) -> anyhow::Result<()> {
    let mut batch = Vec::new();
    for index in 0..merchants {
        let id = merchant_id(run, index);
        let fields = MerchantFields {
            id: &id,
            name: "Bench merchant",
            kind: "factory",
            foreign_trade: "false",
            region_code: if index.is_multiple_of(2) {
                "330302"
            } else {
                "440305"
            },
            category: "apparel",
            joined_on: "2019-01-01",
            cluster_id: "",
            agriculture_base_id: "",
            risk_tier: "B",
            bank_code: "ICBC",
            account_number: "6222020200112233",
            holder_name: "Bench merchant",
        };
        batch.push(Merchant::parse(&fields).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    store.upsert_merchants(&batch)?;
    let now = now_ns();
    let mut commands = Vec::new();
    for index in 0..merchants {
        let merchant = merchant_id(run, index);
        // Oldest day first, as sales happen: each day then adds to its own running totals only,
        // none of a later day being there yet.
        for age in (1..=SALES_DAYS).rev() {
            let amount = Fen::new(1_000_000 + index % 7 * 100_000).unwrap_or(Fen::ZERO);
            commands.push(paid_order(
                &merchant,
                &age.to_string(),
                now - age * DAY_NS,
                amount,
            ));
            if commands.len() == chunlei_ledger::BATCH_EVENTS_MAX {
                settle(store, std::mem::take(&mut commands))?;
            }
        }
    }
    settle(store, commands)
}

/// An apparel order of `merchant`'s paid on Taobao at `occurred_at`: the order
/// `<merchant>-order-<key>`, its event `<merchant>-paid-<key>`.
fn paid_order(merchant: &str, key: &str, occurred_at: u64, amount: Fen) -> Command {
    Command::Order(EventIn {
        event_id: format!("{merchant}-paid-{key}"),
        order_id: format!("{merchant}-order-{key}"),
        merchant_id: merchant.to_owned(),
        occurred_at,
        event: OrderEvent::Paid {
            merchant_id: merchant.to_owned(),
            amount,
            category: "apparel".into(),
            channel: "taobao".into(),
        },
    })
}

/// Nanoseconds since the Unix epoch, by this machine's clock.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn settle(store: &Store, commands: Vec<Command>) -> anyhow::Result<()> {
    if commands.is_empty() {
        return Ok(());
    }
    let results = store.settle_blocking(commands)?;
    if let Some(refused) = results.iter().find_map(|r| r.as_ref().err()) {
        bail!("a sales event was refused: {refused:?}");
    }
    Ok(())
}

/// Starts the real server with `lending` on a random loopback port; answers its address.
async fn start_server(
    store: &Store,
    lending: Arc<chunlei_http::Lending>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = chunlei_http::listen("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = store.clone();
    tokio::spawn(async move {
        if let Err(error) =
            chunlei_http::serve_until(server, Some(lending), listener, std::future::pending()).await
        {
            tracing::error!(%error, "benchmark server failed");
        }
    });
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::{Run, SERVER_BOUNDS, TAIL_WINDOW_US, tail_windows};

    /// A metrics page with the decision histogram's cumulative `buckets` (at 1, 2.5, 5, 10
    /// and 25 ms; as many in all as in the last) and the commits' counts.
    fn page(buckets: [u64; 5], commits: u64, decisions: u64) -> String {
        let family = "chunlei_loan_decision_seconds";
        let mut page = format!("# TYPE {family} histogram\n");
        for (le, count) in ["0.001", "0.0025", "0.005", "0.01", "0.025"]
            .iter()
            .zip(buckets)
        {
            page.push_str(&format!("{family}_bucket{{le=\"{le}\"}} {count}\n"));
        }
        let count = buckets[4];
        page.push_str(&format!(
            "{family}_bucket{{le=\"+Inf\"}} {count}\n{family}_sum 0.05\n{family}_count {count}\n\
             chunlei_store_commits_total{{result=\"committed\"}} {commits}\n\
             chunlei_store_committed_decisions_total {decisions}\n"
        ));
        page
    }

    #[test]
    fn the_servers_histograms_are_shown_as_shares_within_each_bound_over_the_run() {
        // One decision and six commits before the run (the set-up's), counted again at its
        // end: over the run, 1, 2, 5, 7 and 8 of 8 decisions within the bounds.
        let at_start = &page([1, 1, 1, 1, 1], 6, 1);
        let at_end = &page([2, 3, 6, 8, 9], 10, 9);
        let run = Run { at_start, at_end };
        assert_eq!(
            run.shares("chunlei_loan_decision_seconds", &SERVER_BOUNDS)
                .as_deref(),
            Some("le_2.5=25.0% le_5=62.5% le_10=87.5% le_25=100.0% of 8")
        );
        assert_eq!(
            run.per_commit(),
            Some(2.0),
            "the six commits before the run are not its"
        );
        let without = at_end.replace("{le=\"0.01\"}", "{le=\"0.0099\"}");
        let run = Run {
            at_start,
            at_end: &without,
        };
        assert_eq!(
            run.shares("chunlei_loan_decision_seconds", &SERVER_BOUNDS),
            None,
            "a bound shown is missing"
        );
        let run = Run {
            at_start: "",
            at_end,
        };
        assert_eq!(
            run.shares("chunlei_loan_decision_seconds", &SERVER_BOUNDS),
            None
        );
    }

    #[test]
    fn the_checkpoints_of_the_run_are_those_counted_after_its_start() {
        let checkpoints = |count: u64, sum: &str| {
            format!(
                "chunlei_store_wal_checkpoint_seconds_sum {sum}\n\
                 chunlei_store_wal_checkpoint_seconds_count {count}\n"
            )
        };
        let at_start = checkpoints(3, "0.012");
        let at_end = checkpoints(4, "0.031");
        let run = Run {
            at_start: &at_start,
            at_end: &at_end,
        };
        let (count, seconds) = run.checkpoints().expect("counted");
        assert_eq!(count, 1.0);
        assert!((seconds - 0.019).abs() < 1e-9, "{seconds}");
        // A store without a WAL of its own writes no such series.
        let none = page([1, 1, 1, 1, 1], 6, 1);
        let run = Run {
            at_start: &none,
            at_end: &none,
        };
        assert_eq!(run.checkpoints(), None);
    }

    #[test]
    fn slow_answers_are_counted_by_the_window_they_came_in() {
        let w = TAIL_WINDOW_US;
        // Four windows; the slow answers (over 10 ms) came in the second and the fourth.
        let at = [10, w + 5, w + 9, 2 * w + 1, 3 * w + 7];
        let latency = [2_000, 30_000, 25_000, 9_000, 12_000];
        assert_eq!(tail_windows(&at, &latency, 10_000), (2, 4));
        // At the threshold is not over it.
        assert_eq!(tail_windows(&at, &latency, 30_000), (0, 4));
        assert_eq!(tail_windows(&[], &[], 10_000), (0, 0));
    }
}
