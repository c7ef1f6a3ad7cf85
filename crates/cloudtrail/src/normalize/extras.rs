//! §2.12–2.13: digest records, Insights details and TLS details.
//!
//! Digest files have no `eventTime`/`eventName`; they are recognised only by their fields.
//! Their content ends up in one `flattened` field, and `@timestamp` becomes `digestEndTime`.

use serde_json::Value;

use super::ctx::{self, rename, Obj};
use super::time;
use super::{append_error, Failure};

/// A path under `aws.cloudtrail.digest`, spelled out at compile time.
macro_rules! dg {
    ($rest:literal) => {
        concat!("aws.cloudtrail.digest.", $rest)
    };
}

/// Every record key [`digest`] reads. It writes nothing but what it moves or parses from
/// these, so a record with none of them (all API and service events) skips it.
pub(crate) const DIGEST_INPUTS: [&str; 16] = [
    "awsAccountId",
    "digestS3Object",
    "previousDigestS3Object",
    "previousDigestSignature",
    "previousDigestHashValue",
    "logFiles",
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "newestEventTime",
    "oldestEventTime",
    "previousDigestS3Bucket",
    "previousDigestHashAlgorithm",
    "digestPublicKeyFingerprint",
    "publicKeyFingerprint",
    "digestSignatureAlgorithm",
];

pub(crate) fn digest(doc: &mut Obj) -> Result<(), Failure> {
    let has_input = match doc.get("json") {
        Some(Value::Object(json)) => json.keys().any(|k| DIGEST_INPUTS.contains(&k.as_str())),
        _ => false,
    };
    if !has_input {
        return Ok(());
    }
    if !ctx::has(doc, "cloud.account.id") {
        rename(doc, "json.awsAccountId", "cloud.account.id")?;
    }
    if !ctx::has(doc, "file.path") {
        rename(doc, "json.digestS3Object", "file.path")?;
    }
    rename(
        doc,
        "json.previousDigestS3Object",
        dg!("previous_s3_object"),
    )?;
    rename(
        doc,
        "json.previousDigestSignature",
        dg!("previous_signature"),
    )?;
    rename(
        doc,
        "json.previousDigestHashValue",
        dg!("previous_hash_value"),
    )?;
    if let Some(v) = ctx::get_nn(doc, dg!("previous_hash_value")) {
        let s = ctx::template(v);
        ctx::append_unique(doc, "related.hash", Value::String(s))?;
    }
    rename(doc, "json.logFiles", dg!("log_files"))?;
    date(
        doc,
        "digestStartTime",
        "start_time",
        "date_json_digestStartTime_to_aws_cloudtrail_digest_start_time_3c1d2845",
    )?;
    date(
        doc,
        "digestEndTime",
        "end_time",
        "date_json_digestEndTime_to_aws_cloudtrail_digest_end_time_d95ac027",
    )?;
    if let Some(end) = ctx::get(doc, dg!("end_time")).cloned() {
        if !end.is_null() && end.as_str() != Some("") {
            doc.insert("@timestamp".into(), end);
        }
    }
    rename(doc, "json.digestS3Bucket", dg!("s3_bucket"))?;
    date(
        doc,
        "newestEventTime",
        "newest_event_time",
        "date_json_newestEventTime_to_aws_cloudtrail_digest_newest_event_time_66ba4c38",
    )?;
    date(
        doc,
        "oldestEventTime",
        "oldest_event_time",
        "date_json_oldestEventTime_to_aws_cloudtrail_digest_oldest_event_time_51f01072",
    )?;
    rename(
        doc,
        "json.previousDigestS3Bucket",
        dg!("previous_s3_bucket"),
    )?;
    rename(
        doc,
        "json.previousDigestHashAlgorithm",
        dg!("previous_hash_algorithm"),
    )?;
    rename(
        doc,
        "json.digestPublicKeyFingerprint",
        dg!("public_key_fingerprint"),
    )?;
    if !ctx::has(doc, dg!("public_key_fingerprint")) {
        rename(
            doc,
            "json.publicKeyFingerprint",
            dg!("public_key_fingerprint"),
        )?;
    }
    rename(
        doc,
        "json.digestSignatureAlgorithm",
        dg!("signature_algorithm"),
    )?;
    Ok(())
}

/// A `date` processor (ISO8601) from `json.<from>` to `aws.cloudtrail.digest.<to>`, dropping a
/// bad value with an error entry.
fn date(doc: &mut Obj, from: &str, to: &str, tag: &'static str) -> Result<(), Failure> {
    let src = format!("json.{from}");
    let Some(raw) = ctx::get_nn(doc, &src) else {
        return Ok(());
    };
    if raw.as_str() == Some("") {
        return Ok(());
    }
    let text = ctx::template(raw);
    match time::parse_iso8601(&text) {
        Some(t) => ctx::set(
            doc,
            &format!("aws.cloudtrail.digest.{to}"),
            Value::String(t.to_es_string()),
        ),
        None => {
            ctx::remove(doc, &src);
            append_error(
                doc,
                &Failure::new(format!("unable to parse date [{text}]")).at("date", tag),
            );
            Ok(())
        }
    }
}

pub(crate) fn move_digest_and_insight(doc: &mut Obj) -> Result<(), Failure> {
    rename(
        doc,
        "aws.cloudtrail.digest",
        "aws.cloudtrail.flattened.digest",
    )?;
    rename(
        doc,
        "json.insightDetails",
        "aws.cloudtrail.flattened.insight_details",
    )
}

/// §2.13 TLS: `TLSv1.2` → protocol `tls`, version `1.2`; a value without `v` goes to
/// `tls.version` as is; the literal placeholder record (`tlsVersion: "tlsVersion"`) is dropped.
pub(crate) fn tls(doc: &mut Obj) -> Result<(), Failure> {
    if ctx::get_str(doc, "json.tlsDetails.tlsVersion") == Some("tlsVersion") {
        ctx::remove(doc, "json.tlsDetails");
    }
    if let Some(v) = ctx::get_nn(doc, "json.tlsDetails.tlsVersion") {
        let text = ctx::template(v);
        // dissect `%{tls.version_protocol}v%{tls.version}`; on failure, rename as is.
        match text.split_once('v') {
            Some((protocol, version)) if !protocol.is_empty() || !version.is_empty() => {
                ctx::set(doc, "tls.version_protocol", Value::String(protocol.into()))?;
                ctx::set(doc, "tls.version", Value::String(version.into()))?;
            }
            _ => rename(doc, "json.tlsDetails.tlsVersion", "tls.version")?,
        }
    }
    if let Some(p) = ctx::get_str(doc, "tls.version_protocol") {
        let lower = p.to_lowercase();
        ctx::set(doc, "tls.version_protocol", Value::String(lower))?;
    }
    rename(doc, "json.tlsDetails.cipherSuite", "tls.cipher")?;
    rename(
        doc,
        "json.tlsDetails.clientProvidedHostHeader",
        "tls.client.server_name",
    )?;
    rename(
        doc,
        "json.tlsDetails.keyExchange",
        "aws.cloudtrail.tls_details.key_exchange",
    )
}
