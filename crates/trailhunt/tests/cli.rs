//! End-to-end tests: the built `trailhunt` binary on the sample shipped in the repo and on
//! the real CloudTrail sets in `../shared/data/real` (skipped with a message when absent).
//! Each query test checks the exact columns (name:type, as in the `_query` body) and rows.

use serde_json::Value as J;
use std::process::{Command, Output};

mod common;
use common::{th, workspace};

fn sample() -> String {
    workspace().join("sample/AWSLogs").display().to_string()
}

/// `../shared/data/real/<set>`, or a skip (a failure under `TRAILHUNT_REQUIRE_SHARED=1`).
fn real(set: &str) -> Option<String> {
    testkit::require_shared(&format!("data/real/{set}")).map(|p| p.display().to_string())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Table {
    columns: Vec<String>,
    rows: Vec<String>,
    warnings: Vec<String>,
}

fn table(body: &J) -> Table {
    let columns = body["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["name"].as_str().unwrap(),
                c["type"].as_str().unwrap()
            )
        })
        .collect();
    let rows = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|r| r.to_string())
        .collect();
    let warnings = body
        .get("warnings")
        .and_then(|w| w.as_array())
        .map(|w| w.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    Table {
        columns,
        rows,
        warnings,
    }
}

fn query(input: &str, q: &str) -> Table {
    let o = th(&["query", "-q", "--input", input, "--format", "json", q]);
    assert!(o.status.success(), "query failed: {q}\n{}", stderr(&o));
    table(&serde_json::from_str(&stdout(&o)).expect("stdout is JSON"))
}

/// The oracle's answer for one case: `sample/expected_cases.py` computes the columns, rows
/// and warnings of `q` by hand from the raw logs in `sample/AWSLogs`, with the Elastic
/// integration's field mapping, without running trailhunt. `None` (a skip, or a failure
/// under `TRAILHUNT_REQUIRE_SHARED=1`) when python3 is missing.
fn oracle(case: &str, q: &str) -> Option<Table> {
    oracle_with(case, &["--query", q])
}

/// [`oracle`] with other arguments after `--case NAME` (e.g. `--now` for the built-in hunts).
fn oracle_with(case: &str, args: &[&str]) -> Option<Table> {
    let py = testkit::require_python(&[])?;
    let o = Command::new(py)
        .arg(workspace().join("sample/expected_cases.py"))
        .args(["--case", case])
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "oracle failed for {case}\n{}",
        stderr(&o)
    );
    let body: J = serde_json::from_str(&stdout(&o)).expect("oracle prints JSON");
    let strings = |k: &str| -> Vec<String> {
        body[k]
            .as_array()
            .unwrap_or_else(|| panic!("oracle {k}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    Some(Table {
        columns: strings("columns"),
        // Rendered as `table` renders trailhunt's `values`.
        rows: body["rows"]
            .as_array()
            .expect("oracle rows")
            .iter()
            .map(|r| r.to_string())
            .collect(),
        warnings: strings("warnings"),
    })
}

/// A query on the sample whose columns, rows and warnings must equal the oracle's
/// (`sample/expected_cases.py`, case named like the test).
macro_rules! sample_case {
    ($name:ident, $q:expr $(,)?) => {
        #[test]
        fn $name() {
            let Some(expected) = oracle(stringify!($name), $q) else {
                return;
            };
            let t = query(&sample(), $q);
            assert_eq!(t.columns, expected.columns, "columns of {}", $q);
            assert_eq!(t.rows, expected.rows, "rows of {}", $q);
            assert_eq!(t.warnings, expected.warnings, "warnings of {}", $q);
        }
    };
}

sample_case!(
    cloudtrail_failures_keep,
    r#"from logs-aws.cloudtrail* | where event.provider == "cloudtrail.amazonaws.com" and event.outcome == "failure" | keep @timestamp, event.action, aws.cloudtrail.error_code, user.name | sort @timestamp"#
);

sample_case!(
    in_list_stats_two_keys,
    r#"from logs-aws.cloudtrail* | where event.action in ("StopLogging", "DeleteTrail") | stats n = count(*) by event.action, event.outcome | sort event.action, event.outcome"#
);

sample_case!(
    not_in_sort_limit,
    r#"from logs-aws.cloudtrail* | where event.action not in ("StopLogging") and event.provider == "cloudtrail.amazonaws.com" | stats n = count(*) by event.action | sort n desc, event.action | limit 4"#
);

sample_case!(
    like_suffix,
    r#"from logs-aws.cloudtrail* | where user.name like "*kumar" | stats n = count(*) by user.name, cloud.account.id"#
);

sample_case!(
    rlike_and_ip_equality_count_distinct,
    r#"from logs-aws.cloudtrail* | where user.name rlike "svc-.*" and source.ip == "203.0.113.77" | stats n = count(*), actions = count_distinct(event.action)"#
);

sample_case!(
    console_login_null_user_group,
    r#"from logs-aws.cloudtrail* | where event.action == "ConsoleLogin" | stats n = count(*) by event.outcome, user.name | sort user.name, event.outcome"#
);

sample_case!(
    timestamp_string_bounds_date_format,
    r#"from logs-aws.cloudtrail* | where @timestamp >= "2024-07-31T13:00:00Z" and @timestamp < "2024-07-31T14:00:00Z" and user.name == "svc-legacy-backup" | eval minute = date_format("HH:mm", @timestamp) | keep minute, event.action, event.outcome | sort minute, event.action"#
);

sample_case!(
    date_extract_hour,
    r#"from logs-aws.cloudtrail* | eval hour = date_extract("hour_of_day", @timestamp) | where event.action == "StopLogging" | keep hour, user.name | sort hour"#
);

sample_case!(
    stats_by_computed_day,
    r#"from logs-aws.cloudtrail* | stats n = count(*) by day = date_format("yyyy-MM-dd", @timestamp) | sort day desc | limit 3"#
);

sample_case!(
    coalesce_substring_upper,
    r#"from logs-aws.cloudtrail* | where event.action == "DeleteFlowLogs" | eval who = coalesce(user.name, "unknown"), svc = to_upper(substring(event.provider, 1, 3)) | keep @timestamp, who, svc | sort @timestamp"#
);

sample_case!(
    seed_date_pattern_vs_intended,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval day = DATE_FORMAT("YYYY-mm-dd", @timestamp), right = DATE_FORMAT("yyyy-MM-dd", @timestamp) | keep day, right, user.name | sort right"#
);

sample_case!(
    stats_two_constant_keys,
    r#"from logs-aws.cloudtrail* | stats n = count(*) by event.kind, event.outcome | sort n desc"#
);

sample_case!(
    multivalue_equality_warns,
    r#"from logs-aws.cloudtrail* | where event.type == "deletion" | stats n = count(*) by event.action | sort event.action"#
);

sample_case!(
    multivalue_columns_render_as_arrays,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | keep related.user, event.type, event.category | sort related.user"#
);

sample_case!(
    case_classifies,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval kind = case(event.outcome == "failure", "blocked", user.name == "dev.kumar", "maintenance", "tampering") | keep user.name, kind | sort user.name"#
);

sample_case!(
    request_parameters_java_map_string,
    r#"from logs-aws.cloudtrail* | where event.action == "DeleteTrail" | eval trail = aws.cloudtrail.request_parameters | keep @timestamp, trail | sort @timestamp"#
);

sample_case!(
    stats_without_by_min_max,
    r#"from logs-aws.cloudtrail* | stats first_seen = min(@timestamp), last_seen = max(@timestamp), events = count(*)"#
);

sample_case!(
    group_by_user_agent,
    r#"from logs-aws.cloudtrail* | where event.action == "GetCallerIdentity" | stats n = count(*) by user_agent.original | sort n desc, user_agent.original | limit 3"#
);

sample_case!(
    root_activity,
    r#"from logs-aws.cloudtrail* | where aws.cloudtrail.user_identity.type == "Root" | stats n = count(*) by event.action, source.ip | sort n desc, event.action | limit 5"#
);

sample_case!(
    starts_with_ends_with,
    r#"from logs-aws.cloudtrail* | where starts_with(event.action, "Create") and ends_with(event.provider, "ec2.amazonaws.com") | stats n = count(*) by event.action | sort event.action"#
);

sample_case!(
    sort_desc_nulls_first,
    r#"from logs-aws.cloudtrail* | where event.action == "DeleteFlowLogs" | keep @timestamp, user.name | sort user.name desc nulls first, @timestamp asc"#
);

sample_case!(
    limit_zero,
    r#"from logs-aws.cloudtrail* | keep @timestamp | limit 0"#
);

sample_case!(
    rename_keeps_position,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | keep event.action, user.name | rename user.name as actor, event.action as api | sort actor"#
);

sample_case!(
    keep_drop_wildcards,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | keep event.*, user.name | drop event.original, event.created, event.ingested, event.id, event.category | sort user.name | limit 1"#
);

sample_case!(
    length_and_split,
    r#"from logs-aws.cloudtrail* | where event.action == "DeleteTrail" | eval n = length(user.name), parts = split(aws.cloudtrail.user_identity.arn, "/") | keep n, parts | sort n"#
);

sample_case!(
    to_string_ip_to_long_date,
    r#"from logs-aws.cloudtrail* | eval ip = to_string(source.ip), t = to_long(@timestamp) | where event.action == "StopLogging" and event.outcome == "success" and user.name == "svc-legacy-backup" | keep ip, t"#
);

sample_case!(
    date_plus_calendar_and_fixed_spans,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval d = @timestamp + 1 month - 2 hours | keep @timestamp, d | sort @timestamp | limit 2"#
);

sample_case!(
    aggregate_filter_where,
    r#"from logs-aws.cloudtrail* | where event.outcome == "failure" | stats n = count(*) where aws.cloudtrail.error_code == "AccessDenied", all = count(*) by cloud.account.id | sort cloud.account.id"#
);

sample_case!(
    null_group_key,
    r#"from logs-aws.cloudtrail* | stats n = count(*) by aws.cloudtrail.error_code | sort n desc | limit 2"#
);

sample_case!(
    greatest_least,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval g = greatest(user.name, "m"), l = least(length(user.name), 10) | keep user.name, g, l | sort user.name"#
);

sample_case!(
    trim_concat_replace,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval trimmed = trim(concat("  ", user.name, "  ")), r = replace(user.name, "[aeiou]", "_") | keep trimmed, r | sort trimmed"#
);

sample_case!(
    conversions_and_implicit_casts,
    r#"from logs-aws.cloudtrail* | where event.action == "StopLogging" | eval t = to_datetime("2024-07-31"), i = to_integer("42"), d = to_double(3), ip = to_ip("10.0.0.1") | keep t, i, d, ip | limit 1"#
);

// ---- the seed hunt ---------------------------------------------------------------------

const SEED: &str = "multiple_service_logging_deleted_or_stopped";

fn hunt(inputs: &[&str], now: &str) -> Table {
    let mut args = vec!["hunt", SEED, "-q", "--format", "json", "--now", now];
    for i in inputs {
        args.push("--input");
        args.push(i);
    }
    let o = th(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let body: J = serde_json::from_str(&stdout(&o)).unwrap();
    let h = &body["hunts"][0];
    assert_eq!(h["uuid"], "d74f8928-5e46-11ef-9488-f661ea17fbce");
    assert_eq!(h["query"], 1);
    table(h)
}

const SEED_COLUMNS: [&str; 6] = [
    "service_logging_delete_count:long",
    "event.provider:keyword",
    "event.action:keyword",
    "event.outcome:keyword",
    "date:keyword",
    "aws.cloudtrail.user_identity.arn:keyword",
];

/// STATS output order is unspecified in ES; compare as sorted sets.
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn seed_hunt_on_stratus_red_team_matches_elasticsearch() {
    let Some(dir) = real("stratus-red-team") else {
        return;
    };
    let expected = sorted(vec![
        r#"[1,"cloudtrail.amazonaws.com","DeleteTrail","success","2024-46-31","arn:aws:iam::847129010505:user/christophe"]"#.into(),
        r#"[1,"cloudtrail.amazonaws.com","StopLogging","success","2024-06-31","arn:aws:iam::143434273843:user/christophe"]"#.into(),
        r#"[1,"ec2.amazonaws.com","DeleteFlowLogs","success","2024-07-31","arn:aws:iam::498376118699:user/christophe"]"#.into(),
        r#"[1,"route53resolver.amazonaws.com","DeleteResolverQueryLogConfig","success","2024-23-31","arn:aws:iam::206821776919:user/christophe"]"#.into(),
    ]);
    let t = hunt(&[&dir], "2024-08-02T00:00:00Z");
    assert_eq!(t.columns, SEED_COLUMNS);
    assert_eq!(sorted(t.rows.clone()), expected);
    // The same rows from a single file per event and from a glob.
    let glob = format!("{dir}/detonation-logs/*.json");
    assert_eq!(
        sorted(hunt(&[&glob], "2024-08-02T00:00:00Z").rows),
        expected
    );
    let files: Vec<String> = [
        "cloudtrail-stop",
        "cloudtrail-delete",
        "vpc-remove-flow-logs",
        "dns-delete-logs",
    ]
    .iter()
    .map(|n| format!("{dir}/detonation-logs/aws.defense-evasion.{n}.json"))
    .collect();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    assert_eq!(sorted(hunt(&refs, "2024-08-02T00:00:00Z").rows), expected);
}

#[test]
fn seed_hunt_on_invictus_ir() {
    let Some(dir) = real("invictus-ir-aws-dataset") else {
        return;
    };
    let t = hunt(&[&dir], "2023-07-11T00:00:00Z");
    assert_eq!(t.columns, SEED_COLUMNS);
    // 3 failed StopLogging (two in one minute), 1 failed + 2 successful DeleteTrail, 1 DeleteFlowLogs.
    let arn = "arn:aws:iam::123837392027:user/bert-jan";
    let expected = sorted(vec![
        format!(r#"[2,"cloudtrail.amazonaws.com","StopLogging","failure","2023-01-10","{arn}"]"#),
        format!(r#"[1,"cloudtrail.amazonaws.com","StopLogging","failure","2023-00-10","{arn}"]"#),
        format!(r#"[1,"ec2.amazonaws.com","DeleteFlowLogs","success","2023-02-10","{arn}"]"#),
        format!(r#"[1,"cloudtrail.amazonaws.com","DeleteTrail","failure","2023-59-10","{arn}"]"#),
        format!(r#"[2,"cloudtrail.amazonaws.com","DeleteTrail","success","2023-08-10","{arn}"]"#),
    ]);
    assert_eq!(sorted(t.rows), expected);
}

#[test]
fn seed_hunt_on_traildiscover_counts_alias_copies() {
    let Some(dir) = real("traildiscover") else {
        return;
    };
    let t = hunt(&[&dir], "2024-08-20T00:00:00Z");
    let arn = "arn:aws:iam::111111111111:user/TrailDiscover";
    let expected = sorted(vec![
        format!(r#"[2,"cloudtrail.amazonaws.com","StopLogging","failure","2024-01-18","{arn}"]"#),
        format!(r#"[2,"cloudtrail.amazonaws.com","DeleteTrail","failure","2024-05-18","{arn}"]"#),
        format!(r#"[2,"ec2.amazonaws.com","DeleteFlowLogs","failure","2024-23-18","{arn}"]"#),
    ]);
    assert_eq!(sorted(t.rows), expected);
}

#[test]
fn seed_hunt_on_the_sample_matches_the_story() {
    let t = hunt(&[&sample()], "2024-08-02T00:00:00Z");
    assert_eq!(t.columns, SEED_COLUMNS);
    let backup = "arn:aws:iam::418295730164:user/svc-legacy-backup";
    let netops = "arn:aws:sts::418295730164:assumed-role/netops-terraform/terraform-netops";
    let kumar = "arn:aws:iam::736120584927:user/dev.kumar";
    let dave = "arn:aws:sts::418295730164:assumed-role/AWSReservedSSO_ReadOnlyAccess_5e1f0c2a9b7d4e31/dave.okafor@acme.example";
    let expected = sorted(vec![
        format!(
            r#"[1,"route53resolver.amazonaws.com","DeleteResolverQueryLogConfig","success","2024-00-26","{netops}"]"#
        ),
        format!(r#"[1,"cloudtrail.amazonaws.com","StopLogging","success","2024-30-28","{kumar}"]"#),
        format!(r#"[1,"cloudtrail.amazonaws.com","DeleteTrail","success","2024-31-28","{kumar}"]"#),
        format!(r#"[1,"cloudtrail.amazonaws.com","StopLogging","failure","2024-47-29","{dave}"]"#),
        format!(r#"[1,"ec2.amazonaws.com","DeleteFlowLogs","success","2024-40-30","{netops}"]"#),
        format!(
            r#"[1,"cloudtrail.amazonaws.com","StopLogging","success","2024-06-31","{backup}"]"#
        ),
        format!(r#"[2,"ec2.amazonaws.com","DeleteFlowLogs","success","2024-21-31","{backup}"]"#),
        format!(
            r#"[1,"route53resolver.amazonaws.com","DeleteResolverQueryLogConfig","success","2024-34-31","{backup}"]"#
        ),
        format!(r#"[1,"ec2.amazonaws.com","DeleteFlowLogs","success","2024-44-31","{backup}"]"#),
        format!(
            r#"[1,"cloudtrail.amazonaws.com","DeleteTrail","success","2024-52-31","{backup}"]"#
        ),
    ]);
    assert_eq!(sorted(t.rows), expected);
}

// ---- trailhunt's own built-in hunts, against the oracle ---------------------------------

/// A row with the elements of each multi-valued cell sorted: `VALUES` has no defined order
/// in ES (the oracle sorts them too).
fn values_sorted(row: &str) -> String {
    let mut cells: Vec<J> = serde_json::from_str(row).unwrap();
    for c in &mut cells {
        if let J::Array(items) = c {
            items.sort_by_key(|v| v.to_string());
        }
    }
    J::Array(cells).to_string()
}

/// `trailhunt hunt crates/hunts/builtin/<stem>.toml` on the sample equals the oracle's
/// case `<stem>` (`sample/expected_cases.py`), rows in the query's SORT order.
fn builtin_hunt_matches_the_oracle(stem: &str, rows: usize) {
    const NOW: &str = "2024-08-02T00:00:00Z";
    let Some(expected) = oracle_with(stem, &["--now", NOW]) else {
        return;
    };
    let file = workspace().join(format!("crates/hunts/builtin/{stem}.toml"));
    let o = th(&[
        "hunt",
        file.to_str().unwrap(),
        "-q",
        "--input",
        &sample(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let body: J = serde_json::from_str(&stdout(&o)).unwrap();
    let t = table(&body["hunts"][0]);
    assert_eq!(t.columns, expected.columns, "columns of {stem}");
    let got: Vec<String> = t.rows.iter().map(|r| values_sorted(r)).collect();
    let want: Vec<String> = expected.rows.iter().map(|r| values_sorted(r)).collect();
    assert_eq!(got, want, "rows of {stem}");
    assert_eq!(t.warnings, expected.warnings, "warnings of {stem}");
    // The story gives each hunt a finding (sample/README.md lists the rows).
    assert_eq!(got.len(), rows, "{got:#?}");
}

#[test]
fn builtin_logging_disabled_across_services_by_one_principal() {
    builtin_hunt_matches_the_oracle("logging_disabled_across_services_by_one_principal", 3);
}

#[test]
fn builtin_guardduty_securityhub_config_disabled_or_weakened() {
    builtin_hunt_matches_the_oracle("guardduty_securityhub_config_disabled_or_weakened", 1);
}

#[test]
fn builtin_cloudwatch_alarms_or_log_groups_deleted() {
    builtin_hunt_matches_the_oracle("cloudwatch_alarms_or_log_groups_deleted", 2);
}

#[test]
fn empty_hunt_explains_the_time_window() {
    let o = th(&[
        "hunt",
        SEED,
        "--input",
        &sample(),
        "--now",
        "2025-01-01T00:00:00Z",
        "--format",
        "json",
    ]);
    // Ran, nothing fired: exit 1 (grep's convention).
    assert_eq!(o.status.code(), Some(1));
    let body: J = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(body["hunts"][0]["values"], serde_json::json!([]));
    let err = stderr(&o);
    assert!(
        err.contains("returned no rows") && err.contains("--now latest"),
        "{err}"
    );
    assert!(
        err.contains("3692 events from 2024-07-19T00:14:35.000Z to 2024-08-01T21:14:01.000Z"),
        "{err}"
    );
}

#[test]
fn now_latest_uses_the_newest_event() {
    let o = th(&[
        "hunt",
        SEED,
        "-q",
        "--input",
        &sample(),
        "--now",
        "latest",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let body: J = serde_json::from_str(&stdout(&o)).unwrap();
    // latest = 2024-08-01T21:14:01Z: the 7-day window starts 2024-07-25T21:14:01Z, so it
    // holds the ten rows of `--now 2024-08-02` plus the DeleteFlowLogs at exactly
    // 2024-07-26T00:00:00Z that the strict `>` kept out there.
    let rows = body["hunts"][0]["values"].as_array().unwrap();
    assert_eq!(rows.len(), 11);
    assert!(
        rows.iter()
            .any(|r| r[4] == "2024-00-26" && r[2] == "DeleteFlowLogs"),
        "{rows:?}"
    );
}

#[test]
fn implicit_limit_is_1000_and_max_is_10000() {
    assert_eq!(
        query(&sample(), "from logs-aws.cloudtrail* | keep event.id")
            .rows
            .len(),
        1000
    );
    assert_eq!(
        query(
            &sample(),
            "from logs-aws.cloudtrail* | keep event.id | limit 20000"
        )
        .rows
        .len(),
        3692
    );
}

#[test]
fn from_lists_columns_sorted_by_name() {
    let t = query(&sample(), "from logs-aws.cloudtrail* | limit 1");
    let names: Vec<String> = t
        .columns
        .iter()
        .map(|c| c.split(':').next().unwrap().to_string())
        .collect();
    let mut s = names.clone();
    s.sort();
    assert_eq!(names, s);
    assert!(t.columns.contains(&"@timestamp:date".to_string()));
    assert!(t.columns.contains(&"source.ip:ip".to_string()));
}

// ---- errors ----------------------------------------------------------------------------

fn query_error(q: &str) -> String {
    let o = th(&["query", "--input", &sample(), q]);
    assert_eq!(o.status.code(), Some(1), "expected failure for {q}");
    stderr(&o)
}

#[test]
fn unknown_column_names_its_position() {
    let e = query_error("from logs-aws.cloudtrail*\n| where event.acton == \"StopLogging\"");
    assert!(
        e.contains("line 2:9: Unknown column [event.acton], did you mean [event.action]?"),
        "{e}"
    );
    assert!(
        e.contains("| where event.acton") && e.contains("        ^"),
        "{e}"
    );
}

#[test]
fn bad_syntax_is_a_parsing_error() {
    let e = query_error("from logs-aws.cloudtrail* | where event.action = \"x\"");
    assert!(e.contains("line 1:48: mismatched input '='"), "{e}");
}

#[test]
fn unknown_function() {
    let e = query_error("from logs-aws.cloudtrail* | eval x = no_such_fn(event.action)");
    assert!(
        e.contains("line 1:38: Unknown function [no_such_fn]"),
        "{e}"
    );
}

#[test]
fn unsupported_command_fails_at_its_position() {
    let e = query_error("from logs-aws.cloudtrail* | fork (where true)");
    assert!(
        e.contains("line 1:29: command [FORK] is not supported yet by trailhunt"),
        "{e}"
    );
}

#[test]
fn unknown_index() {
    let e = query_error("from logs-okta* | limit 1");
    assert!(e.contains("line 1:6: Unknown index [logs-okta*]"), "{e}");
}

#[test]
fn type_mismatch() {
    let e = query_error("from logs-aws.cloudtrail* | where length(@timestamp) > 1");
    assert!(e.contains("first argument of [length(@timestamp)] must be [string], found value [@timestamp] type [datetime]"), "{e}");
}

#[test]
fn bad_now_is_rejected() {
    let o = th(&[
        "query",
        "--input",
        &sample(),
        "--now",
        "yesterday",
        "from logs-aws.cloudtrail* | limit 1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid --now value [yesterday]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_input_is_reported() {
    let o = th(&[
        "query",
        "--input",
        "/nonexistent/trail/logs",
        "from logs-aws.cloudtrail* | limit 1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/trail/logs"),
        "{}",
        stderr(&o)
    );
}

/// A truncated gzip, invalid JSON and an unreadable file are each reported with their
/// path, and the good files still count.
#[test]
fn bad_files_are_reported_and_good_files_count() {
    let tmp = tempfile::Builder::new()
        .prefix("trailhunt-bad-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let good = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/x","accountId":"1","userName":"x"},"eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"1"}]}"#;
    std::fs::write(dir.join("good.json"), good).unwrap();
    std::fs::write(
        dir.join("invalid.json"),
        "{\"Records\":[{\"eventName\": }]}",
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, good.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(dir.join("truncated.json.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let unreadable = dir.join("unreadable.json");
    std::fs::write(&unreadable, good).unwrap();
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| stdout(&o).trim() == "0")
        .unwrap_or(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let o = th(&[
        "query",
        "--input",
        dir.to_str().unwrap(),
        "--format",
        "csv",
        "from logs-aws.cloudtrail* | stats n = count(*)",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("invalid.json"), "{err}");
    assert!(err.contains("truncated.json.gz"), "{err}");
    // root reads anything; otherwise the unreadable file is reported and not counted.
    let expected = if is_root { "n\r\n2\r\n" } else { "n\r\n1\r\n" };
    if !is_root {
        assert!(err.contains("unreadable.json"), "{err}");
    }
    assert_eq!(stdout(&o), expected);
    // --strict makes the first bad input fatal.
    let o = th(&[
        "query",
        "--strict",
        "--input",
        dir.to_str().unwrap(),
        "from logs-aws.cloudtrail* | stats n = count(*)",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

// ---- formats ---------------------------------------------------------------------------

#[test]
fn json_is_an_es_query_body() {
    let o = th(&["query", "-q", "--input", &sample(), "--format", "json", "from logs-aws.cloudtrail* | stats n = count(*) by cloud.region | sort cloud.region | limit 2"]);
    let body: J = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "columns": [{"name": "n", "type": "long"}, {"name": "cloud.region", "type": "keyword"}],
            "values": [[1, "ap-northeast-1"], [1, "ap-northeast-2"]]
        })
    );
}

#[test]
fn csv_quotes_fields() {
    let o = th(&[
        "query",
        "-q",
        "--input",
        &sample(),
        "--format",
        "csv",
        "row a = \"x,y\", b = \"say \\\"hi\\\"\", c = [1, 2], d = null",
    ]);
    assert_eq!(
        stdout(&o),
        "a,b,c,d\r\n\"x,y\",\"say \"\"hi\"\"\",\"[1, 2]\",\r\n"
    );
}

#[test]
fn ndjson_and_table_and_markdown() {
    let q = "from logs-aws.cloudtrail* | where event.action == \"DeleteTrail\" | keep @timestamp, user.name | sort @timestamp | limit 1";
    let o = th(&["query", "-q", "--input", &sample(), "--format", "ndjson", q]);
    assert_eq!(
        stdout(&o),
        "{\"@timestamp\":\"2024-07-20T14:22:51.000Z\",\"user.name\":\"alice.nguyen\"}\n"
    );
    let o = th(&["query", "-q", "--input", &sample(), "--format", "table", q]);
    assert_eq!(stdout(&o), "@timestamp               | user.name\n-------------------------+-------------\n2024-07-20T14:22:51.000Z | alice.nguyen\n");
    let o = th(&[
        "query",
        "-q",
        "--input",
        &sample(),
        "--format",
        "markdown",
        q,
    ]);
    assert_eq!(
        stdout(&o),
        "| @timestamp | user.name |\n|---|---|\n| 2024-07-20T14:22:51.000Z | alice.nguyen |\n"
    );
}

#[test]
fn summary_goes_to_stderr() {
    let o = th(&[
        "query",
        "--input",
        &sample(),
        "--format",
        "csv",
        "from logs-aws.cloudtrail* | stats n = count(*)",
    ]);
    assert_eq!(stdout(&o), "n\r\n3692\r\n");
    assert!(
        stderr(&o).contains("566 files (0 unreadable), 3692 records, 0 rejected"),
        "{}",
        stderr(&o)
    );
}

// ---- hunts -----------------------------------------------------------------------------

#[test]
fn hunts_list_and_show() {
    let o = th(&["hunts", "list"]);
    assert!(stdout(&o).contains("multiple_service_logging_deleted_or_stopped"));
    let o = th(&["hunts", "show", "d74f8928-5e46-11ef-9488-f661ea17fbce"]);
    let s = stdout(&o);
    assert!(
        s.contains("Multiple Service Logging Deleted or Stopped") && s.contains("T1562.008"),
        "{s}"
    );
    assert!(s.contains("DATE_FORMAT(\"YYYY-mm-dd\", @timestamp)"), "{s}");
    let o = th(&["hunts", "show", "no_such_hunt"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn all_aws_hunts_from_the_elastic_library_run_or_fail_clearly() {
    let Some(dir) = testkit::require_shared("hunts/elastic") else {
        return;
    };
    let o = th(&[
        "hunt",
        "-q",
        "--input",
        &sample(),
        "--hunts",
        dir.to_str().unwrap(),
        "--now",
        "2024-08-02T00:00:00Z",
        "--format",
        "json",
    ]);
    let body: J = serde_json::from_str(&stdout(&o)).expect("json even when some hunts fail");
    let ran = body["hunts"].as_array().unwrap();
    // The seed hunt plus every AWS hunt that needs no command we lack yet.
    assert!(ran.len() >= 7, "{ran:?}");
    assert!(ran
        .iter()
        .any(|h| h["uuid"] == "d74f8928-5e46-11ef-9488-f661ea17fbce"
            && h["values"].as_array().unwrap().len() == 10));
    // The others fail loudly, each naming the hunt and the position in its query.
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(!err.contains("panicked"), "{err}");
    let failures = err.lines().filter(|l| l.starts_with("hunt ")).count();
    let positioned = err
        .lines()
        .filter(|l| l.starts_with("error: line "))
        .count();
    assert!(failures > 0 && failures == positioned, "{err}");
    // Elastic's own typo (`=` for `==`) is an error in ES too.
    assert!(
        err.contains("event.provider = \"servicequotas.amazonaws.com\""),
        "{err}"
    );
}

// ---- lookup tables ---------------------------------------------------------------------

#[test]
fn lookup_join_and_enrich_read_tables_from_the_command_line() {
    let tmp = tempfile::Builder::new()
        .prefix("trailhunt-lookup-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let csv = dir.join("accounts.csv");
    std::fs::write(
        &csv,
        "account_id:keyword,owner\n418295730164,production team\n736120584927,\"dev, sandbox\"\n",
    )
    .unwrap();
    let lookup = format!("accounts={}", csv.display());
    let q = "from logs-aws.cloudtrail* | stats n = count(*) by cloud.account.id | rename cloud.account.id as account_id | lookup join accounts on account_id | sort account_id";
    let o = th(&[
        "query",
        "-q",
        "--input",
        &sample(),
        "--lookup",
        &lookup,
        "--format",
        "csv",
        q,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n,account_id,owner\r\n3101,418295730164,production team\r\n591,736120584927,\"dev, sandbox\"\r\n");
    let enrich = format!("owners={}:account_id", csv.display());
    let q = "from logs-aws.cloudtrail* | where event.action == \"StopLogging\" | enrich owners on cloud.account.id with team = owner | keep user.name, team | sort user.name";
    let o = th(&[
        "query",
        "-q",
        "--input",
        &sample(),
        "--enrich",
        &enrich,
        "--format",
        "csv",
        q,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "user.name,team\r\nAWSReservedSSO_ReadOnlyAccess_5e1f0c2a9b7d4e31,production team\r\ndev.kumar,\"dev, sandbox\"\r\nsvc-legacy-backup,production team\r\n"
    );
    // A policy that was not registered is a verification error at its position.
    let o = th(&[
        "query",
        "--input",
        &sample(),
        "from logs-aws.cloudtrail* | enrich nope",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("line 1:36: unresolved enrich policy [nope]"),
        "{}",
        stderr(&o)
    );
}
