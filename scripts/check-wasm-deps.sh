#!/usr/bin/env bash
# Fails if a server-only crate is compiled into the browser bundle.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
forbidden='^(sqlx|sqlx-core|sqlx-sqlite|sqlx-postgres|libsqlite3-sys|tokio|argon2|openidconnect|oauth2|reqwest|tower-sessions|tower-sessions-sqlx-store|axum|leptos_axum|hyper|chacha20poly1305|governor|rustls|ring) '
tree=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --no-dedupe | sort -u)
if found=$(grep -E "$forbidden" <<<"$tree"); then
  echo "server-only crates in the wasm dependency tree:"; echo "$found"; exit 1
fi
echo "wasm bundle dependency tree: $(wc -l <<<"$tree") crates, none server-only"
