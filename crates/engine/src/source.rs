//! Where rows come from. The engine knows nothing about CloudTrail: a [`Dataset`] names
//! itself (for `FROM` patterns), lists its columns with ES|QL types, and streams Arrow
//! batches of just the columns a query needs. The table provider below turns that into a
//! DataFusion scan with projection pushdown and bounded memory.

pub use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;
use std::fmt;
use std::sync::Arc;

use crate::pushdown::Pushdown;

/// The column whose bounds a [`Pushdown`] collects.
pub const TIME_COLUMN: &str = "@timestamp";

pub type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, DatasetError>> + Send>;

/// Why a dataset could not be scanned or a batch read. The message is shown to the user
/// as is (it names the file, line or column).
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("Unknown column [{0}]")]
    UnknownColumn(String),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// The source's own error (a reader's, the store's), kept whole for its message.
    #[error(transparent)]
    Source(Box<dyn std::error::Error + Send + Sync>),
}

impl DatasetError {
    /// Wraps a source's error.
    pub fn source(e: impl std::error::Error + Send + Sync + 'static) -> DatasetError {
        DatasetError::Source(Box::new(e))
    }
}

/// `Any`: a cluster's codec recognises the datasets it can send (`crate::remote`).
pub trait Dataset: Send + Sync + std::any::Any {
    /// The index name `FROM` patterns are matched against (`logs-aws.cloudtrail-default`).
    fn name(&self) -> &str;
    /// Columns with their ES|QL types, sorted by name as `FROM` lists them.
    fn columns(&self) -> Vec<esql::Column>;
    /// The Arrow schema, same names and order as `columns`.
    fn schema(&self) -> SchemaRef;
    /// Streams batches holding exactly `columns` (in that order).
    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError>;
    /// Whether [`Dataset::scan_filtered`] uses the query's filters; only then are they
    /// pushed into the scan (the plan keeps them either way).
    fn uses_pushdown(&self) -> bool {
        false
    }
    /// Like [`Dataset::scan`], with necessary conditions from the query's filters that the
    /// source may use to skip input it can prove irrelevant (see [`crate::pushdown`]).
    /// Returning rows that fail the filters is fine: the plan applies them again.
    fn scan_filtered(
        &self,
        columns: &[String],
        pushdown: &Pushdown,
    ) -> Result<BatchIter, DatasetError> {
        let _ = pushdown;
        self.scan(columns)
    }
    /// For a lookup table registered as an ENRICH policy: the field rows are matched on.
    fn enrich_match_field(&self) -> Option<String> {
        None
    }
    /// A native DataFusion table for this data (e.g. Parquet with pruning and pushdown),
    /// used instead of [`Dataset::scan`] when present. Its schema must equal `schema()`.
    fn table_provider(&self) -> Option<Arc<dyn TableProvider>> {
        None
    }
    /// Whether the rows are held in memory and few (a lookup table): such a dataset may be
    /// sent whole to where a plan runs (a cluster's executors). Raw logs never are.
    fn in_memory(&self) -> bool {
        false
    }
    /// How ES names the index a document is in (`METADATA _index`): by default the
    /// dataset's name, as for a plain index such as csv-spec's `employees`.
    fn index_naming(&self) -> IndexNaming {
        IndexNaming::Index(self.name().to_string())
    }
    /// What a document's `METADATA _id` is derived from: by default all its columns (the
    /// document's content; ES would have made a random id, which nothing can reproduce).
    fn document_id(&self) -> DocumentId {
        DocumentId {
            key: self.columns().into_iter().map(|c| c.name).collect(),
            fallback: vec![],
        }
    }
}

/// The `_index` of a dataset's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexNaming {
    /// A plain index: every document's `_index` is this name.
    Index(String),
    /// A data stream: a document is in the backing index of its day (UTC) by
    /// `time_field`, `.ds-<stream>-<yyyy.MM.dd>-000001` (what ES shows for a stream that
    /// rolls over daily; a document without a time has no backing index: null).
    DataStream { stream: String, time_field: String },
}

/// The columns a document's `_id` is a hash of (see [`crate::metadata`]): `key` when none
/// of them is null, otherwise `key` and `fallback` together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentId {
    pub key: Vec<String>,
    pub fallback: Vec<String>,
}

/// Wraps a [`Dataset`] as a DataFusion table.
pub struct DatasetTable {
    dataset: Arc<dyn Dataset>,
    schema: SchemaRef,
}

impl DatasetTable {
    pub fn new(dataset: Arc<dyn Dataset>) -> DatasetTable {
        let schema = dataset.schema();
        DatasetTable { dataset, schema }
    }

    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }
}

impl fmt::Debug for DatasetTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatasetTable({})", self.dataset.name())
    }
}

#[async_trait::async_trait]
impl TableProvider for DatasetTable {
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
        let how = if self.dataset.uses_pushdown() {
            TableProviderFilterPushDown::Inexact
        } else {
            TableProviderFilterPushDown::Unsupported
        };
        Ok(vec![how; filters.len()])
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let partition = Arc::new(DatasetPartition {
            dataset: self.dataset.clone(),
            columns,
            schema: schema.clone(),
            pushdown: Pushdown::from_filters(filters, TIME_COLUMN),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            schema,
            vec![partition],
            None,
            vec![],
            false,
            limit,
        )?))
    }
}

struct DatasetPartition {
    dataset: Arc<dyn Dataset>,
    columns: Vec<String>,
    schema: SchemaRef,
    pushdown: Pushdown,
}

impl fmt::Debug for DatasetPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DatasetPartition({}, {} columns)",
            self.dataset.name(),
            self.columns.len()
        )
    }
}

impl PartitionStream for DatasetPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        stream_scan(
            self.dataset.clone(),
            self.columns.clone(),
            self.schema.clone(),
            self.pushdown.clone(),
        )
    }
}

/// `dataset.scan_filtered(columns, pushdown)` as a stream of batches with `schema`. The
/// reader blocks (files, gzip, JSON): it runs on its own thread and hands batches over a
/// small bounded channel, so memory stays bounded.
pub fn stream_scan(
    dataset: Arc<dyn Dataset>,
    columns: Vec<String>,
    schema: SchemaRef,
    pushdown: Pushdown,
) -> SendableRecordBatchStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<DfResult<RecordBatch>>(2);
    let expected = schema.clone();
    std::thread::spawn(move || {
        let iter = match dataset.scan_filtered(&columns, &pushdown) {
            Ok(it) => it,
            Err(e) => {
                let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(e))));
                return;
            }
        };
        for item in iter {
            let item = item
                .map_err(|e| DataFusionError::External(Box::new(e)))
                .and_then(|b| {
                    if b.schema() == expected {
                        Ok(b)
                    } else {
                        align(&b, &expected)
                    }
                });
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    Box::pin(RecordBatchStreamAdapter::new(schema, stream))
}

/// Re-labels a batch with the expected schema (field metadata may differ).
fn align(batch: &RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    Ok(RecordBatch::try_new(
        schema.clone(),
        batch.columns().to_vec(),
    )?)
}

/// A dataset held in memory, for tests and small lookups.
pub struct MemoryDataset {
    pub name: String,
    pub columns: Vec<esql::Column>,
    pub batches: Vec<RecordBatch>,
    pub schema: SchemaRef,
}

impl Dataset for MemoryDataset {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> Vec<esql::Column> {
        self.columns.clone()
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        let idx = column_indices(&self.schema, columns)?;
        let batches: Vec<Result<RecordBatch, DatasetError>> = self
            .batches
            .iter()
            .map(|b| b.project(&idx).map_err(DatasetError::from))
            .collect();
        Ok(Box::new(batches.into_iter()))
    }

    fn in_memory(&self) -> bool {
        true
    }
}

/// The positions of `columns` in `schema`.
pub fn column_indices(schema: &SchemaRef, columns: &[String]) -> Result<Vec<usize>, DatasetError> {
    columns
        .iter()
        .map(|c| {
            schema
                .index_of(c)
                .map_err(|_| DatasetError::UnknownColumn(c.clone()))
        })
        .collect()
}
