//! The analyst's workflow end to end: `hunts update` from a loopback server, then `hunt`
//! with no HUNT over real data; `--replay` of Elastic's rules over the sample.

mod common;

use serde_json::Value as J;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

fn th_home(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailhunt"))
        .args(args)
        .current_dir(common::workspace())
        .env("TRAILHUNT_HOME", home)
        .output()
        .expect("run trailhunt")
}

/// A GitHub-shaped tarball (`detection-rules-<sha>/hunting|rules|rules_building_block`, a
/// pax `comment` with the commit) built from ../shared by Python's tarfile.
fn build_tarball(shared: &Path, out: &Path) {
    let script = r#"
import sys, tarfile, os
shared, out = sys.argv[1], sys.argv[2]
top = "detection-rules-0123456789abcdef0123456789abcdef01234567"
with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": top[16:]}) as t:
    def add(src, dst):
        for root, _, files in os.walk(src):
            for f in sorted(files):
                p = os.path.join(root, f)
                info = t.gettarinfo(p, arcname=os.path.join(top, dst, os.path.relpath(p, src)))
                info.mtime = 1755734400  # 2025-08-21T00:00:00Z
                with open(p, "rb") as fh:
                    t.addfile(info, fh)
    add(os.path.join(shared, "hunts/elastic"), "hunting")
    add(os.path.join(shared, "rules/elastic-aws-esql/rules"), "rules")
    add(os.path.join(shared, "rules/elastic-aws-esql/rules_building_block"), "rules_building_block")
"#;
    let py = testkit::require_python(&[]).expect("python3");
    let o = Command::new(py)
        .args(["-c", script])
        .arg(shared)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Serves `body` once per connection on 127.0.0.1; `cut` sends only half of it.
fn serve(body: Vec<u8>, cut: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let n = if cut { body.len() / 2 } else { body.len() };
            let _ = s.write_all(&body[..n]);
        }
    });
    format!("http://127.0.0.1:{port}/detection-rules.tar.gz")
}

#[test]
fn update_then_hunt_runs_the_whole_aws_library() {
    let Some(shared) = testkit::require_shared("hunts/elastic") else {
        return;
    };
    let shared = shared.parent().unwrap().parent().unwrap().to_path_buf();
    let Some(data) = testkit::require_shared("data/real/sans504-s3-ransomware-lab") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let tarball = tmp.path().join("dr.tar.gz");
    build_tarball(&shared, &tarball);
    let bytes = std::fs::read(&tarball).unwrap();
    let home = tmp.path().join("home");

    let o = th_home(
        &home,
        &["hunts", "update", "--from", &serve(bytes.clone(), false)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: J =
        serde_json::from_str(&std::fs::read_to_string(home.join("library/SOURCE.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["hunts"], 140);
    assert_eq!(manifest["rules"], 26);
    assert_eq!(
        manifest["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(manifest["commit_date"], "2025-08-21T00:00:00Z");

    // A download cut halfway fails and leaves the installed library as it was.
    let before = std::fs::read(home.join("library/SOURCE.json")).unwrap();
    let o = th_home(&home, &["hunts", "update", "--from", &serve(bytes, true)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(home.join("library/SOURCE.json")).unwrap(),
        before
    );

    let list = th_home(&home, &["hunts", "list", "--platform", "aws"]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(list.lines().any(|l| l.contains(" installed ")), "{list}");

    let o = th_home(
        &home,
        &[
            "hunt",
            "-q",
            "--input",
            data.to_str().unwrap(),
            "--now",
            "latest",
            "--format",
            "json",
        ],
    );
    // The servicequotas hunt cannot parse, so the run reports errors (exit 2).
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: J = serde_json::from_slice(&o.stdout).unwrap();
    let entries = doc["hunts"].as_array().unwrap();
    let upstream_aws: Vec<&J> = entries
        .iter()
        .filter(|h| h["kind"] == "hunt")
        .filter(|h| {
            // Our own built-ins are the ones Elastic's library does not have.
            ![
                "b7cefb34-aafc-48e9-b2cf-5cae2bea0a48",
                "c9c33cd4-5634-42c2-a842-e89891ddee59",
                "4652866a-27ce-4002-ac25-c1ea712f1544",
            ]
            .contains(&h["uuid"].as_str().unwrap())
        })
        .collect();
    assert_eq!(upstream_aws.len(), 24);
    let failed: Vec<&&J> = upstream_aws
        .iter()
        .filter(|h| h["status"] == "error")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["name"]
        .as_str()
        .unwrap()
        .contains("Service Quotas"));
    assert_eq!(failed[0]["error"]["type"], "parsing_exception");
    assert!(failed[0]["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("line 5:62:"));
    // The seed carries its lint finding with the fix, and its technique name.
    let seed = entries
        .iter()
        .find(|h| h["uuid"] == "d74f8928-5e46-11ef-9488-f661ea17fbce")
        .unwrap();
    assert!(seed["lint"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["fix"] == "yyyy-MM-dd"));
    assert_eq!(
        seed["mitre"][0]["name"],
        "Impair Defenses: Disable or Modify Cloud Logs"
    );
    // 23 of the 26 rules run; the 3 that read other data fail with ES's own errors.
    let rules: Vec<&J> = entries.iter().filter(|h| h["kind"] == "rule").collect();
    assert_eq!(rules.len(), 26);
    let rule_errors: Vec<&&J> = rules.iter().filter(|h| h["status"] == "error").collect();
    assert_eq!(rule_errors.len(), 3, "{rule_errors:#?}");
    assert!(rule_errors
        .iter()
        .any(|h| h["error"]["reason"]
            == "Found 1 problem\nline 1:6: Unknown index [.alerts-security.*]"));
}

#[test]
fn replay_fires_each_alert_once_and_nothing_on_quiet_days() {
    let Some(rules) = testkit::require_shared("rules/elastic-aws-esql") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for f in [
        "rules/integrations/aws/persistence_iam_user_created_access_keys_for_another_user.toml",
        "rules_building_block/discovery_ec2_multi_region_describe_instances.toml",
    ] {
        let name = Path::new(f).file_name().unwrap();
        std::fs::copy(rules.join(f), tmp.path().join(name)).unwrap();
    }
    let dir = tmp.path().to_str().unwrap();
    let sample = common::workspace().join("sample/AWSLogs");
    let run = |extra: &[&str]| {
        let mut args = vec!["hunt", "-q", "--replay", "--format", "json", "--input"];
        let s = sample.to_str().unwrap();
        args.push(s);
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "persistence_iam_user_created_access_keys_for_another_user",
            "discovery_ec2_multi_region_describe_instances",
            "--hunts",
            dir,
        ]);
        common::th(&args)
    };
    let o = run(&[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: J = serde_json::from_slice(&o.stdout).unwrap();
    let fired: Vec<(String, String, String)> = doc["hunts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            h["values"].as_array().unwrap().iter().map(move |v| {
                (
                    h["name"].as_str().unwrap().to_string(),
                    v[0].as_str().unwrap().to_string(),
                    v[1].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    // sample/README.md: the access key for ci-deployer at 13:12:20 and the 17-region
    // DescribeInstances sweep at 12:58:40–56, each alerted once at the first run after.
    assert_eq!(
        fired,
        [
            (
                "AWS IAM User Created Access Keys For Another User".to_string(),
                "2024-07-31T13:15:00.000Z".to_string(),
                "high".to_string()
            ),
            (
                "AWS EC2 Multi-Region DescribeInstances API Calls".to_string(),
                "2024-07-31T13:00:00.000Z".to_string(),
                "low".to_string()
            ),
        ]
        .to_vec(),
        "{doc:#}"
    );
    // Days before the story: background only, nothing fires (exit 1).
    let o = run(&["--until", "2024-07-19"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: J = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["summary"]["fired"], 0);
    assert_eq!(doc["summary"]["failed"], 0);
}
