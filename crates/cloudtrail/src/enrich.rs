//! The seam for enrichment the integration gets from Elasticsearch itself rather than from its
//! pipeline logic: GeoIP (`source.geo.*`, `source.as.*`, from the `geoip` processor and
//! MaxMind databases) today, anything similar later.
//!
//! trailhunt ships no implementation: the databases are licensed separately and Elastic's
//! outputs depend on the exact database build, so a GeoIP step could never be "the same rows
//! as Elasticsearch" by default. A caller that has its own databases implements [`Enrich`]
//! and passes it in [`crate::ScanOptions::enrich`] or [`crate::DocumentOptions::enrich`].

use serde_json::{Map, Value};

/// One enrichment step. It runs after the pipeline on every normalized document (not on ECS
/// documents passed through, which were enriched when they were indexed), so it may read any
/// field the pipeline set, e.g. `source.ip`, and should only add fields.
pub trait Enrich: Send + Sync {
    fn enrich(&self, doc: &mut Map<String, Value>);
}
