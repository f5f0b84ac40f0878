//! Codes, grants and access tokens (`docs/openid-provider.md` §3.5). A code is one row,
//! claimed by one guarded `UPDATE` (so two replicas cannot both exchange it); a code presented
//! again revokes the grant its first exchange made. Codes and tokens are stored as
//! base64url(SHA-256) only.

use super::authorize::AuthRequest;
use super::clients::OpClient;
use super::{random_token, token_hash};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;

/// A code lives 60 s.
pub const CODE_TTL: i64 = 60;
/// An access token (and the ID token) lives an hour.
pub const ACCESS_TTL: i64 = 3600;
/// A grant (the token family) lives 30 days at most (refresh tokens: slice 5).
pub const GRANT_TTL: i64 = 30 * 24 * 3600;

/// Who signed in and how: what a code and a grant carry besides the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: String,
    /// The session's `sid` (`SessionData::sid`).
    pub sid: String,
    /// When the person signed in (Unix seconds).
    pub auth_time: i64,
    /// RFC 8176 values, space-separated; an `idp:<slug>` entry names the upstream provider.
    pub amr: String,
}

/// Issues a code for `request` to application `app_id`: one row; gives the code.
pub async fn issue_code(
    db: &Db,
    app_id: &str,
    request: &AuthRequest,
    who: &SignedIn,
) -> Result<String, sqlx::Error> {
    let code = random_token("pc_ac_");
    crate::exec!(
        db,
        "INSERT INTO op_codes (code_hash, app_id, user_id, sid, redirect_uri, scope, nonce, \
         code_challenge, auth_time, amr, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        token_hash(&code),
        app_id,
        &who.user_id,
        &who.sid,
        &request.redirect_uri,
        request.scope.join(" "),
        request.nonce.as_deref(),
        request.code_challenge.as_deref(),
        who.auth_time,
        &who.amr,
        now() + CODE_TTL,
    )?;
    Ok(code)
}

/// A grant as the token and userinfo endpoints read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub app_id: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub who: SignedIn,
}

/// What a token request gets when its code is good.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub grant: Grant,
    pub access_token: String,
}

/// Why a code was refused (`invalid_grant`; the description says which rule).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    app_id: String,
    user_id: String,
    sid: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: i64,
    amr: String,
}

/// Exchanges `code` for `client` (authenticated already): claims it, checks the redirect
/// URI and the PKCE verifier, and makes the grant and its access token.
pub async fn exchange(
    db: &Db,
    client: &OpClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Exchanged, ExchangeError> {
    use ExchangeError::InvalidGrant;
    let hash = token_hash(code);
    let t = now();
    let grant_id = uuid::Uuid::new_v4().to_string();
    let row: Option<CodeRow> = on_pool!(db, pool => sqlx::query_as(
        "UPDATE op_codes SET used_at = $2, grant_id = $3 \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING app_id, user_id, sid, redirect_uri, scope, nonce, code_challenge, auth_time, amr")
        .bind(&hash)
        .bind(t)
        .bind(&grant_id)
        .fetch_optional(pool)
        .await)?;
    let Some(row) = row else {
        // Used before: the tokens issued on it are revoked (RFC 6749 §4.1.2).
        let revoked = crate::exec!(
            db,
            "UPDATE op_grants SET revoked_at = $2 WHERE revoked_at IS NULL AND id = \
             (SELECT grant_id FROM op_codes WHERE code_hash = $1 AND used_at IS NOT NULL)",
            &hash,
            t
        )?;
        if revoked > 0 {
            tracing::warn!(
                client = ?client.view.client_id,
                "an authorization code was used twice: its grant is revoked"
            );
        }
        return Err(InvalidGrant("the code is unknown, expired or already used"));
    };
    if row.app_id != client.app_id {
        return Err(InvalidGrant("the code was issued to another client"));
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(InvalidGrant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&row.code_challenge, verifier) {
        (None, None) => {}
        (Some(challenge), Some(v)) => {
            if !verifier_matches(challenge, v) {
                return Err(InvalidGrant("the code_verifier does not match"));
            }
        }
        (Some(_), None) => return Err(InvalidGrant("code_verifier is missing")),
        // RFC 9700 §4.8.2: a verifier for a code issued without a challenge is a downgrade.
        (None, Some(_)) => {
            return Err(InvalidGrant(
                "code_verifier given but the authorization request had no code_challenge",
            ));
        }
    }
    let who = SignedIn {
        user_id: row.user_id,
        sid: row.sid,
        auth_time: row.auth_time,
        amr: row.amr,
    };
    crate::exec!(
        db,
        "INSERT INTO op_grants (id, app_id, user_id, sid, scope, auth_time, amr, offline, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $9)",
        &grant_id,
        &row.app_id,
        &who.user_id,
        &who.sid,
        &row.scope,
        who.auth_time,
        &who.amr,
        t,
        t + GRANT_TTL,
    )?;
    let access_token = random_token("pc_at_");
    crate::exec!(
        db,
        "INSERT INTO op_tokens (token_hash, kind, grant_id, created_at, expires_at) \
         VALUES ($1, 'access', $2, $3, $4)",
        token_hash(&access_token),
        &grant_id,
        t,
        t + ACCESS_TTL,
    )?;
    super::clients::mark_used(db, &row.app_id).await?;
    Ok(Exchanged {
        grant: Grant {
            id: grant_id,
            app_id: row.app_id,
            scope: split(&row.scope),
            nonce: row.nonce,
            who,
        },
        access_token,
    })
}

fn split(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// RFC 7636: 43–128 unreserved characters whose S256 is `challenge` (compared in constant
/// time). The length is checked first: `oauth2`'s constructor asserts it.
pub fn verifier_matches(challenge: &str, verifier: &str) -> bool {
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return false;
    }
    let computed = openidconnect::PkceCodeChallenge::from_code_verifier_sha256(
        &openidconnect::PkceCodeVerifier::new(verifier.to_owned()),
    );
    subtle::ConstantTimeEq::ct_eq(computed.as_str().as_bytes(), challenge.as_bytes()).into()
}

/// The grant an access token belongs to, when the token is live: not expired, its grant not
/// revoked, and (without `offline_access`) the Portcullis session it came from still there.
pub async fn by_access_token(db: &Db, token: &str) -> Result<Option<Grant>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        app_id: String,
        user_id: String,
        sid: String,
        scope: String,
        auth_time: i64,
        amr: String,
    }
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT g.id, g.app_id, g.user_id, g.sid, g.scope, g.auth_time, g.amr \
           FROM op_tokens t JOIN op_grants g ON g.id = t.grant_id \
          WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 \
            AND g.revoked_at IS NULL \
            AND (g.offline OR EXISTS (SELECT 1 FROM sessions s \
                 WHERE s.op_sid = g.sid AND s.expires_at > $2))")
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| Grant {
        id: r.id,
        app_id: r.app_id,
        scope: split(&r.scope),
        nonce: None,
        who: SignedIn {
            user_id: r.user_id,
            sid: r.sid,
            auth_time: r.auth_time,
            amr: r.amr,
        },
    }))
}

/// How long a used or expired code is kept after it expires: a replay within that time still
/// revokes the grant its first use made.
pub const CODE_KEPT: i64 = 600;

/// Deletes what has expired as of `now`: waiting requests, codes ([`CODE_KEPT`] after),
/// access tokens, and grants past their lifetime or revoked an hour ago (with their tokens).
/// Gives the number of rows deleted.
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut n = crate::exec!(
        db,
        "DELETE FROM op_auth_requests WHERE expires_at <= $1",
        now
    )?;
    n += crate::exec!(
        db,
        "DELETE FROM op_codes WHERE expires_at <= $1",
        now - CODE_KEPT
    )?;
    n += crate::exec!(db, "DELETE FROM op_tokens WHERE expires_at <= $1", now)?;
    n += crate::exec!(
        db,
        "DELETE FROM op_grants WHERE expires_at <= $1 OR revoked_at <= $2",
        now,
        now - 3600
    )?;
    Ok(n)
}

/// [`delete_expired`] every `period`, forever (run it in a task), on every replica.
pub async fn delete_expired_every(db: Db, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if db.is_closed() {
            return;
        }
        if let Err(e) = delete_expired(&db, now()).await {
            tracing::warn!(error = ?e, "could not delete expired OpenID Provider rows");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::verifier_matches;

    #[test]
    fn pkce_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(challenge, verifier));
        assert!(!verifier_matches(challenge, &verifier.replace('d', "e")));
        assert!(!verifier_matches(challenge, "short"));
        assert!(!verifier_matches(challenge, &"a".repeat(129)));
        assert!(!verifier_matches(challenge, &format!("{verifier} ")));
        assert!(!verifier_matches(verifier, verifier));
    }
}
