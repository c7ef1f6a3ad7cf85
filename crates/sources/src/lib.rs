//! Where CloudTrail logs come from. Every command (`normalize`, `ingest`, `query`, `hunt`)
//! turns what the user named — files, directories, globs, `s3://bucket/prefix` — into one
//! ordered list of local files through [`expand`], so a source that works for one command
//! works for all of them.
//!
//! * [`local`]: files, recursive directory walks and globs, in a stable order;
//! * [`s3`]: listing (paginated, pruned by day), a local cache, the AWS SDK credential chain;
//! * [`layout`]: CloudTrail's `…/CloudTrail/<region>/YYYY/MM/DD/` folders and the one
//!   [`DayRange`] that prunes local trees, S3 listings and raw scans alike.
//!
//! This crate knows nothing about CloudTrail records or ES|QL.

pub mod layout;
mod local;
pub mod s3;

pub use layout::{delivery_date, DayRange};
pub use local::{expand_local, expand_local_noted, Expansion, NoteKind, SourceNote};
use std::ffi::OsStr;
use std::path::PathBuf;

/// Why a source could not be expanded. The message names the source so the user can fix it.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{0}: matches no files")]
    NoMatch(String),
    #[error("{source_name}: invalid glob pattern: {message}")]
    BadPattern {
        source_name: String,
        message: String,
    },
    #[error("{0}: not a local path (s3:// sources go through sources::expand)")]
    NotLocal(String),
    #[error("{url}: {why}")]
    BadUrl { url: String, why: String },
    #[error("{url}: {hint}")]
    S3 { url: String, hint: String },
    #[error("{0}")]
    Credentials(String),
    #[error("invalid --{flag} value [{value}]: expected a date such as 2024-08-01 or an ISO-8601 timestamp")]
    BadDate { flag: &'static str, value: String },
    #[error("{path}: {error}")]
    Io {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot start the S3 client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A file to read, and where it came from when that is not the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    /// `s3://bucket/key` for an object read through the cache; `None` for local files.
    pub origin: Option<String>,
    /// An object's size from its listing; `None` for local files.
    pub size: Option<u64>,
}

/// How to reach S3. Anything left `None` comes from the AWS SDK's configuration chain
/// (environment, `~/.aws/config` and `credentials`, SSO, …).
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`); else `AWS_ENDPOINT_URL` or the
    /// profile's `endpoint_url`, else AWS.
    pub endpoint_url: Option<String>,
    /// The profile to use instead of `AWS_PROFILE` / `default`.
    pub profile: Option<String>,
    /// Where fetched objects are kept; default `$TRAILHUNT_CACHE/s3` or the XDG cache.
    pub cache_dir: Option<PathBuf>,
}

/// What one S3 prefix expanded to, for the caller's progress line.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub objects: usize,
    pub bytes: u64,
    /// Objects not in the cache yet, and their bytes (from the listing).
    pub to_download: usize,
    pub download_bytes: u64,
}

/// One object copied into the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// `s3://bucket/key`.
    pub url: String,
    pub bytes: u64,
}

/// Options of [`expand`].
#[derive(Default)]
pub struct ExpandOptions<'a> {
    /// Files (local and S3) whose delivery folder lies outside are left out: the user's
    /// `--since`/`--until`.
    pub days: DayRange,
    /// Further pruning of S3 listings only, from the queries' `@timestamp` bounds. Local
    /// files are not pruned by it here: the scan prunes them and counts them for its summary.
    pub s3_days: DayRange,
    pub s3: S3Options,
    /// Called once per S3 prefix after listing, before downloading.
    pub report: Option<&'a (dyn Fn(&Fetched) + Sync)>,
    /// Called once per object downloaded, when it is in the cache (from the thread that
    /// called [`expand`]).
    pub downloaded: Option<&'a (dyn Fn(&Downloaded) + Sync)>,
    /// List S3 prefixes without downloading them: for a cluster whose executors fetch
    /// their own objects ([`fetch_objects`]). The files' paths are where this machine would
    /// cache them; `report` still tells what was listed.
    pub s3_list_only: bool,
    /// Told what was left out of the list, or is worth knowing (a second path to a file
    /// already listed, a loop, a FIFO, an unreadable folder, a name that is not UTF-8, …),
    /// each once, after the whole list is made.
    pub note: Option<&'a (dyn Fn(&SourceNote) + Sync)>,
}

/// Makes sure each object (`s3://bucket/key` and its listed size) is in this machine's
/// cache, fetching those that are not, and returns their local paths in order: how an
/// executor of a cluster reads the objects a client listed with
/// [`ExpandOptions::s3_list_only`]. Each machine resolves its own credentials (its
/// environment, profile or instance role).
pub async fn fetch_objects(
    objects: &[(String, u64)],
    s3: &S3Options,
) -> Result<Vec<PathBuf>, SourceError> {
    s3::S3Client::new(s3).fetch_objects(objects).await
}

/// Where trailhunt keeps what it can rebuild (downloaded S3 objects, the structural
/// check's verdicts): `$TRAILHUNT_CACHE`, else `$XDG_CACHE_HOME/trailhunt`, else
/// `~/.cache/trailhunt`, else the temp directory's `trailhunt`.
pub fn cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("TRAILHUNT_CACHE") {
        return PathBuf::from(d);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("trailhunt")
}

/// Whether a source names an S3 prefix (`s3://…`) rather than a local path.
pub fn is_s3(src: &OsStr) -> bool {
    src.as_encoded_bytes().starts_with(b"s3://")
}

/// Expands every source in order (local ones as [`expand_local`] does, S3 prefixes listed
/// and fetched into the cache), each real file once across all of them. A source that yields
/// nothing is an error: a typo silently producing "no hits" would be worse. What was left out
/// goes to [`ExpandOptions::note`].
pub fn expand<S: AsRef<OsStr>>(
    sources: &[S],
    opts: &ExpandOptions,
) -> Result<Vec<SourceFile>, SourceError> {
    let s3_range = opts.days.intersect(opts.s3_days);
    let mut out = vec![];
    let mut walker = local::Walker::default();
    let mut listed = std::collections::HashSet::new();
    let mut client: Option<(tokio::runtime::Runtime, s3::S3Client)> = None;
    for src in sources {
        let src = src.as_ref();
        if let Some(src) = src.to_str().filter(|s| is_s3(OsStr::new(s))) {
            if client.is_none() {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .worker_threads(2)
                    .build()
                    .map_err(SourceError::Runtime)?;
                client = Some((rt, s3::S3Client::new(&opts.s3)));
            }
            let (rt, c) = client.as_mut().expect("set above");
            for f in rt.block_on(c.fetch_prefix(src, &s3_range, opts))? {
                if opts.s3_list_only {
                    // Not here to look at: the same object from two prefixes is listed once.
                    if listed.insert(f.path.clone()) {
                        out.push(f);
                    }
                    continue;
                }
                let before = walker.file_count();
                walker.fetched(&f.path);
                if walker.file_count() > before {
                    out.push(f);
                }
            }
        } else {
            let before = walker.file_count();
            walker.source(src)?;
            for path in walker.files_from(before) {
                if opts.days.admits_path(&path.to_string_lossy()) {
                    out.push(SourceFile {
                        path: path.clone(),
                        origin: None,
                        size: None,
                    });
                }
            }
        }
    }
    let expansion = walker.finish();
    if let Some(note) = opts.note {
        expansion.notes.iter().for_each(note);
    }
    Ok(out)
}
