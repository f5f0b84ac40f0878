//! The authorization-code flow with PKCE, state and nonce (OpenID Connect Core, RFC 9700,
//! RFC 9207), run by the server. The `openidconnect` crate builds the requests and verifies
//! the ID token; this module holds the policy around it.

use super::cache::ProviderCache;
use super::callback as steps;
use super::discovery::Metadata;
use super::http::{PROVIDER_TIMEOUT, client};
use super::pending::{self, Mode, NewPending, PendingRow, Starter, Stored, TakeError};
use crate::callback::{
    ExchangeFailure, IdTokenFailure, IdTokenProblem, ResponseFailure, UserInfoFailure,
};
use crate::identity::decision::Purpose;
use crate::provider::redirect_uri;
use crate::ssr::db::Db;
use crate::ssr::providers::{self, ProviderRow};
use crate::ssr::secrets::SecretBox;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    IdTokenFields, Nonce, PkceCodeChallenge, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// Every claim beyond the standard ones, kept as JSON (required claims are arbitrary names).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

pub(crate) type TokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
pub(crate) type RpClient<HasAuthUrl, HasTokenUrl, HasUserInfoUrl> = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<TokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    HasAuthUrl,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    HasTokenUrl,
    HasUserInfoUrl,
>;
/// A client for one provider as discovered: the authorization endpoint is known, the token
/// and userinfo endpoints may be.
pub(crate) type ProviderClient = RpClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Why a sign-in failed, for the user (`Display`: words naming the provider and what to do),
/// and for the log and administrators (`detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowError {
    pub kind: FlowErrorKind,
    /// The provider's display name, when known.
    pub provider: Option<String>,
    /// What went wrong in technical terms, for the server log and for the administrator
    /// who reads a Test sign-in report (which prints it); never shown to the person signing
    /// in. Never a secret, a token or our own internals: a database error is logged where it
    /// happens and named here only as such ([`db_err`]).
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowErrorKind {
    UnknownProvider,
    ProviderDisabled,
    UnknownState,
    ForeignBrowser,
    Expired,
    Denied,
    ProviderError,
    IssuerMismatch,
    Unreachable,
    TokenRejected,
    InvalidIdToken,
    UserInfoMismatch,
    /// The answer came back on another provider's redirect URI (RFC 9700 section 4.4).
    WrongRedirectUri,
    Misconfigured,
    /// Our database did not answer: not the provider's fault, nor the administrator's.
    Database,
    /// Too many sign-ins are in progress, all clients together.
    Busy,
    /// This client (address, IPv6 by /64) has too many sign-ins in progress.
    ClientBusy,
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.provider.as_deref().unwrap_or("the identity provider");
        use FlowErrorKind::*;
        match self.kind {
            UnknownProvider => write!(f, "There is no sign-in provider by that name here."),
            ProviderDisabled => write!(f, "Sign-in with {p} is turned off."),
            UnknownState => write!(
                f,
                "This sign-in with {p} has already been used or was never started here. Start again."
            ),
            ForeignBrowser => write!(
                f,
                "This sign-in with {p} was started in another browser. Start again in this one."
            ),
            Expired => write!(
                f,
                "The sign-in with {p} took longer than 10 minutes and expired. Start again."
            ),
            Denied => write!(f, "The sign-in was cancelled or refused at {p}."),
            ProviderError => write!(
                f,
                "{p} reported an error and did not sign you in. Try again; if it keeps happening, tell your administrator."
            ),
            IssuerMismatch => write!(
                f,
                "The answer did not come from {p} (issuer mismatch), so it was refused. Start again; if it keeps happening, tell your administrator."
            ),
            Unreachable => write!(f, "{p} could not be reached. Try again in a moment."),
            TokenRejected => write!(
                f,
                "{p} did not complete the sign-in (the code could not be exchanged). Start again; if it keeps happening, tell your administrator."
            ),
            InvalidIdToken => write!(
                f,
                "{p} sent an identity token that failed verification, so it was refused. Tell your administrator."
            ),
            UserInfoMismatch => write!(
                f,
                "{p} sent inconsistent account information, so the sign-in was refused. Tell your administrator."
            ),
            WrongRedirectUri => write!(
                f,
                "The answer from {p} arrived at another provider's address, so it was refused. Start again; if it keeps happening, tell your administrator."
            ),
            Misconfigured => write!(
                f,
                "Sign-in with {p} is not set up correctly. Tell your administrator."
            ),
            Database => write!(
                f,
                "Sign-in is unavailable for a moment: the server cannot reach its database. Try again shortly."
            ),
            Busy => write!(
                f,
                "Too many sign-ins are in progress right now. Wait a minute, then try again."
            ),
            ClientBusy => write!(
                f,
                "Too many sign-ins from your network are in progress. Finish them, or wait a few minutes (an unfinished one expires after 10), then try again."
            ),
        }
    }
}

fn err(
    kind: FlowErrorKind,
    provider: Option<&ProviderRow>,
    detail: impl Into<String>,
) -> FlowError {
    FlowError {
        kind,
        provider: provider.map(|p| p.name.clone()),
        detail: detail.into(),
    }
}

/// Everything the relying party needs at runtime.
pub struct Rp<'a> {
    pub db: &'a Db,
    pub secrets: &'a SecretBox,
    pub cache: &'a ProviderCache,
    /// The externally visible base URL (redirect URIs are made from it).
    pub public_url: &'a str,
    pub timeout: Duration,
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
        mode: &Mode,
        return_to: Option<&str>,
        starter: Starter<'_>,
    ) -> Result<String, FlowError> {
        let row = self.provider(slug).await?;
        let metadata = self.metadata(&row).await?;
        self.begin(&row, &metadata, mode, return_to, starter, None)
            .await
    }

    /// Records an attempt with provider `row` (as stored, or a test's values) and returns
    /// the authorization URL.
    pub(crate) async fn begin(
        &self,
        row: &ProviderRow,
        metadata: &Metadata,
        mode: &Mode,
        return_to: Option<&str>,
        starter: Starter<'_>,
        test_config: Option<&str>,
    ) -> Result<String, FlowError> {
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
        // above), percent-encoded by the URL builder.
        for (key, value) in row.settings.auth_params.iter() {
            request = request.add_extra_param(key.to_owned(), value.to_owned());
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

    /// Finishes an attempt from the callback's query, which arrived on the redirect URI of
    /// provider `arrived_on` (`None`: on no provider's). Checks the state (before any
    /// request to the provider) and that the answer came back where the attempt's provider
    /// sends it, the RFC 9207 `iss`, exchanges the code with PKCE, verifies the ID token, and
    /// merges userinfo.
    pub async fn finish(
        &self,
        arrived_on: Option<&str>,
        callback: &Callback,
        binding: Option<&str>,
    ) -> Result<Verified, FlowError> {
        let pending = self.take_attempt(callback, binding).await?;
        self.finish_attempt(arrived_on, callback, pending).await
    }

    /// Consumes the attempt the callback's state names, if this browser started it (before
    /// any request to the provider).
    pub async fn take_attempt(
        &self,
        callback: &Callback,
        binding: Option<&str>,
    ) -> Result<PendingRow, FlowError> {
        let state = callback.state.as_deref().unwrap_or_default();
        if state.is_empty() {
            return Err(err(
                FlowErrorKind::UnknownState,
                None,
                "callback without state",
            ));
        }
        let pending: PendingRow = match pending::take(self.db, state, binding)
            .await
            .map_err(db_err)?
        {
            Ok(p) => p,
            Err(TakeError::Unknown) => {
                return Err(err(
                    FlowErrorKind::UnknownState,
                    None,
                    "unknown or reused state",
                ));
            }
            Err(TakeError::ForeignBrowser) => {
                return Err(err(
                    FlowErrorKind::ForeignBrowser,
                    None,
                    "state bound to another browser",
                ));
            }
            Err(TakeError::Expired) => {
                return Err(err(FlowErrorKind::Expired, None, "state expired"));
            }
        };
        Ok(pending)
    }

    /// [`Rp::finish`] for an attempt already taken by [`Rp::take_attempt`]: the callback's
    /// steps (`callback`) one after another, stopping at the first failure.
    pub async fn finish_attempt(
        &self,
        arrived_on: Option<&str>,
        callback: &Callback,
        pending: PendingRow,
    ) -> Result<Verified, FlowError> {
        // A test sign-in's attempt never signs anyone in (fail closed: it has its own path).
        let Some(purpose) = pending.purpose() else {
            return Err(err(
                FlowErrorKind::UnknownState,
                None,
                "a test sign-in's state on the sign-in path",
            ));
        };
        let row = self.provider(&pending.provider_slug).await?;
        let refused = |f: &dyn Refusal| {
            let (kind, detail) = f.refusal();
            err(kind, Some(&row), detail)
        };
        steps::arrival(arrived_on, &row.slug).map_err(|f| refused(&f))?;
        let metadata = self.metadata(&row).await?;
        let code = steps::response(callback, &metadata).map_err(|f| refused(&f))?;
        let client = self.client(&row, &metadata)?;
        let mut provider_time = Duration::ZERO;
        let waited = Instant::now();
        let tokens = steps::exchange(&client, code, &pending.pkce_verifier, self.timeout).await;
        provider_time += waited.elapsed();
        let tokens = tokens.map_err(|f| refused(&f))?;
        let nonce = &pending.nonce;
        // On an unknown key, refresh the JWKS once (rotation) and verify again.
        let (client, identity) = match steps::id_token(&client, &metadata, &tokens, nonce) {
            Ok(identity) => (client, identity),
            Err(f) if f.problem == IdTokenProblem::NoMatchingKey => {
                let waited = Instant::now();
                let refreshed = self.cache.refresh_jwks(&row.slug, self.timeout).await;
                provider_time += waited.elapsed();
                let Some(updated) = refreshed else {
                    return Err(err(
                        FlowErrorKind::InvalidIdToken,
                        Some(&row),
                        "no matching key (JWKS refresh rate-limited)",
                    ));
                };
                let client = self.client(&row, &updated)?;
                let identity =
                    steps::id_token(&client, &updated, &tokens, nonce).map_err(|f| refused(&f))?;
                (client, identity)
            }
            Err(f) => return Err(refused(&f)),
        };
        let mut claims = identity.claims;
        let waited = Instant::now();
        let info =
            steps::userinfo(&client, &metadata, &tokens, &identity.subject, self.timeout).await;
        provider_time += waited.elapsed();
        if let Some(info) = info.map_err(|f| refused(&f))? {
            steps::merge_userinfo(&mut claims, info);
        }
        Ok(Verified {
            issuer: metadata.issuer().to_string(),
            sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
            id_token: Some(identity.raw),
            provider: row,
            subject: identity.subject,
            claims,
            purpose,
            return_to: pending.return_to,
            provider_time,
        })
    }
}

/// A step's failure as sign-in reports it: the kind (the words the person signing in
/// reads) and the detail for the log.
trait Refusal {
    fn refusal(&self) -> (FlowErrorKind, String);
}

impl Refusal for ResponseFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            ResponseFailure::WrongRedirectUri { arrived_on } => (
                WrongRedirectUri,
                format!("answer arrived on the redirect URI of {arrived_on:?}"),
            ),
            ResponseFailure::IssuerMismatch { iss } => {
                (IssuerMismatch, format!("iss parameter {iss:?}"))
            }
            ResponseFailure::IssMissing => (
                IssuerMismatch,
                "iss parameter missing though advertised".to_owned(),
            ),
            ResponseFailure::Error { error, description } => (
                if error == "access_denied" {
                    Denied
                } else {
                    ProviderError
                },
                format!("provider error {error}: {description}"),
            ),
            ResponseFailure::NoCode => (ProviderError, "callback without code".to_owned()),
        }
    }
}

impl Refusal for ExchangeFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            ExchangeFailure::NoTokenEndpoint(e) => {
                (Misconfigured, format!("no token endpoint: {e}"))
            }
            ExchangeFailure::Refused { error, description } => (
                TokenRejected,
                format!("token endpoint: {error}: {description}"),
            ),
            ExchangeFailure::Unreachable(how) => (Unreachable, format!("token endpoint: {how}")),
            ExchangeFailure::Unusable(why) => (TokenRejected, format!("token endpoint: {why}")),
        }
    }
}

impl Refusal for IdTokenFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        (
            FlowErrorKind::InvalidIdToken,
            format!("ID token: {}", self.detail),
        )
    }
}

impl Refusal for UserInfoFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            UserInfoFailure::Subject => (
                UserInfoMismatch,
                "userinfo sub differs from the ID token's".to_owned(),
            ),
            UserInfoFailure::Misconfigured(why) => (Misconfigured, format!("userinfo: {why}")),
            UserInfoFailure::Unreachable(how) => (Unreachable, format!("userinfo: {how}")),
            UserInfoFailure::Failed(why) => (ProviderError, format!("userinfo: {why}")),
        }
    }
}

/// Our database failed: the cause goes to the log here, the detail only says so (it reaches
/// an administrator's report).
fn db_err(e: sqlx::Error) -> FlowError {
    tracing::error!(error = ?e, "OpenID Connect flow: database");
    err(
        FlowErrorKind::Database,
        None,
        "the server's database did not answer (the cause is in the server log)",
    )
}

/// The client authentication the token request uses: the configured one, or for `auto`
/// client_secret_basic unless the provider only takes client_secret_post (Discovery: an
/// absent list means basic).
pub(crate) fn auth_method(row: &ProviderRow, metadata: &Metadata) -> &'static str {
    match (
        row.settings.token_auth_method.as_str(),
        metadata.token_endpoint_auth_methods_supported(),
    ) {
        ("client_secret_basic", _) => "client_secret_basic",
        ("client_secret_post", _) => "client_secret_post",
        (_, Some(methods))
            if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
        {
            "client_secret_post"
        }
        _ => "client_secret_basic",
    }
}

pub(crate) fn client_http(timeout: Duration) -> reqwest::Client {
    client(timeout)
}

/// The callback's query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Callback {
    pub fn is_callback(&self) -> bool {
        self.state.is_some() || self.code.is_some() || self.error.is_some()
    }
}

/// A verified identity at a provider.
#[derive(Debug, Clone)]
pub struct Verified {
    pub provider: ProviderRow,
    /// The issuer that vouched for it (from discovery, matched by the ID token's `iss`).
    pub issuer: String,
    pub subject: String,
    /// The provider's session id (`sid`), when it sends one.
    pub sid: Option<String>,
    /// The raw ID token, kept server-side for sign-out at the provider.
    pub id_token: Option<String>,
    /// ID token claims, overlaid with userinfo's.
    pub claims: Map<String, Value>,
    pub purpose: Purpose,
    pub return_to: Option<String>,
    /// Time spent waiting for the provider (token, userinfo, a JWKS refresh).
    pub provider_time: Duration,
}

impl Verified {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        crate::claims::string(&self.claims, name)
    }
}

pub const DEFAULT_TIMEOUT: Duration = PROVIDER_TIMEOUT;
