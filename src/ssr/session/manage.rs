//! Seeing and ending signed-in sessions: the sessions page, the users page and
//! `portcullis session ...`.
//!
//! A session is named outside the server by its **handle**, a one-way hash of its id: the id
//! is the cookie value, and whoever holds it is signed in, so it never reaches a page, a log
//! or the command line. The id has 128 random bits, so the handle cannot be turned back into
//! it. Ending a session deletes its row; every replica loads the session from the database
//! on each request, so the browser is signed out on its next request wherever it lands.

use super::browser;
use super::{KEY, SessionData, SignedInVia};
use crate::audit::EventKind;
use crate::on_pool;
use crate::sessions::{SessionView, SignInMethod};
use crate::ssr::audit::{Actor, Entry};
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// The handle of session `id`: 128 bits of SHA-256 over the id, base64url.
pub fn handle(id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"portcullis session handle\0")
        .chain_update(id.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    user_id: String,
    data: String,
    last_seen_at: i64,
    provider_name: Option<String>,
    op_sid: Option<String>,
}

/// The live signed-in sessions, of one user or of everyone, newest sign-in first.
async fn rows(db: &Db, user_id: Option<&str>) -> Result<Vec<Row>, sqlx::Error> {
    let sql = "SELECT s.id, s.user_id, s.data, s.last_seen_at, p.name AS provider_name, s.op_sid \
               FROM sessions s LEFT JOIN oidc_providers p ON p.slug = s.provider_slug \
               WHERE s.user_id IS NOT NULL AND ($1 IS NULL OR s.user_id = $1) \
               AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id";
    on_pool!(db, pool => sqlx::query_as::<_, Row>(sql)
        .bind(user_id)
        .bind(now())
        .fetch_all(pool)
        .await)
}

/// The applications each live session of `user_id` (everyone's when `None`) signed in to
/// through Portcullis, by the session's `sid`: their names, sorted, once each.
async fn apps_by_sid(
    db: &Db,
    user_id: Option<&str>,
) -> Result<HashMap<String, BTreeSet<String>>, sqlx::Error> {
    let sql = "SELECT DISTINCT c.sid, a.name FROM op_session_clients c \
               JOIN applications a ON a.id = c.app_id \
               JOIN sessions s ON s.op_sid = c.sid \
               WHERE s.user_id IS NOT NULL AND ($1 IS NULL OR s.user_id = $1)";
    let pairs: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    let mut by_sid: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (sid, name) in pairs {
        by_sid.entry(sid).or_default().insert(name);
    }
    Ok(by_sid)
}

fn view(row: &Row, current: Option<&str>, apps: Vec<String>) -> SessionView {
    let data: SessionData = serde_json::from_str::<HashMap<String, serde_json::Value>>(&row.data)
        .ok()
        .and_then(|mut m| m.remove(KEY))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let how = match data.via {
        Some(SignedInVia::Provider { slug, .. }) => SignInMethod::Provider {
            name: row.provider_name.clone().unwrap_or_else(|| slug.clone()),
            slug,
        },
        Some(SignedInVia::Passkey { .. }) => SignInMethod::Passkey,
        _ => SignInMethod::Password,
    };
    SessionView {
        handle: handle(&row.id),
        user_id: row.user_id.clone(),
        signed_in_at: data.signed_in_at,
        last_seen_at: row.last_seen_at,
        how,
        browser: browser::summary(data.user_agent.as_deref()),
        current: current == Some(row.id.as_str()),
        apps,
    }
}

/// The signed-in sessions of `user_id` (every user's when `None`), with the applications
/// each signed in to; `current` (the asking request's session id) is marked.
pub async fn list(
    db: &Db,
    user_id: Option<&str>,
    current: Option<&str>,
) -> Result<Vec<SessionView>, sqlx::Error> {
    let mut apps = apps_by_sid(db, user_id).await?;
    Ok(rows(db, user_id)
        .await?
        .iter()
        .map(|r| {
            let names = r
                .op_sid
                .as_ref()
                .and_then(|sid| apps.remove(sid))
                .map(|set| set.into_iter().collect())
                .unwrap_or_default();
            view(r, current, names)
        })
        .collect())
}

/// A session that was ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub user_id: String,
    /// It was the asking request's own session.
    pub was_current: bool,
}

/// Ends the session named `handle`, only if it belongs to `user_id` when one is given.
/// `None` when there is no such session (or it is someone else's): nothing is ended.
pub async fn end(
    db: &Db,
    handle_: &str,
    user_id: Option<&str>,
    current: Option<&str>,
    by: &Actor,
) -> Result<Option<Ended>, sqlx::Error> {
    let Some(row) = rows(db, user_id)
        .await?
        .into_iter()
        .find(|r| handle(&r.id) == handle_)
    else {
        return Ok(None);
    };
    let entry = Entry::new(EventKind::SessionEnded, by)
        .on_user(&row.user_id)
        .detail("session", handle_);
    let n = crate::exec_audited!(
        db,
        &entry,
        "DELETE FROM sessions WHERE id = $1 AND user_id = $2",
        &row.id,
        &row.user_id
    )?;
    crate::ssr::op::logout::wake();
    Ok((n > 0).then(|| Ended {
        was_current: current == Some(row.id.as_str()),
        user_id: row.user_id,
    }))
}

/// Ends every session of `user_id` but `keep` (the asking browser's): "Sign out everywhere
/// else"; with `keep` empty, every one. The grants applications got through them end too.
/// Returns how many sessions ended.
pub async fn end_others(
    db: &Db,
    user_id: &str,
    keep: &str,
    by: &Actor,
) -> Result<u64, sqlx::Error> {
    let which = if keep.is_empty() { "all" } else { "all others" };
    // A security reset, not a sign-out: the grants those sessions made end too, those with
    // `offline_access` included (Back-Channel Logout 1.0 §2.7 keeps them over a sign-out;
    // RFC 9700 §4.14.2 lets them end at such an event, and someone who signs out
    // everywhere means every app). Before the sessions go, so that a failure leaves them
    // standing for another try, and again after: a code or device code claimed in between
    // by a session being ended made a grant (after, `session_live!` refuses any claim).
    crate::ssr::op::grants::revoke_for_user(db, user_id, keep).await?;
    let entry = Entry::new(EventKind::SessionEnded, by)
        .on_user(user_id)
        .detail("session", which);
    let n = crate::exec_audited!(
        db,
        &entry,
        "DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
        user_id,
        keep
    )?;
    crate::ssr::op::grants::revoke_for_user(db, user_id, keep).await?;
    crate::ssr::op::logout::wake();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::handle;

    #[test]
    fn a_handle_is_stable_short_and_not_the_id() {
        let id = "Zm9vYmFyYmF6cXV4cXV1eA";
        assert_eq!(handle(id), handle(id));
        assert_ne!(handle(id), handle("another"));
        assert_eq!(handle(id).len(), 22);
        assert!(!handle(id).contains(id));
    }
}
