//! Elastic's ES|QL detection rules as library entries: parsing the `[rule]` schema, the
//! scheduling fields replay needs, ATT&CK names, and CloudTrail selection.

use hunts::{parse_file, Kind, Library, Origin};
use std::path::PathBuf;

fn rules_dir() -> Option<PathBuf> {
    testkit::require_shared("rules/elastic-aws-esql")
}

#[test]
fn every_shared_rule_parses_with_its_schedule() {
    let Some(dir) = rules_dir() else { return };
    let mut lib = Library::empty();
    let errors = lib.add_dir(&dir);
    assert!(errors.is_empty(), "{errors:#?}");
    let rules: Vec<_> = lib.hunts().iter().filter(|h| h.rule().is_some()).collect();
    assert_eq!(rules.len(), 26);
    assert!(rules.iter().all(|r| r.is_esql() && r.queries.len() == 1));
    // Every rule of the selection reads CloudTrail (some together with other data).
    assert_eq!(lib.for_cloudtrail().len(), 26);
    let bb = lib
        .resolve("discovery_ec2_multi_region_describe_instances")
        .unwrap();
    let r = bb.rule().unwrap();
    assert!(r.building_block);
    assert_eq!(r.from, "now-6m");
    assert_eq!(r.interval, "5m", "absent interval is Kibana's default");
    assert_eq!(r.max_signals, 100);
    assert_eq!(r.timestamp_override.as_deref(), Some("event.ingested"));
    assert!(bb.queries[0]
        .to_ascii_lowercase()
        .contains("metadata _id, _version, _index"));
    let quota = lib
        .resolve("discovery_servicequotas_multi_region_service_quota_requests")
        .unwrap();
    assert!(!quota.rule().unwrap().severity.is_empty());
    assert!(quota.rule().unwrap().risk_score.is_some());
    // Names come from the rule's own threat tables, sub-techniques in place of parents.
    let all_named = rules
        .iter()
        .flat_map(|r| r.techniques())
        .all(|(id, name)| !id.is_empty() && !name.is_empty());
    assert!(all_named);
}

#[test]
fn rule_schema_errors_point_at_the_value() {
    let text = "[metadata]\nintegration = [\"aws\"]\n\n[rule]\nrule_id = \"x\"\nname = \"n\"\nlanguage = \"esql\"\nrisk_score = \"high\"\nquery = \"from a\"\n";
    let e = parse_file(text, Origin::File("r.toml".into()), "r").unwrap_err();
    assert_eq!(
        e.to_string(),
        "r.toml:8:14: `risk_score` must be an integer, found string"
    );
    let text = "[rule]\nname = \"n\"\nquery = \"from a\"\n";
    let e = parse_file(text, Origin::File("r.toml".into()), "r").unwrap_err();
    assert!(
        e.to_string().contains("missing the required key `rule_id`"),
        "{e}"
    );
    let e = parse_file("[other]\n", Origin::File("o.toml".into()), "o").unwrap_err();
    assert!(
        e.to_string().contains("neither a [hunt] nor a [rule]"),
        "{e}"
    );
}

#[test]
fn kql_rules_list_but_do_not_run() {
    let text = "[metadata]\nintegration = [\"aws\"]\n[rule]\nrule_id = \"k\"\nname = \"KQL rule\"\nlanguage = \"kuery\"\nseverity = \"low\"\nrisk_score = 21\nquery = \"event.action: StopLogging\"\ninterval = \"10m\"\nfrom = \"now-20m\"\nmax_signals = 5\n";
    let h = parse_file(text, Origin::File("k.toml".into()), "k").unwrap();
    assert!(!h.is_esql());
    let Kind::Rule(r) = &h.kind else {
        panic!("not a rule")
    };
    assert_eq!(
        (r.interval.as_str(), r.from.as_str(), r.max_signals),
        ("10m", "now-20m", 5)
    );
    assert_eq!(h.uuid, "k");
}
