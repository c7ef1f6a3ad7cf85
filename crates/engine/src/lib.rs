//! ES|QL semantics on Apache DataFusion: the planner (analyzed ES|QL → `LogicalPlan`), the
//! function library, multi-value handling, warnings, and result values with ES's
//! formatting. It knows nothing about CloudTrail: data arrives through [`Dataset`].

pub mod arith;
pub mod extract;
pub mod format;
pub mod functions;
pub mod lookup;
pub mod metadata;
pub mod pattern;
pub mod planner;
pub mod pushdown;
pub mod remote;
pub mod source;
pub mod udf;
pub mod value;
pub mod warnings;

use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::SessionContext;
pub use esql::Params;
use esql::{Column, EsqlError};
pub use pushdown::{Needle, Pushdown};
pub use source::{
    stream_scan, BatchIter, Dataset, DatasetError, DatasetTable, DocumentId, IndexNaming,
    MemoryDataset,
};
use std::sync::Arc;
pub use value::Value;
pub use warnings::Warnings;

#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// The value of `NOW()` for the whole query, in epoch milliseconds.
    pub now_ms: i64,
    /// The query's memory budget in bytes (`None`: unbounded): sorts and aggregations
    /// spill to disk rather than exceed it. Scans stream in bounded batches whatever it is.
    pub memory_limit: Option<usize>,
    /// The time range of a scheduled rule run, as Kibana sends it with an ES|QL rule's
    /// query: only source documents in the range are read, as if the query's first command
    /// were preceded by the filter (so STATS counts only them). `None`: all documents.
    pub time_filter: Option<TimeFilter>,
    /// Give up on a query that runs longer than this (`--timeout`), with an error naming
    /// the limit. `None`: no limit.
    pub timeout: Option<std::time::Duration>,
    /// Where the plan runs: `None` in this process, else on a cluster (`--cluster`).
    pub remote: Option<remote::Remote>,
}

/// The memory budget when the user gives none: half of the machine's RAM, so no input can
/// make a query grow until the OS kills it (aggregations and sorts spill to disk instead).
/// `None` where the total cannot be read.
pub fn default_memory_limit() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: usize = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 2)
}

/// A range filter `field >= from AND field <= to` (both ends included, epoch ms) on the
/// documents of the query's `FROM` data, before the query's first command: what Kibana's
/// rule executor puts in the `filter` of an ES|QL rule's request. Data without the field
/// has no document in range (an ES range query on an unmapped field matches nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFilter {
    /// The date column, `@timestamp` for Kibana's rules.
    pub field: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeFilter {
    /// A range on `@timestamp`.
    pub fn timestamp(from_ms: i64, to_ms: i64) -> TimeFilter {
        TimeFilter {
            field: source::TIME_COLUMN.to_string(),
            from_ms,
            to_ms,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub enum EngineError {
    /// The query is wrong (parsing or verification), with ES's message and position.
    Query(EsqlError),
    Plan(planner::PlanError),
    /// Reading or computing failed (an unreadable source in strict mode, …).
    Execution(String),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Query(e) => write!(f, "{e}"),
            EngineError::Plan(e) => write!(f, "{e}"),
            EngineError::Execution(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl EngineError {
    /// Where in the query text the error is (1-based line and column), for a caret under
    /// the query; `None` for errors of reading or computing.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            EngineError::Query(q) => q
                .problems
                .first()
                .map(|p| (p.position.line, p.position.column)),
            EngineError::Plan(p) => p.position(),
            EngineError::Execution(_) => None,
        }
    }
}

/// How many events a dataset holds and the span of their `@timestamp`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub events: i64,
    /// Oldest and newest `@timestamp` (epoch ms); `None` when no event has one.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// Counts a dataset's events and finds its oldest and newest `@timestamp`, by one
/// aggregate over the time column (a Parquet store answers it from column chunks; raw logs
/// are scanned for that one column). For `--now latest` and for explaining an empty hunt.
pub async fn time_span(
    dataset: Arc<dyn Dataset>,
    opts: &QueryOptions,
) -> Result<TimeSpan, EngineError> {
    use datafusion::functions_aggregate::expr_fn::{count, max, min};
    use datafusion::logical_expr::{col, lit};
    let plan_err = |e: datafusion::error::DataFusionError| EngineError::Plan(e.into());
    let table = dataset
        .table_provider()
        .unwrap_or_else(|| Arc::new(DatasetTable::new(dataset.clone())));
    let ts = col(datafusion::common::Column::new_unqualified(
        source::TIME_COLUMN,
    ));
    let plan = LogicalPlanBuilder::scan("data", provider_as_source(table), None)
        .and_then(|b| {
            b.aggregate(
                Vec::<datafusion::logical_expr::Expr>::new(),
                vec![count(lit(1)), min(ts.clone()), max(ts)],
            )
        })
        .and_then(|b| b.build())
        .map_err(plan_err)?;
    let batches = session(opts)?
        .execute_logical_plan(plan)
        .await
        .map_err(|e| EngineError::Execution(clean_error(e)))?
        .collect()
        .await
        .map_err(|e| EngineError::Execution(clean_error(e)))?;
    let cell = |i: usize| {
        batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| value::value_at(b.column(i).as_ref(), 0))
            .unwrap_or(Value::Null)
    };
    let ms = |v: Value| match v {
        Value::Date(ms) => Some(ms),
        _ => None,
    };
    Ok(TimeSpan {
        events: match cell(0) {
            Value::Long(n) => n,
            _ => 0,
        },
        first: ms(cell(1)),
        last: ms(cell(2)),
    })
}

/// [`time_span`] on a private runtime.
pub fn time_span_blocking(
    dataset: Arc<dyn Dataset>,
    opts: &QueryOptions,
) -> Result<TimeSpan, EngineError> {
    with_query_stack(|| block_on(time_span(dataset, opts)))??
}

/// Stack of the threads that analyze, plan and run a query. Analysis, DataFusion's planner
/// and its optimizer walk expression trees recursively; the parser admits trees up to
/// `esql::MAX_EXPRESSION_DEPTH` deep, which needs more than the 2 MiB default in
/// debug builds. Only touched pages cost memory.
const QUERY_STACK: usize = 256 << 20;

/// Runs `f` on a fresh thread with [`QUERY_STACK`] of stack and waits for it.
fn with_query_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, EngineError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("trailhunt-query".into())
            .stack_size(QUERY_STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| EngineError::Execution(format!("cannot start the query thread: {e}")))?
            .join()
            .map_err(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                EngineError::Execution(format!("internal error in the query thread: {what}"))
            })
    })
}

/// Runs `f` to completion on a private runtime, then shuts the runtime down without waiting
/// for tasks still running (a query aborted by its `--timeout` stops at its next yield, which
/// may be long after).
fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, EngineError> {
    let rt = runtime()?;
    let out = rt.block_on(f);
    rt.shutdown_background();
    Ok(out)
}

fn runtime() -> Result<tokio::runtime::Runtime, EngineError> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(QUERY_STACK)
        .enable_all()
        .build()
        .map_err(|e| EngineError::Execution(e.to_string()))
}

/// Resolves `FROM` patterns against the datasets by ES's wildcard rules.
struct Resolver<'a> {
    datasets: &'a [Arc<dyn Dataset>],
}

impl esql::SourceResolver for Resolver<'_> {
    fn resolve(&self, patterns: &[String]) -> Result<Vec<Column>, esql::ResolveError> {
        let mut found: Option<&Arc<dyn Dataset>> = None;
        for p in patterns {
            if p.starts_with('-') {
                continue;
            }
            let hit = self
                .datasets
                .iter()
                .find(|d| esql::analyzer::wildcard_match(p, d.name()));
            match hit {
                Some(d) => found = found.or(Some(d)),
                None if !p.contains('*') => {
                    return Err(esql::ResolveError::UnknownIndex(p.clone()))
                }
                None => {}
            }
        }
        match found {
            Some(d) => Ok(d.columns()),
            None => Err(esql::ResolveError::UnknownIndex(patterns.join(","))),
        }
    }

    fn enrich_policy(&self, name: &str) -> Result<esql::EnrichPolicy, esql::ResolveError> {
        let d = self
            .datasets
            .iter()
            .find(|d| d.name() == name && d.enrich_match_field().is_some())
            .ok_or_else(|| esql::ResolveError::UnknownEnrichPolicy(name.to_string()))?;
        Ok(esql::EnrichPolicy {
            index: d.name().to_string(),
            match_field: d.enrich_match_field().unwrap_or_default(),
            columns: d.columns(),
        })
    }
}

/// Parses and analyzes a query against the datasets' columns: the errors a user sees
/// before anything is read.
pub fn analyze(query: &str, datasets: &[Arc<dyn Dataset>]) -> Result<esql::Analyzed, EngineError> {
    analyze_with_params(query, &Params::default(), datasets)
}

/// [`analyze`] with values for the query's `?` placeholders.
pub fn analyze_with_params(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
) -> Result<esql::Analyzed, EngineError> {
    let ast = esql::parse_with_params(query, params).map_err(EngineError::Query)?;
    esql::analyze(
        query,
        &ast,
        functions::Registry::global(),
        &Resolver { datasets },
    )
    .map_err(EngineError::Query)
}

/// Parses, analyzes and plans a query (not yet optimized).
fn logical_plan(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
    warnings: &Warnings,
) -> Result<(esql::Analyzed, datafusion::logical_expr::LogicalPlan), EngineError> {
    let analyzed = analyze_with_params(query, params, datasets)?;
    for w in &analyzed.warnings {
        warnings.note(w.clone());
    }
    let ctx = planner::PlanContext {
        source: query,
        datasets,
        warnings,
        now_ms: opts.now_ms,
    };
    let input =
        match &analyzed.source {
            esql::TSource::From {
                patterns, metadata, ..
            } => {
                let dataset = datasets
                    .iter()
                    .find(|d| {
                        patterns
                            .iter()
                            .any(|p| esql::analyzer::wildcard_match(p, d.name()))
                    })
                    .cloned()
                    .ok_or_else(|| EngineError::Execution("no dataset matches".into()))?;
                let table = dataset
                    .table_provider()
                    .unwrap_or_else(|| Arc::new(DatasetTable::new(dataset.clone())));
                let scan = LogicalPlanBuilder::scan("data", provider_as_source(table), None)
                    .and_then(|b| b.build())
                    .map_err(|e| EngineError::Plan(e.into()))?;
                // The rule's time range sits directly on the scan, where DataFusion pushes
                // it into the scan's filters like any WHERE on the time column (files and
                // row groups out of range are skipped), below everything the query does.
                let scan = match &opts.time_filter {
                    Some(tf) => time_filter(scan, tf)?,
                    None => scan,
                };
                metadata::project(scan, dataset.as_ref(), metadata).map_err(EngineError::Plan)?
            }
            esql::TSource::Row(_) | esql::TSource::Show(_) => LogicalPlanBuilder::empty(true)
                .build()
                .map_err(|e| EngineError::Plan(e.into()))?,
        };
    let plan = planner::plan_steps(&ctx, &analyzed, input).map_err(EngineError::Plan)?;
    Ok((analyzed, plan))
}

/// `plan` (a scan) filtered to the documents in `tf`'s range.
fn time_filter(
    plan: datafusion::logical_expr::LogicalPlan,
    tf: &TimeFilter,
) -> Result<datafusion::logical_expr::LogicalPlan, EngineError> {
    use datafusion::arrow::datatypes::DataType as ArrowType;
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{lit, Expr};
    let cond = match plan.schema().field_with_unqualified_name(&tf.field) {
        Err(_) => lit(false),
        Ok(f) => match f.data_type() {
            ArrowType::Timestamp(..) => {
                let ts =
                    |ms| Expr::Literal(ScalarValue::TimestampMillisecond(Some(ms), None), None);
                let c = planner::expr::column(&tf.field);
                c.clone().gt_eq(ts(tf.from_ms)).and(c.lt_eq(ts(tf.to_ms)))
            }
            other => {
                return Err(EngineError::Execution(format!(
                    "time filter field [{}] is not a date (it is {other})",
                    tf.field
                )))
            }
        },
    };
    LogicalPlanBuilder::from(plan)
        .filter(cond)
        .and_then(|b| b.build())
        .map_err(|e| EngineError::Plan(e.into()))
}

/// The `@timestamp` bounds (epoch ms, inclusive; `None` = open) a query's filters put on
/// its `FROM` data, as DataFusion pushes them into the scan after constant folding (so
/// `NOW() - 7 days` is a number here). Lets a caller skip listing or fetching inputs that
/// cannot hold matching events; the filters still run on whatever is read.
pub fn time_bounds(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
) -> Result<(Option<i64>, Option<i64>), EngineError> {
    use datafusion::common::tree_node::TreeNode;
    use datafusion::logical_expr::LogicalPlan;
    let warnings = Warnings::new();
    let (_, plan) = logical_plan(query, params, datasets, opts, &warnings)?;
    let optimized = SessionContext::new()
        .state()
        .optimize(&plan)
        .map_err(|e| EngineError::Plan(e.into()))?;
    let mut bounds = None;
    let _ = optimized.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if scan.table_name.table() == "data" {
                let p = Pushdown::from_filters(&scan.filters, source::TIME_COLUMN);
                bounds = Some((p.time_min, p.time_max));
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    Ok(bounds.unwrap_or((None, None)))
}

/// Runs one ES|QL query to completion.
pub async fn execute(
    query: &str,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
) -> Result<QueryResult, EngineError> {
    execute_with_params(query, &Params::default(), datasets, opts).await
}

/// [`execute`] with values for the query's `?`, `?1`, `?name` and `??name` placeholders.
pub async fn execute_with_params(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
) -> Result<QueryResult, EngineError> {
    let warnings = Warnings::new();
    let (analyzed, plan) = logical_plan(query, params, datasets, opts, &warnings)?;
    let session = session(opts)?;
    let remote = opts.remote.clone();
    let job_warnings = warnings.clone();
    let time_filter = opts.time_filter.clone();
    let now_ms = opts.now_ms;
    let (query_text, params_owned, datasets_owned) =
        (query.to_string(), params.clone(), datasets.to_vec());
    let run = async move {
        if let Some(remote) = remote {
            let job = remote::RemoteJob {
                query: &query_text,
                params: &params_owned,
                datasets: &datasets_owned,
                now_ms,
                time_filter,
                warnings: &job_warnings,
            };
            return remote.0.run(plan, job).await;
        }
        let df = session
            .execute_logical_plan(plan)
            .await
            .map_err(|e| EngineError::Execution(e.to_string()))?;
        df.collect()
            .await
            .map_err(|e| EngineError::Execution(clean_error(e)))
    };
    let batches = match opts.timeout {
        None => run.await?,
        // On its own task, so the limit is kept even when an operator computes for a long
        // time without yielding (an MV_EXPAND of millions of rows from one: the timer of a
        // `timeout` around the query itself only fired when it finished, 33 s for a 2 s
        // limit). The task is aborted: it stops at its next yield, and its runtime is shut
        // down without waiting for it (`block_on`).
        Some(limit) => {
            let mut task = tokio::spawn(run);
            match tokio::time::timeout(limit, &mut task).await {
                Ok(Ok(result)) => result?,
                Ok(Err(join)) => {
                    return Err(EngineError::Execution(format!(
                        "internal error in the query task: {join}"
                    )))
                }
                Err(_) => {
                    task.abort();
                    return Err(EngineError::Execution(format!(
                        "the query did not finish within {} (--timeout); narrow its time range or raise the limit",
                        format_duration(limit)
                    )));
                }
            }
        }
    };
    let mut rows = vec![];
    for b in &batches {
        for i in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| value::value_at(c.as_ref(), i))
                    .collect(),
            );
        }
    }
    Ok(QueryResult {
        columns: analyzed.columns,
        rows,
        warnings: warnings.lines(),
    })
}

/// A DataFusion session; with a memory limit, a fair spill pool over the OS temp
/// directory, so a large STATS or SORT spills instead of failing or growing unbounded.
fn session(opts: &QueryOptions) -> Result<SessionContext, EngineError> {
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::SessionConfig;
    // No table statistics at plan time: the raw-log tables have none, and for the store's
    // Parquet scan they would read and fold min/max of all ~500 columns of every file
    // (the largest planning cost of a store hunt: 10M events, 0.39 s → see README). Files
    // are chosen from the store manifest and row groups/pages are pruned when opened.
    //
    // No round-robin repartition: over a streamed source (raw files: one partition, already
    // read and normalized by the scan's own threads) it would only spread batches over
    // cores, and its coalescer gathers up to `batch_size` rows before sending any on, by
    // count, not size — 320 rows of 3 MiB records made a 512 MiB budget peak at 1.8 GB
    // (tests/untrusted_input.rs). The store's Parquet scan has its own partitions.
    let config = SessionConfig::new()
        .with_collect_statistics(false)
        .with_round_robin_repartition(false);
    let Some(limit) = opts.memory_limit else {
        return Ok(SessionContext::new_with_config(config));
    };
    // The pool tracks operator state (hash tables, sort buffers); scan buffers, decoded
    // Parquet pages and the allocator's slack are not tracked. A quarter of the budget is
    // left for them (a raw scan is given that quarter as `cloudtrail::Limits::scan_memory`) so the whole process stays near the limit (measured: a STATS BY
    // event.id over 10M stored events peaks at 1.06 GB RSS with a 768 MB pool, 1.35 GB with
    // a 1 GB one).
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(limit / 4 * 3)))
        .build_arc()
        .map_err(|e| EngineError::Execution(e.to_string()))?;
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// `90s`, `5m`, `1h 30m`… for messages.
fn format_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, 0) => format!("{} ms", d.as_millis()),
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// A size that [`parse_size`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SizeError(String);

/// Parses a size such as `512M`, `2G`, `1.5GiB` or a plain byte count.
pub fn parse_size(s: &str) -> Result<usize, SizeError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        SizeError(format!(
            "invalid size [{s}]: expected a number with an optional unit such as 512M or 2G"
        ))
    })?;
    let mult: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "K" | "KB" | "KIB" => 1024.0,
        "M" | "MB" | "MIB" => 1024.0 * 1024.0,
        "G" | "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        "T" | "TB" | "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(SizeError(format!(
                "invalid size [{s}]: unknown unit [{other}]; use B, K, M, G or T"
            )))
        }
    };
    let bytes = n * mult;
    if !(1.0..1e18).contains(&bytes) {
        return Err(SizeError(format!(
            "invalid size [{s}]: must be at least one byte"
        )));
    }
    Ok(bytes as usize)
}

/// DataFusion wraps errors from our sources; show the user the source's own message.
fn clean_error(e: datafusion::error::DataFusionError) -> String {
    match e {
        datafusion::error::DataFusionError::External(inner) => inner.to_string(),
        datafusion::error::DataFusionError::Context(_, inner) => clean_error(*inner),
        other => other.to_string(),
    }
}

/// [`execute`] on a private runtime, for callers that are not async.
pub fn execute_blocking(
    query: &str,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
) -> Result<QueryResult, EngineError> {
    execute_blocking_with_params(query, &Params::default(), datasets, opts)
}

/// [`execute_with_params`] on a private runtime.
pub fn execute_blocking_with_params(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
    opts: &QueryOptions,
) -> Result<QueryResult, EngineError> {
    with_query_stack(|| block_on(execute_with_params(query, params, datasets, opts)))??
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1.5gib"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots")
            .unwrap_err()
            .to_string()
            .contains("invalid size [lots]"));
        assert!(parse_size("2X")
            .unwrap_err()
            .to_string()
            .contains("unknown unit [X]"));
        assert!(parse_size("0").is_err());
    }
}
