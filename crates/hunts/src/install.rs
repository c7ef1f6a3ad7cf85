//! Installing and updating Elastic's hunting library and its CloudTrail ES|QL rules in the
//! user's data directory, from the upstream tarball (HTTPS), a tarball file or a checkout.
//!
//! Atomic: everything is unpacked and checked in a fresh directory beside the library,
//! and only then swapped in by renames, so a failed or partial download never replaces a
//! good library. Tar entries that are links or escape the tree are refused.

use crate::parse_file;
use crate::Origin;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The upstream repository's default branch, as GitHub serves it.
pub const DEFAULT_URL: &str =
    "https://github.com/elastic/detection-rules/archive/refs/heads/main.tar.gz";

/// The manifest file inside the installed library.
pub const MANIFEST: &str = "SOURCE.json";

/// Where a library comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateSource {
    Url(String),
    Dir(PathBuf),
    Tarball(PathBuf),
}

impl UpdateSource {
    /// `http(s)://…` is a URL, an existing directory a checkout, anything else a tarball.
    pub fn parse(s: &str) -> UpdateSource {
        if s.starts_with("https://") || s.starts_with("http://") {
            UpdateSource::Url(s.to_string())
        } else if Path::new(s).is_dir() {
            UpdateSource::Dir(PathBuf::from(s))
        } else {
            UpdateSource::Tarball(PathBuf::from(s))
        }
    }
}

impl fmt::Display for UpdateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateSource::Url(u) => f.write_str(u),
            UpdateSource::Dir(d) | UpdateSource::Tarball(d) => write!(f, "{}", d.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no data directory: set TRAILHUNT_HOME (or XDG_DATA_HOME or HOME)")]
    NoHome,
    #[error("{url}: {message}")]
    Download { url: String, message: String },
    #[error("{source_name}: {message}")]
    Archive {
        source_name: String,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: holds no hunt file (hunting/<platform>/queries/*.toml); the library was left unchanged")]
    Empty(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What was installed, from where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub source: String,
    /// The upstream commit (from the tarball's pax header), when known.
    pub commit: Option<String>,
    /// The commit's date (ISO-8601 UTC, from the archive's file times), when known.
    pub date: Option<String>,
    pub installed_at: String,
    pub hunts: usize,
    pub rules: usize,
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "installed {} hunts and {} ES|QL rules from {} (commit {}, {})",
            self.hunts,
            self.rules,
            self.source,
            self.commit.as_deref().unwrap_or("unknown"),
            self.date.as_deref().unwrap_or("date unknown")
        )
    }
}

/// The result of an update: the manifest and what was skipped on the way.
#[derive(Debug)]
pub struct Installed {
    pub manifest: Manifest,
    pub warnings: Vec<String>,
}

/// The data directory: `$TRAILHUNT_HOME`, else `$XDG_DATA_HOME/trailhunt`, else
/// `~/.local/share/trailhunt` (the XDG base-directory default).
pub fn home() -> Result<PathBuf, InstallError> {
    home_from(
        std::env::var_os("TRAILHUNT_HOME"),
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME"),
    )
}

/// [`home`] from given values (testable without touching the process environment).
pub fn home_from(
    trailhunt_home: Option<std::ffi::OsString>,
    xdg_data_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, InstallError> {
    let set = |v: Option<std::ffi::OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(h) = set(trailhunt_home) {
        return Ok(h);
    }
    // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(x) = set(xdg_data_home).filter(|p| p.is_absolute()) {
        return Ok(x.join("trailhunt"));
    }
    set(home)
        .map(|h| h.join(".local/share/trailhunt"))
        .ok_or(InstallError::NoHome)
}

/// The installed library below a data directory.
pub fn library_dir(home: &Path) -> PathBuf {
    home.join("library")
}

/// The manifest of the installed library; `None` when nothing is installed.
pub fn installed(home: &Path) -> Result<Option<Manifest>, InstallError> {
    let path = library_dir(home).join(MANIFEST);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| InstallError::Archive {
                source_name: path.display().to_string(),
                message: format!("unreadable manifest: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Installs the library from `source` into `home`, replacing the current one only when
/// the new one is complete.
pub fn update(source: &UpdateSource, home: &Path) -> Result<Installed, InstallError> {
    fs::create_dir_all(home).map_err(io(home))?;
    let staging = tempfile::Builder::new()
        .prefix(".library-new-")
        .tempdir_in(home)
        .map_err(io(home))?;
    let root = staging.path().join("library");
    fs::create_dir_all(&root).map_err(io(&root))?;
    let mut warnings = Vec::new();
    let (commit, date) = match source {
        UpdateSource::Url(url) => {
            let bytes = download(url)?;
            unpack(&bytes[..], url, &root, &mut warnings)?
        }
        UpdateSource::Tarball(path) => {
            let file = fs::File::open(path).map_err(io(path))?;
            unpack(file, &path.display().to_string(), &root, &mut warnings)?
        }
        UpdateSource::Dir(dir) => {
            copy_checkout(dir, &root, &mut warnings)?;
            (git_head(dir), None)
        }
    };
    let (hunts, rules) = count(&root);
    if hunts == 0 {
        return Err(InstallError::Empty(source.to_string()));
    }
    let manifest = Manifest {
        source: source.to_string(),
        commit,
        date,
        installed_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        hunts,
        rules,
    };
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
    let mpath = root.join(MANIFEST);
    fs::write(&mpath, text + "\n").map_err(io(&mpath))?;
    swap_in(&root, &library_dir(home), staging.path())?;
    Ok(Installed { manifest, warnings })
}

/// The old library moves aside, the new one into place, then the old one is removed.
/// Each step is a rename on one file system; a crash between the two renames leaves the
/// old library in the staging directory, never a half-written one in place.
fn swap_in(new: &Path, target: &Path, staging: &Path) -> Result<(), InstallError> {
    let old = staging.join("previous");
    if target.exists() {
        fs::rename(target, &old).map_err(io(target))?;
    }
    if let Err(e) = fs::rename(new, target) {
        if old.exists() {
            let _ = fs::rename(&old, target);
        }
        return Err(io(target)(e));
    }
    Ok(())
}

fn download(url: &str) -> Result<Vec<u8>, InstallError> {
    let err = |message: String| InstallError::Download {
        url: url.to_string(),
        message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(e.to_string()))?;
    runtime.block_on(async {
        let response = reqwest::Client::builder()
            .user_agent(concat!("trailhunt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| err(e.to_string()))?
            .get(url)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(err(format!("HTTP {status}")));
        }
        let expected = response.content_length();
        let body = response
            .bytes()
            .await
            .map_err(|e| err(format!("download interrupted: {e}")))?;
        if let Some(n) = expected {
            if body.len() as u64 != n {
                return Err(err(format!(
                    "download interrupted after {} of {n} bytes",
                    body.len()
                )));
            }
        }
        Ok(body.to_vec())
    })
}

/// Which files of a detection-rules tree are kept, by their path below the tree's top.
enum Keep {
    Hunt,
    Rule,
}

fn keep(rel: &Path) -> Option<Keep> {
    if rel.extension().is_none_or(|e| e != "toml") {
        return None;
    }
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "hunting" => Some(Keep::Hunt),
        "rules" | "rules_building_block" => Some(Keep::Rule),
        _ => None,
    }
}

/// Whether a rule file is an ES|QL rule for the data trailhunt reads: in the AWS
/// integration folder, or reading `logs-aws.cloudtrail*`.
fn wanted_rule(rel: &Path, text: &str, warnings: &mut Vec<String>) -> bool {
    let h = match parse_file(text, Origin::File(rel.to_path_buf()), "") {
        Ok(h) => h,
        Err(e) => {
            warnings.push(format!("skipped {e}"));
            return false;
        }
    };
    if h.rule().is_none() || !h.is_esql() {
        return false;
    }
    rel.starts_with("rules/integrations/aws")
        || h.queries.iter().any(|q| q.contains("logs-aws.cloudtrail"))
}

/// Reads a gzip'd tar fully; keeps the selection below `root`. Returns (commit, date).
fn unpack(
    input: impl Read,
    name: &str,
    root: &Path,
    warnings: &mut Vec<String>,
) -> Result<(Option<String>, Option<String>), InstallError> {
    let bad = |message: String| InstallError::Archive {
        source_name: name.to_string(),
        message,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut commit = None;
    let mut mtime = None;
    let entries = archive.entries().map_err(|e| bad(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("corrupt archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            // GitHub's archives: `comment=<commit sha>`.
            if let Ok(Some(exts)) = entry.pax_extensions() {
                for ext in exts.flatten() {
                    if ext.key() == Ok("comment") {
                        commit = ext.value().ok().map(|v| v.trim().to_string());
                    }
                }
            }
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| bad(format!("bad entry name: {e}")))?
            .into_owned();
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return Err(bad(format!(
                "entry {} escapes the archive; refusing it",
                path.display()
            )));
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(bad(format!(
                "entry {} is a link; refusing it",
                path.display()
            )));
        }
        if !kind.is_file() {
            continue;
        }
        // Below the archive's top directory (`detection-rules-<sha>/`).
        let rel: PathBuf = path.components().skip(1).collect();
        let Some(which) = keep(&rel) else {
            // Read through every entry anyway: a truncated archive must fail.
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| bad(format!("truncated or corrupt: {e}")))?;
            continue;
        };
        mtime = mtime.max(entry.header().mtime().ok());
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| bad(format!("{}: {e}", rel.display())))?;
        if matches!(which, Keep::Rule) && !wanted_rule(&rel, &text, warnings) {
            continue;
        }
        write_file(root, &rel, &text)?;
    }
    let date = mtime
        .and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    Ok((commit, date))
}

fn write_file(root: &Path, rel: &Path, text: &str) -> Result<(), InstallError> {
    let dest = root.join(rel);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::write(&dest, text).map_err(io(&dest))
}

/// A checkout: `hunting/` and the selected rules, copied (symlinks are not followed).
fn copy_checkout(dir: &Path, root: &Path, warnings: &mut Vec<String>) -> Result<(), InstallError> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let path = entry.path();
            let ft = entry.file_type().map_err(io(&path))?;
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            if ft.is_dir() {
                if !rel.starts_with(".git") {
                    stack.push(path);
                }
            } else if ft.is_file() {
                let Some(which) = keep(&rel) else { continue };
                let text = fs::read_to_string(&path).map_err(io(&path))?;
                if matches!(which, Keep::Rule) && !wanted_rule(&rel, &text, warnings) {
                    continue;
                }
                write_file(root, &rel, &text)?;
            }
        }
    }
    Ok(())
}

/// The commit a checkout's `HEAD` names, read without running git.
fn git_head(dir: &Path) -> Option<String> {
    let head = fs::read_to_string(dir.join(".git/HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref: ") {
        Some(r) => fs::read_to_string(dir.join(".git").join(r))
            .ok()
            .map(|s| s.trim().to_string()),
        None => Some(head.to_string()),
    }
}

/// (hunt files below `hunting/`, rule files).
fn count(root: &Path) -> (usize, usize) {
    fn walk(d: &Path, n: &mut usize) {
        for e in fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, n);
            } else if p.extension().is_some_and(|x| x == "toml") {
                *n += 1;
            }
        }
    }
    let (mut h, mut r) = (0, 0);
    walk(&root.join("hunting"), &mut h);
    walk(&root.join("rules"), &mut r);
    walk(&root.join("rules_building_block"), &mut r);
    (h, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn data_directory_follows_xdg() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(home_from(s("/th"), s("/x"), s("/h")).unwrap(), PathBuf::from("/th"));
        assert_eq!(
            home_from(None, s("/x"), s("/h")).unwrap(),
            PathBuf::from("/x/trailhunt")
        );
        assert_eq!(
            home_from(s(""), s("rel"), s("/h")).unwrap(),
            PathBuf::from("/h/.local/share/trailhunt")
        );
        assert!(home_from(None, None, None).is_err());
    }

    #[test]
    fn sources_by_shape() {
        assert!(matches!(UpdateSource::parse("https://x/y.tar.gz"), UpdateSource::Url(_)));
        assert!(matches!(UpdateSource::parse("/"), UpdateSource::Dir(_)));
        assert!(matches!(
            UpdateSource::parse("/no/such.tar.gz"),
            UpdateSource::Tarball(_)
        ));
    }
}
