//! Reading the store: a DataFusion table over one manifest snapshot, and a plain
//! batch iterator for callers without DataFusion (compaction, non-SQL consumers).
//!
//! The table prunes in two steps. First, files whose `@timestamp` range (kept in the
//! manifest) cannot match the query's time predicates are dropped without being opened —
//! this is where day partitioning pays. Then DataFusion's Parquet scan gets the remaining
//! files with the predicates and the projection, and prunes row groups and pages from
//! their statistics and page index.

use crate::location::StoreLocation;
use crate::manifest::{DataFile, Manifest};
use crate::StoreError;
use datafusion::arrow::array::{new_null_array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::{can_cast_types, cast};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;
use sources::S3Options;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Re-shapes a batch read from an older (or newer) file to `target`: missing columns
/// become nulls, extra columns are dropped, a changed type is cast when possible.
pub fn align(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch, StoreError> {
    let rows = batch.num_rows();
    // The common case (ingest: scan batches already have the store's columns) without a
    // by-name lookup of each of ~500 columns, which is a linear search of the schema.
    if batch.schema().fields() == target.fields() {
        let opts = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        return Ok(RecordBatch::try_new_with_options(
            target.clone(),
            batch.columns().to_vec(),
            &opts,
        )?);
    }
    let columns: Vec<ArrayRef> = target
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(c) if can_cast_types(c.data_type(), f.data_type()) => Ok(cast(c, f.data_type())?),
            _ => Ok(new_null_array(f.data_type(), rows)),
        })
        .collect::<Result<_, StoreError>>()?;
    let opts = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        target.clone(),
        columns,
        &opts,
    )?)
}

/// Reads one data file as batches of `target` (its columns, in its order).
pub fn read_file(
    root: &Path,
    file: &DataFile,
    target: &SchemaRef,
) -> Result<Vec<RecordBatch>, StoreError> {
    let path = root.join(&file.path);
    let f = std::fs::File::open(&path).map_err(|e| StoreError::io(&path, e))?;
    read_parquet(f, target)
}

/// [`read_file`] of a file's bytes (one fetched from S3).
pub fn read_bytes(bytes: bytes::Bytes, target: &SchemaRef) -> Result<Vec<RecordBatch>, StoreError> {
    read_parquet(bytes, target)
}

fn read_parquet<R: datafusion::parquet::file::reader::ChunkReader + 'static>(
    f: R,
    target: &SchemaRef,
) -> Result<Vec<RecordBatch>, StoreError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(f)?;
    let file_schema = builder.schema().clone();
    let wanted: Vec<usize> = file_schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| target.field_with_name(f.name()).is_ok())
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()?;
    let mut out = vec![];
    for b in reader {
        out.push(align(&b?, target)?);
    }
    Ok(out)
}

/// A closed time interval in epoch milliseconds; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl TimeRange {
    pub fn overlaps(&self, lo: Option<i64>, hi: Option<i64>) -> bool {
        match (lo, hi) {
            (Some(lo), Some(hi)) => {
                self.min.is_none_or(|m| hi >= m) && self.max.is_none_or(|m| lo <= m)
            }
            // A file of rows without @timestamp matches no time predicate.
            _ => self.min.is_none() && self.max.is_none(),
        }
    }

    fn lower(&mut self, v: i64) {
        self.min = Some(self.min.map_or(v, |m| m.max(v)));
    }

    fn upper(&mut self, v: i64) {
        self.max = Some(self.max.map_or(v, |m| m.min(v)));
    }
}

/// The `@timestamp` bounds implied by a conjunction of filters (those DataFusion pushes
/// to the scan). Anything not understood leaves the range open: pruning must only ever
/// drop files that cannot match.
pub fn time_range(filters: &[Expr], column: &str) -> TimeRange {
    let mut r = TimeRange::default();
    for f in filters {
        collect(f, column, &mut r);
    }
    r
}

fn collect(e: &Expr, column: &str, r: &mut TimeRange) {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if *op == Operator::And {
                collect(left, column, r);
                collect(right, column, r);
                return;
            }
            let (op, v) = match (is_column(left, column), is_column(right, column)) {
                (true, false) => match millis(right) {
                    Some(v) => (*op, v),
                    None => return,
                },
                (false, true) => match (op.swap(), millis(left)) {
                    (Some(op), Some(v)) => (op, v),
                    _ => return,
                },
                _ => return,
            };
            match op {
                Operator::Eq => {
                    r.lower(v);
                    r.upper(v);
                }
                Operator::Gt => r.lower(v.saturating_add(1)),
                Operator::GtEq => r.lower(v),
                Operator::Lt => r.upper(v.saturating_sub(1)),
                Operator::LtEq => r.upper(v),
                _ => {}
            }
        }
        Expr::Between(b) if !b.negated && is_column(&b.expr, column) => {
            if let (Some(lo), Some(hi)) = (millis(&b.low), millis(&b.high)) {
                r.lower(lo);
                r.upper(hi);
            }
        }
        _ => {}
    }
}

fn is_column(e: &Expr, column: &str) -> bool {
    matches!(e, Expr::Column(c) if c.name == column)
}

/// A literal timestamp as epoch milliseconds, rounded outward-safe (sub-millisecond
/// precision is truncated toward the file's own unit).
fn millis(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else { return None };
    match v {
        ScalarValue::TimestampMillisecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
        _ => None,
    }
}

/// The store as a DataFusion table, over the manifest it was created with.
pub struct StoreTable {
    root: StoreLocation,
    /// How this process reaches a store in S3 (not sent to a cluster: each machine
    /// resolves its own).
    s3: S3Options,
    manifest: Arc<Manifest>,
    schema: SchemaRef,
    /// Files opened / files in the store, for the latest scan (diagnostics and tests).
    last_scan: std::sync::Mutex<Option<(usize, usize)>>,
}

impl StoreTable {
    pub fn new(root: PathBuf, manifest: Arc<Manifest>, schema: SchemaRef) -> StoreTable {
        StoreTable::at(
            StoreLocation::Local(root),
            S3Options::default(),
            manifest,
            schema,
        )
    }

    /// A table over a store anywhere (a folder or `s3://`).
    pub fn at(
        root: StoreLocation,
        s3: S3Options,
        manifest: Arc<Manifest>,
        schema: SchemaRef,
    ) -> StoreTable {
        StoreTable {
            root,
            s3,
            manifest,
            schema,
            last_scan: std::sync::Mutex::new(None),
        }
    }

    /// Where the store is.
    pub fn location(&self) -> &StoreLocation {
        &self.root
    }

    /// The commit this table reads.
    pub fn manifest(&self) -> &Arc<Manifest> {
        &self.manifest
    }

    /// (files opened, files in the store) of the most recent scan.
    pub fn last_scan(&self) -> Option<(usize, usize)> {
        *self.last_scan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The files a scan with these filters has to open.
    pub fn select_files(&self, filters: &[Expr]) -> Vec<&DataFile> {
        let range = time_range(filters, "@timestamp");
        self.manifest
            .files
            .iter()
            .filter(|f| range.overlaps(f.min_ts, f.max_ts))
            .collect()
    }
}

impl fmt::Debug for StoreTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreTable({})", self.root)
    }
}

#[async_trait::async_trait]
impl TableProvider for StoreTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Pruning is by statistics, so rows still need the filter: Inexact.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let files = self.select_files(filters);
        *self.last_scan.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((files.len(), self.manifest.files.len()));
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        // A store in S3 is read through the session's object store for its bucket.
        crate::remote::register_bucket(state.runtime_env(), &self.root, &self.s3)
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(self.root.file_url(&f.path)))
            .collect::<DfResult<Vec<_>>>()?;
        let mut format = ParquetFormat::default().with_enable_pruning(true);
        let opts = format.options().clone();
        let mut opts = opts;
        opts.global.pushdown_filters = true;
        opts.global.reorder_filters = true;
        opts.global.enable_page_index = true;
        format = format.with_options(opts);
        let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(self.schema.clone());
        let table = ListingTable::try_new(config)?;
        table.scan(state, projection, filters, limit).await
    }
}
