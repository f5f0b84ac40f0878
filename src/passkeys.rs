//! Passkeys (WebAuthn): what the pages may know of an account's passkeys, and the rule for
//! their names. The ceremonies and storage are server-only (`ssr::passkeys`).

use crate::field::{FieldError, check_name};
use serde::{Deserialize, Serialize};

/// Passkeys one account may hold.
pub const PER_USER_MAX: i64 = 20;

/// One of an account's passkeys, as its Security section lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Refers to it in "Remove" forms.
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The authenticator may copy it to other devices (the backup-eligible flag), and has
    /// (backup state): a synced passkey, as password managers keep them.
    pub backed_up: bool,
}

/// A passkey's name as typed: trimmed, not empty, at most [`crate::field::NAME_MAX`]
/// characters, no control characters.
pub fn check_passkey_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    check_name(
        name,
        "Name the passkey after the device or password manager that keeps it, e.g. \"Laptop\".",
    )?;
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(check_passkey_name("  Laptop ").unwrap(), "Laptop");
        assert_eq!(check_passkey_name("   ").unwrap_err().field, "name");
        assert!(check_passkey_name("a\nb").is_err());
    }
}
