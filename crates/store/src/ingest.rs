//! Ingest: raw CloudTrail files → store, idempotently and in atomic commits.
//!
//! Each source file is identified by its path, size, mtime and content hash. A file seen
//! before (same path, size and mtime — or the same bytes anywhere) is skipped. New files are
//! normalized by `cloudtrail::scan`, the very code path raw queries use, so the store holds
//! exactly the rows a query over the raw files would see. Work is committed in chunks: each
//! chunk's Parquet files are written first and then one new manifest naming them (and their
//! sources) is published by rename. The next chunk is scanned while the previous one's last
//! files are written (the writer thread would otherwise finish each chunk with the scan
//! stopped), so a crash loses at most the last two chunks: their files are unlisted
//! leftovers removed by the next writer, and their sources are not yet recorded, so the next
//! ingest redoes exactly that work.

use crate::manifest::{Manifest, SourceFile};
pub use crate::progress::{Progress, ProgressFn};
use crate::{Store, StoreError};
use cloudtrail::{Diagnostic, DiagnosticKind, ScanOptions};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Source bytes per commit; bounds the work a crash can lose.
const CHUNK_BYTES: u64 = 256 * 1024 * 1024;
const CHUNK_FILES: usize = 2000;

#[derive(Default)]
pub struct IngestOptions {
    pub progress: Option<ProgressFn>,
    /// Stop after this many commits; None = all.
    pub max_commits: Option<usize>,
    /// Commit after at most this many source files (default: by size, 256 MB or 2000
    /// files); smaller commits lose less to a crash but make more small files.
    pub commit_files: Option<usize>,
    /// The name to record for a file instead of its path (`s3://bucket/key` for an
    /// object read from a local copy).
    pub source_names: HashMap<PathBuf, String>,
    /// GeoIP (or similar) for every record stored, so the store's `source.geo.*` and
    /// `source.as.*` columns hold what a raw query with the same databases reads. Files
    /// already in the store are not read again: their rows keep what they were stored with.
    pub enrich: Option<Arc<dyn cloudtrail::Enrich>>,
    /// Caps on what one file or record may cost (see `cloudtrail::limits`).
    pub limits: cloudtrail::Limits,
    /// Where every problem goes in full, rejected records' bytes included (`--errors`).
    pub error_log: Option<Arc<cloudtrail::ErrorLog>>,
    /// The interpreted pipeline on every record (`cloudtrail::ScanOptions::interpreted`).
    pub interpreted: bool,
}

/// What an ingest did, for the summary.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Files given (after expansion).
    pub files_seen: usize,
    /// Files ingested now.
    pub files_ingested: usize,
    /// Files skipped because they were already in the store.
    pub files_skipped: usize,
    /// Records stored.
    pub records: u64,
    /// Records (or files) not stored, with the reason; first ones only.
    pub rejected: u64,
    pub reasons: Vec<String>,
    /// Bytes of source files read.
    pub bytes_read: u64,
    pub data_files_written: usize,
    pub commits: usize,
    pub elapsed_secs: f64,
}

/// Reasons kept for the summary (the rest are counted).
const MAX_REASONS: usize = 20;

struct Candidate {
    path: PathBuf,
    key: String,
    size: u64,
    mtime_ms: i64,
    hash: String,
}

pub(crate) fn ingest(
    store: &Store,
    files: &[PathBuf],
    mut opts: IngestOptions,
) -> Result<IngestReport, StoreError> {
    let started = Instant::now();
    let _lock = store.lock("ingest")?;
    let mut manifest = Manifest::load(store.root())?;
    store.remove_leftovers(&manifest)?;
    let mut report = IngestReport {
        files_seen: files.len(),
        ..IngestReport::default()
    };

    // Which files are new.
    let by_path: HashMap<&str, usize> = manifest
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.path.as_str(), i))
        .collect();
    let by_hash: HashMap<&str, usize> = manifest
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.hash.as_str(), i))
        .collect();
    let mut todo: Vec<Candidate> = vec![];
    let mut touched: Vec<(usize, i64)> = vec![];
    let mut seen_hashes: HashMap<String, String> = HashMap::new();
    for path in files {
        let key = opts
            .source_names
            .get(path)
            .cloned()
            .unwrap_or_else(|| source_key(path));
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                reject(&mut report, format!("{}: {e}", path.display()));
                continue;
            }
        };
        let size = meta.len();
        let mtime_ms = mtime_ms(&meta);
        if let Some(&i) = by_path.get(key.as_str()) {
            let s = &manifest.sources[i];
            if s.size == size && s.mtime_ms == mtime_ms {
                report.files_skipped += 1;
                continue;
            }
        }
        let hash = match hash_file(path) {
            Ok(h) => h,
            Err(e) => {
                reject(&mut report, format!("{}: {e}", path.display()));
                continue;
            }
        };
        if let Some(&i) = by_hash.get(hash.as_str()) {
            // Same bytes as a file already stored (touched, or copied elsewhere).
            report.files_skipped += 1;
            if manifest.sources[i].path == key {
                touched.push((i, mtime_ms));
            }
            continue;
        }
        if let Some(&i) = by_path.get(key.as_str()) {
            reject(
                &mut report,
                format!(
                    "{key}: changed since it was ingested (size {} → {size}); its earlier records stay in the store and the new content was not added. Move the new version to another path to add it",
                    manifest.sources[i].size
                ),
            );
            continue;
        }
        if let Some(first) = seen_hashes.get(&hash) {
            report.files_skipped += 1;
            report
                .reasons
                .push(format!("{key}: same content as {first}, ingested once"));
            continue;
        }
        seen_hashes.insert(hash.clone(), key.clone());
        todo.push(Candidate {
            path: path.clone(),
            key,
            size,
            mtime_ms,
            hash,
        });
    }
    if !touched.is_empty() {
        for (i, m) in touched {
            manifest.sources[i].mtime_ms = m;
        }
        manifest.version += 1;
        manifest.publish(store.root())?;
    }

    // Day by day: CloudTrail's S3 layout lists a day once per account and region, and each
    // visit used to leave its own small file per day (and per commit). Read in delivery-day
    // order, a day's records arrive together and are written as few, full files — fewer
    // footers for every later query to parse (1M generated events: 92 → 27 files, store seed hunt 0.12 → 0.06 s).
    todo.sort_by_cached_key(|c| delivery_day(&c.key));

    let mut progress = Progress {
        files_total: todo.len(),
        bytes_total: todo.iter().map(|c| c.size).sum(),
        ..Progress::default()
    };
    if let Some(cb) = opts.progress.as_mut() {
        cb(&progress);
    }
    let schema = store.schema();
    let mut chunks: Vec<Vec<Candidate>> = vec![];
    let (mut bytes, mut cur) = (0u64, vec![]);
    for c in todo {
        bytes += c.size;
        cur.push(c);
        if bytes >= CHUNK_BYTES || cur.len() >= opts.commit_files.unwrap_or(CHUNK_FILES).max(1) {
            chunks.push(std::mem::take(&mut cur));
            bytes = 0;
        }
    }
    if !cur.is_empty() {
        chunks.push(cur);
    }

    // Chunk after chunk: scan and buffer, then hand the chunk's last files to the writer
    // thread and go on with the next chunk while they are written. A chunk is committed
    // (its manifest published) as soon as its files are all on disk, in chunk order.
    let mut writer = crate::write::PartitionWriter::new(store.root());
    let mut pending: VecDeque<ScannedChunk> = VecDeque::new();
    let first_version = manifest.version + 1;
    let mut result = Ok(());
    for (started_chunks, chunk) in chunks.into_iter().enumerate() {
        if opts.max_commits.is_some_and(|m| started_chunks >= m) {
            break;
        }
        let version = first_version + started_chunks as u64;
        writer.start_commit(version);
        let scanned = scan_chunk(
            chunk,
            &mut writer,
            &schema,
            &mut opts,
            &mut progress,
            started,
            |writer| {
                while let Some(files) = writer.try_committed()? {
                    let done = pending.pop_front().expect("a commit was pending");
                    commit(store, &mut manifest, &mut report, done, files)?;
                }
                Ok(())
            },
        )
        .and_then(|scanned| writer.end_commit().map(|()| scanned));
        match scanned {
            Ok(scanned) => {
                pending.push_back(ScannedChunk { version, ..scanned });
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    // Chunks scanned before an error are still committed once written.
    while let Some(done) = pending.pop_front() {
        let files = writer.wait_committed()?;
        commit(store, &mut manifest, &mut report, done, files)?;
    }
    writer.finish()?;
    result?;
    report.elapsed_secs = started.elapsed().as_secs_f64();
    if let Some(cb) = opts.progress.as_mut() {
        progress.finished = true;
        progress.elapsed_secs = report.elapsed_secs;
        cb(&progress);
    }
    Ok(report)
}

fn reject(report: &mut IngestReport, reason: String) {
    report.rejected += 1;
    if report.reasons.len() < MAX_REASONS {
        report.reasons.push(reason);
    }
}

/// How a source is named in the manifest: its absolute path, so the same file given by a
/// relative path from another directory is still recognised. A path that is not UTF-8 cannot
/// be shown as it is, and its lossy form could be another file's: it is kept exactly, as
/// `bytes:` and the path with each byte outside printable ASCII (and `%`) written `%XX`
/// (no absolute path starts with `bytes:`, so no key is two files').
fn source_key(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Some(s) = abs.to_str() {
        return s.to_string();
    }
    use std::os::unix::ffi::OsStrExt;
    let mut key = String::from("bytes:");
    for &b in abs.as_os_str().as_bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            key.push(b as char);
        } else {
            key.push_str(&format!("%{b:02X}"));
        }
    }
    key
}

fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

/// xxh3-128 of the file's bytes: cheap, and collisions between log files are not a
/// realistic concern (this is identity, not security).
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = twox_hash::XxHash3_128::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
    }
    Ok(format!("{:032x}", h.finish_128()))
}

/// The `YYYY/MM/DD` delivery folder of a source ([`sources::delivery_date`]) as a sortable
/// number; `None` (sorted first, in their given order) for other paths.
fn delivery_day(key: &str) -> Option<u32> {
    match sources::delivery_date(key)? {
        (y, Some(m), Some(d)) => Some(y * 10_000 + m * 100 + d),
        _ => None,
    }
}

/// A chunk whose rows are all with the writer, waiting for its files to be written.
struct ScannedChunk {
    version: u64,
    chunk: Vec<Candidate>,
    problems: Problems,
    stats: Arc<cloudtrail::ScanStats>,
}

/// A chunk's problems, summed up as they come: a file of a million bad lines costs a count,
/// not a million diagnostics in memory (the `--errors` log has each one).
#[derive(Default)]
struct Problems {
    rejected_by: BTreeMap<PathBuf, u64>,
    failed_by: BTreeMap<PathBuf, String>,
    /// Rejected records and failed files.
    count: u64,
    /// The first [`MAX_REASONS`], in words.
    reasons: Vec<String>,
}

impl Problems {
    fn add(&mut self, d: &Diagnostic) {
        match d.kind {
            DiagnosticKind::Rejected => {
                *self.rejected_by.entry(d.path.clone()).or_default() += 1;
            }
            DiagnosticKind::FileFailed => {
                self.failed_by.insert(d.path.clone(), d.message.clone());
            }
            DiagnosticKind::PipelineError => return,
        }
        self.count += 1;
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(d.to_string());
        }
    }
}

/// Scans one chunk into the writer, reporting each file read. `between` runs after each
/// batch (it commits earlier chunks whose files are done).
fn scan_chunk(
    chunk: Vec<Candidate>,
    writer: &mut crate::write::PartitionWriter,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    opts: &mut IngestOptions,
    progress: &mut Progress,
    started: Instant,
    mut between: impl FnMut(&mut crate::write::PartitionWriter) -> Result<(), StoreError>,
) -> Result<ScannedChunk, StoreError> {
    let problems: Arc<Mutex<Problems>> = Arc::default();
    let sink = problems.clone();
    let files_done = crate::progress::FileQueue::default();
    let log = opts.error_log.clone();
    let scan_opts = ScanOptions {
        columns: None,
        limits: opts.limits,
        keep_raw: log.is_some(),
        // The writer buffers and re-sorts rows per day anyway.
        exact_batches: false,
        enrich: opts.enrich.clone(),
        interpreted: opts.interpreted,
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            if let Some(log) = &log {
                log.diagnostic(d);
            }
            if let Ok(mut p) = sink.lock() {
                p.add(d);
            }
        })),
        observer: Some(files_done.observer()),
        ..ScanOptions::default()
    };
    let paths: Vec<PathBuf> = chunk.iter().map(|c| c.path.clone()).collect();
    let scan = cloudtrail::scan(paths, scan_opts);
    let stats = scan.stats();
    for batch in scan {
        let batch = batch.map_err(|e| StoreError::Scan(e.to_string()))?;
        let batch = crate::read::align(&batch, schema)?;
        writer.push(batch)?;
        between(writer)?;
        files_done.drain(progress, started, opts.progress.as_mut());
    }
    files_done.drain(progress, started, opts.progress.as_mut());
    let problems = std::mem::take(&mut *problems.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(ScannedChunk {
        version: 0,
        chunk,
        problems,
        stats,
    })
}

/// Publishes the manifest that adds a written chunk: its sources (with per-source counts
/// from the diagnostics) and its data files.
fn commit(
    store: &Store,
    manifest: &mut Manifest,
    report: &mut IngestReport,
    done: ScannedChunk,
    written: Vec<crate::manifest::DataFile>,
) -> Result<(), StoreError> {
    let Problems {
        rejected_by,
        failed_by,
        count,
        reasons,
    } = done.problems;
    report.rejected += count;
    let room = MAX_REASONS.saturating_sub(report.reasons.len());
    report.reasons.extend(reasons.into_iter().take(room));
    for c in &done.chunk {
        manifest.sources.push(SourceFile {
            path: c.key.clone(),
            size: c.size,
            mtime_ms: c.mtime_ms,
            hash: c.hash.clone(),
            rejected: rejected_by.get(&c.path).copied().unwrap_or(0),
            error: failed_by.get(&c.path).cloned(),
        });
    }
    report.data_files_written += written.len();
    manifest.files.extend(written);
    manifest.version = done.version;
    manifest.publish(store.root())?;
    report.commits += 1;
    report.files_ingested += done.chunk.len();
    report.records += done.stats.records();
    report.bytes_read += done.stats.bytes();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{delivery_day, source_key};

    #[test]
    fn names_that_are_not_utf8_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let p = |b: &[u8]| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b));
        assert_eq!(source_key(&p(b"/l/a b.json")), "/l/a b.json");
        assert_eq!(source_key(&p(b"/l/a\xff%.json")), "bytes:/l/a%FF%25.json");
        // Two names that read the same once made lossy are two sources.
        assert_ne!(source_key(&p(b"/l/\xfe")), source_key(&p(b"/l/\xff")));
    }

    #[test]
    fn delivery_days_from_s3_layout_paths() {
        assert_eq!(
            delivery_day("/x/AWSLogs/123/CloudTrail/eu-west-1/2024/08/01/a.json.gz"),
            Some(20240801)
        );
        assert_eq!(
            delivery_day("s3://b/AWSLogs/o-abc/123/CloudTrail/us-east-1/2023/12/31/f.json.gz"),
            Some(20231231)
        );
        assert_eq!(delivery_day("/logs/export.json"), None);
        assert_eq!(delivery_day("/x/CloudTrail/eu-west-1/24/08/01/a"), None);
    }
}
