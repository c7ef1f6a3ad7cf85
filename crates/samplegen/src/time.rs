//! UTC calendar arithmetic on Unix seconds (no date crate: the generator only
//! needs formatting, and the civil-date algorithm is short and exact).

/// Unix seconds at 00:00:00 UTC of the given date.
pub fn ymd(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * 86_400
}

/// Unix seconds of the given UTC date and time.
pub fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    ymd(y, mo, d) + i64::from(h * 3600 + mi * 60 + s)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day, hour, minute, second) of Unix seconds.
pub fn parts(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `2024-07-31T13:06:24Z`, CloudTrail's `eventTime` format.
pub fn iso(t: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(ymd(1970, 1, 1), 0);
        assert_eq!(iso(at(2024, 7, 31, 13, 6, 24)), "2024-07-31T13:06:24Z");
        assert_eq!(at(2024, 8, 2, 0, 0, 0), 1_722_556_800);
        assert_eq!(iso(ymd(2024, 2, 29) + 86_399), "2024-02-29T23:59:59Z");
        assert_eq!(iso(ymd(2000, 3, 1)), "2000-03-01T00:00:00Z");
    }
}
