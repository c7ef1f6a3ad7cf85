//! The manifest is the store's single source of truth: the data files a reader may use and
//! the source files already ingested. It is replaced as a whole by an atomic rename, so a
//! reader always sees one complete version; data files not listed in it do not exist as
//! far as trailhunt is concerned (they are leftovers of an interrupted write).

use crate::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// Bumped when the manifest layout changes incompatibly.
pub const FORMAT: u32 = 1;

/// Where the manifest lives, relative to the store root.
pub const MANIFEST_PATH: &str = "_trailhunt/manifest.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// Incremented by every commit; part of data file names, so names never repeat.
    pub version: u64,
    pub files: Vec<DataFile>,
    pub sources: Vec<SourceFile>,
}

/// One Parquet file of the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataFile {
    /// Relative to the store root, `/`-separated: `dt=2024-08-01/part-….parquet`.
    pub path: String,
    /// The day partition (`2024-08-01`), or `__HIVE_DEFAULT_PARTITION__` for rows with no
    /// `@timestamp`.
    pub dt: String,
    pub rows: u64,
    pub bytes: u64,
    /// `@timestamp` range in epoch milliseconds (None when every row lacks it).
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    /// Distinct `cloud.account.id` / `cloud.region` values, for `store info` without a scan.
    #[serde(default)]
    pub accounts: BTreeSet<String>,
    #[serde(default)]
    pub regions: BTreeSet<String>,
}

/// A source file that has been ingested; re-ingesting it is a no-op.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceFile {
    /// As given (absolute for local files, `s3://bucket/key` for objects).
    pub path: String,
    pub size: u64,
    /// Modification time in epoch milliseconds (local files) or 0.
    pub mtime_ms: i64,
    /// xxh3-128 of the file's bytes, hex.
    pub hash: String,
    /// Records of this file that were rejected (each reported when ingesting).
    pub rejected: u64,
    /// Set when the file could not be read to its end (its readable records are stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            format: FORMAT,
            ..Manifest::default()
        }
    }

    /// Reads the current manifest; a store without one is empty.
    pub fn load(root: &Path) -> Result<Manifest, StoreError> {
        let Some((path, bytes)) = read(root)? else {
            return Ok(Manifest::empty());
        };
        Manifest::from_bytes(&path.display().to_string(), &bytes)
    }

    /// A manifest read from elsewhere (an object store); `name` names it in errors.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Manifest, StoreError> {
        let m: Manifest = parse(name, bytes)?;
        check_format(name, m.format)?;
        Ok(m)
    }

    /// The manifest without its `sources` (left empty), for readers: queries need only the
    /// data files, and a big store's sources (one per ingested log file, 24k at 10M events)
    /// were a measurable share of a store hunt to parse.
    pub fn load_data_files(root: &Path) -> Result<Manifest, StoreError> {
        let Some((path, bytes)) = read(root)? else {
            return Ok(Manifest::empty());
        };
        Manifest::data_files_from_bytes(&path.display().to_string(), &bytes)
    }

    /// [`Manifest::load_data_files`] of a manifest read from elsewhere (an object store).
    pub fn data_files_from_bytes(name: &str, bytes: &[u8]) -> Result<Manifest, StoreError> {
        /// Unknown members (`sources`) are skipped by the parser without being built.
        #[derive(Deserialize)]
        struct DataFilesOnly {
            format: u32,
            version: u64,
            files: Vec<DataFile>,
        }
        let m: DataFilesOnly = parse(name, bytes)?;
        check_format(name, m.format)?;
        Ok(Manifest {
            format: m.format,
            version: m.version,
            files: m.files,
            sources: vec![],
        })
    }

    /// Publishes this manifest: written to a temporary file, flushed to disk, then renamed
    /// over the old one (atomic on POSIX file systems), and the directory synced.
    pub fn publish(&self, root: &Path) -> Result<(), StoreError> {
        let path = root.join(MANIFEST_PATH);
        let dir = path.parent().expect("manifest has a parent");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let tmp = dir.join(format!("manifest.json.tmp-{}", std::process::id()));
        let body = serde_json::to_vec_pretty(self).expect("manifest serializes");
        let mut f = std::fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(&body).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        sync_dir(dir);
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}

/// Makes a rename durable (best effort: not every platform can open a directory).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn read(root: &Path) -> Result<Option<(std::path::PathBuf, Vec<u8>)>, StoreError> {
    let path = root.join(MANIFEST_PATH);
    match std::fs::read(&path) {
        Ok(b) => Ok(Some((path, b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(&path, e)),
    }
}

fn parse<'a, T: Deserialize<'a>>(name: &str, bytes: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        path: name.to_string(),
        message: e.to_string(),
    })
}

fn check_format(name: &str, format: u32) -> Result<(), StoreError> {
    if format > FORMAT {
        return Err(StoreError::Corrupt {
            path: name.to_string(),
            message: format!(
                "manifest format {format} is newer than this trailhunt understands ({FORMAT}); upgrade trailhunt"
            ),
        });
    }
    Ok(())
}
