use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::binning::{Bin, Kind, Rule};

fn range(lower: Option<f64>, upper: Option<f64>, goods: u64, bads: u64, woe: f64) -> Bin {
    Bin {
        rule: Rule::Range { lower, upper },
        goods,
        bads,
        woe,
    }
}

fn categories(names: &[&str], goods: u64, bads: u64, woe: f64) -> Bin {
    Bin {
        rule: Rule::Categories(names.iter().map(|n| (*n).to_owned()).collect()),
        goods,
        bads,
        woe,
    }
}

fn missing(goods: u64, bads: u64, woe: f64) -> Bin {
    Bin {
        rule: Rule::Missing,
        goods,
        bads,
        woe,
    }
}

fn variable(
    name: &str,
    kind: Kind,
    bins: Vec<Bin>,
    unseen: usize,
    coefficient: f64,
) -> ScoredVariable {
    let scaling = Scaling::default();
    let points = bins
        .iter()
        .map(|b| scaling.points(coefficient, b.woe, INTERCEPT, 2))
        .collect();
    ScoredVariable {
        name: name.to_owned(),
        binning: Binning {
            kind,
            bins,
            unseen,
            iv: 0.25,
        },
        coefficient,
        points,
    }
}

const INTERCEPT: f64 = -0.8;

/// A scorecard written by hand: income (numeric) and region (categorical, whose missing bin
/// had no training rows).
fn card() -> Scorecard {
    Scorecard {
        model_version: "test-1".to_owned(),
        created_on: "2026-01-01".to_owned(),
        target: "outcome".to_owned(),
        bad: "bad".to_owned(),
        scaling: Scaling::default(),
        intercept: INTERCEPT,
        variables: vec![
            variable(
                "income",
                Kind::Numeric,
                vec![
                    range(None, Some(1000.0), 20, 15, -0.5),
                    range(Some(1000.0), Some(3000.0), 30, 10, 0.1),
                    range(Some(3000.0), None, 15, 2, 0.7),
                    missing(5, 3, -0.2),
                ],
                3,
                -0.9,
            ),
            variable(
                "region",
                Kind::Categorical,
                vec![
                    categories(&["north"], 40, 10, 0.4),
                    categories(&["south", "west"], 30, 20, -0.3),
                    missing(0, 0, 0.0),
                ],
                2,
                -1.1,
            ),
        ],
        candidates: vec![Candidate {
            name: "income".to_owned(),
            kind: Kind::Numeric,
            iv: Some(0.25),
            outcome: Outcome::Selected,
        }],
        training: TrainingSummary {
            rows: 100,
            bads: 30,
            auc: 0.7,
            ks: 0.3,
            min_iv: 0.02,
            score_edges: vec![500.0, 520.0],
            score_shares: vec![0.3, 0.4, 0.3],
        },
    }
}

fn record(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// factor = 20 / ln 2 = 28.853901, offset = 600 − factor · ln 50 = 487.122876. Income below
/// 1000 (WoE −0.5, β −0.9) with α = −0.8 over two variables:
/// −(−0.9 · −0.5 + −0.8 / 2) · 28.853901 + 487.122876 / 2 = −1.442695 + 243.561438 = 242.12.
#[test]
fn points_follow_the_scaling_formula() {
    let scaling = Scaling::default();
    assert!((scaling.factor() - 28.853901).abs() < 1e-6);
    assert!((scaling.offset() - 487.122876).abs() < 1e-6);
    assert_eq!(scaling.points(-0.9, -0.5, -0.8, 2), 242);
    assert_eq!(scaling.points(-0.9, 0.7, -0.8, 2), 273);
    let card = card();
    assert_eq!(card.variables[0].points, [242, 258, 273, 250]);
    assert_eq!(card.variables[1].points, [268, 246, 255]);
}

#[test]
fn points_round_half_away_from_zero() {
    // factor 1 and odds 1:1, so a bin is worth exactly base_score / n.
    let scaling = |base_score| Scaling {
        pdo: std::f64::consts::LN_2,
        base_score,
        base_odds: 1.0,
    };
    assert_eq!(scaling(2.5).points(0.0, 0.0, 0.0, 1), 3);
    assert_eq!(scaling(-2.5).points(0.0, 0.0, 0.0, 1), -3);
    assert_eq!(scaling(2.49).points(0.0, 0.0, 0.0, 1), 2);
}

#[test]
fn a_score_is_the_sum_of_the_points_of_each_variable() {
    let card = card();
    let scored = card
        .score(&record(&[
            ("income", "500"),
            ("region", "south"),
            ("other", "x"),
        ]))
        .expect("scored");
    assert_eq!(scored.score, 242 + 246);
    assert_eq!(
        scored.contributions,
        [
            Contribution {
                variable: "income".to_owned(),
                bin: 0,
                points: 242
            },
            Contribution {
                variable: "region".to_owned(),
                bin: 1,
                points: 246
            },
        ]
    );
    // logit P(bad) = −0.8 + (−0.9)(−0.5) + (−1.1)(−0.3) = −0.02.
    assert!((scored.probability_bad - sigmoid(-0.02)).abs() < 1e-12);
}

#[test]
fn edges_missing_and_unseen_values_have_their_bins() {
    let card = card();
    let bins = |income: &str, region: &str| -> Vec<usize> {
        let mut record = BTreeMap::new();
        record.insert("income".to_owned(), income.to_owned());
        record.insert("region".to_owned(), region.to_owned());
        let scored = card.score(&record).expect("scored");
        scored.contributions.iter().map(|c| c.bin).collect()
    };
    assert_eq!(bins("1000", " west "), [1, 1]);
    assert_eq!(bins("999.99", "north"), [0, 0]);
    assert_eq!(bins("3000", "east"), [2, 2]);
    assert_eq!(bins("", ""), [3, 2]);
}

#[test]
fn records_without_a_variable_or_with_text_for_a_number_are_refused() {
    let card = card();
    let messages: Vec<String> = [
        record(&[("income", "500")]),
        record(&[("income", "five hundred"), ("region", "north")]),
        record(&[("income", "inf"), ("region", "north")]),
    ]
    .iter()
    .map(|r| {
        card.score(r)
            .map_or_else(|e| e.to_string(), |s| format!("{s:?}"))
    })
    .collect();
    expect_test::expect![[r#"
        [
            "the record has no value for model variable \"region\"",
            "variable \"income\": \"five hundred\" is not a finite number",
            "variable \"income\": \"inf\" is not a finite number",
        ]
    "#]]
    .assert_debug_eq(&messages);
}

#[test]
fn reasons_are_the_variables_that_cost_the_most_points() {
    let card = card();
    let low = record(&[("income", "500"), ("region", "south")]);
    expect_test::expect![[r#"
        [
            Reason {
                code: "income",
                points: 242,
                best_points: 273,
                points_lost: 31,
            },
            Reason {
                code: "region",
                points: 246,
                best_points: 268,
                points_lost: 22,
            },
        ]
    "#]]
    .assert_debug_eq(&card.reasons(&low, 4).expect("reasons"));
    let top: Vec<String> = card
        .reasons(&low, 1)
        .expect("reasons")
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(top, ["income"]);
    let best = record(&[("income", "5000"), ("region", "north")]);
    assert_eq!(card.reasons(&best, 4).expect("reasons"), []);
    // The empty missing bin of region (255 points) is no yardstick: nobody was in it.
    let unseen = record(&[("income", "5000"), ("region", "east")]);
    let reasons = card.reasons(&unseen, 4).expect("reasons");
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].best_points, 268);
}

#[test]
fn the_model_file_round_trips() {
    let card = card();
    let text = card.to_json().expect("serialised");
    let loaded = Scorecard::from_json(&text).expect("loaded");
    assert_eq!(loaded, card);
    assert_eq!(loaded.to_json().expect("serialised"), text);
}

/// The whole file of the hand card, kept as `testdata/hand_model.json`: the format by example.
#[test]
fn the_model_file_format() {
    let text = card().to_json().expect("serialised");
    expect_test::expect_file!["../../testdata/hand_model.json"].assert_eq(&text);
}

#[test]
fn the_content_version_ignores_the_date_and_the_given_version() {
    let card = card();
    let version = card.content_version().expect("hashed");
    assert!(
        version.starts_with("sc-") && version.len() == 19,
        "{version}"
    );
    let mut other_day = card.clone();
    other_day.created_on = "2027-02-03".to_owned();
    other_day.model_version = "x".to_owned();
    assert_eq!(other_day.content_version().expect("hashed"), version);
    let mut other_points = card;
    other_points.variables[0].points[0] += 1;
    assert_ne!(other_points.content_version().expect("hashed"), version);
}

/// Loads the hand card's file after `edit`, and says why it was refused.
fn refused(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&card().to_json().expect("serialised")).expect("json");
    edit(&mut value);
    match Scorecard::from_json(&value.to_string()) {
        Ok(_) => "loaded".to_owned(),
        Err(error) => error.to_string(),
    }
}

#[test]
fn invalid_model_files_are_refused_with_the_reason() {
    let messages = [
        refused(|v| v["format_version"] = 2.into()),
        refused(|v| {
            v.as_object_mut().map(|o| o.remove("format_version"));
        }),
        refused(|v| v["variables"][0]["bins"][1]["lower"] = 999.0.into()),
        refused(|v| v["variables"][0]["bins"][2]["upper"] = 5000.0.into()),
        refused(|v| v["variables"][1]["bins"][1]["categories"][0] = "north".into()),
        refused(|v| {
            v["variables"][1]["bins"]
                .as_array_mut()
                .map(|bins| bins.pop());
        }),
        refused(|v| v["variables"][1]["unseen_bin"] = 3.into()),
        refused(|v| v["scaling"]["offset"] = 480.0.into()),
        refused(|v| v["created_on"] = "2026-02-30".into()),
        refused(|v| v["surprise"] = true.into()),
        refused(|v| v["variables"][1]["name"] = "income".into()),
    ];
    expect_test::expect![[r#"
        [
            "the model file has format_version 2; this build reads version 1",
            "the model file is not valid: no format_version (a whole number) at the top level",
            "the model file is not valid: variable \"income\": bin 1 does not start where the one before ends",
            "the model file is not valid: variable \"income\": bin 2: ranges must increase and only the last may be open above",
            "the model file is not valid: variable \"region\": category \"north\" is in two bins",
            "the model file is not valid: variable \"region\": the last bin must be the missing bin",
            "the model file is not valid: variable \"region\": unseen_bin must name one of its bins",
            "the model file is not valid: scaling.factor and scaling.offset do not follow from pdo, base_score and base_odds",
            "the model file is not valid: created_on \"2026-02-30\" is not a date YYYY-MM-DD",
            "the model file is not valid: unknown field `surprise`, expected one of `format_version`, `model_version`, `created_on`, `target`, `scaling`, `intercept`, `variables`, `candidates`, `training`",
            "the model file is not valid: variable \"income\" appears twice",
        ]
    "#]]
    .assert_debug_eq(&messages);
    assert_eq!(
        Scorecard::from_json("{").map_err(|e| e.to_string()).err(),
        Some(
            "the model file is not valid: EOF while parsing an object at line 1 column 1"
                .to_owned()
        )
    );
}
