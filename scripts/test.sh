#!/usr/bin/env bash
# Every test of Audit Logs: formatting, lints (server and wasm), unit and integration tests against
# real SQLite files, and the browser journeys in Chromium. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*" >&2; }

# A test that hangs fails its command after this long instead of holding the run.
bounded() { timeout --foreground "${AUDITLOG_TEST_TIMEOUT:-1800}" "$@"; }

step "toolchain"
scripts/setup.sh test

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (clippy, warnings denied): server side, then the wasm client"
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests on SQLite"
bounded cargo test -p app --features ssr
bounded cargo test -p server

# The same integration suite on PostgreSQL: every test creates a database of its own (prefix
# auditlog_t_) on this server and drops it when done.
pg_url="${AUDITLOG_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_hostport="$(printf '%s' "$pg_url" | sed -E 's#^[a-z]+://([^@/]*@)?([^/:?]+)(:([0-9]+))?.*#\2 \4#')"
pg_host="${pg_hostport% *}"
pg_port="${pg_hostport#* }"
pg_port="${pg_port:-5432}"
if (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; then
  step "unit and integration tests on PostgreSQL ($pg_host:$pg_port)"
  AUDITLOG_TEST_PG_URL="$pg_url" bounded cargo test -p app --features ssr store::
  AUDITLOG_TEST_BACKEND=postgres AUDITLOG_TEST_PG_URL="$pg_url" bounded cargo test -p server
  if command -v psql >/dev/null 2>&1; then
    left="$(psql "$pg_url" -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'auditlog\_t\_%'" 2>/dev/null || echo "?")"
    [ "$left" = "0" ] || { echo "PostgreSQL test databases left behind: $left" >&2; exit 1; }
  fi
elif [ "${AUDITLOG_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "FAILED: PostgreSQL is required here but nothing answers at $pg_host:$pg_port ($pg_url)." >&2
  exit 1
else
  printf '\n\033[1;33m==> PostgreSQL suite SKIPPED: nothing answers at %s:%s.\033[0m\n' "$pg_host" "$pg_port" >&2
  printf '    Start PostgreSQL or set AUDITLOG_TEST_PG_URL to run the same tests on it.\n' >&2
fi

step "browser journeys (Playwright, Chromium)"
scripts/e2e.sh

step "all tests passed"
