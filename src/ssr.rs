//! Server-only parts of the core: storage, password hashing, secrets.
//! Compiled only with the `ssr` feature, so none of it reaches the wasm bundle.

pub mod admin_sync;
pub mod apps;
pub mod audit;
pub mod client_ip;
pub mod clock;
pub mod db;
pub mod device;
pub mod groups;
pub mod icons;
pub mod identities;
pub mod limiter;
pub mod login_page;
pub mod metrics;
pub mod oidc;
pub mod op;
mod order;
pub mod passkeys;
pub mod password;
pub mod providers;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod tokens;
pub mod totp;
pub mod users;
