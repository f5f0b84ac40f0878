#!/usr/bin/env bash
# Runs every check and test: formatting, lints (server and wasm), the wasm dependency
# check, unit and integration tests on SQLite and PostgreSQL, the release build, and the
# Playwright suite in Debian Chromium. Installs what is missing first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
source "$here/env.sh"
cd "$root"

started=$SECONDS
step() { printf '\n\033[1m== %s\033[0m (%ds)\n' "$*" $((SECONDS - started)); }

step "PostgreSQL on 127.0.0.1:5432 (installed and started by scripts/setup.sh)"
pg_isready -h 127.0.0.1 -p 5432

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (server side, all targets)"
cargo clippy -p portcullis -p app -p server --all-targets --features portcullis/ssr,app/ssr -- -D warnings
step "clippy (browser side, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown --all-targets -- -D warnings

step "no server-only crate in the wasm bundle"
"$here/check-wasm-deps.sh"

step "unit and integration tests (SQLite and PostgreSQL)"
# Each test body has its own 120 s limit; this bounds the whole run if one wedges anyway.
# One test at a time: run side by side on 2 cores, a page render has been seen to stall past
# the client's 30 s limit now and then (under investigation, see the session note), and
# one at a time it has not.
timeout --kill-after=30 25m \
  cargo test -p portcullis -p app -p server --features portcullis/ssr,app/ssr -- --test-threads 1

step "browser bundle (release, wasm-opt) and the server the tests built"
# The bundle is built as it ships; the server is the unoptimised binary the integration tests
# compiled already (the optimised one is the same code: scripts/build.sh, scripts/bench.sh).
PORTCULLIS_PROFILE=dev "$here/build.sh"

step "end-to-end tests (Playwright, Debian Chromium, JavaScript on and off)"
cd "$root/end2end"
PORTCULLIS_BIN="$root/target/debug/portcullis" timeout --kill-after=30 25m npx playwright test

step "all checks passed"
