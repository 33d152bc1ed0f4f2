//! The real binary, as an operator runs it: crash safety under SIGKILL, and two server
//! processes sharing one PostgreSQL database.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chunlei_store::testing::{TestDb, postgres_url};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_chunlei");

/// A `chunlei serve` child process and the address it listens on.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &str) -> Server {
        Server::start_with(db, &[])
    }

    fn start_with(db: &str, options: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .args(options)
            .env("CHUNLEI_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn chunlei serve");
        let stderr = child.stderr.take().expect("stderr piped");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read stderr");
            if let Some(address) = line.strip_prefix("listening on ") {
                break address.trim().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            base: format!("http://{address}"),
        }
    }

    /// Sends the server SIGHUP.
    fn hang_up(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("CHUNLEI_LOG", "warn")
        .output()
        .expect("run chunlei");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn operator_key(db: &str) -> String {
    let (ok, stdout) = run(&["keys", "create", "--role", "operator", "--db", db]);
    assert!(ok, "keys create failed: {stdout}");
    stdout.trim().to_owned()
}

async fn post(
    client: &reqwest::Client,
    server: &str,
    key: &str,
    path: &str,
    body: &Value,
) -> reqwest::Result<Value> {
    client
        .post(format!("{server}{path}"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

fn results(reply: &Value) -> Vec<String> {
    reply["results"]
        .as_array()
        .expect("results array")
        .iter()
        .map(|r| r["result"].as_str().expect("result code").to_owned())
        .collect()
}

fn accounts_json(ids: impl Iterator<Item = u64>, flags: &[&str]) -> Value {
    Value::Array(
        ids.map(|id| json!({"id": id.to_string(), "ledger": 1, "code": 1, "flags": flags}))
            .collect(),
    )
}

/// A deterministic stream of transfers over `ACCOUNTS` accounts without limits.
const ACCOUNTS: u64 = 50;
const BATCHES: usize = 60;
const BATCH_LEN: u64 = 100;

fn batch(index: usize) -> Vec<(u64, u64, u64, u64)> {
    (0..BATCH_LEN)
        .map(|i| {
            let id = 1_000_000 + index as u64 * BATCH_LEN + i;
            let debit = 1 + (id * 7) % ACCOUNTS;
            let credit = 1 + (debit + 1 + id % (ACCOUNTS - 1)) % ACCOUNTS;
            let credit = if credit == debit {
                1 + credit % ACCOUNTS
            } else {
                credit
            };
            (id, debit, credit, 1 + id % 997)
        })
        .collect()
}

fn transfers_json(transfers: &[(u64, u64, u64, u64)]) -> Value {
    Value::Array(
        transfers
            .iter()
            .map(|(id, debit, credit, amount)| {
                json!({"id": id.to_string(), "debit_account_id": debit.to_string(),
                       "credit_account_id": credit.to_string(), "amount": amount, "ledger": 1, "code": 1})
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_transfer_and_applies_none_twice() {
    for db in TestDb::all() {
        let url = db.url_string();
        let key = operator_key(&url);
        let client = reqwest::Client::new();
        let mut server = Server::start(&url);
        let created = post(
            &client,
            &server.base,
            &key,
            "/api/v1/accounts",
            &accounts_json(1..=ACCOUNTS, &[]),
        )
        .await;
        assert!(
            results(&created.expect("create accounts"))
                .iter()
                .all(|r| r == "ok")
        );

        // Four clients stream batches; the server is killed once a third of them are
        // acknowledged, with the rest in flight or not yet sent.
        let next = Arc::new(AtomicUsize::new(0));
        let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for _ in 0..4 {
            let (client, base, key, next, acked) = (
                client.clone(),
                server.base.clone(),
                key.clone(),
                next.clone(),
                acked.clone(),
            );
            clients.push(tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= BATCHES {
                        return;
                    }
                    match post(
                        &client,
                        &base,
                        &key,
                        "/api/v1/transfers",
                        &transfers_json(&batch(index)),
                    )
                    .await
                    {
                        Ok(reply) => {
                            assert!(
                                results(&reply).iter().all(|r| r == "ok"),
                                "batch {index}: {reply}"
                            );
                            acked.lock().expect("acked").push(index);
                        }
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        while acked.lock().expect("acked").len() < BATCHES / 3 {
            tokio::task::yield_now().await;
        }
        server.kill();
        for c in clients {
            c.await.expect("client task");
        }
        let acked: Vec<usize> = acked.lock().expect("acked").clone();
        let sent = next.load(Ordering::SeqCst).min(BATCHES);
        assert!(
            acked.len() < BATCHES,
            "the kill came after every batch was acknowledged"
        );

        // After restart, every acknowledged transfer is there; re-sending everything that was
        // sent answers `exists` for those and applies the rest once.
        let server = Server::start(&url);
        for index in 0..sent {
            let reply = post(
                &client,
                &server.base,
                &key,
                "/api/v1/transfers",
                &transfers_json(&batch(index)),
            )
            .await
            .expect("resend");
            let codes = results(&reply);
            if acked.contains(&index) {
                assert!(
                    codes.iter().all(|c| c == "exists"),
                    "acknowledged batch {index} came back as {codes:?}"
                );
            } else {
                assert!(
                    codes.iter().all(|c| c == "ok" || c == "exists"),
                    "batch {index}: {codes:?}"
                );
            }
        }
        // Balances equal exactly one application of every transfer sent.
        let mut expected: HashMap<u64, (u64, u64)> = HashMap::new();
        for (_, debit, credit, amount) in (0..sent).flat_map(batch) {
            expected.entry(debit).or_default().0 += amount;
            expected.entry(credit).or_default().1 += amount;
        }
        let ids: Vec<String> = (1..=ACCOUNTS).map(|id| id.to_string()).collect();
        let found = post(
            &client,
            &server.base,
            &key,
            "/api/v1/accounts/lookup",
            &json!({"ids": ids}),
        )
        .await
        .expect("lookup");
        for account in found["accounts"].as_array().expect("accounts") {
            let id: u64 = account["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("numeric id");
            let (debits, credits) = expected.get(&id).copied().unwrap_or_default();
            assert_eq!(
                account["debits_posted"].as_u64(),
                Some(debits),
                "account {id} debits"
            );
            assert_eq!(
                account["credits_posted"].as_u64(),
                Some(credits),
                "account {id} credits"
            );
        }
        // Verified while the server still runs: verify only reads, so it needs no lock.
        let (ok, report) = run(&["ledger", "verify", "--db", &url]);
        assert!(ok, "ledger verify after crash and resend: {report}");
        drop(server);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_never_overdraw_or_duplicate() {
    // TestDb::all() panics here when PostgreSQL is required and missing; without it the test
    // has nothing to prove on SQLite, which allows one writing process by design.
    let Some(admin) = postgres_url() else { return };
    let db = TestDb::postgres(&admin);
    let url = db.url_string();
    let key = operator_key(&url);
    let client = reqwest::Client::new();
    let servers = [Server::start(&url), Server::start(&url)];
    let (a, b) = (servers[0].base.clone(), servers[1].base.clone());

    // Account 1 funds account 2 (limited: it can never spend more than it received); accounts
    // 10.. receive. Account 2 holds 10,000 fen; clients ask for 40,000 in total.
    let mut accounts = accounts_json(std::iter::once(1).chain(10..20), &[]);
    accounts.as_array_mut().expect("array").extend(
        accounts_json(std::iter::once(2), &["debits_must_not_exceed_credits"])
            .as_array()
            .expect("array")
            .clone(),
    );
    assert!(
        results(
            &post(&client, &a, &key, "/api/v1/accounts", &accounts)
                .await
                .expect("accounts")
        )
        .iter()
        .all(|r| r == "ok")
    );
    let fund = transfers_json(&[(1, 1, 2, 10_000)]);
    assert_eq!(
        results(
            &post(&client, &b, &key, "/api/v1/transfers", &fund)
                .await
                .expect("fund")
        ),
        ["ok"]
    );

    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (client, key, a, b) = (client.clone(), key.clone(), a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            let mut applied = 0u64;
            for round in 0..25u64 {
                let transfers: Vec<_> = (0..4)
                    .map(|i| {
                        (
                            100_000 + worker * 1_000 + round * 4 + i,
                            2,
                            10 + (worker + i) % 10,
                            50,
                        )
                    })
                    .collect();
                let body = transfers_json(&transfers);
                // The same batch goes to both servers at once: each id must apply once.
                let (ra, rb) = tokio::join!(
                    post(&client, &a, &key, "/api/v1/transfers", &body),
                    post(&client, &b, &key, "/api/v1/transfers", &body)
                );
                let (ra, rb) = (
                    results(&ra.expect("server a")),
                    results(&rb.expect("server b")),
                );
                for (x, y) in ra.iter().zip(&rb) {
                    let oks = usize::from(x == "ok") + usize::from(y == "ok");
                    assert!(oks <= 1, "one transfer applied by both servers: {x} {y}");
                    for code in [x, y] {
                        let allowed = ["ok", "exists", "exceeds_credits", "id_already_failed"];
                        assert!(allowed.contains(&code.as_str()), "{code}");
                    }
                    applied += oks as u64;
                }
            }
            applied
        }));
    }
    let mut applied = 0;
    for t in tasks {
        applied += t.await.expect("worker");
    }
    assert_eq!(applied, 10_000 / 50, "exactly the funded amount was spent");
    let found = post(
        &client,
        &a,
        &key,
        "/api/v1/accounts/lookup",
        &json!({"ids": ["2"]}),
    )
    .await
    .expect("lookup");
    let limited = &found["accounts"][0];
    assert_eq!(limited["debits_posted"].as_u64(), Some(10_000));
    assert_eq!(limited["credits_posted"].as_u64(), Some(10_000));
    let (ok, report) = run(&["ledger", "verify", "--db", &url]);
    assert!(ok, "ledger verify: {report}");
}

#[test]
fn ledger_verify_finds_a_balance_tampered_with_in_the_database() {
    use chunlei_ledger::{Account, Fen, Transfer};
    use chunlei_store::{DbUrl, Store, StoreOptions};
    for db in TestDb::all() {
        let url = db.url_string();
        {
            let store = Store::open(&db.url, StoreOptions::default()).expect("open");
            let created = store
                .create_accounts_blocking(vec![Account::new(1, 1, 1), Account::new(2, 1, 1)])
                .expect("accounts");
            assert!(created.iter().all(|r| r.is_success()));
            let amount = Fen::new(500).expect("fen");
            let done = store
                .create_transfers_blocking(vec![Transfer::new(7, 1, 2, amount)])
                .expect("transfer");
            assert!(done[0].is_success());
        }
        let (ok, report) = run(&["ledger", "verify", "--db", &url]);
        assert!(ok, "clean ledger: {report}");

        // Someone adds one fen to account 2 behind the ledger's back.
        let tamper = "UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = $1";
        let id = 2u128.to_be_bytes().to_vec();
        match &db.url {
            DbUrl::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("sqlite");
                assert_eq!(
                    conn.execute(&tamper.replace("$1", "?1"), [id])
                        .expect("tamper"),
                    1
                );
            }
            DbUrl::Postgres(conninfo) => {
                let mut client =
                    postgres::Client::connect(conninfo, postgres::NoTls).expect("postgres");
                assert_eq!(client.execute(tamper, &[&id]).expect("tamper"), 1);
            }
        }
        let (ok, report) = run(&["ledger", "verify", "--db", &url]);
        assert!(!ok, "verify must fail on a tampered balance");
        assert!(
            report.contains("account 2: credits_posted is 501 but its transfers sum to 500"),
            "{report}"
        );
        assert!(
            report.contains("ledger 1: posted debits total 500 but posted credits total 501"),
            "{report}"
        );
    }
}

#[test]
fn keys_create_checks_what_a_role_needs_and_prints_only_the_key() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    for bad in [
        vec!["--role", "merchant"],
        vec!["--role", "bank"],
        vec!["--role", "operator", "--merchant", "m-1"],
        vec!["--role", "merchant", "--bank", "b-1"],
        vec!["--role", "auditor"],
    ] {
        let mut args = vec!["keys", "create", "--db", &url];
        args.extend(bad.iter().copied());
        let (ok, stdout) = run(&args);
        assert!(!ok, "{bad:?} must be refused");
        assert!(stdout.trim().is_empty(), "{bad:?} printed {stdout}");
    }
    let (ok, stdout) = run(&[
        "keys",
        "create",
        "--db",
        &url,
        "--role",
        "merchant",
        "--merchant",
        "m-1",
    ]);
    assert!(ok);
    let key = stdout.trim();
    assert!(
        key.starts_with("ck_") && !key.contains(char::is_whitespace),
        "{key}"
    );
    let (_, again) = run(&[
        "keys",
        "create",
        "--db",
        &url,
        "--role",
        "merchant",
        "--merchant",
        "m-1",
    ]);
    assert_ne!(key, again.trim(), "every key is new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_can_be_created_while_a_server_runs_on_the_sqlite_file() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let first = operator_key(&url);
    let server = Server::start(&url);
    // The server holds the SQLite writer's lock; the command writes the key beside it.
    let second = operator_key(&url);
    assert_ne!(first, second);
    let client = reqwest::Client::new();
    for key in [&first, &second] {
        let reply = post(
            &client,
            &server.base,
            key,
            "/api/v1/accounts",
            &accounts_json(1..=1, &[]),
        )
        .await;
        assert!(
            results(&reply.expect("the key works"))
                .iter()
                .all(|r| r == "ok" || r == "exists")
        );
    }
}

/// Registers merchant `m-1` and sends one order paid and shipped: advanced at once, so the
/// merchant has 9,800 fen available.
async fn merchant_with_an_advanced_order(client: &reqwest::Client, base: &str, key: &str) {
    let merchant = json!({
        "name": "德化陶瓷", "kind": "factory", "foreign_trade": true, "region_code": "350526",
        "category": "ceramics", "joined_on": "2019-01-01", "risk_tier": "A",
        "bank_code": "BOC", "account_number": "6013820000000000", "holder_name": "德化陶瓷"
    });
    let status = client
        .put(format!("{base}/api/v1/merchants/m-1"))
        .bearer_auth(key)
        .json(&merchant)
        .send()
        .await
        .expect("register")
        .status();
    assert!(status.is_success(), "{status}");
    let events = json!([
        {"id":"e1","type":"order.paid","order_id":"o1","merchant_id":"m-1",
         "occurred_at":"2020-04-01T08:00:00Z","amount":10000,"category":"ceramics","channel":"tmall"},
        {"id":"e2","type":"order.shipped","order_id":"o1","merchant_id":"m-1",
         "occurred_at":"2020-04-02T08:00:00Z"}
    ]);
    let reply = post(client, base, key, "/api/v1/events", &events)
        .await
        .expect("events");
    assert_eq!(reply["results"][1]["effect"], "advanced", "{reply}");
}

/// The daily payout schedule runs when the server starts after the day's time, and a restart
/// the same day pays nothing twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_runs_the_days_payouts_once() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let key = operator_key(&url);
    // 00:00 UTC has always passed: every start runs today's payouts.
    let schedule = ["--daily-payouts-at", "00:00"];
    let client = reqwest::Client::new();
    let pending = |base: String| {
        let client = client.clone();
        let key = key.clone();
        async move {
            let reply: Value = client
                .get(format!("{base}/api/v1/payouts?status=pending"))
                .bearer_auth(&key)
                .send()
                .await
                .expect("list payouts")
                .json()
                .await
                .expect("json");
            reply["payouts"]
                .as_array()
                .expect("payouts")
                .iter()
                .map(|p| {
                    (
                        p["id"].as_str().unwrap_or("").to_owned(),
                        p["amount"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let mut server = Server::start_with(&url, &schedule);
    merchant_with_an_advanced_order(&client, &server.base, &key).await;
    // The run at start found nothing to pay.
    assert!(pending(server.base.clone()).await.is_empty());
    server.kill();

    let today = {
        let days = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            / 86_400;
        chunlei_settlement::CivilDate::from_days(i32::try_from(days).expect("days")).expect("date")
    };
    let expected = vec![(format!("daily-{today}-m-1"), json!(9_800))];
    for _restart in 0..2 {
        let server = Server::start_with(&url, &schedule);
        let mut found = Vec::new();
        for _ in 0..100 {
            found = pending(server.base.clone()).await;
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(found, expected);
        drop(server);
    }
}

/// The example lending configuration.
const EXAMPLE_LENDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/lending.example.json"
);

/// Trains a scorecard with `chunlei model train` on a small fixed table (sales of the last 30
/// days separate good from bad, with exceptions so that the fit is finite) into
/// `dir/model.json`, with `version` if given.
fn train_model(dir: &std::path::Path, version: Option<&str>) -> std::path::PathBuf {
    let csv = dir.join("train.csv");
    let mut rows = String::from("sales_30d_fen,active_days_90d,bad\n");
    for i in 0..600_u64 {
        let step = i % 30;
        let bad = (step < 10 && i % 3 != 0) || (step >= 10 && i % 11 == 0);
        rows.push_str(&format!(
            "{},{},{}\n",
            (step + 1) * 1_000_000,
            5 + (i * 7) % 86,
            u8::from(bad)
        ));
    }
    std::fs::write(&csv, rows).expect("write the table");
    let model = dir.join("model.json");
    let (csv_text, model_text) = (csv.to_string_lossy(), model.to_string_lossy());
    let mut args = vec![
        "model",
        "train",
        "--csv",
        &csv_text,
        "--target",
        "bad",
        "--bad",
        "1",
        "--out",
        &model_text,
    ];
    if let Some(version) = version {
        args.extend(["--version", version]);
    }
    let (ok, report) = run(&args);
    assert!(ok, "model train failed: {report}");
    model
}

/// Applies for `m-1` under `id`: the model and policy versions the answer was decided with.
async fn decided_with(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
) -> (String, String) {
    let body = json!({"id": id, "merchant_id": "m-1", "amount": 5_000_000, "term_months": 6});
    let reply = post(client, base, key, "/api/v1/loan-applications", &body)
        .await
        .expect("a decision");
    let text = |name: &str| reply[name].as_str().unwrap_or_default().to_owned();
    (text("model_version"), text("policy_version"))
}

/// `serve` reads its lending configuration and scorecard again on SIGHUP: later applications
/// are decided with the new versions. Files that do not load leave the ones in force, and the
/// server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reloads_the_lending_configuration_on_sighup() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let model = train_model(dir.path(), Some("sc-one"));
    let config = dir.path().join("lending.json");
    let example = std::fs::read_to_string(EXAMPLE_LENDING).expect("the example");
    std::fs::write(&config, &example).expect("write the configuration");
    let db = TestDb::sqlite();
    let url = db.url_string();
    let key = operator_key(&url);
    let server = Server::start_with(
        &url,
        &[
            "--lending",
            &config.to_string_lossy(),
            "--scorecard",
            &model.to_string_lossy(),
        ],
    );
    let client = reqwest::Client::new();
    merchant_with_an_advanced_order(&client, &server.base, &key).await;
    let mut sent = 0;
    let mut next_id = || {
        sent += 1;
        format!("a-{sent}")
    };
    let base = server.base.clone();
    let first = decided_with(&client, &base, &key, &next_id()).await;
    assert_eq!(first.0, "sc-one");

    train_model(dir.path(), Some("sc-two"));
    let policy = json!(first.1).to_string();
    std::fs::write(&config, example.replace(&policy, r#""policy-reloaded""#)).expect("write");
    server.hang_up();
    let mut now = decided_with(&client, &base, &key, &next_id()).await;
    for _ in 0..50 {
        if now != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        now = decided_with(&client, &base, &key, &next_id()).await;
    }
    assert_eq!(now, ("sc-two".to_owned(), "policy-reloaded".to_owned()));
    // The banks' listing says which versions are in force.
    let banks: Value = client
        .get(format!("{}/api/v1/banks", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(banks["model_version"], "sc-two", "{banks}");
    assert_eq!(banks["policy_version"], "policy-reloaded", "{banks}");

    // A broken model: the server says why on its log and decides as before.
    std::fs::write(&model, "{").expect("write");
    server.hang_up();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(decided_with(&client, &base, &key, &next_id()).await, now);
}

/// `serve --lending FILE --scorecard FILE`: a model trained with `chunlei model train` and the
/// example configuration make the loan routes answer; a wrong configuration stops the server
/// at start with the field named; without the flags the routes answer 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_decides_loans_only_with_a_lending_configuration() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let model = train_model(dir.path(), None);
    let model = model.to_string_lossy();
    let example = EXAMPLE_LENDING;

    let bad_config = dir.path().join("bad.json");
    let text = std::fs::read_to_string(example).expect("the example");
    std::fs::write(&bad_config, text.replace("\"unit_fen\"", "\"unit\"")).expect("write");
    let db = TestDb::sqlite();
    let url = db.url_string();
    let output = Command::new(BIN)
        .args(["serve", "--db", &url, "--listen", "127.0.0.1:0"])
        .args([
            "--lending",
            &bad_config.to_string_lossy(),
            "--scorecard",
            &model,
        ])
        .output()
        .expect("run chunlei serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("policy.sizing.unit: is not a known field"),
        "{stderr}"
    );

    let key = operator_key(&url);
    let body = json!({"id": "a-1", "merchant_id": "m-1", "amount": 5_000_000, "term_months": 6});
    let client = reqwest::Client::new();
    let status = |server: &Server| {
        let request = client
            .post(format!("{}/api/v1/loan-applications", server.base))
            .bearer_auth(&key)
            .json(&body);
        async move { request.send().await.expect("an answer").status().as_u16() }
    };
    {
        let server = Server::start_with(&url, &["--lending", example, "--scorecard", &model]);
        // Configured: the merchant is simply not registered.
        assert_eq!(status(&server).await, 404);
    }
    let server = Server::start(&url);
    assert_eq!(status(&server).await, 503);
    // Nothing to reload: SIGHUP does not stop it.
    server.hang_up();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(status(&server).await, 503);
}

/// The daily loan collection runs when the server starts after the day's time: an instalment
/// that fell due is collected from the merchant's available balance, and a restart the same
/// day collects nothing twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_collects_what_is_due_on_loans_once() {
    use chunlei_lending::loans::{Disbursement, LoanCommand, LoanSpec, ProductSpec};
    use chunlei_lending::{AnnualRate, DayCount, Method, Terms};

    let db = TestDb::sqlite();
    let url = db.url_string();
    let key = operator_key(&url);
    let client = reqwest::Client::new();
    let server = Server::start(&url);
    merchant_with_an_advanced_order(&client, &server.base, &key).await;
    drop(server);

    // A one-month loan of ¥50 at 12 %, disbursed 40 days ago: its instalment is overdue.
    let today = {
        let days = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            / 86_400;
        i32::try_from(days).expect("days")
    };
    let disbursed_on = chunlei_settlement::CivilDate::from_days(today - 40).expect("date");
    let terms = Terms::monthly(
        chunlei_ledger::Fen::new(5_000).expect("fen"),
        AnnualRate::from_basis_points(1_200).expect("rate"),
        1,
        Method::EqualInstallments,
        DayCount::Thirty360,
        disbursed_on,
    );
    let command = LoanCommand::Disburse(Disbursement {
        loan_id: "loan-1".into(),
        application_id: "app-1".into(),
        merchant_id: "m-1".into(),
        bank_id: "icbc".into(),
        platform_part: chunlei_ledger::Fen::ZERO,
        spec: LoanSpec {
            product: ProductSpec::Amortising {
                terms,
                instalment_fee: chunlei_ledger::Fen::ZERO,
            },
            policy: chunlei_lending::servicing::Policy::default(),
        },
    });
    let store_url = chunlei_store::DbUrl::parse(&url).expect("url");
    let disbursed = tokio::task::spawn_blocking(move || {
        let store = chunlei_store::Store::open(&store_url, chunlei_store::StoreOptions::default())
            .expect("open");
        store.loans_blocking(vec![command]).expect("disburse")
    })
    .await
    .expect("task");
    assert!(disbursed[0].is_ok(), "{disbursed:?}");

    let schedule = ["--loan-collection-at", "00:00"];
    for _restart in 0..2 {
        let server = Server::start_with(&url, &schedule);
        let mut loan = Value::Null;
        for _ in 0..100 {
            let reply = client
                .get(format!("{}/api/v1/loans/loan-1", server.base))
                .bearer_auth(&key)
                .send()
                .await
                .expect("get loan");
            loan = reply.json().await.expect("json");
            if loan["status"] == "closed" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // 5,000 + 50 of interest (one month at 1 %), collected once.
        assert_eq!(loan["status"], "closed", "{loan}");
        let ops = loan["operations"].as_array().expect("operations");
        assert_eq!(ops.len(), 1, "{loan}");
        assert_eq!(ops[0]["kind"], "due_collection");
        assert_eq!(ops[0]["taken"], 5_050);
        drop(server);
    }
}

/// `bench loans` sends every application over HTTP and stores every decision before it counts
/// it, in both of its modes, and ends with the p99 line.
#[test]
fn bench_loans_stores_every_decision_it_times() {
    for mode in [&[][..], &["--rate", "400"][..]] {
        let db = TestDb::sqlite();
        let url = db.url_string();
        let chunlei_store::DbUrl::Sqlite(path) = &db.url else {
            panic!("a SQLite test database")
        };
        // Beside the database, removed with it.
        let log = path.with_file_name("latencies.csv");
        let log_arg = log.to_str().expect("a UTF-8 path").to_owned();
        let mut args = vec!["--merchants", "20", "--clients", "16", "--requests", "300"];
        args.extend_from_slice(mode);
        args.extend_from_slice(&["--latency-log", &log_arg]);
        let (ok, stdout) = bench_loans(&url, &args);
        assert!(ok, "{mode:?}: {stdout}");
        let field = |name: &str| {
            stdout
                .split_whitespace()
                .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("{mode:?}: no {name} in {stdout}"))
        };
        let count = |name: &str| field(name).parse::<u64>().expect("a count");
        assert_eq!(count("requests"), 300, "{stdout}");
        assert_eq!(count("approved") + count("declined"), 300, "{stdout}");
        assert!(count("approved") > 0, "{stdout}");
        // Each merchant's inputs are read at least once, then mostly kept: nothing changes
        // them during the run, so no decision is refused.
        assert_eq!(count("from_memory") + count("read"), 300, "{stdout}");
        assert!(count("read") >= 20 && count("from_memory") > 0, "{stdout}");
        assert_eq!(count("refused"), 0, "{stdout}");
        // Every read went through the decision reader, several at a time or one by one.
        assert!(
            (1..=count("read")).contains(&count("snapshots")),
            "{stdout}"
        );
        // What the run cost this process a decision, and what the host took meanwhile.
        let cpu_us: f64 = field("cpu_us_per_decision").parse().expect("a number");
        let steal: f64 = field("steal_percent").parse().expect("a number");
        assert!(cpu_us > 0.0 && (0.0..=100.0).contains(&steal), "{stdout}");
        // The server's own histograms: the decisions counted every decision timed, the
        // commits' over the run at least one; no share of either is over the whole.
        let line = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .unwrap_or_else(|| panic!("{mode:?}: no {name} in {stdout}"))
        };
        let shares = |line: &str| -> Vec<f64> {
            line.split_whitespace()
                .filter_map(|word| {
                    word.strip_prefix("le_")?
                        .split_once('=')?
                        .1
                        .strip_suffix('%')
                })
                .map(|share| share.parse().expect("a share"))
                .collect()
        };
        let rising = |shares: &[f64]| {
            shares.windows(2).all(|w| w[0] <= w[1]) && shares.iter().all(|&s| s <= 100.0)
        };
        let server = line("server_decision_ms");
        assert!(server.contains(" of 300 "), "{server}");
        assert_eq!(shares(server).len(), 4, "{server}");
        assert!(rising(&shares(server)), "{server}");
        let commits = line("server_commit_ms");
        assert_eq!(shares(commits).len(), 5, "{commits}");
        assert!(rising(&shares(commits)), "{commits}");
        assert!(!commits.contains(" of 0 "), "{commits}");
        let per_commit: f64 = field("decisions_per_commit").parse().expect("a number");
        assert!((1.0..=300.0).contains(&per_commit), "{commits}");
        // Some window held the slowest answers, and none is counted twice.
        let windows: Vec<u64> = stdout
            .split("tail_windows=")
            .nth(1)
            .and_then(|rest| rest.split(" (").next())
            .map(|counts| {
                counts
                    .split(" of ")
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            windows.len() == 2 && (1..=windows[1]).contains(&windows[0]),
            "{stdout}"
        );
        // One line an answer, after the header.
        let logged = std::fs::read_to_string(&log).expect("the latency log");
        assert_eq!(logged.lines().next(), Some("answered_ms,latency_ms"));
        assert_eq!(logged.lines().count(), 301, "{mode:?}");
        let last = stdout.lines().last().unwrap_or_default();
        let p99: f64 = last
            .strip_prefix("p99_ms=")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{mode:?}: last line {last:?}"));
        assert!(p99 > 0.0, "{stdout}");
        let stored: i64 = rusqlite::Connection::open(path)
            .expect("open the benchmark's database")
            .query_row("SELECT count(*) FROM loan_decisions", [], |r| r.get(0))
            .expect("count decisions");
        assert_eq!(stored, 300, "{mode:?}: every decision timed is stored");
    }
}

/// Runs `chunlei bench loans --db url` with `options`: whether it succeeded, and its output.
fn bench_loans(url: &str, options: &[&str]) -> (bool, String) {
    let mut args = vec!["bench", "loans", "--db", url];
    args.extend_from_slice(options);
    run(&args)
}

/// A latency log that cannot be written stops `bench loans` before it opens the database or
/// sends anything, and says which path.
#[test]
fn bench_loans_refuses_a_latency_log_it_cannot_write_before_it_starts() {
    let db = TestDb::sqlite();
    let chunlei_store::DbUrl::Sqlite(path) = &db.url else {
        panic!("a SQLite test database")
    };
    let log = path.with_file_name("no-such-folder").join("latencies.csv");
    let log_arg = log.to_str().expect("a UTF-8 path");
    let output = Command::new(BIN)
        .args([
            "bench",
            "loans",
            "--db",
            &db.url_string(),
            "--requests",
            "10",
        ])
        .args(["--latency-log", log_arg])
        .env("CHUNLEI_LOG", "warn")
        .output()
        .expect("run chunlei");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot create {log_arg}")),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing was timed");
    assert!(!path.exists(), "the database was not opened");
}

/// `bench loans --floor` sends the same requests where no route answers: every one is
/// answered (404) and timed, and nothing is decided or stored. It cannot be combined with
/// settlement load.
#[test]
fn bench_loans_floor_times_requests_that_decide_nothing() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let (ok, stdout) = bench_loans(&url, &["--clients", "8", "--requests", "300", "--floor"]);
    assert!(ok, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("floor requests=300 clients=8 ")),
        "{stdout}"
    );
    let per_s: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("requests_per_s="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no requests_per_s in {stdout}"));
    assert!(per_s > 0.0, "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("p99_ms="), "{stdout}");
    let chunlei_store::DbUrl::Sqlite(path) = &db.url else {
        panic!("a SQLite test database")
    };
    let conn = rusqlite::Connection::open(path).expect("open the benchmark's database");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT count(*) FROM loan_decisions"), 0);
    assert_eq!(count("SELECT count(*) FROM settlement_orders"), 0);

    let (ok, stdout) = bench_loans(&url, &["--floor", "--settle-rate", "5"]);
    assert!(!ok, "the floor beside settlement load is refused: {stdout}");
}

/// `bench machine` measures every thread it starts over the whole run and ends with the share
/// of slow windows; a length out of range is refused before anything runs.
#[test]
fn bench_machine_reports_each_thread_and_the_slow_windows() {
    let (ok, stdout) = run(&["bench", "machine", "--seconds", "1", "--threads", "2"]);
    assert!(ok, "{stdout}");
    let threads: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("thread="))
        .collect();
    assert_eq!(threads.len(), 2, "{stdout}");
    for line in threads {
        // 1 s in 5 ms windows, less the first and the last.
        assert!(line.contains(" windows=198 "), "{line}");
    }
    let available: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("available_percent="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no available_percent in {stdout}"));
    assert!(available > 0.0 && available <= 100.0, "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let slow: f64 = last
        .strip_prefix("slow_windows_percent=")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("last line {last:?}"));
    assert!((0.0..=100.0).contains(&slow), "{stdout}");

    let (ok, stdout) = run(&["bench", "machine", "--seconds", "0"]);
    assert!(!ok, "a zero-second run is refused: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// `bench loans --settle-rate` settles orders beside the decisions, through the same writer,
/// and says how many; every decision is still stored. A rate of zero is refused.
#[test]
fn bench_loans_with_settlement_load_stores_both() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let (ok, stdout) = bench_loans(
        &url,
        &[
            "--merchants",
            "10",
            "--clients",
            "8",
            "--requests",
            "200",
            "--rate",
            "400",
            "--settle-rate",
            "1000",
        ],
    );
    assert!(ok, "{stdout}");
    let settled: u64 = stdout
        .split_whitespace()
        .find_map(|word| word.strip_prefix("settle_events="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no settle_events in {stdout}"));
    // Half a second of decisions at 400/s: about 500 events at 1,000/s.
    assert!(settled >= 100, "{stdout}");
    let chunlei_store::DbUrl::Sqlite(path) = &db.url else {
        panic!("a SQLite test database")
    };
    let conn = rusqlite::Connection::open(path).expect("open the benchmark's database");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT count(*) FROM loan_decisions"), 200);
    let loaded =
        count("SELECT count(*) FROM settlement_orders WHERE order_id LIKE '%-order-load-%'");
    assert_eq!(u64::try_from(loaded).ok(), Some(settled), "{stdout}");

    let (ok, stdout) = bench_loans(&url, &["--settle-rate", "0"]);
    assert!(!ok, "a zero rate is refused: {stdout}");
}
