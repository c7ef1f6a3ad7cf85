#!/usr/bin/env python3
"""Benchmark (not a test): queries over many fields of raw CloudTrail, trailhunt against
DuckDB's read_json on the same generated `.json.gz` files, from one run.

    bench/fields.sh [EVENTS]          (default 1000000)

For each query: trailhunt's wall time (process start included) and peak RSS, DuckDB's
in-process query time over `read_json` + `unnest(Records)`, the ratio, and whether the two
answered the same rows. The queries are the analyst's everyday ones (the performance issue's
list): the seed hunt, STATS over event fields, over `aws.cloudtrail.user_identity.*`,
`user.name`, `source.ip`, `user_agent.original`, and a DISSECT of the request parameters.
Data, binaries and knobs as in bench/scale.py (BENCH_DIR, TRAILHUNT_BIN, SAMPLEGEN_BIN, RUNS).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402  (the generator, timing and row helpers)

# DuckDB reads only the fields it is told of (the others are parsed and dropped, as ours are).
RECORD = """STRUCT(eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, errorCode VARCHAR,
  errorMessage VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR, requestParameters JSON,
  userIdentity STRUCT(type VARCHAR, arn VARCHAR, userName VARCHAR, invokedBy VARCHAR,
    sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR, userName VARCHAR))))"""

FROM_RAW = """WITH r AS (
  SELECT unnest(Records, recursive := false) AS e
  FROM read_json('{glob}', columns = {{'Records': '""" + " ".join(RECORD.split()) + """[]'}},
       format = 'auto', maximum_object_size = 1073741824)
) """

# (name, ES|QL, the same question in DuckDB SQL over `r`, compare rows?)
QUERIES = [
    (
        "STATS BY event.provider, event.action",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.provider, event.action",
        "SELECT count(*), e.eventSource, e.eventName FROM r GROUP BY ALL",
        True,
    ),
    (
        "COUNT_DISTINCT(source.ip) BY user_identity.arn",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*), u = COUNT_DISTINCT(source.ip) BY aws.cloudtrail.user_identity.arn",
        # source.ip: sourceIPAddress when it is an address (the generator's service names
        # have letters, its addresses none).
        "SELECT count(*), count(DISTINCT CASE WHEN regexp_matches(e.sourceIPAddress, '^[0-9a-fA-F:.]+$') "
        "THEN e.sourceIPAddress END), e.userIdentity.arn FROM r GROUP BY ALL",
        True,
    ),
    (
        "STATS BY user.name",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user.name",
        # The integration's rule: no user for service actors; the role name for assumed and
        # federated roles; else userName.
        "SELECT count(*), CASE WHEN e.userIdentity.type = 'AWSService' THEN NULL "
        "WHEN e.userIdentity.sessionContext.sessionIssuer.arn LIKE '%:role/aws-service-role/%' THEN NULL "
        "WHEN e.userIdentity.type IN ('AssumedRole', 'FederatedUser') "
        "AND e.userIdentity.sessionContext.sessionIssuer.userName IS NOT NULL "
        "THEN e.userIdentity.sessionContext.sessionIssuer.userName "
        "ELSE e.userIdentity.userName END FROM r GROUP BY ALL",
        True,
    ),
    (
        "STATS BY session_issuer.arn",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY aws.cloudtrail.user_identity.session_context.session_issuer.arn",
        "SELECT count(*), e.userIdentity.sessionContext.sessionIssuer.arn FROM r GROUP BY ALL",
        True,
    ),
    (
        "STATS BY user_agent.original",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY user_agent.original",
        "SELECT count(*), e.userAgent FROM r GROUP BY ALL",
        True,
    ),
    (
        "DISSECT request_parameters",
        'FROM logs-aws.cloudtrail* | WHERE aws.cloudtrail.request_parameters LIKE "*bucketName=*" '
        '| DISSECT aws.cloudtrail.request_parameters "%{}bucketName=%{bucket}, %{}" | STATS n = COUNT(*) BY bucket',
        # The parameters are rendered in Java HashMap order, which SQL cannot reproduce: the
        # bucket is read from the JSON instead, and the rows are not compared.
        "SELECT count(*), json_extract_string(e.requestParameters, '$.bucketName') AS b FROM r "
        "WHERE b IS NOT NULL GROUP BY ALL",
        False,
    ),
]


def main():
    events = int(sys.argv[1].replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    bins = scale.build()
    th = bins["trailhunt"]
    data = scale.generate(bins["samplegen"], events)
    glob = os.path.join(data, "AWSLogs", "**", "*.json.gz")
    duck = scale.duck_available()
    if not duck:
        print("DuckDB not installed (pip install duckdb): only trailhunt is timed")
    print(f"\n== ~{events:,} events in {data} ==")
    print(f"{'query':<48} {'trailhunt':>10} {'RSS':>8} {'DuckDB':>9} {'ratio':>7}  rows")
    # The seed hunt first, with scale.py's SQL.
    cases = [("seed hunt (prefilter + time pruning)",
              ["hunt", "-q", "-i", data, "--now", scale.NOW, "-f", "json", scale.SEED],
              scale.DUCK_RAW.format(glob=glob, now=scale.NOW), True)]
    for name, esql, sql, compare in QUERIES:
        cases.append((name, ["query", "-q", "-i", data, "-f", "json", esql],
                      FROM_RAW.format(glob=glob) + sql, compare))
    ratios = []
    for name, args, sql, compare in cases:
        secs, rss, out = scale.timed([th] + args, scale.RUNS)
        ours = scale.rows_th(out)
        line = f"{name:<48} {secs:9.2f}s {rss:7.0f}M"
        if duck:
            dsecs, _, dout = scale.timed([sys.executable, "-c", scale.DUCK_RUNNER, sql],
                                         scale.DUCK_RAW_RUNS, True)
            ratio = dsecs / secs
            ratios.append(ratio)
            same = "same" if scale.rows_duck(dout) == ours else "DIFFER"
            line += f" {dsecs:8.2f}s {ratio:6.1f}x  {len(ours)} {same if compare else '(not compared)'}"
        print(line, flush=True)
    if ratios:
        print(f"\nslowest ratio: {min(ratios):.1f}x (target: every query >= 3x faster than DuckDB)")


if __name__ == "__main__":
    main()
