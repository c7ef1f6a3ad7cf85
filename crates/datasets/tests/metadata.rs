//! `FROM logs-aws.cloudtrail-* METADATA _id, _version, _index` and the rule-run time filter
//! over real CloudTrail (`../shared/data/real/invictus-ir-aws-dataset`: 2,900 events of one
//! hour, 398 of them IAM calls, every eventID distinct), read as raw files and from a
//! store ingested from the same files: the metadata must be the same either way.

use datasets::{CloudTrailFiles, StoreDataset, INDEX_NAME};
use engine::{execute_blocking, Dataset, QueryOptions, QueryResult, TimeFilter, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The first lines of Elastic's ES|QL AWS rules (16 of them start this way), up to a KEEP
/// of what Kibana needs to make and dedup alerts.
const RULE: &str = "from logs-aws.cloudtrail-* metadata _id, _version, _index
| where event.provider == \"iam.amazonaws.com\"
| keep _id, _index, _version, @timestamp";

fn fixture() -> Option<Vec<PathBuf>> {
    let dir = testkit::require_shared("data/real/invictus-ir-aws-dataset/CloudTrail")?;
    let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
    assert_eq!(files.len(), 55);
    Some(files)
}

/// The files as raw data and as a store in a temporary directory (kept alive by the
/// returned guard).
fn raw_and_store(
    files: &[PathBuf],
) -> (Arc<CloudTrailFiles>, Arc<StoreDataset>, tempfile::TempDir) {
    let tmp = tempfile::Builder::new()
        .prefix("datasets-metadata-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().join("store");
    let report = store::Store::create(&dir)
        .unwrap()
        .ingest(files, Default::default())
        .unwrap();
    let raw = Arc::new(CloudTrailFiles::new(files.to_vec(), true));
    let stored = Arc::new(StoreDataset::open(&dir).unwrap());
    assert_eq!(report.records, stored.events());
    (raw, stored, tmp)
}

fn opts(time_filter: Option<TimeFilter>) -> QueryOptions {
    QueryOptions {
        now_ms: 1_689_033_600_000, // 2023-07-11T00:00:00Z
        time_filter,
        ..QueryOptions::default()
    }
}

fn run(q: &str, data: Arc<dyn Dataset>, time_filter: Option<TimeFilter>) -> QueryResult {
    execute_blocking(q, &[data], &opts(time_filter)).unwrap_or_else(|e| panic!("{q}\n{e}"))
}

/// Rows in a canonical order, for comparing sources that may return them in another.
fn sorted(r: &QueryResult) -> Vec<Vec<Value>> {
    let mut rows = r.rows.clone();
    rows.sort_by_key(|row| format!("{row:?}"));
    rows
}

fn text(v: &Value) -> &str {
    match v {
        Value::Str(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn a_rules_metadata_is_the_same_raw_and_stored() {
    let Some(files) = fixture() else { return };
    let (raw, stored, _tmp) = raw_and_store(&files);
    let from_raw = run(RULE, raw.clone(), None);
    let from_store = run(RULE, stored.clone(), None);
    let header: Vec<String> = from_raw
        .columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty))
        .collect();
    assert_eq!(
        header,
        [
            "_id:keyword",
            "_index:keyword",
            "_version:long",
            "@timestamp:date"
        ]
    );
    assert_eq!(from_raw.rows.len(), 398);
    assert_eq!(
        sorted(&from_raw),
        sorted(&from_store),
        "raw and store agree"
    );
    for row in &from_raw.rows {
        let id = text(&row[0]);
        assert_eq!(id.len(), 20, "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{id}"
        );
        let Value::Date(ms) = row[3] else {
            panic!("{row:?}")
        };
        assert_eq!(
            text(&row[1]),
            engine::metadata::backing_index(INDEX_NAME, ms)
        );
        assert_eq!(
            text(&row[1]),
            ".ds-logs-aws.cloudtrail-default-2023.07.10-000001"
        );
        assert_eq!(row[2], Value::Long(1));
    }
    // The same on another run, and the metadata did not stop the prefilter from skipping
    // records that cannot be IAM calls.
    assert!(raw.stats().unwrap().skipped_records() > 0);
    assert_eq!(sorted(&run(RULE, raw, None)), sorted(&from_raw));
}

#[test]
fn every_event_has_its_own_id_derived_from_event_id_and_time() {
    let Some(files) = fixture() else { return };
    let (raw, stored, _tmp) = raw_and_store(&files);
    let q =
        "from logs-aws.cloudtrail-* metadata _id | keep _id, event.id, @timestamp | limit 10000";
    let ids = |data: Arc<dyn Dataset>| -> HashMap<String, (Value, Value)> {
        let r = run(q, data, None);
        assert_eq!(r.rows.len(), 2900);
        r.rows
            .iter()
            .map(|row| (text(&row[0]).to_string(), (row[1].clone(), row[2].clone())))
            .collect()
    };
    let from_raw = ids(raw.clone());
    assert_eq!(from_raw.len(), 2900, "distinct events, distinct ids");
    assert_eq!(from_raw, ids(stored.clone()));
    for (id, (event_id, ts)) in &from_raw {
        assert_eq!(
            id,
            &engine::metadata::document_id(&[event_id.clone(), ts.clone()])
        );
    }
    // Pinned, computed with Python's hashlib from the record's eventID and eventTime
    // (2023-07-10T11:42:36Z): runs and versions must agree.
    let pinned = "xSN36VVo5FKmBoWM1Qlu";
    assert_eq!(
        from_raw.get(pinned).map(|(id, _)| id),
        Some(&Value::Str("293ba626-3be5-4a26-ab1b-0f4c54f49959".into()))
    );
    // Kibana dedups alerts by `_id`: filtering and grouping on it work on both sources.
    for data in [raw as Arc<dyn Dataset>, stored] {
        let r = run(
            &format!("from logs-aws.cloudtrail-* metadata _id | where _id == \"{pinned}\" | keep event.action"),
            data.clone(),
            None,
        );
        assert_eq!(r.rows.len(), 1);
        let r = run(
            "from logs-aws.cloudtrail-* metadata _id | stats n = count(*) by _id | stats ids = count(*), max = max(n)",
            data,
            None,
        );
        assert_eq!(r.rows, [vec![Value::Long(2900), Value::Long(1)]]);
    }
}

#[test]
fn the_time_filter_counts_only_events_in_range_raw_and_stored() {
    let Some(files) = fixture() else { return };
    let (raw, stored, _tmp) = raw_and_store(&files);
    let times = run(
        "from logs-aws.cloudtrail-* | keep @timestamp | sort @timestamp | limit 10000",
        raw.clone(),
        None,
    );
    let ts: Vec<i64> = times
        .rows
        .iter()
        .map(|r| match r[0] {
            Value::Date(ms) => ms,
            ref other => panic!("{other:?}"),
        })
        .collect();
    // Bounds exactly at events: both are included.
    let (from, to) = (ts[500], ts[2000]);
    let expected = ts.iter().filter(|t| (from..=to).contains(*t)).count() as i64;
    assert!(expected >= 1501, "{expected}");
    let window = Some(TimeFilter::timestamp(from, to));
    for data in [raw.clone() as Arc<dyn Dataset>, stored.clone()] {
        let count = |q: &str, tf: Option<TimeFilter>| match &run(q, data.clone(), tf).rows[..] {
            [row] => row[0].clone(),
            other => panic!("{other:?}"),
        };
        let q = "from logs-aws.cloudtrail-* | stats c = count(*)";
        assert_eq!(count(q, None), Value::Long(2900));
        assert_eq!(count(q, window.clone()), Value::Long(expected));
        // With the rule's METADATA and its own filter.
        let q = "from logs-aws.cloudtrail-* metadata _id, _version, _index | where event.provider == \"iam.amazonaws.com\" | stats c = count(*), ids = count_distinct(_id)";
        let all = run(q, data.clone(), None);
        let windowed = run(q, data.clone(), window.clone());
        assert_eq!(all.rows[0][0], Value::Long(398));
        let Value::Long(n) = windowed.rows[0][0] else {
            panic!("{windowed:?}")
        };
        assert!(n > 0 && n < 398, "{n}");
        assert_eq!(windowed.rows[0][1], Value::Long(n));
        // A range with no event in it.
        let none = Some(TimeFilter::timestamp(ts[2899] + 1, ts[2899] + 60_000));
        assert_eq!(
            count("from logs-aws.cloudtrail-* | stats c = count(*)", none),
            Value::Long(0)
        );
    }
}

/// Records without an eventID (hand-made, or cut from documentation) fall back to the
/// fields that identify a call; raw and stored still agree.
#[test]
fn events_without_event_id_still_get_distinct_equal_ids() {
    let tmp = tempfile::Builder::new()
        .prefix("datasets-noid-")
        .tempdir()
        .unwrap();
    let file = tmp.path().join("records.json");
    let record = |request: &str, action: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2023-07-10T11:42:00Z","eventSource":"iam.amazonaws.com","eventName":"{action}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestID":"{request}","eventType":"AwsApiCall","recipientAccountId":"123456789012","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012"}}}}"#
        )
    };
    std::fs::write(
        &file,
        format!(
            r#"{{"Records":[{},{},{}]}}"#,
            record("r-1", "ListUsers"),
            record("r-2", "ListUsers"),
            record("r-1", "ListRoles")
        ),
    )
    .unwrap();
    let files = vec![file];
    let (raw, stored, _store) = raw_and_store(&files);
    let q = "from logs-aws.cloudtrail-* metadata _id | keep _id, event.id, aws.cloudtrail.request_id, event.action";
    let from_raw = run(q, raw, None);
    assert_eq!(from_raw.rows.len(), 3);
    assert!(from_raw.rows.iter().all(|r| r[1] == Value::Null));
    assert_eq!(sorted(&from_raw), sorted(&run(q, stored, None)));
    let ids: HashSet<&str> = from_raw.rows.iter().map(|r| text(&r[0])).collect();
    assert_eq!(ids.len(), 3, "{:?}", from_raw.rows);
}

/// The repository's sample (delivery folders `AWSLogs/…/YYYY/MM/DD/`, 14 days): a rule
/// run's time range skips raw files of other days and store files of other days, and
/// counts what the same range in a WHERE counts.
#[test]
fn the_time_filter_prunes_raw_files_and_store_files() {
    let sample = testkit::workspace_root().join("sample/AWSLogs");
    let files = sources::expand_local(&[sample.display().to_string()]).unwrap();
    let (raw, stored, _tmp) = raw_and_store(&files);
    // 2024-07-31T00:00:00Z to the day's last millisecond.
    let (from, to) = (1_722_384_000_000, 1_722_470_399_999);
    let window = Some(TimeFilter::timestamp(from, to));
    let q = "from logs-aws.cloudtrail-* | stats c = count(*)";
    let same_in_where = "from logs-aws.cloudtrail-* | where @timestamp >= \"2024-07-31T00:00:00Z\" and @timestamp <= \"2024-07-31T23:59:59.999Z\" | stats c = count(*)";
    let expected = run(same_in_where, raw.clone(), None).rows;
    let Value::Long(n) = expected[0][0] else {
        panic!("{expected:?}")
    };
    assert!(n > 0, "the sample has events that day");

    assert_eq!(run(q, raw.clone(), window.clone()).rows, expected);
    assert!(
        raw.pruned_files() > files.len() / 2,
        "{} of {} files pruned",
        raw.pruned_files(),
        files.len()
    );
    assert_eq!(run(q, stored.clone(), window.clone()).rows, expected);
    let (read, total) = stored.last_scan().unwrap();
    assert!(read < total, "{read} of {total} store files read");
    // Unfiltered, everything is read.
    run(q, stored.clone(), None);
    let (read, total) = stored.last_scan().unwrap();
    assert_eq!(read, total);
}
