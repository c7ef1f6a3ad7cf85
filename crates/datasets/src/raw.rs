//! Raw CloudTrail files as the engine's `logs-aws.cloudtrail-default` dataset: the engine
//! asks for columns, the cloudtrail reader streams exactly those. Bad inputs are reported
//! once each on stderr (or, with `--strict`, end the run) and counted for the summary.
//!
//! The query's filters come down as a [`Pushdown`]: literal clauses on fields the pipeline
//! copies verbatim become the reader's [`Prefilter`] (records that cannot match are skipped
//! unparsed), and a time range skips files whose `AWSLogs/…/YYYY/MM/DD/` folder lies outside
//! it. Both are necessary conditions; the plan still filters every row read. Fields an
//! enrichment step derives (GeoIP's `source.geo.*`, `source.as.*`, the parsed
//! `user_agent.name` and the rest of `user_agent.*` but `original`) are never verbatim, so a
//! literal compared with them never has to appear in the record's text.
//!
//! Accounting: every file given is read, or left out by the time range, or was left out of
//! the list with a [`SourceNote`] (a second path to a file already listed, a FIFO, …); every
//! record read is kept, skipped by the prefilter after a structural check, or rejected with
//! its reason. [`CloudTrailFiles::summary`] says all of it in one line. Warnings are capped
//! per file ([`WARNINGS_PER_FILE`]) so a file of a million bad lines cannot flood the
//! terminal; the `--errors` log ([`cloudtrail::ErrorLog`]) gets every one.

use crate::{ecs_columns, INDEX_NAME};
use cloudtrail::{
    Diagnostic, DiagnosticKind, Enrich, ErrorLog, Limits, Prefilter, ScanOptions, ScanStats,
};
use engine::{BatchIter, Dataset, DatasetError, Pushdown};
use esql::Column;
use sources::{DayRange, NoteKind, SourceNote};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Receives each distinct problem with the input once (a bad file, a rejected record).
pub type Reporter = Arc<dyn Fn(&Diagnostic) + Send + Sync>;

/// Rejected records reported one by one per file; the rest are counted in the summary.
pub const WARNINGS_PER_FILE: u64 = 20;

/// Problems already seen (each file is read again by every query of a hunt run), and how
/// many of each file's were not shown.
#[derive(Default)]
struct Seen {
    /// A hash of each problem's text (a million bad lines cost 8 MB, not their text).
    problems: HashSet<u64>,
    shown: BTreeMap<PathBuf, u64>,
    hidden: BTreeMap<PathBuf, u64>,
}

pub struct CloudTrailFiles {
    files: Vec<PathBuf>,
    strict: bool,
    /// GeoIP (or similar) run on every normalized record (see `cloudtrail::enrich`).
    enrich: Option<Arc<dyn Enrich>>,
    /// Problems already reported: each file is read again by every query of a hunt run.
    reported: Arc<Mutex<Seen>>,
    reporter: Option<Reporter>,
    /// Where every distinct problem is written, raw bytes included (`--errors`).
    error_log: Option<Arc<ErrorLog>>,
    limits: Limits,
    /// What was left out of `files` when the sources were expanded.
    source_notes: Vec<SourceNote>,
    /// The structural check's verdicts, kept from one query's scan to the next.
    check_cache: Arc<cloudtrail::CheckCache>,
    /// Where the verdicts are loaded from and saved to between runs, if anywhere.
    saved_checks: Option<PathBuf>,
    last_stats: Mutex<Option<Arc<ScanStats>>>,
    pushdown: bool,
    /// Every record through the interpreted pipeline (`ScanOptions::interpreted`).
    interpreted: bool,
    /// Files left out of the last scan by the query's time range.
    last_pruned: Mutex<usize>,
    /// Told of every scan's progress (a progress bar); `None` costs nothing.
    observer: Option<Arc<dyn cloudtrail::ScanObserver>>,
    /// Files that are S3 objects listed but not fetched here: a cluster's executors fetch
    /// them ([`RawSpec::objects`]).
    objects: BTreeMap<PathBuf, RemoteObject>,
    s3: S3Access,
}

impl CloudTrailFiles {
    /// The files as one dataset; `strict` makes the first bad file or record end the scan.
    pub fn new(files: Vec<PathBuf>, strict: bool) -> CloudTrailFiles {
        CloudTrailFiles {
            files,
            strict,
            enrich: None,
            reported: Arc::new(Mutex::new(Seen::default())),
            reporter: None,
            error_log: None,
            limits: Limits::default(),
            source_notes: Vec::new(),
            check_cache: Arc::default(),
            saved_checks: None,
            last_stats: Mutex::new(None),
            pushdown: true,
            interpreted: false,
            last_pruned: Mutex::new(0),
            observer: None,
            objects: BTreeMap::new(),
            s3: S3Access::default(),
        }
    }

    /// Marks files as S3 objects listed but not fetched (`sources::ExpandOptions::
    /// s3_list_only`): only a cluster, whose executors fetch them, can read them.
    pub fn with_remote_objects(
        mut self,
        objects: BTreeMap<PathBuf, RemoteObject>,
        s3: S3Access,
    ) -> CloudTrailFiles {
        self.objects = objects;
        self.s3 = s3;
        self
    }

    /// Who watches each scan's files go by (every query of a hunt scans again).
    pub fn with_observer(mut self, observer: Arc<dyn cloudtrail::ScanObserver>) -> CloudTrailFiles {
        self.observer = Some(observer);
        self
    }

    /// Where problems with the input go (each distinct one once); without a reporter they
    /// are only counted.
    pub fn with_reporter(mut self, reporter: Reporter) -> CloudTrailFiles {
        self.reporter = Some(reporter);
        self
    }

    /// Where every distinct problem goes in full, rejected records' bytes included.
    pub fn with_error_log(mut self, log: Arc<ErrorLog>) -> CloudTrailFiles {
        self.error_log = Some(log);
        self
    }

    /// Caps on what one file or record may cost (default [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> CloudTrailFiles {
        self.limits = limits;
        self
    }

    /// What the source expansion left out, for the summary.
    pub fn with_source_notes(mut self, notes: Vec<SourceNote>) -> CloudTrailFiles {
        self.source_notes = notes;
        self
    }

    /// Keep the structural check's verdicts in `path` between runs (see
    /// `cloudtrail::check_cache`): loaded now, saved when the dataset is dropped. Call after
    /// [`CloudTrailFiles::with_limits`] (the verdicts depend on the limits).
    pub fn with_saved_checks(mut self, path: PathBuf) -> CloudTrailFiles {
        self.check_cache = Arc::new(cloudtrail::CheckCache::load(&path, &self.limits));
        self.saved_checks = Some(path);
        self
    }

    /// Whether to use the query's filters to skip input (on by default).
    pub fn with_pushdown(mut self, on: bool) -> CloudTrailFiles {
        self.pushdown = on;
        self
    }

    /// Whether every record goes through the interpreted pipeline instead of the compiled
    /// normalizer (`--interpreted`; off by default).
    pub fn with_interpreted(mut self, on: bool) -> CloudTrailFiles {
        self.interpreted = on;
        self
    }

    /// An enrichment step for every record read (`--geoip`, `--asn`, `--ua-regexes`).
    pub fn with_enrich(mut self, enrich: Option<Arc<dyn Enrich>>) -> CloudTrailFiles {
        self.enrich = enrich;
        self
    }

    /// Files the last scan skipped by the query's time range.
    pub fn pruned_files(&self) -> usize {
        self.last_pruned.lock().map(|n| *n).unwrap_or(0)
    }

    /// Counters of the most recent scan (every scan reads every file).
    pub fn stats(&self) -> Option<Arc<ScanStats>> {
        self.last_stats.lock().ok().and_then(|s| s.clone())
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// One line (no trailing newline) saying what the last scan read and what it did not,
    /// and why: files read and unreadable, records processed and rejected (records in =
    /// processed + rejected), how many of them the prefilter skipped unparsed (each checked
    /// well-formed first), and what was not read at all — files outside the query's time
    /// range, second paths to files already read, loops, FIFOs and devices, unreadable
    /// entries, hidden entries — and warnings not shown.
    pub fn summary(&self) -> String {
        let mut line = match self.stats() {
            Some(s) => {
                let mut l = format!(
                    "{} files ({} unreadable), {} records, {} rejected, {:.1} MB",
                    s.files(),
                    s.files_failed(),
                    s.records() + s.skipped_records(),
                    s.rejected(),
                    s.bytes() as f64 / 1e6
                );
                if s.skipped_records() + s.skipped_values() > 0 {
                    l += &format!(
                        "; the prefilter skipped {} of the records unparsed ({} whole files or lines), each checked well-formed first: they cannot match the query",
                        s.skipped_records(),
                        s.skipped_values()
                    );
                }
                l
            }
            None => format!("{} files", self.files.len()),
        };
        let mut not_read = Vec::new();
        let pruned = self.pruned_files();
        if pruned > 0 {
            not_read.push(format!("{pruned} files outside the time range"));
        }
        let count = |kind: NoteKind| -> u64 {
            self.source_notes
                .iter()
                .filter(|n| n.kind == kind)
                .map(|n| n.count)
                .sum()
        };
        for (kind, one, many) in [
            (
                NoteKind::Duplicate,
                "second path to a file or folder already read",
                "second paths to files or folders already read",
            ),
            (NoteKind::Loop, "symbolic-link loop", "symbolic-link loops"),
            (
                NoteKind::Special,
                "FIFO, socket or device",
                "FIFOs, sockets or devices",
            ),
            (
                NoteKind::Unreadable,
                "unreadable folder, entry or broken link",
                "unreadable folders, entries or broken links",
            ),
            (NoteKind::Hidden, "hidden entry", "hidden entries"),
        ] {
            match count(kind) {
                0 => {}
                1 => not_read.push(format!("1 {one}")),
                n => not_read.push(format!("{n} {many}")),
            }
        }
        if !not_read.is_empty() {
            line += &format!("; not read: {}", not_read.join(", "));
        }
        let seen = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        let hidden: u64 = seen.hidden.values().sum();
        if hidden > 0 {
            line += &format!(
                "; {hidden} more rejected records in {} files not shown{}",
                seen.hidden.len(),
                if self.error_log.is_some() {
                    " (all are in the --errors file)"
                } else {
                    " (--errors FILE lists them all)"
                }
            );
        }
        line
    }
}

/// What another process (a cluster's executor) needs to read some of these files as this
/// dataset reads them: the files, `--strict`, the pushdown switch and the input limits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawSpec {
    pub files: Vec<PathBuf>,
    pub strict: bool,
    pub pushdown: bool,
    pub limits: Limits,
    /// The files that are S3 objects the reader fetches first (into its own cache), by
    /// their name in `files`.
    #[serde(default)]
    pub objects: BTreeMap<PathBuf, RemoteObject>,
    /// How the reader reaches S3 for `objects`.
    #[serde(default)]
    pub s3: S3Access,
}

/// An S3 object as listed by the client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RemoteObject {
    /// `s3://bucket/key`.
    pub url: String,
    pub size: u64,
}

/// What the user chose about reaching S3 (`--endpoint-url`, `--profile`); credentials are
/// never sent: every machine resolves its own (environment, profile, instance role).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct S3Access {
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
}

impl S3Access {
    pub fn options(&self) -> sources::S3Options {
        sources::S3Options {
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            cache_dir: None,
        }
    }
}

impl CloudTrailFiles {
    /// The files and settings as a [`RawSpec`]; `Err` says why they cannot be read
    /// elsewhere (enrichment needs its databases, which only this process has opened).
    pub fn spec(&self) -> Result<RawSpec, String> {
        if self.enrich.is_some() {
            return Err("GeoIP and user-agent enrichment (--geoip, --asn, --ua-regexes) do not run on a cluster yet: leave them out, or ingest with them and query the store".into());
        }
        Ok(RawSpec {
            files: self.files.clone(),
            strict: self.strict,
            pushdown: self.pushdown,
            limits: self.limits,
            objects: self.objects.clone(),
            s3: self.s3.clone(),
        })
    }

    /// The files of `spec`, read with its settings. The structural check's verdicts are
    /// kept in `saved_checks` when given, as for a local run.
    pub fn from_spec(spec: RawSpec, saved_checks: Option<PathBuf>) -> CloudTrailFiles {
        let files = CloudTrailFiles::new(spec.files, spec.strict)
            .with_pushdown(spec.pushdown)
            .with_limits(spec.limits);
        match saved_checks {
            Some(p) => files.with_saved_checks(p),
            None => files,
        }
    }

    /// Where each problem found by a scan goes: once each (a hunt scans every file once
    /// per query), to the `--errors` log and the reporter, at most [`WARNINGS_PER_FILE`]
    /// rejected records per file shown. Also for problems found by scans run elsewhere.
    pub fn diagnostic_sink(&self) -> Reporter {
        let reported = self.reported.clone();
        let reporter = self.reporter.clone();
        let log = self.error_log.clone();
        Arc::new(move |d: &Diagnostic| {
            if reporter.is_none() && log.is_none() {
                return;
            }
            let mut seen = reported.lock().unwrap_or_else(|p| p.into_inner());
            let hash = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                d.to_string().hash(&mut h);
                h.finish()
            };
            if !seen.problems.insert(hash) {
                return;
            }
            if let Some(log) = &log {
                log.diagnostic(d);
            }
            let Some(report) = &reporter else { return };
            if d.kind == DiagnosticKind::Rejected {
                let shown = seen.shown.entry(d.path.clone()).or_default();
                if *shown >= WARNINGS_PER_FILE {
                    *seen.hidden.entry(d.path.clone()).or_default() += 1;
                    return;
                }
                *shown += 1;
            }
            report(d);
        })
    }

    /// A scan of these files starts elsewhere (a cluster): until its parts report with
    /// [`CloudTrailFiles::remote_scan`], it has read nothing.
    pub fn remote_scan_started(&self) {
        self.remote_scan(&cloudtrail::ScanCounts::default(), 0);
    }

    /// What the scan that runs elsewhere has read so far, all parts added up, and how
    /// many files the time range left out: what [`CloudTrailFiles::summary`] reports.
    pub fn remote_scan(&self, counts: &cloudtrail::ScanCounts, pruned: usize) {
        let stats = ScanStats::default();
        stats.add(counts);
        if let Ok(mut s) = self.last_stats.lock() {
            *s = Some(Arc::new(stats));
        }
        if let Ok(mut n) = self.last_pruned.lock() {
            *n = pruned;
        }
    }
}

impl Dataset for CloudTrailFiles {
    fn name(&self) -> &str {
        INDEX_NAME
    }

    fn columns(&self) -> Vec<Column> {
        ecs_columns()
    }

    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        cloudtrail::arrow_schema(None).expect("the full schema always resolves")
    }

    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        self.scan_filtered(columns, &Pushdown::default())
    }

    fn uses_pushdown(&self) -> bool {
        self.pushdown
    }

    fn index_naming(&self) -> engine::IndexNaming {
        crate::index_naming()
    }

    fn document_id(&self) -> engine::DocumentId {
        crate::document_id()
    }

    fn scan_filtered(
        &self,
        columns: &[String],
        pushdown: &Pushdown,
    ) -> Result<BatchIter, DatasetError> {
        if let Some(o) = self.objects.values().next() {
            // Listed for a cluster's executors, never fetched here.
            return Err(DatasetError::source(std::io::Error::other(format!(
                "{} S3 objects (e.g. {}) were listed for a cluster and are not on this machine: this step runs here, not on the cluster; run it without --cluster",
                self.objects.len(),
                o.url
            ))));
        }
        let range = DayRange::from_millis(pushdown.time_min, pushdown.time_max);
        let files: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| range.admits_path(&f.to_string_lossy()))
            .cloned()
            .collect();
        if let Ok(mut n) = self.last_pruned.lock() {
            *n = self.files.len() - files.len();
        }
        let on_diagnostic = self.diagnostic_sink();
        let opts = ScanOptions {
            columns: Some(columns.to_vec()),
            limits: self.limits,
            keep_raw: self.error_log.is_some(),
            check_cache: Some(self.check_cache.clone()),
            interpreted: self.interpreted,
            strict: self.strict,
            // Only the steps that write a column the query reads.
            enrich: self
                .enrich
                .as_ref()
                .and_then(|e| cloudtrail::enrich::for_columns(e, columns)),
            on_diagnostic: Some(on_diagnostic),
            prefilter: prefilter(pushdown),
            observer: self.observer.clone(),
            ..ScanOptions::default()
        };
        let scan = cloudtrail::scan(files, opts);
        if let Ok(mut s) = self.last_stats.lock() {
            *s = Some(scan.stats());
        }
        Ok(Box::new(scan.map(|r| r.map_err(DatasetError::source))))
    }
}

/// The reader's prefilter: the clauses whose every needle is on a verbatim field (a clause
/// with any other needle could be satisfied by a row whose text shows none of its literals).
pub fn prefilter(pushdown: &Pushdown) -> Option<Prefilter> {
    let clauses = pushdown
        .required
        .iter()
        .filter(|c| {
            c.iter()
                .all(|n| cloudtrail::prefilter::verbatim_field(&n.column))
        })
        .map(|c| c.iter().map(|n| n.literal.clone()).collect())
        .collect();
    Prefilter::new(clauses)
}

impl Drop for CloudTrailFiles {
    /// Saves the structural check's verdicts (see [`CloudTrailFiles::with_saved_checks`]).
    /// Best effort: a cache that cannot be written only means the next run checks again.
    fn drop(&mut self) {
        if let Some(path) = &self.saved_checks {
            let _ = self.check_cache.save(path, &self.limits);
        }
    }
}
