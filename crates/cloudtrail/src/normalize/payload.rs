//! §2.9 and §2.15: the `{key=value}` payload strings, their `flattened` copies and what the
//! retain setting keeps.
//!
//! The keyword strings are Java `toString()` of the parsed objects (see [`crate::java_map`]);
//! hunts match on them with `LIKE`, so they must be byte-identical to Elastic's.

use serde_json::{Map, Value};

use super::ctx::{self, Obj};
use super::Output;

/// A payload: CloudTrail field, keyword string / flattened name, and their paths in the
/// ingest document.
type Payload = (&'static str, &'static str, &'static str, &'static str);

macro_rules! payload {
    ($from:literal, $to:literal) => {
        (
            $from,
            $to,
            concat!("json.", $from),
            concat!("aws.cloudtrail.", $to),
        )
    };
}

const PAYLOADS: [Payload; 4] = [
    payload!("requestParameters", "request_parameters"),
    payload!("responseElements", "response_elements"),
    payload!("additionalEventData", "additional_eventdata"),
    payload!("serviceEventDetails", "service_event_details"),
];

/// Flattened copies are only made for strings shorter than this many UTF-16 units (Lucene's
/// term length limit).
const MAX_FLATTENED_CHARS: usize = 32766;

fn retain_value(doc: &Obj) -> Option<&str> {
    ctx::get_str(doc, "_conf.retain")
}

/// "Keep flattened" is a substring test on the retain value (so `all_but_x` counts as `all`).
fn keep_flattened(doc: &Obj) -> bool {
    match ctx::get(doc, "_conf.retain") {
        None | Some(Value::Null) => true,
        Some(v) => {
            let s = ctx::template(v);
            s.contains("all") || s.contains("flattened") || s.contains("minimal")
        }
    }
}

pub(crate) fn strings(doc: &mut Obj, output: Output) {
    let keep = keep_flattened(doc);
    let _ = ctx::set(doc, "_conf.keep_flattened_duplicates", Value::Bool(keep));
    let flattened = keep && output == Output::Document;
    if flattened && !ctx::has(doc, "aws.cloudtrail.flattened") {
        let _ = ctx::set(doc, "aws.cloudtrail.flattened", Value::Object(Map::new()));
    }
    for (_, to, json_path, string_path) in PAYLOADS {
        let Some(value) = ctx::get_nn(doc, json_path) else {
            continue;
        };
        let text = ctx::template(value);
        let copy =
            (flattened && text.encode_utf16().count() < MAX_FLATTENED_CHARS).then(|| value.clone());
        let _ = ctx::set(doc, string_path, Value::String(text));
        if let Some(value) = copy {
            let _ = ctx::set(doc, &format!("aws.cloudtrail.flattened.{to}"), value);
        }
    }
}

/// Top-level flattened paths kept under `retain: minimal` (the fields Elastic's prebuilt rules
/// read), plus digest and insight content, which is carried whole.
const MINIMAL_FIELDS: [&str; 9] = [
    "additional_eventdata.SSEApplied",
    "request_parameters.cidrIp",
    "request_parameters.dryRun",
    "request_parameters.fromPort",
    "request_parameters.includeDeprecated",
    "request_parameters.policyArn",
    "request_parameters.serialNumber",
    "request_parameters.withDecryption",
    "request_parameters.x-amz-server-side-encryption-customer-algorithm",
];

pub(crate) fn retain(doc: &mut Obj) {
    let mode = retain_value(doc).map(str::to_owned);
    if mode.as_deref() == Some("minimal") && ctx::has(doc, "aws.cloudtrail.flattened") {
        let full = ctx::get(doc, "aws.cloudtrail.flattened")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut reduced = Map::new();
        for path in MINIMAL_FIELDS {
            let (section, key) = path.split_once('.').expect("two parts");
            let v = full
                .get(section)
                .and_then(Value::as_object)
                .and_then(|m| m.get(key))
                .filter(|v| !v.is_null());
            if let Some(v) = v {
                let entry = reduced
                    .entry(section.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(key.to_string(), v.clone());
                }
            }
        }
        for section in ["digest", "insight_details"] {
            if let Some(v) = full.get(section).filter(|v| !v.is_null()) {
                reduced.insert(section.to_string(), v.clone());
            }
        }
        let _ = ctx::set(doc, "aws.cloudtrail.flattened", Value::Object(reduced));
    }
    // Present and not one of "", all, keyword, minimal → no keyword strings.
    if let Some(v) = ctx::get_nn(doc, "_conf.retain") {
        let keeps_strings = matches!(v.as_str(), Some("" | "all" | "keyword" | "minimal"));
        if !keeps_strings {
            for (_, _, _, string_path) in PAYLOADS {
                ctx::remove(doc, string_path);
            }
        }
    }
}
