//! The store as a library: idempotence, the write lock, pruning that reaches the Parquet
//! scan, schema evolution and compaction, on the sample shipped in the repo.

use datafusion::arrow::array::{
    Array, AsArray, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::logical_expr::{col, ident, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{DataFile, Manifest, Store};

fn sample_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample/AWSLogs");
    sources::expand_local(&[dir.display().to_string()]).unwrap()
}

/// A scratch directory, removed on drop.
fn scratch(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("store-it-{tag}-"))
        .tempdir()
        .unwrap()
}

fn ingest_sample(tag: &str) -> (tempfile::TempDir, Store, u64) {
    let tmp = scratch(tag);
    let store = Store::create(tmp.path().join("s")).unwrap();
    let r = store.ingest(&sample_files(), Default::default()).unwrap();
    assert!(r.records > 3000, "{r:?}");
    (tmp, store, r.records)
}

async fn count(ctx: &SessionContext, df: datafusion::dataframe::DataFrame) -> usize {
    let _ = ctx;
    df.collect()
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum()
}

#[test]
fn reingest_is_noop_and_lock_refuses_a_second_writer() {
    let (_tmp, store, records) = ingest_sample("idem");
    let before = store.manifest().unwrap();
    let again = store.ingest(&sample_files(), Default::default()).unwrap();
    assert_eq!(again.records, 0);
    assert_eq!(again.files_ingested, 0);
    assert_eq!(again.files_skipped, again.files_seen);
    assert_eq!(
        store.manifest().unwrap(),
        before,
        "a no-op ingest commits nothing"
    );
    assert_eq!(before.rows(), records);
    // Readers load the same data files without the sources list.
    let for_readers = Manifest::load_data_files(store.root()).unwrap();
    assert!(!before.sources.is_empty());
    assert_eq!(
        for_readers,
        Manifest {
            sources: vec![],
            ..before.clone()
        }
    );

    let _held = store::lock::WriteLock::acquire(store.root(), "test").unwrap();
    let err = store
        .ingest(&sample_files(), Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("being written by another trailhunt"), "{err}");
    assert!(err.contains("test (pid"), "{err}");
}

#[test]
fn files_are_sorted_day_partitions_with_page_index() {
    let (_tmp, store, _) = ingest_sample("layout");
    let m = store.manifest().unwrap();
    for f in &m.files {
        assert!(f.path.starts_with(&format!("dt={}/", f.dt)), "{}", f.path);
        let file = std::fs::File::open(store.root().join(&f.path)).unwrap();
        let reader =
            datafusion::parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap();
        use datafusion::parquet::file::reader::FileReader;
        let meta = reader.metadata();
        let rg = meta.row_group(0);
        let ts_idx = rg
            .columns()
            .iter()
            .position(|c| c.column_path().string() == "@timestamp")
            .unwrap();
        assert!(format!("{:?}", rg.column(ts_idx).compression()).contains("ZSTD"));
        assert!(
            rg.column(ts_idx).column_index_offset().is_some(),
            "page index"
        );
        assert!(rg.sorting_columns().is_some());
        // Keywords are dictionary-encoded.
        let action = rg
            .columns()
            .iter()
            .find(|c| c.column_path().string() == "event.action")
            .unwrap();
        assert!(action.dictionary_page_offset().is_some());
        // And the rows really are in (provider, action, time) order, inside the file's day.
        let batches = store::read::read_file(store.root(), f, &store.schema()).unwrap();
        let mut last: Option<(Option<String>, Option<String>, Option<i64>)> = None;
        for b in &batches {
            let text = |name: &str| {
                b.column_by_name(name)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone()
            };
            let (provider, action) = (text("event.provider"), text("event.action"));
            let ts = b
                .column_by_name("@timestamp")
                .unwrap()
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .unwrap();
            for i in 0..b.num_rows() {
                let key = (
                    provider.is_valid(i).then(|| provider.value(i).to_string()),
                    action.is_valid(i).then(|| action.value(i).to_string()),
                    ts.is_valid(i).then(|| ts.value(i)),
                );
                if let Some(prev) = &last {
                    assert!(*prev <= key, "{prev:?} before {key:?} in {}", f.path);
                }
                if let Some(t) = key.2 {
                    let day = chrono::DateTime::from_timestamp_millis(t).unwrap();
                    assert_eq!(day.format("%Y-%m-%d").to_string(), f.dt);
                }
                last = Some(key);
            }
        }
    }
}

#[tokio::test]
async fn time_predicates_prune_files_and_reach_the_parquet_scan() {
    let (_tmp, store, _) = ingest_sample("prune");
    let table = store.table().unwrap();
    let ctx = SessionContext::new();
    // 2024-08-01T00:00:00Z
    let since = Expr_ts(1_722_470_400_000);
    let df = ctx
        .read_table(table.clone())
        .unwrap()
        .filter(ident("@timestamp").gt_eq(since))
        .unwrap()
        .filter(ident("event.action").eq(lit("StopLogging")))
        .unwrap();
    let plan = df.clone().create_physical_plan().await.unwrap();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert!(text.contains("DataSourceExec"), "{text}");
    assert!(text.contains("predicate="), "{text}");
    assert!(text.contains("@timestamp"), "{text}");
    let (opened, total) = table.last_scan().unwrap();
    assert_eq!(opened, 1, "only dt=2024-08-01 overlaps; plan:\n{text}");
    assert!(total > 10);
    let _ = count(&ctx, df).await;
    let day = ctx
        .read_table(table.clone())
        .unwrap()
        .filter(ident("@timestamp").gt_eq(Expr_ts(1_722_470_400_000)))
        .unwrap();
    let n = count(&ctx, day).await;
    let expected = store
        .manifest()
        .unwrap()
        .files
        .iter()
        .filter(|f| f.dt == "2024-08-01")
        .map(|f| f.rows as usize)
        .sum::<usize>();
    assert_eq!(n, expected);
    // An empty window opens nothing.
    let df = ctx
        .read_table(table.clone())
        .unwrap()
        .filter(ident("@timestamp").lt(Expr_ts(0)))
        .unwrap();
    assert_eq!(count(&ctx, df).await, 0);
    assert_eq!(table.last_scan().unwrap().0, 0);
    let _ = col("x");
}

#[allow(non_snake_case)]
fn Expr_ts(ms: i64) -> datafusion::logical_expr::Expr {
    lit(ScalarValue::TimestampMillisecond(Some(ms), None))
}

/// A file written by an older version, with fewer columns (and one column this version no
/// longer knows), reads with nulls where it has no data.
#[tokio::test]
async fn older_files_with_fewer_columns_read_as_nulls() {
    let (_tmp, store, records) = ingest_sample("evolve");
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "@timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("event.action", DataType::Utf8, true),
        Field::new("legacy.removed_field", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![1_000_000_000_000i64])),
            Arc::new(StringArray::from(vec!["OldEvent"])),
            Arc::new(StringArray::from(vec!["gone"])),
        ],
    )
    .unwrap();
    let rel = "dt=2001-09-09/part-legacy.parquet";
    let path = store.root().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let mut m: Manifest = store.manifest().unwrap();
    m.files.push(DataFile {
        path: rel.into(),
        dt: "2001-09-09".into(),
        rows: 1,
        bytes: std::fs::metadata(&path).unwrap().len(),
        min_ts: Some(1_000_000_000_000),
        max_ts: Some(1_000_000_000_000),
        accounts: Default::default(),
        regions: Default::default(),
    });
    m.version += 1;
    m.publish(store.root()).unwrap();

    let ctx = SessionContext::new();
    let table = store.table().unwrap();
    let all = ctx.read_table(table.clone()).unwrap();
    assert_eq!(count(&ctx, all).await as u64, records + 1);
    let old = ctx
        .read_table(table)
        .unwrap()
        .filter(ident("event.action").eq(lit("OldEvent")))
        .unwrap()
        .select(vec![
            ident("event.action"),
            ident("cloud.account.id"),
            ident("tags"),
        ])
        .unwrap()
        .collect()
        .await
        .unwrap();
    let rows: usize = old.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 1);
    let b = old.iter().find(|b| b.num_rows() > 0).unwrap();
    assert!(b.column(1).is_null(0));
    assert!(b.column(2).is_null(0));
    assert_eq!(b.column(0).as_string::<i32>().value(0), "OldEvent");

    // Vacuum rewrites it with the current schema, together with nothing else (one file).
    let r = store.vacuum().unwrap();
    assert_eq!(r.files_before, r.files_after);
}

#[test]
fn vacuum_compacts_small_commits_atomically() {
    let tmp = scratch("vacuum");
    let store = Store::create(tmp.path().join("s")).unwrap();
    let files = sample_files();
    let opts = store::IngestOptions {
        commit_files: Some(50),
        ..Default::default()
    };
    let r = store.ingest(&files, opts).unwrap();
    assert!(r.commits > 5, "{r:?}");
    let before = store.manifest().unwrap();
    let info_before = store.info().unwrap();
    assert!(before.files.len() > info_before.partitions);
    let v = store.vacuum().unwrap();
    assert!(v.partitions_compacted > 0);
    let after = store.manifest().unwrap();
    assert_eq!(
        after.files.len(),
        info_before.partitions,
        "one file per day"
    );
    assert_eq!(after.rows(), before.rows());
    assert_eq!(after.sources, before.sources);
    // The replaced files are gone; every listed file exists.
    for f in &before.files {
        let listed = after.files.iter().any(|g| g.path == f.path);
        assert_eq!(store.root().join(&f.path).exists(), listed, "{}", f.path);
    }
    let info = store.info().unwrap();
    assert_eq!(info.events, info_before.events);
    assert_eq!(info.accounts, info_before.accounts);
    assert_eq!(info.first, info_before.first);
    // Leftovers of an interrupted write are removed by the next writer.
    let stray = store
        .root()
        .join("dt=2024-08-01/part-99999999-00001.parquet");
    std::fs::write(&stray, b"partial").unwrap();
    let again = store.ingest(&files, Default::default()).unwrap();
    assert_eq!(again.records, 0);
    assert!(!stray.exists());
}

/// Commits overlap with the next chunk's scan: every commit still lists exactly its own
/// sources and files, in order, and an ingest stopped after N commits leaves a store the
/// next ingest completes to the same rows as one big commit.
#[test]
fn overlapped_commits_are_complete_and_in_order() {
    let tmp = scratch("overlap");
    let files = sample_files();
    let whole = Store::create(tmp.path().join("whole")).unwrap();
    let one = whole.ingest(&files, Default::default()).unwrap();
    assert_eq!(one.commits, 1);

    let parts = Store::create(tmp.path().join("parts")).unwrap();
    let stopped = parts
        .ingest(
            &files,
            store::IngestOptions {
                commit_files: Some(7),
                max_commits: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(stopped.commits, 3);
    assert_eq!(stopped.files_ingested, 21);
    let m = parts.manifest().unwrap();
    assert_eq!(m.sources.len(), 21);
    assert_eq!(m.version, 3);
    assert_eq!(m.rows(), stopped.records);
    // Every listed file exists and names its commit's version.
    for f in &m.files {
        assert!(parts.root().join(&f.path).exists(), "{}", f.path);
        let version: u64 = f.path.split("part-").nth(1).unwrap()[..8].parse().unwrap();
        assert!((1..=3).contains(&version), "{}", f.path);
    }

    let rest = parts
        .ingest(
            &files,
            store::IngestOptions {
                commit_files: Some(7),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(rest.files_skipped, 21);
    assert!(rest.commits > 3, "{rest:?}");
    let m = parts.manifest().unwrap();
    let whole_m = whole.manifest().unwrap();
    assert_eq!(m.version, 3 + rest.commits as u64);
    assert_eq!(m.rows(), whole_m.rows());
    assert_eq!(stopped.records + rest.records, one.records);
    let mut a: Vec<_> = m.sources.iter().map(|s| (&s.path, s.rejected)).collect();
    let mut b: Vec<_> = whole_m
        .sources
        .iter()
        .map(|s| (&s.path, s.rejected))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    for f in &m.files {
        assert!(parts.root().join(&f.path).exists(), "{}", f.path);
    }
    assert_eq!(parts.info().unwrap().events, whole.info().unwrap().events);
}
