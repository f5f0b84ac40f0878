//! At every sign-in through a provider: the administrator flag follows the provider's Admin
//! Claims (granted when they hold, removed when they no longer do, but never from the last
//! administrator who can still sign in), and the display name follows the `name` claim.

use super::clock::now;
use super::db::Db;
use super::oidc::flow::Verified;
use super::providers;
use super::users;
use crate::admin_claims::{AdminChange, decide, kept_reason};
use crate::claims;
use crate::on_pool;

/// Whether an administrator other than `user_id` could sign in now: with a password while
/// local sign-in is on, or through an enabled provider they are linked to while OpenID
/// Connect sign-in is on.
pub async fn others_can_sign_in(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    let methods = providers::login_methods(db).await?;
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users u WHERE u.is_admin = $4 AND u.id <> $1 AND \
         (($2 AND u.password_hash IS NOT NULL) OR ($3 AND EXISTS (SELECT 1 FROM linked_identities l \
         JOIN oidc_providers p ON p.slug = l.provider_slug WHERE l.user_id = u.id AND p.enabled = $4)))")
        .bind(user_id)
        .bind(methods.local)
        .bind(methods.oidc)
        .bind(true)
        .fetch_one(pool)
        .await)?;
    Ok(n > 0)
}

/// How many administrators could sign in through an enabled provider (linked to one),
/// whether or not OpenID Connect sign-in is on right now.
pub async fn admins_through_providers(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users u WHERE u.is_admin = $1 AND EXISTS (SELECT 1 FROM \
         linked_identities l JOIN oidc_providers p ON p.slug = l.provider_slug \
         WHERE l.user_id = u.id AND p.enabled = $1)")
        .bind(true)
        .fetch_one(pool)
        .await)
}

/// Applies the provider's rules to `user_id`, who has just signed in with `v`.
pub async fn at_sign_in(db: &Db, v: &Verified, user_id: &str) -> Result<(), sqlx::Error> {
    let Some(user) = users::get(db, user_id).await? else {
        return Ok(());
    };
    let rules = v.provider.admin_claims();
    let matches = !rules.is_empty() && claims::missing_required(&v.claims, &rules).is_empty();
    let change = if rules.is_empty() || matches || !user.is_admin {
        decide(!rules.is_empty(), matches, user.is_admin, true)
    } else {
        decide(true, false, true, others_can_sign_in(db, user_id).await?)
    };
    let (admin, kept) = match change {
        AdminChange::Keep => (user.is_admin, None),
        AdminChange::Grant => (true, None),
        AdminChange::Revoke => (false, None),
        AdminChange::KeepLastAdmin => (true, Some(kept_reason(&v.provider.name))),
    };
    match change {
        AdminChange::Grant => {
            tracing::info!(user = %user.username, provider = %v.provider.slug, "Admin Claims hold: administrator")
        }
        AdminChange::Revoke => {
            tracing::info!(user = %user.username, provider = %v.provider.slug, "Admin Claims no longer hold: administrator role removed")
        }
        AdminChange::KeepLastAdmin => {
            tracing::warn!(user = %user.username, provider = %v.provider.slug, "Admin Claims no longer hold, but the role stays: no other administrator could sign in")
        }
        AdminChange::Keep => {}
    }
    let name = v.claim_str("name").map(|n| {
        n.chars()
            .filter(|c| !c.is_control())
            .take(crate::account::DISPLAY_NAME_MAX)
            .collect::<String>()
    });
    let name = name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(user.display_name.clone());
    // The note is only touched by providers that manage the role.
    let touch_note = !rules.is_empty();
    crate::exec!(
        db,
        "UPDATE users SET is_admin = $2, display_name = $3, \
         admin_kept = CASE WHEN $4 THEN $5 ELSE admin_kept END, \
         updated_at = CASE WHEN is_admin <> $2 OR display_name <> $3 THEN $6 ELSE updated_at END \
         WHERE id = $1",
        user_id,
        admin,
        &name,
        touch_note,
        kept.as_deref(),
        now()
    )?;
    Ok(())
}

/// Administrators kept by the last-administrator guard, and why: (user id, reason).
pub async fn kept_admins(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, admin_kept FROM users WHERE admin_kept IS NOT NULL AND is_admin = $1 ORDER BY username")
        .bind(true)
        .fetch_all(pool)
        .await)
}
