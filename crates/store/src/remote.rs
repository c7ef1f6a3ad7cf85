//! A store in S3: its manifest read through the AWS chain, and its Parquet files read by
//! DataFusion's scan through object_store. Every process that runs a scan of it — the
//! client, a cluster's scheduler (which plans) and its executors (which read) — resolves
//! credentials, region and endpoint from its own environment, as `s3://` sources do.

use crate::location::StoreLocation;
use crate::manifest::{Manifest, MANIFEST_PATH};
use crate::StoreError;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::object_store::ObjectStore;
use sources::S3Options;
use std::sync::Arc;
use url::Url;

fn remote(e: impl std::fmt::Display) -> StoreError {
    StoreError::Remote(e.to_string())
}

/// The URL DataFusion keys a bucket's object store by.
fn bucket_url(bucket: &str) -> Result<Url, StoreError> {
    Url::parse(&format!("s3://{bucket}/")).map_err(|e| remote(format!("s3://{bucket}: {e}")))
}

/// The manifest of a store in S3, without its sources (as [`Manifest::load_data_files`]),
/// or all of it.
pub async fn load_manifest(
    location: &StoreLocation,
    s3: &S3Options,
    with_sources: bool,
) -> Result<Manifest, StoreError> {
    let StoreLocation::S3 { bucket, .. } = location else {
        let root = location.local().expect("not S3, so local");
        return if with_sources {
            Manifest::load(root)
        } else {
            Manifest::load_data_files(root)
        };
    };
    let client = sources::s3::bucket_store(bucket, s3)
        .await
        .map_err(remote)?;
    let key = location.key(MANIFEST_PATH);
    let url = format!("s3://{bucket}/{key}");
    let bytes = match sources::s3::get_object(client.as_ref(), &url, &key).await {
        Ok(b) => b,
        Err(e) if sources::s3::is_not_found(&e) => {
            return Err(StoreError::NotFound(location.to_string()))
        }
        Err(e) => return Err(remote(e)),
    };
    if with_sources {
        Manifest::from_bytes(&url, &bytes)
    } else {
        Manifest::data_files_from_bytes(&url, &bytes)
    }
}

/// Reads one object of a store in S3 (a data file, for readers without DataFusion).
pub async fn read_object(
    location: &StoreLocation,
    s3: &S3Options,
    relative: &str,
) -> Result<bytes::Bytes, StoreError> {
    let StoreLocation::S3 { bucket, .. } = location else {
        let path = location.local().expect("not S3, so local").join(relative);
        return std::fs::read(&path)
            .map(bytes::Bytes::from)
            .map_err(|e| StoreError::io(&path, e));
    };
    let client = sources::s3::bucket_store(bucket, s3)
        .await
        .map_err(remote)?;
    let key = location.key(relative);
    sources::s3::get_object(client.as_ref(), &format!("s3://{bucket}/{key}"), &key)
        .await
        .map_err(remote)
}

/// Makes sure `runtime` can read the bucket of a store in S3 (a no-op for a local store,
/// or when it already can, e.g. through [`S3Registry`]).
pub async fn register_bucket(
    runtime: &RuntimeEnv,
    location: &StoreLocation,
    s3: &S3Options,
) -> Result<(), StoreError> {
    let StoreLocation::S3 { bucket, .. } = location else {
        return Ok(());
    };
    let url = bucket_url(bucket)?;
    let key =
        datafusion::execution::object_store::ObjectStoreUrl::parse(url.as_str()).map_err(remote)?;
    if runtime.object_store(&key).is_ok() {
        return Ok(());
    }
    let client = sources::s3::bucket_store(bucket, s3)
        .await
        .map_err(remote)?;
    runtime.register_object_store(&url, client);
    Ok(())
}

/// DataFusion's object store registry, plus any `s3://bucket` built on first use from
/// this process's AWS chain: a cluster executor's, which runs scans of plans it did not
/// plan (and so never saw the store's table register its bucket).
#[derive(Debug)]
pub struct S3Registry {
    inner: DefaultObjectStoreRegistry,
    s3: S3Options,
}

impl S3Registry {
    pub fn new(s3: S3Options) -> S3Registry {
        S3Registry {
            inner: DefaultObjectStoreRegistry::new(),
            s3,
        }
    }
}

impl ObjectStoreRegistry for S3Registry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        if let Ok(s) = self.inner.get_store(url) {
            return Ok(s);
        }
        let (true, Some(bucket)) = (url.scheme() == "s3", url.host_str()) else {
            return self.inner.get_store(url);
        };
        // Synchronous by the trait; the AWS chain is async (profiles, IMDS), so it is
        // resolved on a thread of its own, once per bucket.
        let client = sources::s3::block_on(sources::s3::bucket_store(bucket, &self.s3))
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let key = bucket_url(bucket)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        self.inner.register_store(&key, client.clone());
        Ok(client)
    }
}
