//! Raw CloudTrail files as the engine's `logs-aws.cloudtrail-default` dataset: the engine
//! asks for columns, the cloudtrail reader streams exactly those. Bad inputs are reported
//! once each on stderr (or, with `--strict`, end the run) and counted for the summary.
//!
//! The query's filters come down as a [`Pushdown`]: literal clauses on fields the pipeline
//! copies verbatim become the reader's [`Prefilter`] (records that cannot match are skipped
//! unparsed), and a time range skips files whose `AWSLogs/…/YYYY/MM/DD/` folder lies outside
//! it. Both are necessary conditions; the plan still filters every row read.

use cloudtrail::{Diagnostic, Prefilter, ScanOptions, ScanStats};
use engine::{BatchIter, Dataset, Pushdown};
use esql::{Column, DataType};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The data stream name Elastic's integration writes CloudTrail to.
pub const INDEX_NAME: &str = "logs-aws.cloudtrail-default";

pub struct CloudTrailFiles {
    files: Vec<PathBuf>,
    strict: bool,
    printed: Arc<Mutex<HashSet<String>>>,
    last_stats: Mutex<Option<Arc<ScanStats>>>,
    quiet: bool,
    pushdown: bool,
    /// Files left out of the last scan by the query's time range.
    last_pruned: Mutex<usize>,
}

impl CloudTrailFiles {
    pub fn new(files: Vec<PathBuf>, strict: bool, quiet: bool) -> CloudTrailFiles {
        CloudTrailFiles {
            files,
            strict,
            printed: Arc::new(Mutex::new(HashSet::new())),
            last_stats: Mutex::new(None),
            quiet,
            pushdown: true,
            last_pruned: Mutex::new(0),
        }
    }

    /// Whether to use the query's filters to skip input (on by default).
    pub fn with_pushdown(mut self, on: bool) -> CloudTrailFiles {
        self.pushdown = on;
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

/// Every CloudTrail column with its ES|QL type, as `FROM logs-aws.cloudtrail*` lists them
/// (raw files and the store alike).
pub fn ecs_columns() -> Vec<Column> {
    cloudtrail::ecs_fields()
        .iter()
        .map(|f| Column {
            name: f.name.to_string(),
            ty: es_type(&f.es_type),
        })
        .collect()
}

/// ES|QL type of a CloudTrail field.
pub fn es_type(t: &cloudtrail::EsType) -> DataType {
    match t {
        cloudtrail::EsType::Keyword => DataType::Keyword,
        cloudtrail::EsType::Text => DataType::Text,
        cloudtrail::EsType::Long => DataType::Long,
        cloudtrail::EsType::Boolean => DataType::Boolean,
        cloudtrail::EsType::Date => DataType::Date,
        cloudtrail::EsType::Ip => DataType::Ip,
        _ => DataType::Unsupported,
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

    fn scan(&self, columns: &[String]) -> Result<BatchIter, String> {
        self.scan_filtered(columns, &Pushdown::default())
    }

    fn uses_pushdown(&self) -> bool {
        self.pushdown
    }

    fn scan_filtered(&self, columns: &[String], pushdown: &Pushdown) -> Result<BatchIter, String> {
        let range = crate::s3::DayRange::from_millis(pushdown.time_min, pushdown.time_max);
        let files: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| range.admits_path(&f.to_string_lossy().replace('\\', "/")))
            .cloned()
            .collect();
        if let Ok(mut n) = self.last_pruned.lock() {
            *n = self.files.len() - files.len();
        }
        let printed = self.printed.clone();
        let quiet = self.quiet;
        let on_diagnostic: Arc<dyn Fn(&Diagnostic) + Send + Sync> =
            Arc::new(move |d: &Diagnostic| {
                let line = d.to_string();
                let mut seen = printed.lock().unwrap_or_else(|p| p.into_inner());
                if seen.insert(line.clone()) && !quiet {
                    eprintln!("warning: {line}");
                }
            });
        let opts = ScanOptions {
            columns: Some(columns.to_vec()),
            strict: self.strict,
            on_diagnostic: Some(on_diagnostic),
            prefilter: prefilter(pushdown),
            ..ScanOptions::default()
        };
        let scan = cloudtrail::scan(files, opts);
        if let Ok(mut s) = self.last_stats.lock() {
            *s = Some(scan.stats());
        }
        Ok(Box::new(scan.map(|r| r.map_err(|e| e.to_string()))))
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
