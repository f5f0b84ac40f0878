//! JSON Web Tokens from providers, in one place: ID tokens (verified by `openidconnect`'s
//! `IdTokenVerifier` under our policy), logout tokens (their signature checked here with
//! `openidconnect`'s key code; their claim rules are `logout`'s), and a token's header and
//! claims as sent, for the Test sign-in report. The policy is the same for both kinds: only
//! the asymmetric algorithms the provider advertises (never `none`, never an HMAC, which
//! with a public key as the secret is the classic downgrade), and a recent `iat`.

use super::discovery::Metadata;
use super::flow::{OtherClaims, RpClient};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeyUse, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, EndpointState, IdTokenVerifier, JsonWebKey, JsonWebKeySet, Nonce,
};
use serde_json::{Map, Value};

pub type IdToken = openidconnect::IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
pub type IdTokenClaims = openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// A token's `iat` may be this far in the future (clock skew) ...
pub const IAT_LEEWAY_SECS: i64 = 60;
/// ... and no older than this.
pub const IAT_MAX_AGE_SECS: i64 = 10 * 60;

/// Whether a token issued at `iat` is recent at `now`; the error says how it is not.
pub fn recent(iat: i64, now: i64) -> Result<(), String> {
    if iat > now + IAT_LEEWAY_SECS {
        Err(format!("issued {}s in the future", iat - now))
    } else if iat < now - IAT_MAX_AGE_SECS {
        Err(format!("issued {}s ago", now - iat))
    } else {
        Ok(())
    }
}

pub fn is_asymmetric(alg: &CoreJwsSigningAlgorithm) -> bool {
    use CoreJwsSigningAlgorithm::*;
    matches!(
        alg,
        RsaSsaPkcs1V15Sha256
            | RsaSsaPkcs1V15Sha384
            | RsaSsaPkcs1V15Sha512
            | EcdsaP256Sha256
            | EcdsaP384Sha384
            | EcdsaP521Sha512
            | RsaSsaPssSha256
            | RsaSsaPssSha384
            | RsaSsaPssSha512
            | EdDsa
    )
}

/// The algorithms a provider's tokens may be signed with: the asymmetric ones it advertises.
pub fn allowed_algs(metadata: &Metadata) -> Vec<CoreJwsSigningAlgorithm> {
    metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| is_asymmetric(a))
        .cloned()
        .collect()
}

/// The ID token verifier for `client`: signature, `iss`, `aud`, `exp` as `openidconnect`
/// checks them, with [`allowed_algs`] and a [`recent`] `iat`.
pub fn id_token_verifier<'a, HA, HT, HU>(
    client: &'a RpClient<HA, HT, HU>,
    metadata: &Metadata,
) -> IdTokenVerifier<'a, CoreJsonWebKey>
where
    HA: EndpointState,
    HT: EndpointState,
    HU: EndpointState,
{
    client
        .id_token_verifier()
        .set_allowed_algs(allowed_algs(metadata))
        .set_issue_time_verifier_fn(|iat| recent(iat.timestamp(), crate::ssr::clock::now()))
}

/// The verified claims of `token`, and which key of the provider's JWKS verified it (as
/// [`describe_key`] puts it).
pub fn verify_id_token<HA, HT, HU>(
    client: &RpClient<HA, HT, HU>,
    metadata: &Metadata,
    token: &IdToken,
    nonce: &Nonce,
) -> Result<(IdTokenClaims, Option<String>), ClaimsVerificationError>
where
    HA: EndpointState,
    HT: EndpointState,
    HU: EndpointState,
{
    let verifier = id_token_verifier(client, metadata);
    let claims = token.claims(&verifier, nonce)?.clone();
    let key = match (token.signing_key(&verifier), token.signing_alg()) {
        (Ok(key), Ok(alg)) => Some(describe_key(key, &alg_name(alg), metadata)),
        _ => None,
    };
    Ok((claims, key))
}

/// E.g. "kid k1 (RSA, RS256) from http://idp/jwks".
fn describe_key(key: &CoreJsonWebKey, alg: &str, metadata: &Metadata) -> String {
    let kty = serde_json::to_value(key.key_type())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "kid {} ({kty}, {alg}) from {}",
        key_id(key),
        metadata.jwks_uri()
    )
}

fn key_id(key: &CoreJsonWebKey) -> String {
    key.key_id()
        .map_or("(no kid)".to_owned(), |k| k.to_string())
}

/// The key ids of the provider's JWKS.
pub fn key_ids(metadata: &Metadata) -> Vec<String> {
    metadata.jwks().keys().iter().map(key_id).collect()
}

/// An algorithm as a JOSE header names it ("RS256").
pub fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("no key of the provider matches the token")]
    NoMatchingKey,
    #[error("{0}")]
    Invalid(String),
}

fn bad(why: impl Into<String>) -> JwtError {
    JwtError::Invalid(why.into())
}

/// A compact JWS as sent, nothing verified yet.
pub struct Jws<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    pub fn parse(token: &'a str) -> Result<Jws<'a>, JwtError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err(bad("the token is not a signed JWT (three parts)"));
        };
        let b64 = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| bad("the token is not base64url"))
        };
        let header = serde_json::from_slice(&b64(header)?)
            .map_err(|_| bad("the token's header is not JSON"))?;
        let claims = serde_json::from_slice(&b64(payload)?)
            .map_err(|_| bad("the token's payload is not a JSON object"))?;
        Ok(Jws {
            header,
            claims,
            signing_input: &token[..token.len() - signature.len() - 1],
            signature: b64(signature)?,
        })
    }

    /// A header parameter that is a string (`alg`, `kid`, `typ`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Checks the signature against `jwks` with one of `allowed`; then the claims may be read.
    pub fn verify(
        &self,
        jwks: &JsonWebKeySet<CoreJsonWebKey>,
        allowed: &[CoreJwsSigningAlgorithm],
    ) -> Result<(), JwtError> {
        let alg: CoreJwsSigningAlgorithm = self
            .header
            .get("alg")
            .cloned()
            .and_then(|a| serde_json::from_value(a).ok())
            .ok_or_else(|| bad("the token's header has no usable alg"))?;
        if !allowed.contains(&alg) {
            return Err(bad(format!(
                "the token is signed with {}, which is not an asymmetric algorithm the provider advertises",
                self.header["alg"]
            )));
        }
        let kid = self.param("kid");
        let keys: Vec<&CoreJsonWebKey> = jwks
            .keys()
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid)))
            .filter(|k| {
                k.key_use()
                    .is_none_or(|u| *u == CoreJsonWebKeyUse::Signature)
            })
            .collect();
        if keys.is_empty() {
            return Err(JwtError::NoMatchingKey);
        }
        if keys.iter().any(|k| {
            k.verify_signature(&alg, self.signing_input.as_bytes(), &self.signature)
                .is_ok()
        }) {
            Ok(())
        } else {
            Err(bad("the token's signature does not verify"))
        }
    }
}

/// The claims of `token` once its signature checks out against `jwks` with one of `allowed`.
pub fn verified_claims(
    token: &str,
    jwks: &JsonWebKeySet<CoreJsonWebKey>,
    allowed: &[CoreJwsSigningAlgorithm],
) -> Result<Map<String, Value>, JwtError> {
    let jws = Jws::parse(token)?;
    jws.verify(jwks, allowed)?;
    Ok(jws.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_tokens_are_refused_before_any_key_is_used() {
        let jwks = JsonWebKeySet::<CoreJsonWebKey>::new(vec![]);
        let rs = [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256];
        assert!(verified_claims("a.b", &jwks, &rs).is_err());
        assert!(verified_claims("a.b.c.d.e", &jwks, &rs).is_err());
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let hs = format!("{}.{}.sig", enc(json!({"alg": "HS256"})), enc(json!({})));
        assert!(matches!(
            verified_claims(&hs, &jwks, &rs),
            Err(JwtError::Invalid(_))
        ));
        let none = format!("{}.{}.", enc(json!({"alg": "none"})), enc(json!({})));
        assert!(verified_claims(&none, &jwks, &rs).is_err());
        let rs256 = format!(
            "{}.{}.c2ln",
            enc(json!({"alg": "RS256", "kid": "k"})),
            enc(json!({}))
        );
        assert_eq!(
            verified_claims(&rs256, &jwks, &rs),
            Err(JwtError::NoMatchingKey)
        );
    }

    #[test]
    fn a_token_as_sent_shows_its_header_and_claims() {
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let raw = format!(
            "{}.{}.",
            enc(json!({"alg": "none", "typ": "JWT"})),
            enc(json!({"sub": "mallory"}))
        );
        let jws = Jws::parse(&raw).unwrap();
        assert_eq!(jws.param("alg"), Some("none"));
        assert_eq!(jws.param("kid"), None);
        assert_eq!(jws.claims["sub"], "mallory");
    }

    #[test]
    fn only_recent_tokens() {
        assert!(recent(1000, 1000).is_ok());
        assert!(recent(1000 + IAT_LEEWAY_SECS, 1000).is_ok());
        assert_eq!(recent(1100, 1000), Err("issued 100s in the future".into()));
        assert_eq!(recent(0, 1000), Err("issued 1000s ago".into()));
    }
}
