//! The `openidconnect` client as the relying party uses it: its claims, its token and
//! client types, the client authentication it picks, and its HTTP client.

use super::super::discovery::Metadata;
use super::super::http::{PROVIDER_TIMEOUT, client};
use crate::ssr::providers::ProviderRow;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, Client, EmptyExtraTokenFields, IdTokenFields, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

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

pub const DEFAULT_TIMEOUT: Duration = PROVIDER_TIMEOUT;
