//! Fresh databases for tests, on every backend this machine offers.
//!
//! SQLite always; PostgreSQL when `CHUNLEI_TEST_POSTGRES_URL` names a server (a URL whose
//! user may create databases). With `CHUNLEI_REQUIRE_POSTGRES=1` (as CI sets it) a missing
//! URL is an error rather than a silent skip.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chunlei_settlement::{Merchant, MerchantFields};

use crate::{DbUrl, LoanDecisionRecord};

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    pub url: DbUrl,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Files(PathBuf),
    Database { admin_url: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "chunlei_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000
    )
}

impl TestDb {
    /// A new SQLite file in the system's temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name());
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create test directory {}: {e}", dir.display());
        }
        TestDb {
            url: DbUrl::Sqlite(dir.join("ledger.db")),
            cleanup: Cleanup::Files(dir),
        }
    }

    /// A connection of its own to this SQLite database, for a test to change the database
    /// behind a store's back; it waits up to 5 s for the store's writer. Panics on PostgreSQL.
    pub fn sqlite_intruder(&self) -> rusqlite::Connection {
        let DbUrl::Sqlite(path) = &self.url else {
            panic!("{} is not a SQLite database", self.url_string())
        };
        let conn = match rusqlite::Connection::open(path) {
            Ok(conn) => conn,
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        };
        if let Err(e) = conn.busy_timeout(std::time::Duration::from_secs(5)) {
            panic!("cannot set a busy timeout: {e}");
        }
        conn
    }

    /// A new, empty PostgreSQL database on the server `admin_url` points at.
    pub fn postgres(admin_url: &str) -> TestDb {
        let name = unique_name();
        if let Err(e) = admin_execute(admin_url, &format!("CREATE DATABASE {name}")) {
            panic!(
                "cannot create test database {name} on {}: {e}",
                DbUrl::redact(admin_url)
            );
        }
        TestDb {
            url: DbUrl::Postgres(with_database(admin_url, &name)),
            cleanup: Cleanup::Database {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// One fresh database per available backend.
    pub fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        if let Some(url) = postgres_url() {
            dbs.push(TestDb::postgres(&url));
        }
        dbs
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DbUrl::Postgres(_))
    }

    /// The URL as a `--db` argument.
    pub fn url_string(&self) -> String {
        match &self.url {
            DbUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DbUrl::Postgres(url) => url.clone(),
        }
    }
}

/// The PostgreSQL server for tests, if any; panics when one is required but not given.
pub fn postgres_url() -> Option<String> {
    match std::env::var("CHUNLEI_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CHUNLEI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!(
                "CHUNLEI_REQUIRE_POSTGRES=1 but CHUNLEI_TEST_POSTGRES_URL is not set: PostgreSQL tests would be skipped"
            )
        }
        _ => None,
    }
}

/// Runs one statement on the server as the admin URL's user. It runs on a thread of its own:
/// the synchronous PostgreSQL client must not be used from inside an async runtime, and tests
/// often create and drop databases there.
fn admin_execute(admin_url: &str, sql: &str) -> Result<(), String> {
    let (admin_url, sql) = (admin_url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut admin =
            postgres::Client::connect(&admin_url, postgres::NoTls).map_err(|e| e.to_string())?;
        admin.batch_execute(&sql).map_err(|e| e.to_string())
    })
    .join()
    .unwrap_or_else(|_| Err("the admin connection panicked".into()))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Files(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                let _ = admin_execute(
                    admin_url,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }
}

/// A registry entry for tests: a trader of `category` in Yiwu, Zhejiang, since 2019.
pub fn merchant(id: &str, category: &str) -> Merchant {
    let fields = MerchantFields {
        id,
        name: "义乌小商品",
        kind: "trader",
        foreign_trade: "true",
        region_code: "330782",
        category,
        joined_on: "2019-01-01",
        cluster_id: "",
        agriculture_base_id: "",
        risk_tier: "A",
        bank_code: "ICBC",
        account_number: "6222000011112222",
        holder_name: "义乌小商品",
    };
    match Merchant::parse(&fields) {
        Ok(merchant) => merchant,
        Err(e) => panic!("the test merchant {id} is invalid: {e:?}"),
    }
}

/// A stored loan decision for tests: merchant `m-1` asked for `requested` fen over six months
/// and icbc offered 100,000.
pub fn decision(application_id: &str, requested: u64) -> LoanDecisionRecord {
    LoanDecisionRecord {
        application_id: application_id.to_owned(),
        merchant_id: "m-1".to_owned(),
        requested,
        term_months: 6,
        decided_at: 1_795_000_000_000_000_000,
        model_version: "sc-test".to_owned(),
        score: 655,
        grade: "B".to_owned(),
        policy_version: "policy-1".to_owned(),
        outcome: "approved".to_owned(),
        bank_id: Some("icbc".to_owned()),
        features: "sales_30d_fen=100\nregion_code=440305\n".to_owned(),
        offer: Some("bank_id=icbc\namount_fen=100000\n".to_owned()),
        reasons: String::new(),
        answers: "icbc=offered\n".to_owned(),
    }
}
