#!/usr/bin/env bash
# Benchmark (not a test): trailhunt vs DuckDB on generated CloudTrail at scale.
#   bench/scale.sh [EVENTS ...]     (default 1000000; e.g. 1000000 10000000)
# See bench/scale.py for the steps and environment knobs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailhunt-target}"
exec python3 bench/scale.py "$@"
