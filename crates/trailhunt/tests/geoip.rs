//! `--geoip` / `--asn` end to end: a query on `source.geo.*` and `source.as.*` over raw files
//! and over a store ingested with the databases, `normalize` documents with the location
//! object, the environment variables, and clear errors for unusable databases. The
//! databases are built by the test (`testkit::mmdb::write_test_databases`), so nothing
//! outside the repository is needed.

mod common;

use common::{text, th};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const QUERY: &str = r#"FROM logs-aws.cloudtrail* | WHERE source.geo.country_iso_code == "SE" | STATS n = COUNT(*) BY source.as.organization.name"#;

fn record(i: u32, action: &str, ip: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE{i}","arn":"arn:aws:iam::111122223333:user/jdoe","accountId":"111122223333","userName":"jdoe"}},"eventTime":"2024-07-31T13:06:{i:02}Z","eventSource":"signin.amazonaws.com","eventName":"{action}","awsRegion":"eu-north-1","sourceIPAddress":"{ip}","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{{"ConsoleLogin":"Success"}},"eventID":"e{i}","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}}"#
    )
}

/// A CloudTrail file like the console-login fixture (three Swedish addresses of two
/// networks, one US, one private, one service name) and the test databases.
struct Setup {
    dir: tempfile::TempDir,
    logs: PathBuf,
    city: PathBuf,
    asn: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::Builder::new()
        .prefix("th-geoip-")
        .tempdir()
        .unwrap();
    let (city, asn) = testkit::mmdb::write_test_databases(dir.path());
    let lines = [
        record(1, "ConsoleLogin", "89.160.20.156"),
        record(2, "ConsoleLogin", "89.160.20.200"),
        record(3, "GetSigninToken", "2a02:cf40:0:1::5"),
        record(4, "ConsoleLogin", "216.160.83.57"),
        record(5, "ConsoleLogin", "10.1.2.3"),
        record(6, "ConsoleLogin", "ec2.amazonaws.com"),
    ];
    let text = lines.join("\n") + "\n";
    // The filter's literal is derived by GeoIP, never spelled in the record: a prefilter
    // that required it in the text would drop every matching row.
    assert!(
        !text.contains("SE"),
        "the raw text must not spell the literal"
    );
    let logs = dir.path().join("console-logins.json");
    std::fs::write(&logs, text).unwrap();
    Setup {
        dir,
        logs,
        city,
        asn,
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {}: {}", o.status, text(&o.stderr));
    text(&o.stdout)
}

/// The query's JSON body with its rows sorted (STATS leaves their order open).
fn rows(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    if let Some(rows) = v.get_mut("values").and_then(Value::as_array_mut) {
        rows.sort_by_key(|r| r.to_string());
    }
    v
}

fn expected() -> Value {
    json!({
        "columns": [
            {"name": "n", "type": "long"},
            {"name": "source.as.organization.name", "type": "keyword"}
        ],
        "values": [[1, "Bahnhof AB"], [2, "Bredband2 AB"]]
    })
}

#[test]
fn a_geo_query_over_raw_files() {
    let t = setup();
    let (logs, city, asn) = (s(&t.logs), s(&t.city), s(&t.asn));
    let out = th(&[
        "query", "--input", &logs, "--geoip", &city, "--asn", &asn, "--format", "json", QUERY,
    ]);
    assert_eq!(rows(&ok(&out)), expected());
    // Without the databases the fields are empty: no row.
    let out = th(&["query", "--input", &logs, "--format", "json", QUERY]);
    assert_eq!(rows(&ok(&out))["values"], json!([]));
    // The environment variables stand for the options.
    let out = Command::new(env!("CARGO_BIN_EXE_trailhunt"))
        .args(["query", "--input", &logs, "--format", "json", QUERY])
        .env("TRAILHUNT_GEOIP", &city)
        .env("TRAILHUNT_ASN", &asn)
        .output()
        .unwrap();
    assert_eq!(rows(&ok(&out)), expected());
}

#[test]
fn the_same_over_a_store_ingested_with_the_databases() {
    let t = setup();
    let (logs, city, asn) = (s(&t.logs), s(&t.city), s(&t.asn));
    let store = s(&t.dir.path().join("store"));
    ok(&th(&[
        "ingest", "--store", &store, "--geoip", &city, "--asn", &asn, "--quiet", &logs,
    ]));
    let out = th(&["query", "--store", &store, "--format", "json", QUERY]);
    assert_eq!(rows(&ok(&out)), expected());
    // Every GeoIP column is stored (location is geo_point: unsupported, null).
    let all = th(&[
        "query",
        "--store",
        &store,
        "--format",
        "json",
        "FROM logs-aws.cloudtrail* | WHERE source.address == \"216.160.83.57\" | KEEP source.geo.*, source.as.*",
    ]);
    let body: Value = serde_json::from_str(&ok(&all)).unwrap();
    let cols: Vec<(&str, &str)> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    let row = &body["values"][0];
    let get = |name: &str| &row[cols.iter().position(|(n, _)| *n == name).unwrap()];
    assert_eq!(get("source.geo.city_name"), "Milton");
    assert_eq!(get("source.geo.region_iso_code"), "US-WA");
    assert_eq!(get("source.geo.continent_name"), "North America");
    assert_eq!(get("source.as.number"), 209);
    assert_eq!(get("source.as.organization.name"), &Value::Null);
    assert_eq!(get("source.geo.location"), &Value::Null);
    assert!(cols.contains(&("source.geo.location", "unsupported")));
}

#[test]
fn normalize_writes_the_location_object() {
    let t = setup();
    let out = th(&[
        "normalize",
        &s(&t.logs),
        "--geoip",
        &s(&t.city),
        "--asn",
        &s(&t.asn),
    ]);
    let docs: Vec<Value> = ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 6);
    assert_eq!(
        docs[0]["source"]["geo"],
        json!({"city_name": "Linköping", "continent_name": "Europe",
            "country_iso_code": "SE", "country_name": "Sweden",
            "location": {"lat": 58.4167, "lon": 15.6167},
            "region_iso_code": "SE-E", "region_name": "Östergötland County"})
    );
    assert_eq!(
        docs[0]["source"]["as"],
        json!({"number": 29518, "organization": {"name": "Bredband2 AB"}})
    );
    assert_eq!(docs[3]["source"]["as"], json!({"number": 209}));
    for d in &docs[4..] {
        assert!(d["source"].get("geo").is_none() && d["source"].get("as").is_none());
    }
}

#[test]
fn hunts_accept_the_databases() {
    let t = setup();
    let out = th(&[
        "hunt",
        "--input",
        &s(&t.logs),
        "--geoip",
        &s(&t.city),
        "--asn",
        &s(&t.asn),
        "--format",
        "json",
        "multiple_service_logging_deleted_or_stopped",
    ]);
    // Nothing fires on console logins (exit 1), and nothing fails.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn unusable_databases_are_clear_errors() {
    let t = setup();
    let logs = s(&t.logs);
    let missing = s(&t.dir.path().join("GeoLite2-City.mmdb"));
    let not_mmdb = t.dir.path().join("notes.mmdb");
    std::fs::write(&not_mmdb, "hello").unwrap();
    let not_mmdb = s(&not_mmdb);
    let (city, asn) = (s(&t.city), s(&t.asn));
    let store = s(&t.dir.path().join("store"));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["query", "--input", &logs, "--geoip", &missing, QUERY],
            format!("error: --geoip: cannot read {missing}: No such file or directory"),
        ),
        (
            vec!["query", "--input", &logs, "--asn", &not_mmdb, QUERY],
            format!("error: --asn: {not_mmdb} is not a MaxMind DB (.mmdb) file: "),
        ),
        (
            vec!["hunt", "--input", &logs, "--geoip", &asn],
            format!(
                "error: --geoip: {asn} is an ASN database (database_type \"GeoLite2-ASN\"), but a City or Country database is needed here"
            ),
        ),
        (
            vec!["normalize", &logs, "--asn", &city],
            format!(
                "error: --asn: {city} is a City database (database_type \"GeoLite2-City\"), but an ASN database is needed here"
            ),
        ),
        (
            vec!["ingest", "--store", &store, "--geoip", &missing, &logs],
            format!("error: --geoip: cannot read {missing}: "),
        ),
    ];
    for (args, want) in cases {
        let out = th(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&want), "{args:?}:\n{err}\nwant: {want}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(
        !t.dir.path().join("store").exists(),
        "a bad database fails before the store is created"
    );
}
