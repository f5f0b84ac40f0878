//! SQLite's connections, with single statements handed back without sqlx's release ping.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement is a round
//! trip between threads; its pool then adds a second round trip whenever a connection goes
//! back (a `ping`, run in a task of its own, to find connections a cancelled query left in
//! a bad state: a concern of network protocols). A wake-up on the other core costs about
//! 14 µs of CPU on the 2-core machines this runs on, so that second round trip was a
//! sizeable part of every request (bench #12: an OpenID Provider sign-in is five
//! statements). Here a statement that ran to its end, with a result or an error, hands its
//! connection straight back (last in, first out: the same few connections keep their page
//! and statement caches warm); one whose future was dropped part-way closes its connection
//! instead of reusing it. Transactions (`begin`) and migrations keep sqlx's pool, which owns
//! their rollback-on-drop.
//!
//! A batch of statements (one query string; parameters shared by number) may run as one
//! transaction, `BEGIN IMMEDIATE; …; COMMIT`: when a statement fails, the rest are not run
//! and the connection is rolled back before it serves again (a dropped one is closed, and
//! SQLite rolls back what it had open).
//!
//! SQLite lets one writer in at a time and makes the others retry from its busy handler,
//! which sleeps between tries (1, 2, 5, 10 … up to 100 ms): under 16 concurrent sign-ins
//! that put 27 ms on the 99th percentile (bench #13a). Statements that may write (all but a
//! plain `SELECT`) take turns here instead, in order, before they take a connection.
//!
//! sqlx has no option to skip the ping (0.8: `PoolConnection`'s `Drop`), hence this small
//! pool; its `Executor` is the same trait every query already uses.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqlitePool, SqliteQueryResult, SqliteRow,
    SqliteStatement, SqliteTypeInfo,
};
use sqlx::{ConnectOptions, Connection, Describe, Either, Execute, Executor, Transaction};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, SemaphorePermit};

/// SQLite's side of [`super::Db`]: sqlx's pool for transactions and migrations, and
/// connections of its own for single statements (`&SqliteDb` is an `Executor`).
#[derive(Clone)]
pub struct SqliteDb {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    options: SqliteConnectOptions,
    /// Connections ready for a statement, the most recently used last.
    idle: Mutex<Vec<SqliteConnection>>,
    /// At most this many statements at once (each on its own connection).
    permits: Semaphore,
    /// The writers' turn (see the module's comment).
    writer: tokio::sync::Mutex<()>,
    max: u32,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("pool", &self.inner.pool)
            .field("max", &self.inner.max)
            .finish_non_exhaustive()
    }
}

impl SqliteDb {
    /// `pool` for transactions and migrations; up to `max` more connections made with
    /// `options` (as the pool's are) for single statements.
    pub fn new(pool: SqlitePool, options: SqliteConnectOptions, max: u32) -> Self {
        SqliteDb {
            inner: Arc::new(Inner {
                pool,
                options,
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(max as usize),
                writer: tokio::sync::Mutex::new(()),
                max,
            }),
        }
    }

    /// sqlx's pool (migrations).
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// A transaction, on sqlx's pool (which rolls it back if it is dropped unfinished),
    /// begun `IMMEDIATE`: it takes the write lock at its start, waiting its turn in the busy
    /// handler. A deferred one that reads first (first-run setup counts the users, then
    /// writes) fails at once with `SQLITE_BUSY` when another connection wrote after its read
    /// began: in WAL mode its snapshot can no longer become a write, and no wait helps
    /// (seen: a 500 from first-run setup while the new server wrote beside it).
    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.inner.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Connections open (both kinds), of them idle, and at most.
    pub fn usage(&self) -> (u32, usize, u32) {
        let inner = &self.inner;
        let idle = inner.idle.lock().expect("sqlite idle lock").len();
        let busy = inner.max as usize - inner.permits.available_permits();
        let open = inner.pool.size() + (idle + busy) as u32;
        let max = inner.pool.options().get_max_connections() + inner.max;
        (open, idle + inner.pool.num_idle(), max)
    }

    pub fn is_closed(&self) -> bool {
        self.inner.pool.is_closed()
    }

    /// Closes both kinds: statements waiting for a connection fail, idle ones close.
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(&mut *self.inner.idle.lock().expect("sqlite idle lock"));
        for conn in idle {
            let _ = conn.close().await;
        }
        self.inner.pool.close().await;
    }

    /// A connection for a statement of `sql`; one that may write waits for its turn first.
    async fn lease(&self, sql: &str) -> Result<Lease<'_>, sqlx::Error> {
        let turn = match may_write(sql) {
            true => Some(self.inner.writer.lock().await),
            false => None,
        };
        let permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.inner.idle.lock().expect("sqlite idle lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.inner.options.connect().await?,
        };
        Ok(Lease {
            conn: Some(conn),
            finished: false,
            owner: &self.inner,
            _permit: permit,
            _turn: turn,
        })
    }
}

/// Whether a statement may write: anything but a plain `SELECT` (a `WITH` may lead an
/// `INSERT`, a batch may hold several statements).
fn may_write(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    !first.eq_ignore_ascii_case("SELECT")
}

/// A connection lent to one statement.
struct Lease<'a> {
    conn: Option<SqliteConnection>,
    /// The statement ran to its end: the connection may serve the next one.
    finished: bool,
    owner: &'a Inner,
    _permit: SemaphorePermit<'a>,
    /// A writer's turn, held until its statement has ended.
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("a lease holds its connection")
    }

    /// The statement ran to its end with `result`: the connection may serve the next one,
    /// with no transaction left open by a batch that failed part-way.
    async fn finish<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if result.is_err() {
            // Refused ("no transaction is active") unless a batch began one: either way
            // the connection is back in autocommit.
            let _ = self.conn().execute("ROLLBACK").await;
        }
        self.finished = true;
        result
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.finished && !self.owner.permits.is_closed() {
            self.owner.idle.lock().expect("sqlite idle lock").push(conn);
        }
        // Otherwise dropped: its thread finishes what it was given, then closes it.
    }
}

impl<'p> Executor<'p> for &'p SqliteDb {
    type Database = Sqlite;

    /// The statement's results, collected before they are handed on (a query's rows are
    /// read whole anyway: nothing here streams a large table), so that the connection is
    /// back before the caller reads them.
    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        Box::pin(
            futures_util::stream::once(async move {
                let mut lease = self.lease(query.sql()).await?;
                let all: Result<Vec<_>, _> = lease.conn().fetch_many(query).try_collect().await;
                let all = lease.finish(all).await?;
                Ok::<_, sqlx::Error>(futures_util::stream::iter(all).map(Ok))
            })
            .try_flatten(),
        )
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        Box::pin(async move {
            let mut lease = self.lease(query.sql()).await?;
            let row = lease.conn().fetch_optional(query).await;
            lease.finish(row).await
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, Result<SqliteStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        (&self.inner.pool).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Sqlite>, sqlx::Error>>
    where
        'p: 'e,
    {
        (&self.inner.pool).describe(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::may_write;

    #[test]
    fn only_a_plain_select_reads() {
        assert!(!may_write("SELECT 1"));
        assert!(!may_write("  select * FROM users"));
        assert!(may_write("INSERT INTO t VALUES (1)"));
        assert!(may_write(
            "\n    BEGIN IMMEDIATE; INSERT INTO t VALUES (1); COMMIT"
        ));
        assert!(may_write("WITH x AS (SELECT 1) UPDATE t SET a = 1"));
        assert!(may_write("DELETE FROM t"));
    }
}
