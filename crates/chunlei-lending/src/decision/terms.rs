//! `TermSet`: loan terms in whole months as a bit set, so that the platform's options, a
//! bank's range, a product's range and the requested term intersect without allocating.

use std::fmt;

/// The longest term a decision offers, in months (five years).
pub const TERM_MONTHS_MAX: u16 = 60;

/// A set of terms from 1 to [`TERM_MONTHS_MAX`] months; bit `m − 1` is `m` months.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TermSet(u64);

impl TermSet {
    pub const EMPTY: TermSet = TermSet(0);

    /// Exactly these terms; `None` if one is zero or above [`TERM_MONTHS_MAX`].
    pub fn of(months: &[u16]) -> Option<TermSet> {
        months.iter().try_fold(TermSet::EMPTY, |set, &month| {
            TermSet::one(month).map(|one| set.union(one))
        })
    }

    /// One term; `None` if it is zero or above [`TERM_MONTHS_MAX`].
    pub fn one(months: u16) -> Option<TermSet> {
        (1..=TERM_MONTHS_MAX)
            .contains(&months)
            .then(|| TermSet(1 << (months - 1)))
    }

    /// Every term from `min` to `max` months, both included, within 1 to
    /// [`TERM_MONTHS_MAX`]; empty when `min > max`.
    pub fn range(min: u16, max: u16) -> TermSet {
        let (min, max) = (min.max(1), max.min(TERM_MONTHS_MAX));
        if min > max {
            return TermSet::EMPTY;
        }
        // Bits min−1 ..= max−1: all bits below `max`, less all bits below `min − 1`.
        let below = |count: u16| {
            if count >= 64 {
                u64::MAX
            } else {
                (1_u64 << count) - 1
            }
        };
        TermSet(below(max) & !below(min - 1))
    }

    pub fn contains(self, months: u16) -> bool {
        TermSet::one(months).is_some_and(|one| self.0 & one.0 != 0)
    }

    pub fn intersect(self, other: TermSet) -> TermSet {
        TermSet(self.0 & other.0)
    }

    pub fn union(self, other: TermSet) -> TermSet {
        TermSet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The shortest term in the set.
    pub fn shortest(self) -> Option<u16> {
        (self.0 != 0).then(|| u16::try_from(self.0.trailing_zeros() + 1).unwrap_or(0))
    }

    /// The longest term in the set.
    pub fn longest(self) -> Option<u16> {
        (self.0 != 0).then(|| u16::try_from(64 - self.0.leading_zeros()).unwrap_or(0))
    }

    /// The terms, shortest first.
    pub fn iter(self) -> impl Iterator<Item = u16> {
        (1..=TERM_MONTHS_MAX).filter(move |&months| self.contains(months))
    }
}

/// The months as a list: `[3, 6, 12]`.
impl fmt::Debug for TermSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
