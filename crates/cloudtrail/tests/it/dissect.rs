//! The DISSECT patterns Elastic's AWS hunts apply to `aws.cloudtrail.request_parameters`
//! work on our payload strings: for each distinct pattern, realistic raw records of the API
//! call the hunt looks for are normalized, and a tiny matcher with the dissect processor's
//! rules checks that each `%{key}` receives the value the hunt means.
//!
//! The strings only split as intended because the integration renders the parameters with
//! Java `HashMap` order; a different key order would put e.g. the object key in `bucket_name`.
//! These are string tests of the normalizer (this crate knows nothing about ES|QL); the
//! end-to-end runs of the hunts belong to the CLI tests.

use std::collections::BTreeMap;

use cloudtrail::{normalize_record, NormalizeOptions};
use serde_json::{json, Value};

/// Dissect as the ES processor does it: a literal prefix, then each `%{key}` takes the text up
/// to the first occurrence of the literal that follows it; a trailing key takes the rest.
/// `%{?name}` keys are matched and dropped. `None` = no match (ES|QL then gives nulls).
/// Only what the hunts use is supported (no `+`, `*`/`&`, `->` modifiers).
fn dissect(pattern: &str, text: &str) -> Option<BTreeMap<String, String>> {
    let mut parts = Vec::new(); // (key, following literal)
    let (prefix, mut rest) = pattern
        .split_once("%{")
        .map_or((pattern, ""), |(p, r)| (p, r));
    while !rest.is_empty() {
        let (key, after) = rest.split_once('}').expect("closed key");
        let (literal, next) = after.split_once("%{").unwrap_or((after, ""));
        parts.push((key, literal));
        rest = next;
    }
    let mut input = text.strip_prefix(prefix)?;
    let mut out = BTreeMap::new();
    for (key, literal) in parts {
        let value = if literal.is_empty() {
            std::mem::take(&mut input)
        } else {
            let i = input.find(literal)?;
            let v = &input[..i];
            input = &input[i + literal.len()..];
            v
        };
        if !key.starts_with('?') {
            out.insert(key.to_string(), value.to_string());
        }
    }
    // A pattern ending in a literal must consume the string.
    input.is_empty().then_some(out)
}

fn request_parameters(record: Value) -> String {
    let opts = NormalizeOptions {
        created: Some("2021-11-11T01:02:03.123456789Z".into()),
        ..Default::default()
    };
    let doc = normalize_record(&record.to_string(), &opts).unwrap();
    doc["aws"]["cloudtrail"]["request_parameters"]
        .as_str()
        .unwrap_or_else(|| panic!("no request_parameters in {doc}"))
        .to_string()
}

fn record(source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2024-08-01T10:00:00Z",
        "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.17.20 Python/3.11.9",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROA1:i-0abc",
            "arn": "arn:aws:sts::111122223333:assumed-role/web/i-0abc",
            "accountId": "111122223333"},
        "requestParameters": params, "responseElements": null,
        "eventID": "e1", "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
    })
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn check(pattern: &str, record: Value, want: &[(&str, &str)]) {
    let text = request_parameters(record);
    let got = dissect(pattern, &text);
    assert_eq!(got, Some(fields(want)), "pattern {pattern} on {text}");
}

const S3_OBJECT: &str =
    "{%{?bucket_name_key}=%{bucket_name}, %{?host_key}=%{bucket_location}, %{?object_key}=%{bucket_object}}";
const SNS_SUBSCRIBE: &str = "%{?protocol_key}=%{protocol}, %{?endpoint_key}=%{redacted}, %{?return_arn}=%{return_bool}, %{?topic_arn_key}=%{topic_arn}}";
const SNS_PUBLISH: &str = "{%{?message_key}=%{message}, %{?topic_key}=%{topic_arn}}";
const SNS_CREATE_TOPIC: &str = "{%{?topic_name_key}=%{topic_name}}";

/// `s3_public_bucket_rapid_object_access_attempts`: anonymous GetObject.
#[test]
fn s3_get_object_bucket_host_key() {
    for (bucket, key) in [
        ("public-assets-prod", "reports/2024/q2.pdf"),
        ("a", "x.txt"),
    ] {
        let host = format!("{bucket}.s3.us-east-1.amazonaws.com");
        let rec = record(
            "s3.amazonaws.com",
            "GetObject",
            json!({"bucketName": bucket, "Host": host, "key": key}),
        );
        assert_eq!(
            request_parameters(rec.clone()),
            format!("{{bucketName={bucket}, Host={host}, key={key}}}")
        );
        check(
            S3_OBJECT,
            rec,
            &[
                ("bucket_name", bucket),
                ("bucket_location", &host),
                ("bucket_object", key),
            ],
        );
    }
}

/// `sns_email_subscription_by_rare_user`: Subscribe with the email protocol. The pattern has no
/// leading `{`, so the brace lands in the ignored first key name; `returnSubscriptionArn` is a
/// boolean, rendered `true`.
#[test]
fn sns_subscribe_protocol_endpoint_topic() {
    let topic = "arn:aws:sns:us-east-1:111122223333:alerts";
    let rec = record(
        "sns.amazonaws.com",
        "Subscribe",
        json!({"topicArn": topic, "protocol": "email",
            "endpoint": "exfil@example.net", "returnSubscriptionArn": true}),
    );
    assert_eq!(
        request_parameters(rec.clone()),
        format!("{{protocol=email, endpoint=exfil@example.net, returnSubscriptionArn=true, topicArn={topic}}}")
    );
    check(
        SNS_SUBSCRIBE,
        rec,
        &[
            ("protocol", "email"),
            ("redacted", "exfil@example.net"),
            ("return_bool", "true"),
            ("topic_arn", topic),
        ],
    );
}

/// `sns_topic_message_published_by_rare_user`: Publish to a topic. CloudTrail hides the message
/// body.
#[test]
fn sns_publish_message_topic() {
    let topic = "arn:aws:sns:us-east-1:111122223333:orders";
    let rec = record(
        "sns.amazonaws.com",
        "Publish",
        json!({"topicArn": topic, "message": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
    );
    check(
        SNS_PUBLISH,
        rec,
        &[
            ("message", "HIDDEN_DUE_TO_SECURITY_REASONS"),
            ("topic_arn", topic),
        ],
    );
}

/// `sns_topic_created_by_rare_user`: CreateTopic with just a name.
#[test]
fn sns_create_topic_name() {
    let rec = record(
        "sns.amazonaws.com",
        "CreateTopic",
        json!({"name": "stage-exfil"}),
    );
    check(SNS_CREATE_TOPIC, rec, &[("topic_name", "stage-exfil")]);
}

/// Every DISSECT over a payload string in Elastic's AWS hunts is one of the patterns above.
#[test]
fn every_payload_pattern_in_the_hunts_is_tested() {
    let Some(dir) = crate::shared("hunts/elastic/aws/queries") else {
        return;
    };
    let tested = [S3_OBJECT, SNS_SUBSCRIBE, SNS_PUBLISH, SNS_CREATE_TOPIC];
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let line = line.trim().trim_start_matches('|').trim();
            let Some(rest) = line.strip_prefix("DISSECT ") else {
                continue;
            };
            let (field, pattern) = rest.split_once(' ').unwrap();
            if !(field.ends_with("request_parameters") || field.ends_with("response_elements")) {
                continue;
            }
            let pattern = pattern.trim().trim_matches('"');
            assert!(
                tested.contains(&pattern),
                "{}: untested pattern {pattern}",
                path.display()
            );
            seen.push(pattern.to_string());
        }
    }
    seen.sort();
    seen.dedup();
    println!(
        "{} distinct payload DISSECT patterns, all tested",
        seen.len()
    );
    assert_eq!(seen.len(), tested.len());
}

#[test]
fn the_matcher_follows_dissect_rules() {
    let m = dissect("{%{?k}=%{v}, %{?k2}=%{w}}", "{a=1, b=x=y}").unwrap();
    assert_eq!(m, fields(&[("v", "1"), ("w", "x=y")]));
    assert_eq!(
        dissect("{%{?k}=%{v}}", "{a=1, b=2}").unwrap()["v"],
        "1, b=2"
    );
    assert_eq!(dissect("{%{?k}=%{v}, %{w}}", "{a=1}"), None);
    assert_eq!(
        dissect("%{a} %{?b}", "aws-cli/2 Python/3").unwrap()["a"],
        "aws-cli/2"
    );
}
