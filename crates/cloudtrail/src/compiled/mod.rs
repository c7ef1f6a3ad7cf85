//! The compiled normalizer: one pass from a record's text to the row of Arrow cells the
//! interpreted pipeline (`crate::normalize`, the integration's processors step by step over a
//! JSON document) would give — for every ECS column, for the columns of a query only.
//!
//! The record is read by typed, borrowed deserialization ([`record`]): the top-level fields
//! and `userIdentity` as strings, the payload objects as their raw text, parsed (in Java
//! `HashMap` order, after cleanup #1) only when a column reads them; everything else is
//! parsed and dropped, so what the pipeline's parser refuses is refused here too. Each column
//! is then the pipeline's rule written as code ([`Source`]); the columns built from several
//! fields (`related.*`, `user.email`, `tls.*`, entity enrichment) are in [`derived`], and
//! enrichment steps that declare what they read (GeoIP, the user agent) run on a document
//! of just those fields.
//!
//! It is an optimisation, never a second opinion: it answers only for plain records and
//! hands anything else — wrappers, ECS documents, Logstash exports, digest and Insight
//! records, `ConsoleLogin` (its outcome comes from the response), values the pipeline's
//! cleanup would drop (`""`, `"-"`, `"none"`), values of unexpected types, duplicate keys,
//! unparseable times, Identity Center callers, records the pipeline would mark
//! `pipeline_error` (checked when `event.kind`, `tags` or `error.message` is read) — back to
//! the interpreted pipeline (`None`), which stays the oracle: `tests/it/compiled.rs` checks
//! every column of every record of `../shared/data/real`, Elastic's fixtures and the sample
//! (with and without enrichment), and `crates/samplegen/tests/compiled_normalizer.rs`
//! generated data, against it. `ScanOptions::interpreted` turns it off.
//!
//! One difference is accepted for queries that read none of `event.kind`, `tags` and
//! `error.message`: the pipeline's rare script failures (which only add `error.message` and
//! mark `event.kind: pipeline_error`) are not looked for, so their "kept as pipeline_error"
//! diagnostic is not printed; no column the query reads depends on them.

mod derived;
mod record;

use std::borrow::Cow;

use serde_json::Value;

use std::sync::Arc;

use crate::columns::{convert, Cell, ColumnPlan};
use crate::enrich::Enrich;
use crate::normalize::{categorize, time, NormalizeOptions, ECS_VERSION};
use crate::schema::{EcsField, CONSTANTS};
use derived::{literal_ip, user_id, user_name, Decide, Parts};
use record::{plain_cow, Identity, Record};

/// Where a compiled column's value comes from.
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
    /// (`normalize::categorize`).
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
    /// `event.original`: the record's text as delivered.
    Original,
    /// `event.created`: the agent's read time.
    Created,
    /// `tags`: the stream's.
    Tags,
    /// `cloud.service.name`: `eventSource` up to `.amazonaws.com`.
    CloudServiceName,
    /// A top-level string renamed as it is.
    Top(TopField),
    /// `aws.cloudtrail.management_event` (as text) and `read_only` (as it is).
    ManagementEvent,
    ReadOnly,
    /// A member of `addendum`.
    Addendum(&'static str),
    /// `tls.version_protocol`, `tls.version`, and members of `tlsDetails` renamed as they are.
    TlsProtocol,
    TlsVersion,
    Tls(&'static str),
    RelatedUser,
    RelatedIp,
    RelatedHosts,
    UserEmail,
    /// An output of entity enrichment, at its ECS path.
    Entity(&'static str),
    /// `…session_context.creation_date`: the parsed date.
    CreationDate,
    /// `…user_identity.on_behalf_of.*` (Identity Center) and the rare identity objects: none
    /// unless the record has them, which the pipeline decides.
    OnBehalfOf,
    RareIdentity,
    /// `event.kind`: `event`, for a record the pipeline runs without an error.
    EventKind,
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

/// The top-level strings renamed as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TopField {
    EventVersion,
    RequestId,
    ApiVersion,
    SharedEventId,
    VpcEndpointId,
    VpcEndpointAccountId,
}

/// The entity enrichment's outputs (§4).
const ENTITY_COLUMNS: [&str; 12] = [
    "actor.entity.id",
    "target.entity.id",
    "user.target.entity.id",
    "host.target.entity.id",
    "host.target.id",
    "service.target.entity.id",
    "entity.target.id",
    "related.entity",
    "user.entity.id",
    "host.entity.id",
    "service.entity.id",
    "entity.id",
];

/// What the pipeline never sets on a CloudTrail record: the agent's host, cloud and
/// container metadata (not collected here), the digest file's own fields (digest records go
/// to the pipeline), the `flattened` payload copies (ES|QL cannot read `flattened` fields),
/// and `error.message` (a record with an error goes to the pipeline).
fn never_set(name: &str) -> bool {
    const PREFIXES: [&str; 5] = ["host.", "container.", "file.", "aws.s3.", "cloud.instance."];
    const NAMES: [&str; 9] = [
        // Only ConsoleLogin records have it, and those go to the pipeline.
        "aws.cloudtrail.console_login",
        "cloud.availability_zone",
        "cloud.image.id",
        "cloud.machine.type",
        "cloud.project.id",
        "related.hash",
        "error.message",
        "event.ingested",
        "aws.cloudtrail.flattened",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || NAMES
            .iter()
            .any(|n| name == *n || name.strip_prefix(n).is_some_and(|r| r.starts_with('.')))
}

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
    Ec2RoleDelivery,
    AssumedRoot,
    SignInSessionArn,
}

fn source_of(name: &str) -> Option<Source> {
    // A `.text` multi-field holds its parent's value (the conversion makes it text).
    if let Some(parent) = name.strip_suffix(".text") {
        return source_of(parent);
    }
    // What only enrichment writes — GeoIP's `source.geo.*`/`source.as.*`, the parsed user
    // agent — the pipeline leaves unset: null, unless a step writes them (`CompiledPlan::new`
    // gives those columns to the step).
    if (name.starts_with("source.geo.") || name.starts_with("source.as."))
        || (name.starts_with("user_agent.") && name != "user_agent.original")
    {
        return Some(Source::Absent);
    }
    if let Some(path) = ENTITY_COLUMNS.iter().find(|c| **c == name) {
        return Some(Source::Entity(path));
    }
    if never_set(name) {
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
        "event.original" => Source::Original,
        "event.created" => Source::Created,
        "event.kind" => Source::EventKind,
        "tags" => Source::Tags,
        "ecs.version" => Source::Constant(ECS_VERSION),
        "cloud.provider" => Source::Constant("aws"),
        "cloud.service.name" => Source::CloudServiceName,
        "aws.cloudtrail.event_version" => Source::Top(TopField::EventVersion),
        "aws.cloudtrail.request_id" => Source::Top(TopField::RequestId),
        "aws.cloudtrail.api_version" => Source::Top(TopField::ApiVersion),
        "aws.cloudtrail.shared_event_id" => Source::Top(TopField::SharedEventId),
        "aws.cloudtrail.vpc_endpoint_id" => Source::Top(TopField::VpcEndpointId),
        "aws.cloudtrail.vpc_endpoint_account_id" => Source::Top(TopField::VpcEndpointAccountId),
        "aws.cloudtrail.management_event" => Source::ManagementEvent,
        "aws.cloudtrail.read_only" => Source::ReadOnly,
        "aws.cloudtrail.addendum.reason" => Source::Addendum("reason"),
        "aws.cloudtrail.addendum.updated_fields" => Source::Addendum("updatedFields"),
        "aws.cloudtrail.addendum.original_request_id" => Source::Addendum("originalRequestID"),
        "aws.cloudtrail.addendum.original_event_id" => Source::Addendum("originalEventID"),
        "tls.version_protocol" => Source::TlsProtocol,
        "tls.version" => Source::TlsVersion,
        "tls.cipher" => Source::Tls("cipherSuite"),
        "tls.client.server_name" => Source::Tls("clientProvidedHostHeader"),
        "aws.cloudtrail.tls_details.key_exchange" => Source::Tls("keyExchange"),
        "aws.cloudtrail.user_identity.session_context.ec2_role_delivery" => {
            Source::Identity(IdentityField::Ec2RoleDelivery)
        }
        "aws.cloudtrail.user_identity.session_context.assumed_root" => {
            Source::Identity(IdentityField::AssumedRoot)
        }
        "aws.cloudtrail.user_identity.session_context.sign_in_session_arn" => {
            Source::Identity(IdentityField::SignInSessionArn)
        }
        "aws.cloudtrail.user_identity.session_context.creation_date" => Source::CreationDate,
        n if n.starts_with("aws.cloudtrail.user_identity.on_behalf_of.") => Source::OnBehalfOf,
        n if n.starts_with("aws.cloudtrail.user_identity.in_scope_of.")
            || n.starts_with("aws.cloudtrail.user_identity.invoked_by_delegate.")
            || n.starts_with(
                "aws.cloudtrail.user_identity.session_context.web_id_federation_data.",
            ) =>
        {
            Source::RareIdentity
        }
        "related.user" => Source::RelatedUser,
        "related.ip" => Source::RelatedIp,
        "related.hosts" => Source::RelatedHosts,
        "user.email" => Source::UserEmail,
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

/// An enrichment step the compiled normalizer runs: the columns it reads are built first and
/// put on a small document, the step runs on it, and its columns are read back the way the
/// pipeline's columns are read from a document.
struct Enriching {
    step: Arc<dyn Enrich>,
    inputs: Vec<(&'static EcsField, Source)>,
    /// The step's columns (`outputs[k]` is column `at[k]` of the row).
    outputs: ColumnPlan,
    at: Vec<usize>,
}

/// The columns of a query, when every one of them has a compiled source.
pub(crate) struct CompiledPlan {
    /// The columns a record can fill, with their index in the row: not the ones that are
    /// always null (most of the ~500, for a full scan) nor `event.original`.
    cols: Vec<(usize, &'static EcsField, Source)>,
    enriching: Option<Enriching>,
    /// The index of `event.original` in `cols`, if read.
    original: Option<usize>,
    /// A column says whether the pipeline ran without an error (`event.kind`, `tags`,
    /// `error.message`): every record is checked for the pipeline's own errors.
    needs_clean_run: bool,
}

/// The columns the compiled normalizer builds (every ECS field has a source), in schema
/// order.
pub fn compiled_columns() -> Vec<&'static str> {
    crate::schema::ecs_fields()
        .iter()
        .filter(|f| source_of(&f.name).is_some())
        .map(|f| f.name.as_str())
        .collect()
}

/// A column's values the way the pipeline's final cleanup leaves them (no nulls, no empty
/// strings), converted as the full pipeline's extraction converts its leaves. Keyword and
/// text values that are all strings (nearly always) are moved into the cell, not copied:
/// the same sorted, de-duplicated set (keyword) or list (text) the conversion gives.
fn cell(field: &EcsField, values: Vec<Value>) -> Cell<'static> {
    use crate::schema::EsType;
    let keyword = match field.es_type {
        EsType::Keyword => true,
        EsType::Text => false,
        _ => return convert_kept(field, &values),
    };
    if !values.iter().all(|v| v.is_string() || v.is_null()) {
        return convert_kept(field, &values);
    }
    let mut v: Vec<String> = values
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        })
        .collect();
    if keyword {
        v.sort_unstable();
        v.dedup();
    }
    match (v.is_empty(), field.multi_valued) {
        (true, _) => Cell::Null,
        (false, true) => Cell::StrList(v),
        (false, false) => Cell::Str(Cow::Owned(v.swap_remove(0))),
    }
}

fn convert_kept(field: &EcsField, values: &[Value]) -> Cell<'static> {
    let kept: Vec<&Value> = values
        .iter()
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
        .collect();
    convert(field, &kept)
}

/// A `date` column's value, as epoch milliseconds (what converting the pipeline's
/// `yyyy-MM-ddTHH:mm:ss.SSSZ` string gives, without printing and parsing it).
fn date(field: &EcsField, millis: i64) -> Cell<'static> {
    debug_assert_eq!(field.es_type, crate::schema::EsType::Date);
    if field.multi_valued {
        Cell::I64List(vec![millis])
    } else {
        Cell::I64(millis)
    }
}

/// A column's one value (or none). A keyword or text value is the string itself, which is
/// what converting it gives; other types go through the conversion.
fn one<'t>(field: &EcsField, value: Option<Cow<'t, str>>) -> Cell<'t> {
    use crate::schema::EsType;
    match value {
        None => Cell::Null,
        Some(v) if v.is_empty() => Cell::Null,
        Some(v) => match (field.es_type, field.multi_valued) {
            (EsType::Keyword | EsType::Text, false) => Cell::Str(v),
            (EsType::Keyword | EsType::Text, true) => Cell::StrList(vec![v.into_owned()]),
            _ => convert(field, &[&Value::String(v.into_owned())]),
        },
    }
}

impl CompiledPlan {
    pub(crate) fn new(
        fields: &[&'static EcsField],
        enrich: Option<&Arc<dyn Enrich>>,
    ) -> Option<CompiledPlan> {
        let enriched = |f: &EcsField| enrich.is_some_and(|e| e.writes(&f.name));
        let cols = fields
            .iter()
            .map(|f| match enriched(f) {
                true => Some((*f, Source::Absent)),
                false => source_of(f.name.as_str()).map(|s| (*f, s)),
            })
            .collect::<Option<Vec<_>>>()?;
        let enriching = match enrich {
            Some(step) if fields.iter().any(|f| enriched(f)) => {
                let inputs = step
                    .reads()?
                    .into_iter()
                    .map(|name| {
                        let f = crate::schema::ecs_field(name)?;
                        Some((f, source_of(name)?))
                    })
                    .collect::<Option<Vec<_>>>()?;
                let (at, outputs): (Vec<usize>, Vec<&'static EcsField>) = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| enriched(f))
                    .map(|(i, f)| (i, *f))
                    .unzip();
                Some(Enriching {
                    step: Arc::clone(step),
                    inputs,
                    outputs: ColumnPlan::new(&outputs),
                    at,
                })
            }
            _ => None,
        };
        let needs_clean_run = fields
            .iter()
            .any(|f| matches!(f.name.as_str(), "event.kind" | "tags" | "error.message"));
        let original = cols.iter().position(|(_, s)| *s == Source::Original);
        // `event.original` is the record's text: the caller appends it from there
        // (`Self::original_column`), without a copy into a cell.
        let cols = cols
            .into_iter()
            .enumerate()
            .filter(|(_, (_, s))| !matches!(s, Source::Absent | Source::Original))
            .map(|(i, (f, s))| (i, f, s))
            .collect();
        Some(CompiledPlan {
            cols,
            original,
            enriching,
            needs_clean_run,
        })
    }

    /// The column that holds the record's own text (`event.original`), if read: it is left
    /// out of [`Self::extract`]'s row for the caller to append from the text it has.
    pub(crate) fn original_column(&self) -> Option<usize> {
        self.original
    }

    /// The row for `text` as its non-null cells (column, value) but `event.original`
    /// ([`Self::original_column`]), or `None` when the full pipeline must decide.
    pub(crate) fn extract<'t>(
        &self,
        text: &'t str,
        opts: &NormalizeOptions,
    ) -> Option<Vec<(usize, Cell<'t>)>> {
        let r: Record = serde_json::from_str(text).ok()?;
        if !r.has_event_version
            || r.unusual
            || r.event_type.as_deref() == Some("AwsCloudTrailInsight")
            || r.event_name.as_deref() == Some("ConsoleLogin")
            // `user.name` may come from additionalEventData (§2.6).
            || r.event_name.as_deref() == Some("UserAuthentication")
        {
            return None;
        }
        if r.user_identity.as_ref().is_some_and(|i| i.null) {
            return None;
        }
        let mut parts = Parts::new(&r);
        if self.needs_clean_run {
            parts.clean_run(opts).ok()?;
        }
        // Only the cells with a value: a record fills a few dozen of the columns.
        let mut row = Vec::with_capacity(64);
        for &(i, field, source) in &self.cols {
            match self.column(field, source, &mut parts, text, opts).ok()? {
                Cell::Null => {}
                cell => row.push((i, cell)),
            }
        }
        if let Some(e) = &self.enriching {
            let mut doc = serde_json::Map::new();
            for (field, source) in &e.inputs {
                // The step sees the document's string: for `source.ip` the address as the
                // record spells it (its column holds it normalized as an `ip` value); keyword
                // and text cells are the strings themselves.
                let value = match source {
                    Source::LiteralIp => literal_ip(parts.r).ok()?,
                    _ => match self.column(field, *source, &mut parts, text, opts).ok()? {
                        Cell::Null => None,
                        Cell::Str(v) => Some(v.into_owned()),
                        _ => return None,
                    },
                };
                if let Some(v) = value {
                    crate::normalize::ctx::set(&mut doc, &field.name, v.into())
                        .map_err(drop)
                        .ok()?;
                }
            }
            e.step.enrich(&mut doc);
            let cells = e.outputs.extract(&Value::Object(doc));
            for (i, cell) in e.at.iter().zip(cells) {
                if cell != Cell::Null {
                    row.push((*i, cell));
                }
            }
        }
        parts.check_unparsed().ok()?;
        Some(row)
    }

    fn column<'t>(
        &self,
        field: &EcsField,
        source: Source,
        parts: &mut Parts<'_, 't>,
        text: &'t str,
        opts: &NormalizeOptions,
    ) -> Decide<Cell<'t>> {
        let r = parts.r;
        let identity = r.user_identity.as_ref();
        let many = |values: Vec<Value>| cell(field, values);
        let value: Option<Cow<'t, str>> = match source {
            Source::Resource(renamed, original) => {
                // Each entry's value (`event::resources` renames the key; the dedup it does
                // keeps one entry per arn, account and type, so the set of values is the
                // same, and a multi-valued keyword is a sorted set).
                return Ok(many(parts.resource_values(renamed, original)?));
            }
            Source::EcsType => {
                // One or more values: the action's types, or `info`.
                let action = plain_cow(&r.event_name)?;
                let types: &[&str] = match action.as_deref().and_then(categorize::lookup) {
                    Some((_, types)) => types,
                    None => &["info"],
                };
                return Ok(many(
                    types.iter().map(|t| Value::String(t.to_string())).collect(),
                ));
            }
            Source::Tags => {
                return Ok(many(opts.tags.iter().cloned().map(Value::String).collect()))
            }
            Source::RelatedUser => return Ok(many(parts.related_user()?)),
            Source::RelatedIp => return Ok(many(parts.related_ip()?)),
            Source::RelatedHosts => return Ok(many(parts.related_hosts()?)),
            Source::Entity(path) => return Ok(many(parts.entity(opts, path)?)),
            Source::ReadOnly => return Ok(many(r.read_only.iter().cloned().collect())),
            Source::Addendum(key) => return Ok(many(parts.addendum(key)?.into_iter().collect())),
            Source::TlsProtocol => return Ok(many(parts.tls_version()?.0.into_iter().collect())),
            Source::TlsVersion => return Ok(many(parts.tls_version()?.1.into_iter().collect())),
            Source::Tls(key) => return Ok(many(parts.tls(key)?.into_iter().collect())),
            Source::Constant(v) => Some(Cow::Borrowed(v)),
            Source::Original => Some(Cow::Borrowed(text)), // (extract leaves it to the caller)
            Source::Created => match &opts.created {
                Some(created) => Some(Cow::Owned(created.clone())),
                None => return Ok(date(field, chrono::Utc::now().timestamp_millis())),
            },
            Source::EventKind => Some(Cow::Borrowed("event")),
            Source::Timestamp => {
                let t = plain_cow(&r.event_time)?.ok_or(())?;
                return Ok(date(
                    field,
                    time::parse_iso8601(&t).ok_or(())?.epoch_millis(),
                ));
            }
            Source::EventAction => plain_cow(&r.event_name)?,
            Source::EventProvider => plain_cow(&r.event_source)?,
            Source::CloudServiceName => plain_cow(&r.event_source)?.and_then(|s| {
                // dissect `%{cloud.service.name}.amazonaws.com`: up to the first occurrence.
                s.ends_with(".amazonaws.com").then(|| {
                    let end = s.find(".amazonaws.com").expect("suffix");
                    match s {
                        Cow::Borrowed(s) => Cow::Borrowed(&s[..end]),
                        Cow::Owned(s) => Cow::Owned(s[..end].to_string()),
                    }
                })
            }),
            Source::EventOutcome => {
                let failed =
                    plain_cow(&r.error_code)?.is_some() || plain_cow(&r.error_message)?.is_some();
                Some(Cow::Borrowed(if failed { "failure" } else { "success" }))
            }
            Source::EventId => plain_cow(&r.event_id)?,
            Source::CloudRegion => plain_cow(&r.aws_region)?,
            Source::IpAddress => plain_cow(&r.source_ip_address)?,
            Source::UserAgent => plain_cow(&r.user_agent)?,
            Source::ErrorCode => plain_cow(&r.error_code)?,
            Source::ErrorMessage => plain_cow(&r.error_message)?,
            Source::EventType => plain_cow(&r.event_type)?,
            Source::EventCategory => plain_cow(&r.event_category)?,
            Source::RecipientAccount => plain_cow(&r.recipient_account_id)?,
            Source::Top(f) => match f {
                TopField::EventVersion => plain_cow(&r.event_version)?,
                TopField::RequestId => plain_cow(&r.request_id)?,
                TopField::ApiVersion => plain_cow(&r.api_version)?,
                TopField::SharedEventId => match plain_cow(&r.shared_event_id)? {
                    Some(id) => Some(id),
                    None => plain_cow(&r.shared_event_id_alt)?,
                },
                TopField::VpcEndpointId => plain_cow(&r.vpc_endpoint_id)?,
                TopField::VpcEndpointAccountId => plain_cow(&r.vpc_endpoint_account_id)?,
            },
            Source::ManagementEvent => match &r.management_event {
                Some(Value::String(s)) if matches!(s.as_str(), "" | "-" | "none") => return Err(()),
                Some(v) => Some(Cow::Owned(crate::normalize::ctx::template(v))),
                None => None,
            },
            Source::IdentityType => identity.map(|i| plain_cow(&i.kind)).transpose()?.flatten(),
            Source::IdentityArn => identity.map(|i| plain_cow(&i.arn)).transpose()?.flatten(),
            Source::IdentityAccessKey => identity
                .map(|i| plain_cow(&i.access_key_id))
                .transpose()?
                .flatten(),
            Source::Absent => None,
            Source::OnBehalfOf if identity.is_some_and(|i| i.on_behalf_of) => return Err(()),
            Source::RareIdentity if identity.is_some_and(|i| i.rare) => return Err(()),
            Source::OnBehalfOf | Source::RareIdentity => None,
            Source::CreationDate => match identity {
                Some(i) => match plain_cow(&i.session.creation_date)? {
                    Some(d) => {
                        let t = time::parse_iso8601(&d).or_else(|| time::parse_basic(&d));
                        return Ok(date(field, t.ok_or(())?.epoch_millis()));
                    }
                    None => None,
                },
                None => None,
            },
            Source::EcsCategory => plain_cow(&r.event_name)?
                .as_deref()
                .and_then(categorize::lookup)
                .map(|(category, _)| Cow::Borrowed(category)),
            Source::CloudAccount => match identity
                .map(|i| plain_cow(&i.account_id))
                .transpose()?
                .flatten()
            {
                Some(id) => Some(id),
                None => plain_cow(&r.recipient_account_id)?,
            },
            Source::Payload(i) => parts
                .part(i)?
                .map(|v| Cow::Owned(crate::normalize::ctx::template(v))),
            Source::PayloadCopy(i, path) => match parts.part(i)? {
                Some(Value::Object(m)) => match crate::normalize::ctx::get(m, path) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(Value::String(s)) => Some(Cow::Owned(s.clone())),
                    // Copied as it is, whatever it is: the full pipeline decides.
                    Some(_) => return Err(()),
                },
                _ => None,
            },
            Source::FromConsole => plain_cow(&r.session_credential_from_console)?,
            Source::LiteralIp => literal_ip(r)?.map(Cow::Owned),
            Source::ServiceName => match identity.and_then(Identity::service_name) {
                Some(name) => plain_cow(&Some(Cow::Owned(name)))?,
                None => None,
            },
            Source::UserName => user_name(identity)?.map(Cow::Owned),
            Source::UserId => user_id(identity)?.map(Cow::Owned),
            Source::UserEmail => parts.user_email()?.map(Cow::Owned),
            Source::Identity(f) => match identity {
                Some(i) => plain_cow(match f {
                    IdentityField::InvokedBy => &i.invoked_by,
                    IdentityField::CredentialId => &i.credential_id,
                    IdentityField::IdentityProvider => &i.identity_provider,
                    IdentityField::MfaAuthenticated => &i.session.mfa_authenticated,
                    IdentityField::SourceIdentity => &i.session.source_identity,
                    IdentityField::IssuerType => &i.session.issuer_type,
                    IdentityField::IssuerArn => &i.session.issuer_arn,
                    IdentityField::IssuerAccountId => &i.session.issuer_account_id,
                    IdentityField::IssuerPrincipalId => &i.session.issuer_principal_id,
                    IdentityField::Ec2RoleDelivery => &i.session.ec2_role_delivery,
                    IdentityField::AssumedRoot => &i.session.assumed_root,
                    IdentityField::SignInSessionArn => &i.session.sign_in_session_arn,
                })?,
                None => None,
            },
        };
        // The same conversion the full pipeline's extraction applies to its leaves.
        Ok(one(field, value))
    }
}
