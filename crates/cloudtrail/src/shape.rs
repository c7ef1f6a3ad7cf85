//! What one JSON value from the reader is, and the document it becomes.
//!
//! The reader splits files into values (container shapes: `Records`, arrays, NDJSON, …); this
//! module looks inside each value, because several real-world exports wrap or pre-process the
//! CloudTrail record:
//!
//! * **a CloudTrail record** (it has one of `eventVersion`, `eventTime`, `eventName`,
//!   `eventSource`, `userIdentity`, or the digest fields): normalized by the pipeline.
//!   Logstash exports add `@timestamp`/`@version`; see [`record`].
//! * **a wrapper around one**: `{"_source": {…}}` (an Elasticsearch hit), `{"log": {…}}` (Panther
//!   rule tests), and OpenSearch SS4O documents, whose `aws.cloudtrail` is the raw record with
//!   its original camelCase keys. The inner value is classified again (so a hit's `_source` may
//!   be a record or an ECS document), and its exact source text becomes `event.original`.
//! * **an ECS document already indexed** (`@timestamp` plus an `event` or `aws.cloudtrail`
//!   object, and none of the record keys): passed through unchanged, so a copy exported from
//!   Elasticsearch counts as the event it is, not as an empty one.
//! * **anything else** is rejected with the reason. Elasticsearch would index such an object
//!   as an event with no CloudTrail fields; trailhunt reports it instead (nothing is lost
//!   silently, and nothing is invented silently either).

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::enrich::Enrich;
use crate::normalize::{self, time, NormalizeError, NormalizeOptions, Output};

/// Any one of these at the top level makes an object a CloudTrail record. Every API, service,
/// console and insight event has at least `eventVersion`/`eventTime`; partial test records
/// usually keep `eventName`.
const RECORD_KEYS: [&str; 5] = [
    "eventVersion",
    "eventTime",
    "eventName",
    "eventSource",
    "userIdentity",
];

/// Digest files are records too (the pipeline recognises them by these fields, §2.12).
const DIGEST_KEYS: [&str; 4] = [
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
];

/// Wrappers are unwrapped at most this deep (a hit around an SS4O document is two levels).
const MAX_UNWRAP: usize = 2;

/// Normalizes one value from the reader, whatever of the shapes above it is: the ECS document
/// to index, or why there is none. A blank text gives the pipeline's near-empty document, as
/// Elastic's pipeline tests feed blank lines.
pub fn normalize_input(text: &str, opts: &NormalizeOptions) -> Result<Value, NormalizeError> {
    input(text, opts, None, Output::Document, 0)
}

/// [`normalize_input`] plus an enrichment step on the documents the pipeline produced, for
/// `output`.
pub(crate) fn document(
    text: &str,
    opts: &NormalizeOptions,
    enrich: Option<&dyn Enrich>,
    output: Output,
) -> Result<Value, NormalizeError> {
    input(text, opts, enrich, output, 0)
}

fn input(
    text: &str,
    opts: &NormalizeOptions,
    enrich: Option<&dyn Enrich>,
    output: Output,
    depth: usize,
) -> Result<Value, NormalizeError> {
    let Some(json) = normalize::parse_record(text)? else {
        return Ok(enriched(
            normalize::normalize_parsed(text, None, opts, None, output),
            enrich,
        ));
    };
    let Value::Object(obj) = &json else {
        unreachable!("parse_record only returns objects");
    };
    if is_record(obj) {
        return Ok(enriched(record(text, json, opts, output), enrich));
    }
    if depth < MAX_UNWRAP {
        if let Some(path) = wrapper(obj) {
            return unwrap(text, path, opts, enrich, output, depth);
        }
    }
    if is_ecs(obj) {
        let mut doc = json;
        expand_dotted_keys(&mut doc);
        return Ok(doc);
    }
    // Checked after the ECS test: ECS documents have a `log` object of their own
    // (`log.file.path`, `log.offset` from the aws-s3 input).
    if depth < MAX_UNWRAP && obj.get("log").is_some_and(Value::is_object) {
        return unwrap(text, &["log"], opts, enrich, output, depth);
    }
    Err(NormalizeError::NotCloudTrail {
        reason: missing_keys_reason(obj),
    })
}

fn unwrap(
    text: &str,
    path: &[&str],
    opts: &NormalizeOptions,
    enrich: Option<&dyn Enrich>,
    output: Output,
    depth: usize,
) -> Result<Value, NormalizeError> {
    let inner = raw_slice(text, path).ok_or_else(|| NormalizeError::NotCloudTrail {
        reason: format!("cannot read `{}`", path.join(".")),
    })?;
    input(inner, opts, enrich, output, depth + 1).map_err(|e| match e {
        NormalizeError::NotCloudTrail { reason } => NormalizeError::NotCloudTrail {
            reason: format!("in `{}`: {reason}", path.join(".")),
        },
        other => other,
    })
}

fn enriched(mut doc: Value, enrich: Option<&dyn Enrich>) -> Value {
    if let (Some(e), Value::Object(map)) = (enrich, &mut doc) {
        e.enrich(map);
    }
    doc
}

fn is_record(obj: &Map<String, Value>) -> bool {
    RECORD_KEYS
        .iter()
        .chain(DIGEST_KEYS.iter())
        .any(|k| obj.contains_key(*k))
}

/// The path of the record inside a known wrapper (`log` is handled after the ECS test).
fn wrapper(obj: &Map<String, Value>) -> Option<&'static [&'static str]> {
    if obj.get("_source").is_some_and(Value::is_object) {
        return Some(&["_source"]);
    }
    // SS4O keeps the raw record (camelCase keys) under aws.cloudtrail; an ECS document has
    // snake_case keys there and is recognised by `is_ecs` instead.
    let nested = obj.get("aws")?.get("cloudtrail")?.as_object()?;
    is_record(nested).then_some(&["aws", "cloudtrail"])
}

fn is_ecs(obj: &Map<String, Value>) -> bool {
    obj.contains_key("@timestamp")
        && (obj.get("event").is_some_and(Value::is_object)
            || obj
                .get("aws")
                .and_then(|a| a.get("cloudtrail"))
                .is_some_and(Value::is_object))
}

fn missing_keys_reason(obj: &Map<String, Value>) -> String {
    let mut reason = format!("it has none of {}", RECORD_KEYS.join(", "));
    let near: Vec<&str> = obj
        .keys()
        .filter(|k| RECORD_KEYS.iter().any(|r| r.eq_ignore_ascii_case(k)))
        .map(String::as_str)
        .collect();
    if !near.is_empty() {
        reason += &format!(" (found {}; the keys are case-sensitive)", near.join(", "));
    }
    reason
}

/// A raw CloudTrail record. Logstash exports (e.g. OTRF's Security-Datasets) carry the record
/// plus Logstash's own `@timestamp` and `@version`, and often no `eventTime`. Both keys are
/// taken out before the pipeline runs, because they are not part of the CloudTrail record.
///
/// When `eventTime` is missing, the record's own `@timestamp` becomes the event time. This is
/// a deliberate, documented departure from Elastic: the integration would stamp the agent's
/// read time, putting a 2020 attack at "now". For a replay tool the record's own time is what
/// users mean, and the time Logstash recorded is the best evidence of it. Records with an
/// `eventTime` are untouched (it wins, as in the pipeline).
fn record(text: &str, mut json: Value, opts: &NormalizeOptions, output: Output) -> Value {
    let mut event_time = None;
    if let Value::Object(obj) = &mut json {
        let stamp = obj.shift_remove("@timestamp");
        obj.shift_remove("@version");
        let has_event_time = obj
            .get("eventTime")
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        if !has_event_time {
            event_time = stamp
                .as_ref()
                .and_then(Value::as_str)
                .and_then(time::parse_iso8601);
        }
    }
    normalize::normalize_parsed(text, Some(json), opts, event_time, output)
}

/// The exact source text of the value at `path` (object keys from the top), so an unwrapped
/// record keeps its bytes as `event.original`.
fn raw_slice<'a>(text: &'a str, path: &[&str]) -> Option<&'a str> {
    let mut current = text;
    for key in path {
        let map: std::collections::HashMap<String, &'a RawValue> =
            serde_json::from_str(current).ok()?;
        current = map.get(*key)?.get();
    }
    Some(current)
}

/// Documents indexed with dotted keys (`"event.action": …`) come back that way in `_source`;
/// the columns read nested objects, so dotted keys are expanded. `flattened` objects keep
/// their keys as they are (dots there are part of the data).
fn expand_dotted_keys(v: &mut Value) {
    let Value::Object(map) = v else { return };
    if map.keys().any(|k| k.contains('.')) {
        let old = std::mem::take(map);
        for (k, v) in old {
            insert_path(map, &k, v);
        }
    }
    for (k, v) in map.iter_mut() {
        if k != "flattened" {
            expand_dotted_keys(v);
        }
    }
}

fn insert_path(map: &mut Map<String, Value>, key: &str, v: Value) {
    if let Some((head, rest)) = key.split_once('.') {
        if !head.is_empty() && !rest.is_empty() {
            let slot = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = slot {
                insert_path(inner, rest, v);
                return;
            }
        }
    }
    match (map.get_mut(key), v) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                insert_path(existing, &k, v);
            }
        }
        (_, v) => {
            map.insert(key.to_string(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> NormalizeOptions {
        NormalizeOptions {
            created: Some("2021-11-11T01:02:03.123456789Z".into()),
            ..Default::default()
        }
    }

    fn norm(text: &str) -> Result<Value, NormalizeError> {
        normalize_input(text, &opts())
    }

    #[test]
    fn logstash_time_stands_in_for_event_time() {
        let text = r#"{"eventName":"ListBuckets","eventSource":"s3.amazonaws.com","@version":"1","@timestamp":"2020-09-14T00:44:23.000Z"}"#;
        let doc = norm(text).unwrap();
        assert_eq!(doc["@timestamp"], "2020-09-14T00:44:23.000Z");
        assert_eq!(doc["event"]["created"], "2021-11-11T01:02:03.123456789Z");
        assert_eq!(doc["event"]["original"], text, "the record as delivered");
        let flat = doc.to_string();
        assert!(!flat.contains("\"@version\""), "{flat}");
        // eventTime wins when present.
        let doc =
            norm(r#"{"eventTime":"2024-01-01T00:00:00Z","@timestamp":"2020-09-14T00:44:23.000Z"}"#)
                .unwrap();
        assert_eq!(doc["@timestamp"], "2024-01-01T00:00:00.000Z");
        // A bad Logstash time is ignored (read time), not a pipeline error.
        let doc = norm(r#"{"eventName":"X","@timestamp":"yesterday"}"#).unwrap();
        assert_eq!(doc["@timestamp"], "2021-11-11T01:02:03.123456789Z");
        assert!(doc.get("error").is_none());
    }

    #[test]
    fn wrappers_are_unwrapped_with_exact_text() {
        let inner = r#"{"eventName": "StopLogging", "eventTime": "2024-07-31T13:06:24Z"}"#;
        for text in [
            format!(r#"{{"rule_id":"R","expected_result":true,"log":{inner}}}"#),
            format!(
                r#"{{"@timestamp":"2023-07-17T08:14:05.000Z","event":{{"name":"cloud_trail"}},"aws":{{"cloudtrail":{inner}}}}}"#
            ),
            format!(r#"{{"_index":"i","_source":{inner}}}"#),
        ] {
            let doc = norm(&text).unwrap();
            assert_eq!(doc["event"]["action"], "StopLogging", "{text}");
            assert_eq!(doc["@timestamp"], "2024-07-31T13:06:24.000Z");
            assert_eq!(doc["event"]["original"], inner);
        }
    }

    #[test]
    fn ecs_documents_pass_through() {
        let ecs = json!({"@timestamp": "2024-10-08T12:00:00.000Z",
            "event": {"action": "DeleteFlowLogs", "provider": "ec2.amazonaws.com"},
            "log": {"file": {"path": "s3://bucket/key.json.gz"}, "offset": 0},
            "aws": {"cloudtrail": {"event_version": "1.10"}}});
        assert_eq!(norm(&ecs.to_string()).unwrap(), ecs);
        let hit = json!({"_id": "x", "_source": ecs});
        assert_eq!(norm(&hit.to_string()).unwrap(), ecs);
        let dotted = json!({"@timestamp": "2024-10-08T12:00:00.000Z",
            "event.action": "A", "event": {"kind": "event"},
            "aws.cloudtrail.flattened": {"request_parameters": {"a.b": 1}}});
        assert_eq!(
            norm(&dotted.to_string()).unwrap(),
            json!({"@timestamp": "2024-10-08T12:00:00.000Z",
                "event": {"action": "A", "kind": "event"},
                "aws": {"cloudtrail": {"flattened": {"request_parameters": {"a.b": 1}}}}})
        );
    }

    #[test]
    fn other_objects_are_not_records() {
        let e = norm(r#"{"rule_id":"R","test_name":"t"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a CloudTrail record: it has none of eventVersion, eventTime, eventName, eventSource, userIdentity"
        );
        let e = norm(r#"{"log":{"eventname":"X","p_log_type":"AWS.CloudTrail"}}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a CloudTrail record: in `log`: it has none of eventVersion, eventTime, eventName, eventSource, userIdentity (found eventname; the keys are case-sensitive)"
        );
        assert!(norm("{}").is_err());
        // Digests are records.
        let doc = norm(r#"{"awsAccountId":"1","digestStartTime":"2024-01-01T00:00:00Z","digestEndTime":"2024-01-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"o"}"#).unwrap();
        assert_eq!(doc["file"]["path"], "o");
        // Blank text is the pipeline's near-empty document.
        assert_eq!(norm("").unwrap()["cloud"]["provider"], "aws");
    }
}
