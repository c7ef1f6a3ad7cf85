//! Parsing with a compiled [`Pattern`] the way Elasticsearch's `DATE_PARSE` does:
//! `DateTimeFormatter.parse` (strict, case sensitive, adjacent value parsing) with
//! `ResolverStyle.STRICT`, followed by Elasticsearch's `DateFormatters.from`, which fills in
//! missing fields (midnight, January 1st, 1970) and applies a parsed offset.
//!
//! One file (~900 lines) on purpose: the parser walks the compiled elements of
//! `pattern.rs` with the JDK's parse-position rules and then resolves fields with its
//! STRICT rules; the two halves share one state and are checked against the JDK together
//! (`tests/parse_oracle.rs`).

use crate::calendar::{
    checked_days, civil_from_days, days_from_iso_week, is_leap, iso_weeks_in_year,
    millis_from_days, Civil, MS_PER_DAY,
};
use crate::pattern::{base_2000_epoch_day, Elem, Num, NumField, NumKind, Pattern, Sign};
use std::fmt;

/// Why a parse failed; see [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The text did not match the pattern at this (0-based, in chars) index.
    AtIndex(usize),
    /// The pattern matched a prefix; text remains from this index.
    UnparsedText(usize),
    /// The text matched but the fields do not form a valid date (Java's resolver message,
    /// e.g. `Invalid date 'FEBRUARY 30'`).
    Invalid(String),
    /// Elasticsearch rejects empty input before Java sees it.
    Empty,
    /// This implementation cannot parse that pattern element (zone names, `B`, `W`).
    Unsupported(String),
}

/// A failed parse. `Display` follows Java's `DateTimeParseException` message
/// (`Text '2023-02-01 foo' could not be parsed, unparsed text found at index 10`);
/// [`ParseError::es_message`] gives the Elasticsearch warning text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub text: String,
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(text: &str, kind: ParseErrorKind) -> ParseError {
        ParseError {
            text: text.to_string(),
            kind,
        }
    }

    /// The message Elasticsearch puts in its `java.lang.IllegalArgumentException` warning:
    /// `failed to parse date field [<text>] with format [<format>]` (or
    /// `cannot parse empty datetime`).
    pub fn es_message(&self, format: &str) -> String {
        match self.kind {
            ParseErrorKind::Empty => "cannot parse empty datetime".to_string(),
            _ => format!(
                "failed to parse date field [{}] with format [{}]",
                self.text, format
            ),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Java abbreviates texts longer than 64 chars in its messages.
        let abbr: String = if self.text.chars().count() > 64 {
            let mut s: String = self.text.chars().take(64).collect();
            s.push_str("...");
            s
        } else {
            self.text.clone()
        };
        match &self.kind {
            ParseErrorKind::AtIndex(i) => {
                write!(f, "Text '{abbr}' could not be parsed at index {i}")
            }
            ParseErrorKind::UnparsedText(i) => write!(
                f,
                "Text '{abbr}' could not be parsed, unparsed text found at index {i}"
            ),
            ParseErrorKind::Invalid(m) => write!(f, "Text '{abbr}' could not be parsed: {m}"),
            ParseErrorKind::Empty => f.write_str("cannot parse empty datetime"),
            ParseErrorKind::Unsupported(m) => write!(f, "Text '{abbr}' could not be parsed: {m}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parsed field keys: the numeric fields plus the offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    F(NumField),
    Offset,
}

/// `DateTimeParseContext`'s current `Parsed` field map (tiny, so a vector).
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields {
    vals: Vec<(Key, i64)>,
}

impl Fields {
    pub(crate) fn get(&self, k: Key) -> Option<i64> {
        self.vals.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v)
    }
    fn f(&self, f: NumField) -> Option<i64> {
        self.get(Key::F(f))
    }
    /// `setParsedField`: a different value for an already parsed field is a parse failure.
    pub(crate) fn set(&mut self, k: Key, v: i64) -> bool {
        match self.vals.iter_mut().find(|(kk, _)| *kk == k) {
            Some((_, old)) => {
                let same = *old == v;
                *old = v;
                same
            }
            None => {
                self.vals.push((k, v));
                true
            }
        }
    }
    fn remove(&mut self, f: NumField) -> Option<i64> {
        let i = self.vals.iter().position(|(k, _)| *k == Key::F(f))?;
        Some(self.vals.remove(i).1)
    }
    fn has(&self, f: NumField) -> bool {
        self.f(f).is_some()
    }
}

/// Parse result of one element: `Ok(new position)` or `Err(error position)` (Java's `~pos`).
type Step = Result<usize, usize>;

pub(crate) struct Ctx<'a> {
    pub text: &'a [char],
    pub fields: Fields,
    pub unsupported: Option<String>,
    /// A `DateTimeException` thrown while parsing (not a mismatch): aborts the whole parse,
    /// optional sections included.
    pub fatal: Option<String>,
}

fn digit(c: char) -> Option<u32> {
    c.to_digit(10).filter(|_| c.is_ascii_digit())
}

impl Ctx<'_> {
    fn set(&mut self, k: Key, v: i64, err_pos: usize, ok_pos: usize) -> Step {
        if self.fields.set(k, v) {
            Ok(ok_pos)
        } else {
            Err(err_pos)
        }
    }

    pub(crate) fn elems(&mut self, elems: &[Elem], mut pos: usize) -> Step {
        for e in elems {
            pos = self.elem(e, pos, self.text.len())?;
        }
        Ok(pos)
    }

    /// Parses one element; `end` is the logical text length (pad decorators shorten it).
    fn elem(&mut self, e: &Elem, pos: usize, end: usize) -> Step {
        let text = &self.text[..end];
        match e {
            Elem::Literal(s) => {
                let lit: Vec<char> = s.chars().collect();
                if pos + lit.len() <= text.len() && text[pos..pos + lit.len()] == lit[..] {
                    Ok(pos + lit.len())
                } else {
                    Err(pos)
                }
            }
            Elem::Number(n) => match n.kind {
                NumKind::Fraction => self.fraction(n, pos, end),
                _ => self.number(n, pos, end),
            },
            Elem::Text(f, style) => {
                let field = f.num_field();
                if matches!(f, crate::pattern::TextField::DayPeriod) {
                    self.unsupported = Some("parsing day periods (B) is not supported".into());
                    return Err(pos);
                }
                match f.texts(*style) {
                    Some(mut texts) => {
                        // Java tries the longest texts first; later duplicates win in its
                        // reverse map, so keep the last value per text.
                        texts.reverse();
                        texts.sort_by_key(|(_, t)| std::cmp::Reverse(t.len()));
                        for (v, t) in texts {
                            let t: Vec<char> = t.chars().collect();
                            if pos + t.len() <= text.len() && text[pos..pos + t.len()] == t[..] {
                                return self.set(Key::F(field), v, pos, pos + t.len());
                            }
                        }
                        Err(pos)
                    }
                    None => {
                        let n = plain_num(field, 1, 19, Sign::Normal);
                        self.number(&n, pos, end)
                    }
                }
            }
            Elem::Offset { pattern, no_offset } => self.offset(pattern, no_offset, pos, end),
            Elem::LocalizedOffset { full } => self.localized_offset(*full, pos, end),
            Elem::Zone { letter } => {
                self.unsupported = Some(format!(
                    "parsing zone names/ids (pattern letter {letter}) is not supported"
                ));
                Err(pos)
            }
            Elem::Optional(items) => {
                let saved = self.fields.clone();
                let mut p = pos;
                for item in items {
                    match self.elem(item, p, end) {
                        Ok(np) => p = np,
                        Err(e) if self.fatal.is_some() || self.unsupported.is_some() => {
                            return Err(e)
                        }
                        Err(_) => {
                            self.fields = saved;
                            return Ok(pos);
                        }
                    }
                }
                Ok(p)
            }
            Elem::Pad { width, inner } => {
                if pos == end {
                    return Err(pos);
                }
                let pad_end = pos + width;
                if pad_end > end {
                    return Err(pos);
                }
                let mut p = pos;
                while p < pad_end && self.text[p] == ' ' {
                    p += 1;
                }
                let r = self.elem(inner, p, pad_end).unwrap_or(usize::MAX);
                if r != pad_end {
                    // The JDK reports `position + pos` here.
                    return Err(pos + p);
                }
                Ok(r)
            }
        }
    }

    /// `NumberPrinterParser.parse` (and `ReducedPrinterParser.setValue`) in strict mode.
    fn number(&mut self, n: &Num, position: usize, end: usize) -> Step {
        let text = &self.text[..end];
        let len = text.len();
        if position == len {
            return Err(position);
        }
        let mut position = position;
        let (mut negative, mut positive) = (false, false);
        match text[position] {
            '+' => {
                if n.sign != Sign::ExceedsPad {
                    return Err(position);
                }
                positive = true;
                position += 1;
            }
            '-' => {
                if n.sign == Sign::NotNegative {
                    return Err(position);
                }
                negative = true;
                position += 1;
            }
            _ => {}
        }
        let eff_min = n.min;
        let min_end = position + eff_min;
        if min_end > len {
            return Err(position);
        }
        let mut eff_max = n.max + n.subsequent.max(0) as usize;
        let mut total: i128 = 0;
        let mut pos = position;
        let mut overflow = false;
        for pass in 0..2 {
            let max_end = (pos + eff_max).min(len);
            while pos < max_end {
                let Some(d) = digit(text[pos]) else {
                    if pos < min_end {
                        return Err(position);
                    }
                    break;
                };
                pos += 1;
                match total
                    .checked_mul(10)
                    .and_then(|t| t.checked_add(i128::from(d)))
                {
                    Some(t) => total = t,
                    None => overflow = true,
                }
            }
            if n.subsequent > 0 && pass == 0 {
                let parse_len = pos - position;
                eff_max = eff_min.max(parse_len.saturating_sub(n.subsequent as usize));
                pos = position;
                total = 0;
                overflow = false;
            } else {
                break;
            }
        }
        if overflow {
            return Err(position);
        }
        if negative {
            if total == 0 {
                return Err(position - 1);
            }
            total = -total;
        } else if n.sign == Sign::ExceedsPad {
            let parse_len = pos - position;
            if positive {
                if parse_len <= n.min {
                    return Err(position - 1);
                }
            } else if parse_len > n.min {
                return Err(position);
            }
        }
        if total > i128::from(i64::MAX) || total < i128::from(i64::MIN) {
            // Java drops the last digit when the value exceeds a long.
            total /= 10;
            pos -= 1;
        }
        let mut value = total as i64;
        if n.kind == NumKind::Reduced && pos - position == 2 && value >= 0 {
            let base = if n.field == NumField::WeekBasedYear {
                Civil::from_millis(base_2000_epoch_day() * MS_PER_DAY)
                    .iso_week()
                    .0
            } else {
                2000
            };
            let last = base % 100;
            let base_part = base - last;
            value += base_part;
            if value < base {
                value += 100;
            }
        }
        self.set(Key::F(n.field), value, position, pos)
    }

    /// `FractionPrinterParser.parse` without decimal point (`S…`), strict.
    fn fraction(&mut self, n: &Num, position: usize, end: usize) -> Step {
        let text = &self.text[..end];
        let len = text.len();
        if position == len && n.min > 0 {
            return Err(position);
        }
        let min_end = position + n.min;
        if min_end > len {
            return Err(position);
        }
        let max_end = (position + n.max).min(len);
        let mut total: i64 = 0;
        let mut pos = position;
        while pos < max_end {
            let Some(d) = digit(text[pos]) else {
                if pos < min_end {
                    return Err(position);
                }
                break;
            };
            total = total * 10 + i64::from(d);
            pos += 1;
        }
        let digits = pos - position;
        let nanos = total * 10i64.pow(9 - digits as u32);
        self.set(Key::F(NumField::NanoOfSecond), nanos, position, pos)
    }

    /// `OffsetIdPrinterParser.parse`, strict.
    fn offset(&mut self, pattern: &str, no_offset: &str, position: usize, end: usize) -> Step {
        let text = &self.text[..end];
        let len = text.len();
        if position == len {
            return Err(position);
        }
        let nt: Vec<char> = no_offset.chars().collect();
        if position + nt.len() <= len && text[position..position + nt.len()] == nt[..] {
            return self.set(Key::Offset, 0, position, position + nt.len());
        }
        let sign = text[position];
        if sign != '+' && sign != '-' {
            return Err(position);
        }
        let colon = pattern.contains(':');
        let two = |p: usize| -> Option<i64> {
            if p + 2 > len {
                return None;
            }
            Some(i64::from(digit(text[p])? * 10 + digit(text[p + 1])?))
        };
        // Parses `[:]dd` at *p into a value < 60; mirrors `parseDigits`.
        let part = |p: &mut usize, with_colon: bool| -> Option<i64> {
            let mut q = *p;
            if with_colon {
                if q >= len || text[q] != ':' {
                    return None;
                }
                q += 1;
            }
            let v = two(q)?;
            if v > 59 {
                return None;
            }
            *p = q + 2;
            Some(v)
        };
        let mut p = position + 1;
        let Some(h) = two(p) else {
            return Err(position);
        };
        p += 2;
        let mut m = 0;
        let mut s = 0;
        let body = &pattern[3..];
        let mins = body.trim_start_matches(':');
        if mins.starts_with("MM") {
            match part(&mut p, colon) {
                Some(v) => m = v,
                None => return Err(position),
            }
        } else if mins.starts_with("mm") {
            if let Some(v) = part(&mut p, colon) {
                m = v;
            }
        }
        if pattern.ends_with("SS") {
            match part(&mut p, colon) {
                Some(v) => s = v,
                None => return Err(position),
            }
        } else if pattern.ends_with("ss") {
            if let Some(v) = part(&mut p, colon) {
                s = v;
            }
        }
        if h > 23 {
            self.fatal = Some("Value out of range: Hour[0-23], Minute[0-59], Second[0-59]".into());
            return Err(position);
        }
        let neg = if sign == '-' { -1 } else { 1 };
        self.set(Key::Offset, neg * (h * 3600 + m * 60 + s), position, p)
    }

    /// `LocalizedOffsetIdPrinterParser.parse` (`GMT`, `GMT+8`, `GMT+08:00`).
    fn localized_offset(&mut self, full: bool, position: usize, end: usize) -> Step {
        let text = &self.text[..end];
        let len = text.len();
        let gmt = ['G', 'M', 'T'];
        if position + 3 > len || text[position..position + 3] != gmt {
            return Err(position);
        }
        let mut pos = position + 3;
        if pos == len {
            return self.set(Key::Offset, 0, position, pos);
        }
        let neg = match text[pos] {
            '+' => 1,
            '-' => -1,
            _ => return self.set(Key::Offset, 0, position, pos),
        };
        pos += 1;
        let dig = |p: usize| -> Option<i64> { text.get(p).and_then(|c| digit(*c)).map(i64::from) };
        let mut h;
        let (mut m, mut s) = (0, 0);
        if full {
            let (Some(h1), Some(h2)) = (dig(pos), dig(pos + 1)) else {
                return Err(position);
            };
            if text.get(pos + 2) != Some(&':') {
                return Err(position);
            }
            h = h1 * 10 + h2;
            let (Some(m1), Some(m2)) = (dig(pos + 3), dig(pos + 4)) else {
                return Err(position);
            };
            m = m1 * 10 + m2;
            pos += 5;
            if pos + 2 < len && text[pos] == ':' {
                if let (Some(s1), Some(s2)) = (dig(pos + 1), dig(pos + 2)) {
                    s = s1 * 10 + s2;
                    pos += 3;
                }
            }
        } else {
            let Some(h1) = dig(pos) else {
                return Err(position);
            };
            h = h1;
            pos += 1;
            if pos < len {
                if let Some(h2) = dig(pos) {
                    h = h * 10 + h2;
                    pos += 1;
                }
                if pos + 2 < len && text[pos] == ':' {
                    if let (Some(m1), Some(m2)) = (dig(pos + 1), dig(pos + 2)) {
                        m = m1 * 10 + m2;
                        pos += 3;
                        if pos + 2 < len && text[pos] == ':' {
                            if let (Some(s1), Some(s2)) = (dig(pos + 1), dig(pos + 2)) {
                                s = s1 * 10 + s2;
                                pos += 3;
                            }
                        }
                    }
                }
            }
        }
        self.set(Key::Offset, neg * (h * 3600 + m * 60 + s), position, pos)
    }
}

fn plain_num(field: NumField, min: usize, max: usize, sign: Sign) -> Num {
    Num::new(field, min, max, sign)
}

/// A `DateTimeException` message during resolution.
type Res<T> = Result<T, String>;

fn check(f: NumField, v: i64, lo: i64, hi: i64) -> Res<i64> {
    if v < lo || v > hi {
        Err(format!(
            "Invalid value for {} (valid values {lo} - {hi}): {v}",
            f.java_name()
        ))
    } else {
        Ok(v)
    }
}

/// `addFieldValue`: a derived value must agree with an already present one.
fn add(fields: &mut Fields, f: NumField, v: i64) -> Res<()> {
    match fields.f(f) {
        Some(old) if old != v => Err(format!(
            "Conflict found: {} {old} differs from {} {v}",
            f.java_name(),
            f.java_name()
        )),
        _ => {
            fields.set(Key::F(f), v);
            Ok(())
        }
    }
}

const MONTH_NAMES: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];

/// `LocalDate.of` with Java's strict messages; returns the epoch day.
fn local_date(y: i64, m: i64, d: i64) -> Res<i64> {
    check(NumField::Year, y, -999_999_999, 999_999_999)?;
    check(NumField::Month, m, 1, 12)?;
    check(NumField::DayOfMonth, d, 1, 31)?;
    match checked_days(y, m as u32, d as u32) {
        Some(days) => Ok(days),
        None if d == 29 => Err(format!(
            "Invalid date 'February 29' as '{y}' is not a leap year"
        )),
        None => Err(format!(
            "Invalid date '{} {d}'",
            MONTH_NAMES[m as usize - 1]
        )),
    }
}

/// `LocalDate.ofYearDay` with Java's strict messages.
fn year_day(y: i64, doy: i64) -> Res<i64> {
    check(NumField::Year, y, -999_999_999, 999_999_999)?;
    check(NumField::DayOfYear, doy, 1, 366)?;
    if doy == 366 && !is_leap(y) {
        return Err(format!(
            "Invalid date 'DayOfYear 366' as '{y}' is not a leap year"
        ));
    }
    checked_days(y, 1, 1)
        .map(|d| d + doy - 1)
        .ok_or_else(|| format!("Invalid value for Year: {y}"))
}

/// The value a resolved date has for a leftover date field (for `Parsed.crossCheck`).
fn date_field(days: i64, f: NumField) -> Option<i64> {
    let c = Civil::from_millis(days.checked_mul(MS_PER_DAY)?);
    match f {
        NumField::Era
        | NumField::YearOfEra
        | NumField::Year
        | NumField::Quarter
        | NumField::Month
        | NumField::DayOfYear
        | NumField::DayOfMonth
        | NumField::AlignedDowInMonth
        | NumField::DayOfWeek
        | NumField::WeekBasedYear
        | NumField::WeekOfWeekBasedYear
        | NumField::WeekOfMonth
        | NumField::ModifiedJulianDay
        | NumField::LocalDayOfWeek => Some(f.value(&c)),
        _ => None,
    }
}

/// Resolves parsed fields to epoch millis: Java's `Parsed.resolve` with
/// `ResolverStyle.STRICT`, then Elasticsearch's `DateFormatters.from` defaults.
pub(crate) fn resolve(mut fl: Fields) -> Res<i64> {
    use NumField as F;
    let offset = fl.get(Key::Offset).unwrap_or(0);
    if offset.abs() > 18 * 3600 {
        return Err("Zone offset not in valid range: -18:00 to +18:00".into());
    }
    let mut date: Option<i64> = None;

    // Non-ChronoField fields first (JulianFields / WeekFields), as Parsed.resolveFields does.
    if let Some(mjd) = fl.remove(F::ModifiedJulianDay) {
        let ed = mjd - 40_587;
        add(&mut fl, F::ModifiedJulianDay, mjd).ok();
        fl.remove(F::ModifiedJulianDay);
        date = Some(ed);
    }
    if let Some(ldow) = fl.remove(F::LocalDayOfWeek) {
        check(F::LocalDayOfWeek, ldow, 1, 7)?;
        add(&mut fl, F::DayOfWeek, ldow)?;
    }
    if fl.has(F::WeekOfMonth) {
        return Err("resolving week-of-month (W) is not supported".into());
    }
    if date.is_none() && fl.has(F::DayOfWeek) {
        if let (Some(wby), Some(w)) = (fl.f(F::WeekBasedYear), fl.f(F::WeekOfWeekBasedYear)) {
            check(F::WeekBasedYear, wby, -999_999_999, 999_999_999)?;
            check(F::WeekOfWeekBasedYear, w, 1, 53)?;
            let dow = check(F::DayOfWeek, fl.f(F::DayOfWeek).unwrap_or(1), 1, 7)?;
            if !crate::calendar::year_in_range(wby) {
                return Err(format!("Invalid value for Year: {wby}"));
            }
            // `WeekFields.ofWeekBasedYear` clamps the week to the year's last week.
            let w = w.min(i64::from(iso_weeks_in_year(wby)));
            let d = days_from_iso_week(wby, w, dow);
            if Civil::from_millis(d * MS_PER_DAY).iso_week().0 != wby {
                return Err(
                    "Strict mode rejected resolved date as it is in a different week-based-year"
                        .into(),
                );
            }
            fl.remove(F::WeekBasedYear);
            fl.remove(F::WeekOfWeekBasedYear);
            fl.remove(F::DayOfWeek);
            date = Some(d);
        }
    }

    // Year-of-era: STRICT never invents an era.
    if let Some(yoe) = fl.remove(F::YearOfEra) {
        check(F::YearOfEra, yoe, 1, 999_999_999).map_err(|_| {
            format!("Invalid value for YearOfEra (valid values 1 - 999999999/1000000000): {yoe}")
        })?;
        match fl.remove(F::Era) {
            None => match fl.f(F::Year) {
                Some(y) => add(&mut fl, F::Year, if y > 0 { yoe } else { 1 - yoe })?,
                None => {
                    fl.set(Key::F(F::YearOfEra), yoe);
                }
            },
            Some(1) => add(&mut fl, F::Year, yoe)?,
            Some(0) => add(&mut fl, F::Year, 1 - yoe)?,
            Some(e) => return Err(format!("Invalid value for era: {e}")),
        }
    }
    if date.is_none() {
        if let Some(y) = fl.f(F::Year) {
            if let (Some(m), Some(d)) = (fl.f(F::Month), fl.f(F::DayOfMonth)) {
                date = Some(local_date(y, m, d)?);
                fl.remove(F::Year);
                fl.remove(F::Month);
                fl.remove(F::DayOfMonth);
            } else if let Some(doy) = fl.f(F::DayOfYear) {
                date = Some(year_day(y, doy)?);
                fl.remove(F::Year);
                fl.remove(F::DayOfYear);
            }
        }
    }

    // Time fields.
    if let Some(k) = fl.remove(F::ClockHourOfDay) {
        check(F::ClockHourOfDay, k, 1, 24)?;
        add(&mut fl, F::HourOfDay, if k == 24 { 0 } else { k })?;
    }
    if let Some(h) = fl.remove(F::ClockHourOfAmPm) {
        check(F::ClockHourOfAmPm, h, 1, 12)?;
        add(&mut fl, F::HourOfAmPm, if h == 12 { 0 } else { h })?;
    }
    if let (Some(ap), Some(hap)) = (fl.f(F::AmPm), fl.f(F::HourOfAmPm)) {
        check(F::AmPm, ap, 0, 1)?;
        check(F::HourOfAmPm, hap, 0, 11)?;
        fl.remove(F::AmPm);
        fl.remove(F::HourOfAmPm);
        add(&mut fl, F::HourOfDay, ap * 12 + hap)?;
    }
    if let Some(nod) = fl.remove(F::NanoOfDay) {
        check(F::NanoOfDay, nod, 0, 86_399_999_999_999)?;
        add(&mut fl, F::HourOfDay, nod / 3_600_000_000_000)?;
        add(&mut fl, F::Minute, nod / 60_000_000_000 % 60)?;
        add(&mut fl, F::Second, nod / 1_000_000_000 % 60)?;
        add(&mut fl, F::NanoOfSecond, nod % 1_000_000_000)?;
    }
    if let Some(mod_) = fl.remove(F::MilliOfDay) {
        check(F::MilliOfDay, mod_, 0, 86_399_999)?;
        add(&mut fl, F::HourOfDay, mod_ / 3_600_000)?;
        add(&mut fl, F::Minute, mod_ / 60_000 % 60)?;
        add(&mut fl, F::Second, mod_ / 1000 % 60)?;
        match fl.f(F::NanoOfSecond) {
            Some(n) if n / 1_000_000 != mod_ % 1000 => {
                return Err(format!(
                    "Conflict found: MilliOfSecond {} differs from MilliOfSecond {}",
                    n / 1_000_000,
                    mod_ % 1000
                ))
            }
            Some(_) => {}
            None => {
                fl.set(Key::F(F::NanoOfSecond), (mod_ % 1000) * 1_000_000);
            }
        }
    }
    let mut time: Option<i64> = None; // nano of day
    if let Some(h) = fl.f(F::HourOfDay) {
        let (mi, s, n) = (fl.f(F::Minute), fl.f(F::Second), fl.f(F::NanoOfSecond));
        let invalid = (mi.is_none() && (s.is_some() || n.is_some()))
            || (mi.is_some() && s.is_none() && n.is_some());
        if !invalid {
            let h = check(F::HourOfDay, h, 0, 23)?;
            let mi = check(F::Minute, mi.unwrap_or(0), 0, 59)?;
            let s = check(F::Second, s.unwrap_or(0), 0, 59)?;
            let n = check(F::NanoOfSecond, n.unwrap_or(0), 0, 999_999_999)?;
            time = Some(((h * 60 + mi) * 60 + s) * 1_000_000_000 + n);
            for f in [F::HourOfDay, F::Minute, F::Second, F::NanoOfSecond] {
                fl.remove(f);
            }
        }
    }
    // Validate remaining time fields (STRICT).
    for (f, lo, hi) in [
        (F::HourOfDay, 0, 23),
        (F::Minute, 0, 59),
        (F::Second, 0, 59),
        (F::NanoOfSecond, 0, 999_999_999),
        (F::HourOfAmPm, 0, 11),
        (F::AmPm, 0, 1),
    ] {
        if let Some(v) = fl.f(f) {
            check(f, v, lo, hi)?;
        }
    }
    // Cross-check leftovers against what was resolved.
    if let Some(d) = date {
        for (k, v) in fl.vals.clone() {
            if let Key::F(f) = k {
                if let Some(actual) = date_field(d, f) {
                    if actual != v {
                        let (y, m, dd) = civil_from_days(d);
                        return Err(format!(
                            "Conflict found: Field {} {actual} differs from {} {v} derived from {y:04}-{m:02}-{dd:02}",
                            f.java_name(),
                            f.java_name()
                        ));
                    }
                }
            }
        }
    }
    if let Some(t) = time {
        let h = t / 3_600_000_000_000;
        for (f, actual) in [(F::AmPm, h / 12), (F::HourOfAmPm, h % 12)] {
            if let Some(v) = fl.f(f) {
                if v != actual {
                    return Err(format!(
                        "Conflict found: Field {} {actual} differs from {} {v}",
                        f.java_name(),
                        f.java_name()
                    ));
                }
            }
        }
    }

    // Elasticsearch's DateFormatters.from.
    let es_year = |fl: &Fields| fl.f(F::Year).or(fl.f(F::YearOfEra));
    if date.is_none() {
        // LOCAL_DATE_QUERY also builds dates from year-of-era.
        if let Some(y) = es_year(&fl) {
            if let (Some(m), Some(d)) = (fl.f(F::Month), fl.f(F::DayOfMonth)) {
                date = Some(local_date(y, m, d)?);
            } else if let Some(doy) = fl.f(F::DayOfYear) {
                date = Some(year_day(y, doy)?);
            }
        }
    }
    let week_based = |fl: &Fields| -> Option<Res<i64>> {
        let wby = fl.f(F::WeekBasedYear)?;
        Some((|| {
            check(F::WeekBasedYear, wby, -999_999_999, 999_999_999)?;
            if !crate::calendar::year_in_range(wby) {
                return Err(format!("Invalid value for Year: {wby}"));
            }
            let w = match fl.f(F::WeekOfWeekBasedYear) {
                Some(w) => check(F::WeekOfWeekBasedYear, w, 1, 53)?,
                None => 1,
            };
            Ok(days_from_iso_week(wby, 1, 1) + (w - 1) * 7)
        })())
    };
    let fallback_date = |fl: &Fields| -> Res<i64> {
        if let Some(r) = week_based(fl) {
            return r;
        }
        if let Some(m) = fl.f(F::Month) {
            let y = es_year(fl).unwrap_or(1970);
            return local_date(y, m, fl.f(F::DayOfMonth).unwrap_or(1));
        }
        Ok(0)
    };
    let (days, nanos) = match (date, time) {
        (Some(d), Some(t)) => (d, t),
        (Some(d), None) => (d, 0),
        (None, Some(t)) => (fallback_date(&fl)?, t),
        (None, None) => {
            if let Some(y) = es_year(&fl) {
                match fl.f(F::Month) {
                    Some(m) => (local_date(y, m, 1)?, 0),
                    None => (local_date(y, 1, 1)?, 0),
                }
            } else if fl.has(F::Month) {
                (fallback_date(&fl)?, 0)
            } else if let Some(r) = week_based(&fl) {
                (r?, 0)
            } else {
                return Err("temporal accessor cannot be converted to zoned date time".into());
            }
        }
    };
    let ms = millis_from_days(days, nanos / 1_000_000)
        .and_then(|ms| ms.checked_sub(offset.checked_mul(1000)?))
        .ok_or_else(|| "long overflow".to_string())?;
    Ok(ms)
}

impl Pattern {
    /// Parses `text` like Elasticsearch's `DATE_PARSE(pattern, text)`: strict Java parsing,
    /// STRICT resolution, then missing fields default (midnight, January 1st, year 1970; a
    /// parsed offset is applied, otherwise UTC). Nanoseconds are truncated to millis.
    pub fn parse(&self, text: &str) -> Result<i64, ParseError> {
        if text.is_empty() {
            return Err(ParseError::new(text, ParseErrorKind::Empty));
        }
        let chars: Vec<char> = text.chars().collect();
        let mut ctx = Ctx {
            text: &chars,
            fields: Fields::default(),
            unsupported: None,
            fatal: None,
        };
        let r = ctx.elems(&self.elems, 0);
        if let Some(u) = ctx.unsupported.take() {
            return Err(ParseError::new(text, ParseErrorKind::Unsupported(u)));
        }
        if let Some(m) = ctx.fatal.take() {
            return Err(ParseError::new(text, ParseErrorKind::Invalid(m)));
        }
        match r {
            Err(i) => return Err(ParseError::new(text, ParseErrorKind::AtIndex(i))),
            Ok(p) if p < chars.len() => {
                return Err(ParseError::new(text, ParseErrorKind::UnparsedText(p)))
            }
            Ok(_) => {}
        }
        resolve(ctx.fields).map_err(|m| {
            if m.contains("not supported") {
                ParseError::new(text, ParseErrorKind::Unsupported(m))
            } else {
                ParseError::new(text, ParseErrorKind::Invalid(m))
            }
        })
    }
}
