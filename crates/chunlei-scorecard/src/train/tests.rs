use std::fmt::Write as _;

use super::*;
use crate::evaluate::evaluate;
use crate::testing::table;

/// A CSV text with one row per (cell, outcome): `cells` lists the values of `columns` and how
/// many goods and bads have them. Column `n` is added as a number that carries no signal.
fn csv(columns: &[&str], cells: &[(&[&str], u32, u32)]) -> String {
    let mut text = format!("{},n,target\n", columns.join(","));
    let mut row = 0u32;
    for (values, goods, bads) in cells {
        for at in 0..goods + bads {
            let outcome = if at < *goods { "good" } else { "bad" };
            let _ = writeln!(text, "{},{},{outcome}", values.join(","), row % 7);
            row += 1;
        }
    }
    text
}

fn options() -> TrainOptions {
    TrainOptions::new("2026-01-01")
}

/// With one variable the WoE model is saturated: the fit reproduces every bin's log-odds,
/// `ln(bads_i / goods_i) = ln(B / G) − WoE_i`, so the coefficient is exactly −1 and the
/// intercept `ln(B / G)`, whatever the data.
#[test]
fn one_variable_gets_coefficient_minus_one_and_the_base_log_odds() {
    let text = csv(
        &["grade"],
        &[(&["a"], 300, 20), (&["b"], 200, 60), (&["c"], 100, 120)],
    );
    let mut options = options();
    options.min_iv = 0.5;
    let card = train(&table(&text), "target", "bad", &options).expect("trained");
    assert_eq!(card.variables.len(), 1);
    let variable = &card.variables[0];
    assert!(
        (variable.coefficient + 1.0).abs() < 1e-8,
        "{}",
        variable.coefficient
    );
    assert!((card.intercept - (200.0f64 / 600.0).ln()).abs() < 1e-8);
    let n = card
        .candidates
        .iter()
        .find(|c| c.name == "n")
        .expect("candidate n");
    assert_eq!((n.kind, n.outcome), (Kind::Numeric, Outcome::LowIv));
}

/// Simpson's paradox: b1 has more bads overall, but fewer than b0 within each value of a, so
/// next to `a` the coefficient of `b` says "better bin, more risk".
fn simpson() -> String {
    csv(
        &["a", "b"],
        &[
            (&["a0", "b0"], 400, 40),
            (&["a0", "b1"], 50, 2),
            (&["a1", "b1"], 150, 150),
            (&["a1", "b0"], 30, 50),
        ],
    )
}

#[test]
fn a_variable_with_the_wrong_sign_is_dropped_and_the_rest_refit() {
    let data = table(&simpson());
    let card = train(&data, "target", "bad", &options()).expect("trained");
    let outcomes: Vec<(&str, Outcome)> = card
        .candidates
        .iter()
        .map(|c| (c.name.as_str(), c.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("a", Outcome::Selected),
            ("b", Outcome::WrongSign),
            ("n", Outcome::LowIv)
        ]
    );
    assert!(card.variables.iter().all(|v| v.coefficient < 0.0));

    let mut keep = options();
    keep.drop_wrong_sign = false;
    let card = train(&data, "target", "bad", &keep).expect("trained");
    let b = card.variable("b").expect("b is kept");
    assert!(b.coefficient > 0.0, "{}", b.coefficient);
}

#[test]
fn the_training_report() {
    let card = train(&table(&simpson()), "target", "bad", &options()).expect("trained");
    expect_test::expect_file!["../../testdata/simpson_report.txt"]
        .assert_eq(&crate::report::training(&card));
}

#[test]
fn evaluating_on_the_training_rows_repeats_the_training_figures() {
    let data = table(&simpson());
    let card = train(&data, "target", "bad", &options()).expect("trained");
    let evaluation = evaluate(&card, &data, "target", "bad").expect("evaluated");
    assert_eq!(evaluation.auc, card.training.auc);
    assert_eq!(evaluation.ks, card.training.ks);
    assert_eq!(evaluation.psi, 0.0);
    assert_eq!(evaluation.score_shares, card.training.score_shares);
    let total: f64 = card.training.score_shares.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
}

#[test]
fn the_model_version_is_given_or_derived_from_the_content() {
    let data = table(&simpson());
    let first = train(&data, "target", "bad", &options()).expect("trained");
    let mut later = options();
    later.created_on = "2027-06-30".to_owned();
    let second = train(&data, "target", "bad", &later).expect("trained");
    assert_eq!(first.model_version, second.model_version);
    assert!(first.model_version.starts_with("sc-"));
    let mut named = options();
    named.model_version = Some("credit-2026.1".to_owned());
    let third = train(&data, "target", "bad", &named).expect("trained");
    assert_eq!(third.model_version, "credit-2026.1");
}

#[test]
fn the_model_file_of_a_trained_card_round_trips() {
    let card = train(&table(&simpson()), "target", "bad", &options()).expect("trained");
    let loaded = Scorecard::from_json(&card.to_json().expect("serialised")).expect("loaded");
    assert_eq!(loaded, card);
}

fn refused(edit: impl FnOnce(&mut TrainOptions)) -> String {
    let mut options = options();
    edit(&mut options);
    match train(&table(&simpson()), "target", "bad", &options) {
        Ok(_) => "trained".to_owned(),
        Err(error) => error.to_string(),
    }
}

#[test]
fn invalid_options_and_hopeless_data_are_refused_with_the_reason() {
    let messages = [
        refused(|o| o.created_on = "26-01-01".to_owned()),
        refused(|o| o.created_on = "2025-02-29".to_owned()),
        refused(|o| o.model_version = Some(" ".to_owned())),
        refused(|o| o.model_version = Some("v".repeat(MODEL_VERSION_LEN_MAX + 1))),
        refused(|o| o.binning.fine_bins = 1),
        refused(|o| o.binning.fine_bins = FINE_BINS_MAX + 1),
        refused(|o| o.binning.max_bins = 0),
        refused(|o| o.binning.min_bin_share = 0.0),
        refused(|o| o.min_iv = f64::NAN),
        refused(|o| o.l2 = -1.0),
        refused(|o| o.scaling.pdo = 0.0),
        refused(|o| o.scaling.base_odds = -50.0),
        refused(|o| o.scaling.base_score = f64::INFINITY),
        refused(|o| o.min_iv = 10.0),
        refused(|o| o.exclude_columns = vec!["id".to_owned()]),
    ];
    expect_test::expect![[r#"
        [
            "option created_on: must be a date YYYY-MM-DD",
            "option created_on: must be a date YYYY-MM-DD",
            "option model_version: must be 1 to 100 characters",
            "option model_version: must be 1 to 100 characters",
            "option fine_bins: must be from 2 to 100",
            "option fine_bins: must be from 2 to 100",
            "option max_bins: must be from 1 to fine_bins",
            "option min_bin_share: must be above 0 and at most 0.5",
            "option min_iv: must be a number of at least 0",
            "option l2: must be a number of at least 0",
            "option pdo: must be above 0",
            "option base_odds: must be above 0",
            "option base_score: must be a finite number",
            "no variable reaches the minimum information value 10 (best: a with 1.3394)",
            "no column \"id\" in the file (columns: a, b, n, target)",
        ]
    "#]]
    .assert_debug_eq(&messages);
}

#[test]
fn dates_are_checked_against_the_calendar() {
    for good in ["2024-02-29", "2000-02-29", "2026-12-31", "1970-01-01"] {
        assert!(is_date(good), "{good}");
    }
    for bad in [
        "1900-02-29",
        "2026-13-01",
        "2026-04-31",
        "2026-1-01",
        "2026-01-01T00",
        "",
        "２０２６-01-01",
    ] {
        assert!(!is_date(bad), "{bad}");
    }
}

#[test]
fn a_column_with_too_many_categories_is_reported_and_the_rest_trained() {
    let mut text = String::from("code,grade,target\n");
    for i in 0..1_200u32 {
        let grade = ["a", "b", "c"][(i % 3) as usize];
        let bad = (grade == "c" && i % 2 == 0) || i % 11 == 0;
        let _ = writeln!(text, "c{i},{grade},{}", if bad { "bad" } else { "good" });
    }
    let data = table(&text);
    let card = train(&data, "target", "bad", &options()).expect("trained");
    let outcomes: Vec<(&str, Option<f64>, Outcome)> = card
        .candidates
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.iv.filter(|_| c.name == "code"),
                c.outcome,
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("code", None, Outcome::TooManyCategories),
            ("grade", None, Outcome::Selected)
        ]
    );
    let evaluation = evaluate(&card, &data, "target", "bad").expect("evaluated");
    assert_eq!(evaluation.auc, card.training.auc);
    assert_eq!(evaluation.psi, 0.0);
}
