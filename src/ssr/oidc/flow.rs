//! The authorization-code flow with PKCE, state and nonce (OpenID Connect Core, RFC 9700,
//! RFC 9207), run by the server. The `openidconnect` crate builds the requests and verifies
//! the ID token; this module holds the policy around it: the start here (the provider, its
//! client, the authorization request and the attempt), the callback in `finish`, the
//! client's types in `client`, how each failure reads in `error`.

mod client;
mod error;
mod finish;

pub use client::{DEFAULT_TIMEOUT, OtherClaims};
pub(crate) use client::{ProviderClient, RpClient, TokenFields, auth_method, client_http};
pub use error::{FlowError, FlowErrorKind};
use error::{db_err, err};
pub use finish::{Callback, CallbackError, Verified, two_factors};

use super::cache::ProviderCache;
use super::discovery::Metadata;
use super::fresh::Fresh;
use super::pending::{self, Mode, NewPending, Starter, Stored};
use crate::provider::redirect_uri;
use crate::ssr::db::Db;
use crate::ssr::providers::{self, ProviderRow};
use crate::ssr::secrets::SecretBox;
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow};
use openidconnect::{
    AuthType, Client, ClientId, ClientSecret, CsrfToken, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use std::time::Duration;

/// Everything the relying party needs at runtime.
pub struct Rp<'a> {
    pub db: &'a Db,
    pub secrets: &'a SecretBox,
    pub cache: &'a ProviderCache,
    /// The externally visible base URL (redirect URIs are made from it).
    pub public_url: &'a str,
    pub timeout: Duration,
}

/// What an attempt is for (sign in, link, an administrator's test), where the person goes
/// afterwards, and what the provider is asked beyond its settings.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub mode: &'a Mode,
    pub return_to: Option<&'a str>,
    /// A fresh sign-in an application asked for ([`Fresh`]).
    pub fresh: Option<Fresh>,
}

impl Rp<'_> {
    async fn provider(&self, slug: &str) -> Result<ProviderRow, FlowError> {
        let (row, oidc_on) = providers::get_for_sign_in(self.db, slug)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                err(
                    FlowErrorKind::UnknownProvider,
                    None,
                    format!("no provider {slug:?}"),
                )
            })?;
        if !row.settings.enabled || !oidc_on {
            return Err(err(
                FlowErrorKind::ProviderDisabled,
                Some(&row),
                "provider or OIDC disabled",
            ));
        }
        Ok(row)
    }

    async fn metadata(&self, row: &ProviderRow) -> Result<std::sync::Arc<Metadata>, FlowError> {
        self.cache
            .metadata(&row.slug, &row.issuer_url, row.updated_at, self.timeout)
            .await
            .map_err(|e| err(FlowErrorKind::Unreachable, Some(row), e))
    }

    pub(crate) fn client(
        &self,
        row: &ProviderRow,
        metadata: &Metadata,
    ) -> Result<ProviderClient, FlowError> {
        let secret = row
            .client_secret(self.secrets)
            .map_err(|e| err(FlowErrorKind::Misconfigured, Some(row), e.to_string()))?;
        let redirect = RedirectUrl::new(redirect_uri(self.public_url, &row.slug)).map_err(|e| {
            err(
                FlowErrorKind::Misconfigured,
                Some(row),
                format!("redirect URI: {e}"),
            )
        })?;
        let auth_type = match auth_method(row, metadata) {
            "client_secret_post" => AuthType::RequestBody,
            _ => AuthType::BasicAuth,
        };
        Ok(Client::from_provider_metadata(
            metadata.clone(),
            ClientId::new(row.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(auth_type))
    }

    /// Starts a sign-in or link: records the attempt and returns the provider's
    /// authorization URL to redirect the browser to. `starter`: the browser's cookie value
    /// and the client it came from.
    pub async fn start(
        &self,
        slug: &str,
        attempt: Attempt<'_>,
        starter: Starter<'_>,
    ) -> Result<String, FlowError> {
        let row = self.provider(slug).await?;
        let metadata = self.metadata(&row).await?;
        self.begin(&row, &metadata, attempt, starter, None).await
    }

    /// Records an attempt with provider `row` (as stored, or a test's values) and returns
    /// the authorization URL.
    pub(crate) async fn begin(
        &self,
        row: &ProviderRow,
        metadata: &Metadata,
        attempt: Attempt<'_>,
        starter: Starter<'_>,
        test_config: Option<&str>,
    ) -> Result<String, FlowError> {
        let Attempt {
            mode,
            return_to,
            fresh,
        } = attempt;
        let row = row.clone();
        let client = self.client(&row, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in row.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        // The administrator's extras (`provider::auth_params`: never a parameter set
        // above), percent-encoded by the URL builder; a `prompt` among them gives way to the
        // `prompt=login` an application asked for (`fresh`).
        let login = fresh.is_some_and(|f| f.login);
        for (key, value) in row.settings.auth_params.iter() {
            if !(login && key.eq_ignore_ascii_case("prompt")) {
                request = request.add_extra_param(key.to_owned(), value.to_owned());
            }
        }
        if login {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        if let Some(max_age) = fresh.and_then(|f| f.max_age) {
            request = request.set_max_age(Duration::from_secs(max_age.unsigned_abs()));
        }
        let (url, state, nonce) = request.url();
        let stored = pending::insert(
            self.db,
            NewPending {
                state: state.secret(),
                starter,
                provider_slug: &row.slug,
                nonce: nonce.secret(),
                pkce_verifier: verifier.secret(),
                mode,
                return_to,
                test_config,
            },
        )
        .await
        .map_err(db_err)?;
        match stored {
            Stored::Yes => {}
            Stored::ClientFull => {
                return Err(err(
                    FlowErrorKind::ClientBusy,
                    Some(&row),
                    format!(
                        "client {:?} holds too many attempts in progress",
                        starter.client
                    ),
                ));
            }
            Stored::Full => {
                return Err(err(
                    FlowErrorKind::Busy,
                    Some(&row),
                    "too many attempts in progress",
                ));
            }
        }
        Ok(url.to_string())
    }
}
