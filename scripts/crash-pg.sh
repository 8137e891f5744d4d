#!/usr/bin/env bash
# TRUST_TESTS T3 in full: the crash run (server/tests/it/crash.rs) against a private PostgreSQL
# cluster that is itself crashed at every kill, with `pg_ctl stop -m immediate` (no checkpoint,
# no flush: what a power cut does to the database server), then started again with the server.
# The machine's shared PostgreSQL is not touched: the cluster lives in a temporary directory, on
# its own port, owned by the `postgres` system user, and is removed at the end.
#   scripts/crash-pg.sh               # 20 kills
#   CRASH_KILLS=5 scripts/crash-pg.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
kills="${CRASH_KILLS:-20}"
port="${CRASH_PG_PORT:-5439}"
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
data="$(mktemp -d /tmp/auditlog-crash-pg.XXXXXX)"
chown postgres "$data"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
cleanup() { as_pg "$bin/pg_ctl -D $data/db -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
as_pg "$bin/initdb -D $data/db -U postgres --auth=trust" >/dev/null
cat > "$data/start.sh" <<SH
$bin/pg_ctl -D $data/db -o "-p $port -k $data -c synchronous_commit=on -c fsync=on" -l $data/log -w start >/dev/null
SH
cat > "$data/crash.sh" <<SH
$bin/pg_ctl -D $data/db -m immediate stop >/dev/null && sh $data/start.sh
SH
as_pg "sh $data/start.sh"
crash="sh $data/crash.sh"
[ "$(id -u)" = 0 ] && crash="su postgres -c 'sh $data/crash.sh'"
echo "== PostgreSQL (private cluster on port $port), $kills kills, each with pg_ctl stop -m immediate"
CRASH_KILLS="$kills" AUDITLOG_TEST_BACKEND=postgres \
  AUDITLOG_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres" CRASH_DB_CRASH="$crash" \
  cargo test -p server --test it crash:: -- --nocapture 2>&1 | grep -E "crash run|test result|panicked|FAILED"
