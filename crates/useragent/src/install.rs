//! `trailhunt ua update`: installing uap-core's `regexes.yaml` — at the commit Elasticsearch
//! bundles, verified by its SHA-256 — into the user's data directory, where every command
//! finds it when no `--ua-regexes` is given.
//!
//! The copy is pinned, not "latest": Elasticsearch's values come from this exact file (later
//! uap-core commits name `aws-sdk-go-v2` clients differently, earlier ones leave trailing dots
//! in versions), so anything else would give values no cluster has. A download whose hash
//! differs is refused, whatever its source. The file is written next to its final place and
//! renamed over it, so a reader sees the old copy or the new one, never half of one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{UaError, UaParser};

/// uap-core's commit that Elasticsearch's `regexes.yml` comes from (elastic/elasticsearch
/// PR #108906; 2024-04-23, "fix missing and extra `patch_minor` in ua tests").
pub const COMMIT: &str = "cd5291016e6764b509776ad4206cff1c8b035280";

/// SHA-256 of `regexes.yaml` at [`COMMIT`] (207,034 bytes; git blob 14412307b195).
pub const SHA256: &str = "29a67c1779a2758047fabee34e2d4e23eb9d00f83ae564f7e90f9e24d23ae1e5";

/// The file at [`COMMIT`], as GitHub serves raw files.
pub const DEFAULT_URL: &str = "https://raw.githubusercontent.com/ua-parser/uap-core/cd5291016e6764b509776ad4206cff1c8b035280/regexes.yaml";

/// The real file is 200 kB; a response this large is not it.
const MAX_BYTES: usize = 16 << 20;

/// Where the installed copy lives: `<home>/uap/regexes.yaml`.
pub fn installed_path(home: &Path) -> PathBuf {
    home.join("uap").join("regexes.yaml")
}

/// The installed copy, if there is one.
pub fn installed(home: &Path) -> Option<PathBuf> {
    let p = installed_path(home);
    p.is_file().then_some(p)
}

/// Where an update reads the file from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `http://` or `https://` URL.
    Url(String),
    /// A local copy (e.g. from a machine without network access); checked like a download.
    File(PathBuf),
}

impl Source {
    /// A URL by its scheme, anything else a path.
    pub fn parse(s: &str) -> Source {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::Url(s.to_string())
        } else {
            Source::File(PathBuf::from(s))
        }
    }

    fn origin(&self) -> String {
        match self {
            Source::Url(u) => u.clone(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

impl Default for Source {
    fn default() -> Self {
        Source::Url(DEFAULT_URL.to_string())
    }
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct Installed {
    pub path: PathBuf,
    /// Where the bytes came from (`None`: the installed copy was already this file).
    pub source: Option<String>,
    /// Rules per section: user agent, OS, device.
    pub rules: [usize; 3],
}

/// Why an update failed; every variant names the URL or file. The installed copy, if any,
/// is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{url}: HTTP status {status}")]
    HttpStatus {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("{url}: download failed: {source}")]
    Download {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{origin}: more than {MAX_BYTES} bytes; not uap-core's regexes.yaml")]
    TooLarge { origin: String },
    #[error("{origin}: SHA-256 is {got}, not {SHA256} (uap-core's regexes.yaml at {COMMIT}); refusing to install it. To use another rules file, pass it with --ua-regexes.")]
    Checksum { origin: String, got: String },
    #[error(transparent)]
    Rules(#[from] UaError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Installs the pinned file from `source` into `home` (see the module docs). When the
/// installed copy already has the pinned hash nothing is fetched.
pub fn update(source: &Source, home: &Path) -> Result<Installed, InstallError> {
    let dest = installed_path(home);
    if let Ok(bytes) = fs::read(&dest) {
        if sha256_hex(&bytes) == SHA256 {
            let parser = UaParser::from_yaml(&String::from_utf8_lossy(&bytes), &dest)?;
            return Ok(Installed {
                path: dest,
                source: None,
                rules: parser.rule_counts(),
            });
        }
    }
    let origin = source.origin();
    let bytes = match source {
        Source::Url(url) => download(url)?,
        Source::File(path) => {
            let meta = fs::metadata(path).map_err(io_err(path))?;
            if meta.len() > MAX_BYTES as u64 {
                return Err(InstallError::TooLarge { origin });
            }
            fs::read(path).map_err(io_err(path))?
        }
    };
    let got = sha256_hex(&bytes);
    if got != SHA256 {
        return Err(InstallError::Checksum { origin, got });
    }
    // The right bytes parse (checked here anyway: a failure would be a bug worth hearing of
    // before the file is in place).
    let text = String::from_utf8_lossy(&bytes);
    let parser = UaParser::from_yaml(&text, Path::new(&origin))?;
    let dir = dest.parent().expect("installed_path has a parent");
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".regexes.yaml.")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(&bytes).map_err(io_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err(&dest))?;
    tmp.persist(&dest).map_err(|e| InstallError::Io {
        path: dest.clone(),
        source: e.error,
    })?;
    Ok(Installed {
        path: dest,
        source: Some(origin),
        rules: parser.rule_counts(),
    })
}

/// GETs `url` into memory, on a thread of its own (the caller may be inside a runtime).
fn download(url: &str) -> Result<Vec<u8>, InstallError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| InstallError::Io {
                    path: PathBuf::from(url),
                    source,
                })?;
            rt.block_on(fetch(url))
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

async fn fetch(url: &str) -> Result<Vec<u8>, InstallError> {
    let failed = |source| InstallError::Download {
        url: url.to_string(),
        source,
    };
    let mut client = reqwest::Client::builder()
        .user_agent(concat!("trailhunt/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60));
    if is_loopback(url) {
        // A local mirror (and the tests) must not go through HTTP(S)_PROXY.
        client = client.no_proxy();
    }
    let client = client.build().map_err(failed)?;
    let mut resp = client.get(url).send().await.map_err(failed)?;
    if !resp.status().is_success() {
        return Err(InstallError::HttpStatus {
            url: url.to_string(),
            status: resp.status(),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(InstallError::TooLarge {
                origin: url.to_string(),
            });
        }
    }
    Ok(body)
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_loopback() {
        assert_eq!(
            Source::parse("HTTPS://x/y"),
            Source::Url("HTTPS://x/y".into())
        );
        assert_eq!(Source::parse("r.yaml"), Source::File("r.yaml".into()));
        assert!(is_loopback("http://127.0.0.1:8080/r.yaml"));
        assert!(is_loopback("http://[::1]:80/r"));
        assert!(is_loopback("http://localhost/r"));
        assert!(!is_loopback(DEFAULT_URL));
        assert!(DEFAULT_URL.contains(COMMIT));
    }

    #[test]
    fn a_file_with_another_hash_is_refused_and_nothing_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("other.yaml");
        fs::write(&f, "user_agent_parsers:\n  - regex: '(x)'\n").unwrap();
        let home = dir.path().join("home");
        let e = update(&Source::File(f), &home).unwrap_err();
        assert!(matches!(e, InstallError::Checksum { .. }), "{e}");
        assert!(e.to_string().contains("--ua-regexes"), "{e}");
        assert!(installed(&home).is_none());
        let e = update(&Source::File(dir.path().join("missing.yaml")), &home).unwrap_err();
        assert!(e.to_string().contains("missing.yaml"), "{e}");
    }
}
