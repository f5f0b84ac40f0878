//! The token endpoint (`docs/openid-provider.md` §3.5): codes are single use (a second use
//! revokes what the first gave), expire after 60 s, belong to one client and redirect URI,
//! and carry PKCE; clients authenticate only with their registered method.

use crate::common;
use common::TestApp;
use common::flow::signed_in;
use common::op::{
    CHALLENGE, TestClient, VERIFIER, add_client, code_for, counts, exchange, token, userinfo_status,
};

const CB: &str = "https://wiki.example/cb";

async fn setup(app: &TestApp, auth: &str) -> (TestClient, reqwest::Client) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = add_client(app, "Wiki", CB, auth, "users", "").await;
    (c, signed_in(app, "alice").await)
}

fn error(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// A code works once; the second use is `invalid_grant` and revokes the first access token.
async fn code_reuse_revokes(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert!(body["id_token"].is_string());
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(userinfo_status(app, &access).await, 200);
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(userinfo_status(app, &access).await, 401, "revoked");
    assert_eq!(counts(app).await[4], 1, "the grant is revoked");
}
both_backends!(code_reuse_revokes);

async fn expired_code(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    portcullis::exec!(
        &app.running.db,
        "UPDATE op_codes SET expires_at = expires_at - 61"
    )
    .unwrap();
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await, [0, 1, 0, 0, 0]);

    // The cleanup keeps a code ten minutes past its expiry (a replay still revokes), and a
    // live grant with its token; then they go.
    use portcullis::ssr::op::grants::{CODE_KEPT, delete_expired};
    let code = code_for(app, &browser, &c, None).await;
    assert_eq!(exchange(app, &c, &code, None).await.0, 200);
    let now = portcullis::ssr::clock::now();
    assert_eq!(delete_expired(&app.running.db, now).await.unwrap(), 0);
    delete_expired(&app.running.db, now + CODE_KEPT)
        .await
        .unwrap();
    assert_eq!(counts(app).await, [0, 1, 1, 1, 0], "the expired code went");
    delete_expired(&app.running.db, now + 31 * 86_400)
        .await
        .unwrap();
    assert_eq!(counts(app).await, [0; 5]);
}
both_backends!(expired_code);

async fn pkce(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    // Wrong verifier, missing verifier.
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let wrong = VERIFIER.replace('d', "e");
    let (status, body) = exchange(app, &c, &code, Some(&wrong)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    // A verifier for a code issued without a challenge: the downgrade of RFC 9700 §4.8.2.
    let code = code_for(app, &browser, &c, None).await;
    let (status, body) = exchange(app, &c, &code, Some(VERIFIER)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[2], 0, "no grant");
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let (status, body) = exchange(app, &c, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
}
both_backends!(pkce);

/// The authorization-code grant's form for `code` sent to `redirect_uri`.
fn code_grant<'a>(code: &'a str, redirect_uri: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ]
}

async fn wrong_redirect_uri_and_another_clients_code(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let form = code_grant(&code, "https://wiki.example/other");
    let (status, body) = token(app, Some((&c.client_id, &c.secret)), &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");

    let other = add_client(
        app,
        "Other",
        "https://other.example/cb",
        "basic",
        "users",
        "",
    )
    .await;
    let code = code_for(app, &browser, &c, None).await;
    let form = code_grant(&code, CB);
    let (status, body) = token(app, Some((&other.client_id, &other.secret)), &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[2], 0, "no grant");
}
both_backends!(wrong_redirect_uri_and_another_clients_code);

/// Only the registered method authenticates: a Basic client posting its secret, a wrong
/// secret, an unknown client, two methods at once, no authentication.
async fn client_authentication(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let base = code_grant(&code, CB);
    let with = |extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&str, String)> = base.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let post = with(&[("client_id", &c.client_id), ("client_secret", &c.secret)]);
    let post: Vec<(&str, &str)> = post.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(app, None, &post).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some((&c.client_id, "pc_cs_wrong")), &base).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some(("nobody", &c.secret)), &base).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some((&c.client_id, &c.secret)), &post).await;
    assert_eq!((status, error(&body)), (400, "invalid_request"), "{body}");
    let none = with(&[("client_id", &c.client_id)]);
    let none: Vec<(&str, &str)> = none.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(app, None, &none).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    assert_eq!(
        counts(app).await,
        [0, 1, 0, 0, 0],
        "the code is still unused"
    );
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token(
        app,
        Some((&c.client_id, &c.secret)),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, error(&body)),
        (400, "unsupported_grant_type"),
        "{body}"
    );
}
both_backends!(client_authentication);

/// Userinfo takes the token as Bearer or in a POST's form, never both; no or a bad token is
/// 401 with `WWW-Authenticate`; a token dies with its Portcullis session.
async fn userinfo(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let (_, body) = exchange(app, &c, &code, None).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let url = app.url("/oauth2/userinfo");
    let res = http
        .post(&url)
        .form(&[("access_token", &access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info: serde_json::Value = res.json().await.unwrap();
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@example.com");
    let res = http.post(&url).bearer_auth(&access).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .post(&url)
        .bearer_auth(&access)
        .form(&[("access_token", &access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let res = http
        .get(&url)
        .bearer_auth("pc_at_nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    // Signed out at Portcullis: the session is gone, and with it the token.
    portcullis::exec!(&app.running.db, "DELETE FROM sessions").unwrap();
    assert_eq!(userinfo_status(app, &access).await, 401);
}
both_backends!(userinfo);
