use super::*;
use crate::testing::Rng;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// Scores are "higher is better": goods should score high.
const IS_BAD: [bool; 6] = [true, true, true, false, false, false];

#[test]
fn auc_of_a_perfect_score_is_one_and_of_its_inverse_zero() {
    let perfect = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let inverse = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
    assert_eq!(auc(&perfect, &IS_BAD), Some(1.0));
    assert_eq!(auc(&inverse, &IS_BAD), Some(0.0));
    assert_eq!(auc(&[7.0; 6], &IS_BAD), Some(0.5));
}

/// Goods score 3 and 2, bads 2 and 1: of the four good/bad pairs three are ordered and one
/// tied, so the AUC is (3 + ½) / 4.
#[test]
fn auc_counts_ties_as_one_half() {
    assert_eq!(
        auc(&[3.0, 2.0, 2.0, 1.0], &[false, false, true, true]),
        Some(0.875)
    );
}

#[test]
fn auc_of_a_random_score_is_near_one_half() {
    let mut rng = Rng::new(42);
    let scores: Vec<f64> = (0..20_000).map(|_| (rng.unit() * 50.0).floor()).collect();
    let is_bad: Vec<bool> = (0..20_000).map(|_| rng.unit() < 0.3).collect();
    let auc = auc(&scores, &is_bad).expect("goods and bads");
    assert!((auc - 0.5).abs() < 0.02, "auc {auc}");
}

#[test]
fn auc_and_ks_need_goods_and_bads() {
    assert_eq!(auc(&[1.0, 2.0], &[true, true]), None);
    assert_eq!(ks(&[1.0, 2.0], &[false, false]), None);
    assert_eq!(auc(&[1.0], &[true, false]), None);
}

#[test]
fn ks_is_the_largest_gap_between_the_cumulative_distributions() {
    assert_eq!(ks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &IS_BAD), Some(1.0));
    assert_eq!(
        ks(
            &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
            &[true, false, true, false, true, false]
        ),
        Some(0.0)
    );
    // Bads at 1, 2, 5; goods at 3, 4, 6: below 3 lie 2/3 of the bads and none of the goods.
    let ks = ks(&[1.0, 2.0, 5.0, 3.0, 4.0, 6.0], &IS_BAD).expect("goods and bads");
    assert!(close(ks, 2.0 / 3.0));
    // A cut-off cannot split a tie: all at one score separate nothing.
    assert_eq!(super::ks(&[5.0; 6], &IS_BAD), Some(0.0));
}

#[test]
fn psi_is_zero_for_identical_distributions() {
    let scores: Vec<f64> = (0..1_000).map(|i| f64::from(i % 97)).collect();
    let edges = decile_edges(&scores);
    let shares = bucket_shares(&edges, &scores);
    assert_eq!(psi(&shares, &shares), 0.0);
    let mut reordered = scores.clone();
    reordered.reverse();
    assert!(close(psi(&shares, &bucket_shares(&edges, &reordered)), 0.0));
}

/// Expected ½, ½ against actual ¼, ¾:
/// (¼ − ½)·ln(½) + (¾ − ½)·ln(3/2) = 0.173287 + 0.101366 = 0.274653.
#[test]
fn psi_matches_a_hand_computed_shift() {
    let psi = psi(&[0.5, 0.5], &[0.25, 0.75]);
    assert!((psi - 0.274653).abs() < 1e-6, "psi {psi}");
    assert!(super::psi(&[0.5, 0.5], &[0.0, 1.0]).is_finite());
}

#[test]
fn deciles_split_scores_into_tenths() {
    let scores: Vec<f64> = (1..=100).map(f64::from).collect();
    let edges = decile_edges(&scores);
    assert_eq!(
        edges,
        [11.0, 21.0, 31.0, 41.0, 51.0, 61.0, 71.0, 81.0, 91.0]
    );
    assert_eq!(bucket_shares(&edges, &scores), [0.1; 10]);
    assert_eq!(bucket_shares(&edges, &[0.0, 11.0, 1e9]).len(), 10);
    assert_eq!(
        bucket_shares(&[10.0], &[9.0, 10.0, 11.0, 12.0]),
        [0.25, 0.75]
    );
}
