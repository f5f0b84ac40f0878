//! Every integration test, in one binary (one link, one process; each file is a module, so a
//! test is named `<file>::<test>`, e.g. `auth::non_admins_are_refused::sqlite`). The real
//! server on ephemeral ports, over SQLite and PostgreSQL; see `common/`.

#[macro_use]
mod common;

mod admin_claims;
mod audit;
mod auth;
mod auth_params;
mod auto_redirect;
mod claims;
mod cli_help;
mod demo;
mod forward_auth;
mod hardening;
mod icons;
mod limits;
mod link_by_email;
mod login_methods;
mod logout;
mod logs;
mod metrics;
mod misbehaving;
mod op_authorize;
mod op_backchannel;
mod op_claims;
mod op_clients;
mod op_device;
mod op_discovery;
mod op_keys;
mod op_logout;
mod op_prompt;
mod op_rp;
mod op_token;
mod op_upstream;
mod passkeys;
mod private_ca;
mod profile_sync;
mod providers;
mod proxies;
mod sessions;
mod signin;
mod test_sign_in;
mod totp;
