#!/usr/bin/env bash
# Installs everything Portcullis needs to build, run and test on a fresh machine of this kind.
# Only package registries are used (crates.io, npm, Debian). Each step skips what is present,
# so running it again (CI on the same machine) costs seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# tools/wasm-bundle splits and binds the browser bundle (scripts/build.sh; `build_wasm_bundle`
# in env.sh). It compiles on the CPU while apt and npm below wait on the network, at a lower
# priority: under scripts/test.sh the server's compile runs beside it, and that compile is
# what everything after waits for (on a fresh machine it took 618 s beside this one at the
# same priority, 446 s alone). Should a step below fail, it is still waited for: nothing is
# left holding its target dir.
source "$root/scripts/env.sh"
[ -x target/tools/tools/wasm-bundle ] || log "building tools/wasm-bundle, in the background"
(renice -n 10 -p "$BASHPID" >/dev/null && build_wasm_bundle) &
wasm_bundle_pid=$!
trap 'wait "$wasm_bundle_pid" 2>/dev/null || true' EXIT

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

need_apt=()
# The browser of the end-to-end tests and the benchmarks: Chromium's headless shell, the
# browser Playwright itself runs headless tests in (its own download is not reachable here).
[ -x /usr/bin/chromium-headless-shell ] || need_apt+=(chromium-headless-shell)
command -v wrk >/dev/null || need_apt+=(wrk)
# Real reverse proxies for the forward-authentication tests (end2end/proxy/).
command -v caddy >/dev/null || need_apt+=(caddy)
command -v nginx >/dev/null || need_apt+=(nginx-light)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL (postgres://postgres@127.0.0.1:5432/postgres), for the benchmarks and a hand-run
# `cargo test` (scripts/test.sh gives the tests the cluster below): Debian's package, its
# cluster started, and role postgres let in without a password from this machine
# only (trust: fit for a test machine, not for production). Skipped when it answers already.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing PostgreSQL (Debian postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  pg_version=$(ls /etc/postgresql | sort -V | tail -n1)
  [ -f "/etc/postgresql/$pg_version/main/postgresql.conf" ] || pg_createcluster "$pg_version" main
  hba=/etc/postgresql/$pg_version/main/pg_hba.conf
  if ! grep -q '^# Portcullis tests' "$hba"; then
    log "PostgreSQL: role postgres without a password on the socket and 127.0.0.1 (first match wins)"
    { printf '%s\n' '# Portcullis tests (scripts/setup.sh): role postgres without a password, from this machine.' \
        'local all postgres trust' 'host all postgres 127.0.0.1/32 trust' 'host all postgres ::1/128 trust' ''
      cat "$hba"; } >"$hba.new"
    chown --reference="$hba" "$hba.new"; chmod --reference="$hba" "$hba.new"
    mv "$hba.new" "$hba"
  fi
  if pg_ctlcluster "$pg_version" main status >/dev/null 2>&1; then
    log "reloading PostgreSQL $pg_version"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
  else
    log "starting PostgreSQL $pg_version"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  fi
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi

# The integration tests' PostgreSQL (scripts/test.sh points them at it): a cluster of their
# own in memory (/dev/shm; where and on which port: env.sh), from the same Debian binaries,
# with trust for 127.0.0.1 only. Each PostgreSQL test makes and drops a database of a few hundred
# files: on the disk's ext4, finding free inodes among so many just freed cost the kernel
# more than PostgreSQL's own work (perf: ext4's recently_deleted), and the PostgreSQL half of
# the tests took 223 s of CPU against 165 s here (2026-12-07). Nothing in it outlives the
# machine, so it does not flush to a disk (fsync off); what the tests check, statements and
# transactions, is the same server's. The cluster at 5432 stays the benchmarks' (bench.sh).
if ! pg_isready -q -h 127.0.0.1 -p "$test_pg_port" 2>/dev/null; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  as_postgres=()
  [ "$(id -u)" != 0 ] || as_postgres=(runuser -u postgres --)
  make_test_pg() {
    log "PostgreSQL for the tests: a cluster in $test_pg_dir, port $test_pg_port"
    rm -rf "$test_pg_dir" && mkdir -p "$test_pg_dir"
    [ "$(id -u)" != 0 ] || chown postgres: "$test_pg_dir"
    "${as_postgres[@]}" "$pg_bin/initdb" -D "$test_pg_dir/data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 --no-sync >/dev/null
  }
  start_test_pg() {
    "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$test_pg_dir/data" -l "$test_pg_dir/log" -w start -o \
      "-p $test_pg_port -k $test_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
      >/dev/null
  }
  [ -f "$test_pg_dir/data/PG_VERSION" ] || make_test_pg
  # One left by a machine's earlier run (its server stopped with the session) starts again;
  # one that will not is made anew: it holds nothing but the tests' template.
  start_test_pg || { make_test_pg && start_test_pg; }
fi

if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing npm packages (wasm-opt, terser, csso, Playwright, oidc-provider)"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi
rp=end2end/rp
if [ ! -x "$rp/.venv/bin/python" ] || [ "$rp/requirements.txt" -nt "$rp/.venv/.installed" ]; then
  log "installing the Python relying party of the OpenID Provider's tests (authlib, from PyPI)"
  python3 -m venv "$rp/.venv" 2>/dev/null || {
    apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$rp/.venv"
  }
  "$rp/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$rp/requirements.txt"
  touch "$rp/.venv/.installed"
fi
wait "$wasm_bundle_pid" || { log "tools/wasm-bundle did not build"; exit 1; }
log "tools ready"
