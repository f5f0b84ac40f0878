#!/usr/bin/env bash
# The performance budgets (issue 6), measured on this machine: builds the release, then runs
# server/benches/suite.rs, which prints one table with each figure, its budget and pass/fail.
# `--record` also writes the table into docs/benchmarks.md. Not part of scripts/test.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
cd "$root"

# #8 runs the picker's search as wasm in Chromium: the same code and size profile as the
# bundle, exported for timing (frontend/examples/icon_search_bench.rs).
cargo build -p frontend --example icon_search_bench --target wasm32-unknown-unknown --profile wasm-release
rm -rf target/bench/icon-search
wasm-bindgen --target web --no-typescript --out-dir target/bench/icon-search \
  target/wasm32-unknown-unknown/wasm-release/examples/icon_search_bench.wasm

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
cargo bench -p server --bench suite -- "$@"
