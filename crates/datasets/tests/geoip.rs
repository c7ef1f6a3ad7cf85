//! GeoIP through the datasets: filters on derived `source.geo.*` fields never become
//! prefilter literals (the record text never spells them), scans that read no GeoIP column
//! run no lookup, and a store ingested with the databases answers as the raw files do.

use cloudtrail::Enrich;
use datasets::{CloudTrailFiles, StoreDataset};
use engine::{execute_blocking, Dataset, Needle, Pushdown, QueryOptions, QueryResult, Value};
use std::path::PathBuf;
use std::sync::Arc;

const QUERY: &str = r#"FROM logs-aws.cloudtrail* | WHERE source.geo.country_iso_code == "SE" | STATS n = COUNT(*) BY source.as.organization.name | SORT n DESC"#;

fn record(i: u32, ip: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:0{i}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-north-1","sourceIPAddress":"{ip}","eventID":"e{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}}}"#
    )
}

struct Setup {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    geo: Arc<dyn Enrich>,
}

fn setup() -> Setup {
    let dir = tempfile::Builder::new()
        .prefix("datasets-geoip-")
        .tempdir()
        .unwrap();
    let (city, asn) = testkit::mmdb::write_test_databases(dir.path());
    let geo: Arc<dyn Enrich> = Arc::new(geoip::GeoIp::open(Some(&city), Some(&asn)).unwrap());
    let text = [
        record(1, "89.160.20.156"),
        record(2, "89.160.20.157"),
        record(3, "2a02:cf40::9"),
        record(4, "216.160.83.57"),
        record(5, "10.0.0.1"),
    ]
    .join("\n");
    assert!(!text.contains("SE"));
    let file = dir.path().join("trail.ndjson");
    std::fs::write(&file, text).unwrap();
    Setup {
        dir,
        files: vec![file],
        geo,
    }
}

fn run(q: &str, data: Arc<dyn Dataset>) -> QueryResult {
    execute_blocking(q, &[data], &QueryOptions::default()).unwrap_or_else(|e| panic!("{q}\n{e}"))
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

#[test]
fn derived_geo_literals_are_never_required_in_the_text() {
    let needle = |column: &str, literal: &str| Needle {
        column: column.into(),
        literal: literal.into(),
    };
    let geo_only = Pushdown {
        required: vec![vec![needle("source.geo.country_iso_code", "SE")]],
        ..Pushdown::default()
    };
    assert!(datasets::prefilter(&geo_only).is_none());
    let mixed = Pushdown {
        required: vec![
            vec![needle("source.geo.country_iso_code", "SE")],
            vec![needle("event.action", "StopLogging")],
            vec![
                needle("event.action", "DeleteTrail"),
                needle("source.as.organization.name", "Bredband2 AB"),
            ],
        ],
        ..Pushdown::default()
    };
    let p = datasets::prefilter(&mixed).expect("the verbatim clause stays");
    assert_eq!(p.clauses(), vec![vec!["StopLogging".to_string()]]);

    // End to end: the rows come back although no record spells "SE".
    let t = setup();
    let raw =
        Arc::new(CloudTrailFiles::new(t.files.clone(), true).with_enrich(Some(t.geo.clone())));
    let r = run(QUERY, raw.clone());
    assert_eq!(
        r.rows,
        vec![
            vec![Value::Long(2), s("Bredband2 AB")],
            vec![Value::Long(1), s("Bahnhof AB")]
        ]
    );
    let stats = raw.stats().unwrap();
    assert_eq!(stats.skipped_records() + stats.skipped_values(), 0);
    assert_eq!(
        stats.compiled_records(),
        5,
        "the compiled normalizer runs GeoIP on the source.ip it builds"
    );
    // A query that reads no GeoIP column needs no lookup either.
    let r = run(
        r#"FROM logs-aws.cloudtrail* | WHERE event.action == "StopLogging" | STATS n = COUNT(*)"#,
        raw.clone(),
    );
    assert_eq!(r.rows, vec![vec![Value::Long(5)]]);
    assert_eq!(raw.stats().unwrap().compiled_records(), 5);
}

#[test]
fn a_store_ingested_with_the_databases_answers_as_the_raw_files() {
    let t = setup();
    let dir = t.dir.path().join("store");
    let report = store::Store::create(&dir)
        .unwrap()
        .ingest(
            &t.files,
            store::IngestOptions {
                enrich: Some(t.geo.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(report.records, 5);
    let stored = Arc::new(StoreDataset::open(&dir).unwrap());
    let raw =
        Arc::new(CloudTrailFiles::new(t.files.clone(), true).with_enrich(Some(t.geo.clone())));
    let q = "FROM logs-aws.cloudtrail* | KEEP @timestamp, source.ip, source.geo.*, source.as.* | SORT @timestamp";
    let (a, b) = (run(q, raw), run(q, stored.clone()));
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.rows, b.rows);
    assert_eq!(run(QUERY, stored).rows.len(), 2);
}
