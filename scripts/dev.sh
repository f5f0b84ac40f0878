#!/usr/bin/env bash
# Edit-reload loop: builds the browser bundle and the server (unoptimised, no wasm-opt, no
# precompression: seconds, not minutes), serves http://127.0.0.1:3000 with ./data, and after
# every saved change rebuilds and restarts the server. A failed build leaves the last good
# server running. Reload the page yourself. Extra arguments go to `portcullis`.
#
# Watches with inotifywait (Debian `inotify-tools`) when it is installed, else polls once a
# second. Run scripts/setup.sh once before (tools).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
site=target/site-dev
watched=(Cargo.toml Cargo.lock .cargo src app frontend server/src server/Cargo.toml migrations style public)

# Everything into $site.new first: the running server keeps its assets until the swap.
build() {
  cargo build -p frontend --lib --target wasm32-unknown-unknown &&
    rm -rf "$site.new" && mkdir -p "$site.new/pkg" &&
    wasm_bundle --debug target/wasm32-unknown-unknown/debug/frontend.wasm \
      "$site.new/pkg" portcullis &&
    cp style/main.css "$site.new/pkg/portcullis.css" &&
    cp -R public/. "$site.new/" &&
    cargo build -p server --bin portcullis
}

server=
stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap 'exit 130' INT
trap 'exit 143' TERM

start() {
  LEPTOS_SITE_ROOT="$root/$site" "$root/target/debug/portcullis" "$@" &
  server=$!
}

stamp=$(mktemp)
trap 'stop; rm -f "$stamp"' EXIT
wait_for_change() {
  if command -v inotifywait >/dev/null; then
    inotifywait -qq -r -e close_write,create,delete,move "${watched[@]}" || true
    sleep 0.3 # editors write several files at once
  else
    while [ -z "$(find "${watched[@]}" -newer "$stamp" -print -quit 2>/dev/null)" ]; do sleep 1; done
  fi
}

while true; do
  touch "$stamp"
  printf '\033[1m[dev]\033[0m building\n'
  started=$SECONDS
  if build; then
    stop
    rm -rf "$site" && mv "$site.new" "$site"
    start "$@"
    printf '\033[1m[dev]\033[0m built in %ds; server (re)started (Ctrl-C stops)\n' $((SECONDS - started))
  else
    printf '\033[1m[dev]\033[0m build failed; %s\n' "${server:+the last good server keeps running}"
  fi
  wait_for_change
done
