//! `chunlei import merchants` through the real binary: a good file lands whole, a file with a
//! bad row lands not at all.

use std::process::{Command, Output};

use chunlei_settlement::MerchantId;
use chunlei_store::testing::TestDb;
use chunlei_store::{Store, StoreOptions};

const BIN: &str = env!("CARGO_BIN_EXE_chunlei");

const HEADER: &str = "id,name,kind,foreign_trade,region_code,category,joined_on,cluster_id,\
    agriculture_base_id,risk_tier,bank_code,account_number,holder_name";

fn row(id: &str, region_code: &str) -> String {
    format!(
        "{id},\"Ningbo Moulds, \"\"East\"\" Works\",factory,true,{region_code},moulds,2021-09-15,\
         ningbo-moulds,,C,102332000011,00012345678901,\"Ningbo Moulds, East Works\""
    )
}

fn import(db: &TestDb, file: &std::path::Path) -> Output {
    Command::new(BIN)
        .args(["import", "merchants"])
        .arg(file)
        .args(["--db", &db.url_string()])
        .env("CHUNLEI_LOG", "warn")
        .output()
        .expect("run chunlei import")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn id(text: &str) -> MerchantId {
    MerchantId::parse(text).expect("valid id")
}

#[test]
fn a_good_file_imports_every_row() {
    for db in TestDb::all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("merchants.csv");
        let rows: Vec<String> = (1..=3).map(|i| row(&format!("m-{i}"), "330203")).collect();
        std::fs::write(&file, format!("{HEADER}\r\n{}\r\n", rows.join("\r\n"))).expect("write");
        let output = import(&db, &file);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout), "imported=3\n");

        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        let merchant = store.merchant(&id("m-2")).expect("read").expect("imported");
        assert_eq!(merchant.name, "Ningbo Moulds, \"East\" Works");
        assert_eq!(merchant.region_code.as_str(), "330203");
        assert_eq!(merchant.cluster_id.as_deref(), Some("ningbo-moulds"));
        assert_eq!(merchant.agriculture_base_id, None);
        assert_eq!(
            merchant.payout_account.account_number.as_str(),
            "00012345678901"
        );
        assert_eq!(store.merchants(None, 10).expect("list").len(), 3);
    }
}

#[test]
fn a_file_with_a_bad_row_imports_nothing() {
    for db in TestDb::all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("merchants.csv");
        let body = [
            row("m-1", "330203"),
            row("m-2", "3302"),
            row("m-3", "330203"),
        ];
        std::fs::write(&file, format!("{HEADER}\n{}\n", body.join("\n"))).expect("write");
        let output = import(&db, &file);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(text(&output.stdout), "");
        let report = text(&output.stderr);
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 2, "{report}");
        assert!(lines[0].starts_with("line 3: region_code: "), "{report}");
        assert!(lines[1].starts_with("rejected=1"), "{report}");

        let store = Store::open(&db.url, StoreOptions::default()).expect("open");
        assert!(store.merchants(None, 10).expect("list").is_empty());
    }
}

#[test]
fn a_file_beyond_ten_mebibytes_is_refused() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("merchants.csv");
    let one = row("m-0", "330203");
    let count = 10 * 1024 * 1024 / one.len() + 1;
    let rows: Vec<String> = (0..count)
        .map(|i| row(&format!("m-{i}"), "330203"))
        .collect();
    std::fs::write(&file, format!("{HEADER}\n{}\n", rows.join("\n"))).expect("write");
    let output = import(&db, &file);
    assert_eq!(output.status.code(), Some(1));
    let error = text(&output.stderr);
    assert!(error.contains("larger than 10485760 bytes"), "{error}");
}
