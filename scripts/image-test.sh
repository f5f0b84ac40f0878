#!/usr/bin/env bash
# Tests the container image for real (not part of scripts/test.sh): builds it with
# scripts/image.sh, then with podman starts it on a fresh volume, creates the administrator
# with `podman exec ... user add`, signs in over HTTP, restarts the container and signs in
# again (the data survived), checks the server is not root, that the HEALTHCHECK turns
# unhealthy when the server stops answering, that the logs are JSON lines with
# PORTCULLIS_LOG_FORMAT=json, and that `podman stop` returns in under 5 s after a clean
# exit. Prints the image size (budget 25 MB) and the cold start (podman start to the first
# 200 from /healthz); `--record` also writes them into docs/benchmarks.md.
# About 15 s with the image built; the build adds about 9 min cold on 2 cores, 3 to 4 min
# after a source change.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"

record=0
[[ ${1:-} == --record ]] && record=1

version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
export PORTCULLIS_IMAGE=${PORTCULLIS_IMAGE:-portcullis:$version}
image=$PORTCULLIS_IMAGE
scripts/image.sh

podman=(pm --runtime runc)
# Without systemd (as on these machines) podman cannot schedule the periodic health checks
# and says so at every start and stop; the test runs the checks itself.
pm() { podman "$@" 2> >(grep -v 'systemd connection' >&2); }
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
ctr=portcullis-test-$$
vol=portcullis-test-$$
jar=$(mktemp)
cleanup() {
  "${podman[@]}" rm -f -t 0 "$ctr" >/dev/null 2>&1 || true
  podman volume rm -f "$vol" >/dev/null 2>&1 || true
  rm -f "$jar"
}
trap cleanup EXIT

fail() {
  echo "image-test: FAIL: $*" >&2
  echo "--- container log:" >&2
  podman logs "$ctr" 2>&1 | tail -30 >&2 || true
  exit 1
}
pass() { echo "image-test: ok   $*"; }
now_ms() { date +%s%3N; }
# Milliseconds from $1 (now_ms) until /healthz answers 200 (at most 30 s).
wait_healthy() {
  local t0=$1
  for _ in $(seq 1500); do
    if curl -sf -m 1 -o /dev/null "$base/healthz"; then
      echo $(($(now_ms) - t0))
      return
    fi
    sleep 0.02
  done
  fail "/healthz did not answer 200 within 30 s"
}
sign_in() {
  rm -f "$jar"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H 'Accept: application/json' \
    --data-urlencode identifier=admin --data-urlencode 'password=correct horse battery' \
    "$base/api/auth/login")
  [[ $code == 200 ]] || fail "sign-in answered $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$base/api/v1/auth/me")
  [[ $code == 200 ]] || fail "/api/v1/auth/me with the session cookie answered $code"
}

size=$(podman image inspect "$image" --format '{{.Size}}')
((size <= 25 * 1000 * 1000)) || fail "image is $size bytes, over the 25 MB budget"
pass "image size $((size / 1000)) kB (budget 25 MB)"

podman volume create "$vol" >/dev/null
"${podman[@]}" create --name "$ctr" --network host "${limits[@]}" \
  -e PORTCULLIS_LISTEN="127.0.0.1:$port" -e PORTCULLIS_LOG_FORMAT=json \
  -v "$vol:/data" "$image" >/dev/null
t0=$(now_ms)
"${podman[@]}" start "$ctr" >/dev/null
cold=$(wait_healthy "$t0")
pass "first start: healthy after $cold ms (fresh volume)"

users=$("${podman[@]}" top "$ctr" user huser | awk 'NR > 1 { print $1 "/" $2 }' | sort -u)
[[ -n $users && $users != *root* && $users != 0/* && $users != */0 ]] ||
  fail "the server runs as: $users"
pass "server process runs as $users (user/host user), not root"

echo 'correct horse battery' | "${podman[@]}" exec -i "$ctr" \
  /portcullis user add --username admin --email a@example.com --password-stdin --admin >/dev/null ||
  fail "user add"
sign_in
pass "admin created with podman exec; sign-in 200 and /api/v1/auth/me 200"

line=$(podman logs "$ctr" 2>&1 | grep -m1 'Portcullis is listening' || true)
jq -e '.fields.message == "Portcullis is listening"' <<<"$line" >/dev/null ||
  fail "PORTCULLIS_LOG_FORMAT=json: not a JSON log line: $line"
pass "logs are JSON lines with PORTCULLIS_LOG_FORMAT=json"

"${podman[@]}" healthcheck run "$ctr" >/dev/null || fail "podman healthcheck run while serving"
pass "HEALTHCHECK healthy while serving"
# The server stops answering: its process is frozen (SIGSTOP); the health check's own
# process still runs and times out.
"${podman[@]}" kill --signal STOP "$ctr" >/dev/null
verdict=$("${podman[@]}" healthcheck run "$ctr" 2>&1) && fail "HEALTHCHECK stayed healthy with the server frozen"
[[ $verdict == *unhealthy* ]] || fail "healthcheck run said: $verdict"
"${podman[@]}" kill --signal CONT "$ctr" >/dev/null
if "${podman[@]}" exec "$ctr" /portcullis healthcheck --listen "127.0.0.1:1" 2>/dev/null; then
  fail "healthcheck succeeded against a port nobody listens on"
fi
"${podman[@]}" healthcheck run "$ctr" >/dev/null || fail "HEALTHCHECK did not recover after SIGCONT"
pass "HEALTHCHECK unhealthy when the server stops answering (frozen, wrong port), healthy again after"

t0=$(now_ms)
"${podman[@]}" stop -t 10 "$ctr" >/dev/null
stop_ms=$(($(now_ms) - t0))
code=$("${podman[@]}" inspect "$ctr" --format '{{.State.ExitCode}}')
((stop_ms < 5000)) || fail "podman stop took $stop_ms ms"
[[ $code == 0 ]] || fail "exit code $code after SIGTERM (not a clean shutdown)"
podman logs "$ctr" 2>&1 | grep -q 'shutting down' || fail "no 'shutting down' in the log"
pass "podman stop returned in $stop_ms ms, exit code 0 (graceful)"

t0=$(now_ms)
"${podman[@]}" start "$ctr" >/dev/null
warm=$(wait_healthy "$t0")
sign_in
"${podman[@]}" exec "$ctr" /portcullis user list | grep -q ' admin ' || fail "user list lacks admin"
pass "restarted (healthy after $warm ms): the admin is still there and signs in"

echo
echo "image $image: $((size / 1000)) kB; cold start $cold ms; restart $warm ms; podman stop $stop_ms ms"

if ((record)); then
  date=$(date -u +%Y-%m-%d)
  podman_version=$(podman --version | awk '{print $3}')
  node - "$date" "$((size / 1000))" "$cold" "$warm" "$stop_ms" "$podman_version" <<'EOF'
const fs = require("fs");
const [date, kb, cold, warm, stop, podman] = process.argv.slice(2);
const file = "docs/benchmarks.md";
const start = "<!-- image-test:start -->";
const end = "<!-- image-test:end -->";
const body = `${start}
| measure | budget | result (${date}, podman ${podman}, 2 cores) |
|---|---|---|
| image size (\`podman image inspect\` Size) | ≤ 25 MB | ${(kb / 1000).toFixed(1)} MB |
| cold start: \`podman start\` to the first 200 from \`/healthz\`, fresh volume (creates the database, runs migrations, writes \`secret.key\`) | | ${cold} ms |
| restart on the existing volume, to the first 200 | | ${warm} ms |
| \`podman stop\` (SIGTERM to a clean exit) | < 5 s | ${stop} ms |
${end}`;
const text = fs.readFileSync(file, "utf8");
const i = text.indexOf(start), j = text.indexOf(end);
if (i < 0 || j < 0) throw new Error(`${file} lacks the ${start} ... ${end} markers`);
fs.writeFileSync(file, text.slice(0, i) + body + text.slice(j + end.length));
console.log(`recorded in ${file}`);
EOF
fi
