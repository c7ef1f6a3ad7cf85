//! The query's filters used before parsing (time pruning of `AWSLogs/…/YYYY/MM/DD` folders,
//! the literal prefilter, projection pushdown) never change a result: every query here runs
//! with and without `--no-pushdown` on the sample and the real data sets and must print the
//! same rows. Also `--memory-limit`.

use std::process::Output;

mod common;
use common::{text, th, workspace};

/// The sample plus the real sets present in `../shared`.
fn inputs() -> Vec<String> {
    let mut v = vec![workspace().join("sample/AWSLogs").display().to_string()];
    for set in [
        "stratus-red-team",
        "invictus-ir-aws-dataset",
        "traildiscover",
        "sans504-s3-ransomware-lab",
    ] {
        if let Some(p) = testkit::require_shared(&format!("data/real/{set}")) {
            v.push(p.display().to_string());
        }
    }
    v
}

const QUERIES: &[&str] = &[
    // Verbatim fields: IN, ==, OR across fields, LIKE, with time bounds on both sides.
    r#"FROM logs-aws.cloudtrail* | WHERE event.action IN ("StopLogging", "DeleteTrail", "PutBucketPolicy", "AssumeRole") | STATS n = COUNT(*) BY event.action, event.outcome | SORT event.action, event.outcome"#,
    r#"FROM logs-aws.cloudtrail* | WHERE event.provider == "s3.amazonaws.com" OR cloud.region == "eu-west-1" | STATS n = COUNT(*) BY event.provider, cloud.region | SORT event.provider, cloud.region"#,
    r#"FROM logs-aws.cloudtrail* | WHERE event.action LIKE "Delete*" AND @timestamp >= "2020-01-01" | STATS n = COUNT(*) BY event.action | SORT event.action"#,
    r#"FROM logs-aws.cloudtrail* | WHERE @timestamp >= NOW() - 3 days AND @timestamp < NOW() - 1 day | STATS n = COUNT(*), oldest = MIN(@timestamp), newest = MAX(@timestamp)"#,
    // A verbatim field beside a derived one, and a negation (no pattern from either).
    r#"FROM logs-aws.cloudtrail* | WHERE aws.cloudtrail.user_identity.type == "IAMUser" AND user.name IS NOT NULL AND event.action NOT IN ("GetObject") | STATS n = COUNT(*) BY user.name | SORT n DESC, user.name | LIMIT 20"#,
    r#"FROM logs-aws.cloudtrail* | WHERE source.address == "AWS Internal" OR user_agent.original LIKE "*Boto3*" | STATS n = COUNT(*) BY event.provider | SORT n DESC, event.provider | LIMIT 10"#,
];

fn same_with_and_without(args: &[&str]) -> (String, String) {
    same_with_and_without_flag(args, "--no-pushdown")
}

fn same_with_and_without_flag(args: &[&str], flag: &str) -> (String, String) {
    let mut plain: Vec<&str> = args.to_vec();
    plain.insert(1, flag);
    let a = th(args);
    let b = th(&plain);
    // 0 = rows, 1 = a hunt that found nothing (grep's convention); never an error.
    assert!(
        matches!(a.status.code(), Some(0 | 1)),
        "{}",
        text(&a.stderr)
    );
    assert_eq!(a.status.code(), b.status.code(), "{}", text(&b.stderr));
    let sorted = |o: &Output| {
        let mut lines: Vec<String> = text(&o.stdout).lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&a), sorted(&b), "{args:?}");
    (text(&a.stdout), text(&a.stderr))
}

#[test]
fn pushdown_never_changes_a_result() {
    for input in inputs() {
        // `latest` puts the time windows where each set has data.
        for q in QUERIES {
            same_with_and_without(&["query", "-i", &input, "--now", "latest", "-f", "csv", q]);
        }
        same_with_and_without(&[
            "hunt",
            "-i",
            &input,
            "--now",
            "latest",
            "-f",
            "csv",
            "multiple_service_logging_deleted_or_stopped",
        ]);
    }
}

/// Columns the compiled normalizer builds from several fields (entity enrichment,
/// `related.*`, TLS, identity rules, payload strings), through `query` and `ingest`, with and
/// without `--interpreted` (Elastic's pipeline step by step on every record).
#[test]
fn the_compiled_normalizer_never_changes_a_result() {
    // Every group (no LIMIT: ties would pick arbitrary rows); lines compared sorted.
    const DERIVED: &[&str] = &[
        r#"FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY actor.entity.id, related.user"#,
        r#"FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY target.entity.id, tls.version, tls.client.server_name, user.email"#,
        r#"FROM logs-aws.cloudtrail* | WHERE aws.cloudtrail.request_parameters IS NOT NULL | STATS n = COUNT(*), r = COUNT_DISTINCT(aws.cloudtrail.request_parameters) BY event.kind, cloud.service.name, related.hosts"#,
    ];
    for input in inputs() {
        for q in DERIVED {
            same_with_and_without_flag(&["query", "-i", &input, "-f", "csv", q], "--interpreted");
        }
    }
    // A store ingested each way answers every column the same.
    let tmp = tempfile::tempdir().unwrap();
    let sample = workspace().join("sample/AWSLogs").display().to_string();
    let mut stores = vec![];
    for (name, flag) in [("compiled", None), ("interpreted", Some("--interpreted"))] {
        let store = tmp.path().join(name).display().to_string();
        let mut args = vec!["ingest", "-q", "--store", &store, &sample];
        args.extend(flag);
        let o = th(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        stores.push(store);
    }
    // Every column but the ingest's own clock (`event.created`, the agent's read time).
    let everything = "FROM logs-aws.cloudtrail* | DROP event.created | SORT event.id | LIMIT 5000";
    let rows = |store: &str| {
        let o = th(&["query", "--store", store, "-f", "ndjson", everything]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let (a, b) = (rows(&stores[0]), rows(&stores[1]));
    assert!(a.lines().count() > 3000, "{} rows", a.lines().count());
    assert_eq!(a, b);
}

#[test]
fn the_summary_says_what_was_skipped() {
    let sample = workspace().join("sample/AWSLogs").display().to_string();
    let (out, err) = same_with_and_without(&[
        "hunt",
        "-i",
        &sample,
        "--now",
        "2024-08-02T00:00:00Z",
        "-f",
        "csv",
        "multiple_service_logging_deleted_or_stopped",
    ]);
    assert!(out.contains("— 10 row(s)"), "{out}");
    // 14 days of data, a 7-day window: the older day folders are not opened.
    assert!(err.contains("files outside the time range"), "{err}");
    assert!(err.contains("prefilter skipped"), "{err}");
}

#[test]
fn memory_limit_spills_or_reports_bad_sizes() {
    let sample = workspace().join("sample/AWSLogs").display().to_string();
    let q = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.id | SORT event.id | LIMIT 5";
    let free = th(&["query", "-q", "-i", &sample, "-f", "csv", q]);
    let capped = th(&[
        "query",
        "-q",
        "-i",
        &sample,
        "--memory-limit",
        "64M",
        "-f",
        "csv",
        q,
    ]);
    assert!(capped.status.success(), "{}", text(&capped.stderr));
    assert_eq!(text(&capped.stdout), text(&free.stdout));
    let bad = th(&["query", "-q", "-i", &sample, "--memory-limit", "lots", q]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--memory-limit: invalid size [lots]"),
        "{}",
        text(&bad.stderr)
    );
}
