//! The ECS fields of `logs-aws.cloudtrail-*` as ES|QL sees them, and their Arrow shape.
//!
//! The list encodes the field/type facts of the integration's mappings (178 rows; the one
//! `object` row, `container.labels`, is not a leaf field and ES|QL does not show it). Types are
//! mapped the way ES|QL reports them: `match_only_text` is `text`, `constant_keyword` is
//! `keyword`, and `flattened`/`geo_point` are `unsupported` (always null in results).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// An Elasticsearch field type as ES|QL names it in `columns[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EsType {
    Keyword,
    Text,
    Long,
    Boolean,
    Date,
    Ip,
    Unsupported,
}

impl EsType {
    /// The ES|QL type name (`"keyword"`, `"date"`, …), also stored as Arrow field metadata so
    /// the engine can render results with Elasticsearch's type names.
    pub fn name(&self) -> &'static str {
        match self {
            EsType::Keyword => "keyword",
            EsType::Text => "text",
            EsType::Long => "long",
            EsType::Boolean => "boolean",
            EsType::Date => "date",
            EsType::Ip => "ip",
            EsType::Unsupported => "unsupported",
        }
    }

    /// Arrow type of one value of this ES type.
    pub fn arrow_type(&self) -> DataType {
        match self {
            EsType::Keyword | EsType::Text | EsType::Ip | EsType::Unsupported => DataType::Utf8,
            EsType::Long => DataType::Int64,
            EsType::Boolean => DataType::Boolean,
            EsType::Date => DataType::Timestamp(TimeUnit::Millisecond, None),
        }
    }
}

/// One column of the CloudTrail data stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsField {
    /// Dotted ECS name, e.g. `aws.cloudtrail.user_identity.arn`.
    pub name: String,
    pub es_type: EsType,
    /// True for fields the pipeline always writes as arrays (spec §5.1); they become Arrow
    /// `List` columns so ES|QL multi-value semantics can be reproduced.
    pub multi_valued: bool,
}

/// Key of the Arrow field metadata entry holding [`EsType::name`].
pub const ES_TYPE_METADATA_KEY: &str = "es_type";

use EsType::*;
const M: bool = true;
const S: bool = false;

/// (name, type, multi-valued), sorted by name in byte order.
const FIELDS: &[(&str, EsType, bool)] = &[
    ("@timestamp", Date, S),
    ("actor.entity.id", Keyword, M),
    ("aws.cloudtrail.addendum.original_event_id", Keyword, S),
    ("aws.cloudtrail.addendum.original_request_id", Keyword, S),
    ("aws.cloudtrail.addendum.reason", Keyword, S),
    ("aws.cloudtrail.addendum.updated_fields", Keyword, S),
    ("aws.cloudtrail.additional_eventdata", Keyword, S),
    ("aws.cloudtrail.additional_eventdata.text", Text, S),
    ("aws.cloudtrail.api_version", Keyword, S),
    (
        "aws.cloudtrail.console_login.additional_eventdata.login_to",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.console_login.additional_eventdata.mfa_used",
        Boolean,
        S,
    ),
    (
        "aws.cloudtrail.console_login.additional_eventdata.mobile_version",
        Boolean,
        S,
    ),
    ("aws.cloudtrail.error_code", Keyword, S),
    ("aws.cloudtrail.error_message", Keyword, S),
    ("aws.cloudtrail.event_category", Keyword, S),
    ("aws.cloudtrail.event_type", Keyword, S),
    ("aws.cloudtrail.event_version", Keyword, S),
    (
        "aws.cloudtrail.flattened.additional_eventdata",
        Unsupported,
        S,
    ),
    ("aws.cloudtrail.flattened.digest", Unsupported, S),
    ("aws.cloudtrail.flattened.insight_details", Unsupported, S),
    (
        "aws.cloudtrail.flattened.request_parameters",
        Unsupported,
        S,
    ),
    ("aws.cloudtrail.flattened.response_elements", Unsupported, S),
    (
        "aws.cloudtrail.flattened.service_event_details",
        Unsupported,
        S,
    ),
    ("aws.cloudtrail.management_event", Keyword, S),
    ("aws.cloudtrail.read_only", Boolean, S),
    ("aws.cloudtrail.recipient_account_id", Keyword, S),
    ("aws.cloudtrail.request_id", Keyword, S),
    ("aws.cloudtrail.request_parameters", Keyword, S),
    ("aws.cloudtrail.request_parameters.text", Text, S),
    ("aws.cloudtrail.resources.account_id", Keyword, M),
    ("aws.cloudtrail.resources.arn", Keyword, M),
    ("aws.cloudtrail.resources.type", Keyword, M),
    ("aws.cloudtrail.response_elements", Keyword, S),
    ("aws.cloudtrail.response_elements.text", Text, S),
    ("aws.cloudtrail.service_event_details", Keyword, S),
    ("aws.cloudtrail.service_event_details.text", Text, S),
    ("aws.cloudtrail.session_credential_from_console", Keyword, S),
    ("aws.cloudtrail.shared_event_id", Keyword, S),
    ("aws.cloudtrail.tls_details.key_exchange", Keyword, S),
    ("aws.cloudtrail.user_identity.access_key_id", Keyword, S),
    ("aws.cloudtrail.user_identity.arn", Keyword, S),
    ("aws.cloudtrail.user_identity.credential_id", Keyword, S),
    ("aws.cloudtrail.user_identity.identity_provider", Keyword, S),
    (
        "aws.cloudtrail.user_identity.in_scope_of.credentials_issued_to",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.in_scope_of.issuer_type",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.in_scope_of.source_account",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.in_scope_of.source_arn",
        Keyword,
        S,
    ),
    ("aws.cloudtrail.user_identity.invoked_by", Keyword, S),
    (
        "aws.cloudtrail.user_identity.invoked_by_delegate.account_id",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.on_behalf_of.identity_store_arn",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.on_behalf_of.user_id",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.assumed_root",
        Boolean,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.creation_date",
        Date,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.ec2_role_delivery",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.session_issuer.type",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.sign_in_session_arn",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.source_identity",
        Keyword,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.web_id_federation_data.attributes",
        Unsupported,
        S,
    ),
    (
        "aws.cloudtrail.user_identity.session_context.web_id_federation_data.federated_provider",
        Keyword,
        S,
    ),
    ("aws.cloudtrail.user_identity.type", Keyword, S),
    ("aws.cloudtrail.vpc_endpoint_account_id", Keyword, S),
    ("aws.cloudtrail.vpc_endpoint_id", Keyword, S),
    ("aws.s3.bucket.arn", Keyword, S),
    ("aws.s3.bucket.name", Keyword, S),
    ("aws.s3.metadata", Unsupported, S),
    ("aws.s3.object.key", Keyword, S),
    ("cloud.account.id", Keyword, S),
    ("cloud.availability_zone", Keyword, S),
    ("cloud.image.id", Keyword, S),
    ("cloud.instance.id", Keyword, S),
    ("cloud.instance.name", Keyword, S),
    ("cloud.machine.type", Keyword, S),
    ("cloud.project.id", Keyword, S),
    ("cloud.provider", Keyword, S),
    ("cloud.region", Keyword, S),
    ("cloud.service.name", Keyword, S),
    ("container.id", Keyword, S),
    ("container.image.name", Keyword, S),
    ("container.name", Keyword, S),
    ("data_stream.dataset", Keyword, S),
    ("data_stream.namespace", Keyword, S),
    ("data_stream.type", Keyword, S),
    ("ecs.version", Keyword, S),
    ("entity.id", Keyword, M),
    ("entity.target.id", Keyword, M),
    ("error.message", Text, M),
    ("event.action", Keyword, S),
    ("event.category", Keyword, M),
    ("event.created", Date, S),
    ("event.dataset", Keyword, S),
    ("event.id", Keyword, S),
    ("event.ingested", Date, S),
    ("event.kind", Keyword, S),
    ("event.module", Keyword, S),
    ("event.original", Keyword, S),
    ("event.outcome", Keyword, S),
    ("event.provider", Keyword, S),
    ("event.type", Keyword, M),
    ("file.hash.md5", Keyword, S),
    ("file.hash.sha1", Keyword, S),
    ("file.hash.sha256", Keyword, S),
    ("file.hash.sha512", Keyword, S),
    ("file.path", Keyword, S),
    ("file.path.text", Text, S),
    ("group.id", Keyword, S),
    ("group.name", Keyword, S),
    ("host.architecture", Keyword, S),
    ("host.containerized", Boolean, S),
    ("host.domain", Keyword, S),
    ("host.entity.id", Keyword, M),
    ("host.hostname", Keyword, S),
    ("host.id", Keyword, S),
    ("host.ip", Ip, M),
    ("host.mac", Keyword, M),
    ("host.name", Keyword, S),
    ("host.os.build", Keyword, S),
    ("host.os.codename", Keyword, S),
    ("host.os.family", Keyword, S),
    ("host.os.kernel", Keyword, S),
    ("host.os.name", Keyword, S),
    ("host.os.name.text", Text, S),
    ("host.os.platform", Keyword, S),
    ("host.os.version", Keyword, S),
    ("host.target.entity.id", Keyword, M),
    ("host.target.id", Keyword, M),
    ("host.type", Keyword, S),
    ("related.entity", Keyword, M),
    ("related.hash", Keyword, M),
    ("related.hosts", Keyword, M),
    ("related.ip", Ip, M),
    ("related.user", Keyword, M),
    ("service.entity.id", Keyword, M),
    ("service.name", Keyword, S),
    ("service.target.entity.id", Keyword, M),
    ("source.address", Keyword, S),
    ("source.as.number", Long, S),
    ("source.as.organization.name", Keyword, S),
    ("source.as.organization.name.text", Text, S),
    ("source.geo.city_name", Keyword, S),
    ("source.geo.continent_name", Keyword, S),
    ("source.geo.country_iso_code", Keyword, S),
    ("source.geo.country_name", Keyword, S),
    ("source.geo.location", Unsupported, S),
    ("source.geo.region_iso_code", Keyword, S),
    ("source.geo.region_name", Keyword, S),
    ("source.ip", Ip, S),
    ("tags", Keyword, M),
    ("target.entity.id", Keyword, M),
    ("tls.cipher", Keyword, S),
    ("tls.client.server_name", Keyword, S),
    ("tls.version", Keyword, S),
    ("tls.version_protocol", Keyword, S),
    ("user.changes.name", Keyword, S),
    ("user.changes.name.text", Text, S),
    ("user.email", Keyword, S),
    ("user.entity.id", Keyword, M),
    ("user.id", Keyword, S),
    ("user.name", Keyword, S),
    ("user.name.text", Text, S),
    ("user.target.entity.id", Keyword, M),
    ("user.target.id", Keyword, S),
    ("user.target.name", Keyword, S),
    ("user.target.name.text", Text, S),
    ("user_agent.device.name", Keyword, S),
    ("user_agent.name", Keyword, S),
    ("user_agent.original", Keyword, S),
    ("user_agent.original.text", Text, S),
    ("user_agent.os.full", Keyword, S),
    ("user_agent.os.full.text", Text, S),
    ("user_agent.os.name", Keyword, S),
    ("user_agent.os.name.text", Text, S),
    ("user_agent.os.version", Keyword, S),
    ("user_agent.version", Keyword, S),
];

/// `constant_keyword` fields: the mapping supplies the value for every document of the data
/// stream `logs-aws.cloudtrail-default`, so ES|QL returns it although the pipeline never writes
/// it.
pub(crate) const CONSTANTS: &[(&str, &str)] = &[
    ("data_stream.dataset", "aws.cloudtrail"),
    ("data_stream.namespace", "default"),
    ("data_stream.type", "logs"),
    ("event.dataset", "aws.cloudtrail"),
    ("event.module", "aws"),
];

/// Every field `FROM logs-aws.cloudtrail*` shows, sorted by name (byte order).
pub fn ecs_fields() -> &'static [EcsField] {
    static ALL: OnceLock<Vec<EcsField>> = OnceLock::new();
    ALL.get_or_init(|| {
        FIELDS
            .iter()
            .map(|&(name, es_type, multi_valued)| EcsField {
                name: name.to_string(),
                es_type,
                multi_valued,
            })
            .collect()
    })
}

/// Looks a field up by its dotted name.
pub fn ecs_field(name: &str) -> Option<&'static EcsField> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        ecs_fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect()
    });
    index.get(name).map(|&i| &ecs_fields()[i])
}

/// The Arrow field for an ECS field: nullable, `List<item>` when multi-valued, with the ES type
/// name in metadata under [`ES_TYPE_METADATA_KEY`].
pub fn arrow_field(f: &EcsField) -> Field {
    let inner = f.es_type.arrow_type();
    let data_type = if f.multi_valued {
        DataType::List(Arc::new(Field::new("item", inner, true)))
    } else {
        inner
    };
    Field::new(&f.name, data_type, true).with_metadata(HashMap::from([(
        ES_TYPE_METADATA_KEY.to_string(),
        f.es_type.name().to_string(),
    )]))
}

/// A requested column that is not a CloudTrail field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown column [{0}]")]
pub struct UnknownColumn(pub String);

/// Resolves a projection (None = all columns, in [`ecs_fields`] order) to the fields.
pub fn resolve_columns(
    columns: Option<&[String]>,
) -> Result<Vec<&'static EcsField>, UnknownColumn> {
    match columns {
        None => Ok(ecs_fields().iter().collect()),
        Some(cols) => cols
            .iter()
            .map(|c| ecs_field(c).ok_or_else(|| UnknownColumn(c.clone())))
            .collect(),
    }
}

/// The Arrow schema of a scan with this projection; columns keep the requested order.
pub fn arrow_schema(columns: Option<&[String]>) -> Result<SchemaRef, UnknownColumn> {
    let fields = resolve_columns(columns)?;
    Ok(Arc::new(Schema::new(
        fields.into_iter().map(arrow_field).collect::<Vec<_>>(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        let f = ecs_fields();
        assert_eq!(f.len(), 177);
        for w in f.windows(2) {
            assert!(w[0].name.as_bytes() < w[1].name.as_bytes(), "{}", w[1].name);
        }
        assert_eq!(f[0].name, "@timestamp");
    }

    #[test]
    fn arrow_shapes() {
        let tags = arrow_field(ecs_field("tags").unwrap());
        assert!(matches!(tags.data_type(), DataType::List(_)));
        assert_eq!(tags.metadata()["es_type"], "keyword");
        let ts = arrow_field(ecs_field("@timestamp").unwrap());
        assert_eq!(
            ts.data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        let ip = arrow_field(ecs_field("source.ip").unwrap());
        assert_eq!(ip.data_type(), &DataType::Utf8);
        assert_eq!(ip.metadata()["es_type"], "ip");
        assert!(ip.is_nullable());
        let geo = ecs_field("source.geo.location").unwrap();
        assert_eq!(geo.es_type, EsType::Unsupported);
        assert_eq!(ecs_field("error.message").unwrap().es_type, EsType::Text);
        assert_eq!(ecs_field("event.module").unwrap().es_type, EsType::Keyword);
    }

    #[test]
    fn projection() {
        let cols = vec!["event.action".to_string(), "@timestamp".to_string()];
        let s = arrow_schema(Some(&cols)).unwrap();
        assert_eq!(s.field(0).name(), "event.action");
        assert_eq!(s.field(1).name(), "@timestamp");
        let bad = vec!["nope".to_string()];
        assert_eq!(
            arrow_schema(Some(&bad)).unwrap_err().to_string(),
            "Unknown column [nope]"
        );
        assert_eq!(arrow_schema(None).unwrap().fields().len(), 177);
    }

    #[test]
    fn matches_shared_tsv() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/ecs/cloudtrail-fields.tsv"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            println!("skipping: {path} not found");
            return;
        };
        let mut names = Vec::new();
        for line in text.lines().skip(1) {
            let (name, ty) = line.split_once('\t').unwrap();
            if ty == "object" {
                continue;
            }
            let f = ecs_field(name).unwrap_or_else(|| panic!("missing {name}"));
            let want = match ty {
                "keyword" | "constant_keyword" => Keyword,
                "text" | "match_only_text" => Text,
                "long" => Long,
                "boolean" => Boolean,
                "date" => Date,
                "ip" => Ip,
                "flattened" | "geo_point" => Unsupported,
                other => panic!("unexpected type {other}"),
            };
            assert_eq!(f.es_type, want, "{name}");
            names.push(name);
        }
        assert_eq!(names.len(), ecs_fields().len());
    }
}
