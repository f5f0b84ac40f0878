//! Password hashing with Argon2id (the `argon2` crate's defaults: OWASP's recommended
//! parameters). Hashing is CPU-bound, so it runs on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;

/// Verified against when the user does not exist, so that an unknown username costs the
/// same time as a wrong password and the two cannot be told apart.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("portcullis-dummy-password").expect("hashing a constant"));

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .expect("password hashing task panicked")
}

/// Checks `password` against `stored` (or against a dummy when there is no stored hash).
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && real
    })
    .await
    .expect("password verification task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() {
        let h = hash("hunter22!".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("hunter22!".into(), Some(h.clone())).await);
        assert!(!verify("hunter23!".into(), Some(h)).await);
    }

    #[tokio::test]
    async fn no_user_never_verifies() {
        assert!(!verify("portcullis-dummy-password".into(), None).await);
    }
}
