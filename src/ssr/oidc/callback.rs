//! The steps of handling a provider's answer, in order: the authorization response, the
//! code exchange, the ID token, userinfo. Sign-in (`flow::Rp::finish_attempt`) runs them one
//! after another and stops at the first failure; Test sign-in (`test_sign_in`) runs the same
//! functions and records each outcome. A failure is plain data (`crate::callback`).

use super::discovery::Metadata;
use super::flow::{Callback, CallbackError, OtherClaims, ProviderClient, TokenFields, client_http};
use super::http::{describe, observed};
use super::jwt::{self, IdToken};
use crate::callback::{
    ExchangeFailure, IdTokenFailure, IdTokenProblem, ResponseFailure, UserInfoFailure,
};
use crate::ssr::metrics::Endpoint;
use openidconnect::core::{CoreGenderClaim, CoreTokenType};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, Nonce, OAuth2TokenResponse, PkceCodeVerifier,
    SignatureVerificationError, StandardTokenResponse, SubjectIdentifier, TokenResponse,
};
use serde_json::{Map, Value};
use std::time::Duration;

/// The token endpoint's answer (the access token is used for userinfo, then dropped).
pub type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;

/// The authorization response, first part: it came back on provider `slug`'s own redirect
/// URI (`arrived_on`: the provider whose URI it arrived on, `None` for `/login`).
pub fn arrival(arrived_on: Option<&str>, slug: &str) -> Result<(), ResponseFailure> {
    if arrived_on == Some(slug) {
        Ok(())
    } else {
        Err(ResponseFailure::WrongRedirectUri {
            arrived_on: arrived_on.map(str::to_owned),
        })
    }
}

/// The authorization response, second part: the RFC 9207 `iss` names the provider's issuer
/// (and is there when the provider advertises it), then the code, or the provider's error.
pub fn response(callback: &Callback, metadata: &Metadata) -> Result<String, ResponseFailure> {
    let advertised = metadata
        .additional_metadata()
        .authorization_response_iss_parameter_supported;
    match (&callback.iss, advertised) {
        (Some(iss), _) if iss != metadata.issuer().as_str() => {
            return Err(ResponseFailure::IssuerMismatch { iss: iss.clone() });
        }
        (None, Some(true)) => return Err(ResponseFailure::IssMissing),
        _ => {}
    }
    if let CallbackError {
        error: Some(error),
        error_description,
    } = &callback.error
    {
        return Err(ResponseFailure::Error {
            error: error.clone(),
            description: error_description.clone().unwrap_or_default(),
        });
    }
    callback.code.clone().ok_or(ResponseFailure::NoCode)
}

/// The code exchange, with the attempt's PKCE verifier; counted as provider `slug`'s when
/// given ([`observed`]).
pub async fn exchange(
    client: &ProviderClient,
    code: String,
    pkce_verifier: &str,
    timeout: Duration,
    slug: Option<&str>,
) -> Result<Tokens, ExchangeFailure> {
    use openidconnect::RequestTokenError::*;
    let request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| ExchangeFailure::NoTokenEndpoint(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
    request
        .request_async(&observed(client_http(timeout), slug, Endpoint::Token))
        .await
        .map_err(|e| match e {
            ServerResponse(r) => ExchangeFailure::Refused {
                error: serde_json::to_value(r.error())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| r.error().to_string()),
                description: r.error_description().cloned().unwrap_or_default(),
            },
            Request(openidconnect::HttpClientError::Reqwest(re)) => {
                ExchangeFailure::Unreachable(describe(&re, timeout))
            }
            Request(other) => ExchangeFailure::Unreachable(other.to_string()),
            Parse(pe, _) => ExchangeFailure::Unusable(format!("token response: {pe}")),
            Other(msg) => ExchangeFailure::Unusable(msg),
        })
}

/// A verified ID token.
pub struct Identity {
    /// The token as sent (kept for sign-out at the provider).
    pub raw: String,
    pub subject: String,
    /// Its claims as JSON (standard and other).
    pub claims: Map<String, Value>,
    /// Which key of the provider's JWKS verified it.
    pub verified_by: Option<String>,
}

/// The ID token in `tokens`, verified ([`jwt::verify_id_token`]) with the attempt's `nonce`.
pub fn id_token(
    client: &ProviderClient,
    metadata: &Metadata,
    tokens: &Tokens,
    nonce: &str,
) -> Result<Identity, IdTokenFailure> {
    let token: &IdToken = tokens.id_token().ok_or(IdTokenFailure {
        problem: IdTokenProblem::Missing,
        detail: "token response without id_token".to_owned(),
    })?;
    let (claims, verified_by) =
        jwt::verify_id_token(client, metadata, token, &Nonce::new(nonce.to_owned()))
            .map_err(id_token_failure)?;
    Ok(Identity {
        raw: token.to_string(),
        subject: claims.subject().to_string(),
        claims: match serde_json::to_value(&claims) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        verified_by,
    })
}

fn id_token_failure(e: ClaimsVerificationError) -> IdTokenFailure {
    use ClaimsVerificationError as C;
    use IdTokenProblem::*;
    use SignatureVerificationError as S;
    let problem = match &e {
        C::InvalidIssuer(_) => Issuer,
        C::InvalidAudience(_) => Audience,
        C::InvalidNonce(_) => Nonce,
        C::Expired(_) => Expired,
        C::Other(msg) if msg.contains("issued") => IssuedAt,
        C::SignatureVerification(S::NoMatchingKey) => NoMatchingKey,
        C::SignatureVerification(S::CryptoError(_)) => BadSignature,
        C::SignatureVerification(S::DisallowedAlg(_) | S::UnsupportedAlg(_)) => Algorithm,
        C::SignatureVerification(S::NoSignature) => Unsigned,
        C::SignatureVerification(_) => Signature,
        _ => Other,
    };
    let detail = match &e {
        C::SignatureVerification(s) => s.to_string(),
        other => other.to_string(),
    };
    IdTokenFailure { problem, detail }
}

/// The userinfo claims for `subject` (`None`: the provider has no userinfo endpoint);
/// counted as provider `slug`'s when given ([`observed`]).
pub async fn userinfo(
    client: &ProviderClient,
    metadata: &Metadata,
    tokens: &Tokens,
    subject: &str,
    timeout: Duration,
    slug: Option<&str>,
) -> Result<Option<Map<String, Value>>, UserInfoFailure> {
    if metadata.userinfo_endpoint().is_none() {
        return Ok(None);
    }
    let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> = client
        .user_info(
            tokens.access_token().clone(),
            Some(SubjectIdentifier::new(subject.to_owned())),
        )
        .map_err(|e| UserInfoFailure::Misconfigured(e.to_string()))?
        .request_async(&observed(client_http(timeout), slug, Endpoint::Userinfo))
        .await
        .map_err(|e| match e {
            openidconnect::UserInfoError::ClaimsVerification(
                ClaimsVerificationError::InvalidSubject(_),
            ) => UserInfoFailure::Subject,
            openidconnect::UserInfoError::Request(openidconnect::HttpClientError::Reqwest(re)) => {
                UserInfoFailure::Unreachable(describe(&re, timeout))
            }
            other => UserInfoFailure::Failed(other.to_string()),
        })?;
    Ok(match serde_json::to_value(&info) {
        Ok(Value::Object(map)) => Some(map),
        _ => Some(Map::new()),
    })
}

/// Overlays the userinfo claims on the ID token's (`sub` stays the ID token's).
pub fn merge_userinfo(claims: &mut Map<String, Value>, userinfo: Map<String, Value>) {
    for (k, v) in userinfo {
        if k != "sub" {
            claims.insert(k, v);
        }
    }
}
