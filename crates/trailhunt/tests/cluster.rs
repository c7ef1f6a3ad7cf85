//! trailhunt on a Ballista cluster, end to end: one `trailhunt scheduler` and two
//! `trailhunt executor`s as separate processes on 127.0.0.1. Queries and hunts over a
//! store give the same output (columns, types, rows, warnings) with `--cluster` as
//! without; a lost executor gives the right answer or a clear error, never a wrong one;
//! a scheduler that is not there is one clear line. Every process started is stopped,
//! also when a test fails (`Cluster`'s drop).
//!
//! Built only with the binary's `cluster` feature:
//! `cargo test -p trailhunt --features cluster --test cluster`.
#![cfg(feature = "cluster")]

use serde_json::Value as J;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailhunt"));
    c.current_dir(workspace())
        .env_remove("TRAILHUNT_STORE")
        .env(
            "TRAILHUNT_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-library"),
        );
    c
}

fn th(args: &[&str]) -> Output {
    bin().args(args).output().expect("run trailhunt")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port `p` such that `p` and `p + 1` are free (an executor's Flight and gRPC ports).
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// The processes of one cluster; all killed and reaped on drop.
struct Cluster {
    scheduler: Child,
    executors: Vec<Child>,
    url: String,
    dir: tempfile::TempDir,
    /// Given to every process of the cluster.
    env: Vec<(String, String)>,
}

impl Cluster {
    fn start(executors: usize) -> Cluster {
        Cluster::start_with(executors, &[], &[])
    }

    /// A cluster whose scheduler has `scheduler_env` and whose executors have `env` too
    /// (where a store in S3 is).
    fn start_with(
        executors: usize,
        scheduler_env: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("th-cluster-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let logs = dir.path().to_path_buf();
        let log = |name: &str| std::fs::File::create(logs.join(format!("{name}.log"))).unwrap();
        let mut scheduler = bin();
        scheduler
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .envs(S3_ENV.iter().chain(scheduler_env).copied());
        let scheduler = scheduler
            .args([
                "scheduler",
                "--bind",
                &addr,
                "--executor-timeout",
                "3",
                "--no-executors-grace",
                "10",
            ])
            .stdout(Stdio::null())
            .stderr(log("scheduler"))
            .spawn()
            .expect("start the scheduler");
        let mut cluster = Cluster {
            scheduler,
            executors: vec![],
            url: format!("df://{addr}"),
            dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        wait_listening(&addr.parse().unwrap(), &mut cluster.scheduler);
        for i in 0..executors {
            cluster.add_executor(i, &addr, log(&format!("executor-{i}")));
        }
        cluster.wait_ready();
        cluster
    }

    fn add_executor(&mut self, i: usize, scheduler: &str, log: std::fs::File) {
        let work = self.dir.path().join(format!("work-{i}"));
        std::fs::create_dir_all(&work).unwrap();
        let bind = format!("127.0.0.1:{}", free_port_pair());
        // Each executor has its own cache (S3 objects it fetched, structure checks), as on
        // its own machine, and its own credentials for the S3 server of the tests.
        let mut cmd = bin();
        cmd.env(
            "TRAILHUNT_CACHE",
            self.dir.path().join(format!("cache-{i}")),
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
        for (k, v) in S3_ENV {
            cmd.env(k, v);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let child = cmd
            .args([
                "executor",
                "--scheduler",
                scheduler,
                "--bind",
                &bind,
                "--concurrent-tasks",
                "2",
                "--heartbeat",
                "1",
                "--work-dir",
            ])
            .arg(&work)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start an executor");
        self.executors.push(child);
    }

    /// Until a query runs on the cluster (executors registered).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let o = th(&[
                "query",
                "-q",
                "-i",
                "sample/AWSLogs",
                "--cluster",
                &self.url,
                "-f",
                "json",
                "ROW a = 1",
            ]);
            if o.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not come up: {}\n{}",
                text(&o.stderr),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                let t = std::fs::read_to_string(e.path()).unwrap_or_default();
                let tail: Vec<&str> = t.lines().rev().take(30).collect();
                out.push_str(&format!("--- {}\n", e.path().display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self
            .executors
            .iter_mut()
            .chain(std::iter::once(&mut self.scheduler))
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_listening(addr: &SocketAddr, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the scheduler exited: {status}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Credentials for the local S3 server.
const S3_ENV: &[(&str, &str)] = testkit::MOTO_ENV;

fn real(set: &str) -> Option<String> {
    testkit::require_shared(&format!("data/real/{set}")).map(|p| p.display().to_string())
}

fn ingest(store: &str, srcs: &[&str]) {
    let mut args = vec!["ingest", "--store", store];
    args.extend_from_slice(srcs);
    let o = th(&args);
    assert!(o.status.success(), "ingest failed: {}", text(&o.stderr));
}

/// A query's JSON body with rows in a canonical order when the query leaves it open (a
/// cluster gathers partitions in any order, as ES gathers shards), and its warnings in a
/// canonical order: which site warned first depends on which partition finished first.
fn canonical(body: &str, query: &str) -> J {
    let mut v: J = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    if !query.to_ascii_uppercase().contains("SORT") {
        if let Some(rows) = v.get_mut("values").and_then(|r| r.as_array_mut()) {
            rows.sort_by_key(|r| r.to_string());
        }
    }
    if let Some(w) = v.get_mut("warnings").and_then(|r| r.as_array_mut()) {
        w.sort_by_key(|r| r.to_string());
    }
    v
}

/// Queries covering what a cluster plan has to carry: ES|QL functions with warnings, several
/// STATS keys with COUNT_DISTINCT, DATE_FORMAT, DISSECT, MV_EXPAND, a multi-valued key,
/// SORT … LIMIT, `METADATA _index, _id`.
const QUERIES: &[&str] = &[
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*), users = COUNT_DISTINCT(user.name), ips = COUNT_DISTINCT(source.ip) BY event.provider, event.outcome | SORT n DESC, event.provider, event.outcome | LIMIT 20",
    "FROM logs-aws.cloudtrail* | EVAL d = DATE_FORMAT(\"YYYY-mm-dd\", @timestamp) | STATS n = COUNT(*) BY d, cloud.region | SORT d, cloud.region",
    "FROM logs-aws.cloudtrail* | WHERE aws.cloudtrail.user_identity.arn IS NOT NULL | DISSECT aws.cloudtrail.user_identity.arn \"arn:aws:%{service}::%{account}:%{rest}\" | STATS n = COUNT(*) BY service, account | SORT n DESC, service, account | LIMIT 10",
    "FROM logs-aws.cloudtrail* | WHERE related.user IS NOT NULL | MV_EXPAND related.user | STATS n = COUNT(*) BY related.user | SORT n DESC, related.user | LIMIT 15",
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.category | SORT event.category",
    "FROM logs-aws.cloudtrail* | SORT @timestamp DESC, event.id | LIMIT 7 | KEEP @timestamp, event.action, event.id, source.ip",
    "FROM logs-aws.cloudtrail* | EVAL n = TO_LONG(cloud.region) | STATS bad = COUNT(*) BY n | LIMIT 3",
    "FROM logs-aws.cloudtrail* | EVAL h = DATE_TRUNC(1 hour, @timestamp), len = LENGTH(event.original) | STATS n = COUNT(*), longest = MAX(len), avg_len = AVG(len) BY h | SORT h | LIMIT 24",
    "FROM logs-aws.cloudtrail* METADATA _index, _id | WHERE event.action == \"ConsoleLogin\" | KEEP _index, _id, @timestamp, user.name | SORT @timestamp, _id",
    "FROM logs-aws.cloudtrail* | WHERE source.ip IS NOT NULL | EVAL private = CIDR_MATCH(source.ip, \"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\") | STATS n = COUNT(*), ips = VALUES(source.ip) BY private | EVAL ips = MV_COUNT(ips) | SORT private",
    "FROM logs-aws.cloudtrail* | EVAL parts = SPLIT(event.action, \"e\"), head = MV_FIRST(parts) | STATS n = COUNT(*) BY head | SORT n DESC, head | LIMIT 10",
];

/// Queries with a lookup table (`--lookup accounts=…`) and an enrich policy
/// (`--enrich owners=…:account_id`), which travel with the plan.
const LOOKUP_QUERIES: &[&str] = &[
    "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY cloud.account.id | RENAME cloud.account.id AS account_id | LOOKUP JOIN accounts ON account_id | SORT account_id",
    "FROM logs-aws.cloudtrail* | WHERE event.action LIKE \"Delete*\" | ENRICH owners ON cloud.account.id WITH team = owner | STATS n = COUNT(*) BY team, event.action | SORT team, event.action",
];

fn compare(cluster: &Cluster, store: &str, now: &str, tables: &[String]) {
    for q in QUERIES.iter().chain(LOOKUP_QUERIES) {
        let mut local = vec!["query", "-q", "--store", store, "--now", now, "-f", "json"];
        local.extend(tables.iter().map(String::as_str));
        let mut remote = local.clone();
        remote.extend(["--cluster", &cluster.url]);
        local.push(q);
        remote.push(q);
        same_output(cluster, q, &th(&local), &th(&remote), "local and cluster");
    }
}

/// Both runs of `q` succeeded with the same output (rows in any order unless it sorts).
fn same_output(cluster: &Cluster, q: &str, local: &Output, remote: &Output, what: &str) {
    assert!(local.status.success(), "{q}: {}", text(&local.stderr));
    assert!(
        remote.status.success(),
        "{q}: {}\n{}",
        text(&remote.stderr),
        cluster.logs()
    );
    assert_eq!(
        canonical(&text(&local.stdout), q),
        canonical(&text(&remote.stdout), q),
        "{what} differ for {q}"
    );
}

#[test]
fn queries_and_hunts_on_a_cluster_equal_local_runs() {
    let (Some(sans), Some(invictus), Some(hunts)) = (
        real("sans504-s3-ransomware-lab"),
        real("invictus-ir-aws-dataset"),
        testkit::require_shared("hunts/elastic/aws"),
    ) else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("th-cl-store-")
        .tempdir()
        .unwrap();
    let store = tmp.path().join("store").display().to_string();
    ingest(&store, &[&sans, &invictus]);
    let csv = tmp.path().join("accounts.csv");
    std::fs::write(
        &csv,
        "account_id:keyword,owner\n123837392027,invictus lab\n342082656213,sans lab\n",
    )
    .unwrap();
    let tables = vec![
        "--lookup".to_string(),
        format!("accounts={}", csv.display()),
        "--enrich".to_string(),
        format!("owners={}:account_id", csv.display()),
    ];
    let cluster = Cluster::start(2);
    compare(&cluster, &store, "2023-07-11T00:00:00Z", &tables);

    // At least one query above warns, and the warnings come back from the executors.
    let q = QUERIES[6];
    let remote = th(&[
        "query",
        "-q",
        "--store",
        &store,
        "-f",
        "json",
        "--cluster",
        &cluster.url,
        q,
    ]);
    let v: J = serde_json::from_slice(&remote.stdout).unwrap();
    let warnings = v["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap_or("").contains("evaluation of [TO_LONG(")),
        "no warnings from the cluster: {v}"
    );

    // The seed hunt over raw files: the same rows, and the same summary of what was read.
    let seed = "multiple_service_logging_deleted_or_stopped";
    for (input, now) in [
        ("sample/AWSLogs", "2024-08-02T00:00:00Z"),
        (invictus.as_str(), "2023-07-11T00:00:00Z"),
        (sans.as_str(), "latest"),
    ] {
        let run = |extra: &[&str]| {
            let mut args = vec!["hunt", "-i", input, "--now", now, "-f", "json", seed];
            args.extend_from_slice(extra);
            th(&args)
        };
        let (local, remote) = (run(&[]), run(&["--cluster", &cluster.url]));
        // 0: it fired, 1: nothing fired (grep's codes); the same either way.
        assert!(
            matches!(local.status.code(), Some(0 | 1)),
            "{}",
            text(&local.stderr)
        );
        assert_eq!(
            local.status.code(),
            remote.status.code(),
            "{}\n{}",
            text(&remote.stderr),
            cluster.logs()
        );
        assert_eq!(
            first_hunt(&local),
            first_hunt(&remote),
            "seed hunt over {input}"
        );
        assert_eq!(summary(&local), summary(&remote), "summary over {input}");
    }

    // Bad input read by the executors: the same warnings (named by the client's paths),
    // the same counts, on the client's stderr.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("good.json"),
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userIdentity":{"type":"IAMUser","userName":"mallory","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333"},"eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    std::fs::write(
        bad.join("broken.ndjson"),
        "{\"eventTime\":\"2024-07-31T13:07:00Z\",\"eventName\":\"DeleteTrail\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventID\":\"e2\"}\n{\"eventTime\": oops}\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let q = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.action | SORT event.action";
    let local = th(&["query", "-i", &bad, "-f", "json", q]);
    let remote = th(&[
        "query",
        "-i",
        &bad,
        "-f",
        "json",
        "--cluster",
        &cluster.url,
        q,
    ]);
    assert!(
        local.status.success() && remote.status.success(),
        "{}",
        text(&remote.stderr)
    );
    assert_eq!(text(&local.stdout), text(&remote.stdout));
    let (ls, rs) = (summary(&local), summary(&remote));
    assert!(ls.iter().any(|l| l.contains("broken.ndjson")), "{ls:?}");
    assert!(ls.iter().any(|l| l.contains("1 rejected")), "{ls:?}");
    assert_eq!(ls, rs);

    // Every AWS hunt that runs locally gives the same JSON on the cluster.
    let hunts = hunts.display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "hunt", "-q", "--store", &store, "--hunts", &hunts, "--now", "latest", "-f", "json",
        ];
        args.extend_from_slice(extra);
        th(&args)
    };
    let local = run(&[]);
    let remote = run(&["--cluster", &cluster.url]);
    assert_eq!(
        local.status.code(),
        remote.status.code(),
        "{}\n{}",
        text(&remote.stderr),
        cluster.logs()
    );
    let (lj, rj): (J, J) = (
        serde_json::from_slice(&local.stdout).unwrap(),
        serde_json::from_slice(&remote.stdout).unwrap(),
    );
    let (lh, rh) = (
        lj["hunts"].as_array().unwrap(),
        rj["hunts"].as_array().unwrap(),
    );
    assert!(lh.len() >= 10, "only {} hunt queries ran", lh.len());
    assert_eq!(lh.len(), rh.len());
    let sorted = |h: &J| {
        let mut h = h.clone();
        if let Some(rows) = h.get_mut("values").and_then(|r| r.as_array_mut()) {
            rows.sort_by_key(|r| r.to_string());
        }
        h
    };
    for (l, r) in lh.iter().zip(rh) {
        assert_eq!(sorted(l), sorted(r), "hunt {}", l["name"]);
    }
}

/// The first hunt query's result of a `hunt -f json` run, its rows in a canonical order.
fn first_hunt(o: &Output) -> J {
    let v: J = serde_json::from_slice(&o.stdout).unwrap();
    let mut h = v["hunts"][0].clone();
    if let Some(rows) = h.get_mut("values").and_then(|r| r.as_array_mut()) {
        rows.sort_by_key(|r| r.to_string());
    }
    h
}

/// The `trailhunt: N files …` summary lines of a run, without their timings.
fn summary(o: &Output) -> Vec<String> {
    text(&o.stderr)
        .lines()
        .filter(|l| l.starts_with("trailhunt: ") || l.starts_with("warning: "))
        .map(|l| match l.rfind(", ") {
            Some(i) if l[i..].trim_end().ends_with('s') && l.starts_with("trailhunt: ") => {
                l[..i].to_string()
            }
            _ => l.to_string(),
        })
        .collect()
}

#[test]
fn an_unreachable_scheduler_is_one_clear_line() {
    let port = free_port();
    let url = format!("df://127.0.0.1:{port}");
    let o = th(&[
        "query",
        "-q",
        "-i",
        "sample/AWSLogs",
        "--cluster",
        &url,
        "--cluster-timeout",
        "2s",
        "ROW a = 1",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "cannot reach the cluster's scheduler at 127.0.0.1:{port}"
        )) && err.contains("trailhunt scheduler"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let bad = th(&[
        "query",
        "-q",
        "-i",
        "sample/AWSLogs",
        "--cluster",
        "http://x:1",
        "ROW a = 1",
    ]);
    assert!(
        text(&bad.stderr).contains("expected df://HOST:PORT"),
        "{}",
        text(&bad.stderr)
    );
}

/// A query heavy enough to be running when an executor dies (seconds in a debug build):
/// every record's text split at its commas and at its quotes, both expanded (a product of
/// the two per record), and counted distinct.
const HEAVY: &str = "FROM logs-aws.cloudtrail* | EVAL a = SPLIT(event.original, \",\"), b = SPLIT(event.original, \"\\\"\") | MV_EXPAND a | MV_EXPAND b | STATS n = COUNT(*), parts = COUNT_DISTINCT(a) BY event.provider | SORT event.provider";

#[test]
fn losing_an_executor_mid_query_gives_the_right_rows_or_a_clear_error() {
    let Some(sans) = real("sans504-s3-ransomware-lab") else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("th-cl-kill-")
        .tempdir()
        .unwrap();
    let store = tmp.path().join("store").display().to_string();
    ingest(&store, &[&sans]);
    let local = th(&["query", "-q", "--store", &store, "-f", "json", HEAVY]);
    assert!(local.status.success(), "{}", text(&local.stderr));

    let mut cluster = Cluster::start(2);
    let started = Instant::now();
    let remote = bin()
        .args([
            "query",
            "-q",
            "--store",
            &store,
            "-f",
            "json",
            "--cluster",
            &cluster.url,
            // A job that never ends fails the test instead of hanging it.
            "--timeout",
            "4m",
            HEAVY,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Mid-query: the heavy query runs for several seconds on the cluster.
    std::thread::sleep(Duration::from_millis(2500));
    let victim = &mut cluster.executors[0];
    victim.kill().unwrap();
    victim.wait().unwrap();
    let killed_at = started.elapsed();
    let out = remote.wait_with_output().unwrap();
    let took = started.elapsed();
    eprintln!(
        "executor killed after {killed_at:?}; the query ended after {took:?}: {}",
        if out.status.success() {
            "rows"
        } else {
            "error"
        }
    );
    assert!(
        took > killed_at,
        "the query ended before the executor was killed: make HEAVY heavier"
    );
    if out.status.success() {
        assert_eq!(
            canonical(&text(&local.stdout), HEAVY),
            canonical(&text(&out.stdout), HEAVY),
            "a wrong answer after losing an executor"
        );
    } else {
        let err = text(&out.stderr);
        assert!(err.contains("cluster df://"), "{err}");
        assert!(
            out.stdout.is_empty(),
            "partial output: {}",
            text(&out.stdout)
        );
    }
    // The cluster goes on with the executor that is left.
    let again = th(&[
        "query",
        "-q",
        "--store",
        &store,
        "-f",
        "json",
        "--cluster",
        &cluster.url,
        HEAVY,
    ]);
    assert!(
        again.status.success(),
        "{}\n{}",
        text(&again.stderr),
        cluster.logs()
    );
    assert_eq!(
        canonical(&text(&local.stdout), HEAVY),
        canonical(&text(&again.stdout), HEAVY)
    );
}

/// Raw CloudTrail in S3, hunted on the cluster: the client only lists the objects, each
/// executor fetches the ones its partitions read into its own cache; the rows and the
/// summary are those of a local run over the same bucket.
#[test]
fn raw_s3_on_a_cluster_is_read_by_the_executors() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = testkit::Moto::start(&py, &[]) else {
        return;
    };
    let sample = workspace().join("sample/AWSLogs").display().to_string();
    moto.upload(&py, "trail", Path::new(&sample), "", true);
    let objects = walk(Path::new(&sample)).len();

    let tmp = tempfile::Builder::new()
        .prefix("th-cl-s3-")
        .tempdir()
        .unwrap();
    let cluster = Cluster::start(2);
    let run = |cache: &str, extra: &[&str]| {
        let mut c = bin();
        for (k, v) in S3_ENV {
            c.env(k, v);
        }
        c.env("TRAILHUNT_CACHE", tmp.path().join(cache))
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .args([
                "hunt",
                "--endpoint-url",
                &moto.url,
                "-i",
                "s3://trail/AWSLogs/",
                "--now",
                "2024-08-02T00:00:00Z",
                "-f",
                "json",
                "multiple_service_logging_deleted_or_stopped",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let local = run("local", &[]);
    let remote = run("client", &["--cluster", &cluster.url]);
    assert_eq!(local.status.code(), Some(0), "{}", text(&local.stderr));
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}\n{}",
        text(&remote.stderr),
        cluster.logs()
    );
    assert_eq!(first_hunt(&local), first_hunt(&remote));
    assert!(
        first_hunt(&local)["values"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "the seed hunt finds nothing in the sample"
    );
    // The same files, records and bytes read, the same files left out by the hunt's days;
    // only the listing line differs (nothing to download on the client).
    let scanned = |o: &Output| -> Vec<String> {
        summary(o)
            .into_iter()
            .filter(|l| l.contains(" records, "))
            .collect()
    };
    assert_eq!(scanned(&local), scanned(&remote));
    assert!(!scanned(&local).is_empty(), "{}", text(&local.stderr));

    // Nothing was fetched by the client; the executors fetched what the hunt's days kept,
    // between them each object at most once.
    let client_cache = walk(&tmp.path().join("client"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/s3/"))
        .count();
    assert_eq!(client_cache, 0, "the client downloaded objects");
    let local_fetched = walk(&tmp.path().join("local/s3")).len();
    let executors_fetched: usize = (0..2)
        .map(|i| walk(&cluster.dir.path().join(format!("cache-{i}/s3"))).len())
        .sum();
    assert!(local_fetched > 0 && local_fetched <= objects);
    assert!(
        executors_fetched > 0 && executors_fetched <= local_fetched,
        "executors fetched {executors_fetched} objects, a local run {local_fetched}"
    );
    drop(moto);
}

/// Every file under `dir` (none when it does not exist).
/// A store in S3 on the cluster: the scheduler plans and the executors read its Parquet
/// files through object_store with their own AWS configuration (no shared folder); the
/// output equals that of the local store it was copied from.
#[test]
fn a_store_in_s3_on_a_cluster_equals_the_local_store() {
    let Some(py) = testkit::require_python(&["moto", "boto3", "flask"]) else {
        return;
    };
    let Some(moto) = testkit::Moto::start(&py, &[]) else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("th-cl-s3store-")
        .tempdir()
        .unwrap();
    let store = tmp.path().join("store").display().to_string();
    ingest(&store, &["sample/AWSLogs"]);
    moto.upload(&py, "lake", Path::new(&store), "ct/", false);
    let endpoint = [("AWS_ENDPOINT_URL", moto.url.as_str())];
    let cluster = Cluster::start_with(2, &endpoint, &endpoint);
    let run = |store: &str, args: &[&str], extra: &[&str]| {
        let mut c = bin();
        c.env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .envs(S3_ENV.iter().copied())
            .env("TRAILHUNT_CACHE", tmp.path().join("cache"))
            .args(&args[..1])
            .args(["--store", store, "--endpoint-url", &moto.url, "-f", "json"])
            .args(extra)
            .args(&args[1..])
            .output()
            .unwrap()
    };
    let now = "2024-08-02T00:00:00Z";
    for q in QUERIES {
        let args = ["query", "-q", "--now", now, q];
        let local = run(&store, &args, &[]);
        let remote = run("s3://lake/ct", &args, &["--cluster", &cluster.url]);
        same_output(
            &cluster,
            q,
            &local,
            &remote,
            "the local store and the store in S3 on the cluster",
        );
    }
    let seed = [
        "hunt",
        "-q",
        "--now",
        now,
        "multiple_service_logging_deleted_or_stopped",
    ];
    let local = run(&store, &seed, &[]);
    let remote = run("s3://lake/ct", &seed, &["--cluster", &cluster.url]);
    assert_eq!(local.status.code(), Some(0), "{}", text(&local.stderr));
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}\n{}",
        text(&remote.stderr),
        cluster.logs()
    );
    assert_eq!(first_hunt(&local), first_hunt(&remote));
    assert!(first_hunt(&local)["values"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    drop(cluster);

    // The executors read the files themselves: executors that cannot reach the server
    // (the scheduler can, so the plan is made) fail the query with one line naming S3,
    // never an empty or partial answer.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let cluster = Cluster::start_with(1, &endpoint, &[("AWS_ENDPOINT_URL", &closed)]);
    let o = run(
        "s3://lake/ct",
        &[
            "query",
            "-q",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
        &["--cluster", &cluster.url],
    );
    assert!(!o.status.success(), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("ct/dt=2024-") && err.contains(".parquet") && err.contains("S3"),
        "{err}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A scheduler with no executor: the query is cancelled after the scheduler's
/// `--no-executors-grace`, with one line saying to start an executor — not a wait forever.
#[test]
fn a_cluster_without_executors_is_one_clear_line() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let logs = tempfile::Builder::new()
        .prefix("th-cl-noexec-")
        .tempdir()
        .unwrap();
    let scheduler = bin()
        .args(["scheduler", "--bind", &addr, "--no-executors-grace", "2"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(logs.path().join("scheduler.log")).unwrap())
        .spawn()
        .expect("start the scheduler");
    let mut cluster = Cluster {
        scheduler,
        executors: vec![],
        url: format!("df://{addr}"),
        dir: logs,
        env: vec![],
    };
    wait_listening(&addr.parse().unwrap(), &mut cluster.scheduler);
    let started = Instant::now();
    let o = th(&[
        "query",
        "-q",
        "-i",
        "sample/AWSLogs",
        "--cluster",
        &cluster.url,
        // Bounds the test if the scheduler never gives up.
        "--timeout",
        "2m",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
    ]);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "{}", text(&o.stdout));
    assert!(
        err.contains("it has no executor")
            && err.contains(&format!("trailhunt executor --scheduler {addr}")),
        "{err}\n{}",
        cluster.logs()
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(o.stdout.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}
