//! Micro-benchmarks of the raw-scan hot paths, on the repository's own sample (`sample/`):
//! reading files (gunzip + record splitting), the literal prefilter, the ECS normalizer, and
//! the Java `HashMap` renderer. `cargo bench -p cloudtrail`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use cloudtrail::{java_map, normalize_record, scan, NormalizeOptions, Prefilter, ScanOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample/AWSLogs")
}

fn sample_files() -> Vec<PathBuf> {
    sources::expand_local(&[sample_dir().to_string_lossy().into_owned()])
        .expect("the repository sample")
}

/// Every record of the sample as its own JSON text.
fn sample_records() -> Vec<String> {
    let mut out = Vec::new();
    for f in sample_files() {
        let bytes = std::fs::read(&f).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
            &mut text,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for r in v["Records"].as_array().unwrap() {
            out.push(r.to_string());
        }
    }
    out
}

fn opts(columns: &[&str], prefilter: Option<Prefilter>) -> ScanOptions {
    ScanOptions {
        columns: Some(columns.iter().map(|s| s.to_string()).collect()),
        threads: 1,
        prefilter,
        normalize: NormalizeOptions {
            created: Some("2024-08-02T00:00:00.000Z".into()),
            ..NormalizeOptions::default()
        },
        ..ScanOptions::default()
    }
}

fn seed_prefilter() -> Prefilter {
    Prefilter::new(vec![
        [
            "DeleteFlowLogs",
            "DeleteResolverQueryLogConfig",
            "DeleteTrail",
            "StopLogging",
        ]
        .map(String::from)
        .to_vec(),
        [
            "ec2.amazonaws.com",
            "route53resolver.amazonaws.com",
            "s3.amazonaws.com",
            "cloudtrail.amazonaws.com",
        ]
        .map(String::from)
        .to_vec(),
    ])
    .unwrap()
}

fn reader(c: &mut Criterion) {
    let files = sample_files();
    let records = sample_records().len() as u64;
    let mut g = c.benchmark_group("scan_sample_1_thread");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    let seed_cols = [
        "@timestamp",
        "event.provider",
        "event.action",
        "event.outcome",
        "aws.cloudtrail.user_identity.arn",
    ];
    g.bench_function("seed_columns_no_prefilter", |b| {
        b.iter(|| {
            scan(files.clone(), opts(&seed_cols, None))
                .map(|r| r.unwrap().num_rows())
                .sum::<usize>()
        })
    });
    g.bench_function("seed_columns_with_prefilter", |b| {
        b.iter(|| {
            scan(files.clone(), opts(&seed_cols, Some(seed_prefilter())))
                .map(|r| r.unwrap().num_rows())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn prefilter(c: &mut Criterion) {
    let records = sample_records();
    let text = records.join(",");
    let p = seed_prefilter();
    let mut g = c.benchmark_group("prefilter");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("may_match_per_record", |b| {
        b.iter(|| records.iter().filter(|r| p.may_match(r.as_bytes())).count())
    });
    g.bench_function("may_match_whole_text", |b| {
        b.iter(|| p.may_match(black_box(text.as_bytes())))
    });
    g.finish();
}

fn normalizer(c: &mut Criterion) {
    let records = sample_records();
    let o = NormalizeOptions {
        created: Some("2024-08-02T00:00:00.000Z".into()),
        ..NormalizeOptions::default()
    };
    let mut g = c.benchmark_group("normalize");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("normalize_record_sample", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|r| normalize_record(r, &o).is_ok() as usize)
                .sum::<usize>()
        })
    });
    g.bench_function("serde_json_parse_only", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|r| serde_json::from_str::<serde_json::Value>(r).is_ok() as usize)
                .sum::<usize>()
        })
    });
    g.finish();
}

fn hashmap_renderer(c: &mut Criterion) {
    let payloads: Vec<serde_json::Value> = sample_records()
        .iter()
        .filter_map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).ok()?;
            v.get("requestParameters")
                .filter(|p| p.is_object())
                .cloned()
        })
        .collect();
    let mut g = c.benchmark_group("java_map");
    g.throughput(Throughput::Elements(payloads.len() as u64));
    g.bench_function("reorder_and_to_java_string", |b| {
        b.iter(|| {
            payloads
                .iter()
                .map(|p| {
                    let mut v = p.clone();
                    java_map::reorder_recursive(&mut v);
                    java_map::to_java_string(&v).len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, reader, prefilter, normalizer, hashmap_renderer);
criterion_main!(benches);
