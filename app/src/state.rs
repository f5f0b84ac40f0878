//! Everything a request handler or server function needs, provided by `leptos_routes`.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use portcullis::ssr::db::Db;
use portcullis::ssr::icons::IconIndex;
use portcullis::ssr::limiter::LoginLimiter;
use portcullis::ssr::login_page::LoginPageCache;
use portcullis::ssr::oidc::cache::ProviderCache;
use portcullis::ssr::secrets::SecretBox;
use std::ops::Deref;
use std::sync::Arc;

/// One pointer to [`Shared`]: every request clones the state several times (each layer
/// `from_fn_with_state`, each `State` extractor, each server function's context), and a
/// clone of the fields one by one was 1.6 % of the server's CPU in an OpenID sign-in
/// (perf, bench #12: `LeptosOptions`' clone and the drops).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// `leptos_axum`'s routes take their options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Shared {
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
    pub server_timing: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
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
    pub passkeys: Option<Arc<portcullis::ssr::passkeys::Passkeys>>,
}
