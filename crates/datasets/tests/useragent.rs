//! The parsed user agent through the datasets: a filter on a derived `user_agent.*` field
//! never becomes a prefilter literal (the record text never spells the derived name), scans
//! that read no derived column parse nothing, and a store ingested with the rules
//! answers as the raw files do. The rules are a small file written here, so nothing outside
//! the repository is needed.

use cloudtrail::Enrich;
use datasets::{CloudTrailFiles, StoreDataset};
use engine::{execute_blocking, Dataset, Needle, Pushdown, QueryOptions, QueryResult, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// The derived name ("AWS CLI") and OS ("Linux") are spelled differently in the records.
const RULES: &str = r#"user_agent_parsers:
  - regex: '(aws-cli)/(\d+)\.(\d+)\.(\d+)'
    family_replacement: 'AWS CLI'
  - regex: '^(Boto3)/(\d+)\.(\d+)\.(\d+)'
os_parsers:
  - regex: 'os/linux'
    os_replacement: 'Linux'
device_parsers:
  - regex: '(?:botocore|Boto3)'
    device_replacement: 'Spider'
"#;

const QUERY: &str = r#"FROM logs-aws.cloudtrail* | WHERE user_agent.name == "AWS CLI" | STATS n = COUNT(*) BY user_agent.os.name, user_agent.version | SORT user_agent.version"#;

fn record(i: u32, ua: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:0{i}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-north-1","sourceIPAddress":"89.160.20.156","userAgent":"{ua}","eventID":"e{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}}}"#
    )
}

struct Setup {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    ua: Arc<dyn Enrich>,
}

fn setup() -> Setup {
    let dir = tempfile::Builder::new()
        .prefix("datasets-ua-")
        .tempdir()
        .unwrap();
    let rules = dir.path().join("regexes.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let ua: Arc<dyn Enrich> = Arc::new(useragent::UaParser::open(&rules).unwrap());
    let text = [
        record(1, "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0"),
        record(2, "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0"),
        record(3, "aws-cli/1.16.248 Python/3.4.7 botocore/1.12.239"),
        record(4, "Boto3/1.35.50 md/Botocore#1.35.50 os/linux#5.10"),
        record(5, "signin.amazonaws.com"),
    ]
    .join("\n");
    assert!(!text.contains("AWS CLI") && !text.contains("Linux"));
    let file = dir.path().join("trail.ndjson");
    std::fs::write(&file, text).unwrap();
    Setup {
        dir,
        files: vec![file],
        ua,
    }
}

fn run(q: &str, data: Arc<dyn Dataset>) -> QueryResult {
    execute_blocking(q, &[data], &QueryOptions::default()).unwrap_or_else(|e| panic!("{q}\n{e}"))
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

#[test]
fn derived_user_agent_literals_are_never_required_in_the_text() {
    let needle = |column: &str, literal: &str| Needle {
        column: column.into(),
        literal: literal.into(),
    };
    for column in [
        "user_agent.name",
        "user_agent.version",
        "user_agent.os.name",
        "user_agent.os.full",
        "user_agent.device.name",
    ] {
        let derived = Pushdown {
            required: vec![vec![needle(column, "AWS CLI")]],
            ..Pushdown::default()
        };
        assert!(datasets::prefilter(&derived).is_none(), "{column}");
    }
    let mixed = Pushdown {
        required: vec![
            vec![needle("user_agent.name", "AWS CLI")],
            vec![needle("user_agent.original", "signin.amazonaws.com")],
        ],
        ..Pushdown::default()
    };
    let p = datasets::prefilter(&mixed).expect("the verbatim clause stays");
    assert_eq!(p.clauses(), vec![vec!["signin.amazonaws.com".to_string()]]);

    // End to end: the rows come back although no record spells "AWS CLI" or "Linux".
    let t = setup();
    let raw = Arc::new(CloudTrailFiles::new(t.files.clone(), true).with_enrich(Some(t.ua.clone())));
    let r = run(QUERY, raw.clone());
    assert_eq!(
        r.rows,
        vec![
            vec![Value::Long(1), Value::Null, s("1.16.248")],
            vec![Value::Long(2), s("Linux"), s("2.17.60")],
        ]
    );
    let stats = raw.stats().unwrap();
    assert_eq!(stats.skipped_records() + stats.skipped_values(), 0);
    assert_eq!(
        stats.compiled_records(),
        5,
        "the compiled normalizer parses the user agent it builds"
    );
    // A query that reads only user_agent.original needs no parsing.
    let r = run(
        r#"FROM logs-aws.cloudtrail* | WHERE user_agent.original LIKE "aws-cli*" | STATS n = COUNT(*)"#,
        raw.clone(),
    );
    assert_eq!(r.rows, vec![vec![Value::Long(3)]]);
    // (`user_agent.original` is verbatim: its literal prefilters the other two away.)
    let stats = raw.stats().unwrap();
    assert_eq!((stats.compiled_records(), stats.skipped_records()), (3, 2));
    // Without rules the derived fields are absent.
    let plain = Arc::new(CloudTrailFiles::new(t.files.clone(), true));
    let r = run(
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user_agent.name",
        plain,
    );
    assert_eq!(r.rows, vec![vec![Value::Long(5), Value::Null]]);
}

#[test]
fn a_store_ingested_with_the_rules_answers_as_the_raw_files() {
    let t = setup();
    let dir = t.dir.path().join("store");
    let report = store::Store::create(&dir)
        .unwrap()
        .ingest(
            &t.files,
            store::IngestOptions {
                enrich: Some(t.ua.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(report.records, 5);
    let stored = Arc::new(StoreDataset::open(&dir).unwrap());
    let raw = Arc::new(CloudTrailFiles::new(t.files.clone(), true).with_enrich(Some(t.ua.clone())));
    let q = "FROM logs-aws.cloudtrail* | KEEP @timestamp, user_agent.* | SORT @timestamp";
    let (a, b) = (run(q, raw), run(q, stored.clone()));
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.rows, b.rows);
    let names: Vec<&Value> = b
        .rows
        .iter()
        .map(|r| {
            &r[b.columns
                .iter()
                .position(|c| c.name == "user_agent.name")
                .unwrap()]
        })
        .collect();
    assert_eq!(
        names,
        [
            &s("AWS CLI"),
            &s("AWS CLI"),
            &s("AWS CLI"),
            &s("Boto3"),
            &s("Other")
        ]
    );
    assert_eq!(run(QUERY, stored).rows.len(), 2);
}

/// Counts its runs; writes `user_agent.name` as a parser would.
struct Counting(std::sync::atomic::AtomicUsize);

impl Enrich for Counting {
    fn enrich(&self, doc: &mut serde_json::Map<String, serde_json::Value>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = doc;
    }
    fn writes(&self, name: &str) -> bool {
        name == "user_agent.name"
    }
}

#[test]
fn scans_that_read_no_derived_column_do_not_run_the_step() {
    let t = setup();
    let counting = Arc::new(Counting(Default::default()));
    let step: Arc<dyn Enrich> = counting.clone();
    let raw = Arc::new(CloudTrailFiles::new(t.files.clone(), true).with_enrich(Some(step)));
    // No column the step writes: the records are compiled and the step does not run.
    let r = run(
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY aws.cloudtrail.user_identity.arn, related.user",
        raw.clone(),
    );
    assert_eq!(r.rows.len(), 1);
    assert_eq!(raw.stats().unwrap().compiled_records(), 5);
    assert_eq!(counting.0.load(std::sync::atomic::Ordering::Relaxed), 0);
    run(
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user_agent.name",
        raw,
    );
    assert_eq!(counting.0.load(std::sync::atomic::Ordering::Relaxed), 5);
}
