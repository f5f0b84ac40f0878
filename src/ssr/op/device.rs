//! The device authorization grant (RFC 8628; `docs/openid-provider.md` §3.9): a device
//! code (random, stored as its hash) and a user code (8 of 20 consonants, shown as
//! `XXXX-XXXX`; case, spaces and dashes ignored when typed), which a signed-in person types
//! at `/device` and approves or denies; the device polls the token endpoint meanwhile.
//! Every change of a code's state is one guarded `UPDATE` (two replicas cannot both use it).

use super::clients::OpClient;
use super::grants::{self, Exchanged, Grant, SignedIn, split};
use super::{random_token, token_hash};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use serde::Serialize;

/// The letters of a user code: no vowels (no words), no easily confused ones (RFC 8628
/// §6.1's example).
pub const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code (20^8: about 34 bits).
pub const USER_CODE_LEN: usize = 8;
/// A device code lives ten minutes.
pub const DEVICE_TTL: i64 = 600;
/// Seconds between polls at first; each `slow_down` adds [`SLOW_DOWN_STEP`].
pub const INTERVAL: i64 = 5;
pub const SLOW_DOWN_STEP: i64 = 5;
/// Codes one client may have waiting at once: anyone with a public client's ID can ask for
/// codes, and each live one is a user code a guess at `/device` may hit; this bounds the
/// table and the odds (with the per-address budget, `limiter::DEVICE_STARTS_*`, which keeps
/// one address from filling it).
pub const PENDING_PER_CLIENT: i64 = 1000;
/// The grant type at the token endpoint.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `typed` as stored (8 letters of [`ALPHABET`], upper case, no dash), if it can be a user
/// code: case, spaces and dashes are ignored.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// A stored user code as people read it: `XXXX-XXXX`.
pub fn display(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(USER_CODE_LEN / 2));
    format!("{a}-{b}")
}

fn new_user_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The device authorization response (RFC 8628 §3.2). `oauth2`'s
/// `DeviceAuthorizationResponse` has private fields and no constructor: this is its body,
/// read back by that type in the tests below.
#[derive(Debug, Clone, Serialize)]
pub struct Authorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// The path a person types the user code at.
pub const DEVICE_PATH: &str = "/device";
/// Where the approval question posts: `/device/answer/<user code>`.
pub const DEVICE_ANSWER_PATH: &str = "/device/answer";

/// Starts a device authorization for `client` (authenticated, with the device flow on) with
/// the granted `scope`; `public_url` makes the verification URIs.
pub async fn start(
    db: &Db,
    client: &OpClient,
    scope: &[String],
    public_url: &str,
) -> Result<Option<Authorization>, sqlx::Error> {
    let device_code = random_token("pc_dc_");
    let t = now();
    let waiting: i64 = crate::on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM op_device_codes WHERE app_id = $1 AND status = 'pending' \
           AND expires_at > $2")
        .bind(&client.app_id)
        .bind(t)
        .fetch_one(pool)
        .await)?;
    if waiting >= PENDING_PER_CLIENT {
        return Ok(None);
    }
    // A user code is unique among the rows kept: a clash (rare: 20^8 codes) draws again.
    // The expiry sweep may not have run: an expired row with the same code goes first.
    for _ in 0..8 {
        let user_code = new_user_code();
        crate::exec!(
            db,
            "DELETE FROM op_device_codes WHERE user_code = $1 AND expires_at <= $2",
            &user_code,
            t
        )?;
        let inserted = crate::exec!(
            db,
            "INSERT INTO op_device_codes (device_code_hash, user_code, app_id, scope, status, \
             interval_secs, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) ON CONFLICT DO NOTHING",
            token_hash(&device_code),
            &user_code,
            &client.app_id,
            scope.join(" "),
            INTERVAL,
            t,
            t + DEVICE_TTL,
        )?;
        if inserted == 1 {
            let shown = display(&user_code);
            let uri = format!("{public_url}{DEVICE_PATH}");
            let complete = format!(
                "{uri}?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("user_code", &shown)
                    .finish()
            );
            return Ok(Some(Authorization {
                device_code,
                user_code: shown,
                verification_uri: uri,
                verification_uri_complete: complete,
                expires_in: DEVICE_TTL,
                interval: INTERVAL,
            }));
        }
    }
    Err(sqlx::Error::Protocol(
        "no free user code after 8 draws".into(),
    ))
}

/// A live, pending code as the approval question shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub app_id: String,
    pub scope: Vec<String>,
}

/// The pending, live code `user_code` (normalised), now shown to the browser session
/// `marker` (only it may answer: [`decide`]). `None`: no such code, or no longer pending.
pub async fn show(db: &Db, user_code: &str, marker: &str) -> Result<Option<Waiting>, sqlx::Error> {
    let sql = "UPDATE op_device_codes SET shown_to = $2 \
               WHERE user_code = $1 AND status = 'pending' AND expires_at > $3 \
               RETURNING app_id, scope";
    waiting(db, sql, user_code, marker).await
}

/// The pending, live code `user_code` (normalised) when it was last shown to the browser
/// session `marker` (the question being answered there); reads only.
pub async fn shown(db: &Db, user_code: &str, marker: &str) -> Result<Option<Waiting>, sqlx::Error> {
    let sql = "SELECT app_id, scope FROM op_device_codes \
               WHERE user_code = $1 AND shown_to = $2 AND status = 'pending' AND expires_at > $3";
    waiting(db, sql, user_code, marker).await
}

/// [`show`] or [`shown`]: `sql` with the code, the marker and now; one row of app and scope.
async fn waiting(
    db: &Db,
    sql: &str,
    user_code: &str,
    marker: &str,
) -> Result<Option<Waiting>, sqlx::Error> {
    let row: Option<(String, String)> = on_pool!(db, pool => sqlx::query_as(sql)
        .bind(user_code)
        .bind(marker)
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(app_id, scope)| Waiting {
        app_id,
        scope: split(&scope),
    }))
}

/// The person's answer.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve(SignedIn),
    Deny,
}

/// Records the answer to the pending, live code `user_code` (normalised) of application
/// `app_id`, from the browser session `marker` it was shown to. `false`: nothing changed (no
/// such code, answered already, expired, or shown to another browser since).
pub async fn decide(
    db: &Db,
    user_code: &str,
    app_id: &str,
    marker: &str,
    decision: &Decision,
) -> Result<bool, sqlx::Error> {
    let guard = "WHERE user_code = $1 AND app_id = $2 AND shown_to = $3 AND status = 'pending' \
                 AND expires_at > $4";
    let approve = format!(
        "UPDATE op_device_codes SET status = 'approved', user_id = $5, sid = $6, \
         auth_time = $7, amr = $8 {guard}"
    );
    let deny = format!("UPDATE op_device_codes SET status = 'denied' {guard}");
    let n = match decision {
        Decision::Approve(who) => crate::exec!(
            db,
            approve.as_str(),
            user_code,
            app_id,
            marker,
            now(),
            &who.user_id,
            &who.sid,
            who.auth_time,
            &who.amr,
        )?,
        Decision::Deny => crate::exec!(db, deny.as_str(), user_code, app_id, marker, now(),)?,
    };
    Ok(n == 1)
}

/// Why a poll gets no tokens (RFC 8628 §3.5; the token endpoint's error codes).
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("the person has not answered yet")]
    Pending,
    #[error("polled faster than the interval: wait {0} seconds between polls")]
    SlowDown(i64),
    #[error("the person denied the request")]
    Denied,
    #[error("the device code has expired")]
    Expired,
    /// Unknown, used already, or another client's.
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Row {
    app_id: String,
    scope: String,
    status: String,
    user_id: Option<String>,
    sid: Option<String>,
    auth_time: Option<i64>,
    amr: Option<String>,
    interval_secs: i64,
    last_poll_at: Option<i64>,
    expires_at: i64,
}

/// A poll by `client` (authenticated) with `device_code`: the grant and its tokens once,
/// after approval; otherwise why not. A poll of a pending code sooner than its interval
/// after the last one is `slow_down`, and the code's interval grows by [`SLOW_DOWN_STEP`].
pub async fn poll(db: &Db, client: &OpClient, device_code: &str) -> Result<Exchanged, PollError> {
    use PollError::*;
    let hash = token_hash(device_code);
    let t = now();
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT app_id, scope, status, user_id, sid, auth_time, amr, interval_secs, \
                last_poll_at, expires_at FROM op_device_codes WHERE device_code_hash = $1")
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
    let Some(row) = row else {
        return Err(InvalidGrant("the device code is unknown"));
    };
    // Another client's code is refused untouched.
    if row.app_id != client.app_id {
        return Err(InvalidGrant("the device code was issued to another client"));
    }
    if row.status == "used" {
        return Err(InvalidGrant("the device code was used already"));
    }
    if row.expires_at <= t {
        return Err(Expired);
    }
    match row.status.as_str() {
        "denied" => Err(Denied),
        "approved" => {
            // Approved in a session that has ended since (signed out, ended by an
            // administrator): the code is used up, and no grant outlives that session.
            let claimed = crate::exec!(
                db,
                concat!(
                    "UPDATE op_device_codes SET status = 'used', last_poll_at = $2 \
                     WHERE device_code_hash = $1 AND status = 'approved' AND expires_at > $2 AND ",
                    super::grants::session_live!("op_device_codes")
                ),
                &hash,
                t
            )?;
            let (Some(user_id), Some(sid), Some(auth_time), Some(amr)) =
                (row.user_id, row.sid, row.auth_time, row.amr)
            else {
                return Err(InvalidGrant("the device code was used already"));
            };
            if claimed != 1 {
                return Err(InvalidGrant(
                    "the device code was used already, or the session that approved it has ended",
                ));
            }
            let grant = Grant {
                id: uuid::Uuid::new_v4().to_string(),
                app_id: row.app_id,
                scope: split(&row.scope),
                nonce: None,
                who: SignedIn {
                    user_id,
                    sid,
                    auth_time,
                    amr,
                },
            };
            Ok(grants::new_grant(db, grant, None, t).await?)
        }
        _ => {
            let too_soon = row
                .last_poll_at
                .is_some_and(|last| t - last < row.interval_secs);
            if too_soon {
                let interval = row.interval_secs + SLOW_DOWN_STEP;
                crate::exec!(
                    db,
                    "UPDATE op_device_codes SET interval_secs = $2, last_poll_at = $3 \
                     WHERE device_code_hash = $1",
                    &hash,
                    interval,
                    t
                )?;
                return Err(SlowDown(interval));
            }
            crate::exec!(
                db,
                "UPDATE op_device_codes SET last_poll_at = $2 WHERE device_code_hash = $1",
                &hash,
                t
            )?;
            Err(Pending)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_typed_loosely() {
        assert_eq!(normalise("bcdf-ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise(" BCDF GHJK ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("BCDFGHJK").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("BCDF-GHJA"), None, "a vowel");
        assert_eq!(normalise("BCDF-GHJ"), None, "too short");
        assert_eq!(normalise("BCDF-GHJKL"), None, "too long");
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(normalise(&display(&code)), Some(code));
        }
    }

    #[test]
    fn the_body_is_what_oauth2_reads() {
        let body = Authorization {
            device_code: "pc_dc_x".into(),
            user_code: "BCDF-GHJK".into(),
            verification_uri: "https://sso.example/device".into(),
            verification_uri_complete: "https://sso.example/device?user_code=BCDF-GHJK".into(),
            expires_in: DEVICE_TTL,
            interval: INTERVAL,
        };
        let json = serde_json::to_string(&body).unwrap();
        let back: openidconnect::core::CoreDeviceAuthorizationResponse =
            serde_json::from_str(&json).unwrap();
        assert_eq!(back.device_code().secret(), "pc_dc_x");
        assert_eq!(back.user_code().secret(), "BCDF-GHJK");
        assert_eq!(
            back.verification_uri().as_str(),
            "https://sso.example/device"
        );
        assert_eq!(
            back.verification_uri_complete().unwrap().secret(),
            "https://sso.example/device?user_code=BCDF-GHJK"
        );
        assert_eq!(back.expires_in().as_secs(), 600);
        assert_eq!(back.interval().as_secs(), 5);
    }
}
