//! `hunt --investigate` and `--report`: verdicts on the sample's story, pivots equal to
//! direct queries on real data, and the HTML report rendered by headless Chromium.

mod common;
use common::{text, th, workspace};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SEED: &str = "multiple_service_logging_deleted_or_stopped";
const LOGGING: &str = "logging_disabled_across_services_by_one_principal";
const SAMPLE_NOW: &str = "2024-08-02T00:00:00Z";

fn investigate_json(args: &[&str]) -> J {
    let mut all = vec!["hunt", "--investigate", "-f", "json"];
    all.extend_from_slice(args);
    let out = th(&all);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// (principal, row values, verdict label, evidence texts) of every finding of the first hunt.
fn findings(doc: &J) -> Vec<(String, J, String, Vec<String>)> {
    doc["hunts"][0]["investigation"]["findings"]
        .as_array()
        .expect("an investigation")
        .iter()
        .map(|f| {
            (
                f["principal"].as_str().unwrap_or("").to_string(),
                f["values"].clone(),
                f["verdict"]["label"].as_str().unwrap().to_string(),
                f["verdict"]["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["text"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn pivot<'a>(finding: &'a J, id: &str) -> &'a J {
    finding["pivots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no pivot {id}"))
}

#[test]
fn the_sample_story_attacker_is_tampering_and_the_change_windows_are_maintenance() {
    let doc = investigate_json(&[SEED, "-i", "sample/AWSLogs", "--now", SAMPLE_NOW]);
    let all = findings(&doc);
    assert_eq!(all.len(), 10, "the seed's 10 rows on the sample");
    // Every pivot ran (none skipped or failed) for every finding.
    for f in doc["hunts"][0]["investigation"]["findings"]
        .as_array()
        .unwrap()
    {
        for p in f["pivots"].as_array().unwrap() {
            assert_eq!(p["status"], "ran", "{} of {}: {p}", p["id"], f["principal"]);
        }
    }
    for (who, values, label, why) in &all {
        let action = values["event.action"].as_str().unwrap();
        let expected = if who.ends_with("user/svc-legacy-backup") {
            "tampering"
        } else if who.ends_with("user/dev.kumar") {
            "maintenance"
        } else if who.contains("dave.okafor") {
            "refused"
        } else if who.contains("netops-terraform") && action == "DeleteFlowLogs" {
            "maintenance"
        } else {
            // The nightly cleanup deletes a query-log config nobody created in the data,
            // next to a flow-log deletion: honest evidence both ways.
            "unclear"
        };
        assert_eq!(label, expected, "{who} {action}: {why:#?}");
    }
    // The attacker's evidence in words.
    let (_, _, _, why) = all
        .iter()
        .find(|(w, v, _, _)| w.ends_with("svc-legacy-backup") && v["event.action"] == "StopLogging")
        .unwrap();
    let why = why.join("\n");
    for needle in [
        "not re-enabled or re-created afterwards: prod-security-trail",
        "new source address for this principal: 203.0.113.77",
        "new client for this principal: Boto3/1.34.144",
        "other logging services switched off within 1 h of the finding",
        "discovery before the first call: ",
        "DescribeTrails",
        "IAM or credential changes",
        "CreateAccessKey ×2",
    ] {
        assert!(why.contains(needle), "missing {needle:?} in:\n{why}");
    }
    // dev.kumar's trail was his own: created the same morning.
    let (_, _, _, why) = all
        .iter()
        .find(|(w, _, _, _)| w.ends_with("dev.kumar"))
        .unwrap();
    assert!(
        why.iter()
            .any(|e| e
                .contains("kumar-test-trail was created by the same principal 5 h 18 min earlier")),
        "{why:#?}"
    );
}

#[test]
fn our_logging_hunt_is_investigated_too() {
    let doc = investigate_json(&[LOGGING, "-i", "sample/AWSLogs", "--now", SAMPLE_NOW]);
    let all = findings(&doc);
    let label_of = |suffix: &str| {
        all.iter()
            .find(|(w, _, _, _)| w.ends_with(suffix))
            .map(|(_, _, l, why)| (l.clone(), why.clone()))
            .unwrap_or_else(|| panic!("no finding for {suffix}"))
    };
    assert_eq!(label_of("user/svc-legacy-backup").0, "tampering");
    assert_eq!(label_of("user/dev.kumar").0, "maintenance");
}

/// The pivots' origins are what a direct query over the raw files says.
#[test]
fn invictus_origins_equal_direct_queries() {
    let Some(data) = testkit::require_shared("data/real/invictus-ir-aws-dataset") else {
        return;
    };
    let data = data.display().to_string();
    let now = "2023-07-11T00:00:00Z";
    let doc = investigate_json(&[SEED, "-i", &data, "--now", now]);
    let findings = doc["hunts"][0]["investigation"]["findings"]
        .as_array()
        .unwrap();
    assert!(!findings.is_empty());
    let mut checked = 0;
    for f in findings {
        let who = f["principal"].as_str().unwrap();
        let window = f["window"].as_array().unwrap();
        let (from, to) = (window[0].as_str().unwrap(), window[1].as_str().unwrap());
        for (id, field) in [
            ("addresses", "source.address"),
            ("addresses", "source.ip"),
            ("agents", "user_agent.original"),
        ] {
            let p = pivot(f, id);
            assert_eq!(p["status"], "ran", "{p}");
            let cols: Vec<&str> = p["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            let key = cols.iter().position(|c| *c == field).unwrap();
            let n = cols.iter().position(|c| *c == "calls_in_window").unwrap();
            // Summed per value: several addresses that are not IPs share a null source.ip.
            let mut from_pivot: BTreeMap<String, i64> = BTreeMap::new();
            for r in p["values"].as_array().unwrap() {
                *from_pivot
                    .entry(r[key].as_str().unwrap_or("(null)").to_string())
                    .or_default() += r[n].as_i64().unwrap();
            }
            let q = format!(
                "from logs-aws.cloudtrail* | where aws.cloudtrail.user_identity.arn == \"{who}\" and @timestamp >= \"{from}\" and @timestamp <= \"{to}\" | stats n = count(*) by {field}"
            );
            let out = th(&["query", "-i", &data, "--now", now, "-f", "json", &q]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let direct: J = serde_json::from_slice(&out.stdout).unwrap();
            let direct: BTreeMap<String, i64> = direct["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r[1].as_str().unwrap_or("(null)").to_string(),
                        r[0].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(from_pivot, direct, "{id} of {who} in {from} … {to}");
            assert!(!direct.is_empty());
            checked += 1;
        }
    }
    assert_eq!(checked, findings.len() * 3);
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new(name).arg("--version").output() {
            if out.status.success() {
                return Some(PathBuf::from(name));
            }
        }
    }
    testkit::missing("chromium is not installed (.ci/run installs Debian's `chromium`)");
    None
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn the_html_report_renders_in_headless_chromium_with_findings_and_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let out = th(&[
        "hunt",
        SEED,
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
        "-f",
        "json",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    // Self-contained: no scripts, no external resources, and a policy that forbids loads.
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for forbidden in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(!html.contains(forbidden), "report contains {forbidden}");
    }

    let Some(browser) = chromium() else { return };
    let profile = dir.path().join("profile");
    let dom = headless(&browser, &profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("run chromium");
    assert!(dom.status.success(), "chromium: {}", text(&dom.stderr));
    let dom = text(&dom.stdout);
    // The findings table as rendered: 10 rows, the attacker's marked tampering.
    let table = dom
        .split("<table id=\"findings\">")
        .nth(1)
        .expect("findings table in the DOM");
    let table = table.split("</table>").next().unwrap();
    assert_eq!(table.matches("<tr data-verdict=").count(), 10);
    assert!(table.contains("<tr data-verdict=\"tampering\">"), "{table}");
    assert!(
        table.contains("<tr data-verdict=\"maintenance\">"),
        "{table}"
    );
    assert!(table.contains("svc-legacy-backup"));
    // A timeline per finding, with the tampering calls marked.
    assert_eq!(dom.matches("<svg class=\"timeline\"").count(), 10);
    assert!(dom.contains("class=\"call off\"") && dom.contains("data-action=\"StopLogging\""));
    assert!(dom.contains("<text class=\"mark\""));

    // A screenshot for review, kept in the target directory.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("investigation-report.png");
    let _ = std::fs::remove_file(&shot);
    let s = headless(&browser, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2400")
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("run chromium");
    assert!(s.status.success(), "{}", text(&s.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    eprintln!("screenshot: {}", shot.display());
    let _ = workspace();
}

#[test]
fn markdown_output_is_the_report_and_escapes_data() {
    let out = th(&[
        "hunt",
        SEED,
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
        "--investigate",
        "-f",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(
        md.starts_with("# trailhunt report\n"),
        "{}",
        &md[..200.min(md.len())]
    );
    assert!(md.contains("| # | hunt | principal | what | when | verdict | because |"));
    assert!(md.contains("**likely tampering**"));
    assert!(md.contains("**likely maintenance**"));
    assert!(md.contains("### Timeline"));
    assert!(md.contains("cloudtrail StopLogging — logging disabled"));
}

#[test]
fn bad_window_is_refused_clearly() {
    let out = th(&[
        "hunt",
        SEED,
        "-i",
        "sample/AWSLogs",
        "--investigate",
        "--window",
        "soon",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--window \"soon\": not a duration"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn hunts_without_pivots_are_not_investigated() {
    let dir = tempfile::tempdir().unwrap();
    let hunt = dir.path().join("plain.toml");
    std::fs::write(
        &hunt,
        "[hunt]\nuuid = \"00000000-0000-0000-0000-000000000001\"\nname = \"Plain\"\nlanguage = [\"ES|QL\"]\nquery = ['''from logs-aws.cloudtrail* | where event.action == \"StopLogging\" | stats n = count(*) by aws.cloudtrail.user_identity.arn''']\n",
    )
    .unwrap();
    let out = th(&[
        "hunt",
        "--investigate",
        "-f",
        "json",
        hunt.to_str().unwrap(),
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: J = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!doc["hunts"][0]["values"].as_array().unwrap().is_empty());
    assert!(
        doc["hunts"][0].get("investigation").is_none(),
        "nothing to investigate without pivots"
    );
    let out = th(&[
        "hunt",
        "--investigate",
        "-f",
        "table",
        hunt.to_str().unwrap(),
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
    ]);
    assert!(
        text(&out.stdout).contains("has no pivots ([[hunt.pivot]]): its rows are not investigated")
    );
    // The report shows its rows as a plain table after the (empty) findings.
    let report = dir.path().join("r.html");
    let out = th(&[
        "hunt",
        "-f",
        "json",
        hunt.to_str().unwrap(),
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("id=\"no-findings\"") && html.contains("<h2>Plain</h2>"),
        "{html}"
    );
}

/// With GeoIP databases the pivots see networks and countries, and a new ASN and country
/// count as evidence.
#[test]
fn geoip_gives_networks_and_countries_to_the_investigation() {
    use testkit::mmdb::{MmdbValue as V, MmdbWriter};
    let dir = tempfile::tempdir().unwrap();
    let names = |en: &str| V::map([("names", V::map([("en", en.into())]))]);
    let coded = |iso: &str, en: &str| {
        V::map([
            ("iso_code", iso.into()),
            ("names", V::map([("en", en.into())])),
        ])
    };
    let city = |name: &str, cont: &str, iso: &str, country: &str| {
        V::map([
            ("city", names(name)),
            ("continent", names(cont)),
            ("country", coded(iso, country)),
            (
                "location",
                V::map([("latitude", V::Double(1.5)), ("longitude", V::Double(2.5))]),
            ),
        ])
    };
    let asn = |n: u32, org: &str| {
        V::map([
            ("autonomous_system_number", V::U32(n)),
            ("autonomous_system_organization", org.into()),
        ])
    };
    let mut c = MmdbWriter::new("GeoLite2-City");
    c.insert(
        "54.152.0.0/16",
        city("Ashburn", "North America", "US", "United States"),
    );
    c.insert(
        "203.0.113.0/24",
        city("Amsterdam", "Europe", "NL", "Netherlands"),
    );
    let mut a = MmdbWriter::new("GeoLite2-ASN");
    a.insert("54.152.0.0/16", asn(14618, "AMAZON-AES"));
    a.insert("203.0.113.0/24", asn(64496, "Example Hosting BV"));
    let (cp, ap) = (dir.path().join("city.mmdb"), dir.path().join("asn.mmdb"));
    c.write(&cp).unwrap();
    a.write(&ap).unwrap();
    let doc = investigate_json(&[
        SEED,
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
        "--geoip",
        cp.to_str().unwrap(),
        "--asn",
        ap.to_str().unwrap(),
    ]);
    let f = doc["hunts"][0]["investigation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["principal"]
                .as_str()
                .unwrap()
                .ends_with("svc-legacy-backup")
                && f["values"]["event.action"] == "StopLogging"
        })
        .unwrap();
    let why: Vec<&str> = f["verdict"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        why.contains(&"new network (ASN) for this principal: 64496 Example Hosting BV"),
        "{why:#?}"
    );
    assert!(
        why.contains(&"new country for this principal: NL"),
        "{why:#?}"
    );
    let addresses = pivot(f, "addresses");
    let cols: Vec<&str> = addresses["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let row = addresses["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[cols.iter().position(|c| *c == "source.address").unwrap()] == "203.0.113.77")
        .unwrap();
    assert_eq!(
        row[cols.iter().position(|c| *c == "country").unwrap()],
        "NL"
    );
    assert_eq!(row[cols.iter().position(|c| *c == "asn").unwrap()], 64496);
    assert_eq!(
        row[cols.iter().position(|c| *c == "city").unwrap()],
        "Amsterdam"
    );
}

/// Over the store the investigation gives the same verdicts and evidence as over the raw
/// files it was ingested from.
#[test]
fn the_store_gives_the_same_investigation_as_the_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let out = th(&["ingest", "--store", store, "--quiet", "sample/AWSLogs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raw = findings(&investigate_json(&[
        SEED,
        "-i",
        "sample/AWSLogs",
        "--now",
        SAMPLE_NOW,
    ]));
    let stored = findings(&investigate_json(&[
        SEED, "--store", store, "--now", SAMPLE_NOW,
    ]));
    let key = |v: &Vec<(String, J, String, Vec<String>)>| {
        let mut k: Vec<String> = v
            .iter()
            .map(|(w, r, l, e)| format!("{w} {r} {l} {e:?}"))
            .collect();
        k.sort();
        k
    };
    assert_eq!(key(&raw), key(&stored));
}

/// Our other two built-in hunts carry the same pivots: the attacker's GuardDuty and alarm
/// changes read as tampering, the CI role retiring a Lambda's log group as maintenance.
#[test]
fn every_builtin_hunt_is_investigated() {
    for (hunt, expected) in [
        (
            "guardduty_securityhub_config_disabled_or_weakened",
            vec![("user/svc-legacy-backup", "tampering")],
        ),
        (
            "cloudwatch_alarms_or_log_groups_deleted",
            vec![
                ("user/svc-legacy-backup", "tampering"),
                ("user/ci-deployer", "maintenance"),
            ],
        ),
    ] {
        let doc = investigate_json(&[hunt, "-i", "sample/AWSLogs", "--now", SAMPLE_NOW]);
        let all = findings(&doc);
        assert_eq!(all.len(), expected.len(), "{hunt}: {all:#?}");
        for (who, label) in expected {
            let (_, _, got, why) = all.iter().find(|(w, _, _, _)| w.ends_with(who)).unwrap();
            assert_eq!(got, label, "{hunt} {who}: {why:#?}");
        }
        for f in doc["hunts"][0]["investigation"]["findings"]
            .as_array()
            .unwrap()
        {
            for p in f["pivots"].as_array().unwrap() {
                assert_eq!(p["status"], "ran", "{hunt}: {p}");
            }
        }
    }
}
