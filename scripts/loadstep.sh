#!/usr/bin/env bash
# TRUST_TESTS T17: a load step test of ingest on this machine, then a soak.
#
# The server (release build, fresh SQLite file) runs on core 0 and oha on core 1. oha posts
# batches of 100 events at a fixed request rate with latency correction, STEP_SECONDS (60) per
# step, for each rate in LOAD_RATES (requests/s; events/s is 100 times that) until a step misses
# p99 < 100 ms or gets anything but 201. Then SOAK_SECONDS (600) at 70 % of the last rate that
# passed (the knee), sampling the server's resident memory every 10 s. At the end the events
# stored must equal the events acknowledged.
#
#   scripts/loadstep.sh                      # installs oha if missing (cargo install oha)
#   LOAD_RATES="10 20 40" STEP_SECONDS=10 SOAK_SECONDS=60 scripts/loadstep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rates="${LOAD_RATES:-5 10 20 40 80 120 160 240 320}"
step_seconds="${STEP_SECONDS:-60}"
soak_seconds="${SOAK_SECONDS:-600}"

command -v oha >/dev/null || cargo install oha --locked
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed (scripts/setup.sh installs it)" >&2; exit 1; }
bin="${AUDITLOG_BIN:-target/release/auditlog}"
[ -x "$bin" ] || cargo build --release -p server --bin auditlog

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export AUDITLOG_DATABASE_URL="sqlite://$work/auditlog.db"
export AUDITLOG_SIGNING_KEY="$work/signing.key"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
key="$("$bin" keys create --name loadstep --scopes ingest --quiet)"
taskset -c 0 "$bin" serve --addr "127.0.0.1:$port" --exports-dir "$work/exports" --ingest-rate 0 \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break
  sleep 0.2
done
python3 - "$work/body.json" <<'PY'
import json, sys
events = [{"event": "Load Step", "category": "Load", "action": "sent", "outcome": "success",
           "actor": {"id": f"usr_{i % 37}", "name": f"Load User {i % 37}", "type": "user"},
           "target": {"type": "project", "id": f"prj_{i}", "name": f"Project {i}"},
           "ip": f"10.0.{i % 250}.{i % 200}", "source": "loadstep",
           "description": f"load step event {i}", "metadata": {"step": True, "n": i}}
          for i in range(100)]
json.dump(events, open(sys.argv[1], "w"))
PY

rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
acked=0
# run RATE SECONDS NAME: one oha run; prints "p50 p99 rps ok other" (latencies in ms).
run() {
  taskset -c 1 oha -q "$1" --latency-correction -z "${2}s" -w -c 32 -m POST -T application/json \
    -H "Authorization: Bearer $key" -D "$work/body.json" --no-tui --output-format json \
    -o "$work/$3.json" "http://127.0.0.1:$port/api/v1/events" >/dev/null
  python3 - "$work/$3.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r.get("latencyPercentiles", {})
codes = r.get("statusCodeDistribution", {})
ok = int(codes.get("201", 0))
other = sum(int(v) for k, v in codes.items() if k != "201") + sum(int(v) for v in r.get("errorDistribution", {}).values())
print(f'{(lat.get("p50") or 0) * 1000:.1f} {(lat.get("p99") or 0) * 1000:.1f} {r["summary"].get("requestsPerSec", 0):.1f} {ok} {other}')
PY
}

echo "| requests/s (events/s) | achieved requests/s | p50 | p99 | 201 | other | server RSS |"
echo "|---|---|---|---|---|---|---|"
knee=0
for rate in $rates; do
  read -r p50 p99 rps ok other < <(run "$rate" "$step_seconds" "step_$rate")
  acked=$((acked + ok * 100))
  echo "| $rate ($((rate * 100))) | $rps | $p50 ms | $p99 ms | $ok | $other | $(( $(rss) / 1024 )) MiB |"
  if python3 -c "import sys; sys.exit(0 if $p99 < 100 and $other == 0 and $rps >= 0.95 * $rate else 1)"; then
    knee=$rate
  else
    break
  fi
done
[ "$knee" -gt 0 ] || { echo "no step met p99 < 100 ms" >&2; exit 1; }
soak=$(( knee * 7 / 10 ))
[ "$soak" -gt 0 ] || soak=1
echo
echo "knee: $knee requests/s ($((knee * 100)) events/s); soak: $soak requests/s for $soak_seconds s"
samples="$work/rss.txt"
( while kill -0 "$server_pid" 2>/dev/null; do rss >>"$samples"; sleep 10; done ) &
sampler=$!
read -r p50 p99 rps ok other < <(run "$soak" "$soak_seconds" soak)
kill "$sampler" 2>/dev/null || true
acked=$((acked + ok * 100))
echo "soak: achieved $rps requests/s, p50 $p50 ms, p99 $p99 ms, $ok × 201, $other other"
python3 - "$samples" <<'PY'
import sys
v = [int(x) for x in open(sys.argv[1]).read().split()]
if len(v) >= 7:
    first = v[6]  # after the first minute
    last = v[-1]
    print(f"soak RSS: {v[0]/1024:.1f} MiB at start, {first/1024:.1f} MiB after 1 min, {max(v)/1024:.1f} MiB at most, {last/1024:.1f} MiB at the end; drift after the first minute {100*(last-first)/first:+.1f} %")
else:
    print("soak RSS: " + ", ".join(f"{x/1024:.1f}" for x in v) + " MiB")
PY
sleep 1
stored="$(sqlite3 "$work/auditlog.db" "SELECT count(*) FROM events WHERE event = 'Load Step'")"
echo "acknowledged events: $acked; stored: $stored"
[ "$stored" = "$acked" ] || { echo "FAIL: stored != acknowledged" >&2; exit 1; }
echo PASS
