//! At every sign-in through a provider: the administrator flag follows the provider's Admin
//! Claims (granted when they hold, removed when they no longer do, but never from the last
//! administrator who can still sign in), and the display name follows the `name` claim.

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::Db;
use super::oidc::flow::Verified;
use super::providers;
use super::users;
use crate::admin_claims::{AdminChange, decide, kept_reason};
use crate::audit::EventKind;
use crate::claims;
use crate::email_source::EmailSource;
use crate::on_pool;
use crate::users_locked_tx;

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

/// Removes `user_id`'s administrator role only if another administrator could still sign
/// in (see [`others_can_sign_in`]); `false` when the role stays (the last one). The check
/// and the change are one statement; on PostgreSQL the administrators' rows are locked
/// first, so two concurrent revokes cannot both pass it (SQLite runs one writer at a time).
/// The revoke is audited as `entry` in the same transaction.
pub async fn revoke_unless_last(
    db: &Db,
    user_id: &str,
    entry: &Entry,
) -> Result<bool, sqlx::Error> {
    const GUARDED_REVOKE: &str = "UPDATE users SET is_admin = $5, updated_at = $6 WHERE id = $1 \
         AND is_admin = $4 AND EXISTS (SELECT 1 FROM users u WHERE u.is_admin = $4 AND u.id <> $1 AND \
         (($2 AND u.password_hash IS NOT NULL) OR ($3 AND EXISTS (SELECT 1 FROM linked_identities l \
         JOIN oidc_providers p ON p.slug = l.provider_slug WHERE l.user_id = u.id AND p.enabled = $4))))";
    let methods = providers::login_methods(db).await?;
    let n = users_locked_tx!(db, tx, "is_admin = $1", true => {
        let (local, oidc) = (methods.local, methods.oidc);
        let n = crate::exec_on!(&mut *tx, GUARDED_REVOKE, user_id, local, oidc, true, false, now())?;
        if n > 0 {
            crate::audit_write!(&mut *tx, entry)?;
        }
        n
    })?;
    Ok(n > 0)
}

/// The provider has Admin Claims and the claims meet them (sign-in, and Test sign-in's
/// preview of it).
pub(crate) fn admin_claims_hold(v: &Verified) -> bool {
    let rules = &v.provider.settings.admin_claims;
    !rules.is_empty() && claims::missing_required(&v.claims, rules).is_empty()
}

/// Applies the provider's rules to `user_id`, who has just signed in with `v`.
pub async fn at_sign_in(db: &Db, v: &Verified, user_id: &str) -> Result<(), sqlx::Error> {
    let Some(user) = users::get(db, user_id).await? else {
        return Ok(());
    };
    let rules = &v.provider.settings.admin_claims;
    let matches = admin_claims_hold(v);
    let mut change = if rules.is_empty() || matches || !user.is_admin {
        decide(!rules.is_empty(), matches, user.is_admin, true)
    } else {
        decide(true, false, true, others_can_sign_in(db, user_id).await?)
    };
    // Audited as the provider's doing, by its Admin Claims.
    let audited = |kind| {
        Entry::new(kind, &Actor::provider(&v.provider.slug))
            .on_user(user_id)
            .detail("rule", format!("admin_claims of {}", v.provider.slug))
    };
    // The count above may be stale by now: the revoke itself is guarded.
    if change == AdminChange::Revoke
        && !revoke_unless_last(db, user_id, &audited(EventKind::AdminRevoked)).await?
    {
        change = AdminChange::KeepLastAdmin;
    }
    let (admin, kept) = match change {
        AdminChange::Keep => (user.is_admin, None),
        AdminChange::Grant => (true, None),
        AdminChange::Revoke => (false, None),
        AdminChange::KeepLastAdmin => (true, Some(kept_reason(&v.provider.name))),
    };
    match change {
        AdminChange::Grant => {
            tracing::info!(user = ?user.username, provider = ?v.provider.slug, "Admin Claims hold: administrator")
        }
        AdminChange::Revoke => {
            tracing::info!(user = ?user.username, provider = ?v.provider.slug, "Admin Claims no longer hold: administrator role removed")
        }
        AdminChange::KeepLastAdmin => {
            tracing::warn!(user = ?user.username, provider = ?v.provider.slug, "Admin Claims no longer hold, but the role stays: no other administrator could sign in")
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
    // The note says why the last sign-in kept the role; any other sign-in clears it (also
    // one through a provider without Admin Claims). A sign-in that changes nothing writes
    // nothing (on SQLite a write would queue every sign-in behind the others).
    let granted = (change == AdminChange::Grant).then(|| audited(EventKind::AdminGranted));
    let renamed = (name != user.display_name).then(|| updated(v, user_id, "display_name"));
    crate::exec_audited_if!(
        db,
        granted.iter().chain(renamed.iter()),
        "UPDATE users SET is_admin = $2, display_name = $3, admin_kept = $4, \
         updated_at = CASE WHEN is_admin <> $2 OR display_name <> $3 THEN $5 ELSE updated_at END \
         WHERE id = $1 \
           AND (is_admin <> $2 OR display_name <> $3 OR COALESCE(admin_kept, '') <> COALESCE($4, ''))",
        user_id,
        admin,
        &name,
        kept.as_deref(),
        now()
    )?;
    sync_email(db, &user, v).await
}

/// The account's email follows the provider's verified one (only `email_verified: true`,
/// the hardening rule), unless another account holds it: then it stays as it is and the
/// sign-in goes on. A followed email is recorded as this provider's, so it is trusted only
/// while the provider links by email ([`crate::email_source`]). When the account already
/// has that address, the provider's word is recorded only when it makes an untrusted email
/// trusted (this provider links by email and verified the address for this account's
/// owner). Writes only when something changes.
async fn sync_email(db: &Db, user: &users::UserRow, v: &Verified) -> Result<(), sqlx::Error> {
    let Some(email) = claims::verified_email(&v.claims) else {
        return Ok(());
    };
    let source = EmailSource::Provider(v.provider.slug.clone());
    let (email_source, email_provider) = source.columns();
    if user
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
    {
        if !v.provider.settings.link_by_email
            || users::email_trust(db, &user.id)
                .await?
                .is_none_or(|t| t.trusted())
        {
            return Ok(());
        }
        let n = crate::exec!(
            db,
            "UPDATE users SET email_source = $3, email_provider = $4 \
             WHERE id = $1 AND lower(email) = lower($2)",
            &user.id,
            email,
            email_source,
            email_provider
        )?;
        if n > 0 {
            tracing::info!(user = ?user.username, provider = ?v.provider.slug, "the email is now trusted: a provider that links by email verified it");
        }
        return Ok(());
    }
    let changed = crate::exec_audited!(
        db,
        &updated(v, &user.id, "email"),
        "UPDATE users SET email = $2, updated_at = $3, email_source = $4, email_provider = $5 \
         WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.email) = lower($2) AND o.id <> $1)",
        &user.id,
        email,
        now(),
        email_source,
        email_provider
    );
    match changed {
        Ok(1) => {
            tracing::info!(user = ?user.username, provider = ?v.provider.slug, "email follows the provider's verified email")
        }
        Ok(_) => {
            tracing::info!(user = ?user.username, provider = ?v.provider.slug, "the provider's verified email belongs to another account; kept the account's own")
        }
        // Taken by another account between the check and the write.
        Err(e) if super::db::is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// `field` of `user_id` changed by the provider of `v` at a sign-in through it (the field's
/// name only, as ever).
fn updated(v: &Verified, user_id: &str, field: &str) -> Entry {
    Entry::new(EventKind::UserUpdated, &Actor::provider(&v.provider.slug))
        .on_user(user_id)
        .fields(vec![field.to_owned()])
}

/// Administrators kept by the last-administrator guard, and why: (user id, reason).
pub async fn kept_admins(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, admin_kept FROM users WHERE admin_kept IS NOT NULL AND is_admin = $1 ORDER BY username")
        .bind(true)
        .fetch_all(pool)
        .await)
}
