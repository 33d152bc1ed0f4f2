//! The entry points the binary calls, on real files: train, evaluate, load and score.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chunlei_scorecard::{Error, TrainOptions, evaluate_cli, load_model, train_cli};

/// A fresh directory for one test's files.
fn directory(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a test directory");
    dir
}

/// 600 applications: risk falls with `months` (time at the address) and is higher for
/// `kind` = "new"; `note` is free text with no signal; `id` identifies the row.
fn applications() -> String {
    let mut text = String::from("id,months,kind,note,outcome\n");
    for i in 0..600u32 {
        let months = i % 60;
        let kind = if i % 3 == 0 { "new" } else { "repeat" };
        // A fixed pattern instead of randomness: bad when a hash of i falls below a risk that
        // depends on the two variables.
        let risk = 0.45 - f64::from(months) / 200.0 + if kind == "new" { 0.15 } else { 0.0 };
        let u = f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 1000.0;
        let outcome = if u < risk { "bad" } else { "good" };
        let note = if i % 2 == 0 {
            "\"said \"\"hi\"\", twice\""
        } else {
            ""
        };
        let _ = writeln!(text, "{i},{months},{kind},{note},{outcome}");
    }
    text
}

fn options() -> TrainOptions {
    let mut options = TrainOptions::new("2026-01-01");
    options.exclude_columns = vec!["id".to_owned()];
    options
}

#[test]
fn train_then_evaluate_then_score() {
    let dir = directory("round");
    let csv = dir.join("applications.csv");
    std::fs::write(&csv, applications()).expect("written");
    let model = dir.join("model.json");

    let report = train_cli(&csv, "outcome", "bad", &model, &options()).expect("trained");
    let iv_lines: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("information value"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(iv_lines, ["months", "kind", "note"], "{report}");
    assert!(
        report
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("train: auc="))
    );

    let report = evaluate_cli(&model, &csv, "outcome", "bad").expect("evaluated");
    assert!(report.contains("psi=0.0000 (stable"), "{report}");
    let last = report.lines().last().expect("a last line");
    let parts: Vec<&str> = last.split(' ').collect();
    assert_eq!(parts.len(), 2, "{last}");
    for (part, name) in parts.iter().zip(["auc", "ks"]) {
        let value = part
            .strip_prefix(name)
            .and_then(|v| v.strip_prefix('='))
            .expect("name=value");
        assert_eq!(value.len(), 6, "four decimals: {value}");
        assert!(
            value
                .parse::<f64>()
                .is_ok_and(|v| (0.5..=1.0).contains(&v) || name == "ks")
        );
    }

    let card = load_model(&model).expect("loaded");
    let record: HashMap<String, String> = [("months", "2"), ("kind", "new"), ("note", "")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let scored = card.score(&record).expect("scored");
    assert_eq!(
        scored.score,
        scored.contributions.iter().map(|c| c.points).sum::<i64>()
    );
    assert!(scored.probability_bad > 0.3, "{scored:?}");
    let codes: Vec<String> = card
        .reasons(&record, 2)
        .expect("reasons")
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(codes, ["months", "kind"]);
}

fn error(result: Result<String, Error>) -> String {
    match result {
        Ok(report) => format!("succeeded: {report}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn file_problems_are_reported_with_the_file_and_line() {
    let dir = directory("errors");
    let csv = dir.join("applications.csv");
    std::fs::write(&csv, applications()).expect("written");
    let model = dir.join("model.json");
    train_cli(&csv, "outcome", "bad", &model, &options()).expect("trained");

    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("written");
        path
    };
    let empty = write("empty.csv", b"");
    let latin1 = write("latin1.csv", b"months,kind,outcome\n3,caf\xe9,bad\n");
    let no_kind = write("no_kind.csv", b"months,outcome\n3,bad\n4,good\n");
    let text_months = write(
        "text.csv",
        b"months,kind,note,outcome\n3,new,,bad\nmany,new,,good\n",
    );
    let no_bads = write(
        "no_bads.csv",
        b"id,months,kind,note,outcome\n1,3,new,,good\n",
    );
    let missing = dir.join("missing.csv");

    let messages = [
        error(train_cli(&empty, "outcome", "bad", &model, &options())),
        error(train_cli(&latin1, "outcome", "bad", &model, &options())),
        error(train_cli(&no_bads, "outcome", "bad", &model, &options())),
        error(train_cli(&csv, "result", "bad", &model, &options())),
        error(evaluate_cli(&model, &no_kind, "outcome", "bad")),
        error(evaluate_cli(&model, &text_months, "outcome", "bad")),
        error(evaluate_cli(&csv, &csv, "outcome", "bad")),
    ];
    expect_test::expect![[r#"
        [
            "the CSV file is empty: it needs a header line and at least one row",
            "the CSV file is not UTF-8 text: invalid byte at line 2 (byte offset 25)",
            "the target column \"outcome\" has no row equal to the bad value \"bad\"",
            "no column \"result\" in the file (columns: id, months, kind, note, outcome)",
            "no column \"kind\" in the file (columns: months, outcome)",
            "line 3: variable \"months\": \"many\" is not a finite number",
            "the model file is not valid: expected value at line 1 column 1",
        ]
    "#]]
    .assert_debug_eq(&messages);
    let message = error(train_cli(&missing, "outcome", "bad", &model, &options()));
    assert!(
        message.starts_with(&missing.display().to_string()) && message.contains("No such file"),
        "{message}"
    );
}
