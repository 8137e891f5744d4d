#!/usr/bin/env bash
# Schema-driven testing of the HTTP API (RELIABILITY.md, T16): Schemathesis reads the API's own
# OpenAPI document (GET /api/v1/openapi.json) and sends generated requests, valid and invalid, to
# every operation with an API key of scopes ingest,read, running every check it has (no 5xx,
# status codes, content types, headers and bodies as documented, invalid data refused with a 4xx,
# valid data accepted, authentication not ignored, ...).
#
# Builds the server (debug), starts it on a fresh SQLite database in a temporary folder and a free
# loopback port, runs `st run`, stops the server and exits with Schemathesis' status. Installs
# Schemathesis (from PyPI, into target/schemathesis-venv) when it is missing.
#
#   scripts/schemathesis.sh                 # ~200 examples per operation
#   ST_MAX_EXAMPLES=50 scripts/schemathesis.sh
#   scripts/schemathesis.sh --seed 1        # extra arguments go to `st run`
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/schemathesis-venv"
version="${ST_VERSION:-4.32.5}"
examples="${ST_MAX_EXAMPLES:-200}"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*" >&2; }

if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  step "installing schemathesis $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

step "building the server"
cargo build -p server
bin="$target/debug/auditlog"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AUDITLOG_DATABASE_URL="sqlite://$work/auditlog.db"
export AUDITLOG_SIGNING_KEY="$work/signing.key"

step "API key (scopes ingest,read)"
key="$("$bin" keys create --name schemathesis --scopes ingest,read --quiet)"

step "starting the server on 127.0.0.1:$port"
# Exports may span any range here, so that a valid `start` alone never makes a valid request a 400
# (the default 90-day window is a setting, not a rule of the document); the ingest rate is high
# enough that generated batches are never limited.
"$bin" serve --addr "127.0.0.1:$port" --exports-dir "$work/exports" \
  --export-max-days 4000000 --ingest-rate 1000000 --ingest-burst 10000000 \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.2
done

step "st run: every check, $examples examples per operation"
reports="${ST_REPORT_DIR:-$target/schemathesis-report}"
rm -rf "$reports"
export ST_CACHE_DIR="$target/schemathesis-cache"
status=0
"$venv/bin/st" --config-file scripts/schemathesis.toml run \
  "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --max-examples "$examples" \
  --report junit,har --report-dir "$reports" \
  --generation-database "$target/schemathesis-examples" \
  "$@" || status=$?

step "requests sent, by operation and status (from $reports)"
"$venv/bin/python" scripts/schemathesis_summary.py "$reports" "$port" || true

if grep -q "panicked" "$work/server.log"; then
  step "the server panicked:"
  grep -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"
