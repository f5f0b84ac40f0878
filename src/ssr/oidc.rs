//! The OpenID Connect relying party: discovery, and (later) the code flow. Protocol work is
//! the `openidconnect` crate's; this module decides policy and words errors.

pub mod cache;
pub mod callback;
pub mod discovery;
pub mod flow;
pub mod fresh;
pub mod http;
pub mod jwt;
pub mod logout;
pub mod pending;
pub mod test_sign_in;
