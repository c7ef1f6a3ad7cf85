//! Runs hunts over data, outside any terminal: each ES|QL query of each hunt, with its rows
//! or its Elasticsearch-style error and how long it took — and, when a query relative to
//! `NOW()` finds nothing, where the data actually lies, because the usual reason is a
//! replay of old logs with the wall clock as `NOW()`. Callers render the runs; a run is
//! reported as soon as it finishes so output can stream.

use crate::lint::{self, Finding};
use crate::Hunt;
use engine::{Dataset, EngineError, QueryOptions, QueryResult, TimeSpan};
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The data hunts run on.
pub struct Runner {
    /// The CloudTrail data (its time span explains empty results).
    data: Arc<dyn Dataset>,
    /// `data` and any lookup tables the queries may join.
    datasets: Vec<Arc<dyn Dataset>>,
    opts: QueryOptions,
    /// Computed on the first empty windowed result, then reused.
    span: OnceCell<Option<TimeSpan>>,
}

/// What happened to one hunt or one of its queries, in run order.
pub enum Event<'h> {
    /// The hunt has no ES|QL query (an osquery-only hunt, say): nothing was run.
    NotEsql(&'h Hunt),
    Query(QueryRun<'h>),
}

/// One query of one hunt, run.
pub struct QueryRun<'h> {
    pub hunt: &'h Hunt,
    /// 0-based position among the hunt's queries (mixed-language hunts skip non-ES|QL ones).
    pub index: usize,
    pub query: &'h str,
    pub result: Result<QueryResult, EngineError>,
    pub elapsed: Duration,
    /// For a query relative to `NOW()` that returned no rows: what the data spans.
    pub empty: Option<EmptyWindow>,
    /// What the linter finds in the query text (shown under the results).
    pub lint: Vec<Finding>,
}

impl QueryRun<'_> {
    /// How this query ended, for the summary.
    pub fn status(&self) -> Status {
        match &self.result {
            Err(_) => Status::Failed,
            Ok(r) if r.rows.is_empty() => Status::Empty,
            Ok(r) => Status::Fired(r.rows.len()),
        }
    }
}

/// How one query (or one hunt that could not run at all) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Returned this many rows (a hunt "fires" when it returns any).
    Fired(usize),
    /// Ran and returned nothing.
    Empty,
    /// Elasticsearch would have rejected it, or reading the data failed.
    Failed,
    /// Not ES|QL (osquery, EQL, KQL): trailhunt cannot run it.
    NotRun,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Fired(_) => "fired",
            Status::Empty => "no rows",
            Status::Failed => "error",
            Status::NotRun => "not ES|QL",
        }
    }
}

/// Counts over a whole run, and what it means for a script.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Queries that returned rows, and the rows they returned.
    pub fired: usize,
    pub rows: usize,
    pub empty: usize,
    pub failed: usize,
    pub not_run: usize,
}

/// The outcome of a run, in grep's terms: something found, nothing found, trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// At least one query returned rows and none failed.
    Fired,
    /// Every query ran and returned nothing.
    Nothing,
    /// At least one query failed (whatever the others found).
    Errors,
}

impl Totals {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Fired(n) => {
                self.fired += 1;
                self.rows += n;
            }
            Status::Empty => self.empty += 1,
            Status::Failed => self.failed += 1,
            Status::NotRun => self.not_run += 1,
        }
    }

    pub fn outcome(&self) -> Outcome {
        if self.failed > 0 {
            Outcome::Errors
        } else if self.fired > 0 {
            Outcome::Fired
        } else {
            Outcome::Nothing
        }
    }
}

/// An empty result of a `NOW()`-relative query, next to what the data holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyWindow {
    pub now_ms: i64,
    pub events: i64,
    pub first: i64,
    pub last: i64,
}

impl EmptyWindow {
    /// Whether the data lies outside any window ending at `NOW()` (older than 30 days, or
    /// in its future): then `--now` is almost certainly what the user needs.
    pub fn looks_like_replay(&self) -> bool {
        self.last < self.now_ms - 30 * 86_400_000 || self.last > self.now_ms
    }
}

impl fmt::Display for EmptyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let iso = javatime::format_iso_millis;
        if self.looks_like_replay() {
            write!(
                f,
                "its time window is relative to NOW() = {} and the data holds {} events from {} to {}. Replaying old logs? Try --now latest (or --now {}).",
                iso(self.now_ms),
                self.events,
                iso(self.first),
                iso(self.last),
                iso(self.last + 1),
            )
        } else {
            write!(
                f,
                "the data holds {} events from {} to {} (NOW() = {}).",
                self.events,
                iso(self.first),
                iso(self.last),
                iso(self.now_ms)
            )
        }
    }
}

impl Runner {
    /// `data` is the CloudTrail dataset; `extra` are lookup tables and enrich policies.
    pub fn new(data: Arc<dyn Dataset>, extra: Vec<Arc<dyn Dataset>>, opts: QueryOptions) -> Runner {
        let mut datasets = vec![data.clone()];
        datasets.extend(extra);
        Runner {
            data,
            datasets,
            opts,
            span: OnceCell::new(),
        }
    }

    /// Runs every ES|QL query of every hunt in order, handing each [`Event`] to `on_event`
    /// as it happens.
    pub fn run<'h>(&self, hunts: &'h [Hunt], mut on_event: impl FnMut(Event<'h>)) {
        for hunt in hunts {
            if !hunt.is_esql() {
                on_event(Event::NotEsql(hunt));
                continue;
            }
            let mut findings = lint::lint_hunt(hunt);
            for (index, query) in hunt.esql_queries() {
                let mut run = self.run_query(hunt, index, query);
                run.lint = findings
                    .iter()
                    .filter(|f| f.query == index)
                    .map(|f| f.finding.clone())
                    .collect();
                findings.retain(|f| f.query != index);
                on_event(Event::Query(run));
            }
        }
    }

    /// Runs one query of a hunt (without lint: [`Runner::run`] adds it).
    pub fn run_query<'h>(&self, hunt: &'h Hunt, index: usize, query: &'h str) -> QueryRun<'h> {
        let started = Instant::now();
        let result = self.execute(query, &self.opts);
        let elapsed = started.elapsed();
        let empty = match &result {
            Ok(r) if r.rows.is_empty() && mentions_now(query) => self.empty_window(),
            _ => None,
        };
        QueryRun {
            hunt,
            index,
            query,
            result,
            elapsed,
            empty,
            lint: Vec::new(),
        }
    }

    /// Runs a query over the runner's datasets with other options (the replay's `NOW()`
    /// and time range).
    pub fn execute(&self, query: &str, opts: &QueryOptions) -> Result<QueryResult, EngineError> {
        engine::execute_blocking(query, &self.datasets, opts)
    }

    /// [`Runner::execute`] with `?name` parameters (the investigation's pivots).
    pub fn execute_with_params(
        &self,
        query: &str,
        params: &esql::Params,
        opts: &QueryOptions,
    ) -> Result<QueryResult, EngineError> {
        engine::execute_blocking_with_params(query, params, &self.datasets, opts)
    }

    /// The options every query runs with.
    pub fn options(&self) -> &QueryOptions {
        &self.opts
    }

    /// The same runner over other CloudTrail data (same lookups and options).
    pub(crate) fn clone_with(&self, data: Arc<dyn Dataset>) -> Runner {
        Runner::new(data, self.datasets[1..].to_vec(), self.opts.clone())
    }

    /// This runner with another memory budget (unchanged when `None`).
    pub(crate) fn with_memory_limit(mut self, limit: Option<usize>) -> Runner {
        if limit.is_some() {
            self.opts.memory_limit = limit;
        }
        self
    }

    /// The CloudTrail dataset and the lookup tables.
    pub fn datasets(&self) -> &[Arc<dyn Dataset>] {
        &self.datasets
    }

    /// The CloudTrail dataset.
    pub fn data(&self) -> &Arc<dyn Dataset> {
        &self.data
    }

    fn empty_window(&self) -> Option<EmptyWindow> {
        let span = self
            .span
            .get_or_init(|| engine::time_span_blocking(self.data.clone(), &self.opts).ok());
        match span {
            Some(TimeSpan {
                events,
                first: Some(first),
                last: Some(last),
            }) if *events > 0 => Some(EmptyWindow {
                now_ms: self.opts.now_ms,
                events: *events,
                first: *first,
                last: *last,
            }),
            _ => None,
        }
    }
}

/// Whether a query's result depends on `NOW()` (so an empty one may be a wrong `--now`).
fn mentions_now(query: &str) -> bool {
    query.to_ascii_lowercase().contains("now()")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_windows_say_what_to_do() {
        let day = 86_400_000;
        let old = EmptyWindow {
            now_ms: 100 * day,
            events: 5,
            first: day,
            last: 2 * day,
        };
        assert!(old.looks_like_replay());
        let text = old.to_string();
        assert!(
            text.contains("Try --now latest (or --now 1970-01-03T00:00:00.001Z)"),
            "{text}"
        );
        let recent = EmptyWindow {
            last: 99 * day,
            ..old
        };
        assert!(!recent.looks_like_replay());
        assert!(recent.to_string().starts_with("the data holds 5 events"));
        assert!(mentions_now("FROM x | WHERE @timestamp > NOW() - 7 days"));
        assert!(!mentions_now("FROM x | LIMIT 1"));
    }
}
