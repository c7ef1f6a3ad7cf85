//! Integration tests of the `cloudtrail` crate (one test binary, several modules).
//!
//! Conformance tests read `../shared` (Elastic's pipeline fixtures, real data sets, the JDK
//! oracle) through `testkit::require_shared`: a skip with its reason on stderr when absent, a
//! failure under `TRAILHUNT_REQUIRE_SHARED=1`.

mod accounting;
mod compiled;
mod dissect;
mod fixtures;
mod geo;
mod hostile;
mod java_oracle;
mod parse_order;
mod progress;
mod real_data;
mod scanning;

use std::path::PathBuf;

/// `../shared/<rel>` (from the workspace root), or a skip reason on stderr — a failure under
/// `TRAILHUNT_REQUIRE_SHARED=1` (see `testkit`).
#[track_caller]
pub fn shared(rel: &str) -> Option<PathBuf> {
    testkit::require_shared(rel)
}
