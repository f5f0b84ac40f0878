//! RP-Initiated Logout 1.0 at `/oauth2/logout` (`docs/openid-provider.md` §3.8): who asks to
//! sign out, and where the browser may go afterwards. The routes are in `server/src/op.rs`.
//!
//! A valid `id_token_hint` (an ID token Portcullis signed; expired ones accepted, §2: "the
//! OP SHOULD accept ID Tokens when the RP identity ... is unambiguous") for the signed-in
//! user signs the session out at once, then goes to `post_logout_redirect_uri` when it is
//! registered byte for byte for the hint's client. Anything less certain (no hint, one we
//! did not sign, another user's, an unregistered URI) asks the person first and never
//! redirects: a page elsewhere must not be able to sign people out, nor use Portcullis as an
//! open redirector.

use super::clients::OpClient;
use super::id_token::OpIdToken;
use super::keys::KeySet;
use super::signer::Alg;
use openidconnect::{ClientId, IdTokenVerifier, IssuerUrl, Nonce};

/// What a verified `id_token_hint` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Its audience: the client it was issued to.
    pub client_id: String,
    pub sub: String,
    /// The Portcullis session it was issued in (`sid`).
    pub sid: Option<String>,
}

/// `token` when Portcullis signed it with one of its published keys (current, next or
/// retired) and `issuer` issued it; expired tokens are accepted (a hint, not a credential).
pub fn hint(keys: &KeySet, issuer: &str, token: &str) -> Option<Hint> {
    let token: OpIdToken = token.parse().ok()?;
    let verifier = IdTokenVerifier::new_public_client(
        ClientId::new(String::new()),
        IssuerUrl::new(issuer.to_owned()).ok()?,
        keys.jwks().clone(),
    )
    // Any of our clients: the audience is read from the token, then looked up.
    .require_audience_match(false)
    .set_allowed_algs(Alg::ALL.map(Alg::jws))
    // Expired hints are accepted: the clock the verifier checks `exp` against is the
    // epoch. The signature and the issuer are checked as always.
    .set_time_fn(|| chrono::DateTime::UNIX_EPOCH);
    let claims = token
        .claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
        .ok()?;
    let client_id = claims.audiences().first()?.to_string();
    Some(Hint {
        client_id,
        sub: claims.subject().to_string(),
        sid: claims.additional_claims().sid.clone(),
    })
}

/// Where the browser goes once signed out: `uri` with `state`, when `uri` is registered for
/// `client` byte for byte (§3), else nowhere (the signed-out page).
pub fn after_sign_out(client: &OpClient, uri: Option<&str>, state: Option<&str>) -> Option<String> {
    let uri = uri?;
    client
        .view
        .settings
        .uris
        .post_logout_redirect_uris
        .iter()
        .any(|u| u == uri)
        .then(|| super::authorize::redirect_with(uri, &[("state", state)]))
}

/// What the request decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Sign the session out (if any) and go to the URI, or show the signed-out page.
    SignOut { then: Option<String> },
    /// Ask the person first; after confirming, the signed-out page.
    Confirm,
}

/// Who is signed in to this browser: the user, and the session's `sid` (its ID tokens').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current<'a> {
    pub user: &'a str,
    pub sid: Option<&'a str>,
}

/// The decision for a request with a verified `hint` (if any), the client the hint or
/// `client_id` names (if any, and they agree), who is signed in (if anyone), and where the
/// client asks to go. A hint signs out without a question only when it was issued in this
/// very session (its `sid`): an old ID token of the person's, from logs or another app,
/// does not.
pub fn decide(
    hint: Option<&Hint>,
    client: Option<&OpClient>,
    signed_in: Option<Current<'_>>,
    uri: Option<&str>,
    state: Option<&str>,
) -> Decision {
    let (Some(hint), Some(client)) = (hint, client) else {
        return Decision::Confirm;
    };
    if client.view.client_id != hint.client_id {
        return Decision::Confirm;
    }
    // This session's hint, or nobody signed in (signed out already): nothing to ask.
    if signed_in.is_some_and(|now| now.user != hint.sub || now.sid != hint.sid.as_deref()) {
        return Decision::Confirm;
    }
    match (uri, after_sign_out(client, uri, state)) {
        (Some(_), None) => Decision::Confirm,
        (_, then) => Decision::SignOut { then },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::client::AuthMethod;

    fn client() -> OpClient {
        let mut c = OpClient::for_test(AuthMethod::Basic);
        c.view.settings.uris.post_logout_redirect_uris = vec!["https://rp.example/bye".into()];
        c
    }

    #[test]
    fn only_a_hint_for_the_signed_in_user_and_a_registered_uri_skip_the_question() {
        let c = client();
        let hint = Hint {
            client_id: "c1".into(),
            sub: "u1".into(),
            sid: Some("s1".into()),
        };
        let alice = Some(Current {
            user: "u1",
            sid: Some("s1"),
        });
        let bye = Some("https://rp.example/bye");
        let signed_out = |then: &str| Decision::SignOut {
            then: Some(then.to_owned()),
        };
        assert_eq!(
            decide(Some(&hint), Some(&c), alice, bye, Some("s 1")),
            signed_out("https://rp.example/bye?state=s+1")
        );
        assert_eq!(
            decide(Some(&hint), Some(&c), None, bye, None),
            signed_out("https://rp.example/bye"),
            "signed out already"
        );
        assert_eq!(
            decide(Some(&hint), Some(&c), alice, None, None),
            Decision::SignOut { then: None }
        );
        let bob = Some(Current {
            user: "u2",
            sid: Some("s1"),
        });
        let another_session = Some(Current {
            user: "u1",
            sid: Some("s2"),
        });
        for (hint, user, uri) in [
            (None, alice, bye),
            (Some(&hint), bob, bye),
            (Some(&hint), another_session, bye),
            (Some(&hint), alice, Some("https://rp.example/bye?x=1")),
            (Some(&hint), alice, Some("https://evil.example/")),
        ] {
            assert_eq!(
                decide(hint, Some(&c), user, uri, None),
                Decision::Confirm,
                "{hint:?} {user:?} {uri:?}"
            );
        }
        let other = Hint {
            client_id: "c2".into(),
            ..hint.clone()
        };
        assert_eq!(
            decide(Some(&other), Some(&c), alice, bye, None),
            Decision::Confirm
        );
    }
}
