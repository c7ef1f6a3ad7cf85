//! CloudTrail input for trailhunt: reading log files in any of their shapes, normalizing each
//! record into the ECS document Elastic's `aws` integration (8.9.0) would index, and exposing the
//! result as Arrow batches with the field types ES|QL reports.
//!
//! * [`scan`] streams those files as Arrow batches (parallel, bounded memory, deterministic
//!   order), reporting every unusable input through [`Diagnostic`]s;
//! * [`normalize_record`] is the ECS pipeline for one record; [`normalize_input`] first works
//!   out what a value is (a record, a wrapped record, an ECS document already indexed, or
//!   nothing usable); [`for_each_document`] runs that over files (for `trailhunt normalize`);
//! * [`Enrich`] is the seam for GeoIP-like enrichment (the `geoip` crate implements it);
//! * [`ecs_fields`] / [`arrow_schema`] describe the columns.
//!
//! This crate knows nothing about ES|QL (the engine maps queries onto these columns) nor
//! about where files come from (the `sources` crate turns paths, globs and `s3://` prefixes
//! into the file lists it reads).

pub mod check_cache;
mod columns;
mod compiled;
mod diagnostic;
mod documents;
pub mod enrich;
pub mod errors;
mod files;
mod gunzip;
pub mod ip;
pub mod java_map;
pub mod limits;
pub mod normalize;
pub mod prefilter;
mod progress;
mod reader;
mod scan;
mod scan_stats;
mod schema;
mod shape;
#[doc(hidden)]
pub mod structure;

pub use check_cache::CheckCache;
pub use compiled::compiled_columns;
pub use documents::{for_each_document, DocumentOptions};
pub use enrich::Enrich;
pub use errors::ErrorLog;
pub use files::not_regular;
pub use limits::Limits;
pub use normalize::{
    normalize_record, pipeline_error_doc, sort_keys, NormalizeError, NormalizeOptions,
};
pub use prefilter::Prefilter;
pub use progress::{FileDone, ScanObserver};
pub use scan::{
    scan, Diagnostic, DiagnosticFn, DiagnosticKind, Scan, ScanCounts, ScanError, ScanOptions,
    ScanStats,
};
pub use schema::{
    arrow_field, arrow_schema, ecs_field, ecs_fields, resolve_columns, EcsField, EsType,
    UnknownColumn, ES_TYPE_METADATA_KEY,
};
pub use shape::normalize_input;

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::{Path, PathBuf};

    /// A scratch directory (a `tempfile::TempDir`, removed on drop) with file helpers.
    pub(crate) struct TempDir(tempfile::TempDir);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            let dir = tempfile::Builder::new()
                .prefix(&format!("cloudtrail-test-{tag}-"))
                .tempdir()
                .unwrap();
            TempDir(dir)
        }
        pub(crate) fn path(&self) -> &Path {
            self.0.path()
        }
        pub(crate) fn write_bytes(&self, rel: &str, bytes: &[u8]) -> PathBuf {
            let p = self.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
            p
        }
    }
}
