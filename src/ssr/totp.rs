//! One-time codes (TOTP, RFC 6238) as a second factor for password accounts: enrolment,
//! the check at sign-in, recovery codes, removal.
//!
//! The secret is sealed with [`SecretBox`] (context `totp:<user id>`, so it cannot be moved
//! to another account); an enrolment counts once a code from the app confirmed it. A code is
//! accepted in its own 30-second step or the one before or after (clock skew), and only once:
//! the last accepted step is kept and one `UPDATE ... WHERE last_step < $n` decides, so two
//! requests (or replicas) racing with the same code cannot both pass. Recovery codes are
//! random (80 bits), stored as their SHA-256 (`secrets::token_hash`), compared in constant
//! time and deleted when used.

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::Db;
use super::secrets::{SecretBox, SecretError, token_hash};
use crate::audit::EventKind;
use crate::on_pool;
use crate::second_factor::{RECOVERY_ALPHABET, RECOVERY_CODE_LEN, RECOVERY_CODES, TotpStatus};
use rand::Rng;
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Totp};

/// What authenticator apps list the account under.
const ISSUER: &str = "Portcullis";

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("a stored one-time code secret is not usable")]
    Malformed,
}

/// How a second factor typed at sign-in fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// A current one-time code, not used before.
    Code,
    /// One of the account's unused recovery codes (now used up).
    Recovery,
    /// A correct code of a time step already used (or older): refused.
    Replayed,
    /// Wrong, or no one-time codes on this account.
    Wrong,
}

fn context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// The account's RFC 6238 generator: SHA-1, six digits, 30-second steps, one step of skew
/// (what every authenticator app does by default).
fn generator(secret: Vec<u8>, account: &str) -> Result<Totp, TotpError> {
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        // The label may not hold a colon (Key URI format); usernames do not, but be sure.
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|_| TotpError::Malformed)
}

#[derive(sqlx::FromRow)]
struct Row {
    secret_enc: String,
    confirmed_at: Option<i64>,
}

async fn row(db: &Db, user_id: &str) -> Result<Option<Row>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as::<_, Row>(
        "SELECT secret_enc, confirmed_at FROM user_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await)
}

fn open(secrets: &SecretBox, user_id: &str, row: &Row, account: &str) -> Result<Totp, TotpError> {
    let base32 = secrets.decrypt(&row.secret_enc, &context(user_id))?;
    let secret = totp_rs::Secret::try_from_base32(&base32).map_err(|_| TotpError::Malformed)?;
    generator(secret.as_bytes().to_vec(), account)
}

/// Starts (or starts again) setting one-time codes up for `user_id`: a fresh secret, not
/// counted until [`confirm`]ed. An account whose codes are on keeps them (remove them first).
pub async fn start(db: &Db, secrets: &SecretBox, user_id: &str) -> Result<(), TotpError> {
    let bytes: [u8; 20] = rand::random();
    let base32 = totp_rs::Secret::from(bytes.to_vec()).to_base32();
    let sealed = secrets.encrypt(&base32, &context(user_id));
    crate::exec!(
        db,
        "INSERT INTO user_totp (user_id, secret_enc, confirmed_at, last_step, created_at) \
         VALUES ($1, $2, NULL, 0, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, \
         created_at = excluded.created_at WHERE user_totp.confirmed_at IS NULL",
        user_id,
        sealed,
        now()
    )?;
    Ok(())
}

/// The account's one-time codes as its Security section shows them.
pub async fn status(
    db: &Db,
    secrets: &SecretBox,
    user_id: &str,
    account: &str,
) -> Result<TotpStatus, TotpError> {
    let Some(row) = row(db, user_id).await? else {
        return Ok(TotpStatus::Off);
    };
    if row.confirmed_at.is_some() {
        let left: i64 = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await)?;
        return Ok(TotpStatus::On {
            recovery_codes_left: left,
        });
    }
    let totp = open(secrets, user_id, &row, account)?;
    let uri = totp.to_url().map_err(|_| TotpError::Malformed)?;
    Ok(TotpStatus::Enrolling {
        secret: totp.secret().to_base32(),
        qr: qr_data_url(&uri)?,
    })
}

/// The `otpauth://` URI as a QR code: an SVG document (drawn here, no image crate) as a
/// `data:` URL, which the pages' `img-src data:` allows.
fn qr_data_url(uri: &str) -> Result<String, TotpError> {
    use base64::Engine;
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|_| TotpError::Malformed)?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    Ok(format!("data:image/svg+xml;base64,{encoded}"))
}

/// Confirms the enrolment with a code from the app: on a right code the codes are on, that
/// step counts as used, and the account's recovery codes (new ones) are returned, to be
/// shown once. `None`: wrong code (or nothing to confirm); nothing changes.
pub async fn confirm(
    db: &Db,
    secrets: &SecretBox,
    user_id: &str,
    account: &str,
    code: &str,
    by: &Actor,
) -> Result<Option<Vec<String>>, TotpError> {
    let Some(row) = row(db, user_id).await?.filter(|r| r.confirmed_at.is_none()) else {
        return Ok(None);
    };
    let totp = open(secrets, user_id, &row, account)?;
    let Some(step) = totp.check(code, now() as u64) else {
        return Ok(None);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let t = now();
    let done: bool = on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        let n = crate::exec_on!(
            &mut *tx,
            "UPDATE user_totp SET confirmed_at = $2, last_step = $3 \
             WHERE user_id = $1 AND confirmed_at IS NULL AND secret_enc = $4",
            user_id,
            t,
            step as i64,
            &row.secret_enc
        )?;
        if n != 1 {
            return Ok::<_, sqlx::Error>(false);
        }
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for code in &codes {
            sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(token_hash(code))
                .execute(&mut *tx)
                .await?;
        }
        crate::audit_write!(&mut *tx, &Entry::new(EventKind::SecondFactorEnabled, by).on_user(user_id))?;
        tx.commit().await?;
        Ok(true)
    }.await)?;
    Ok(done.then_some(codes))
}

/// Checks a second factor typed at sign-in (a one-time code or a recovery code, read by
/// [`crate::second_factor::read`]) for `user_id`, using it up when right.
pub async fn verify(
    db: &Db,
    secrets: &SecretBox,
    user_id: &str,
    input: &str,
) -> Result<Verified, TotpError> {
    use crate::second_factor::{Typed, read};
    let Some(row) = row(db, user_id).await?.filter(|r| r.confirmed_at.is_some()) else {
        return Ok(Verified::Wrong);
    };
    match read(input) {
        Typed::Code(code) => {
            let totp = open(secrets, user_id, &row, "")?;
            let Some(step) = totp.check(&code, now() as u64) else {
                return Ok(Verified::Wrong);
            };
            let n = crate::exec!(
                db,
                "UPDATE user_totp SET last_step = $2 \
                 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2",
                user_id,
                step as i64
            )?;
            Ok(if n == 1 {
                Verified::Code
            } else {
                Verified::Replayed
            })
        }
        Typed::Recovery(code) => {
            let typed = token_hash(&code);
            let stored: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT code_hash FROM user_recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(pool)
                .await)?;
            let mut found = None;
            for h in stored {
                if bool::from(h.as_bytes().ct_eq(typed.as_bytes())) {
                    found = Some(h);
                }
            }
            let Some(h) = found else {
                return Ok(Verified::Wrong);
            };
            // Single use: of two requests with the same code, one deletes it.
            let n = crate::exec!(
                db,
                "DELETE FROM user_recovery_codes WHERE user_id = $1 AND code_hash = $2",
                user_id,
                h
            )?;
            Ok(if n == 1 {
                Verified::Recovery
            } else {
                Verified::Replayed
            })
        }
        Typed::Invalid => Ok(Verified::Wrong),
    }
}

/// Whether `user_id` has one-time codes on (a password sign-in then asks for one).
pub async fn enabled(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    Ok(row(db, user_id)
        .await?
        .is_some_and(|r| r.confirmed_at.is_some()))
}

/// The accounts with one-time codes on (the users page, `portcullis user list`).
pub async fn enabled_users(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM user_totp WHERE confirmed_at IS NOT NULL")
        .fetch_all(pool)
        .await)
}

/// Removes `user_id`'s one-time codes and recovery codes (set up or not), by `by` (audited
/// when there were any). Returns whether there were any.
pub async fn remove(db: &Db, user_id: &str, by: &Actor) -> Result<bool, sqlx::Error> {
    let entry = Entry::new(EventKind::SecondFactorRemoved, by).on_user(user_id);
    on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        let mut n = 0;
        for sql in [
            "DELETE FROM user_recovery_codes WHERE user_id = $1",
            "DELETE FROM user_totp WHERE user_id = $1",
        ] {
            n += crate::exec_on!(&mut *tx, sql, user_id)?;
        }
        if n > 0 {
            crate::audit_write!(&mut *tx, &entry)?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }.await)
}

/// A fresh recovery code (no hyphens): [`RECOVERY_CODE_LEN`] characters of
/// [`RECOVERY_ALPHABET`], 80 bits from the OS's generator.
fn recovery_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODE_LEN)
        .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::second_factor::{Typed, read};

    #[test]
    fn recovery_codes_are_read_back_as_typed() {
        let code = recovery_code();
        assert_eq!(code.len(), RECOVERY_CODE_LEN);
        let shown = crate::second_factor::show_recovery(&code);
        assert_eq!(read(&shown.to_uppercase()), Typed::Recovery(code.clone()));
        assert_ne!(recovery_code(), code);
    }

    #[test]
    fn a_code_is_accepted_in_its_step_and_the_neighbours_only() {
        let totp = generator(vec![7u8; 20], "alice").unwrap();
        let t = 1_700_000_000u64;
        let code = totp.generate(t).to_string();
        assert_eq!(totp.check(&code, t), Some(t / 30));
        assert!(totp.check(&code, t + 30).is_some(), "one step of skew");
        assert_eq!(totp.check(&code, t + 90), None);
        assert!(
            totp.to_url()
                .unwrap()
                .starts_with("otpauth://totp/Portcullis:alice?")
        );
    }
}
