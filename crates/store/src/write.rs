//! Turning a stream of ECS batches into day-partitioned, sorted Parquet files.
//!
//! Rows are buffered per day (`dt=YYYY-MM-DD`) up to a bound, then each day's rows are
//! sorted by [`SORT_KEY`] — `event.provider`, `event.action`, `@timestamp` — and written as
//! one more row group of that day's open file, which a commit's end (or [`FILE_ROWS`])
//! closes: files stay large while only one buffer of rows is held. The day partition
//! already bounds time; inside a day, hunts select by action
//! (`event.action IN ("StopLogging", …)`), and sorting by it makes the row-group and page
//! statistics of `event.action` tight, so the scan skips every page without a wanted
//! action (at 10M events the seed hunt reads a few pages instead of half the rows). Within
//! one action, rows stay in time order.

use crate::manifest::{sync_dir, DataFile};
use crate::StoreError;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array,
};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::compute::{self, SortOptions};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimestampMillisecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Hive's name for the null partition, understood by DuckDB and Spark.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Rows per file: a day's open file is closed once it holds this many (a commit's end
/// closes every open file).
const FILE_ROWS: u64 = 1_000_000;
/// Days with a file open at once: a commit spanning more days (a year-long export) closes
/// the least recently written one first, so ingest never runs out of file descriptors.
const MAX_OPEN_FILES: usize = 64;
/// Rows buffered across all days before the largest day is flushed as a row group. Peak
/// ingest memory is about three times this many rows (the buffer, the row group waiting
/// for the writer, the one being sorted), and a buffered row costs ~5–6 KB of Arrow memory
/// for generated CloudTrail (`event.original`, payload strings, the offsets of every column
/// a batch fills). Measured at 10M events, with one open file per day (36 files): 64k rows
/// → 1189 MiB peak RSS, store seed hunt 0.12 s; 48k → 945 MiB, 0.16 s; 32k → 744 MiB, 0.17 s
/// (DuckDB on the same files 0.115 / 0.137 / 0.145 s). Before, each flush was a file of its
/// own: 64k rows gave 204 files and a 0.17 s hunt.
const MAX_BUFFERED_ROWS: usize = 32_000;
/// Row groups and pages sized for pruning: a day of a busy account spans several row
/// groups, each with a page index on the sort key. (4k-row pages pruned no better on the
/// 1M-event benchmark and made ingest ~7 % slower: twice the page compressions.)
const ROW_GROUP_ROWS: usize = 64 * 1024;
const PAGE_ROWS: usize = 8 * 1024;

enum WriteJob {
    /// Rows of one day (unsorted, in any number of batches), written sorted as row groups of
    /// the day's open file; `rel` names the file if the day has none open.
    RowGroup {
        rel: String,
        dt: String,
        batches: Vec<RecordBatch>,
    },
    /// The end of a commit: hand back the files written since the previous mark.
    EndCommit,
}

/// Buffers rows per day and writes them as files on a thread of its own, commit after
/// commit. A commit's files are reported (in commit order) once all of them are on disk,
/// so the caller can publish the manifest for one commit while the next one is scanned.
pub(crate) struct PartitionWriter {
    version: u64,
    seq: u32,
    days: BTreeMap<String, (Vec<RecordBatch>, usize)>,
    buffered: usize,
    /// Files are sorted, encoded and compressed on a thread of their own, so the scan
    /// feeding `push` keeps going meanwhile (a 100k-row file takes ~1 s, during which the
    /// scan workers used to stall). The channel holds one file: memory stays bounded.
    jobs: Option<SyncSender<WriteJob>>,
    /// The files of each ended commit.
    committed: Receiver<Vec<DataFile>>,
    writer: Option<JoinHandle<Result<(), StoreError>>>,
}

impl PartitionWriter {
    pub(crate) fn new(root: &Path) -> PartitionWriter {
        let (tx, rx) = mpsc::sync_channel::<WriteJob>(1);
        let (done_tx, done_rx) = mpsc::channel::<Vec<DataFile>>();
        let dir = root.to_path_buf();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let mut written = vec![];
                // One open file per day: each buffer flush is one more sorted row group of
                // it, so files stay large while only one buffer of rows is held at a time.
                let mut open: BTreeMap<String, OpenFile> = BTreeMap::new();
                let mut writes = 0u64;
                for job in rx {
                    match job {
                        WriteJob::RowGroup { rel, dt, batches } => {
                            if !open.contains_key(&dt) {
                                if let Some(file) = close_least_recent(&mut open) {
                                    written.push(file?);
                                }
                            }
                            let file = match open.entry(dt.clone()) {
                                Entry::Occupied(e) => e.into_mut(),
                                Entry::Vacant(v) => {
                                    let schema = batches
                                        .first()
                                        .ok_or_else(|| {
                                            StoreError::Schema("no rows to write".into())
                                        })?
                                        .schema();
                                    v.insert(OpenFile::create(&dir, &rel, &dt, schema)?)
                                }
                            };
                            writes += 1;
                            file.last_write = writes;
                            file.write(batches)?;
                            if file.rows >= FILE_ROWS {
                                let file = open.remove(&dt).expect("open above");
                                written.push(file.close()?);
                            }
                        }
                        WriteJob::EndCommit => {
                            for (_, file) in std::mem::take(&mut open) {
                                written.push(file.close()?);
                            }
                            if done_tx.send(std::mem::take(&mut written)).is_err() {
                                break;
                            }
                        }
                    }
                }
                Ok(())
            })
            .expect("spawning the store writer thread");
        PartitionWriter {
            version: 0,
            seq: 0,
            days: BTreeMap::new(),
            buffered: 0,
            jobs: Some(tx),
            committed: done_rx,
            writer: Some(writer),
        }
    }

    /// Starts a commit: its files are named after `version`.
    pub(crate) fn start_commit(&mut self, version: u64) {
        self.version = version;
        self.seq = 0;
    }

    /// Ends the current commit: every buffered day is queued for writing. Returns at once;
    /// the commit's files come out of [`Self::try_committed`] / [`Self::wait_committed`].
    pub(crate) fn end_commit(&mut self) -> Result<(), StoreError> {
        let days: Vec<String> = self.days.keys().cloned().collect();
        for dt in days {
            self.flush_day(&dt)?;
        }
        self.send(WriteJob::EndCommit)
    }

    /// The files of the oldest ended commit, if they are all written.
    pub(crate) fn try_committed(&mut self) -> Result<Option<Vec<DataFile>>, StoreError> {
        match self.committed.try_recv() {
            Ok(files) => Ok(Some(files)),
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            Err(mpsc::TryRecvError::Disconnected) => Err(self.stopped()),
        }
    }

    /// The files of the oldest ended commit, waiting for them to be written.
    pub(crate) fn wait_committed(&mut self) -> Result<Vec<DataFile>, StoreError> {
        self.committed.recv().map_err(|_| self.stopped())
    }

    /// Stops the writer thread (after the queued files); its error, if it stopped on one.
    pub(crate) fn finish(mut self) -> Result<(), StoreError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), StoreError> {
        self.jobs = None;
        match self.writer.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(StoreError::Writer("the writer thread panicked".into()))),
            None => Ok(()),
        }
    }

    /// Why the writer thread is gone: its own error, or that it stopped.
    fn stopped(&mut self) -> StoreError {
        match self.join() {
            Err(e) => e,
            Ok(()) => StoreError::Writer("the writer thread stopped".into()),
        }
    }

    fn send(&mut self, job: WriteJob) -> Result<(), StoreError> {
        let sent = match &self.jobs {
            Some(tx) => tx.send(job).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self.stopped())
        }
    }

    /// Adds a batch (with the store schema); may write files.
    pub(crate) fn push(&mut self, batch: RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        for (dt, part) in split_by_day(&batch)? {
            let entry = self.days.entry(dt.clone()).or_default();
            entry.1 += part.num_rows();
            self.buffered += part.num_rows();
            entry.0.push(part);
        }
        while self.buffered > MAX_BUFFERED_ROWS {
            let biggest = self
                .days
                .iter()
                .max_by_key(|(_, (_, n))| *n)
                .map(|(k, _)| k.clone())
                .expect("buffered rows exist");
            self.flush_day(&biggest)?;
        }
        Ok(())
    }

    fn flush_day(&mut self, dt: &str) -> Result<(), StoreError> {
        let Some((batches, rows)) = self.days.remove(dt) else {
            return Ok(());
        };
        self.buffered -= rows;
        self.seq += 1;
        let rel = format!("dt={dt}/part-{:08}-{:05}.parquet", self.version, self.seq);
        self.send(WriteJob::RowGroup {
            rel,
            dt: dt.to_string(),
            batches,
        })
    }
}

/// The day partition of each row, from `@timestamp` (UTC).
fn split_by_day(batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>, StoreError> {
    let ts = timestamps(batch)?;
    let day_of = |i: usize| -> Option<i64> {
        if ts.is_null(i) {
            None
        } else {
            Some(ts.value(i).div_euclid(86_400_000))
        }
    };
    let first = day_of(0);
    if (1..batch.num_rows()).all(|i| day_of(i) == first) {
        return Ok(vec![(day_name(first), batch.clone())]);
    }
    let mut groups: BTreeMap<Option<i64>, Vec<u32>> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        groups.entry(day_of(i)).or_default().push(i as u32);
    }
    groups
        .into_iter()
        .map(|(day, idx)| {
            let idx = UInt32Array::from(idx);
            Ok((day_name(day), compute::take_record_batch(batch, &idx)?))
        })
        .collect()
}

fn day_name(day: Option<i64>) -> String {
    match day.and_then(|d| chrono::DateTime::from_timestamp(d * 86_400, 0)) {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => NULL_PARTITION.to_string(),
    }
}

fn timestamps(
    batch: &RecordBatch,
) -> Result<&datafusion::arrow::array::TimestampMillisecondArray, StoreError> {
    let col = batch
        .column_by_name("@timestamp")
        .ok_or_else(|| StoreError::Schema("batch has no @timestamp column".into()))?;
    col.as_primitive_opt::<TimestampMillisecondType>()
        .ok_or_else(|| StoreError::Schema(format!("@timestamp has type {}", col.data_type())))
}

/// Parquet settings: zstd, dictionaries for keywords (not for free text and raw JSON,
/// where they only cost), row-group statistics, a page index on the sort key for pruning,
/// and the sort order recorded so other engines know it.
pub(crate) fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    let sorting = SORT_KEY
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .map(|i| SortingColumn {
            column_idx: i as i32,
            descending: false,
            nulls_first: true,
        })
        .collect();
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .set_dictionary_enabled(true)
        // Row-group min/max for every column; page-level statistics (the page index) only
        // for the sort key, the one place pages are ordered enough to prune. A page index
        // over all ~500 columns was parsed for every file a query opened.
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_sorting_columns(Some(sorting))
        .set_created_by(format!("trailhunt {}", env!("CARGO_PKG_VERSION")));
    for name in SORT_KEY {
        b = b.set_column_statistics_enabled(
            ColumnPath::new(vec![name.into()]),
            EnabledStatistics::Page,
        );
    }
    for f in schema.fields() {
        let es_type = f
            .metadata()
            .get(cloudtrail::ES_TYPE_METADATA_KEY)
            .map(String::as_str);
        let high_cardinality = matches!(es_type, Some("text") | Some("unsupported"))
            || matches!(
                f.name().as_str(),
                "event.id" | "aws.cloudtrail.request_id" | "event.created"
            );
        if high_cardinality && matches!(f.data_type(), DataType::Utf8) {
            b = b.set_column_dictionary_enabled(ColumnPath::new(vec![f.name().clone()]), false);
        }
    }
    b.build()
}

/// The row order inside a data file (see the module comment).
pub const SORT_KEY: [&str; 3] = ["event.provider", "event.action", "@timestamp"];

/// The rows of `batches` as one batch sorted by [`SORT_KEY`] (nulls first; missing key
/// columns skipped; ties keep input order).
///
/// Only the key columns are concatenated to find the order; every column is then gathered
/// once, straight from the input batches, in that order (concatenating all ~500 columns
/// first and then reordering them copied every value twice). The input is taken apart
/// column by column and each input column is dropped as soon as its sorted copy exists, so
/// the rows are held about once, not twice, while a file is sorted (the writer's share of
/// ingest's peak memory). Columns that are null in every input (most of them: a record
/// fills a few dozen of ~500) are built as null arrays.
pub(crate) fn sort_batches(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<RecordBatch, StoreError> {
    let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
    // Column-major: `inputs[i]` holds column i of every batch.
    let mut inputs: Vec<Vec<ArrayRef>> = (0..schema.fields().len())
        .map(|i| batches.iter().map(|b| b.column(i).clone()).collect())
        .collect();
    drop(batches);
    let keys: Vec<compute::SortColumn> = SORT_KEY
        .iter()
        .filter_map(|name| schema.index_of(name).ok())
        .map(|i| {
            let parts: Vec<&dyn Array> = inputs[i].iter().map(|a| a.as_ref()).collect();
            Ok(compute::SortColumn {
                values: compute::concat(&parts)?,
                options: Some(SortOptions {
                    descending: false,
                    nulls_first: true,
                }),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    if keys.is_empty() {
        return Err(StoreError::Schema("batch has no sort key column".into()));
    }
    // lexsort_to_indices is a stable sort (equal keys keep their input order).
    let order = compute::lexsort_to_indices(&keys, None)?;
    drop(keys);
    // Global row number -> (batch, row within it).
    let mut starts = Vec::with_capacity(sizes.len());
    let mut total = 0usize;
    for n in &sizes {
        starts.push(total);
        total += n;
    }
    let at: Vec<(usize, usize)> = order
        .values()
        .iter()
        .map(|&g| {
            let g = g as usize;
            let b = starts.partition_point(|&s| s <= g) - 1;
            (b, g - starts[b])
        })
        .collect();
    // Arrays are immutable: the all-null columns of one type can share one array.
    let mut nulls: Vec<ArrayRef> = vec![];
    let columns = inputs
        .iter_mut()
        .enumerate()
        .map(|(i, column)| {
            // Taken out of `inputs`: this column's input is freed once it is gathered.
            let column = std::mem::take(column);
            if column.iter().all(|a| a.null_count() == a.len()) {
                let data_type = schema.field(i).data_type();
                if let Some(shared) = nulls.iter().find(|a| a.data_type() == data_type) {
                    return Ok(shared.clone());
                }
                let fresh = new_null_array(data_type, total);
                nulls.push(fresh.clone());
                return Ok(fresh);
            }
            let parts: Vec<&dyn Array> = column.iter().map(|a| a.as_ref()).collect();
            Ok(interleave(&parts, &at)?)
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let opts = RecordBatchOptions::new().with_row_count(Some(total));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &opts,
    )?)
}

/// Sorts the rows of `batches` by [`SORT_KEY`] and writes them as one file to `root/rel`
/// through a temporary name, so a file with its final name is always complete.
pub(crate) fn write_file(
    root: &Path,
    rel: &str,
    dt: &str,
    batches: Vec<RecordBatch>,
) -> Result<DataFile, StoreError> {
    let Some(first) = batches.first() else {
        return Err(StoreError::Schema("no rows to write".into()));
    };
    let mut file = OpenFile::create(root, rel, dt, first.schema())?;
    file.write(batches)?;
    file.close()
}

/// With [`MAX_OPEN_FILES`] open, closes the one written longest ago (its `DataFile`).
fn close_least_recent(
    open: &mut BTreeMap<String, OpenFile>,
) -> Option<Result<DataFile, StoreError>> {
    if open.len() < MAX_OPEN_FILES {
        return None;
    }
    let oldest = open
        .iter()
        .min_by_key(|(_, f)| f.last_write)
        .map(|(dt, _)| dt.clone())?;
    open.remove(&oldest).map(OpenFile::close)
}

/// A data file being written under a temporary name: row groups are added one sorted
/// batch at a time ([`Self::write`]), and [`Self::close`] gives it its final name.
struct OpenFile {
    rel: String,
    dt: String,
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<std::fs::File>,
    rows: u64,
    /// When it was last written to, in writes since the writer started.
    last_write: u64,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
}

impl OpenFile {
    fn create(root: &Path, rel: &str, dt: &str, schema: SchemaRef) -> Result<Self, StoreError> {
        let path = root.join(rel);
        let dir = path.parent().expect("data file has a parent");
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let name = path.file_name().expect("file name").to_string_lossy();
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = std::fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(&schema)))?;
        Ok(OpenFile {
            rel: rel.to_string(),
            dt: dt.to_string(),
            path,
            tmp,
            schema,
            writer,
            rows: 0,
            last_write: 0,
            min_ts: None,
            max_ts: None,
            accounts: BTreeSet::new(),
            regions: BTreeSet::new(),
        })
    }

    /// Adds the rows of `batches`, sorted by [`SORT_KEY`], as row groups of their own (the
    /// sort order Parquet records is per row group, and pruning reads each one's pages).
    fn write(&mut self, batches: Vec<RecordBatch>) -> Result<(), StoreError> {
        let sorted = sort_batches(&self.schema, batches)?;
        let ts = timestamps(&sorted)?;
        let (lo, hi) = (compute::min(ts), compute::max(ts));
        self.min_ts = match (self.min_ts, lo) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_ts = match (self.max_ts, hi) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.accounts.extend(distinct(&sorted, "cloud.account.id"));
        self.regions.extend(distinct(&sorted, "cloud.region"));
        self.rows += sorted.num_rows() as u64;
        self.writer.write(&sorted)?;
        // Ends the row group here, so the next batch's rows are not mixed into its order.
        self.writer.flush()?;
        Ok(())
    }

    fn close(self) -> Result<DataFile, StoreError> {
        let file = self.writer.into_inner()?;
        file.sync_all().map_err(|e| StoreError::io(&self.tmp, e))?;
        let bytes = file
            .metadata()
            .map_err(|e| StoreError::io(&self.tmp, e))?
            .len();
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| StoreError::io(&self.path, e))?;
        sync_dir(self.path.parent().expect("data file has a parent"));
        Ok(DataFile {
            path: self.rel,
            dt: self.dt,
            rows: self.rows,
            bytes,
            min_ts: self.min_ts,
            max_ts: self.max_ts,
            accounts: self.accounts,
            regions: self.regions,
        })
    }
}

fn distinct(batch: &RecordBatch, column: &str) -> BTreeSet<String> {
    let Some(col) = batch.column_by_name(column) else {
        return BTreeSet::new();
    };
    let Some(strings) = col.as_string_opt::<i32>() else {
        return BTreeSet::new();
    };
    strings.iter().flatten().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    use std::sync::Arc;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("event.provider", DataType::Utf8, true),
            Field::new("event.action", DataType::Utf8, true),
            Field::new(
                "@timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("event.id", DataType::Utf8, true),
            Field::new("always.null", DataType::Utf8, true),
        ]))
    }

    fn batch(rows: &[(Option<&str>, &str, i64, &str)]) -> RecordBatch {
        let s = schema();
        RecordBatch::try_new(
            s,
            vec![
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>(),
                )),
                Arc::new(TimestampMillisecondArray::from(
                    rows.iter().map(|r| Some(r.2)).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(vec![None::<&str>; rows.len()])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn sort_batches_orders_across_batches_stably_and_keeps_nulls() {
        let b1 = batch(&[
            (Some("s3"), "Get", 5, "a"),
            (Some("ec2"), "Run", 9, "b"),
            (Some("s3"), "Get", 5, "c"),
        ]);
        let b2 = batch(&[(None, "X", 1, "d"), (Some("ec2"), "Run", 2, "e")]);
        let b3 = batch(&[(Some("s3"), "Get", 5, "f")]);
        let sorted = sort_batches(&schema(), vec![b1, b2, b3]).unwrap();
        let ids: Vec<&str> = sorted
            .column(3)
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect();
        // Null provider first, then by provider, action, time; equal keys in input order.
        assert_eq!(ids, ["d", "e", "b", "a", "c", "f"]);
        assert_eq!(sorted.column(4).null_count(), 6);
        assert_eq!(sorted.num_rows(), 6);
        let providers = sorted.column(0).as_string::<i32>();
        assert!(providers.is_null(0));
        assert_eq!(providers.value(1), "ec2");
    }

    #[test]
    fn sort_batches_matches_concat_then_take() {
        // The same permutation the former concat + lexsort + take produced.
        let mut rows = vec![];
        for i in 0..300u32 {
            let p = ["s3", "ec2", "iam"][(i * 7 % 3) as usize];
            let a = ["Get", "Put", "Delete", "List"][(i * 13 % 4) as usize];
            rows.push((Some(p), a, (i * 31 % 17) as i64, i.to_string()));
        }
        let batches: Vec<RecordBatch> = rows
            .chunks(37)
            .map(|c| {
                let c: Vec<(Option<&str>, &str, i64, &str)> =
                    c.iter().map(|r| (r.0, r.1, r.2, r.3.as_str())).collect();
                batch(&c)
            })
            .collect();
        let all = compute::concat_batches(&schema(), &batches).unwrap();
        let keys: Vec<compute::SortColumn> = (0..3)
            .map(|i| compute::SortColumn {
                values: all.column(i).clone(),
                options: Some(SortOptions {
                    descending: false,
                    nulls_first: true,
                }),
            })
            .collect();
        let order = compute::lexsort_to_indices(&keys, None).unwrap();
        let expected = compute::take_record_batch(&all, &order).unwrap();
        assert_eq!(sort_batches(&schema(), batches).unwrap(), expected);
    }

    #[test]
    fn a_days_flushes_in_one_commit_are_row_groups_of_one_sorted_file() {
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let dir = tempfile::tempdir().unwrap();
        let day = 86_400_000 * 19_900; // 2024-06-26
        let mut w = PartitionWriter::new(dir.path());
        w.start_commit(7);
        w.push(batch(&[
            (Some("s3"), "Put", day + 5, "a"),
            (Some("ec2"), "Run", day + 9, "b"),
        ]))
        .unwrap();
        let dt = w.days.keys().next().unwrap().clone();
        w.flush_day(&dt).unwrap();
        w.push(batch(&[
            (Some("iam"), "Get", day + 1, "c"),
            (Some("ec2"), "Run", day + 2, "d"),
        ]))
        .unwrap();
        w.end_commit().unwrap();
        let files = w.wait_committed().unwrap();
        w.finish().unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        let f = &files[0];
        assert_eq!(
            (f.rows, f.min_ts, f.max_ts),
            (4, Some(day + 1), Some(day + 9))
        );
        assert!(
            f.path.starts_with("dt=2024-06-26/part-00000007-"),
            "{}",
            f.path
        );
        let file = std::fs::File::open(dir.path().join(&f.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        let ids: Vec<String> = reader
            .build()
            .unwrap()
            .flat_map(|b| {
                let b = b.unwrap();
                let ids = b.column(3).as_string::<i32>().clone();
                ids.iter()
                    .map(|v| v.unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        // Each row group sorted by provider, action, time; the groups in flush order.
        assert_eq!(ids, ["b", "a", "d", "c"]);
        // No temporary file is left behind.
        let day_dir = dir.path().join("dt=2024-06-26");
        let names: Vec<String> = std::fs::read_dir(day_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_commit_over_more_days_than_open_files_closes_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let days = MAX_OPEN_FILES + 3;
        let mut w = PartitionWriter::new(dir.path());
        w.start_commit(1);
        for d in 0..days {
            let t = 86_400_000 * (19_000 + d as i64);
            w.push(batch(&[(Some("s3"), "Get", t, "x")])).unwrap();
            let dt = w.days.keys().next().unwrap().clone();
            w.flush_day(&dt).unwrap();
        }
        w.end_commit().unwrap();
        let files = w.wait_committed().unwrap();
        w.finish().unwrap();
        // One file per day, each complete, whether closed early or at the commit's end.
        assert_eq!(files.len(), days);
        let mut dts: Vec<&str> = files.iter().map(|f| f.dt.as_str()).collect();
        dts.sort();
        dts.dedup();
        assert_eq!(dts.len(), days);
        for f in &files {
            assert_eq!(f.rows, 1);
            assert!(dir.path().join(&f.path).is_file(), "{}", f.path);
        }
    }
}
