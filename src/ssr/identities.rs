//! Who a verified provider identity is here: a linked user, a new user, or nobody.
//! Identities are keyed by (provider, `sub`); never by email or username.

use super::clock::now;
use super::db::{Db, is_unique_violation};
use super::oidc::flow::Verified;
use super::oidc::pending::Mode;
use super::users::{self, UserRow};
use crate::claims;
use crate::email_source::EmailSource;
use crate::identity::{LinkedIdentity, username_base};
use crate::on_pool;
use crate::sign_in_test::WouldDo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    SignedIn(String),
    Created(String),
    Linked(String),
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("Your account at {0} is not allowed to sign in here.")]
    NotAllowed(String),
    #[error(
        "No account is linked to this {0} identity. Sign in another way and link it from your profile (Linked Accounts) first."
    )]
    NotLinked(String),
    #[error(
        "An account with the email address from {0} already exists here. Sign in to it and link {0} from your profile."
    )]
    EmailTaken(String),
    #[error("This {0} identity is already linked to another account.")]
    LinkedToOther(String),
    #[error("Your account is already linked to another {0} identity. Unlink it first.")]
    AlreadyLinked(String),
    #[error("The account this sign-in was started for no longer exists.")]
    UserGone,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error("That account is not linked.")]
    NotLinked,
    #[error(
        "This is the only way to sign in to this account (it has no password and no other linked account), so it cannot be unlinked."
    )]
    LastWay,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The user `v`'s identity is linked to, recording this sign-in on the link (one round
/// trip: the lookup is the update).
async fn touch_link(db: &Db, v: &Verified) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "UPDATE linked_identities SET last_login_at = $4, username = COALESCE($5, username), \
         email = COALESCE($6, email) WHERE provider_slug = $1 AND issuer = $2 AND subject = $3 \
         RETURNING user_id")
        .bind(&v.provider.slug)
        .bind(&v.issuer)
        .bind(&v.subject)
        .bind(now())
        .bind(v.claim_str("preferred_username"))
        .bind(claims::verified_email(&v.claims))
        .fetch_optional(pool)
        .await)
}

/// Decides and records who `v` is. Required claims apply to every sign-in and link.
pub async fn resolve(db: &Db, v: &Verified) -> Result<Outcome, IdentityError> {
    let name = v.provider.name.clone();
    let missing = claims::missing_required(&v.claims, &v.provider.settings.required_claims);
    if !missing.is_empty() {
        tracing::info!(provider = ?v.provider.slug, ?missing, "required claims not met");
        return Err(IdentityError::NotAllowed(name));
    }
    let linked = touch_link(db, v).await?;
    match &v.mode {
        Mode::SignIn => match linked {
            Some(user_id) => Ok(Outcome::SignedIn(user_id)),
            None if let Some(user_id) = link_by_email(db, v).await? => {
                Ok(Outcome::SignedIn(user_id))
            }
            None if v.provider.settings.allow_new_users => match create_user(db, v).await {
                Ok(id) => Ok(Outcome::Created(id)),
                // Two first sign-ins of one new person at once (a double click, two tabs):
                // the other one created the account and its link; this one signs in to it.
                Err(IdentityError::EmailTaken(_))
                    if let Some(user_id) = touch_link(db, v).await? =>
                {
                    Ok(Outcome::SignedIn(user_id))
                }
                Err(e) => Err(e),
            },
            None => Err(IdentityError::NotLinked(name)),
        },
        // A test sign-in never reaches here (`Rp::finish_attempt` refuses it); fail closed.
        Mode::Test { .. } => Err(IdentityError::NotAllowed(name)),
        Mode::Link { user_id } => {
            if users::get(db, user_id).await?.is_none() {
                return Err(IdentityError::UserGone);
            }
            match linked {
                Some(owner) if owner == *user_id => Ok(Outcome::Linked(owner)),
                Some(_) => Err(IdentityError::LinkedToOther(name)),
                None => {
                    insert_link(db, user_id, v).await.map_err(|e| match e {
                        IdentityError::Db(e) if is_unique_violation(&e) => {
                            IdentityError::AlreadyLinked(name.clone())
                        }
                        other => other,
                    })?;
                    Ok(Outcome::Linked(user_id.clone()))
                }
            }
        }
    }
}

/// The local account a first sign-in may be linked to by its email, when the provider opts
/// in: the owner of the provider-verified email, unless that account is an administrator
/// (they link by hand), already has an identity from this provider, or holds an email
/// Portcullis does not trust ([`users::EmailTrust::trusted`]: one a provider that does not
/// link by email set is anyone's to claim there).
async fn email_match(db: &Db, v: &Verified) -> Result<Option<String>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Candidate {
        id: String,
        #[sqlx(flatten)]
        trust: users::EmailTrust,
    }
    if !v.provider.settings.link_by_email {
        return Ok(None);
    }
    let Some(email) = claims::verified_email(&v.claims) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT u.id, {} FROM users u WHERE lower(u.email) = lower($1) AND NOT u.is_admin \
         AND NOT EXISTS (SELECT 1 FROM linked_identities l \
                         WHERE l.user_id = u.id AND l.provider_slug = $2)",
        users::EMAIL_TRUST_COLUMNS
    );
    let found: Option<Candidate> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(email)
        .bind(&v.provider.slug)
        .fetch_optional(pool)
        .await)?;
    Ok(found.and_then(|c| {
        if c.trust.trusted() {
            return Some(c.id);
        }
        tracing::info!(provider = ?v.provider.slug, user = ?c.id, source = ?c.trust.source(), "not linked by email: the account's email is not trusted");
        None
    }))
}

/// Links `v` to the account [`email_match`] finds and returns it; recorded like a manual
/// link, so it shows under Linked Accounts and can be unlinked.
async fn link_by_email(db: &Db, v: &Verified) -> Result<Option<String>, IdentityError> {
    let Some(user_id) = email_match(db, v).await? else {
        return Ok(None);
    };
    match insert_link(db, &user_id, v).await {
        Ok(()) => {
            tracing::info!(provider = ?v.provider.slug, user = ?user_id, "linked an OpenID Connect identity by verified email");
            Ok(Some(user_id))
        }
        // Two first sign-ins at once: the other linked it; whoever it linked wins.
        Err(IdentityError::Db(e)) if is_unique_violation(&e) => Ok(touch_link(db, v).await?),
        Err(e) => Err(e),
    }
}

async fn insert_link(db: &Db, user_id: &str, v: &Verified) -> Result<(), IdentityError> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO linked_identities (id, user_id, provider_slug, issuer, subject, username, email, linked_at, last_login_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(user_id)
        .bind(&v.provider.slug)
        .bind(&v.issuer)
        .bind(&v.subject)
        .bind(v.claim_str("preferred_username"))
        .bind(claims::verified_email(&v.claims))
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// What a sign-in with `v` would do now, without writing anything (Test sign-in): the
/// same decisions as [`resolve`] in mode sign-in, read-only.
pub async fn preview(db: &Db, v: &Verified) -> Result<WouldDo, sqlx::Error> {
    let name = v.provider.name.clone();
    let missing = claims::missing_required(&v.claims, &v.provider.settings.required_claims);
    if !missing.is_empty() {
        return Ok(WouldDo::Refuse {
            reason: format!(
                "{} (Required Claims not met: {})",
                IdentityError::NotAllowed(name),
                missing.join(", ")
            ),
        });
    }
    let linked: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM linked_identities WHERE provider_slug = $1 AND issuer = $2 AND subject = $3")
        .bind(&v.provider.slug)
        .bind(&v.issuer)
        .bind(&v.subject)
        .fetch_optional(pool)
        .await)?;
    if let Some(user_id) = linked
        && let Some(user) = users::get(db, &user_id).await?
    {
        let admin_change = admin_change(db, v, &user).await?;
        return Ok(WouldDo::SignIn {
            username: user.username,
            display_name: user.display_name,
            admin_change,
        });
    }
    if let Some(user_id) = email_match(db, v).await?
        && let Some(user) = users::get(db, &user_id).await?
    {
        let admin_change = admin_change(db, v, &user).await?;
        return Ok(WouldDo::LinkByEmail {
            username: user.username,
            email: user.email.unwrap_or_default(),
            admin_change,
        });
    }
    if !v.provider.settings.allow_new_users {
        return Ok(WouldDo::Refuse {
            reason: format!(
                "{} (Allow New Users is off and no account is linked to subject {} at {}.)",
                IdentityError::NotLinked(name),
                v.subject,
                v.issuer
            ),
        });
    }
    match plan_new_user(db, v).await {
        Ok(user) => Ok(WouldDo::Create {
            username: user.username,
            email: user.email,
            display_name: user.display_name,
            // `admin_sync::at_sign_in` grants it right after the account is created.
            admin: admin_claims_hold(v),
        }),
        Err(IdentityError::EmailTaken(_)) => {
            let email = claims::verified_email(&v.claims).unwrap_or_default();
            let owner = users::find_by_identifier(db, email)
                .await?
                .map(|u| u.username)
                .unwrap_or_default();
            Ok(WouldDo::Refuse {
                reason: format!(
                    "{} (The verified email {email} belongs to the account {owner}; accounts are joined by email only with \"Link existing accounts by verified email\" on, and never to an administrator, to an account that already has an identity from this provider, or to an account whose email is not trusted (trusted: set by an administrator, by the user at an account with a password, or by a provider that links by email).)",
                    IdentityError::EmailTaken(name)
                ),
            })
        }
        Err(IdentityError::Db(e)) => Err(e),
        Err(other) => Ok(WouldDo::Refuse {
            reason: other.to_string(),
        }),
    }
}

/// The provider has Admin Claims and the claims meet them.
fn admin_claims_hold(v: &Verified) -> bool {
    let rules = &v.provider.settings.admin_claims;
    !rules.is_empty() && claims::missing_required(&v.claims, rules).is_empty()
}

/// What `admin_sync::at_sign_in` would do to `user`'s administrator flag, in words.
async fn admin_change(
    db: &Db,
    v: &Verified,
    user: &UserRow,
) -> Result<Option<String>, sqlx::Error> {
    use crate::admin_claims::{AdminChange, decide, kept_reason};
    let has_rules = !v.provider.settings.admin_claims.is_empty();
    let holds = admin_claims_hold(v);
    let others = if has_rules && !holds && user.is_admin {
        super::admin_sync::others_can_sign_in(db, &user.id).await?
    } else {
        true
    };
    let who = &user.username;
    Ok(match decide(has_rules, holds, user.is_admin, others) {
        AdminChange::Keep if has_rules && user.is_admin => {
            Some(format!("Admin Claims hold: {who} stays an administrator."))
        }
        AdminChange::Keep => None,
        AdminChange::Grant => Some(format!(
            "Admin Claims hold: {who} becomes an administrator."
        )),
        AdminChange::Revoke => Some(format!(
            "Admin Claims do not hold: {who} loses the administrator role."
        )),
        AdminChange::KeepLastAdmin => Some(kept_reason(&v.provider.name)),
    })
}

/// The account a first sign-in would create: unique username, email and name from the
/// claims; `EmailTaken` when the verified email is another account's.
async fn plan_new_user(db: &Db, v: &Verified) -> Result<UserRow, IdentityError> {
    let name = v.provider.name.clone();
    let email = claims::verified_email(&v.claims).map(str::to_owned);
    if let Some(email) = &email
        && users::find_by_identifier(db, email)
            .await?
            .is_some_and(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
    {
        return Err(IdentityError::EmailTaken(name));
    }
    let base = username_base(&[
        v.claim_str("preferred_username"),
        v.claim_str("email"),
        v.claim_str("name"),
    ]);
    let mut username = base.clone();
    for n in 2..1000 {
        if users::find_by_identifier(db, &username).await?.is_none() {
            break;
        }
        username = format!("{base}-{n}");
    }
    let t = now();
    Ok(UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        display_name: v
            .claim_str("name")
            .map(|n| {
                n.chars()
                    .filter(|c| !c.is_control())
                    .take(crate::account::DISPLAY_NAME_MAX)
                    .collect()
            })
            .unwrap_or_else(|| username.clone()),
        username,
        email,
        password_hash: None,
        is_admin: false,
        created_at: t,
        updated_at: t,
    })
}

/// A new account for a first sign-in (Allow New Users), as [`plan_new_user`] plans it,
/// linked in the same transaction.
async fn create_user(db: &Db, v: &Verified) -> Result<String, IdentityError> {
    let name = v.provider.name.clone();
    let user = plan_new_user(db, v).await?;
    let t = user.created_at;
    // The email is the provider's (trusted only while it links by email).
    let source = user.email.as_ref().map_or(EmailSource::Unknown, |_| {
        EmailSource::Provider(v.provider.slug.clone())
    });
    let (email_source, email_provider) = source.columns();
    // An async block, so that `?` ends the transaction here (and a unique violation from a
    // concurrent first sign-in reaches the match below), not the whole function.
    let result: Result<(), sqlx::Error> = on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, username, email, display_name, password_hash, is_admin, created_at, updated_at, \
             email_source, email_provider) VALUES ($1, $2, $3, $4, NULL, $5, $6, $6, $7, $8)")
            .bind(&user.id)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.display_name)
            .bind(false)
            .bind(t)
            .bind(email_source)
            .bind(email_provider)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO linked_identities (id, user_id, provider_slug, issuer, subject, username, email, linked_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&user.id)
            .bind(&v.provider.slug)
            .bind(&v.issuer)
            .bind(&v.subject)
            .bind(v.claim_str("preferred_username"))
            .bind(user.email.as_deref())
            .bind(t)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await);
    match result {
        Ok(()) => Ok(user.id),
        Err(e) if is_unique_violation(&e) => Err(IdentityError::EmailTaken(name)),
        Err(e) => Err(e.into()),
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    user_id: String,
    provider_slug: String,
    name: String,
    logo: String,
    username: Option<String>,
    email: Option<String>,
    subject: String,
    linked_at: i64,
}

impl From<LinkRow> for LinkedIdentity {
    fn from(r: LinkRow) -> Self {
        LinkedIdentity {
            provider_slug: r.provider_slug,
            provider_name: r.name,
            provider_logo: r.logo,
            label: r.username.or(r.email).unwrap_or(r.subject),
            linked_at: r.linked_at,
        }
    }
}

const LINK_SELECT: &str = "SELECT l.user_id, l.provider_slug, p.name, p.logo, l.username, l.email, \
     l.subject, l.linked_at FROM linked_identities l JOIN oidc_providers p ON p.slug = l.provider_slug";

pub async fn links_for_user(db: &Db, user_id: &str) -> Result<Vec<LinkedIdentity>, sqlx::Error> {
    let sql = format!("{LINK_SELECT} WHERE l.user_id = $1 ORDER BY p.position, p.slug");
    let rows: Vec<LinkRow> = on_pool!(db, pool => sqlx::query_as::<_, LinkRow>(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every link, with its user's id (for administrators' user management).
pub async fn all_links(db: &Db) -> Result<Vec<(String, LinkedIdentity)>, sqlx::Error> {
    let sql = format!("{LINK_SELECT} ORDER BY p.position, p.slug");
    let rows: Vec<LinkRow> = on_pool!(db, pool => sqlx::query_as::<_, LinkRow>(&sql)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.user_id.clone(), r.into()))
        .collect())
}

/// Removes a link unless it is the account's last way to sign in, and ends the sessions
/// that were signed in through it. Two concurrent unlinks cannot both pass the guard: the
/// check and the delete are one statement, under the user's row lock on PostgreSQL (SQLite
/// runs one writer at a time).
/// `keep_session`: the session asking for it, when the user unlinks from that very session
/// (their own deliberate act; it stays, every other session through the identity ends).
pub async fn unlink(
    db: &Db,
    user_id: &str,
    slug: &str,
    keep_session: Option<&str>,
) -> Result<(), UnlinkError> {
    const GUARDED_DELETE: &str = "DELETE FROM linked_identities WHERE user_id = $1 AND provider_slug = $2 \
         AND (EXISTS (SELECT 1 FROM users WHERE id = $1 AND password_hash IS NOT NULL) \
              OR (SELECT COUNT(*) FROM linked_identities WHERE user_id = $1) > 1)";
    const END_SESSIONS: &str =
        "DELETE FROM sessions WHERE user_id = $1 AND provider_slug = $2 AND id <> $3";
    let deleted = on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        if matches!(db, Db::Postgres(_)) {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        let n = sqlx::query(GUARDED_DELETE)
            .bind(user_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            sqlx::query(END_SESSIONS)
                .bind(user_id)
                .bind(slug)
                .bind(keep_session.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<u64, sqlx::Error>(n)
    })?;
    if deleted > 0 {
        super::groups::drop_from_provider(db, slug, Some(user_id)).await?;
        return Ok(());
    }
    let linked: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM linked_identities WHERE user_id = $1 AND provider_slug = $2")
        .bind(user_id)
        .bind(slug)
        .fetch_one(pool)
        .await)?;
    Err(if linked == 0 {
        UnlinkError::NotLinked
    } else {
        UnlinkError::LastWay
    })
}
