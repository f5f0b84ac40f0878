# Sourced by the other scripts: tool locations shared by every step. The build flags
# (`--cfg erase_components`, LEPTOS_OUTPUT_NAME) live in .cargo/config.toml, where a plain
# `cargo build` and rust-analyzer see them too.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# npm's binaryen (wasm-opt 132) must come before any Debian one: Debian's 108 breaks the wasm.
export PATH="$root/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-auto}
# A RUSTFLAGS variable would replace the config's rustflags (and so rebuild everything).
unset RUSTFLAGS
