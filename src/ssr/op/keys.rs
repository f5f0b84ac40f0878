//! The OpenID Provider's signing keys (table `op_signing_keys`): made at first start, sealed
//! by [`SecretBox`] (context `op-key:<kid>`), shared by replicas through the database, and
//! rotated `next → current → retired`: a next key is published before it signs, a retired
//! one stays published until the tokens it signed have expired. [`OpKeys`] is each replica's
//! copy: the signing keys, decrypted, and the JWKS body, reloaded every minute.

use super::signer::{Alg, OpSigningKey, generate};
use crate::on_pool;
use crate::ssr::clock;
use crate::ssr::db::Db;
use crate::ssr::secrets::{SecretBox, SecretError};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long an ID token is valid (slice 3 signs them); a retired key stays published this
/// long and an hour more.
pub const ID_TOKEN_LIFETIME: i64 = 3600;
/// A retired key's time in the JWKS after it stops signing.
pub const RETIRED_PUBLISHED: i64 = ID_TOKEN_LIFETIME + 3600;
/// `keys rotate` without `--after`: the next key signs a day after it is published, longer
/// than any JWKS cache seen (openid-client's `jose` caches ten minutes and refetches on an
/// unknown `kid`).
pub const DEFAULT_ROTATE_AFTER: i64 = 24 * 3600;
/// Each replica reads the keys again this often (promotion and rotation reach it then).
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the OpenID Provider's signing key {kid} could not be decrypted: it was sealed with \
         another secret key (every replica needs the same --secret-key)"
    )]
    Sealed { kid: String },
    #[error("the signing key {kid} is damaged: {detail}")]
    Damaged { kid: String, detail: String },
    #[error("generating a signing key: {0}")]
    Generate(String),
    #[error("a next {alg} key ({kid}) is already waiting to sign; see `portcullis keys list`")]
    NextWaiting { alg: &'static str, kid: String },
    #[error("no current {0} signing key (the server makes one at start)")]
    NoCurrent(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A key as `keys list` shows it: never key material.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct KeyInfo {
    /// The JWK's `kid`: the algorithm and 12 random bytes.
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// `next` (published, not signing yet), `current` (signs) or `retired` (published
    /// until `unpublish_at`, so that what it signed still verifies).
    pub state: String,
    /// Unix seconds, as every time below.
    pub created_at: i64,
    pub signs_from: i64,
    pub retired_at: Option<i64>,
    pub unpublish_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    kid: String,
    alg: String,
    private_enc: String,
    public_jwk: String,
    state: String,
    unpublish_at: Option<i64>,
}

const INFO: &str =
    "SELECT kid, alg, state, created_at, signs_from, retired_at, unpublish_at FROM op_signing_keys";

/// Every key, by algorithm, then newest first.
pub async fn list(db: &Db) -> Result<Vec<KeyInfo>, KeyError> {
    let sql = format!("{INFO} ORDER BY alg, signs_from DESC, created_at DESC");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

fn context(kid: &str) -> String {
    format!("op-key:{kid}")
}

/// A fresh key, sealed: (kid, sealed PKCS#8, the public JWK as JSON). Generation runs on a
/// blocking thread (RSA-2048 takes a moment).
async fn fresh(secrets: &SecretBox, alg: Alg) -> Result<(String, String, String), KeyError> {
    let mut id = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let kid = format!(
        "{}-{}",
        alg.name().to_ascii_lowercase(),
        URL_SAFE_NO_PAD.encode(id)
    );
    let der = tokio::task::spawn_blocking(move || generate(alg))
        .await
        .map_err(|e| KeyError::Generate(e.to_string()))?
        .map_err(KeyError::Generate)?;
    let key = OpSigningKey::load(alg, &der, &kid).map_err(KeyError::Generate)?;
    let public = serde_json::to_string(key.public_jwk()).map_err(|e| KeyError::Damaged {
        kid: kid.clone(),
        detail: e.to_string(),
    })?;
    let sealed = secrets.encrypt(&B64.encode(&der), &context(&kid));
    Ok((kid, sealed, public))
}

const INSERT: &str = "INSERT INTO op_signing_keys \
    (kid, alg, private_enc, public_jwk, state, created_at, signs_from) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

/// Stores a fresh key (`fresh`'s answer) of `alg` in `state`, made `now`, signing from
/// `signs_from`: the rows inserted (0 when a unique index says another replica won).
async fn insert(
    db: &Db,
    (kid, sealed, public): &(String, String, String),
    alg: Alg,
    state: &str,
    now: i64,
    signs_from: i64,
) -> Result<u64, sqlx::Error> {
    crate::exec!(
        db,
        INSERT,
        kid,
        alg.name(),
        sealed,
        public,
        state,
        now,
        signs_from
    )
}

/// Makes a current key for each algorithm that has none. Two replicas starting at once may
/// both generate one; the partial unique index lets one insert win and the other do nothing
/// (`ON CONFLICT DO NOTHING` covers any unique index on both backends), and both then read
/// the winner's. The kids of the keys made here.
pub async fn ensure(db: &Db, secrets: &SecretBox, now: i64) -> Result<Vec<String>, KeyError> {
    let mut made = Vec::new();
    for alg in Alg::ALL {
        let has: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT kid FROM op_signing_keys WHERE alg = $1 AND state = 'current'")
            .bind(alg.name())
            .fetch_optional(pool)
            .await)?;
        if has.is_some() {
            continue;
        }
        let key = fresh(secrets, alg).await?;
        let kid = key.0.clone();
        if insert(db, &key, alg, "current", now, now).await? == 1 {
            tracing::info!(kid = %kid, alg = alg.name(), "made the OpenID Provider's signing key");
            made.push(kid);
        }
    }
    Ok(made)
}

/// `keys rotate`: a next key for `alg`, published at once and signing from `now + after`
/// (its first reload after that, on each replica). Refused while a next key waits.
pub async fn rotate(
    db: &Db,
    secrets: &SecretBox,
    alg: Alg,
    now: i64,
    after: i64,
) -> Result<KeyInfo, KeyError> {
    ensure(db, secrets, now).await?;
    let key = fresh(secrets, alg).await?;
    let kid = key.0.clone();
    if insert(db, &key, alg, "next", now, now + after.max(0)).await? == 0 {
        let waiting: String = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT kid FROM op_signing_keys WHERE alg = $1 AND state = 'next'")
            .bind(alg.name())
            .fetch_one(pool)
            .await)?;
        return Err(KeyError::NextWaiting {
            alg: alg.name(),
            kid: waiting,
        });
    }
    info(db, &kid).await
}

/// `keys rotate --now`, for a key that leaked: a fresh key signs at once and every other key
/// of `alg` (current, next, retired) is deleted, so it leaves the JWKS at once and tokens it
/// signed stop verifying. Replicas see it at their next reload (within [`RELOAD_EVERY`]).
pub async fn rotate_now(
    db: &Db,
    secrets: &SecretBox,
    alg: Alg,
    now: i64,
) -> Result<KeyInfo, KeyError> {
    let (kid, sealed, public) = fresh(secrets, alg).await?;
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM op_signing_keys WHERE alg = $1")
            .bind(alg.name())
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT)
            .bind(&kid).bind(alg.name()).bind(&sealed).bind(&public)
            .bind("current").bind(now).bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })?;
    tracing::warn!(kid = %kid, alg = alg.name(), "signing key replaced at once (keys rotate --now)");
    info(db, &kid).await
}

async fn info(db: &Db, kid: &str) -> Result<KeyInfo, KeyError> {
    let sql = format!("{INFO} WHERE kid = $1");
    Ok(on_pool!(db, pool => sqlx::query_as(&sql).bind(kid).fetch_one(pool).await)?)
}

/// Promotion and clean-up, as of `now`: for each algorithm whose next key's time has come,
/// the current key retires (published until `now` + [`RETIRED_PUBLISHED`]) and the next one
/// becomes current, in one transaction; retired keys past their time are deleted. Every
/// replica runs it at each reload; the statements are guarded, so two at once change the
/// rows once (the second finds no `current` row to retire and no `next` row to promote).
pub async fn promote(db: &Db, now: i64) -> Result<(), KeyError> {
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE op_signing_keys SET state = 'retired', retired_at = $1, unpublish_at = $2 \
             WHERE state = 'current' AND EXISTS (SELECT 1 FROM op_signing_keys n \
               WHERE n.alg = op_signing_keys.alg AND n.state = 'next' AND n.signs_from <= $1)",
        )
        .bind(now)
        .bind(now + RETIRED_PUBLISHED)
        .execute(&mut *tx)
        .await?;
        // Then the next key signs, and keys whose tokens have expired leave the JWKS.
        for then in [
            "UPDATE op_signing_keys SET state = 'current' WHERE state = 'next' AND signs_from <= $1",
            "DELETE FROM op_signing_keys WHERE state = 'retired' AND unpublish_at <= $1",
        ] {
            sqlx::query(then).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// What a replica holds: the current key of each algorithm, decrypted, and the published
/// keys (next, current, retired) as the JWKS.
pub struct KeySet {
    signing: HashMap<Alg, Arc<OpSigningKey>>,
    jwks: CoreJsonWebKeySet,
    /// The JWKS as served, serialised once per load.
    jwks_json: String,
}

impl KeySet {
    /// The key that signs with `alg` now.
    pub fn signing(&self, alg: Alg) -> Option<Arc<OpSigningKey>> {
        self.signing.get(&alg).cloned()
    }

    pub fn jwks(&self) -> &CoreJsonWebKeySet {
        &self.jwks
    }

    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }
}

/// Reads the keys as of `now`: the published ones from their stored JWKs, the current ones
/// opened (a key sealed under another secret key is an error, not a silent new key).
pub async fn load(db: &Db, secrets: &SecretBox, now: i64) -> Result<KeySet, KeyError> {
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT kid, alg, private_enc, public_jwk, state, unpublish_at FROM op_signing_keys \
         ORDER BY alg DESC, signs_from DESC, kid")
        .fetch_all(pool)
        .await)?;
    let damaged = |kid: &str, detail: String| KeyError::Damaged {
        kid: kid.to_owned(),
        detail,
    };
    let mut signing = HashMap::new();
    let mut published = Vec::new();
    for row in rows {
        if row.unpublish_at.is_some_and(|t| t <= now) {
            continue;
        }
        let public: CoreJsonWebKey =
            serde_json::from_str(&row.public_jwk).map_err(|e| damaged(&row.kid, e.to_string()))?;
        if row.state == "current" {
            let alg = Alg::parse(&row.alg)
                .ok_or_else(|| damaged(&row.kid, format!("unknown algorithm {}", row.alg)))?;
            let key = open(secrets, alg, &row)?;
            if serde_json::to_value(key.public_jwk()).ok() != serde_json::to_value(&public).ok() {
                return Err(damaged(&row.kid, "its public key does not match".into()));
            }
            signing.insert(alg, Arc::new(key));
        }
        published.push(public);
    }
    let jwks = CoreJsonWebKeySet::new(published);
    let jwks_json = serde_json::to_string(&jwks).map_err(|e| damaged("jwks", e.to_string()))?;
    Ok(KeySet {
        signing,
        jwks,
        jwks_json,
    })
}

fn open(secrets: &SecretBox, alg: Alg, row: &Row) -> Result<OpSigningKey, KeyError> {
    let b64 = secrets
        .decrypt(&row.private_enc, &context(&row.kid))
        .map_err(|e| match e {
            SecretError::Decrypt => KeyError::Sealed {
                kid: row.kid.clone(),
            },
            other => KeyError::Damaged {
                kid: row.kid.clone(),
                detail: other.to_string(),
            },
        })?;
    let der = B64.decode(b64).map_err(|e| KeyError::Damaged {
        kid: row.kid.clone(),
        detail: e.to_string(),
    })?;
    OpSigningKey::load(alg, &der, &row.kid).map_err(|detail| KeyError::Damaged {
        kid: row.kid.clone(),
        detail,
    })
}

/// A replica's keys (in `AppState`): loaded at start, reloaded every [`RELOAD_EVERY`].
pub struct OpKeys {
    db: Db,
    secrets: SecretBox,
    set: RwLock<Arc<KeySet>>,
}

impl std::fmt::Debug for OpKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpKeys(..)")
    }
}

impl OpKeys {
    /// At start, before listening: a current key for each algorithm (made if missing), any
    /// due promotion, then the first load. Fails on a key sealed under another secret key.
    pub async fn start(db: Db, secrets: SecretBox) -> Result<Arc<Self>, KeyError> {
        let now = clock::now();
        ensure(&db, &secrets, now).await?;
        promote(&db, now).await?;
        let set = load(&db, &secrets, now).await?;
        for alg in Alg::ALL {
            if set.signing(alg).is_none() {
                return Err(KeyError::NoCurrent(alg.name()));
            }
        }
        Ok(Arc::new(Self {
            db,
            secrets,
            set: RwLock::new(Arc::new(set)),
        }))
    }

    /// The keys as last loaded.
    pub fn get(&self) -> Arc<KeySet> {
        self.set.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key that signs with `alg` now.
    pub fn signing(&self, alg: Alg) -> Arc<OpSigningKey> {
        self.get()
            .signing(alg)
            .expect("a current key per algorithm: checked at start and at every reload")
    }

    /// Promotes what is due as of `now` and reads the keys again. A load that lacks a current
    /// key (another replica mid-`rotate --now`) keeps the keys held.
    pub async fn reload_at(&self, now: i64) -> Result<(), KeyError> {
        promote(&self.db, now).await?;
        let set = load(&self.db, &self.secrets, now).await?;
        if let Some(alg) = Alg::ALL.into_iter().find(|a| set.signing(*a).is_none()) {
            return Err(KeyError::NoCurrent(alg.name()));
        }
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        Ok(())
    }

    pub async fn reload(&self) -> Result<(), KeyError> {
        self.reload_at(clock::now()).await
    }

    /// Reloads every `period` until the database is closed; a failure is logged and the keys held
    /// are kept.
    pub async fn reload_every(self: Arc<Self>, period: Duration) {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is now: `start` has just loaded
        loop {
            tick.tick().await;
            if self.db.is_closed() {
                return;
            }
            if let Err(e) = self.reload().await {
                tracing::error!(error = %e, "reloading the OpenID Provider's signing keys");
            }
        }
    }
}
