//! Installation-wide switches stored in the database (key/value).

use super::audit::{Actor, Entry};
use super::db::Db;
use crate::audit::EventKind;
use crate::on_pool;
use crate::second_factor::Requirement;

pub const SETUP_COMPLETE: &str = "setup_complete";
/// Username/password sign-in (on unless an administrator turned it off).
pub const LOCAL_LOGIN: &str = "local_login_enabled";
/// The provider `/login` goes straight to (its slug), or empty: off.
pub const AUTO_REDIRECT: &str = "login_auto_redirect";
/// Who must have signed in with two factors ([`Requirement`]); absent: nobody.
pub const REQUIRE_SECOND_FACTOR: &str = "require_second_factor";

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await)
}

const SET_SQL: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub async fn set(db: &Db, key: &str, value: &str) -> Result<(), sqlx::Error> {
    crate::exec!(db, SET_SQL, key, value).map(|_| ())
}

/// A sign-in switch set by `by`: audited as `login_methods_changed`, with the switch's name
/// and its new value, in the same transaction.
pub async fn set_by(db: &Db, key: &str, value: &str, by: &Actor) -> Result<(), sqlx::Error> {
    let entry = Entry::new(EventKind::LoginMethodsChanged, by).detail(key, value);
    crate::exec_audited!(db, &entry, SET_SQL, key, value).map(|_| ())
}

pub async fn get_bool(db: &Db, key: &str, default: bool) -> Result<bool, sqlx::Error> {
    Ok(get(db, key).await?.map(|v| v == "true").unwrap_or(default))
}

/// Who must have signed in with two factors. A value this version does not know (a
/// hand-edited row, a newer version's) requires them of everyone: fail closed.
pub async fn second_factor_requirement(db: &Db) -> Result<Requirement, sqlx::Error> {
    Ok(match get(db, REQUIRE_SECOND_FACTOR).await? {
        Some(v) => Requirement::parse(&v).unwrap_or(Requirement::Everyone),
        None => Requirement::Nobody,
    })
}

/// Sets who must have signed in with two factors (audited as the other sign-in switches).
pub async fn set_second_factor_requirement(
    db: &Db,
    requirement: Requirement,
    by: &Actor,
) -> Result<(), sqlx::Error> {
    set_by(db, REQUIRE_SECOND_FACTOR, requirement.as_str(), by).await
}
