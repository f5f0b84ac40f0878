//! Who a verified provider identity is here: a linked user, a new user, or nobody. The
//! facts are read here, the decision is `identity::decision` (pure), and this module acts
//! on it ([`resolve`]) or puts it into words for Test sign-in ([`preview`]). Identities are
//! keyed by (provider, issuer, `sub`); never by email or username.

use super::admin_sync::admin_claims_hold;
use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::{Db, is_unique_violation};
use super::oidc::flow::Verified;
use super::users::{self, UserRow};
use crate::audit::EventKind;
use crate::claims;
use crate::email_source::EmailSource;
use crate::identity::decision::{
    self, Decision, EmailOwner, Facts, LinkTarget, NotJoined, Purpose, Refusal,
};
use crate::identity::{LinkedIdentity, username_base};
use crate::on_pool;
use crate::test_sign_in::WouldDo;
use crate::users_locked_tx;

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
    #[error("Another sign-in with this identity was under way at the same moment. Try again.")]
    Overtaken,
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

impl IdentityError {
    /// The words for `refusal` at provider `provider` (its display name).
    fn refused(refusal: &Refusal, provider: &str) -> IdentityError {
        let p = provider.to_owned();
        match refusal {
            Refusal::ClaimsNotMet { .. } => IdentityError::NotAllowed(p),
            Refusal::NotLinked => IdentityError::NotLinked(p),
            Refusal::EmailTaken { .. } => IdentityError::EmailTaken(p),
            Refusal::LinkedToOther => IdentityError::LinkedToOther(p),
            Refusal::AlreadyLinked => IdentityError::AlreadyLinked(p),
            Refusal::UserGone => IdentityError::UserGone,
        }
    }
}

/// What [`decision::decide`] weighs about `v`, read from storage (nothing is written). The
/// holder of the verified email is read only when it can matter: a first sign-in.
async fn facts(db: &Db, v: &Verified) -> Result<Facts, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Owner {
        id: String,
        is_admin: bool,
        linked_here: bool,
        /// This very identity is linked to the holder: a concurrent first sign-in created
        /// the account and its link between the two reads (one statement, one snapshot).
        holds_this_identity: bool,
        #[sqlx(flatten)]
        trust: users::EmailTrust,
    }
    let slug = &v.provider.slug;
    let mut linked_to: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM linked_identities WHERE provider_slug = $1 AND issuer = $2 AND subject = $3")
        .bind(slug)
        .bind(&v.issuer)
        .bind(&v.subject)
        .fetch_optional(pool)
        .await)?;
    let email = claims::verified_email(&v.claims);
    let unlinked = linked_to.is_none();
    let email_owner = match (&v.purpose, unlinked, email) {
        (Purpose::SignIn, true, Some(email)) => {
            let sql = format!(
                "SELECT u.id, u.is_admin, EXISTS (SELECT 1 FROM linked_identities l \
                 WHERE l.user_id = u.id AND l.provider_slug = $2) AS linked_here, \
                 EXISTS (SELECT 1 FROM linked_identities l WHERE l.user_id = u.id \
                 AND l.provider_slug = $2 AND l.issuer = $3 AND l.subject = $4) \
                 AS holds_this_identity, {} \
                 FROM users u WHERE lower(u.email) = lower($1)",
                users::EMAIL_TRUST_COLUMNS
            );
            let owner: Option<Owner> = on_pool!(db, pool => sqlx::query_as(&sql)
                .bind(email)
                .bind(slug)
                .bind(&v.issuer)
                .bind(&v.subject)
                .fetch_optional(pool)
                .await)?;
            let owner = match owner {
                Some(o) if o.holds_this_identity => {
                    linked_to = Some(o.id);
                    None
                }
                other => other,
            };
            owner.map(|o| EmailOwner {
                email_trusted: o.trust.trusted(),
                user_id: o.id,
                is_admin: o.is_admin,
                linked_here: o.linked_here,
            })
        }
        _ => None,
    };
    let link_target = match &v.purpose {
        Purpose::Link { user_id } => {
            let linked_here: Option<bool> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM linked_identities l \
                 WHERE l.user_id = u.id AND l.provider_slug = $2) FROM users u WHERE u.id = $1")
                .bind(user_id)
                .bind(slug)
                .fetch_optional(pool)
                .await)?;
            linked_here.map(|linked_here| LinkTarget { linked_here })
        }
        Purpose::SignIn => None,
    };
    Ok(Facts {
        purpose: v.purpose.clone(),
        missing_claims: claims::missing_required(&v.claims, &v.provider.settings.required_claims),
        linked_to,
        email_owner,
        link_by_email: v.provider.settings.link_by_email,
        allow_new_users: v.provider.settings.allow_new_users,
        link_target,
    })
}

/// Decides who `v` is ([`decision::decide`]) and acts on it: signs in through the link
/// (recording the sign-in on it), links, or creates the account. A decision overtaken by a
/// concurrent one (two first sign-ins of one new person at once: a double click, two
/// tabs) is made again on the facts as they are then.
pub async fn resolve(db: &Db, v: &Verified) -> Result<Outcome, IdentityError> {
    for _ in 0..3 {
        let facts = facts(db, v).await?;
        if let Some(owner) = &facts.email_owner
            && decision::joinable(owner, facts.link_by_email) == Err(NotJoined::Untrusted)
        {
            tracing::info!(provider = ?v.provider.slug, user = ?owner.user_id, "not linked by email: the account's email is not trusted");
        }
        if let Some(outcome) = act(db, v, decision::decide(&facts)).await? {
            return Ok(outcome);
        }
    }
    tracing::warn!(provider = ?v.provider.slug, "identity decision overtaken three times");
    Err(IdentityError::Overtaken)
}

/// Carries out `decision` for `v`; `None` when concurrent writes overtook it.
async fn act(db: &Db, v: &Verified, decision: Decision) -> Result<Option<Outcome>, IdentityError> {
    let done = |user_id: String| match v.purpose {
        Purpose::SignIn => Outcome::SignedIn(user_id),
        Purpose::Link { .. } => Outcome::Linked(user_id),
    };
    match decision {
        Decision::Refuse(refusal) => {
            if let Refusal::ClaimsNotMet { missing } = &refusal {
                tracing::info!(provider = ?v.provider.slug, ?missing, "required claims not met");
            }
            Err(IdentityError::refused(&refusal, &v.provider.name))
        }
        Decision::Linked { user_id } => Ok(touch_link(db, v)
            .await?
            .filter(|owner| *owner == user_id)
            .map(done)),
        Decision::Link { user_id } => {
            let (by, how) = match &v.purpose {
                Purpose::SignIn => (Actor::provider(&v.provider.slug), "verified_email"),
                Purpose::Link { user_id } => (Actor::user_id(user_id), "by_user"),
            };
            let entry = Entry::new(EventKind::IdentityLinked, &by)
                .on_user(&user_id)
                .detail("provider", v.provider.slug.as_str())
                .detail("how", how);
            let inserted = on_pool!(db, pool => async {
                let mut tx = pool.begin().await?;
                insert_link(&user_id, v, now()).execute(&mut *tx).await?;
                crate::audit_write!(&mut *tx, &entry)?;
                tx.commit().await
            }.await);
            match inserted {
                Ok(_) => {
                    if v.purpose == Purpose::SignIn {
                        tracing::info!(provider = ?v.provider.slug, user = ?user_id, "linked an OpenID Connect identity by verified email");
                    }
                    Ok(Some(done(user_id)))
                }
                Err(e) if is_unique_violation(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        Decision::Create => match create_user(db, v).await {
            Ok(id) => Ok(Some(Outcome::Created(id))),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

/// Records this sign-in on `v`'s link; the account it is linked to (one round trip: the
/// lookup is the update).
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

/// The one statement that links `v` to account `user_id` at time `at`, for either backend
/// and any executor (a pool, or [`create_user`]'s transaction). Recorded alike however the
/// link came about, so every link shows under Linked Accounts and can be unlinked.
fn insert_link<'q, DB>(
    user_id: &'q str,
    v: &'q Verified,
    at: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO linked_identities (id, user_id, provider_slug, issuer, subject, username, email, linked_at, last_login_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(user_id)
        .bind(v.provider.slug.as_str())
        .bind(v.issuer.as_str())
        .bind(v.subject.as_str())
        .bind(v.claim_str("preferred_username"))
        .bind(claims::verified_email(&v.claims))
        .bind(at)
}

/// What a sign-in with `v` would do now, without writing anything (Test sign-in): the
/// decision [`resolve`] acts on, in words.
pub async fn preview(db: &Db, v: &Verified) -> Result<WouldDo, sqlx::Error> {
    let account = async |id: &str| users::get(db, id).await?.ok_or(sqlx::Error::RowNotFound);
    let facts = facts(db, v).await?;
    Ok(match decision::decide(&facts) {
        Decision::Linked { user_id } => {
            let user = account(&user_id).await?;
            WouldDo::SignIn {
                admin_change: admin_change(db, v, &user).await?,
                username: user.username,
                display_name: user.display_name,
            }
        }
        Decision::Link { user_id } => {
            let user = account(&user_id).await?;
            WouldDo::LinkByEmail {
                admin_change: admin_change(db, v, &user).await?,
                username: user.username,
                email: user.email.unwrap_or_default(),
            }
        }
        Decision::Create => {
            let user = plan_new_user(db, v).await?;
            WouldDo::Create {
                username: user.username,
                email: user.email,
                display_name: user.display_name,
                // `admin_sync::at_sign_in` grants it right after the account is created.
                admin: admin_claims_hold(v),
            }
        }
        Decision::Refuse(refusal) => {
            let said = IdentityError::refused(&refusal, &v.provider.name);
            let reason = match &refusal {
                Refusal::ClaimsNotMet { missing } => {
                    format!("{said} (Required Claims not met: {})", missing.join(", "))
                }
                Refusal::NotLinked => format!(
                    "{said} (Allow New Users is off and no account is linked to subject {} at {}.)",
                    v.subject, v.issuer
                ),
                Refusal::EmailTaken { owner, .. } => {
                    let email = claims::verified_email(&v.claims).unwrap_or_default();
                    let owner = account(owner).await?.username;
                    format!(
                        "{said} (The verified email {email} belongs to the account {owner}; accounts are joined by email only with \"Link existing accounts by verified email\" on, and never to an administrator, to an account that already has an identity from this provider, or to an account whose email is not trusted (trusted: set by an administrator, by the user at an account with a password, or by a provider that links by email).)"
                    )
                }
                _ => said.to_string(),
            };
            WouldDo::Refuse { reason }
        }
    })
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
/// claims (the decision has made sure nobody holds the email).
async fn plan_new_user(db: &Db, v: &Verified) -> Result<UserRow, sqlx::Error> {
    let email = claims::verified_email(&v.claims).map(str::to_owned);
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
/// linked in the same transaction. A unique violation: a concurrent sign-in took the
/// email, the username or the identity first.
async fn create_user(db: &Db, v: &Verified) -> Result<String, sqlx::Error> {
    let user = plan_new_user(db, v).await?;
    let t = user.created_at;
    // The email is the provider's (trusted only while it links by email).
    let source = user.email.as_ref().map_or(EmailSource::Unknown, |_| {
        EmailSource::Provider(v.provider.slug.clone())
    });
    let (email_source, email_provider) = source.columns();
    on_pool!(db, pool => async {
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
        insert_link(&user.id, v, t).execute(&mut *tx).await?;
        let by = Actor::provider(&v.provider.slug);
        let entry = Entry::new(EventKind::UserCreated, &by)
            .on_user(&user.id)
            .detail("method", "provider")
            .detail("provider", v.provider.slug.as_str());
        crate::audit_write!(&mut *tx, &entry)?;
        tx.commit().await
    }
    .await)?;
    Ok(user.id)
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
    by: &Actor,
) -> Result<(), UnlinkError> {
    const GUARDED_DELETE: &str = "DELETE FROM linked_identities WHERE user_id = $1 AND provider_slug = $2 \
         AND (EXISTS (SELECT 1 FROM users WHERE id = $1 AND password_hash IS NOT NULL) \
              OR EXISTS (SELECT 1 FROM user_passkeys WHERE user_id = $1) \
              OR (SELECT COUNT(*) FROM linked_identities WHERE user_id = $1) > 1)";
    const END_SESSIONS: &str =
        "DELETE FROM sessions WHERE user_id = $1 AND provider_slug = $2 AND id <> $3";
    let deleted = users_locked_tx!(db, tx, "id = $1", user_id => {
        let n = crate::exec_on!(&mut *tx, GUARDED_DELETE, user_id, slug)?;
        if n > 0 {
            let keep = keep_session.unwrap_or("");
            crate::exec_on!(&mut *tx, END_SESSIONS, user_id, slug, keep)?;
            let entry = Entry::new(EventKind::IdentityUnlinked, by)
                .on_user(user_id)
                .detail("provider", slug);
            crate::audit_write!(&mut *tx, &entry)?;
        }
        n
    })?;
    if deleted > 0 {
        super::op::logout::wake();
        super::groups::drop_from_provider(db, slug, Some(user_id)).await?;
        return Ok(());
    }
    let linked = crate::exists!(
        db,
        "SELECT COUNT(*) FROM linked_identities WHERE user_id = $1 AND provider_slug = $2",
        user_id,
        slug
    )?;
    Err(if linked {
        UnlinkError::LastWay
    } else {
        UnlinkError::NotLinked
    })
}
