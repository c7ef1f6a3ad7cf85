//! `java.time.temporal.ChronoField`, as `DATE_EXTRACT` exposes it.

use crate::calendar::Civil;

macro_rules! chrono_fields {
    ($($variant:ident => $name:literal, $display:literal;)*) => {
        /// The `java.time.temporal.ChronoField` constants that a UTC `ZonedDateTime` supports.
        /// `DATE_EXTRACT(part, date)` resolves `part` with `ChronoField.valueOf(part.toUpperCase())`
        /// and then calls `ZonedDateTime.getLong(field)`; this enum mirrors both steps.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        pub enum ChronoField {
            $(#[doc = $display] $variant,)*
        }

        impl ChronoField {
            /// Every field, in `ChronoField.values()` order.
            pub const ALL: &'static [ChronoField] = &[$(ChronoField::$variant,)*];

            /// The Java enum constant name, e.g. `"MONTH_OF_YEAR"`.
            pub fn name(&self) -> &'static str {
                match self { $(ChronoField::$variant => $name,)* }
            }

            /// Java's `ChronoField.toString()`, e.g. `"MonthOfYear"` (used in Java error texts such as
            /// `Invalid value for MonthOfYear ...`).
            pub fn display_name(&self) -> &'static str {
                match self { $(ChronoField::$variant => $display,)* }
            }
        }
    };
}

chrono_fields! {
    NANO_OF_SECOND => "NANO_OF_SECOND", "NanoOfSecond";
    NANO_OF_DAY => "NANO_OF_DAY", "NanoOfDay";
    MICRO_OF_SECOND => "MICRO_OF_SECOND", "MicroOfSecond";
    MICRO_OF_DAY => "MICRO_OF_DAY", "MicroOfDay";
    MILLI_OF_SECOND => "MILLI_OF_SECOND", "MilliOfSecond";
    MILLI_OF_DAY => "MILLI_OF_DAY", "MilliOfDay";
    SECOND_OF_MINUTE => "SECOND_OF_MINUTE", "SecondOfMinute";
    SECOND_OF_DAY => "SECOND_OF_DAY", "SecondOfDay";
    MINUTE_OF_HOUR => "MINUTE_OF_HOUR", "MinuteOfHour";
    MINUTE_OF_DAY => "MINUTE_OF_DAY", "MinuteOfDay";
    HOUR_OF_AMPM => "HOUR_OF_AMPM", "HourOfAmPm";
    CLOCK_HOUR_OF_AMPM => "CLOCK_HOUR_OF_AMPM", "ClockHourOfAmPm";
    HOUR_OF_DAY => "HOUR_OF_DAY", "HourOfDay";
    CLOCK_HOUR_OF_DAY => "CLOCK_HOUR_OF_DAY", "ClockHourOfDay";
    AMPM_OF_DAY => "AMPM_OF_DAY", "AmPmOfDay";
    DAY_OF_WEEK => "DAY_OF_WEEK", "DayOfWeek";
    ALIGNED_DAY_OF_WEEK_IN_MONTH => "ALIGNED_DAY_OF_WEEK_IN_MONTH", "AlignedDayOfWeekInMonth";
    ALIGNED_DAY_OF_WEEK_IN_YEAR => "ALIGNED_DAY_OF_WEEK_IN_YEAR", "AlignedDayOfWeekInYear";
    DAY_OF_MONTH => "DAY_OF_MONTH", "DayOfMonth";
    DAY_OF_YEAR => "DAY_OF_YEAR", "DayOfYear";
    EPOCH_DAY => "EPOCH_DAY", "EpochDay";
    ALIGNED_WEEK_OF_MONTH => "ALIGNED_WEEK_OF_MONTH", "AlignedWeekOfMonth";
    ALIGNED_WEEK_OF_YEAR => "ALIGNED_WEEK_OF_YEAR", "AlignedWeekOfYear";
    MONTH_OF_YEAR => "MONTH_OF_YEAR", "MonthOfYear";
    PROLEPTIC_MONTH => "PROLEPTIC_MONTH", "ProlepticMonth";
    YEAR_OF_ERA => "YEAR_OF_ERA", "YearOfEra";
    YEAR => "YEAR", "Year";
    ERA => "ERA", "Era";
    INSTANT_SECONDS => "INSTANT_SECONDS", "InstantSeconds";
    OFFSET_SECONDS => "OFFSET_SECONDS", "OffsetSeconds";
}

impl ChronoField {
    /// Looks a field up by its enum constant name, ignoring ASCII case (`"year"`,
    /// `"Month_Of_Year"`), as `ChronoField.valueOf(part.toUpperCase(Locale.ROOT))` does.
    pub fn from_name(name: &str) -> Option<ChronoField> {
        ChronoField::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// `ZonedDateTime.ofInstant(Instant.ofEpochMilli(epoch_millis), UTC).getLong(field)`.
    pub fn get(&self, epoch_millis: i64) -> i64 {
        let c = Civil::from_millis(epoch_millis);
        let mod_ = c.milli_of_day;
        let hour = i64::from(c.hour);
        match self {
            ChronoField::NANO_OF_SECOND => i64::from(c.milli) * 1_000_000,
            ChronoField::NANO_OF_DAY => mod_ * 1_000_000,
            ChronoField::MICRO_OF_SECOND => i64::from(c.milli) * 1000,
            ChronoField::MICRO_OF_DAY => mod_ * 1000,
            ChronoField::MILLI_OF_SECOND => i64::from(c.milli),
            ChronoField::MILLI_OF_DAY => mod_,
            ChronoField::SECOND_OF_MINUTE => i64::from(c.second),
            ChronoField::SECOND_OF_DAY => mod_ / 1000,
            ChronoField::MINUTE_OF_HOUR => i64::from(c.minute),
            ChronoField::MINUTE_OF_DAY => mod_ / 60_000,
            ChronoField::HOUR_OF_AMPM => hour % 12,
            ChronoField::CLOCK_HOUR_OF_AMPM => {
                if hour % 12 == 0 {
                    12
                } else {
                    hour % 12
                }
            }
            ChronoField::HOUR_OF_DAY => hour,
            ChronoField::CLOCK_HOUR_OF_DAY => {
                if hour == 0 {
                    24
                } else {
                    hour
                }
            }
            ChronoField::AMPM_OF_DAY => hour / 12,
            ChronoField::DAY_OF_WEEK => i64::from(c.dow),
            ChronoField::ALIGNED_DAY_OF_WEEK_IN_MONTH => i64::from((c.day - 1) % 7 + 1),
            ChronoField::ALIGNED_DAY_OF_WEEK_IN_YEAR => i64::from((c.doy - 1) % 7 + 1),
            ChronoField::DAY_OF_MONTH => i64::from(c.day),
            ChronoField::DAY_OF_YEAR => i64::from(c.doy),
            ChronoField::EPOCH_DAY => c.epoch_day,
            ChronoField::ALIGNED_WEEK_OF_MONTH => i64::from((c.day - 1) / 7 + 1),
            ChronoField::ALIGNED_WEEK_OF_YEAR => i64::from((c.doy - 1) / 7 + 1),
            ChronoField::MONTH_OF_YEAR => i64::from(c.month),
            ChronoField::PROLEPTIC_MONTH => c.year * 12 + i64::from(c.month) - 1,
            ChronoField::YEAR_OF_ERA => {
                if c.year >= 1 {
                    c.year
                } else {
                    1 - c.year
                }
            }
            ChronoField::YEAR => c.year,
            ChronoField::ERA => i64::from(c.year >= 1),
            ChronoField::INSTANT_SECONDS => epoch_millis.div_euclid(1000),
            ChronoField::OFFSET_SECONDS => 0,
        }
    }
}

impl std::fmt::Display for ChronoField {
    /// Java's `toString()` (`"MonthOfYear"`), so error texts built with it read like Java's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.display_name())
    }
}
