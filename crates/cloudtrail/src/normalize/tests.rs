//! Unit tests of the normalizer on hand-written records.

use super::*;
use serde_json::json;

fn opts() -> NormalizeOptions {
    NormalizeOptions {
        created: Some("2021-11-11T01:02:03.123456789Z".into()),
        tags: vec![
            "preserve_original_event".into(),
            "actor_target_mapping".into(),
        ],
        retain: None,
    }
}

fn norm(v: Value) -> Value {
    normalize_record(&v.to_string(), &opts()).unwrap()
}

#[test]
fn empty_line_gives_near_empty_doc() {
    let doc = normalize_record("", &opts()).unwrap();
    assert_eq!(
        doc,
        json!({"@timestamp": "2021-11-11T01:02:03.123456789Z",
            "cloud": {"provider": "aws"}, "ecs": {"version": "8.11.0"},
            "event": {"created": "2021-11-11T01:02:03.123456789Z", "kind": "event",
                "outcome": "success", "type": ["info"]},
            "tags": ["preserve_original_event", "actor_target_mapping"]})
    );
}

#[test]
fn basics() {
    let doc = norm(json!({
        "eventVersion": "1.08", "eventTime": "2024-07-31T13:06:24Z",
        "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
        "awsRegion": "us-east-1", "sourceIPAddress": "1.2.3.4", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA1", "arn": "arn:aws:iam::1:user/bob",
            "accountId": "111", "userName": "bob"},
        "requestParameters": {"name": "trail"}, "responseElements": null,
        "eventID": "e1", "readOnly": false, "managementEvent": true, "recipientAccountId": "111",
        "eventType": "AwsApiCall", "eventCategory": "Management"
    }));
    assert_eq!(doc["@timestamp"], "2024-07-31T13:06:24.000Z");
    assert_eq!(doc["event"]["action"], "StopLogging");
    assert_eq!(doc["event"]["provider"], "cloudtrail.amazonaws.com");
    assert_eq!(doc["event"]["outcome"], "success");
    assert_eq!(doc["event"]["id"], "e1");
    assert_eq!(doc["cloud"]["service"]["name"], "cloudtrail");
    assert_eq!(doc["cloud"]["account"]["id"], "111");
    assert_eq!(doc["cloud"]["region"], "us-east-1");
    assert_eq!(doc["source"]["ip"], "1.2.3.4");
    assert_eq!(doc["user"]["name"], "bob");
    assert_eq!(doc["user"]["id"], "AIDA1");
    assert_eq!(doc["related"]["user"], json!(["AIDA1", "bob"]));
    assert_eq!(doc["related"]["ip"], json!(["1.2.3.4"]));
    let ct = &doc["aws"]["cloudtrail"];
    assert_eq!(ct["request_parameters"], "{name=trail}");
    assert_eq!(ct["management_event"], "true");
    assert_eq!(ct["read_only"], false);
    assert_eq!(ct["user_identity"]["arn"], "arn:aws:iam::1:user/bob");
    assert_eq!(doc["target"]["entity"]["id"], json!(["trail"]));
    assert!(doc.get("json").is_none() && doc.get("_tmp").is_none() && doc.get("_conf").is_none());
}

#[test]
fn bad_event_time_is_pipeline_error() {
    let doc = norm(json!({"eventTime": "redacted", "eventName": "X"}));
    assert_eq!(doc["event"]["kind"], "pipeline_error");
    assert_eq!(doc["@timestamp"], "2021-11-11T01:02:03.123456789Z");
    let msg = doc["error"]["message"][0].as_str().unwrap();
    assert!(msg.contains("unable to parse date [redacted]"), "{msg}");
}

#[test]
fn invalid_json_and_non_objects_are_errors() {
    let e = normalize_record("{\"a\":\n 1,}", &opts()).unwrap_err();
    assert!(
        matches!(e, NormalizeError::InvalidJson { line: 2, .. }),
        "{e:?}"
    );
    let e = normalize_record("[1]", &opts()).unwrap_err();
    assert_eq!(e, NormalizeError::NotAnObject { found: "an array" });
}

#[test]
fn cleanup_drops_placeholders_before_stringifying() {
    let doc = norm(json!({"eventName": "X", "requestParameters":
        {"a": "-", "b": "none", "c": "", "d": [], "e": {"f": null}, "g": "keep"}}));
    assert_eq!(doc["aws"]["cloudtrail"]["request_parameters"], "{g=keep}");
}

#[test]
fn service_actor_has_no_user() {
    let doc = norm(
        json!({"eventName": "AssumeRole", "eventSource": "sts.amazonaws.com",
        "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
        "sourceIPAddress": "ec2.amazonaws.com"}),
    );
    assert_eq!(doc["service"]["name"], "ec2.amazonaws.com");
    assert!(doc.get("user").is_none());
    assert!(doc["source"].get("ip").is_none());
    assert_eq!(doc["actor"]["entity"]["id"], json!(["ec2.amazonaws.com"]));
}

#[test]
fn retain_none_drops_strings_and_flattened() {
    let mut o = opts();
    o.retain = Some("none".into());
    let doc = normalize_record(
        &json!({"eventName": "X", "requestParameters": {"a": 1}}).to_string(),
        &o,
    )
    .unwrap();
    assert!(doc["aws"].get("cloudtrail").is_none(), "{doc}");
}

/// `Output::Columns` leaves out only the `flattened` payload copies: on every record of the
/// sample, `../shared/data/real` and Elastic's fixtures, the documents are equal once those
/// are removed, and so is every column built from them.
#[test]
fn columns_output_differs_from_the_document_only_in_flattened_copies() {
    use crate::reader::{read_file, Problem, RecordRef, Sink};
    use std::ops::ControlFlow;
    use std::path::PathBuf;

    struct Texts(Vec<String>);
    impl Sink for Texts {
        fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
            self.0.push(r.text.into_owned());
            ControlFlow::Continue(())
        }
        fn problem(&mut self, _: Problem) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
    }

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("../../sample")];
    for rel in ["data/real", "fixtures/cloudtrail-integration"] {
        let d = root.join("../../../shared").join(rel);
        if d.is_dir() {
            dirs.push(d);
        }
    }
    let files = sources::expand_local(
        &dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let fields = crate::schema::resolve_columns(None).unwrap();
    let plan = crate::columns::ColumnPlan::new(&fields);
    let mut retains = vec![opts()];
    for r in ["minimal", "none"] {
        retains.push(NormalizeOptions {
            retain: Some(r.into()),
            ..opts()
        });
    }
    let (mut records, mut with_flattened) = (0, 0);
    for f in &files {
        let mut texts = Texts(vec![]);
        read_file(f, &mut texts);
        for text in &texts.0 {
            for o in &retains {
                let doc = crate::shape::document(text, o, None, Output::Document);
                let cols = crate::shape::document(text, o, None, Output::Columns);
                let (Ok(mut doc), Ok(cols)) = (doc, cols) else {
                    continue;
                };
                records += 1;
                assert_eq!(plan.extract(&doc), plan.extract(&cols), "{text}");
                if let Some(Value::Object(ct)) = doc.pointer_mut("/aws/cloudtrail") {
                    let flat = ct.get("flattened").and_then(Value::as_object);
                    if flat
                        .is_some_and(|m| m.keys().any(|k| k != "digest" && k != "insight_details"))
                    {
                        with_flattened += 1;
                    }
                }
                let mut cols = cols;
                for d in [&mut doc, &mut cols] {
                    if let Some(Value::Object(ct)) = d.pointer_mut("/aws/cloudtrail") {
                        // Digest and Insight content is moved there in both outputs.
                        ct.shift_remove("flattened");
                    }
                    prune_empty_objects(d);
                }
                assert_eq!(doc, cols, "{text}");
            }
        }
    }
    assert!(records > 100, "only {records} records");
    assert!(with_flattened > 0, "no record had a flattened payload copy");
}

/// Drops objects left empty (where `flattened` was the only key), recursively.
fn prune_empty_objects(v: &mut Value) {
    if let Value::Object(m) = v {
        m.values_mut().for_each(prune_empty_objects);
        m.retain(|_, v| !matches!(v, Value::Object(o) if o.is_empty()));
    }
}
