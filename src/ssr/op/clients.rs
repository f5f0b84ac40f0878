//! Applications as OpenID Connect clients in the database (table `op_clients`, 1:1 beside
//! `applications`): their settings, the client secret (made here, shown once, stored as
//! `sha256:` + base64url of its SHA-256 and compared in constant time), and the client ID
//! (made from the application's name unless given; editable until the first code exchange).

use super::{random_token, token_hash};
use crate::apps::client::{AuthMethod, ClientSettings, ClientUris, ClientView, ValidClient};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::{Db, is_unique_violation};

/// What every client secret starts with (recognisable in a leak scanner or a log).
pub const SECRET_PREFIX: &str = "pc_cs_";

#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("another application already has the client ID \"{0}\"")]
    ClientIdTaken(String),
    #[error(
        "the client ID \"{0}\" has been used to sign in and cannot change any more (remove the application's OpenID Connect settings and add them again for a new one)"
    )]
    ClientIdFrozen(String),
    #[error("that application is not an OpenID Connect client")]
    NotAClient,
    #[error("that application is a public client (authentication \"none\"): it has no secret")]
    Public,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A stored client: what administrators see, and the secret's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpClient {
    pub app_id: String,
    pub view: ClientView,
    pub secret_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    app_id: String,
    client_id: String,
    secret_hash: Option<String>,
    secret_hint: Option<String>,
    auth_method: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    scopes: String,
    id_token_alg: String,
    device_flow: bool,
    consent: bool,
    first_used_at: Option<i64>,
}

impl Row {
    fn client(self) -> OpClient {
        use crate::ssr::apps::lines;
        OpClient {
            view: ClientView {
                client_id: self.client_id,
                secret_hint: self.secret_hint,
                settings: ClientSettings {
                    uris: ClientUris {
                        redirect_uris: lines(&self.redirect_uris),
                        post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
                        backchannel_logout_uri: (!self.backchannel_logout_uri.is_empty())
                            .then_some(self.backchannel_logout_uri),
                    },
                    // An unknown value (a hand-edited row) needs a secret no one has: fail
                    // closed.
                    auth_method: AuthMethod::parse(&self.auth_method).unwrap_or(AuthMethod::Basic),
                    scopes: self
                        .scopes
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    id_token_alg: self.id_token_alg,
                    device_flow: self.device_flow,
                    consent: self.consent,
                },
                first_used_at: self.first_used_at,
            },
            app_id: self.app_id,
            secret_hash: self.secret_hash,
        }
    }
}

const SELECT: &str = "SELECT app_id, client_id, secret_hash, secret_hint, auth_method, \
                      redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, scopes, \
                      id_token_alg, device_flow, consent, first_used_at FROM op_clients";

async fn one(db: &Db, column: &str, value: &str) -> Result<Option<OpClient>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE {column} = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(value).fetch_optional(pool).await)?;
    Ok(row.map(Row::client))
}

/// Every client.
pub async fn list(db: &Db) -> Result<Vec<OpClient>, sqlx::Error> {
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(SELECT).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Row::client).collect())
}

/// Application `app_id`'s client, if it is one.
pub async fn get(db: &Db, app_id: &str) -> Result<Option<OpClient>, sqlx::Error> {
    one(db, "app_id", app_id).await
}

/// The client called `client_id` (what a relying party sends).
pub async fn by_client_id(db: &Db, client_id: &str) -> Result<Option<OpClient>, sqlx::Error> {
    one(db, "client_id", client_id).await
}

/// What a save would refuse, checked before the application itself is written (so that
/// nothing is half-saved): another application's client ID, or a change of a client ID
/// already used.
pub async fn check(db: &Db, app_id: Option<&str>, c: &ValidClient) -> Result<(), ClientsError> {
    let Some(wanted) = c.client_id.as_deref() else {
        return Ok(());
    };
    if let Some(other) = by_client_id(db, wanted).await?
        && Some(other.app_id.as_str()) != app_id
    {
        return Err(ClientsError::ClientIdTaken(wanted.to_owned()));
    }
    if let Some(id) = app_id
        && let Some(existing) = get(db, id).await?
        && existing.view.first_used_at.is_some()
        && existing.view.client_id != wanted
    {
        return Err(ClientsError::ClientIdFrozen(existing.view.client_id));
    }
    Ok(())
}

/// Stores application `app_id`'s client settings (`None`: it is no client any more, its row
/// goes). Gives the new secret when one was made (a confidential client that had none):
/// shown once, never stored.
pub async fn save(
    db: &Db,
    app_id: &str,
    app_name: &str,
    c: Option<&ValidClient>,
) -> Result<Option<String>, ClientsError> {
    let Some(c) = c else {
        // What the client was given goes with it: kept, it would work again for a client
        // made later for the same application (a new client ID, perhaps another holder).
        crate::on_pool!(db, pool => async {
            let mut tx = pool.begin().await?;
            for table in [
                "op_grants",
                "op_codes",
                "op_auth_requests",
                "op_consents",
                "op_device_codes",
                "op_session_clients",
                "op_logout_outbox",
                "op_clients",
            ] {
                crate::exec_on!(&mut *tx, &format!("DELETE FROM {table} WHERE app_id = $1"), app_id)?;
            }
            tx.commit().await
        }.await)?;
        return Ok(None);
    };
    check(db, Some(app_id), c).await?;
    let existing = get(db, app_id).await?;
    let client_id = match (&c.client_id, &existing) {
        (Some(id), _) => id.clone(),
        (None, Some(e)) => e.view.client_id.clone(),
        (None, None) => new_client_id(app_name),
    };
    let kept = existing
        .as_ref()
        .and_then(|e| Some((e.secret_hash.clone()?, e.view.secret_hint.clone()?)));
    let (secret, hash, hint) = match (c.settings.auth_method.confidential(), kept) {
        (false, _) => (None, None, None),
        (true, Some((hash, hint))) => (None, Some(hash), Some(hint)),
        (true, None) => {
            let secret = new_secret();
            let (hash, hint) = (hash_secret(&secret), hint_of(&secret));
            (Some(secret), Some(hash), Some(hint))
        }
    };
    let sql = if existing.is_some() {
        "UPDATE op_clients SET client_id = $2, secret_hash = $3, secret_hint = $4, \
         auth_method = $5, redirect_uris = $6, post_logout_redirect_uris = $7, \
         backchannel_logout_uri = $8, scopes = $9, id_token_alg = $10, device_flow = $11, \
         consent = $12, updated_at = $13 WHERE app_id = $1"
    } else {
        "INSERT INTO op_clients (app_id, client_id, secret_hash, secret_hint, auth_method, \
         redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, scopes, \
         id_token_alg, device_flow, consent, created_at, updated_at) VALUES ($1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
    };
    use crate::ssr::apps::joined;
    let s = &c.settings;
    crate::exec!(
        db,
        sql,
        app_id,
        &client_id,
        hash,
        hint,
        s.auth_method.as_str(),
        joined(&s.uris.redirect_uris),
        joined(&s.uris.post_logout_redirect_uris),
        s.uris.backchannel_logout_uri.clone().unwrap_or_default(),
        s.scopes.join(" "),
        &s.id_token_alg,
        s.device_flow,
        s.consent,
        now(),
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            ClientsError::ClientIdTaken(client_id.clone())
        } else {
            e.into()
        }
    })?;
    Ok(secret)
}

/// A new secret for application `app_id`'s client, replacing the old one at once; given
/// back to be shown once.
pub async fn rotate_secret(
    db: &Db,
    app_id: &str,
    by: &crate::ssr::audit::Actor,
) -> Result<String, ClientsError> {
    let client = get(db, app_id).await?.ok_or(ClientsError::NotAClient)?;
    if !client.view.settings.auth_method.confidential() {
        return Err(ClientsError::Public);
    }
    let secret = new_secret();
    let name = crate::ssr::apps::get(db, app_id)
        .await?
        .map_or_else(|| app_id.to_owned(), |a| a.settings.name);
    let entry = crate::ssr::audit::Entry::new(crate::audit::EventKind::AppUpdated, by)
        .target("app", app_id, &name)
        .fields(vec!["client_secret".to_owned()]);
    crate::exec_audited!(
        db,
        &entry,
        "UPDATE op_clients SET secret_hash = $2, secret_hint = $3, updated_at = $4 \
         WHERE app_id = $1",
        app_id,
        hash_secret(&secret),
        hint_of(&secret),
        now(),
    )?;
    Ok(secret)
}

/// A new client secret: `pc_cs_` and 256 random bits, base64url.
pub fn new_secret() -> String {
    random_token(SECRET_PREFIX)
}

/// How a secret is stored: `sha256:` and base64url of its SHA-256. A password hash would
/// cost milliseconds per token request; 256 random bits cannot be guessed from this.
pub fn hash_secret(secret: &str) -> String {
    format!("sha256:{}", token_hash(secret))
}

/// Whether `presented` is the secret whose hash is `stored`, compared in constant time.
pub fn secret_matches(stored: &str, presented: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(stored.as_bytes(), hash_secret(presented).as_bytes()).into()
}

/// What the editor shows of a secret: the prefix and four characters.
fn hint_of(secret: &str) -> String {
    secret.chars().take(SECRET_PREFIX.len() + 4).collect()
}

/// A client ID for a new client of application `name`: its name as a slug (at most 32
/// characters) and six random characters, e.g. `grafana-x3k9qa`.
pub fn new_client_id(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 32 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let tail: String = random_token("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(6)
        .collect();
    if slug.is_empty() {
        format!("app-{tail}")
    } else {
        format!("{slug}-{tail}")
    }
}

#[cfg(test)]
impl OpClient {
    /// A client `c1` of application `app` with one redirect URI (`https://rp.example/cb`),
    /// every scope allowed, authenticating with `auth`.
    pub fn for_test(auth: AuthMethod) -> OpClient {
        Self {
            app_id: "app".into(),
            secret_hash: None,
            view: ClientView {
                client_id: "c1".into(),
                secret_hint: None,
                settings: ClientSettings {
                    uris: ClientUris {
                        redirect_uris: vec!["https://rp.example/cb".into()],
                        ..ClientUris::default()
                    },
                    auth_method: auth,
                    scopes: ["openid", "profile", "email", "groups", "offline_access"]
                        .map(String::from)
                        .to_vec(),
                    id_token_alg: "RS256".into(),
                    device_flow: false,
                    consent: false,
                },
                first_used_at: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::client::check_client_id;

    #[test]
    fn secrets_are_stored_hashed_and_compared() {
        let s = new_secret();
        assert!(s.starts_with(SECRET_PREFIX));
        assert_eq!(s.len(), SECRET_PREFIX.len() + 43);
        let stored = hash_secret(&s);
        assert!(stored.starts_with("sha256:"));
        assert!(!stored.contains(&s[SECRET_PREFIX.len()..]));
        assert!(secret_matches(&stored, &s));
        assert!(!secret_matches(&stored, &new_secret()));
        assert!(!secret_matches(&stored, ""));
        assert_ne!(new_secret(), s);
        assert_eq!(hint_of(&s).len(), SECRET_PREFIX.len() + 4);
    }

    #[test]
    fn client_ids_are_made_from_the_name() {
        let id = new_client_id("Grafana (Home) Dashboards!");
        assert!(id.starts_with("grafana-home-dashboards-"), "{id}");
        assert_eq!(id.len(), "grafana-home-dashboards-".len() + 6);
        check_client_id(&id).unwrap();
        assert!(new_client_id("Ω").starts_with("app-"));
        check_client_id(&new_client_id(&"x".repeat(100))).unwrap();
    }
}
