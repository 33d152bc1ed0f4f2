//! `chunlei bench settle`: a realistic order stream through the settlement path.
//!
//! Each client owns a slice of the orders and walks it in chunks; every request carries the
//! `paid` events of one chunk, the `shipped` events of the chunk before and the
//! confirmations (or refunds) of the chunk before that, so every batch mixes the event kinds
//! as a live marketplace's would. About 3 % of orders are refunded after shipping (half of
//! them in part, then confirmed), and one merchant in ten is in a risk tier the programme
//! does not admit, so its orders are settled on confirmation instead.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chunlei_ledger::Fen;
use chunlei_settlement::book::{Command, EventIn};
use chunlei_settlement::{Merchant, MerchantFields, OrderEvent, Shipping};
use chunlei_store::Store;

#[derive(Debug, clap::Args)]
pub struct SettleArgs {
    #[arg(long, default_value = crate::DEFAULT_DB)]
    db: String,
    /// Merchants selling; registered before the run.
    #[arg(long, default_value_t = 10_000)]
    merchants: u64,
    /// Orders to take through their life cycle (about three events each).
    #[arg(long, default_value_t = 300_000)]
    orders: u64,
    /// Orders per chunk; a request carries up to three chunks' events.
    #[arg(long, default_value_t = 2_700)]
    chunk: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Send the events to a real HTTP server (started in this process on a random port)
    /// instead of calling the store.
    #[arg(long)]
    http: bool,
}

const CLIENTS_MAX: usize = 1_024;

pub fn run(args: SettleArgs) -> anyhow::Result<ExitCode> {
    if args.merchants == 0 || args.orders == 0 {
        bail!("--merchants and --orders must be at least 1");
    }
    let chunk_max = chunlei_ledger::BATCH_EVENTS_MAX as u64 / 3;
    if args.chunk == 0 || args.chunk > chunk_max {
        bail!("--chunk must be between 1 and {chunk_max} (three chunks' events per request)");
    }
    let clients = args.clients.clamp(1, CLIENTS_MAX);
    let store = crate::open_store(&args.db)?;
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let plan = Plan {
        run,
        merchants: args.merchants,
        orders: args.orders,
        chunk: args.chunk,
        start_ns: now_ns(),
    };
    register_merchants(&store, &plan)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Created before the runtime starts: the PostgreSQL client is synchronous and may not run
    // on an async thread.
    let (key, record) = chunlei_http::auth::new_key(&chunlei_http::auth::Role::Integration);
    if args.http {
        store.insert_api_key(&record)?;
    }
    let next = Arc::new(AtomicU64::new(0));
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    runtime.block_on(async {
        let target = if args.http {
            Some(start_server(&store, key.clone()).await?)
        } else {
            None
        };
        let mut tasks = Vec::with_capacity(clients);
        for _ in 0..clients {
            let sender = match &target {
                Some((url, key)) => Sender::Http {
                    client: reqwest::Client::new(),
                    url: url.clone(),
                    key: key.clone(),
                },
                None => Sender::Store(store.clone()),
            };
            let (next, counts) = (next.clone(), counts.clone());
            tasks.push(tokio::spawn(async move {
                client(sender, plan, next, counts).await
            }));
        }
        for task in tasks {
            task.await.context("client task panicked")??;
        }
        anyhow::Ok(())
    })?;
    let elapsed = started.elapsed();
    let events = counts.events.load(Ordering::Relaxed);
    let rejected = counts.rejected.load(Ordering::Relaxed);
    let per_s = events as f64 / elapsed.as_secs_f64().max(1e-9);
    let meta = store.settlement_meta()?;
    println!("db={}", store.url());
    println!(
        "merchants={} orders={} events={events} chunk={} clients={clients} http={}",
        args.merchants, args.orders, args.chunk, args.http
    );
    println!(
        "advanced_orders={} advanced_total_fen={} outstanding_fen={} clawed_back_fen={}",
        meta.totals.advanced_count,
        meta.totals.advanced_gross.get(),
        meta.totals.outstanding().get(),
        meta.totals.clawed_back.get()
    );
    println!("elapsed_s={:.3}", elapsed.as_secs_f64());
    println!("rejected={rejected}");
    println!("events_per_s={per_s:.0}");
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Debug, Default)]
struct Counts {
    events: AtomicU64,
    rejected: AtomicU64,
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    run: u128,
    merchants: u64,
    orders: u64,
    chunk: u64,
    /// Event times start here and advance a microsecond per order.
    start_ns: u64,
}

enum Sender {
    Store(Store),
    Http {
        client: reqwest::Client,
        url: String,
        key: String,
    },
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn merchant_id(plan: &Plan, index: u64) -> String {
    format!("bm{}-{index}", plan.run)
}

/// Registers the run's merchants: one in ten in tier D, which the standard programme does
/// not admit.
fn register_merchants(store: &Store, plan: &Plan) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(10_000);
    for index in 0..plan.merchants {
        let id = merchant_id(plan, index);
        let tier = ["A", "B", "C", "B", "A", "C", "B", "A", "C", "D"][(index % 10) as usize];
        let name = format!("Bench merchant {index}");
        let fields = MerchantFields {
            id: &id,
            name: &name,
            kind: "factory",
            foreign_trade: "true",
            region_code: "330782",
            category: "apparel",
            joined_on: "2019-01-01",
            cluster_id: "",
            agriculture_base_id: "",
            risk_tier: tier,
            bank_code: "ICBC",
            account_number: "6222020200112233",
            holder_name: &name,
        };
        batch.push(Merchant::parse(&fields).map_err(|e| anyhow::anyhow!("{e}"))?);
        if batch.len() == 10_000 {
            store.upsert_merchants(&batch)?;
            batch.clear();
        }
    }
    store.upsert_merchants(&batch)?;
    Ok(())
}

/// The events of one order at one stage: 0 paid, 1 shipped, 2 confirmed or refunded.
fn order_events(plan: &Plan, order: u64, stage: u8, out: &mut Vec<EventIn>) {
    let order_id = format!("bo{}-{order}", plan.run);
    let merchant = merchant_id(plan, order % plan.merchants);
    let at = plan.start_ns + order * 1_000 + u64::from(stage) * 1_000_000_000;
    let amount = Fen::new(1_000 + (order * 7_919) % 99_000).unwrap_or(Fen::ZERO);
    let event = |suffix: &str, event: OrderEvent, offset: u64| EventIn {
        event_id: format!("be{}-{order}-{suffix}", plan.run),
        order_id: order_id.clone(),
        merchant_id: merchant.clone(),
        occurred_at: at + offset,
        event,
    };
    match stage {
        0 => out.push(event(
            "p",
            OrderEvent::Paid {
                merchant_id: merchant.clone(),
                amount,
                category: "apparel".into(),
                channel: "taobao".into(),
            },
            0,
        )),
        1 => {
            let shipping = if order.is_multiple_of(5) {
                Shipping::Surface
            } else {
                Shipping::Express
            };
            out.push(event("s", OrderEvent::Shipped { shipping }, 0));
        }
        _ => match order % 67 {
            // Refunded in full after shipping.
            0 => out.push(event("r", OrderEvent::Refunded { amount }, 0)),
            // Refunded in part, then confirmed.
            1 => {
                let part = Fen::new(amount.get() / 3).unwrap_or(Fen::ZERO);
                out.push(event("r", OrderEvent::Refunded { amount: part }, 0));
                out.push(event("c", OrderEvent::Confirmed, 1));
            }
            _ => out.push(event("c", OrderEvent::Confirmed, 0)),
        },
    }
}

async fn client(
    sender: Sender,
    plan: Plan,
    next: Arc<AtomicU64>,
    counts: Arc<Counts>,
) -> anyhow::Result<()> {
    // Chunks this client took: with chunk k's payments go k-1's shipping and k-2's
    // confirmations; at the end the last two chunks are drained.
    let mut mine: Vec<u64> = Vec::new();
    loop {
        let start = next.fetch_add(plan.chunk, Ordering::Relaxed);
        if start >= plan.orders {
            let n = mine.len();
            let mut tail = Vec::new();
            if n >= 2 {
                tail.push((mine[n - 2], 2));
            }
            if n >= 1 {
                tail.push((mine[n - 1], 1));
            }
            send(&sender, &plan, &tail, &counts).await?;
            if n >= 1 {
                send(&sender, &plan, &[(mine[n - 1], 2)], &counts).await?;
            }
            return Ok(());
        }
        mine.push(start);
        let n = mine.len();
        let stages: Vec<(u64, u8)> = [(0usize, 0u8), (1, 1), (2, 2)]
            .into_iter()
            .filter(|(back, _)| n > *back)
            .map(|(back, stage)| (mine[n - 1 - back], stage))
            .collect();
        send(&sender, &plan, &stages, &counts).await?;
    }
}

async fn send(
    sender: &Sender,
    plan: &Plan,
    stages: &[(u64, u8)],
    counts: &Counts,
) -> anyhow::Result<()> {
    let mut events = Vec::new();
    for (start, stage) in stages {
        let end = (start + plan.chunk).min(plan.orders);
        for order in *start..end {
            order_events(plan, order, *stage, &mut events);
        }
    }
    if events.is_empty() {
        return Ok(());
    }
    let sent = events.len() as u64;
    let rejected = match sender {
        Sender::Store(store) => {
            let commands: Vec<Command> = events.into_iter().map(Command::Order).collect();
            let results = loop {
                match store.settle(commands.clone()).await {
                    Err(chunlei_store::StoreError::Overloaded) => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    other => break other?,
                }
            };
            results.iter().filter(|r| r.is_err()).count() as u64
        }
        Sender::Http { client, url, key } => {
            let response = client
                .post(format!("{url}/api/v1/events"))
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(events_json(&events))
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                bail!("POST /api/v1/events answered {status}: {text}");
            }
            // Every result that is not "ok" is a rejection.
            let results = text.matches("\"result\":\"").count();
            let ok = text.matches("\"result\":\"ok\"").count();
            (results - ok) as u64
        }
    };
    counts.events.fetch_add(sent, Ordering::Relaxed);
    counts.rejected.fetch_add(rejected, Ordering::Relaxed);
    Ok(())
}

/// The wire form of a batch of events (see `POST /api/v1/events`).
fn events_json(events: &[EventIn]) -> String {
    let mut body = String::with_capacity(events.len() * 200);
    body.push('[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"id":"{}","order_id":"{}","merchant_id":"{}","occurred_at":"{}","#,
            e.event_id,
            e.order_id,
            e.merchant_id,
            chunlei_http::format_time(e.occurred_at)
        );
        let _ = match &e.event {
            OrderEvent::Paid {
                amount,
                category,
                channel,
                ..
            } => write!(
                body,
                r#""type":"order.paid","amount":{},"category":"{category}","channel":"{channel}"}}"#,
                amount.get()
            ),
            OrderEvent::Shipped { shipping } => write!(
                body,
                r#""type":"order.shipped","shipping":"{}"}}"#,
                shipping.as_str()
            ),
            OrderEvent::Confirmed => write!(body, r#""type":"order.confirmed"}}"#),
            OrderEvent::Refunded { amount } => write!(
                body,
                r#""type":"order.refunded","amount":{}}}"#,
                amount.get()
            ),
            OrderEvent::Cancelled => write!(body, r#""type":"order.cancelled"}}"#),
        };
    }
    body.push(']');
    body
}

/// Starts the real server on a random loopback port; `key` is an integration key it knows.
async fn start_server(store: &Store, key: String) -> anyhow::Result<(String, String)> {
    let listener = chunlei_http::listen("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = store.clone();
    tokio::spawn(async move {
        if let Err(error) =
            chunlei_http::serve_until(server, None, listener, std::future::pending()).await
        {
            tracing::error!(%error, "benchmark server failed");
        }
    });
    Ok((format!("http://{address}"), key))
}
