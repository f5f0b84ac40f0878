# Sourced by the other scripts: tool locations shared by every step. The build flags
# (`--cfg erase_components`, LEPTOS_OUTPUT_NAME) live in .cargo/config.toml, where a plain
# `cargo build` and rust-analyzer see them too.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# npm's binaryen (wasm-opt 132) must come before any Debian one: Debian's 108 breaks the wasm.
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-auto}
# A RUSTFLAGS variable would replace the config's rustflags (and so rebuild everything).
unset RUSTFLAGS

# The integration tests' own PostgreSQL: scripts/setup.sh starts it, scripts/test.sh points
# the tests at it.
test_pg_dir=/dev/shm/portcullis-test-pg
test_pg_port=55432

# tools/wasm-bundle, the bundle's splitter and bindings generator: built when missing or out of
# date (cargo's check costs a fraction of a second), then run. Its own target dir, so a build
# of the workspace running beside it does not wait on cargo's lock. Linted as it compiles, like
# the workspace's other crates (clippy-driver is rustc plus lints; the tool's dependencies go
# through plain rustc): warnings are printed, or fail the build under scripts/test.sh, which
# sets CLIPPY_ARGS for every compile it makes.
build_wasm_bundle() {
  RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver) CARGO_TARGET_DIR="$root/target/tools" \
    cargo build -p wasm-bundle --profile tools --locked --quiet
}
wasm_bundle() {
  build_wasm_bundle && "$root/target/tools/tools/wasm-bundle" "$@"
}
