//! A fresh sign-in at the provider. An application Portcullis signs people in to may ask for
//! one (`prompt=login`, `max_age`: OpenID Connect Core §3.1.2.1: the provider "MUST attempt
//! to actively re-authenticate"). When the person then signs in through an upstream
//! provider, the request is passed on to it, and its ID token's `auth_time` is checked: a
//! provider's silent single sign-on must never count as the sign-in the application asked
//! for (it may be the step-up before a sensitive action).

/// How far the provider's clock may be behind Portcullis's.
pub const SKEW: i64 = 60;

/// Whether a provider's time `at` (an `auth_time`) counts as at or after Portcullis's time
/// `t`, its clock's [`SKEW`] forgiven: the one comparison every judge of a provider's
/// sign-in time makes (the callback, the session, the authorization request).
pub fn at_or_after(at: i64, t: i64) -> bool {
    at >= t - SKEW
}

/// What the sign-in must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fresh {
    /// Made after `since` (`prompt=login`, or `max_age=0`).
    pub login: bool,
    /// Made at most this many seconds ago (over 0).
    pub max_age: Option<i64>,
    /// When the application's request was made (Unix seconds).
    pub since: i64,
}

impl Fresh {
    /// Whether a sign-in whose ID token says `auth_time` is one, at `now`; why not
    /// otherwise, in words for the person. A provider asked for `max_age` must say when the
    /// person signed in (Core §2: `auth_time` is then required). One asked for
    /// `prompt=login` that sends no `auth_time` is taken at its word: Core lets it only
    /// re-authenticate or answer an error, and the claim is optional then.
    pub fn met_by(&self, auth_time: Option<i64>, now: i64) -> Result<(), &'static str> {
        let Some(at) = auth_time else {
            return match self.max_age {
                Some(_) => Err(
                    "The application asked for a recent sign-in, and the provider did not say when you signed in.",
                ),
                None => Ok(()),
            };
        };
        if self.login && !at_or_after(at, self.since) {
            return Err(
                "The application asked you to sign in again, and the provider let you in on an earlier sign-in.",
            );
        }
        if self.max_age.is_some_and(|m| !at_or_after(at, now - m)) {
            return Err(
                "The application asked for a recent sign-in, and your sign-in at the provider is older than it allows.",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Fresh;

    #[test]
    fn a_fresh_sign_in_is_one_the_provider_made_since_or_within_max_age() {
        let login = Fresh {
            login: true,
            max_age: None,
            since: 1_000,
        };
        assert!(login.met_by(Some(1_000), 1_010).is_ok());
        assert!(login.met_by(Some(950), 1_010).is_ok(), "within the skew");
        assert!(
            login.met_by(Some(900), 1_010).is_err(),
            "an earlier sign-in"
        );
        assert!(login.met_by(None, 1_010).is_ok(), "taken at its word");
        let aged = Fresh {
            login: false,
            max_age: Some(300),
            since: 1_000,
        };
        assert!(aged.met_by(Some(800), 1_010).is_ok());
        assert!(aged.met_by(Some(600), 1_010).is_err(), "older than max_age");
        assert!(aged.met_by(None, 1_010).is_err(), "auth_time is required");
        let both = Fresh {
            login: true,
            max_age: Some(300),
            since: 1_000,
        };
        assert!(both.met_by(Some(800), 1_010).is_err(), "before the request");
    }
}
