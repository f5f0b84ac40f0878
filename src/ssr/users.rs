//! Local user accounts in the database.

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::{Db, is_unique_violation};
use super::{password, settings};
use crate::account::ValidAccount;
use crate::audit::EventKind;
use crate::email_source::{self, EmailSource};
use crate::on_pool;
use crate::user::UserView;

/// A user as stored. Not `Serialize`: the password hash must never leave the server.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            admin: self.is_admin,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("first-run setup is already done")]
    SetupDone,
    #[error("the {0} is already taken")]
    Taken(&'static str),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const COLUMNS: &str =
    "id, username, email, display_name, password_hash, is_admin, created_at, updated_at";

/// SQL over `users u`: the columns [`EmailTrust`] reads, so that every query deciding whether
/// an email is trusted reads the same facts, at the time of use (the source provider's
/// link-by-email as it is now; `FALSE` for a provider that is gone).
pub const EMAIL_TRUST_COLUMNS: &str = "u.email_source, u.email_provider, \
     u.password_hash IS NOT NULL AS has_password, \
     COALESCE((SELECT p.link_by_email FROM oidc_providers p WHERE p.slug = u.email_provider), FALSE) \
     AS provider_links_by_email";

/// Where an account's email came from, and what [`email_source::trusted`] weighs with it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailTrust {
    pub email_source: Option<String>,
    pub email_provider: Option<String>,
    pub has_password: bool,
    pub provider_links_by_email: bool,
}

impl EmailTrust {
    pub fn source(&self) -> EmailSource {
        EmailSource::from_columns(self.email_source.as_deref(), self.email_provider.as_deref())
    }

    /// Whether the account's email may link a sign-in and be sent as `Remote-Email`.
    pub fn trusted(&self) -> bool {
        email_source::trusted(
            &self.source(),
            self.has_password,
            self.provider_links_by_email,
        )
    }
}

/// SQL, `$1` a provider's slug: the emails that provider set lose its word (unknown, never
/// trusted), when it is deleted or pointed at another issuer: a provider later under that
/// slug, or at that issuer, is another one.
pub const FORGET_PROVIDER_EMAILS: &str =
    "UPDATE users SET email_source = NULL, email_provider = NULL WHERE email_provider = $1";

/// Where `user_id`'s email came from and whether it is trusted now (`None`: no such user).
pub async fn email_trust(db: &Db, user_id: &str) -> Result<Option<EmailTrust>, sqlx::Error> {
    let sql = format!("SELECT {EMAIL_TRUST_COLUMNS} FROM users u WHERE u.id = $1");
    on_pool!(db, pool => sqlx::query_as::<_, EmailTrust>(&sql).bind(user_id).fetch_optional(pool).await)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    on_pool!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(pool).await)
}

/// Finds the account a login form names (case-insensitive): by email when it has an `@`,
/// by username otherwise. Usernames cannot contain `@`, so no account's name can shadow
/// another's email.
pub async fn find_by_identifier(db: &Db, identifier: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let column = if identifier.contains('@') {
        "email"
    } else {
        "username"
    };
    let sql = format!("SELECT {COLUMNS} FROM users WHERE lower({column}) = lower($1) LIMIT 1");
    on_pool!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(identifier).fetch_optional(pool).await)
}

pub async fn list(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, username");
    on_pool!(db, pool => sqlx::query_as::<_, UserRow>(&sql).fetch_all(pool).await)
}

/// Which of username and email already belong to someone (for a message naming the field).
async fn taken_field(db: &Db, account: &ValidAccount) -> Result<Option<&'static str>, sqlx::Error> {
    let (u, e): (i64, i64) = on_pool!(db, pool => sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM users WHERE lower(username) = lower($1)), \
           (SELECT COUNT(*) FROM users WHERE lower(email) = lower($2))",
    )
    .bind(&account.username)
    .bind(&account.email)
    .fetch_one(pool)
    .await)?;
    Ok(if u > 0 {
        Some("username")
    } else if e > 0 {
        Some("email")
    } else {
        None
    })
}

/// Creates a local user (first-run setup, `portcullis user add`: the email is an
/// administrator's, [`EmailSource::Admin`]). With `first_run`, succeeds only while no user
/// exists, and only once even under concurrent attempts (a unique settings row is the lock).
pub async fn create(
    db: &Db,
    account: &ValidAccount,
    admin: bool,
    first_run: bool,
    by: &Actor,
) -> Result<UserRow, CreateUserError> {
    if let Some(field) = taken_field(db, account).await? {
        return Err(CreateUserError::Taken(field));
    }
    // A passkey-only account has no password (`NewAccount::validate_passkey_only`).
    let hash = match account.password.as_str() {
        "" => None,
        p => Some(
            password::hash(p.to_owned())
                .await
                .map_err(|e| CreateUserError::Hash(e.to_string()))?,
        ),
    };
    let t = now();
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        username: account.username.clone(),
        email: Some(account.email.clone()),
        display_name: account.display_name.clone(),
        password_hash: hash,
        is_admin: admin,
        created_at: t,
        updated_at: t,
    };
    let result: Result<(), CreateUserError> = on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        if first_run {
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            if existing > 0 {
                return Err(CreateUserError::SetupDone);
            }
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, 'true')")
                .bind(settings::SETUP_COMPLETE)
                .execute(&mut *tx)
                .await
                .map_err(|e| if is_unique_violation(&e) { CreateUserError::SetupDone } else { e.into() })?;
        }
        sqlx::query(&format!("INSERT INTO users ({COLUMNS}, email_source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&row.id)
            .bind(&row.username)
            .bind(&row.email)
            .bind(&row.display_name)
            .bind(&row.password_hash)
            .bind(row.is_admin)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(EmailSource::Admin.columns().0)
            .execute(&mut *tx)
            .await
            .map_err(|e| if is_unique_violation(&e) { CreateUserError::Taken("username or email") } else { e.into() })?;
        let how = if first_run { "setup" } else { "by_administrator" };
        let created = Entry::new(EventKind::UserCreated, by)
            .on_user(&row.id)
            .detail("method", "password")
            .detail("how", how);
        crate::audit_write!(&mut *tx, &created)?;
        if admin {
            let granted = Entry::new(EventKind::AdminGranted, by).on_user(&row.id).detail("rule", how);
            crate::audit_write!(&mut *tx, &granted)?;
        }
        tx.commit().await?;
        Ok(())
    });
    result.map(|()| row)
}

/// Whether first-run setup is still open (no user has ever been created through it or the
/// CLI).
pub async fn setup_open(db: &Db) -> Result<bool, sqlx::Error> {
    Ok(!any(db).await?)
}

/// Whether any account exists (without counting them all).
pub async fn any(db: &Db) -> Result<bool, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(pool).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::NewAccount;

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        (dir, db)
    }

    fn account(name: &str) -> ValidAccount {
        NewAccount {
            username: name.into(),
            email: format!("{name}@example.com"),
            display_name: String::new(),
            password: "password123".into(),
        }
        .validate()
        .unwrap()
    }

    #[tokio::test]
    async fn first_run_happens_once() {
        let (_d, db) = sqlite().await;
        assert!(setup_open(&db).await.unwrap());
        let admin = create(&db, &account("root"), true, true, &Actor::cli())
            .await
            .unwrap();
        assert!(admin.is_admin);
        assert!(!setup_open(&db).await.unwrap());
        let again = create(&db, &account("mallory"), true, true, &Actor::cli()).await;
        assert!(
            matches!(again, Err(CreateUserError::SetupDone)),
            "{again:?}"
        );
        assert_eq!(count(&db).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn usernames_and_emails_are_unique_ignoring_case() {
        let (_d, db) = sqlite().await;
        create(&db, &account("alice"), false, false, &Actor::cli())
            .await
            .unwrap();
        let mut twin = account("ALICE");
        twin.email = "other@example.com".into();
        assert!(matches!(
            create(&db, &twin, false, false, &Actor::cli()).await,
            Err(CreateUserError::Taken("username"))
        ));
        let mut same_mail = account("alice2");
        same_mail.email = "Alice@Example.com".into();
        assert!(matches!(
            create(&db, &same_mail, false, false, &Actor::cli()).await,
            Err(CreateUserError::Taken("email"))
        ));
        let found = find_by_identifier(&db, "ALICE@example.COM")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.username, "alice");
        assert!(found.password_hash.unwrap().starts_with("$argon2id$"));
    }
}
