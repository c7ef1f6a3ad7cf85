#!/usr/bin/env python3
"""Builds the fuzzers' starting corpora from ../shared (never stored in the repository:
Elastic License 2.0 and other terms): ES|QL queries from the csv-spec tests, the hunting
library and the rules; CloudTrail files and single records from the real data and Elastic's
fixtures. Usage: fuzz/seed.py OUT_DIR [SHARED_DIR]"""
import gzip, hashlib, json, os, pathlib, re, sys

out = pathlib.Path(sys.argv[1])
shared = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else pathlib.Path(__file__).resolve().parents[2] / "shared")
MAX = 64 * 1024


def put(target, data: bytes):
    if not data or len(data) > MAX:
        return
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


queries = []
for spec in sorted((shared / "esql-spec").glob("*.csv-spec")):
    # A test is a name line, optional `required_capability:` lines, the query up to a `;`
    # at a line's end, then the expected table.
    for m in re.finditer(r"^[\w-]+(?:\s+//[^\n]*)?\n((?:required_capability:[^\n]*\n)*)(.*?);\s*$",
                         spec.read_text(errors="replace"), re.S | re.M):
        queries.append(m.group(2).strip())
for path in list((shared / "hunts").rglob("*.toml")) + list((shared / "rules").rglob("*.toml")):
    for m in re.finditer(r"query\s*=\s*(?:'''|\"\"\")(.*?)(?:'''|\"\"\")", path.read_text(errors="replace"), re.S):
        queries.append(m.group(1).strip())
for q in queries:
    put("esql_parse", q.encode())
    put("esql_query", b"\x01" + q.encode())
    tail = q.split("|", 1)
    if len(tail) == 2:
        put("esql_query", b"\x00" + tail[1].strip().encode())

files = [p for p in (shared / "data" / "real").rglob("*") if p.is_file() and p.name != "README.md"]
files += [p for p in (shared / "fixtures" / "cloudtrail-integration").glob("*.log")]
for p in files:
    raw = p.read_bytes()
    if p.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except Exception:
            continue
    put("records", b"\x00" + raw)
    put("records", b"\x01" + raw)
    put("java_map", raw)
    try:
        values = [json.loads(raw)]
    except Exception:
        values = []
        for line in raw.splitlines():
            try:
                values.append(json.loads(line))
            except Exception:
                pass
    for v in values:
        records = v.get("Records", [v]) if isinstance(v, dict) else []
        for r in records[:50]:
            if isinstance(r, dict):
                put("prefilter", json.dumps(r).encode())
print({t.name: len(list(t.iterdir())) for t in out.iterdir()})
