//! The seam for enrichment the integration gets from Elasticsearch itself rather than from its
//! pipeline logic: GeoIP (`source.geo.*`, `source.as.*`, from the `geoip` processor and
//! MaxMind databases) today, anything similar later.
//!
//! The implementation lives outside this crate: the `geoip` crate reads the databases the
//! user supplies (`--geoip`, `--asn`), because they are licensed separately and Elastic's
//! outputs depend on the exact database build — without them no GeoIP field is written, and
//! with the same databases the fields are the ones Elasticsearch writes. A caller passes one
//! in [`crate::ScanOptions::enrich`] or [`crate::DocumentOptions::enrich`].

use serde_json::{Map, Value};

/// One enrichment step. It runs after the pipeline on every normalized document (not on ECS
/// documents passed through, which were enriched when they were indexed), so it may read any
/// field the pipeline set, e.g. `source.ip`, and should only add fields.
pub trait Enrich: Send + Sync {
    fn enrich(&self, doc: &mut Map<String, Value>);

    /// Whether this step may write the column `name` (dotted ECS name). A scan whose
    /// columns are all ones the step never writes keeps its fast path, which reads a few
    /// top-level fields without running the pipeline (nor this step); the default, `true`,
    /// always runs it.
    fn writes(&self, name: &str) -> bool {
        let _ = name;
        true
    }
}
