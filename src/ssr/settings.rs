//! Installation-wide switches stored in the database (key/value).

use super::db::Db;
use crate::on_pool;

pub const SETUP_COMPLETE: &str = "setup_complete";
/// Username/password sign-in (on unless an administrator turned it off).
pub const LOCAL_LOGIN: &str = "local_login_enabled";
/// The provider `/login` goes straight to (its slug), or empty: off.
pub const AUTO_REDIRECT: &str = "login_auto_redirect";

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await)
}

pub async fn set(db: &Db, key: &str, value: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn get_bool(db: &Db, key: &str, default: bool) -> Result<bool, sqlx::Error> {
    Ok(get(db, key).await?.map(|v| v == "true").unwrap_or(default))
}
