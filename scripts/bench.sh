#!/usr/bin/env bash
# Runs the benchmarks (release build) and writes their figures, with the machine, to BENCHMARKS.md.
#   scripts/bench.sh                    # 1,000,000 events
#   BENCH_EVENTS=100000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo bench -p server --bench http
