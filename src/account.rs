//! Rules for local accounts: what a username, email, display name and password may be.
//!
//! The browser runs these as the user types; the server runs them again before storing.

use crate::field::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

pub const USERNAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 8;
/// Hashing cost grows with length; nobody types more than this.
pub const PASSWORD_MAX: usize = 1024;

/// A new local account as typed into `/setup` or given to `portcullis user add`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
}

/// A [`NewAccount`] that passed [`NewAccount::validate`], trimmed and ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAccount {
    pub username: String,
    pub email: String,
    pub display_name: String,
    /// Empty for a passkey-only account ([`NewAccount::validate_passkey_only`]).
    pub password: String,
}

impl NewAccount {
    pub fn validate(&self) -> Result<ValidAccount, Vec<FieldError>> {
        self.checked(true)
    }

    /// An account without a password, which signs in with the passkeys it enrols (the
    /// `password` given is ignored).
    pub fn validate_passkey_only(&self) -> Result<ValidAccount, Vec<FieldError>> {
        self.checked(false).map(|a| ValidAccount {
            password: String::new(),
            ..a
        })
    }

    fn checked(&self, with_password: bool) -> Result<ValidAccount, Vec<FieldError>> {
        let username = self.username.trim();
        let email = self.email.trim();
        let display_name = self.display_name.trim();
        let mut errors = FieldErrors::default();
        errors.check(check_username("username", username));
        errors.check(check_email("email", email));
        errors.check(check_display_name("display_name", display_name));
        if with_password {
            errors.check(check_password("password", &self.password));
        }
        errors.finish()?;
        Ok(ValidAccount {
            username: username.to_owned(),
            email: email.to_owned(),
            display_name: if display_name.is_empty() {
                username.to_owned()
            } else {
                display_name.to_owned()
            },
            password: self.password.clone(),
        })
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Letters, digits, `.`, `_` and `-`, 1 to 64 characters, starting with a letter or digit.
pub fn check_username(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "Enter a username."));
    }
    if value.chars().count() > USERNAME_MAX {
        return Err(FieldError::new(
            field,
            format!("Use at most {USERNAME_MAX} characters for the username."),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(FieldError::new(
            field,
            "Use only letters a-z, digits, '.', '_' and '-' in the username.",
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(
            field,
            "Start the username with a letter or a digit.",
        ));
    }
    Ok(())
}

/// A plausible address: one `@`, something on each side, a dot in the domain, no spaces.
/// Deliverability is the mail server's business, not ours.
pub fn check_email(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "Enter an email address."));
    }
    if value.len() > EMAIL_MAX {
        return Err(FieldError::new(
            field,
            format!("Use at most {EMAIL_MAX} characters for the email address."),
        ));
    }
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "Enter an email address like name@example.com.",
        ))
    }
}

/// Optional (falls back to the username); at most 100 characters, no control characters.
pub fn check_display_name(field: &str, value: &str) -> Result<(), FieldError> {
    if value.chars().count() > DISPLAY_NAME_MAX {
        return Err(FieldError::new(
            field,
            format!("Use at most {DISPLAY_NAME_MAX} characters for the display name."),
        ));
    }
    if has_control(value) {
        return Err(FieldError::new(
            field,
            "Remove control characters (such as tabs or line breaks) from the display name.",
        ));
    }
    Ok(())
}

pub fn check_password(field: &str, value: &str) -> Result<(), FieldError> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(FieldError::new(
            field,
            format!("Use a password of at least {PASSWORD_MIN} characters."),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(FieldError::new(
            field,
            format!("Use a password of at most {PASSWORD_MAX} characters."),
        ));
    }
    Ok(())
}

/// What the login form needs before the server is asked: both fields filled, sane lengths.
pub fn check_login(identifier: &str, password: &str) -> Result<(), Vec<FieldError>> {
    let mut errors = FieldErrors::default();
    let identifier = identifier.trim();
    if identifier.is_empty() {
        errors.push("identifier", "Enter your username or email address.");
    } else if identifier.len() > EMAIL_MAX {
        errors.push(
            "identifier",
            format!("A username or email address has at most {EMAIL_MAX} characters."),
        );
    }
    if password.is_empty() {
        errors.push("password", "Enter your password.");
    } else if password.chars().count() > PASSWORD_MAX {
        errors.push(
            "password",
            format!("A password has at most {PASSWORD_MAX} characters."),
        );
    }
    errors.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> NewAccount {
        NewAccount {
            username: "alice".into(),
            email: "alice@example.com".into(),
            display_name: "Alice Liddell".into(),
            password: "correct horse".into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_account_is_trimmed_and_kept() {
        let mut a = account();
        a.username = "  alice ".into();
        a.display_name = String::new();
        let v = a.validate().unwrap();
        assert_eq!(v.username, "alice");
        assert_eq!(
            v.display_name, "alice",
            "display name falls back to username"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let a = NewAccount::default();
        let errors = a.validate().unwrap_err();
        assert_eq!(fields(&errors), ["username", "email", "password"]);
    }

    #[test]
    fn usernames() {
        for good in ["a", "alice", "bob.smith", "x_y-z", "007", &"a".repeat(64)] {
            assert!(check_username("u", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-lead",
            ".dot",
            "has space",
            "ünïcode",
            "semi;colon",
            "tab\t",
            "<script>",
            &"a".repeat(65),
        ] {
            assert!(check_username("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(check_email("e", good).is_ok(), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@com.",
            "a\n@b.com",
            &long,
        ] {
            assert!(check_email("e", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn display_names_allow_unicode_but_not_control_characters() {
        assert!(check_display_name("d", "Zoë Ångström 山田").is_ok());
        assert!(check_display_name("d", "line\nbreak").is_err());
        assert!(check_display_name("d", &"é".repeat(101)).is_err());
        assert!(check_display_name("d", &"é".repeat(100)).is_ok());
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(check_password("p", "1234567").is_err());
        assert!(check_password("p", "12345678").is_ok());
        assert!(check_password("p", &"x".repeat(1025)).is_err());
    }

    #[test]
    fn login_requires_both_fields() {
        assert_eq!(
            fields(&check_login(" ", "").unwrap_err()),
            ["identifier", "password"]
        );
        assert!(check_login("alice", "x").is_ok());
        assert!(check_login(&"a".repeat(300), "x").is_err());
    }
}
