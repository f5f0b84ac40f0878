//! Identities at OpenID Connect providers linked to local accounts (what the browser sees),
//! the username rule for accounts created at first sign-in, and who a verified identity is
//! ([`decision`]).

pub mod decision;

use crate::account::USERNAME_MAX;
use serde::{Deserialize, Serialize};

/// One linked identity as shown under Linked Accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub provider_slug: String,
    pub provider_name: String,
    pub provider_logo: String,
    /// The identity's username or email at the provider, for recognising it.
    pub label: String,
    pub linked_at: i64,
}

/// A username for a new account from a provider's `preferred_username` (or email, or
/// name): the characters local usernames allow, starting with a letter or digit.
pub fn username_base(candidates: &[Option<&str>]) -> String {
    for c in candidates.iter().flatten() {
        let local = c.split('@').next().unwrap_or(c);
        let cleaned: String = local
            .chars()
            .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'))
            .collect();
        let trimmed = cleaned.trim_start_matches(['.', '_', '-']);
        if !trimmed.is_empty() {
            return trimmed.chars().take(USERNAME_MAX - 4).collect();
        }
    }
    "user".to_owned()
}

#[cfg(test)]
mod tests {
    use super::username_base;
    use crate::account::check_username;

    #[test]
    fn usernames_from_claims() {
        assert_eq!(username_base(&[Some("alice")]), "alice");
        assert_eq!(username_base(&[Some("Zoë Smith")]), "ZoSmith");
        assert_eq!(username_base(&[Some("__x")]), "x");
        assert_eq!(username_base(&[None, Some("bob@example.com")]), "bob");
        assert_eq!(username_base(&[Some("山田"), Some("")]), "user");
        for raw in ["a b", "-x-", "@@", &"y".repeat(200)] {
            assert!(
                check_username("u", &username_base(&[Some(raw)])).is_ok(),
                "{raw}"
            );
        }
    }
}
