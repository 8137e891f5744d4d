#!/usr/bin/env bash
# Every test of Audit Logs: formatting, lints (server and wasm), unit and integration tests against
# real SQLite files, and the browser journeys in Chromium. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*" >&2; }

step "toolchain"
scripts/setup.sh test

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (clippy, warnings denied): server side, then the wasm client"
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests"
cargo test -p app --features ssr
cargo test -p server

step "browser journeys (Playwright, Chromium)"
scripts/e2e.sh

step "all tests passed"
