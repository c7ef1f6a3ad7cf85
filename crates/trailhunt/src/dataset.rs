//! Raw CloudTrail files as the engine's `logs-aws.cloudtrail-default` dataset: the engine
//! asks for columns, the cloudtrail reader streams exactly those. Bad inputs are reported
//! once each on stderr (or, with `--strict`, end the run) and counted for the summary.

use cloudtrail::{Diagnostic, ScanOptions, ScanStats};
use engine::{BatchIter, Dataset};
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
}

impl CloudTrailFiles {
    pub fn new(files: Vec<PathBuf>, strict: bool, quiet: bool) -> CloudTrailFiles {
        CloudTrailFiles {
            files,
            strict,
            printed: Arc::new(Mutex::new(HashSet::new())),
            last_stats: Mutex::new(None),
            quiet,
        }
    }

    /// Counters of the most recent scan (every scan reads every file).
    pub fn stats(&self) -> Option<Arc<ScanStats>> {
        self.last_stats.lock().ok().and_then(|s| s.clone())
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }
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
        cloudtrail::ecs_fields()
            .iter()
            .map(|f| Column {
                name: f.name.to_string(),
                ty: es_type(&f.es_type),
            })
            .collect()
    }

    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        cloudtrail::arrow_schema(None).expect("the full schema always resolves")
    }

    fn scan(&self, columns: &[String]) -> Result<BatchIter, String> {
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
            ..ScanOptions::default()
        };
        let scan = cloudtrail::scan(self.files.clone(), opts);
        if let Ok(mut s) = self.last_stats.lock() {
            *s = Some(scan.stats());
        }
        Ok(Box::new(scan.map(|r| r.map_err(|e| e.to_string()))))
    }
}
