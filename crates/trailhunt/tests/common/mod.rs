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
        // GeoIP only from the databases a test names, never the user's own.
        .env_remove("TRAILHUNT_GEOIP")
        .env_remove("TRAILHUNT_ASN")
        .output()
        .expect("run trailhunt")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
