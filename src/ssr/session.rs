//! What a browser's session knows, and the only code that reads or writes it.
//!
//! The session is one [`SessionData`] value kept under one key of a `tower-sessions`
//! session; everything else (server functions, the sign-in routes, the JSON API) goes through
//! [`AuthSession`]. The rows live in our own table ([`store::DbSessionStore`]), which copies
//! the user and provider identity out of the value so that sessions can be found and ended
//! by user, identity or provider session id.

pub mod browser;
pub mod manage;
pub mod store;

use super::clock::now;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The one key our value is stored under.
const KEY: &str = "portcullis";

/// How the session was signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignedInVia {
    Password {
        /// A one-time code (or a recovery code) followed the password.
        #[serde(default)]
        otp: bool,
    },
    /// With a passkey (user verified by the authenticator: two factors in one).
    Passkey {
        /// The passkey may be copied between devices (backup eligible): kept in software
        /// rather than bound to one device's hardware.
        synced: bool,
    },
    Provider {
        slug: String,
        issuer: String,
        subject: String,
        #[serde(flatten)]
        at_provider: ProviderSession,
        /// The sign-in counts as two factors (the provider's `second_factor` setting, and
        /// its ID token's `amr`).
        #[serde(default)]
        two_factors: bool,
        /// When the person signed in at the provider (its ID token's `auth_time`), if it
        /// says: its single sign-on may let them in on a sign-in made long before this one.
        #[serde(default)]
        auth_time: Option<i64>,
    },
}

/// The provider's session, as sign-out needs it: its `sid` claim (back-channel logout) and
/// the raw ID token, kept server-side for `id_token_hint` (sign-out at the provider).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSession {
    pub sid: Option<String>,
    pub id_token: Option<String>,
}

/// Everything a session holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionData {
    pub user_id: Option<String>,
    pub via: Option<SignedInVia>,
    /// When the user signed in (Unix seconds): the absolute lifetime counts from here.
    pub signed_in_at: i64,
    /// The browser, from its User-Agent at sign-in (for the sessions list).
    pub user_agent: Option<String>,
    /// An error for the next page to show once (the UI's error type, as JSON).
    pub flash: Option<serde_json::Value>,
    /// A success message for the next page to show once.
    pub notice: Option<String>,
    /// The token "Link Account" forms carry (see [`AuthSession::link_token`]).
    pub link_token: Option<String>,
    /// A right password for an account with one-time codes, waiting for the code: not
    /// signed in (`user_id` stays empty) until [`AuthSession::sign_in`].
    pub second_factor: Option<PendingSecondFactor>,
    /// A secret just made for the user, for the next page that shows it, once.
    pub shown_once: Option<ShownOnce>,
    /// This session's id as applications signed in through Portcullis see it (the `sid`
    /// claim; copied to `sessions.op_sid`): random, neither the cookie nor the row's id.
    /// Made at the first authorization ([`AuthSession::op_sid`]), kept while the same user
    /// signs in again in this browser.
    pub sid: Option<String>,
    /// When this session gave a second factor after it signed in with one (the step-up at
    /// `/second-factor`), Unix seconds.
    pub stepped_up_at: Option<i64>,
}

impl SessionData {
    /// Whether this session has shown two factors: a passkey (the authenticator verified the
    /// person), a password and a one-time code, a provider's sign-in that counts as two, or
    /// a step-up since.
    pub fn two_factors(&self) -> bool {
        self.stepped_up_at.is_some()
            || match &self.via {
                Some(SignedInVia::Passkey { .. }) => true,
                Some(SignedInVia::Password { otp }) => *otp,
                Some(SignedInVia::Provider { two_factors, .. }) => *two_factors,
                None => false,
            }
    }

    /// When the person last signed in for real, as far as Portcullis knows: when this
    /// session signed in; through a provider, when they signed in there (its ID token's
    /// `auth_time`, up to a minute of clock skew forgiven, never later than this session),
    /// or `None` when the provider did not say, so that no `prompt=login` or `max_age` of an
    /// application counts its single sign-on as a new sign-in.
    pub fn authenticated_at(&self) -> Option<i64> {
        match &self.via {
            Some(SignedInVia::Provider { auth_time, .. }) => auth_time.map(|at| {
                if crate::ssr::oidc::fresh::at_or_after(at, self.signed_in_at) {
                    self.signed_in_at
                } else {
                    at.max(0)
                }
            }),
            _ => Some(self.signed_in_at),
        }
    }

    /// The `auth_time` applications are told: [`Self::authenticated_at`], or this session's
    /// sign-in when the provider did not say (the best Portcullis knows).
    pub fn auth_time(&self) -> i64 {
        self.authenticated_at().unwrap_or(self.signed_in_at)
    }
}

/// A secret made for the user that a page shows once and then never again: it waits here
/// (server-side, in this browser's session) only until that page is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShownOnce {
    /// For Profile → Security.
    RecoveryCodes(Vec<String>),
    /// A new personal access token, for Profile → Tokens: its name and the token.
    Token { name: String, token: String },
    /// A passkey enrolment link an administrator made, for Settings → Users: the account's
    /// username and the link.
    PasskeyLink { username: String, link: String },
}

impl ShownOnce {
    /// Recovery codes, for [`AuthSession::take_shown_once`].
    pub fn recovery_codes(&self) -> Option<Vec<String>> {
        match self {
            ShownOnce::RecoveryCodes(codes) => Some(codes.clone()),
            _ => None,
        }
    }

    /// A passkey enrolment link as (username, link), for [`AuthSession::take_shown_once`].
    pub fn passkey_link(&self) -> Option<(String, String)> {
        match self {
            ShownOnce::PasskeyLink { username, link } => Some((username.clone(), link.clone())),
            _ => None,
        }
    }

    /// A new token as (name, token), for [`AuthSession::take_shown_once`].
    pub fn token(&self) -> Option<(String, String)> {
        match self {
            ShownOnce::Token { name, token } => Some((name.clone(), token.clone())),
            _ => None,
        }
    }
}

/// How long a right password waits for its one-time code.
pub const SECOND_FACTOR_SECS: i64 = 5 * 60;

/// A sign-in half done: the password was right, the one-time code is still to come. It lives
/// in this browser's session only (bound to its cookie), for [`SECOND_FACTOR_SECS`], and is
/// used up by the sign-in it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSecondFactor {
    pub user_id: String,
    /// When the password was accepted (Unix seconds).
    pub since: i64,
    /// Where the sign-in goes once complete (already judged safe).
    pub next: String,
}

#[derive(Debug, thiserror::Error)]
#[error("session storage failed: {0}")]
pub struct SessionError(#[from] tower_sessions::session::Error);

/// A request's session, typed.
#[derive(Debug, Clone)]
pub struct AuthSession(Session, Option<String>);

impl From<Session> for AuthSession {
    fn from(s: Session) -> Self {
        AuthSession(s, None)
    }
}

impl AuthSession {
    /// The request's User-Agent, which [`AuthSession::sign_in`] records.
    pub fn with_user_agent(mut self, user_agent: Option<&str>) -> Self {
        self.1 = user_agent.map(str::to_owned);
        self
    }

    /// The session's value (empty for a browser without one).
    pub async fn data(&self) -> Result<SessionData, SessionError> {
        Ok(self.0.get::<SessionData>(KEY).await?.unwrap_or_default())
    }

    /// Changes the value and returns what `change` returns. A change that leaves the value
    /// as it was writes nothing.
    async fn update<R>(
        &self,
        change: impl FnOnce(&mut SessionData) -> R,
    ) -> Result<R, SessionError> {
        let before = self.data().await?;
        let mut data = before.clone();
        let out = change(&mut data);
        if data != before {
            self.0.insert(KEY, &data).await?;
        }
        Ok(out)
    }

    /// This session's id in the store, once it has one.
    pub fn id(&self) -> Option<String> {
        self.0.id().map(|id| id.to_string())
    }

    /// The signed-in user's id, if any.
    pub async fn user_id(&self) -> Result<Option<String>, SessionError> {
        Ok(self.data().await?.user_id)
    }

    /// Starts a signed-in session under a new id (no session fixation). Messages for the
    /// next page survive; everything else of the anonymous session does not.
    pub async fn sign_in(&self, user_id: &str, via: SignedInVia) -> Result<(), SessionError> {
        let old = self.data().await?;
        self.0.cycle_id().await?;
        let data = SessionData {
            user_id: Some(user_id.to_owned()),
            via: Some(via),
            signed_in_at: now(),
            user_agent: self.1.as_deref().map(|ua| ua.chars().take(256).collect()),
            flash: old.flash,
            notice: old.notice,
            link_token: None,
            second_factor: None,
            shown_once: None,
            sid: old.sid.filter(|_| old.user_id.as_deref() == Some(user_id)),
            stepped_up_at: None,
        };
        self.0.insert(KEY, &data).await?;
        Ok(())
    }

    /// The signed-in person gave their second factor: the session now counts as two factors,
    /// under a new id (its rights grew, as at a sign-in). False when nobody is signed in.
    pub async fn step_up(&self) -> Result<bool, SessionError> {
        let mut data = self.data().await?;
        if data.user_id.is_none() {
            return Ok(false);
        }
        self.0.cycle_id().await?;
        data.stepped_up_at = Some(now());
        self.0.insert(KEY, &data).await?;
        Ok(true)
    }

    /// After a right password for an account with one-time codes: the browser is *not*
    /// signed in, and waits for the code under a new session id (what it was signed in as
    /// before is gone, as at a sign-in). Messages for the next page survive.
    pub async fn await_second_factor(&self, user_id: &str, next: &str) -> Result<(), SessionError> {
        let old = self.data().await?;
        self.0.cycle_id().await?;
        let data = SessionData {
            second_factor: Some(PendingSecondFactor {
                user_id: user_id.to_owned(),
                since: now(),
                next: next.to_owned(),
            }),
            flash: old.flash,
            notice: old.notice,
            ..SessionData::default()
        };
        self.0.insert(KEY, &data).await?;
        Ok(())
    }

    /// The sign-in waiting for its one-time code, while it may still be finished; one that
    /// waited too long is forgotten.
    pub async fn pending_second_factor(&self) -> Result<Option<PendingSecondFactor>, SessionError> {
        let t = now();
        self.update(|d| {
            if d.second_factor
                .as_ref()
                .is_some_and(|p| t - p.since > SECOND_FACTOR_SECS || t < p.since)
            {
                d.second_factor = None;
            }
            d.second_factor.clone()
        })
        .await
    }

    /// Keeps a secret just made for the page that shows it once.
    pub async fn set_shown_once(&self, secret: ShownOnce) -> Result<(), SessionError> {
        self.update(|d| d.shown_once = Some(secret)).await
    }

    /// The secret waiting for the page that `pick` accepts, once: reading it removes it.
    /// Another page's secret stays for that page.
    pub async fn take_shown_once<T>(&self, pick: impl Fn(&ShownOnce) -> Option<T>) -> Option<T> {
        self.update(|d| {
            let picked = d.shown_once.as_ref().and_then(&pick);
            if picked.is_some() {
                d.shown_once = None;
            }
            picked
        })
        .await
        .ok()?
    }

    /// Ends the session: its row is deleted and the cookie cleared; the applications it
    /// signed in to are told (back-channel logout: `op::logout`, woken now). A sign-in's
    /// renewed id is no sign-out: it wakes nothing.
    pub async fn sign_out(&self) -> Result<(), SessionError> {
        self.0.flush().await?;
        crate::ssr::op::logout::wake();
        Ok(())
    }

    pub async fn set_flash<T: Serialize>(&self, error: &T) -> Result<(), SessionError> {
        let value = serde_json::to_value(error).ok();
        self.update(|d| d.flash = value).await
    }

    /// The flash, once: reading it removes it.
    pub async fn take_flash<T: DeserializeOwned>(&self) -> Option<T> {
        let value = self.update(|d| d.flash.take()).await.ok()??;
        serde_json::from_value(value).ok()
    }

    pub async fn set_notice(&self, message: &str) -> Result<(), SessionError> {
        self.update(|d| d.notice = Some(message.to_owned())).await
    }

    pub async fn take_notice(&self) -> Option<String> {
        self.update(|d| d.notice.take()).await.ok()?
    }

    /// A per-session token that "Link Account" forms carry, so another site cannot start a
    /// link for a signed-in user.
    pub async fn link_token(&self) -> Result<String, SessionError> {
        let fresh = new_token();
        self.update(|d| d.link_token.get_or_insert(fresh).clone())
            .await
    }

    /// The session's `sid` for the OpenID Provider, made on first use.
    pub async fn op_sid(&self) -> Result<String, SessionError> {
        // Made only when missing: every authorization request asks, and a new one is a read
        // of the system's random source.
        self.update(|d| d.sid.get_or_insert_with(new_token).clone())
            .await
    }

    /// Uses up the link token if `token` is it (single use).
    pub async fn take_link_token(&self, token: &str) -> Result<bool, SessionError> {
        self.update(|d| {
            let ok = !token.is_empty() && d.link_token.as_deref() == Some(token);
            if ok {
                d.link_token = None;
            }
            ok
        })
        .await
    }
}

fn new_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::{SessionData, SignedInVia};

    fn through_provider(auth_time: Option<i64>) -> SessionData {
        SessionData {
            signed_in_at: 10_000,
            via: Some(SignedInVia::Provider {
                slug: "up".into(),
                issuer: "https://up.example".into(),
                subject: "s".into(),
                at_provider: Default::default(),
                two_factors: false,
                auth_time,
            }),
            ..SessionData::default()
        }
    }

    /// Sessions stored before the provider's session was its own type read as they were
    /// written: its `sid` and ID token stay fields of the variant.
    #[test]
    fn a_stored_provider_session_keeps_its_shape() {
        let stored = serde_json::json!({
            "user_id": "u1",
            "via": {
                "kind": "provider", "slug": "up", "issuer": "https://up.example",
                "subject": "s", "sid": "sid-1", "id_token": "eyJ.x.y", "two_factors": true
            },
            "signed_in_at": 10_000
        });
        let data: SessionData = serde_json::from_value(stored.clone()).unwrap();
        let Some(SignedInVia::Provider { at_provider, .. }) = &data.via else {
            panic!("{data:?}")
        };
        assert_eq!(at_provider.sid.as_deref(), Some("sid-1"));
        assert_eq!(at_provider.id_token.as_deref(), Some("eyJ.x.y"));
        let again = serde_json::to_value(&data).unwrap();
        assert_eq!(again["via"]["sid"], "sid-1");
        assert_eq!(again["via"]["id_token"], "eyJ.x.y");
    }

    /// When the person signed in, for `prompt=login` and `max_age`: through a provider, when
    /// it says (a minute of skew forgiven, never later than the session, never before 1970),
    /// and unknown when it does not; what applications are told falls back to the session.
    #[test]
    fn a_provider_sign_in_counts_from_when_the_person_signed_in_there() {
        let password = SessionData {
            signed_in_at: 10_000,
            via: Some(SignedInVia::Password { otp: false }),
            ..SessionData::default()
        };
        assert_eq!(password.authenticated_at(), Some(10_000));
        assert_eq!(
            through_provider(Some(4_000)).authenticated_at(),
            Some(4_000)
        );
        assert_eq!(
            through_provider(Some(9_950)).authenticated_at(),
            Some(10_000)
        );
        assert_eq!(
            through_provider(Some(99_999)).authenticated_at(),
            Some(10_000)
        );
        assert_eq!(through_provider(Some(-5)).authenticated_at(), Some(0));
        assert_eq!(through_provider(None).authenticated_at(), None);
        assert_eq!(through_provider(None).auth_time(), 10_000);
        assert_eq!(through_provider(Some(4_000)).auth_time(), 4_000);
    }
}
