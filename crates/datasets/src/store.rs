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
    location: store::StoreLocation,
    s3: sources::S3Options,
    schema: SchemaRef,
    table: Arc<store::StoreTable>,
    manifest: store::Manifest,
}

impl StoreDataset {
    /// A store in a folder.
    pub fn open(dir: &Path) -> Result<StoreDataset, store::StoreError> {
        StoreDataset::open_at(
            store::StoreLocation::Local(dir.to_path_buf()),
            sources::S3Options::default(),
        )
    }

    /// A store in a folder or in S3 (`s3://bucket/prefix`, reached with `s3`).
    pub fn open_at(
        location: store::StoreLocation,
        s3: sources::S3Options,
    ) -> Result<StoreDataset, store::StoreError> {
        let manifest = match &location {
            store::StoreLocation::Local(dir) => {
                let store = store::Store::open(dir)?;
                store::Manifest::load_data_files(store.root())?
            }
            remote => sources::s3::block_on(store::remote::load_manifest(remote, &s3, false))?,
        };
        let schema = cloudtrail::arrow_schema(None).expect("the full schema always resolves");
        let table = Arc::new(store::StoreTable::at(
            location.clone(),
            s3.clone(),
            Arc::new(manifest.clone()),
            schema.clone(),
        ));
        Ok(StoreDataset {
            location,
            s3,
            schema,
            table,
            manifest,
        })
    }

    /// Where the store is.
    pub fn location(&self) -> &store::StoreLocation {
        &self.location
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
        self.schema.clone()
    }

    /// Used only where DataFusion's Parquet scan is not (the engine prefers
    /// [`Dataset::table_provider`]): reads every file, in manifest order.
    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        let target = cloudtrail::arrow_schema(Some(columns)).map_err(DatasetError::source)?;
        let (location, s3) = (self.location.clone(), self.s3.clone());
        let files = self.manifest.files.clone();
        let read = move |f: &store::DataFile| match location.local() {
            Some(root) => store::read::read_file(root, f, &target),
            None => sources::s3::block_on(store::remote::read_object(&location, &s3, &f.path))
                .and_then(|bytes| store::read::read_bytes(bytes, &target)),
        };
        let iter = files.into_iter().flat_map(move |f| match read(&f) {
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
