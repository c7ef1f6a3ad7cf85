//! Where a store is: a local (or shared) folder, or an `s3://bucket/prefix` written there
//! by copying a local store (`aws s3 sync`). Both are read the same way — the manifest,
//! then DataFusion's Parquet scan of the files it names, through object_store — so a store
//! in S3 is read by every cluster executor directly, with no shared file system.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreLocation {
    Local(PathBuf),
    /// `s3://bucket/prefix`; `prefix` has no leading or trailing `/` (empty: the bucket).
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl StoreLocation {
    /// `s3://…` is a bucket and prefix; anything else is a folder.
    pub fn parse(arg: &Path) -> Result<StoreLocation, crate::StoreError> {
        if !sources::is_s3(arg.as_os_str()) {
            return Ok(StoreLocation::Local(arg.to_path_buf()));
        }
        let text = arg.to_str().ok_or_else(|| {
            crate::StoreError::Remote(format!("{}: an s3:// URL must be UTF-8", arg.display()))
        })?;
        let (bucket, prefix) =
            sources::s3::parse_url(text).map_err(|e| crate::StoreError::Remote(e.to_string()))?;
        Ok(StoreLocation::S3 {
            bucket,
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    pub fn local(&self) -> Option<&Path> {
        match self {
            StoreLocation::Local(p) => Some(p),
            StoreLocation::S3 { .. } => None,
        }
    }

    /// The object key (S3) of a path relative to the store root.
    pub fn key(&self, relative: &str) -> String {
        match self {
            StoreLocation::S3 { prefix, .. } if !prefix.is_empty() => {
                format!("{prefix}/{relative}")
            }
            _ => relative.to_string(),
        }
    }

    /// A file of the store as DataFusion's listing URL: a path, or `s3://bucket/key`.
    pub fn file_url(&self, relative: &str) -> String {
        match self {
            StoreLocation::Local(root) => root.join(relative).to_string_lossy().into_owned(),
            StoreLocation::S3 { bucket, .. } => format!("s3://{bucket}/{}", self.key(relative)),
        }
    }

    /// The same location for another machine: a local path made absolute (a cluster's
    /// executors read it at the same path).
    pub fn absolute(&self) -> std::io::Result<StoreLocation> {
        Ok(match self {
            StoreLocation::Local(p) => StoreLocation::Local(std::path::absolute(p)?),
            s3 => s3.clone(),
        })
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Local(p) => write!(f, "{}", p.display()),
            StoreLocation::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StoreLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_keys() {
        let s3 = StoreLocation::parse(Path::new("s3://b/stores/prod/")).unwrap();
        assert_eq!(
            s3,
            StoreLocation::S3 {
                bucket: "b".into(),
                prefix: "stores/prod".into()
            }
        );
        assert_eq!(s3.to_string(), "s3://b/stores/prod");
        assert_eq!(
            s3.file_url("dt=2024-08-01/part-1.parquet"),
            "s3://b/stores/prod/dt=2024-08-01/part-1.parquet"
        );
        let bucket = StoreLocation::parse(Path::new("s3://b")).unwrap();
        assert_eq!(
            bucket.key("_trailhunt/manifest.json"),
            "_trailhunt/manifest.json"
        );
        assert_eq!(bucket.to_string(), "s3://b");
        assert!(StoreLocation::parse(Path::new("s3:///x")).is_err());
        let local = StoreLocation::parse(Path::new("st")).unwrap();
        assert_eq!(local.local(), Some(Path::new("st")));
        assert_eq!(local.file_url("a.parquet"), "st/a.parquet");
    }
}
