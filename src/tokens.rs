//! Personal access tokens: a script's or an app's way through forward authentication,
//! as the person who made the token, to the applications the token names (and that allow
//! tokens), until it expires or is revoked. The rules the profile page, the CLI and the
//! server share; storage and the check are in `ssr::tokens`.

use crate::field::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

/// Every token starts so: scanners (and people) can tell a Portcullis token, and the check
/// tells it from an application's own `Authorization` header, which it leaves alone.
pub const PREFIX: &str = "pc_pat_";
pub const NAME_MAX: usize = 80;
/// Tokens a person may hold at once.
pub const PER_USER_MAX: i64 = 50;
/// The expiries offered, in days (`0`: never).
pub const EXPIRY_DAYS: [u32; 5] = [7, 30, 90, 365, 0];

/// What the profile page's form and `portcullis token create` post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenDraft {
    pub name: String,
    /// One of [`EXPIRY_DAYS`], as text.
    pub expires_in_days: String,
    /// Application ids, one per line (the form's checkboxes, joined).
    pub apps: Vec<String>,
}

/// A draft that passed [`TokenDraft::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidToken {
    pub name: String,
    /// `None`: never expires.
    pub expires_in_days: Option<u32>,
    pub apps: Vec<String>,
}

impl TokenDraft {
    pub fn validate(&self) -> Result<ValidToken, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(
                "name",
                "Name the token after what uses it, e.g. \"backup script\".",
            );
        } else if name.chars().count() > NAME_MAX {
            errors.push("name", format!("Use at most {NAME_MAX} characters."));
        }
        let days = match self.expires_in_days.trim() {
            "" => Some(90),
            d => d.parse::<u32>().ok().filter(|d| EXPIRY_DAYS.contains(d)),
        };
        if days.is_none() {
            errors.push(
                "expires_in_days",
                "Choose when it expires: after 7, 30, 90 or 365 days, or never (0).",
            );
        }
        let mut apps: Vec<String> = self
            .apps
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        apps.sort();
        apps.dedup();
        if apps.is_empty() {
            errors.push(
                "apps",
                "Choose at least one application the token may open (only applications that allow tokens are offered).",
            );
        }
        errors.finish()?;
        Ok(ValidToken {
            name: name.to_owned(),
            expires_in_days: days.filter(|d| *d != 0),
            apps,
        })
    }
}

/// A token as its owner (and administrators) see it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// The token's last four characters, to tell tokens apart.
    pub hint: String,
    /// The applications' names (ids of deleted ones are left out).
    pub apps: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Written at most every five minutes.
    pub last_used_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, days: &str, apps: &[&str]) -> TokenDraft {
        TokenDraft {
            name: name.into(),
            expires_in_days: days.into(),
            apps: apps.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn a_good_draft() {
        let t = draft(" backup ", "30", &["b", "a", "a", " "])
            .validate()
            .unwrap();
        assert_eq!(t.name, "backup");
        assert_eq!(t.expires_in_days, Some(30));
        assert_eq!(t.apps, vec!["a", "b"]);
        assert_eq!(
            draft("x", "0", &["a"]).validate().unwrap().expires_in_days,
            None
        );
        assert_eq!(
            draft("x", "", &["a"]).validate().unwrap().expires_in_days,
            Some(90)
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = draft("", "12", &[]).validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "expires_in_days", "apps"]);
        let long = "x".repeat(NAME_MAX + 1);
        assert!(draft(&long, "7", &["a"]).validate().is_err());
    }
}
