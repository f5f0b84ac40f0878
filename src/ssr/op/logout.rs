//! Sign-out reaches every application: OpenID Connect Back-Channel Logout 1.0 sent by
//! Portcullis to the clients a session signed in to (`docs/openid-provider.md` §3.8).
//!
//! Every way a Portcullis session ends is a `DELETE FROM sessions` somewhere (sign-out, a
//! session ended on the sessions page or by an administrator, a deleted user's cascade, an
//! upstream provider's back-channel logout, expiry). Instead of hooking each, the OP looks
//! for what is gone:
//!
//! 1. Each grant records (`sid`, application, `sub`) in `op_session_clients`, with its
//!    other writes (`grants.rs`: `grant_writes_sqlite!`, `grant_writes_postgres!`).
//! 2. A sweep ([`sweep`]) on every replica, every 30 s and at once when this process ended a
//!    session ([`wake`]), marks the rows whose session is gone, and moves those gone for
//!    [`GRACE`] seconds to `op_logout_outbox` (for clients with a back-channel URI), revoking
//!    their grants without `offline_access` in the same transaction. The grace is there
//!    because a sign-in renews the session's id (delete, then insert under a new id) while
//!    keeping its `sid`: for that moment the session looks gone.
//! 3. Delivery ([`deliver_due`]) claims due rows with one `UPDATE` (two replicas never both
//!    send one), signs a logout token per row with the current key of the client's
//!    algorithm, and POSTs it (`logout_token=`, form) through the providers' HTTP client (no
//!    redirects followed, `--ca-file` trusted, 5 s timeout), all at once; a failure is
//!    retried after [`RETRY_AFTER`], then given up and logged. The sign-out the person is
//!    doing never waits for any of it.
//!
//! The logout token is `openidconnect`'s `IdToken` with the claims of §2.4 (`iss`, `aud`,
//! `iat`, `exp`, `jti`, `events`, `sub`, `sid`; no `nonce`). The `typ: logout+jwt` header
//! §2.4 recommends (a SHOULD) cannot be set: the crate writes the header itself, without
//! `typ`. Recorded in `docs/openid-provider.md` §2.

use super::clients;
use super::keys::OpKeys;
use super::signer::{Alg, OpSigningKey};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::oidc::logout::BACKCHANNEL_EVENT;
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, StandardClaims,
    SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::watch;

/// A logout token lives two minutes (`exp` is required by §2.4; a short life limits replay).
pub const LOGOUT_TTL: i64 = 120;
/// How long a session must have been gone before its applications are told (seconds).
pub const GRACE: i64 = 2;
/// The sweep runs at least this often on every replica.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claimed delivery is this replica's before another may take it over (seconds).
const CLAIM_SECS: i64 = 60;
/// Seconds until the next attempt after attempt `n` (from 1) failed; after the last one the
/// token is given up on.
pub const RETRY_AFTER: [i64; 4] = [5, 30, 120, 600];

/// Tells every sweeper in this process that a session ended: the next sweep runs now.
/// A counter, not a permit: each sweeper (one per server, and tests run several) sees it.
static WAKE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::Sender::new(0));

/// A session ended here: sweep now instead of within [`SWEEP_EVERY`].
pub fn wake() {
    WAKE.send_modify(|n| *n = n.wrapping_add(1));
}

/// The claims Back-Channel Logout §2.4 adds to `iss`, `aud`, `iat`, `exp` and `sub`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutClaims {
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Value,
    pub sid: String,
}
impl AdditionalClaims for LogoutClaims {}

pub type LogoutToken = IdToken<
    LogoutClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// A logout token for `client_id` about session `sid` of user `sub`, signed with `key` (the
/// current key of the client's ID token algorithm).
pub fn logout_token(
    key: &OpSigningKey,
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: &str,
    now: i64,
) -> Result<String, String> {
    let at = |t: i64| chrono::DateTime::from_timestamp(t, 0).ok_or("the clock is out of range");
    let claims = IdTokenClaims::new(
        IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?,
        vec![Audience::new(client_id.to_owned())],
        at(now + LOGOUT_TTL)?,
        at(now)?,
        StandardClaims::new(SubjectIdentifier::new(sub.to_owned())),
        LogoutClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            events: serde_json::json!({ BACKCHANNEL_EVENT: {} }),
            sid: sid.to_owned(),
        },
    );
    LogoutToken::new(claims, key, key.alg().jws(), None, None)
        .map(|t| t.to_string())
        .map_err(|e| e.to_string())
}

/// A live session has the row's `sid` (`$1`: now).
const SESSION_LIVE: &str = "EXISTS (SELECT 1 FROM sessions s \
     WHERE s.op_sid = op_session_clients.sid AND s.expires_at > $1)";

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rows found gone now (told after [`GRACE`]).
    pub marked: u64,
    /// Rows whose session came back (a renewed session id).
    pub back: u64,
    /// Rows moved to the outbox (or dropped: a client without a back-channel URI).
    pub ended: u64,
}

/// Marks the rows whose session is gone as of `now`, unmarks those whose session is back,
/// and ends those gone for [`GRACE`]: one transaction queues a logout token for each client
/// with a back-channel URI, revokes the session's grants without `offline_access`
/// (Back-Channel Logout §2.7) and deletes them. Two replicas sweeping at once queue each
/// token once (the outbox's key; `ON CONFLICT DO NOTHING`).
pub async fn sweep(db: &Db, now: i64) -> Result<Swept, sqlx::Error> {
    let back = crate::exec!(
        db,
        &format!(
            "UPDATE op_session_clients SET gone_at = NULL \
             WHERE gone_at IS NOT NULL AND {SESSION_LIVE}"
        ),
        now
    )?;
    let marked = crate::exec!(
        db,
        &format!(
            "UPDATE op_session_clients SET gone_at = $1 \
             WHERE gone_at IS NULL AND NOT {SESSION_LIVE}"
        ),
        now
    )?;
    // The rows gone for the grace period ($2), in the order the transaction needs them:
    // queued (clients with a back-channel URI), their grants revoked, then deleted.
    let ended = [
        // `WHERE` before `ON CONFLICT`: SQLite needs one to read an upsert's SELECT.
        "INSERT INTO op_logout_outbox (sid, app_id, sub, next_at) \
         SELECT sid, op_session_clients.app_id, sub, $1 FROM op_session_clients \
           JOIN op_clients c ON c.app_id = op_session_clients.app_id \
          WHERE c.backchannel_logout_uri <> '' AND GONE \
         ON CONFLICT (sid, app_id) DO NOTHING",
        "UPDATE op_grants SET revoked_at = $1 WHERE NOT offline AND revoked_at IS NULL \
           AND EXISTS (SELECT 1 FROM op_session_clients WHERE op_session_clients.sid = \
               op_grants.sid AND op_session_clients.app_id = op_grants.app_id AND GONE)",
        "DELETE FROM op_session_clients WHERE GONE",
    ]
    .map(|sql| sql.replace("GONE", &format!("gone_at <= $2 AND NOT {SESSION_LIVE}")));
    let ended = on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        let mut n = 0;
        for sql in &ended {
            n = crate::exec_on!(&mut *tx, sql, now, now - GRACE)?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    }.await)?;
    Ok(Swept {
        marked,
        back,
        ended,
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Claimed {
    sid: String,
    app_id: String,
    sub: String,
    attempts: i64,
}

/// How one delivery ended.
#[derive(Debug)]
enum Outcome {
    Delivered,
    /// The application is no client any more, or has no back-channel URI now.
    NoLongerWanted,
    Failed(String),
}

/// Claims the logout tokens due as of `now` and delivers them, all at once; gives how many
/// were delivered. A failure is tried again after [`RETRY_AFTER`]; after the last attempt
/// it is given up on (logged, without the token).
pub async fn deliver_due(
    db: &Db,
    keys: &OpKeys,
    issuer: &str,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let claimed: Vec<Claimed> = on_pool!(db, pool => sqlx::query_as(
        "UPDATE op_logout_outbox SET claimed_until = $2 \
         WHERE next_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
         RETURNING sid, app_id, sub, attempts")
        .bind(now)
        .bind(now + CLAIM_SECS)
        .fetch_all(pool)
        .await)?;
    let mut sending = tokio::task::JoinSet::new();
    for row in claimed {
        let client = clients::get(db, &row.app_id).await?;
        let Some((client_id, uri, alg)) = client.and_then(|c| {
            let alg = Alg::parse(&c.view.settings.id_token_alg).unwrap_or(Alg::Rs256);
            Some((
                c.view.client_id,
                c.view.settings.uris.backchannel_logout_uri?,
                alg,
            ))
        }) else {
            sending.spawn(async move { (row, String::new(), Outcome::NoLongerWanted) });
            continue;
        };
        let key = keys.signing(alg);
        let token = logout_token(&key, issuer, &client_id, &row.sub, &row.sid, now);
        sending.spawn(async move {
            let outcome = match token {
                Ok(token) => post(&uri, &token).await,
                Err(e) => Outcome::Failed(format!("signing the logout token: {e}")),
            };
            (row, client_id, outcome)
        });
    }
    let mut delivered = 0;
    while let Some(done) = sending.join_next().await {
        let Ok((row, client_id, outcome)) = done else {
            continue;
        };
        let attempt = row.attempts + 1;
        let retry_in = usize::try_from(row.attempts)
            .ok()
            .and_then(|i| RETRY_AFTER.get(i));
        match (outcome, retry_in) {
            (Outcome::Delivered, _) => {
                delivered += 1;
                tracing::debug!(client = ?client_id, "logout token delivered");
            }
            (Outcome::NoLongerWanted, _) => {}
            (Outcome::Failed(why), Some(after)) => {
                tracing::info!(client = ?client_id, attempt, why = %why, retry_in_secs = after,
                    "could not deliver a logout token; will try again");
                crate::exec!(
                    db,
                    "UPDATE op_logout_outbox SET attempts = $3, next_at = $4, \
                     claimed_until = NULL WHERE sid = $1 AND app_id = $2",
                    &row.sid,
                    &row.app_id,
                    attempt,
                    // From when this attempt ended (a timeout takes a while).
                    crate::ssr::clock::now() + after
                )?;
                continue;
            }
            (Outcome::Failed(why), None) => {
                tracing::warn!(client = ?client_id, attempts = attempt, why = %why,
                    "gave up delivering a logout token: the application may still consider the person signed in");
            }
        }
        crate::exec!(
            db,
            "DELETE FROM op_logout_outbox WHERE sid = $1 AND app_id = $2",
            &row.sid,
            &row.app_id
        )?;
    }
    Ok(delivered)
}

/// POSTs `logout_token` to `uri` (§2.5): a 2xx answer is delivery; a redirect is not
/// followed (the providers' client never follows one).
async fn post(uri: &str, token: &str) -> Outcome {
    let sent = crate::ssr::oidc::http::client(DELIVERY_TIMEOUT)
        .post(uri)
        .header("cache-control", "no-store")
        .form(&[("logout_token", token)])
        .send()
        .await;
    match sent {
        Ok(res) if res.status().is_success() => Outcome::Delivered,
        Ok(res) => Outcome::Failed(format!("{uri} answered {}", res.status())),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// When the next sweep or delivery is due (Unix seconds), if anything waits.
async fn next_due(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    let (gone, next): (Option<i64>, Option<i64>) = on_pool!(db, pool => sqlx::query_as(
        "SELECT (SELECT MIN(gone_at) FROM op_session_clients WHERE gone_at IS NOT NULL), \
                (SELECT MIN(COALESCE(claimed_until, next_at)) FROM op_logout_outbox)")
        .fetch_one(pool)
        .await)?;
    Ok([gone.map(|g| g + GRACE), next].into_iter().flatten().min())
}

/// Sweeps and delivers forever (run it in a task; one per server): at least every
/// [`SWEEP_EVERY`], when [`wake`] is called, and when the next row is due.
pub async fn run(db: Db, keys: Arc<OpKeys>, issuer: String) {
    let mut woken = WAKE.subscribe();
    loop {
        if db.is_closed() {
            return;
        }
        let t = now();
        if let Err(e) = sweep(&db, t).await {
            tracing::warn!(error = ?e, "could not sweep ended sessions for back-channel logout");
        }
        if let Err(e) = deliver_due(&db, &keys, &issuer, t).await {
            tracing::warn!(error = ?e, "could not deliver logout tokens");
        }
        let most = SWEEP_EVERY.as_secs() as i64;
        let wait = match next_due(&db).await {
            Ok(Some(at)) => (at - now()).clamp(1, most),
            _ => most,
        };
        tokio::select! {
            _ = woken.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// The token carries exactly the claims §2.4 names (no `nonce`), and its signature
    /// verifies against the published key.
    #[test]
    fn a_logout_token_has_the_claims_of_section_2_4() {
        use openidconnect::JsonWebKey;
        let der = super::super::signer::generate(Alg::Es256).unwrap();
        let key = OpSigningKey::load(Alg::Es256, &der, "k1").unwrap();
        let token = logout_token(&key, "https://sso.example", "c1", "u1", "s1", 1000).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .unwrap(),
            )
            .unwrap()
        };
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "k1");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        key.public_jwk()
            .verify_signature(
                &Alg::Es256.jws(),
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &signature,
            )
            .unwrap();
        let claims = decode(parts[1]);
        let mut names: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]
        );
        assert_eq!(claims["iss"], "https://sso.example");
        assert_eq!(claims["aud"], serde_json::json!(["c1"]));
        assert_eq!(claims["sub"], "u1");
        assert_eq!(claims["sid"], "s1");
        assert_eq!(claims["iat"], 1000);
        assert_eq!(claims["exp"], 1000 + LOGOUT_TTL);
        assert_eq!(
            claims["events"],
            serde_json::json!({ BACKCHANNEL_EVENT: {} })
        );
        let again = logout_token(&key, "https://sso.example", "c1", "u1", "s1", 1000).unwrap();
        assert_ne!(
            decode(again.split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
    }
}
