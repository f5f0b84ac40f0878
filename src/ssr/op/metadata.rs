//! The discovery document (OpenID Connect Discovery 1.0 §3, RFC 8414): `openidconnect`'s
//! `ProviderMetadata` over the core types (`CoreProviderMetadata` with the few fields the
//! crate does not model added through `AdditionalProviderMetadata`, as the relying party's
//! `ExtraMetadata` does). It lists only what Portcullis does or what the next slices bring
//! behind an endpoint already routed: see [`provider_metadata`].

use super::signer::Alg;
use crate::ssr::oidc::discovery::CoreMetadataWith;
use openidconnect::core::{
    CoreClaimName, CoreClientAuthMethod, CoreGrantType, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IssuerUrl, JsonWebKeySetUrl, ResponseTypes, Scope,
    TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// RFC 8414's name for the same document (an issuer without a path).
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
/// RP-Initiated Logout's end-session endpoint, and where its question posts.
pub const END_SESSION_PATH: &str = "/oauth2/logout";
pub const END_SESSION_CONFIRM_PATH: &str = "/oauth2/logout/confirm";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
/// RFC 8628's device authorization endpoint (the person types the code at
/// `device::DEVICE_PATH`).
pub const DEVICE_AUTHORIZATION_PATH: &str = "/oauth2/device_authorization";
/// Where a request that waited for sign-in continues: `/oauth2/continue/<id>`.
pub const CONTINUE_PATH: &str = "/oauth2/continue";
/// Where the consent page and the account choice post: `/oauth2/answer/<id>` of the
/// request that waits for the answer.
pub const ANSWER_PATH: &str = "/oauth2/answer";

/// Discovery fields `openidconnect`'s `ProviderMetadata` does not model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct OpExtraMetadata {
    /// RFC 7636: only S256 (`plain` is never accepted).
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 7009 (RFC 8414 §2).
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    /// RFC 7662 (RFC 8414 §2).
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    /// RP-Initiated Logout 1.0 §2.1.
    pub end_session_endpoint: String,
    /// Back-Channel Logout 1.0 §2.1: logout tokens reach clients with a back-channel URI,
    /// and carry `sid`.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    /// RFC 8628 §4.
    pub device_authorization_endpoint: String,
}
impl AdditionalProviderMetadata for OpExtraMetadata {}

/// `CoreProviderMetadata` with [`OpExtraMetadata`].
pub type OpProviderMetadata = CoreMetadataWith<OpExtraMetadata>;

/// The scopes Portcullis grants (a client may be allowed fewer).
pub const SCOPES: [&str; 5] = crate::apps::client::SCOPES;

/// The claims the ID token and userinfo carry (docs/openid-provider.md §3.6).
pub const CLAIMS: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "sid",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "groups",
];

/// The document for `public_url` (no trailing slash), which is the issuer.
///
/// Honest about what exists (`server/src/op.rs`): the authorization, token, userinfo,
/// revocation and introspection endpoints, `code` only, `query` responses, S256 PKCE, `iss`
/// in the response, refresh tokens with `offline_access`, the device authorization grant
/// (RFC 8628), the three client authentications (the same at every endpoint that
/// authenticates clients), no request objects. `end_session_endpoint` is RP-Initiated
/// Logout; back-channel logout (with `sid`) is sent by `op::logout`.
pub fn provider_metadata(public_url: &str) -> Result<OpProviderMetadata, String> {
    let at = |path: &str| format!("{public_url}{path}");
    fn e(what: &'static str) -> impl Fn(url::ParseError) -> String {
        move |err| format!("{what}: {err}")
    }
    let metadata = OpProviderMetadata::new(
        IssuerUrl::new(public_url.to_owned()).map_err(e("issuer"))?,
        AuthUrl::new(at(AUTHORIZE_PATH)).map_err(e("authorization endpoint"))?,
        JsonWebKeySetUrl::new(at(JWKS_PATH)).map_err(e("jwks_uri"))?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        Alg::ALL.into_iter().map(Alg::jws).collect(),
        OpExtraMetadata {
            code_challenge_methods_supported: vec!["S256".to_owned()],
            authorization_response_iss_parameter_supported: true,
            revocation_endpoint: at(REVOKE_PATH),
            revocation_endpoint_auth_methods_supported: client_auth_methods(),
            introspection_endpoint: at(INTROSPECT_PATH),
            introspection_endpoint_auth_methods_supported: client_auth_methods(),
            end_session_endpoint: at(END_SESSION_PATH),
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
            device_authorization_endpoint: at(DEVICE_AUTHORIZATION_PATH),
        },
    )
    .set_token_endpoint(Some(
        TokenUrl::new(at(TOKEN_PATH)).map_err(e("token endpoint"))?,
    ))
    .set_userinfo_endpoint(Some(
        UserInfoUrl::new(at(USERINFO_PATH)).map_err(e("userinfo endpoint"))?,
    ))
    .set_scopes_supported(Some(SCOPES.map(|s| Scope::new(s.to_owned())).to_vec()))
    .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
        CoreGrantType::DeviceCode,
    ]))
    .set_token_endpoint_auth_methods_supported(Some(client_auth_methods()))
    .set_claims_supported(Some(
        CLAIMS.map(|c| CoreClaimName::new(c.to_owned())).to_vec(),
    ))
    .set_claims_parameter_supported(Some(false))
    .set_request_parameter_supported(Some(false))
    // Discovery's default for this one is true: say no.
    .set_request_uri_parameter_supported(Some(false));
    Ok(metadata)
}

/// How clients authenticate, at the token, revocation and introspection endpoints alike.
fn client_auth_methods() -> Vec<CoreClientAuthMethod> {
    vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::None,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_the_issuer_and_nothing_not_built() {
        let m = provider_metadata("https://sso.example.com").unwrap();
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["issuer"], "https://sso.example.com");
        assert_eq!(json["jwks_uri"], "https://sso.example.com/oauth2/jwks");
        assert_eq!(
            json["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "ES256"])
        );
        assert_eq!(
            json["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(json["request_uri_parameter_supported"], false);
        assert_eq!(json["backchannel_logout_supported"], true);
        assert_eq!(json["backchannel_logout_session_supported"], true);
        // What is not built yet is not advertised: server/tests/op_discovery.rs.
        // It reads back as the crate's own type, as a relying party would read it.
        let back: OpProviderMetadata = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }
}
