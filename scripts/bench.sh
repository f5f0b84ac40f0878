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
wasm_bundle --no-split \
  target/wasm32-unknown-unknown/wasm-release/examples/icon_search_bench.wasm target/bench/icon-search icon_search_bench

# #10: the container image as it ships (scripts/image.sh: the static musl server in the
# size-optimised `image` profile, and the site just built), measured with podman.
PORTCULLIS_IMAGE_SITE=reuse "$here/image.sh"

# The icon host serves the full selfh.st snapshot when it is beside the project (the budgets
# are for the real catalogue), else the repository's sample (end2end/icons/serve.mjs).
if [ -f "$root/../shared/fixtures/selfhst/index.json" ]; then
  export ICONS_DIR="$root/../shared/fixtures/selfhst"
fi
# PostgreSQL is running: setup.sh starts it. The suite stops every helper it starts (Node
# providers, the icon host, servers), also when it fails; should it die before it can (killed,
# Ctrl-C), the trap stops its whole process group: job control gives the job a group of its own.
set -m
cargo bench -p server --bench suite -- "$@" &
suite=$!
trap 'kill -- -"$suite" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
wait "$suite"
