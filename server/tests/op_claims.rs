//! The claims each scope brings (`docs/openid-provider.md` §3.6), in the ID token and at
//! userinfo alike, as the conformance suite's oidcc-scope-* modules ask for them: `profile`
//! gives `name` and `preferred_username`; `email` gives `email` and `email_verified` only
//! for a trusted address; `address` and `phone`, which Portcullis does not offer (discovery
//! does not list them), are dropped without an error.

use crate::common;
use common::TestApp;
use common::flow::signed_in;
use common::op::{TestClient, add_client, get_userinfo, id_token_claims, tokens_for};
use reqwest::Client;
use serde_json::Value;

/// Alice (a local account, her email set by an administrator: trusted), signed in, and
/// `Wiki`, open to her, with the default scopes (`openid profile email groups`).
async fn setup(app: &TestApp) -> (TestClient, Client) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = add_client(app, "Wiki", "https://wiki.example/cb", "basic", "users", "").await;
    (c, signed_in(app, "alice").await)
}

/// The ID token's and userinfo's claims (the same `sub`) and the granted scope, for a
/// request of [`setup`]'s with `scope`.
async fn claims_for(app: &TestApp, scope: &str) -> (Value, Value, String) {
    let (c, browser) = setup(app).await;
    claims_of(app, &c, &browser, scope).await
}

/// [`claims_for`] with `c` and `browser` as they are.
async fn claims_of(
    app: &TestApp,
    c: &TestClient,
    browser: &Client,
    scope: &str,
) -> (Value, Value, String) {
    let body = tokens_for(app, c, browser, scope).await;
    let claims = id_token_claims(body["id_token"].as_str().unwrap());
    let (status, info) = get_userinfo(app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], claims["sub"]);
    (claims, info, body["scope"].as_str().unwrap().to_owned())
}

/// `claims` (the ID token's, then userinfo's) hold `present` and none of `absent`.
fn holds(both: [&Value; 2], present: &[&str], absent: &[&str]) {
    for claims in both {
        for name in present {
            assert!(claims.get(*name).is_some(), "{name} missing: {claims}");
        }
        for name in absent {
            assert!(claims.get(*name).is_none(), "{name} present: {claims}");
        }
    }
}

const PROFILE: [&str; 2] = ["name", "preferred_username"];
const EMAIL: [&str; 2] = ["email", "email_verified"];
/// Claims none of these requests brings: `address` and `phone`'s (not offered), `groups`
/// (not asked for).
const OTHERS: [&str; 4] = ["address", "phone_number", "phone_number_verified", "groups"];

/// oidcc-scope-profile.
async fn profile(app: &TestApp) {
    let (claims, info, scope) = claims_for(app, "openid profile").await;
    assert_eq!(scope, "openid profile");
    holds([&claims, &info], &PROFILE, &[&EMAIL[..], &OTHERS].concat());
    assert_eq!(info["name"], "alice local");
    assert_eq!(info["preferred_username"], "alice");
}
both_backends!(profile);

/// oidcc-scope-email: a trusted address is sent, verified; one nobody vouches for (its
/// source forgotten, as when the provider that set it is removed) is not sent at all, in
/// the ID token or at userinfo, as `Remote-Email` does.
async fn email_trusted_only(app: &TestApp) {
    let (c, browser) = setup(app).await;
    let (claims, info, _) = claims_of(app, &c, &browser, "openid email").await;
    holds([&claims, &info], &EMAIL, &PROFILE);
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);

    portcullis::exec!(
        &app.running.db,
        "UPDATE users SET email_source = NULL, email_provider = NULL WHERE username = 'alice'"
    )
    .unwrap();
    let (claims, info, scope) = claims_of(app, &c, &browser, "openid email").await;
    holds([&claims, &info], &[], &EMAIL);
    assert_eq!(
        scope, "openid email",
        "the scope is granted, the claims withheld"
    );
}
both_backends!(email_trusted_only);

/// oidcc-scope-address and oidcc-scope-phone: success, the scopes dropped from the grant,
/// no such claims; discovery does not offer them.
async fn unsupported_scopes_dropped(app: &TestApp) {
    let (c, browser) = setup(app).await;
    for asked in ["openid address", "openid phone"] {
        let (claims, info, scope) = claims_of(app, &c, &browser, asked).await;
        assert_eq!(scope, "openid", "{asked}");
        holds(
            [&claims, &info],
            &[],
            &[&PROFILE[..], &EMAIL, &OTHERS].concat(),
        );
    }
    let doc: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offered = doc["scopes_supported"].as_array().unwrap();
    for scope in ["address", "phone"] {
        assert!(!offered.contains(&Value::from(scope)), "{doc}");
    }
}
both_backends!(unsupported_scopes_dropped);

/// oidcc-scope-all: every scope the suite asks for at once; what Portcullis offers is
/// there, the rest dropped.
async fn all_scopes(app: &TestApp) {
    let (claims, info, scope) = claims_for(app, "openid profile email address phone").await;
    assert_eq!(scope, "openid profile email");
    holds([&claims, &info], &[&PROFILE[..], &EMAIL].concat(), &OTHERS);
}
both_backends!(all_scopes);
