//! Helpers shared by the CLI test binaries (each `tests/*.rs` includes this module).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (the repository checkout).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the built `trailhunt` from the workspace root.
pub fn th(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailhunt"))
        .args(args)
        .current_dir(workspace())
        // Never the user's installed library: tests see the built-in hunts only.
        .env(
            "TRAILHUNT_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-library"),
        )
        // GeoIP and user-agent rules only from the files a test names, never the user's own
        // (TRAILHUNT_HOME above also hides an installed copy of the rules).
        .env_remove("TRAILHUNT_GEOIP")
        .env_remove("TRAILHUNT_ASN")
        .env_remove("TRAILHUNT_UA_REGEXES")
        .output()
        .expect("run trailhunt")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
