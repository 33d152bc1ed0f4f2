//! `Fen`: an amount of money in the ledger's minor unit, never negative, never a float.

use std::fmt;

/// An amount in minor units (fen for CNY). Bounded by [`Fen::MAX`] so that every amount and
/// every balance fits a signed 64-bit database column; all arithmetic is checked.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(u64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    /// The largest amount or balance the ledger stores (`i64::MAX`).
    pub const MAX: Fen = Fen(i64::MAX as u64);

    /// Returns `None` when `value` exceeds [`Fen::MAX`].
    pub const fn new(value: u64) -> Option<Fen> {
        if value <= Fen::MAX.0 {
            Some(Fen(value))
        } else {
            None
        }
    }

    /// Converts a database integer; `None` for negative values.
    pub fn from_i64(value: i64) -> Option<Fen> {
        u64::try_from(value).ok().map(Fen)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// The value as a database integer; lossless because `Fen::MAX == i64::MAX`.
    pub const fn as_i64(self) -> i64 {
        self.0 as i64
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `None` when the sum would exceed [`Fen::MAX`].
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).and_then(Fen::new)
    }

    /// `None` when `other` is larger than `self`.
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// `self + other`, or [`Fen::MAX`] when the sum would exceed it.
    pub fn saturating_add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0).min(Fen::MAX.0))
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0))
    }
}

impl fmt::Debug for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}fen", self.0)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
