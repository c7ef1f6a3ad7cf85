//! `trailhunt hunts update`: installing Elastic's hunting library and the ES|QL rules that
//! read CloudTrail into the user's data directory.
//!
//! Layout under [`home`] (`$TRAILHUNT_HOME`, else `$XDG_DATA_HOME/trailhunt`, else
//! `~/.local/share/trailhunt`):
//!
//! ```text
//! <home>/update.lock                      held while an update runs
//! <home>/library/SOURCE.json              the manifest (source, commit, counts)
//! <home>/library/hunting/<platform>/queries/*.toml
//! <home>/library/rules/…, rules_building_block/…   upstream relative paths
//! ```
//!
//! The manifest lives inside `library/` so that it is swapped together with the files it
//! describes: there is never a manifest for another library's files.
//!
//! An update never modifies the installed library in place. Everything is selected, parsed
//! and written into a fresh temporary directory inside `<home>` (same file system, so the
//! final step is a rename), and only a complete, verified library replaces the old one. Any
//! failure before the swap — HTTP error, cut connection, bad gzip CRC, corrupt or hostile
//! tar, no parsable hunt — drops the temporary directory and leaves `library/` untouched.
//!
//! Concurrent updates are serialized by an OS file lock on `<home>/update.lock` (a second
//! update fails at once with [`InstallError::Busy`] rather than waiting on a download).
//! Readers take no lock: between the two renames of the swap there is a moment (two system
//! calls) when `library/` does not exist, which a reader sees as "not installed".
//! One file on purpose: fetching, unpacking, selecting and swapping in are one transaction
//! (the staging directory and the lock span all of it); about a third of it is unit tests.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{parse_hunt, HuntError, Origin};

/// Elastic's detection-rules repository, default branch, as GitHub serves it.
pub const DEFAULT_URL: &str =
    "https://github.com/elastic/detection-rules/archive/refs/heads/main.tar.gz";

/// The manifest's file name inside the library directory.
pub const MANIFEST_FILE: &str = "SOURCE.json";

/// Bumped when the manifest changes incompatibly.
pub const MANIFEST_FORMAT: u32 = 1;

const LOCK_FILE: &str = "update.lock";
const TEMP_PREFIX: &str = ".library-new-";
const OLD_PREFIX: &str = "library.old-";
/// Hunt and rule files are a few kB; anything this large is not one, and reading it into
/// memory because a hostile header says so would be a denial of service.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Where an update reads the detection-rules tree from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateSource {
    /// An `http://` or `https://` URL of a `.tar.gz` (GitHub's archive format).
    Url(String),
    /// A detection-rules checkout: a directory holding `hunting/` (and usually `rules/`).
    Dir(PathBuf),
    /// A local `.tar.gz` file.
    Tarball(PathBuf),
}

impl UpdateSource {
    /// Interprets a `--from` argument: a URL by its scheme, an existing directory as a
    /// checkout, anything else as a tarball path (whose absence is reported when it is read).
    pub fn parse(s: &str) -> UpdateSource {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            UpdateSource::Url(s.to_string())
        } else if Path::new(s).is_dir() {
            UpdateSource::Dir(PathBuf::from(s))
        } else {
            UpdateSource::Tarball(PathBuf::from(s))
        }
    }

    fn kind(&self) -> SourceKind {
        match self {
            UpdateSource::Url(_) => SourceKind::Url,
            UpdateSource::Dir(_) => SourceKind::Dir,
            UpdateSource::Tarball(_) => SourceKind::Tarball,
        }
    }
}

impl Default for UpdateSource {
    fn default() -> Self {
        UpdateSource::Url(DEFAULT_URL.to_string())
    }
}

impl fmt::Display for UpdateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateSource::Url(u) => f.write_str(u),
            UpdateSource::Dir(p) | UpdateSource::Tarball(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What kind of source a library was installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Url,
    Dir,
    Tarball,
}

/// `<home>/library/SOURCE.json`: what is installed and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] of the writer.
    pub format: u32,
    /// The URL, or the absolute path of the directory or tarball.
    pub source: String,
    pub kind: SourceKind,
    /// The upstream commit (40 hex digits), when the source says.
    pub commit: Option<String>,
    /// The commit time, ISO-8601 UTC (`2026-08-21T20:01:07Z`), when known.
    pub commit_date: Option<String>,
    /// When this library was installed, ISO-8601 UTC.
    pub installed_at: String,
    /// Hunt files installed (each parsed with [`parse_hunt`]).
    pub hunts: usize,
    /// Hunt files per platform folder (`aws`, `linux`, …).
    pub hunts_by_platform: BTreeMap<String, usize>,
    /// Rule files installed.
    pub rules: usize,
    /// Candidate files skipped because they did not parse (see [`Installed::warnings`]).
    pub skipped: usize,
}

/// The result of a successful update.
#[derive(Debug, Clone)]
pub struct Installed {
    pub manifest: Manifest,
    /// The installed library directory (`<home>/library`).
    pub library: PathBuf,
    /// Files of the source that were skipped, and why.
    pub warnings: Vec<Warning>,
}

/// A file of the source that was not installed (malformed TOML, not UTF-8, a symlink in a
/// checkout …). `Display` is `file:line:column: message` when the position is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file as found in the source (archive entry path, or path under the checkout).
    pub file: String,
    /// 1-based (line, column).
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Why an update (or reading the installed manifest) failed. Every variant names the URL or
/// file concerned; the library is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find a data directory: set TRAILHUNT_HOME (or XDG_DATA_HOME or HOME)")]
    NoHome,
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("another `trailhunt hunts update` is running (it holds {})", .lock.display())]
    Busy { lock: PathBuf },
    #[error("{url}: HTTP status {status}")]
    HttpStatus {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("{url}: download failed")]
    Download {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: download cut short: {got} of {expected} bytes")]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
    },
    /// Bad gzip (header, data, CRC), bad tar structure, or a stream that ends early.
    #[error("{archive}: not a complete .tar.gz")]
    Archive {
        archive: String,
        #[source]
        source: io::Error,
    },
    /// An entry that could write outside the library (absolute path, `..`, links, devices).
    #[error("{archive}: refusing archive entry `{entry}`: {reason}")]
    UnsafeEntry {
        archive: String,
        entry: String,
        reason: &'static str,
    },
    #[error("{}: not a detection-rules checkout (no hunting/ directory)", .path.display())]
    NotACheckout { path: PathBuf },
    /// The source holds no hunt file that parses: installing it would empty the library.
    #[error("{origin}: no parsable hunt file under hunting/<platform>/queries/ ({} skipped)", .warnings.len())]
    NoHunts {
        origin: String,
        warnings: Vec<Warning>,
    },
    #[error("{}: invalid manifest", .path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory from the environment; see [`home_from`].
pub fn home() -> Result<PathBuf, InstallError> {
    home_from(
        std::env::var_os("TRAILHUNT_HOME"),
        std::env::var_os("XDG_DATA_HOME"),
        std::env::home_dir(),
    )
}

/// The data directory from explicit values (the environment is process-global; this is
/// what tests call): `TRAILHUNT_HOME` if set and non-empty; else `XDG_DATA_HOME/trailhunt`
/// if it is absolute (the XDG spec says to ignore a relative one); else
/// `<user home>/.local/share/trailhunt`.
///
/// Plain environment rather than the `dirs` crate: `dirs` maps the data directory to
/// `~/Library/Application Support` on macOS and `%APPDATA%` on Windows, whereas trailhunt
/// documents one rule for every platform, and this keeps it a pure, testable function.
pub fn home_from(
    trailhunt_home: Option<OsString>,
    xdg_data_home: Option<OsString>,
    user_home: Option<PathBuf>,
) -> Result<PathBuf, InstallError> {
    if let Some(h) = trailhunt_home.filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = xdg_data_home.map(PathBuf::from).filter(|x| x.is_absolute()) {
        return Ok(x.join("trailhunt"));
    }
    match user_home.filter(|h| !h.as_os_str().is_empty()) {
        Some(h) => Ok(h.join(".local").join("share").join("trailhunt")),
        None => Err(InstallError::NoHome),
    }
}

/// `<home>/library`: the directory to load installed hunts and rules from.
pub fn library_dir(home: &Path) -> PathBuf {
    home.join("library")
}

/// The installed library's manifest, or `None` if nothing is installed.
pub fn installed(home: &Path) -> Result<Option<Manifest>, InstallError> {
    let path = library_dir(home).join(MANIFEST_FILE);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|source| InstallError::Manifest { path, source })
}

/// Installs the library from `source` into `home`, replacing any installed one.
pub fn update(source: &UpdateSource, home: &Path) -> Result<Installed, InstallError> {
    update_with_progress(source, home, &mut |_, _| {})
}

/// [`update`], calling `progress(bytes so far, total if known)` as a URL downloads.
pub fn update_with_progress(
    source: &UpdateSource,
    home: &Path,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<Installed, InstallError> {
    fs::create_dir_all(home).map_err(io_err(home))?;
    let _lock = lock(home)?;
    remove_leftovers(home);

    // Dropped (and deleted) on every early return: a failed update leaves nothing behind.
    let temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempdir_in(home)
        .map_err(io_err(home))?;

    let (shown, collected) = match source {
        UpdateSource::Url(url) => {
            let file = temp.path().join("download.tar.gz");
            download(url, &file, progress)?;
            let f = File::open(&file).map_err(io_err(&file))?;
            (url.clone(), read_tarball(f, url)?)
        }
        UpdateSource::Tarball(path) => {
            let abs = fs::canonicalize(path).map_err(io_err(path))?;
            let f = File::open(&abs).map_err(io_err(&abs))?;
            let shown = abs.display().to_string();
            let c = read_tarball(f, &shown)?;
            (shown, c)
        }
        UpdateSource::Dir(path) => {
            let abs = fs::canonicalize(path).map_err(io_err(path))?;
            (abs.display().to_string(), read_dir_source(&abs)?)
        }
    };
    let hunts = collected.hunts_by_platform();
    let hunt_count = hunts.values().sum();
    if hunt_count == 0 {
        return Err(InstallError::NoHunts {
            origin: shown,
            warnings: collected.warnings,
        });
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        source: shown,
        kind: source.kind(),
        commit: collected.commit.clone(),
        commit_date: collected.commit_date.clone(),
        installed_at: iso_utc(chrono::Utc::now().timestamp()).unwrap_or_default(),
        hunts: hunt_count,
        hunts_by_platform: hunts,
        rules: collected.files.len() - hunt_count,
        skipped: collected.warnings.len(),
    };
    let staged = temp.path().join("library");
    write_library(&staged, &collected.files, &manifest)?;
    let library = library_dir(home);
    let mut warnings = collected.warnings;
    swap_in(home, &staged, &library, &mut warnings)?;
    Ok(Installed {
        manifest,
        library,
        warnings,
    })
}

/// Takes `<home>/update.lock` without waiting. The lock file is never deleted: removing a
/// lock file while another process waits on it is how two processes end up "holding" it.
fn lock(home: &Path) -> Result<File, InstallError> {
    let path = home.join(LOCK_FILE);
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(InstallError::Busy { lock: path }),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// Removes what an interrupted update left (its temporary directory, or the old library if
/// it stopped between the swap and the clean-up). Safe because we hold the lock: no other
/// update owns them. Best effort: a leftover costs disk space, not correctness.
fn remove_leftovers(home: &Path) {
    let Ok(entries) = fs::read_dir(home) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) || name.starts_with(OLD_PREFIX)) {
            continue;
        }
        // `file_type` does not follow symlinks; a symlink is unlinked, never traversed.
        match e.file_type() {
            Ok(t) if t.is_dir() => {
                let _ = fs::remove_dir_all(e.path());
            }
            Ok(_) => {
                let _ = fs::remove_file(e.path());
            }
            Err(_) => {}
        }
    }
}

/// Old library aside, new one in, old one removed. If the second rename fails the old
/// library is put back, so the user keeps a working library.
fn swap_in(
    home: &Path,
    staged: &Path,
    library: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<(), InstallError> {
    let old = match fs::symlink_metadata(library) {
        Ok(_) => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let old = home.join(format!("{OLD_PREFIX}{}-{stamp}", std::process::id()));
            fs::rename(library, &old).map_err(io_err(library))?;
            Some(old)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(library)(e)),
    };
    if let Err(e) = fs::rename(staged, library) {
        if let Some(old) = &old {
            let _ = fs::rename(old, library);
        }
        return Err(io_err(library)(e));
    }
    if let Some(old) = old {
        if let Err(e) = fs::remove_dir_all(&old) {
            warnings.push(Warning {
                file: old.display().to_string(),
                position: None,
                message: format!("could not remove the previous library: {e}"),
            });
        }
    }
    Ok(())
}

fn write_library(
    dir: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    manifest: &Manifest,
) -> Result<(), InstallError> {
    fs::create_dir(dir).map_err(io_err(dir))?;
    // Every key is a checked relative path (no `..`, no root, no separators inside a
    // component), and `dir` is a directory we just created and only we write to, so nothing
    // here can land outside it or go through a symlink.
    for (rel, bytes) in files {
        let path = rel.split('/').fold(dir.to_path_buf(), |p, c| p.join(c));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        write_new(&path, bytes)?;
    }
    let mut json = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
    json.push(b'\n');
    write_new(&dir.join(MANIFEST_FILE), &json)
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    let mut f = File::create_new(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    // Synced before the rename publishes them: after a crash `library/` is either the old
    // library or a complete new one, not one with empty files.
    f.sync_all().map_err(io_err(path))
}

// ---------------------------------------------------------------------------------------
// Download

/// Streams `url` into `dest`. Runs on its own thread with a current-thread runtime, so it
/// works whether or not the caller is inside a tokio runtime (where building another one
/// on the same thread would panic).
fn download(
    url: &str,
    dest: &Path,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<(), InstallError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(io_err(dest))?;
            rt.block_on(fetch(url, dest, progress))
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

async fn fetch(
    url: &str,
    dest: &Path,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<(), InstallError> {
    let http = |source| InstallError::Download {
        url: url.to_string(),
        source,
    };
    let mut client = reqwest::Client::builder()
        .user_agent(concat!("trailhunt/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        // No total timeout (a slow link may need minutes), but a stalled one fails.
        .read_timeout(Duration::from_secs(60));
    if is_loopback(url) {
        // A proxy cannot reach our own loopback address; HTTP(S)_PROXY without a NO_PROXY
        // for it would break local mirrors and the tests.
        client = client.no_proxy();
    }
    let client = client.build().map_err(http)?;
    let mut resp = client.get(url).send().await.map_err(http)?;
    if !resp.status().is_success() {
        return Err(InstallError::HttpStatus {
            url: url.to_string(),
            status: resp.status(),
        });
    }
    let expected = resp.content_length();
    let mut out = File::create_new(dest).map_err(io_err(dest))?;
    let mut got = 0u64;
    progress(0, expected);
    while let Some(chunk) = resp.chunk().await.map_err(http)? {
        out.write_all(&chunk).map_err(io_err(dest))?;
        got += chunk.len() as u64;
        progress(got, expected);
    }
    // hyper already fails a body shorter than its Content-Length; this keeps the guarantee
    // explicit. A close-delimited body has no length: the gzip trailer check catches a cut.
    if let Some(expected) = expected.filter(|&e| e != got) {
        return Err(InstallError::Truncated {
            url: url.to_string(),
            got,
            expected,
        });
    }
    Ok(())
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
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

// ---------------------------------------------------------------------------------------
// Reading sources

/// What a source yields: the files to install, keyed by their library-relative path.
#[derive(Default)]
struct Collected {
    files: BTreeMap<String, Vec<u8>>,
    warnings: Vec<Warning>,
    commit: Option<String>,
    commit_date: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Hunt,
    Rule,
}

/// `hunting/<platform>/queries/<x>.toml` is a hunt; a `.toml` under `rules/` or
/// `rules_building_block/` may be a rule. Everything else is not read at all.
fn candidate(rel: &[&str]) -> Option<Candidate> {
    let toml = rel
        .last()
        .is_some_and(|f| f.len() > 5 && f.ends_with(".toml"));
    match rel {
        ["hunting", _, "queries", _] if toml => Some(Candidate::Hunt),
        ["rules" | "rules_building_block", _, ..] if toml => Some(Candidate::Rule),
        _ => None,
    }
}

impl Collected {
    /// Considers one file of the source: `shown` names it in warnings, `read` is only called
    /// for candidates (so the rest of a 2000-rule tree costs nothing but a path check).
    fn offer(
        &mut self,
        rel: &[&str],
        shown: &str,
        read: impl FnOnce() -> io::Result<Vec<u8>>,
    ) -> io::Result<()> {
        let Some(kind) = candidate(rel) else {
            return Ok(());
        };
        let warn = |message: String, position| Warning {
            file: shown.to_string(),
            position,
            message,
        };
        let Ok(text) = String::from_utf8(read()?) else {
            self.warnings.push(warn("not UTF-8 text".into(), None));
            return Ok(());
        };
        let keep = match kind {
            Candidate::Hunt => {
                let file = rel[rel.len() - 1];
                let stem = &file[..file.len() - ".toml".len()];
                match parse_hunt(&text, Origin::File(PathBuf::from(shown)), stem) {
                    Ok(_) => true,
                    Err(HuntError::Invalid {
                        line,
                        column,
                        message,
                        ..
                    }) => {
                        self.warnings.push(warn(message, Some((line, column))));
                        false
                    }
                    Err(e) => {
                        self.warnings.push(warn(e.to_string(), None));
                        false
                    }
                }
            }
            Candidate::Rule => match toml::from_str::<toml::Table>(&text) {
                Ok(doc) => selected_rule(rel, &doc),
                Err(e) => {
                    let pos = e.span().map(|s| line_col(&text, s.start));
                    self.warnings
                        .push(warn(e.message().trim_end().to_string(), pos));
                    false
                }
            },
        };
        if keep {
            self.files.insert(rel.join("/"), text.into_bytes());
        }
        Ok(())
    }

    fn hunts_by_platform(&self) -> BTreeMap<String, usize> {
        let mut by = BTreeMap::new();
        for rel in self.files.keys() {
            let parts: Vec<&str> = rel.split('/').collect();
            if candidate(&parts) == Some(Candidate::Hunt) {
                *by.entry(parts[1].to_string()).or_insert(0) += 1;
            }
        }
        by
    }
}

/// An ES|QL rule (`[rule] language = "esql"`) of the AWS integration folder, or one whose
/// FROM names the CloudTrail data stream. `rules/integrations/aws_bedrock*/` is not the
/// `aws` folder and reads Bedrock logs, so neither test picks it.
fn selected_rule(rel: &[&str], doc: &toml::Table) -> bool {
    let Some(rule) = doc.get("rule").and_then(toml::Value::as_table) else {
        return false;
    };
    let esql = rule
        .get("language")
        .and_then(toml::Value::as_str)
        .is_some_and(|l| l.eq_ignore_ascii_case("esql"));
    if !esql {
        return false;
    }
    if rel.starts_with(&["rules", "integrations", "aws"]) && rel.len() > 3 {
        return true;
    }
    let query = rule
        .get("query")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    from_patterns(query).iter().any(|p| {
        // `cluster:pattern` is a cross-cluster search of the same index.
        let index = p.rsplit(':').next().unwrap_or(p);
        index.starts_with("logs-aws.cloudtrail")
    })
}

/// The index patterns of an ES|QL query's `FROM` source command (empty if it starts with
/// another command). Comments are skipped; `METADATA …`, exclusions (`-pattern`) and quotes
/// are dropped. A generic `logs-*` is returned as is: callers match on a specific prefix,
/// since a rule reading every `logs-*` index is not a CloudTrail rule.
///
/// Only the source command is read, by hand rather than with `esql::parse`: rules use
/// syntax our parser may not accept yet (`KQL()`, `STATS … WHERE`), and whether a rule is
/// installed must not depend on whether trailhunt can run it today.
pub(crate) fn from_patterns(query: &str) -> Vec<String> {
    let text = strip_comments(query);
    let source = text.split('|').next().unwrap_or("");
    let mut words = source
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty());
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("from")) {
        return Vec::new();
    }
    words
        .take_while(|w| !w.eq_ignore_ascii_case("metadata"))
        .map(|w| w.trim_matches('"'))
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(str::to_string)
        .collect()
}

/// Removes `//` and `/* */` comments outside double-quoted strings.
fn strip_comments(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut chars = q.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn iso_utc(secs: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp(secs, 0)?;
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Splits an archive path into checked components: no root or drive, no `..`, no
/// backslash (a separator on Windows); `.` and empty components are dropped.
fn safe_components(path: &str) -> Result<Vec<&str>, &'static str> {
    if path.starts_with('/') {
        return Err("absolute path");
    }
    let mut parts = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("`..` component (path traversal)"),
            c if c.contains('\\') => return Err("backslash in a path component"),
            c if parts.is_empty() && c.len() >= 2 && c.as_bytes()[1] == b':' => {
                return Err("drive-letter path")
            }
            c => parts.push(c),
        }
    }
    Ok(parts)
}

/// Top-level names of a detection-rules tree: an archive whose first component is one of
/// these has no `detection-rules-<sha>/` prefix to strip.
const TREE_ROOTS: [&str; 3] = ["hunting", "rules", "rules_building_block"];

/// Reads a `.tar.gz` to its end: every entry's path is checked, candidates are collected,
/// and the gzip stream is drained so its CRC and length trailer are verified.
fn read_tarball(reader: impl Read, archive: &str) -> Result<Collected, InstallError> {
    let bad = |source| InstallError::Archive {
        archive: archive.to_string(),
        source,
    };
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(reader)));
    let mut c = Collected::default();
    let mut pax_commit = None;
    let mut dir_commit = None;
    let mut first_mtime = None;
    for entry in ar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            // git archive: `comment=<commit sha>` (GitHub tarballs are git archives).
            if let Some(exts) = entry.pax_extensions().map_err(bad)? {
                for ext in exts {
                    let ext = ext.map_err(bad)?;
                    if ext.key() == Ok("comment") {
                        pax_commit = ext.value().ok().filter(|v| is_sha(v)).map(str::to_string);
                    }
                }
            }
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let unsafe_entry = |reason| InstallError::UnsafeEntry {
            archive: archive.to_string(),
            entry: name.clone(),
            reason,
        };
        let parts = safe_components(&name).map_err(unsafe_entry)?;
        if kind.is_symlink() {
            return Err(unsafe_entry("symbolic link"));
        }
        if kind.is_hard_link() {
            return Err(unsafe_entry("hard link"));
        }
        if !(kind.is_file() || kind.is_dir() || kind.is_contiguous()) {
            return Err(unsafe_entry("not a regular file or directory"));
        }
        if first_mtime.is_none() {
            first_mtime = Some(entry.header().mtime().map_err(bad)?);
        }
        let rel = match parts.first() {
            Some(top) if !TREE_ROOTS.contains(top) => {
                if dir_commit.is_none() {
                    dir_commit = top
                        .strip_prefix("detection-rules-")
                        .filter(|s| is_sha(s))
                        .map(str::to_string);
                }
                &parts[1..]
            }
            _ => &parts[..],
        };
        if !kind.is_file() && !kind.is_contiguous() {
            continue;
        }
        if raw.contains(&0) || std::str::from_utf8(&raw).is_err() {
            // Not a name upstream uses; `candidate` would not match the lossy form anyway.
            continue;
        }
        let size = entry.size();
        c.offer(rel, &name, || {
            if size > MAX_FILE_BYTES {
                return Err(io::Error::other(format!(
                    "entry `{name}` is {size} bytes, not a hunt or rule file"
                )));
            }
            let mut buf = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut buf)?;
            if buf.len() as u64 != size {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("entry `{name}` ends early"),
                ));
            }
            Ok(buf)
        })
        .map_err(bad)?;
    }
    // The tar reader stops at the first zero block of the end-of-archive marker; the rest
    // (the second block and padding) must still be there, and reading it to the end makes
    // the decoder check the gzip CRC and length.
    let mut rest = Vec::new();
    ar.into_inner().read_to_end(&mut rest).map_err(bad)?;
    if rest.is_empty() {
        return Err(bad(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no end-of-archive marker: the tar stream is truncated",
        )));
    }
    c.commit = pax_commit.or(dir_commit);
    // git archive stamps every entry with the commit time; without a commit the mtimes are
    // just file times and say nothing about the upstream version.
    if c.commit.is_some() {
        c.commit_date = first_mtime
            .and_then(|m| i64::try_from(m).ok())
            .and_then(iso_utc);
    }
    Ok(c)
}

fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A checkout: `hunting/`, `rules/` and `rules_building_block/` walked in sorted order.
/// Symlinks are skipped with a warning, never followed.
fn read_dir_source(root: &Path) -> Result<Collected, InstallError> {
    if !root.join("hunting").is_dir() {
        return Err(InstallError::NotACheckout {
            path: root.to_path_buf(),
        });
    }
    let mut c = Collected::default();
    for top in TREE_ROOTS {
        let dir = root.join(top);
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            walk(&dir, &mut vec![top.to_string()], &mut c)?;
        }
    }
    c.commit = git_head(&root.join(".git"));
    Ok(c)
}

fn walk(dir: &Path, rel: &mut Vec<String>, c: &mut Collected) -> Result<(), InstallError> {
    let mut entries = fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let shown = path.display().to_string();
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            c.warnings.push(Warning {
                file: shown,
                position: None,
                message: "file name is not UTF-8; skipped".into(),
            });
            continue;
        };
        let t = e.file_type().map_err(io_err(&path))?;
        rel.push(name);
        if t.is_symlink() {
            c.warnings.push(Warning {
                file: shown,
                position: None,
                message: "symbolic link; skipped (links are never followed)".into(),
            });
        } else if t.is_dir() {
            walk(&path, rel, c)?;
        } else if t.is_file() {
            let parts: Vec<&str> = rel.iter().map(String::as_str).collect();
            c.offer(&parts, &shown, || fs::read(&path))
                .map_err(io_err(&path))?;
        }
        rel.pop();
    }
    Ok(())
}

/// The commit a checkout's HEAD points at, read from `.git` without running git: a detached
/// HEAD, a loose ref or `packed-refs`. `None` for anything else (the commit is optional).
fn git_head(git: &Path) -> Option<String> {
    // A worktree or submodule has a `.git` file: `gitdir: <path>`.
    let git = if git.is_file() {
        let text = fs::read_to_string(git).ok()?;
        let target = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
        git.parent()?.join(target)
    } else {
        git.to_path_buf()
    };
    let head = fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(refname) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| head.to_string());
    };
    // Refs of a linked worktree live in the main repository (`commondir`).
    let common = fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|d| git.join(d.trim()));
    for base in std::iter::once(git.clone()).chain(common) {
        if let Ok(sha) = fs::read_to_string(base.join(refname)) {
            let sha = sha.trim();
            if is_sha(sha) {
                return Some(sha.to_string());
            }
        }
        if let Ok(packed) = fs::read_to_string(base.join("packed-refs")) {
            for line in packed.lines() {
                if let Some((sha, name)) = line.split_once(' ') {
                    if name == refname && is_sha(sha) {
                        return Some(sha.to_string());
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_clause_patterns() {
        let q = "// leading comment\nFROM logs-aws.cloudtrail-*, \"logs-endpoint.*\" /* x */\n  METADATA _id | where true";
        assert_eq!(
            from_patterns(q),
            ["logs-aws.cloudtrail-*", "logs-endpoint.*"]
        );
        assert_eq!(
            from_patterns(
                "from logs-aws.cloudtrail-*\n\n// Lambda data events\n| stats c = count()"
            ),
            ["logs-aws.cloudtrail-*"]
        );
        assert_eq!(from_patterns("from a,-b,remote:c"), ["a", "remote:c"]);
        assert!(from_patterns("row a = 1").is_empty());
    }

    #[test]
    fn archive_paths() {
        assert_eq!(safe_components("a/./b//c/").unwrap(), ["a", "b", "c"]);
        assert!(safe_components("/etc/passwd").is_err());
        assert!(safe_components("x/../../evil").is_err());
        assert!(safe_components("x\\..\\evil").is_err());
        assert!(safe_components("C:/evil").is_err());
    }

    #[test]
    fn candidates() {
        assert!(candidate(&["hunting", "aws", "queries", "a.toml"]) == Some(Candidate::Hunt));
        assert!(candidate(&["hunting", "aws", "docs", "a.md"]).is_none());
        assert!(candidate(&["hunting", "aws", "queries", "x", "a.toml"]).is_none());
        assert!(candidate(&["rules", "windows", "a.toml"]) == Some(Candidate::Rule));
        assert!(candidate(&["rules", "README.md"]).is_none());
    }

    #[test]
    fn loopback_urls() {
        assert!(is_loopback("http://127.0.0.1:8080/x.tar.gz"));
        assert!(is_loopback("http://localhost/x"));
        assert!(is_loopback("http://[::1]:1/x"));
        assert!(!is_loopback(DEFAULT_URL));
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("x", 0), (1, 1));
    }
}
