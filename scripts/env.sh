# Sourced by the other scripts: tool locations and build flags shared by every step.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# npm's binaryen (wasm-opt 132) must come before any Debian one: Debian's 108 breaks the wasm.
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos builds with this flag; host tests and clippy use it too so the target dir
# stays warm instead of rebuilding everything for each step.
export RUSTFLAGS="--cfg erase_components"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-auto}
# cargo-leptos sets this for its builds; leptos reads it at compile time (asset names), so
# every other cargo command sets it too, or leptos would be rebuilt each time it changes.
export LEPTOS_OUTPUT_NAME=portcullis
