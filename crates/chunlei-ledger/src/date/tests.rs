use super::*;

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("a valid date")
}

#[test]
fn parses_and_formats_round_trip() {
    for text in [
        "1900-01-01",
        "1969-12-31",
        "1970-01-01",
        "2000-02-29",
        "2024-02-29",
        "2025-12-31",
        "9999-12-31",
    ] {
        assert_eq!(date(text).to_string(), text);
    }
    assert_eq!(date("1970-01-01").days_since_epoch(), 0);
    assert_eq!(date("1969-12-31").days_since_epoch(), -1);
    assert_eq!(date("2000-03-01").days_since_epoch(), 11_017);
}

#[test]
fn every_day_from_1900_to_9999_converts_both_ways() {
    let first = date("1900-01-01").days_since_epoch();
    let last = date("9999-12-31").days_since_epoch();
    let mut expected = (1900, 1, 1);
    for days in first..=last {
        let (year, month, day) = civil_from_days(days);
        assert_eq!((year, month, day), expected, "day {days}");
        assert_eq!(days_from_civil(year, month, day), days);
        expected = if day < days_in_month(year, month) {
            (year, month, day + 1)
        } else if month < 12 {
            (year, month + 1, 1)
        } else {
            (year + 1, 1, 1)
        };
    }
}

#[test]
fn refuses_what_is_not_a_date() {
    for text in [
        "",
        "2024-1-01",
        "2024/01/01",
        "20240101",
        "2024-01-01 ",
        " 2024-01-01",
        "2024-01-0a",
        "+024-01-01",
        "2024-01-01T00:00",
    ] {
        assert_eq!(
            CivilDate::parse(text),
            Err(DateError::NotYyyyMmDd),
            "{text:?}"
        );
    }
    for text in [
        "2023-02-29",
        "2100-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-04-31",
        "2024-01-00",
    ] {
        assert_eq!(
            CivilDate::parse(text),
            Err(DateError::NoSuchDay),
            "{text:?}"
        );
    }
    for text in ["1899-12-31", "0000-01-01"] {
        assert_eq!(
            CivilDate::parse(text),
            Err(DateError::YearOutOfRange),
            "{text:?}"
        );
    }
}

#[test]
fn adding_months_clamps_to_the_end_of_a_shorter_month() {
    let january_31 = date("2025-01-31");
    let due: Vec<String> = (1..=4)
        .map(|k| january_31.add_months(k).expect("in range").to_string())
        .collect();
    // The dates Fineract gives a loan disbursed on 31 January (MonthEndDueDateStrategyTest).
    assert_eq!(
        due,
        ["2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]
    );
    assert_eq!(date("2024-01-31").add_months(1), Some(date("2024-02-29")));
    assert_eq!(date("2024-02-29").add_months(12), Some(date("2025-02-28")));
    assert_eq!(date("2024-02-29").add_months(48), Some(date("2028-02-29")));
    assert_eq!(date("2023-12-15").add_months(1), Some(date("2024-01-15")));
    assert_eq!(date("2023-11-30").add_months(0), Some(date("2023-11-30")));
    assert_eq!(date("9999-12-01").add_months(1), None);
}

#[test]
fn adding_days_and_counting_them() {
    assert_eq!(date("2024-02-28").add_days(1), Some(date("2024-02-29")));
    assert_eq!(date("2023-12-31").add_days(1), Some(date("2024-01-01")));
    assert_eq!(date("9999-12-31").add_days(1), None);
    assert_eq!(date("2022-11-01").days_until(date("2022-12-01")), 30);
    assert_eq!(date("2024-02-01").days_until(date("2024-03-01")), 29);
    assert_eq!(date("2024-03-01").days_until(date("2024-02-01")), -29);
}
