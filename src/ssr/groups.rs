//! A user's groups (table `user_groups`): those an administrator assigns in Portcullis,
//! and those each provider sends in its groups claim, replaced at every sign-in through it.
//! A provider's groups are stored as sent and read as applications see them
//! ([`crate::apps::provider_group`]: `<slug>:<group>` unless that provider's groups are
//! authoritative), so the flag applies at once, both ways.

use super::audit::{Actor, Entry};
use super::db::Db;
use crate::apps::GroupAssignment;
use crate::audit::EventKind;
use crate::on_pool;

/// The source of assigned groups (claim groups carry the provider's slug).
const ASSIGNED: &str = "";

/// A stored group row with what decides how applications see it: (source, group as
/// sent, whether the source provider's groups are authoritative): [`SEEN_COLUMNS`] from
/// `user_groups g` and its provider ([`SEEN_JOIN`]).
type SeenRow = (String, String, Option<bool>);
const SEEN_COLUMNS: &str = "g.source, g.group_name, p.groups_authoritative";
const SEEN_JOIN: &str = "LEFT JOIN oidc_providers p ON p.slug = g.source";

/// The group of a [`SeenRow`] as applications see it: an assigned one as it is, a
/// provider's through [`crate::apps::provider_group`] (a provider that is gone counts as
/// not authoritative).
fn seen((source, group, authoritative): SeenRow) -> String {
    if source == ASSIGNED {
        group
    } else {
        crate::apps::provider_group(&source, &group, authoritative.unwrap_or(false))
    }
}

/// Sorted, without duplicates.
fn seen_all(rows: impl IntoIterator<Item = SeenRow>) -> Vec<String> {
    let mut groups: Vec<String> = rows.into_iter().map(seen).collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Every group of `user_id`, assigned or from any provider, as applications see them,
/// sorted, without duplicates.
pub async fn of_user(db: &Db, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!("SELECT {SEEN_COLUMNS} FROM user_groups g {SEEN_JOIN} WHERE g.user_id = $1");
    let rows: Vec<SeenRow> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)?;
    Ok(seen_all(rows))
}

/// Every user's groups as applications see them: (user id, groups sorted), users without
/// groups left out (the users page).
pub async fn of_everyone(db: &Db) -> Result<Vec<(String, Vec<String>)>, sqlx::Error> {
    let sql = format!(
        "SELECT g.user_id, {SEEN_COLUMNS} FROM user_groups g {SEEN_JOIN} ORDER BY g.user_id"
    );
    let rows: Vec<(String, String, String, Option<bool>)> =
        on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    let mut out: Vec<(String, Vec<SeenRow>)> = Vec::new();
    for (user, source, group, authoritative) in rows {
        match out.last_mut() {
            Some((u, list)) if *u == user => list.push((source, group, authoritative)),
            _ => out.push((user, vec![(source, group, authoritative)])),
        }
    }
    Ok(out
        .into_iter()
        .map(|(user, rows)| (user, seen_all(rows)))
        .collect())
}

/// The groups an administrator assigned to `user_id`.
pub async fn assigned(db: &Db, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT group_name FROM user_groups WHERE user_id = $1 AND source = $2 ORDER BY group_name")
        .bind(user_id)
        .bind(ASSIGNED)
        .fetch_all(pool)
        .await)
}

/// Assigned groups of everyone, or of one user, ordered by username then group.
pub async fn assignments(
    db: &Db,
    user_id: Option<&str>,
) -> Result<Vec<GroupAssignment>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT g.user_id, u.username, g.group_name AS \"group\" FROM user_groups g \
         JOIN users u ON u.id = g.user_id WHERE g.source = $1 AND ($2 IS NULL OR g.user_id = $2) \
         ORDER BY lower(u.username), g.group_name")
        .bind(ASSIGNED)
        .bind(user_id)
        .fetch_all(pool)
        .await)
}

/// Assigns `group` to `user_id` (by `by`, audited); `false` when it already was. The name
/// must pass [`crate::apps::check_group`] (callers check it, to say why).
pub async fn assign(db: &Db, user_id: &str, group: &str, by: &Actor) -> Result<bool, sqlx::Error> {
    const SQL: &str = "INSERT INTO user_groups (user_id, source, group_name) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING";
    assignment(db, EventKind::GroupAssigned, SQL, (user_id, group), by).await
}

/// Takes assigned `group` from `user_id` (by `by`, audited); `false` when it was not assigned.
pub async fn unassign(
    db: &Db,
    user_id: &str,
    group: &str,
    by: &Actor,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "DELETE FROM user_groups WHERE user_id = $1 AND source = $2 AND group_name = $3";
    assignment(db, EventKind::GroupUnassigned, SQL, (user_id, group), by).await
}

/// Runs `sql` on an assigned (user, group) (`$1`, `$3`; `$2` the assigned source) and
/// audits it as `kind` when it changed something; whether it did.
async fn assignment(
    db: &Db,
    kind: EventKind,
    sql: &str,
    (user_id, group): (&str, &str),
    by: &Actor,
) -> Result<bool, sqlx::Error> {
    let entry = Entry::new(kind, by).on_user(user_id).detail("group", group);
    let n = crate::exec_audited!(db, &entry, sql, user_id, ASSIGNED, group)?;
    Ok(n > 0)
}

/// Replaces the groups provider `slug` vouched for (at a sign-in through it).
pub async fn set_from_provider(
    db: &Db,
    user_id: &str,
    slug: &str,
    groups: &[String],
) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => async {
        // Most sign-ins bring the groups they brought last time: then one read, no write
        // (a write per sign-in would serialise SQLite's sign-ins behind each other).
        let mut stored: Vec<String> = sqlx::query_scalar(
            "SELECT group_name FROM user_groups WHERE user_id = $1 AND source = $2")
            .bind(user_id)
            .bind(slug)
            .fetch_all(pool)
            .await?;
        let mut wanted = groups.to_vec();
        stored.sort();
        wanted.sort();
        wanted.dedup();
        if stored == wanted {
            return Ok(());
        }
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM user_groups WHERE user_id = $1 AND source = $2")
            .bind(user_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        for g in groups {
            sqlx::query(
                "INSERT INTO user_groups (user_id, source, group_name) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING")
                .bind(user_id)
                .bind(slug)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }.await)
}

/// Forgets the groups provider `slug` vouched for: of `user_id`, or of everyone (`None`).
/// Called when the link goes, or the provider is disabled or deleted: its groups must not
/// outlive it.
pub async fn drop_from_provider(
    db: &Db,
    slug: &str,
    user_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    crate::exec!(
        db,
        "DELETE FROM user_groups WHERE source = $1 AND source <> $2 AND ($3 IS NULL OR user_id = $3)",
        slug,
        ASSIGNED,
        user_id
    )
}

/// Who a signed-in user is, for the check endpoint: one query for the user and all their
/// groups.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub username: String,
    pub display_name: String,
    /// Only a trusted email ([`super::users::EmailTrust::trusted`]): applications take
    /// `Remote-Email` as the user's address, so one a provider that does not link by email
    /// set is not handed on.
    pub email: Option<String>,
    pub is_admin: bool,
    /// Sorted, without duplicates.
    pub groups: Vec<String>,
}

/// The user `user_id` with every group (assigned or from a provider, as applications see
/// them), or `None` when the user no longer exists.
pub async fn identity(db: &Db, user_id: &str) -> Result<Option<Identity>, sqlx::Error> {
    #[derive(Clone, sqlx::FromRow)]
    struct Row {
        username: String,
        display_name: String,
        email: Option<String>,
        is_admin: bool,
        source: Option<String>,
        group_name: Option<String>,
        groups_authoritative: Option<bool>,
        #[sqlx(flatten)]
        trust: super::users::EmailTrust,
    }
    let sql = format!(
        "SELECT u.username, u.display_name, u.email, u.is_admin, {SEEN_COLUMNS}, {} FROM users u \
         LEFT JOIN user_groups g ON g.user_id = u.id {SEEN_JOIN} WHERE u.id = $1",
        super::users::EMAIL_TRUST_COLUMNS
    );
    let rows: Vec<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await)?;
    let Some(first) = rows.first().cloned() else {
        return Ok(None);
    };
    let groups = seen_all(
        rows.into_iter()
            .filter_map(|r| Some((r.source?, r.group_name?, r.groups_authoritative))),
    );
    Ok(Some(Identity {
        username: first.username,
        display_name: first.display_name,
        email: first.email.filter(|_| first.trust.trusted()),
        is_admin: first.is_admin,
        groups,
    }))
}

/// At a sign-in through provider `slug`: replaces the groups it vouched for with those its
/// groups claim (the provider's "Groups claim", a dotted path allowed) names in `claims`
/// ([`crate::apps::groups_in_claims`]; stored as sent). A provider that sends no such
/// claim leaves the user with no groups from it.
pub async fn refresh_from_claims(
    db: &Db,
    user_id: &str,
    slug: &str,
    groups_claim: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<String>, sqlx::Error> {
    let groups = crate::apps::groups_in_claims(groups_claim, claims);
    set_from_provider(db, user_id, slug, &groups).await?;
    Ok(groups)
}
