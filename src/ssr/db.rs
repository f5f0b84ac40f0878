//! The database: embedded SQLite by default, PostgreSQL when the URL says so.
//!
//! One set of migrations and one set of queries serve both: the schema sticks to types both
//! understand (TEXT, BIGINT, BOOLEAN) and the queries to `$n` placeholders, which SQLite
//! accepts too. [`on_pool!`] expands a query once per backend so each runs on its native
//! driver (no `Any` driver and its type limits).

mod sqlite;

pub use sqlite::SqliteDb;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The database error type, for callers that map it without depending on sqlx.
pub use sqlx::Error as SqlxError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a PostgreSQL connection that answered its release ping is lent without another.
const PG_TRUSTED_FOR: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite://PATH or postgres://...): {0}")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend `$db` is.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::ssr::db::Db::Sqlite($pool) => $body,
            $crate::ssr::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs one statement with its binds on whichever backend `$db` is, and gives the number
/// of rows it affected: the shape of every DELETE and UPDATE that needs nothing back.
#[macro_export]
macro_rules! exec {
    ($db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::on_pool!($db, pool => $crate::exec_on!(pool, $sql $(, $arg)*))
    };
}

/// [`exec!`] on one connection: inside a transaction (`&mut *tx`), where the statement must
/// share it with what follows (its audit event, a guarded change's other statements).
#[macro_export]
macro_rules! exec_on {
    ($conn:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query($sql)
            $(.bind($arg))*
            .execute($conn)
            .await
            .map(|r| r.rows_affected())
    };
}

/// Whether `$sql`, a `SELECT COUNT(*)` with its binds, counts any row on whichever backend
/// `$db` is: after a guarded or bound DELETE took nothing, whether the row was missing or
/// the guard refused.
#[macro_export]
macro_rules! exists {
    ($db:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::on_pool!($db, pool => sqlx::query_scalar::<_, i64>($sql)
            $(.bind($arg))*
            .fetch_one(pool)
            .await
            .map(|n| n > 0))
    };
}

/// Opens a transaction on `$db`'s pool (bound to `$tx`) and, on PostgreSQL, first locks
/// the `users` rows `$filter` selects (`$bind` is its `$1`) until it ends, so that two
/// concurrent guarded changes (the last administrator, a user's last way in) each see the
/// other's result. SQLite needs no lock (one writer at a time) and has no `FOR UPDATE`.
/// `$body` runs inside (`?` ends it, rolled back); its value is given once committed.
#[macro_export]
macro_rules! users_locked_tx {
    ($db:expr, $tx:ident, $filter:literal, $bind:expr => $body:expr) => {
        $crate::on_pool!($db, pool => async {
            let mut $tx = pool.begin().await?;
            if matches!($db, $crate::ssr::db::Db::Postgres(_)) {
                sqlx::query(concat!("SELECT id FROM users WHERE ", $filter, " FOR UPDATE"))
                    .bind($bind)
                    .execute(&mut *$tx)
                    .await?;
            }
            let out = $body;
            $tx.commit().await?;
            Ok::<_, sqlx::Error>(out)
        }.await)
    };
}

impl Db {
    /// Connects (creating a SQLite file if missing) and applies every pending migration.
    /// A migration failure stops start-up: running on a half-migrated schema is worse.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // No idle reaper: a local file gains nothing from recycling connections, and
            // sqlx 0.8's reaper has a known spin that can wedge the pool (risingwave#24991).
            // No ping before each use either: sqlx's default `test_before_acquire` sends one
            // to the connection's thread and waits for the answer, a round trip between
            // threads that doubled the hops of every query, and a connection to a file in
            // this process cannot have dropped. This pool serves transactions and
            // migrations; single statements have connections of their own, handed back
            // without the ping sqlx sends on release (`sqlite.rs`).
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await?;
            Db::Sqlite(SqliteDb::new(pool, options, 8))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            // sqlx pings a connection when it takes it back, always, and by default again
            // before lending it: two round trips to PostgreSQL around every statement's one.
            // The second is skipped for a connection that answered within the last
            // `PG_TRUSTED_FOR`, as HikariCP skips its check within 500 ms of a use: the
            // release ping just verified it. One idle longer is pinged first, so a
            // connection dropped while idle (a restarted server, a proxy's idle timeout)
            // is replaced instead of failing a request.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > PG_TRUSTED_FOR {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(options)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(DbError::UnsupportedUrl(redact_url(url)));
        };
        match &db {
            Db::Sqlite(db) => MIGRATOR.run(db.pool()).await?,
            Db::Postgres(pool) => MIGRATOR.run(pool).await?,
        }
        Ok(db)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The pool's connections: (open, of them idle, at most), for the metrics.
    pub fn pool_use(&self) -> (u32, usize, u32) {
        match self {
            Db::Sqlite(db) => db.usage(),
            Db::Postgres(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        }
    }

    /// True once [`Db::close`] has run: background tasks end then.
    pub fn is_closed(&self) -> bool {
        on_pool!(self, pool => pool.is_closed())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// A database URL fit for a log line: any password replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// True when `e` is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert!(!redact_url("nonsense secret").contains("secret"));
    }
}
