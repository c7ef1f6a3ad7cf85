//! Micro-benchmarks of the engine's hot paths: parse + analyze of the seed hunt, and the
//! executed plan (filter, DATE_FORMAT row UDF, five-key hash aggregate) over an in-memory
//! table of synthetic CloudTrail-like rows. `cargo bench -p engine`.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use engine::{Dataset, MemoryDataset, QueryOptions};
use esql::{Column, DataType};

const SEED: &str = r#"from logs-aws.cloudtrail*
| where @timestamp > now() - 7 day
| where
    event.provider in ("ec2.amazonaws.com","route53resolver.amazonaws.com","s3.amazonaws.com", "cloudtrail.amazonaws.com")
    and event.action in ("DeleteFlowLogs","DeleteResolverQueryLogConfig", "DeleteTrail", "StopLogging")
| eval date = DATE_FORMAT("YYYY-mm-dd", @timestamp)
| stats service_logging_delete_count = count(*) by event.provider, event.action, event.outcome, date, aws.cloudtrail.user_identity.arn"#;

/// A date key of the seed hunt for every row: all rows pass its filter, so the aggregate
/// and the DATE_FORMAT kernel see every row.
const ALL_ROWS: &str = r#"from logs-aws.cloudtrail*
| eval date = DATE_FORMAT("YYYY-mm-dd", @timestamp)
| stats n = count(*) by event.provider, event.action, event.outcome, date, aws.cloudtrail.user_identity.arn"#;

const NOW_MS: i64 = 1_722_556_800_000; // 2024-08-02T00:00:00Z

fn dataset(rows: usize) -> Arc<dyn Dataset> {
    let names = [
        ("@timestamp", DataType::Date),
        ("aws.cloudtrail.user_identity.arn", DataType::Keyword),
        ("event.action", DataType::Keyword),
        ("event.outcome", DataType::Keyword),
        ("event.provider", DataType::Keyword),
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|(n, t)| {
                let at = match t {
                    DataType::Date => ArrowType::Timestamp(TimeUnit::Millisecond, None),
                    _ => ArrowType::Utf8,
                };
                Field::new(*n, at, true)
            })
            .collect::<Vec<_>>(),
    ));
    let actions = [
        "StopLogging",
        "DeleteTrail",
        "DeleteFlowLogs",
        "GetObject",
        "AssumeRole",
    ];
    let providers = [
        "cloudtrail.amazonaws.com",
        "ec2.amazonaws.com",
        "s3.amazonaws.com",
        "sts.amazonaws.com",
    ];
    let mut batches = vec![];
    for start in (0..rows).step_by(8192) {
        let n = (rows - start).min(8192);
        let idx = start..start + n;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(
                idx.clone()
                    .map(|i| NOW_MS - (i as i64 * 7_919) % (6 * 86_400_000))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                idx.clone()
                    .map(|i| format!("arn:aws:iam::123456789012:user/u{}", i % 97))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                idx.clone()
                    .map(|i| actions[i % actions.len()])
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                idx.clone()
                    .map(|i| if i % 7 == 0 { "failure" } else { "success" })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                idx.map(|i| providers[i % providers.len()])
                    .collect::<Vec<_>>(),
            )),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), cols).unwrap());
    }
    Arc::new(MemoryDataset {
        name: "logs-aws.cloudtrail-default".into(),
        columns: names
            .iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                ty: *t,
            })
            .collect(),
        batches,
        schema,
    })
}

fn analyze(c: &mut Criterion) {
    let data = vec![dataset(1)];
    c.bench_function("parse_and_analyze_seed_hunt", |b| {
        b.iter(|| engine::analyze(SEED, &data).unwrap().columns.len())
    });
}

fn execute(c: &mut Criterion) {
    let rows = 200_000;
    let data = vec![dataset(rows)];
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let opts = QueryOptions {
        now_ms: NOW_MS,
        ..QueryOptions::default()
    };
    let mut g = c.benchmark_group("execute_200k_rows");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("seed_hunt", |b| {
        b.iter(|| {
            rt.block_on(engine::execute(SEED, &data, &opts))
                .unwrap()
                .rows
                .len()
        })
    });
    g.bench_function("date_format_and_five_key_stats", |b| {
        b.iter(|| {
            rt.block_on(engine::execute(ALL_ROWS, &data, &opts))
                .unwrap()
                .rows
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, analyze, execute);
criterion_main!(benches);
