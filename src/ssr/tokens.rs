//! Personal access tokens in the database, and reading one from a request. Only the token's
//! hash is stored ([`super::secrets::token_hash`]); the token is shown once, at creation.

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::Db;
use super::secrets::{random_token, token_hash};
use crate::audit::EventKind;
use crate::tokens::{PER_USER_MAX, PREFIX, TokenView, ValidToken};
use crate::{on_pool, users_locked_tx};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How often a token's last use is written at most: the check stays write-free otherwise.
pub const TOUCH_EVERY_SECS: i64 = 5 * 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("you hold {PER_USER_MAX} tokens already: revoke one you no longer use first")]
    TooMany,
    #[error("no token is numbered \"{0}\" (or it is not yours)")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Makes a token for `user_id`; gives its view and the token, the only time it exists
/// outside the caller's hands. `two_factors`: it is made by a session that showed two
/// factors (or from the server's command line), so it may open what requires them.
pub async fn create(
    db: &Db,
    user_id: &str,
    t: &ValidToken,
    two_factors: bool,
    by: &Actor,
) -> Result<(TokenView, String), TokenError> {
    // The limit and the insert in one statement, under the user's row lock on PostgreSQL
    // (SQLite runs one writer at a time): two creations at once cannot both pass at 49.
    const GUARDED_INSERT: &str = "INSERT INTO personal_tokens (id, user_id, name, token_hash, \
         hint, apps, created_at, expires_at, two_factors) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $10 \
         WHERE (SELECT COUNT(*) FROM personal_tokens WHERE user_id = $2) < $9";
    let token = format!("{PREFIX}{}", random_token());
    let id = uuid::Uuid::new_v4().to_string();
    let hint: String = token[token.len() - 4..].to_owned();
    let created = now();
    let expires = t.expires_in_days.map(|d| created + i64::from(d) * 86_400);
    let entry = Entry {
        user_id: Some(user_id.to_owned()),
        ..Entry::new(EventKind::TokenCreated, by)
            .target("token", &id, &t.name)
            .detail("apps", t.apps.clone())
            .detail("expires_in_days", t.expires_in_days)
    };
    let inserted = users_locked_tx!(db, tx, "id = $1", user_id => {
        let n = crate::exec_on!(
            &mut *tx,
            GUARDED_INSERT,
            &id,
            user_id,
            &t.name,
            token_hash(&token),
            &hint,
            t.apps.join("\n"),
            created,
            expires,
            PER_USER_MAX,
            two_factors,
        )?;
        if n > 0 {
            crate::audit_write!(&mut *tx, &entry)?;
        }
        n
    })?;
    if inserted == 0 {
        return Err(TokenError::TooMany);
    }
    let view = TokenView {
        id,
        name: t.name.clone(),
        hint,
        apps: t.apps.clone(),
        created_at: created,
        expires_at: expires,
        last_used_at: None,
    };
    Ok((view, token))
}

/// `user_id`'s tokens, newest first, with the applications named (`names`: id → name; ids
/// of applications since deleted are left out).
pub async fn list(
    db: &Db,
    user_id: &str,
    names: impl Fn(&str) -> Option<String>,
) -> Result<Vec<TokenView>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        name: String,
        hint: String,
        apps: String,
        created_at: i64,
        expires_at: Option<i64>,
        last_used_at: Option<i64>,
    }
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, hint, apps, created_at, expires_at, last_used_at FROM personal_tokens \
         WHERE user_id = $1 ORDER BY created_at DESC, id")
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| TokenView {
            apps: r.apps.lines().filter_map(&names).collect(),
            id: r.id,
            name: r.name,
            hint: r.hint,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
        })
        .collect())
}

/// Revokes (deletes) token `id`: `owner` is the user whose token it must be, `None` for an
/// administrator, who may revoke anyone's.
pub async fn revoke(db: &Db, id: &str, owner: Option<&str>, by: &Actor) -> Result<(), TokenError> {
    let found: Option<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, name FROM personal_tokens WHERE id = $1 AND ($2 IS NULL OR user_id = $2)")
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await)?;
    let Some((user_id, name)) = found else {
        return Err(TokenError::NotFound(id.to_owned()));
    };
    let entry = Entry {
        user_id: Some(user_id.clone()),
        ..Entry::new(EventKind::TokenRevoked, by).target("token", id, &name)
    };
    let n = crate::exec_audited!(
        db,
        &entry,
        "DELETE FROM personal_tokens WHERE id = $1 AND user_id = $2",
        id,
        &user_id,
    )?;
    if n == 0 {
        return Err(TokenError::NotFound(id.to_owned()));
    }
    Ok(())
}

/// Revokes every token of `user_id` (an administrator's answer to a lost laptop or a leaked
/// script): how many there were.
pub async fn revoke_all(db: &Db, user_id: &str, by: &Actor) -> Result<u64, sqlx::Error> {
    let entry = Entry::new(EventKind::TokenRevoked, by)
        .on_user(user_id)
        .detail("all", true);
    crate::exec_audited!(
        db,
        &entry,
        "DELETE FROM personal_tokens WHERE user_id = $1",
        user_id
    )
}

/// How many tokens each user holds (users with none left out), for the users page.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, COUNT(*) FROM personal_tokens GROUP BY user_id")
        .fetch_all(pool)
        .await)
}

/// A token that is valid now: whose it is and what it may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub id: String,
    pub user_id: String,
    pub apps: Vec<String>,
    /// Its last use is older than [`TOUCH_EVERY_SECS`] (or none): write it.
    pub stale: bool,
    /// Made by a session that showed two factors (or from the command line).
    pub two_factors: bool,
}

impl TokenUse {
    pub fn opens(&self, app_id: &str) -> bool {
        self.apps.iter().any(|a| a == app_id)
    }
}

/// The token `token` names, if it exists and has not expired (one indexed read).
pub async fn check(db: &Db, token: &str) -> Result<Option<TokenUse>, sqlx::Error> {
    let at = now();
    let row: Option<(String, String, String, Option<i64>, bool)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, user_id, apps, last_used_at, two_factors FROM personal_tokens \
         WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)")
        .bind(token_hash(token))
        .bind(at)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(id, user_id, apps, last, two_factors)| TokenUse {
        id,
        user_id,
        apps: apps.lines().map(str::to_owned).collect(),
        stale: last.is_none_or(|l| at - l >= TOUCH_EVERY_SECS),
        two_factors,
    }))
}

/// Records a use of token `id` now (called for a [`TokenUse::stale`] one only).
pub async fn touch(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    crate::exec!(
        db,
        "UPDATE personal_tokens SET last_used_at = $2 WHERE id = $1",
        id,
        now(),
    )?;
    Ok(())
}

/// A Portcullis token a request presents in `Authorization` (its value): `Bearer <token>`,
/// or HTTP Basic with a username and the token as the password (for clients that only do
/// Basic). `None` for anything else, an application's own credentials included: those are
/// left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub token: String,
    /// The Basic username, which must be the token's owner's.
    pub username: Option<String>,
}

pub fn presented(authorization: &str) -> Option<Presented> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return rest.starts_with(PREFIX).then(|| Presented {
            token: rest.to_owned(),
            username: None,
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(STANDARD.decode(rest).ok()?).ok()?;
        let (user, pass) = decoded.split_once(':')?;
        return pass.starts_with(PREFIX).then(|| Presented {
            token: pass.to_owned(),
            username: Some(user.to_owned()),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_tokens() {
        let t = format!("{PREFIX}abc");
        assert_eq!(
            presented(&format!("Bearer {t}")),
            Some(Presented {
                token: t.clone(),
                username: None
            })
        );
        assert_eq!(presented(&format!("bearer  {t} ")).unwrap().token, t);
        let basic = STANDARD.encode(format!("alice:{t}"));
        assert_eq!(
            presented(&format!("Basic {basic}")),
            Some(Presented {
                token: t.clone(),
                username: Some("alice".into())
            })
        );
        // An application's own credentials are not a Portcullis token.
        assert_eq!(presented("Bearer eyJhbGciOi.x.y"), None);
        assert_eq!(
            presented(&format!("Basic {}", STANDARD.encode("alice:hunter2"))),
            None
        );
        assert_eq!(presented("Basic !!!"), None);
        assert_eq!(presented(&t), None);
    }
}
