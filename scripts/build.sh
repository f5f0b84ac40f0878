#!/usr/bin/env bash
# Release build: the browser bundle (wasm32 at opt-level z, wasm-bindgen, wasm-opt -Os), the
# stylesheet and public assets, all precompressed (brotli and gzip) into target/site, and the
# server binary. PORTCULLIS_PROFILE=dev builds the server unoptimised; PORTCULLIS_PROFILE=none
# builds no server (the test run uses the binary its integration tests compiled: a build with
# other features would compile much of the dependency tree again). PORTCULLIS_WASM_EXAMPLES=1
# also builds the wasm examples (the benchmark's icon search) with the same profile, so that a
# build through the lint wrapper (scripts/test.sh) lints every browser-side target in it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
profile=${PORTCULLIS_PROFILE:-release}
site=target/site
pkg=$site/pkg
wasm=target/wasm32-unknown-unknown/wasm-release/frontend.wasm

wasm_targets=(--lib)
[ "${PORTCULLIS_WASM_EXAMPLES:-}" != 1 ] || wasm_targets+=(--examples)
cargo build -p frontend "${wasm_targets[@]}" --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$site"
mkdir -p "$pkg"
# Split into a module per `#[lazy]` function (the editors' parts fetched when first used),
# with the modules' loader and split.json (which modules each needs), then bind:
# tools/wasm-bundle, which
# scripts/setup.sh builds (and env.sh's `wasm_bundle` brings up to date).
wasm_bundle "$wasm" "$pkg" portcullis
# The feature flags match what rustc emits for wasm32-unknown-unknown by default.
# -Os rather than -Oz: a larger module raw that compresses smaller (every wasm module 301.8 →
# 300.4 KB brotli on 2026-12-07, the provider editor's page 235.5 → 234.2 KB; as served,
# brotli is what counts). --converge repeats it while it still shrinks the module: 0.75 KB
# brotli less for 15 s more.
# One module per core at a time (35 s in all on one). wasm-opt warns of the name subsection
# wasm-split writes ("unknown name subsection with id 3"), which --strip-debug drops anyway.
printf '%s\0' "$pkg"/*.wasm | xargs -0 -P "$(nproc)" -I{} \
  wasm-opt -Os --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    {} -o {}
# The scripts and the stylesheet as served are minified (npm terser and csso, beside wasm-opt
# in end2end/); the sources keep their comments. Brotli sizes (issue 20): wasm-bindgen's
# glue 7.9 → 6.1 KB, page.js (every signed-in page) 1.5 → 0.7 KB, passkey.js 2.1 → 1.2 KB,
# the stylesheet 3.1 → 2.7 KB. csso only strips and shortens (--no-restructure): no rule
# moves, so the cascade is the source's.
cp -R public/. "$site/"
for js in "$pkg"/*.js; do
  terser "$js" --module --compress --mangle -o "$js.min"
  mv "$js.min" "$js"
done
csso style/main.css --no-restructure -o "$pkg/portcullis.css"
node scripts/precompress.mjs "$pkg" "$site"

[ "$profile" = none ] || cargo build -p server --bin portcullis --profile "$profile"
