//! The seam for enrichment the integration gets from Elasticsearch itself rather than from its
//! pipeline logic: GeoIP (`source.geo.*`, `source.as.*`, from the `geoip` processor and
//! MaxMind databases) and the parsed user agent (`user_agent.*` but `original`, from the
//! `user_agent` processor and the uap-core rules Elasticsearch bundles).
//!
//! The implementations live outside this crate: the `geoip` crate reads the databases the
//! user supplies (`--geoip`, `--asn`), the `useragent` crate the rules file (`--ua-regexes`),
//! because they are licensed and versioned separately and Elastic's outputs depend on the
//! exact build — without them the fields are not written, and with the same files they are
//! the ones Elasticsearch writes. A caller passes one step (or a [`Chain`] of them) in
//! [`crate::ScanOptions::enrich`] or [`crate::DocumentOptions::enrich`].
//!
//! Both processors sit in the middle of the real pipeline (§2.7); running them after it gives
//! the same document because nothing later in the pipeline reads what they write, and a step
//! leaves out what the pipeline's final cleanup would drop (empty strings).

use std::sync::Arc;

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

/// Several steps run in order, as one.
pub struct Chain(pub Vec<Arc<dyn Enrich>>);

impl Chain {
    /// The steps given, as one step: `None` for none, the step itself for one.
    pub fn of(steps: Vec<Arc<dyn Enrich>>) -> Option<Arc<dyn Enrich>> {
        match steps.len() {
            0 => None,
            1 => steps.into_iter().next(),
            _ => Some(Arc::new(Chain(steps))),
        }
    }
}

impl Enrich for Chain {
    fn enrich(&self, doc: &mut Map<String, Value>) {
        for step in &self.0 {
            step.enrich(doc);
        }
    }

    fn writes(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.writes(name))
    }
}
