#!/usr/bin/env bash
# Builds the site (debug) and runs the Playwright journeys in Chromium against a fresh SQLite file.
set -euo pipefail
# Arguments go to Playwright (e.g. a spec file's name); kept aside, the loop below resets "$@".
args=("$@")
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo leptos build
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export E2E_DATABASE_URL="sqlite://$work/e2e.db"
export E2E_API_KEY="$(target/debug/auditlog --database-url "$E2E_DATABASE_URL" keys create --name e2e --quiet)"
# One user per role (test-only passwords); the journeys sign in as the Owner unless they say.
export E2E_PASSWORD="e2e password for every role"
for user in "e2e-owner owner" "e2e-auditor auditor" "e2e-member member" "e2e-none none"; do
  set -- $user
  echo "$E2E_PASSWORD" | target/debug/auditlog --database-url "$E2E_DATABASE_URL" \
    users add "$1" --role "$2" --actor-id "usr_$1" --password-stdin >/dev/null
done
export E2E_PORT="${E2E_PORT:-3107}"
cd end2end
npx playwright test "${args[@]}"
