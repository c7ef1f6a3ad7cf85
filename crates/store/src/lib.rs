//! trailhunt's embedded store: CloudTrail normalized once into Parquet, partitioned by day,
//! so hunts read columns and skip days instead of re-parsing gzipped JSON.
//!
//! Layout (readable by DuckDB, Spark, pandas with hive partitioning):
//!
//! ```text
//! STORE/dt=2024-08-01/part-00000003-00001.parquet   zstd, sorted by provider, action, time
//! STORE/_trailhunt/manifest.json                    the committed state (atomic rename)
//! STORE/_trailhunt/lock                             held by the one writer
//! ```
//!
//! Readers trust only the manifest, so they see a commit entirely or not at all.

pub mod ingest;
pub mod location;
pub mod lock;
pub mod manifest;
pub mod progress;
pub mod read;
pub mod remote;
mod write;

pub use ingest::{IngestOptions, IngestReport, Progress, ProgressFn};
pub use location::StoreLocation;
pub use manifest::{DataFile, Manifest, SourceFile};
pub use read::{align, StoreTable, TimeRange};

use datafusion::arrow::datatypes::SchemaRef;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {error}")]
    Io {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{path}: damaged store manifest: {message}")]
    Corrupt { path: String, message: String },
    #[error("the store {store} is being written by another trailhunt ({holder}); wait for it to finish, or use another --store")]
    Locked { store: String, holder: String },
    #[error("no trailhunt store at {0}: ingest logs first (`trailhunt ingest SRC... --store {0}`), or pass --input to query raw files")]
    NotFound(String),
    /// A store in S3: what S3 said, and what to check.
    #[error("{0}")]
    Remote(String),
    #[error("reading sources: {0}")]
    Scan(String),
    #[error("schema: {0}")]
    Schema(String),
    #[error("writing data files: {0}")]
    Writer(String),
    #[error("Arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("Parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
}

impl StoreError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}

/// A store directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens an existing store for reading.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        if !root.join(manifest::MANIFEST_PATH).is_file() {
            return Err(StoreError::NotFound(root.display().to_string()));
        }
        Ok(Store { root })
    }

    /// Opens a store for writing, creating the directory if needed.
    pub fn create(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| StoreError::io(&root, e))?;
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The schema of the store's table: the current ECS schema. Files written by older
    /// versions with fewer columns read as nulls in the new ones.
    pub fn schema(&self) -> SchemaRef {
        cloudtrail::arrow_schema(None).expect("the full schema always resolves")
    }

    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        Manifest::load(&self.root)
    }

    /// A DataFusion table over the current commit.
    pub fn table(&self) -> Result<Arc<StoreTable>, StoreError> {
        Ok(Arc::new(StoreTable::new(
            self.root.clone(),
            Arc::new(self.manifest()?),
            self.schema(),
        )))
    }

    pub(crate) fn lock(&self, what: &str) -> Result<lock::WriteLock, StoreError> {
        lock::WriteLock::acquire(&self.root, what)
    }

    /// Adds CloudTrail files (already expanded) to the store.
    pub fn ingest(
        &self,
        files: &[PathBuf],
        opts: IngestOptions,
    ) -> Result<IngestReport, StoreError> {
        ingest::ingest(self, files, opts)
    }

    /// Deletes data files no manifest names (left by an interrupted write). Only called
    /// with the write lock held.
    pub(crate) fn remove_leftovers(&self, m: &Manifest) -> Result<usize, StoreError> {
        let live: HashSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        let mut removed = 0;
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) => return Err(StoreError::io(&self.root, e)),
        };
        for dir in entries.flatten() {
            let name = dir.file_name().to_string_lossy().to_string();
            if !name.starts_with("dt=") || !dir.path().is_dir() {
                continue;
            }
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            for f in files.flatten() {
                let fname = f.file_name().to_string_lossy().to_string();
                let rel = format!("{name}/{fname}");
                let ours = fname.ends_with(".parquet") || fname.ends_with(".parquet.tmp");
                if ours && !live.contains(rel.as_str()) {
                    let _ = std::fs::remove_file(f.path());
                    removed += 1;
                }
            }
            // Empty partitions go too.
            let _ = std::fs::remove_dir(dir.path());
        }
        Ok(removed)
    }

    /// Summary numbers, from the manifest alone.
    pub fn info(&self) -> Result<Info, StoreError> {
        Ok(Info::of(&self.manifest()?))
    }

    /// Compacts each day's small files into one, atomically: the merged file is written,
    /// a manifest naming it instead of its inputs is published, then the inputs are
    /// deleted. Files from older schemas are rewritten with the current one.
    pub fn vacuum(&self) -> Result<VacuumReport, StoreError> {
        let _lock = self.lock("vacuum")?;
        let mut m = Manifest::load(&self.root)?;
        let mut report = VacuumReport {
            leftovers_removed: self.remove_leftovers(&m)?,
            files_before: m.files.len(),
            ..VacuumReport::default()
        };
        let schema = self.schema();
        let mut by_day: BTreeMap<String, Vec<DataFile>> = BTreeMap::new();
        for f in &m.files {
            by_day.entry(f.dt.clone()).or_default().push(f.clone());
        }
        let version = m.version + 1;
        let mut replaced: HashSet<String> = HashSet::new();
        let mut new_files = vec![];
        let mut seq = 0;
        for (dt, files) in by_day {
            // Greedy groups of small files up to the size of one output file.
            let mut group: Vec<DataFile> = vec![];
            let mut rows = 0u64;
            let mut groups = vec![];
            for f in files {
                if f.rows >= COMPACT_TARGET_ROWS {
                    continue;
                }
                if rows + f.rows > COMPACT_TARGET_ROWS && !group.is_empty() {
                    groups.push(std::mem::take(&mut group));
                    rows = 0;
                }
                rows += f.rows;
                group.push(f);
            }
            groups.push(group);
            for g in groups.into_iter().filter(|g| g.len() > 1) {
                let mut batches = vec![];
                for f in &g {
                    batches.extend(read::read_file(&self.root, f, &schema)?);
                }
                seq += 1;
                let rel = format!("dt={dt}/part-{version:08}-{seq:05}.parquet");
                new_files.push(write::write_file(&self.root, &rel, &dt, batches)?);
                report.partitions_compacted += 1;
                replaced.extend(g.into_iter().map(|f| f.path));
            }
        }
        if replaced.is_empty() {
            report.files_after = m.files.len();
            return Ok(report);
        }
        m.files.retain(|f| !replaced.contains(&f.path));
        m.files.extend(new_files);
        m.files.sort_by(|a, b| a.path.cmp(&b.path));
        m.version = version;
        m.publish(&self.root)?;
        for p in &replaced {
            let _ = std::fs::remove_file(self.root.join(p));
        }
        report.files_after = m.files.len();
        Ok(report)
    }
}

/// Files at least this big are left alone by vacuum.
const COMPACT_TARGET_ROWS: u64 = 200_000;

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, Default)]
pub struct Info {
    pub events: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub accounts: BTreeSet<String>,
    pub regions: BTreeSet<String>,
    pub files: usize,
    pub partitions: usize,
    pub bytes: u64,
    pub sources: usize,
    pub version: u64,
}

impl Info {
    /// Summary numbers of a manifest.
    pub fn of(m: &Manifest) -> Info {
        let mut info = Info {
            events: m.rows(),
            files: m.files.len(),
            bytes: m.files.iter().map(|f| f.bytes).sum(),
            sources: m.sources.len(),
            version: m.version,
            ..Info::default()
        };
        let mut days = BTreeSet::new();
        for f in &m.files {
            info.first = min_opt(info.first, f.min_ts);
            info.last = max_opt(info.last, f.max_ts);
            info.accounts.extend(f.accounts.iter().cloned());
            info.regions.extend(f.regions.iter().cloned());
            days.insert(f.dt.clone());
        }
        info.partitions = days.len();
        info
    }
}

#[derive(Debug, Clone, Default)]
pub struct VacuumReport {
    pub files_before: usize,
    pub files_after: usize,
    pub partitions_compacted: usize,
    pub leftovers_removed: usize,
}
