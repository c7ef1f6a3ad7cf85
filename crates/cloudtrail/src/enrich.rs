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
    /// columns are all ones the step never writes does not run it; the default, `true`,
    /// always runs it.
    fn writes(&self, name: &str) -> bool {
        let _ = name;
        true
    }

    /// The fields this step reads (dotted ECS names), when it reads only those: then the
    /// compiled normalizer builds them, runs the step on a document holding just them, and
    /// reads the step's columns back, instead of handing every record to the interpreted
    /// pipeline. `None` (the default): it may read anything the pipeline sets.
    fn reads(&self) -> Option<Vec<&'static str>> {
        None
    }

    /// The steps this one is made of (a [`Chain`]'s), so that [`for_columns`] can leave out
    /// the ones a scan does not need.
    fn parts(&self) -> Option<&[Arc<dyn Enrich>]> {
        None
    }
}

/// What of `step` a scan that builds only `columns` has to run: the steps that may write one
/// of them (`None` when none does). A step adds only fields its [`Enrich::writes`] admits, so
/// leaving the others out changes no column — and spares every record their work (a hunt that
/// reads no `user_agent.*` column pays nothing for the user-agent rules).
pub fn for_columns(step: &Arc<dyn Enrich>, columns: &[String]) -> Option<Arc<dyn Enrich>> {
    let needed = |s: &Arc<dyn Enrich>| columns.iter().any(|c| s.writes(c));
    match step.parts() {
        Some(parts) => Chain::of(parts.iter().filter(|s| needed(s)).cloned().collect()),
        None => needed(step).then(|| Arc::clone(step)),
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

    fn reads(&self) -> Option<Vec<&'static str>> {
        let mut all = vec![];
        for step in &self.0 {
            all.extend(step.reads()?);
        }
        Some(all)
    }

    fn parts(&self) -> Option<&[Arc<dyn Enrich>]> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `<prefix>.x` and counts its runs.
    struct Step(&'static str, std::sync::atomic::AtomicUsize);

    impl Enrich for Step {
        fn enrich(&self, doc: &mut Map<String, Value>) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            doc.insert(format!("{}.x", self.0), Value::Bool(true));
        }
        fn writes(&self, name: &str) -> bool {
            name.starts_with(self.0)
        }
    }

    #[test]
    fn scans_run_only_the_steps_their_columns_need() {
        let a: Arc<dyn Enrich> = Arc::new(Step("a", Default::default()));
        let b: Arc<dyn Enrich> = Arc::new(Step("b", Default::default()));
        let chain = Chain::of(vec![a.clone(), b.clone()]).unwrap();
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(for_columns(&chain, &cols(&["c.y", "event.action"])).is_none());
        assert!(for_columns(&a, &cols(&["b.x"])).is_none());
        let only_b = for_columns(&chain, &cols(&["b.x", "c"])).unwrap();
        let mut doc = Map::new();
        only_b.enrich(&mut doc);
        assert_eq!(doc.keys().collect::<Vec<_>>(), ["b.x"]);
        let both = for_columns(&chain, &cols(&["a.x", "b.x"])).unwrap();
        assert_eq!(both.parts().map(<[_]>::len), Some(2));
        assert!(Chain::of(vec![]).is_none());
        // A chain reads what its steps read, and may read anything if one of them may.
        struct Reads(&'static str);
        impl Enrich for Reads {
            fn enrich(&self, _: &mut Map<String, Value>) {}
            fn reads(&self) -> Option<Vec<&'static str>> {
                Some(vec![self.0])
            }
        }
        let r1: Arc<dyn Enrich> = Arc::new(Reads("source.ip"));
        let r2: Arc<dyn Enrich> = Arc::new(Reads("user_agent.original"));
        let known = Chain::of(vec![r1.clone(), r2]).unwrap();
        assert_eq!(
            known.reads(),
            Some(vec!["source.ip", "user_agent.original"])
        );
        assert_eq!(Chain::of(vec![r1, a.clone()]).unwrap().reads(), None);
        assert!(Chain::of(vec![a.clone()]).unwrap().parts().is_none());
    }
}
