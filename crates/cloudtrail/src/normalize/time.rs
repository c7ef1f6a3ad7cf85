//! The date formats the pipeline's `date` processors accept, and the way they write results.
//!
//! `ISO8601` in Elasticsearch is lenient about *which parts* are present (year, month, day,
//! hour, minute, second, 1–9 fractional digits, `Z` or an offset) but strict about the parts
//! themselves (two-digit fields, real calendar dates, `T` separator). Parsed instants are written
//! as `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC: always milliseconds, extra digits cut off.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

/// A parsed instant in UTC, with nanosecond precision (only milliseconds survive formatting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant(NaiveDateTime);

impl Instant {
    /// Milliseconds since the Unix epoch (floor), the value of an ES `date` field.
    pub fn epoch_millis(&self) -> i64 {
        self.0.and_utc().timestamp_millis()
    }

    /// The date processor's output format, e.g. `2014-07-16T15:49:27.000Z`.
    pub fn to_es_string(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let part = self.s.get(self.i..end)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i = end;
        Some(part.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
    /// 1–9 fractional digits as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || n > 9 {
            return None;
        }
        let v = self.s[start..self.i]
            .iter()
            .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        Some(v * 10u32.pow(9 - n as u32))
    }
    /// `Z`, `±HH`, `±HHmm`, `±HH:mm` → offset seconds east of UTC.
    fn zone(&mut self) -> Option<i64> {
        if self.eat(b'Z') {
            return Some(0);
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.i += 1;
        let h = self.digits(2)?;
        let m = if self.eat(b':') {
            self.digits(2)?
        } else if self.done() {
            0
        } else {
            self.digits(2)?
        };
        if h > 18 || m > 59 || (h == 18 && m > 0) {
            return None;
        }
        Some(sign * i64::from(h * 3600 + m * 60))
    }
}

fn finish(date: NaiveDate, time: NaiveTime, offset: i64) -> Option<Instant> {
    let local = NaiveDateTime::new(date, time);
    let utc = local.checked_sub_signed(chrono::Duration::seconds(offset))?;
    Some(Instant(utc))
}

/// Elasticsearch's `ISO8601` date format. A missing zone means UTC (the processor default).
pub fn parse_iso8601(s: &str) -> Option<Instant> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)? as i32;
    let (mut month, mut day) = (1, 1);
    if c.eat(b'-') {
        month = c.digits(2)?;
        if c.eat(b'-') {
            day = c.digits(2)?;
        }
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    if c.done() {
        return finish(date, NaiveTime::MIN, 0);
    }
    if !c.eat(b'T') {
        return None;
    }
    let hour = c.digits(2)?;
    let (mut minute, mut second, mut nanos) = (0, 0, 0);
    if c.eat(b':') {
        minute = c.digits(2)?;
        if c.eat(b':') {
            second = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                nanos = c.fraction()?;
            }
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = if c.done() { 0 } else { c.zone()? };
    if !c.done() {
        return None;
    }
    finish(date, time, offset)
}

/// `basic_date_time_no_millis` (`20131102T010628Z`) and `basic_date_time`
/// (`20131102T010628.123Z`), used for `sessionContext.attributes.creationDate`.
pub fn parse_basic(s: &str) -> Option<Instant> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)? as i32;
    let month = c.digits(2)?;
    let day = c.digits(2)?;
    if !c.eat(b'T') {
        return None;
    }
    let (hour, minute, second) = (c.digits(2)?, c.digits(2)?, c.digits(2)?);
    let nanos = if c.eat(b'.') { c.fraction()? } else { 0 };
    let offset = c.zone()?;
    if !c.done() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    finish(date, time, offset)
}

/// Parses an ES `date` field value as it appears in a document (what the column builder needs):
/// any ISO-8601 string; numbers are epoch milliseconds.
pub fn parse_date_field(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::String(s) => parse_iso8601(s).map(|i| i.epoch_millis()),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The agent's read time, in the format Beats writes `@timestamp`.
pub fn now_string() -> String {
    let now: DateTime<chrono::Utc> = chrono::Utc::now();
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> Option<String> {
        parse_iso8601(s).map(|i| i.to_es_string())
    }

    #[test]
    fn iso8601_variants() {
        assert_eq!(
            iso("2014-07-16T15:49:27Z").unwrap(),
            "2014-07-16T15:49:27.000Z"
        );
        assert_eq!(
            iso("2021-11-11T01:02:03.123456789Z").unwrap(),
            "2021-11-11T01:02:03.123Z"
        );
        assert_eq!(
            iso("2021-11-18T09:41:02-08:00").unwrap(),
            "2021-11-18T17:41:02.000Z"
        );
        assert_eq!(
            iso("2021-11-18T09:41:02+0130").unwrap(),
            "2021-11-18T08:11:02.000Z"
        );
        assert_eq!(
            iso("2021-11-18T09:41:02").unwrap(),
            "2021-11-18T09:41:02.000Z"
        );
        assert_eq!(iso("2021-11-18").unwrap(), "2021-11-18T00:00:00.000Z");
        assert_eq!(iso("2021-11-18T09").unwrap(), "2021-11-18T09:00:00.000Z");
        assert_eq!(
            iso("2021-11-18T09:41:02,5Z").unwrap(),
            "2021-11-18T09:41:02.500Z"
        );
        for bad in [
            "redacted",
            "2022-07-18 16:11:08",
            "2021-02-30T00:00:00Z",
            "2021-11-18T25:00:00Z",
            "2021-11-18T09:41:02ZZ",
            "",
            "1626000000",
        ] {
            assert_eq!(iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn basic_formats() {
        let b = |s| parse_basic(s).map(|i| i.to_es_string());
        assert_eq!(b("20131102T010628Z").unwrap(), "2013-11-02T01:06:28.000Z");
        assert_eq!(
            b("20131102T010628.123Z").unwrap(),
            "2013-11-02T01:06:28.123Z"
        );
        assert_eq!(
            b("20131102T010628+0100").unwrap(),
            "2013-11-02T00:06:28.000Z"
        );
        assert_eq!(b("2013-11-02T01:06:28Z"), None);
    }

    #[test]
    fn millis() {
        assert_eq!(
            parse_iso8601("1970-01-01T00:00:01.999999Z")
                .unwrap()
                .epoch_millis(),
            1999
        );
    }
}
