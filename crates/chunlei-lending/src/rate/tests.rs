use super::*;

fn rate(text: &str) -> Result<u32, ScheduleError> {
    AnnualRate::parse_percent(text).map(AnnualRate::micro_percent)
}

#[test]
fn parses_exact_decimals() {
    assert_eq!(rate("12"), Ok(12_000_000));
    assert_eq!(rate("7.5"), Ok(7_500_000));
    assert_eq!(rate("07.50"), Ok(7_500_000));
    assert_eq!(rate("0"), Ok(0));
    assert_eq!(rate("0.000001"), Ok(1));
    assert_eq!(rate("99.999999"), Ok(99_999_999));
    assert_eq!(rate("100"), Ok(RATE_MICRO_PERCENT_MAX));
    assert_eq!(rate("100.000000"), Ok(RATE_MICRO_PERCENT_MAX));
    assert_eq!(
        AnnualRate::from_basis_points(750),
        AnnualRate::from_micro_percent(7_500_000)
    );
    assert_eq!(AnnualRate::from_basis_points(10_001), None);
    assert_eq!(
        AnnualRate::from_micro_percent(RATE_MICRO_PERCENT_MAX + 1),
        None
    );
}

#[test]
fn refuses_what_is_not_a_rate_from_0_to_100_with_6_decimals() {
    for text in [
        "", ".", "7.", ".5", "-1", "+1", "1e2", "7,5", " 7", "7 ", "1.2.3", "½",
    ] {
        assert_eq!(
            rate(text),
            Err(ScheduleError::RateNotADecimal { text: text.into() }),
            "{text:?}"
        );
    }
    assert_eq!(
        rate("7.5000000"),
        Err(ScheduleError::RateTooManyDecimals {
            text: "7.5000000".into()
        })
    );
    for text in ["100.000001", "101", "99999999999999999999999"] {
        assert_eq!(
            rate(text),
            Err(ScheduleError::RateAboveMaximum { text: text.into() }),
            "{text:?}"
        );
    }
}

#[test]
fn displays_without_trailing_zeros() {
    for text in ["12", "7.5", "0", "0.000001", "100", "33.333333"] {
        let parsed = AnnualRate::parse_percent(text).expect("valid");
        assert_eq!(parsed.to_string(), text);
    }
}
