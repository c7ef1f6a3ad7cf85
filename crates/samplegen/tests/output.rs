//! End-to-end tests of the `samplegen` binary: determinism, S3 delivery
//! layout, file format, the story events, and that the committed `sample/`
//! is exactly what the defaults generate (so its README stays true).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_samplegen");

/// A fresh output path inside a `tempfile` directory (removed when the guard drops); the
/// path itself does not exist yet, as `samplegen --out` expects.
fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("samplegen-test-{name}-"))
        .tempdir()
        .unwrap();
    let out = tmp.path().join("out");
    (tmp, out)
}

fn generate(out: &Path, extra: &[&str]) {
    let status = Command::new(BIN)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// Relative path → decompressed content. Compressed bytes depend on which deflate backend
/// flate2 was built with (a workspace build may unify in another), the content does not.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .map(|(rel, raw)| {
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text)
                .unwrap();
            (rel, text)
        })
        .collect()
}

/// Relative path → file bytes, for every file under `dir`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// All records of a generated tree, with the file each came from.
fn records(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, bytes) in tree(&dir.join("AWSLogs")) {
        let doc: Value = serde_json::from_str(&gunzip(&bytes)).unwrap();
        for r in doc["Records"].as_array().unwrap() {
            out.push((path.clone(), r.clone()));
        }
    }
    out
}

#[test]
fn same_arguments_give_identical_bytes() {
    let ((_ta, a), (_tb, b), (_tc, c)) = (scratch("det-a"), scratch("det-b"), scratch("det-c"));
    generate(&a, &["--days", "3", "--events-per-day", "60"]);
    generate(&b, &["--days", "3", "--events-per-day", "60"]);
    generate(
        &c,
        &["--days", "3", "--events-per-day", "60", "--seed", "7"],
    );
    let (ta, tb, tc) = (tree(&a), tree(&b), tree(&c));
    assert!(!ta.is_empty());
    assert_eq!(ta, tb);
    assert_ne!(ta, tc);
}

#[test]
fn refuses_to_overwrite_without_force() {
    let (_tmp, dir) = scratch("force");
    generate(&dir, &["--days", "1", "--events-per-day", "10"]);
    let again = Command::new(BIN).arg("--out").arg(&dir).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    generate(&dir, &["--days", "1", "--events-per-day", "10", "--force"]);
    let bad = Command::new(BIN).args(["--days", "x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn layout_naming_and_format() {
    let (_tmp, dir) = scratch("layout");
    generate(&dir, &["--days", "4", "--events-per-day", "80"]);
    let files = tree(&dir.join("AWSLogs"));
    let mut accounts = std::collections::BTreeSet::new();
    let mut regions = std::collections::BTreeSet::new();
    for (rel, bytes) in &files {
        // <account>/CloudTrail/<region>/YYYY/MM/DD/<name>
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts.len(), 7, "{rel}");
        let (account, region) = (parts[0], parts[2]);
        assert_eq!(parts[1], "CloudTrail");
        assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        accounts.insert(account);
        regions.insert(region);
        let name = parts[6];
        let prefix = format!("{account}_CloudTrail_{region}_");
        let rest = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".json.gz"))
            .unwrap_or_else(|| panic!("bad name {name}"));
        let (stamp, suffix) = rest.split_once('_').unwrap();
        assert_eq!(suffix.len(), 16);
        assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()));
        // YYYYMMDDTHHMMZ, on a 5-minute boundary, matching the folders.
        assert_eq!(stamp.len(), 14);
        assert_eq!(&stamp[8..9], "T");
        assert!(stamp.ends_with('Z'));
        assert_eq!(&stamp[..4], parts[3]);
        assert_eq!(&stamp[4..6], parts[4]);
        assert_eq!(&stamp[6..8], parts[5]);
        let minute: u32 = stamp[11..13].parse().unwrap();
        assert_eq!(minute % 5, 0);

        // gzip magic, mtime 0, one-line {"Records":[…]} of this account/region.
        assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        let text = gunzip(bytes);
        assert!(text.starts_with("{\"Records\":[{\"eventVersion\""));
        assert!(!text.contains('\n'));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let recs = doc["Records"].as_array().unwrap();
        assert!(!recs.is_empty());
        let file_time = format!(
            "{}-{}-{}T{}:{}:00Z",
            &stamp[..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11],
            &stamp[11..13]
        );
        for r in recs {
            assert_eq!(r["recipientAccountId"], account);
            assert_eq!(r["awsRegion"], region);
            let t = r["eventTime"].as_str().unwrap();
            assert!(t < file_time.as_str(), "{t} in file {file_time}");
        }
    }
    assert_eq!(accounts.len(), 2);
    assert!(regions.len() >= 3, "{regions:?}");
}

#[test]
fn records_look_like_cloudtrail() {
    let (_tmp, dir) = scratch("shape");
    generate(&dir, &[]);
    let recs = records(&dir);
    let order = [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
    ];
    let mut types = std::collections::BTreeSet::new();
    let mut sources = std::collections::BTreeSet::new();
    let mut errors = std::collections::BTreeSet::new();
    for (_, r) in &recs {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..8], &order, "{keys:?}");
        assert!(keys.contains(&"eventID") && keys.contains(&"eventCategory"));
        let pos = |k: &str| keys.iter().position(|x| *x == k);
        assert!(pos("readOnly") < pos("eventType"));
        assert!(pos("recipientAccountId") < pos("eventCategory"));
        types.insert(r["userIdentity"]["type"].as_str().unwrap().to_string());
        sources.insert(r["eventSource"].as_str().unwrap().to_string());
        if let Some(code) = r.get("errorCode") {
            errors.insert(code.as_str().unwrap().to_string());
            assert!(r.get("errorMessage").is_some());
        }
        if r["userIdentity"]["type"] == "AWSService" {
            let by = r["userIdentity"]["invokedBy"].as_str().unwrap();
            assert_eq!(r["sourceIPAddress"], by);
        }
    }
    for t in [
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "Root",
        "FederatedUser",
    ] {
        assert!(types.contains(t), "missing identity type {t}: {types:?}");
    }
    for s in [
        "sts",
        "iam",
        "ec2",
        "s3",
        "kms",
        "cloudtrail",
        "logs",
        "route53resolver",
        "config",
        "guardduty",
        "signin",
        "lambda",
    ] {
        assert!(
            sources.contains(&format!("{s}.amazonaws.com")),
            "missing {s}: {sources:?}"
        );
    }
    for e in [
        "AccessDenied",
        "Client.UnauthorizedOperation",
        "ThrottlingException",
    ] {
        assert!(errors.contains(e), "missing error {e}: {errors:?}");
    }
    // Nulls and empty values that ingest cleanup must handle.
    assert!(recs.iter().any(|(_, r)| r["requestParameters"].is_null()));
    assert!(recs.iter().any(|(_, r)| r["responseElements"].is_null()));
    assert!(recs
        .iter()
        .any(|(_, r)| r["userIdentity"]["accessKeyId"] == ""));
}

fn find<'a>(recs: &'a [(String, Value)], name: &str, time: &str) -> &'a Value {
    &recs
        .iter()
        .find(|(_, r)| r["eventName"] == name && r["eventTime"] == time)
        .unwrap_or_else(|| panic!("no {name} at {time}"))
        .1
}

#[test]
fn story_events_exist() {
    // The story is scripted, so it is there even with one day of background.
    let (_tmp, dir) = scratch("story");
    generate(&dir, &["--days", "1", "--events-per-day", "5"]);
    let recs = records(&dir);
    let attacker = "arn:aws:iam::418295730164:user/svc-legacy-backup";
    for (name, time) in [
        ("GetCallerIdentity", "2024-07-31T12:58:03Z"),
        ("DescribeTrails", "2024-07-31T13:01:17Z"),
        ("DescribeFlowLogs", "2024-07-31T13:02:30Z"),
        ("ListResolverQueryLogConfigs", "2024-07-31T13:03:05Z"),
        ("StopLogging", "2024-07-31T13:06:24Z"),
        ("DeleteFlowLogs", "2024-07-31T13:21:07Z"),
        ("DeleteFlowLogs", "2024-07-31T13:21:39Z"),
        ("DeleteResolverQueryLogConfig", "2024-07-31T13:34:48Z"),
        ("DeleteFlowLogs", "2024-07-31T13:44:02Z"),
        ("DeleteTrail", "2024-07-31T13:52:15Z"),
    ] {
        let r = find(&recs, name, time);
        assert_eq!(r["userIdentity"]["arn"], attacker);
        assert_eq!(r["sourceIPAddress"], "203.0.113.77");
        assert!(r["userAgent"].as_str().unwrap().contains("kali"));
        assert!(r.get("errorCode").is_none());
    }
    let denied = find(&recs, "StopLogging", "2024-07-29T10:47:33Z");
    assert_eq!(denied["errorCode"], "AccessDenied");
    assert!(denied["userIdentity"]["arn"]
        .as_str()
        .unwrap()
        .contains("dave.okafor"));
    let created = find(&recs, "CreateFlowLogs", "2024-07-29T09:14:02Z");
    let removed = find(&recs, "DeleteFlowLogs", "2024-07-30T16:40:55Z");
    assert_eq!(
        created["userIdentity"]["arn"],
        removed["userIdentity"]["arn"]
    );
    assert_eq!(
        created["responseElements"]["CreateFlowLogsResponse"]["flowLogIdSet"]["item"],
        removed["requestParameters"]["DeleteFlowLogsRequest"]["FlowLogId"]["content"]
    );
    for (name, time) in [
        ("CreateTrail", "2024-07-28T10:12:09Z"),
        ("StartLogging", "2024-07-28T10:12:40Z"),
        ("StopLogging", "2024-07-28T15:30:12Z"),
        ("DeleteTrail", "2024-07-28T15:31:02Z"),
        ("DeleteTrail", "2024-07-20T14:22:51Z"),
        ("DeleteFlowLogs", "2024-07-26T00:00:00Z"),
        ("DeleteResolverQueryLogConfig", "2024-07-26T00:00:01Z"),
    ] {
        find(&recs, name, time);
    }
    // The rest of the attacker's day (for the ES|QL rules and the built-in hunts).
    let recon: Vec<&Value> = recs
        .iter()
        .map(|(_, r)| r)
        .filter(|r| {
            r["eventName"] == "DescribeInstances"
                && r["sourceIPAddress"] == "203.0.113.77"
                && r["eventTime"]
                    .as_str()
                    .unwrap()
                    .starts_with("2024-07-31T12:58:")
        })
        .collect();
    let regions: std::collections::BTreeSet<&str> = recon
        .iter()
        .map(|r| r["awsRegion"].as_str().unwrap())
        .collect();
    assert_eq!((recon.len(), regions.len()), (17, 17));
    let own = find(&recs, "CreateAccessKey", "2024-07-31T13:11:05Z");
    assert_eq!(own["requestParameters"]["userName"], "svc-legacy-backup");
    let new_key = own["responseElements"]["accessKey"]["accessKeyId"]
        .as_str()
        .unwrap();
    let used = find(&recs, "GetCallerIdentity", "2024-07-31T13:11:31Z");
    assert_eq!(used["userIdentity"]["accessKeyId"], new_key);
    assert_eq!(used["userIdentity"]["arn"], attacker);
    let other = find(&recs, "CreateAccessKey", "2024-07-31T13:12:20Z");
    assert_eq!(other["userIdentity"]["arn"], attacker);
    assert_eq!(other["requestParameters"]["userName"], "ci-deployer");
    let backdoor = find(&recs, "GetCallerIdentity", "2024-07-31T13:12:51Z");
    assert_eq!(
        backdoor["userIdentity"]["accessKeyId"],
        other["responseElements"]["accessKey"]["accessKeyId"]
    );
    assert_eq!(
        find(&recs, "UpdateDetector", "2024-07-31T13:46:30Z")["requestParameters"]["enable"],
        false
    );
    assert_eq!(
        find(&recs, "StopConfigurationRecorder", "2024-07-31T13:47:12Z")["errorCode"],
        "AccessDenied"
    );
    find(&recs, "DeleteAlarms", "2024-07-31T13:05:51Z");
    let buckets: std::collections::BTreeSet<&str> = recs
        .iter()
        .map(|(_, r)| r)
        .filter(|r| {
            r["eventName"] == "GetBucketAcl"
                && r["userIdentity"]["accessKeyId"] == new_key
                && r.get("errorCode").is_none()
        })
        .map(|r| {
            let t = r["eventTime"].as_str().unwrap();
            assert!(
                ("2024-07-31T14:02:10Z"..="2024-07-31T14:02:19Z").contains(&t),
                "{t}"
            );
            r["resources"][0]["ARN"].as_str().unwrap()
        })
        .collect();
    assert_eq!(buckets.len(), 18);
    for (name, time) in [
        ("DeleteLogGroup", "2024-07-27T10:20:14Z"),
        ("UpdateDetector", "2024-07-25T14:03:27Z"),
    ] {
        find(&recs, name, time);
    }
    // Only reads are readOnly.
    for (_, r) in &recs {
        let name = r["eventName"].as_str().unwrap();
        if name.starts_with("Delete") || name.starts_with("Stop") || name.starts_with("Create") {
            assert_eq!(r["readOnly"], false, "{name}");
        }
    }
    // Story files live in the right folders.
    let (path, _) = recs
        .iter()
        .find(|(_, r)| r["eventName"] == "DeleteTrail" && r["eventTime"] == "2024-07-20T14:22:51Z")
        .unwrap();
    assert!(path.starts_with("418295730164/CloudTrail/us-east-1/2024/07/20/"));
}

#[test]
fn background_only_is_the_same_background_without_the_story() {
    let ((_ta, full), (_tb, bare)) = (scratch("full"), scratch("bare"));
    generate(&full, &["--days", "3", "--events-per-day", "60"]);
    generate(
        &bare,
        &["--days", "3", "--events-per-day", "60", "--background-only"],
    );
    let id = |(_, r): &(String, Value)| r["eventID"].as_str().unwrap().to_string();
    let full_ids: std::collections::BTreeSet<String> = records(&full).iter().map(id).collect();
    let bare_recs = records(&bare);
    let bare_ids: std::collections::BTreeSet<String> = bare_recs.iter().map(id).collect();
    assert!(!bare_ids.is_empty());
    assert!(bare_ids.is_subset(&full_ids));
    // Exactly the scripted events are missing: 24 of the tampering story, 68 more of the
    // attacker's day and its look-alikes.
    assert_eq!(full_ids.len() - bare_ids.len(), 92);
    for (_, r) in &bare_recs {
        assert_ne!(r["sourceIPAddress"], "203.0.113.77");
        let name = r["eventName"].as_str().unwrap();
        assert!(
            ![
                "StopLogging",
                "DeleteTrail",
                "DeleteFlowLogs",
                "CreateAccessKey",
                "DeleteAlarms"
            ]
            .contains(&name),
            "{name}"
        );
    }
}

/// The committed sample is what the defaults produce, and its README's table
/// of expected seed-hunt rows matches the data (recomputed here, not by the
/// engine).
#[test]
fn committed_sample_is_reproducible_and_readme_rows_hold() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample");
    if !sample.join("AWSLogs").is_dir() {
        testkit::missing(format_args!("{} has no AWSLogs", sample.display()));
        return;
    }
    let (_tmp, fresh) = scratch("fresh");
    generate(&fresh, &[]);
    assert!(
        contents(&fresh.join("AWSLogs")) == contents(&sample.join("AWSLogs")),
        "sample/ is stale: regenerate it with the command in sample/README.md"
    );

    let providers = [
        "ec2.amazonaws.com",
        "route53resolver.amazonaws.com",
        "s3.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ];
    let actions = [
        "DeleteFlowLogs",
        "DeleteResolverQueryLogConfig",
        "DeleteTrail",
        "StopLogging",
    ];
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in records(&sample) {
        let t = r["eventTime"].as_str().unwrap();
        // now = 2024-08-02T00:00:00Z; strictly after now - 7 days. ISO strings
        // of equal length compare like instants.
        if t <= "2024-07-26T00:00:00Z" {
            continue;
        }
        let (p, a) = (
            r["eventSource"].as_str().unwrap(),
            r["eventName"].as_str().unwrap(),
        );
        if !providers.contains(&p) || !actions.contains(&a) {
            continue;
        }
        let outcome = if r.get("errorCode").is_some() || r.get("errorMessage").is_some() {
            "failure"
        } else {
            "success"
        };
        // "YYYY-mm-dd": week-year (= calendar year in July), minute, day.
        assert!(t.starts_with("2024-07") || t.starts_with("2024-08"));
        let date = format!("{}-{}-{}", &t[..4], &t[14..16], &t[8..10]);
        let arn = r["userIdentity"]["arn"].as_str().unwrap();
        *rows
            .entry(format!("| {p} | {a} | {outcome} | {date} | {arn} |"))
            .or_default() += 1;
    }
    let readme = fs::read_to_string(sample.join("README.md")).unwrap();
    let mut table: BTreeMap<String, u64> = BTreeMap::new();
    for line in readme.lines() {
        let Some(rest) = line.strip_prefix("| ") else {
            continue;
        };
        let Some((count, key)) = rest.split_once(" | ") else {
            continue;
        };
        if let Ok(n) = count.trim().parse::<u64>() {
            if key.contains("amazonaws.com") {
                table.insert(format!("| {key}"), n);
            }
        }
    }
    assert_eq!(rows, table);
    assert_eq!(rows.len(), 10);
}
