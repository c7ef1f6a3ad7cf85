//! Date functions (esql-spec §12): UTC, millisecond precision, Java DateTimeFormatter
//! patterns through the `javatime` crate so `DATE_FORMAT("YYYY-mm-dd", …)` gives ES's
//! week-year/minute/day answer.

use super::{scalar, FunctionDef, Impl};
use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use esql::catalog::{arity, expect, is_date, is_string, ArgError, Args, FunctionKind, Signature};
use esql::DataType;
use std::cell::RefCell;
use std::collections::HashMap;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(FunctionDef {
        sig: Signature {
            name: "NOW",
            kind: FunctionKind::Scalar,
            rule: |a| {
                arity(a, 0, Some(0))?;
                Ok(DataType::Date)
            },
        },
        aliases: &[],
        imp: Impl::Special,
    });
    defs.push(scalar("DATE_FORMAT", date_format_rule, date_format));
    defs.push(scalar("DATE_PARSE", date_parse_rule, date_parse));
    defs.push(scalar("DATE_TRUNC", date_trunc_rule, date_trunc));
    defs.push(scalar("DATE_EXTRACT", date_extract_rule, date_extract));
    defs.push(scalar("DATE_DIFF", date_diff_rule, date_diff));
    defs.push(scalar("DAY_NAME", one_date_keyword, |a, _| match a {
        [Value::Date(ms)] => {
            // 1970-01-01 was a Thursday.
            let names = [
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
                "Monday",
                "Tuesday",
                "Wednesday",
            ];
            Ok(Value::Str(
                names[ms.div_euclid(DAY_MS).rem_euclid(7) as usize].to_string(),
            ))
        }
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("MONTH_NAME", one_date_keyword, |a, _| match a {
        [Value::Date(ms)] => {
            let names = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            let (_, mo, ..) = javatime::civil_from_millis(*ms);
            Ok(Value::Str(names[mo as usize - 1].to_string()))
        }
        _ => Ok(Value::Null),
    }));
}

fn one_date_keyword(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_date, "datetime")?;
    Ok(DataType::Keyword)
}

fn date_diff_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 3, Some(3))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_date, "datetime")?;
    expect(a, 2, is_date, "datetime")?;
    Ok(DataType::Integer)
}

#[derive(Clone, Copy)]
enum DiffUnit {
    Fixed(i64),
    /// A fixed unit smaller than a millisecond: this many per millisecond.
    Sub(i64),
    Months(i64),
}

fn diff_unit(name: &str) -> Option<DiffUnit> {
    use DiffUnit::*;
    Some(match name.to_ascii_lowercase().as_str() {
        "year" | "years" | "yy" | "yyyy" => Months(12),
        "quarter" | "quarters" | "qq" | "q" => Months(3),
        "month" | "months" | "mm" | "m" => Months(1),
        "dayofyear" | "dy" | "y" | "day" | "days" | "dd" | "d" | "weekday" | "weekdays" | "dw" => {
            Fixed(DAY_MS)
        }
        "week" | "weeks" | "wk" | "ww" => Fixed(7 * DAY_MS),
        "hour" | "hours" | "hh" => Fixed(3_600_000),
        "minute" | "minutes" | "mi" | "n" => Fixed(60_000),
        "second" | "seconds" | "ss" | "s" => Fixed(1000),
        "millisecond" | "milliseconds" | "ms" => Fixed(1),
        "microsecond" | "microseconds" | "mcs" => Sub(1000),
        "nanosecond" | "nanoseconds" | "ns" => Sub(1_000_000),
        _ => return None,
    })
}

/// Whole units from `start` to `end` (negative when `end` is earlier), truncated as
/// java.time's `ChronoUnit.between`: calendar units count only completed months.
fn date_diff(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let [Value::Str(unit), Value::Date(start), Value::Date(end)] = args else {
        return Ok(Value::Null);
    };
    let u = diff_unit(unit).ok_or_else(|| {
        format!(
            "java.lang.IllegalArgumentException: A value of [YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND] or their aliases is required; received [{unit}]"
        )
    })?;
    let diff: i128 = match u {
        DiffUnit::Fixed(ms) => (*end as i128 - *start as i128) / ms as i128,
        DiffUnit::Sub(per_ms) => (*end as i128 - *start as i128) * per_ms as i128,
        DiffUnit::Months(n) => whole_months(*start, *end) as i128 / n as i128,
    };
    i32::try_from(diff).map(Value::Int).map_err(|_| {
        format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{diff}] out of [integer] range")
    }).map_err(Failure::from)
}

fn whole_months(start: i64, end: i64) -> i64 {
    let (y1, m1, d1, ..) = javatime::civil_from_millis(start);
    let (y2, m2, d2, ..) = javatime::civil_from_millis(end);
    let mut months = (y2 * 12 + m2 as i64) - (y1 * 12 + m1 as i64);
    // The rest of each instant within its month: day, then time of day.
    let rest = |d: u32, ms: i64| (d, ms.rem_euclid(DAY_MS));
    let (r1, r2) = (rest(d1, start), rest(d2, end));
    if months > 0 && r2 < r1 {
        months -= 1;
    } else if months < 0 && r2 > r1 {
        months += 1;
    }
    months
}

fn date_format_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    if a.types.len() == 2 {
        expect(a, 0, is_string, "string")?;
        expect(a, 1, is_date, "datetime")?;
    } else {
        expect(a, 0, is_date, "datetime")?;
    }
    Ok(DataType::Keyword)
}

fn date_parse_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    for i in 0..a.types.len() {
        expect(a, i, is_string, "string")?;
    }
    Ok(DataType::Date)
}

fn date_trunc_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, |t| t.is_span(), "dateperiod or timeduration")?;
    expect(a, 1, is_date, "datetime")?;
    Ok(DataType::Date)
}

fn date_extract_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_date, "datetime")?;
    Ok(DataType::Long)
}

thread_local! {
    /// Compiled patterns: queries use one or two constant patterns for many rows.
    static PATTERNS: RefCell<HashMap<String, Result<javatime::Pattern, Failure>>> = RefCell::new(HashMap::new());
}

fn with_pattern<T>(pattern: &str, f: impl FnOnce(&javatime::Pattern) -> T) -> Result<T, Failure> {
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        let compiled = cache.entry(pattern.to_string()).or_insert_with(|| {
            javatime::Pattern::compile(pattern).map_err(|e| Failure(e.es_message()))
        });
        match compiled {
            Ok(p) => Ok(f(p)),
            Err(e) => Err(e.clone()),
        }
    })
}

fn date_format(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match args {
        [Value::Date(ms)] => Ok(Value::Str(javatime::format_iso_millis(*ms))),
        [Value::Str(p), Value::Date(ms)] => with_pattern(p, |pat| Value::Str(pat.format(*ms))),
        _ => Ok(Value::Null),
    }
}

fn date_parse(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match args {
        [Value::Str(s)] => javatime::parse_strict_date_optional_time(s)
            .map(Value::Date)
            .map_err(|_| Failure(format!("java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time]"))),
        [Value::Str(p), Value::Str(s)] => with_pattern(p, |pat| pat.parse(s))?
            .map(Value::Date)
            .map_err(|_| Failure(format!("java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [{p}]"))),
        _ => Ok(Value::Null),
    }
}

fn date_extract(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match args {
        [Value::Str(part), Value::Date(ms)] => match javatime::ChronoField::from_name(part) {
            Some(f) => Ok(Value::Long(f.get(*ms))),
            None => Err(format!(
                "java.lang.IllegalArgumentException: No enum constant java.time.temporal.ChronoField.{}",
                part.to_ascii_uppercase()
            ).into()),
        },
        _ => Ok(Value::Null),
    }
}

/// A time span travels through row kernels as a string `months:days:millis` (spans are
/// literal-only, so this never reaches the user).
pub fn encode_span(s: &esql::ast::TimeSpan) -> String {
    format!("{}:{}:{}", s.months, s.days, s.millis)
}

pub fn decode_span(s: &str) -> Option<(i64, i64, i64)> {
    let mut it = s.split(':').map(|p| p.parse::<i64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

const DAY_MS: i64 = 86_400_000;

/// `date + span`, calendar-aware: months first (clamping the day), then days, then millis,
/// as java.time's `ZonedDateTime.plus(Period).plus(Duration)` does in UTC.
pub fn add_span(ms: i64, span: (i64, i64, i64), sign: i64) -> Option<i64> {
    let (months, days, millis) = span;
    let mut t = ms;
    if months != 0 {
        t = javatime::add_months(t, months.checked_mul(sign)?)?;
    }
    t = t.checked_add(days.checked_mul(sign)?.checked_mul(DAY_MS)?)?;
    t.checked_add(millis.checked_mul(sign)?)
}

pub fn date_add(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    date_plus(args, 1)
}

pub fn date_sub(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    date_plus(args, -1)
}

fn date_plus(args: &[Value], sign: i64) -> Result<Value, Failure> {
    match args {
        [Value::Date(ms), Value::Str(span)] => {
            let span = decode_span(span).ok_or("invalid time span")?;
            add_span(*ms, span, sign)
                .map(Value::Date)
                .ok_or_else(|| Failure::from("java.lang.ArithmeticException: long overflow"))
        }
        _ => Ok(Value::Null),
    }
}

fn date_trunc(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let [Value::Str(span), Value::Date(ms)] = args else {
        return Ok(Value::Null);
    };
    let (months, days, millis) = decode_span(span).ok_or("invalid time span")?;
    truncate(*ms, months, days, millis).map(Value::Date)
}

/// ES's rounding for DATE_TRUNC: one calendar unit (day, week starting Monday, month,
/// quarter, year) rounds on the calendar; fixed durations and multi-day periods round
/// relative to the epoch.
fn truncate(ms: i64, months: i64, days: i64, millis: i64) -> Result<i64, Failure> {
    let floor = |v: i64, unit: i64| v.div_euclid(unit) * unit;
    match (months, days, millis) {
        (0, 0, m) if m > 0 => Ok(floor(ms, m)),
        (0, 7, 0) => {
            // Weeks start on Monday; 1970-01-01 was a Thursday (epoch day 0 → +3).
            let day = ms.div_euclid(DAY_MS);
            let monday = day - (day + 3).rem_euclid(7);
            Ok(monday * DAY_MS)
        }
        (0, d, 0) if d > 0 => Ok(floor(ms, d * DAY_MS)),
        (m, 0, 0) if m > 0 => {
            let (y, mo, ..) = javatime::civil_from_millis(ms);
            let index = y * 12 + (mo as i64 - 1);
            let start = index.div_euclid(m) * m;
            let (sy, sm) = (start.div_euclid(12), start.rem_euclid(12) as u32 + 1);
            javatime::millis_from_civil(sy, sm, 1, 0, 0, 0, 0).ok_or_else(|| Failure::from("date out of range"))
        }
        _ => Err(format!(
            "java.lang.IllegalArgumentException: Time interval is not supported: {months} months, {days} days, {millis} ms"
        ).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation() {
        let t = javatime::parse_strict_date_optional_time("2024-07-31T13:06:24.123Z").unwrap();
        let iso = |ms| javatime::format_iso_millis(ms);
        assert_eq!(
            iso(truncate(t, 0, 1, 0).unwrap()),
            "2024-07-31T00:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 0, 7, 0).unwrap()),
            "2024-07-29T00:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 1, 0, 0).unwrap()),
            "2024-07-01T00:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 3, 0, 0).unwrap()),
            "2024-07-01T00:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 12, 0, 0).unwrap()),
            "2024-01-01T00:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 0, 0, 3_600_000).unwrap()),
            "2024-07-31T13:00:00.000Z"
        );
        assert_eq!(
            iso(truncate(t, 0, 0, 15 * 60_000).unwrap()),
            "2024-07-31T13:00:00.000Z"
        );
    }

    #[test]
    fn differences() {
        let t = |s: &str| Value::Date(javatime::parse_strict_date_optional_time(s).unwrap());
        let c = Ctx::new(DataType::Integer, vec![]);
        let d = |u: &str, a: &str, b: &str| date_diff(&[Value::Str(u.into()), t(a), t(b)], &c);
        let (a, b) = ("2023-12-31T23:59:59.999Z", "2024-12-31T23:59:59.999Z");
        assert_eq!(d("year", a, b), Ok(Value::Int(1)));
        assert_eq!(d("year", "2024-01-01T00:00:00Z", b), Ok(Value::Int(0)));
        assert_eq!(d("month", a, "2024-01-01T00:00:00Z"), Ok(Value::Int(0)));
        assert_eq!(d("m", a, "2024-02-01T00:00:00Z"), Ok(Value::Int(1)));
        assert_eq!(d("month", "2024-02-01T00:00:00Z", a), Ok(Value::Int(-1)));
        assert_eq!(
            d("weeks", "2023-12-02T11:00:00Z", "2023-12-24T11:00:00Z"),
            Ok(Value::Int(3))
        );
        assert_eq!(d("mcs", a, "2024-01-01T00:00:00Z"), Ok(Value::Int(1000)));
        assert!(d("ns", "2023-12-02T11:00:00Z", "2023-12-23T11:00:00Z")
            .unwrap_err()
            .0
            .contains("[1814400000000000] out of [integer] range"));
    }

    #[test]
    fn calendar_arithmetic() {
        let jan31 = javatime::parse_strict_date_optional_time("2024-01-31T10:00:00Z").unwrap();
        let r = add_span(jan31, (1, 0, 0), 1).unwrap();
        assert_eq!(javatime::format_iso_millis(r), "2024-02-29T10:00:00.000Z");
        let r = add_span(jan31, (0, 7, 0), -1).unwrap();
        assert_eq!(javatime::format_iso_millis(r), "2024-01-24T10:00:00.000Z");
    }
}
