//! `FROM … METADATA _index, _id, _version` and the rule-run time filter
//! (`QueryOptions::time_filter`) over small in-memory datasets: the columns ES returns, the
//! dataset's say in how `_index` and `_id` are made, and what reaches the scan.

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use engine::format::to_text;
use engine::{
    execute_blocking, BatchIter, Dataset, DatasetError, DocumentId, IndexNaming, MemoryDataset,
    Pushdown, QueryOptions, TimeFilter,
};
use esql::{Column, DataType};
use std::sync::{Arc, Mutex};

fn ts(s: &str) -> i64 {
    javatime::parse_strict_date_optional_time(s).unwrap()
}

const TIMES: [&str; 5] = [
    "2024-05-01T00:00:00Z",
    "2024-05-01T23:59:59.999Z",
    "2024-05-02T00:00:00Z",
    "2024-05-02T12:00:00Z",
    "2024-05-03T08:30:00Z",
];

/// Five events over three days; the fourth has no `event.id`, the last two share
/// `event.action` values with the first.
fn memory(name: &str) -> MemoryDataset {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "@timestamp",
            ArrowType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("event.action", ArrowType::Utf8, true),
        Field::new("event.id", ArrowType::Utf8, true),
        Field::new("n", ArrowType::Int64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(
            TIMES.iter().map(|t| ts(t)).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(vec![
            "StopLogging",
            "DeleteTrail",
            "StopLogging",
            "GetCallerIdentity",
            "StopLogging",
        ])),
        Arc::new(StringArray::from(vec![
            Some("e1"),
            Some("e2"),
            Some("e3"),
            None,
            Some("e5"),
        ])),
        Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
    ];
    let col = |name: &str, ty| Column {
        name: name.into(),
        ty,
    };
    MemoryDataset {
        name: name.into(),
        columns: vec![
            col("@timestamp", DataType::Date),
            col("event.action", DataType::Keyword),
            col("event.id", DataType::Keyword),
            col("n", DataType::Long),
        ],
        batches: vec![RecordBatch::try_new(schema.clone(), cols).unwrap()],
        schema,
    }
}

/// The memory data as a data stream with CloudTrail's id rule, recording the pushdown
/// each scan receives.
struct Stream {
    inner: MemoryDataset,
    seen: Mutex<Vec<Pushdown>>,
}

impl Stream {
    fn new() -> Arc<Stream> {
        Arc::new(Stream {
            inner: memory("logs-aws.cloudtrail-default"),
            seen: Mutex::new(vec![]),
        })
    }

    fn last_pushdown(&self) -> Pushdown {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

impl Dataset for Stream {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn columns(&self) -> Vec<Column> {
        self.inner.columns()
    }
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.inner.schema()
    }
    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        self.inner.scan(columns)
    }
    fn uses_pushdown(&self) -> bool {
        true
    }
    fn scan_filtered(&self, columns: &[String], p: &Pushdown) -> Result<BatchIter, DatasetError> {
        self.seen.lock().unwrap().push(p.clone());
        self.inner.scan(columns)
    }
    fn index_naming(&self) -> IndexNaming {
        IndexNaming::DataStream {
            stream: self.name().to_string(),
            time_field: "@timestamp".into(),
        }
    }
    fn document_id(&self) -> DocumentId {
        DocumentId {
            key: vec!["event.id".into(), "@timestamp".into()],
            fallback: vec!["event.action".into()],
        }
    }
}

fn opts(time_filter: Option<TimeFilter>) -> QueryOptions {
    QueryOptions {
        now_ms: ts("2024-05-04T00:00:00Z"),
        time_filter,
        ..QueryOptions::default()
    }
}

/// Headers as `name:type` and rows as ` | `-joined text.
fn run_on(
    q: &str,
    data: Arc<dyn Dataset>,
    time_filter: Option<TimeFilter>,
) -> (Vec<String>, Vec<String>) {
    let r = execute_blocking(q, &[data], &opts(time_filter)).unwrap_or_else(|e| panic!("{q}\n{e}"));
    let header = r
        .columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty))
        .collect();
    let rows = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| to_text(v, "null"))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    (header, rows)
}

fn run(q: &str) -> (Vec<String>, Vec<String>) {
    run_on(q, Arc::new(memory("events")), None)
}

#[test]
fn metadata_columns_follow_the_mapped_ones_and_only_when_asked() {
    let (h, _) = run("from events | limit 1");
    assert_eq!(
        h,
        [
            "@timestamp:date",
            "event.action:keyword",
            "event.id:keyword",
            "n:long"
        ]
    );
    let (h, rows) = run("from events metadata _version, _index, _id | limit 1");
    assert_eq!(
        h[4..],
        ["_version:long", "_index:keyword", "_id:keyword"],
        "in the written order, after the mapped fields"
    );
    assert!(rows[0].starts_with("2024-05-01T00:00:00.000Z | StopLogging | e1 | 1 | 1 | events | "));
    let (h, _) = run("from events metadata _id, _index | keep *");
    assert_eq!(h[4..], ["_id:keyword", "_index:keyword"]);
    let (h, _) = run("from events metadata _id, _index | keep _i*, n");
    assert_eq!(h, ["_id:keyword", "_index:keyword", "n:long"]);
}

#[test]
fn a_plain_index_is_its_name_and_every_version_is_one() {
    let (_, rows) =
        run("from events metadata _index, _version | stats c = count(*) by _index, _version");
    assert_eq!(rows, ["5 | events | 1"]);
    let (_, rows) =
        run("from ev* metadata _index | where _index == \"events\" | stats c = count(*)");
    assert_eq!(rows, ["5"]);
}

#[test]
fn ids_are_stable_distinct_and_usable_like_any_keyword() {
    let q = "from events metadata _id | keep n, _id | sort n";
    let (_, first) = run(q);
    let (_, again) = run(q);
    assert_eq!(first, again, "the same ids on every run");
    let ids: Vec<String> = first
        .iter()
        .map(|r| r.split(" | ").nth(1).unwrap().to_string())
        .collect();
    for id in &ids {
        assert_eq!(id.len(), 20, "{id}");
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{ids:?}");
    // Filtering, grouping and evaluating on it.
    let (_, rows) = run(&format!(
        "from events metadata _id | where _id == \"{}\" | keep n",
        ids[2]
    ));
    assert_eq!(rows, ["3"]);
    let (_, rows) = run("from events metadata _id | stats c = count(*) by _id | stats groups = count(*), rows = sum(c)");
    assert_eq!(rows, ["5 | 5"]);
    let (_, rows) = run("from events metadata _id | eval l = length(_id) | stats l = values(l)");
    assert_eq!(rows, ["20"]);
    // Dropping the metadata before the end leaves the other columns as they were.
    let (h, rows) = run("from events metadata _id | where n > 4 | drop _id | keep n");
    assert_eq!(
        (h, rows),
        (vec!["n:long".to_string()], vec!["5".to_string()])
    );
}

#[test]
fn a_data_stream_names_the_backing_index_of_each_day() {
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* metadata _index | keep n, _index | sort n",
        Stream::new(),
        None,
    );
    let day = |d: &str| format!(".ds-logs-aws.cloudtrail-default-{d}-000001");
    assert_eq!(
        rows,
        [
            format!("1 | {}", day("2024.05.01")),
            format!("2 | {}", day("2024.05.01")),
            format!("3 | {}", day("2024.05.02")),
            format!("4 | {}", day("2024.05.02")),
            format!("5 | {}", day("2024.05.03")),
        ]
    );
}

#[test]
fn a_dataset_chooses_what_its_ids_hash() {
    // Key (event.id, @timestamp); the event without event.id falls back to its action too.
    let q = "from logs-aws.cloudtrail-* metadata _id | keep n, _id | sort n";
    let (_, stream_ids) = run_on(q, Stream::new(), None);
    let (_, content_ids) = run_on(q, Arc::new(memory("logs-aws.cloudtrail-default")), None);
    assert_eq!(stream_ids.len(), 5);
    assert_ne!(stream_ids, content_ids, "the key is not the whole document");
    // Only the key counts: the same event.id and time with other values is the same id.
    let id = engine::metadata::document_id(&[
        engine::Value::Str("e1".into()),
        engine::Value::Date(ts(TIMES[0])),
    ]);
    assert_eq!(stream_ids[0], format!("1 | {id}"));
    let fallback = engine::metadata::document_id(&[
        engine::Value::Null,
        engine::Value::Date(ts(TIMES[3])),
        engine::Value::Str("GetCallerIdentity".into()),
    ]);
    assert_eq!(stream_ids[3], format!("4 | {fallback}"));
}

#[test]
fn filters_on_mapped_columns_still_reach_the_scan_beside_metadata() {
    let data = Stream::new();
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* metadata _id, _index, _version | where event.action == \"StopLogging\" and @timestamp >= \"2024-05-02\" | keep n, _version",
        data.clone(),
        None,
    );
    assert_eq!(rows, ["3 | 1", "5 | 1"]);
    let p = data.last_pushdown();
    assert_eq!(p.required.len(), 1, "{p:?}");
    assert_eq!(p.required[0][0].column, "event.action");
    assert_eq!(p.time_min, Some(ts("2024-05-02T00:00:00Z")));
    // A condition on a computed column is no needle (nothing stores `_index`), but still
    // filters.
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* metadata _index | where _index like \"*2024.05.02*\" | keep n",
        data.clone(),
        None,
    );
    assert_eq!(rows, ["3", "4"]);
    assert!(data.last_pushdown().required.is_empty());
}

#[test]
fn the_time_filter_keeps_only_documents_in_range_bounds_included() {
    let q = "from logs-aws.cloudtrail-* | keep n | sort n";
    let (_, all) = run_on(q, Stream::new(), None);
    assert_eq!(all.len(), 5);
    // From exactly the second event to exactly the fourth.
    let window = TimeFilter::timestamp(ts(TIMES[1]), ts(TIMES[3]));
    let data = Stream::new();
    let (_, rows) = run_on(q, data.clone(), Some(window.clone()));
    assert_eq!(rows, ["2", "3", "4"]);
    // It reached the scan as a time range (so datasets can prune files and row groups).
    let p = data.last_pushdown();
    assert_eq!(
        (p.time_min, p.time_max),
        (Some(window.from_ms), Some(window.to_ms))
    );
    // Before the first command: STATS sees only the documents in range.
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* | stats c = count(*), s = sum(n)",
        Stream::new(),
        Some(window.clone()),
    );
    assert_eq!(rows, ["3 | 9"]);
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* | stats c = count(*)",
        Stream::new(),
        None,
    );
    assert_eq!(rows, ["5"]);
    // With METADATA, and with the query's own filter on top.
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* metadata _id, _index | where event.action == \"StopLogging\" | keep n, _index",
        Stream::new(),
        Some(window.clone()),
    );
    assert_eq!(
        rows,
        ["3 | .ds-logs-aws.cloudtrail-default-2024.05.02-000001"]
    );
    // One millisecond short of an event excludes it.
    let (_, rows) = run_on(
        q,
        Stream::new(),
        Some(TimeFilter::timestamp(ts(TIMES[1]) + 1, ts(TIMES[3]) - 1)),
    );
    assert_eq!(rows, ["3"]);
    // The query's later filters narrow it further, never widen it.
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* | where @timestamp >= \"2024-01-01\" | stats c = count(*)",
        Stream::new(),
        Some(window),
    );
    assert_eq!(rows, ["3"]);
}

#[test]
fn the_time_filter_reads_only_from_data() {
    let window = Some(TimeFilter::timestamp(0, 1));
    // ROW reads no documents: nothing to filter.
    let (_, rows) = run_on("row a = 1", Stream::new(), window.clone());
    assert_eq!(rows, ["1"]);
    // A field the data does not have: no document is in range (ES's range query on an
    // unmapped field matches nothing).
    let tf = TimeFilter {
        field: "event.created".into(),
        from_ms: 0,
        to_ms: i64::MAX,
    };
    let (_, rows) = run_on(
        "from logs-aws.cloudtrail-* | stats c = count(*)",
        Stream::new(),
        Some(tf),
    );
    assert_eq!(rows, ["0"]);
    // A field that is not a date is refused.
    let tf = TimeFilter {
        field: "event.action".into(),
        from_ms: 0,
        to_ms: 1,
    };
    let data: Arc<dyn Dataset> = Stream::new();
    let e = execute_blocking("from logs-aws.cloudtrail-*", &[data], &opts(Some(tf)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("time filter field [event.action] is not a date"),
        "{e}"
    );
}

#[test]
fn time_bounds_include_the_time_filter() {
    let data: Vec<Arc<dyn Dataset>> = vec![Stream::new()];
    let o = opts(Some(TimeFilter::timestamp(1_000, 5_000)));
    let b = engine::time_bounds(
        "from logs-aws.cloudtrail-* | where @timestamp > \"1970-01-01T00:00:02Z\"",
        &engine::Params::default(),
        &data,
        &o,
    )
    .unwrap();
    assert_eq!(b, (Some(2_000), Some(5_000)));
}

#[test]
fn unknown_and_unsupported_metadata_fields_are_errors() {
    let data: Vec<Arc<dyn Dataset>> = vec![Arc::new(memory("events"))];
    let err = |q: &str| {
        execute_blocking(q, &data, &opts(None))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("from events metadata _foo"),
        "line 1:22: unsupported metadata field [_foo]"
    );
    assert_eq!(
        err("from events metadata _index, _source"),
        "Found 1 problem\nline 1:30: METADATA field [_source] is not supported yet by trailhunt"
    );
}
