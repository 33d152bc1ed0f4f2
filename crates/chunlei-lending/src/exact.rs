//! Exact integer arithmetic and the one rounding rule every amount goes through.
//!
//! The installment of an equal-installment loan is `P·r·(1+r)^n / ((1+r)^n − 1)`. With the
//! periodic rate a fraction `a/b` of small integers, `(1+r)^n = (b+a)^n / b^n`, so the installment
//! is the ratio of two integers `P·a·(b+a)^n` and `b·((b+a)^n − b^n)` of up to a few hundred
//! 64-bit limbs (600 periods). [`Natural`] does just what that needs: multiplication by a machine
//! word, subtraction, comparison, and a quotient that fits a `u64`. A fixed-point power would not
//! do: for a tiny rate `1 − (1+r)^−n` is tiny too, and an error of 1e-18 in it becomes fen in the
//! installment of a large loan.

use std::cmp::Ordering;

/// `numerator / denominator` rounded half to even (banker's rounding, Fineract's default
/// `rounding-mode`). `denominator` must not be zero; callers pass products of constants.
pub(crate) fn div_round_half_even(numerator: u128, denominator: u128) -> u128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    round_half_even(quotient, (remainder * 2).cmp(&denominator))
}

/// Adds one to `quotient` when the remainder is above half, or exactly half and `quotient` odd.
fn round_half_even<Q: Quotient>(quotient: Q, twice_remainder_vs_denominator: Ordering) -> Q {
    match twice_remainder_vs_denominator {
        Ordering::Less => quotient,
        Ordering::Greater => quotient.successor(),
        Ordering::Equal if quotient.is_even() => quotient,
        Ordering::Equal => quotient.successor(),
    }
}

trait Quotient: Copy {
    fn successor(self) -> Self;
    fn is_even(self) -> bool;
}

impl Quotient for u128 {
    fn successor(self) -> u128 {
        self + 1
    }
    fn is_even(self) -> bool {
        self.is_multiple_of(2)
    }
}

impl Quotient for u64 {
    fn successor(self) -> u64 {
        // A quotient of u64::MAX rounding up is refused by the caller before it gets here.
        self.saturating_add(1)
    }
    fn is_even(self) -> bool {
        self.is_multiple_of(2)
    }
}

/// An unsigned integer of any size: little-endian 64-bit limbs, no zero limbs at the top, zero
/// being the empty vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Natural {
    limbs: Vec<u64>,
}

const LIMB_BITS: u32 = 64;
const LIMB_MASK: u128 = u64::MAX as u128;

impl Natural {
    pub(crate) fn from_u128(value: u128) -> Natural {
        let mut natural = Natural {
            limbs: vec![limb_of(value), limb_of(value >> LIMB_BITS)],
        };
        natural.trim();
        natural
    }

    /// `base` to the power `exponent`.
    pub(crate) fn power(base: u64, exponent: u32) -> Natural {
        let mut result = Natural::from_u128(1);
        for _ in 0..exponent {
            result.mul_small(base);
        }
        result
    }

    pub(crate) fn mul_small(&mut self, factor: u64) {
        let mut carry = 0_u128;
        for limb in &mut self.limbs {
            let product = u128::from(*limb) * u128::from(factor) + carry;
            *limb = limb_of(product);
            carry = product >> LIMB_BITS;
        }
        if carry != 0 {
            self.limbs.push(limb_of(carry));
        }
        self.trim();
    }

    /// `self − other`, or `None` when `other` is larger.
    pub(crate) fn checked_sub(&self, other: &Natural) -> Option<Natural> {
        if self < other {
            return None;
        }
        let mut borrow = false;
        let limbs = self
            .limbs
            .iter()
            .enumerate()
            .map(|(index, &limb)| {
                let subtrahend = other.limbs.get(index).copied().unwrap_or(0);
                let (difference, first) = limb.overflowing_sub(subtrahend);
                let (difference, second) = difference.overflowing_sub(u64::from(borrow));
                borrow = first || second;
                difference
            })
            .collect();
        let mut difference = Natural { limbs };
        difference.trim();
        Some(difference)
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }
}

/// The low 64 bits; the truncation is the point.
fn limb_of(value: u128) -> u64 {
    u64::try_from(value & LIMB_MASK).unwrap_or(u64::MAX)
}

impl Ord for Natural {
    fn cmp(&self, other: &Natural) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for Natural {
    fn partial_cmp(&self, other: &Natural) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `numerator / denominator` rounded half to even, or `None` when the denominator is zero or
/// the rounded quotient does not fit a `u64`.
pub(crate) fn div_round_half_even_natural(
    numerator: &Natural,
    denominator: &Natural,
) -> Option<u64> {
    if denominator.is_zero() {
        return None;
    }
    // The largest `q` with `q·denominator <= numerator`, one bit at a time from the top.
    let mut quotient = 0_u64;
    for bit in (0..LIMB_BITS).rev() {
        let candidate = quotient | (1 << bit);
        let mut product = denominator.clone();
        product.mul_small(candidate);
        if product <= *numerator {
            quotient = candidate;
        }
    }
    let mut floor = denominator.clone();
    floor.mul_small(quotient);
    let mut remainder = numerator.checked_sub(&floor)?;
    if remainder >= *denominator {
        return None;
    }
    remainder.mul_small(2);
    let ordering = remainder.cmp(denominator);
    if quotient == u64::MAX && ordering != Ordering::Less {
        return None;
    }
    Some(round_half_even(quotient, ordering))
}

#[cfg(test)]
mod tests;
