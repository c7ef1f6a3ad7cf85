//! Elasticsearch's metadata fields, the names `FROM … METADATA …` accepts
//! (`MetadataAttribute` in ES), with their ES|QL types and whether trailhunt computes them.
//!
//! ES rejects any other name while parsing (`unsupported metadata field [_foo]`). Of the
//! names ES accepts, trailhunt computes `_index`, `_id` and `_version` (what Elastic's
//! detection rules read); the analyzer refuses the others with a position rather than
//! returning a column of nulls that would look like data.

use crate::types::DataType;

/// One metadata field ES knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataField {
    pub name: &'static str,
    /// The ES|QL type of the column (`_source` has ES's own `_source` type, which trailhunt
    /// has no use for: [`DataType::Unsupported`] here).
    pub ty: DataType,
    /// Whether trailhunt computes the field (the engine's datasets say how).
    pub computed: bool,
}

const fn field(name: &'static str, ty: DataType, computed: bool) -> MetadataField {
    MetadataField { name, ty, computed }
}

/// Every name ES accepts after `METADATA`.
pub const METADATA_FIELDS: &[MetadataField] = &[
    field("_index", DataType::Keyword, true),
    field("_id", DataType::Keyword, true),
    field("_version", DataType::Long, true),
    // A document's `_ignored` depends on which values ES's mapping dropped (`ignore_above`
    // on long keywords, malformed numbers): not something trailhunt reproduces.
    field("_ignored", DataType::Keyword, false),
    field("_source", DataType::Unsupported, false),
    // `standard` or `logsdb` depending on the ES version and cluster settings.
    field("_index_mode", DataType::Keyword, false),
    // Relevance of full-text functions (MATCH, QSTR), which trailhunt does not implement.
    field("_score", DataType::Double, false),
];

/// The metadata field called `name`, if ES has one.
pub fn metadata_field(name: &str) -> Option<&'static MetadataField> {
    METADATA_FIELDS.iter().find(|f| f.name == name)
}
