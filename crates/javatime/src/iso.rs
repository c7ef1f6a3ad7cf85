//! Elasticsearch's default date printing and its `strict_date_optional_time` parser.

use crate::calendar::{checked_days, millis_from_days, Civil};
use crate::parse::{ParseError, ParseErrorKind};
use crate::pattern::{format_number, Sign};

/// Elasticsearch's default rendering of a `date` (`strict_date_optional_time` printer):
/// `2024-07-31T13:06:24.000Z`. The year is at least four digits with Java's EXCEEDS_PAD sign
/// rule, so years above 9999 get a `+` (`+10000-01-01T00:00:00.000Z`) and years before 1 are
/// astronomical with `-` (`-0001-…` is 2 BC).
pub fn format_iso_millis(epoch_millis: i64) -> String {
    let c = Civil::from_millis(epoch_millis);
    let mut s = String::with_capacity(24);
    format_number(c.year, 4, Sign::ExceedsPad, &mut s);
    s.push_str(&format!(
        "-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.month, c.day, c.hour, c.minute, c.second, c.milli
    ));
    s
}

/// Cursor over the input with Java-like failure positions.
struct Cur<'a> {
    t: &'a [u8],
    p: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.t.get(self.p).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.p += 1;
            true
        } else {
            false
        }
    }
    /// Exactly two ASCII digits.
    fn two(&mut self) -> Option<u32> {
        let a = self.t.get(self.p).filter(|c| c.is_ascii_digit())?;
        let b = self.t.get(self.p + 1).filter(|c| c.is_ascii_digit())?;
        self.p += 2;
        Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    }
    /// 1-9 fraction digits as nanoseconds.
    fn fraction(&mut self) -> Option<i64> {
        let start = self.p;
        let mut v: i64 = 0;
        while self.p < self.t.len() && self.p - start < 9 && self.t[self.p].is_ascii_digit() {
            v = v * 10 + i64::from(self.t[self.p] - b'0');
            self.p += 1;
        }
        let n = self.p - start;
        if n == 0 {
            return None;
        }
        Some(v * 10i64.pow(9 - n as u32))
    }
}

/// Parses what `appendZoneOrOffsetId()` accepts (without region ids): `Z`, `UTC`/`GMT`/`UT`
/// optionally followed by an offset, `±HH:MM[:SS]`. Returns offset seconds.
fn zone(c: &mut Cur<'_>) -> Option<i64> {
    let start = c.p;
    if c.eat(b'Z') {
        return Some(0);
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if c.t[c.p..].starts_with(prefix.as_bytes()) {
            c.p += prefix.len();
            // `UTC+01:00`; when no offset follows the bare prefix is the zone.
            if matches!(c.peek(), Some(b'+') | Some(b'-')) {
                if let Some(o) = offset(c) {
                    return Some(o);
                }
            }
            return Some(0);
        }
    }
    let r = offset(c);
    if r.is_none() {
        c.p = start;
    }
    r
}

/// `appendOffset("+HHmm", "Z")` without the `Z`: `±HH` with optional `mm`.
fn no_colon_offset(c: &mut Cur<'_>) -> Option<i64> {
    let start = c.p;
    let neg = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    c.p += 1;
    let Some(h) = c.two().filter(|h| *h <= 23) else {
        c.p = start;
        return None;
    };
    let save = c.p;
    let m = match c.two() {
        Some(v) if v <= 59 => v,
        _ => {
            c.p = save;
            0
        }
    };
    let secs = i64::from(h * 3600 + m * 60);
    Some(if neg { -secs } else { secs })
}

fn offset(c: &mut Cur<'_>) -> Option<i64> {
    let start = c.p;
    let neg = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    c.p += 1;
    // Zone ids need the colon form `+HH:MM[:ss]`; `+0100`/`+01` are left to the no-colon
    // offset that follows.
    let hm = c.two().filter(|h| *h <= 23).and_then(|h| {
        if !c.eat(b':') {
            return None;
        }
        c.two().filter(|m| *m <= 59).map(|m| (h, m))
    });
    let Some((h, m)) = hm else {
        c.p = start;
        return None;
    };
    let mut s = 0;
    if c.peek() == Some(b':') {
        let save = c.p;
        c.p += 1;
        match c.two() {
            Some(v) if v <= 59 => s = v,
            _ => c.p = save,
        }
    }
    let secs = i64::from(h * 3600 + m * 60 + s);
    Some(if neg { -secs } else { secs })
}

/// Parses Elasticsearch's `strict_date_optional_time` (what `TO_DATETIME`, `DATE_PARSE`
/// without pattern and implicit string→date casts use): `yyyy[-MM[-dd]]` followed optionally by
/// `T[HH[:mm[:ss[.fraction|,fraction]]][zone]]`; the year has 4-9 digits (more than 4 need a
/// `+`, a `-` makes it negative); zone is `Z`, `±HH:MM`, `±HHMM`, `±HH` or `UTC`/`GMT`.
/// Missing parts default to the start of the year/month/day, UTC; fractions beyond
/// milliseconds are truncated. Region zone ids (`Europe/Paris`) are not supported.
pub fn parse_strict_date_optional_time(s: &str) -> Result<i64, ParseError> {
    if s.is_empty() {
        return Err(ParseError::new(s, ParseErrorKind::Empty));
    }
    let err_at = |i: usize| Err(ParseError::new(s, ParseErrorKind::AtIndex(i)));
    let mut c = Cur {
        t: s.as_bytes(),
        p: 0,
    };
    // Year: appendValue(YEAR, 4, 9, EXCEEDS_PAD), strict.
    let (mut neg, mut plus) = (false, false);
    if c.eat(b'-') {
        neg = true;
    } else if c.eat(b'+') {
        plus = true;
    }
    let ystart = c.p;
    let mut year: i64 = 0;
    while c.p < c.t.len() && c.p - ystart < 9 && c.t[c.p].is_ascii_digit() {
        year = year * 10 + i64::from(c.t[c.p] - b'0');
        c.p += 1;
    }
    let ylen = c.p - ystart;
    if ylen < 4 {
        return err_at(ystart);
    }
    if neg {
        if year == 0 {
            return err_at(ystart - 1);
        }
        year = -year;
    } else if plus && ylen <= 4 {
        return err_at(ystart - 1);
    } else if !plus && ylen > 4 {
        return err_at(ystart);
    }
    let (mut month, mut day) = (None, None);
    let save = c.p;
    if c.eat(b'-') {
        match c.two() {
            Some(m) => {
                month = Some(m);
                let save2 = c.p;
                if c.eat(b'-') {
                    match c.two() {
                        Some(d) => day = Some(d),
                        None => c.p = save2,
                    }
                }
            }
            None => c.p = save,
        }
    }
    let (mut h, mut mi, mut sec, mut nanos, mut off) = (None, None, None, 0i64, 0i64);
    if c.eat(b'T') {
        let tstart = c.p;
        if let Some(hh) = c.two() {
            h = Some(hh);
            let save = c.p;
            if c.eat(b':') {
                match c.two() {
                    Some(m) => {
                        mi = Some(m);
                        let save2 = c.p;
                        if c.eat(b':') {
                            match c.two() {
                                Some(ss) => {
                                    sec = Some(ss);
                                    let save3 = c.p;
                                    if c.eat(b'.') || c.eat(b',') {
                                        match c.fraction() {
                                            Some(n) => nanos = n,
                                            None => c.p = save3,
                                        }
                                    }
                                }
                                None => c.p = save2,
                            }
                        }
                    }
                    None => c.p = save,
                }
            }
            // `appendZoneOrOffsetId()` then, as a second optional section,
            // `appendOffset("+HHmm", "Z")`; when both match (`…+03:30Z`) the zone wins.
            let z = zone(&mut c);
            let o = if c.eat(b'Z') {
                Some(0)
            } else {
                no_colon_offset(&mut c)
            };
            if let Some(v) = z.or(o) {
                off = v;
            }
        } else {
            c.p = tstart;
        }
    }
    if c.p < c.t.len() {
        // Java reports unparsed text with a char (not byte) index.
        let idx = s[..c.p].chars().count();
        return Err(ParseError::new(s, ParseErrorKind::UnparsedText(idx)));
    }
    let invalid = |m: String| Err(ParseError::new(s, ParseErrorKind::Invalid(m)));
    let month_v = month.unwrap_or(1);
    if !(1..=12).contains(&month_v) {
        return invalid(format!(
            "Invalid value for MonthOfYear (valid values 1 - 12): {month_v}"
        ));
    }
    let day_v = day.unwrap_or(1);
    if !(1..=31).contains(&day_v) {
        return invalid(format!(
            "Invalid value for DayOfMonth (valid values 1 - 28/31): {day_v}"
        ));
    }
    let Some(days) = checked_days(year, month_v, day_v) else {
        return invalid(format!("Invalid date '{year}-{month_v:02}-{day_v:02}'"));
    };
    let (hv, mv, sv) = (h.unwrap_or(0), mi.unwrap_or(0), sec.unwrap_or(0));
    if hv > 23 {
        return invalid(format!(
            "Invalid value for HourOfDay (valid values 0 - 23): {hv}"
        ));
    }
    if mv > 59 {
        return invalid(format!(
            "Invalid value for MinuteOfHour (valid values 0 - 59): {mv}"
        ));
    }
    if sv > 59 {
        return invalid(format!(
            "Invalid value for SecondOfMinute (valid values 0 - 59): {sv}"
        ));
    }
    let mod_ =
        (i64::from(hv) * 3600 + i64::from(mv) * 60 + i64::from(sv)) * 1000 + nanos / 1_000_000;
    millis_from_days(days, mod_)
        .and_then(|ms| ms.checked_sub(off * 1000))
        .ok_or_else(|| ParseError::new(s, ParseErrorKind::Invalid("long overflow".into())))
}
