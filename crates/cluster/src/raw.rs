//! Raw CloudTrail on a cluster: the client's file list travels with the plan
//! ([`datasets::RawSpec`]); the scheduler splits it into partitions ([`RawTable`]); each
//! executor reads its partitions with the same reader, normalizer, prefilter and day
//! pruning as a local run ([`RawPartSource`]). Every problem with the input and each
//! partition's counters go back to the client ([`crate::relay`]), so its warnings and
//! summary line are a local run's.
//!
//! The files must be readable at the same paths on every executor (a shared folder).

use crate::codec::Origin;
use crate::relay;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::datasource::TableType;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::ExecutionPlan;
use datasets::{CloudTrailFiles, RawSpec};
use engine::{Needle, Pushdown};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The raw files and where their reports go: what the logical plan carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireRawTable {
    pub spec: RawSpec,
    pub origin: Origin,
}

/// The raw files as a table on the scheduler.
#[derive(Debug)]
pub struct RawTable {
    spec: RawSpec,
    origin: Origin,
    schema: SchemaRef,
}

impl RawTable {
    pub(crate) fn new(wire: WireRawTable, schema: SchemaRef) -> RawTable {
        RawTable {
            spec: wire.spec,
            origin: wire.origin,
            schema,
        }
    }
}

#[async_trait::async_trait]
impl TableProvider for RawTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // As locally (`engine::DatasetTable`): the filters become a prefilter and a day
        // range, necessary conditions only; the plan applies them again.
        let how = if self.spec.pushdown {
            TableProviderFilterPushDown::Inexact
        } else {
            TableProviderFilterPushDown::Unsupported
        };
        Ok(vec![how; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let pushdown = Pushdown::from_filters(filters, engine::source::TIME_COLUMN);
        // Contiguous runs of the sorted file list: a partition's files are mostly of the
        // same days, so day pruning leaves whole partitions empty.
        let wanted = state.config().target_partitions().max(1);
        let per = self.spec.files.len().div_ceil(wanted).max(1);
        let parts: Vec<Vec<PathBuf>> = self
            .spec
            .files
            .chunks(per)
            .map(<[PathBuf]>::to_vec)
            .collect();
        // No files: one empty part, so the plan still has a partition to run.
        let parts = if parts.is_empty() {
            vec![vec![]]
        } else {
            parts
        };
        let reads = (0..parts.len()).collect();
        raw_scan_exec(WireRawScan {
            scan: crate::random_id(),
            spec: RawSpec {
                files: vec![],
                ..self.spec.clone()
            },
            parts,
            reads,
            origin: self.origin.clone(),
            schema: crate::recipe::schema_to_hex(&schema)?,
            needles: pushdown
                .required
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|n| (n.column.clone(), n.literal.clone()))
                        .collect()
                })
                .collect(),
            time_min: pushdown.time_min,
            time_max: pushdown.time_max,
        })
    }
}

/// A raw scan on the wire: everything but which of its parts a task reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WireRawScan {
    /// This scan's id, to tell its parts' reports from another scan's.
    scan: String,
    /// Settings; the files are in `parts`.
    spec: RawSpec,
    /// The file list cut into parts; part `i` is the `i`-th pseudo-file of the scan.
    parts: Vec<Vec<PathBuf>>,
    origin: Origin,
    schema: String,
    needles: Vec<Vec<(String, String)>>,
    time_min: Option<i64>,
    time_max: Option<i64>,
    /// The parts this plan reads, in partition order (a task's plan reads only its own).
    pub(crate) reads: Vec<usize>,
}

/// The name of part `i` in DataFusion's file list.
fn part_name(i: usize) -> String {
    format!("trailhunt-raw-part/{i}")
}

fn part_index(location: &str) -> Option<usize> {
    location.strip_prefix("trailhunt-raw-part/")?.parse().ok()
}

/// A raw scan as DataFusion's file scan (`DataSourceExec`): one pseudo-file per part of
/// the file list, one part per partition. Ballista hands each task only its partitions'
/// files (it knows how to cut a file scan; an unknown leaf would run whole in every
/// task), and each part is read by [`RawPartSource`] with trailhunt's own reader.
pub(crate) fn raw_scan_exec(wire: WireRawScan) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = crate::recipe::schema_from_hex(&wire.schema)?;
    let groups: Vec<FileGroup> = wire
        .reads
        .iter()
        .map(|&i| FileGroup::new(vec![PartitionedFile::new(part_name(i), 0)]))
        .collect();
    let source = RawPartSource::new(wire, schema);
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(groups)
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// The wire form of `plan` when it is a raw scan, with the parts it reads now.
pub(crate) fn wire_of(plan: &dyn ExecutionPlan) -> Option<WireRawScan> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let any: &dyn std::any::Any = exec.data_source().as_ref();
    let config = any.downcast_ref::<FileScanConfig>()?;
    let any: &dyn std::any::Any = config.file_source().as_ref();
    let source = any.downcast_ref::<RawPartSource>()?;
    let mut wire = source.wire.clone();
    wire.reads = config
        .file_groups
        .iter()
        .flat_map(|g| g.iter())
        .filter_map(|f| part_index(f.object_meta.location.as_ref()))
        .collect();
    Some(wire)
}

/// Reads parts of a raw scan.
#[derive(Debug, Clone)]
pub struct RawPartSource {
    wire: WireRawScan,
    table_schema: TableSchema,
    schema: SchemaRef,
    pushdown: Pushdown,
    metrics: ExecutionPlanMetricsSet,
}

impl RawPartSource {
    fn new(wire: WireRawScan, schema: SchemaRef) -> RawPartSource {
        let pushdown = Pushdown {
            required: wire
                .needles
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|(column, literal)| Needle {
                            column: column.clone(),
                            literal: literal.clone(),
                        })
                        .collect()
                })
                .collect(),
            time_min: wire.time_min,
            time_max: wire.time_max,
        };
        RawPartSource {
            wire,
            table_schema: TableSchema::from(schema.clone()),
            schema,
            pushdown,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// Part `i` as a stream: the same scan as a local run of those files, its problems
    /// and, at its end, its counters sent to the client.
    async fn read_part(&self, i: usize) -> Result<SendableRecordBatchStream> {
        let files = self
            .wire
            .parts
            .get(i)
            .cloned()
            .ok_or_else(|| DataFusionError::Internal(format!("raw scan has no part {i}")))?;
        let (files, names) = self.fetch(files).await?;
        let origin = self.wire.origin.clone();
        let reporter_origin = origin.clone();
        let spec = RawSpec {
            files,
            objects: Default::default(),
            ..self.wire.spec.clone()
        };
        let dataset = Arc::new(
            CloudTrailFiles::from_spec(spec, Some(sources::cache_root().join("structure-checks")))
                .with_reporter(Arc::new(move |d: &cloudtrail::Diagnostic| {
                    // Named as the client names the file, not by this machine's copy.
                    let renamed;
                    let d = match names.get(&d.path) {
                        Some(name) => {
                            renamed = cloudtrail::Diagnostic {
                                path: name.clone(),
                                ..d.clone()
                            };
                            &renamed
                        }
                        None => d,
                    };
                    // A problem that cannot reach the client is shown where it happened;
                    // the part's counters (below) still count the record.
                    if let Err(e) =
                        relay::send_diagnostic(&reporter_origin.client, &reporter_origin.query, d)
                    {
                        eprintln!("trailhunt: {d} (not delivered to the client: {e})");
                    }
                })),
        );
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = engine::stream_scan(
            dataset.clone(),
            columns,
            self.schema.clone(),
            self.pushdown.clone(),
        );
        let scan = self.wire.scan.clone();
        // When the part is read, its counters go to the client before the stream ends, so
        // they are in before the job can finish. Undelivered, they fail the task: the
        // client's summary must never undercount.
        let done = futures::stream::once(async move {
            let counts = dataset.stats().map(|s| s.counts()).unwrap_or_default();
            let pruned = dataset.pruned_files();
            let sent = tokio::task::spawn_blocking(move || {
                relay::send_scan_part(&origin.client, &origin.query, &scan, i, &counts, pruned)
            })
            .await;
            match sent {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(Err(DataFusionError::Execution(format!(
                    "the counters of a raw scan did not reach the client: {e}"
                )))),
                Err(e) => Some(Err(DataFusionError::Execution(e.to_string()))),
            }
        })
        .filter_map(|x| async move { x });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches.chain(done),
        )))
    }
}

impl RawPartSource {
    /// The part's files as this machine reads them: S3 objects the client listed are
    /// fetched into this machine's cache first. Also returns each fetched copy's name on
    /// the client, for the problems found in it.
    async fn fetch(
        &self,
        files: Vec<PathBuf>,
    ) -> Result<(Vec<PathBuf>, HashMap<PathBuf, PathBuf>)> {
        let objects = &self.wire.spec.objects;
        // Only what the scan will open: the day pruning leaves the others unread (and
        // counts them), so they are not fetched either.
        let days = sources::DayRange::from_millis(self.pushdown.time_min, self.pushdown.time_max);
        let wanted: Vec<(usize, (String, u64))> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| days.admits_path(&f.to_string_lossy()))
            .filter_map(|(n, f)| objects.get(f).map(|o| (n, (o.url.clone(), o.size))))
            .collect();
        if wanted.is_empty() {
            return Ok((files, HashMap::new()));
        }
        let list: Vec<(String, u64)> = wanted.iter().map(|(_, o)| o.clone()).collect();
        let local = sources::fetch_objects(&list, &self.wire.spec.s3.options())
            .await
            .map_err(|e| DataFusionError::Execution(format!("on this executor: {e}")))?;
        let mut files = files;
        let mut names = HashMap::new();
        for ((n, _), path) in wanted.into_iter().zip(local) {
            names.insert(path.clone(), std::mem::replace(&mut files[n], path));
        }
        Ok((files, names))
    }
}

impl FileSource for RawPartSource {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn datafusion::object_store::ObjectStore>,
        _base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        Ok(Arc::new(RawPartOpener {
            source: Arc::new(self.clone()),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, _batch_size: usize) -> Arc<dyn FileSource> {
        // The reader cuts its own batches (by rows and by size).
        Arc::new(self.clone())
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "cloudtrail"
    }

    fn supports_repartitioning(&self) -> bool {
        // A part is a list of files, not bytes to split.
        false
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
}

struct RawPartOpener {
    source: Arc<RawPartSource>,
}

impl FileOpener for RawPartOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let location = file.object_meta.location.as_ref().to_string();
        let i = part_index(&location).ok_or_else(|| {
            DataFusionError::Internal(format!("[{location}] is not a part of a raw scan"))
        })?;
        let source = self.source.clone();
        Ok(Box::pin(
            async move { Ok(source.read_part(i).await?.boxed()) },
        ))
    }
}
