//! The ECS normalizer: one CloudTrail record in, the document Elastic's `aws` integration
//! (8.9.0 pipeline) would index out.
//!
//! The steps run in pipeline order because later steps read what earlier ones left (renames
//! move values out of the parsed record, so e.g. `related.user` order depends on it). Each
//! submodule owns one part of the mapping spec (`docs/ecs-cloudtrail-mapping.md`):
//! identity (§2.5), event basics and top-level fields (§2.6–2.8, 2.10–2.11), payload strings
//! and retain modes (§2.9, 2.15), categorisation (§2.11.3), digest/insight/TLS and user/group
//! helpers (§2.12–2.13), `related.*` (§2.14) and entity enrichment (§4).
//!
//! The ingest document is kept as one JSON object that holds the parsed record under `json`,
//! exactly like the pipeline's `ctx`, so each step can be written against the same paths the
//! pipeline uses and the two cleanups walk the same tree Elasticsearch walks.

pub(crate) mod categorize;
pub(crate) mod cleanup;
pub(crate) mod ctx;
pub(crate) mod entity;
mod event;
mod extras;
pub(crate) use extras::DIGEST_INPUTS;
pub(crate) mod identity;
mod payload;
mod related;
pub mod time;

use serde_json::{Map, Value};

use crate::java_map;
use ctx::Obj;

/// The name Fleet gives the installed pipeline; it appears in `error.message`.
pub(crate) const PIPELINE: &str = "logs-aws.cloudtrail-8.9.0";
/// Hard-coded by the pipeline.
pub const ECS_VERSION: &str = "8.11.0";

/// How the integration is configured, i.e. what the agent puts on each event before the
/// pipeline runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// The agent's read time, which becomes `event.created` (and `@timestamp` of records without
    /// `eventTime`). `None` = now. Tests pin it to `2021-11-11T01:02:03.123456789Z`.
    pub created: Option<String>,
    /// The stream tags. `actor_target_mapping` turns on entity enrichment;
    /// `preserve_original_event` is informational here (8.9.0 keeps `event.original` anyway).
    pub tags: Vec<String>,
    /// `_conf.retain`: `all` | `keyword` | `flattened` | `minimal` | `none`; `None` acts as `all`.
    pub retain: Option<String>,
}

impl Default for NormalizeOptions {
    /// The integration's stream defaults (`forwarded`, `aws-cloudtrail`) plus entity mapping,
    /// which Elastic's own tests and published deployments turn on; retain unset (= `all`).
    fn default() -> Self {
        NormalizeOptions {
            created: None,
            tags: vec![
                "forwarded".into(),
                "aws-cloudtrail".into(),
                "actor_target_mapping".into(),
            ],
            retain: None,
        }
    }
}

/// What the normalized document is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// The whole document Elasticsearch would index (`trailhunt normalize`, fixtures).
    Document,
    /// Only what Arrow columns are built from: the `aws.cloudtrail.flattened.*` copies of
    /// the payloads are left out. They are `flattened` fields, which ES|QL cannot read (always
    /// null columns), and copying the parsed payloads was a large share of the pipeline.
    /// Nothing else in the pipeline reads them, so every column is the same
    /// (`tests/it/compiled.rs` checks this on every real record).
    Columns,
}

/// A record the pipeline cannot turn into a CloudTrail document. (Elasticsearch would index a
/// near-empty `pipeline_error` document for these; see [`pipeline_error_doc`].)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// Position is 1-based within the record text.
    #[error("invalid JSON: {message}")]
    InvalidJson {
        line: u64,
        column: u64,
        message: String,
    },
    #[error("record is not a JSON object (found {found})")]
    NotAnObject { found: &'static str },
    /// A JSON object that is no CloudTrail record, ECS document or known wrapper of one.
    /// Indexing it would give an event with no fields, so it is reported instead.
    #[error("not a CloudTrail record: {reason}")]
    NotCloudTrail { reason: String },
}

/// A processor failure. Steps with their own `on_failure` turn it into an `error.message` entry
/// and carry on; others abort the pipeline like Elasticsearch's pipeline-level handler.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    processor: &'static str,
    tag: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Failure {
            processor: "script",
            tag: "",
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, processor: &'static str, tag: &'static str) -> Self {
        self.processor = processor;
        self.tag = tag;
        self
    }

    fn render(&self) -> String {
        format!(
            "Processor {} with tag {} in pipeline {} failed with message: {}",
            self.processor, self.tag, PIPELINE, self.message
        )
    }
}

/// Records a handled failure the way the processors' `on_failure` blocks do.
pub(crate) fn append_error(doc: &mut Obj, failure: &Failure) {
    // error.message is a list; a set failure here is impossible (error is ours).
    let _ = ctx::append_unique(doc, "error.message", Value::String(failure.render()));
}

/// Normalizes one record's JSON text into the ECS document the integration would index.
///
/// `original_text` is the record exactly as delivered (it becomes `event.original`). An empty
/// or blank text yields the pipeline's near-empty document. Bad dates do not fail: like
/// Elasticsearch, the document comes back with `event.kind: pipeline_error` and `error.message`.
pub fn normalize_record(
    original_text: &str,
    opts: &NormalizeOptions,
) -> Result<Value, NormalizeError> {
    let json = parse_record(original_text)?;
    Ok(normalize_parsed(
        original_text,
        json,
        opts,
        None,
        Output::Document,
    ))
}

/// The pipeline over an already parsed record (`json` from [`parse_record`]). `event_time`
/// stands in for a missing `eventTime` (see [`crate::shape`] for the one input shape that has
/// one); the pipeline itself never looks anywhere else for a time.
pub(crate) fn normalize_parsed(
    original_text: &str,
    json: Option<Value>,
    opts: &NormalizeOptions,
    event_time: Option<time::Instant>,
    output: Output,
) -> Value {
    let created = opts.created.clone().unwrap_or_else(time::now_string);
    let mut doc = framing(original_text, &created, opts);
    if let Some(t) = event_time {
        doc.insert("@timestamp".into(), Value::String(t.to_es_string()));
    }
    if let Some(json) = json {
        doc.insert("json".into(), json);
    }
    let _ = ctx::set(&mut doc, "ecs.version", Value::String(ECS_VERSION.into()));
    match run(&mut doc, output) {
        Ok(()) => finalize(&mut doc),
        Err(failure) => pipeline_failed(&mut doc, &failure),
    }
    Value::Object(doc)
}

/// The document Elasticsearch indexes when the record is not valid JSON (the `json` processor
/// fails and the pipeline-level handler runs). For callers that want Elastic's behaviour rather
/// than a rejection.
pub fn pipeline_error_doc(original_text: &str, opts: &NormalizeOptions, message: &str) -> Value {
    let created = opts.created.clone().unwrap_or_else(time::now_string);
    let mut doc = framing(original_text, &created, opts);
    let failure = Failure::new(message).at("json", "json_event_original_to_json_5e54dc16");
    pipeline_failed(&mut doc, &failure);
    Value::Object(doc)
}

pub(crate) fn parse_record(text: &str) -> Result<Option<Value>, NormalizeError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Elasticsearch built every object as a HashMap; everything downstream (toString, cleanup)
    // sees that order.
    let v: Value =
        java_map::from_str_java_ordered(text).map_err(|e| NormalizeError::InvalidJson {
            line: e.line() as u64,
            column: e.column() as u64,
            message: strip_position(&e.to_string()),
        })?;
    if !v.is_object() {
        return Err(NormalizeError::NotAnObject {
            found: json_kind(&v),
        });
    }
    Ok(Some(v))
}

/// serde_json appends " at line L column C"; diagnostics print the position themselves.
pub(crate) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// §2.1: what the agent and the first processors put on every document.
fn framing(text: &str, created: &str, opts: &NormalizeOptions) -> Obj {
    // Room for the document's usual top-level keys and `event.*` (see ctx::set).
    let mut doc = Map::with_capacity(24);
    doc.insert("@timestamp".into(), Value::String(created.into()));
    let mut event = Map::with_capacity(16);
    event.insert("original".into(), Value::String(text.into()));
    event.insert("created".into(), Value::String(created.into()));
    doc.insert("event".into(), Value::Object(event));
    doc.insert(
        "tags".into(),
        Value::Array(opts.tags.iter().cloned().map(Value::String).collect()),
    );
    if let Some(retain) = &opts.retain {
        let mut conf = Map::new();
        conf.insert("retain".into(), Value::String(retain.clone()));
        doc.insert("_conf".into(), Value::Object(conf));
    }
    doc
}

/// The pipeline body, in order. Returns a failure that aborts the pipeline.
fn run(doc: &mut Obj, output: Output) -> Result<(), Failure> {
    event::timestamp(doc);
    // Cleanup #1: _conf is set aside so `retain: none` survives.
    let conf = doc.shift_remove("_conf");
    cleanup::clean_map(doc, cleanup::Pass::First);
    if let Some(conf) = conf {
        doc.insert("_conf".into(), conf);
    }
    if has_tag(doc, "actor_target_mapping") && ctx::has(doc, "json.eventName") {
        if let Err(f) = entity::enrich(doc) {
            let _ = ctx::append_unique(doc, "tags", "preserve_original_event".into());
            append_error(
                doc,
                &f.at("script", "script_append_related_entity_31dc3369"),
            );
        }
    }
    identity::map_identity(doc)?;
    event::basics(doc)?;
    event::source_and_agent(doc)?;
    payload::strings(doc, output);
    event::top_level(doc)?;
    related::first_users(doc)?;
    event::console_login(doc);
    categorize::categorize(doc);
    extras::digest(doc)?;
    related::user_group_helpers(doc)?;
    extras::move_digest_and_insight(doc)?;
    extras::tls(doc)?;
    related::remaining(doc)?;
    payload::retain(doc);
    Ok(())
}

fn has_tag(doc: &Obj, tag: &str) -> bool {
    matches!(doc.get("tags"), Some(Value::Array(t)) if t.iter().any(|v| v.as_str() == Some(tag)))
}

/// §2.16: drop scratch objects, cleanup #2, flag errors.
fn finalize(doc: &mut Obj) {
    for k in ["json", "_conf", "_tmp"] {
        doc.shift_remove(k);
    }
    cleanup::clean_map(doc, cleanup::Pass::Final);
    if ctx::has(doc, "error.message") {
        let _ = ctx::set(doc, "event.kind", "pipeline_error".into());
        let _ = ctx::append_unique(doc, "tags", "preserve_original_event".into());
    }
}

/// The pipeline-level `on_failure`: no cleanup #2, remaining steps skipped.
fn pipeline_failed(doc: &mut Obj, failure: &Failure) {
    append_error(doc, failure);
    let _ = ctx::set(doc, "event.kind", "pipeline_error".into());
    let _ = ctx::append_unique(doc, "tags", "preserve_original_event".into());
    for k in ["json", "_conf", "_tmp"] {
        doc.shift_remove(k);
    }
}

/// Sorts object keys recursively (byte order), for stable, readable output such as
/// `trailhunt normalize`. The pipeline's own key order carries no meaning.
pub fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.values_mut().for_each(sort_keys);
            map.sort_keys();
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
