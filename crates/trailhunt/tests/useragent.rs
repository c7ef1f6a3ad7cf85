//! `user_agent.*` end to end: `--ua-regexes` / `TRAILHUNT_UA_REGEXES` on query, hunt, ingest
//! and normalize, the copy `trailhunt ua update` installs being used by default, the fields
//! staying absent without rules, clear errors for unusable rules, and over the Invictus IR
//! data set `STATS … BY user_agent.name, user_agent.os.name` equal to a reference
//! implementation of Elasticsearch's rules on the JDK's own regex engine
//! (`crates/useragent/tests/UaOracle.java`).

mod common;

use common::{text, th, workspace};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {}: {}", o.status, text(&o.stderr));
    text(&o.stdout)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn rules() -> Option<PathBuf> {
    testkit::require_shared("uap/regexes.yaml")
}

fn record(i: u32, ua: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/jdoe"}},"eventTime":"2024-07-31T13:06:{i:02}Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"eu-north-1","sourceIPAddress":"89.160.20.156","userAgent":"{ua}","eventID":"e{i}","recipientAccountId":"111122223333"}}"#
    )
}

/// A small CloudTrail file of a CLI, an SDK, a browser and a service caller.
fn logs(dir: &Path) -> PathBuf {
    let lines = [
        record(1, "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0-1016-aws md/arch#x86_64 lang/python#3.12.6"),
        record(2, "aws-cli/1.16.248 Python/3.4.7 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 botocore/1.12.239"),
        record(3, "Boto3/1.35.50 md/Botocore#1.35.50 ua/2.0 os/linux#6.1.112 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.50"),
        record(4, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"),
        record(5, "secretsmanager.amazonaws.com"),
    ];
    let p = dir.join("trail.json");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

const BY_NAME: &str = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user_agent.name, user_agent.version, user_agent.os.name, user_agent.device.name | SORT user_agent.name, user_agent.version";

fn by_name_expected() -> Value {
    json!([
        [1, "Boto3", "1.35.50", "Linux", "Spider"],
        [1, "Firefox", "115.0", "Ubuntu", "Other"],
        [1, "Other", null, null, "Other"],
        [1, "aws-cli", "1.16.248", "Linux", "Spider"],
        [1, "aws-cli", "2.17.60", "Linux", "Other"]
    ])
}

fn values(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["values"].clone()
}

#[test]
fn user_agent_fields_in_queries_over_raw_files_and_a_store() {
    let Some(rules) = rules() else { return };
    let dir = tempfile::tempdir().unwrap();
    let logs = s(&logs(dir.path()));
    let rules = s(&rules);
    let out = th(&[
        "query",
        "--input",
        &logs,
        "--ua-regexes",
        &rules,
        "--format",
        "json",
        BY_NAME,
    ]);
    assert_eq!(values(&ok(&out)), by_name_expected());
    // The environment variable stands for the option.
    let out = Command::new(env!("CARGO_BIN_EXE_trailhunt"))
        .args(["query", "--input", &logs, "--format", "json", BY_NAME])
        .env("TRAILHUNT_HOME", dir.path().join("home"))
        .env("TRAILHUNT_UA_REGEXES", &rules)
        .output()
        .unwrap();
    assert_eq!(values(&ok(&out)), by_name_expected());
    // Without rules the fields are absent (null), as before.
    let out = th(&["query", "--input", &logs, "--format", "json", BY_NAME]);
    assert_eq!(values(&ok(&out)), json!([[5, null, null, null, null]]));

    // The store gains the columns' values from an ingest with the rules.
    let store = s(&dir.path().join("store"));
    ok(&th(&[
        "ingest",
        "--store",
        &store,
        "--ua-regexes",
        &rules,
        "--quiet",
        &logs,
    ]));
    let out = th(&["query", "--store", &store, "--format", "json", BY_NAME]);
    assert_eq!(values(&ok(&out)), by_name_expected());
    let q = "FROM logs-aws.cloudtrail* | WHERE user_agent.os.full IS NOT NULL | KEEP user_agent.os.full, user_agent.os.version | SORT user_agent.os.full";
    let raw = th(&[
        "query",
        "--input",
        &logs,
        "--ua-regexes",
        &rules,
        "--format",
        "json",
        q,
    ]);
    let stored = th(&["query", "--store", &store, "--format", "json", q]);
    assert_eq!(ok(&raw), ok(&stored));
    assert_eq!(values(&ok(&stored)), json!([["Linux 4.9.184", "4.9.184"]]));
}

#[test]
fn hunts_group_by_the_parsed_name() {
    let (Some(rules), Some(hunt)) = (
        rules(),
        testkit::require_shared(
            "hunts/elastic/aws/queries/secretsmanager_high_frequency_get_secret_value.toml",
        ),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = s(&logs(dir.path()));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "hunt", "--input", &logs, "--now", "latest", "--format", "json",
        ];
        args.extend_from_slice(extra);
        let hunt = s(&hunt);
        args.push(&hunt);
        th(&args)
    };
    // `user_agent.name not in ("Chrome", "Firefox", …)`: with the rules every
    // programmatic caller is a row and the Firefox one is not.
    let rules = s(&rules);
    let out = run(&["--ua-regexes", &rules]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let cols = body["hunts"][0]["columns"].as_array().unwrap();
    let at = cols
        .iter()
        .position(|c| c["name"] == "user_agent.name")
        .unwrap();
    let mut names: Vec<String> = body["hunts"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[at].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["Boto3", "Other", "aws-cli"]);
    // Without rules the name is null, the filter drops everything and nothing fires.
    assert_eq!(run(&[]).status.code(), Some(1));
}

#[test]
fn normalize_without_rules_leaves_the_fields_out_and_help_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let logs = s(&logs(dir.path()));
    let out = ok(&th(&["normalize", &logs]));
    for line in out.lines() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let ua = doc["user_agent"].as_object().unwrap();
        assert_eq!(ua.keys().collect::<Vec<_>>(), ["original"], "{line}");
    }
    for cmd in ["query", "hunt", "ingest", "normalize"] {
        let help = ok(&th(&[cmd, "--help"]));
        assert!(help.contains("--ua-regexes <FILE>"), "{cmd} --help");
        assert!(help.contains("trailhunt ua update"), "{cmd} --help");
    }
    let help = ok(&th(&["ua", "update", "--help"]));
    assert!(help.contains("SHA-256"), "{help}");
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    assert!(readme.contains("--ua-regexes") && readme.contains("trailhunt ua update"));
}

#[test]
fn unusable_rules_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let logs = s(&logs(dir.path()));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "user_agent_parsers:\n  - regex: '(a'\n").unwrap();
    let bad = s(&bad);
    let missing = s(&dir.path().join("missing.yaml"));
    let store = s(&dir.path().join("store"));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["query", "--input", &logs, "--ua-regexes", &missing, BY_NAME],
            format!("error: --ua-regexes: cannot read {missing}: No such file or directory"),
        ),
        (
            vec!["normalize", &logs, "--ua-regexes", &bad],
            format!("error: --ua-regexes: {bad}:2: regex '(a': unclosed group at character 3"),
        ),
        (
            vec!["ingest", "--store", &store, "--ua-regexes", &bad, &logs],
            format!("error: --ua-regexes: {bad}:2: "),
        ),
        (
            vec!["ua", "parse", "curl/8.0"],
            "error: no user-agent rules: pass --ua-regexes FILE".to_string(),
        ),
    ];
    for (args, want) in cases {
        let out = th(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&want), "{args:?}:\n{err}\nwant: {want}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!dir.path().join("store").exists());
}

/// Serves `body` once per connection for `n` connections on a loopback port.
fn serve(body: Vec<u8>, n: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut c, _)) = listener.accept() else {
                return;
            };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(head.as_bytes());
            let _ = c.write_all(&body);
        }
    });
    format!("http://{addr}/regexes.yaml")
}

#[test]
fn ua_update_installs_the_pinned_rules_and_commands_use_them() {
    let Some(rules) = rules() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let logs = s(&logs(dir.path()));
    let th_home = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trailhunt"))
            .args(args)
            .env("TRAILHUNT_HOME", &home)
            .env_remove("TRAILHUNT_UA_REGEXES")
            .output()
            .unwrap()
    };
    // A file with another hash is refused.
    let url = serve(b"user_agent_parsers: []\n".to_vec(), 1);
    let out = th_home(&["ua", "update", "--from", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("refusing to install it"), "{err}");
    assert!(err.contains(&url), "{err}");

    let url = serve(std::fs::read(&rules).unwrap(), 1);
    let out = th_home(&["ua", "update", "--from", &url]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("installed uap-core regexes.yaml at cd52910"),
        "{err}"
    );
    let installed = home.join("uap/regexes.yaml");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&rules).unwrap()
    );
    // A second update has nothing to do (the server is gone).
    let out = th_home(&["ua", "update"]);
    assert!(
        text(&out.stderr).contains("already installed"),
        "{}",
        text(&out.stderr)
    );

    // Every command now parses user agents; an empty --ua-regexes turns it off.
    let out = th_home(&["query", "--input", &logs, "--format", "json", BY_NAME]);
    assert_eq!(values(&ok(&out)), by_name_expected());
    let out = th_home(&["normalize", &logs]);
    let first: Value = serde_json::from_str(ok(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["user_agent"]["name"], "aws-cli");
    let out = th_home(&["normalize", &logs, "--ua-regexes", ""]);
    let first: Value = serde_json::from_str(ok(&out).lines().next().unwrap()).unwrap();
    assert!(first["user_agent"].get("name").is_none());
    let out = th_home(&["ua", "parse", "signin.amazonaws.com"]);
    assert_eq!(
        ok(&out),
        "{\"original\":\"signin.amazonaws.com\",\"name\":\"Other\",\"device\":{\"name\":\"Other\"}}\n"
    );

    // A damaged installed copy is an error that says what to do.
    std::fs::write(&installed, "user_agent_parsers:\n  - regex: '('\n").unwrap();
    let out = th_home(&["query", "--input", &logs, BY_NAME]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("run `trailhunt ua update` to reinstall"),
        "{err}"
    );
    // …which `ua update` repairs from a local copy.
    ok(&th_home(&["ua", "update", "--from", &s(&rules)]));
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&rules).unwrap()
    );
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(h: &str) -> Option<String> {
    if h == "~" {
        return None;
    }
    let bytes: Vec<u8> = (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    Some(String::from_utf8(bytes).unwrap())
}

/// `STATS n = COUNT(*) BY user_agent.name, user_agent.os.name` over the Invictus IR data
/// set, computed independently: each record's `userAgent` read from the raw files (the
/// pipeline's cleanup drops `""`, `"-"` and `"none"`, and then there is no user agent),
/// parsed by the JDK oracle, and counted here; empty names are no value (the final cleanup).
#[test]
fn invictus_stats_by_name_and_os_equal_the_jdk_reference() {
    let (Some(rules), Some(data)) = (
        rules(),
        testkit::require_shared("data/real/invictus-ir-aws-dataset"),
    ) else {
        return;
    };
    if !testkit::require_java(&["java"]) {
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![data.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    let mut agents: Vec<Option<String>> = Vec::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for r in v["Records"].as_array().unwrap() {
            agents.push(match &r["userAgent"] {
                Value::String(s) if !matches!(s.as_str(), "" | "-" | "none") => Some(s.clone()),
                Value::Null => None,
                other => panic!("unexpected userAgent {other}"),
            });
        }
    }
    assert_eq!(agents.len(), 2900);
    let distinct: Vec<String> = {
        let mut d: Vec<String> = agents.iter().flatten().cloned().collect();
        d.sort();
        d.dedup();
        d
    };
    let oracle = workspace().join("crates/useragent/tests/UaOracle.java");
    let mut child = Command::new("java")
        .arg(&oracle)
        .arg(&rules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run java");
    let input: String = distinct.iter().map(|s| hex(s) + "\n").collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let parsed: BTreeMap<&str, (Option<String>, Option<String>)> = distinct
        .iter()
        .zip(text(&out.stdout).lines())
        .map(|(ua, line)| {
            let f: Vec<Option<String>> = line.split('\t').map(unhex).collect();
            let clean = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
            (ua.as_str(), (clean(&f[0]), clean(&f[2])))
        })
        .collect();
    assert_eq!(parsed.len(), distinct.len());
    let mut want: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
    for a in &agents {
        let key = match a {
            Some(ua) => parsed[ua.as_str()].clone(),
            None => (None, None),
        };
        *want.entry(key).or_default() += 1;
    }

    let out = th(&[
        "query",
        "--input",
        &s(&data),
        "--ua-regexes",
        &s(&rules),
        "--format",
        "json",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user_agent.name, user_agent.os.name",
    ]);
    let mut got: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
    for row in values(&ok(&out)).as_array().unwrap() {
        let k = |v: &Value| v.as_str().map(str::to_string);
        got.insert((k(&row[1]), k(&row[2])), row[0].as_i64().unwrap());
    }
    assert_eq!(got, want);
    assert!(got.len() >= 6, "{got:?}");
    eprintln!(
        "{} groups over 2900 records equal the JDK reference",
        got.len()
    );
}
