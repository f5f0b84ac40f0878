//! Portcullis core: the domain types and rules that the browser and the server share.
//!
//! Everything outside [`ssr`] compiles to wasm32 as well as native, so the browser can run
//! the same validation as the server. Storage, password hashing and secrets live behind the
//! `ssr` feature and never reach the browser bundle.

pub mod account;
pub mod admin_claims;
pub mod apps;
pub mod audit;
pub mod callback;
pub mod claims;
pub mod email_source;
pub mod field;
pub mod icons;
pub mod identity;
pub mod login_methods;
pub mod passkeys;
pub mod provider;
pub mod return_path;
pub mod second_factor;
pub mod sessions;
pub mod test_sign_in;
pub mod tokens;
pub mod user;
pub mod web_url;

#[cfg(feature = "ssr")]
pub mod ssr;
