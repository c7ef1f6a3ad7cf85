#!/usr/bin/env bash
# Benchmark (not a test): what parsing user agents (--ua-regexes) costs ingest and raw scans.
#
#   bench/useragent.sh [RUNS]        (default 5)
#
# Runs each pair interleaved, without rules ("off", the behaviour before user-agent parsing)
# and with ../shared/uap/regexes.yaml ("on"), RUNS times, and prints the median and minimum
# CPU time (user + sys, what other jobs on a shared machine disturb least) and wall time:
#   ingest        the SANS 504 set (30,477 records, 3,872 .json.gz) into a fresh store
#   ingestreal    all of ../shared/data/real (~34,500 records, 613 distinct user agents)
#   uaname*       STATS … BY user_agent.name over the raw files (full pipeline either way)
#   full          STATS … BY user.name (full pipeline; reads no user_agent.* column)
#   fast          STATS … BY event.action (the fast path)
#   seed          the seed hunt over sample/
#   samplekeep    KEEP user_agent.* over sample/ (fixed costs: loading and compiling rules)
# TRAILHUNT_BIN=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailhunt-target}"
RUNS="${1:-5}"
R=../shared/uap/regexes.yaml
SANS=../shared/data/real/sans504-s3-ransomware-lab
REAL=../shared/data/real
[ -f "$R" ] && [ -d "$SANS" ] || { echo "needs ../shared (uap/regexes.yaml, data/real)" >&2; exit 1; }
if [ -z "${TRAILHUNT_BIN:-}" ]; then
  cargo build -q -p trailhunt --release
  TRAILHUNT_BIN="$CARGO_TARGET_DIR/release/trailhunt"
fi
B=$TRAILHUNT_BIN
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# Never an installed copy of the rules, nor the user's GeoIP databases.
export TRAILHUNT_HOME="$W/home"
unset TRAILHUNT_UA_REGEXES TRAILHUNT_GEOIP TRAILHUNT_ASN

t() {
  /usr/bin/time -f "%U %S %e" -o "$W/tm" "$@" >/dev/null 2>"$W/err" || { echo "FAILED: $*" >&2; cat "$W/err" >&2; exit 1; }
  awk '{printf "%.3f %.3f", $1+$2, $3}' "$W/tm"
}
run() { local name=$1; shift; echo "$name $(t "$@")" >> "$W/raw.txt"; }
q() { echo "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY $1"; }
: > "$W/raw.txt"
for _ in $(seq "$RUNS"); do
  for mode in off on; do
    ua=(); [ $mode = on ] && ua=(--ua-regexes "$R")
    rm -rf "$W/store"
    run ingest-$mode "$B" ingest --store "$W/store" --quiet "${ua[@]}" "$SANS"
    rm -rf "$W/store"
    run ingestreal-$mode "$B" ingest --store "$W/store" --quiet "${ua[@]}" "$REAL"
    run uaname-$mode "$B" query -q -i "$SANS" -f csv "${ua[@]}" "$(q user_agent.name)"
    run uanamereal-$mode "$B" query -q -i "$REAL" -f csv "${ua[@]}" "$(q user_agent.name)"
    run full-$mode "$B" query -q -i "$SANS" -f csv "${ua[@]}" "$(q user.name)"
    run fast-$mode "$B" query -q -i "$SANS" -f csv "${ua[@]}" "$(q event.action)"
    run seed-$mode "$B" hunt -q -i sample -f json --now latest "${ua[@]}" multiple_service_logging_deleted_or_stopped
    run samplekeep-$mode "$B" query -q -i sample -f csv "${ua[@]}" 'FROM logs-aws.cloudtrail* | KEEP @timestamp, user_agent.* | SORT @timestamp | LIMIT 1'
  done
done
python3 - "$W/raw.txt" <<'PY'
import collections, statistics, sys
cpu, wall = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, c, w = line.split()
    cpu[k].append(float(c)); wall[k].append(float(w))
names = sorted({k.rsplit('-', 1)[0] for k in cpu}, key=lambda n: list(cpu).index(n + '-off'))
print(f"{'':12s} {'cpu off':>8s} {'cpu on':>8s} {'Δ':>7s} | {'wall off':>8s} {'wall on':>8s} {'Δ':>7s}   (medians; min in brackets)")
for n in names:
    a, b = cpu[n + '-off'], cpu[n + '-on']
    c, d = wall[n + '-off'], wall[n + '-on']
    ma, mb, mc, md = map(statistics.median, (a, b, c, d))
    print(f"{n:12s} {ma:8.3f} {mb:8.3f} {100*(mb/ma-1):+6.1f}% | {mc:8.3f} {md:8.3f} {100*(md/mc-1):+6.1f}%   [cpu {min(a):.3f} / {min(b):.3f}]")
PY
