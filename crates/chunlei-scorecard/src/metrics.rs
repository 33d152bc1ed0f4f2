//! How well a score separates goods from bads (AUC, KS) and how far a population has drifted
//! from the training one (PSI).
//!
//! Every function here takes scores where **higher means lower risk**, as scorecard points do.

/// Shares below this are raised to it in the PSI, whose `ln(actual / expected)` is undefined
/// for an empty bucket.
const PSI_SHARE_MIN: f64 = 1e-4;

/// The area under the ROC curve: the chance that a random good scores above a random bad,
/// ties counting one half (the Mann–Whitney U statistic with mid-ranks). `None` without at
/// least one good and one bad.
pub fn auc(scores: &[f64], is_bad: &[bool]) -> Option<f64> {
    let goods = is_bad.iter().filter(|b| !**b).count();
    let bads = is_bad.len() - goods;
    if goods == 0 || bads == 0 || scores.len() != is_bad.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Sum of the (mid-)ranks of the goods, ranks counted from 1.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        let mid_rank = (start + end) as f64 / 2.0 + 1.0;
        let goods_here = order[start..=end].iter().filter(|i| !is_bad[**i]).count();
        rank_sum += mid_rank * goods_here as f64;
        start = end + 1;
    }
    let (goods, bads) = (goods as f64, bads as f64);
    let u = rank_sum - goods * (goods + 1.0) / 2.0;
    Some(u / (goods * bads))
}

/// The Kolmogorov–Smirnov statistic: the largest gap between the cumulative score
/// distributions of bads and goods, over all cut-offs. `None` without goods and bads.
pub fn ks(scores: &[f64], is_bad: &[bool]) -> Option<f64> {
    let goods = is_bad.iter().filter(|b| !**b).count();
    let bads = is_bad.len() - goods;
    if goods == 0 || bads == 0 || scores.len() != is_bad.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let (mut goods_below, mut bads_below) = (0usize, 0usize);
    let mut best: f64 = 0.0;
    for (position, &i) in order.iter().enumerate() {
        if is_bad[i] {
            bads_below += 1;
        } else {
            goods_below += 1;
        }
        // Only compare at the end of a run of equal scores: a cut-off cannot split a tie.
        let tie_continues = order
            .get(position + 1)
            .is_some_and(|next| scores[*next] == scores[i]);
        if !tie_continues {
            let gap = bads_below as f64 / bads as f64 - goods_below as f64 / goods as f64;
            best = best.max(gap.abs());
        }
    }
    Some(best)
}

/// Cut points at the deciles of `scores` (at most nine, strictly increasing; fewer when
/// scores tie). A score `s` falls in bucket `i` when `edges[i-1] <= s < edges[i]`.
pub fn decile_edges(scores: &[f64]) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    crate::binning::quantile_edges(&sorted, 10)
}

/// The share of `scores` in each bucket of `edges` (`edges.len() + 1` buckets).
pub fn bucket_shares(edges: &[f64], scores: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    for score in scores {
        let bucket = edges.partition_point(|edge| edge <= score);
        counts[bucket] += 1;
    }
    let total = scores.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / total).collect()
}

/// The population stability index `Σ (actual − expected) · ln(actual / expected)` over
/// buckets, empty ones counted as a tiny share. Zero when the two distributions agree; the
/// usual reading is below 0.1 stable, 0.1–0.25 a shift to watch, above 0.25 a changed
/// population.
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(e, a)| {
            let (e, a) = (e.max(PSI_SHARE_MIN), a.max(PSI_SHARE_MIN));
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests;
