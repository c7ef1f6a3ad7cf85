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
        .output()
        .expect("run trailhunt")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
