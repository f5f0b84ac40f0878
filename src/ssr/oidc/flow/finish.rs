//! The callback: the attempt its state names, then the callback's steps (`callback`) in
//! order, to a verified identity.

use super::error::{Refusal, db_err, err};
use super::{FlowError, FlowErrorKind, Rp};
use crate::callback::IdTokenProblem;
use crate::identity::decision::Purpose;
use crate::ssr::oidc::callback as steps;
use crate::ssr::oidc::pending::{self, PendingRow, TakeError};
use crate::ssr::providers::ProviderRow;
use crate::ssr::session::ProviderSession;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

impl Rp<'_> {
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
        let tokens = steps::exchange(
            &client,
            code,
            &pending.pkce_verifier,
            self.timeout,
            Some(&row.slug),
        )
        .await;
        provider_time += waited.elapsed();
        let tokens = tokens.map_err(|f| refused(&f))?;
        let nonce = &pending.nonce;
        // On an unknown key, refresh the JWKS once (rotation) and verify again. The cache is
        // what can be stale: Test sign-in discovers afresh when it starts, so it has no
        // such retry.
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
        let two_factors = two_factors(&row, &identity.claims);
        // The ID token's own (userinfo's is not the provider's word on the sign-in).
        let auth_time = identity.claims.get("auth_time").and_then(|t| {
            t.as_i64()
                .or_else(|| t.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        });
        let mut claims = identity.claims;
        let waited = Instant::now();
        let info = steps::userinfo(
            &client,
            &metadata,
            &tokens,
            &identity.subject,
            self.timeout,
            Some(&row.slug),
        )
        .await;
        provider_time += waited.elapsed();
        if let Some(info) = info.map_err(|f| refused(&f))? {
            steps::merge_userinfo(&mut claims, info);
        }
        Ok(Verified {
            issuer: metadata.issuer().to_string(),
            at_provider: ProviderSession {
                sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
                id_token: Some(identity.raw),
            },
            provider: row,
            subject: identity.subject,
            claims,
            purpose,
            return_to: pending.return_to,
            provider_time,
            two_factors,
            auth_time,
        })
    }
}

/// The callback's query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    /// An error response instead of a code (RFC 6749 §4.1.2.1). Not an `Option`: serde
    /// would read a flattened one that fails (a repeated `error`) as none, where the query
    /// as a whole must fail, as for any other repeated parameter.
    #[serde(flatten)]
    pub error: CallbackError,
}

/// The provider's error response: its `error` code and, if it says, in words.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackError {
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Callback {
    pub fn is_callback(&self) -> bool {
        self.state.is_some() || self.code.is_some() || self.error.error.is_some()
    }
}

/// A verified identity at a provider.
#[derive(Debug, Clone)]
pub struct Verified {
    pub provider: ProviderRow,
    /// The issuer that vouched for it (from discovery, matched by the ID token's `iss`).
    pub issuer: String,
    pub subject: String,
    /// What signing out at the provider takes (its `sid`, the raw ID token).
    pub at_provider: ProviderSession,
    /// ID token claims, overlaid with userinfo's.
    pub claims: Map<String, Value>,
    pub purpose: Purpose,
    pub return_to: Option<String>,
    /// Time spent waiting for the provider (token, userinfo, a JWKS refresh).
    pub provider_time: Duration,
    /// The sign-in counts as two factors ([`two_factors`]).
    pub two_factors: bool,
    /// When the person signed in at the provider (the ID token's `auth_time`), if it says.
    pub auth_time: Option<i64>,
}

/// Whether a sign-in at `row` whose ID token carried `id_token_claims` counts as two factors:
/// the provider's `second_factor` setting, reading the ID token's own `amr` (not userinfo's:
/// how the person signed in is the ID token's to say, OpenID Connect Core §2).
pub fn two_factors(row: &ProviderRow, id_token_claims: &Map<String, Value>) -> bool {
    let amr: Vec<String> = match id_token_claims.get("amr") {
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    row.settings.factors().two_factors(&amr)
}

impl Verified {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        crate::claims::string(&self.claims, name)
    }
}
