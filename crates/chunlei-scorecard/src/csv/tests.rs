use super::*;

fn parse(text: &str) -> Result<Table, Error> {
    Table::parse(text.as_bytes())
}

fn fields(table: &Table) -> Vec<(usize, Vec<&str>)> {
    table
        .rows()
        .iter()
        .map(|r| (r.line, r.fields.iter().map(String::as_str).collect()))
        .collect()
}

#[test]
fn quoted_fields_hold_commas_quotes_and_line_breaks() {
    let table = parse(
        "name,purpose,target\r\n\"Li, Wei\",\"say \"\"hi\"\"\",good\r\n\"two\nlines\",x,bad\nlast,,good",
    )
    .expect("valid");
    assert_eq!(table.columns(), ["name", "purpose", "target"]);
    assert_eq!(
        fields(&table),
        [
            (2, vec!["Li, Wei", "say \"hi\"", "good"]),
            (3, vec!["two\nlines", "x", "bad"]),
            (5, vec!["last", "", "good"]),
        ]
    );
}

#[test]
fn blank_lines_and_a_byte_order_mark_are_skipped_and_empty_fields_kept() {
    let table = parse("\u{feff}a,b\n\n1,\n\n,2\n").expect("valid");
    assert_eq!(table.columns(), ["a", "b"]);
    assert_eq!(fields(&table), [(3, vec!["1", ""]), (5, vec!["", "2"])]);
}

#[test]
fn a_lone_carriage_return_inside_a_field_is_kept() {
    let table = parse("a,b\nx\ry,z\n").expect("valid");
    assert_eq!(fields(&table), [(2, vec!["x\ry", "z"])]);
}

#[test]
fn records_read_as_column_to_value() {
    use crate::Record;
    let table = parse("a,b\n1,2\n").expect("valid");
    let record = table.record(0).expect("row 0");
    assert_eq!(record.value("b"), Some("2"));
    assert_eq!(record.value("c"), None);
    assert_eq!(record.line(), 2);
    assert!(table.record(1).is_none());
}

#[test]
fn filter_rows_keeps_lines() {
    let table = parse("a\n1\n2\n3\n").expect("valid");
    let odd = table.filter_rows(|at| at % 2 == 0);
    assert_eq!(fields(&odd), [(2, vec!["1"]), (4, vec!["3"])]);
}

fn message(text: &[u8]) -> String {
    match Table::parse(text) {
        Ok(table) => format!("parsed: {table:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn malformed_files_say_what_and_where() {
    let cases: [&[u8]; 11] = [
        b"",
        b"\n\n",
        b"a,b\n",
        b"a,b\n1,2\n\xff\xfe,3\n",
        b"a,b\n1,2\n1,2,3\n",
        b"a,a\n1,2\n",
        b"a,\n1,2\n",
        b"a,b\n\"open,2\n",
        b"a,b\n1\"2,3\n",
        b"a,b\n\"1\"x,3\n",
        b"a,b\n1,2\n3\n",
    ];
    let messages: Vec<String> = cases.iter().map(|c| message(c)).collect();
    expect_test::expect![[r#"
        [
            "the CSV file is empty: it needs a header line and at least one row",
            "the CSV file is empty: it needs a header line and at least one row",
            "the CSV file is empty: it needs a header line and at least one row",
            "the CSV file is not UTF-8 text: invalid byte at line 3 (byte offset 8)",
            "line 3: 3 fields, but the header has 2",
            "the header names column \"a\" twice",
            "column 2 of the header has an empty name",
            "line 2: a quoted field is not closed before the end of the file",
            "line 2: a double quote inside an unquoted field (quote the whole field and double the quote)",
            "line 2: unexpected 'x' after a quoted field",
            "line 3: 1 fields, but the header has 2",
        ]
    "#]]
    .assert_debug_eq(&messages);
}

#[test]
fn the_row_and_column_limits_hold() {
    let limits = Limits {
        rows_max: 2,
        columns_max: 3,
    };
    assert!(Table::parse_with(b"a,b,c\n1,2,3\n4,5,6\n", limits).is_ok());
    assert!(matches!(
        Table::parse_with(b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n", limits),
        Err(Error::TooManyRows { max: 2 })
    ));
    assert!(matches!(
        Table::parse_with(b"a,b,c,d\n1,2,3,4\n", limits),
        Err(Error::TooManyColumns { max: 3 })
    ));
}

#[test]
fn a_missing_column_lists_the_ones_there_are() {
    let table = parse("age,income\n1,2\n").expect("valid");
    let error = table.column("target").expect_err("no such column");
    assert_eq!(
        error.to_string(),
        "no column \"target\" in the file (columns: age, income)"
    );
}
