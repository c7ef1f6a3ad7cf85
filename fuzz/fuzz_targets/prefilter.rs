//! The prefilter's soundness on arbitrary record text: a plain record (one the scan would
//! skip unparsed when the prefilter says no) whose normalized document has a verbatim field
//! equal to a literal must never be judged "cannot match" for that literal — however the text
//! spells it (JSON escapes, surrogate pairs, odd whitespace).
#![no_main]

use cloudtrail::{normalize_input, prefilter::verbatim_field, NormalizeOptions, Prefilter};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const FIELDS: [&str; 12] = [
    "event.action",
    "event.provider",
    "cloud.region",
    "source.address",
    "user_agent.original",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.access_key_id",
];

/// A dotted field of an ECS document, nested (`{"event":{"action":…}}`) or flat.
fn field<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    field(doc.get(head)?, rest)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if !cloudtrail::structure::plain_record(data) {
        return;
    }
    let opts = NormalizeOptions {
        created: Some("2024-08-02T00:00:00.000Z".into()),
        ..NormalizeOptions::default()
    };
    let Ok(doc) = normalize_input(text, &opts) else {
        return;
    };
    let mut values = Vec::new();
    for name in FIELDS {
        assert!(verbatim_field(name));
        match field(&doc, name) {
            Some(Value::String(s)) => values.push(s.clone()),
            Some(Value::Array(a)) => {
                values.extend(a.iter().filter_map(|v| v.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    for v in &values {
        let Some(p) = Prefilter::new(vec![vec![v.clone()]]) else {
            continue;
        };
        assert!(
            p.may_match(data),
            "a record whose verbatim field is {v:?} was judged unable to match it"
        );
        // A clause is a disjunction: adding a literal never turns a yes into a no.
        let p = Prefilter::new(vec![vec![v.clone(), "\u{0}never".into()]]).unwrap();
        assert!(p.may_match(data));
    }
    // A conjunction of clauses each met by the record is met too.
    if let Some(p) = Prefilter::new(values.iter().map(|v| vec![v.clone()]).collect()) {
        assert!(p.may_match(data), "clauses {values:?}");
    }
});
