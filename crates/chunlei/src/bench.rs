//! `chunlei bench`: benchmarks that print their figures, last line `name=value`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chunlei_ledger::{Account, BATCH_EVENTS_MAX, Fen, Transfer};
use chunlei_store::Store;
use rand::Rng;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Ledger throughput through the same writer path the server uses.
    Ledger(LedgerArgs),
    /// Order events settled end to end (fees, advances, refunds), in-process or over HTTP.
    Settle(settle::SettleArgs),
    /// Loan applications decided over HTTP by concurrent clients: latency and throughput.
    Loans(loans::LoansArgs),
    /// How steadily the machine gives this process its cores, to tell whether two benchmark
    /// runs are comparable.
    Machine(machine::MachineArgs),
}

mod cpu;
mod http1;
mod loans;
mod machine;
mod settle;

#[derive(Debug, clap::Args)]
pub struct LedgerArgs {
    #[arg(long, default_value = crate::DEFAULT_DB)]
    db: String,
    /// Accounts to create and spread transfers over.
    #[arg(long, default_value_t = 10_000)]
    accounts: u64,
    /// Transfers to push.
    #[arg(long, default_value_t = 1_000_000)]
    transfers: u64,
    /// Transfers per request (1..=8189).
    #[arg(long, default_value_t = 8_189)]
    batch: usize,
    /// Every transfer credits one hot account (a platform fee account).
    #[arg(long)]
    hot_account: bool,
    /// Concurrent clients; by default enough that about 131,072 transfers are in flight (four commit groups, so the writer always has the next ones ready).
    #[arg(long)]
    clients: Option<usize>,
}

pub fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Ledger(args) => ledger(args),
        BenchCommand::Settle(args) => settle::run(args),
        BenchCommand::Loans(args) => loans::run(args),
        BenchCommand::Machine(args) => machine::run(args),
    }
}

/// Transfers in flight across all clients when `--clients` is not given.
const IN_FLIGHT_TARGET: usize = 131_072;
const CLIENTS_MAX: usize = 1_024;

fn ledger(args: LedgerArgs) -> anyhow::Result<ExitCode> {
    if args.batch == 0 || args.batch > BATCH_EVENTS_MAX {
        bail!("--batch must be between 1 and {BATCH_EVENTS_MAX}");
    }
    if args.accounts < 2 {
        bail!("--accounts must be at least 2");
    }
    let clients = args
        .clients
        .unwrap_or((IN_FLIGHT_TARGET / args.batch).clamp(4, CLIENTS_MAX))
        .clamp(1, CLIENTS_MAX);
    let store = crate::open_store(&args.db)?;
    // Account ids start at a per-run base so the benchmark can run again on the same database.
    let base = id_base();
    create_accounts(&store, base, args.accounts)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::with_capacity(clients);
        for _ in 0..clients {
            let (store, next, rejected) = (store.clone(), next.clone(), rejected.clone());
            let plan = Plan {
                base,
                accounts: args.accounts,
                total: args.transfers,
                batch: args.batch as u64,
                hot: args.hot_account,
            };
            tasks.push(tokio::spawn(async move {
                client(store, plan, next, rejected).await
            }));
        }
        for task in tasks {
            task.await.context("client task panicked")??;
        }
        anyhow::Ok(())
    })?;
    let elapsed = started.elapsed();
    let rejected = rejected.load(Ordering::Relaxed);
    let per_s = args.transfers as f64 / elapsed.as_secs_f64().max(1e-9);
    println!("db={}", store.url());
    println!(
        "accounts={} transfers={} batch={} clients={} hot_account={}",
        args.accounts, args.transfers, args.batch, clients, args.hot_account
    );
    println!("elapsed_s={:.3}", elapsed.as_secs_f64());
    println!("rejected={rejected}");
    println!("transfers_per_s={per_s:.0}");
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Clone, Copy)]
struct Plan {
    base: u128,
    accounts: u64,
    total: u64,
    batch: u64,
    hot: bool,
}

async fn client(
    store: Store,
    plan: Plan,
    next: Arc<AtomicU64>,
    rejected: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    loop {
        let start = next.fetch_add(plan.batch, Ordering::Relaxed);
        if start >= plan.total {
            return Ok(());
        }
        let end = (start + plan.batch).min(plan.total);
        let batch = make_batch(&plan, start, end);
        let results = loop {
            match store.create_transfers(batch.clone()).await {
                Err(chunlei_store::StoreError::Overloaded) => {
                    tokio::time::sleep(Duration::from_millis(1)).await
                }
                other => break other?,
            }
        };
        let failed = results.iter().filter(|r| !r.is_success()).count() as u64;
        rejected.fetch_add(failed, Ordering::Relaxed);
    }
}

/// Transfers `start..end` of the run: time-ordered ids (the run's base in the high bits, the
/// sequence in the low bits), random accounts, or every transfer crediting the hot account.
fn make_batch(plan: &Plan, start: u64, end: u64) -> Vec<Transfer> {
    let mut rng = rand::rng();
    (start..end)
        .map(|seq| {
            let (debit, credit) = if plan.hot {
                (rng.random_range(1..plan.accounts), 0)
            } else {
                let debit = rng.random_range(0..plan.accounts);
                let credit = rng.random_range(0..plan.accounts - 1);
                (debit, if credit >= debit { credit + 1 } else { credit })
            };
            let amount = Fen::new(rng.random_range(1..=10_000)).unwrap_or(Fen::ZERO);
            let id = plan.base | u128::from(seq + 1);
            Transfer::new(
                id,
                plan.base | account_tag(debit),
                plan.base | account_tag(credit),
                amount,
            )
        })
        .collect()
}

/// Account ids of a run have the top bit of the low half set, so they never equal a transfer id.
fn account_tag(index: u64) -> u128 {
    (1 << 63) | u128::from(index)
}

fn create_accounts(store: &Store, base: u128, count: u64) -> anyhow::Result<()> {
    let ids: Vec<u128> = (0..count).map(|i| base | account_tag(i)).collect();
    for chunk in ids.chunks(BATCH_EVENTS_MAX) {
        let accounts = chunk.iter().map(|id| Account::new(*id, 1, 1)).collect();
        let results = store.create_accounts_blocking(accounts)?;
        if let Some(bad) = results.iter().find(|r| !r.is_success()) {
            bail!("account creation failed: {}", bad.as_str());
        }
    }
    Ok(())
}

/// The high 64 bits of every id in a run: milliseconds since the epoch, so ids of later runs
/// sort after earlier ones and inserts into the id index append.
fn id_base() -> u128 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    (ms & u128::from(u64::MAX)) << 64
}
