//! Sessions in the application's own database (table `sessions`), as a `tower-sessions`
//! store. Unlike the generic sqlx stores it copies who the session belongs to into columns,
//! so the rest of the code can end a user's, an identity's or a provider session's sessions
//! with one statement, on every replica at once (each request loads its session from here).

use super::{KEY, SessionData, SignedInVia};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::{Db, is_unique_violation};
use async_trait::async_trait;
use std::collections::HashMap;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// How often a session's "last seen" time is written: often enough for the sessions list,
/// rarely enough that reading a session does not mean writing it.
const LAST_SEEN_EVERY_SECS: i64 = 5 * 60;

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
    /// A signed-in session ends this long after sign-in, however active (seconds).
    absolute_lifetime: i64,
}

impl DbSessionStore {
    pub fn new(db: Db, absolute_lifetime_secs: i64) -> Self {
        Self {
            db,
            absolute_lifetime: absolute_lifetime_secs,
        }
    }

    /// Deletes expired sessions every `period`, forever (run it in a task).
    pub async fn delete_expired_every(self, period: std::time::Duration) {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            let t = now();
            let r: std::result::Result<(), sqlx::Error> = on_pool!(&self.db, pool =>
                sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(t)
                    .execute(pool)
                    .await
                    .map(|_| ()));
            if let Err(e) = r {
                tracing::warn!(error = ?e, "could not delete expired sessions");
            }
        }
    }

    async fn write(
        &self,
        record: &Record,
        insert_only: bool,
    ) -> std::result::Result<(), sqlx::Error> {
        let data = serde_json::to_string(&record.data).unwrap_or_else(|_| "{}".into());
        let value: SessionData = record
            .data
            .get(KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let (slug, subject, sid) = match &value.via {
            Some(SignedInVia::Provider {
                slug,
                subject,
                at_provider,
                ..
            }) => (
                Some(slug.as_str()),
                Some(subject.as_str()),
                at_provider.sid.as_deref(),
            ),
            _ => (None, None, None),
        };
        let t = now();
        let sql = if insert_only {
            "INSERT INTO sessions (id, data, user_id, provider_slug, subject, provider_sid, \
             created_at, last_seen_at, expires_at, op_sid) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $7, $8, $9)"
        } else {
            // Only a session that still exists is saved: one ended (signed out elsewhere, by
            // an administrator, by the provider) while this request was running stays ended
            // instead of being written back by the request's last change. `save` is only
            // called for a session that was loaded or created (tower-sessions creates a
            // session without an id through `create`).
            "UPDATE sessions SET data = $2, user_id = $3, provider_slug = $4, subject = $5, \
             provider_sid = $6, last_seen_at = $7, expires_at = $8, op_sid = $9 WHERE id = $1"
        };
        on_pool!(&self.db, pool => sqlx::query(sql)
            .bind(record.id.to_string())
            .bind(&data)
            .bind(value.user_id.as_deref())
            .bind(slug)
            .bind(subject)
            .bind(sid)
            .bind(t)
            .bind(record.expiry_date.unix_timestamp())
            .bind(value.sid.as_deref())
            .execute(pool)
            .await
            .map(|_| ()))
    }
}

fn backend(e: sqlx::Error) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            match self.write(record, true).await {
                Ok(()) => return Ok(()),
                Err(e) if is_unique_violation(&e) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, false).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let t = now();
        let row: Option<(String, i64, i64)> = on_pool!(&self.db, pool => sqlx::query_as(
            "SELECT data, expires_at, last_seen_at FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id.to_string())
            .bind(t)
            .fetch_optional(pool)
            .await)
        .map_err(backend)?;
        let Some((data, expires_at, last_seen)) = row else {
            return Ok(None);
        };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        // Every request loads its session: read the two fields the lifetime rule needs from
        // the parsed value instead of cloning and decoding the whole `SessionData` again.
        let signed_in_at = data
            .get(KEY)
            .filter(|v| v.get("user_id").is_some_and(|u| !u.is_null()))
            .map(|v| v.get("signed_in_at").and_then(|t| t.as_i64()).unwrap_or(0));
        if signed_in_at.is_some_and(|at| at + self.absolute_lifetime <= t) {
            self.delete(id).await?;
            return Ok(None);
        }
        if t - last_seen >= LAST_SEEN_EVERY_SECS {
            let _ = on_pool!(&self.db, pool => sqlx::query(
                "UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(t)
                .execute(pool)
                .await
                .map(|_| ()));
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(backend)
    }
}

/// Signed-in sessions that have not expired, counted in the database (so every replica
/// reports the same number).
pub async fn count_signed_in(db: &Db) -> std::result::Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL AND expires_at > $1")
        .bind(now())
        .fetch_one(pool)
        .await)
}

/// Ends sessions, for the rules that say a session must not outlive what it rests on. Each
/// wakes the back-channel logout sweep (`op::logout`), which tells the applications the
/// sessions signed in to.
pub mod end {
    use crate::ssr::db::Db;
    use crate::ssr::op::logout::wake;

    /// Every session of `user_id` (e.g. sign out everywhere).
    pub async fn for_user(db: &Db, user_id: &str) -> Result<u64, sqlx::Error> {
        let n = crate::exec!(db, "DELETE FROM sessions WHERE user_id = $1", user_id)?;
        wake();
        Ok(n)
    }

    /// Sessions signed in through provider `slug`, narrowed by whichever of user, provider
    /// session id and subject are given: one statement for every rule below.
    async fn through_provider(
        db: &Db,
        slug: &str,
        user_id: Option<&str>,
        sid: Option<&str>,
        subject: Option<&str>,
    ) -> Result<u64, sqlx::Error> {
        let n = crate::exec!(
            db,
            "DELETE FROM sessions WHERE provider_slug = $1 AND ($2 IS NULL OR user_id = $2) \
             AND ($3 IS NULL OR provider_sid = $3) AND ($4 IS NULL OR subject = $4)",
            slug,
            user_id,
            sid,
            subject
        )?;
        wake();
        Ok(n)
    }

    /// Sessions that were signed in through provider `slug` (disabled or deleted), or only
    /// those of one user there (an unlinked identity).
    pub async fn for_provider(
        db: &Db,
        slug: &str,
        user_id: Option<&str>,
    ) -> Result<u64, sqlx::Error> {
        through_provider(db, slug, user_id, None, None).await
    }

    /// The session(s) the provider knows as `sid` (back-channel logout); when the token
    /// also names the subject, only that subject's.
    pub async fn for_provider_session(
        db: &Db,
        slug: &str,
        sid: &str,
        subject: Option<&str>,
    ) -> Result<u64, sqlx::Error> {
        through_provider(db, slug, None, Some(sid), subject).await
    }

    /// Every session signed in as `subject` at provider `slug` (back-channel logout by `sub`).
    pub async fn for_identity(db: &Db, slug: &str, subject: &str) -> Result<u64, sqlx::Error> {
        through_provider(db, slug, None, None, Some(subject)).await
    }
}
