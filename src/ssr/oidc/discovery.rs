//! OpenID Connect Discovery: fetch and check an issuer's metadata and signing keys.

use super::http::{client, describe, observed};
use crate::provider::{ConnectionReport, is_loopback};
use crate::ssr::metrics::Endpoint;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, DiscoveryError, HttpClientError, IssuerUrl, ProviderMetadata,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Discovery fields `openidconnect`'s core metadata does not model but we act on.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider sends `iss` with every authorization response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// OpenID Connect RP-Initiated Logout 1.0: where a browser signs out at the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

/// `ProviderMetadata` over the core types with `E`, the fields the crate does not model: the
/// relying party's [`ExtraMetadata`] (what it reads) and the OpenID Provider's
/// (`op::metadata`, what it publishes).
pub type CoreMetadataWith<E> = ProviderMetadata<
    E,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

pub type Metadata = CoreMetadataWith<ExtraMetadata>;

/// Fetches the discovery document and JWKS; the crate checks that the document's `issuer`
/// equals `issuer` exactly. The requests count as provider `slug`'s when it is given
/// ([`observed`]).
pub async fn discover(
    issuer: &str,
    timeout: Duration,
    slug: Option<&str>,
) -> Result<Metadata, String> {
    let issuer_url = IssuerUrl::new(issuer.to_owned())
        .map_err(|e| format!("The issuer URL is not valid: {e}."))?;
    let http = client(timeout);
    let metadata = Metadata::discover_async(issuer_url, &observed(http, slug, Endpoint::Discovery))
        .await
        .map_err(|e| explain(issuer, &e, timeout))?;
    check_endpoints(issuer, &metadata)?;
    Ok(metadata)
}

/// The endpoints a discovery document names must not downgrade the issuer's transport:
/// https when the issuer is https; for a plain-http issuer (allowed on loopback or by
/// `--allow-insecure-issuers`), http only on the issuer's own host or loopback.
fn check_endpoints(issuer: &str, metadata: &Metadata) -> Result<(), String> {
    let Ok(issuer_url) = url::Url::parse(issuer) else {
        return Ok(());
    };
    let mut endpoints: Vec<(&str, url::Url)> = vec![
        (
            "authorization_endpoint",
            metadata.authorization_endpoint().url().clone(),
        ),
        ("jwks_uri", metadata.jwks_uri().url().clone()),
    ];
    if let Some(t) = metadata.token_endpoint() {
        endpoints.push(("token_endpoint", t.url().clone()));
    }
    if let Some(u) = metadata.userinfo_endpoint() {
        endpoints.push(("userinfo_endpoint", u.url().clone()));
    }
    // Sign-out sends the ID token there (id_token_hint).
    if let Some(u) = &metadata.additional_metadata().end_session_endpoint {
        let u = url::Url::parse(u).map_err(|e| {
            format!("The provider's discovery document names an end_session_endpoint that is not a URL: {e}.")
        })?;
        endpoints.push(("end_session_endpoint", u));
    }
    for (name, url) in endpoints {
        let ok = match url.scheme() {
            "https" => true,
            "http" if issuer_url.scheme() == "http" => {
                url.host_str() == issuer_url.host_str() || is_loopback(&url)
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "The provider's discovery document names {name} {url}, which is not https while the issuer {issuer} is; Portcullis will not send codes, secrets or tokens over it."
            ));
        }
    }
    Ok(())
}

fn explain(
    issuer: &str,
    e: &DiscoveryError<HttpClientError<reqwest::Error>>,
    timeout: Duration,
) -> String {
    let doc = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    match e {
        DiscoveryError::Request(HttpClientError::Reqwest(re)) => {
            format!(
                "Could not reach the provider at {doc}: {}.",
                describe(re, timeout)
            )
        }
        DiscoveryError::Request(other) => {
            format!("Could not reach the provider at {doc}: {other}.")
        }
        DiscoveryError::Response(status, _, _) if status.is_redirection() => format!(
            "{doc} answered with a redirect (HTTP {status}); enter the issuer URL exactly as the provider's discovery document states it."
        ),
        DiscoveryError::Response(status, _, msg) => format!(
            "{doc} answered HTTP {status} ({msg}); check the issuer URL (for Keycloak it ends in /realms/<realm>)."
        ),
        DiscoveryError::Parse(pe) => format!(
            "{doc} (or its JWKS) is not a valid OpenID Connect document: {pe}. Is this the issuer URL of an OpenID Provider?"
        ),
        DiscoveryError::Validation(msg) if msg.contains("issuer") => format!(
            "Issuer mismatch: {msg}. Enter the issuer exactly as the discovery document states it (trailing slash included)."
        ),
        DiscoveryError::Validation(msg) => {
            format!("The discovery document is not acceptable: {msg}.")
        }
        DiscoveryError::UrlParse(pe) => format!("The issuer URL cannot be used: {pe}."),
        DiscoveryError::Other(msg) => format!("Discovery failed: {msg}."),
        _ => format!("Discovery failed: {e}."),
    }
}

/// "Test connection": discovery plus a plain-words account of what was found.
pub async fn test_connection(
    issuer: &str,
    wanted_scopes: &[String],
    timeout: Duration,
) -> ConnectionReport {
    let started = Instant::now();
    let result = discover(issuer, timeout, None).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let meta = match result {
        Ok(meta) => meta,
        Err(summary) => {
            return ConnectionReport {
                ok: false,
                summary,
                elapsed_ms,
                ..ConnectionReport::default()
            };
        }
    };
    let scopes_supported: Vec<String> = meta
        .scopes_supported()
        .map(|v| v.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let signing_algorithms: Vec<String> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .map(serde_plain)
        .collect();
    let token_auth_methods: Vec<String> = meta
        .token_endpoint_auth_methods_supported()
        .map(|v| v.iter().map(serde_plain).collect())
        .unwrap_or_default();
    let pkce = meta
        .additional_metadata()
        .code_challenge_methods_supported
        .as_ref()
        .map(|m| m.iter().any(|x| x == "S256"));
    let signing_keys = meta.jwks().keys().len();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    if meta.token_endpoint().is_none() {
        problems.push("it has no token endpoint".to_owned());
    }
    if signing_keys == 0 {
        problems.push("its JWKS holds no keys, so no ID token could be verified".to_owned());
    }
    if signing_algorithms
        .iter()
        .all(|a| a == "none" || a.starts_with("HS"))
    {
        problems
            .push("it signs ID tokens with no asymmetric algorithm (RS256, ES256, ...)".to_owned());
    }
    match pkce {
        Some(false) => warnings.push(
            "It does not list S256 among its PKCE methods; sign-in still sends a PKCE challenge."
                .to_owned(),
        ),
        None => warnings.push(
            "It does not say whether it supports PKCE (code_challenge_methods_supported)."
                .to_owned(),
        ),
        Some(true) => {}
    }
    if !scopes_supported.is_empty() {
        for scope in wanted_scopes
            .iter()
            .filter(|s| !scopes_supported.contains(s))
        {
            warnings.push(format!(
                "It does not list the scope \"{scope}\" as supported."
            ));
        }
    }
    if !token_auth_methods.is_empty()
        && !token_auth_methods
            .iter()
            .any(|m| m == "client_secret_basic" || m == "client_secret_post")
    {
        problems.push(
            "it accepts neither client_secret_basic nor client_secret_post at the token endpoint"
                .to_owned(),
        );
    }
    let ok = problems.is_empty();
    let summary = if ok {
        format!(
            "Connected: the issuer matches, {signing_keys} signing key{} found, sign-in can work.",
            if signing_keys == 1 { "" } else { "s" }
        )
    } else {
        format!("The provider answered, but {}.", problems.join("; "))
    };
    ConnectionReport {
        ok,
        summary,
        issuer: Some(meta.issuer().to_string()),
        authorization_endpoint: Some(meta.authorization_endpoint().to_string()),
        token_endpoint: meta.token_endpoint().map(|u| u.to_string()),
        userinfo_endpoint: meta.userinfo_endpoint().map(|u| u.to_string()),
        jwks_uri: Some(meta.jwks_uri().to_string()),
        signing_keys,
        scopes_supported,
        signing_algorithms,
        pkce_s256: pkce,
        token_auth_methods,
        end_session_endpoint: meta.additional_metadata().end_session_endpoint.clone(),
        warnings,
        elapsed_ms,
    }
}

/// An enum's wire name ("RS256", "client_secret_basic") through its serde form.
fn serde_plain<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;

    fn metadata(issuer: &str, token: &str, jwks: &str) -> Metadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": token,
            "userinfo_endpoint": format!("{issuer}/me"),
            "jwks_uri": jwks,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .unwrap()
    }

    /// An https issuer keeps every endpoint on https; a plain-http one may use http on its
    /// own host or loopback. (issuer, token endpoint, JWKS URI, what a refusal names or "")
    const CASES: [(&str, &str, &str, &str); 5] = [
        (
            "https://sso.example",
            "https://sso.example/token",
            "https://keys.example/jwks",
            "",
        ),
        (
            "https://sso.example",
            "http://sso.example/token",
            "https://sso.example/jwks",
            "token_endpoint http://sso.example/token",
        ),
        (
            "https://sso.example",
            "https://sso.example/token",
            "http://sso.example/jwks",
            "jwks_uri",
        ),
        (
            "http://idp.lan",
            "http://idp.lan/token",
            "http://127.0.0.1:9/jwks",
            "",
        ),
        (
            "http://idp.lan",
            "http://elsewhere.lan/token",
            "http://idp.lan/jwks",
            "token_endpoint",
        ),
    ];

    #[test]
    fn http_endpoints_only_for_a_plain_http_issuer_on_its_own_host_or_loopback() {
        for (issuer, token, jwks, refusal) in CASES {
            let checked = check_endpoints(issuer, &metadata(issuer, token, jwks));
            match checked {
                Ok(()) => assert_eq!(refusal, "", "{issuer} {token} {jwks}"),
                Err(e) => assert!(!refusal.is_empty() && e.contains(refusal), "{e}"),
            }
        }
    }
}
