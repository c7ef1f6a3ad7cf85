#!/usr/bin/env python3
"""Benchmark (not a test): the same queries over one store, locally and on a Ballista
cluster of one scheduler and two executors on this machine.

    bench/cluster.sh [EVENTS]          default 10000000

Builds trailhunt with the `cluster` feature (release), generates about EVENTS events with
`samplegen --events` (cached in BENCH_DIR, shared with bench/scale.py), ingests them into a
store (kept: REUSE_STORE=1 skips the ingest when the store is there), starts
`trailhunt scheduler` and two `trailhunt executor`s on 127.0.0.1, and times each query
RUNS times (median) with and without `--cluster`, checking that both give the same rows.

On one machine the executors share its cores with each other and with the scheduler, so
this measures the cluster's overhead (planning on three processes, shuffles through Arrow
Flight and the work directory), not a speed-up.
Environment: TRAILHUNT_BIN / SAMPLEGEN_BIN skip the build; BENCH_DIR; RUNS (default 3);
CONCURRENT_TASKS per executor (default 1: two executors on two cores).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402  (build, generate, timed, rows_th)

RUNS = int(os.environ.get("RUNS", "3"))
TASKS = os.environ.get("CONCURRENT_TASKS", "1")

QUERIES = [
    ("seed hunt", ["hunt", "--now", scale.NOW, scale.SEED]),
    ("STATS COUNT_DISTINCT BY 2 keys", ["query", "FROM logs-aws.cloudtrail* | STATS n = COUNT(*), "
                                        "users = COUNT_DISTINCT(user.name) BY event.provider, event.outcome "
                                        "| SORT n DESC, event.provider, event.outcome | LIMIT 20"]),
    ("DATE_FORMAT day x region", ["query", "FROM logs-aws.cloudtrail* | EVAL d = DATE_FORMAT(\"yyyy-MM-dd\", @timestamp) "
                                  "| STATS n = COUNT(*) BY d, cloud.region | SORT d, cloud.region"]),
    ("SORT @timestamp LIMIT 10", ["query", "FROM logs-aws.cloudtrail* | SORT @timestamp DESC, event.id | LIMIT 10 "
                                  "| KEEP @timestamp, event.action, event.id"]),
]


def build_cluster():
    bins = {}
    if os.environ.get("TRAILHUNT_BIN"):
        bins["trailhunt"] = os.environ["TRAILHUNT_BIN"]
    if os.environ.get("SAMPLEGEN_BIN"):
        bins["samplegen"] = os.environ["SAMPLEGEN_BIN"]
    if len(bins) < 2:
        t0 = time.perf_counter()
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "trailhunt", "--features", "cluster",
                        "-p", "samplegen"], cwd=scale.ROOT, check=True,
                       env=dict(os.environ, CARGO_TARGET_DIR=scale.TARGET))
        print(f"release build (trailhunt --features cluster, samplegen): {time.perf_counter() - t0:.0f} s")
    for name in ("trailhunt", "samplegen"):
        bins.setdefault(name, os.path.join(scale.TARGET, "release", name))
    return bins


def free_port(pair=False):
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if not pair:
            return p
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            pass
        finally:
            t.close()


def wait_port(port, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} does not listen on {port}")


def main():
    events = int((sys.argv[1] if len(sys.argv) > 1 else "10000000").replace("_", ""))
    bins = build_cluster()
    th = bins["trailhunt"]
    data = scale.generate(bins["samplegen"], events)
    store = os.path.join(scale.BENCH_DIR, f"store-{events}")
    if not (os.environ.get("REUSE_STORE") and os.path.isdir(store)):
        shutil.rmtree(store, ignore_errors=True)
        secs, rss, _ = scale.run([th, "ingest", "-q", "--store", store, data])
        print(f"ingest: {secs:.1f} s, peak RSS {rss:.0f} MiB")
    n = scale.run([th, "query", "-q", "--store", store, "-f", "csv",
                   "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)"])[2].decode().split()[-1]
    print(f"store: {int(n):,} events")

    work = tempfile.mkdtemp(prefix="th-bench-cluster-")
    procs = []
    try:
        port = free_port()
        sched = subprocess.Popen([th, "scheduler", "--bind", f"127.0.0.1:{port}"],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "scheduler.log"), "w"))
        procs.append(sched)
        wait_port(port, sched, "the scheduler")
        for i in range(2):
            ex = free_port(pair=True)
            os.makedirs(os.path.join(work, f"w{i}"))
            procs.append(subprocess.Popen(
                [th, "executor", "--scheduler", f"127.0.0.1:{port}", "--bind", f"127.0.0.1:{ex}",
                 "--concurrent-tasks", TASKS, "--work-dir", os.path.join(work, f"w{i}")],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"executor-{i}.log"), "w")))
        url = f"df://127.0.0.1:{port}"
        probe = [th, "query", "-q", "--store", store, "--cluster", url, "ROW a = 1"]
        deadline = time.time() + 60
        while subprocess.run(probe, capture_output=True).returncode != 0:
            if time.time() > deadline:
                sys.exit("the cluster did not come up")
            time.sleep(0.5)

        print(f"{'query':34} {'local':>9} {'cluster':>9} {'ratio':>7}  rows")
        for label, args in QUERIES:
            cmd = [th, args[0], "-q", "--store", store, "-f", "json"] + args[1:]
            local, _, lout = scale.timed(cmd, RUNS)
            remote, _, rout = scale.timed(cmd + ["--cluster", url], RUNS)
            same = scale.rows_th(lout) == scale.rows_th(rout)
            print(f"{label:34} {local:8.2f}s {remote:8.2f}s {remote / local:6.2f}x  "
                  f"{'same' if same else 'DIFFERENT'} ({len(scale.rows_th(lout))})", flush=True)
            if not same:
                sys.exit(f"local and cluster rows differ for {label}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
