//! Where an account's email came from, and whether Portcullis trusts it (pure; stored in
//! `users.email_source` / `users.email_provider` by `ssr::users`).
//!
//! A trusted email may join a first sign-in to the account (link by email) and is handed on
//! to applications as `Remote-Email`; an untrusted one does neither. Trust is decided when
//! the email is used, not when it is written: a provider whose "Link existing accounts by
//! verified email" is turned off stops vouching for the emails it set.

/// Who set an account's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailSource {
    /// Typed by an administrator: first-run setup, `portcullis user add`.
    Admin,
    /// Typed by the user at an account with a password.
    User,
    /// Followed from provider `slug`'s verified email: an account created by a first
    /// sign-in through it, or the email re-synced at a sign-in through it.
    Provider(String),
    /// Not known: recorded before sources were and not told apart by the migration, or set
    /// by a provider that has since been deleted.
    Unknown,
}

/// `users.email_source` values.
const ADMIN: &str = "admin";
const USER: &str = "user";
const PROVIDER: &str = "provider";

impl EmailSource {
    /// The two columns as stored: `email_source` and `email_provider` (`NULL` = unknown).
    pub fn columns(&self) -> (Option<&'static str>, Option<&str>) {
        match self {
            EmailSource::Admin => (Some(ADMIN), None),
            EmailSource::User => (Some(USER), None),
            EmailSource::Provider(slug) => (Some(PROVIDER), Some(slug)),
            EmailSource::Unknown => (None, None),
        }
    }

    /// Reads the two columns back; anything else (a provider without a slug, a value this
    /// version does not know) is [`EmailSource::Unknown`], so it is not trusted.
    pub fn from_columns(source: Option<&str>, provider: Option<&str>) -> EmailSource {
        match (source, provider) {
            (Some(ADMIN), _) => EmailSource::Admin,
            (Some(USER), _) => EmailSource::User,
            (Some(PROVIDER), Some(slug)) if !slug.is_empty() => {
                EmailSource::Provider(slug.to_owned())
            }
            _ => EmailSource::Unknown,
        }
    }
}

/// Whether an account's email is trusted now: set by an administrator, by the user at an
/// account with a password, or by a provider that has link-by-email on. `has_password`: the
/// account has one now; `provider_links_by_email`: the provider [`EmailSource::Provider`]
/// names exists now and has "Link existing accounts by verified email" on (that setting is
/// the administrator's word that the provider verifies addresses).
pub fn trusted(source: &EmailSource, has_password: bool, provider_links_by_email: bool) -> bool {
    match source {
        EmailSource::Admin => true,
        EmailSource::User => has_password,
        EmailSource::Provider(_) => provider_links_by_email,
        EmailSource::Unknown => false,
    }
}

#[cfg(test)]
mod tests {
    use super::EmailSource::*;
    use super::*;

    #[test]
    fn only_administrators_password_users_and_linking_providers_are_trusted() {
        let p = || Provider("a".to_owned());
        // (source, has_password, provider links by email) → trusted
        let cases = [
            ((Admin, false, false), true),
            ((Admin, true, false), true),
            ((User, true, false), true),
            // The user typed it at an account without a password: nobody vouches for it.
            ((User, false, true), false),
            ((p(), true, true), true),
            ((p(), false, true), true),
            // The provider does not link by email (or no longer, or is gone): a password
            // does not make its email trusted.
            ((p(), true, false), false),
            ((p(), false, false), false),
            ((Unknown, true, true), false),
            ((Unknown, false, false), false),
        ];
        for ((source, password, links), want) in cases {
            assert_eq!(
                trusted(&source, password, links),
                want,
                "{source:?} password={password} links={links}"
            );
        }
    }

    #[test]
    fn columns_round_trip_and_fail_closed() {
        for s in [Admin, User, Provider("idp".into()), Unknown] {
            let (source, provider) = s.columns();
            assert_eq!(EmailSource::from_columns(source, provider), s);
        }
        assert_eq!(EmailSource::from_columns(Some("provider"), None), Unknown);
        assert_eq!(
            EmailSource::from_columns(Some("provider"), Some("")),
            Unknown
        );
        assert_eq!(EmailSource::from_columns(Some("ADMIN"), None), Unknown);
        assert_eq!(EmailSource::from_columns(Some("someone"), None), Unknown);
        assert_eq!(EmailSource::from_columns(None, Some("idp")), Unknown);
    }
}
