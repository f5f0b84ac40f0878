//! Portcullis as an OpenID Provider (issue 21; `docs/openid-provider.md`). Slice 1: its own
//! signing keys (`keys`, `signer`) and the public discovery surface (`metadata`). The routes
//! are in `server/src/op.rs`.

pub mod keys;
pub mod metadata;
pub mod signer;
