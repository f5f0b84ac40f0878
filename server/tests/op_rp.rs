//! The authorization code flow end to end with relying parties nobody here wrote: npm
//! `openid-client` (OpenID Certified; `end2end/rp/app.mjs`) and Python `authlib` with
//! `joserfc` (`end2end/rp/app.py`). Each discovers Portcullis, sends PKCE, state and nonce,
//! checks `iss` in the response (RFC 9207), exchanges the code with each client
//! authentication, validates the ID token against the JWKS and reads userinfo.

use crate::common;
use common::TestApp;
use common::continue_page_as_redirect;
use common::flow::password_sign_in;
use common::op::{TestClient, client_draft, counts, redirected, store_client};
use common::rp::{Rp, RpConfig, RpKind};
use reqwest::Client;
use serde_json::Value;

/// The user alice (a local account) may sign in to `Wiki`.
pub(crate) async fn alice_id(app: &TestApp) -> String {
    app.add_local("alice", "alice@example.com", false).await;
    portcullis::ssr::users::find_by_identifier(&app.running.db, "alice")
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Application `Wiki-<kind>` as a client authenticating with `auth`, signing ID tokens with `alg`,
/// its back-channel logout URI the relying party's `/backchannel` (its post-logout redirect
/// URI: `/signed-out` there), and relying party `kind`
/// configured for it, asking for `scope`.
pub(crate) async fn wiki_and_rp(
    app: &TestApp,
    kind: RpKind,
    auth: &str,
    alg: &str,
    scope: &str,
) -> (TestClient, Rp) {
    let (port, redirect_uri) = Rp::port();
    // One application per relying party, so that a test may run both.
    let name = format!("Wiki-{kind:?}");
    let mut draft = client_draft(&name, &redirect_uri, auth, "users", "");
    draft.client.id_token_alg = alg.into();
    draft.client.client_scopes = "openid profile email groups offline_access".into();
    draft.client.backchannel_logout_uri = format!("http://127.0.0.1:{port}/backchannel");
    draft.client.post_logout_redirect_uris = format!("http://127.0.0.1:{port}/signed-out");
    let c = store_client(app, draft).await;
    let issuer = app.running.public_url.clone();
    let rp = Rp::start(
        kind,
        port,
        RpConfig {
            issuer: &issuer,
            client_id: &c.client_id,
            secret: &c.secret,
            auth,
            scope,
            id_token_alg: alg,
        },
    )
    .await;
    (c, rp)
}

/// A browser that asks the relying party to sign in: the RP's redirect to Portcullis, and
/// Portcullis's answer (a redirect).
pub(crate) async fn start(browser: &Client, rp: &Rp, query: &str) -> reqwest::Response {
    let res = browser
        .get(rp.url(&format!("/login{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let (to, _) = redirected(&res);
    assert!(to.ends_with("/oauth2/authorize"), "{to}");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    browser.get(location).send().await.unwrap()
}

/// The RP's callback, as the browser lands there: its JSON answer.
pub(crate) async fn land(browser: &Client, res: reqwest::Response) -> (u16, Value) {
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/callback?"), "{location}");
    let res = browser.get(location).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Signed out: Portcullis keeps the request and sends the browser to sign in; after
/// signing in, `/oauth2/continue/<id>` moves on to the RP with the code. Signed in, a second
/// sign-in goes straight back. The RP's library validates everything.
async fn code_flow(app: &TestApp, kind: RpKind, auth: &str, alg: &str) {
    let sub = alice_id(app).await;
    let (c, rp) = wiki_and_rp(app, kind, auth, alg, "openid profile email groups").await;
    let issuer = app.running.public_url.clone();
    let browser = app.browser();
    let res = start(&browser, &rp, "").await;
    assert_eq!(res.status(), 303);
    let (to, pairs) = redirected(&res);
    assert!(to.ends_with("/login"), "{to}");
    let next = common::op::param(&pairs, "next").unwrap().to_owned();
    assert!(next.starts_with("/oauth2/continue/"), "{next}");
    assert_eq!(
        counts(app).await[0],
        1,
        "the request waits in op_auth_requests"
    );

    password_sign_in(app, &browser, "alice").await;
    let res = browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(res.status(), 200, "a page that moves on by itself");
    let res = continue_page_as_redirect(res).await;
    let (status, body) = land(&browser, res).await;
    assert_eq!(status, 200, "{body}");
    let claims = &body["claims"];
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], serde_json::json!([c.client_id]));
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["name"], "alice local");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims["auth_time"].as_i64().unwrap() > 0);
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(claims["at_hash"].is_string());
    assert_eq!(claims["groups"], serde_json::json!([]));
    assert_eq!(body["userinfo"]["sub"], sub.as_str());
    assert_eq!(body["userinfo"]["preferred_username"], "alice");
    assert_eq!(body["token_type"], "bearer");
    assert!(body["access_token"].as_str().unwrap().starts_with("pc_at_"));
    let header = body["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], alg);
    assert_eq!(counts(app).await, [0, 1, 1, 1, 0]);

    // Signed in now: straight back with a code, no page in between.
    let res = start(&browser, &rp, "").await;
    assert_eq!(res.status(), 303);
    let (status, again) = land(&browser, res).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["claims"]["sid"], claims["sid"],
        "one session, one sid"
    );
    // The RP reads userinfo again with its token.
    let info = browser.get(rp.url("/userinfo")).send().await.unwrap();
    assert_eq!(info.json::<Value>().await.unwrap()["sub"], sub.as_str());
}

/// One test per relying party and client authentication, each on both backends:
/// `name: kind, auth, ID token algorithm`.
macro_rules! code_flows {
    ($($name:ident: $kind:ident, $auth:literal, $alg:literal;)*) => {$(
        async fn $name(app: &TestApp) {
            code_flow(app, RpKind::$kind, $auth, $alg).await;
        }
        both_backends!($name);
    )*};
}

code_flows! {
    openid_client_basic: OpenidClient, "basic", "RS256";
    openid_client_post: OpenidClient, "post", "RS256";
    openid_client_public_es256: OpenidClient, "none", "ES256";
    authlib_basic: Authlib, "basic", "RS256";
    authlib_post: Authlib, "post", "RS256";
    authlib_public_es256: Authlib, "none", "ES256";
}

/// `prompt=none` signed out: `login_required` at the RP, checked by its library (state and
/// `iss` come back); nothing is stored.
async fn prompt_none_signed_out(app: &TestApp) {
    for kind in [RpKind::OpenidClient, RpKind::Authlib] {
        prompt_none_signed_out_at(app, kind).await;
    }
}
both_backends!(prompt_none_signed_out);

async fn prompt_none_signed_out_at(app: &TestApp, kind: RpKind) {
    let (_, rp) = wiki_and_rp(app, kind, "basic", "RS256", "openid").await;
    let browser = app.browser();
    let res = start(&browser, &rp, "?prompt=none").await;
    let (status, body) = land(&browser, res).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "login_required", "{body}");
    assert_eq!(counts(app).await, [0; 5]);
}

/// `prompt=login&max_age=600` from openid-client, for a signed-in person: Portcullis asks
/// them to sign in again, and the library checks the ID token's `auth_time` against
/// `max_age` (it must be there, and recent).
async fn prompt_login_max_age(app: &TestApp) {
    let sub = alice_id(app).await;
    let kind = RpKind::OpenidClient;
    let (_, rp) = wiki_and_rp(app, kind, "basic", "RS256", "openid").await;
    let browser = app.browser();
    password_sign_in(app, &browser, "alice").await;
    let res = start(&browser, &rp, "?prompt=login&max_age=600").await;
    let (to, pairs) = redirected(&res);
    assert!(to.ends_with("/login"), "signed in, asked again: {to}");
    let next = common::op::param(&pairs, "next").unwrap().to_owned();
    let before = portcullis::ssr::clock::now();
    password_sign_in(app, &browser, "alice").await;
    let res = browser.get(app.url(&next)).send().await.unwrap();
    let (status, body) = land(&browser, continue_page_as_redirect(res).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claims"]["sub"], sub.as_str());
    assert!(body["claims"]["auth_time"].as_i64().unwrap() >= before);
}
both_backends!(prompt_login_max_age);

/// Refresh tokens, introspection and revocation through each library: `offline_access`
/// brings a refresh token; the library's refresh grant validates the new ID token and gets
/// a new pair; introspection describes the live tokens; revoking the refresh token ends the
/// grant (the library's next refresh is refused, and the access token is inactive).
async fn refresh_introspect_revoke(app: &TestApp) {
    let sub = alice_id(app).await;
    for (kind, auth) in [(RpKind::OpenidClient, "basic"), (RpKind::Authlib, "post")] {
        let scope = "openid profile offline_access";
        let (c, rp) = wiki_and_rp(app, kind, auth, "RS256", scope).await;
        let browser = app.browser();
        password_sign_in(app, &browser, "alice").await;
        let (status, first) = land(&browser, start(&browser, &rp, "").await).await;
        assert_eq!(status, 200, "{kind:?}: {first}");
        let rt1 = first["refresh_token"].as_str().expect("a refresh token");
        let rp_get = async |path: &str| {
            let res = browser.get(rp.url(path)).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        };
        let (status, second) = rp_get("/refresh").await;
        assert_eq!(status, 200, "{kind:?}: {second}");
        assert_ne!(second["refresh_token"].as_str(), Some(rt1), "rotated");
        assert_eq!(second["claims"]["sub"], sub.as_str());
        assert_eq!(second["claims"]["aud"], serde_json::json!([c.client_id]));

        let (status, info) = rp_get("/introspect?token=access").await;
        assert_eq!(status, 200, "{kind:?}: {info}");
        assert_eq!(info["active"], true, "{kind:?}: {info}");
        assert_eq!(info["sub"], sub.as_str());
        assert_eq!(info["client_id"], c.client_id.as_str());
        let (_, info) = rp_get("/introspect?token=refresh").await;
        assert_eq!(info["active"], true, "{kind:?}: {info}");

        let (status, body) = rp_get("/revoke?token=refresh").await;
        assert_eq!(status, 200, "{kind:?}: {body}");
        let (status, body) = rp_get("/refresh").await;
        assert_eq!(status, 400, "{kind:?}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{kind:?}: {body}");
        let (_, info) = rp_get("/introspect?token=access").await;
        assert_eq!(info["active"], false, "{kind:?}: the grant is gone: {info}");
    }
}
both_backends!(refresh_introspect_revoke);
