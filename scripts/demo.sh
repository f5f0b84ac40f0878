#!/usr/bin/env bash
# Portcullis with a local demo identity provider (npm oidc-provider, the one the tests use),
# registered as "Demo IdP": sign in, link and unlink with OpenID Connect without any
# outside service. Data goes to ./data-demo.
#
#   Portcullis:  http://127.0.0.1:3000   (admin / demo-admin-password)
#   Demo IdP:    http://127.0.0.1:3900   users alice, bob, carol, ... with any password
#
# The defaults are all a newcomer needs. The environment can change them (server/tests/demo.rs
# runs this very script that way):
#   PORTCULLIS_DEMO_PORT, PORTCULLIS_DEMO_IDP_PORT, PORTCULLIS_DEMO_ICONS_PORT
#                         ports of Portcullis, the identity provider and the icon catalogue
#                         (3000, 3900, 3901)
#   PORTCULLIS_DEMO_ICONS_DIR  the selfh.st snapshot to serve (../shared/fixtures/selfhst;
#                         when it is missing, the logo picker uses the public catalogue)
#   PORTCULLIS_DEMO_SKIP_BUILD=1  run what is built: no setup.sh, no build.sh
#   PORTCULLIS_BIN        the server binary (target/release/portcullis)
#   PORTCULLIS_DATA_DIR   the data directory (./data-demo)
#   LEPTOS_SITE_ROOT      the built site (target/site)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${PORTCULLIS_DEMO_SKIP_BUILD:-}" != 1 ]; then
  "$here/setup.sh"
  "$here/build.sh" >/dev/null
fi
source "$here/env.sh"
cd "$root"

port=${PORTCULLIS_DEMO_PORT:-3000}
idp_port=${PORTCULLIS_DEMO_IDP_PORT:-3900}
icons_port=${PORTCULLIS_DEMO_ICONS_PORT:-3901}
icons_dir=${PORTCULLIS_DEMO_ICONS_DIR:-$root/../shared/fixtures/selfhst}
bin=${PORTCULLIS_BIN:-$root/target/release/portcullis}
public_url=http://127.0.0.1:$port
issuer=http://127.0.0.1:$idp_port
slug=demo
# Portcullis's own settings, so that the server and every command below agree on them.
export PORTCULLIS_LISTEN=127.0.0.1:$port PORTCULLIS_PUBLIC_URL=$public_url
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$root/target/site}
export PORTCULLIS_DATA_DIR=${PORTCULLIS_DATA_DIR:-$root/data-demo}
mkdir -p "$PORTCULLIS_DATA_DIR"

# Everything started here stops with the script (Ctrl-C, kill, or a step failing), and the
# script waits for it: a second signal (Ctrl-C reaches the whole group) must not cut that short.
children=()
stop() {
  trap '' INT TERM
  [ ${#children[@]} -eq 0 ] || kill "${children[@]}" 2>/dev/null || true
  wait
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$("$bin" user list --json)" = "[]" ]; then
  echo demo-admin-password | "$bin" user add --username admin --email admin@example.com --password-stdin --admin
fi
if "$bin" provider list --json | grep -Fq "\"slug\": \"$slug\""; then
  "$bin" provider update --slug "$slug" --issuer-url "$issuer" >/dev/null
else
  echo basic-secret | "$bin" provider add --slug "$slug" --name "Demo IdP" \
    --issuer-url "$issuer" --client-id portcullis-basic --client-secret-stdin \
    --allow-new-users true
fi
"$bin" oidc enable

# The identity provider accepts the redirect URI Portcullis sends for this provider, as
# Portcullis itself computes it (`provider list` shows it): the two cannot disagree.
redirect_uri=$("$bin" provider list --json | node -e '
  let s = "";
  process.stdin.on("data", (d) => (s += d)).on("end", () =>
    console.log(JSON.parse(s).find((p) => p.slug === process.argv[1]).redirect_uri));' "$slug")
OIDC_PORT=$idp_port OIDC_REDIRECT_URIS=$redirect_uri node end2end/oidc/provider.mjs \
  >"$PORTCULLIS_DATA_DIR/demo-idp.log" 2>&1 &
children+=($!)

# Offline, the logo picker can use the selfh.st snapshot beside the project, if it is there;
# otherwise it uses the public catalogue.
if [ -f "$icons_dir/index.json" ]; then
  ICONS_PORT=$icons_port ICONS_DIR=$icons_dir node end2end/icons/serve.mjs >/dev/null &
  children+=($!)
  export PORTCULLIS_ICON_INDEX_URL=http://127.0.0.1:$icons_port/index.json
  export PORTCULLIS_ICON_BASE_URL=http://127.0.0.1:$icons_port
fi

for _ in $(seq 100); do
  curl -sf "$issuer/.well-known/openid-configuration" >/dev/null && break
  kill -0 "${children[0]}" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "$issuer/.well-known/openid-configuration" >/dev/null; then
  echo "The demo identity provider did not start; see $PORTCULLIS_DATA_DIR/demo-idp.log" >&2
  exit 1
fi

cat <<TEXT

  Portcullis demo: $public_url
  - "Sign in with Demo IdP", then log in as alice (any password): a new account is created.
  - Or sign in as admin / demo-admin-password and link Demo IdP under Profile → Linked Accounts.

TEXT
"$bin" &
children+=($!)
wait $!
