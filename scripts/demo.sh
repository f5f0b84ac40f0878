#!/usr/bin/env bash
# Portcullis with a local demo identity provider (npm oidc-provider, the one the tests use),
# registered as "Demo IdP": sign in, link and unlink with OpenID Connect without any
# outside service. Data goes to ./data-demo.
#
#   Portcullis:  http://127.0.0.1:3000   (admin / demo-admin-password)
#   Demo IdP:    http://127.0.0.1:3900   users alice, bob, carol, ... with any password
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
"$here/build.sh" >/dev/null
source "$here/env.sh"
cd "$root"
export LEPTOS_SITE_ROOT="$root/target/site" PORTCULLIS_DATA_DIR="${PORTCULLIS_DATA_DIR:-$root/data-demo}"
bin="$root/target/release/portcullis"

OIDC_PORT=3900 OIDC_REDIRECT_URIS=http://127.0.0.1:3000/login node end2end/oidc/provider.mjs 2>/dev/null &
idp=$!
trap 'kill $idp 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:3900/.well-known/openid-configuration >/dev/null && break; sleep 0.2; done

# Offline, the logo picker can use the selfh.st snapshot beside the project, if it is there;
# otherwise it uses the public catalogue.
if [ -f "$root/../shared/fixtures/selfhst/index.json" ]; then
  ICONS_PORT=3901 ICONS_DIR="$root/../shared/fixtures/selfhst" node end2end/icons/serve.mjs >/dev/null &
  icons=$!
  trap 'kill $idp $icons 2>/dev/null' EXIT
  export PORTCULLIS_ICON_INDEX_URL=http://127.0.0.1:3901/index.json PORTCULLIS_ICON_BASE_URL=http://127.0.0.1:3901
fi

if [ "$("$bin" user list --json)" = "[]" ]; then
  echo demo-admin-password | "$bin" user add --username admin --email admin@example.com --password-stdin --admin
fi
if ! "$bin" provider list --json | grep -q '"slug": "demo"'; then
  echo basic-secret | "$bin" provider add --slug demo --name "Demo IdP" \
    --issuer-url http://127.0.0.1:3900 --client-id portcullis-basic --client-secret-stdin \
    --allow-new-users true
fi
"$bin" oidc enable
cat <<'TEXT'

  Portcullis demo: http://127.0.0.1:3000
  - "Sign in with Demo IdP", then log in as alice (any password): a new account is created.
  - Or sign in as admin / demo-admin-password and link Demo IdP under Profile → Linked Accounts.

TEXT
"$bin"
