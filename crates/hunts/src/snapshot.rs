//! An in-memory copy of raw CloudTrail data for work that runs many queries over the same
//! files: a replay's hundreds of scheduler runs, an investigation's pivots.
//!
//! Columns are read lazily: the first query that needs a column reads it (with every
//! other missing column it asks for) in one scan of the files, and later queries use the
//! copy. So memory holds only the columns the queries use — a rule reads a handful of the
//! ~500 — and each file is read and normalized once per batch of new columns, not once per
//! query.
//!
//! Every scan of the source yields the same rows in the same order and batches (files in
//! order, records in file order, batches of a fixed size), so columns read by different
//! scans line up row for row; a scan that disagrees (the files changed meanwhile) is an
//! error, never a silent mix.
//!
//! Under a memory budget the copy has a cap (see [`Runner::snapshot`](crate::Runner)): a
//! load that would pass it stops with an error saying so and what to do (ingest the files
//! into a store, whose queries read from disk), rather than growing until the OS kills us.

use engine::source::{DocumentId, IndexNaming, SchemaRef};
use engine::{BatchIter, Dataset, DatasetError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::Schema;

/// See the module docs.
pub(crate) struct ColumnCache {
    inner: Arc<dyn Dataset>,
    state: Mutex<State>,
    /// Bytes the copy may hold (`None`: no cap).
    max_bytes: Option<u64>,
}

#[derive(Default)]
struct State {
    /// Rows of each batch, fixed by the first scan.
    batch_rows: Option<Vec<usize>>,
    /// Column → its array in each batch.
    columns: HashMap<String, Vec<ArrayRef>>,
    /// What the arrays in `columns` hold, in bytes.
    bytes: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("the data changed while it was being read ({0}); run the command again")]
struct Changed(String);

#[derive(Debug, thiserror::Error)]
#[error(
    "the in-memory copy of the {columns} columns these queries read needs more than its \
     {cap} MiB share of the memory budget (--memory-limit): ingest the files into a store \
     first (`trailhunt ingest`, then query the store), or raise --memory-limit"
)]
struct OverBudget {
    columns: usize,
    cap: u64,
}

impl ColumnCache {
    pub(crate) fn new(inner: Arc<dyn Dataset>, max_bytes: Option<u64>) -> ColumnCache {
        ColumnCache {
            inner,
            state: Mutex::new(State::default()),
            max_bytes,
        }
    }

    /// Reads the columns not yet in memory, in one scan.
    fn load(&self, state: &mut State, columns: &[String]) -> Result<(), DatasetError> {
        let mut missing: Vec<String> = Vec::new();
        for c in columns {
            if !state.columns.contains_key(c) && !missing.contains(c) {
                missing.push(c.clone());
            }
        }
        if missing.is_empty() && state.batch_rows.is_some() {
            return Ok(());
        }
        let mut arrays: Vec<Vec<ArrayRef>> = vec![Vec::new(); missing.len()];
        let mut rows = Vec::new();
        let mut bytes = state.bytes;
        for batch in self.inner.scan(&missing)? {
            let batch = batch?;
            rows.push(batch.num_rows());
            for (i, a) in batch.columns().iter().enumerate() {
                bytes += a.get_array_memory_size() as u64;
                arrays[i].push(a.clone());
            }
            if let Some(cap) = self.max_bytes.filter(|cap| bytes > *cap) {
                return Err(DatasetError::source(OverBudget {
                    columns: state.columns.len() + missing.len(),
                    cap: cap >> 20,
                }));
            }
        }
        state.bytes = bytes;
        match &state.batch_rows {
            None => state.batch_rows = Some(rows),
            Some(known) if *known == rows => {}
            Some(known) => {
                return Err(DatasetError::source(Changed(format!(
                    "{} rows in {} batches before, {} rows in {} batches now",
                    known.iter().sum::<usize>(),
                    known.len(),
                    rows.iter().sum::<usize>(),
                    rows.len()
                ))))
            }
        }
        for (name, a) in missing.into_iter().zip(arrays) {
            state.columns.insert(name, a);
        }
        Ok(())
    }
}

impl ColumnCache {
    /// Reads these columns now, in one scan (those not in the schema are ignored): for a
    /// caller that knows what its queries will read, one pass instead of one per new column.
    pub(crate) fn preload(&self, columns: &[String]) -> Result<(), DatasetError> {
        let schema = self.inner.schema();
        let known: Vec<String> = columns
            .iter()
            .filter(|c| schema.field_with_name(c).is_ok())
            .cloned()
            .collect();
        let mut state = self
            .state
            .lock()
            .map_err(|_| DatasetError::source(Changed("an earlier read failed".into())))?;
        self.load(&mut state, &known)
    }
}

impl Dataset for ColumnCache {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn columns(&self) -> Vec<esql::Column> {
        self.inner.columns()
    }
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| DatasetError::source(Changed("an earlier read failed".into())))?;
        let full = self.inner.schema();
        let fields = columns
            .iter()
            .map(|c| {
                full.field_with_name(c)
                    .cloned()
                    .map_err(|_| DatasetError::UnknownColumn(c.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.load(&mut state, columns)?;
        let schema = Arc::new(Schema::new(fields));
        let rows = state.batch_rows.clone().unwrap_or_default();
        let mut batches = Vec::with_capacity(rows.len());
        for (i, n) in rows.into_iter().enumerate() {
            let arrays: Vec<ArrayRef> = columns
                .iter()
                .map(|c| state.columns[c][i].clone())
                .collect();
            let opts = RecordBatchOptions::new().with_row_count(Some(n));
            batches.push(RecordBatch::try_new_with_options(
                schema.clone(),
                arrays,
                &opts,
            ));
        }
        Ok(Box::new(
            batches.into_iter().map(|b| b.map_err(DatasetError::from)),
        ))
    }
    fn index_naming(&self) -> IndexNaming {
        self.inner.index_naming()
    }
    fn document_id(&self) -> DocumentId {
        self.inner.document_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Two columns in two batches; counts its scans; `shift` changes the batches after the
    /// first scan (files that changed).
    struct Source {
        scans: AtomicUsize,
        shift: bool,
    }

    impl Dataset for Source {
        fn name(&self) -> &str {
            "t"
        }
        fn columns(&self) -> Vec<esql::Column> {
            vec![
                esql::Column {
                    name: "a".into(),
                    ty: esql::DataType::Long,
                },
                esql::Column {
                    name: "b".into(),
                    ty: esql::DataType::Keyword,
                },
            ]
        }
        fn schema(&self) -> SchemaRef {
            Arc::new(Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Utf8, true),
            ]))
        }
        fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
            let n = self.scans.fetch_add(1, Ordering::SeqCst);
            let sizes: &[usize] = if self.shift && n > 0 { &[3] } else { &[2, 1] };
            let mut start = 0i64;
            let mut out = Vec::new();
            for &size in sizes {
                let arrays: Vec<ArrayRef> = columns
                    .iter()
                    .map(|c| -> ArrayRef {
                        let v = start..start + size as i64;
                        match c.as_str() {
                            "a" => Arc::new(Int64Array::from_iter_values(v)),
                            _ => {
                                Arc::new(StringArray::from_iter_values(v.map(|i| format!("r{i}"))))
                            }
                        }
                    })
                    .collect();
                let fields: Vec<Field> = columns
                    .iter()
                    .map(|c| self.schema().field_with_name(c).unwrap().clone())
                    .collect();
                let opts = RecordBatchOptions::new().with_row_count(Some(size));
                out.push(Ok(RecordBatch::try_new_with_options(
                    Arc::new(Schema::new(fields)),
                    arrays,
                    &opts,
                )?));
                start += size as i64;
            }
            Ok(Box::new(out.into_iter()))
        }
    }

    fn collect(c: &ColumnCache, cols: &[&str]) -> Vec<RecordBatch> {
        let cols: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
        c.scan(&cols).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn reads_each_column_once_and_keeps_rows_aligned() {
        let src = Arc::new(Source {
            scans: AtomicUsize::new(0),
            shift: false,
        });
        let cache = ColumnCache::new(src.clone(), None);
        let first = collect(&cache, &["b"]);
        assert_eq!(
            first.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
            [2, 1]
        );
        let both = collect(&cache, &["a", "b"]);
        assert_eq!(src.scans.load(Ordering::SeqCst), 2, "b is not read again");
        let a = both[1]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        let b = both[1]
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((a.value(0), b.value(0)), (2, "r2"), "row 3 of both columns");
        let again = collect(&cache, &["b", "a"]);
        assert_eq!(src.scans.load(Ordering::SeqCst), 2, "nothing new to read");
        assert_eq!(again[0].schema().field(0).name(), "b");
        // No columns at all (COUNT(*)): the row counts are kept.
        let none = collect(&cache, &[]);
        assert_eq!(none.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    }

    #[test]
    fn data_that_changed_between_scans_is_an_error() {
        let cache = ColumnCache::new(
            Arc::new(Source {
                scans: AtomicUsize::new(0),
                shift: true,
            }),
            None,
        );
        collect(&cache, &["a"]);
        let err = match cache.scan(&["b".to_string()]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a changed source must not be mixed"),
        };
        assert!(
            err.contains("the data changed while it was being read"),
            "{err}"
        );
        let err = match cache.scan(&["nope".to_string()]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("unknown column"),
        };
        assert!(!err.is_empty());
    }

    /// A copy that would outgrow its share of the budget stops with an error that says what
    /// to do, and what it already holds stays usable.
    #[test]
    fn a_copy_over_its_budget_is_an_error_naming_the_way_out() {
        let src = Arc::new(Source {
            scans: AtomicUsize::new(0),
            shift: false,
        });
        let one = collect(&ColumnCache::new(src.clone(), None), &["b"]);
        let b_bytes: u64 = one
            .iter()
            .map(|b| b.column(0).get_array_memory_size() as u64)
            .sum();
        let cache = ColumnCache::new(src, Some(b_bytes + 8));
        collect(&cache, &["b"]);
        let err = match cache.scan(&["a".to_string(), "b".to_string()]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a second column does not fit"),
        };
        assert!(
            err.contains("needs more than its 0 MiB share of the memory budget (--memory-limit): ingest the files into a store first"),
            "{err}"
        );
        assert_eq!(collect(&cache, &["b"]).len(), 2, "b is still there");
    }
}
