//! The yardstick: every fixture pair of Elastic's pipeline tests, normalized and compared with
//! the documents Elasticsearch produced, field by field.
//!
//! `source.geo.*` and `source.as.*` come from the `geoip` crate's enrichment with MaxMind's
//! test databases (`../shared/geoip`), the ones Elastic's pipeline tests run with, and the
//! parsed `user_agent.*` from the `useragent` crate with uap-core's rules at the commit
//! Elasticsearch bundles (`../shared/uap/regexes.yaml`). No field is ignored.

use std::collections::BTreeMap;
use std::path::Path;

use cloudtrail::{normalize_record, Enrich, NormalizeOptions};
use serde_json::Value;

const CREATED: &str = "2021-11-11T01:02:03.123456789Z";

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() && !is_flattened(prefix) => {
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

/// `flattened` fields and the resources list are compared as whole values.
fn is_flattened(path: &str) -> bool {
    path.starts_with("aws.cloudtrail.flattened.")
        || path == "aws.cloudtrail.user_identity.session_context.web_id_federation_data.attributes"
}

fn retain_of(log: &Path) -> Option<String> {
    let cfg = std::fs::read_to_string(format!("{}-config.yml", log.display())).ok()?;
    cfg.lines()
        .find_map(|l| l.trim().strip_prefix("retain:"))
        .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
}

/// Differences between one produced and one expected document.
fn diff(got: &Value, want: &Value) -> Vec<String> {
    let (mut g, mut w) = (BTreeMap::new(), BTreeMap::new());
    flatten("", got, &mut g);
    flatten("", want, &mut w);
    let mut out = Vec::new();
    for (k, wv) in &w {
        match g.get(k) {
            None => out.push(format!("  missing {k} = {wv}")),
            Some(gv) if gv != wv => out.push(format!("  {k}: got {gv}, want {wv}")),
            _ => {}
        }
    }
    for (k, gv) in &g {
        if !w.contains_key(k) {
            out.push(format!("  extra {k} = {gv}"));
        }
    }
    out
}

#[test]
fn elastic_pipeline_fixtures() {
    let (Some(dir), Some(city), Some(asn), Some(rules)) = (
        crate::shared("fixtures/cloudtrail-integration"),
        crate::shared("geoip/GeoLite2-City-Test.mmdb"),
        crate::shared("geoip/GeoLite2-ASN-Test.mmdb"),
        crate::shared("uap/regexes.yaml"),
    ) else {
        return;
    };
    let geo = geoip::GeoIp::open(Some(&city), Some(&asn)).unwrap();
    let ua = useragent::UaParser::open(&rules).unwrap();
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let (mut passed, mut docs_ok, mut docs_total) = (0, 0, 0);
    let mut report = String::new();
    for log in &logs {
        let name = log.file_name().unwrap().to_string_lossy().to_string();
        let expected_path = format!("{}-expected.json", log.display());
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            continue;
        };
        let expected: Value = serde_json::from_str(&expected).unwrap();
        let expected = expected["expected"].as_array().unwrap().clone();
        let text = std::fs::read_to_string(log).unwrap();
        let mut lines: Vec<&str> = text.split('\n').collect();
        if text.ends_with('\n') {
            lines.pop();
        }
        let opts = NormalizeOptions {
            created: Some(CREATED.into()),
            tags: vec![
                "preserve_original_event".into(),
                "actor_target_mapping".into(),
            ],
            retain: retain_of(log),
        };
        let mut fixture_ok = lines.len() == expected.len();
        let mut fixture_report = String::new();
        if !fixture_ok {
            fixture_report += &format!(
                "  {} lines but {} expected docs\n",
                lines.len(),
                expected.len()
            );
        }
        for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
            docs_total += 1;
            let got = match normalize_record(line, &opts) {
                Ok(mut d) => {
                    geo.enrich(d.as_object_mut().unwrap());
                    ua.enrich(d.as_object_mut().unwrap());
                    d
                }
                Err(e) => {
                    fixture_ok = false;
                    fixture_report += &format!(" doc {i}: error {e}\n");
                    continue;
                }
            };
            let d = diff(&got, want);
            if d.is_empty() {
                docs_ok += 1;
            } else {
                fixture_ok = false;
                fixture_report += &format!(" doc {i}:\n{}\n", d.join("\n"));
            }
        }
        if fixture_ok {
            passed += 1;
        } else {
            report += &format!("FAIL {name}\n{fixture_report}");
        }
    }
    let total = logs
        .iter()
        .filter(|l| Path::new(&format!("{}-expected.json", l.display())).exists())
        .count();
    println!("{report}");
    println!("fixtures: {passed}/{total} pass ({docs_ok}/{docs_total} documents)");
    // Ratchet: raise this as fidelity improves.
    assert!(
        passed >= MIN_PASSING,
        "fixture pass count regressed: {passed}/{total}"
    );
}

const MIN_PASSING: usize = 24;
