//! End-to-end ES|QL over in-memory data: parse → analyze → plan → DataFusion → values.

use datafusion::arrow::array::{
    ArrayRef, Int64Array, ListBuilder, StringArray, StringBuilder, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use engine::format::to_text;
use engine::{execute_blocking, Dataset, MemoryDataset, QueryOptions};
use esql::{Column, DataType};
use std::sync::Arc;

fn now() -> QueryOptions {
    QueryOptions {
        now_ms: javatime::parse_strict_date_optional_time("2024-08-02T00:00:00Z").unwrap(),
        ..QueryOptions::default()
    }
}

fn dataset() -> Arc<dyn Dataset> {
    let ts = |s: &str| javatime::parse_strict_date_optional_time(s).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "@timestamp",
            ArrowType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("event.action", ArrowType::Utf8, true),
        Field::new(
            "event.type",
            ArrowType::List(Arc::new(Field::new("item", ArrowType::Utf8, true))),
            true,
        ),
        Field::new("n", ArrowType::Int64, true),
        Field::new("user.name", ArrowType::Utf8, true),
    ]));
    let mut types = ListBuilder::new(StringBuilder::new());
    for row in [vec!["change"], vec!["access", "info"], vec![], vec!["info"]] {
        for v in &row {
            types.values().append_value(v);
        }
        types.append(!row.is_empty());
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(vec![
            ts("2024-07-31T13:06:24Z"),
            ts("2024-07-31T13:21:00Z"),
            ts("2024-07-20T10:00:00Z"),
            ts("2024-08-01T23:59:59.999Z"),
        ])),
        Arc::new(StringArray::from(vec![
            Some("StopLogging"),
            Some("DeleteTrail"),
            Some("StopLogging"),
            None,
        ])),
        Arc::new(types.finish()),
        Arc::new(Int64Array::from(vec![Some(1), Some(2), None, Some(4)])),
        Arc::new(StringArray::from(vec![
            Some("alice"),
            Some("bob"),
            Some("alice"),
            Some("carol"),
        ])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    Arc::new(MemoryDataset {
        name: "logs-aws.cloudtrail-default".into(),
        columns: vec![
            Column {
                name: "@timestamp".into(),
                ty: DataType::Date,
            },
            Column {
                name: "event.action".into(),
                ty: DataType::Keyword,
            },
            Column {
                name: "event.type".into(),
                ty: DataType::Keyword,
            },
            Column {
                name: "n".into(),
                ty: DataType::Long,
            },
            Column {
                name: "user.name".into(),
                ty: DataType::Keyword,
            },
        ],
        batches: vec![batch],
        schema,
    })
}

/// Runs a query and renders `name:type` headers and rows as text lines.
fn run(q: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let r = execute_blocking(q, &[dataset()], &now()).unwrap_or_else(|e| panic!("{q}\n{e}"));
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
    (header, rows, r.warnings)
}

fn err(q: &str) -> String {
    execute_blocking(q, &[dataset()], &now())
        .unwrap_err()
        .to_string()
}

#[test]
fn row_and_eval() {
    let (h, rows, _) = run("row a = 1, b = \"x\" | eval c = a + 1, a * 2");
    assert_eq!(h, ["a:integer", "b:keyword", "c:integer", "a * 2:integer"]);
    assert_eq!(rows, ["1 | x | 2 | 2"]);
}

#[test]
fn date_format_week_year_bug_is_faithful() {
    let (_, rows, _) = run("row t = to_datetime(\"2024-07-31T13:06:24Z\") | eval d = DATE_FORMAT(\"YYYY-mm-dd\", t) | keep d");
    assert_eq!(rows, ["2024-06-31"]);
}

#[test]
fn where_now_window_and_stats() {
    let (h, rows, _) = run("from logs-aws.cloudtrail* | where @timestamp > now() - 7 day | stats c = count(*) by event.action | sort event.action");
    assert_eq!(h, ["c:long", "event.action:keyword"]);
    assert_eq!(rows, ["1 | DeleteTrail", "1 | StopLogging", "1 | null"]);
}

#[test]
fn multivalue_grouping_puts_row_in_every_group() {
    let (_, rows, _) = run("from logs-aws.cloudtrail* | stats c = count(*), v = count(event.type) by event.type | sort event.type");
    assert_eq!(
        rows,
        [
            "1 | 2 | access",
            "1 | 1 | change",
            "2 | 3 | info",
            "1 | 0 | null"
        ]
    );
}

#[test]
fn multivalue_in_scalar_function_warns() {
    let (_, rows, warnings) =
        run("from logs-aws.cloudtrail* | eval l = length(event.type) | keep l | limit 2");
    assert_eq!(rows, ["6", "null"]);
    assert_eq!(warnings, [
        "Line 1:38: evaluation of [length(event.type)] failed, treating result as null. Only first 20 failures recorded.",
        "Line 1:38: java.lang.IllegalArgumentException: single-value function encountered multi-value",
    ]);
}

#[test]
fn overflow_and_division_warn() {
    let (_, rows, warnings) = run("row a = 2147483647 | eval b = a + 1, c = a / 0");
    assert_eq!(rows, ["2147483647 | null | null"]);
    assert_eq!(warnings.len(), 4);
    assert!(warnings[1].ends_with("java.lang.ArithmeticException: integer overflow"));
    assert!(warnings[3].ends_with("java.lang.ArithmeticException: / by zero"));
}

#[test]
fn errors_are_es_shaped() {
    assert_eq!(
        err("from logs-aws.cloudtrail* | where foo == 1"),
        "Found 1 problem\nline 1:35: Unknown column [foo]"
    );
    assert_eq!(
        err("from nope | limit 1"),
        "Found 1 problem\nline 1:6: Unknown index [nope]"
    );
    assert_eq!(
        err("row a = 1 | eval b = nofn(a)"),
        "Found 1 problem\nline 1:22: Unknown function [nofn]"
    );
    assert_eq!(err("row a = 1 | eval b = length(a)"), "Found 1 problem\nline 1:22: first argument of [length(a)] must be [string], found value [a] type [integer]");
}

#[test]
fn like_rlike_in_sort_nulls() {
    let (_, rows, _) = run("from logs-aws.cloudtrail* | where event.action like \"Stop*\" or event.action rlike \"Del.*\" | keep event.action, n | sort n desc nulls last");
    assert_eq!(
        rows,
        ["DeleteTrail | 2", "StopLogging | 1", "StopLogging | null"]
    );
    let (_, rows, _) = run("from logs-aws.cloudtrail* | where user.name in (\"alice\", \"carol\") | stats c = count(*), s = sum(n), a = avg(n), mx = max(@timestamp), vs = values(event.action) by user.name | sort user.name");
    assert_eq!(
        rows,
        [
            "2 | 1 | 1.0 | 2024-07-31T13:06:24.000Z | StopLogging | alice",
            "1 | 4 | 4.0 | 2024-08-01T23:59:59.999Z | null | carol"
        ]
    );
}
