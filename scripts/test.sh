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

step "server side: compiled once, linted by clippy as it compiles (-D warnings, all targets)"
# clippy-driver is rustc with Clippy's lints: compiling our crates through it lints them in the
# build the tests need anyway. A separate `cargo clippy` would check the whole dependency tree
# a second time (4 minutes on 2 cores). Exported: every later build of our crates (the wasm
# lint below) reuses these artifacts only with the same wrapper.
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
server_crates=(-p portcullis -p app -p server --features portcullis/ssr,app/ssr)
cargo test "${server_crates[@]}" --all-targets --no-run

step "clippy (browser side, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown --all-targets -- -D warnings

step "no server-only crate in the wasm bundle"
"$here/check-wasm-deps.sh"

step "unit and integration tests (SQLite and PostgreSQL)"
# Each test body has its own 120 s limit; this bounds the whole run if one wedges anyway.
# Four at a time: a test spends much of its time waiting on its identity provider (Node) and
# PostgreSQL, so four keep 2 cores busy. (Page renders that stalled when tests ran side by side
# were leptos-rs/leptos#4773; the route list is now worked out once per process, serve.rs.)
timeout --kill-after=30 25m cargo test "${server_crates[@]}" -- --test-threads 4

step "browser bundle (release, wasm-opt)"
# The bundle is built as it ships, by plain rustc (not through the lint wrapper). The server
# is the binary the integration tests ran (target/debug/portcullis, built by `cargo test`).
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS PORTCULLIS_PROFILE=none "$here/build.sh"

step "end-to-end tests (Playwright, Debian Chromium, JavaScript on and off)"
cd "$root/end2end"
PORTCULLIS_BIN="$root/target/debug/portcullis" timeout --kill-after=30 25m npx playwright test

step "all checks passed"
