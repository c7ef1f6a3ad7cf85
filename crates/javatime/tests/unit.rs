//! Unit tests for the public API: the seed-hunt case, ISO parsing, ChronoField, calendar
//! helpers, errors, and the DATE_PARSE examples of Elastic's `date.csv-spec`.

use javatime::{
    add_months, civil_from_millis, format_iso_millis, millis_from_civil,
    parse_strict_date_optional_time, ChronoField, ParseErrorKind, Pattern,
};

fn ms(s: &str) -> i64 {
    parse_strict_date_optional_time(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn fmt(p: &str, s: &str) -> String {
    Pattern::compile(p).unwrap().format(ms(s))
}

#[test]
fn seed_hunt_week_year_minute_day() {
    assert_eq!(fmt("YYYY-mm-dd", "2024-07-31T13:06:24Z"), "2024-06-31");
    assert_eq!(fmt("YYYY-mm-dd", "2024-12-30T10:42:00Z"), "2025-42-30");
    assert_eq!(fmt("yyyy-MM-dd", "2024-12-30T10:42:00Z"), "2024-12-30");
}

#[test]
fn common_patterns() {
    let t = "2024-07-31T13:06:24.123Z";
    assert_eq!(
        fmt("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", t),
        "2024-07-31T13:06:24.123Z"
    );
    assert_eq!(
        fmt("EEE, dd MMM yyyy HH:mm:ss Z", t),
        "Wed, 31 Jul 2024 13:06:24 +0000"
    );
    assert_eq!(fmt("EEEE MMMM h a", t), "Wed Jul 1 PM");
    assert_eq!(fmt("e c ee ww w", t), "3 3 03 31 31");
    assert_eq!(fmt("'o''clock' ''", t), "o'clock '");
    assert_eq!(fmt("[yyyy][-MM]", t), "2024-07");
    assert_eq!(fmt("yy uu YY", "-0001-06-01"), "02 01 01");
    assert_eq!(fmt("G GGGG u y", "-0001-06-01"), "BC BCE -1 2");
    assert_eq!(fmt("VV z O x X Z", t), "Z Z GMT +00 Z +0000");
    assert_eq!(fmt("n N A S", t), "123000000 47184123000000 47184123 1");
}

#[test]
fn iso_rendering() {
    assert_eq!(format_iso_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        format_iso_millis(1_722_431_184_000),
        "2024-07-31T13:06:24.000Z"
    );
    assert_eq!(format_iso_millis(-1), "1969-12-31T23:59:59.999Z");
    assert_eq!(
        format_iso_millis(253_402_300_800_000),
        "+10000-01-01T00:00:00.000Z"
    );
    assert_eq!(
        format_iso_millis(-62_198_755_200_000),
        "-0001-01-01T00:00:00.000Z"
    );
    assert_eq!(
        format_iso_millis(i64::MAX),
        "+292278994-08-17T07:12:55.807Z"
    );
    assert_eq!(
        format_iso_millis(i64::MIN),
        "-292275055-05-16T16:47:04.192Z"
    );
}

#[test]
fn strict_date_optional_time_accepts() {
    let base = 1_674_432_000_000; // 2023-01-23
    assert_eq!(ms("2023-01-23"), base);
    assert_eq!(ms("2023-01-23T12:15"), base + 44_100_000);
    assert_eq!(ms("2023-01-23T12:15:00Z"), base + 44_100_000);
    assert_eq!(ms("2023-01-23T12:15:00.123456789Z"), base + 44_100_123);
    assert_eq!(ms("2023-01-23T12:15:00,5Z"), base + 44_100_500);
    assert_eq!(
        ms("2023-01-23T12:15:00+01:00"),
        base + 44_100_000 - 3_600_000
    );
    assert_eq!(
        ms("2023-01-23T12:15:00-0800"),
        base + 44_100_000 + 8 * 3_600_000
    );
    assert_eq!(
        ms("2023-01-23T12:15:00-08"),
        base + 44_100_000 + 8 * 3_600_000
    );
    assert_eq!(ms("2023-01-23T12"), base + 43_200_000);
    assert_eq!(ms("2023-01-23T"), base);
    assert_eq!(ms("2023-01"), ms("2023-01-01"));
    assert_eq!(ms("2023"), ms("2023-01-01"));
    assert_eq!(
        ms("+12023-01-01"),
        millis_from_civil(12023, 1, 1, 0, 0, 0, 0).unwrap()
    );
    assert_eq!(ms("-0001-01-01"), -62_198_755_200_000);
    assert_eq!(ms("1969-12-31T23:59:59.999999Z"), -1);
    assert_eq!(ms("2023-01-23T12:15:00UTC"), base + 44_100_000);
}

#[test]
fn strict_date_optional_time_rejects() {
    for bad in [
        "",
        "1964-06-02 00:00:00",
        "23-01-23",
        "12023-01-01",
        "+2023-01-01",
        "2023-1-23",
        "2023-01-23T1",
        "2023-02-29",
        "2023-13-01",
        "2023-01-32",
        "2024-01-01T24:00",
        "2023-01-23T12:60",
        "2023-01-23T12:15:00+25:00",
        "2023-01-23t12:15",
        "2023-01-23T12:15:00z",
        "2023-01-23T12:15:00.Z",
        "2023-01-23T12:15:00.1234567891Z",
        "-0000-01-01",
        "2023-01-23TZ",
    ] {
        assert!(
            parse_strict_date_optional_time(bad).is_err(),
            "{bad:?} must be rejected"
        );
    }
    let e = parse_strict_date_optional_time("1964-06-02 00:00:00").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Text '1964-06-02 00:00:00' could not be parsed, unparsed text found at index 10"
    );
    assert_eq!(
        e.es_message("strict_date_optional_time"),
        "failed to parse date field [1964-06-02 00:00:00] with format [strict_date_optional_time]"
    );
    assert_eq!(
        parse_strict_date_optional_time("")
            .unwrap_err()
            .es_message("strict_date_optional_time"),
        "cannot parse empty datetime"
    );
}

#[test]
fn chrono_field_names_and_values() {
    assert_eq!(ChronoField::from_name("year"), Some(ChronoField::YEAR));
    assert_eq!(
        ChronoField::from_name("Month_Of_Year"),
        Some(ChronoField::MONTH_OF_YEAR)
    );
    assert_eq!(
        ChronoField::from_name("ALIGNED_WEEK_OF_YEAR"),
        Some(ChronoField::ALIGNED_WEEK_OF_YEAR)
    );
    assert_eq!(ChronoField::from_name("month"), None);
    assert_eq!(ChronoField::from_name("yearofera"), None);
    assert_eq!(ChronoField::ALL.len(), 30);
    for f in ChronoField::ALL {
        assert_eq!(ChronoField::from_name(&f.name().to_lowercase()), Some(*f));
    }
    assert_eq!(ChronoField::MONTH_OF_YEAR.to_string(), "MonthOfYear");

    let t = ms("2024-07-31T13:06:24.123Z");
    let expect = [
        (ChronoField::NANO_OF_SECOND, 123_000_000),
        (ChronoField::NANO_OF_DAY, 47_184_123_000_000),
        (ChronoField::MICRO_OF_SECOND, 123_000),
        (ChronoField::MICRO_OF_DAY, 47_184_123_000),
        (ChronoField::MILLI_OF_SECOND, 123),
        (ChronoField::MILLI_OF_DAY, 47_184_123),
        (ChronoField::SECOND_OF_MINUTE, 24),
        (ChronoField::SECOND_OF_DAY, 47_184),
        (ChronoField::MINUTE_OF_HOUR, 6),
        (ChronoField::MINUTE_OF_DAY, 786),
        (ChronoField::HOUR_OF_AMPM, 1),
        (ChronoField::CLOCK_HOUR_OF_AMPM, 1),
        (ChronoField::HOUR_OF_DAY, 13),
        (ChronoField::CLOCK_HOUR_OF_DAY, 13),
        (ChronoField::AMPM_OF_DAY, 1),
        (ChronoField::DAY_OF_WEEK, 3),
        (ChronoField::ALIGNED_DAY_OF_WEEK_IN_MONTH, 3),
        (ChronoField::ALIGNED_DAY_OF_WEEK_IN_YEAR, 3),
        (ChronoField::DAY_OF_MONTH, 31),
        (ChronoField::DAY_OF_YEAR, 213),
        (ChronoField::EPOCH_DAY, 19_935),
        (ChronoField::ALIGNED_WEEK_OF_MONTH, 5),
        (ChronoField::ALIGNED_WEEK_OF_YEAR, 31),
        (ChronoField::MONTH_OF_YEAR, 7),
        (ChronoField::PROLEPTIC_MONTH, 2024 * 12 + 6),
        (ChronoField::YEAR_OF_ERA, 2024),
        (ChronoField::YEAR, 2024),
        (ChronoField::ERA, 1),
        (ChronoField::INSTANT_SECONDS, 1_722_431_184),
        (ChronoField::OFFSET_SECONDS, 0),
    ];
    for (f, v) in expect {
        assert_eq!(f.get(t), v, "{f:?}");
    }
    let midnight = ms("2024-01-01");
    assert_eq!(ChronoField::CLOCK_HOUR_OF_DAY.get(midnight), 24);
    assert_eq!(ChronoField::CLOCK_HOUR_OF_AMPM.get(midnight), 12);
    let bc = ms("-0001-03-01");
    assert_eq!(ChronoField::YEAR_OF_ERA.get(bc), 2);
    assert_eq!(ChronoField::ERA.get(bc), 0);
    assert_eq!(ChronoField::INSTANT_SECONDS.get(-1), -1);
    for f in ChronoField::ALL {
        f.get(i64::MIN);
        f.get(i64::MAX);
    }
}

#[test]
fn add_months_clamps_like_plus_months() {
    assert_eq!(
        add_months(ms("2024-01-31T10:00:00Z"), 1),
        Some(ms("2024-02-29T10:00:00Z"))
    );
    assert_eq!(add_months(ms("2023-01-31"), 1), Some(ms("2023-02-28")));
    assert_eq!(add_months(ms("2023-03-31"), -1), Some(ms("2023-02-28")));
    assert_eq!(add_months(ms("2024-02-29"), 12), Some(ms("2025-02-28")));
    assert_eq!(
        add_months(ms("2023-12-15T01:02:03.004Z"), 1),
        Some(ms("2024-01-15T01:02:03.004Z"))
    );
    assert_eq!(
        add_months(ms("1953-04-04"), 4 * 12 + 3),
        Some(ms("1957-07-04"))
    );
    assert_eq!(add_months(ms("1970-01-01"), -1), Some(ms("1969-12-01")));
    assert_eq!(add_months(0, 0), Some(0));
    assert_eq!(add_months(i64::MAX, 1), None);
    assert_eq!(add_months(i64::MIN, -1), None);
    assert_eq!(add_months(0, i64::MAX), None);
    assert_eq!(add_months(0, i64::MIN), None);
}

#[test]
fn civil_round_trip() {
    assert_eq!(
        civil_from_millis(1_722_431_184_123),
        (2024, 7, 31, 13, 6, 24, 123)
    );
    assert_eq!(civil_from_millis(-1), (1969, 12, 31, 23, 59, 59, 999));
    assert_eq!(
        millis_from_civil(2024, 7, 31, 13, 6, 24, 123),
        Some(1_722_431_184_123)
    );
    assert_eq!(millis_from_civil(2023, 2, 29, 0, 0, 0, 0), None);
    assert_eq!(millis_from_civil(2024, 1, 1, 24, 0, 0, 0), None);
    assert_eq!(millis_from_civil(2024, 13, 1, 0, 0, 0, 0), None);
    assert_eq!(millis_from_civil(300_000_000, 1, 1, 0, 0, 0, 0), None);
    assert_eq!(millis_from_civil(i64::MAX, 1, 1, 0, 0, 0, 0), None);
    for m in [
        i64::MIN,
        i64::MIN + 1,
        -62_135_596_800_001,
        0,
        951_782_400_000,
        i64::MAX,
    ] {
        let (y, mo, d, h, mi, s, ms) = civil_from_millis(m);
        assert_eq!(millis_from_civil(y, mo, d, h, mi, s, ms), Some(m));
    }
}

#[test]
fn pattern_errors_use_java_messages() {
    let err = |p: &str| Pattern::compile(p).unwrap_err().to_string();
    assert_eq!(err("b"), "Unknown pattern letter: b");
    assert_eq!(err("aa"), "Too many pattern letters: a");
    assert_eq!(
        err("yyyy-MM-dd'"),
        "Pattern ends with an incomplete string literal: yyyy-MM-dd'"
    );
    assert_eq!(
        err("yyyy]"),
        "Pattern invalid as it contains ] without previous ["
    );
    assert_eq!(err("#"), "Pattern includes reserved character: '#'");
    assert_eq!(err("VVV"), "Pattern letter count must be 2: V");
    assert_eq!(err("cc"), "Invalid pattern \"cc\"");
    assert_eq!(
        err("SSSSSSSSSS"),
        "Minimum width must be from 0 to 9 inclusive but was 10"
    );
    assert_eq!(
        err("p"),
        "Pad letter 'p' must be followed by valid pad pattern: p"
    );
    assert_eq!(
        Pattern::compile("b").unwrap_err().es_message(),
        "Invalid format: [b]: Unknown pattern letter: b"
    );
    let pad = Pattern::compile("ppMMM").unwrap();
    assert_eq!(
        pad.try_format(0).unwrap_err().to_string(),
        "Cannot print as output of 3 characters exceeds pad width of 2"
    );
    assert_eq!(pad.format(0), "Jan");
}

#[test]
fn date_parse_csv_spec_examples() {
    let p = |pat: &str, s: &str| Pattern::compile(pat).unwrap().parse(s);
    assert_eq!(p("yyyy-MM-dd", "2023-02-01"), Ok(ms("2023-02-01")));
    assert_eq!(
        p("yyyy-MM-dd HH:mm:ss", "2023-02-01 12:15:55"),
        Ok(ms("2023-02-01T12:15:55Z"))
    );
    assert_eq!(p("yyyy-MM-dd", "2022-05-06"), Ok(ms("2022-05-06")));
    for (pat, s) in [
        ("yyyy-MM-dd", "2023-02-01 foo"),
        ("yyyy-MM", "2023-02-01"),
        ("yyyy-MM-dd HH:mm:ss", "2023-02-01"),
    ] {
        let e = p(pat, s).unwrap_err();
        assert_eq!(
            e.es_message(pat),
            format!("failed to parse date field [{s}] with format [{pat}]")
        );
    }
    assert_eq!(
        p("yyyy-MM-dd", "2023-02-01 foo").unwrap_err().to_string(),
        "Text '2023-02-01 foo' could not be parsed, unparsed text found at index 10"
    );
    assert_eq!(
        p("yyyy-MM-dd HH:mm:ss", "2023-02-01")
            .unwrap_err()
            .to_string(),
        "Text '2023-02-01' could not be parsed at index 10"
    );
    // Missing fields default (Elasticsearch's DateFormatters.from).
    assert_eq!(p("yyyy", "2023"), Ok(ms("2023-01-01")));
    assert_eq!(p("yyyy-MM", "2023-02"), Ok(ms("2023-02-01")));
    assert_eq!(p("HH:mm", "12:30"), Ok(ms("1970-01-01T12:30:00Z")));
    assert_eq!(p("MM-dd", "02-03"), Ok(ms("1970-02-03")));
    assert_eq!(
        p("yyyyMMddHHmmss", "20230201121555"),
        Ok(ms("2023-02-01T12:15:55Z"))
    );
    assert_eq!(
        p("uuuu-MM-dd'T'HH:mm:ssXXX", "2023-02-01T12:15:55+01:00"),
        Ok(ms("2023-02-01T11:15:55Z"))
    );
    assert_eq!(p("YYYY-'W'ww-e", "2025-W01-1"), Ok(ms("2024-12-30")));
    assert_eq!(p("MMM d, yyyy", "Feb 3, 2023"), Ok(ms("2023-02-03")));
    assert!(p("yyyy-MM-dd", "2023-02-30").is_err());
    assert!(p("yyyy-MM-dd", "").is_err());
    // Unsupported elements say so instead of guessing.
    let e = p("yyyy-MM-dd VV", "2023-02-01 Z").unwrap_err();
    assert!(matches!(e.kind, ParseErrorKind::Unsupported(_)), "{e:?}");
}

#[test]
fn far_instants_never_panic() {
    let patterns = [
        "GGGG uuuu yyyy YYYY-'W'ww-e D MMM d EEEE a hh:mm:ss.SSSSSSSSS n N A g Q qqqq xxx O",
        "yy YY uu F W c",
    ];
    for p in patterns {
        let pat = Pattern::compile(p).unwrap();
        for m in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let s = pat.format(m);
            assert!(!s.is_empty());
            let _ = pat.parse(&s);
        }
    }
}

#[test]
fn text_field_warning_helper() {
    assert!(Pattern::compile("MMMM").unwrap().has_text_fields());
    assert!(Pattern::compile("[EEE]").unwrap().has_text_fields());
    assert!(!Pattern::compile("yyyy-MM-dd").unwrap().has_text_fields());
}
