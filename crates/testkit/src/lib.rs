//! Test prerequisites, in one place for every crate's tests.
//!
//! Also [`mmdb`], a small MaxMind DB writer for GeoIP tests that build their own database.
//!
//! Some tests need things outside the repository: the shared test data beside the clone
//! (`../shared` from the workspace root: Elastic's fixtures, csv-spec files, real CloudTrail
//! sets, hunts), a JDK (the Java oracles) or Python modules (DuckDB, moto). Locally a missing
//! prerequisite skips the test with its reason written to stderr — directly, so libtest's
//! output capture does not hide it. With `TRAILHUNT_REQUIRE_SHARED=1` (set by `.ci/run`) a
//! missing prerequisite panics instead: CI never passes a test that did not run.
//!
//! ```text
//! let Some(dir) = testkit::require_shared("fixtures/cloudtrail-integration") else {
//!     return;
//! };
//! ```

pub mod mmdb;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable that turns skips into failures.
pub const REQUIRE_ENV: &str = "TRAILHUNT_REQUIRE_SHARED";

/// Whether missing prerequisites fail the test (`TRAILHUNT_REQUIRE_SHARED` set, not `0`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Reports a missing prerequisite: panics under `TRAILHUNT_REQUIRE_SHARED=1`, otherwise
/// writes `skipping: <reason>` to stderr (past libtest's capture) and lets the test return.
#[track_caller]
pub fn missing(reason: impl std::fmt::Display) {
    if required() {
        panic!("{REQUIRE_ENV}=1 and a test prerequisite is missing: {reason}");
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "skipping {test}: {reason}");
}

/// The workspace root (computed from this crate's manifest directory, not an absolute path).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .unwrap_or(here)
        .to_path_buf()
}

/// `../shared` beside the workspace root, whether or not it exists.
pub fn shared_root() -> PathBuf {
    workspace_root().join("../shared")
}

/// `../shared/<rel>` if it exists; otherwise [`missing`] (a skip, or a panic under
/// `TRAILHUNT_REQUIRE_SHARED=1`) and `None`.
#[track_caller]
pub fn require_shared(rel: &str) -> Option<PathBuf> {
    let p = shared_root().join(rel);
    if p.exists() {
        Some(p)
    } else {
        missing(format_args!("../shared/{rel} is absent ({})", p.display()));
        None
    }
}

/// Whether every tool in `tools` (e.g. `["java", "javac"]`) runs (`<tool> -version`);
/// otherwise [`missing`] and `false`.
#[track_caller]
pub fn require_java(tools: &[&str]) -> bool {
    for tool in tools {
        let ok = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            missing(format_args!("`{tool}` (a JDK) is not installed"));
            return false;
        }
    }
    true
}

/// A Python interpreter that imports every module in `modules`, or [`missing`] and `None`.
/// Never installs anything: `.ci/run` installs what the tests need.
#[track_caller]
pub fn require_python(modules: &[&str]) -> Option<String> {
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = Command::new(&py)
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(py)
    } else {
        missing(format_args!(
            "`{py}` cannot import {modules:?} (.ci/run installs them: see its pip line)"
        ));
        None
    }
}

/// A moto server (S3, STS, …) on 127.0.0.1 at a free port, killed on drop: the offline
/// stand-in for AWS in the `s3://` and credential tests.
pub struct Moto {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Moto {
    /// Starts `python -m moto.server` with extra environment variables (e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT=0` to make it check credentials); `None` and
    /// [`missing`] when it does not come up within 10 s.
    #[track_caller]
    pub fn start(python: &str, env: &[(&str, &str)]) -> Option<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free local port");
        let mut cmd = Command::new(python);
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let Ok(child) = cmd.spawn() else {
            missing(format_args!("cannot run `{python} -m moto.server`"));
            return None;
        };
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(moto);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        missing("the moto server did not start within 10 s");
        None
    }
}

/// Credentials for the local S3 server (moto accepts any), for a child's environment.
pub const MOTO_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
];

impl Moto {
    /// Uploads every file under `dir` to `bucket` (created if missing), each at
    /// `prefix` + its path relative to `dir`'s parent when `under_parent`, else to `dir`.
    #[track_caller]
    pub fn upload(&self, python: &str, bucket: &str, dir: &Path, prefix: &str, under_parent: bool) {
        let script = r#"
import boto3, os, sys
url, bucket, top, prefix, under_parent = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
root = os.path.dirname(top) if under_parent == "1" else top
for d, _, files in os.walk(top):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, bucket, prefix + os.path.relpath(p, root))
"#;
        let o = Command::new(python)
            .arg("-c")
            .arg(script)
            .arg(&self.url)
            .arg(bucket)
            .arg(dir)
            .arg(prefix)
            .arg(if under_parent { "1" } else { "0" })
            .output()
            .expect("run python");
        assert!(
            o.status.success(),
            "uploading {} to s3://{bucket}/{prefix}: {}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn a_missing_prerequisite_is_a_skip_or_a_panic() {
        let absent = "no/such/path/in/shared";
        if required() {
            assert!(std::panic::catch_unwind(|| require_shared(absent)).is_err());
        } else {
            assert_eq!(require_shared(absent), None);
        }
    }
}
