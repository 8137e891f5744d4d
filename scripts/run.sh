#!/usr/bin/env bash
# Builds Audit Logs (release) and runs it on the embedded SQLite store. On first start it writes
# 50,000 demo events and an API key so the page is alive and the API can be tried at once.
#
#   scripts/run.sh                 # http://127.0.0.1:3000/settings/audit-logs
#   AUDITLOG_ADDR=127.0.0.1:8080 scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh run
cargo leptos build --release

export AUDITLOG_DATABASE_URL="${AUDITLOG_DATABASE_URL:-sqlite://data/auditlog.db}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
bin=target/release/auditlog

if [ -z "$($bin keys list | grep -v '^No API keys')" ]; then
  $bin demo --events 50000 --if-empty
  $bin keys create --name "demo"
fi
exec $bin serve
