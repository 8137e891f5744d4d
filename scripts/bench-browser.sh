#!/usr/bin/env bash
# The browser benchmark: "Export › CSV (this view)" of 100,000 events in Chromium, on the release
# build; writes its figures to BENCHMARKS.md.
#   scripts/bench-browser.sh
#   BENCH_BROWSER_ROWS=20000 scripts/bench-browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh test
cargo leptos build --release
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export BENCH_ROWS="${BENCH_BROWSER_ROWS:-100000}"
export BENCH_DATABASE_URL="sqlite://$work/bench.db"
export BENCH_PORT="${BENCH_PORT:-3108}"
target/release/auditlog --database-url "$BENCH_DATABASE_URL" demo --events "$BENCH_ROWS"
export BENCH_PASSWORD="bench password for the owner"
echo "$BENCH_PASSWORD" | target/release/auditlog --database-url "$BENCH_DATABASE_URL" \
  users add bench-owner --role owner --password-stdin >/dev/null
cd end2end
npx playwright test --config bench.config.ts
