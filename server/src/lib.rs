//! The Portcullis server: configuration, command line, HTTP wiring and start-up. Domain logic
//! lives in the `portcullis` core and the `app` crate; this crate only connects them.

pub mod api_v1;
pub mod cli;
pub mod cli_app;
pub mod cli_audit;
pub mod cli_keys;
pub mod cli_login_methods;
pub mod cli_provider;
pub mod cli_session;
pub mod cli_token;
pub mod config;
pub mod csrf;
pub mod forward_auth;
pub mod headers;
pub mod login_html;
pub mod logout;
pub mod metrics;
pub mod op;
pub mod op_device;
pub mod passkeys;
pub mod serve;
pub mod signin;
pub mod test_sign_in;
