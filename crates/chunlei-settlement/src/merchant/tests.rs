use super::*;

fn fields() -> MerchantFields<'static> {
    MerchantFields {
        id: "m-001",
        name: "义乌小商品厂",
        kind: "factory",
        foreign_trade: "true",
        region_code: "330782",
        category: "textiles",
        joined_on: "2024-02-29",
        cluster_id: "yiwu",
        agriculture_base_id: "",
        risk_tier: "B",
        bank_code: "ICBC",
        account_number: "6222020200112233",
        holder_name: "义乌小商品厂",
    }
}

#[test]
fn parses_a_full_merchant() {
    let merchant = Merchant::parse(&fields()).expect("valid");
    assert_eq!(merchant.id.as_str(), "m-001");
    assert_eq!(merchant.kind, MerchantKind::Factory);
    assert!(merchant.foreign_trade);
    assert_eq!(merchant.region_code.as_str(), "330782");
    assert_eq!(merchant.joined_on.to_string(), "2024-02-29");
    assert_eq!(merchant.cluster_id.as_deref(), Some("yiwu"));
    assert_eq!(merchant.agriculture_base_id, None);
    assert_eq!(merchant.risk_tier, RiskTier::B);
    assert_eq!(merchant.payout_account.bank_code.as_str(), "ICBC");
    assert_eq!(
        merchant.payout_account.account_number.as_str(),
        "6222020200112233"
    );
}

#[test]
fn each_bad_field_is_named() {
    let cases: [(&str, MerchantFields<'static>); 13] = [
        (
            "id",
            MerchantFields {
                id: "a b",
                ..fields()
            },
        ),
        (
            "name",
            MerchantFields {
                name: " ",
                ..fields()
            },
        ),
        (
            "kind",
            MerchantFields {
                kind: "farm",
                ..fields()
            },
        ),
        (
            "foreign_trade",
            MerchantFields {
                foreign_trade: "yes",
                ..fields()
            },
        ),
        (
            "region_code",
            MerchantFields {
                region_code: "33078",
                ..fields()
            },
        ),
        (
            "category",
            MerchantFields {
                category: "",
                ..fields()
            },
        ),
        (
            "joined_on",
            MerchantFields {
                joined_on: "2023-02-29",
                ..fields()
            },
        ),
        (
            "cluster_id",
            MerchantFields {
                cluster_id: "a/b",
                ..fields()
            },
        ),
        (
            "agriculture_base_id",
            MerchantFields {
                agriculture_base_id: "x y",
                ..fields()
            },
        ),
        (
            "risk_tier",
            MerchantFields {
                risk_tier: "F",
                ..fields()
            },
        ),
        (
            "bank_code",
            MerchantFields {
                bank_code: "icbc",
                ..fields()
            },
        ),
        (
            "account_number",
            MerchantFields {
                account_number: "1234567",
                ..fields()
            },
        ),
        (
            "holder_name",
            MerchantFields {
                holder_name: "a\nb",
                ..fields()
            },
        ),
    ];
    for (field, input) in cases {
        let error = Merchant::parse(&input).expect_err(field);
        assert_eq!(error.field, field, "{error}");
        assert!(error.to_string().starts_with(&format!("{field}: ")));
    }
}

#[test]
fn merchant_id_limits() {
    assert!(MerchantId::parse(&"a".repeat(64)).is_ok());
    assert!(MerchantId::parse(&"a".repeat(65)).is_err());
    assert!(MerchantId::parse("").is_err());
    assert!(MerchantId::parse("A_z-9").is_ok());
    assert!(MerchantId::parse("é").is_err());
}

#[test]
fn kinds_and_tiers_round_trip() {
    for kind in MerchantKind::ALL {
        assert_eq!(MerchantKind::parse(kind.as_str()), Ok(kind));
    }
    for tier in RiskTier::ALL {
        assert_eq!(RiskTier::parse(tier.as_str()), Ok(tier));
    }
    assert!(RiskTier::parse("a").is_err());
}

#[test]
fn region_codes() {
    assert!(RegionCode::parse("110101").is_ok());
    assert!(RegionCode::parse("820000").is_ok());
    assert!(RegionCode::parse("100000").is_err());
    assert!(RegionCode::parse("830000").is_err());
    assert!(RegionCode::parse("11010a").is_err());
    assert!(RegionCode::parse("1101011").is_err());
}

#[test]
fn account_numbers() {
    assert!(AccountNumber::parse("12345678").is_ok());
    assert!(AccountNumber::parse(&"9".repeat(30)).is_ok());
    assert!(AccountNumber::parse(&"9".repeat(31)).is_err());
    assert!(AccountNumber::parse("1234 5678").is_err());
    let debug = format!(
        "{:?}",
        AccountNumber::parse("6222020200112233").expect("valid")
    );
    assert_eq!(debug, "AccountNumber(****2233)");
}

#[test]
fn civil_dates_known_days() {
    let days = |text: &str| CivilDate::parse(text).map(CivilDate::days_since_epoch);
    assert_eq!(days("1970-01-01"), Ok(0));
    assert_eq!(days("1970-01-02"), Ok(1));
    assert_eq!(days("1969-12-31"), Ok(-1));
    assert_eq!(days("2000-03-01"), Ok(11_017));
    assert_eq!(days("2024-02-29"), Ok(19_782));
    assert_eq!(days("1900-01-01"), Ok(-25_567));
    assert!(CivilDate::parse("1899-12-31").is_err());
    assert!(CivilDate::parse("1900-02-29").is_err());
    assert!(CivilDate::parse("2000-02-29").is_ok());
    assert!(CivilDate::parse("2024-04-31").is_err());
    assert!(CivilDate::parse("2024-13-01").is_err());
    assert!(CivilDate::parse("2024-00-01").is_err());
    assert!(CivilDate::parse("2024-1-01").is_err());
    assert!(CivilDate::parse("2024/01/01").is_err());
    assert!(CivilDate::parse("+024-01-01").is_err());
}

#[test]
fn civil_dates_round_trip_every_day() {
    let first = CivilDate::parse("1900-01-01")
        .expect("valid")
        .days_since_epoch();
    let last = CivilDate::parse("9999-12-31")
        .expect("valid")
        .days_since_epoch();
    let mut previous: Option<(i32, u32, u32)> = None;
    for days in first..=last {
        let date = CivilDate::from_days(days).expect("in range");
        let (year, month, day) = date.ymd();
        assert_eq!(CivilDate::from_ymd(year, month, day), Some(date));
        assert_eq!(CivilDate::parse(&date.to_string()), Ok(date));
        if let Some(before) = previous {
            assert!((year, month, day) > before);
        }
        previous = Some((year, month, day));
    }
    assert_eq!(CivilDate::from_days(first - 1), None);
    assert_eq!(CivilDate::from_days(last + 1), None);
}
