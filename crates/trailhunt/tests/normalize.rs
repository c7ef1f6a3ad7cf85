//! `trailhunt normalize` end to end: the built binary on every fixture pair of Elastic's
//! CloudTrail pipeline tests (`../shared/fixtures/cloudtrail-integration`), compared field by
//! field with the documents Elasticsearch produced, and on the input shapes of
//! `../shared/data/real`. Skipped with a printed reason when `../shared` is absent (a failure
//! under `TRAILHUNT_REQUIRE_SHARED=1`).
//!
//! The harness settings are the fixtures README's ("Test harness settings"): the common
//! config's `@timestamp` (`--created`, which also becomes `@timestamp` of documents without
//! `eventTime`, so those are compared too), its two tags, the per-test `retain`, and one
//! message per input line, blank lines included (`--blank-lines`).
//!
//! `source.geo.*` and `source.as.*` come from `--geoip`/`--asn` with MaxMind's test databases
//! (`../shared/geoip`), the ones Elastic's pipeline tests run with, and the parsed
//! `user_agent.*` from `--ua-regexes` with uap-core's rules at the commit Elasticsearch
//! bundles (`../shared/uap/regexes.yaml`). Whole documents are compared: no field is ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const CREATED: &str = "2021-11-11T01:02:03.123456789Z";

/// `../shared/<rel>`, or a skip (a failure under `TRAILHUNT_REQUIRE_SHARED=1`).
fn shared(rel: &str) -> Option<PathBuf> {
    testkit::require_shared(rel)
}

fn th(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailhunt"))
        .args(args)
        // The databases and rules a test names, never the user's own (nor an installed copy).
        .env_remove("TRAILHUNT_GEOIP")
        .env_remove("TRAILHUNT_ASN")
        .env_remove("TRAILHUNT_UA_REGEXES")
        .env(
            "TRAILHUNT_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-library"),
        )
        .output()
        .expect("run trailhunt")
}

fn docs(o: &Output) -> Vec<Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Leaf paths of a document. Arrays are leaves, so their order is compared; `flattened`
/// fields are compared as whole values.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() && !prefix.starts_with("aws.cloudtrail.flattened.") => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

fn diff(got: &Value, want: &Value) -> Vec<String> {
    let (mut g, mut w) = (BTreeMap::new(), BTreeMap::new());
    flatten("", got, &mut g);
    flatten("", want, &mut w);
    let mut out = Vec::new();
    for (k, wv) in &w {
        match g.get(k) {
            None => out.push(format!("    missing {k} = {wv}")),
            Some(gv) if gv != wv => out.push(format!("    {k}: got {gv}, want {wv}")),
            _ => {}
        }
    }
    for (k, gv) in &g {
        if !w.contains_key(k) {
            out.push(format!("    extra {k} = {gv}"));
        }
    }
    out
}

/// `retain:` of the fixture's own config, which replaces the common one.
fn retain_of(log: &Path) -> Option<String> {
    let cfg = std::fs::read_to_string(format!("{}-config.yml", log.display())).ok()?;
    cfg.lines()
        .find_map(|l| l.trim().strip_prefix("retain:"))
        .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
}

#[test]
fn normalize_reproduces_elastic_pipeline_fixtures() {
    let (Some(dir), Some(city), Some(asn), Some(rules)) = (
        shared("fixtures/cloudtrail-integration"),
        shared("geoip/GeoLite2-City-Test.mmdb"),
        shared("geoip/GeoLite2-ASN-Test.mmdb"),
        shared("uap/regexes.yaml"),
    ) else {
        return;
    };
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .filter(|p| Path::new(&format!("{}-expected.json", p.display())).exists())
        .collect();
    logs.sort();
    let mut passed = 0;
    let mut failures = String::new();
    for log in &logs {
        let name = log.file_name().unwrap().to_string_lossy().to_string();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}-expected.json", log.display())).unwrap(),
        )
        .unwrap();
        let expected = expected["expected"].as_array().unwrap();
        let mut args = vec![
            "normalize".to_string(),
            log.display().to_string(),
            "--created".into(),
            CREATED.into(),
            "--tag".into(),
            "preserve_original_event".into(),
            "--tag".into(),
            "actor_target_mapping".into(),
            "--blank-lines".into(),
            "--geoip".into(),
            city.display().to_string(),
            "--asn".into(),
            asn.display().to_string(),
            "--ua-regexes".into(),
            rules.display().to_string(),
        ];
        if let Some(mode) = retain_of(log) {
            args.extend(["--retain".into(), mode]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = th(&args);
        let got = docs(&out);
        let mut problems = Vec::new();
        if !out.status.success() || !out.stderr.is_empty() {
            problems.push(format!("  exit {}: {}", out.status, stderr(&out)));
        }
        if got.len() != expected.len() {
            problems.push(format!(
                "  {} documents, {} expected",
                got.len(),
                expected.len()
            ));
        }
        for (i, (g, w)) in got.iter().zip(expected).enumerate() {
            let d = diff(g, w);
            if !d.is_empty() {
                problems.push(format!("  doc {i}:\n{}", d.join("\n")));
            }
        }
        if problems.is_empty() {
            passed += 1;
            println!("ok    {name} ({} documents)", got.len());
        } else {
            println!("FAIL  {name}");
            failures += &format!("{name}\n{}\n", problems.join("\n"));
        }
    }
    println!(
        "fixtures via `trailhunt normalize`: {passed}/{}",
        logs.len()
    );
    assert!(failures.is_empty(), "{failures}");
    assert_eq!(passed, 24, "every fixture pair of aws 8.9.0");
}

/// Without `--blank-lines` a blank line is no record (as in any real input).
#[test]
fn blank_lines_are_skipped_by_default() {
    let Some(log) = shared("fixtures/cloudtrail-integration/test-create-topic-json.log") else {
        return;
    };
    let log = log.display().to_string();
    assert_eq!(docs(&th(&["normalize", &log])).len(), 1);
    assert_eq!(docs(&th(&["normalize", &log, "--blank-lines"])).len(), 2);
}

/// The shapes of `../shared/data/real` that need more than splitting containers.
#[test]
fn normalize_handles_real_input_shapes() {
    let Some(real) = shared("data/real") else {
        return;
    };
    let run = |set: &str| {
        let out = th(&["normalize", &real.join(set).display().to_string()]);
        assert!(out.status.success(), "{set}: {}", stderr(&out));
        out
    };

    // Logstash NDJSON: the record's own @timestamp, no @version anywhere.
    let out = run("otrf-security-datasets");
    let d = docs(&out);
    assert_eq!(d.len(), 103);
    assert_eq!(d[0]["@timestamp"], "2020-09-14T00:44:23.000Z");
    assert_eq!(d[0]["event"]["action"], "DescribeInstanceTypes");
    assert!(d.iter().all(|doc| {
        let mut flat = BTreeMap::new();
        flatten("", doc, &mut flat);
        !flat.keys().any(|k| k.contains("@version"))
    }));

    // SS4O: the raw record under aws.cloudtrail is normalized; its eventTime is the time.
    let d = docs(&run("opensearch-catalog"));
    assert_eq!(d.len(), 51);
    assert!(d.iter().all(|doc| doc["event"]["action"].is_string()));
    assert!(d
        .iter()
        .any(|doc| doc["@timestamp"] == "2021-12-02T22:11:24.000Z"));

    // Raw lines and ECS copies: each event once raw, once as the indexed document.
    let d = docs(&run("elastic-integrations-aws-cloudtrail"));
    assert_eq!(d.len(), 10);
    for action in ["DeleteFlowLogs", "DeleteResolverQueryLogConfig"] {
        let n = d
            .iter()
            .filter(|doc| doc["event"]["action"] == action)
            .count();
        assert_eq!(n, 2, "{action}");
    }

    // Panther rule tests: `log` unwrapped; the logs that are not CloudTrail are reported by
    // path and line, and --strict makes them fatal.
    let out = run("panther-analysis-tests");
    assert_eq!(docs(&out).len(), 464);
    let err = stderr(&out);
    let rejected: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("not a CloudTrail record"))
        .collect();
    assert_eq!(rejected.len(), 73, "{err}");
    assert!(
        rejected[0].contains("aws_cloudtrail_rule_tests.ndjson:"),
        "{}",
        rejected[0]
    );
    let strict = th(&[
        "normalize",
        "--strict",
        &real.join("panther-analysis-tests").display().to_string(),
    ]);
    assert!(!strict.status.success());
}
