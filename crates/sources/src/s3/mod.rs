//! `s3://bucket/prefix` sources. Objects are listed (paginated by the client) and copied to
//! a local cache, keyed by endpoint, bucket and key, so every reader of local files — the
//! raw scan, ingest, `normalize` — works on them unchanged, and a second hunt over the same
//! prefix downloads nothing. CloudTrail objects never change once delivered, so a cached
//! copy of the right size is the object.
//!
//! Credentials, region and endpoint come from the AWS SDK's own chain ([`credentials`]), so
//! whatever works for the AWS CLI works here. A range that is not open prunes the
//! CloudTrail layout's year, month and day prefixes before they are listed.

pub mod credentials;

use crate::layout::DayRange;
use crate::{Downloaded, ExpandOptions, Fetched, S3Options, SourceError, SourceFile};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, RetryConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Splits `s3://bucket/prefix` into its parts.
pub fn parse_url(url: &str) -> Result<(String, String), SourceError> {
    let bad = |why: &str| SourceError::BadUrl {
        url: url.to_string(),
        why: why.to_string(),
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad("not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket name (expected s3://bucket/prefix)"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// One S3 client per bucket, sharing one resolved AWS configuration.
pub(crate) struct S3Client {
    options: S3Options,
    aws: Option<credentials::AwsSettings>,
    buckets: HashMap<String, Arc<AmazonS3>>,
    cache: PathBuf,
}

impl S3Client {
    pub(crate) fn new(options: &S3Options) -> S3Client {
        S3Client {
            options: options.clone(),
            aws: None,
            buckets: HashMap::new(),
            cache: options.cache_dir.clone().unwrap_or_else(default_cache_dir),
        }
    }

    async fn bucket(&mut self, bucket: &str) -> Result<Arc<AmazonS3>, SourceError> {
        if let Some(b) = self.buckets.get(bucket) {
            return Ok(b.clone());
        }
        if self.aws.is_none() {
            self.aws = Some(credentials::AwsSettings::load(&self.options).await);
        }
        let s = Arc::new(client_for(
            bucket,
            self.aws.as_ref().expect("loaded above"),
        )?);
        self.buckets.insert(bucket.to_string(), s.clone());
        Ok(s)
    }

    /// Lists `url` (pruned by `range`) and makes sure each object is in the cache, telling
    /// `opts.report` what the listing found and `opts.downloaded` of each object fetched.
    pub(crate) async fn fetch_prefix(
        &mut self,
        url: &str,
        range: &DayRange,
        opts: &ExpandOptions<'_>,
    ) -> Result<Vec<SourceFile>, SourceError> {
        let (bucket, prefix) = parse_url(url)?;
        let s3 = self.bucket(&bucket).await?;
        let mut objects = list_pruned(s3.as_ref(), &prefix, range)
            .await
            .map_err(|e| explain(url, &e))?;
        objects.retain(|o| range.admits_path(o.location.as_ref()));
        objects.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        if objects.is_empty() {
            return Err(SourceError::NoMatch(url.to_string()));
        }
        let endpoint = self.aws.as_ref().and_then(|a| a.endpoint_url.clone());
        let root = self
            .cache
            .join(endpoint_tag(endpoint.as_deref()))
            .join(&bucket);
        let mut todo = vec![];
        let mut files = vec![];
        for o in &objects {
            let local = local_path(&root, o.location.as_ref());
            let cached = std::fs::metadata(&local).is_ok_and(|m| m.len() == o.size);
            if !cached {
                todo.push((o.location.clone(), local.clone(), o.size));
            }
            files.push(SourceFile {
                path: local,
                origin: Some(format!("s3://{bucket}/{}", o.location)),
                size: Some(o.size),
            });
        }
        if let Some(report) = opts.report {
            report(&Fetched {
                url: url.to_string(),
                objects: objects.len(),
                bytes: objects.iter().map(|o| o.size).sum(),
                to_download: todo.len(),
                download_bytes: todo.iter().map(|t| t.2).sum(),
            });
        }
        if opts.s3_list_only {
            return Ok(files);
        }
        download(&s3, &bucket, todo, opts.downloaded).await?;
        Ok(files)
    }

    /// [`crate::fetch_objects`].
    pub(crate) async fn fetch_objects(
        &mut self,
        objects: &[(String, u64)],
    ) -> Result<Vec<PathBuf>, SourceError> {
        let mut paths = Vec::with_capacity(objects.len());
        // Bucket → objects not cached yet.
        let mut todo: HashMap<String, Vec<(ObjPath, PathBuf, u64)>> = HashMap::new();
        for (url, size) in objects {
            let (bucket, key) = parse_url(url)?;
            if key.is_empty() || key.ends_with('/') {
                return Err(SourceError::S3 {
                    url: url.clone(),
                    hint: "not an object (a prefix)".into(),
                });
            }
            if self.aws.is_none() {
                self.aws = Some(credentials::AwsSettings::load(&self.options).await);
            }
            let endpoint = self.aws.as_ref().and_then(|a| a.endpoint_url.clone());
            let root = self
                .cache
                .join(endpoint_tag(endpoint.as_deref()))
                .join(&bucket);
            let local = local_path(&root, &key);
            if !std::fs::metadata(&local).is_ok_and(|m| m.len() == *size) {
                todo.entry(bucket)
                    .or_default()
                    .push((ObjPath::from(key), local.clone(), *size));
            }
            paths.push(local);
        }
        for (bucket, objects) in todo {
            let s3 = self.bucket(&bucket).await?;
            download(&s3, &bucket, objects, None).await?;
        }
        Ok(paths)
    }
}

/// object_store's S3 client for one bucket, with the chain's region, endpoint and
/// credentials.
fn client_for(bucket: &str, aws: &credentials::AwsSettings) -> Result<AmazonS3, SourceError> {
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(aws.region.clone())
        .with_credentials(aws.credentials.clone())
        .with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        });
    if let Some(e) = &aws.endpoint_url {
        b = b
            .with_endpoint(e.trim_end_matches('/'))
            .with_allow_http(e.starts_with("http://"));
    }
    b.build().map_err(|e| SourceError::S3 {
        url: format!("s3://{bucket}"),
        hint: format!("cannot set up the S3 client: {e}"),
    })
}

/// An object store over one bucket, resolved through the AWS chain as the `s3://` sources
/// are (for readers of Parquet in S3 — the store — that go through DataFusion's own
/// object_store scan rather than the download cache).
pub async fn bucket_store(bucket: &str, opts: &S3Options) -> Result<Arc<AmazonS3>, SourceError> {
    let aws = credentials::AwsSettings::load(opts).await;
    Ok(Arc::new(client_for(bucket, &aws)?))
}

/// Reads one object whole; errors say what to check, as the sources' do.
pub async fn get_object(
    s3: &dyn ObjectStore,
    url: &str,
    key: &str,
) -> Result<bytes::Bytes, SourceError> {
    let key = ObjPath::from(key);
    s3.get(&key)
        .await
        .map_err(|e| explain(url, &e))?
        .bytes()
        .await
        .map_err(|e| explain(url, &e))
}

/// Whether an error from [`get_object`] means the object is not there.
pub fn is_not_found(e: &SourceError) -> bool {
    matches!(e, SourceError::S3 { hint, .. } if hint.starts_with(NOT_FOUND))
}

const NOT_FOUND: &str = "no such object";

/// Runs `fut` to completion from synchronous code, on a thread of its own with its own
/// runtime — so it works whether or not the caller is itself inside a tokio runtime (an
/// object store registry is asked for a store from synchronous code on a runtime thread).
pub fn block_on<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime starts")
                    .block_on(fut)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Copies `objects` (key, cache path, listed size) into the cache, 16 at a time.
async fn download(
    s3: &Arc<AmazonS3>,
    bucket: &str,
    objects: Vec<(ObjPath, PathBuf, u64)>,
    downloaded: Option<&(dyn Fn(&Downloaded) + Sync)>,
) -> Result<(), SourceError> {
    let results: Vec<Result<(), SourceError>> =
        futures::stream::iter(objects.into_iter().map(|(key, local, _)| {
            let s3 = s3.clone();
            async move {
                let object = format!("s3://{bucket}/{key}");
                let bytes = s3
                    .get(&key)
                    .await
                    .map_err(|e| explain(&object, &e))?
                    .bytes()
                    .await
                    .map_err(|e| explain(&object, &e))?;
                write_atomic(&local, &bytes)?;
                if let Some(tell) = downloaded {
                    tell(&Downloaded {
                        url: object,
                        bytes: bytes.len() as u64,
                    });
                }
                Ok(())
            }
        }))
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect::<Result<(), _>>()
}

/// Lists a prefix (a folder: `s3://b/AWSLogs` and `s3://b/AWSLogs/` are the same). With
/// an open range it is one paginated listing; otherwise the walk goes folder by folder and
/// skips year/month/day folders outside the range.
async fn list_pruned(
    s3: &dyn ObjectStore,
    prefix: &str,
    range: &DayRange,
) -> object_store::Result<Vec<ObjectMeta>> {
    let p = (!prefix.is_empty()).then(|| ObjPath::from(prefix));
    if range.is_open() {
        return s3.list(p.as_ref()).try_collect().await;
    }
    let mut out = vec![];
    let mut stack = vec![p];
    while let Some(dir) = stack.pop() {
        let r = s3.list_with_delimiter(dir.as_ref()).await?;
        out.extend(r.objects);
        for cp in r.common_prefixes {
            if range.admits_path(cp.as_ref()) {
                stack.push(Some(cp));
            }
        }
    }
    Ok(out)
}

/// One clear sentence for the usual S3 failures.
fn explain(url: &str, e: &object_store::Error) -> SourceError {
    let text = format!("{e} {e:?}");
    let hint = if matches!(e, object_store::Error::NotFound { .. })
        && !text.contains("NoSuchBucket")
    {
        format!("{NOT_FOUND} (check the path)")
    } else if text.contains("NoSuchBucket") || text.contains("bucket does not exist") {
        "the bucket does not exist (check the name, the region and --endpoint-url)".to_string()
    } else if credentials::is_credential_error(&text) {
        credentials::no_credentials_hint(&text)
    } else if [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "403",
        "ExpiredToken",
    ]
    .iter()
    .any(|k| text.contains(k))
    {
        "access denied: the credentials are wrong, expired or not allowed to read it (check AWS_PROFILE/--profile, `aws sts get-caller-identity`, the bucket policy)".to_string()
    } else if text.contains("error sending request") || text.contains("Connection refused") {
        "cannot reach the S3 endpoint (check --endpoint-url and the network)".to_string()
    } else {
        let first = e.to_string().lines().next().unwrap_or("").to_string();
        first.chars().take(300).collect()
    };
    SourceError::S3 {
        url: url.to_string(),
        hint,
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SourceError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |error| SourceError::Io { path: p, error }
    };
    let dir = path.parent().expect("a cache file has a parent");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = dir.join(format!(
        ".{}.{}.part",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

/// The cache file of an object: its key, with components that would escape the cache
/// (or hide from the directory walk) made harmless.
fn local_path(root: &Path, key: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    for c in key.split('/').filter(|c| !c.is_empty()) {
        p.push(match c {
            "." | ".." => "_",
            c if c.starts_with('.') => "_",
            c => c,
        });
    }
    p
}

/// `s3` under [`crate::cache_root`].
fn default_cache_dir() -> PathBuf {
    crate::cache_root().join("s3")
}

/// Objects from different endpoints never share cache entries.
fn endpoint_tag(endpoint: Option<&str>) -> String {
    match endpoint {
        None => "aws".to_string(),
        Some(e) => e
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .replace(['/', ':'], "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("s3://b/AWSLogs/").unwrap(),
            ("b".to_string(), "AWSLogs/".to_string())
        );
        assert_eq!(
            parse_url("s3://b").unwrap(),
            ("b".to_string(), String::new())
        );
        assert!(parse_url("s3:///x").is_err());
    }

    #[test]
    fn cache_paths_stay_inside() {
        let root = Path::new("/cache/b");
        assert_eq!(
            local_path(root, "a/../../etc/.x/f.json.gz"),
            Path::new("/cache/b/a/_/_/etc/_/f.json.gz")
        );
        assert_eq!(
            endpoint_tag(Some("http://127.0.0.1:9000/")),
            "127.0.0.1_9000"
        );
        assert_eq!(endpoint_tag(None), "aws");
    }
}
