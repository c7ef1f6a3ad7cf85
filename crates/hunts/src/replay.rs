//! Replaying a detection rule as Kibana's scheduler would have run it over past data: one
//! run every `interval`, each over its look-back window (`from`, e.g. `now-9m`), each
//! keeping at most `max_signals` rows — and each alert reported once, at the first run
//! that would have created it, like Kibana's rule preview.
//!
//! Choices (documented in the README):
//! * Runs lie on a grid of multiples of `interval` since the epoch (a rule enabled at a
//!   round time), from the first event to the last event plus the look-back; runs whose
//!   window holds no event at all are skipped (they cannot see anything).
//! * The window is `[now - from, now]` on `@timestamp`, both ends included (Kibana's range
//!   filter, applied to the source documents: `engine::TimeFilter`). Elastic's rules set `timestamp_override = "event.ingested"`; replayed logs
//!   have no ingest time of their own, so the event time stands in for it.
//! * Alerts are deduplicated across overlapping windows by the row's `_id` when the query
//!   keeps it (Kibana's key for non-aggregating rules), otherwise by the whole row.

use crate::{Hunt, Runner};
use engine::{DatasetError, EngineError, QueryOptions, QueryResult, TimeFilter, Value};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One alert the rule would have raised.
#[derive(Debug, Clone)]
pub struct Alert {
    /// When the scheduler run that raised it started (its `NOW()`).
    pub fired_at_ms: i64,
    /// The row, in the result's columns.
    pub row: Vec<Value>,
}

/// The replay of one rule.
pub struct ReplayRun<'h> {
    pub rule: &'h Hunt,
    /// Columns of the rule's result (from the first run; every run has the same).
    pub columns: Vec<esql::Column>,
    pub alerts: Vec<Alert>,
    /// Scheduler runs executed.
    pub runs: usize,
    /// The first run's error, if the rule cannot run (then `alerts` is empty).
    pub error: Option<EngineError>,
    pub elapsed: Duration,
    pub interval_ms: i64,
    pub lookback_ms: i64,
}

/// Why a rule's schedule could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("`{field} = \"{value}\"` is not a duration Kibana understands (e.g. 5m, 1h, now-9m)")]
    Invalid { field: &'static str, value: String },
}

/// `5m`, `60m`, `1h`, `30s`, `7d` → milliseconds.
pub fn parse_interval(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms).filter(|ms| *ms > 0)
}

/// Kibana's `from = "now-9m"` (date math relative to the run) → the look-back in ms.
pub fn parse_lookback(s: &str) -> Option<i64> {
    parse_interval(s.trim().strip_prefix("now-")?)
}

/// The scheduler runs (their `NOW()`s) that can see at least one of the data's events,
/// given the epoch-aligned starts of the `interval`-wide buckets that hold events.
fn schedule(occupied: &[i64], interval: i64, lookback: i64) -> Vec<i64> {
    let mut ticks = BTreeSet::new();
    for &b in occupied {
        // A run at t sees [t - lookback, t]; events of bucket b lie in [b, b + interval).
        let mut t = b;
        while t < b + interval + lookback {
            ticks.insert(t);
            t += interval;
        }
    }
    ticks.into_iter().collect()
}

impl Runner {
    /// Replays one rule (a [`Hunt`] whose [`crate::Kind`] is a rule) over the whole data.
    pub fn replay<'h>(&self, rule: &'h Hunt) -> Result<ReplayRun<'h>, ScheduleError> {
        let meta = rule.rule();
        let interval_text = meta.map_or("5m", |r| r.interval.as_str());
        let from_text = meta.map_or("now-6m", |r| r.from.as_str());
        let max_signals = meta.map_or(100, |r| r.max_signals) as usize;
        let interval = parse_interval(interval_text).ok_or_else(|| ScheduleError::Invalid {
            field: "interval",
            value: interval_text.into(),
        })?;
        let lookback = parse_lookback(from_text).ok_or_else(|| ScheduleError::Invalid {
            field: "from",
            value: from_text.into(),
        })?;
        let started = Instant::now();
        let mut run = ReplayRun {
            rule,
            columns: Vec::new(),
            alerts: Vec::new(),
            runs: 0,
            error: None,
            elapsed: Duration::ZERO,
            interval_ms: interval,
            lookback_ms: lookback,
        };
        let Some(query) = rule.esql_queries().first().map(|(_, q)| *q) else {
            return Ok(run);
        };
        let ticks = match self.occupied_buckets(interval) {
            Ok(b) => schedule(&b, interval, lookback),
            Err(e) => {
                run.error = Some(e);
                return Ok(run);
            }
        };
        let mut seen: HashSet<String> = HashSet::new();
        for now in ticks {
            let opts = QueryOptions {
                now_ms: now,
                time_filter: Some(TimeFilter::timestamp(now - lookback, now)),
                ..self.options().clone()
            };
            run.runs += 1;
            let result = match self.execute(query, &opts) {
                Ok(r) => r,
                Err(e) => {
                    // A query error is the same at every run: report it once and stop.
                    run.error = Some(e);
                    break;
                }
            };
            if run.columns.is_empty() {
                run.columns = result.columns.clone();
            }
            let id_col = result.columns.iter().position(|c| c.name == "_id");
            for row in result.rows.into_iter().take(max_signals) {
                let key = match id_col {
                    Some(i) => format!("{:?}", row[i]),
                    None => format!("{row:?}"),
                };
                if seen.insert(key) {
                    run.alerts.push(Alert {
                        fired_at_ms: now,
                        row,
                    });
                }
            }
        }
        run.elapsed = started.elapsed();
        Ok(run)
    }

    /// A runner over an in-memory copy of raw CloudTrail files (only the columns queries
    /// use, read when first needed: see `snapshot.rs`), so that the hundreds of scheduler
    /// runs of a replay, or an investigation's pivots, read and normalize each record once
    /// per new set of columns, not once per query.
    /// Data with a native table (the Parquet store) is used as it is: its row groups are
    /// pruned by each run's time range.
    pub fn snapshot(&self) -> Result<Runner, DatasetError> {
        if self.data().table_provider().is_some() {
            return Ok(self.clone_with(self.data().clone()));
        }
        let (copy, queries) = self.split_budget();
        let cache = crate::snapshot::ColumnCache::new(self.data().clone(), copy);
        Ok(self.clone_with(Arc::new(cache)).with_memory_limit(queries))
    }

    /// Under a memory budget, half for a snapshot's copy and half for the queries run on it
    /// (whose own scans then read memory, not files), so the two together stay inside it.
    fn split_budget(&self) -> (Option<u64>, Option<usize>) {
        match self.options().memory_limit {
            Some(m) => (Some(m as u64 / 2), Some(m - m / 2)),
            None => (None, None),
        }
    }

    /// [`Runner::snapshot`] with the columns these queries mention read at once, in one
    /// scan (a column named in a query but never read only costs memory).
    pub fn snapshot_for(&self, queries: &[&str]) -> Result<Runner, DatasetError> {
        if self.data().table_provider().is_some() {
            return Ok(self.clone_with(self.data().clone()));
        }
        let names: Vec<String> = self
            .data()
            .columns()
            .into_iter()
            .map(|c| c.name)
            .filter(|name| queries.iter().any(|q| mentions(q, name)))
            .collect();
        let (copy, queries) = self.split_budget();
        let cache = crate::snapshot::ColumnCache::new(self.data().clone(), copy);
        cache.preload(&names)?;
        Ok(self.clone_with(Arc::new(cache)).with_memory_limit(queries))
    }

    /// Epoch-aligned starts of the `interval`-wide buckets that hold at least one event.
    fn occupied_buckets(&self, interval: i64) -> Result<Vec<i64>, EngineError> {
        let query = format!(
            "FROM {} | WHERE @timestamp IS NOT NULL | STATS n = COUNT(*) BY b = DATE_TRUNC({interval} milliseconds, @timestamp) | KEEP b",
            self.data().name()
        );
        let opts = QueryOptions {
            now_ms: self.options().now_ms,
            ..self.options().clone()
        };
        let result: QueryResult = self.execute(&query, &opts)?;
        let mut out: Vec<i64> = result
            .rows
            .iter()
            .filter_map(|r| match r.first() {
                Some(Value::Date(ms)) => Some(*ms),
                Some(Value::Long(ms)) => Some(*ms),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        Ok(out)
    }
}

/// Raw files read once into memory, keeping the original's index naming and document ids.
/// Whether `query` names the column `name` as a whole word (not as part of a longer name).
fn mentions(query: &str, name: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@');
    query.match_indices(name).any(|(i, _)| {
        let before = query[..i].chars().next_back();
        let after = query[i + name.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_mentions() {
        assert!(mentions("| keep event.action, x", "event.action"));
        assert!(!mentions("| keep event.actions", "event.action"));
        assert!(!mentions("| keep aws.event.action", "event.action"));
        assert!(mentions("where @timestamp > 1", "@timestamp"));
    }

    #[test]
    fn kibana_durations() {
        assert_eq!(parse_interval("5m"), Some(300_000));
        assert_eq!(parse_interval("60m"), Some(3_600_000));
        assert_eq!(parse_interval("1h"), Some(3_600_000));
        assert_eq!(parse_lookback("now-9m"), Some(540_000));
        assert_eq!(parse_lookback("now-7d"), Some(7 * 86_400_000));
        assert_eq!(parse_interval("5"), None);
        assert_eq!(parse_interval("m"), None);
        assert_eq!(parse_interval("0m"), None);
        assert_eq!(parse_lookback("9m"), None);
    }

    #[test]
    fn runs_that_can_see_events() {
        // Buckets of 5 min at 0 and 60 min, look-back 9 min: runs 0, 5, 10 see the first
        // bucket, 60, 65, 70 the second.
        let m = 60_000;
        assert_eq!(
            schedule(&[0, 60 * m], 5 * m, 9 * m),
            vec![0, 5 * m, 10 * m, 60 * m, 65 * m, 70 * m]
        );
        // Overlapping candidates merge.
        assert_eq!(schedule(&[0, 5 * m], 5 * m, 4 * m), vec![0, 5 * m, 10 * m]);
    }
}
