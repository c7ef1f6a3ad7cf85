#!/usr/bin/env python3
"""Benchmark (not a test): trailhunt against DuckDB on the same generated CloudTrail.

    bench/scale.sh [EVENTS ...]          e.g. bench/scale.sh 1000000 10000000

For each size, generates (once, cached) about EVENTS events in the S3 delivery layout with
`samplegen --events`, then runs, on the same files:

  1. trailhunt raw-scan seed hunt (gzip JSON, prefilter on)      `hunt -i DIR`
  2. the same with the prefilter and time pruning off            `--no-pushdown`
  3. DuckDB read_json + the seed hunt as SQL
  4. trailhunt ingest into a fresh store
  5. trailhunt seed hunt over the store
  6. DuckDB over the store's Parquet files, the seed hunt as SQL
  7. a high-cardinality STATS (by event.id) over the store under --memory-limit 1G

and prints wall time, events/s and peak RSS of each, and the ratios the performance issue
asks for. Every step's rows are compared where two steps answer the same question.
Environment: TRAILHUNT_BIN / SAMPLEGEN_BIN skip the build; BENCH_DIR (default
~/.cache/trailhunt-bench) keeps generated data between runs; RUNS (default 5) timed runs
per step, the median is reported (ingest runs once; DUCK_RAW_RUNS overrides RUNS for
DuckDB's read_json); REUSE_STORE=1 keeps the store of an
earlier run instead of ingesting again.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/trailhunt-target"))
BENCH_DIR = os.environ.get("BENCH_DIR", os.path.expanduser("~/.cache/trailhunt-bench"))
RUNS = int(os.environ.get("RUNS", "5"))
# DuckDB's read_json over 10M events takes minutes a run: DUCK_RAW_RUNS=1 keeps it to one.
DUCK_RAW_RUNS = int(os.environ.get("DUCK_RAW_RUNS", str(RUNS)))
NOW = "2024-08-02T00:00:00Z"
SEED = "multiple_service_logging_deleted_or_stopped"
DAYS = 14

# The seed hunt in SQL over raw CloudTrail; Elastic's pipeline maps eventSource ->
# event.provider, eventName -> event.action, errorCode/errorMessage -> event.outcome,
# userIdentity.arn -> aws.cloudtrail.user_identity.arn, eventTime -> @timestamp. The date
# key is DATE_FORMAT("YYYY-mm-dd") = ISO week-year, minute of hour, day of month.
DUCK_RAW = """
WITH r AS (
  SELECT unnest(Records, recursive := false) AS e
  FROM read_json('{glob}', columns = {{'Records': 'STRUCT(eventTime VARCHAR, eventSource VARCHAR,
       eventName VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, userIdentity STRUCT(arn VARCHAR))[]'}},
       format = 'auto', maximum_object_size = 1073741824)
), t AS (
  SELECT CAST(e.eventTime AS TIMESTAMPTZ) AS ts, e.eventSource AS provider, e.eventName AS action,
         CASE WHEN e.errorCode IS NOT NULL OR e.errorMessage IS NOT NULL THEN 'failure' ELSE 'success' END AS outcome,
         e.userIdentity.arn AS arn
  FROM r
)
SELECT count(*) AS n, provider, action, outcome,
       strftime(ts AT TIME ZONE 'UTC', '%G') || '-' || strftime(ts AT TIME ZONE 'UTC', '%M') || '-' || strftime(ts AT TIME ZONE 'UTC', '%d') AS date,
       arn
FROM t
WHERE ts > TIMESTAMPTZ '{now}' - INTERVAL 7 DAY
  AND provider IN ('ec2.amazonaws.com','route53resolver.amazonaws.com','s3.amazonaws.com','cloudtrail.amazonaws.com')
  AND action IN ('DeleteFlowLogs','DeleteResolverQueryLogConfig','DeleteTrail','StopLogging')
GROUP BY ALL
"""

DUCK_PARQUET = """
SELECT count(*) AS n, "event.provider", "event.action", "event.outcome",
       strftime("@timestamp" AT TIME ZONE 'UTC', '%G') || '-' || strftime("@timestamp" AT TIME ZONE 'UTC', '%M') || '-' || strftime("@timestamp" AT TIME ZONE 'UTC', '%d') AS date,
       "aws.cloudtrail.user_identity.arn"
FROM read_parquet('{store}/dt=*/*.parquet', hive_partitioning = true)
WHERE "@timestamp" > TIMESTAMPTZ '{now}' - INTERVAL 7 DAY
  AND "event.provider" IN ('ec2.amazonaws.com','route53resolver.amazonaws.com','s3.amazonaws.com','cloudtrail.amazonaws.com')
  AND "event.action" IN ('DeleteFlowLogs','DeleteResolverQueryLogConfig','DeleteTrail','StopLogging')
GROUP BY ALL
"""

# Times the query inside the Python process, so DuckDB is not charged for interpreter
# start-up and `import duckdb` (~0.1 s); trailhunt's times include its process start-up.
DUCK_RUNNER = r"""
import duckdb, json, sys, time
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rows = con.execute(sys.argv[1]).fetchall()
secs = time.perf_counter() - t0
print(json.dumps({"secs": secs, "rows": [[str(v) if v is not None else None for v in r] for r in rows]}))
"""


def build():
    bins = {}
    for name, env in (("trailhunt", "TRAILHUNT_BIN"), ("samplegen", "SAMPLEGEN_BIN")):
        if os.environ.get(env):
            bins[name] = os.environ[env]
    if len(bins) < 2:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "trailhunt", "-p", "samplegen"],
                       cwd=ROOT, check=True, env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
    for name in ("trailhunt", "samplegen"):
        bins.setdefault(name, os.path.join(TARGET, "release", name))
    return bins


TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB or nan, stdout); exits on failure.
    Peak RSS is the child's own, from /usr/bin/time."""
    full = [TIME, "-f", "@@maxrss %M"] + cmd if TIME else cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    rss = float("nan")
    for line in err.decode(errors="replace").splitlines():
        if line.startswith("@@maxrss "):
            rss = int(line.split()[1]) / 1024.0
    return secs, rss, out


def timed(cmd, runs, in_process=False):
    """Median time over up to `runs` runs (one if it takes over 10 s), the largest peak RSS
    seen, and the last output. `in_process`: the command reports its own query time."""
    times, rss, out = [], 0.0, b""
    for _ in range(runs):
        s, r, out = run(cmd)
        if in_process:
            s = json.loads(out)["secs"]
        times.append(s)
        rss = max(rss, r) if r == r else rss
        if s > 10:
            break
    return statistics.median(times), rss, out


def generate(samplegen, events):
    out = os.path.join(BENCH_DIR, f"ct-{events}")
    marker = os.path.join(out, ".complete")
    if not os.path.exists(marker):
        os.makedirs(out, exist_ok=True)
        print(f"generating ~{events:,} events into {out} …", flush=True)
        t0 = time.perf_counter()
        subprocess.run([samplegen, "--out", out, "--days", str(DAYS), "--events", str(events), "--force"],
                       check=True)
        print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
        open(marker, "w").close()
    return out


def rows_th(out):
    doc = json.loads(out)
    if "hunts" in doc:  # `hunt -f json`: one result per hunt query
        doc = doc["hunts"][0]
    return sorted(json.dumps([str(v) if v is not None else None for v in r]) for r in doc["values"])


def rows_duck(out):
    return sorted(json.dumps(r) for r in json.loads(out)["rows"])


def duck_available():
    return subprocess.run([sys.executable, "-c", "import duckdb"], capture_output=True).returncode == 0


def bench(bins, events):
    th = bins["trailhunt"]
    data = generate(bins["samplegen"], events)
    glob = os.path.join(data, "AWSLogs", "**", "*.json.gz")
    files = sum(len(f) for _, _, f in os.walk(os.path.join(data, "AWSLogs")))
    gz = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(data, "AWSLogs")) for f in fs)
    count_out = run([th, "query", "-q", "-i", data, "-f", "json", "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)"])[2]
    n = json.loads(count_out)["values"][0][0]
    print(f"\n== {n:,} events, {files:,} files, {gz / 1e6:.0f} MB gzip ==", flush=True)
    results = {}
    peak = {}

    def report(key, label, secs, rss, events_done=n):
        results[key] = secs
        peak[key] = rss
        print(f"{label:<46} {secs:8.2f} s {events_done / secs / 1e3:9.0f}k ev/s  peak RSS {rss:7.0f} MiB", flush=True)

    hunt_raw = [th, "hunt", "-q", "-i", data, "--now", NOW, "-f", "json", SEED]
    s, rss, out = timed(hunt_raw, RUNS)
    report("raw", "trailhunt seed hunt, raw .json.gz", s, rss)
    raw_rows = rows_th(out)
    s, rss, out = timed(hunt_raw[:2] + ["--no-pushdown"] + hunt_raw[2:], 1)
    report("raw_nopush", "  … without prefilter/time pruning", s, rss)
    assert rows_th(out) == raw_rows, "prefilter changed the result"

    duck = duck_available()
    if duck:
        s, rss, out = timed([sys.executable, "-c", DUCK_RUNNER, DUCK_RAW.format(glob=glob, now=NOW)], DUCK_RAW_RUNS, True)
        report("duck_raw", "DuckDB read_json seed hunt", s, rss)
        if rows_duck(out) != raw_rows:
            print("  NOTE: DuckDB rows differ from trailhunt's:", rows_duck(out)[:3], raw_rows[:3])
    else:
        print("DuckDB not installed (pip install duckdb): its steps are skipped")

    store = os.path.join(BENCH_DIR, f"store-{events}")
    if os.environ.get("REUSE_STORE") and os.path.isdir(store):
        print("(REUSE_STORE: ingest not timed, the store from an earlier run is used)")
    else:
        shutil.rmtree(store, ignore_errors=True)
        s, rss, _ = timed([th, "ingest", "-q", "--store", store, data], 1)
        report("ingest", "trailhunt ingest", s, rss)
    hunt_store = [th, "hunt", "-q", "--store", store, "--now", NOW, "-f", "json", SEED]
    s, rss, out = timed(hunt_store, RUNS)
    report("store", "trailhunt seed hunt, store", s, rss)
    assert rows_th(out) == raw_rows, "store and raw differ"
    if duck:
        s, rss, out = timed([sys.executable, "-c", DUCK_RUNNER, DUCK_PARQUET.format(store=store, now=NOW)], RUNS, True)
        report("duck_store", "DuckDB over the store's Parquet", s, rss)
        if rows_duck(out) != raw_rows:
            print("  NOTE: DuckDB rows differ from trailhunt's")
    hc = [th, "query", "-q", "--store", store, "--memory-limit", "1G", "-f", "json",
          "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.id | SORT n DESC | LIMIT 3"]
    s, rss, _ = timed(hc, 1)
    report("hc", "STATS BY event.id, --memory-limit 1G", s, rss)

    print("\ntargets:")
    if "duck_raw" in results:
        print(f"  raw seed hunt vs DuckDB read_json: {results['duck_raw'] / results['raw']:.1f}x faster (target >= 10x)")
    print(f"  raw seed hunt: {n / results['raw'] / 1e6:.2f}M events/s (target >= 1M/s)")
    if "ingest" in results:
        print(f"  ingest: {n / results['ingest'] / 1e3:.0f}k events/s (target >= 150k/s on 2 cores), "
              f"peak RSS {peak['ingest']:.0f} MiB (target < 1024 MiB)")
    print(f"  store seed hunt: {results['store'] * 1000:.0f} ms (target < 1 s)", end="")
    if "duck_store" in results:
        print(f", DuckDB on the same Parquet {results['duck_store'] * 1000:.0f} ms: "
              f"{results['duck_store'] / results['store']:.2f}x (target >= 1x)", end="")
    print()


def main():
    sizes = [int(a.replace("_", "")) for a in sys.argv[1:]] or [1_000_000]
    bins = build()
    for events in sizes:
        bench(bins, events)


if __name__ == "__main__":
    main()
