#!/usr/bin/env bash
# Benchmark (not a test): ingest throughput and hunt latency over the embedded store vs the
# raw files, on the SANS 504 S3 ransomware lab (30,477 CloudTrail records in 3,872 files).
#
#   bench/store.sh [DATA_DIR] [RUNS]
#
# Builds trailhunt in release mode, ingests DATA_DIR into a fresh store, then times the seed
# hunt and two ad-hoc queries RUNS times each over the store and over the raw files, and
# prints the median wall time of each. Needs ../shared beside the repo (or a DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailhunt-target}"
DATA="${1:-../shared/data/real/sans504-s3-ransomware-lab}"
RUNS="${2:-5}"
[ -d "$DATA" ] || { echo "no data at $DATA" >&2; exit 1; }

# TRAILHUNT_BIN=path skips the build (e.g. to time another binary).
if [ -z "${TRAILHUNT_BIN:-}" ]; then
  cargo build --release -q -p trailhunt
fi
BIN="${TRAILHUNT_BIN:-$CARGO_TARGET_DIR/release/trailhunt}"
STORE="$(mktemp -d)/store"
trap 'rm -rf "$(dirname "$STORE")"' EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "data: $DATA ($(find "$DATA" -type f | wc -l) files, $(du -sh "$DATA" | cut -f1))"
t0=$(now_ns)
"$BIN" ingest -q --store "$STORE" "$DATA"
t1=$(now_ns)
events=$("$BIN" query -q --store "$STORE" -f csv 'FROM logs-aws.cloudtrail* | STATS n = COUNT(*)' | tail -1 | tr -d '\r')
ms=$(( (t1 - t0) / 1000000 ))
echo "ingest: $events events in ${ms} ms = $(( events * 1000 / (ms > 0 ? ms : 1) )) events/s; store $(du -sh "$STORE" | cut -f1)"
t0=$(now_ns); "$BIN" ingest -q --store "$STORE" "$DATA"; t1=$(now_ns)
echo "re-ingest (no-op): $(( (t1 - t0) / 1000000 )) ms"

time_runs() { # label, args...
  local label=$1; shift
  local xs=()
  for _ in $(seq "$RUNS"); do
    local a b
    a=$(now_ns); "$BIN" "$@" >/dev/null 2>&1 || true; b=$(now_ns)
    xs+=($(( (b - a) / 1000000 )))
  done
  printf '%-44s median %6s ms  (runs: %s)\n' "$label" "$(printf '%s\n' "${xs[@]}" | median)" "${xs[*]}"
}

SEED=multiple_service_logging_deleted_or_stopped
Q1='FROM logs-aws.cloudtrail* | WHERE @timestamp >= NOW() - 1 day | STATS n = COUNT(*) BY event.action | SORT n DESC | LIMIT 10'
Q2='FROM logs-aws.cloudtrail* | WHERE event.action IN ("PutBucketPolicy", "DeleteObject", "PutObject") | STATS n = COUNT(*) BY source.ip | SORT n DESC | LIMIT 10'
time_runs "seed hunt, store"         hunt -q --store "$STORE" --now latest -f json "$SEED"
time_runs "seed hunt, raw files"     hunt -q -i "$DATA" --now latest -f json "$SEED"
time_runs "last-day top actions, store"     query -q --store "$STORE" --now latest -f json "$Q1"
time_runs "last-day top actions, raw files" query -q -i "$DATA" --now latest -f json "$Q1"
time_runs "S3 actions by source.ip, store"     query -q --store "$STORE" -f json "$Q2"
time_runs "S3 actions by source.ip, raw files" query -q -i "$DATA" -f json "$Q2"
