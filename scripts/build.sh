#!/usr/bin/env bash
# Release build of server and browser bundle. cargo-leptos precompresses the static assets
# (brotli and gzip, `--precompress`) so the server never compresses them per
# request.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
unset RUSTFLAGS # release builds use cargo-leptos's own flags
cargo leptos build --release --precompress
ls -l target/site/pkg | awk 'NR>1 {printf "  %-28s %8d bytes\n", $9, $5}'
