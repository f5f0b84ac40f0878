#!/usr/bin/env bash
# Installs what is missing, builds the release, and runs Portcullis on http://127.0.0.1:3000
# with an embedded SQLite database in ./data. Extra arguments go to `portcullis`.
set -euo pipefail
here=$(dirname "$0")
"$here/setup.sh"
"$here/build.sh"
source "$here/env.sh"
cd "$root"
export LEPTOS_SITE_ROOT="$root/target/site"
exec "$root/target/release/portcullis" "$@"
