//! What `expand` tells its caller about `s3://` downloads, for a progress bar: the listing
//! (objects, bytes, what is still to download) once per prefix, then every object downloaded
//! once with its size; a second expansion over the same cache downloads nothing. Offline,
//! against a local moto S3 holding the repository's sample.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use testkit::Moto;

const UPLOAD: &str = r#"
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket="trail")
root = os.path.dirname(sys.argv[2])
for d, _, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, "trail", os.path.relpath(p, root))
"#;

/// The sample's files by their S3 key (`AWSLogs/…`), with their sizes.
fn sample_sizes(sample: &Path) -> BTreeMap<String, u64> {
    let files = sources::expand_local(&[sample.join("AWSLogs").display().to_string()]).unwrap();
    files
        .iter()
        .map(|f| {
            let key = f.strip_prefix(sample).unwrap().display().to_string();
            (key, std::fs::metadata(f).unwrap().len())
        })
        .collect()
}

#[derive(Default)]
struct Seen {
    listed: Mutex<Vec<sources::Fetched>>,
    downloaded: Mutex<Vec<sources::Downloaded>>,
}

fn expand(url: &str, endpoint: &str, cache: &Path) -> (Seen, usize) {
    let seen = Seen::default();
    let report = |f: &sources::Fetched| seen.listed.lock().unwrap().push(f.clone());
    let downloaded = |d: &sources::Downloaded| seen.downloaded.lock().unwrap().push(d.clone());
    let opts = sources::ExpandOptions {
        s3: sources::S3Options {
            endpoint_url: Some(endpoint.to_string()),
            profile: None,
            cache_dir: Some(cache.to_path_buf()),
        },
        report: Some(&report),
        downloaded: Some(&downloaded),
        ..Default::default()
    };
    let files = sources::expand(&[url.to_string()], &opts).unwrap();
    (seen, files.len())
}

#[test]
fn downloads_are_reported_once_per_object_with_their_bytes() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = Moto::start(&py, &[]) else {
        return;
    };
    for v in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
        std::env::remove_var(v);
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    let sample = testkit::workspace_root().join("sample");
    let o = Command::new(&py)
        .args(["-c", UPLOAD, &moto.url])
        .arg(sample.join("AWSLogs"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sizes = sample_sizes(&sample);
    let total: u64 = sizes.values().sum();
    let cache = tempfile::tempdir().unwrap();

    let (seen, n) = expand("s3://trail/AWSLogs/", &moto.url, cache.path());
    assert_eq!(n, sizes.len());
    let listed = seen.listed.into_inner().unwrap();
    assert_eq!(listed.len(), 1, "one report per prefix");
    let l = &listed[0];
    assert_eq!(
        (l.objects, l.bytes, l.to_download, l.download_bytes),
        (sizes.len(), total, sizes.len(), total)
    );
    let got: BTreeMap<String, u64> = seen
        .downloaded
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|d| (d.url, d.bytes))
        .collect();
    let want: BTreeMap<String, u64> = sizes
        .iter()
        .map(|(k, s)| (format!("s3://trail/{k}"), *s))
        .collect();
    assert_eq!(got, want, "every object once, with its size");

    // From the cache: listed again, nothing to download, no download reported.
    let (seen, n) = expand("s3://trail/AWSLogs/", &moto.url, cache.path());
    assert_eq!(n, sizes.len());
    let listed = seen.listed.into_inner().unwrap();
    assert_eq!(
        (listed[0].to_download, listed[0].download_bytes),
        (0, 0),
        "{listed:?}"
    );
    assert!(seen.downloaded.into_inner().unwrap().is_empty());
}
