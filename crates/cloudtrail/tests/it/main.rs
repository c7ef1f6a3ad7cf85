//! Integration tests of the `cloudtrail` crate (one test binary, several modules).
//!
//! Conformance tests read `../shared` (Elastic's pipeline fixtures, real data sets, the JDK
//! oracle) and skip with a printed reason when it is absent.

mod dissect;
mod fast_path;
mod fixtures;
mod java_oracle;
mod parse_order;
mod real_data;
mod scanning;

use std::path::PathBuf;

/// `/work/shared` (i.e. `../shared` from the workspace root), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// The shared sub-directory, or a printed skip reason.
pub fn shared(rel: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(d) if d.join(rel).exists() => Some(d.join(rel)),
        _ => {
            println!("skipping: ../shared/{rel} is not available");
            None
        }
    }
}
