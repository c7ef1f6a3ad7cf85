//! CloudTrail's S3 delivery layout, `…/AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`,
//! and the one day range every pruning decision uses: S3 listings skip year, month and day
//! prefixes outside it before anything is fetched, local trees skip the same folders, the
//! raw scan skips files outside a query's `@timestamp` bounds, and ingest orders sources by
//! delivery day. One parser and one range, so the three can never disagree.

use crate::SourceError;

const DAY_MS: i64 = 86_400_000;

/// The `YYYY`, `MM` and `DD` folders that follow `CloudTrail/<region>/` in CloudTrail's S3
/// delivery layout, for a `/`-separated file path, S3 key or listing prefix. Month and day
/// are `None` where the path stops before them (a prefix); `None` for paths without that
/// layout.
pub fn delivery_date(path: &str) -> Option<(u32, Option<u32>, Option<u32>)> {
    let comps: Vec<&str> = path.split('/').collect();
    let at = comps.iter().position(|c| *c == "CloudTrail")?;
    let num = |k: usize, len: usize| -> Option<u32> {
        comps
            .get(at + k)
            .filter(|c| c.len() == len && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse().ok())
    };
    let year = num(2, 4)?;
    let month = num(3, 2);
    Some((year, month, month.and(num(4, 2))))
}

/// Day numbers (days since the epoch) a file's delivery folder must fall in; either end
/// open. The default admits everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRange {
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl DayRange {
    /// The folders that can hold events between `min` and `max` (epoch ms, inclusive).
    /// A folder is the delivery day, never before the event's day; deliveries run minutes
    /// late (into the next day's folder at worst), so one day of slack on each side keeps
    /// every matching file.
    pub fn from_millis(min: Option<i64>, max: Option<i64>) -> DayRange {
        DayRange {
            first: min.map(|ms| ms.div_euclid(DAY_MS) - 1),
            last: max.map(|ms| ms.div_euclid(DAY_MS) + 1),
        }
    }

    /// `--since`/`--until` dates (`YYYY-MM-DD` or an ISO-8601 timestamp), with the same
    /// day of slack as [`DayRange::from_millis`].
    pub fn from_dates(since: Option<&str>, until: Option<&str>) -> Result<DayRange, SourceError> {
        let ms = |v: Option<&str>, flag: &'static str| {
            v.map(|s| {
                javatime::parse_strict_date_optional_time(s).map_err(|_| SourceError::BadDate {
                    flag,
                    value: s.to_string(),
                })
            })
            .transpose()
        };
        Ok(DayRange::from_millis(
            ms(since, "since")?,
            ms(until, "until")?,
        ))
    }

    /// Days in both ranges.
    pub fn intersect(self, other: DayRange) -> DayRange {
        let pick = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, None) | (None, x) => x,
        };
        DayRange {
            first: pick(self.first, other.first, i64::max),
            last: pick(self.last, other.last, i64::min),
        }
    }

    pub fn is_open(&self) -> bool {
        self.first.is_none() && self.last.is_none()
    }

    /// Whether a (partial) folder date can hold days in the range: `(year)`,
    /// `(year, month)` or `(year, month, day)`. Impossible dates are admitted: pruning
    /// must never drop a file it does not understand.
    fn admits(&self, y: i32, m: Option<u32>, d: Option<u32>) -> bool {
        use chrono::NaiveDate;
        let span = match (m, d) {
            (Some(m), Some(d)) => NaiveDate::from_ymd_opt(y, m, d).map(|x| (x, x)),
            (Some(m), None) => NaiveDate::from_ymd_opt(y, m, 1).map(|lo| {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                (lo, next.and_then(|n| n.pred_opt()).unwrap_or(lo))
            }),
            _ => NaiveDate::from_ymd_opt(y, 1, 1).zip(NaiveDate::from_ymd_opt(y, 12, 31)),
        };
        let Some((lo, hi)) = span else { return true };
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
        let (lo, hi) = ((lo - epoch).num_days(), (hi - epoch).num_days());
        self.first.is_none_or(|f| hi >= f) && self.last.is_none_or(|l| lo <= l)
    }

    /// Whether a path (file path, S3 key or listing prefix; `\` is read as `/`) can hold
    /// events in the range, judged by its `CloudTrail/<region>/YYYY/MM/DD` components;
    /// other layouts pass.
    pub fn admits_path(&self, path: &str) -> bool {
        if self.is_open() {
            return true;
        }
        let normalized;
        let path = if path.contains('\\') {
            normalized = path.replace('\\', "/");
            &normalized
        } else {
            path
        };
        match delivery_date(path) {
            Some((year, month, day)) => self.admits(year as i32, month, day),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_by_layout() {
        let r = DayRange::from_dates(Some("2024-08-01"), Some("2024-08-01")).unwrap();
        let base = "AWSLogs/1234/CloudTrail/eu-west-1";
        assert!(r.admits_path(&format!("{base}/2024/")));
        assert!(!r.admits_path(&format!("{base}/2023/")));
        assert!(r.admits_path(&format!("{base}/2024/08/")));
        assert!(r.admits_path(&format!("{base}/2024/07/")));
        assert!(!r.admits_path(&format!("{base}/2024/06/")));
        assert!(r.admits_path(&format!("{base}/2024/07/31/")));
        assert!(!r.admits_path(&format!("{base}/2024/07/30/x.json.gz")));
        assert!(r.admits_path(&format!("{base}/2024/08/02/x.json.gz")));
        assert!(!r.admits_path(&format!("{base}/2024/08/03/x.json.gz")));
        assert!(r.admits_path("AWSLogs/o-abc/1234/CloudTrail/us-east-1/2024/08/01/"));
        assert!(!r.admits_path("AWSLogs/o-abc/1234/CloudTrail/us-east-1/2025/"));
        assert!(r.admits_path("elsewhere/file.json"));
        assert!(r.admits_path("AWSLogs/1234/CloudTrail/"));
        assert!(!r.admits_path(r"C:\logs\AWSLogs\1\CloudTrail\us-east-1\2024\08\05\f.json"));
        // Impossible folder dates are not understood, so never pruned.
        assert!(r.admits_path(&format!("{base}/2024/13/40/x.json.gz")));
    }

    #[test]
    fn open_and_intersected_ranges() {
        assert!(DayRange::default().is_open());
        let a = DayRange::from_dates(Some("2024-08-01"), None).unwrap();
        let b = DayRange::from_dates(None, Some("2024-08-10")).unwrap();
        let both = a.intersect(b);
        assert_eq!(both.first, a.first);
        assert_eq!(both.last, b.last);
        let err = DayRange::from_dates(Some("last tuesday"), None).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid --since value [last tuesday]"),
            "{err}"
        );
    }

    #[test]
    fn delivery_folders() {
        assert_eq!(
            delivery_date("AWSLogs/1/CloudTrail/us-east-1/2024/08/01/f.json.gz"),
            Some((2024, Some(8), Some(1)))
        );
        assert_eq!(
            delivery_date("AWSLogs/1/CloudTrail/us-east-1/2024/"),
            Some((2024, None, None))
        );
        assert_eq!(
            delivery_date("AWSLogs/1/CloudTrail/us-east-1/latest/"),
            None
        );
        assert_eq!(delivery_date("no/layout.json"), None);
    }
}
