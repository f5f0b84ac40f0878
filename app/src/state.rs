//! Everything a request handler or server function needs, provided by `leptos_routes`.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use portcullis::ssr::db::Db;
use portcullis::ssr::icons::IconIndex;
use portcullis::ssr::limiter::LoginLimiter;
use portcullis::ssr::login_page::LoginPageCache;
use portcullis::ssr::oidc::cache::ProviderCache;
use portcullis::ssr::secrets::SecretBox;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub limiter: Arc<LoginLimiter>,
    /// The externally visible base URL, without a trailing slash (redirect URIs, cookies).
    pub public_url: Arc<str>,
    /// Encrypts provider client secrets at rest.
    pub secrets: SecretBox,
    /// Accept plain-http issuers on any host (`--allow-insecure-issuers`).
    pub allow_insecure_issuers: bool,
    /// Discovery metadata and JWKS per provider.
    pub oidc_cache: Arc<ProviderCache>,
    /// What the sign-in page shows, cached briefly; invalidate after changing it.
    pub login_page: Arc<LoginPageCache>,
    /// Sign-in responses carry a Server-Timing header (`--server-timing`).
    #[from_ref(skip)]
    pub server_timing: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    #[from_ref(skip)]
    pub trusted_proxies: Arc<[portcullis::ssr::client_ip::IpNet]>,
    /// Applications behind forward authentication, cached for the check endpoint;
    /// invalidate after changing them.
    pub apps: Arc<portcullis::ssr::apps::AppsCache>,
    /// The selfh.st icon catalogue for the logo picker.
    pub icons: Arc<IconIndex>,
    /// The OpenID Provider's signing keys and JWKS, reloaded every minute.
    pub op_keys: Arc<portcullis::ssr::op::keys::OpKeys>,
    /// The passkeys' relying party (`--public-url`'s host); `None` when that host is an IP
    /// address, which browsers refuse as a relying party id.
    #[from_ref(skip)]
    pub passkeys: Option<Arc<portcullis::ssr::passkeys::Passkeys>>,
}
