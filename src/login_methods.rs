//! Which ways of signing in are on, and the rule that at least one must stay usable.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMethods {
    /// Username (or email) and password.
    pub local: bool,
    /// OpenID Connect sign-in (the switch).
    pub oidc: bool,
    /// Providers that are enabled: OpenID Connect sign-in is usable only with one.
    pub enabled_providers: usize,
}

impl LoginMethods {
    pub fn oidc_usable(&self) -> bool {
        self.oidc && self.enabled_providers > 0
    }

    /// Whether password sign-in may be turned off (with `self.local` already off): another
    /// way in must remain, and an administrator must be able to sign in through an enabled
    /// provider (`admins_through_providers` of them can), or nobody could manage Portcullis
    /// from the web any more.
    pub fn check_local_off(&self, admins_through_providers: usize) -> Result<(), Lockout> {
        self.check()?;
        if admins_through_providers == 0 {
            return Err(Lockout::NoAdminThroughProvider);
        }
        Ok(())
    }

    /// `Err` when nobody could sign in any more.
    pub fn check(&self) -> Result<(), Lockout> {
        if self.local || self.oidc_usable() {
            return Ok(());
        }
        Err(if self.oidc {
            Lockout::NoEnabledProvider
        } else {
            Lockout::NothingOn
        })
    }
}

/// A change refused because it would leave nobody a way to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Lockout {
    #[error(
        "At least one login method must stay enabled: OpenID Connect has no enabled provider, so local sign-in must stay on."
    )]
    NoEnabledProvider,
    #[error(
        "At least one login method must stay enabled: turn on OpenID Connect sign-in (with an enabled provider) before turning off local sign-in."
    )]
    NothingOn,
    #[error(
        "Local sign-in must stay on until an administrator can sign in through an enabled provider: link an enabled provider to an administrator account (Profile → Linked Accounts) first."
    )]
    NoAdminThroughProvider,
}

/// How a browser arrived at the sign-in page, for the auto-redirect rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginVisit {
    /// The visitor is signed in already.
    pub signed_in: bool,
    /// A message waits for this page (a failed sign-in's error, "signed out of X too").
    pub message_waiting: bool,
    /// `?choose`: the person asked to see the buttons this once.
    pub choose: bool,
    /// `?next=`: sent here by a page or application that needs a sign-in.
    pub has_next: bool,
    /// `Sec-Fetch-Site: none` or absent: typed, a bookmark, another program.
    pub direct: bool,
}

/// Where `/login` sends this visit straight away, if anywhere: the auto-redirect provider
/// (`target`, already known to be enabled), unless the person asked to choose, is signed in,
/// has a message to read, or came from one of our own pages without a place to return to
/// (signing out lands there; going straight back to the provider would sign them in again).
pub fn auto_redirect(target: Option<&str>, visit: LoginVisit) -> Option<&str> {
    let target = target.filter(|t| !t.is_empty())?;
    if visit.choose || visit.signed_in || visit.message_waiting {
        return None;
    }
    (visit.has_next || visit.direct).then_some(target)
}

#[cfg(test)]
mod auto_redirect_tests {
    use super::*;

    const FRESH: LoginVisit = LoginVisit {
        signed_in: false,
        message_waiting: false,
        choose: false,
        has_next: false,
        direct: true,
    };

    #[test]
    fn a_fresh_visit_goes_to_the_chosen_provider() {
        assert_eq!(auto_redirect(Some("kc"), FRESH), Some("kc"));
        let bounced = LoginVisit {
            direct: false,
            has_next: true,
            ..FRESH
        };
        assert_eq!(auto_redirect(Some("kc"), bounced), Some("kc"));
    }

    #[test]
    fn off_or_bypassed_shows_the_page() {
        assert_eq!(auto_redirect(None, FRESH), None);
        assert_eq!(auto_redirect(Some(""), FRESH), None);
        for visit in [
            LoginVisit {
                choose: true,
                ..FRESH
            },
            LoginVisit {
                signed_in: true,
                ..FRESH
            },
            LoginVisit {
                message_waiting: true,
                ..FRESH
            },
            // Signed out from one of our pages: no `next`, not direct.
            LoginVisit {
                direct: false,
                ..FRESH
            },
        ] {
            assert_eq!(auto_redirect(Some("kc"), visit), None, "{visit:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LoginMethods;

    fn m(local: bool, oidc: bool, enabled_providers: usize) -> LoginMethods {
        LoginMethods {
            local,
            oidc,
            enabled_providers,
        }
    }

    #[test]
    fn one_method_must_remain() {
        assert!(m(true, false, 0).check().is_ok());
        assert!(m(false, true, 1).check().is_ok());
        assert!(m(true, true, 0).check().is_ok());
        let none = m(false, false, 3).check().unwrap_err().to_string();
        assert!(none.contains("At least one login method"), "{none}");
        let no_provider = m(false, true, 0).check().unwrap_err().to_string();
        assert!(no_provider.contains("no enabled provider"), "{no_provider}");
    }

    #[test]
    fn local_sign_in_goes_off_only_with_an_administrator_at_a_provider() {
        assert!(m(false, true, 1).check_local_off(1).is_ok());
        let no_admin = m(false, true, 1)
            .check_local_off(0)
            .unwrap_err()
            .to_string();
        assert!(
            no_admin.contains("an administrator can sign in through an enabled provider"),
            "{no_admin}"
        );
        // The other conditions are named first.
        let none = m(false, false, 1)
            .check_local_off(3)
            .unwrap_err()
            .to_string();
        assert!(none.contains("At least one login method"), "{none}");
    }
}
