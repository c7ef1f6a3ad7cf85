#!/usr/bin/env python3
"""Independent oracle for the `sample_case!` tests in crates/trailhunt/tests/cli.rs.

Reads the raw CloudTrail files under sample/AWSLogs, maps each record to the fields the
cases use the way Elastic's `aws.cloudtrail` ingest pipeline does (as documented in
shared/docs/ecs-cloudtrail-mapping.md, cited by section below), and computes, for one
case, the ES|QL answer by hand in plain Python: the columns (`name:type`), the rows (JSON
arrays) and the warnings. It never runs trailhunt and holds no expected rows: every row is
computed from the logs.

The query text lives only in cli.rs; each case below is a hand-written Python rendering
of that query, named like the test. The query is passed in (`--query`) only so that the
oracle can report warning positions (`Line 1:COL`) the way ES does.

    python3 sample/expected_cases.py --case NAME [--query Q] [--input DIR] [--now T]
    python3 sample/expected_cases.py --list

Three more cases are trailhunt's built-in hunts (crates/hunts/builtin/<case>.toml), run as
of `--now`; cli.rs compares them with `trailhunt hunt <file> --format json`.

Output (one JSON object): {"columns": ["name:type", ...], "rows": [[...], ...],
"warnings": [...]}. Dates are rendered as ES does (`2024-07-22T14:30:17.000Z`), a
multi-valued cell as a JSON array, a single value as a scalar, null as null.
"""
import argparse
import calendar
import datetime as dt
import fnmatch
import glob
import gzip
import ipaddress
import json
import os
import re
import sys

# ---- ingest: CloudTrail record -> ECS document (only the fields the cases read) ---------

# §2.11 categorisation table: eventName -> (event.category, event.type).
CATEGORIES = {
    "AddUserToGroup": (["iam"], ["group", "change"]),
    "AssumeRole": (["authentication"], ["info"]),
    "AttachGroupPolicy": (["iam"], ["group", "change"]),
    "AttachUserPolicy": (["iam"], ["user", "change"]),
    "ChangePassword": (["iam"], ["user", "change"]),
    "ConsoleLogin": (["authentication"], ["info"]),
    "CreateAccessKey": (["iam"], ["user", "change"]),
    "CreateBucket": (["file"], ["creation"]),
    "CreateGroup": (["iam"], ["group", "creation"]),
    "CreateKeyPair": (["iam"], ["admin", "creation"]),
    "CreateUser": (["iam"], ["user", "creation"]),
    "CreateVirtualMFADevice": (["iam"], ["user", "change"]),
    "DeactivateMFADevice": (["iam"], ["user", "change"]),
    "DeleteAccessKey": (["iam"], ["user", "change"]),
    "DeleteBucket": (["file"], ["deletion"]),
    "DeleteGroup": (["iam"], ["group", "deletion"]),
    "DeleteGroupPolicy": (["iam"], ["group", "change"]),
    "DeleteSSHPublicKey": (["iam"], ["user", "change"]),
    "DeleteUser": (["iam"], ["user", "deletion"]),
    "DeleteUserPermissionsBoundary": (["iam"], ["user", "change"]),
    "DeleteUserPolicy": (["iam"], ["user", "change"]),
    "DeleteVirtualMFADevice": (["iam"], ["user", "change"]),
    "DetachGroupPolicy": (["iam"], ["group", "change"]),
    "DetachUserPolicy": (["iam"], ["user", "change"]),
    "EnableMFADevice": (["iam"], ["user", "change"]),
    "GetGroup": (["iam"], ["group", "info"]),
    "GetGroupPolicy": (["iam"], ["group", "info"]),
    "GetUser": (["iam"], ["user", "info"]),
    "GetUserPolicy": (["iam"], ["user", "info"]),
    "ListAttachedGroupPolicies": (["iam"], ["group", "info"]),
    "ListAttachedUserPolicies": (["iam"], ["user", "info"]),
    "ListGroupPolicies": (["iam"], ["group", "info"]),
    "ListGroups": (["iam"], ["group", "info"]),
    "ListGroupsForUser": (["iam"], ["user", "info"]),
    "ListUserPolicies": (["iam"], ["user", "info"]),
    "ListUsers": (["iam"], ["user", "info"]),
    "ListUserTags": (["iam"], ["user", "info"]),
    "PutGroupPolicy": (["iam"], ["group", "change"]),
    "PutUserPermissionsBoundary": (["iam"], ["user", "change"]),
    "PutUserPolicy": (["iam"], ["user", "change"]),
    "RemoveUserFromGroup": (["iam"], ["group", "change"]),
    "SetDefaultPolicyVersion": (["iam"], ["admin", "change"]),
    "SetSecurityTokenServicePreferences": (["iam"], ["admin", "change"]),
    "TagUser": (["iam"], ["user", "change"]),
    "UntagUser": (["iam"], ["user", "change"]),
    "UpdateAccessKey": (["iam"], ["user", "change"]),
    "UpdateAccountPasswordPolicy": (["iam"], ["admin", "change"]),
    "UpdateGroup": (["iam"], ["group", "change"]),
    "UpdateLoginProfile": (["iam"], ["user", "change"]),
    "UpdateRole": (["iam"], ["admin", "change"]),
    "UpdateSSHPublicKey": (["iam"], ["user", "change"]),
    "UpdateUser": (["iam"], ["user", "change"]),
    "GetCallerIdentity": (["authentication"], ["info"]),
    "DescribeInstances": (["host"], ["info"]),
    "DescribeSecurityGroups": (["network"], ["info"]),
    "ListBuckets": (["file"], ["info"]),
    "DescribeNetworkInterfaces": (["network"], ["info"]),
    "DescribeRegions": (["api"], ["info"]),
    "ListRoles": (["iam"], ["info"]),
    "DescribeVpcs": (["network"], ["info"]),
    "DescribeNetworkAcls": (["network"], ["info"]),
    "DescribeLoadBalancers": (["network"], ["info"]),
    "DescribeVolumes": (["host"], ["info"]),
    "DescribeTrails": (["configuration"], ["info"]),
    "ListFunctions": (["package"], ["info"]),
    "ListTables": (["database"], ["info"]),
    "ListInstanceAssociations": (["host"], ["info"]),
    "DescribeDBInstances": (["database"], ["info"]),
    "AuthorizeSecurityGroupIngress": (["network"], ["access"]),
    "CreateTopic": (["configuration"], ["creation"]),
    "Subscribe": (["configuration"], ["change"]),
    "Publish": (["api"], ["info"]),
    "SendCommand": (["process"], ["start"]),
    "GetPolicy": (["iam"], ["info"]),
    "CreatePolicy": (["iam"], ["creation"]),
    "ListAttachedRolePolicies": (["iam"], ["info"]),
    "AttachRolePolicy": (["iam"], ["change"]),
    "Converse": (["api"], ["info"]),
    "CreateDocument": (["file"], ["creation"]),
    "StartSession": (["session"], ["start"]),
    "CreateControlChannel": (["session"], ["start"]),
    "OpenControlChannel": (["session"], ["start"]),
    "CreateDataChannel": (["session"], ["start"]),
    "OpenDataChannel": (["session"], ["start"]),
    "TerminateSession": (["session"], ["end"]),
    "ListObjects": (["file"], ["info"]),
    "HeadObject": (["file"], ["info"]),
    "GetObject": (["file"], ["info"]),
    "PutObject": (["file"], ["change"]),
    "DeleteTrail": (["configuration"], ["deletion"]),
    "DeleteObject": (["file"], ["deletion"]),
}

# The `event.*` fields of the data stream's mapping (shared/ecs/cloudtrail-fields.tsv),
# which `keep event.*` expands to, in name order as FROM lists them.
EVENT_FIELDS = ["event.action", "event.category", "event.created", "event.dataset", "event.id",
                "event.ingested", "event.kind", "event.module", "event.original",
                "event.outcome", "event.provider", "event.type"]


def cleanup(v):
    """§2.3 cleanup #1: drop null, "", "-", "none" and (after cleaning) empty containers.
    Returns None for a value that is removed. Dict key order is kept (§3.2 step 1 needs
    the original keys, so callers that stringify keep the raw object too)."""
    if v is None or v in ("", "-", "none"):
        return None
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            c = cleanup(x)
            if c is not None:
                out[k] = c
        return out or None
    if isinstance(v, list):
        out = [c for c in (cleanup(x) for x in v) if c is not None]
        return out or None
    return v


def java_hash(s):
    h = 0
    data = s.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] | data[i + 1] << 8)) & 0xFFFFFFFF
    return h


def hashmap_order(keys):
    """§3.2: iteration order of a java.util.HashMap filled with `keys` in this order."""
    buckets = 16
    table = [[] for _ in range(buckets)]
    for n, k in enumerate(keys, 1):
        h = java_hash(k)
        spread = h ^ (h >> 16)
        table[spread & (buckets - 1)].append((spread, k))
        if n > 0.75 * buckets:
            buckets *= 2
            new = [[] for _ in range(buckets)]
            for b in table:
                for spread, key in b:
                    new[spread & (buckets - 1)].append((spread, key))
            table = new
    return [k for b in table for _, k in b]


def java_string(raw, cleaned):
    """§3.1 Java toString() of a cleaned JSON value; `raw` gives the original key order."""
    if isinstance(cleaned, dict):
        parts = []
        for k in hashmap_order(list(raw.keys())):
            if k in cleaned:
                parts.append(f"{k}={java_string(raw[k], cleaned[k])}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(cleaned, list):
        raws = [x for x in raw if cleanup(x) is not None]
        return "[" + ", ".join(java_string(r, c) for r, c in zip(raws, cleaned)) + "]"
    if isinstance(cleaned, bool):
        return "true" if cleaned else "false"
    if isinstance(cleaned, float):
        return repr(cleaned)  # no float payload in the sample; Java formatting not needed
    return str(cleaned)


def parse_time(s):
    """§2.2: eventTime (ISO-8601) -> epoch milliseconds, fraction cut to milliseconds."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z", s)
    y, mo, d, h, mi, se, frac = m.groups()
    t = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se)))
    return t * 1000 + int(((frac or "") + "000")[:3])


def doc_values(values):
    """ES doc values of a multi-valued keyword: sorted (by UTF-8 bytes, i.e. code points)
    and de-duplicated (§8); one value reads as a scalar, none as null."""
    vs = sorted(set(values))
    if not vs:
        return None
    return vs[0] if len(vs) == 1 else vs


def keyword(v, ignore_above=None):
    if v is None or (ignore_above is not None and len(v) > ignore_above):
        return None
    return v


def ingest(record):
    raw = record
    r = cleanup(record) or {}
    doc = {}
    doc["@timestamp"] = parse_time(r["eventTime"])
    ui = r.get("userIdentity") or {}
    utype = ui.get("type")
    doc["aws.cloudtrail.user_identity.type"] = utype
    # §2.5 step 2: service actor
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
    service = None
    if utype == "AWSService":
        service = ui.get("invokedBy")
    elif utype == "AssumedRole" and ":role/aws-service-role/" in issuer.get("arn", ""):
        service = ui.get("invokedBy") or issuer["arn"].split("aws-service-role/", 1)[1].split("/")[0]
    user_name = user_id = None
    if not service:
        user_name = ui.get("userName")
        user_id = ui.get("principalId")
    arn = ui.get("arn")
    doc["aws.cloudtrail.user_identity.arn"] = arn
    account = ui.get("accountId") or r.get("recipientAccountId")
    doc["cloud.account.id"] = account
    # step 11: role / federation issuer name overwrites user.name
    if utype in ("AssumedRole", "FederatedUser") and not service and issuer.get("userName"):
        user_name = issuer["userName"]
    related = []

    def add(v):
        if v is not None and v not in related:
            related.append(v)

    # step 13: session name
    if utype in ("AssumedRole", "FederatedUser", "IdentityCenterUser") and arn \
            and ":sts:" in arn and "/" in arn:
        session = arn.rsplit("/", 1)[1]
        add(session)
        if "@" in session:
            add(session.split("@", 1)[0])
    # §2.6 UserAuthentication
    if r.get("eventName") == "UserAuthentication" and user_name is None:
        user_name = (r.get("additionalEventData") or {}).get("UserName")
    rp = r.get("requestParameters") if isinstance(r.get("requestParameters"), dict) else {}
    re_ = r.get("responseElements") if isinstance(r.get("responseElements"), dict) else {}
    # §2.11 / §2.14 related.user order
    add(rp.get("userName"))
    add(rp.get("newUserName"))
    add((re_.get("user") or {}).get("userId") if isinstance(re_.get("user"), dict) else None)
    add(user_id)
    add(user_name)
    add(rp.get("newUserName"))
    add(((ui.get("onBehalfOf") or {}).get("userId")))
    doc["user.name"] = user_name
    doc["user.id"] = user_id
    doc["related.user"] = doc_values(related)
    # §2.6
    doc["event.provider"] = r.get("eventSource")
    doc["event.action"] = r.get("eventName")
    # §2.6 / §2.7
    doc["cloud.region"] = r.get("awsRegion")
    doc["source.address"] = r.get("sourceIPAddress")
    addr = r.get("sourceIPAddress")
    ip = None
    if addr is not None:
        try:
            ip = str(ipaddress.ip_address(addr))
        except ValueError:
            ip = None
    doc["source.ip"] = ip
    doc["user_agent.original"] = keyword(r.get("userAgent"), 1024)
    # §2.8
    doc["aws.cloudtrail.error_code"] = r.get("errorCode")
    doc["aws.cloudtrail.error_message"] = r.get("errorMessage")
    # §2.9 keyword strings (ignore_above 8191 for request_parameters)
    if r.get("requestParameters") is not None:
        v = r["requestParameters"]
        s = java_string(raw["requestParameters"], v) if isinstance(v, (dict, list)) else str(v)
        doc["aws.cloudtrail.request_parameters"] = keyword(s, 8191)
    else:
        doc["aws.cloudtrail.request_parameters"] = None
    # §2.11 categorisation
    doc["event.kind"] = "event"
    failed = r.get("errorCode") is not None or r.get("errorMessage") is not None
    outcome = "failure" if failed else "success"
    if r.get("eventName") == "ConsoleLogin" and re_.get("ConsoleLogin") is not None:
        outcome = str(re_["ConsoleLogin"]).lower()
    doc["event.outcome"] = outcome
    cat, typ = CATEGORIES.get(r.get("eventName"), (None, ["info"]))
    doc["event.category"] = doc_values(cat or [])
    doc["event.type"] = doc_values(typ)
    # §8 constant_keyword fields of the data stream
    doc["event.dataset"] = "aws.cloudtrail"
    doc["event.module"] = "aws"
    return doc


def load(root):
    docs = []
    pattern = os.path.join(root, "**", "*.json.gz")
    for path in sorted(glob.glob(pattern, recursive=True)):
        with gzip.open(path) as f:
            for rec in json.load(f)["Records"]:
                docs.append(ingest(rec))
    return docs


# ---- ES|QL semantics, by hand --------------------------------------------------------

def iso(ms):
    t = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def utc(ms):
    return dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc).replace(microsecond=(ms % 1000) * 1000)


def date_ms(s):
    """An ES date string (implicitly cast in comparisons) -> epoch millis."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d", s):
        s += "T00:00:00Z"
    return parse_time(s)


def mv(v):
    return v if isinstance(v, list) else ([] if v is None else [v])


def single(v):
    """Value of a single-value function argument, or raise for a multi-value."""
    if isinstance(v, list):
        raise MultiValue()
    return v


class MultiValue(Exception):
    pass


def eq(a, b):
    if a is None or b is None:
        return None
    return single(a) == single(b)


def truthy(v):
    return v is True


class Rev:
    """Reverses the order of a key (descending sort)."""

    def __init__(self, k):
        self.k = k

    def __lt__(self, o):
        return o.k < self.k

    def __eq__(self, o):
        return self.k == o.k


def sort_rows(rows, keys):
    """ES|QL SORT: keys are (function(row), descending, nulls_first or None for default).
    Multi-valued keys sort by their lowest value ascending, highest descending; nulls are
    last ascending and first descending unless told."""
    def key(row):
        out = []
        for f, desc, nulls_first in keys:
            v = f(row)
            if isinstance(v, list):
                v = max(v) if desc else min(v)
            nf = desc if nulls_first is None else nulls_first
            if v is None:
                out.append((0 if nf else 2, 0))
            else:
                out.append((1, Rev(v) if desc else v))
        return out
    return sorted(rows, key=key)


def group(rows, *keys):
    """STATS ... BY keys: {key tuple: [rows]} in first-seen order (a multi-valued key
    would put the row in each value's group; none of the cases group by one)."""
    out = {}
    for r in rows:
        k = tuple(single(f(r)) for f in keys)
        out.setdefault(k, []).append(r)
    return out


def ts(d):
    return d["@timestamp"]


def f(name):
    return lambda d: d.get(name)


def date_format(pattern, ms):
    """Java DateTimeFormatter patterns used by the cases (UTC, Locale.ROOT)."""
    t = utc(ms)
    out = []
    for run in re.findall(r"(([A-Za-z])\2*)|([^A-Za-z]+)", pattern):
        letters, _, lit = run
        if lit:
            out.append(lit)
            continue
        c, n = letters[0], len(letters)
        if c == "y":
            v = t.year
        elif c == "Y":  # week-based year (ISO weeks; as the calendar year away from New Year)
            v = t.isocalendar()[0]
        elif c == "M":
            v = t.month
        elif c == "d":
            v = t.day
        elif c == "H":
            v = t.hour
        elif c == "m":
            v = t.minute
        elif c == "s":
            v = t.second
        else:
            raise ValueError(f"pattern letter {c} not implemented")
        out.append(f"{v:0{n}d}")
    return "".join(out)


def plus_months(ms, n):
    t = utc(ms)
    y, m = divmod(t.month - 1 + n, 12)
    y += t.year
    m += 1
    day = min(t.day, calendar.monthrange(y, m)[1])
    return int(t.replace(year=y, month=m, day=day).timestamp() * 1000)


def like(value, pattern):
    # ES|QL LIKE: `*` any string, `?` one character, whole-string match
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S) is not None


def table(columns, rows):
    return {"columns": columns, "rows": [list(r) for r in rows], "warnings": []}


def column_of(query, text):
    i = query.find(text)
    if i < 0:
        raise SystemExit(f"the query does not contain {text!r}: {query}")
    return i + 1


# ---- the cases (one per sample_case! in cli.rs) ----------------------------------------

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def cloudtrail_failures_keep(docs, q):
    rows = [d for d in docs if d["event.provider"] == "cloudtrail.amazonaws.com"
            and d["event.outcome"] == "failure"]
    rows = sort_rows(rows, [(ts, False, None)])
    return table(["@timestamp:date", "event.action:keyword", "aws.cloudtrail.error_code:keyword",
                  "user.name:keyword"],
                 [[iso(ts(d)), d["event.action"], d["aws.cloudtrail.error_code"], d["user.name"]]
                  for d in rows])


@case
def in_list_stats_two_keys(docs, q):
    rows = [d for d in docs if d["event.action"] in ("StopLogging", "DeleteTrail")]
    g = group(rows, f("event.action"), f("event.outcome"))
    out = sort_rows([[len(v), *k] for k, v in g.items()],
                    [(lambda r: r[1], False, None), (lambda r: r[2], False, None)])
    return table(["n:long", "event.action:keyword", "event.outcome:keyword"], out)


@case
def not_in_sort_limit(docs, q):
    rows = [d for d in docs if d["event.action"] not in ("StopLogging",)
            and d["event.provider"] == "cloudtrail.amazonaws.com"]
    g = group(rows, f("event.action"))
    out = sort_rows([[len(v), *k] for k, v in g.items()],
                    [(lambda r: r[0], True, None), (lambda r: r[1], False, None)])
    return table(["n:long", "event.action:keyword"], out[:4])


@case
def like_suffix(docs, q):
    rows = [d for d in docs if d["user.name"] is not None and like(d["user.name"], "*kumar")]
    g = group(rows, f("user.name"), f("cloud.account.id"))
    return table(["n:long", "user.name:keyword", "cloud.account.id:keyword"],
                 [[len(v), *k] for k, v in g.items()])


@case
def rlike_and_ip_equality_count_distinct(docs, q):
    rows = [d for d in docs if d["user.name"] is not None
            and re.fullmatch("svc-.*", d["user.name"], re.S)
            and d["source.ip"] is not None
            and ipaddress.ip_address(d["source.ip"]) == ipaddress.ip_address("203.0.113.77")]
    return table(["n:long", "actions:long"],
                 [[len(rows), len({d["event.action"] for d in rows if d["event.action"] is not None})]])


@case
def console_login_null_user_group(docs, q):
    rows = [d for d in docs if d["event.action"] == "ConsoleLogin"]
    g = group(rows, f("event.outcome"), f("user.name"))
    out = sort_rows([[len(v), *k] for k, v in g.items()],
                    [(lambda r: r[2], False, None), (lambda r: r[1], False, None)])
    return table(["n:long", "event.outcome:keyword", "user.name:keyword"], out)


@case
def timestamp_string_bounds_date_format(docs, q):
    lo, hi = date_ms("2024-07-31T13:00:00Z"), date_ms("2024-07-31T14:00:00Z")
    rows = [d for d in docs if lo <= ts(d) < hi and d["user.name"] == "svc-legacy-backup"]
    out = [[date_format("HH:mm", ts(d)), d["event.action"], d["event.outcome"]] for d in rows]
    out = sort_rows(out, [(lambda r: r[0], False, None), (lambda r: r[1], False, None)])
    return table(["minute:keyword", "event.action:keyword", "event.outcome:keyword"], out)


@case
def date_extract_hour(docs, q):
    rows = [d for d in docs if d["event.action"] == "StopLogging"]
    out = sort_rows([[utc(ts(d)).hour, d["user.name"]] for d in rows], [(lambda r: r[0], False, None)])
    return table(["hour:long", "user.name:keyword"], out)


@case
def stats_by_computed_day(docs, q):
    g = group(docs, lambda d: date_format("yyyy-MM-dd", ts(d)))
    out = sort_rows([[len(v), *k] for k, v in g.items()], [(lambda r: r[1], True, None)])
    return table(["n:long", "day:keyword"], out[:3])


@case
def coalesce_substring_upper(docs, q):
    rows = sort_rows([d for d in docs if d["event.action"] == "DeleteFlowLogs"], [(ts, False, None)])
    out = []
    for d in rows:
        who = d["user.name"] if d["user.name"] is not None else "unknown"
        p = d["event.provider"]
        svc = None if p is None else p[0:3].upper()  # substring is 1-based: (1, 3) = first 3
        out.append([iso(ts(d)), who, svc])
    return table(["@timestamp:date", "who:keyword", "svc:keyword"], out)


@case
def seed_date_pattern_vs_intended(docs, q):
    rows = [d for d in docs if d["event.action"] == "StopLogging"]
    out = [[date_format("YYYY-mm-dd", ts(d)), date_format("yyyy-MM-dd", ts(d)), d["user.name"]]
           for d in rows]
    out = sort_rows(out, [(lambda r: r[1], False, None)])
    return table(["day:keyword", "right:keyword", "user.name:keyword"], out)


@case
def stats_two_constant_keys(docs, q):
    g = group(docs, f("event.kind"), f("event.outcome"))
    out = sort_rows([[len(v), *k] for k, v in g.items()], [(lambda r: r[0], True, None)])
    return table(["n:long", "event.kind:keyword", "event.outcome:keyword"], out)


@case
def multivalue_equality_warns(docs, q):
    # `==` is a single-value function: on a multi-valued event.type it yields null (the
    # row is filtered out) and ES adds a warning at the position of the expression.
    rows, failures = [], 0
    for d in docs:
        try:
            if truthy(eq(d["event.type"], "deletion")):
                rows.append(d)
        except MultiValue:
            failures += 1
    g = group(rows, f("event.action"))
    out = sort_rows([[len(v), *k] for k, v in g.items()], [(lambda r: r[1], False, None)])
    t = table(["n:long", "event.action:keyword"], out)
    if failures:
        expr = 'event.type == "deletion"'
        col = column_of(q, expr)
        t["warnings"] = [
            f"Line 1:{col}: evaluation of [{expr}] failed, treating result as null. "
            "Only first 20 failures recorded.",
            f"Line 1:{col}: java.lang.IllegalArgumentException: single-value function "
            "encountered multi-value",
        ]
    return t


@case
def multivalue_columns_render_as_arrays(docs, q):
    rows = [d for d in docs if d["event.action"] == "StopLogging"]
    out = [[d["related.user"], d["event.type"], d["event.category"]] for d in rows]
    out = sort_rows(out, [(lambda r: r[0], False, None)])
    return table(["related.user:keyword", "event.type:keyword", "event.category:keyword"], out)


@case
def case_classifies(docs, q):
    out = []
    for d in docs:
        if d["event.action"] != "StopLogging":
            continue
        if truthy(eq(d["event.outcome"], "failure")):
            kind = "blocked"
        elif truthy(eq(d["user.name"], "dev.kumar")):
            kind = "maintenance"
        else:
            kind = "tampering"
        out.append([d["user.name"], kind])
    return table(["user.name:keyword", "kind:keyword"], sort_rows(out, [(lambda r: r[0], False, None)]))


@case
def request_parameters_java_map_string(docs, q):
    rows = sort_rows([d for d in docs if d["event.action"] == "DeleteTrail"], [(ts, False, None)])
    return table(["@timestamp:date", "trail:keyword"],
                 [[iso(ts(d)), d["aws.cloudtrail.request_parameters"]] for d in rows])


@case
def stats_without_by_min_max(docs, q):
    t = [ts(d) for d in docs]
    return table(["first_seen:date", "last_seen:date", "events:long"],
                 [[iso(min(t)), iso(max(t)), len(docs)]])


@case
def group_by_user_agent(docs, q):
    rows = [d for d in docs if d["event.action"] == "GetCallerIdentity"]
    g = group(rows, f("user_agent.original"))
    out = sort_rows([[len(v), *k] for k, v in g.items()],
                    [(lambda r: r[0], True, None), (lambda r: r[1], False, None)])
    return table(["n:long", "user_agent.original:keyword"], out[:3])


@case
def root_activity(docs, q):
    rows = [d for d in docs if d["aws.cloudtrail.user_identity.type"] == "Root"]
    g = group(rows, f("event.action"), f("source.ip"))
    out = sort_rows([[len(v), *k] for k, v in g.items()],
                    [(lambda r: r[0], True, None), (lambda r: r[1], False, None)])
    return table(["n:long", "event.action:keyword", "source.ip:ip"], out[:5])


@case
def starts_with_ends_with(docs, q):
    rows = [d for d in docs if d["event.action"] is not None and d["event.action"].startswith("Create")
            and d["event.provider"] is not None and d["event.provider"].endswith("ec2.amazonaws.com")]
    g = group(rows, f("event.action"))
    out = sort_rows([[len(v), *k] for k, v in g.items()], [(lambda r: r[1], False, None)])
    return table(["n:long", "event.action:keyword"], out)


@case
def sort_desc_nulls_first(docs, q):
    rows = [d for d in docs if d["event.action"] == "DeleteFlowLogs"]
    out = sort_rows([[iso(ts(d)), d["user.name"]] for d in rows],
                    [(lambda r: r[1], True, True), (lambda r: r[0], False, None)])
    return table(["@timestamp:date", "user.name:keyword"], out)


@case
def limit_zero(docs, q):
    return table(["@timestamp:date"], [])


@case
def rename_keeps_position(docs, q):
    rows = [d for d in docs if d["event.action"] == "StopLogging"]
    out = sort_rows([[d["event.action"], d["user.name"]] for d in rows], [(lambda r: r[1], False, None)])
    return table(["api:keyword", "actor:keyword"], out)


@case
def keep_drop_wildcards(docs, q):
    dropped = {"event.original", "event.created", "event.ingested", "event.id", "event.category"}
    cols = [c for c in EVENT_FIELDS if c not in dropped] + ["user.name"]
    rows = [d for d in docs if d["event.action"] == "StopLogging"]
    rows = sort_rows(rows, [(f("user.name"), False, None)])[:1]
    return table([c + ":keyword" for c in cols], [[d[c] for c in cols] for d in rows])


@case
def length_and_split(docs, q):
    out = []
    for d in docs:
        if d["event.action"] != "DeleteTrail":
            continue
        n = None if d["user.name"] is None else len(d["user.name"])  # characters
        a = d["aws.cloudtrail.user_identity.arn"]
        parts = None if a is None else a.split("/")
        out.append([n, parts[0] if parts and len(parts) == 1 else parts])
    return table(["n:integer", "parts:keyword"], sort_rows(out, [(lambda r: r[0], False, None)]))


@case
def to_string_ip_to_long_date(docs, q):
    out = [[d["source.ip"], ts(d)] for d in docs
           if d["event.action"] == "StopLogging" and d["event.outcome"] == "success"
           and d["user.name"] == "svc-legacy-backup"]
    return table(["ip:keyword", "t:long"], out)


@case
def date_plus_calendar_and_fixed_spans(docs, q):
    rows = sort_rows([d for d in docs if d["event.action"] == "StopLogging"], [(ts, False, None)])[:2]
    return table(["@timestamp:date", "d:date"],
                 [[iso(ts(d)), iso(plus_months(ts(d), 1) - 2 * 3600 * 1000)] for d in rows])


@case
def aggregate_filter_where(docs, q):
    rows = [d for d in docs if d["event.outcome"] == "failure"]
    g = group(rows, f("cloud.account.id"))
    out = [[sum(1 for d in v if d["aws.cloudtrail.error_code"] == "AccessDenied"), len(v), *k]
           for k, v in g.items()]
    out = sort_rows(out, [(lambda r: r[2], False, None)])
    return table(["n:long", "all:long", "cloud.account.id:keyword"], out)


@case
def null_group_key(docs, q):
    g = group(docs, f("aws.cloudtrail.error_code"))
    out = sort_rows([[len(v), *k] for k, v in g.items()], [(lambda r: r[0], True, None)])
    return table(["n:long", "aws.cloudtrail.error_code:keyword"], out[:2])


@case
def greatest_least(docs, q):
    out = []
    for d in docs:
        if d["event.action"] != "StopLogging":
            continue
        u = d["user.name"]
        g = None if u is None else max(u, "m")
        l = None if u is None else min(len(u), 10)
        out.append([u, g, l])
    return table(["user.name:keyword", "g:keyword", "l:integer"], sort_rows(out, [(lambda r: r[0], False, None)]))


@case
def trim_concat_replace(docs, q):
    out = []
    for d in docs:
        if d["event.action"] != "StopLogging":
            continue
        u = d["user.name"]
        trimmed = None if u is None else ("  " + u + "  ").strip(" ")
        r = None if u is None else re.sub("[aeiou]", "_", u)
        out.append([trimmed, r])
    return table(["trimmed:keyword", "r:keyword"], sort_rows(out, [(lambda r: r[0], False, None)]))


@case
def conversions_and_implicit_casts(docs, q):
    n = sum(1 for d in docs if d["event.action"] == "StopLogging")
    row = [iso(date_ms("2024-07-31")), int("42"), float(3), str(ipaddress.ip_address("10.0.0.1"))]
    return table(["t:date", "i:integer", "d:double", "ip:ip"], [row] * min(n, 1))


# ---- trailhunt's built-in hunts (crates/hunts/builtin/<case>.toml), by hand ----------------
# Each renders its file's query as of --now (default 2024-08-02T00:00:00Z). VALUES has no
# defined order in ES, so multi-valued cells are sorted here and the test sorts
# trailhunt's the same way before comparing.

DAY_MS = 86_400_000


def values(docs, field):
    """VALUES(field): the distinct non-null values, a scalar when there is one."""
    vs = sorted({v for d in docs for v in mv(d.get(field))})
    if not vs:
        return None
    return vs[0] if len(vs) == 1 else vs


def in_window(docs, now_ms, days):
    return [d for d in docs if ts(d) > now_ms - days * DAY_MS]


def per_principal_day(rows):
    """STATS ... BY aws.cloudtrail.user_identity.arn, day (day = yyyy-MM-dd of @timestamp)."""
    return group(rows, f("aws.cloudtrail.user_identity.arn"),
                 lambda d: date_format("yyyy-MM-dd", ts(d)))


def failures(rows):
    return sum(1 for d in rows if d["event.outcome"] == "failure")


def like_or_null(v, pattern):
    return None if v is None else like(v, pattern)


def keep_unless(action, d, actions, pattern, negate=False):
    """`event.action not in (actions) or [not] request_parameters like pattern`, with ES|QL's
    three-valued logic (a null LIKE leaves the row out)."""
    if d["event.action"] not in actions:
        return True
    m = like_or_null(d["aws.cloudtrail.request_parameters"], pattern)
    if m is None:
        return False
    return (not m) if negate else m


LOGGING_PROVIDERS = {"cloudtrail.amazonaws.com", "s3.amazonaws.com", "logs.amazonaws.com",
                     "ec2.amazonaws.com", "route53resolver.amazonaws.com",
                     "guardduty.amazonaws.com", "config.amazonaws.com",
                     "securityhub.amazonaws.com"}
LOGGING_ACTIONS = {"UpdateTrail", "PutEventSelectors", "DeleteEventDataStore",
                   "StopEventDataStoreIngestion", "PutBucketLogging", "DeleteLogGroup",
                   "DeleteDetector", "StopConfigurationRecorder", "DeleteDeliveryChannel",
                   "DisableSecurityHub", "DeleteFlowLogs", "DeleteResolverQueryLogConfig",
                   "StopLogging", "DeleteTrail"}


@case
def logging_disabled_across_services_by_one_principal(docs, q, now_ms):
    rows = [d for d in in_window(docs, now_ms, 30)
            if d["event.provider"] in LOGGING_PROVIDERS and d["event.action"] in LOGGING_ACTIONS
            and keep_unless(d["event.action"], d, {"PutBucketLogging"}, "*LoggingEnabled*",
                            negate=True)]
    out = []
    for (arn, day), g in per_principal_day(rows).items():
        services = {d["event.provider"] for d in g}
        actions = {d["event.action"] for d in g}
        if len(actions) < 2:
            continue
        out.append([day, arn, len(services), len(actions), len(g), failures(g),
                    values(g, "event.provider"), values(g, "event.action"),
                    iso(min(map(ts, g))), iso(max(map(ts, g))), values(g, "cloud.region"),
                    values(g, "source.address"), values(g, "user_agent.original")])
    out = sort_rows(out, [(lambda r: r[2], True, None), (lambda r: r[3], True, None),
                          (lambda r: r[8], False, None)])
    return table(["day:keyword", "aws.cloudtrail.user_identity.arn:keyword",
                  "service_count:long", "action_count:long", "calls:long", "failures:long",
                  "services:keyword", "actions:keyword", "first_seen:date", "last_seen:date",
                  "regions:keyword", "source_addresses:keyword", "user_agents:keyword"], out)


DETECTIVE_PROVIDERS = {"guardduty.amazonaws.com", "securityhub.amazonaws.com",
                       "config.amazonaws.com"}
DETECTIVE_ACTIONS = {
    "DeleteDetector", "UpdateDetector", "DisassociateFromMasterAccount",
    "DisassociateFromAdministratorAccount", "DisassociateMembers", "DeleteMembers",
    "StopMonitoringMembers", "DeletePublishingDestination", "CreateFilter", "UpdateFilter",
    "CreateIPSet", "UpdateIPSet", "DisableSecurityHub", "BatchDisableStandards",
    "DisableImportFindingsForProduct", "UpdateStandardsControl",
    "DisableOrganizationAdminAccount", "StopConfigurationRecorder",
    "DeleteConfigurationRecorder", "DeleteDeliveryChannel", "DeleteConfigRule",
    "DeleteOrganizationConfigRule", "DeleteConformancePack", "DeleteConfigurationAggregator"}


def rollup(g, with_services):
    head = [len(g), failures(g)]
    if with_services:
        head.append(values(g, "event.provider"))
    return head + [values(g, "event.action"), values(g, "aws.cloudtrail.request_parameters"),
                   iso(min(map(ts, g))), iso(max(map(ts, g))), values(g, "cloud.region"),
                   values(g, "source.address"), values(g, "user_agent.original")]


@case
def guardduty_securityhub_config_disabled_or_weakened(docs, q, now_ms):
    rows = [d for d in in_window(docs, now_ms, 30)
            if d["event.provider"] in DETECTIVE_PROVIDERS and d["event.action"] in DETECTIVE_ACTIONS
            and keep_unless(d["event.action"], d, {"UpdateDetector"}, "*enable=false*")
            and keep_unless(d["event.action"], d, {"CreateFilter", "UpdateFilter"},
                            "*action=ARCHIVE*")
            and keep_unless(d["event.action"], d, {"UpdateStandardsControl"},
                            "*controlStatus=DISABLED*")]
    out = [[day, arn, *rollup(g, True)] for (arn, day), g in per_principal_day(rows).items()]
    out = sort_rows(out, [(lambda r: r[7], True, None)])
    return table(["day:keyword", "aws.cloudtrail.user_identity.arn:keyword", "calls:long",
                  "failures:long", "services:keyword", "actions:keyword", "requests:keyword",
                  "first_seen:date", "last_seen:date", "regions:keyword",
                  "source_addresses:keyword", "user_agents:keyword"], out)


@case
def cloudwatch_alarms_or_log_groups_deleted(docs, q, now_ms):
    wanted = {("monitoring.amazonaws.com", a) for a in ("DeleteAlarms", "DisableAlarmActions")}
    wanted |= {("logs.amazonaws.com", a) for a in
               ("DeleteLogGroup", "DeleteLogStream", "DeleteMetricFilter",
                "DeleteSubscriptionFilter", "PutRetentionPolicy")}
    rows = [d for d in in_window(docs, now_ms, 30)
            if (d["event.provider"], d["event.action"]) in wanted]
    out = [[day, arn, *rollup(g, False)] for (arn, day), g in per_principal_day(rows).items()]
    out = sort_rows(out, [(lambda r: r[6], True, None)])
    return table(["day:keyword", "aws.cloudtrail.user_identity.arn:keyword", "calls:long",
                  "failures:long", "actions:keyword", "requests:keyword", "first_seen:date",
                  "last_seen:date", "regions:keyword", "source_addresses:keyword",
                  "user_agents:keyword"], out)


HUNT_CASES = {"logging_disabled_across_services_by_one_principal",
              "guardduty_securityhub_config_disabled_or_weakened",
              "cloudwatch_alarms_or_log_groups_deleted"}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case")
    ap.add_argument("--query", default="")
    ap.add_argument("--input", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "AWSLogs"))
    ap.add_argument("--now", default="2024-08-02T00:00:00Z",
                    help="NOW() of the built-in hunt cases")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return
    if args.case not in CASES:
        raise SystemExit(f"unknown case {args.case!r}; known: {', '.join(CASES)}")
    docs = load(args.input)
    if args.case in HUNT_CASES:
        result = CASES[args.case](docs, args.query, date_ms(args.now))
    else:
        result = CASES[args.case](docs, args.query)
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
