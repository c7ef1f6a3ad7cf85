//! `s3://bucket/prefix` sources. Objects are listed (paginated by the client) and copied to
//! a local cache, keyed by bucket and key, so every reader of local files — the raw scan,
//! ingest — works on them unchanged, and a second hunt over the same prefix downloads
//! nothing. CloudTrail objects never change once delivered, so a cached copy of the right
//! size is the object.
//!
//! Credentials and region resolve as the AWS CLI does: environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`, …), then the shared profile files
//! (`AWS_PROFILE`, `~/.aws/credentials`, `~/.aws/config`), then the container or
//! instance role. `--endpoint-url` points at an S3-compatible server.
//!
//! With `--since`/`--until`, the CloudTrail layout
//! `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/` prunes whole year, month
//! and day prefixes before they are listed; local paths in that layout are pruned alike.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, RetryConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone, Default)]
pub struct S3Args {
    /// S3-compatible endpoint for s3:// sources, e.g. http://127.0.0.1:9000.
    #[arg(long = "endpoint-url", env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Only read log files delivered on or after this date (YYYY-MM-DD or a timestamp),
    /// judged by their AWSLogs/…/YYYY/MM/DD/ folder (a day of slack either side).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only read log files delivered on or before this date (see --since).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// Day numbers (days since the epoch) a file's folder date must fall in.
#[derive(Debug, Clone, Copy, Default)]
pub struct DayRange {
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl DayRange {
    pub fn from_args(a: &S3Args) -> Result<DayRange> {
        let day = |s: &Option<String>, name: &str| -> Result<Option<i64>> {
            s.as_deref()
                .map(|v| {
                    javatime::parse_strict_date_optional_time(v)
                        .map(|ms| ms.div_euclid(86_400_000))
                        .map_err(|_| {
                            anyhow!("invalid --{name} value [{v}]: expected a date such as 2024-08-01 or an ISO-8601 timestamp")
                        })
                })
                .transpose()
        };
        // Events are delivered up to ~15 minutes late, into the next day's folder at
        // worst: one day of slack on each side never drops a matching event.
        Ok(DayRange {
            first: day(&a.since, "since")?.map(|d| d - 1),
            last: day(&a.until, "until")?.map(|d| d + 1),
        })
    }

    /// The folders that can hold events between `min` and `max` (epoch ms, inclusive).
    /// A folder is the delivery day, never before the event's day; deliveries run minutes
    /// late, so one day of slack on each side keeps every matching file.
    pub fn from_millis(min: Option<i64>, max: Option<i64>) -> DayRange {
        DayRange {
            first: min.map(|ms| ms.div_euclid(86_400_000) - 1),
            last: max.map(|ms| ms.div_euclid(86_400_000) + 1),
        }
    }

    /// Days in both ranges.
    pub fn intersect(self, other: DayRange) -> DayRange {
        let pick = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, None) | (None, x) => x,
        };
        DayRange {
            first: pick(self.first, other.first, i64::max),
            last: pick(self.last, other.last, i64::min),
        }
    }

    fn is_open(&self) -> bool {
        self.first.is_none() && self.last.is_none()
    }

    /// Whether a (partial) folder date can hold days in the range: `(year)`,
    /// `(year, month)` or `(year, month, day)`.
    fn admits(&self, y: i32, m: Option<u32>, d: Option<u32>) -> bool {
        let (lo, hi) = match (m, d) {
            (Some(m), Some(d)) => match chrono::NaiveDate::from_ymd_opt(y, m, d) {
                Some(x) => (x, x),
                None => return true,
            },
            (Some(m), None) => {
                let Some(lo) = chrono::NaiveDate::from_ymd_opt(y, m, 1) else {
                    return true;
                };
                let next = if m == 12 {
                    chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                (lo, next.map_or(lo, |n| n.pred_opt().unwrap_or(n)))
            }
            _ => match (
                chrono::NaiveDate::from_ymd_opt(y, 1, 1),
                chrono::NaiveDate::from_ymd_opt(y, 12, 31),
            ) {
                (Some(a), Some(b)) => (a, b),
                _ => return true,
            },
        };
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let (lo, hi) = ((lo - epoch).num_days(), (hi - epoch).num_days());
        self.first.is_none_or(|f| hi >= f) && self.last.is_none_or(|l| lo <= l)
    }

    /// Whether a path (key or file path, `/`-separated) can hold events in the range,
    /// judged by its `CloudTrail/<region>/YYYY/MM/DD` components; other layouts pass.
    pub fn admits_path(&self, path: &str) -> bool {
        if self.is_open() {
            return true;
        }
        match cloudtrail::delivery_date(path) {
            Some((year, month, day)) => self.admits(year as i32, month, day),
            None => true,
        }
    }
}

/// Expands every source in order: S3 prefixes are listed and fetched into the cache,
/// local ones go through `cloudtrail::expand_sources`. `--since/--until` prune both; for a
/// query whose filters bound `@timestamp` to `query_days`, S3 prefixes
/// outside it are neither listed nor fetched (local files are pruned later, by the scan,
/// which counts them for the summary).
pub fn expand_for_query(
    sources: &[String],
    args: &S3Args,
    query_days: DayRange,
    quiet: bool,
) -> Result<Vec<PathBuf>> {
    Ok(expand_named(sources, args, query_days, quiet)?
        .into_iter()
        .map(|(p, _)| p)
        .collect())
}

/// Every source expanded (as [`expand_for_query`] with no query), with the `s3://bucket/key`
/// of each file fetched from S3.
pub fn expand_all_named(
    sources: &[String],
    args: &S3Args,
    quiet: bool,
) -> Result<Vec<(PathBuf, Option<String>)>> {
    expand_named(sources, args, DayRange::default(), quiet)
}

fn expand_named(
    sources: &[String],
    args: &S3Args,
    query_days: DayRange,
    quiet: bool,
) -> Result<Vec<(PathBuf, Option<String>)>> {
    let range = DayRange::from_args(args)?;
    let s3_range = range.intersect(query_days);
    let mut out = vec![];
    let mut client: Option<(tokio::runtime::Runtime, S3Client)> = None;
    for src in sources {
        if src.starts_with("s3://") {
            if client.is_none() {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .worker_threads(2)
                    .build()?;
                client = Some((rt, S3Client::new(args)?));
            }
            let (rt, c) = client.as_mut().expect("set above");
            let files = rt.block_on(c.fetch_prefix(src, &s3_range, quiet))?;
            out.extend(files.into_iter().map(|(p, k)| (p, Some(k))));
        } else {
            let files = cloudtrail::expand_sources(std::slice::from_ref(src))
                .map_err(|e| anyhow!("{e}"))?;
            out.extend(
                files
                    .into_iter()
                    .filter(|p| range.admits_path(&p.to_string_lossy().replace('\\', "/")))
                    .map(|p| (p, None)),
            );
        }
    }
    Ok(out)
}

/// Splits `s3://bucket/prefix` into its parts.
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| anyhow!("{url}: not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        bail!("{url}: no bucket name (expected s3://bucket/prefix)");
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

struct S3Client {
    args: S3Args,
    buckets: HashMap<String, Arc<AmazonS3>>,
    cache: PathBuf,
}

impl S3Client {
    fn new(args: &S3Args) -> Result<S3Client> {
        Ok(S3Client {
            args: args.clone(),
            buckets: HashMap::new(),
            cache: cache_dir(args),
        })
    }

    fn bucket(&mut self, bucket: &str) -> Result<Arc<AmazonS3>> {
        if let Some(b) = self.buckets.get(bucket) {
            return Ok(b.clone());
        }
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            if let Some(p) = profile_credentials() {
                b = b
                    .with_access_key_id(p.access_key_id)
                    .with_secret_access_key(p.secret_access_key);
                if let Some(t) = p.session_token {
                    b = b.with_token(t);
                }
            }
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            if let Some(r) = profile_region() {
                b = b.with_region(r);
            }
        } else if let Ok(r) = std::env::var("AWS_REGION") {
            b = b.with_region(r);
        }
        if let Some(e) = &self.args.endpoint_url {
            b = b
                .with_endpoint(e.trim_end_matches('/'))
                .with_allow_http(e.starts_with("http://"));
        }
        b = b.with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        });
        let s = Arc::new(
            b.build()
                .map_err(|e| anyhow!("s3://{bucket}: cannot set up the S3 client: {e}"))?,
        );
        self.buckets.insert(bucket.to_string(), s.clone());
        Ok(s)
    }

    /// Lists `url` (pruned by `range`) and makes sure each object is in the cache.
    async fn fetch_prefix(
        &mut self,
        url: &str,
        range: &DayRange,
        quiet: bool,
    ) -> Result<Vec<(PathBuf, String)>> {
        let (bucket, prefix) = parse_url(url)?;
        let s3 = self.bucket(&bucket)?;
        let mut objects = list_pruned(s3.as_ref(), &prefix, range)
            .await
            .map_err(|e| explain(url, &e))?;
        objects.retain(|o| range.admits_path(o.location.as_ref()));
        objects.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        if objects.is_empty() {
            bail!("{url}: matches no objects");
        }
        let root = self.cache.join(endpoint_tag(&self.args)).join(&bucket);
        let total: u64 = objects.iter().map(|o| o.size).sum();
        let mut todo = vec![];
        let mut paths = vec![];
        for o in &objects {
            let local = local_path(&root, o.location.as_ref());
            let cached = std::fs::metadata(&local).is_ok_and(|m| m.len() == o.size);
            if !cached {
                todo.push((o.location.clone(), local.clone()));
            }
            paths.push((local, format!("s3://{bucket}/{}", o.location)));
        }
        if !quiet {
            eprintln!(
                "trailhunt: {url}: {} objects ({:.1} MB), {} to download",
                objects.len(),
                total as f64 / 1e6,
                todo.len()
            );
        }
        let results: Vec<Result<()>> =
            futures::stream::iter(todo.into_iter().map(|(key, local)| {
                let s3 = s3.clone();
                let url = url.to_string();
                async move {
                    let bytes = s3
                        .get(&key)
                        .await
                        .map_err(|e| explain(&url, &e))?
                        .bytes()
                        .await
                        .map_err(|e| explain(&url, &e))?;
                    write_atomic(&local, &bytes)
                }
            }))
            .buffer_unordered(16)
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(paths)
    }
}

/// Lists a prefix (a folder: `s3://b/AWSLogs` and `s3://b/AWSLogs/` are the same). With
/// an open range it is one paginated listing; otherwise the walk
/// goes folder by folder and skips year/month/day folders outside the range.
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
fn explain(url: &str, e: &object_store::Error) -> anyhow::Error {
    let text = e.to_string();
    let hint = if text.contains("NoSuchBucket") || text.contains("bucket does not exist") {
        "the bucket does not exist (check the name, the region and --endpoint-url)".to_string()
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
        "access denied: the credentials are missing, wrong or not allowed to read it (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance role)".to_string()
    } else if text.contains("error sending request") || text.contains("Connection refused") {
        "cannot reach the S3 endpoint (check --endpoint-url and the network)".to_string()
    } else {
        let first = text.lines().next().unwrap_or("").to_string();
        first.chars().take(300).collect()
    };
    anyhow!("{url}: {hint}")
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("cache file has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.part",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The cache file of an object: its key, with components that would escape the cache
/// made harmless.
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

fn cache_dir(_args: &S3Args) -> PathBuf {
    if let Some(d) = std::env::var_os("TRAILHUNT_CACHE") {
        return PathBuf::from(d).join("s3");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("trailhunt").join("s3")
}

/// Objects from different endpoints never share cache entries.
fn endpoint_tag(args: &S3Args) -> String {
    match &args.endpoint_url {
        None => "aws".to_string(),
        Some(e) => e
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .replace(['/', ':'], "_"),
    }
}

struct ProfileCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

fn aws_file(env: &str, name: &str) -> Option<PathBuf> {
    std::env::var_os(env)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws").join(name)))
}

fn profile_name() -> String {
    std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".to_string())
}

/// The keys of one section of an AWS ini file (`[name]` or `[profile name]`).
fn ini_section(path: &Path, name: &str) -> Option<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut found = None;
    let mut current: Option<bool> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let h = h.trim();
            let h = h.strip_prefix("profile ").unwrap_or(h).trim();
            current = Some(h == name);
            if h == name {
                found.get_or_insert_with(HashMap::new);
            }
            continue;
        }
        if current == Some(true) {
            if let Some((k, v)) = line.split_once('=') {
                found
                    .get_or_insert_with(HashMap::new)
                    .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    found
}

fn profile_credentials() -> Option<ProfileCredentials> {
    let name = profile_name();
    let from = |path: Option<PathBuf>| {
        let s = ini_section(&path?, &name)?;
        Some(ProfileCredentials {
            access_key_id: s.get("aws_access_key_id")?.clone(),
            secret_access_key: s.get("aws_secret_access_key")?.clone(),
            session_token: s.get("aws_session_token").cloned(),
        })
    };
    from(aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"))
        .or_else(|| from(aws_file("AWS_CONFIG_FILE", "config")))
}

fn profile_region() -> Option<String> {
    let s = ini_section(&aws_file("AWS_CONFIG_FILE", "config")?, &profile_name())?;
    s.get("region").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_by_layout() {
        let args = S3Args {
            since: Some("2024-08-01".into()),
            until: Some("2024-08-01".into()),
            ..S3Args::default()
        };
        let r = DayRange::from_args(&args).unwrap();
        let base = "AWSLogs/1234/CloudTrail/eu-west-1";
        assert!(r.admits_path(&format!("{base}/2024/")));
        assert!(!r.admits_path(&format!("{base}/2023/")));
        assert!(r.admits_path(&format!("{base}/2024/08/")));
        assert!(r.admits_path(&format!("{base}/2024/07/")));
        assert!(!r.admits_path(&format!("{base}/2024/06/")));
        assert!(r.admits_path(&format!("{base}/2024/07/31/")));
        assert!(!r.admits_path(&format!("{base}/2024/07/30/x.json.gz")));
        assert!(r.admits_path(&format!("{base}/2024/08/02/x.json.gz")));
        assert!(!r.admits_path(&format!("{base}/2024/08/03/x.json.gz")));
        assert!(r.admits_path("AWSLogs/o-abc/1234/CloudTrail/us-east-1/2024/08/01/"));
        assert!(!r.admits_path("AWSLogs/o-abc/1234/CloudTrail/us-east-1/2025/"));
        assert!(r.admits_path("elsewhere/file.json"));
        assert!(r.admits_path("AWSLogs/1234/CloudTrail/"));
    }

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
}
