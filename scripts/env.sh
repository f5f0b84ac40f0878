# Sourced by the other scripts: tool locations and build flags shared by every step.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# npm's binaryen (wasm-opt 132) must come before any Debian one: Debian's 108 breaks the wasm.
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# One set of flags for every build (tests, clippy, the release and wasm builds), so the
# target dir stays warm instead of rebuilding everything for each step. erase_components
# makes Leptos views type-erased: faster builds and a smaller wasm.
export RUSTFLAGS="--cfg erase_components"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-auto}
# Leptos reads this at compile time (asset names under /pkg); every cargo command sets it,
# or leptos would be rebuilt each time it changes.
export LEPTOS_OUTPUT_NAME=portcullis
