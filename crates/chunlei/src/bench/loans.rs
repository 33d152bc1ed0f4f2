//! `chunlei bench loans`: loan applications decided over HTTP, as merchants send them.
//!
//! Starts the real server in this process on a random port with the example lending
//! configuration (`docs/lending.example.json`, its grade cut-offs and bank cut-offs lowered
//! so that the tiny scorecard trained here lends) and that scorecard, registers merchants and
//! gives each 60 days of sales through the settlement path, then has `--clients` concurrent
//! clients post `--requests` applications, each a new application id. Every decision is
//! stored durably (group commit) before its answer, so the latency is a decision's whole cost.

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

#[derive(Debug, clap::Args)]
pub struct LoansArgs {
    #[arg(long, default_value = crate::DEFAULT_DB)]
    db: String,
    /// Concurrent clients, each waiting for its answer before sending its next application.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Applications to decide in all.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Merchants applying; registered and given sales before the run.
    #[arg(long, default_value_t = 1_000)]
    merchants: u64,
}

const CLIENTS_MAX: usize = 1_024;
/// Days of sales each merchant has, one order a day.
const SALES_DAYS: u64 = 60;
const DAY_NS: u64 = 86_400 * 1_000_000_000;

pub fn run(args: LoansArgs) -> anyhow::Result<ExitCode> {
    if args.requests == 0 || args.merchants == 0 {
        bail!("--requests and --merchants must be at least 1");
    }
    let clients = args.clients.clamp(1, CLIENTS_MAX);
    let store = crate::open_store(&args.db)?;
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let lending = Arc::new(lending()?);
    prepare_merchants(&store, run, args.merchants)?;
    // Outside the runtime: the PostgreSQL client is synchronous and may not block a runtime.
    let (key, record) = chunlei_http::auth::new_key(&chunlei_http::auth::Role::Integration);
    store.insert_api_key(&record)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicU64::new(0));
    let (mut latencies_us, approved, elapsed) = runtime.block_on(async {
        let url = start_server(&store, lending).await?;
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(clients);
        for _ in 0..clients {
            let client = Client {
                http: reqwest::Client::new(),
                url: url.clone(),
                key: key.clone(),
                run,
                merchants: args.merchants,
                requests: args.requests,
            };
            let next = next.clone();
            tasks.push(tokio::spawn(async move { client.apply(&next).await }));
        }
        let mut latencies = Vec::with_capacity(usize::try_from(args.requests).unwrap_or(0));
        let mut approved = 0;
        for task in tasks {
            let (mine, yes) = task.await.context("client task panicked")??;
            latencies.extend(mine);
            approved += yes;
        }
        anyhow::Ok((latencies, approved, started.elapsed()))
    })?;
    drop(runtime);
    latencies_us.sort_unstable();
    let decided = latencies_us.len() as u64;
    let per_s = decided as f64 / elapsed.as_secs_f64().max(1e-9);
    println!("db={}", store.url());
    println!(
        "merchants={} requests={decided} clients={clients} approved={approved} declined={}",
        args.merchants,
        decided - approved
    );
    println!("elapsed_s={:.3}", elapsed.as_secs_f64());
    println!("decisions_per_s={per_s:.0}");
    println!("p50_ms={:.2}", percentile_ms(&latencies_us, 50));
    println!("p99_ms={:.2}", percentile_ms(&latencies_us, 99));
    // Any refused application stops the run with an error, so reaching here is success.
    Ok(ExitCode::SUCCESS)
}

fn percentile_ms(sorted_us: &[u32], percent: usize) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let at = (sorted_us.len() * percent).div_ceil(100).saturating_sub(1);
    f64::from(sorted_us.get(at).copied().unwrap_or(0)) / 1_000.0
}

struct Client {
    http: reqwest::Client,
    url: String,
    key: String,
    run: u128,
    merchants: u64,
    requests: u64,
}

impl Client {
    /// Sends applications until all are taken; each one's latency in µs and the approvals.
    async fn apply(self, next: &AtomicU64) -> anyhow::Result<(Vec<u32>, u64)> {
        let mut latencies = Vec::new();
        let mut approved = 0;
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= self.requests {
                return Ok((latencies, approved));
            }
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
            let sent = Instant::now();
            let response = self
                .http
                .post(format!("{}/api/v1/loan-applications", self.url))
                .bearer_auth(&self.key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            let took = sent.elapsed();
            if !status.is_success() {
                bail!("application {n} answered {status}: {text}");
            }
            if text.contains(r#""status":"approved""#) {
                approved += 1;
            }
            latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        }
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
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut commands = Vec::new();
    for index in 0..merchants {
        let merchant = merchant_id(run, index);
        for age in 1..=SALES_DAYS {
            commands.push(Command::Order(EventIn {
                event_id: format!("{merchant}-paid-{age}"),
                order_id: format!("{merchant}-order-{age}"),
                merchant_id: merchant.clone(),
                occurred_at: now - age * DAY_NS,
                event: OrderEvent::Paid {
                    merchant_id: merchant.clone(),
                    amount: Fen::new(1_000_000 + index % 7 * 100_000).unwrap_or(Fen::ZERO),
                    category: "apparel".into(),
                    channel: "taobao".into(),
                },
            }));
            if commands.len() == chunlei_ledger::BATCH_EVENTS_MAX {
                settle(store, std::mem::take(&mut commands))?;
            }
        }
    }
    settle(store, commands)
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

/// Starts the real server with `lending` on a random loopback port; answers its URL.
async fn start_server(
    store: &Store,
    lending: Arc<chunlei_http::Lending>,
) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = store.clone();
    tokio::spawn(async move {
        if let Err(error) =
            chunlei_http::serve_until(server, Some(lending), listener, std::future::pending()).await
        {
            tracing::error!(%error, "benchmark server failed");
        }
    });
    Ok(format!("http://{address}"))
}
