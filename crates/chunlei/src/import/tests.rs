use super::csv::{Record, records};
use super::{Rejection, parse_merchants};

const HEADER: &str = "id,name,kind,foreign_trade,region_code,category,joined_on,cluster_id,\
    agriculture_base_id,risk_tier,bank_code,account_number,holder_name";

fn row(id: &str) -> String {
    format!(
        "{id},\"Shop, \"\"North\"\"\",retailer,false,110105,grocery,2022-07-01,,,A,CMB,88887777,\"Li, Wei\""
    )
}

fn ok(line: usize, fields: &[&str]) -> Record {
    Record {
        line,
        fields: Ok(fields.iter().map(|f| (*f).to_owned()).collect()),
    }
}

#[test]
fn csv_quotes_commas_and_line_breaks() {
    let text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,\n\nlast";
    assert_eq!(
        records(text),
        [
            ok(1, &["a", "b,c", "say \"hi\""]),
            ok(2, &["multi\nline", "", ""]),
            ok(5, &["last"]),
        ]
    );
}

#[test]
fn csv_errors_stay_in_their_record() {
    let got = records("a,b\"c\nd,\"e\"x\nf\n\"open");
    assert_eq!(got.len(), 4);
    assert!(got[0].fields.is_err());
    assert_eq!(got[0].line, 1);
    assert!(got[1].fields.is_err());
    assert_eq!(got[1].line, 2);
    assert_eq!(got[2], ok(3, &["f"]));
    assert_eq!(got[3].line, 4);
    assert!(
        got[3]
            .fields
            .as_ref()
            .is_err_and(|m| m.contains("never closed"))
    );
}

#[test]
fn a_good_file_parses_every_row() {
    let text = format!("{HEADER}\n{}\n{}\n", row("m-1"), row("m-2"));
    let merchants = parse_merchants(&text, 10)
        .expect("readable")
        .expect("valid");
    assert_eq!(merchants.len(), 2);
    assert_eq!(merchants[0].name, "Shop, \"North\"");
    assert_eq!(merchants[1].payout_account.holder_name, "Li, Wei");
}

#[test]
fn columns_may_come_in_any_order() {
    let text = "holder_name,account_number,bank_code,risk_tier,agriculture_base_id,cluster_id,\
        joined_on,category,region_code,foreign_trade,kind,name,id\n\
        Wang,12345678,ABC,E,base-1,,2020-01-31,rice,230102,false,farm_cooperative,Coop,c-1\n";
    let merchants = parse_merchants(text, 10).expect("readable").expect("valid");
    assert_eq!(merchants[0].id.as_str(), "c-1");
    assert_eq!(merchants[0].agriculture_base_id.as_deref(), Some("base-1"));
}

#[test]
fn every_bad_row_is_reported_with_its_line() {
    let bad_region = row("m-2").replace("110105", "99");
    let text = format!(
        "{HEADER}\n{}\n{bad_region}\n{}\nshort,row\n{}\n",
        row("m-1"),
        row("m-3"),
        row("m-1")
    );
    let rejections = parse_merchants(&text, 10)
        .expect("readable")
        .expect_err("bad rows");
    let lines: Vec<String> = rejections.iter().map(Rejection::to_string).collect();
    assert_eq!(
        lines,
        [
            "line 3: region_code: must be a 6-digit administrative division code, such as 330782",
            "line 5: csv: the row has 2 fields, the header 13",
            "line 6: id: m-1 is also on line 2",
        ]
    );
}

#[test]
fn the_header_must_name_every_column_once() {
    let unknown = format!("{HEADER},colour\n");
    assert!(parse_merchants(&unknown, 10).is_err());
    let missing = HEADER.replace(",holder_name", "");
    let error = parse_merchants(&missing, 10).expect_err("missing column");
    assert!(error.to_string().contains("holder_name"), "{error}");
    let twice = HEADER.replace("name,kind", "name,kind,kind");
    assert!(parse_merchants(&twice, 10).is_err());
    assert!(parse_merchants("", 10).is_err());
}

#[test]
fn rows_beyond_the_maximum_are_refused() {
    let rows: Vec<String> = (0..4).map(|i| row(&format!("m-{i}"))).collect();
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    assert!(parse_merchants(&text, 4).expect("readable").is_ok());
    let error = parse_merchants(&text, 3).expect_err("too many rows");
    assert!(error.to_string().contains("at most 3"), "{error}");
}
