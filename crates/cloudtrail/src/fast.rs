//! Projection pushdown into the normalizer: when a query needs only columns the pipeline copies
//! from top-level CloudTrail fields and `userIdentity` (its type, ARN, keys, session issuer and
//! attributes, `user.name`/`user.id`/`service.name` by the pipeline's service-actor and role
//! rules, `source.ip` for literal addresses) and the four payload strings (`request_parameters`
//! and the like), read just those fields (typed, borrowed
//! deserialization; everything else is parsed and dropped, so the fast path refuses exactly
//! what the full pipeline's parser refuses) instead of building the whole ECS document.
//! [`fast_path_columns`] lists them.
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
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::columns::{convert, Cell};
use crate::normalize::{categorize, time};
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
    /// `source.ip`: `sourceIPAddress` when it is a literal address.
    LiteralIp,
    /// `user.name` and `user.id`, with the pipeline's service-actor and role rules (§2.5).
    UserName,
    UserId,
    /// `service.name` of a service actor.
    ServiceName,
    /// A plain copy of a `userIdentity` string.
    Identity(IdentityField),
    /// A payload string (`aws.cloudtrail.request_parameters` and the like): the object's Java
    /// `toString()` after cleanup #1; the index of its key in [`PAYLOAD_KEYS`].
    Payload(usize),
    /// `event.category` and `event.type`: the pipeline's categorization of `eventName`
    /// (`normalize::categorize`). Not `event.kind`: the pipeline's script failures, which
    /// the fast path does not detect, make it `pipeline_error`.
    EcsCategory,
    EcsType,
    /// `cloud.account.id`: `userIdentity.accountId`, else `recipientAccountId`.
    CloudAccount,
    /// A string copied out of a payload object (`related::user_group_helpers`): the payload's
    /// index in [`PAYLOAD_KEYS`] and the dotted path inside it.
    PayloadCopy(usize, &'static str),
    /// `aws.cloudtrail.session_credential_from_console`, a top-level string.
    FromConsole,
    /// `aws.cloudtrail.resources.{arn,account_id,type}`: one member of every `resources`
    /// entry (the renamed key and its CloudTrail spelling).
    Resource(&'static str, &'static str),
    /// A field of the mapping the pipeline never sets (`event.ingested` is Elasticsearch's
    /// own ingest time; GeoIP and user-agent fields come from enrichment): always null.
    Absent,
}

/// The CloudTrail payload objects whose `toString()` is a column, and those columns.
const PAYLOAD_KEYS: [(&str, &str); 4] = [
    ("requestParameters", "aws.cloudtrail.request_parameters"),
    ("responseElements", "aws.cloudtrail.response_elements"),
    ("additionalEventData", "aws.cloudtrail.additional_eventdata"),
    (
        "serviceEventDetails",
        "aws.cloudtrail.service_event_details",
    ),
];

/// The `userIdentity` strings copied as they are (§2.5 of the mapping).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdentityField {
    InvokedBy,
    CredentialId,
    IdentityProvider,
    MfaAuthenticated,
    SourceIdentity,
    IssuerType,
    IssuerArn,
    IssuerAccountId,
    IssuerPrincipalId,
}

fn source_of(name: &str) -> Option<Source> {
    // A `.text` multi-field holds its parent's value (the conversion makes it text).
    if let Some(parent) = name.strip_suffix(".text") {
        return source_of(parent);
    }
    // What only enrichment writes — GeoIP's `source.geo.*`/`source.as.*`, the parsed user
    // agent — the pipeline leaves unset; a scan that enriches a column it reads never takes
    // the fast path (`scan`), so here they are always null.
    if (name.starts_with("source.geo.") || name.starts_with("source.as."))
        || (name.starts_with("user_agent.") && name != "user_agent.original")
    {
        return Some(Source::Absent);
    }
    if let Some((_, v)) = CONSTANTS.iter().find(|(n, _)| *n == name) {
        return Some(Source::Constant(v));
    }
    if let Some(i) = PAYLOAD_KEYS.iter().position(|(_, column)| *column == name) {
        return Some(Source::Payload(i));
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
        "source.ip" => Source::LiteralIp,
        "event.category" => Source::EcsCategory,
        "event.type" => Source::EcsType,
        "cloud.account.id" => Source::CloudAccount,
        "event.ingested" => Source::Absent,
        "user.target.name" => Source::PayloadCopy(0, "userName"),
        "user.changes.name" => Source::PayloadCopy(0, "newUserName"),
        "group.name" => Source::PayloadCopy(0, "groupName"),
        "user.target.id" => Source::PayloadCopy(1, "user.userId"),
        "group.id" => Source::PayloadCopy(1, "group.groupId"),
        "aws.cloudtrail.session_credential_from_console" => Source::FromConsole,
        "aws.cloudtrail.resources.arn" => Source::Resource("arn", "ARN"),
        "aws.cloudtrail.resources.account_id" => Source::Resource("account_id", "accountId"),
        "aws.cloudtrail.resources.type" => Source::Resource("type", "type"),
        "user.name" => Source::UserName,
        "user.id" => Source::UserId,
        "service.name" => Source::ServiceName,
        "aws.cloudtrail.user_identity.invoked_by" => Source::Identity(IdentityField::InvokedBy),
        "aws.cloudtrail.user_identity.credential_id" => {
            Source::Identity(IdentityField::CredentialId)
        }
        "aws.cloudtrail.user_identity.identity_provider" => {
            Source::Identity(IdentityField::IdentityProvider)
        }
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated" => {
            Source::Identity(IdentityField::MfaAuthenticated)
        }
        "aws.cloudtrail.user_identity.session_context.source_identity" => {
            Source::Identity(IdentityField::SourceIdentity)
        }
        "aws.cloudtrail.user_identity.session_context.session_issuer.type" => {
            Source::Identity(IdentityField::IssuerType)
        }
        "aws.cloudtrail.user_identity.session_context.session_issuer.arn" => {
            Source::Identity(IdentityField::IssuerArn)
        }
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id" => {
            Source::Identity(IdentityField::IssuerAccountId)
        }
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id" => {
            Source::Identity(IdentityField::IssuerPrincipalId)
        }
        _ => return None,
    })
}

/// The columns of a query, when every one of them has a fast source.
pub(crate) struct FastPlan {
    cols: Vec<(&'static EcsField, Source)>,
}

type Str<'a> = Option<Cow<'a, str>>;

/// The top-level fields the fast columns read. Everything else is skipped, but checked as
/// the full pipeline's parser would check it ([`Checked`]): a record the pipeline rejects
/// (a number out of range, a lone surrogate escape, nesting past serde_json's limit) must
/// not become a row because the query happens to read few columns.
#[derive(Default)]
struct Record<'a> {
    event_version: bool,
    event_time: Str<'a>,
    event_source: Str<'a>,
    event_name: Str<'a>,
    event_id: Str<'a>,
    aws_region: Str<'a>,
    source_ip_address: Str<'a>,
    user_agent: Str<'a>,
    error_code: Str<'a>,
    error_message: Str<'a>,
    event_type: Str<'a>,
    event_category: Str<'a>,
    recipient_account_id: Str<'a>,
    session_credential_from_console: Str<'a>,
    /// `resources` as its text, parsed only when one of its columns is read.
    resources: Option<&'a serde_json::value::RawValue>,
    /// The [`PAYLOAD_KEYS`] objects as their text, parsed only when their column is read.
    payloads: [Option<&'a serde_json::value::RawValue>; 4],
    user_identity: Option<Identity<'a>>,
    /// Any of `@timestamp` (Logstash), `digestStartTime`, `insightDetails`, `_source`, `log`:
    /// not a plain record, the full pipeline decides.
    unusual: bool,
}

#[derive(Default)]
struct Identity<'a> {
    kind: Str<'a>,
    arn: Str<'a>,
    access_key_id: Str<'a>,
    user_name: Str<'a>,
    principal_id: Str<'a>,
    account_id: Str<'a>,
    invoked_by: Str<'a>,
    credential_id: Str<'a>,
    identity_provider: Str<'a>,
    session: Session<'a>,
    /// A field read here was JSON `null` (which the pipeline's renames treat apart from a
    /// missing one): the full pipeline decides.
    null: bool,
}

/// `userIdentity.sessionContext`: the fields read from it and its two inner objects.
#[derive(Default)]
struct Session<'a> {
    mfa_authenticated: Str<'a>,
    source_identity: Str<'a>,
    issuer_type: Str<'a>,
    issuer_user_name: Str<'a>,
    issuer_principal_id: Str<'a>,
    issuer_arn: Str<'a>,
    issuer_account_id: Str<'a>,
    null: bool,
}

impl Identity<'_> {
    /// The service name when the caller is a service actor (§2.5), by the pipeline's own
    /// rule on the raw strings.
    fn service_name(&self) -> Option<String> {
        crate::normalize::identity::service_name(
            self.kind.as_deref(),
            self.invoked_by.as_deref(),
            self.session.issuer_arn.as_deref(),
        )
    }
}

/// Any JSON value, parsed (numbers converted, escapes decoded) and dropped: what the full
/// pipeline's parser would refuse, this refuses too.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
        while a.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A string borrowed from the text when it has no escapes; `null` is `None`.
struct OptStr<'a>(Str<'a>);

impl<'de> Deserialize<'de> for OptStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OptStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OptStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OptStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(OptStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The keys of one object, borrowed when unescaped.
fn next_key<'de, A: MapAccess<'de>>(m: &mut A) -> Result<Option<Cow<'de, str>>, A::Error> {
    Ok(m.next_key::<OptStr<'de>>()?.and_then(|k| k.0))
}

/// Marks key number `bit` seen; a key seen twice hands the record to the full pipeline (as
/// serde's derive does, whose "duplicate field" error this mirrors).
fn first<E: de::Error>(seen: &mut u32, bit: u32) -> Result<(), E> {
    if *seen & (1 << bit) != 0 {
        return Err(E::custom("duplicate field"));
    }
    *seen |= 1 << bit;
    Ok(())
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CloudTrail record")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Record<'de>, A::Error> {
                let mut r = Record::default();
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match key.as_ref() {
                        "eventTime" => (0, &mut r.event_time),
                        "eventSource" => (1, &mut r.event_source),
                        "eventName" => (2, &mut r.event_name),
                        "eventID" => (3, &mut r.event_id),
                        "awsRegion" => (4, &mut r.aws_region),
                        "sourceIPAddress" => (5, &mut r.source_ip_address),
                        "userAgent" => (6, &mut r.user_agent),
                        "errorCode" => (7, &mut r.error_code),
                        "errorMessage" => (8, &mut r.error_message),
                        "eventType" => (9, &mut r.event_type),
                        "eventCategory" => (10, &mut r.event_category),
                        "recipientAccountId" => (11, &mut r.recipient_account_id),
                        "sessionCredentialFromConsole" => {
                            (18, &mut r.session_credential_from_console)
                        }
                        "resources" => {
                            first(&mut seen, 19)?;
                            let raw: &'de serde_json::value::RawValue = m.next_value()?;
                            serde_json::from_str::<Checked>(raw.get())
                                .map_err(de::Error::custom)?;
                            r.resources = Some(raw);
                            continue;
                        }
                        k if PAYLOAD_KEYS.iter().any(|(key, _)| *key == k) => {
                            let i = PAYLOAD_KEYS
                                .iter()
                                .position(|(key, _)| *key == k)
                                .expect("found");
                            first(&mut seen, 14 + i as u32)?;
                            let raw: &'de serde_json::value::RawValue = m.next_value()?;
                            // A raw value is only checked for syntax: what the full parser
                            // refuses (a lone surrogate, a number out of range) must be
                            // refused here too, whether or not the column is read.
                            serde_json::from_str::<Checked>(raw.get())
                                .map_err(de::Error::custom)?;
                            r.payloads[i] = Some(raw);
                            continue;
                        }
                        "userIdentity" => {
                            first(&mut seen, 12)?;
                            r.user_identity = m.next_value::<Option<Identity<'de>>>()?;
                            continue;
                        }
                        other => {
                            m.next_value::<Checked>()?;
                            match other {
                                "eventVersion" => {
                                    first(&mut seen, 13)?;
                                    r.event_version = true;
                                }
                                "@timestamp" | "digestStartTime" | "insightDetails" | "_source"
                                | "log" => r.unusual = true,
                                _ => {}
                            }
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Identity<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Identity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Identity<'de>, A::Error> {
                let mut r = Identity::default();
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match key.as_ref() {
                        "type" => (0, &mut r.kind),
                        "arn" => (1, &mut r.arn),
                        "accessKeyId" => (2, &mut r.access_key_id),
                        "userName" => (3, &mut r.user_name),
                        "principalId" => (4, &mut r.principal_id),
                        "invokedBy" => (5, &mut r.invoked_by),
                        "credentialId" => (6, &mut r.credential_id),
                        "identityProvider" => (7, &mut r.identity_provider),
                        "accountId" => (9, &mut r.account_id),
                        "sessionContext" => {
                            first(&mut seen, 8)?;
                            r.session = m.next_value::<Session<'de>>()?;
                            continue;
                        }
                        _ => {
                            m.next_value::<Checked>()?;
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                    r.null |= slot.is_none();
                }
                r.null |= r.session.null;
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Session<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Which object of `sessionContext` a visitor is in.
        #[derive(Clone, Copy)]
        enum Part {
            Context,
            Attributes,
            Issuer,
        }
        struct V<'s, 'de>(&'s mut Session<'de>, Part);
        impl<'de> de::DeserializeSeed<'de> for V<'_, 'de> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for V<'_, 'de> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sessionContext object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
                let V(s, part) = self;
                let mut seen = 0u32;
                while let Some(key) = next_key(&mut m)? {
                    let (bit, slot) = match (part, key.as_ref()) {
                        (Part::Context, "attributes") => {
                            first(&mut seen, 0)?;
                            m.next_value_seed(V(s, Part::Attributes))?;
                            continue;
                        }
                        (Part::Context, "sessionIssuer") => {
                            first(&mut seen, 1)?;
                            m.next_value_seed(V(s, Part::Issuer))?;
                            continue;
                        }
                        (Part::Context, "sourceIdentity") => (2, &mut s.source_identity),
                        (Part::Attributes, "mfaAuthenticated") => (3, &mut s.mfa_authenticated),
                        (Part::Issuer, "type") => (4, &mut s.issuer_type),
                        (Part::Issuer, "userName") => (5, &mut s.issuer_user_name),
                        (Part::Issuer, "principalId") => (6, &mut s.issuer_principal_id),
                        (Part::Issuer, "arn") => (7, &mut s.issuer_arn),
                        (Part::Issuer, "accountId") => (8, &mut s.issuer_account_id),
                        _ => {
                            m.next_value::<Checked>()?;
                            continue;
                        }
                    };
                    first(&mut seen, bit)?;
                    *slot = m.next_value::<OptStr<'de>>()?.0;
                    s.null |= slot.is_none();
                }
                Ok(())
            }
        }
        let mut s = Session::default();
        de::DeserializeSeed::deserialize(V(&mut s, Part::Context), d)?;
        Ok(s)
    }
}

/// A payload object as the pipeline holds it when it renders or copies from it: parsed with
/// HashMap-ordered objects (as the whole record is), then cleanup #1. `Ok(None)`: absent or
/// removed by the cleanup; `Err`: the full pipeline decides.
fn payload(raw: Option<&serde_json::value::RawValue>) -> Result<Option<Value>, ()> {
    use crate::normalize::cleanup;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut v = crate::java_map::from_str_java_ordered(raw.get()).map_err(|_| ())?;
    Ok((!cleanup::clean_value(&mut v, cleanup::Pass::First)).then_some(v))
}

/// [`payload`], parsed into `slot` the first time.
fn cached<'s>(
    slot: &'s mut Option<Option<Value>>,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<&'s Option<Value>, ()> {
    if slot.is_none() {
        *slot = Some(payload(raw)?);
    }
    Ok(slot.as_ref().expect("set above"))
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

/// The columns the fast path can build (every ECS field it has a source for), in schema
/// order: a scan that reads only these never runs the full pipeline.
pub fn fast_path_columns() -> Vec<&'static str> {
    crate::schema::ecs_fields()
        .iter()
        .filter(|f| source_of(&f.name).is_some())
        .map(|f| f.name.as_str())
        .collect()
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
        if !r.event_version
            || r.unusual
            || r.event_type.as_deref() == Some("AwsCloudTrailInsight")
            || r.event_name.as_deref() == Some("ConsoleLogin")
            // `user.name` may come from additionalEventData (§2.6).
            || r.event_name.as_deref() == Some("UserAuthentication")
        {
            return None;
        }
        let identity = r.user_identity.as_ref();
        if identity.is_some_and(|i| i.null) {
            return None;
        }
        let mut row = Vec::with_capacity(self.cols.len());
        // Each payload (and `resources`, last) parsed at most once per record, however many
        // columns read it.
        let mut parsed: [Option<Option<Value>>; PAYLOAD_KEYS.len() + 1] = Default::default();
        for (field, source) in &self.cols {
            if let Source::Resource(renamed, original) = source {
                // Each entry's value (`event::resources` renames the key; the dedup it does
                // keeps one entry per arn, account and type, so the set of values is the
                // same, and a multi-valued keyword is a sorted set).
                let items = match cached(&mut parsed[PAYLOAD_KEYS.len()], r.resources).ok()? {
                    None => &[][..],
                    Some(Value::Array(items)) => &items[..],
                    Some(_) => return None,
                };
                let mut values = Vec::new();
                for item in items {
                    let Value::Object(m) = item else { continue };
                    match (m.get(*renamed), m.get(*original)) {
                        (Some(_), Some(_)) if renamed != original => return None,
                        (Some(Value::String(v)), _) | (None, Some(Value::String(v))) => {
                            values.push(Value::String(v.clone()))
                        }
                        (None, None) => {}
                        _ => return None,
                    }
                }
                row.push(convert(field, &values.iter().collect::<Vec<_>>()));
                continue;
            }
            if let Source::EcsType = source {
                // One or more values: the action's types, or `info`.
                let action = plain(&r.event_name).ok()?;
                let types: &[&str] = match action.as_deref().and_then(categorize::lookup) {
                    Some((_, types)) => types,
                    None => &["info"],
                };
                let values: Vec<Value> =
                    types.iter().map(|t| Value::String(t.to_string())).collect();
                row.push(convert(field, &values.iter().collect::<Vec<_>>()));
                continue;
            }
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
                Source::EcsType | Source::Resource(..) => unreachable!("handled above"),
                Source::Absent => None,
                Source::EcsCategory => plain(&r.event_name)
                    .ok()?
                    .as_deref()
                    .and_then(categorize::lookup)
                    .map(|(category, _)| category.to_string()),
                Source::CloudAccount => match identity
                    .map(|i| plain(&i.account_id))
                    .transpose()
                    .ok()?
                    .flatten()
                {
                    Some(id) => Some(id),
                    None => plain(&r.recipient_account_id).ok()?,
                },
                Source::Payload(i) => cached(&mut parsed[*i], r.payloads[*i])
                    .ok()?
                    .as_ref()
                    .map(crate::normalize::ctx::template),
                Source::PayloadCopy(i, path) => {
                    match cached(&mut parsed[*i], r.payloads[*i]).ok()? {
                        Some(Value::Object(m)) => match crate::normalize::ctx::get(m, path) {
                            None | Some(Value::Null) => None,
                            Some(Value::String(s)) if s.is_empty() => None,
                            Some(Value::String(s)) => Some(s.clone()),
                            // Copied as it is, whatever it is: the full pipeline decides.
                            Some(_) => return None,
                        },
                        _ => None,
                    }
                }
                Source::FromConsole => plain(&r.session_credential_from_console).ok()?,
                Source::LiteralIp => match plain(&r.source_ip_address).ok()? {
                    Some(a) if crate::ip::is_inet_address(&a) => Some(a),
                    _ => None,
                },
                Source::ServiceName => match identity.and_then(Identity::service_name) {
                    Some(name) => plain(&Some(Cow::Owned(name))).ok()?,
                    None => None,
                },
                Source::UserName => match identity {
                    Some(i) if i.service_name().is_none() => {
                        let role_like =
                            matches!(i.kind.as_deref(), Some("AssumedRole" | "FederatedUser"));
                        match (&i.session.issuer_user_name, role_like) {
                            (Some(_), true) => plain(&i.session.issuer_user_name).ok()?,
                            _ => plain(&i.user_name).ok()?,
                        }
                    }
                    _ => None,
                },
                Source::UserId => match identity {
                    // `user.id` may come from onBehalfOf (§2.5 #16).
                    Some(i) if i.kind.as_deref() == Some("IdentityCenterUser") => return None,
                    Some(i) if i.service_name().is_none() => plain(&i.principal_id).ok()?,
                    _ => None,
                },
                Source::Identity(f) => match identity {
                    Some(i) => plain(match f {
                        IdentityField::InvokedBy => &i.invoked_by,
                        IdentityField::CredentialId => &i.credential_id,
                        IdentityField::IdentityProvider => &i.identity_provider,
                        IdentityField::MfaAuthenticated => &i.session.mfa_authenticated,
                        IdentityField::SourceIdentity => &i.session.source_identity,
                        IdentityField::IssuerType => &i.session.issuer_type,
                        IdentityField::IssuerArn => &i.session.issuer_arn,
                        IdentityField::IssuerAccountId => &i.session.issuer_account_id,
                        IdentityField::IssuerPrincipalId => &i.session.issuer_principal_id,
                    })
                    .ok()?,
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
