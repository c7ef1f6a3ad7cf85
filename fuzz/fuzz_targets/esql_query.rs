//! The analyzer, the planner and DataFusion on arbitrary ES|QL over a small in-memory index:
//! a query either runs or fails with a positioned ES-style error — never a panic, a stack
//! overflow or a hang (the query's own `--timeout` bounds it).
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, TimeUnit};
use engine::{execute_blocking, Dataset, EngineError, MemoryDataset, QueryOptions};
use esql::{Column, DataType};
use libfuzzer_sys::fuzz_target;

fn dataset() -> Arc<dyn Dataset> {
    let list = |name: &str| {
        Field::new(
            name,
            ArrowType::List(Arc::new(Field::new("item", ArrowType::Utf8, true))),
            true,
        )
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "@timestamp",
            ArrowType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("event.action", ArrowType::Utf8, true),
        list("event.type"),
        Field::new("n", ArrowType::Int64, true),
        Field::new("i", ArrowType::Int32, true),
        Field::new("x", ArrowType::Float64, true),
        Field::new("ok", ArrowType::Boolean, true),
        Field::new("user.name", ArrowType::Utf8, true),
        Field::new("source.ip", ArrowType::Utf8, true),
    ]));
    let mut types = ListBuilder::new(StringBuilder::new());
    for row in [
        vec!["change"],
        vec!["access", "info"],
        vec![],
        vec!["info", "info"],
    ] {
        for v in &row {
            types.values().append_value(v);
        }
        types.append(!row.is_empty());
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_722_431_184_000),
            Some(1_722_432_060_000),
            None,
            Some(-62_135_596_800_000),
        ])),
        Arc::new(StringArray::from(vec![
            Some("StopLogging"),
            Some("DeleteTrail"),
            Some(""),
            None,
        ])),
        Arc::new(types.finish()),
        Arc::new(Int64Array::from(vec![
            Some(1),
            Some(i64::MAX),
            None,
            Some(i64::MIN),
        ])),
        Arc::new(Int32Array::from(vec![
            Some(0),
            Some(-1),
            Some(i32::MAX),
            None,
        ])),
        Arc::new(Float64Array::from(vec![
            Some(0.5),
            Some(-0.0),
            Some(f64::MAX),
            None,
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
            Some(true),
        ])),
        Arc::new(StringArray::from(vec![
            Some("alice"),
            Some("böb"),
            Some("alice"),
            None,
        ])),
        Arc::new(StringArray::from(vec![
            Some("10.0.0.1"),
            Some("2001:db8::1"),
            Some("192.168.0.1"),
            None,
        ])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).expect("a valid batch");
    let col = |name: &str, ty| Column {
        name: name.into(),
        ty,
    };
    Arc::new(MemoryDataset {
        name: "logs-aws.cloudtrail-default".into(),
        columns: vec![
            col("@timestamp", DataType::Date),
            col("event.action", DataType::Keyword),
            col("event.type", DataType::Keyword),
            col("n", DataType::Long),
            col("i", DataType::Integer),
            col("x", DataType::Double),
            col("ok", DataType::Boolean),
            col("user.name", DataType::Keyword),
            col("source.ip", DataType::Ip),
        ],
        batches: vec![batch],
        schema,
    })
}

fuzz_target!(|data: &[u8]| {
    static DATA: OnceLock<Arc<dyn Dataset>> = OnceLock::new();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // Half the inputs are a pipeline tail after a FROM that resolves, so the fuzzer spends
    // its time in the analyzer and the planner rather than on `Unknown index`.
    let query = if mode & 1 == 0 {
        format!("FROM logs-aws.cloudtrail-* | {text}")
    } else {
        text.to_string()
    };
    let opts = QueryOptions {
        now_ms: 1_722_556_800_000,
        memory_limit: Some(256 << 20),
        timeout: Some(Duration::from_secs(5)),
        ..QueryOptions::default()
    };
    let datasets = [DATA.get_or_init(dataset).clone()];
    match execute_blocking(&query, &datasets, &opts) {
        Ok(_) => {}
        Err(EngineError::Query(e)) => {
            for p in &e.problems {
                assert!(
                    p.span.end <= query.len() && p.span.start <= p.span.end,
                    "{p:?}"
                );
            }
        }
        Err(_) => {}
    }
});
