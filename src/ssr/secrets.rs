//! Encryption at rest for provider client secrets (XChaCha20-Poly1305, a random 192-bit
//! nonce per value, the provider slug as associated data so a ciphertext cannot be moved to
//! another row).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use std::path::Path;

const VERSION: &str = "v1";

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be 32 bytes, base64-encoded (try: openssl rand -base64 32)")]
    BadKey,
    #[error("reading or writing the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored secret could not be decrypted (was the secret key changed?)")]
    Decrypt,
}

impl SecretBox {
    /// From a base64-encoded 32-byte key (configuration).
    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        let bytes = B64.decode(key.trim()).map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        })
    }

    /// Reads the key file, creating it (owner-only permissions) with a fresh random key
    /// the first time.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let io = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                let text = B64.encode(key);
                write_private(path, &text).map_err(io)?;
                tracing::info!(path = %path.display(), "generated a new secret key");
                Self::from_base64(&text)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn encrypt(&self, plaintext: &str, context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory sizes");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("{VERSION}:{}", B64.encode(blob))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<String, SecretError> {
        let encoded = stored
            .strip_prefix(VERSION)
            .and_then(|s| s.strip_prefix(':'))
            .ok_or(SecretError::Decrypt)?;
        let blob = B64.decode(encoded).map_err(|_| SecretError::Decrypt)?;
        if blob.len() < 24 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Decrypt)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options.open(path)?.write_all(text.as_bytes())
}

/// A fresh random value of 256 bits, base64url: binding cookies, tokens.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a high-entropy random value (a binding cookie, a token): its SHA-256,
/// base64url. A fast hash is enough for 256 random bits (nothing to guess), and it is what
/// a lookup compares, so a reader of the database cannot present the value.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let a = SecretBox::load_or_create(&path).unwrap();
        let sealed = a.encrypt("client-secret-value", "keycloak");
        assert!(!sealed.contains("client-secret-value"));
        assert_ne!(
            sealed,
            a.encrypt("client-secret-value", "keycloak"),
            "fresh nonce"
        );
        let b = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(
            b.decrypt(&sealed, "keycloak").unwrap(),
            "client-secret-value"
        );
        assert!(b.decrypt(&sealed, "authentik").is_err(), "bound to its row");
        let other = SecretBox::load_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.decrypt(&sealed, "keycloak").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(SecretBox::from_base64("short").is_err());
        assert!(SecretBox::from_base64(&B64.encode([1u8; 16])).is_err());
        assert!(SecretBox::from_base64(&B64.encode([1u8; 32])).is_ok());
    }
}
