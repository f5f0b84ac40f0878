//! Server-side sessions in the application's own database, through tower-sessions' sqlx
//! stores; this only picks the store that matches the configured backend.

use async_trait::async_trait;
use portcullis::ssr::db::Db;
use std::time::Duration;
use tower_sessions::ExpiredDeletion;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Debug, Clone)]
pub enum DbSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! on_store {
    ($s:expr, $store:ident => $body:expr) => {
        match $s {
            DbSessionStore::Sqlite($store) => $body,
            DbSessionStore::Postgres($store) => $body,
        }
    };
}

impl DbSessionStore {
    /// Opens the store, creating its table if needed.
    pub async fn open(db: &Db) -> sqlx::Result<Self> {
        let store = match db {
            Db::Sqlite(pool) => DbSessionStore::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => DbSessionStore::Postgres(PostgresStore::new(pool.clone())),
        };
        on_store!(&store, s => s.migrate().await)?;
        Ok(store)
    }

    /// Deletes expired sessions every `period`, forever (run it in a task).
    pub async fn delete_expired_every(self, period: Duration) {
        let _ = on_store!(self, s => s.continuously_delete_expired(period).await);
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        on_store!(self, s => s.create(record).await)
    }

    async fn save(&self, record: &Record) -> Result<()> {
        on_store!(self, s => s.save(record).await)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        on_store!(self, s => s.load(id).await)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        on_store!(self, s => s.delete(id).await)
    }
}
