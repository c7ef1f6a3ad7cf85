//! The embedded store end to end, through the built binary: results over the store equal
//! results over the same raw files (ad-hoc queries and every AWS hunt that runs), re-ingest
//! is a no-op, a second writer is refused, SIGKILL leaves a readable and resumable store,
//! DuckDB reads the files, and S3 sources on a local S3-compatible server (moto) give
//! the same rows as the files on disk.

use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use testkit::Moto;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sample() -> String {
    workspace().join("sample/AWSLogs").display().to_string()
}

/// `../shared/data/real/<set>`, or a skip (a failure under `TRAILHUNT_REQUIRE_SHARED=1`).
fn real(set: &str) -> Option<String> {
    testkit::require_shared(&format!("data/real/{set}")).map(|p| p.display().to_string())
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailhunt"));
    c.current_dir(workspace()).env_remove("TRAILHUNT_STORE");
    c
}

fn th(args: &[&str]) -> Output {
    bin().args(args).output().expect("run trailhunt")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory (`tempfile`), removed on drop.
struct Tmp(tempfile::TempDir);
impl Tmp {
    fn new(tag: &str) -> Tmp {
        let dir = tempfile::Builder::new()
            .prefix(&format!("th-store-{tag}-"))
            .tempdir()
            .unwrap();
        Tmp(dir)
    }
    fn path(&self, rel: &str) -> String {
        self.0.path().join(rel).display().to_string()
    }
}

fn ingest(store: &str, srcs: &[&str]) -> Output {
    let mut args = vec!["ingest", "--store", store];
    args.extend_from_slice(srcs);
    let o = th(&args);
    assert!(o.status.success(), "ingest failed: {}", text(&o.stderr));
    o
}

/// A query's JSON body with rows in a canonical order when the query leaves it open.
fn canonical(body: &str, query: &str) -> J {
    let mut v: J = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    if !query.to_ascii_uppercase().contains("SORT") {
        if let Some(rows) = v.get_mut("values").and_then(|r| r.as_array_mut()) {
            rows.sort_by_key(|r| r.to_string());
        }
    }
    v
}

/// A hunt result with its rows in a canonical order: hunt JSON does not carry the query, and
/// most hunts leave the order open (the rows themselves must match exactly).
fn sorted_rows(h: &J) -> J {
    let mut h = h.clone();
    if let Some(rows) = h.get_mut("values").and_then(|r| r.as_array_mut()) {
        rows.sort_by_key(|r| r.to_string());
    }
    h
}

fn hunt_rows(body: &[u8]) -> Vec<J> {
    let v: J = serde_json::from_slice(body).unwrap();
    v["hunts"]
        .as_array()
        .unwrap()
        .iter()
        .map(sorted_rows)
        .collect()
}

/// The queries compared on every data set; each runs on raw files and on the store.
const QUERIES: &[&str] = &[
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.action | SORT n DESC, event.action | LIMIT 25",
    "FROM logs-aws.cloudtrail* | WHERE @timestamp >= NOW() - 7 day | STATS n = COUNT(*) BY cloud.region | SORT cloud.region",
    "FROM logs-aws.cloudtrail* | WHERE @timestamp > NOW() - 1 day | STATS n = COUNT(*), earliest = MIN(@timestamp)",
    "FROM logs-aws.cloudtrail* | WHERE @timestamp < NOW() - 3 days | STATS n = COUNT(*)",
    "FROM logs-aws.cloudtrail* | WHERE @timestamp >= NOW() - 2 days AND @timestamp < NOW() - 1 day | STATS n = COUNT(*) BY event.action | SORT n DESC, event.action | LIMIT 10",
    "FROM logs-aws.cloudtrail* | WHERE event.outcome == \"failure\" | STATS n = COUNT(*) BY aws.cloudtrail.error_code | SORT n DESC, aws.cloudtrail.error_code",
    "FROM logs-aws.cloudtrail* | WHERE event.provider IN (\"iam.amazonaws.com\", \"sts.amazonaws.com\") | KEEP @timestamp, event.action, source.ip, user.name, event.id",
    "FROM logs-aws.cloudtrail* | STATS earliest = MIN(@timestamp), newest = MAX(@timestamp)",
    "FROM logs-aws.cloudtrail* | WHERE source.ip IS NOT NULL | STATS n = COUNT(*) BY source.ip | SORT n DESC, source.ip | LIMIT 10",
    "FROM logs-aws.cloudtrail* | WHERE user_agent.original LIKE \"*aws-cli*\" | STATS n = COUNT(*) BY user.name | SORT user.name",
    "FROM logs-aws.cloudtrail* | EVAL hour = DATE_TRUNC(1 hour, @timestamp) | STATS n = COUNT(*) BY hour | SORT hour",
    "FROM logs-aws.cloudtrail* | SORT @timestamp DESC, event.id | LIMIT 5 | KEEP @timestamp, event.action, event.id",
    "FROM logs-aws.cloudtrail* | WHERE event.action == \"ConsoleLogin\" | KEEP @timestamp, source.ip, event.outcome, aws.cloudtrail.user_identity.arn",
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY aws.cloudtrail.user_identity.type | SORT aws.cloudtrail.user_identity.type",
    "FROM logs-aws.cloudtrail* | WHERE aws.cloudtrail.read_only == false | STATS n = COUNT(*) BY event.provider | SORT n DESC, event.provider | LIMIT 10",
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY cloud.account.id, cloud.region | SORT cloud.account.id, cloud.region",
    "FROM logs-aws.cloudtrail* | WHERE related.user IS NOT NULL | STATS n = COUNT(*) BY related.user | SORT related.user",
    "FROM logs-aws.cloudtrail* | EVAL d = DATE_FORMAT(\"yyyy-MM-dd\", @timestamp) | STATS n = COUNT(*) BY d | SORT d",
    "FROM logs-aws.cloudtrail* | WHERE event.action LIKE \"Delete*\" | STATS n = COUNT(*) BY event.action | SORT event.action",
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY aws.cloudtrail.event_type, event.kind | SORT aws.cloudtrail.event_type, event.kind",
    "FROM logs-aws.cloudtrail* | WHERE event.action IN (\"StopLogging\", \"DeleteTrail\", \"PutBucketPolicy\", \"DeleteObject\") | KEEP event.original",
    "FROM logs-aws.cloudtrail* | WHERE @timestamp >= NOW() - 30 days | STATS n = COUNT(*), accounts = COUNT_DISTINCT(cloud.account.id) BY event.category | SORT event.category",
    "FROM logs-aws.cloudtrail* | WHERE tags IS NOT NULL | STATS n = COUNT(*) BY user_agent.name | SORT n DESC, user_agent.name | LIMIT 5",
];

/// Runs `QUERIES` on the raw `input` and on `store`, with NOW() pinned to the newest event,
/// and asserts equal output (stdout and exit status; failures must fail alike).
fn compare_queries(input: &str, store: &str) {
    let mut ran = 0;
    // Raw scans are the slow side; two at a time.
    let results: Vec<(String, Output, Output)> = std::thread::scope(|s| {
        let chunks: Vec<Vec<&str>> = QUERIES
            .chunks(QUERIES.len().div_ceil(2))
            .map(|c| c.to_vec())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|qs| {
                s.spawn(move || {
                    qs.into_iter()
                        .map(|q| {
                            let raw = th(&[
                                "query", "-q", "-i", input, "--now", "latest", "-f", "json", q,
                            ]);
                            let st = th(&[
                                "query", "-q", "--store", store, "--now", "latest", "-f", "json", q,
                            ]);
                            (q.to_string(), raw, st)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for (q, raw, st) in results {
        assert_eq!(
            raw.status.success(),
            st.status.success(),
            "{q}\nraw: {}\nstore: {}",
            text(&raw.stderr),
            text(&st.stderr)
        );
        if !raw.status.success() {
            eprintln!("note: fails on both: {q}: {}", text(&raw.stderr).trim());
            assert_eq!(text(&raw.stderr), text(&st.stderr), "{q}");
            continue;
        }
        ran += 1;
        assert_eq!(
            canonical(&text(&raw.stdout), &q),
            canonical(&text(&st.stdout), &q),
            "store and raw differ for {q}"
        );
    }
    assert!(ran >= 20, "only {ran} queries ran");
}

#[test]
fn store_equals_raw_on_sample_queries_and_seed_hunt() {
    let tmp = Tmp::new("sample");
    let store = tmp.path("store");
    let o = ingest(&store, &[&sample()]);
    let err = text(&o.stderr);
    assert!(err.contains("3692 records stored, 0 rejected"), "{err}");
    compare_queries(&sample(), &store);
    let seed = "multiple_service_logging_deleted_or_stopped";
    let raw = th(&[
        "hunt",
        "-q",
        "-i",
        &sample(),
        "--now",
        "latest",
        "-f",
        "json",
        seed,
    ]);
    let st = th(&[
        "hunt", "-q", "--store", &store, "--now", "latest", "-f", "json", seed,
    ]);
    assert!(raw.status.success() && st.status.success());
    assert_eq!(hunt_rows(&raw.stdout), hunt_rows(&st.stdout));
    let v: J = serde_json::from_slice(&st.stdout).unwrap();
    assert!(!v["hunts"][0]["values"].as_array().unwrap().is_empty());
}

#[test]
fn store_equals_raw_on_real_sets() {
    for set in ["sans504-s3-ransomware-lab", "invictus-ir-aws-dataset"] {
        let Some(dir) = real(set) else { continue };
        let tmp = Tmp::new(set);
        let store = tmp.path("store");
        ingest(&store, &[&dir]);
        compare_queries(&dir, &store);
    }
}

/// Every hunt in ../shared/hunts/elastic/aws, over raw files and over the store: the hunts
/// that run give the same JSON, the ones that fail (unimplemented commands) fail alike.
#[test]
fn every_aws_hunt_gives_the_same_rows_on_store_and_raw() {
    let Some(hunts) = testkit::require_shared("hunts/elastic/aws") else {
        return;
    };
    let hunts = hunts.display().to_string();
    let mut sets = vec![sample()];
    sets.extend(real("sans504-s3-ransomware-lab"));
    sets.extend(real("invictus-ir-aws-dataset"));
    for input in sets {
        let tmp = Tmp::new("hunts");
        let store = tmp.path("store");
        ingest(&store, &[&input]);
        let raw = th(&[
            "hunt", "-q", "-i", &input, "--hunts", &hunts, "--now", "latest", "-f", "json",
        ]);
        let st = th(&[
            "hunt", "-q", "--store", &store, "--hunts", &hunts, "--now", "latest", "-f", "json",
        ]);
        assert_eq!(raw.status.code(), st.status.code(), "{input}");
        let (rj, sj): (J, J) = (
            serde_json::from_slice(&raw.stdout).unwrap(),
            serde_json::from_slice(&st.stdout).unwrap(),
        );
        let (rh, sh) = (
            rj["hunts"].as_array().unwrap(),
            sj["hunts"].as_array().unwrap(),
        );
        assert_eq!(rh.len(), sh.len(), "{input}");
        eprintln!("{input}: {} hunt queries ran on both", rh.len());
        assert!(
            rh.len() >= 10,
            "{input}: only {} hunt queries ran",
            rh.len()
        );
        for (r, s) in rh.iter().zip(sh) {
            assert_eq!(
                sorted_rows(r),
                sorted_rows(s),
                "{input}: hunt {} differs",
                r["name"]
            );
        }
        // The failures are the same hunts with the same messages.
        let fails = |o: &Output| -> Vec<String> {
            text(&o.stderr)
                .lines()
                .filter(|l| l.starts_with("hunt ") || l.starts_with("error:"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(fails(&raw), fails(&st), "{input}");
    }
}

#[test]
fn reingest_is_a_noop_and_info_reports_the_store() {
    let tmp = Tmp::new("noop");
    let store = tmp.path("store");
    ingest(&store, &[&sample()]);
    let manifest = std::fs::read(tmp.0.path().join("store/_trailhunt/manifest.json")).unwrap();
    let o = ingest(&store, &[&sample()]);
    let err = text(&o.stderr);
    assert!(err.contains("ingested 0 of 566 files"), "{err}");
    assert!(err.contains("(566 already stored)"), "{err}");
    assert_eq!(
        std::fs::read(tmp.0.path().join("store/_trailhunt/manifest.json")).unwrap(),
        manifest
    );
    let info = th(&["store", "info", "--store", &store, "--json"]);
    assert!(info.status.success(), "{}", text(&info.stderr));
    let v: J = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["events"], 3692);
    assert_eq!(v["first"], "2024-07-19T00:14:35.000Z");
    assert_eq!(v["last"], "2024-08-01T21:14:01.000Z");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 2);
    // The story's DescribeInstances sweep touches 17 regions.
    assert_eq!(v["regions"].as_array().unwrap().len(), 17);
    assert_eq!(v["sources"], 566);
    let human = th(&["store", "info", "--store", &store]);
    let out = text(&human.stdout);
    for k in [
        "events:",
        "time range:",
        "accounts:",
        "regions:",
        "files:",
        "bytes:",
    ] {
        assert!(out.contains(k), "{out}");
    }
    // TRAILHUNT_STORE and no --input: the store is read.
    let q = bin()
        .env("TRAILHUNT_STORE", &store)
        .args([
            "query",
            "-f",
            "json",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&q.stdout).trim(),
        r#"{"columns":[{"name":"n","type":"long"}],"values":[[3692]]}"#
    );
    assert!(
        text(&q.stderr).contains("3692 events"),
        "{}",
        text(&q.stderr)
    );
    // A missing store says how to make one.
    let missing = tmp.path("nothing-here");
    let q = th(&[
        "query",
        "--store",
        &missing,
        "FROM logs-aws.cloudtrail* | LIMIT 1",
    ]);
    assert!(!q.status.success());
    assert!(
        text(&q.stderr).contains("trailhunt ingest"),
        "{}",
        text(&q.stderr)
    );
}

#[test]
fn concurrent_ingest_is_refused_with_a_clear_message() {
    let tmp = Tmp::new("lock");
    let store = tmp.path("store");
    std::fs::create_dir_all(&store).unwrap();
    let _held = store::lock::WriteLock::acquire(Path::new(&store), "ingest").unwrap();
    let o = th(&["ingest", "--store", &store, &sample()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("is being written by another trailhunt (ingest (pid"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn sigkill_during_ingest_leaves_a_readable_store_and_the_next_ingest_completes() {
    let Some(dir) = real("sans504-s3-ransomware-lab") else {
        return;
    };
    let tmp = Tmp::new("kill");
    let clean = tmp.path("clean");
    ingest(&clean, &[&dir]);
    let store = tmp.path("store");
    let count = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)";
    let mut killed_midway = 0;
    for delay_ms in [150u64, 400, 800, 1500, 2500] {
        let mut child = bin()
            .args([
                "ingest",
                "-q",
                "--commit-every",
                "200",
                "--store",
                &store,
                &dir,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SIGKILL: no destructor, no cleanup.
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed_midway += 1;
        }
        if !Path::new(&store).join("_trailhunt/manifest.json").exists() {
            continue;
        }
        // Readable: info and a query agree with the manifest.
        let info = th(&["store", "info", "--json", "--store", &store]);
        assert!(info.status.success(), "{}", text(&info.stderr));
        let v: J = serde_json::from_slice(&info.stdout).unwrap();
        let q = th(&["query", "-q", "--store", &store, "-f", "json", count]);
        assert!(q.status.success(), "{}", text(&q.stderr));
        let n: J = serde_json::from_slice(&q.stdout).unwrap();
        assert_eq!(n["values"][0][0], v["events"]);
    }
    assert!(killed_midway > 0, "no ingest was killed midway");
    // Resume: the next ingest completes the work, with no duplicates.
    ingest(&store, &[&dir]);
    let a = th(&["query", "-q", "--store", &store, "-f", "json", count]);
    let b = th(&["query", "-q", "--store", &clean, "-f", "json", count]);
    assert_eq!(text(&a.stdout), text(&b.stdout));
    let by_action = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.action, cloud.region | SORT event.action, cloud.region";
    let a = th(&["query", "-q", "--store", &store, "-f", "json", by_action]);
    let b = th(&["query", "-q", "--store", &clean, "-f", "json", by_action]);
    assert_eq!(text(&a.stdout), text(&b.stdout));
    // And vacuum folds the many small commits into one file per day, same rows.
    let v = th(&["store", "vacuum", "--store", &store]);
    assert!(v.status.success(), "{}", text(&v.stderr));
    let a = th(&["query", "-q", "--store", &store, "-f", "json", by_action]);
    assert_eq!(text(&a.stdout), text(&b.stdout));
}

#[test]
fn duckdb_reads_the_store_files() {
    let Some(py) = testkit::require_python(&["duckdb"]) else {
        return;
    };
    let tmp = Tmp::new("duckdb");
    let store = tmp.path("store");
    ingest(&store, &[&sample()]);
    let script = r#"
import duckdb, json, sys
src = f"read_parquet('{sys.argv[1]}/dt=*/*.parquet', hive_partitioning=true)"
con = duckdb.connect()
q = lambda sql: con.execute(sql.replace("SRC", src)).fetchall()
out = {
  "count": q("SELECT count(*) FROM SRC")[0][0],
  "range": [str(x) for x in q('SELECT min("@timestamp"), max("@timestamp") FROM SRC')[0]],
  "actions": [[a, n] for a, n in q('''SELECT "event.action", count(*) FROM SRC
        WHERE "event.action" IN ('StopLogging', 'DeleteTrail') GROUP BY 1 ORDER BY 1''')],
  "newest": list(q('''SELECT "event.id", "cloud.region", "source.ip" FROM SRC
        ORDER BY "@timestamp" DESC, "event.id" LIMIT 1''')[0]),
  "days": q("SELECT count(DISTINCT dt) FROM SRC")[0][0],
  "tags": q('SELECT count(*) FROM SRC WHERE "related.user" IS NOT NULL')[0][0],
}
print(json.dumps(out))
"#;
    let o = Command::new(&py)
        .args(["-c", script, &store])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let duck: J = serde_json::from_slice(&o.stdout).unwrap();
    let q = |query: &str| -> J {
        let o = th(&["query", "-q", "--store", &store, "-f", "json", query]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        serde_json::from_slice::<J>(&o.stdout).unwrap()["values"].clone()
    };
    assert_eq!(duck["count"], 3692);
    assert_eq!(
        duck["count"],
        q("FROM logs-aws.cloudtrail* | STATS n = COUNT(*)")[0][0]
    );
    assert_eq!(duck["range"][0], "2024-07-19 00:14:35");
    assert_eq!(duck["range"][1], "2024-08-01 21:14:01");
    let actions = q("FROM logs-aws.cloudtrail* | WHERE event.action IN (\"StopLogging\", \"DeleteTrail\") | STATS n = COUNT(*) BY event.action | KEEP event.action, n | SORT event.action");
    assert_eq!(duck["actions"], actions);
    let newest = q("FROM logs-aws.cloudtrail* | SORT @timestamp DESC, event.id | LIMIT 1 | KEEP event.id, cloud.region, source.ip");
    assert_eq!(duck["newest"], newest[0]);
    assert_eq!(duck["days"], 14);
    let tags = q("FROM logs-aws.cloudtrail* | WHERE related.user IS NOT NULL | STATS n = COUNT(*)");
    assert_eq!(duck["tags"], tags[0][0]);
}

const S3_ENV: &[(&str, &str)] = testkit::MOTO_ENV;

fn th_s3(args: &[&str], cache: &str) -> Output {
    let mut c = bin();
    for (k, v) in S3_ENV {
        c.env(k, v);
    }
    c.env("TRAILHUNT_CACHE", cache)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn s3_sources_on_a_local_server_equal_the_files_on_disk() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = Moto::start(&py, &[]) else {
        return;
    };
    let tmp = Tmp::new("s3");
    let cache = tmp.path("cache");
    // The sample under AWSLogs/, and a second copy under copy/ (more than one listing
    // page: S3 returns at most 1000 keys per page).
    let upload = r#"
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket="trail")
root = os.path.dirname(sys.argv[2])
for d, _, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(d, f)
        key = os.path.relpath(p, root)
        s3.upload_file(p, "trail", key)
        s3.upload_file(p, "trail", "copy/" + key)
"#;
    let o = Command::new(&py)
        .args(["-c", upload, &moto.url, &sample()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ep = moto.url.as_str();
    let count = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)";

    // query --input s3:// equals the local files, for a few queries.
    for q in &QUERIES[..6] {
        let s3 = th_s3(
            &[
                "query",
                "-q",
                "--endpoint-url",
                ep,
                "-i",
                "s3://trail/AWSLogs/",
                "--now",
                "latest",
                "-f",
                "json",
                q,
            ],
            &cache,
        );
        assert!(s3.status.success(), "{}", text(&s3.stderr));
        let local = th(&[
            "query",
            "-q",
            "-i",
            &sample(),
            "--now",
            "latest",
            "-f",
            "json",
            q,
        ]);
        assert_eq!(
            canonical(&text(&s3.stdout), q),
            canonical(&text(&local.stdout), q),
            "{q}"
        );
    }
    // hunt --input s3:// equals the local files.
    let seed = "multiple_service_logging_deleted_or_stopped";
    let s3 = th_s3(
        &[
            "hunt",
            "-q",
            "--endpoint-url",
            ep,
            "-i",
            "s3://trail/AWSLogs",
            "--now",
            "latest",
            "-f",
            "json",
            seed,
        ],
        &cache,
    );
    let local = th(&[
        "hunt",
        "-q",
        "-i",
        &sample(),
        "--now",
        "latest",
        "-f",
        "json",
        seed,
    ]);
    assert!(s3.status.success(), "{}", text(&s3.stderr));
    assert_eq!(hunt_rows(&s3.stdout), hunt_rows(&local.stdout));

    // With a fixed NOW, the hunt's 7-day window prunes the listing: older day folders are
    // neither listed nor downloaded (fresh cache), and the rows are the same.
    let fresh = tmp.path("cache-pruned");
    let now = "2024-08-02T00:00:00Z";
    let s3 = th_s3(
        &[
            "hunt",
            "--endpoint-url",
            ep,
            "-i",
            "s3://trail/AWSLogs",
            "--now",
            now,
            "-f",
            "json",
            seed,
        ],
        &fresh,
    );
    assert!(s3.status.success(), "{}", text(&s3.stderr));
    let err = text(&s3.stderr);
    let listed: usize = err
        .split(" objects (")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no listing line in: {err}"));
    assert!(listed > 0 && listed < 566, "{err}");
    let fixed = th(&[
        "hunt",
        "-q",
        "-i",
        &sample(),
        "--now",
        now,
        "-f",
        "json",
        seed,
    ]);
    assert_eq!(hunt_rows(&s3.stdout), hunt_rows(&fixed.stdout));

    // ingest from S3 equals ingest from disk; sources are recorded by their s3:// name.
    let store = tmp.path("store");
    let o = th_s3(
        &[
            "ingest",
            "--endpoint-url",
            ep,
            "--store",
            &store,
            "s3://trail/AWSLogs/",
        ],
        &cache,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("3692 records stored"),
        "{}",
        text(&o.stderr)
    );
    let manifest =
        std::fs::read_to_string(tmp.0.path().join("store/_trailhunt/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"s3://trail/AWSLogs/418295730164/CloudTrail/"),
        "sources named by URL"
    );
    let s = th(&[
        "hunt", "-q", "--store", &store, "--now", "latest", "-f", "json", seed,
    ]);
    assert_eq!(hunt_rows(&s.stdout), hunt_rows(&local.stdout));
    // Again: nothing new.
    let o = th_s3(
        &[
            "ingest",
            "--endpoint-url",
            ep,
            "--store",
            &store,
            "s3://trail/AWSLogs/",
        ],
        &cache,
    );
    assert!(
        text(&o.stderr).contains("ingested 0 of 566"),
        "{}",
        text(&o.stderr)
    );

    // The whole bucket: 1132 objects over two listing pages.
    let all = th_s3(
        &[
            "query",
            "--endpoint-url",
            ep,
            "-i",
            "s3://trail",
            "-f",
            "json",
            count,
        ],
        &cache,
    );
    assert!(all.status.success(), "{}", text(&all.stderr));
    assert!(
        text(&all.stderr).contains("1132 objects"),
        "{}",
        text(&all.stderr)
    );
    assert!(
        text(&all.stdout).contains("[[7384]]"),
        "{}",
        text(&all.stdout)
    );

    // --since/--until prune date folders before listing them; local paths alike.
    let window = ["--since", "2024-08-01", "--until", "2024-08-01"];
    let mut args = vec![
        "query",
        "--endpoint-url",
        ep,
        "-i",
        "s3://trail/AWSLogs/",
        "-f",
        "json",
    ];
    args.extend_from_slice(&window);
    args.push(count);
    let pruned = th_s3(&args, &cache);
    assert!(pruned.status.success(), "{}", text(&pruned.stderr));
    let err = text(&pruned.stderr);
    let objects: usize = err
        .split(" objects")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(objects > 0 && objects < 566, "{err}");
    let local_dir = sample();
    let mut args = vec!["query", "-i", &local_dir, "-f", "json"];
    args.extend_from_slice(&window);
    args.push(count);
    let local = th(&args);
    assert_eq!(text(&pruned.stdout), text(&local.stdout));
    assert!(
        text(&local.stderr).contains(&format!("trailhunt: {objects} files")),
        "{}",
        text(&local.stderr)
    );

    // A missing bucket: one clear error.
    let o = th_s3(
        &[
            "query",
            "--endpoint-url",
            ep,
            "-i",
            "s3://no-such-bucket/AWSLogs/",
            count,
        ],
        &cache,
    );
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("s3://no-such-bucket/AWSLogs/: the bucket does not exist"),
        "{err}"
    );
    drop(moto);

    // Bad credentials: a server that authenticates every request.
    let Some(strict) = Moto::start(&py, &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]) else {
        return;
    };
    let o = th_s3(
        &[
            "query",
            "--endpoint-url",
            &strict.url,
            "-i",
            "s3://trail/AWSLogs/",
            count,
        ],
        &cache,
    );
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("s3://trail/AWSLogs/: access denied"), "{err}");
}

/// `normalize` reads `s3://` sources as `query` does, here through a profile that assumes a
/// role (`role_arn` + `source_profile`, STS answered by moto) instead of keys in the
/// environment: the documents equal those of the same files on disk.
#[test]
fn normalize_reads_s3_through_an_assume_role_profile() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = Moto::start(&py, &[]) else {
        return;
    };
    let tmp = Tmp::new("s3-normalize");
    let day = Path::new(&sample()).join("418295730164/CloudTrail/eu-west-1/2024/07/31");
    let upload = r#"
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket="trail")
for f in sorted(os.listdir(sys.argv[2])):
    s3.upload_file(os.path.join(sys.argv[2], f), "trail", "AWSLogs/day/" + f)
"#;
    let o = Command::new(&py)
        .args(["-c", upload, &moto.url, &day.display().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let config = tmp.path("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\nregion = us-east-1\n\n[profile hunter]\nrole_arn = arn:aws:iam::123456789012:role/hunter\nsource_profile = base\nregion = us-east-1\nendpoint_url = {}\n",
            moto.url
        ),
    )
    .unwrap();
    let created = "2024-08-01T00:00:00.000Z";
    let mut c = bin();
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ] {
        c.env_remove(v);
    }
    let s3 = c
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TRAILHUNT_CACHE", tmp.path("cache"))
        .args([
            "normalize",
            "--profile",
            "hunter",
            "--created",
            created,
            "s3://trail/AWSLogs/",
        ])
        .output()
        .unwrap();
    assert!(s3.status.success(), "{}", text(&s3.stderr));
    let local = th(&[
        "normalize",
        "--created",
        created,
        &day.display().to_string(),
    ]);
    assert!(local.status.success(), "{}", text(&local.stderr));
    let docs = text(&s3.stdout);
    assert!(docs.lines().count() > 10, "{docs}");
    assert_eq!(docs, text(&local.stdout));
}

/// A store copied to S3 (`aws s3 sync`) reads as the folder it was copied from: every query
/// and the seed hunt give the same bytes, `store info` the same numbers; a missing store, a
/// missing bucket and writing to S3 are one clear line each.
#[test]
fn a_store_in_s3_reads_as_the_local_store() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = Moto::start(&py, &[]) else {
        return;
    };
    let tmp = Tmp::new("s3store");
    let store = tmp.path("store");
    let mut srcs = vec![sample()];
    srcs.extend(real("sans504-s3-ransomware-lab"));
    let srcs: Vec<&str> = srcs.iter().map(String::as_str).collect();
    let o = ingest(&store, &srcs);
    assert!(o.status.success(), "{}", text(&o.stderr));
    moto.upload(&py, "lake", Path::new(&store), "stores/ct/", false);
    let cache = tmp.path("cache");
    let ep = moto.url.as_str();
    let remote = "s3://lake/stores/ct/";
    let on = |store: &str, args: &[&str]| {
        let mut all = vec![args[0], "--store", store, "--endpoint-url", ep];
        all.extend_from_slice(&args[1..]);
        th_s3(&all, &cache)
    };
    let mut ran = 0;
    for q in QUERIES {
        let args = ["query", "-q", "--now", "latest", "-f", "json", q];
        let (local, s3) = (on(&store, &args), on(remote, &args));
        assert_eq!(
            local.status.code(),
            s3.status.code(),
            "{q}\n{}",
            text(&s3.stderr)
        );
        if local.status.success() {
            assert!(
                canonical(&text(&local.stdout), q) == canonical(&text(&s3.stdout), q),
                "the local store and the store in S3 differ for {q}"
            );
            ran += 1;
        } else {
            assert_eq!(text(&local.stderr), text(&s3.stderr), "{q}");
        }
    }
    assert!(ran >= 20, "only {ran} queries ran");
    let seed = [
        "hunt",
        "-q",
        "--now",
        "latest",
        "-f",
        "json",
        "multiple_service_logging_deleted_or_stopped",
    ];
    let (local, s3) = (on(&store, &seed), on(remote, &seed));
    assert!(local.status.success(), "{}", text(&local.stderr));
    assert!(s3.status.success(), "{}", text(&s3.stderr));
    assert_eq!(hunt_rows(&local.stdout), hunt_rows(&s3.stdout));
    assert!(!hunt_rows(&s3.stdout).is_empty());
    // The summary line names the store where it is.
    let s3 = on(
        remote,
        &[
            "query",
            "--now",
            "latest",
            "-f",
            "json",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
    );
    assert!(s3.status.success(), "{}", text(&s3.stderr));
    assert!(
        text(&s3.stderr).contains("trailhunt: store s3://lake/stores/ct ("),
        "{}",
        text(&s3.stderr)
    );

    // store info: the same numbers.
    let info_of = |store: &str| {
        let o = th_s3(
            &[
                "store",
                "info",
                "--json",
                "--store",
                store,
                "--endpoint-url",
                ep,
            ],
            &cache,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        let mut v: J = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["store"], J::from(store.trim_end_matches('/')));
        v.as_object_mut().unwrap().remove("store");
        v
    };
    let local_info = info_of(&store);
    assert!(
        local_info["events"].as_u64().unwrap() > 3692,
        "{local_info}"
    );
    assert_eq!(local_info, info_of(remote));

    // One line each: no store under the prefix, no bucket, and writing to S3.
    let count = ["query", "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)"];
    for (store, expected) in [
        (
            "s3://lake/nothing/",
            "no trailhunt store at s3://lake/nothing",
        ),
        ("s3://no-such-lake/ct", "the bucket does not exist"),
    ] {
        let o = on(store, &count);
        assert!(!o.status.success(), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
    }
    let o = th_s3(&["ingest", "--store", remote, &sample()], &cache);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("ingest writes a store in a folder, not in S3"),
        "{err}"
    );
    assert!(err.contains("aws s3 sync"), "{err}");
}
