//! Applications in the database (table `applications`), and the in-memory copy the check
//! endpoint reads on every request ([`AppsCache`]).

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::{Db, is_unique_violation};
use super::groups;
use super::op::clients::OpClient;
use super::order::APPS;
use super::users::UserRow;
use crate::apps::{Access, App, AppSettings, AppUrl, AppView, ValidApp};
use crate::audit::EventKind;
use crate::on_pool;
use crate::second_factor::Requirement;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    #[error("no application is called or numbered \"{0}\"")]
    NotFound(String),
    #[error("another application is already called \"{0}\"")]
    NameTaken(String),
    /// (this application's URL, the other application's name)
    #[error("{1} lists {0} already")]
    UrlTaken(String, String),
    #[error("the new order must name every application exactly once")]
    BadOrder,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    urls: String,
    icon: String,
    access: String,
    allowed_users: String,
    allowed_groups: String,
    allow_tokens: bool,
    require_second_factor: bool,
    position: i64,
    updated_at: i64,
}

/// The non-empty lines of a column that holds a list one entry per line.
pub(crate) fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A list as such a column holds it, one entry per line: what [`lines`] reads back.
pub(crate) fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Row {
    fn app(self) -> App {
        App {
            settings: AppSettings {
                // A URL stored under older rules that today's refuse stays, unreadable,
                // refusing its host (`AppUrl::stored`): dropped, its requests would be judged
                // by a wider application.
                urls: self
                    .urls
                    .lines()
                    .filter(|u| !u.trim().is_empty())
                    .map(|u| {
                        AppUrl::stored(u).unwrap_or_else(|(kept, why)| {
                            tracing::error!(app = %self.name, url = %u, %why, "a stored application URL no longer reads; every request to its host is refused until an administrator edits it");
                            kept
                        })
                    })
                    .collect(),
                // An unknown access value (a hand-edited row) lets administrators only: fail
                // closed.
                access: Access::parse(&self.access).unwrap_or(Access::Admins),
                users: lines(&self.allowed_users),
                groups: lines(&self.allowed_groups),
                allow_tokens: self.allow_tokens,
                require_second_factor: self.require_second_factor,
                name: self.name,
                icon: self.icon,
            },
            id: self.id,
            position: self.position,
            updated_at: self.updated_at,
        }
    }
}

const SELECT: &str = "SELECT id, name, urls, icon, access, allowed_users, allowed_groups, \
                      allow_tokens, require_second_factor, position, updated_at \
                      FROM applications";

/// Every application, in start-page order.
pub async fn list(db: &Db) -> Result<Vec<App>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY {}", APPS.order_by);
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Row::app).collect())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<App>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(Row::app))
}

/// An application by id, or else by name (case-insensitive): what the CLI accepts.
pub async fn find(db: &Db, id_or_name: &str) -> Result<Option<App>, sqlx::Error> {
    if let Some(app) = get(db, id_or_name).await? {
        return Ok(Some(app));
    }
    let sql = format!("{SELECT} WHERE lower(name) = lower($1)");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id_or_name).fetch_optional(pool).await)?;
    Ok(row.map(Row::app))
}

fn taken(name: &str) -> impl FnOnce(sqlx::Error) -> AppsError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            AppsError::NameTaken(name.to_owned())
        } else {
            e.into()
        }
    }
}

/// Writes application `a` with `sql`, whose `$1` is the id, `$2` to `$7` the fields in the
/// order of the table's columns, `$8` the time, `$9` `allow_tokens` and `$10`
/// `require_second_factor`: the one list of
/// what is stored, for create and update, audited as `entry` in the same transaction. Gives
/// the number of rows written.
async fn write(
    db: &Db,
    sql: &str,
    id: &str,
    a: &AppSettings,
    entry: &Entry,
) -> Result<u64, AppsError> {
    // One application per place: the gate refuses a path two applications list alike
    // (fail closed), so say it here, beside the URL, before anyone is refused.
    for other in list(db).await?.iter().filter(|o| o.id != id) {
        if let Some(u) = a
            .urls
            .iter()
            .find(|u| other.settings.urls.iter().any(|o| o.same_place(u)))
        {
            return Err(AppsError::UrlTaken(
                u.to_string(),
                other.settings.name.clone(),
            ));
        }
    }
    crate::exec_audited!(
        db,
        entry,
        sql,
        id,
        &a.name,
        joined(&a.urls),
        &a.icon,
        a.access.as_str(),
        joined(&a.users),
        joined(&a.groups),
        now(),
        a.allow_tokens,
        a.require_second_factor,
    )
    .map_err(taken(&a.name))
}

pub async fn create(db: &Db, a: &ValidApp, by: &Actor) -> Result<App, AppsError> {
    let id = uuid::Uuid::new_v4().to_string();
    let a = &a.settings;
    let entry = Entry::new(EventKind::AppCreated, by).target("app", &id, &a.name);
    let sql = "INSERT INTO applications (id, name, urls, icon, access, allowed_users, \
               allowed_groups, position, created_at, updated_at, allow_tokens, require_second_factor) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, \
               (SELECT COALESCE(MAX(position), -1) + 1 FROM applications), $8, $8, $9, $10)";
    write(db, sql, &id, a, &entry).await?;
    get(db, &id).await?.ok_or(AppsError::NotFound(id))
}

pub async fn update(db: &Db, id: &str, a: &ValidApp, by: &Actor) -> Result<App, AppsError> {
    let old = get(db, id)
        .await?
        .ok_or_else(|| AppsError::NotFound(id.to_owned()))?
        .view();
    let a = &a.settings;
    let new = AppView {
        settings: a.view(),
        ..old.clone()
    };
    let entry = Entry::new(EventKind::AppUpdated, by)
        .target("app", id, &a.name)
        .fields(crate::audit::changed_fields(&old, &new));
    let sql = "UPDATE applications SET name = $2, urls = $3, icon = $4, access = $5, \
               allowed_users = $6, allowed_groups = $7, updated_at = $8, allow_tokens = $9, \
               require_second_factor = $10 WHERE id = $1";
    if write(db, sql, id, a, &entry).await? == 0 {
        return Err(AppsError::NotFound(id.to_owned()));
    }
    get(db, id)
        .await?
        .ok_or_else(|| AppsError::NotFound(id.to_owned()))
}

pub async fn delete(db: &Db, id: &str, by: &Actor) -> Result<(), AppsError> {
    let name = get(db, id)
        .await?
        .map_or_else(|| id.to_owned(), |a| a.settings.name);
    let entry = Entry::new(EventKind::AppDeleted, by).target("app", id, &name);
    match crate::exec_audited!(db, &entry, "DELETE FROM applications WHERE id = $1", id)? {
        0 => Err(AppsError::NotFound(id.to_owned())),
        _ => Ok(()),
    }
}

/// Moves one application a place up (`-1`) or down (`+1`).
pub async fn shift(db: &Db, id: &str, by: i64) -> Result<(), AppsError> {
    APPS.shift(db, id, by).await
}

/// The applications `user` may open, in start-page order (the portal).
pub async fn visible_to(db: &Db, user: &UserRow) -> Result<Vec<App>, sqlx::Error> {
    visible_among(db, user, list(db).await?).await
}

/// Those of `apps` that `user` may open, in their order (for a caller that has the list).
pub async fn visible_among(
    db: &Db,
    user: &UserRow,
    apps: Vec<App>,
) -> Result<Vec<App>, sqlx::Error> {
    let groups = if apps.iter().any(|a| a.settings.access == Access::Listed) {
        groups::of_user(db, &user.id).await?
    } else {
        Vec::new()
    };
    Ok(apps
        .into_iter()
        .filter(|a| a.allows(user.is_admin, &user.username, &groups))
        .collect())
}

/// An uploaded icon as (media type, bytes); `None` when the application has none.
pub async fn uploaded_icon(db: &Db, id: &str) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    super::providers::stored_image(db, "SELECT icon FROM applications WHERE id = $1", id).await
}

/// How long another replica's (or the CLI's) change to applications may take to reach this
/// process's check endpoint. Changes made through this process apply at once.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// The applications and their OpenID Connect clients, kept in memory for [`CACHE_TTL`] at
/// a time: the check endpoint runs on every request of every application, and the OpenID
/// Provider's endpoints on every sign-in, and neither must read them each time.
#[derive(Debug, Default)]
pub struct AppsCache {
    /// (generation, cached list): the generation goes up at every [`AppsCache::invalidate`],
    /// so a load that began before one never stores its (stale) result.
    slot: RwLock<(u64, Option<Loaded>)>,
}

/// What the gate decides with, and when its load began: the applications, who must have
/// signed in with two factors (a setting, kept here so that a check reads no more rows), and
/// the clients.
#[derive(Clone)]
struct Loaded {
    at: Instant,
    apps: Arc<Vec<App>>,
    requirement: Requirement,
    clients: Arc<Vec<OpClient>>,
}

impl std::fmt::Debug for Loaded {
    // The clients hold secret hashes: a debug print names how many, nothing of them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("at", &self.at)
            .field("apps", &self.apps.len())
            .field("clients", &self.clients.len())
            .finish()
    }
}

impl AppsCache {
    pub async fn get(&self, db: &Db) -> Result<Arc<Vec<App>>, sqlx::Error> {
        Ok(self.load(db).await?.apps)
    }

    /// Who must have signed in with two factors (`settings::second_factor_requirement`).
    pub async fn requirement(&self, db: &Db) -> Result<Requirement, sqlx::Error> {
        Ok(self.load(db).await?.requirement)
    }

    /// Both, from one load: what the forward-auth check decides with.
    pub async fn gate(&self, db: &Db) -> Result<(Arc<Vec<App>>, Requirement), sqlx::Error> {
        let loaded = self.load(db).await?;
        Ok((loaded.apps, loaded.requirement))
    }

    /// The client called `client_id` with `judge`'s verdict on it: the copy in memory when
    /// `judge` accepts it, else the stored one. Whatever would refuse the caller's request
    /// (an unknown client, a secret it does not have) is read again from the database, so a
    /// change made elsewhere (another replica, the command line) that lets a request in
    /// counts at once; one that shuts a request out counts on this process within
    /// [`CACHE_TTL`], as it does for forward auth. Changes made through this process apply
    /// at once ([`Self::invalidate`]). Each client is judged once.
    pub async fn client<E>(
        &self,
        db: &Db,
        client_id: &str,
        judge: impl Fn(&OpClient) -> Result<(), E>,
    ) -> Result<Option<(OpClient, Result<(), E>)>, sqlx::Error> {
        let loaded = self.load(db).await?;
        if let Some(c) = loaded
            .clients
            .iter()
            .find(|c| c.view.client_id == client_id)
            && judge(c).is_ok()
        {
            return Ok(Some((c.clone(), Ok(()))));
        }
        let stored = super::op::clients::by_client_id(db, client_id).await?;
        Ok(stored.map(|c| {
            let verdict = judge(&c);
            (c, verdict)
        }))
    }

    async fn load(&self, db: &Db) -> Result<Loaded, sqlx::Error> {
        let generation = {
            let slot = self.slot.read().expect("apps cache lock");
            if let Some(loaded) = slot.1.as_ref()
                && loaded.at.elapsed() < CACHE_TTL
            {
                return Ok(loaded.clone());
            }
            slot.0
        };
        let loaded = Loaded {
            at: Instant::now(),
            apps: Arc::new(list(db).await?),
            requirement: super::settings::second_factor_requirement(db).await?,
            clients: Arc::new(super::op::clients::list(db).await?),
        };
        self.store(generation, loaded.clone());
        Ok(loaded)
    }

    /// Keeps `loaded` unless the cache was invalidated since `generation` was read.
    fn store(&self, generation: u64, loaded: Loaded) {
        let mut slot = self.slot.write().expect("apps cache lock");
        if slot.0 == generation {
            slot.1 = Some(loaded);
        }
    }

    /// After a change to applications, their clients or the second-factor requirement made
    /// by this process.
    pub fn invalidate(&self) {
        let mut slot = self.slot.write().expect("apps cache lock");
        slot.0 = slot.0.wrapping_add(1);
        slot.1 = None;
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn empty() -> Loaded {
        Loaded {
            at: Instant::now(),
            apps: Arc::default(),
            requirement: Requirement::Nobody,
            clients: Arc::default(),
        }
    }

    #[test]
    fn a_load_begun_before_an_invalidate_is_not_kept() {
        let cache = AppsCache::default();
        let generation = cache.slot.read().unwrap().0;
        cache.invalidate();
        cache.store(generation, empty());
        assert!(cache.slot.read().unwrap().1.is_none());
        let generation = cache.slot.read().unwrap().0;
        cache.store(generation, empty());
        assert!(cache.slot.read().unwrap().1.is_some());
    }
}
