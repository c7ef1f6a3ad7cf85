//! The embedded Parquet store as the engine's `logs-aws.cloudtrail-default`: DataFusion's
//! own Parquet scan over the files of the commit current when opened, so row groups and
//! pages are pruned by the query's filters.

use crate::{ecs_columns, INDEX_NAME};
use datafusion::arrow::datatypes::SchemaRef;
use engine::{BatchIter, Dataset, DatasetError};
use esql::Column;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the store is when neither `--store` nor `$TRAILHUNT_STORE` says.
pub const DEFAULT_STORE: &str = "trailhunt-store";

/// `--store`/`$TRAILHUNT_STORE` if given, else [`DEFAULT_STORE`] in the working directory.
pub fn store_dir(arg: Option<&Path>) -> PathBuf {
    arg.map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
}

/// The store over the commit current when opened.
pub struct StoreDataset {
    store: store::Store,
    table: Arc<store::StoreTable>,
    manifest: store::Manifest,
}

impl StoreDataset {
    pub fn open(dir: &Path) -> Result<StoreDataset, store::StoreError> {
        let store = store::Store::open(dir)?;
        let manifest = store::Manifest::load_data_files(dir)?;
        let table = Arc::new(store::StoreTable::new(
            dir.to_path_buf(),
            Arc::new(manifest.clone()),
            store.schema(),
        ));
        Ok(StoreDataset {
            store,
            table,
            manifest,
        })
    }

    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// Events in the commit read.
    pub fn events(&self) -> u64 {
        self.manifest.rows()
    }

    /// Parquet files in the commit read.
    pub fn file_count(&self) -> usize {
        self.manifest.files.len()
    }

    /// Files the last scan read and files in the commit: how much the query's time range
    /// (its WHERE or a rule run's time filter) pruned by the manifest's per-file bounds.
    pub fn last_scan(&self) -> Option<(usize, usize)> {
        self.table.last_scan()
    }
}

impl Dataset for StoreDataset {
    fn name(&self) -> &str {
        INDEX_NAME
    }

    fn columns(&self) -> Vec<Column> {
        ecs_columns()
    }

    fn schema(&self) -> SchemaRef {
        self.store.schema()
    }

    /// Used only where DataFusion's Parquet scan is not (the engine prefers
    /// [`Dataset::table_provider`]): reads every file, in manifest order.
    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        let target = cloudtrail::arrow_schema(Some(columns)).map_err(DatasetError::source)?;
        let root = self.store.root().to_path_buf();
        let files = self.manifest.files.clone();
        let iter =
            files
                .into_iter()
                .flat_map(move |f| match store::read::read_file(&root, &f, &target) {
                    Ok(batches) => batches.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(DatasetError::source(e))],
                });
        Ok(Box::new(iter))
    }

    fn table_provider(&self) -> Option<Arc<dyn datafusion::catalog::TableProvider>> {
        Some(self.table.clone())
    }

    fn index_naming(&self) -> engine::IndexNaming {
        crate::index_naming()
    }

    fn document_id(&self) -> engine::DocumentId {
        crate::document_id()
    }
}
