//! Signing out at the provider (OpenID Connect RP-Initiated Logout 1.0) and being signed out
//! by it (OpenID Connect Back-Channel Logout 1.0).
//!
//! Logout tokens are not ID tokens (no nonce, perhaps no `sub` or `exp`, an `events`
//! member), so `openidconnect`'s `IdTokenVerifier` cannot take them: their signature is
//! checked by the one JWT module (`jwt`, with `openidconnect`'s key code and the ID tokens'
//! algorithm policy), and the claim rules of §2.6 are plain code below, unit-tested.

use super::discovery::Metadata;
use super::flow::Rp;
use super::jwt::{self, IAT_LEEWAY_SECS, IAT_MAX_AGE_SECS, JwtError};
use crate::on_pool;
use crate::provider::post_logout_redirect_uri;
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::providers;
use crate::ssr::session::store::end;
use openidconnect::{ClientId, CsrfToken, EndSessionUrl, LogoutRequest, PostLogoutRedirectUrl};
use serde_json::{Map, Value};

/// How long a sign-out at the provider may take before its `state` is forgotten.
pub const STATE_TTL_SECS: i64 = 10 * 60;
/// The member `events` must have (§2.4).
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A sign-out sent on to the provider: where the browser goes, and the `state` it carries.
#[derive(Debug, Clone)]
pub struct EndSession {
    pub url: String,
    pub state: String,
}

/// Where to send a browser whose session, signed in through provider `slug`, has just ended
/// here, so that it signs out at the provider too. `None` when the provider is not set up
/// for it, has no `end_session_endpoint`, or cannot be reached (the local sign-out never
/// depends on the provider).
pub async fn end_session(
    rp: &Rp<'_>,
    slug: &str,
    id_token: Option<&str>,
) -> Result<Option<EndSession>, sqlx::Error> {
    let Some(row) = providers::get(rp.db, slug).await? else {
        return Ok(None);
    };
    if !row.settings.sign_out_at_provider {
        return Ok(None);
    }
    let metadata = match rp
        .cache
        .metadata(&row.slug, &row.issuer_url, row.updated_at, rp.timeout)
        .await
    {
        Ok(m) => m,
        Err(why) => {
            tracing::warn!(provider = ?row.slug, why = ?why, "sign-out stays local");
            return Ok(None);
        }
    };
    let Some(endpoint) = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .and_then(|e| EndSessionUrl::new(e).ok())
    else {
        return Ok(None);
    };
    let Ok(back) = PostLogoutRedirectUrl::new(post_logout_redirect_uri(rp.public_url, slug)) else {
        return Ok(None);
    };
    let state = CsrfToken::new_random();
    let mut request = LogoutRequest::from(endpoint)
        .set_client_id(ClientId::new(row.client_id.clone()))
        .set_post_logout_redirect_uri(back)
        .set_state(state.clone());
    if let Some(token) = id_token.and_then(|t| t.parse::<jwt::IdToken>().ok()) {
        request = request.set_id_token_hint(&token);
    }
    let url = request.http_get_url().to_string();
    let t = now();
    crate::exec!(
        rp.db,
        "DELETE FROM oidc_logout_states WHERE expires_at < $1",
        t
    )?;
    on_pool!(rp.db, pool => sqlx::query(
        "INSERT INTO oidc_logout_states (state, provider_slug, end_session_url, expires_at) \
         VALUES ($1, $2, $3, $4)")
        .bind(state.secret())
        .bind(slug)
        .bind(&url)
        .bind(t + STATE_TTL_SECS)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(Some(EndSession {
        url,
        state: state.secret().clone(),
    }))
}

/// The provider URL a sign-out with `state` continues to (for a browser without
/// JavaScript, which a form post may not send to another origin).
pub async fn continue_url(db: &Db, slug: &str, state: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT end_session_url FROM oidc_logout_states \
         WHERE state = $1 AND provider_slug = $2 AND expires_at >= $3")
        .bind(state)
        .bind(slug)
        .bind(now())
        .fetch_optional(pool)
        .await)
}

/// The browser came back from signing out at provider `slug` with `state`: true (once)
/// when this server sent it there.
pub async fn take_state(db: &Db, slug: &str, state: &str) -> Result<bool, sqlx::Error> {
    let n = crate::exec!(
        db,
        "DELETE FROM oidc_logout_states \
         WHERE state = $1 AND provider_slug = $2 AND expires_at >= $3",
        state,
        slug,
        now()
    )?;
    Ok(n == 1)
}

/// Why a logout token was refused (§2.8: answered 400).
#[derive(Debug, thiserror::Error)]
pub enum BackchannelError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn invalid(why: impl Into<String>) -> BackchannelError {
    BackchannelError::Invalid(why.into())
}

/// `POST /api/v1/oidc/<slug>/backchannel-logout`: validates `token` (§2.6) and ends the
/// sessions it names, in one statement. Returns how many ended.
pub async fn backchannel(rp: &Rp<'_>, slug: &str, token: &str) -> Result<u64, BackchannelError> {
    let Some(row) = providers::get(rp.db, slug).await? else {
        return Err(invalid("unknown provider"));
    };
    let metadata = rp
        .cache
        .metadata(&row.slug, &row.issuer_url, row.updated_at, rp.timeout)
        .await
        .map_err(|why| invalid(format!("the provider's keys are unavailable: {why}")))?;
    let claims = match verify(token, &metadata, &row.client_id, now()) {
        Err(VerifyError::NoMatchingKey) => {
            // Key rotation: fetch the JWKS again (rate-limited) and retry once.
            let Some(updated) = rp.cache.refresh_jwks(&row.slug, rp.timeout).await else {
                return Err(invalid("no key of the provider matches the token"));
            };
            verify(token, &updated, &row.client_id, now())
        }
        other => other,
    }
    .map_err(|e| invalid(e.to_string()))?;
    let t = now();
    crate::exec!(
        rp.db,
        "DELETE FROM oidc_logout_jtis WHERE expires_at < $1",
        t
    )?;
    let fresh = on_pool!(rp.db, pool => sqlx::query(
        "INSERT INTO oidc_logout_jtis (provider_slug, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING")
        .bind(slug)
        .bind(&claims.jti)
        .bind(claims.iat + IAT_MAX_AGE_SECS + IAT_LEEWAY_SECS)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if fresh == 0 {
        return Err(invalid("this logout token (jti) was already used"));
    }
    let ended = match (&claims.sid, &claims.sub) {
        (Some(sid), sub) => end::for_provider_session(rp.db, slug, sid, sub.as_deref()).await?,
        (None, Some(sub)) => end::for_identity(rp.db, slug, sub).await?,
        (None, None) => 0,
    };
    tracing::info!(provider = ?slug, ended, "back-channel logout");
    Ok(ended)
}

/// A logout token's claims that matter once it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutClaims {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    pub iat: i64,
}

/// Why a logout token was refused.
pub type VerifyError = JwtError;

fn bad(why: impl Into<String>) -> VerifyError {
    VerifyError::Invalid(why.into())
}

/// OpenID Connect Back-Channel Logout 1.0 §2.6, steps 2-7 (replay, step 8's `jti` part
/// beyond presence, is the caller's): signature with the provider's keys and the ID token
/// algorithm rules (only the asymmetric algorithms it advertises), `iss`, `aud`, `iat`,
/// `exp`, `jti`, `events`, `sid` and/or `sub`, no `nonce`.
pub fn verify(
    token: &str,
    metadata: &Metadata,
    client_id: &str,
    now: i64,
) -> Result<LogoutClaims, VerifyError> {
    let claims = jwt::verified_claims(token, metadata.jwks(), &jwt::allowed_algs(metadata))?;
    check_claims(&claims, metadata.issuer().as_str(), client_id, now)
}

fn check_claims(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: i64,
) -> Result<LogoutClaims, VerifyError> {
    let string = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    if string("iss").as_deref() != Some(issuer) {
        return Err(bad("iss is not the provider's issuer"));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("aud does not contain this client"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("iat is missing"))?;
    // "Recent" (§2.6 step 6), as for ID tokens; seen `jti`s are kept this long.
    jwt::recent(iat, now).map_err(|why| bad(format!("iat: {why}")))?;
    if let Some(exp) = claims.get("exp") {
        match exp.as_i64() {
            Some(exp) if exp + IAT_LEEWAY_SECS >= now => {}
            _ => return Err(bad("the token has expired")),
        }
    }
    let jti = string("jti").ok_or_else(|| bad("jti is missing"))?;
    let event_ok = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|e| e.get(BACKCHANNEL_EVENT))
        .is_some_and(Value::is_object);
    if !event_ok {
        return Err(bad(format!("events does not contain {BACKCHANNEL_EVENT}")));
    }
    if claims.contains_key("nonce") {
        return Err(bad("a logout token must not contain a nonce"));
    }
    let sub = string("sub");
    let sid = string("sid");
    if sub.is_none() && sid.is_none() {
        return Err(bad("the token names neither sid nor sub"));
    }
    Ok(LogoutClaims { sub, sid, jti, iat })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://idp.example";
    const NOW: i64 = 1_900_000_000;

    fn claims() -> Map<String, Value> {
        match json!({
            "iss": ISS, "aud": ["portcullis", "other"], "iat": NOW - 5, "exp": NOW + 120,
            "jti": "j1", "sid": "s1", "sub": "alice",
            "events": { BACKCHANNEL_EVENT: {} },
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn check(c: &Map<String, Value>) -> Result<LogoutClaims, VerifyError> {
        check_claims(c, ISS, "portcullis", NOW)
    }

    #[test]
    fn a_valid_token_names_its_session_and_subject() {
        let c = check(&claims()).unwrap();
        assert_eq!(c.sid.as_deref(), Some("s1"));
        assert_eq!(c.sub.as_deref(), Some("alice"));
        assert_eq!(c.jti, "j1");
        let mut only_sub = claims();
        only_sub.remove("sid");
        assert!(check(&only_sub).is_ok());
        let mut no_exp = claims();
        no_exp.remove("exp");
        assert!(check(&no_exp).is_ok());
    }

    #[test]
    fn each_rule_of_section_2_6_refuses() {
        type Change = Box<dyn Fn(&mut Map<String, Value>)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "iss",
                Box::new(|c| _ = c.insert("iss".into(), json!("https://evil"))),
            ),
            (
                "aud",
                Box::new(|c| _ = c.insert("aud".into(), json!("someone-else"))),
            ),
            ("iat missing", Box::new(|c| _ = c.remove("iat"))),
            (
                "iat old",
                Box::new(|c| _ = c.insert("iat".into(), json!(NOW - 3600))),
            ),
            (
                "iat future",
                Box::new(|c| _ = c.insert("iat".into(), json!(NOW + 3600))),
            ),
            (
                "exp",
                Box::new(|c| _ = c.insert("exp".into(), json!(NOW - 600))),
            ),
            ("jti", Box::new(|c| _ = c.remove("jti"))),
            ("events missing", Box::new(|c| _ = c.remove("events"))),
            (
                "events other",
                Box::new(|c| _ = c.insert("events".into(), json!({"x": {}}))),
            ),
            (
                "nonce",
                Box::new(|c| _ = c.insert("nonce".into(), json!("n"))),
            ),
            (
                "neither",
                Box::new(|c| {
                    c.remove("sid");
                    c.remove("sub");
                }),
            ),
        ];
        for (name, change) in cases {
            let mut c = claims();
            change(&mut c);
            assert!(
                matches!(check(&c), Err(VerifyError::Invalid(_))),
                "{name} must be refused"
            );
        }
    }
}
