use proptest::prelude::*;

use super::*;
use crate::data::Values;
use crate::testing::Rng;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Two categories, counted by hand: A has 40 goods and 10 bads, B 60 goods and 30 bads, so
/// goods_total = 100 and bads_total = 40.
///
/// - WoE(A) = ln((40/100) / (10/40)) = ln(1.6) = 0.470004
/// - WoE(B) = ln((60/100) / (30/40)) = ln(0.8) = −0.223144
/// - IV = (0.40 − 0.25)·0.470004 + (0.60 − 0.75)·(−0.223144) = 0.070501 + 0.033472 = 0.103972
#[test]
fn woe_and_iv_match_a_hand_computed_table() {
    assert!(close(woe(40, 10, 100, 40), 1.6f64.ln()));
    assert!(close(woe(60, 30, 100, 40), 0.8f64.ln()));
    let iv = iv_part(40, 10, 100, 40) + iv_part(60, 30, 100, 40);
    assert!((iv - 0.103972).abs() < 1e-6, "iv {iv}");

    let mut values = Vec::new();
    let mut is_bad = Vec::new();
    for (category, goods, bads) in [("A", 40, 10), ("B", 60, 30)] {
        for at in 0..goods + bads {
            values.push(Some(category.to_owned()));
            is_bad.push(at >= goods);
        }
    }
    let binning =
        bin_categorical(&values, &is_bad, &BinningOptions::default()).expect("two categories");
    let summary: Vec<(Rule, u64, u64)> = binning
        .bins
        .iter()
        .map(|b| (b.rule.clone(), b.goods, b.bads))
        .collect();
    assert_eq!(
        summary,
        [
            (Rule::Categories(vec!["A".to_owned()]), 40, 10),
            (Rule::Categories(vec!["B".to_owned()]), 60, 30),
            (Rule::Missing, 0, 0),
        ]
    );
    assert!(close(binning.bins[0].woe, 1.6f64.ln()));
    assert!(close(binning.bins[1].woe, 0.8f64.ln()));
    assert!(close(binning.bins[2].woe, 0.0));
    assert!(close(binning.iv, iv));
}

#[test]
fn empty_cells_are_smoothed_and_empty_bins_are_neutral() {
    // No goods: 0.5 is added to both counts.
    assert!(close(
        woe(0, 5, 100, 40),
        ((0.5 / 100.0) / (5.5 / 40.0f64)).ln()
    ));
    assert!(woe(7, 0, 100, 40).is_finite());
    assert_eq!(woe(0, 0, 100, 40), 0.0);
    assert_eq!(iv_part(0, 0, 100, 40), 0.0);
}

#[test]
fn quantile_edges_keep_ties_together() {
    let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(quantile_edges(&sorted, 4), [26.0, 51.0, 76.0]);
    assert_eq!(
        quantile_edges(&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0], 6),
        [2.0, 3.0]
    );
    assert!(quantile_edges(&[5.0; 10], 20).is_empty());
    assert!(quantile_edges(&[], 20).is_empty());
}

/// The bad rate falls with the value; no bin is under 5% of rows; a missing bin of its own.
#[test]
fn a_falling_risk_gives_rising_woe_over_ranges_that_cover_every_number() {
    let mut rng = Rng::new(7);
    let mut values = Vec::new();
    let mut is_bad = Vec::new();
    for _ in 0..2_000 {
        let x = (rng.unit() * 100.0).floor();
        let bad_rate = 0.6 - 0.5 * x / 100.0;
        values.push((rng.unit() > 0.05).then_some(x));
        is_bad.push(rng.unit() < bad_rate);
    }
    let binning = bin_numeric(&values, &is_bad, &BinningOptions::default());
    let (missing, ranges) = binning.bins.split_last().expect("bins");
    assert_eq!(missing.rule, Rule::Missing);
    assert!(ranges.len() >= 3, "{binning:?}");
    assert!(
        ranges.windows(2).all(|w| w[0].woe < w[1].woe),
        "{binning:?}"
    );
    assert_eq!(binning.locate("-1e9"), Some(0));
    assert_eq!(binning.locate("1e9"), Some(ranges.len() - 1));
    assert_eq!(binning.locate(" "), Some(ranges.len()));
    assert_eq!(binning.locate("ten"), None);
}

#[test]
fn an_identifier_like_column_pools_into_one_bin() {
    let mut rng = Rng::new(3);
    let values: Vec<Option<String>> = (0..500).map(|i| Some(format!("id{i}"))).collect();
    let is_bad: Vec<bool> = (0..500).map(|_| rng.unit() < 0.3).collect();
    let binning = bin_categorical(&values, &is_bad, &BinningOptions::default()).expect("binned");
    assert_eq!(binning.bins.len(), 2, "one pooled bin and the missing bin");
    assert!(close(binning.iv, 0.0));
    assert_eq!(binning.unseen, 0);
    assert_eq!(binning.locate("never seen"), Some(0));
}

#[test]
fn unseen_categories_go_with_the_rare_ones_or_else_to_missing() {
    let mut values = Vec::new();
    let mut is_bad = Vec::new();
    for (category, goods, bads) in [("a", 50, 10), ("b", 40, 40), ("rare", 2, 1)] {
        for at in 0..goods + bads {
            values.push(Some(category.to_owned()));
            is_bad.push(at >= goods);
        }
    }
    values.push(None);
    is_bad.push(true);
    let options = BinningOptions::default();
    let binning = bin_categorical(&values, &is_bad, &options).expect("binned");
    let rare_bin = binning.locate("rare").expect("a bin");
    assert_eq!(binning.locate("new"), Some(rare_bin));
    assert_eq!(binning.locate(""), Some(binning.missing_bin()));
    assert_eq!(binning.bins[binning.missing_bin()].bads, 1);

    let common: Vec<Option<String>> = values[..140].to_vec();
    let binning = bin_categorical(&common, &is_bad[..140], &options).expect("binned");
    assert_eq!(binning.locate("new"), Some(binning.missing_bin()));
}

#[test]
fn too_many_categories_are_not_binned() {
    let values: Vec<Option<String>> = (0..=CATEGORIES_MAX).map(|i| Some(i.to_string())).collect();
    let is_bad: Vec<bool> = (0..=CATEGORIES_MAX).map(|i| i % 3 == 0).collect();
    assert_eq!(
        bin_categorical(&values, &is_bad, &BinningOptions::default()),
        Err(NotBinned::TooManyCategories {
            found: CATEGORIES_MAX + 1
        })
    );
}

#[test]
fn assign_agrees_with_locate() {
    let mut rng = Rng::new(11);
    let xs: Vec<Option<f64>> = (0..300)
        .map(|_| (rng.unit() > 0.1).then(|| (rng.unit() * 50.0).round()))
        .collect();
    let is_bad: Vec<bool> = xs
        .iter()
        .map(|x| x.is_some_and(|x| x < 20.0) || rng.unit() < 0.2)
        .collect();
    let binning = bin_numeric(&xs, &is_bad, &BinningOptions::default());
    let assigned = assign(&binning, &Values::Numeric(xs.clone()));
    for (x, bin) in xs.iter().zip(assigned) {
        let raw = x.map(|x| x.to_string()).unwrap_or_default();
        assert_eq!(binning.locate(&raw), Some(bin));
    }
}

fn numeric_case() -> impl Strategy<Value = (Vec<Option<f64>>, Vec<bool>, BinningOptions)> {
    (
        prop::collection::vec(
            (prop::option::weighted(0.9, -1000i32..1000), any::<bool>()),
            1..400,
        ),
        2usize..30,
        1usize..10,
        1u32..30,
    )
        .prop_map(|(rows, fine_bins, max_bins, share_percent)| {
            let (values, is_bad) = rows
                .into_iter()
                .map(|(x, bad)| (x.map(|x| f64::from(x) / 10.0), bad))
                .unzip();
            let options = BinningOptions {
                fine_bins,
                max_bins,
                min_bin_share: f64::from(share_percent) / 100.0,
                monotone: true,
            };
            (values, is_bad, options)
        })
}

proptest! {
    /// Whatever the data: the value bins are contiguous ranges from −∞ to +∞, their bad rate
    /// moves strictly one way, each holds the minimum share of rows and has goods and bads
    /// (unless it is the only one), there are at most `max_bins`, and the counts add up.
    #[test]
    fn numeric_bins_are_monotone_large_enough_and_complete(
        (values, is_bad, options) in numeric_case()
    ) {
        let binning = bin_numeric(&values, &is_bad, &options);
        let (missing, ranges) = binning.bins.split_last().expect("bins");
        prop_assert_eq!(&missing.rule, &Rule::Missing);
        let rows = values.len() as u64;
        prop_assert_eq!(binning.bins.iter().map(|b| b.goods + b.bads).sum::<u64>(), rows);
        prop_assert_eq!(missing.goods + missing.bads, values.iter().filter(|v| v.is_none()).count() as u64);
        prop_assert!(ranges.len() <= options.max_bins.max(1));
        let mut lower = None;
        for (at, bin) in ranges.iter().enumerate() {
            let Rule::Range { lower: l, upper } = bin.rule else {
                return Err(TestCaseError::fail("a value bin that is not a range"));
            };
            prop_assert_eq!(l, lower);
            prop_assert_eq!(upper.is_none(), at + 1 == ranges.len());
            lower = upper;
        }
        if ranges.len() > 1 {
            let rows_min = (options.min_bin_share * rows as f64).ceil() as u64;
            for bin in ranges {
                prop_assert!(bin.goods + bin.bads >= rows_min);
                prop_assert!(bin.goods > 0 && bin.bads > 0);
            }
            let rising = ranges.windows(2).all(|w| w[0].woe < w[1].woe);
            let falling = ranges.windows(2).all(|w| w[0].woe > w[1].woe);
            prop_assert!(rising || falling, "WoE not monotone: {:?}", binning);
        }
    }
}
