//! Java `java.time` semantics for trailhunt: `DateTimeFormatter` patterns as Elasticsearch's
//! `DATE_FORMAT`/`DATE_PARSE` use them, ES's `strict_date_optional_time` parsing and default
//! date rendering, `ChronoField` extraction, and the calendar helpers date arithmetic needs.
//!
//! Everything works on UTC instants held as `i64` epoch milliseconds in the proleptic
//! Gregorian calendar (java.time's `IsoChronology`). Every `i64` is a valid instant, so no
//! function here panics on far-past or far-future values; constructors return `None`/errors
//! instead of overflowing.

mod calendar;
mod field;
mod iso;
mod parse;
mod pattern;

pub use field::ChronoField;
pub use iso::{format_iso_millis, parse_strict_date_optional_time};
pub use parse::{ParseError, ParseErrorKind};
pub use pattern::{FormatError, Pattern, PatternError};

use calendar::{checked_days, month_len, Civil, MS_PER_DAY};

/// `ZonedDateTime.plusMonths` in UTC: the day of month is clamped to the target month's
/// length (Jan 31 + 1 month = Feb 28/29), time of day is kept. `None` when the result does not
/// fit in `i64` milliseconds (Java would throw `DateTimeException`/`ArithmeticException`).
pub fn add_months(epoch_millis: i64, months: i64) -> Option<i64> {
    let c = Civil::from_millis(epoch_millis);
    let total = c
        .year
        .checked_mul(12)?
        .checked_add(i64::from(c.month) - 1)?
        .checked_add(months)?;
    let year = total.div_euclid(12);
    let month = (total.rem_euclid(12) + 1) as u32;
    if !calendar::year_in_range(year) {
        return None;
    }
    let day = c.day.min(month_len(year, month));
    let days = checked_days(year, month, day)?;
    calendar::millis_from_days(days, c.milli_of_day)
}

/// Splits epoch millis into UTC civil fields: (year, month 1-12, day 1-31, hour, minute,
/// second, millisecond). Years may be negative (astronomical numbering: 0 = 1 BC).
pub fn civil_from_millis(ms: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let c = Civil::from_millis(ms);
    (c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli)
}

/// Inverse of [`civil_from_millis`]; `None` for an invalid date/time (Feb 30, hour 24, …) or
/// an instant outside the `i64` millisecond range.
pub fn millis_from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    if h > 23 || mi > 59 || s > 59 || ms > 999 {
        return None;
    }
    let days = checked_days(y, mo, d)?;
    let mod_ = ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(s)) * 1000 + i64::from(ms);
    debug_assert!(mod_ < MS_PER_DAY);
    calendar::millis_from_days(days, mod_)
}
