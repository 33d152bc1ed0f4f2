//! Binning and weight of evidence.
//!
//! A numeric variable is first cut into up to `fine_bins` quantile bins (fine classing), then
//! adjacent bins are merged (coarse classing) until the bad rate is strictly monotone in the
//! value, in whichever direction gives the higher information value, every bin holds at least
//! `min_bin_share` of the rows and some goods and some bads, and there are at most `max_bins`
//! of them. A categorical variable first pools its rare categories (fewer rows than
//! `min_bin_share`) into one group, orders the groups by bad rate and is then merged the same
//! way. Missing values are always a bin of their own, never merged: "not given" is information
//! and must stay visible in the scorecard.
//!
//! **Sign convention:** `WoE = ln((goods_i / goods_total) / (bads_i / bads_total))`, so a
//! positive WoE means fewer bads than average (lower risk) and a negative one more. A bin with
//! no goods or no bads gets 0.5 added to both counts (the Haldane–Anscombe correction) so its
//! WoE stays finite; a bin with no rows at all has WoE 0, the average risk.

use std::collections::{BTreeMap, HashMap};

use crate::data::parse_number;

/// The most fine bins a numeric variable can be cut into.
pub const FINE_BINS_MAX: usize = 100;
/// The most distinct categories a categorical variable may have to be binned at all; above
/// that it is an identifier or free text, not a characteristic.
pub const CATEGORIES_MAX: usize = 1_000;

/// Added to both counts of a bin that has no goods or no bads.
const SMOOTHING: f64 = 0.5;

/// How variables are binned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinningOptions {
    /// Quantile bins before merging (2..=`FINE_BINS_MAX`).
    pub fine_bins: usize,
    /// The most bins a variable ends with, the missing bin not counted.
    pub max_bins: usize,
    /// The least share of all rows a bin must hold (the missing bin excepted).
    pub min_bin_share: f64,
    /// Whether numeric variables are merged until their bad rate is monotone.
    pub monotone: bool,
}

impl Default for BinningOptions {
    fn default() -> Self {
        BinningOptions {
            fine_bins: 20,
            max_bins: 8,
            min_bin_share: 0.05,
            monotone: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Numeric,
    Categorical,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
        }
    }
}

/// Which values fall into a bin.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `lower <= x < upper`; `None` is unbounded.
    Range {
        lower: Option<f64>,
        upper: Option<f64>,
    },
    /// Exactly these categories (compared after trimming blanks).
    Categories(Vec<String>),
    /// The value is empty.
    Missing,
}

/// One bin with its training counts and weight of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    pub rule: Rule,
    pub goods: u64,
    pub bads: u64,
    pub woe: f64,
}

/// The bins of one variable: value bins in order, then the missing bin, last.
#[derive(Debug, Clone, PartialEq)]
pub struct Binning {
    pub kind: Kind,
    pub bins: Vec<Bin>,
    /// The bin a category never seen in training falls into: the bin that holds the rare
    /// categories, as an unseen one is rarer still, or else the missing bin.
    pub unseen: usize,
    /// Information value: the sum over bins of `(good share − bad share) · WoE`.
    pub iv: f64,
}

/// Why a variable could not be binned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBinned {
    TooManyCategories { found: usize },
}

impl Binning {
    /// The bin of a raw value; `None` when a numeric variable gets text that is not a
    /// finite number (the caller names the variable).
    pub fn locate(&self, raw: &str) -> Option<usize> {
        let raw = raw.trim();
        let missing = self.missing_bin();
        if raw.is_empty() {
            return Some(missing);
        }
        match self.kind {
            Kind::Numeric => {
                let x = parse_number(raw)?;
                Some(
                    self.bins
                        .iter()
                        .position(|bin| bin.rule.holds_number(x))
                        .unwrap_or(missing),
                )
            }
            Kind::Categorical => Some(
                self.bins
                    .iter()
                    .position(|bin| bin.rule.holds_category(raw))
                    .unwrap_or(self.unseen),
            ),
        }
    }

    /// The missing bin, always the last one.
    pub fn missing_bin(&self) -> usize {
        self.bins.len().saturating_sub(1)
    }
}

impl Rule {
    fn holds_number(&self, x: f64) -> bool {
        match self {
            Rule::Range { lower, upper } => {
                lower.is_none_or(|lower| lower <= x) && upper.is_none_or(|upper| x < upper)
            }
            Rule::Categories(_) | Rule::Missing => false,
        }
    }

    fn holds_category(&self, value: &str) -> bool {
        match self {
            Rule::Categories(categories) => categories.iter().any(|c| c == value),
            Rule::Range { .. } | Rule::Missing => false,
        }
    }
}

/// Weight of evidence of a bin (see the module's sign convention).
pub fn woe(goods: u64, bads: u64, goods_total: u64, bads_total: u64) -> f64 {
    match smoothed(goods, bads) {
        None => 0.0,
        Some((g, b)) => ((g / goods_total as f64) / (b / bads_total as f64)).ln(),
    }
}

/// A bin's share of the information value: `(good share − bad share) · WoE`.
pub fn iv_part(goods: u64, bads: u64, goods_total: u64, bads_total: u64) -> f64 {
    match smoothed(goods, bads) {
        None => 0.0,
        Some((g, b)) => {
            let (g, b) = (g / goods_total as f64, b / bads_total as f64);
            (g - b) * (g / b).ln()
        }
    }
}

fn smoothed(goods: u64, bads: u64) -> Option<(f64, f64)> {
    match (goods, bads) {
        (0, 0) => None,
        (0, _) | (_, 0) => Some((goods as f64 + SMOOTHING, bads as f64 + SMOOTHING)),
        (_, _) => Some((goods as f64, bads as f64)),
    }
}

/// Good and bad counts of a group of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cell {
    goods: u64,
    bads: u64,
}

impl Cell {
    fn add(&mut self, is_bad: bool) {
        if is_bad {
            self.bads += 1;
        } else {
            self.goods += 1;
        }
    }

    fn join(self, other: Cell) -> Cell {
        Cell {
            goods: self.goods + other.goods,
            bads: self.bads + other.bads,
        }
    }

    fn rows(self) -> u64 {
        self.goods + self.bads
    }

    fn rate(self) -> f64 {
        self.bads as f64 / self.rows().max(1) as f64
    }

    /// Compares bad rates exactly: `self.bads / self.rows` against `other`'s.
    fn rate_cmp(self, other: Cell) -> std::cmp::Ordering {
        let left = u128::from(self.bads) * u128::from(other.rows());
        let right = u128::from(other.bads) * u128::from(self.rows());
        left.cmp(&right)
    }

    fn is_pure(self) -> bool {
        self.goods == 0 || self.bads == 0
    }
}

/// What a run of merged fine bins covers: a value range, or a set of categories.
trait Key: Clone {
    fn join(self, right: Self) -> Self;
    fn rule(self) -> Rule;
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    lower: Option<f64>,
    upper: Option<f64>,
}

impl Key for Bounds {
    fn join(self, right: Bounds) -> Bounds {
        Bounds {
            lower: self.lower,
            upper: right.upper,
        }
    }

    fn rule(self) -> Rule {
        Rule::Range {
            lower: self.lower,
            upper: self.upper,
        }
    }
}

impl Key for Vec<String> {
    fn join(mut self, right: Vec<String>) -> Vec<String> {
        self.extend(right);
        self
    }

    fn rule(self) -> Rule {
        Rule::Categories(self)
    }
}

#[derive(Debug, Clone)]
struct Segment<K> {
    key: K,
    cell: Cell,
}

/// The direction the bad rate must move in as the value rises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trend {
    Falling,
    Rising,
}

/// Totals and limits shared by the merging steps of one variable.
#[derive(Debug, Clone, Copy)]
struct Merging {
    goods_total: u64,
    bads_total: u64,
    rows_min: u64,
    bins_max: usize,
}

/// Bins a numeric variable.
pub fn bin_numeric(values: &[Option<f64>], is_bad: &[bool], options: &BinningOptions) -> Binning {
    let mut missing = Cell::default();
    let mut pairs: Vec<(f64, bool)> = Vec::with_capacity(values.len());
    for (value, bad) in values.iter().zip(is_bad) {
        match value {
            Some(x) => pairs.push((*x, *bad)),
            None => missing.add(*bad),
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sorted: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let edges = quantile_edges(&sorted, options.fine_bins);
    let mut fine: Vec<Segment<Bounds>> = (0..=edges.len())
        .map(|i| Segment {
            key: Bounds {
                lower: i.checked_sub(1).and_then(|j| edges.get(j).copied()),
                upper: edges.get(i).copied(),
            },
            cell: Cell::default(),
        })
        .collect();
    let mut at = 0;
    for (x, bad) in &pairs {
        while edges.get(at).is_some_and(|edge| *edge <= *x) {
            at += 1;
        }
        if let Some(segment) = fine.get_mut(at) {
            segment.cell.add(*bad);
        }
    }
    fine.retain(|s| s.cell.rows() > 0);
    let merging = merging(is_bad, options);
    let segments = if options.monotone {
        let falling = coarse(fine.clone(), Some(Trend::Falling), merging);
        let rising = coarse(fine, Some(Trend::Rising), merging);
        let iv_falling = segments_iv(&falling, missing, merging);
        let iv_rising = segments_iv(&rising, missing, merging);
        // Ties go to the direction of the rank correlation between value and bad.
        let prefer_falling = if iv_falling == iv_rising {
            crate::metrics::auc(&sorted, &pairs.iter().map(|p| p.1).collect::<Vec<_>>())
                .is_none_or(|auc| auc >= 0.5)
        } else {
            iv_falling > iv_rising
        };
        if prefer_falling { falling } else { rising }
    } else {
        coarse(fine, None, merging)
    };
    let segments = cover_all_numbers(segments);
    let unseen = segments.len();
    finish(Kind::Numeric, segments, missing, unseen, merging)
}

/// Bins a categorical variable.
pub fn bin_categorical(
    values: &[Option<String>],
    is_bad: &[bool],
    options: &BinningOptions,
) -> Result<Binning, NotBinned> {
    let mut missing = Cell::default();
    let mut counts: BTreeMap<&str, Cell> = BTreeMap::new();
    for (value, bad) in values.iter().zip(is_bad) {
        match value {
            Some(category) => counts.entry(category.as_str()).or_default().add(*bad),
            None => missing.add(*bad),
        }
    }
    if counts.len() > CATEGORIES_MAX {
        return Err(NotBinned::TooManyCategories {
            found: counts.len(),
        });
    }
    let merging = merging(is_bad, options);
    let mut rare = Segment {
        key: Vec::new(),
        cell: Cell::default(),
    };
    let mut fine = Vec::new();
    for (category, cell) in counts {
        if cell.rows() < merging.rows_min {
            rare.key.push(category.to_owned());
            rare.cell = rare.cell.join(cell);
        } else {
            fine.push(Segment {
                key: vec![category.to_owned()],
                cell,
            });
        }
    }
    let rare_first = rare.key.first().cloned();
    if rare_first.is_some() {
        fine.push(rare);
    }
    // Ordered by bad rate, the groups are monotone already; merging neighbours keeps them so.
    fine.sort_by(|a, b| a.cell.rate_cmp(b.cell).then_with(|| a.key.cmp(&b.key)));
    let segments = coarse(fine, None, merging);
    let unseen = rare_first
        .and_then(|first| segments.iter().position(|s| s.key.contains(&first)))
        .unwrap_or(segments.len());
    Ok(finish(
        Kind::Categorical,
        segments,
        missing,
        unseen,
        merging,
    ))
}

fn merging(is_bad: &[bool], options: &BinningOptions) -> Merging {
    let bads_total = is_bad.iter().filter(|b| **b).count() as u64;
    let rows = is_bad.len() as u64;
    Merging {
        goods_total: rows - bads_total,
        bads_total,
        rows_min: (options.min_bin_share * rows as f64).ceil() as u64,
        bins_max: options.max_bins.max(1),
    }
}

/// Up to `bins - 1` cut points at the quantiles of `sorted`, strictly increasing and above
/// the smallest value, so that no bin is empty. A bin holds `edge[i-1] <= x < edge[i]`, so
/// equal values always share a bin.
pub(crate) fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = Vec::new();
    let Some(first) = sorted.first() else {
        return edges;
    };
    for k in 1..bins {
        let Some(&value) = sorted.get(k * sorted.len() / bins) else {
            continue;
        };
        if value > *first && edges.last().is_none_or(|last| value > *last) {
            edges.push(value);
        }
    }
    edges
}

/// Merges adjacent segments: to a monotone bad rate if `trend` is given, then until each
/// has enough rows, then until none is pure, then down to the most bins allowed.
fn coarse<K: Key>(
    fine: Vec<Segment<K>>,
    trend: Option<Trend>,
    merging: Merging,
) -> Vec<Segment<K>> {
    let mut segments = match trend {
        Some(trend) => pool_adjacent_violators(fine, trend),
        None => fine,
    };
    while let Some(at) = smallest_where(&segments, |c| c.rows() < merging.rows_min) {
        merge_with_closest(&mut segments, at);
    }
    while let Some(at) = smallest_where(&segments, Cell::is_pure) {
        merge_with_closest(&mut segments, at);
    }
    while segments.len() > merging.bins_max {
        merge_cheapest_pair(&mut segments, merging);
    }
    segments
}

/// Merges neighbours until the bad rate moves strictly in `trend`'s direction: the pool
/// adjacent violators algorithm, which gives the closest monotone fit.
fn pool_adjacent_violators<K: Key>(fine: Vec<Segment<K>>, trend: Trend) -> Vec<Segment<K>> {
    let mut stack: Vec<Segment<K>> = Vec::with_capacity(fine.len());
    for segment in fine {
        stack.push(segment);
        while stack.len() >= 2 {
            let right = stack[stack.len() - 1].cell;
            let left = stack[stack.len() - 2].cell;
            let ordered = match trend {
                Trend::Falling => left.rate_cmp(right).is_gt(),
                Trend::Rising => left.rate_cmp(right).is_lt(),
            };
            if ordered {
                break;
            }
            let at = stack.len() - 2;
            merge_at(&mut stack, at);
        }
    }
    stack
}

/// The smallest segment (by rows, the first of equals) that `matches`, if there are at least
/// two segments to merge.
fn smallest_where<K>(segments: &[Segment<K>], matches: impl Fn(Cell) -> bool) -> Option<usize> {
    if segments.len() < 2 {
        return None;
    }
    segments
        .iter()
        .enumerate()
        .filter(|(_, s)| matches(s.cell))
        .min_by_key(|(at, s)| (s.cell.rows(), *at))
        .map(|(at, _)| at)
}

/// Merges segment `at` into the neighbour with the closer bad rate (the left one on a tie).
fn merge_with_closest<K: Key>(segments: &mut Vec<Segment<K>>, at: usize) {
    let rate = segments[at].cell.rate();
    let distance = |i: Option<usize>| {
        i.and_then(|i| segments.get(i))
            .map(|s| (s.cell.rate() - rate).abs())
    };
    let left = distance(at.checked_sub(1));
    let right = distance(Some(at + 1));
    match (left, right) {
        (Some(l), Some(r)) if r < l => merge_at(segments, at),
        (None, Some(_)) => merge_at(segments, at),
        (Some(_), Some(_) | None) => merge_at(segments, at - 1),
        (None, None) => {}
    }
}

/// Merges the adjacent pair whose merge loses the least information value.
fn merge_cheapest_pair<K: Key>(segments: &mut Vec<Segment<K>>, merging: Merging) {
    let part = |c: Cell| iv_part(c.goods, c.bads, merging.goods_total, merging.bads_total);
    let cheapest = segments
        .windows(2)
        .enumerate()
        .map(|(at, pair)| {
            let loss =
                part(pair[0].cell) + part(pair[1].cell) - part(pair[0].cell.join(pair[1].cell));
            (at, loss)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    if let Some((at, _)) = cheapest {
        merge_at(segments, at);
    }
}

/// Replaces segments `at` and `at + 1` by their union.
fn merge_at<K: Key>(segments: &mut Vec<Segment<K>>, at: usize) {
    if at + 1 >= segments.len() {
        return;
    }
    let right = segments.remove(at + 1);
    let left = &mut segments[at];
    left.key = left.key.clone().join(right.key);
    left.cell = left.cell.join(right.cell);
}

/// Opens the outer bounds so that every number, also one outside the training range, has a
/// bin.
fn cover_all_numbers(mut segments: Vec<Segment<Bounds>>) -> Vec<Segment<Bounds>> {
    if let Some(first) = segments.first_mut() {
        first.key.lower = None;
    }
    if let Some(last) = segments.last_mut() {
        last.key.upper = None;
    }
    segments
}

fn segments_iv<K>(segments: &[Segment<K>], missing: Cell, merging: Merging) -> f64 {
    segments
        .iter()
        .map(|s| s.cell)
        .chain(std::iter::once(missing))
        .map(|c| iv_part(c.goods, c.bads, merging.goods_total, merging.bads_total))
        .sum()
}

fn finish<K: Key>(
    kind: Kind,
    segments: Vec<Segment<K>>,
    missing: Cell,
    unseen: usize,
    merging: Merging,
) -> Binning {
    let iv = segments_iv(&segments, missing, merging);
    let bin = |rule: Rule, cell: Cell| Bin {
        rule,
        goods: cell.goods,
        bads: cell.bads,
        woe: woe(
            cell.goods,
            cell.bads,
            merging.goods_total,
            merging.bads_total,
        ),
    };
    let mut bins: Vec<Bin> = segments
        .into_iter()
        .map(|s| bin(s.key.rule(), s.cell))
        .collect();
    bins.push(bin(Rule::Missing, missing));
    Binning {
        kind,
        bins,
        unseen,
        iv,
    }
}

/// The bin of every row, for the WoE transform at training. `values` must be the ones the
/// binning was built from, so every value has a bin.
pub(crate) fn assign(binning: &Binning, values: &crate::data::Values) -> Vec<usize> {
    let missing = binning.missing_bin();
    match values {
        crate::data::Values::Numeric(xs) => xs
            .iter()
            .map(|x| match x {
                None => missing,
                Some(x) => binning
                    .bins
                    .iter()
                    .position(|b| b.rule.holds_number(*x))
                    .unwrap_or(missing),
            })
            .collect(),
        crate::data::Values::Categorical(cs) => {
            let mut lookup: HashMap<&str, usize> = HashMap::new();
            for (at, bin) in binning.bins.iter().enumerate() {
                if let Rule::Categories(categories) = &bin.rule {
                    for c in categories {
                        lookup.insert(c.as_str(), at);
                    }
                }
            }
            cs.iter()
                .map(|c| match c {
                    None => missing,
                    Some(c) => lookup.get(c.as_str()).copied().unwrap_or(binning.unseen),
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests;
