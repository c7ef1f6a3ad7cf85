//! Projection pushdown into the normalizer: when a query needs only columns the pipeline copies
//! straight from top-level CloudTrail fields, read just those fields (typed, borrowed
//! deserialization; everything else is skipped unparsed) instead of building the whole ECS
//! document.
//!
//! The fast path is an optimisation, never a second opinion: it answers only for plain
//! records whose needed fields are ordinary strings, and hands anything else — wrappers, ECS
//! documents, Logstash exports, digest and Insight records, `ConsoleLogin` (its outcome comes
//! from the response), values the pipeline's cleanup would drop (`""`, `"-"`, `"none"`),
//! non-string values, duplicate keys, unparseable times — back to the full pipeline
//! (`None`). `tests/it/fast_path.rs` checks it against the full pipeline on every record of
//! `../shared/data/real` and the sample.
//!
//! One difference is accepted: the full pipeline's rare script failures (which only add
//! `error.message` and mark `event.kind: pipeline_error`) are not detected here, so their
//! "kept as pipeline_error" diagnostic is not printed; no fast column depends on them.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::columns::{convert, Cell};
use crate::normalize::time;
use crate::schema::{EcsField, CONSTANTS};

/// Where a fast column's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Constant(&'static str),
    Timestamp,
    EventAction,
    EventProvider,
    EventOutcome,
    EventId,
    CloudRegion,
    IpAddress,
    UserAgent,
    ErrorCode,
    ErrorMessage,
    EventType,
    EventCategory,
    RecipientAccount,
    IdentityType,
    IdentityArn,
    IdentityAccessKey,
}

fn source_of(name: &str) -> Option<Source> {
    if let Some((_, v)) = CONSTANTS.iter().find(|(n, _)| *n == name) {
        return Some(Source::Constant(v));
    }
    Some(match name {
        "@timestamp" => Source::Timestamp,
        "event.action" => Source::EventAction,
        "event.provider" => Source::EventProvider,
        "event.outcome" => Source::EventOutcome,
        "event.id" => Source::EventId,
        "cloud.region" => Source::CloudRegion,
        "source.address" => Source::IpAddress,
        "user_agent.original" => Source::UserAgent,
        "aws.cloudtrail.error_code" => Source::ErrorCode,
        "aws.cloudtrail.error_message" => Source::ErrorMessage,
        "aws.cloudtrail.event_type" => Source::EventType,
        "aws.cloudtrail.event_category" => Source::EventCategory,
        "aws.cloudtrail.recipient_account_id" => Source::RecipientAccount,
        "aws.cloudtrail.user_identity.type" => Source::IdentityType,
        "aws.cloudtrail.user_identity.arn" => Source::IdentityArn,
        "aws.cloudtrail.user_identity.access_key_id" => Source::IdentityAccessKey,
        _ => return None,
    })
}

/// The columns of a query, when every one of them has a fast source.
pub(crate) struct FastPlan {
    cols: Vec<(&'static EcsField, Source)>,
}

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Str<'a>,
    #[serde(borrow, default)]
    arn: Str<'a>,
    #[serde(rename = "accessKeyId", borrow, default)]
    access_key_id: Str<'a>,
}

/// The top-level fields the fast columns read; the rest of the record is skipped (but still
/// checked to be well-formed JSON by the deserializer).
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "eventVersion", default)]
    event_version: Option<IgnoredAny>,
    #[serde(rename = "eventTime", borrow, default)]
    event_time: Str<'a>,
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Str<'a>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Str<'a>,
    #[serde(rename = "eventID", borrow, default)]
    event_id: Str<'a>,
    #[serde(rename = "awsRegion", borrow, default)]
    aws_region: Str<'a>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip_address: Str<'a>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Str<'a>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: Str<'a>,
    #[serde(rename = "errorMessage", borrow, default)]
    error_message: Str<'a>,
    #[serde(rename = "eventType", borrow, default)]
    event_type: Str<'a>,
    #[serde(rename = "eventCategory", borrow, default)]
    event_category: Str<'a>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    recipient_account_id: Str<'a>,
    #[serde(rename = "userIdentity", borrow, default)]
    user_identity: Option<Identity<'a>>,
    // Present → not a plain record: the full pipeline decides.
    #[serde(rename = "@timestamp", default)]
    logstash_time: Option<IgnoredAny>,
    #[serde(rename = "digestStartTime", default)]
    digest: Option<IgnoredAny>,
    #[serde(rename = "insightDetails", default)]
    insight: Option<IgnoredAny>,
    #[serde(rename = "_source", default)]
    hit: Option<IgnoredAny>,
    #[serde(default)]
    log: Option<IgnoredAny>,
}

/// A value the pipeline keeps as it is: cleanup #1 drops `""`, `"-"` and `"none"`, which the
/// fast path leaves to the full pipeline.
fn plain(v: &Str<'_>) -> Result<Option<String>, ()> {
    match v.as_deref() {
        None => Ok(None),
        Some("" | "-" | "none") => Err(()),
        Some(s) => Ok(Some(s.to_string())),
    }
}

impl FastPlan {
    pub(crate) fn new(fields: &[&'static EcsField]) -> Option<FastPlan> {
        let cols = fields
            .iter()
            .map(|f| source_of(f.name.as_str()).map(|s| (*f, s)))
            .collect::<Option<Vec<_>>>()?;
        Some(FastPlan { cols })
    }

    /// The row for `text`, or `None` when the full pipeline must decide.
    pub(crate) fn extract(&self, text: &str) -> Option<Vec<Cell>> {
        let r: Record = serde_json::from_str(text).ok()?;
        if r.event_version.is_none()
            || r.logstash_time.is_some()
            || r.digest.is_some()
            || r.insight.is_some()
            || r.hit.is_some()
            || r.log.is_some()
            || r.event_type.as_deref() == Some("AwsCloudTrailInsight")
            || r.event_name.as_deref() == Some("ConsoleLogin")
        {
            return None;
        }
        let identity = r.user_identity.as_ref();
        let mut row = Vec::with_capacity(self.cols.len());
        for (field, source) in &self.cols {
            let value: Option<String> = match source {
                Source::Constant(v) => Some(v.to_string()),
                Source::Timestamp => {
                    let t = plain(&r.event_time).ok()??;
                    Some(time::parse_iso8601(&t)?.to_es_string())
                }
                Source::EventAction => plain(&r.event_name).ok()?,
                Source::EventProvider => plain(&r.event_source).ok()?,
                Source::EventOutcome => {
                    let failed = plain(&r.error_code).ok()?.is_some()
                        || plain(&r.error_message).ok()?.is_some();
                    Some(if failed { "failure" } else { "success" }.to_string())
                }
                Source::EventId => plain(&r.event_id).ok()?,
                Source::CloudRegion => plain(&r.aws_region).ok()?,
                Source::IpAddress => plain(&r.source_ip_address).ok()?,
                Source::UserAgent => plain(&r.user_agent).ok()?,
                Source::ErrorCode => plain(&r.error_code).ok()?,
                Source::ErrorMessage => plain(&r.error_message).ok()?,
                Source::EventType => plain(&r.event_type).ok()?,
                Source::EventCategory => plain(&r.event_category).ok()?,
                Source::RecipientAccount => plain(&r.recipient_account_id).ok()?,
                Source::IdentityType => match identity {
                    Some(i) => plain(&i.kind).ok()?,
                    None => None,
                },
                Source::IdentityArn => match identity {
                    Some(i) => plain(&i.arn).ok()?,
                    None => None,
                },
                Source::IdentityAccessKey => match identity {
                    Some(i) => plain(&i.access_key_id).ok()?,
                    None => None,
                },
            };
            // The same conversion the full pipeline's extraction applies to its leaves.
            row.push(match value {
                Some(v) => convert(field, &[&Value::String(v)]),
                None => convert(field, &[]),
            });
        }
        Some(row)
    }
}
