#!/usr/bin/env bash
# Benchmark (not a test): queries over many fields of raw CloudTrail, trailhunt vs DuckDB.
#   bench/fields.sh [EVENTS]     (default 1000000)
# See bench/fields.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailhunt-target}"
exec python3 bench/fields.py "$@"
