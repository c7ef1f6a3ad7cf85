//! §2.12–2.13: digest records, Insights details and TLS details.
//!
//! Digest files have no `eventTime`/`eventName`; they are recognised only by their fields.
//! Their content ends up in one `flattened` field, and `@timestamp` becomes `digestEndTime`.

use serde_json::Value;

use super::ctx::{self, rename, Obj};
use super::time;
use super::{append_error, Failure};

const DIGEST: &str = "aws.cloudtrail.digest";

pub(crate) fn digest(doc: &mut Obj) -> Result<(), Failure> {
    if !ctx::has(doc, "cloud.account.id") {
        rename(doc, "json.awsAccountId", "cloud.account.id")?;
    }
    if !ctx::has(doc, "file.path") {
        rename(doc, "json.digestS3Object", "file.path")?;
    }
    rename(
        doc,
        "json.previousDigestS3Object",
        &format!("{DIGEST}.previous_s3_object"),
    )?;
    rename(
        doc,
        "json.previousDigestSignature",
        &format!("{DIGEST}.previous_signature"),
    )?;
    rename(
        doc,
        "json.previousDigestHashValue",
        &format!("{DIGEST}.previous_hash_value"),
    )?;
    if let Some(v) = ctx::get_nn(doc, &format!("{DIGEST}.previous_hash_value")) {
        let s = ctx::template(v);
        ctx::append_unique(doc, "related.hash", Value::String(s))?;
    }
    rename(doc, "json.logFiles", &format!("{DIGEST}.log_files"))?;
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
    if let Some(end) = ctx::get(doc, &format!("{DIGEST}.end_time")).cloned() {
        if !end.is_null() && end.as_str() != Some("") {
            doc.insert("@timestamp".into(), end);
        }
    }
    rename(doc, "json.digestS3Bucket", &format!("{DIGEST}.s3_bucket"))?;
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
        &format!("{DIGEST}.previous_s3_bucket"),
    )?;
    rename(
        doc,
        "json.previousDigestHashAlgorithm",
        &format!("{DIGEST}.previous_hash_algorithm"),
    )?;
    rename(
        doc,
        "json.digestPublicKeyFingerprint",
        &format!("{DIGEST}.public_key_fingerprint"),
    )?;
    if !ctx::has(doc, &format!("{DIGEST}.public_key_fingerprint")) {
        rename(
            doc,
            "json.publicKeyFingerprint",
            &format!("{DIGEST}.public_key_fingerprint"),
        )?;
    }
    rename(
        doc,
        "json.digestSignatureAlgorithm",
        &format!("{DIGEST}.signature_algorithm"),
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
            &format!("{DIGEST}.{to}"),
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
    rename(doc, DIGEST, "aws.cloudtrail.flattened.digest")?;
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
