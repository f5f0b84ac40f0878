#!/usr/bin/env bash
# Builds the container image portcullis:<version> (the workspace version in Cargo.toml) with
# Debian's podman, from the package registries alone: no base image is pulled.
#
#   FROM scratch
#   /portcullis   the server, a static x86_64-unknown-linux-musl binary (rustls, no OpenSSL)
#   /site         the built, precompressed site (scripts/build.sh's target/site)
#   /data         the volume: SQLite database and secret.key, owned by the image's user
#
# It runs as uid:gid 65532:65532, listens on 0.0.0.0:3000 and takes every setting from the
# same PORTCULLIS_* variables; `HEALTHCHECK` runs `/portcullis healthcheck`.
#
# Installs what is missing: podman, runc, musl-tools (apt) and the musl target (rustup).
# The site is built with scripts/build.sh (the server part unoptimised: only the site is
# used) unless PORTCULLIS_IMAGE_SITE=reuse and target/site exists. PORTCULLIS_IMAGE names
# the image (default portcullis:<version>). With PORTCULLIS_BUILD_LOCK=<file>, every build
# step holds that lock (flock), and nothing else does.
# Cold: about 9 min on 2 cores (the musl build, profile `image`: fat LTO); 7 to 8 min after a
# source change.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"

target=x86_64-unknown-linux-musl
version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
image=${PORTCULLIS_IMAGE:-portcullis:$version}
locked() {
  if [[ -n ${PORTCULLIS_BUILD_LOCK:-} ]]; then flock "$PORTCULLIS_BUILD_LOCK" "$@"; else "$@"; fi
}

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
if ((${#missing[@]})); then
  echo "image: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

# No OpenSSL in the image: TLS (OpenID providers, the icon catalogue) is rustls throughout.
if cargo tree -p server --target "$target" -e normal 2>/dev/null | grep -qE ' (openssl|openssl-sys|native-tls) v'; then
  echo "image: openssl or native-tls is in the server's dependency tree" >&2
  exit 1
fi

if [[ ${PORTCULLIS_IMAGE_SITE:-build} == reuse && -f target/site/pkg/portcullis.wasm ]]; then
  echo "image: reusing target/site"
else
  PORTCULLIS_PROFILE=${PORTCULLIS_PROFILE:-dev} locked scripts/build.sh
fi
# The commit the metrics' portcullis_build_info names (server/src/metrics.rs).
PORTCULLIS_GIT_COMMIT=${PORTCULLIS_GIT_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
export PORTCULLIS_GIT_COMMIT
locked cargo build -p server --bin portcullis --profile image --target "$target"

bin=target/$target/image/portcullis
if readelf -l "$bin" | grep -q 'Requesting program interpreter'; then
  echo "image: $bin is not static" >&2
  exit 1
fi

# The build context: exactly what goes into the image.
ctx=target/image
rm -rf "$ctx"
mkdir -p "$ctx/data"
strip -o "$ctx/portcullis" "$bin"
cp -R target/site "$ctx/site"
cat >"$ctx/Containerfile" <<EOF
FROM scratch
LABEL org.opencontainers.image.title="Portcullis" \\
      org.opencontainers.image.description="Self-hosted sign-in with OpenID Connect" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
COPY --chown=0:0 --chmod=0755 portcullis /portcullis
COPY --chown=0:0 site /site
# An empty directory, owned by the user the server runs as: the volume's initial contents.
COPY --chown=65532:65532 data /data
ENV PORTCULLIS_LISTEN=0.0.0.0:3000 \\
    PORTCULLIS_DATA_DIR=/data \\
    LEPTOS_SITE_ROOT=/site
USER 65532:65532
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\
  CMD ["/portcullis", "healthcheck"]
ENTRYPOINT ["/portcullis"]
CMD ["serve"]
EOF

# --format docker: the OCI image format has no HEALTHCHECK.
podman build --quiet --format docker --runtime runc -t "$image" -f "$ctx/Containerfile" "$ctx" >/dev/null
size=$(podman image inspect "$image" --format '{{.Size}}')
echo "image: built $image ($((size / 1000)) kB; binary $(($(stat -c %s "$ctx/portcullis") / 1000)) kB, site $(du -sk "$ctx/site" | cut -f1) KiB)"
