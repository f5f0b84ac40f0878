//! Sign-in attempts between the redirect to the provider and the callback.

use crate::identity::decision::Purpose;
use crate::on_pool;
use crate::ssr::client_ip::ClientKey;
use crate::ssr::clock::now;
use crate::ssr::db::Db;

pub const LIFETIME_SECS: i64 = 10 * 60;
/// Attempts in progress at most (all clients): a flood of starts cannot fill the disk.
/// Far above what one client may hold, so no one client can reach it.
pub const MAX_PENDING: i64 = 20_000;
/// Attempts in progress at most per client (its address, IPv6 by /64); one more is
/// refused until some finish or expire. Generous for many people behind one address.
pub const MAX_PER_CLIENT: i64 = 200;
/// Attempts in progress at most per browser (its binding cookie); a new one replaces the
/// browser's oldest, so a browser never waits on its own abandoned attempts.
pub const MAX_PER_BROWSER: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    SignIn,
    Link {
        user_id: String,
    },
    /// An administrator's test sign-in: never signs in or links anyone (`ssr::oidc::test_sign_in`).
    Test {
        user_id: String,
    },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub state: String,
    pub provider_slug: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub mode: String,
    pub user_id: Option<String>,
    pub return_to: Option<String>,
    pub expires_at: i64,
    /// A test sign-in's values (encrypted); `None` for real attempts.
    pub test_config: Option<String>,
}

impl PendingRow {
    /// A test sign-in's attempt (whatever else the row says: it never signs anyone in).
    pub fn is_test(&self) -> bool {
        self.mode == "test" || self.test_config.is_some()
    }

    /// What a real attempt is for; `None` for a test sign-in, which never signs in or links
    /// anyone (fail closed: it has its own path).
    pub fn purpose(&self) -> Option<Purpose> {
        if self.is_test() {
            return None;
        }
        Some(match (self.mode.as_str(), &self.user_id) {
            ("link", Some(user_id)) => Purpose::Link {
                user_id: user_id.clone(),
            },
            _ => Purpose::SignIn,
        })
    }

    pub fn mode(&self) -> Mode {
        match (self.mode.as_str(), &self.user_id) {
            ("link", Some(user_id)) => Mode::Link {
                user_id: user_id.clone(),
            },
            ("test", Some(user_id)) => Mode::Test {
                user_id: user_id.clone(),
            },
            _ => Mode::SignIn,
        }
    }
}

/// The cookie that binds an attempt to the browser that started it: `__Host-` over https,
/// so a sibling subdomain cannot plant one. For `/` (which `__Host-` requires), so that
/// signing out can find and forget this browser's attempts.
pub struct BindingCookie {
    pub name: &'static str,
    pub path: &'static str,
    pub secure: bool,
}

pub fn binding_cookie(https: bool) -> BindingCookie {
    if https {
        BindingCookie {
            name: "__Host-portcullis_oidc",
            path: "/",
            secure: true,
        }
    } else {
        BindingCookie {
            name: "portcullis_oidc",
            path: "/",
            secure: false,
        }
    }
}

/// Forgets every attempt this browser (its binding cookie) has in progress: at sign-out,
/// nothing it started may finish afterwards.
pub async fn forget_browser(db: &Db, binding: &str) -> Result<u64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM oidc_pending WHERE binding_hash = $1")
        .bind(binding_hash(binding))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}

/// A fresh random value for the browser-binding cookie.
pub use crate::ssr::secrets::random_token as new_binding;
/// Only a hash of the cookie is stored: a database reader cannot forge the binding.
pub use crate::ssr::secrets::token_hash as binding_hash;

/// Who starts an attempt: the browser (its binding cookie's value) and the client it came
/// from (`None` when unknown: then no per-client cap applies).
#[derive(Debug, Clone, Copy)]
pub struct Starter<'a> {
    pub binding: &'a str,
    pub client: Option<ClientKey>,
}

pub struct NewPending<'a> {
    pub state: &'a str,
    pub starter: Starter<'a>,
    pub provider_slug: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub mode: &'a Mode,
    pub return_to: Option<&'a str>,
    /// A test sign-in's values, encrypted.
    pub test_config: Option<&'a str>,
}

fn cleanup_due(now: i64) -> bool {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let last = LAST.load(Ordering::Relaxed);
    now - last >= 60
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Whether [`insert`] stored the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Yes,
    /// This client already holds [`MAX_PER_CLIENT`] attempts in progress.
    ClientFull,
    /// [`MAX_PENDING`] attempts are in progress.
    Full,
}

/// Records an attempt, first forgetting the browser's oldest ones beyond
/// [`MAX_PER_BROWSER`]; refused when its client or everyone holds too many already.
pub async fn insert(db: &Db, p: NewPending<'_>) -> Result<Stored, sqlx::Error> {
    let t = now();
    let (mode, user_id) = match p.mode {
        Mode::SignIn => ("sign_in", None),
        Mode::Link { user_id } => ("link", Some(user_id.as_str())),
        Mode::Test { user_id } => ("test", Some(user_id.as_str())),
    };
    let binding = binding_hash(p.starter.binding);
    let client = p.starter.client.map(|c| c.to_string());
    on_pool!(db, pool => {
        // Expired attempts are useless; forget them as new ones arrive, at most once a
        // minute per process so a sign-in does not pay for a second write.
        if cleanup_due(t) {
            sqlx::query("DELETE FROM oidc_pending WHERE expires_at < $1")
                .bind(t)
                .execute(pool)
                .await?;
        }
        sqlx::query(
            "DELETE FROM oidc_pending WHERE binding_hash = $1 AND state NOT IN \
             (SELECT state FROM oidc_pending WHERE binding_hash = $1 \
              ORDER BY created_at DESC, state LIMIT $2)")
            .bind(&binding)
            .bind(MAX_PER_BROWSER - 1)
            .execute(pool)
            .await?;
        let stored = sqlx::query(
            "INSERT INTO oidc_pending (state, binding_hash, provider_slug, nonce, pkce_verifier, \
             mode, user_id, return_to, created_at, expires_at, test_config, client_key) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13 \
             WHERE (SELECT COUNT(*) FROM oidc_pending) < $11 \
             AND (SELECT COUNT(*) FROM oidc_pending WHERE client_key = $13 AND expires_at >= $9) < $14")
            .bind(p.state)
            .bind(&binding)
            .bind(p.provider_slug)
            .bind(p.nonce)
            .bind(p.pkce_verifier)
            .bind(mode)
            .bind(user_id)
            .bind(p.return_to)
            .bind(t)
            .bind(t + LIFETIME_SECS)
            .bind(MAX_PENDING)
            .bind(p.test_config)
            .bind(&client)
            .bind(MAX_PER_CLIENT)
            .execute(pool)
            .await?
            .rows_affected() == 1;
        if stored {
            return Ok(Stored::Yes);
        }
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM oidc_pending WHERE client_key = $1 AND expires_at >= $2")
            .bind(&client)
            .bind(t)
            .fetch_one(pool)
            .await?;
        Ok(if held >= MAX_PER_CLIENT { Stored::ClientFull } else { Stored::Full })
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum TakeError {
    /// No such attempt: never started, or already used.
    Unknown,
    /// The attempt exists but this browser did not start it (it stays usable for the one
    /// that did).
    ForeignBrowser,
    Expired,
}

/// Consumes the attempt `state` if `binding` is the cookie of the browser that started it.
/// Atomic: of two concurrent callbacks with one state, exactly one gets the row.
pub async fn take(
    db: &Db,
    state: &str,
    binding: Option<&str>,
) -> Result<Result<PendingRow, TakeError>, sqlx::Error> {
    let hash = binding.map(binding_hash).unwrap_or_default();
    let row: Option<PendingRow> = on_pool!(db, pool => sqlx::query_as::<_, PendingRow>(
        "DELETE FROM oidc_pending WHERE state = $1 AND binding_hash = $2 \
         RETURNING state, provider_slug, nonce, pkce_verifier, mode, user_id, return_to, expires_at, test_config")
        .bind(state)
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
    Ok(match row {
        Some(row) if row.expires_at < now() => Err(TakeError::Expired),
        Some(row) => Ok(row),
        None => {
            let exists = crate::exists!(
                db,
                "SELECT COUNT(*) FROM oidc_pending WHERE state = $1",
                state
            )?;
            Err(if exists {
                TakeError::ForeignBrowser
            } else {
                TakeError::Unknown
            })
        }
    })
}

// The global ceiling takes at least a hundred clients (IPv4 addresses or IPv6 /64s) to reach.
const _: () = assert!(MAX_PENDING >= 100 * MAX_PER_CLIENT);
