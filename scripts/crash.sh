#!/usr/bin/env bash
# The full crash-safety run (TRUST_TESTS T1 and T3): the real server is killed with SIGKILL at 20
# random moments while four clients ingest, on SQLite and (when AUDITLOG_TEST_PG_URL is set, as
# scripts/test.sh sets it) on PostgreSQL; every acknowledged event must be stored exactly once and
# the hash chain must verify. The test suite runs the same test with 3 kills.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
kills="${CRASH_KILLS:-20}"
echo "== SQLite, $kills kills"
CRASH_KILLS="$kills" cargo test -p server --test it crash:: -- --nocapture 2>&1 | grep -E "crash run|test result"
if [ -n "${AUDITLOG_TEST_PG_URL:-}" ]; then
  echo "== PostgreSQL, $kills kills"
  CRASH_KILLS="$kills" AUDITLOG_TEST_BACKEND=postgres \
    cargo test -p server --test it crash:: -- --nocapture 2>&1 | grep -E "crash run|test result"
fi
