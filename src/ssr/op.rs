//! Portcullis as an OpenID Provider (issue 21; `docs/openid-provider.md`). Slice 1: its own
//! signing keys (`keys`, `signer`) and the public discovery surface (`metadata`). Slice 2:
//! applications as clients (`clients`). Slice 3: the authorization code flow (`authorize`,
//! `grants`, `id_token`). Slice 5: refresh tokens, revocation, introspection (`grants`).
//! Slice 4: `prompt`, `max_age`, hints, the account choice and consent (`prompt`). Slice 6:
//! RP-Initiated Logout (`end_session`), and back-channel logout to the clients a session
//! signed in to (`logout`: the sweep, the outbox, delivery). Slice 7: the device
//! authorization grant (`device`). The routes are in
//! `server/src/op.rs`.

pub mod authorize;
pub mod clients;
pub mod device;
pub mod end_session;
pub mod grants;
pub mod id_token;
pub mod keys;
pub mod logout;
pub mod metadata;
pub mod prompt;
pub mod signer;

pub use crate::ssr::secrets::token_hash;

/// `prefix` and 256 random bits, base64url (`secrets::random_token`): client secrets, codes,
/// tokens.
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", crate::ssr::secrets::random_token())
}
