//! Codes, grants, access and refresh tokens (`docs/openid-provider.md` §3.5). A code, like a
//! refresh token, is claimed by one guarded `UPDATE` (so two replicas cannot both use it); a
//! code or a rotated refresh token presented again revokes its grant, the whole token family
//! (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Codes and tokens are stored as base64url(SHA-256)
//! only.

use super::authorize::AuthRequest;
use super::clients::OpClient;
use super::{random_token, token_hash};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::groups::Identity;

/// A code lives 60 s.
pub const CODE_TTL: i64 = 60;
/// An access token (and the ID token) lives an hour.
pub const ACCESS_TTL: i64 = 3600;
/// A grant (the token family) lives 30 days at most: its refresh tokens expire with it.
pub const GRANT_TTL: i64 = 30 * 24 * 3600;
/// The scope that makes a grant outlive its Portcullis session, with refresh tokens.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Who signed in and how: what a code and a grant carry besides the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: String,
    /// The session's `sid` (`SessionData::sid`).
    pub sid: String,
    /// When the person signed in (Unix seconds).
    pub auth_time: i64,
    /// RFC 8176 values, space-separated; an `idp:<slug>` entry names the upstream provider.
    pub amr: String,
}

impl SignedIn {
    /// Two factors were shown (`mfa` among the `amr` values, as `id_token::amr_of` writes).
    pub fn two_factors(&self) -> bool {
        self.amr.split(' ').any(|m| m == "mfa")
    }
}

/// Issues a code for `request` to application `app_id`: one row; gives the code.
pub async fn issue_code(
    db: &Db,
    app_id: &str,
    request: &AuthRequest,
    who: &SignedIn,
    identity: &Identity,
) -> Result<String, sqlx::Error> {
    let code = random_token("pc_ac_");
    crate::exec!(
        db,
        "INSERT INTO op_codes (code_hash, app_id, user_id, sid, redirect_uri, scope, nonce, \
         code_challenge, auth_time, amr, expires_at, identity) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        token_hash(&code),
        app_id,
        &who.user_id,
        &who.sid,
        &request.redirect_uri,
        request.scope.join(" "),
        request.nonce.as_deref(),
        request.code_challenge.as_deref(),
        who.auth_time,
        &who.amr,
        now() + CODE_TTL,
        serde_json::to_string(identity).ok(),
    )?;
    Ok(code)
}

/// A grant as the token and userinfo endpoints read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub app_id: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub who: SignedIn,
}

impl Grant {
    /// It outlives its Portcullis session, with refresh tokens.
    fn offline(&self) -> bool {
        self.scope.iter().any(|s| s == OFFLINE_ACCESS)
    }
}

/// What a token request gets when its code or refresh token is good.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub grant: Grant,
    pub access_token: String,
    /// With `offline_access`.
    pub refresh_token: Option<String>,
    /// Who the person was when the code was issued (a moment ago), for the ID token: the
    /// exchange reads no user. `None` (a refresh, the device flow): read them now.
    pub identity: Option<Identity>,
}

/// Why a code or a refresh token was refused (`invalid_grant`; the description says which
/// rule).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// A refresh asked for a scope its grant does not have (nothing used).
    #[error("a refresh cannot add scopes to the grant")]
    InvalidScope,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    app_id: String,
    user_id: String,
    sid: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: i64,
    amr: String,
    /// [`Identity`] as JSON; `None` for a code issued before it was kept.
    identity: Option<String>,
}

/// The columns of a claimed code ([`CodeRow`]).
macro_rules! code_columns {
    () => {
        "app_id, user_id, sid, redirect_uri, scope, nonce, code_challenge, auth_time, amr, identity"
    };
}

/// Whether the Portcullis session a code (`op_codes`, `op_device_codes`: the table's name)
/// was issued or approved in is still live at `$2`: a code outliving its session (signed
/// out, ended by an administrator, its user deleted) would make a grant that session's
/// back-channel logout never reaches, and with `offline_access` one that outlives it by
/// design.
macro_rules! session_live {
    ($table:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM sessions s WHERE s.op_sid = ",
            $table,
            ".sid AND s.expires_at > $2)"
        )
    };
}
pub(crate) use session_live;

/// What a token request claims.
#[derive(Clone, Copy)]
enum Claim {
    Code,
    Refresh,
}

/// The refusal of a code or refresh token (`hash`) that could not be claimed. One that was
/// used before revokes its grant, with a warning: the tokens issued on a code used twice
/// (RFC 6749 §4.1.2), the grant of a rotated refresh token used again (RFC 9700 §4.14.2).
async fn unclaimed(db: &Db, client: &OpClient, claim: Claim, hash: &str, t: i64) -> ExchangeError {
    // Only the client it was issued to: another client's replay (a code or token it saw)
    // revokes nothing, or any client, a public one with nothing but a client ID, could end
    // someone's grant.
    let sql = match claim {
        Claim::Code => {
            "UPDATE op_grants SET revoked_at = $2 WHERE revoked_at IS NULL AND app_id = $3 \
             AND id = (SELECT grant_id FROM op_codes WHERE code_hash = $1 AND used_at IS NOT NULL)"
        }
        Claim::Refresh => {
            "UPDATE op_grants SET revoked_at = $2 WHERE revoked_at IS NULL AND app_id = $3 \
             AND id = (SELECT grant_id FROM op_tokens \
                        WHERE token_hash = $1 AND kind = 'refresh' AND used_at IS NOT NULL)"
        }
    };
    let revoked = crate::exec!(db, sql, hash, t, &client.app_id);
    let (refusal, reuse) = match claim {
        Claim::Code => (
            "the code is unknown, expired or already used",
            "an authorization code was used twice",
        ),
        Claim::Refresh => (
            "the refresh token is unknown, expired, revoked or already used",
            "a rotated refresh token was used again",
        ),
    };
    match revoked {
        Err(e) => e.into(),
        Ok(n) => {
            if n > 0 {
                tracing::warn!(client = ?client.view.client_id, "{reuse}: its grant is revoked");
            }
            ExchangeError::InvalidGrant(refusal)
        }
    }
}

/// Exchanges `code` for `client` (authenticated already): claims it, checks the redirect
/// URI and the PKCE verifier, and makes the grant and its access token. A request that fits
/// a live code is one round trip to the database (the claim and the grant's writes, one
/// transaction: issue 21's CPU budget, bench #12); any other gets its precise refusal after,
/// and a live code it named is used up all the same (it cannot be tried again).
pub async fn exchange(
    db: &Db,
    client: &OpClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Exchanged, ExchangeError> {
    use ExchangeError::InvalidGrant;
    let hash = token_hash(code);
    let t = now();
    let grant_id = uuid::Uuid::new_v4().to_string();
    // The statement compares the stored challenge with the verifier's (RFC 7636 §4.6), not
    // in constant time: the challenge is public (it went through the browser) and the
    // secret is the verifier, of which the timing of a comparison of hashes reveals nothing.
    let challenge = match verifier {
        Some(v) => challenge_of(v).map(Some),
        None => Some(None),
    };
    if let (Some(redirect_uri), Some(challenge)) = (redirect_uri, challenge) {
        let writes = Writes::new(grant_id.clone(), t);
        let sql = match db {
            Db::Sqlite(_) => EXCHANGE_SQLITE,
            Db::Postgres(_) => EXCHANGE_POSTGRES,
        };
        let claimed: Vec<CodeRow> = on_pool!(db, pool => writes
            .bind(sqlx::query_as(sql))
            .bind(&hash)
            .bind(&client.app_id)
            .bind(redirect_uri)
            .bind(challenge.as_deref())
            .fetch_all(pool)
            .await)?;
        if let Some(row) = claimed.into_iter().next() {
            let grant = Grant {
                id: grant_id,
                app_id: row.app_id,
                scope: split(&row.scope),
                nonce: row.nonce,
                who: SignedIn {
                    user_id: row.user_id,
                    sid: row.sid,
                    auth_time: row.auth_time,
                    amr: row.amr,
                },
            };
            let identity = row.identity.and_then(|j| serde_json::from_str(&j).ok());
            return Ok(writes.exchanged(grant, identity));
        }
    }
    // Only the client it was issued to claims it: another client's attempt (with an
    // intercepted code) uses nothing up.
    const CLAIM: &str = concat!(
        "UPDATE op_codes SET used_at = $2, grant_id = $3 \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 AND app_id = $4 \
         RETURNING ",
        code_columns!(),
        ", ",
        session_live!("op_codes"),
        " AS live"
    );
    #[derive(sqlx::FromRow)]
    struct Claimed {
        #[sqlx(flatten)]
        row: CodeRow,
        live: bool,
    }
    let claimed: Option<Claimed> = on_pool!(db, pool => sqlx::query_as(CLAIM)
        .bind(&hash)
        .bind(t)
        .bind(&grant_id)
        .bind(&client.app_id)
        .fetch_optional(pool)
        .await)?;
    let Some(Claimed { row, live }) = claimed else {
        return Err(unclaimed(db, client, Claim::Code, &hash, t).await);
    };
    Err(InvalidGrant(if !live {
        "the Portcullis session the code was issued in has ended"
    } else if redirect_uri != Some(row.redirect_uri.as_str()) {
        "redirect_uri differs from the authorization request's"
    } else {
        match (&row.code_challenge, verifier) {
            (Some(c), Some(v)) if !verifier_matches(c, v) => "the code_verifier does not match",
            (Some(_), None) => "code_verifier is missing",
            // RFC 9700 §4.8.2: a verifier for a code issued without a challenge is a downgrade.
            (None, Some(_)) => {
                "code_verifier given but the authorization request had no code_challenge"
            }
            // The request fits the code, yet the exchange's statement did not claim it:
            // that statement and these checks disagree (both read the same row at the
            // same `t`), a bug of ours. Refused all the same, and said.
            _ => {
                tracing::error!(
                    client = ?client.view.client_id,
                    "a code exchange that fits its code was not claimed by its statement"
                );
                "the code is unknown, expired or already used"
            }
        }
    }))
}

/// The writes that make a grant, on SQLite: one batch of statements sent at once (its
/// parameters are shared by number), one transaction (`db/sqlite.rs` rolls back a batch that
/// fails). The grant is `$1`, made at `$2`; its access token `$3` expires at `$4`; its
/// refresh token `$5` is stored with `offline_access` only; the grant expires at `$6` (the
/// parameters of [`Writes::bind`]). What comes before inserts the grant.
macro_rules! grant_writes_sqlite {
    () => {
        "INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, expires_at) \
            SELECT $3, 'access', id, NULL, created_at, $4 FROM op_grants WHERE id = $1; \
        INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, expires_at) \
            SELECT $5, 'refresh', id, NULL, created_at, expires_at FROM op_grants \
            WHERE id = $1 AND offline; \
        INSERT INTO op_session_clients (sid, app_id, sub, first_at, last_at) \
            SELECT sid, app_id, user_id, created_at, created_at FROM op_grants WHERE id = $1 \
            ON CONFLICT (sid, app_id) DO UPDATE SET last_at = excluded.last_at, gone_at = NULL; \
        UPDATE op_clients SET first_used_at = $2 \
            WHERE first_used_at IS NULL AND app_id = (SELECT app_id FROM op_grants WHERE id = $1); \
        COMMIT"
    };
}

/// The same writes on PostgreSQL, which takes no batch with parameters: data-modifying CTEs
/// of one statement (its foreign keys are checked at the statement's end, after the grant is
/// in), after a CTE `g` that inserted the grant (`RETURNING` `grant_columns!`).
macro_rules! grant_writes_postgres {
    () => {
        "a AS (INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, \
            expires_at) SELECT $3, 'access', id, NULL, created_at, $4 FROM g), \
        r AS (INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, \
            expires_at) SELECT $5, 'refresh', id, NULL, created_at, expires_at FROM g \
            WHERE offline), \
        s AS (INSERT INTO op_session_clients (sid, app_id, sub, first_at, last_at) \
            SELECT sid, app_id, user_id, created_at, created_at FROM g \
            ON CONFLICT (sid, app_id) DO UPDATE SET last_at = excluded.last_at, gone_at = NULL), \
        u AS (UPDATE op_clients SET first_used_at = $2 \
            WHERE first_used_at IS NULL AND app_id IN (SELECT app_id FROM g)) "
    };
}

/// The grant's columns as the writes after it read them (PostgreSQL's `g`).
macro_rules! grant_columns {
    () => {
        "RETURNING id, app_id, user_id, sid, offline, created_at, expires_at"
    };
}

/// What claims a code and inserts its grant: the code `$7` of application `$8`, live, its
/// session live, for redirect URI `$9` and with challenge `$10` (none: `NULL`), becomes
/// grant `$1` at `$2`. `offline_access` is [`OFFLINE_ACCESS`] in a scope stored
/// space-separated.
macro_rules! claim_code {
    () => {
        concat!(
            "UPDATE op_codes SET used_at = $2, grant_id = $1 \
             WHERE code_hash = $7 AND used_at IS NULL AND expires_at > $2 AND app_id = $8 \
               AND redirect_uri = $9 AND ",
            session_live!("op_codes"),
            " AND code_challenge "
        )
    };
}

const EXCHANGE_SQLITE: &str = concat!(
    "BEGIN IMMEDIATE; ",
    claim_code!(),
    "IS $10 RETURNING ",
    code_columns!(),
    "; INSERT INTO op_grants (id, app_id, user_id, sid, scope, auth_time, amr, offline, \
        created_at, expires_at) \
        SELECT $1, app_id, user_id, sid, scope, auth_time, amr, \
            instr(' ' || scope || ' ', ' offline_access ') > 0, $2, $6 \
        FROM op_codes WHERE code_hash = $7 AND grant_id = $1; ",
    grant_writes_sqlite!()
);

const EXCHANGE_POSTGRES: &str = concat!(
    "WITH c AS (",
    claim_code!(),
    "IS NOT DISTINCT FROM $10 RETURNING ",
    code_columns!(),
    "), g AS (INSERT INTO op_grants (id, app_id, user_id, sid, scope, auth_time, amr, offline, \
        created_at, expires_at) \
        SELECT $1, app_id, user_id, sid, scope, auth_time, amr, \
            position(' offline_access ' in ' ' || scope || ' ') > 0, $2, $6 FROM c ",
    grant_columns!(),
    "), ",
    grant_writes_postgres!(),
    "SELECT ",
    code_columns!(),
    " FROM c"
);

/// [`new_grant`]'s grant: `$7` … `$13` after the writes' own.
macro_rules! grant_values {
    () => {
        "INSERT INTO op_grants (id, app_id, user_id, sid, scope, auth_time, amr, offline, \
            created_at, expires_at) VALUES ($1, $7, $8, $9, $10, $11, $12, $13, $2, $6) "
    };
}

const NEW_GRANT_SQLITE: &str = concat!(
    "BEGIN IMMEDIATE; ",
    grant_values!(),
    "; ",
    grant_writes_sqlite!()
);

const NEW_GRANT_POSTGRES: &str = concat!(
    "WITH g AS (",
    grant_values!(),
    grant_columns!(),
    "), ",
    grant_writes_postgres!(),
    "SELECT count(*) FROM g"
);

/// The tokens a new grant gets, and the parameters `$1` … `$6` of its writes.
struct Writes {
    grant_id: String,
    t: i64,
    access_token: String,
    /// Stored only with `offline_access` (which the exchange learns from its code).
    refresh_token: String,
}

impl Writes {
    fn new(grant_id: String, t: i64) -> Self {
        Writes {
            grant_id,
            t,
            access_token: random_token("pc_at_"),
            refresh_token: random_token("pc_rt_"),
        }
    }

    fn bind<'q, DB: sqlx::Database, O>(
        &self,
        query: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
    where
        String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        query
            .bind(self.grant_id.clone())
            .bind(self.t)
            .bind(token_hash(&self.access_token))
            .bind(self.t + ACCESS_TTL)
            .bind(token_hash(&self.refresh_token))
            .bind(self.t + GRANT_TTL)
    }

    fn exchanged(self, grant: Grant, identity: Option<Identity>) -> Exchanged {
        let offline = grant.offline();
        Exchanged {
            grant,
            access_token: self.access_token,
            refresh_token: offline.then_some(self.refresh_token),
            identity,
        }
    }
}

/// Stores `grant` (made at `t`, from a claimed device code) with its first access token
/// and, with `offline_access`, a refresh token; records that the session signed in to the
/// application (it is told when the session ends: back-channel logout, `op::logout`); and
/// the client counts as used from its first grant (its client ID is frozen); all or
/// nothing, one round trip.
pub(super) async fn new_grant(
    db: &Db,
    grant: Grant,
    identity: Option<Identity>,
    t: i64,
) -> Result<Exchanged, sqlx::Error> {
    let writes = Writes::new(grant.id.clone(), t);
    let sql = match db {
        Db::Sqlite(_) => NEW_GRANT_SQLITE,
        Db::Postgres(_) => NEW_GRANT_POSTGRES,
    };
    let who = &grant.who;
    let offline = grant.offline();
    on_pool!(db, pool => writes
        .bind(sqlx::query_as::<_, (i64,)>(sql))
        .bind(&grant.app_id)
        .bind(&who.user_id)
        .bind(&who.sid)
        .bind(grant.scope.join(" "))
        .bind(who.auth_time)
        .bind(&who.amr)
        .bind(offline)
        .fetch_all(pool)
        .await)?;
    Ok(writes.exchanged(grant, identity))
}

/// A new access token and refresh token for grant `grant_id` (a refresh: `parent` is the
/// refresh token they replace, by hash); the refresh token lives as long as the grant.
async fn issue_tokens(
    db: &Db,
    grant_id: &str,
    parent: &str,
    t: i64,
) -> Result<(String, String), sqlx::Error> {
    let access_token = random_token("pc_at_");
    crate::exec!(
        db,
        "INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, expires_at) \
         VALUES ($1, 'access', $2, $3, $4, $5)",
        token_hash(&access_token),
        grant_id,
        parent,
        t,
        t + ACCESS_TTL,
    )?;
    let refresh_token = random_token("pc_rt_");
    crate::exec!(
        db,
        "INSERT INTO op_tokens (token_hash, kind, grant_id, parent_hash, created_at, expires_at) \
         SELECT $1, 'refresh', id, $2, $3, expires_at FROM op_grants WHERE id = $4",
        token_hash(&refresh_token),
        parent,
        t,
        grant_id,
    )?;
    Ok((access_token, refresh_token))
}

/// Uses `token`, a refresh token of `client`'s (authenticated already): claims it, and gives
/// a new access token and a new refresh token for its grant; the grant's earlier access
/// tokens are deleted. A rotated token presented again revokes the grant. `asked` (RFC 6749
/// §6) may name less than the grant's scope, never more; the grant's scope is issued (the
/// response says which). Whether the user may still open the application is the caller's to
/// check (then [`revoke_grant`]).
pub async fn refresh(
    db: &Db,
    client: &OpClient,
    token: &str,
    asked: Option<&str>,
) -> Result<Exchanged, ExchangeError> {
    let hash = token_hash(token);
    let t = now();
    if let Some(asked) = asked {
        let scope: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
            // A live token only: a used one goes on to the claim, whose failure is the
            // reuse detection.
            "SELECT g.scope FROM op_tokens t JOIN op_grants g ON g.id = t.grant_id \
              WHERE t.token_hash = $1 AND t.kind = 'refresh' AND g.app_id = $2 \
                AND t.used_at IS NULL AND g.revoked_at IS NULL")
            .bind(&hash)
            .bind(&client.app_id)
            .fetch_optional(pool)
            .await)?;
        if let Some(scope) = scope {
            let granted = split(&scope);
            if split(asked).iter().any(|s| !granted.contains(s)) {
                return Err(ExchangeError::InvalidScope);
            }
        }
    }
    // Only a live grant of this client's: another client's token is refused untouched.
    let claimed: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "UPDATE op_tokens SET used_at = $2 \
         WHERE token_hash = $1 AND kind = 'refresh' AND used_at IS NULL AND expires_at > $2 \
           AND grant_id IN (SELECT id FROM op_grants \
                             WHERE app_id = $3 AND revoked_at IS NULL AND expires_at > $2) \
         RETURNING grant_id")
        .bind(&hash)
        .bind(t)
        .bind(&client.app_id)
        .fetch_optional(pool)
        .await)?;
    let Some(grant_id) = claimed else {
        return Err(unclaimed(db, client, Claim::Refresh, &hash, t).await);
    };
    let row: GrantRow = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, app_id, user_id, sid, scope, auth_time, amr FROM op_grants WHERE id = $1")
        .bind(&grant_id)
        .fetch_one(pool)
        .await)?;
    crate::exec!(
        db,
        "DELETE FROM op_tokens WHERE grant_id = $1 AND kind = 'access'",
        &grant_id
    )?;
    let (access_token, refresh_token) = issue_tokens(db, &grant_id, &hash, t).await?;
    Ok(Exchanged {
        // OpenID Connect Core §12.2: a refreshed ID token carries no nonce.
        grant: row.grant(None),
        access_token,
        refresh_token: Some(refresh_token),
        identity: None,
    })
}

/// A grant as stored (`op_grants`' columns of that name).
#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    app_id: String,
    user_id: String,
    sid: String,
    scope: String,
    auth_time: i64,
    amr: String,
}

impl GrantRow {
    fn grant(self, nonce: Option<String>) -> Grant {
        Grant {
            id: self.id,
            app_id: self.app_id,
            scope: split(&self.scope),
            nonce,
            who: SignedIn {
                user_id: self.user_id,
                sid: self.sid,
                auth_time: self.auth_time,
                amr: self.amr,
            },
        }
    }
}

/// Revokes grant `id` and so every token of its family.
pub async fn revoke_grant(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    crate::exec!(
        db,
        "UPDATE op_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        id,
        now()
    )?;
    Ok(())
}

/// Revokes every grant of `user_id` but those made in session `keep` (a `sessions.id`; empty:
/// none kept), `offline_access` ones included: what ending all of someone's sessions does.
pub async fn revoke_for_user(db: &Db, user_id: &str, keep: &str) -> Result<u64, sqlx::Error> {
    crate::exec!(
        db,
        "UPDATE op_grants SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL \
           AND sid NOT IN (SELECT op_sid FROM sessions WHERE id = $2 AND op_sid IS NOT NULL)",
        user_id,
        keep,
        now()
    )
}

/// What [`revoke`] did with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked (an access token itself; a refresh token its grant), or unknown: RFC 7009
    /// answers both alike.
    Done,
    /// The token is another client's: refused, nothing revoked.
    OtherClient,
}

/// RFC 7009 for `client` (authenticated already): an access token revokes itself, a refresh
/// token its whole grant. The hint is not needed: a token's kind is stored with it.
pub async fn revoke(db: &Db, client: &OpClient, token: &str) -> Result<Revoked, sqlx::Error> {
    let hash = token_hash(token);
    let found: Option<(String, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT t.kind, t.grant_id, g.app_id FROM op_tokens t \
           JOIN op_grants g ON g.id = t.grant_id WHERE t.token_hash = $1")
        .bind(&hash)
        .fetch_optional(pool)
        .await)?;
    let Some((kind, grant_id, app_id)) = found else {
        return Ok(Revoked::Done);
    };
    if app_id != client.app_id {
        return Ok(Revoked::OtherClient);
    }
    if kind == "refresh" {
        revoke_grant(db, &grant_id).await?;
    } else {
        crate::exec!(db, "DELETE FROM op_tokens WHERE token_hash = $1", &hash)?;
    }
    Ok(Revoked::Done)
}

/// A live token as RFC 7662 describes it to the client it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspected {
    /// `access` or `refresh`.
    pub kind: String,
    pub scope: Vec<String>,
    pub user_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// `token` when it is live and `client`'s: an access token as [`by_access_token`] judges it;
/// a refresh token unused, unexpired, its grant not revoked. Anything else, another client's
/// token included, is `None` (inactive, RFC 7662 §2.2).
pub async fn introspect(
    db: &Db,
    client: &OpClient,
    token: &str,
) -> Result<Option<Introspected>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        scope: String,
        user_id: String,
        created_at: i64,
        expires_at: i64,
    }
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT t.kind, g.scope, g.user_id, t.created_at, t.expires_at \
           FROM op_tokens t JOIN op_grants g ON g.id = t.grant_id \
          WHERE t.token_hash = $1 AND g.app_id = $2 AND t.expires_at > $3 \
            AND g.revoked_at IS NULL AND g.expires_at > $3 \
            AND ((t.kind = 'refresh' AND t.used_at IS NULL) \
              OR (t.kind = 'access' AND (g.offline OR EXISTS (SELECT 1 FROM sessions s \
                   WHERE s.op_sid = g.sid AND s.expires_at > $3))))")
        .bind(token_hash(token))
        .bind(&client.app_id)
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| Introspected {
        kind: r.kind,
        scope: split(&r.scope),
        user_id: r.user_id,
        issued_at: r.created_at,
        expires_at: r.expires_at,
    }))
}

pub(super) fn split(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// RFC 7636: 43–128 unreserved characters whose S256 is `challenge` (compared in constant
/// time).
pub fn verifier_matches(challenge: &str, verifier: &str) -> bool {
    challenge_of(verifier).is_some_and(|computed| {
        subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
    })
}

/// The S256 challenge of `verifier` (RFC 7636 §4.2), or `None` for what §4.1 does not allow
/// as a verifier (43–128 unreserved characters). The length is checked first: `oauth2`'s
/// constructor asserts it.
fn challenge_of(verifier: &str) -> Option<String> {
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return None;
    }
    let computed = openidconnect::PkceCodeChallenge::from_code_verifier_sha256(
        &openidconnect::PkceCodeVerifier::new(verifier.to_owned()),
    );
    Some(computed.as_str().to_owned())
}

/// The grant an access token belongs to, when the token is live: not expired, its grant not
/// revoked, and (without `offline_access`) the Portcullis session it came from still there.
pub async fn by_access_token(db: &Db, token: &str) -> Result<Option<Grant>, sqlx::Error> {
    let row: Option<GrantRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT g.id, g.app_id, g.user_id, g.sid, g.scope, g.auth_time, g.amr \
           FROM op_tokens t JOIN op_grants g ON g.id = t.grant_id \
          WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 \
            AND g.revoked_at IS NULL AND g.expires_at > $2 \
            AND (g.offline OR EXISTS (SELECT 1 FROM sessions s \
                 WHERE s.op_sid = g.sid AND s.expires_at > $2))")
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| r.grant(None)))
}

/// How long a used or expired code is kept after it expires: a replay within that time still
/// revokes the grant its first use made.
pub const CODE_KEPT: i64 = 600;

/// Deletes what has expired as of `now`: waiting requests, codes ([`CODE_KEPT`] after),
/// access tokens, device codes, and grants past their lifetime or revoked an hour ago (with their tokens).
/// Gives the number of rows deleted.
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let mut n = crate::exec!(
        db,
        "DELETE FROM op_auth_requests WHERE expires_at <= $1",
        now
    )?;
    n += crate::exec!(
        db,
        "DELETE FROM op_codes WHERE expires_at <= $1",
        now - CODE_KEPT
    )?;
    n += crate::exec!(db, "DELETE FROM op_tokens WHERE expires_at <= $1", now)?;
    n += crate::exec!(
        db,
        "DELETE FROM op_device_codes WHERE expires_at <= $1",
        now
    )?;
    n += crate::exec!(
        db,
        "DELETE FROM op_grants WHERE expires_at <= $1 OR revoked_at <= $2",
        now,
        now - 3600
    )?;
    Ok(n)
}

/// [`delete_expired`] every `period`, forever (run it in a task), on every replica.
pub async fn delete_expired_every(db: Db, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if db.is_closed() {
            return;
        }
        if let Err(e) = delete_expired(&db, now()).await {
            tracing::warn!(error = ?e, "could not delete expired OpenID Provider rows");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::verifier_matches;

    #[test]
    fn pkce_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(challenge, verifier));
        assert!(!verifier_matches(challenge, &verifier.replace('d', "e")));
        assert!(!verifier_matches(challenge, "short"));
        assert!(!verifier_matches(challenge, &"a".repeat(129)));
        assert!(!verifier_matches(challenge, &format!("{verifier} ")));
        assert!(!verifier_matches(verifier, verifier));
    }
}
