//! The ID token, the token response and userinfo (`docs/openid-provider.md` §3.6), built
//! with `openidconnect`'s types and signed by the provider's own keys (`signer`). Both the ID
//! token and userinfo carry the scope's claims: many self-hosted applications read only the
//! ID token.

use super::grants::{ACCESS_TTL, Exchanged, Grant, Introspected};
use super::keys::OpKeys;
use super::signer::Alg;
use crate::ssr::groups::Identity;
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthenticationMethodReference, ClientId,
    EmptyExtraTokenFields, EndUserEmail, EndUserName, EndUserUsername, IdToken, IdTokenClaims,
    IdTokenFields, IssuerUrl, Nonce, RefreshToken, Scope, StandardClaims, StandardTokenResponse,
    SubjectIdentifier, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

/// The claims `openidconnect` does not model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpClaims {
    /// The Portcullis session (Back-Channel Logout's `sid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// With the `groups` scope: the groups forward auth hands on (`Remote-Groups`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// The upstream provider (its slug) the person signed in through, with `amr: ["fed"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}
impl AdditionalClaims for OpClaims {}

pub type OpIdToken =
    IdToken<OpClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
pub type OpTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OpClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
pub type OpUserInfo = UserInfoClaims<OpClaims, CoreGenderClaim>;

/// `amr` and `idp` from a grant's stored `amr` (`pwd`, `hwk user`, `swk user`, or
/// `fed idp:<slug>`).
fn amr_and_idp(amr: &str) -> (Vec<String>, Option<String>) {
    let mut values = Vec::new();
    let mut idp = None;
    for v in amr.split(' ').filter(|v| !v.is_empty()) {
        match v.strip_prefix("idp:") {
            Some(slug) => idp = Some(slug.to_owned()),
            None => values.push(v.to_owned()),
        }
    }
    (values, idp)
}

/// The claims of `who` the grant's scope lets the application see.
fn claims(grant: &Grant, who: &Identity) -> (StandardClaims<CoreGenderClaim>, OpClaims) {
    let has = |s: &str| grant.scope.iter().any(|x| x == s);
    let mut c = StandardClaims::new(SubjectIdentifier::new(grant.who.user_id.clone()));
    if has("profile") {
        c = c
            .set_name(Some(EndUserName::new(who.display_name.clone()).into()))
            .set_preferred_username(Some(EndUserUsername::new(who.username.clone())));
    }
    if has("email")
        && let Some(email) = &who.email
    {
        c = c
            .set_email(Some(EndUserEmail::new(email.clone())))
            .set_email_verified(Some(true));
    }
    let (_, idp) = amr_and_idp(&grant.who.amr);
    let extra = OpClaims {
        sid: Some(grant.who.sid.clone()),
        groups: has("groups").then(|| who.groups.clone()),
        idp,
    };
    (c, extra)
}

/// The token response for an exchanged code or refresh token: the access token, its lifetime
/// and scope, the refresh token (with `offline_access`), and the ID token signed with the
/// client's algorithm (`at_hash` set).
pub fn token_response(
    keys: &OpKeys,
    issuer: &str,
    client_id: &str,
    id_token_alg: &str,
    tokens: &Exchanged,
    who: &Identity,
) -> Result<OpTokenResponse, String> {
    let grant = &tokens.grant;
    let now = chrono::DateTime::from_timestamp(crate::ssr::clock::now(), 0)
        .ok_or("the clock is out of range")?;
    let ttl = chrono::Duration::seconds(ACCESS_TTL);
    let (standard, extra) = claims(grant, who);
    let (amr, _) = amr_and_idp(&grant.who.amr);
    let auth_time = chrono::DateTime::from_timestamp(grant.who.auth_time, 0);
    let claims = IdTokenClaims::new(
        IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?,
        vec![Audience::new(client_id.to_owned())],
        now + ttl,
        now,
        standard,
        extra,
    )
    .set_auth_time(auth_time)
    .set_nonce(grant.nonce.clone().map(Nonce::new))
    .set_auth_method_refs(Some(
        amr.into_iter()
            .map(AuthenticationMethodReference::new)
            .collect(),
    ));
    let alg = Alg::parse(id_token_alg).unwrap_or(Alg::Rs256);
    let key = keys.signing(alg);
    let access = AccessToken::new(tokens.access_token.clone());
    let id_token = OpIdToken::new(claims, key.as_ref(), alg.jws(), Some(&access), None)
        .map_err(|e| e.to_string())?;
    let mut res = OpTokenResponse::new(
        access,
        CoreTokenType::Bearer,
        IdTokenFields::new(Some(id_token), EmptyExtraTokenFields {}),
    );
    res.set_expires_in(Some(&std::time::Duration::from_secs(ACCESS_TTL as u64)));
    res.set_scopes(Some(grant.scope.iter().cloned().map(Scope::new).collect()));
    res.set_refresh_token(tokens.refresh_token.clone().map(RefreshToken::new));
    Ok(res)
}

/// The introspection answer (RFC 7662 §2.2) for a token of client `client_id`: `found` when
/// it is live ([`super::grants::introspect`]), else `{"active": false}` alone.
pub fn introspection(
    issuer: &str,
    client_id: &str,
    found: Option<Introspected>,
) -> CoreTokenIntrospectionResponse {
    let mut res = CoreTokenIntrospectionResponse::new(found.is_some(), EmptyExtraTokenFields {});
    if let Some(t) = found {
        let time = |s: i64| chrono::DateTime::from_timestamp(s, 0);
        res.set_scopes(Some(t.scope.into_iter().map(Scope::new).collect()));
        res.set_client_id(Some(ClientId::new(client_id.to_owned())));
        res.set_token_type((t.kind == "access").then_some(CoreTokenType::Bearer));
        res.set_iat(time(t.issued_at));
        res.set_exp(time(t.expires_at));
        res.set_sub(Some(t.user_id));
        res.set_aud(Some(vec![client_id.to_owned()]));
        res.set_iss(Some(issuer.to_owned()));
    }
    res
}

/// The userinfo body for `grant`'s access token.
pub fn userinfo(grant: &Grant, who: &Identity) -> OpUserInfo {
    let (standard, extra) = claims(grant, who);
    OpUserInfo::new(standard, extra)
}

/// A grant's `amr` for a session signed in `via`.
pub fn amr_of(session: &crate::ssr::session::SessionData) -> String {
    use crate::ssr::session::SignedInVia;
    let first = match &session.via {
        Some(SignedInVia::Provider { slug, .. }) => format!("fed idp:{slug}"),
        // RFC 8176: a key kept in hardware or software, and the user verified by it.
        Some(SignedInVia::Passkey { synced: false }) => "hwk user".to_owned(),
        Some(SignedInVia::Passkey { synced: true }) => "swk user".to_owned(),
        Some(SignedInVia::Password { otp: true }) => "pwd otp".to_owned(),
        _ => "pwd".to_owned(),
    };
    // `mfa` where two factors were shown (also by a step-up since), so an application can
    // ask for it as peers' tokens say it.
    if session.two_factors() {
        format!("{first} mfa")
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::amr_and_idp;

    #[test]
    fn amr_and_the_upstream_provider() {
        assert_eq!(amr_and_idp("pwd"), (vec!["pwd".to_owned()], None));
        assert_eq!(
            amr_and_idp("fed idp:corp"),
            (vec!["fed".to_owned()], Some("corp".to_owned()))
        );
    }
}
