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

use crate::{ecs_columns, INDEX_NAME};
use cloudtrail::{Diagnostic, Enrich, Prefilter, ScanOptions, ScanStats};
use engine::{BatchIter, Dataset, DatasetError, Pushdown};
use esql::Column;
use sources::DayRange;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Receives each distinct problem with the input once (a bad file, a rejected record).
pub type Reporter = Arc<dyn Fn(&Diagnostic) + Send + Sync>;

pub struct CloudTrailFiles {
    files: Vec<PathBuf>,
    strict: bool,
    /// GeoIP (or similar) run on every normalized record (see `cloudtrail::enrich`).
    enrich: Option<Arc<dyn Enrich>>,
    /// Problems already reported: each file is read again by every query of a hunt run.
    reported: Arc<Mutex<HashSet<String>>>,
    reporter: Option<Reporter>,
    last_stats: Mutex<Option<Arc<ScanStats>>>,
    pushdown: bool,
    /// Files left out of the last scan by the query's time range.
    last_pruned: Mutex<usize>,
    /// Told of every scan's progress (a progress bar); `None` costs nothing.
    observer: Option<Arc<dyn cloudtrail::ScanObserver>>,
}

impl CloudTrailFiles {
    /// The files as one dataset; `strict` makes the first bad file or record end the scan.
    pub fn new(files: Vec<PathBuf>, strict: bool) -> CloudTrailFiles {
        CloudTrailFiles {
            files,
            strict,
            enrich: None,
            reported: Arc::new(Mutex::new(HashSet::new())),
            reporter: None,
            last_stats: Mutex::new(None),
            pushdown: true,
            last_pruned: Mutex::new(0),
            observer: None,
        }
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

    /// Whether to use the query's filters to skip input (on by default).
    pub fn with_pushdown(mut self, on: bool) -> CloudTrailFiles {
        self.pushdown = on;
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
        let reported = self.reported.clone();
        let reporter = self.reporter.clone();
        let on_diagnostic: Reporter = Arc::new(move |d: &Diagnostic| {
            let Some(report) = &reporter else { return };
            let mut seen = reported.lock().unwrap_or_else(|p| p.into_inner());
            if seen.insert(d.to_string()) {
                report(d);
            }
        });
        let opts = ScanOptions {
            columns: Some(columns.to_vec()),
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
