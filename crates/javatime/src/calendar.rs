//! Proleptic Gregorian calendar arithmetic on `i64` epoch milliseconds.
//!
//! Everything is done with floor division so that instants before 1970 and far outside
//! 0..9999 (the whole `i64` millisecond range is about ±292 million years) never panic.

/// Milliseconds in one (UTC, leap-second free) day, as java.time counts them.
pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// Days between 1970-01-01 and 0000-03-01 (the civil algorithm's internal epoch).
const DAYS_0000_03_01_TO_EPOCH: i64 = 719_468;
/// Days in one 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;
/// Largest |year| we accept when building instants; beyond it no i64 millisecond value exists
/// anyway, and the bound keeps the intermediate day arithmetic far from overflow.
const MAX_ABS_YEAR: i64 = 300_000_000;

/// Is `year` a leap year in the proleptic Gregorian calendar (as `IsoChronology.isLeapYear`)?
pub(crate) fn is_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

/// Number of days of `month` (1-12) in `year`.
pub(crate) fn month_len(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Epoch day (days since 1970-01-01) of a civil date; the caller guarantees a valid date with
/// `|year| <= MAX_ABS_YEAR`.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so the leap day is the last day of the shifted year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * DAYS_PER_ERA + doe - DAYS_0000_03_01_TO_EPOCH
}

/// Civil date (year, month 1-12, day 1-31) of an epoch day; inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(epoch_day: i64) -> (i64, u32, u32) {
    let z = epoch_day + DAYS_0000_03_01_TO_EPOCH;
    let era = z.div_euclid(DAYS_PER_ERA);
    let doe = z - era * DAYS_PER_ERA;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ISO day-of-week (Monday = 1 … Sunday = 7) of an epoch day; 1970-01-01 was a Thursday.
pub(crate) fn dow_from_days(epoch_day: i64) -> u32 {
    ((epoch_day + 3).rem_euclid(7) + 1) as u32
}

/// Validated epoch day of a civil date, `None` when the date does not exist or is out of range.
pub(crate) fn checked_days(year: i64, month: u32, day: u32) -> Option<i64> {
    if year.abs() > MAX_ABS_YEAR || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > month_len(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Epoch millis of an epoch day plus a millisecond-of-day, `None` on i64 overflow.
pub(crate) fn millis_from_days(epoch_day: i64, milli_of_day: i64) -> Option<i64> {
    // i128 so that the first day of the range (whose start is below i64::MIN) still works.
    let v = i128::from(epoch_day) * i128::from(MS_PER_DAY) + i128::from(milli_of_day);
    i64::try_from(v).ok()
}

/// Number of ISO weeks (52 or 53) in ISO week-based-year `year`: 53 when the year starts on a
/// Thursday, or on a Wednesday in a leap year.
pub(crate) fn iso_weeks_in_year(year: i64) -> u32 {
    let jan1 = dow_from_days(days_from_civil(year, 1, 1));
    if jan1 == 4 || (jan1 == 3 && is_leap(year)) {
        53
    } else {
        52
    }
}

/// All the calendar fields of one UTC instant, computed once and shared by formatting and
/// `DATE_EXTRACT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
    pub epoch_day: i64,
    /// ISO day-of-week, Monday = 1.
    pub dow: u32,
    /// Day of year, 1-366.
    pub doy: u32,
    /// Millisecond of day.
    pub milli_of_day: i64,
}

impl Civil {
    pub(crate) fn from_millis(ms: i64) -> Civil {
        let epoch_day = ms.div_euclid(MS_PER_DAY);
        let milli_of_day = ms.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(epoch_day);
        let doy = (epoch_day - days_from_civil(year, 1, 1) + 1) as u32;
        let mod_ = milli_of_day as u32;
        Civil {
            year,
            month,
            day,
            hour: mod_ / 3_600_000,
            minute: mod_ / 60_000 % 60,
            second: mod_ / 1000 % 60,
            milli: mod_ % 1000,
            epoch_day,
            dow: dow_from_days(epoch_day),
            doy,
            milli_of_day,
        }
    }

    /// ISO week-based-year and week-of-week-based-year (Monday first, 4 minimal days), i.e.
    /// `WeekFields.ISO` — what ES 8 uses for `Y` and `w`.
    pub(crate) fn iso_week(&self) -> (i64, u32) {
        let w = (i64::from(self.doy) - i64::from(self.dow) + 10) / 7;
        if w < 1 {
            (self.year - 1, iso_weeks_in_year(self.year - 1))
        } else if w > i64::from(iso_weeks_in_year(self.year)) {
            (self.year + 1, 1)
        } else {
            (self.year, w as u32)
        }
    }

    /// Week of month with ISO week definition (`W`), 0-5, following
    /// `WeekFields.ComputedDayOfField.localizedWeekOfMonth`.
    pub(crate) fn iso_week_of_month(&self) -> u32 {
        week_in_period(self.day, self.dow)
    }
}

/// Java's `startOfWeekOffset` + `computeWeek` for Monday-first, 4-minimal-day weeks: the week
/// number of `day` (1-based day within the period) whose ISO day-of-week is `dow`.
pub(crate) fn week_in_period(day: u32, dow: u32) -> u32 {
    let day = i64::from(day);
    let week_start = (day - i64::from(dow)).rem_euclid(7);
    let offset = if week_start + 1 > 4 {
        7 - week_start
    } else {
        -week_start
    };
    ((7 + offset + (day - 1)) / 7) as u32
}

/// Epoch day of the given ISO week-based date (`LocalDate` of week-based-year, week, ISO
/// day-of-week); no range validation.
pub(crate) fn days_from_iso_week(wby: i64, week: i64, dow: i64) -> i64 {
    let jan4 = days_from_civil(wby, 1, 4);
    let week1_monday = jan4 - (i64::from(dow_from_days(jan4)) - 1);
    week1_monday + (week - 1) * 7 + (dow - 1)
}

/// Whether `year` is small enough to build instants from without overflow checks failing in
/// surprising places.
pub(crate) fn year_in_range(year: i64) -> bool {
    year.abs() <= MAX_ABS_YEAR
}
