#!/usr/bin/env python3
"""Independent check of what the seed hunt must return on this sample.

Re-implements "Multiple Service Logging Deleted or Stopped" directly on the raw
CloudTrail files with the Elastic ingest-pipeline mapping, in plain Python and
without trailhunt, so the expected rows in README.md do not come from the
engine under test.

    python3 sample/expected_rows.py [SAMPLE_DIR] [--now 2024-08-02T00:00:00Z]
"""
import collections
import datetime as dt
import glob
import gzip
import json
import os
import sys

PROVIDERS = {"ec2.amazonaws.com", "route53resolver.amazonaws.com",
             "s3.amazonaws.com", "cloudtrail.amazonaws.com"}
ACTIONS = {"DeleteFlowLogs", "DeleteResolverQueryLogConfig", "DeleteTrail", "StopLogging"}


def parse_ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def java_yyyy_mm_dd(t):
    # Java pattern "YYYY-mm-dd": week-based year, MINUTE of hour, day of month.
    # (ISO week-based year; for dates away from New Year it is the calendar year.)
    return f"{t.isocalendar()[0]:04d}-{t.minute:02d}-{t.day:02d}"


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)))
    now = parse_ts("2024-08-02T00:00:00Z")
    args = list(argv)
    if "--now" in args:
        i = args.index("--now")
        now = parse_ts(args[i + 1])
        del args[i:i + 2]
    if args:
        root = args[0]
    since = now - dt.timedelta(days=7)
    counts = collections.Counter()
    first = {}
    for path in sorted(glob.glob(os.path.join(root, "AWSLogs", "**", "*.json.gz"), recursive=True)):
        with gzip.open(path) as f:
            for r in json.load(f)["Records"]:
                t = parse_ts(r["eventTime"])
                if not t > since:
                    continue
                if r.get("eventSource") not in PROVIDERS or r.get("eventName") not in ACTIONS:
                    continue
                failed = r.get("errorCode") not in (None, "") or r.get("errorMessage") not in (None, "")
                key = (r["eventSource"], r["eventName"], "failure" if failed else "success",
                       java_yyyy_mm_dd(t), (r.get("userIdentity") or {}).get("arn"))
                counts[key] += 1
                first[key] = min(first.get(key, t), t)
    print("| service_logging_delete_count | event.provider | event.action | event.outcome | date | aws.cloudtrail.user_identity.arn |")
    print("| ---: | --- | --- | --- | --- | --- |")
    for key in sorted(counts, key=lambda k: first[k]):
        print(f"| {counts[key]} | " + " | ".join(str(v) for v in key) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
