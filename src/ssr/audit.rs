//! The audit log in the database (issue 23 item 2): writing an event (on a transaction's
//! connection with [`audit_write!`], or alone with [`record`]), forward-auth denials counted
//! per minute, application, user and reason (one row each, so a flood cannot fill the disk),
//! the listing with its filters and keyset pages, and the retention sweep. What an event
//! says is `crate::audit`.

use super::clock::now;
use super::db::Db;
use crate::audit::{Acted, AuditEvent, AuditFilter, EventKind, MAX_LIMIT, Page};
use crate::on_pool;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether events are written: `--audit-retention-days 0` keeps none (and writes none). Set
/// once by the command line for its process.
static ENABLED: AtomicBool = AtomicBool::new(true);

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Who acts.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
    pub client: Option<String>,
}

impl Actor {
    /// A user, from a request at `client`.
    pub fn user(id: &str, name: &str, client: Option<IpAddr>) -> Actor {
        Actor {
            id: Some(id.to_owned()),
            name: name.to_owned(),
            client: client.map(|c| c.to_string()),
        }
    }

    /// A user known by id (named as stored when the event is written), not at a request.
    pub fn user_id(id: &str) -> Actor {
        Actor {
            id: Some(id.to_owned()),
            name: String::new(),
            client: None,
        }
    }

    /// [`Actor::user_id`] from a request at `client`.
    pub fn user_id_at(id: &str, client: Option<IpAddr>) -> Actor {
        Actor {
            client: client.map(|c| c.to_string()),
            ..Actor::user_id(id)
        }
    }

    /// Someone not (yet) known to be a user: a failed sign-in names what was typed.
    pub fn unknown(name: &str, client: Option<IpAddr>) -> Actor {
        Actor {
            id: None,
            name: name.chars().filter(|c| !c.is_control()).take(100).collect(),
            client: client.map(|c| c.to_string()),
        }
    }

    /// An administrator at the server's command line.
    pub fn cli() -> Actor {
        Self::named("cli")
    }

    /// A provider (back-channel logout, Admin Claims at sign-in).
    pub fn provider(slug: &str) -> Actor {
        Self::named(&format!("provider:{slug}"))
    }

    fn named(name: &str) -> Actor {
        Actor {
            id: None,
            name: name.to_owned(),
            client: None,
        }
    }
}

/// An event about to be written.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EventKind,
    pub at: i64,
    pub actor: Actor,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub target: Option<String>,
    pub user_id: Option<String>,
    pub details: BTreeMap<String, serde_json::Value>,
    /// Rows with the same key are one row, counted ([`denied`]); `None` for the rest.
    pub dedupe: Option<String>,
}

impl Entry {
    /// `kind` by `actor`, now; it concerns the actor until [`Entry::about`] says otherwise.
    pub fn new(kind: EventKind, actor: &Actor) -> Entry {
        Entry {
            kind,
            at: now(),
            actor: actor.clone(),
            target_type: None,
            target_id: None,
            target: None,
            user_id: actor.id.clone(),
            details: BTreeMap::new(),
            dedupe: None,
        }
    }

    /// What was acted on: its type, id and name as it is now.
    pub fn target(mut self, kind: &'static str, id: &str, name: &str) -> Entry {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_owned());
        self.target = Some(name.to_owned());
        self
    }

    /// A user acted on: the target, and the user the event concerns (named as stored when
    /// the event is written).
    pub fn on_user(mut self, id: &str) -> Entry {
        self.target_type = Some("user");
        self.target_id = Some(id.to_owned());
        self.user_id = Some(id.to_owned());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Entry {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The fields that changed (names only), as `fields`.
    pub fn fields(self, fields: Vec<String>) -> Entry {
        self.detail("fields", fields)
    }

    pub fn details_json(&self) -> String {
        serde_json::to_string(&self.details).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// One statement for every event; a counted row adds one to its count.
pub const INSERT_SQL: &str = "INSERT INTO audit_events \
     (id, at, event, actor_id, actor, client, target_type, target_id, target, user_id, details, count, dedupe) \
     VALUES ($1, $2, $3, $4, \
     COALESCE(NULLIF($5, ''), (SELECT username FROM users WHERE id = $4), ''), $6, $7, $8, \
     COALESCE($9, CASE WHEN $7 = 'user' THEN (SELECT username FROM users WHERE id = $8) END), \
     $10, $11, 1, $12) \
     ON CONFLICT (dedupe) DO UPDATE SET count = audit_events.count + 1";

/// Writes `$entry` (an [`Entry`]) on `$conn`: a transaction's connection (`&mut *tx`), so the
/// event stands or falls with the change it records, or a pool. Nothing when the audit log
/// is off.
#[macro_export]
macro_rules! audit_write {
    ($conn:expr, $entry:expr) => {{
        let e: &$crate::ssr::audit::Entry = $entry;
        if $crate::ssr::audit::enabled() {
            sqlx::query($crate::ssr::audit::INSERT_SQL)
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(e.at)
                .bind(e.kind.name())
                .bind(e.actor.id.as_deref())
                .bind(&e.actor.name)
                .bind(e.actor.client.as_deref())
                .bind(e.target_type)
                .bind(e.target_id.as_deref())
                .bind(e.target.as_deref())
                .bind(e.user_id.as_deref())
                .bind(e.details_json())
                .bind(e.dedupe.as_deref())
                .execute($conn)
                .await
                .map(|_| ())
        } else {
            Ok(())
        }
    }};
}

/// Runs one statement and, when it changed a row, writes `$entry` in the same transaction;
/// gives the number of rows it affected. The audited shape of [`crate::exec!`].
#[macro_export]
macro_rules! exec_audited {
    ($db:expr, $entry:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::exec_audited_if!($db, [$entry], $sql $(, $arg)*)
    };
}

/// [`exec_audited!`] with the events to write given as any `IntoIterator<Item = &Entry>` (an
/// `Option<&Entry>`, a chain of them): a statement that records an event only for some of
/// its changes, or more than one.
#[macro_export]
macro_rules! exec_audited_if {
    ($db:expr, $entry:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::on_pool!($db, pool => async {
            let mut tx = pool.begin().await?;
            let n = $crate::exec_on!(&mut *tx, $sql $(, $arg)*)?;
            if n > 0 {
                for entry in $entry {
                    $crate::audit_write!(&mut *tx, entry)?;
                }
            }
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(n)
        }.await)
    };
}

/// Writes one event on its own, after the change it records: for changes made outside a
/// transaction of ours (a session in the session store). A failure is logged, not returned:
/// the change has happened.
pub async fn record(db: &Db, entry: Entry) {
    let result: Result<(), sqlx::Error> = on_pool!(db, pool => audit_write!(pool, &entry));
    if let Err(e) = result {
        tracing::error!(event = entry.kind.name(), error = %e, "could not write an audit event");
    }
}

/// A forward-auth refusal of `user` (absent: a token nobody owns) at `app`, counted in the
/// row of its minute, application, user and reason.
pub async fn denied(
    db: &Db,
    app: (&str, &str),
    user: Option<(&str, &str)>,
    reason: &'static str,
    client: Option<IpAddr>,
) {
    let actor = match user {
        Some((id, name)) => Actor::user(id, name, client),
        None => Actor::unknown("-", client),
    };
    let mut entry = Entry::new(EventKind::ForwardAuthDenied, &actor)
        .target("app", app.0, app.1)
        .detail("reason", reason);
    entry.at -= entry.at.rem_euclid(60);
    entry.dedupe = Some(format!(
        "forward_auth_denied:{}:{}:{}:{reason}",
        entry.at,
        app.0,
        user.map_or("", |u| u.0)
    ));
    record(db, entry).await;
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    at: i64,
    event: String,
    actor_id: Option<String>,
    actor: String,
    client: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    target: Option<String>,
    user_id: Option<String>,
    details: String,
    count: i64,
}

impl Row {
    /// `None` for a kind this version no longer knows (a newer replica's).
    fn event(self) -> Option<AuditEvent> {
        Some(AuditEvent {
            event: EventKind::parse(&self.event)?,
            details: serde_json::from_str(&self.details).unwrap_or_default(),
            id: self.id,
            at: self.at,
            by: Acted {
                actor_id: self.actor_id,
                actor: self.actor,
                client: self.client,
            },
            target_type: self.target_type,
            target_id: self.target_id,
            target: self.target,
            user_id: self.user_id,
            count: self.count,
        })
    }
}

/// A page of events, newest first, and the boundaries of the pages beside it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listed {
    pub events: Vec<AuditEvent>,
    /// The id to list older events before, when there are any.
    pub older: Option<String>,
    /// The id to list newer events after, when there are any.
    pub newer: Option<String>,
}

/// The events `f` selects, newest first, at most `f.limit` (1..=[`MAX_LIMIT`]). The user
/// filter matches a user's id, or the name an event was recorded with (a deleted user, an
/// unknown name at a failed sign-in); a username or email of a user who exists is their id.
pub async fn list(db: &Db, f: &AuditFilter) -> Result<Listed, sqlx::Error> {
    let limit = f.limit.clamp(1, MAX_LIMIT);
    let user = match f.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let id = super::users::find_by_identifier(db, u)
                .await?
                .map_or_else(|| u.to_owned(), |row| row.id);
            Some((id, u.to_owned()))
        }
        None => None,
    };
    let mut sql = String::from(
        "SELECT id, at, event, actor_id, actor, client, target_type, target_id, target, \
         user_id, details, count FROM audit_events WHERE 1 = 1",
    );
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, values: Vec<Bind>| {
        let mut clause = clause.to_owned();
        for (i, v) in values.into_iter().enumerate() {
            binds.push(v);
            clause = clause.replace(&format!("?{i}"), &format!("${}", binds.len()));
        }
        sql.push_str(" AND ");
        sql.push_str(&clause);
    };
    if let Some((id, name)) = user {
        push(
            &mut sql,
            "(actor_id = ?0 OR user_id = ?0 OR lower(actor) = lower(?1))",
            vec![Bind::Text(id), Bind::Text(name)],
        );
    }
    if let Some(kind) = f.event {
        push(&mut sql, "event = ?0", vec![Bind::Text(kind.name().into())]);
    }
    if let Some(since) = f.since {
        push(&mut sql, "at >= ?0", vec![Bind::Int(since)]);
    }
    if let Some(until) = f.until {
        push(&mut sql, "at < ?0", vec![Bind::Int(until)]);
    }
    let newer_first = !matches!(f.page, Some(Page::After(_)));
    match &f.page {
        Some(Page::Before(id)) => push(&mut sql, "id < ?0", vec![Bind::Text(id.clone())]),
        Some(Page::After(id)) => push(&mut sql, "id > ?0", vec![Bind::Text(id.clone())]),
        None => {}
    }
    sql.push_str(if newer_first {
        " ORDER BY id DESC"
    } else {
        " ORDER BY id ASC"
    });
    sql.push_str(&format!(" LIMIT {}", limit + 1));
    let rows: Vec<Row> = on_pool!(db, pool => {
        let mut q = sqlx::query_as::<_, Row>(&sql);
        for b in &binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(n) => q.bind(*n),
            };
        }
        q.fetch_all(pool).await
    })?;
    let more = rows.len() > limit as usize;
    let mut events: Vec<AuditEvent> = rows
        .into_iter()
        .take(limit as usize)
        .filter_map(Row::event)
        .collect();
    if !newer_first {
        events.reverse();
    }
    let first = events.first().map(|e| e.id.clone());
    let last = events.last().map(|e| e.id.clone());
    let (older, newer) = match &f.page {
        None => (last.filter(|_| more), None),
        Some(Page::Before(_)) => (last.filter(|_| more), first),
        Some(Page::After(_)) => (last, first.filter(|_| more)),
    };
    Ok(Listed {
        events,
        older,
        newer,
    })
}

/// Up to `max` events `filter` selects (its page and limit aside), newest first, read a
/// page of [`MAX_LIMIT`] at a time (keyset): the export.
pub async fn all(db: &Db, filter: &AuditFilter, max: u64) -> Result<Vec<AuditEvent>, sqlx::Error> {
    let mut filter = AuditFilter {
        page: None,
        limit: MAX_LIMIT,
        ..filter.clone()
    };
    let mut out = Vec::new();
    loop {
        let listed = list(db, &filter).await?;
        out.extend(listed.events);
        match listed.older {
            Some(id) if (out.len() as u64) < max => filter.page = Some(Page::Before(id)),
            _ => break,
        }
    }
    out.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    Ok(out)
}

/// Events as JSON Lines: one object per line, each line ended.
pub fn json_lines(events: &[AuditEvent]) -> String {
    events
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|line| line + "\n")
        .collect()
}

enum Bind {
    Text(String),
    Int(i64),
}

/// Deletes the events older than `days` days; how many went.
pub async fn delete_older_than(db: &Db, days: u32) -> Result<u64, sqlx::Error> {
    let cutoff = now() - i64::from(days) * 86_400;
    crate::exec!(db, "DELETE FROM audit_events WHERE at < $1", cutoff)
}

/// [`delete_older_than`] every `period`, forever (run it in a task), on every replica (the
/// statement is the same on each).
pub async fn sweep_every(db: Db, days: u32, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if db.is_closed() {
            return;
        }
        match delete_older_than(&db, days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "audit events past their retention"),
            Err(e) => tracing::warn!(error = %e, "could not delete old audit events"),
        }
    }
}
