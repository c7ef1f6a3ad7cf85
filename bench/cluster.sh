#!/usr/bin/env bash
# Benchmark (not a test): local vs a 2-executor Ballista cluster on this machine, over one
# store. bench/cluster.sh [EVENTS] (default 10000000); see bench/cluster.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailhunt-target}"
exec python3 bench/cluster.py "$@"
