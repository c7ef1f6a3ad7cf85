//! Compiling `DateTimeFormatter.ofPattern` patterns and formatting UTC instants with them.
//!
//! The compiler mirrors `DateTimeFormatterBuilder.parsePattern`/`parseField` letter by letter,
//! including the "adjacent value parsing" bookkeeping of `appendValue` (needed so that
//! `yyyyMMdd` parses like Java) and the odd corners that decide which patterns are errors.
//! Text is the root-locale text of the JDK (`Jul`, `Wed`, `AD`, `Q3`, `AM`), and week fields
//! use ISO rules (Monday first, 4 minimal days) — what Elasticsearch 8 renders.
//!
//! One file (~1k lines) on purpose: it follows the JDK's builder letter by letter, and the
//! letter table, the compiler's bookkeeping and the formatter that reads both are checked
//! against the JDK together (`tests/oracle.rs`); split apart they would be read apart.

use crate::calendar::{days_from_civil, Civil};
use std::fmt;

/// Error from [`Pattern::compile`]. `Display` is the message of the Java exception that
/// `DateTimeFormatter.ofPattern` throws (`Unknown pattern letter: b`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pattern: String,
    message: String,
    java_class: &'static str,
}

impl PatternError {
    fn new(pattern: &str, message: impl Into<String>) -> PatternError {
        PatternError {
            pattern: pattern.to_string(),
            message: message.into(),
            java_class: "java.lang.IllegalArgumentException",
        }
    }

    /// The Java message alone, e.g. `Too many pattern letters: a`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Fully qualified Java exception class (`java.lang.IllegalArgumentException`, or
    /// `java.lang.ClassCastException` for the JDK bug with padded adjacent numbers).
    pub fn java_class(&self) -> &'static str {
        self.java_class
    }

    /// The text Elasticsearch wraps the Java message in when a custom pattern is invalid
    /// (`DateFormatters.forPattern`): `Invalid format: [b]: Unknown pattern letter: b`.
    pub fn es_message(&self) -> String {
        format!("Invalid format: [{}]: {}", self.pattern, self.message)
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

/// Error from [`Pattern::try_format`]: what the JDK throws while printing. For UTC instants
/// that is a too narrow `p` pad (`DateTimeException: Cannot print as output of 3 characters
/// exceeds pad width of 2`) or the JDK bug for year-like fields with 11-18 pattern letters and
/// a non-negative value (`ArrayIndexOutOfBoundsException: Index 12 out of bounds for length 11`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    message: String,
    java_class: &'static str,
}

impl FormatError {
    /// Fully qualified class of the Java exception.
    pub fn java_class(&self) -> &'static str {
        self.java_class
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormatError {}

/// `java.time.format.SignStyle` (the three styles patterns can produce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sign {
    Normal,
    NotNegative,
    ExceedsPad,
}

/// The numeric quantities pattern letters print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumField {
    Era,
    YearOfEra,
    Year,
    Quarter,
    Month,
    DayOfYear,
    DayOfMonth,
    /// `F`: JDK 17 maps it to `ALIGNED_DAY_OF_WEEK_IN_MONTH` (JDK 19+ changed it to
    /// `ALIGNED_WEEK_OF_MONTH`); we follow the JDK the oracle runs.
    AlignedDowInMonth,
    DayOfWeek,
    AmPm,
    HourOfDay,
    ClockHourOfDay,
    HourOfAmPm,
    ClockHourOfAmPm,
    Minute,
    Second,
    NanoOfSecond,
    NanoOfDay,
    MilliOfDay,
    ModifiedJulianDay,
    WeekBasedYear,
    WeekOfWeekBasedYear,
    WeekOfMonth,
    /// Localized day-of-week (`e`/`c` numeric); with ISO weeks Monday = 1.
    LocalDayOfWeek,
}

impl NumField {
    /// Java's field name as used in exception messages.
    pub(crate) fn java_name(self) -> &'static str {
        match self {
            NumField::Era => "Era",
            NumField::YearOfEra => "YearOfEra",
            NumField::Year => "Year",
            NumField::Quarter => "QuarterOfYear",
            NumField::Month => "MonthOfYear",
            NumField::DayOfYear => "DayOfYear",
            NumField::DayOfMonth => "DayOfMonth",
            NumField::AlignedDowInMonth => "AlignedDayOfWeekInMonth",
            NumField::DayOfWeek => "DayOfWeek",
            NumField::AmPm => "AmPmOfDay",
            NumField::HourOfDay => "HourOfDay",
            NumField::ClockHourOfDay => "ClockHourOfDay",
            NumField::HourOfAmPm => "HourOfAmPm",
            NumField::ClockHourOfAmPm => "ClockHourOfAmPm",
            NumField::Minute => "MinuteOfHour",
            NumField::Second => "SecondOfMinute",
            NumField::NanoOfSecond => "NanoOfSecond",
            NumField::NanoOfDay => "NanoOfDay",
            NumField::MilliOfDay => "MilliOfDay",
            NumField::ModifiedJulianDay => "ModifiedJulianDay",
            NumField::WeekBasedYear => "WeekBasedYear[WeekFields[MONDAY,4]]",
            NumField::WeekOfWeekBasedYear => "WeekOfWeekBasedYear[WeekFields[MONDAY,4]]",
            NumField::WeekOfMonth => "WeekOfMonth[WeekFields[MONDAY,4]]",
            NumField::LocalDayOfWeek => "DayOfWeek[WeekFields[MONDAY,4]]",
        }
    }

    /// The value of this field for a UTC instant.
    pub(crate) fn value(self, c: &Civil) -> i64 {
        match self {
            NumField::Era => i64::from(c.year >= 1),
            NumField::YearOfEra => {
                if c.year >= 1 {
                    c.year
                } else {
                    1 - c.year
                }
            }
            NumField::Year => c.year,
            NumField::Quarter => i64::from((c.month - 1) / 3 + 1),
            NumField::Month => i64::from(c.month),
            NumField::DayOfYear => i64::from(c.doy),
            NumField::DayOfMonth => i64::from(c.day),
            NumField::AlignedDowInMonth => i64::from((c.day - 1) % 7 + 1),
            NumField::DayOfWeek | NumField::LocalDayOfWeek => i64::from(c.dow),
            NumField::AmPm => i64::from(c.hour / 12),
            NumField::HourOfDay => i64::from(c.hour),
            NumField::ClockHourOfDay => i64::from(if c.hour == 0 { 24 } else { c.hour }),
            NumField::HourOfAmPm => i64::from(c.hour % 12),
            NumField::ClockHourOfAmPm => i64::from(if c.hour.is_multiple_of(12) {
                12
            } else {
                c.hour % 12
            }),
            NumField::Minute => i64::from(c.minute),
            NumField::Second => i64::from(c.second),
            NumField::NanoOfSecond => i64::from(c.milli) * 1_000_000,
            NumField::NanoOfDay => c.milli_of_day * 1_000_000,
            NumField::MilliOfDay => c.milli_of_day,
            NumField::ModifiedJulianDay => c.epoch_day + 40_587,
            NumField::WeekBasedYear => c.iso_week().0,
            NumField::WeekOfWeekBasedYear => i64::from(c.iso_week().1),
            NumField::WeekOfMonth => i64::from(c.iso_week_of_month()),
        }
    }
}

/// How a numeric element prints/parses beyond plain digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumKind {
    Plain,
    /// `ReducedPrinterParser` with width 2 and base date 2000-01-01 (`yy`, `uu`, `YY`).
    Reduced,
    /// `FractionPrinterParser` without decimal point (`S…`).
    Fraction,
}

/// A `NumberPrinterParser` (or subclass) after pattern compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Num {
    pub field: NumField,
    pub kind: NumKind,
    pub min: usize,
    pub max: usize,
    pub sign: Sign,
    /// Java's `subsequentWidth`: digits reserved for following fixed-width fields when
    /// parsing (`-1` = fixed width).
    pub subsequent: i32,
    /// Width/sign that `appendValue` sees for adjacent-parsing decisions; differs from the
    /// printing ones for `WeekBasedFieldPrinterParser` (`Y`, `w`, `W`, `e`, `c`).
    chain_min: usize,
    chain_max: usize,
    chain_sign: Sign,
}

impl Num {
    pub(crate) fn new(field: NumField, min: usize, max: usize, sign: Sign) -> Num {
        Num {
            field,
            kind: NumKind::Plain,
            min,
            max,
            sign,
            subsequent: 0,
            chain_min: min,
            chain_max: max,
            chain_sign: sign,
        }
    }
}

/// Text fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextField {
    Era,
    Month,
    DayOfWeek,
    Quarter,
    AmPm,
    /// `B` day period; in the JDK 17 root locale it prints the AM/PM marker.
    DayPeriod,
}

/// `java.time.format.TextStyle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextStyle {
    Short,
    Full,
    Narrow,
    ShortStandalone,
    FullStandalone,
    NarrowStandalone,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAYS_NARROW: [&str; 7] = ["M", "T", "W", "T", "F", "S", "S"];
const QUARTERS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];

impl TextField {
    /// The numeric field the text stands for (used for the number fallback and by parsing).
    pub(crate) fn num_field(self) -> NumField {
        match self {
            TextField::Era => NumField::Era,
            TextField::Month => NumField::Month,
            TextField::DayOfWeek => NumField::DayOfWeek,
            TextField::Quarter => NumField::Quarter,
            TextField::AmPm | TextField::DayPeriod => NumField::AmPm,
        }
    }

    /// All (value, text) pairs of the root-locale text store for this style, or `None` when
    /// the JDK has no text (it then prints and parses the plain number, e.g. `qqq` → `3`,
    /// `MMMMM` → `7`).
    pub(crate) fn texts(self, style: TextStyle) -> Option<Vec<(i64, &'static str)>> {
        use TextStyle::*;
        let numbered = |names: &[&'static str], first: i64| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (first + i as i64, *n))
                .collect::<Vec<_>>()
        };
        match (self, style) {
            // The root locale's narrow months are the numbers as text ("1".."12"), which
            // matters for parsing: "52039" matches "5" and fails at index 1 like Java.
            (TextField::Month, Narrow | NarrowStandalone) => Some(
                (1..=12)
                    .map(|i| {
                        (
                            i,
                            [
                                "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                            ][i as usize - 1],
                        )
                    })
                    .collect(),
            ),
            (TextField::Month, _) => Some(numbered(&MONTHS, 1)),
            (TextField::DayOfWeek, Narrow | NarrowStandalone) => Some(numbered(&DAYS_NARROW, 1)),
            (TextField::DayOfWeek, _) => Some(numbered(&DAYS, 1)),
            (TextField::Era, Short | ShortStandalone) => Some(vec![(0, "BC"), (1, "AD")]),
            (TextField::Era, _) => Some(vec![(0, "BCE"), (1, "CE")]),
            (TextField::Quarter, Short | Full | FullStandalone) => Some(numbered(&QUARTERS, 1)),
            (TextField::Quarter, _) => None,
            (TextField::AmPm | TextField::DayPeriod, _) => Some(vec![(0, "AM"), (1, "PM")]),
        }
    }
}

/// One printer-parser of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Elem {
    Literal(String),
    Number(Num),
    Text(TextField, TextStyle),
    /// `appendOffset(pattern, noOffsetText)` (`X`, `x`, `Z`).
    Offset {
        pattern: &'static str,
        no_offset: &'static str,
    },
    /// `appendLocalizedOffset` (`O`, `OOOO`, `ZZZZ`): `GMT` for UTC.
    LocalizedOffset {
        full: bool,
    },
    /// Zone names/ids (`z`, `v`, `VV`): the JDK prints `Z` for `ZoneOffset.UTC`.
    Zone {
        letter: char,
    },
    Optional(Vec<Elem>),
    Pad {
        width: usize,
        inner: Box<Elem>,
    },
}

/// `OffsetIdPrinterParser.PATTERNS`, indexed like the JDK does for `X`/`x`.
const OFFSET_PATTERNS: [&str; 7] = [
    "+HH",
    "+HHmm",
    "+HH:mm",
    "+HHMM",
    "+HH:MM",
    "+HHMMss",
    "+HH:MM:ss",
];

/// A compiled `java.time.format.DateTimeFormatter` pattern, as Elasticsearch's
/// `DATE_FORMAT`/`DATE_PARSE` use it: `Locale.ROOT` text, UTC, ISO week fields (Monday
/// first, 4 minimal days), `ResolverStyle.STRICT` when parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    pub(crate) elems: Vec<Elem>,
}

/// One nesting level of `DateTimeFormatterBuilder` (`active` and its parents).
struct Level {
    items: Vec<Elem>,
    value_idx: Option<usize>,
    pad_next: usize,
}

impl Level {
    fn new() -> Level {
        Level {
            items: Vec::new(),
            value_idx: None,
            pad_next: 0,
        }
    }
}

struct Builder<'a> {
    pattern: &'a str,
    stack: Vec<Level>,
}

impl Builder<'_> {
    fn err(&self, msg: impl Into<String>) -> PatternError {
        PatternError::new(self.pattern, msg)
    }

    fn active(&mut self) -> &mut Level {
        self.stack
            .last_mut()
            .expect("builder always has a root level")
    }

    /// `appendInternal`: wraps in a pad decorator if one is pending, resets adjacent parsing.
    fn append_internal(&mut self, e: Elem) -> usize {
        let lvl = self.active();
        let e = if lvl.pad_next > 0 {
            let width = lvl.pad_next;
            lvl.pad_next = 0;
            Elem::Pad {
                width,
                inner: Box::new(e),
            }
        } else {
            e
        };
        lvl.items.push(e);
        lvl.value_idx = None;
        lvl.items.len() - 1
    }

    /// `appendValue(NumberPrinterParser)`, including adjacent value parsing.
    fn append_value(&mut self, mut n: Num) -> Result<(), PatternError> {
        let Some(base_idx) = self.active().value_idx else {
            let idx = self.append_internal(Elem::Number(n));
            self.active().value_idx = Some(idx);
            return Ok(());
        };
        if !matches!(self.active().items[base_idx], Elem::Number(_)) {
            // The JDK casts the active parser to NumberPrinterParser and fails when a pad
            // decorator wraps it (`ppHHmm`).
            let mut e = self.err(
                "class java.time.format.DateTimeFormatterBuilder$PadPrinterParserDecorator cannot be cast to class java.time.format.DateTimeFormatterBuilder$NumberPrinterParser (java.time.format.DateTimeFormatterBuilder$PadPrinterParserDecorator and java.time.format.DateTimeFormatterBuilder$NumberPrinterParser are in module java.base of loader 'bootstrap')",
            );
            e.java_class = "java.lang.ClassCastException";
            return Err(e);
        }
        let fixed = n.chain_min == n.chain_max && n.chain_sign == Sign::NotNegative;
        if fixed {
            if let Elem::Number(base) = &mut self.active().items[base_idx] {
                base.subsequent += n.chain_max as i32;
            }
            n.subsequent = -1;
            self.append_internal(Elem::Number(n));
            self.active().value_idx = Some(base_idx);
        } else {
            if let Elem::Number(base) = &mut self.active().items[base_idx] {
                base.subsequent = -1;
            }
            let idx = self.append_internal(Elem::Number(n));
            self.active().value_idx = Some(idx);
        }
        Ok(())
    }

    /// `appendValue(field, minWidth, maxWidth, signStyle)` with the JDK's argument checks.
    fn value(
        &mut self,
        f: NumField,
        min: usize,
        max: usize,
        sign: Sign,
    ) -> Result<(), PatternError> {
        if !(1..=19).contains(&min) {
            return Err(self.err(format!(
                "The minimum width must be from 1 to 19 inclusive but was {min}"
            )));
        }
        if !(1..=19).contains(&max) {
            return Err(self.err(format!(
                "The maximum width must be from 1 to 19 inclusive but was {max}"
            )));
        }
        if max < min {
            return Err(self.err(format!(
                "The maximum width must exceed or equal the minimum width but {max} < {min}"
            )));
        }
        self.append_value(Num::new(f, min, max, sign))
    }

    fn text(&mut self, f: TextField, s: TextStyle) {
        self.append_internal(Elem::Text(f, s));
    }

    /// `WeekBasedFieldPrinterParser(chr, count, minWidth, maxWidth)`: appended as a value with
    /// NOT_NEGATIVE sign, prints through the real number parser built for the locale.
    fn week_based(
        &mut self,
        chr: char,
        count: usize,
        min: usize,
        max: usize,
    ) -> Result<(), PatternError> {
        let mut n = match chr {
            'Y' if count == 2 => {
                let mut n = Num::new(NumField::WeekBasedYear, 2, 2, Sign::NotNegative);
                n.kind = NumKind::Reduced;
                n
            }
            'Y' => {
                let sign = if count < 4 {
                    Sign::Normal
                } else {
                    Sign::ExceedsPad
                };
                Num::new(NumField::WeekBasedYear, count, 19, sign)
            }
            _ => {
                let field = match chr {
                    'w' => NumField::WeekOfWeekBasedYear,
                    'W' => NumField::WeekOfMonth,
                    _ => NumField::LocalDayOfWeek,
                };
                Num::new(field, min, max, Sign::NotNegative)
            }
        };
        n.chain_min = min;
        n.chain_max = max;
        n.chain_sign = Sign::NotNegative;
        self.append_value(n)
    }

    fn too_many(&self, c: char) -> PatternError {
        self.err(format!("Too many pattern letters: {c}"))
    }

    /// `DateTimeFormatterBuilder.parseField` for the letters of `FIELD_MAP`.
    fn field(&mut self, cur: char, count: usize) -> Result<(), PatternError> {
        use TextStyle::*;
        let num = |c: char| match c {
            'G' => NumField::Era,
            'y' => NumField::YearOfEra,
            'u' => NumField::Year,
            'Q' | 'q' => NumField::Quarter,
            'M' | 'L' => NumField::Month,
            'D' => NumField::DayOfYear,
            'd' => NumField::DayOfMonth,
            'F' => NumField::AlignedDowInMonth,
            'E' | 'c' | 'e' => NumField::DayOfWeek,
            'a' => NumField::AmPm,
            'H' => NumField::HourOfDay,
            'k' => NumField::ClockHourOfDay,
            'K' => NumField::HourOfAmPm,
            'h' => NumField::ClockHourOfAmPm,
            'm' => NumField::Minute,
            's' => NumField::Second,
            'S' | 'n' => NumField::NanoOfSecond,
            'A' => NumField::MilliOfDay,
            'N' => NumField::NanoOfDay,
            _ => NumField::ModifiedJulianDay,
        };
        let text_field = |c: char| match c {
            'M' | 'L' => TextField::Month,
            'Q' | 'q' => TextField::Quarter,
            _ => TextField::DayOfWeek,
        };
        let f = num(cur);
        match cur {
            'u' | 'y' => {
                if count == 2 {
                    let mut n = Num::new(f, 2, 2, Sign::NotNegative);
                    n.kind = NumKind::Reduced;
                    self.append_value(n)
                } else if count < 4 {
                    self.value(f, count, 19, Sign::Normal)
                } else {
                    self.value(f, count, 19, Sign::ExceedsPad)
                }
            }
            'c' if count == 1 => self.week_based(cur, count, count, count),
            'c' if count == 2 => Err(self.err("Invalid pattern \"cc\"")),
            'c' | 'L' | 'q' | 'M' | 'Q' | 'E' | 'e' => {
                let standalone = matches!(cur, 'c' | 'L' | 'q');
                match count {
                    1 | 2 => match cur {
                        'e' => self.week_based(cur, count, count, count),
                        'E' => {
                            self.text(TextField::DayOfWeek, Short);
                            Ok(())
                        }
                        _ if count == 1 => self.value(f, 1, 19, Sign::Normal),
                        _ => self.value(f, 2, 2, Sign::NotNegative),
                    },
                    3 => {
                        self.text(
                            text_field(cur),
                            if standalone { ShortStandalone } else { Short },
                        );
                        Ok(())
                    }
                    4 => {
                        self.text(
                            text_field(cur),
                            if standalone { FullStandalone } else { Full },
                        );
                        Ok(())
                    }
                    5 => {
                        self.text(
                            text_field(cur),
                            if standalone { NarrowStandalone } else { Narrow },
                        );
                        Ok(())
                    }
                    _ => Err(self.too_many(cur)),
                }
            }
            'a' => {
                if count == 1 {
                    self.text(TextField::AmPm, Short);
                    Ok(())
                } else {
                    Err(self.too_many(cur))
                }
            }
            'G' => {
                let style = match count {
                    1..=3 => Short,
                    4 => Full,
                    5 => Narrow,
                    _ => return Err(self.too_many(cur)),
                };
                self.text(TextField::Era, style);
                Ok(())
            }
            'S' => {
                if count > 9 {
                    return Err(self.err(format!(
                        "Minimum width must be from 0 to 9 inclusive but was {count}"
                    )));
                }
                let mut n = Num::new(NumField::NanoOfSecond, count, count, Sign::NotNegative);
                n.kind = NumKind::Fraction;
                self.append_value(n)
            }
            'F' => {
                if count == 1 {
                    self.value(f, 1, 19, Sign::Normal)
                } else {
                    Err(self.too_many(cur))
                }
            }
            'd' | 'h' | 'H' | 'k' | 'K' | 'm' | 's' => match count {
                1 => self.value(f, 1, 19, Sign::Normal),
                2 => self.value(f, 2, 2, Sign::NotNegative),
                _ => Err(self.too_many(cur)),
            },
            'D' => match count {
                1 => self.value(f, 1, 19, Sign::Normal),
                2 | 3 => self.value(f, count, 3, Sign::NotNegative),
                _ => Err(self.too_many(cur)),
            },
            'g' => self.value(f, count, 19, Sign::Normal),
            'A' | 'n' | 'N' => self.value(f, count, 19, Sign::NotNegative),
            _ => {
                if count == 1 {
                    self.value(f, 1, 19, Sign::Normal)
                } else {
                    self.value(f, count, count, Sign::NotNegative)
                }
            }
        }
    }

    /// One run of `count` copies of letter `cur` (after any `p` padding prefix).
    fn letter(&mut self, cur: char, count: usize) -> Result<(), PatternError> {
        const FIELD_LETTERS: &str = "GyuQqMLDdFEceaHkKhmsSAnNg";
        if FIELD_LETTERS.contains(cur) {
            return self.field(cur, count);
        }
        match cur {
            'z' => {
                if count > 4 {
                    return Err(self.too_many(cur));
                }
                self.append_internal(Elem::Zone { letter: cur });
            }
            'V' => {
                if count != 2 {
                    return Err(self.err(format!("Pattern letter count must be 2: {cur}")));
                }
                self.append_internal(Elem::Zone { letter: cur });
            }
            'v' => {
                if count != 1 && count != 4 {
                    return Err(self.err(format!("Wrong number of pattern letters: {cur}")));
                }
                self.append_internal(Elem::Zone { letter: cur });
            }
            'Z' => match count {
                1..=3 => {
                    self.append_internal(Elem::Offset {
                        pattern: "+HHMM",
                        no_offset: "+0000",
                    });
                }
                4 => {
                    self.append_internal(Elem::LocalizedOffset { full: true });
                }
                5 => {
                    self.append_internal(Elem::Offset {
                        pattern: "+HH:MM:ss",
                        no_offset: "Z",
                    });
                }
                _ => return Err(self.too_many(cur)),
            },
            'O' => match count {
                1 | 4 => {
                    self.append_internal(Elem::LocalizedOffset { full: count == 4 });
                }
                _ => return Err(self.err(format!("Pattern letter count must be 1 or 4: {cur}"))),
            },
            'X' | 'x' => {
                if count > 5 {
                    return Err(self.too_many(cur));
                }
                let pattern = OFFSET_PATTERNS[count + usize::from(count != 1)];
                let no_offset = if cur == 'X' {
                    "Z"
                } else if count == 1 {
                    "+00"
                } else if count.is_multiple_of(2) {
                    "+0000"
                } else {
                    "+00:00"
                };
                self.append_internal(Elem::Offset { pattern, no_offset });
            }
            'W' => {
                if count > 1 {
                    return Err(self.too_many(cur));
                }
                self.week_based(cur, count, count, count)?;
            }
            'w' => {
                if count > 2 {
                    return Err(self.too_many(cur));
                }
                self.week_based(cur, count, count, 2)?;
            }
            'Y' => {
                if count == 2 {
                    self.week_based(cur, count, count, 2)?;
                } else {
                    self.week_based(cur, count, count, 19)?;
                }
            }
            'B' => {
                let style = match count {
                    1 => TextStyle::Short,
                    4 => TextStyle::Full,
                    5 => TextStyle::Narrow,
                    _ => return Err(self.err(format!("Wrong number of pattern letters: {cur}"))),
                };
                self.append_internal(Elem::Text(TextField::DayPeriod, style));
            }
            _ => return Err(self.err(format!("Unknown pattern letter: {cur}"))),
        }
        Ok(())
    }

    fn optional_end(&mut self) {
        let lvl = self.stack.pop().expect("optional level present");
        if !lvl.items.is_empty() {
            self.append_internal(Elem::Optional(lvl.items));
        }
    }
}

impl Pattern {
    /// Compiles a pattern the way `DateTimeFormatter.ofPattern(pattern)` does, failing with
    /// Java's `IllegalArgumentException` message for invalid patterns.
    pub fn compile(pattern: &str) -> Result<Pattern, PatternError> {
        let mut b = Builder {
            pattern,
            stack: vec![Level::new()],
        };
        let chars: Vec<char> = pattern.chars().collect();
        let is_letter = |c: char| c.is_ascii_alphabetic();
        let mut pos = 0;
        while pos < chars.len() {
            let mut cur = chars[pos];
            if is_letter(cur) {
                let mut start = pos;
                pos += 1;
                while pos < chars.len() && chars[pos] == cur {
                    pos += 1;
                }
                let mut count = pos - start;
                if cur == 'p' {
                    let mut pad = 0;
                    if pos < chars.len() && is_letter(chars[pos]) {
                        cur = chars[pos];
                        pad = count;
                        start = pos;
                        pos += 1;
                        while pos < chars.len() && chars[pos] == cur {
                            pos += 1;
                        }
                        count = pos - start;
                    }
                    if pad == 0 {
                        return Err(b.err(format!(
                            "Pad letter 'p' must be followed by valid pad pattern: {pattern}"
                        )));
                    }
                    b.active().pad_next = pad;
                }
                b.letter(cur, count)?;
            } else if cur == '\'' {
                let start = pos;
                pos += 1;
                while pos < chars.len() {
                    if chars[pos] == '\'' {
                        if pos + 1 < chars.len() && chars[pos + 1] == '\'' {
                            pos += 1;
                        } else {
                            break;
                        }
                    }
                    pos += 1;
                }
                if pos >= chars.len() {
                    return Err(b.err(format!(
                        "Pattern ends with an incomplete string literal: {pattern}"
                    )));
                }
                let s: String = chars[start + 1..pos].iter().collect();
                let lit = if s.is_empty() {
                    "'".to_string()
                } else {
                    s.replace("''", "'")
                };
                b.append_internal(Elem::Literal(lit));
                pos += 1;
            } else if cur == '[' {
                b.active().value_idx = None;
                b.stack.push(Level::new());
                pos += 1;
            } else if cur == ']' {
                if b.stack.len() == 1 {
                    return Err(b.err("Pattern invalid as it contains ] without previous ["));
                }
                b.optional_end();
                pos += 1;
            } else if cur == '{' || cur == '}' || cur == '#' {
                return Err(b.err(format!("Pattern includes reserved character: '{cur}'")));
            } else {
                b.append_internal(Elem::Literal(cur.to_string()));
                pos += 1;
            }
        }
        while b.stack.len() > 1 {
            b.optional_end();
        }
        let root = b.stack.pop().expect("root level");
        Ok(Pattern {
            source: pattern.to_string(),
            elems: root.items,
        })
    }

    /// The pattern text this was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Formats a UTC instant like `DateTimeFormatter.format(Instant.atZone(UTC))`.
    ///
    /// Java can only fail while printing when a `p` pad is too narrow for its field; Java then
    /// throws, and this returns the unpadded text instead (use [`Pattern::try_format`] to see
    /// the error).
    pub fn format(&self, epoch_millis: i64) -> String {
        match self.try_format(epoch_millis) {
            Ok(s) => s,
            Err(_) => {
                let c = Civil::from_millis(epoch_millis);
                let mut out = String::new();
                format_elems(&self.elems, &c, &mut out, false).ok();
                out
            }
        }
    }

    /// Formats like [`Pattern::format`], returning Java's `DateTimeException` message when
    /// the JDK would throw.
    pub fn try_format(&self, epoch_millis: i64) -> Result<String, FormatError> {
        let c = Civil::from_millis(epoch_millis);
        let mut out = String::new();
        format_elems(&self.elems, &c, &mut out, true)?;
        Ok(out)
    }

    /// True when the pattern prints text whose wording comes from locale data (month/day
    /// names, eras, AM/PM, quarters, zone names): Elasticsearch warns about such patterns
    /// (`contains textual field specifiers that could change in JDK 23`).
    pub fn has_text_fields(&self) -> bool {
        fn any(elems: &[Elem]) -> bool {
            elems.iter().any(|e| match e {
                Elem::Text(..) | Elem::Zone { .. } | Elem::LocalizedOffset { .. } => true,
                Elem::Optional(v) => any(v),
                Elem::Pad { inner, .. } => any(std::slice::from_ref(inner)),
                _ => false,
            })
        }
        any(&self.elems)
    }
}

/// Powers of ten (`EXCEED_POINTS`) for the EXCEEDS_PAD sign decision.
fn pow10(n: usize) -> i64 {
    10i64.pow(n as u32)
}

fn format_elems(
    elems: &[Elem],
    c: &Civil,
    out: &mut String,
    strict: bool,
) -> Result<(), FormatError> {
    for e in elems {
        format_elem(e, c, out, strict)?;
    }
    Ok(())
}

/// `NumberPrinterParser.format` for a value (sign and zero padding rules).
pub(crate) fn format_number(value: i64, min: usize, sign: Sign, out: &mut String) {
    let digits = value.unsigned_abs().to_string();
    if value >= 0 {
        if sign == Sign::ExceedsPad && min < 19 && value >= pow10(min) {
            out.push('+');
        }
    } else {
        out.push('-');
    }
    for _ in digits.len()..min {
        out.push('0');
    }
    out.push_str(&digits);
}

fn format_elem(e: &Elem, c: &Civil, out: &mut String, strict: bool) -> Result<(), FormatError> {
    match e {
        Elem::Literal(s) => out.push_str(s),
        Elem::Number(n) => {
            let v = n.field.value(c);
            match n.kind {
                NumKind::Plain => {
                    // `EXCEED_POINTS` has 11 entries; the JDK indexes it with minWidth < 19.
                    if n.sign == Sign::ExceedsPad && (11..19).contains(&n.min) && v >= 0 && strict {
                        return Err(FormatError {
                            message: format!("Index {} out of bounds for length 11", n.min),
                            java_class: "java.lang.ArrayIndexOutOfBoundsException",
                        });
                    }
                    format_number(v, n.min, n.sign, out)
                }
                NumKind::Reduced => format_number(v.abs() % 100, 2, Sign::NotNegative, out),
                NumKind::Fraction => {
                    let nanos = format!("{:09}", v);
                    out.push_str(&nanos[..n.min]);
                }
            }
        }
        Elem::Text(f, style) => {
            let v = f.num_field().value(c);
            match f.texts(*style) {
                Some(texts) => {
                    let t = texts
                        .iter()
                        .find(|(k, _)| *k == v)
                        .map(|(_, t)| *t)
                        .unwrap_or("");
                    out.push_str(t);
                }
                None => format_number(v, 1, Sign::Normal, out),
            }
        }
        Elem::Offset { no_offset, .. } => out.push_str(no_offset),
        Elem::LocalizedOffset { .. } => out.push_str("GMT"),
        Elem::Zone { .. } => out.push('Z'),
        Elem::Optional(items) => format_elems(items, c, out, strict)?,
        Elem::Pad { width, inner } => {
            let mut tmp = String::new();
            format_elem(inner, c, &mut tmp, strict)?;
            let len = tmp.chars().count();
            if len > *width && strict {
                return Err(FormatError {
                    message: format!(
                        "Cannot print as output of {len} characters exceeds pad width of {width}"
                    ),
                    java_class: "java.time.DateTimeException",
                });
            }
            for _ in len..*width {
                out.push(' ');
            }
            out.push_str(&tmp);
        }
    }
    Ok(())
}

/// Epoch day of 2000-01-01, the base date of reduced two-digit years.
pub(crate) fn base_2000_epoch_day() -> i64 {
    days_from_civil(2000, 1, 1)
}
