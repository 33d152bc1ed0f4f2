use super::*;

#[test]
fn rounds_half_to_even() {
    // 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4: ties go to the even neighbour.
    assert_eq!(div_round_half_even(1, 2), 0);
    assert_eq!(div_round_half_even(3, 2), 2);
    assert_eq!(div_round_half_even(5, 2), 2);
    assert_eq!(div_round_half_even(7, 2), 4);
    // Not ties: nearest.
    assert_eq!(div_round_half_even(10, 4), 2);
    assert_eq!(div_round_half_even(11, 4), 3);
    assert_eq!(div_round_half_even(9, 4), 2);
    assert_eq!(div_round_half_even(0, 7), 0);
    // 5000.00 / 18 = 277.777… → 277.78 (Fineract's equal principal of RS04).
    assert_eq!(div_round_half_even(500_000, 18), 27_778);
}

#[test]
fn natural_agrees_with_u128_where_both_fit() {
    let cases: [(u128, u128); 8] = [
        (0, 1),
        (1, 2),
        (3, 2),
        (5, 2),
        (1_000_000_007, 13),
        (u128::from(u64::MAX) * 3, 7),
        (u128::from(u64::MAX) * 2 + 1, 2),
        (987_654_321_987_654_321_987, 123_456_789_012),
    ];
    for (numerator, denominator) in cases {
        let expected = u64::try_from(div_round_half_even(numerator, denominator)).ok();
        let actual = div_round_half_even_natural(
            &Natural::from_u128(numerator),
            &Natural::from_u128(denominator),
        );
        assert_eq!(actual, expected, "{numerator} / {denominator}");
    }
}

#[test]
fn natural_refuses_zero_denominators_and_quotients_beyond_u64() {
    let one = Natural::from_u128(1);
    assert_eq!(
        div_round_half_even_natural(&one, &Natural::from_u128(0)),
        None
    );
    let big = Natural::power(2, 64);
    assert_eq!(div_round_half_even_natural(&big, &one), None);
    let just_below = Natural::from_u128(u128::from(u64::MAX));
    assert_eq!(
        div_round_half_even_natural(&just_below, &one),
        Some(u64::MAX)
    );
    // u64::MAX + 1/2 would round up past u64::MAX.
    let tie_at_top = Natural::from_u128(u128::from(u64::MAX) * 2 + 1);
    assert_eq!(
        div_round_half_even_natural(&tie_at_top, &Natural::from_u128(2)),
        None
    );
}

#[test]
fn powers_multiply_and_subtract_exactly() {
    // 10^40 − 10^39 = 9·10^39, and (9·10^39) / 10^30 = 9·10^9.
    let big = Natural::power(10, 40);
    let smaller = Natural::power(10, 39);
    let difference = big.checked_sub(&smaller).expect("larger minus smaller");
    let mut expected = Natural::power(10, 39);
    expected.mul_small(9);
    assert_eq!(difference, expected);
    assert_eq!(smaller.checked_sub(&big), None);
    assert_eq!(
        div_round_half_even_natural(&difference, &Natural::power(10, 30)),
        Some(9_000_000_000)
    );
    assert!(Natural::power(3, 100) > Natural::power(2, 150));
    assert!(Natural::power(2, 128) > Natural::from_u128(u128::MAX));
    let mut zero = Natural::power(7, 50);
    zero.mul_small(0);
    assert_eq!(zero, Natural::from_u128(0));
}
