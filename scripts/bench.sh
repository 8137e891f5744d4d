#!/usr/bin/env bash
# Runs the benchmarks (release build) and writes their figures, with the machine, to BENCHMARKS.md:
# once on SQLite, and once on PostgreSQL when a server answers (AUDITLOG_TEST_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres; the benchmark uses a fresh database and drops it).
#   scripts/bench.sh                       # 1,000,000 events
#   BENCH_EVENTS=100000 scripts/bench.sh
#   BENCH_EVENTS=10000000 cargo bench -p server --bench queries   # the 10M-event query figures
#   BENCH_SECONDS=60 cargo bench -p server --bench stream           # longer live tail runs
#   scripts/bench-browser.sh                                        # the browser CSV, in Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo bench -p server --bench http
cargo bench -p server --bench queries
cargo bench -p server --bench stream
cargo bench -p server --bench export
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null || [ -n "${AUDITLOG_TEST_PG_URL:-}" ]; then
  BENCH_STORE=postgres cargo bench -p server --bench http
  BENCH_STORE=postgres cargo bench -p server --bench queries
  BENCH_STORE=postgres cargo bench -p server --bench stream
  BENCH_STORE=postgres cargo bench -p server --bench export
else
  echo "PostgreSQL benchmark skipped: no server at 127.0.0.1:5432 (set AUDITLOG_TEST_PG_URL)." >&2
fi
scripts/bench-browser.sh
