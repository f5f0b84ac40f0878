#!/usr/bin/env bash
# Runs every check and test: formatting, lints (server and wasm), the wasm dependency
# check, unit and integration tests on SQLite and PostgreSQL, the release build, and the
# Playwright suite in Debian Chromium. Installs what is missing (scripts/setup.sh) while the
# server side compiles.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
cd "$root"

# Our crates compile through clippy-driver with warnings denied (see the server side below):
# set before setup.sh starts, so that the bundle tool it builds is held to the same rule.
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

# No incremental compilation: its caches speed up the next small change, but building them
# cost the whole run's compile 36 s of CPU and 20 s on its serial tail (our crates alone:
# 208 against 172 s of CPU, 2026-12-07), and CI builds a clean clone once. A cargo command
# run by hand keeps cargo's default; the first test run after one recompiles our crates.
export CARGO_INCREMENTAL=0

started=$SECONDS
step() { printf '\n\033[1m== %s\033[0m (%ds)\n' "$*" $((SECONDS - started)); }

# What setup.sh installs (Debian and npm packages, PostgreSQL, the bundle tool) is needed from
# the tests on, not by the server's compile: on a fresh machine its downloads overlap the
# compile instead of coming before it (3 minutes). Its lines start with [setup].
step "setup (scripts/setup.sh), in the background while the server side compiles"
"$here/setup.sh" &
setup=$!
# A failing step below ends the run: the browser build goes with it; setup is waited for, not
# stopped (an apt-get killed mid-install leaves dpkg to repair), and is quick to run again.
stop_background() {
  for job in "${browser_side:-}" "${server_tests:-}"; do
    if [ -n "$job" ]; then
      pkill -P "$job" || true
      kill "$job" 2>/dev/null || true
    fi
  done
  if [ -n "${setup:-}" ]; then wait "$setup" 2>/dev/null || true; fi
}
trap stop_background EXIT

step "cargo fmt --check"
cargo fmt --all --check

step "server side: compiled once, linted by clippy as it compiles (-D warnings, all targets)"
# clippy-driver is rustc with Clippy's lints: compiling our crates through it lints them in the
# build the tests need anyway. A separate `cargo clippy` would check the whole dependency tree
# a second time (4 minutes on 2 cores). Exported: the later cargo run that lists the test
# executables reuses these artifacts only with the same wrapper. (The crates have no doc
# tests, `doctest = false`: rustdoc took 50 s to find none.)
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
server_crates=(-p portcullis -p app -p server --features portcullis/ssr,app/ssr)
cargo test "${server_crates[@]}" --all-targets --no-run
# The test executables, to run without cargo (which would hold the build directory's lock
# while they run, and keep the browser build below waiting).
mapfile -t test_bins < <(cargo test "${server_crates[@]}" --no-run --message-format=json |
  node -e '
    let out = "";
    process.stdin.on("data", (d) => (out += d)).on("end", () => {
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line);
        if (m.reason === "compiler-artifact" && m.profile.test && m.executable) console.log(m.executable);
      }
    });')
[ ${#test_bins[@]} -gt 0 ] || { echo "no test executables found" >&2; exit 1; }

step "setup (waiting for it)"
wait "$setup" || { setup=; echo "scripts/setup.sh failed (its lines above start with [setup])" >&2; exit 1; }
setup=
step "the tests' PostgreSQL on 127.0.0.1:$test_pg_port (in memory, started by scripts/setup.sh)"
export PORTCULLIS_TEST_POSTGRES_URL=${PORTCULLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:$test_pg_port/postgres}
pg_isready -d "$PORTCULLIS_TEST_POSTGRES_URL"

step "browser side, in the background while the tests run: no server-only crate, the bundle (linted by clippy as it compiles)"
# The bundle's release build ends in a long single-threaded link (LTO, one codegen unit), and
# the tests wait on their identity providers and PostgreSQL much of the time: side by side
# they share the 2 cores. Like the server side, our crates compile through clippy-driver (the
# wrapper exported above): the wasm32 lint pass costs nothing beyond the build that ships
# (clippy-driver is rustc plus lints; dependencies go through plain rustc), where a separate
# `cargo clippy --target wasm32-unknown-unknown` checked the whole tree again (2 minutes). The
# benchmark's wasm example is built beside the bundle so that it is linted too. The server is
# the binary the integration tests run (target/debug/portcullis, built by `cargo test`).
browser_log="$root/target/browser-side.log"
(
  set -e
  "$here/check-wasm-deps.sh"
  PORTCULLIS_PROFILE=none PORTCULLIS_WASM_EXAMPLES=1 "$here/build.sh"
) >"$browser_log" 2>&1 &
browser_side=$!

step "unit and integration tests (SQLite and PostgreSQL), in the background at a lower priority"
# The bundle is what the browser tests wait for: its build gets the CPU first, and the server
# tests, which spend much of their time waiting on their identity providers and PostgreSQL
# (4 at a time used 58 % of the 2 cores alone), take what it leaves. They go on beside the
# browser tests once the bundle is built; the output is kept in a log and shown at the end.
# Each test body has its own 120 s limit; this bounds each executable if one wedges anyway.
# (Page renders that stalled when tests ran side by side were leptos-rs/leptos#4773; the
# route list is now worked out once per process, serve.rs.)
tests_log="$root/target/server-tests.log"
(
  set -e
  # The unit tests first (seconds), then the integration tests.
  mapfile -t ordered < <(printf '%s\n' "${test_bins[@]}" | grep -v /integration-
    printf '%s\n' "${test_bins[@]}" | grep /integration-)
  for bin in "${ordered[@]}"; do
    echo "running ${bin#"$root"/}"
    (cd "$root" && timeout --kill-after=30 20m nice -n 10 "$bin" --test-threads 4)
  done
) >"$tests_log" 2>&1 &
server_tests=$!

step "browser side (waiting for it)"
if wait "$browser_side"; then
  browser_side=
  grep -E '^(warning|error)|Finished' "$browser_log" || true
else
  browser_side=
  cat "$browser_log"
  echo "the browser side failed (log: $browser_log)" >&2
  exit 1
fi

step "end-to-end tests (Playwright, Debian Chromium, JavaScript on and off), beside the server tests"
e2e=0
(cd "$root/end2end" &&
  PORTCULLIS_BIN="$root/target/debug/portcullis" timeout --kill-after=30 25m npx playwright test) || e2e=$?

step "unit and integration tests (waiting for them)"
if wait "$server_tests"; then
  server_tests=
  grep -E '^running |^test result' "$tests_log"
else
  server_tests=
  cat "$tests_log"
  echo "the server tests failed (log: $tests_log)" >&2
  exit 1
fi
[ "$e2e" = 0 ] || { echo "the end-to-end tests failed" >&2; exit 1; }

step "all checks passed"
