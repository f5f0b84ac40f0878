//! Passkeys (WebAuthn Level 2, by `webauthn-rs`): registering one for a signed-in account,
//! signing in with one (discoverable credentials: no username asked first), listing and
//! removing them.
//!
//! A ceremony has two halves (options to the browser, its answer back). Between them its
//! state waits in `passkey_challenges`, so any replica can finish what another started: bound
//! to the browser that started it (the SHA-256 of its binding cookie), for
//! [`CHALLENGE_SECS`], and taken by one `DELETE ... RETURNING` (single use, also when two
//! requests race). The relying party id is `--public-url`'s host and the origin is the public
//! URL itself; user verification is required (`webauthn-rs`'s passkey profile: what makes a
//! passkey count as two factors). A sign-in must raise the stored signature counter (or
//! both stay 0, for authenticators without one): `webauthn-rs` refuses a counter that went
//! backwards (a cloned authenticator) and one guarded `UPDATE` decides between two sign-ins
//! racing with the same answer. Every refusal of a sign-in reads the same, so the flow
//! tells no one which accounts or passkeys exist.

use super::clock::now;
use super::db::Db;
use super::secrets::token_hash;
use crate::audit::EventKind;
use crate::on_pool;
use crate::passkeys::{PER_USER_MAX, PasskeyView};
use crate::ssr::audit::{Actor, Entry};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::*;
/// The browser's answers, as the routes read them.
pub use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

/// How long a ceremony waits for the browser's answer.
pub const CHALLENGE_SECS: i64 = 5 * 60;
/// Ceremonies one browser may have waiting; a new one replaces the oldest.
const PER_BROWSER: i64 = 5;
/// Ceremonies waiting in all: past this, starts are refused until some expire (a flood of
/// browsers without cookies fills no more).
const MAX_WAITING: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No such ceremony waiting in this browser: never started here, used, or expired.
    #[error("no passkey ceremony is waiting in this browser (it waits five minutes)")]
    Challenge,
    /// The answer did not pass (unknown passkey, wrong signature, origin, user
    /// verification, a counter that went backwards, ...): `why` is for the log only.
    #[error("the passkey was not accepted: {why}")]
    Refused { why: String },
    #[error("this passkey is registered already")]
    Duplicate,
    #[error("an account holds at most {PER_USER_MAX} passkeys")]
    TooMany,
    #[error("a stored passkey ceremony or passkey is not usable")]
    Malformed,
    #[error("too many passkey ceremonies are waiting")]
    Busy,
    /// The enrolment link is unknown, expired or used.
    #[error("the enrolment link is unknown, expired or used")]
    Link,
}

fn refused(why: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Refused {
        why: why.to_string(),
    }
}

/// The relying party: this installation as browsers' authenticators know it.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl Passkeys {
    /// From the public URL: its host is the relying party id, the URL the one origin.
    /// `None` when its host is an IP address (browsers take only a domain name as a relying
    /// party id: passkeys are then unavailable).
    pub fn new(public_url: &str) -> Option<Passkeys> {
        let origin = Url::parse(public_url).ok()?;
        let rp_id = origin.domain()?.to_owned();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .ok()?
            .rp_name("Portcullis")
            .timeout(std::time::Duration::from_secs(CHALLENGE_SECS as u64))
            .build()
            .ok()?;
        Some(Passkeys { webauthn })
    }
}

/// Who signed in with a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySignIn {
    pub user_id: String,
    /// The passkey may be copied to other devices (synced): a software-kept key rather
    /// than one bound to hardware (`amr` `swk` rather than `hwk`).
    pub synced: bool,
}

fn credential_id(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The account's WebAuthn user handle: its id (a UUID), as the authenticator keeps it.
fn user_handle(user_id: &str) -> Result<Uuid, PasskeyError> {
    Uuid::parse_str(user_id).map_err(|_| PasskeyError::Malformed)
}

#[derive(Clone, Copy)]
enum Purpose {
    Register,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
        }
    }
}

/// Keeps a ceremony's state for this browser; gives its id.
async fn keep(
    db: &Db,
    binding: &str,
    purpose: Purpose,
    user_id: Option<&str>,
    state: &impl serde::Serialize,
) -> Result<String, PasskeyError> {
    let state = serde_json::to_string(state).map_err(|_| PasskeyError::Malformed)?;
    let id = super::secrets::random_token();
    let hash = token_hash(binding);
    let t = now();
    crate::exec!(
        db,
        "DELETE FROM passkey_challenges WHERE expires_at < $1",
        t
    )?;
    let waiting: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM passkey_challenges")
        .fetch_one(pool)
        .await)?;
    if waiting >= MAX_WAITING {
        return Err(PasskeyError::Busy);
    }
    crate::exec!(
        db,
        "DELETE FROM passkey_challenges WHERE binding_hash = $1 AND id NOT IN \
         (SELECT id FROM passkey_challenges WHERE binding_hash = $1 \
          ORDER BY expires_at DESC LIMIT $2)",
        &hash,
        PER_BROWSER - 1
    )?;
    crate::exec!(
        db,
        "INSERT INTO passkey_challenges (id, binding_hash, purpose, user_id, state, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &id,
        &hash,
        purpose.as_str(),
        user_id,
        state,
        t + CHALLENGE_SECS
    )?;
    Ok(id)
}

/// Forgets every ceremony this browser (its binding cookie) has waiting: at sign-out.
pub async fn forget_browser(db: &Db, binding: &str) -> Result<u64, sqlx::Error> {
    crate::exec!(
        db,
        "DELETE FROM passkey_challenges WHERE binding_hash = $1",
        token_hash(binding)
    )
}

/// Takes (uses up) the ceremony `id` if this browser started it for `purpose` (and, to
/// register, for `user_id`) and it has not expired.
async fn take<S: serde::de::DeserializeOwned>(
    db: &Db,
    id: &str,
    binding: Option<&str>,
    purpose: Purpose,
    user_id: Option<&str>,
) -> Result<S, PasskeyError> {
    let Some(binding) = binding else {
        return Err(PasskeyError::Challenge);
    };
    let row: Option<(Option<String>, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "DELETE FROM passkey_challenges WHERE id = $1 AND binding_hash = $2 AND purpose = $3 \
         RETURNING user_id, state, expires_at")
        .bind(id)
        .bind(token_hash(binding))
        .bind(purpose.as_str())
        .fetch_optional(pool)
        .await)?;
    match row {
        Some((owner, state, expires_at)) if expires_at >= now() && owner.as_deref() == user_id => {
            serde_json::from_str(&state).map_err(|_| PasskeyError::Malformed)
        }
        _ => Err(PasskeyError::Challenge),
    }
}

async fn stored(db: &Db, user_id: &str) -> Result<Vec<Passkey>, PasskeyError> {
    let rows: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT passkey FROM user_passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    rows.iter()
        .map(|p| serde_json::from_str(p).map_err(|_| PasskeyError::Malformed))
        .collect()
}

/// Starts registering a passkey for the signed-in account: the options for
/// `navigator.credentials.create` and the ceremony's id. The account's passkeys are excluded
/// (an authenticator holding one says so instead of making a second), and the passkey is
/// asked to be discoverable, so it can sign in without a username.
pub async fn start_registration(
    rp: &Passkeys,
    db: &Db,
    binding: &str,
    user_id: &str,
    username: &str,
    display_name: &str,
) -> Result<(String, serde_json::Value), PasskeyError> {
    let existing = stored(db, user_id).await?;
    if existing.len() as i64 >= PER_USER_MAX {
        return Err(PasskeyError::TooMany);
    }
    let exclude: Vec<CredentialID> = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (ccr, state) = rp
        .webauthn
        .start_passkey_registration(
            user_handle(user_id)?,
            username,
            display_name,
            Some(exclude).filter(|e| !e.is_empty()),
        )
        .map_err(refused)?;
    // Discoverable ("resident"): sign-in asks the authenticator which passkeys it holds for
    // this site, so it must keep the account with the key. webauthn-rs's passkey profile
    // asks for none (its state does not check it), so the options the browser gets do (the
    // type is not exported: set in the JSON the browser reads).
    let mut options = serde_json::to_value(&ccr).map_err(|_| PasskeyError::Malformed)?;
    let selection = &mut options["publicKey"]["authenticatorSelection"];
    selection["residentKey"] = "required".into();
    selection["requireResidentKey"] = true.into();
    let id = keep(db, binding, Purpose::Register, Some(user_id), &state).await?;
    Ok((id, options))
}

/// A browser's answer to a registration: the browser (its binding cookie), the ceremony it
/// finishes, the name it gives the passkey (checked already) and the authenticator's
/// credential.
pub struct Answer<'a> {
    pub binding: Option<&'a str>,
    pub challenge: &'a str,
    pub name: String,
    pub credential: &'a RegisterPublicKeyCredential,
}

impl Answer<'_> {
    /// The registration's state, taken (used up) when this browser started it for `user_id`.
    async fn ceremony(&self, db: &Db, user_id: &str) -> Result<PasskeyRegistration, PasskeyError> {
        take(
            db,
            self.challenge,
            self.binding,
            Purpose::Register,
            Some(user_id),
        )
        .await
    }
}

/// Finishes a registration this browser started for `user_id`: the passkey is stored under
/// its name.
pub async fn finish_registration(
    rp: &Passkeys,
    db: &Db,
    user_id: &str,
    answer: Answer<'_>,
    by: &Actor,
) -> Result<PasskeyView, PasskeyError> {
    let state = answer.ceremony(db, user_id).await?;
    let passkey = verified(rp, &state, &answer)?;
    store(db, user_id, passkey, &answer.name, by).await
}

/// A passkey event about `user_id`'s passkey `id` (`name`).
fn passkey_event(kind: EventKind, by: &Actor, user_id: &str, id: &str, name: &str) -> Entry {
    Entry {
        user_id: Some(user_id.to_owned()),
        ..Entry::new(kind, by).target("passkey", id, name)
    }
}

/// How long an enrolment link works.
pub const ENROLMENT_SECS: i64 = 24 * 60 * 60;
/// The page an enrolment link opens (`?token=`).
pub const ENROLMENT_PATH: &str = "/passkey-enrolment";

/// A one-time enrolment link's token for `user_id`, valid [`ENROLMENT_SECS`]; an earlier
/// link of the account stops working. Only its hash is stored.
pub async fn new_enrolment(db: &Db, user_id: &str, by: &Actor) -> Result<String, sqlx::Error> {
    let token = super::secrets::random_token();
    crate::exec!(
        db,
        "DELETE FROM passkey_enrolments WHERE user_id = $1",
        user_id
    )?;
    crate::exec_audited!(
        db,
        &Entry::new(EventKind::PasskeyLinkMade, by).on_user(user_id),
        "INSERT INTO passkey_enrolments (user_id, token_hash, expires_at) VALUES ($1, $2, $3)",
        user_id,
        token_hash(&token),
        now() + ENROLMENT_SECS
    )?;
    Ok(token)
}

/// The account an enrolment token is for, while it works (unused, not expired).
pub async fn enrolment_user(db: &Db, token: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM passkey_enrolments WHERE token_hash = $1 AND expires_at >= $2")
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(pool)
        .await)
}

/// Finishes a registration started through an enrolment link (`token`): once the answer is
/// checked (a refused one leaves the link working, for another try), the link is used up
/// (one `DELETE ... RETURNING`: of two answers racing, one passes), then the passkey is
/// stored for its account, whose id is returned with the passkey.
pub async fn finish_enrolment(
    rp: &Passkeys,
    db: &Db,
    token: &str,
    answer: Answer<'_>,
    client: Option<std::net::IpAddr>,
) -> Result<(String, PasskeyView), PasskeyError> {
    let user_id = enrolment_user(db, token).await?.ok_or(PasskeyError::Link)?;
    let state = answer.ceremony(db, &user_id).await?;
    let passkey = verified(rp, &state, &answer)?;
    let used: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "DELETE FROM passkey_enrolments WHERE token_hash = $1 AND expires_at >= $2 \
         RETURNING user_id")
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    if used.as_deref() != Some(user_id.as_str()) {
        return Err(PasskeyError::Link);
    }
    let by = Actor::user_id_at(&user_id, client);
    let view = store(db, &user_id, passkey, &answer.name, &by).await?;
    Ok((user_id, view))
}

/// A registration's answer checked against its state: the passkey it makes.
fn verified(
    rp: &Passkeys,
    state: &PasskeyRegistration,
    answer: &Answer<'_>,
) -> Result<Passkey, PasskeyError> {
    rp.webauthn
        .finish_passkey_registration(answer.credential, state)
        .map_err(refused)
}

/// Stores `passkey` for `user_id` under `name`.
async fn store(
    db: &Db,
    user_id: &str,
    passkey: Passkey,
    name: &str,
    by: &Actor,
) -> Result<PasskeyView, PasskeyError> {
    let json = serde_json::to_string(&passkey).map_err(|_| PasskeyError::Malformed)?;
    let cred = Credential::from(passkey);
    let view = PasskeyView {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        created_at: now(),
        last_used_at: None,
        backed_up: cred.backup_state,
    };
    // The cap in the same statement as the insert: two registrations racing cannot pass it.
    let entry = passkey_event(EventKind::PasskeyAdded, by, user_id, &view.id, name);
    let inserted = crate::exec_audited!(
        db,
        &entry,
        "INSERT INTO user_passkeys (id, user_id, credential_id, name, passkey, sign_count, \
         backup_eligible, backup_state, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
         WHERE (SELECT COUNT(*) FROM user_passkeys WHERE user_id = $2) < $10",
        &view.id,
        user_id,
        credential_id(&cred.cred_id),
        name,
        json,
        i64::from(cred.counter),
        cred.backup_eligible,
        cred.backup_state,
        view.created_at,
        PER_USER_MAX
    );
    match inserted {
        Ok(1) => Ok(view),
        Ok(_) => Err(PasskeyError::TooMany),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(PasskeyError::Duplicate),
        Err(e) => Err(e.into()),
    }
}

/// Starts a sign-in with a discoverable passkey: the options for `navigator.credentials.get`
/// (no account named: the authenticator offers what it holds) and the ceremony's id.
pub async fn start_sign_in(
    rp: &Passkeys,
    db: &Db,
    binding: &str,
) -> Result<(String, RequestChallengeResponse), PasskeyError> {
    let (rcr, state) = rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(refused)?;
    let id = keep(db, binding, Purpose::SignIn, None, &state).await?;
    Ok((id, rcr))
}

#[derive(sqlx::FromRow)]
struct StoredKey {
    id: String,
    user_id: String,
    passkey: String,
    backup_eligible: bool,
}

/// Finishes a sign-in this browser started: whose passkey answered, once its signature,
/// origin, user verification, counter and backup flags pass.
pub async fn finish_sign_in(
    rp: &Passkeys,
    db: &Db,
    binding: Option<&str>,
    challenge: &str,
    answer: &PublicKeyCredential,
) -> Result<PasskeySignIn, PasskeyError> {
    let state: DiscoverableAuthentication =
        take(db, challenge, binding, Purpose::SignIn, None).await?;
    let (handle, cred_id) = rp
        .webauthn
        .identify_discoverable_authentication(answer)
        .map_err(refused)?;
    let row: Option<StoredKey> = on_pool!(db, pool => sqlx::query_as::<_, StoredKey>(
        "SELECT id, user_id, passkey, backup_eligible FROM user_passkeys \
         WHERE credential_id = $1")
        .bind(credential_id(cred_id))
        .fetch_optional(pool)
        .await)?;
    let Some(row) = row else {
        return Err(refused(
            "no such passkey here (removed, or never registered)",
        ));
    };
    if row.user_id != handle.to_string() {
        return Err(refused("the user handle is not the passkey's account"));
    }
    let mut passkey: Passkey =
        serde_json::from_str(&row.passkey).map_err(|_| PasskeyError::Malformed)?;
    let result = rp
        .webauthn
        .finish_discoverable_authentication_v2(answer, state, &passkey)
        .map_err(refused)?;
    // The backup-eligible flag is fixed when the passkey is made (WebAuthn §6.1.3).
    if result.backup_eligible() != row.backup_eligible {
        return Err(refused("the backup-eligible flag changed"));
    }
    passkey.update_credential(&result);
    let json = serde_json::to_string(&passkey).map_err(|_| PasskeyError::Malformed)?;
    let counter = i64::from(result.counter());
    // The counter must have gone up (or both be 0): of two sign-ins with one answer, or a
    // clone's racing an original's, one passes.
    let n = crate::exec!(
        db,
        "UPDATE user_passkeys SET passkey = $2, sign_count = $3, backup_state = $4, \
         last_used_at = $5 \
         WHERE id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))",
        &row.id,
        json,
        counter,
        result.backup_state(),
        now()
    )?;
    if n != 1 {
        return Err(refused("the signature counter did not go up"));
    }
    Ok(PasskeySignIn {
        user_id: row.user_id,
        synced: result.backup_eligible(),
    })
}

/// The account's passkeys, oldest first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<PasskeyView>, sqlx::Error> {
    let rows: Vec<(String, String, i64, Option<i64>, bool)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, backup_state FROM user_passkeys \
         WHERE user_id = $1 ORDER BY created_at, id")
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, created_at, last_used_at, backed_up)| PasskeyView {
                id,
                name,
                created_at,
                last_used_at,
                backed_up,
            },
        )
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("You have no such passkey (removed already?).")]
    NotFound,
    #[error(
        "This is the only way to sign in to this account (it has no password, no linked account and no other passkey), so it cannot be removed. Add another passkey first."
    )]
    LastWay,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Removes the account's passkey `id`, unless it is the account's last way in (no password,
/// no linked identity, no other passkey): one guarded statement, with the account's row
/// locked as `identities::unlink` does, so two removals racing cannot both pass. Gives its
/// name.
pub async fn remove(db: &Db, user_id: &str, id: &str, by: &Actor) -> Result<String, RemoveError> {
    const GUARDED_DELETE: &str = "DELETE FROM user_passkeys WHERE id = $1 AND user_id = $2 \
         AND (EXISTS (SELECT 1 FROM users WHERE id = $2 AND password_hash IS NOT NULL) \
              OR EXISTS (SELECT 1 FROM linked_identities WHERE user_id = $2) \
              OR (SELECT COUNT(*) FROM user_passkeys WHERE user_id = $2) > 1) \
         RETURNING name";
    let removed: Option<String> = crate::users_locked_tx!(db, tx, "id = $1", user_id => {
        let name: Option<String> = sqlx::query_scalar(GUARDED_DELETE)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(name) = &name {
            let entry = passkey_event(EventKind::PasskeyRemoved, by, user_id, id, name);
            crate::audit_write!(&mut *tx, &entry)?;
        }
        name
    })?;
    if let Some(name) = removed {
        return Ok(name);
    }
    let held = crate::exists!(
        db,
        "SELECT COUNT(*) FROM user_passkeys WHERE id = $1 AND user_id = $2",
        id,
        user_id
    )?;
    Err(if held {
        RemoveError::LastWay
    } else {
        RemoveError::NotFound
    })
}

/// The accounts holding a passkey (the users page).
pub async fn users_with_passkeys(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT user_id FROM user_passkeys")
        .fetch_all(pool)
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_host() {
        assert!(Passkeys::new("https://login.example.com").is_some());
        assert!(Passkeys::new("http://localhost:3000").is_some());
        assert!(
            Passkeys::new("http://127.0.0.1:3000").is_none(),
            "browsers take no IP address as a relying party id"
        );
    }
}
