#!/usr/bin/env bash
# Installs what building, running and testing Audit Logs needs, and nothing that is already there.
# Used by scripts/run.sh and scripts/test.sh; safe to run any number of times.
#
#   scripts/setup.sh run    # toolchain for building and running (wasm target, cargo-leptos, wasm-bindgen, wasm-opt)
#   scripts/setup.sh test   # the above, plus Chromium and Playwright for the browser tests
#
# Works without internet access beyond the package registries (crates.io, npm, Debian).
set -euo pipefail
mode="${1:-run}"
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; about 15 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

wbv="$(wasm_bindgen_version)"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbv" ]; then
  say "installing wasm-bindgen-cli $wbv (once; a few minutes)"
  # Not --locked: one of its locked dependencies is no longer in the registry.
  cargo install wasm-bindgen-cli --version "$wbv"
fi

if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION) from npm"
  npm install -g "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ "$mode" = "test" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Chromium from Debian's packages"
    as_root=""
    [ "$(id -u)" -ne 0 ] && as_root="sudo"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
  fi
  if ! command -v sqlite3 >/dev/null 2>&1; then
    # The integrity journey changes a stored event by hand, as someone with the file would.
    say "installing the sqlite3 command from Debian's packages"
    as_root=""
    [ "$(id -u)" -ne 0 ] && as_root="sudo"
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq sqlite3 >/dev/null
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing Playwright (npm ci in end2end/)"
    (cd end2end && npm ci --no-audit --no-fund >/dev/null)
  fi
fi
say "toolchain ready"
