//! GeoIP enrichment through the scan and the document walk: the enriched columns carry the
//! database's values, `source.geo.location` exists in documents but stays an unsupported
//! (null) column, and scans that read no enriched column run no enrichment.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use cloudtrail::{for_each_document, scan, DocumentOptions, Enrich, ScanOptions};
use serde_json::{json, Value};

fn rec(i: usize, ip: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:0{i}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-north-1","sourceIPAddress":"{ip}","eventID":"id-{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}}}"#
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    file: PathBuf,
    geo: Arc<dyn Enrich>,
}

fn setup() -> Setup {
    let dir = tempfile::Builder::new()
        .prefix("cloudtrail-geo-")
        .tempdir()
        .unwrap();
    let (city, asn) = testkit::mmdb::write_test_databases(dir.path());
    let geo = Arc::new(geoip::GeoIp::open(Some(&city), Some(&asn)).unwrap());
    let lines = [
        rec(1, "89.160.20.156"),
        rec(2, "10.0.0.1"),
        rec(3, "ec2.amazonaws.com"),
        rec(4, "2a02:cf40:1::5"),
        rec(5, "216.160.83.57"),
    ];
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    Setup {
        _dir: dir,
        file,
        geo,
    }
}

fn run(s: &Setup, columns: &[&str], enrich: bool) -> (RecordBatch, u64) {
    let opts = ScanOptions {
        columns: Some(columns.iter().map(|c| c.to_string()).collect()),
        threads: 1,
        enrich: enrich.then(|| Arc::clone(&s.geo)),
        ..ScanOptions::default()
    };
    let mut sc = scan(vec![s.file.clone()], opts);
    let stats = sc.stats();
    let batches: Vec<RecordBatch> = (&mut sc).map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 1);
    (batches[0].clone(), stats.compiled_records())
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(col).unwrap().as_string::<i32>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

#[test]
fn enriched_columns_hold_the_database_values() {
    let s = setup();
    let cols = [
        "event.action",
        "source.geo.country_iso_code",
        "source.geo.city_name",
        "source.geo.region_iso_code",
        "source.geo.location",
        "source.as.number",
        "source.as.organization.name",
        "source.as.organization.name.text",
    ];
    let (b, fast) = run(&s, &cols, true);
    assert_eq!(fast, 5, "the compiled normalizer runs the enrichment");
    let some = |v: &str| Some(v.to_string());
    assert_eq!(
        strings(&b, "source.geo.country_iso_code"),
        [some("SE"), None, None, some("SE"), some("US")]
    );
    assert_eq!(
        strings(&b, "source.geo.city_name"),
        [
            some("Linköping"),
            None,
            None,
            some("Stockholm"),
            some("Milton")
        ]
    );
    assert_eq!(
        strings(&b, "source.geo.region_iso_code"),
        [some("SE-E"), None, None, None, some("US-WA")]
    );
    assert_eq!(
        b.column_by_name("source.geo.location")
            .unwrap()
            .null_count(),
        5,
        "geo_point is unsupported: always null"
    );
    let n = b
        .column_by_name("source.as.number")
        .unwrap()
        .as_primitive::<Int64Type>();
    let numbers: Vec<Option<i64>> = (0..n.len())
        .map(|i| n.is_valid(i).then(|| n.value(i)))
        .collect();
    assert_eq!(numbers, [Some(29518), None, None, Some(8473), Some(209)]);
    for col in [
        "source.as.organization.name",
        "source.as.organization.name.text",
    ] {
        assert_eq!(
            strings(&b, col),
            [some("Bredband2 AB"), None, None, some("Bahnhof AB"), None],
            "{col}"
        );
    }
    // Without the databases the columns are empty.
    let (b, _) = run(&s, &cols, false);
    assert_eq!(
        b.column_by_name("source.geo.country_iso_code")
            .unwrap()
            .null_count(),
        5
    );
}

#[test]
fn scans_that_read_no_enriched_column_are_compiled_without_enrichment() {
    let s = setup();
    let cols = ["event.action", "source.address", "@timestamp"];
    let (with, fast) = run(&s, &cols, true);
    assert_eq!(fast, 5);
    let (without, _) = run(&s, &cols, false);
    assert_eq!(with, without);
}

#[test]
fn documents_carry_the_location_object() {
    let s = setup();
    let mut docs = vec![];
    let opts = DocumentOptions {
        enrich: Some(Arc::clone(&s.geo)),
        ..DocumentOptions::default()
    };
    for_each_document(std::slice::from_ref(&s.file), &opts, |d| {
        docs.push(d.unwrap());
        true
    });
    assert_eq!(docs.len(), 5);
    assert_eq!(
        docs[0]["source"],
        json!({"address": "89.160.20.156", "ip": "89.160.20.156",
            "as": {"number": 29518, "organization": {"name": "Bredband2 AB"}},
            "geo": {"city_name": "Linköping", "continent_name": "Europe",
                "country_iso_code": "SE", "country_name": "Sweden",
                "location": {"lat": 58.4167, "lon": 15.6167},
                "region_iso_code": "SE-E", "region_name": "Östergötland County"}})
    );
    for d in &docs[1..3] {
        let src = d["source"].as_object().unwrap();
        assert!(!src.contains_key("geo") && !src.contains_key("as"), "{d}");
    }
    assert_eq!(docs[2]["source"], json!({"address": "ec2.amazonaws.com"}));
    assert_eq!(docs[4]["source"]["as"], json!({"number": 209}));
    let keys: Vec<&String> = docs[0]["source"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["address", "as", "geo", "ip"],
        "sorted like the others"
    );
    assert!(matches!(
        docs[3]["source"]["geo"]["location"]["lat"],
        Value::Number(_)
    ));
}
