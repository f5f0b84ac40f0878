//! RP-Initiated Logout 1.0 at `/oauth2/logout` (`docs/openid-provider.md` §3.8): an
//! application's valid ID token for the signed-in person signs them out at once and goes
//! back to a registered URI with `state`; anything less certain asks first, and never
//! redirects.

use crate::common;
use common::TestApp;
use common::flow::{me, password_sign_in, signed_in};
use common::op::{
    TestClient, client_draft, get_with, id_token_for, prompt_none_error, store_client,
};
use reqwest::{Client, StatusCode};

const BYE: &str = "https://wiki.example/signed-out";

/// A client with a post-logout URI, alice signed in, and an ID token it got for her.
async fn signed_in_with_id_token(app: &TestApp) -> (TestClient, Client, String) {
    app.add_local("alice", "alice@example.com", false).await;
    let mut draft = client_draft("Wiki", "https://wiki.example/cb", "basic", "users", "");
    draft.client.post_logout_redirect_uris = BYE.into();
    let c = store_client(app, draft).await;
    let browser = signed_in(app, "alice").await;
    let id_token = id_token_for(app, &browser, &c).await;
    (c, browser, id_token)
}

async fn logout(app: &TestApp, browser: &Client, pairs: &[(&str, &str)]) -> reqwest::Response {
    get_with(app, browser, "/oauth2/logout", pairs).await
}

/// The signed-out page.
async fn says_signed_out(res: reqwest::Response) {
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("You are signed out of Portcullis"), "{page}");
}

/// The question (for the request `pairs`), posted to our own confirmation: never a redirect.
async fn asks_first(res: reqwest::Response, pairs: &[(&str, &str)]) {
    assert_eq!(res.status(), StatusCode::OK, "{pairs:?}");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Sign out of Portcullis?"),
        "{pairs:?}: {page}"
    );
    assert!(page.contains("action=\"/oauth2/logout/confirm\""), "{page}");
}

/// The hint names the signed-in person: signed out at once, back at the registered URI
/// with `state`, and `prompt=none` then finds nobody (the suite's
/// oidcc-rp-initiated-logout); the same again (signed out already) goes back too. Discovery names it.
async fn rp_initiated(app: &TestApp) {
    let (c, browser, id_token) = signed_in_with_id_token(app).await;
    let pairs = [
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", BYE),
        ("state", "st 1"),
    ];
    let res = logout(app, &browser, &pairs).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("{BYE}?state=st+1"));
    assert!(me(app, &browser).await.is_none(), "signed out");
    let error = prompt_none_error(app, &browser, &c).await;
    assert_eq!(error.as_deref(), Some("login_required"));
    // The audit log says who ended it, and at whose request.
    let (actor, details): (String, String) = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_as("SELECT actor, details FROM audit_events WHERE event = 'sign_out'")
            .fetch_one(pool)
            .await)
    .unwrap();
    assert_eq!(actor, "alice");
    assert!(
        details.contains("end_session_endpoint") && details.contains(&c.client_id),
        "{details}"
    );
    let res = logout(app, &browser, &pairs).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "already signed out");
    // Without a URI: the signed-out page.
    says_signed_out(logout(app, &browser, &pairs[..1]).await).await;

    let doc: serde_json::Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["end_session_endpoint"],
        app.url("/oauth2/logout").as_str()
    );
}
both_backends!(rp_initiated);

/// No hint, a hint we did not sign (modified), another client's or user's, an unregistered
/// URI or one with a query added: the question, never a redirect, still signed in. The
/// answer, posted from our own page, signs out; posted from elsewhere, it is refused.
async fn confirms_instead_of_redirecting(app: &TestApp) {
    let (_, browser, id_token) = signed_in_with_id_token(app).await;
    let mut parts: Vec<&str> = id_token.split('.').collect();
    let payload =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap();
    let forged_payload = String::from_utf8(payload)
        .unwrap()
        .replace("\"sub\":\"", "\"sub\":\"x");
    let forged_payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        forged_payload,
    );
    parts[1] = &forged_payload;
    let modified = parts.join(".");
    let with_query = format!("{BYE}?x=1");
    for pairs in [
        vec![("post_logout_redirect_uri", BYE), ("state", "s")],
        vec![
            ("id_token_hint", modified.as_str()),
            ("post_logout_redirect_uri", BYE),
        ],
        vec![
            ("id_token_hint", "not a token"),
            ("post_logout_redirect_uri", BYE),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", with_query.as_str()),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("client_id", "someone-else"),
            ("post_logout_redirect_uri", BYE),
        ],
    ] {
        asks_first(logout(app, &browser, &pairs).await, &pairs).await;
        assert!(
            me(app, &browser).await.is_some(),
            "{pairs:?}: still signed in"
        );
    }
    // The person's hint from another of their sessions (an old ID token): asked too.
    let elsewhere = signed_in(app, "alice").await;
    let pairs = [
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", BYE),
    ];
    let res = logout(app, &elsewhere, &pairs).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(me(app, &elsewhere).await.is_some());
    // Another person's hint: asked too.
    app.add_local("bob", "bob@example.com", false).await;
    let bob = signed_in(app, "bob").await;
    let res = logout(
        app,
        &bob,
        &[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", BYE),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(me(app, &bob).await.is_some());

    let res = confirm(app, &browser, "https://evil.example").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        me(app, &browser).await.is_some(),
        "a cross-site post signs nobody out"
    );
    says_signed_out(confirm(app, &browser, &app.base).await).await;
    assert!(
        me(app, &browser).await.is_none(),
        "signed out after confirming"
    );
    assert!(me(app, &bob).await.is_some(), "bob's session is his own");
}
both_backends!(confirms_instead_of_redirecting);

/// The question's answer, posted as a page of `origin` would.
async fn confirm(app: &TestApp, browser: &Client, origin: &str) -> reqwest::Response {
    browser
        .post(app.url("/oauth2/logout/confirm"))
        .header("origin", origin)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

/// A POST to the end-session endpoint is answered 303 to the GET (the same rules).
async fn post_becomes_get(app: &TestApp) {
    let (_, browser, id_token) = signed_in_with_id_token(app).await;
    let res = browser
        .post(app.url("/oauth2/logout"))
        .header("origin", "https://wiki.example")
        .form(&[("id_token_hint", id_token.as_str()), ("state", "s")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/oauth2/logout?id_token_hint="), "{to}");
    assert!(
        me(app, &browser).await.is_some(),
        "the POST itself signs nobody out"
    );
}
both_backends!(post_becomes_get);

/// The valid hint without `state`: back at the URI with no `state` at all; without a
/// `post_logout_redirect_uri`: the signed-out page, no redirect. Signed out either way
/// (`prompt=none` then finds nobody). The suite's oidcc-rp-initiated-logout-no-state and
/// -no-post-logout-redirect-uri.
async fn rp_initiated_variants(app: &TestApp) {
    let (c, browser, id_token) = signed_in_with_id_token(app).await;
    let pairs = [
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", BYE),
    ];
    let res = logout(app, &browser, &pairs).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], BYE, "no state");
    let error = prompt_none_error(app, &browser, &c).await;
    assert_eq!(error.as_deref(), Some("login_required"));

    password_sign_in(app, &browser, "alice").await;
    let id_token = id_token_for(app, &browser, &c).await;
    says_signed_out(logout(app, &browser, &[("id_token_hint", &id_token)]).await).await;
    assert!(me(app, &browser).await.is_none(), "signed out");
    let error = prompt_none_error(app, &browser, &c).await;
    assert_eq!(error.as_deref(), Some("login_required"));
}
both_backends!(rp_initiated_variants);

/// No parameters, or only `state`: nobody says who asks, so the person is asked (a page,
/// no redirect, still signed in); confirming signs out and shows the signed-out page, never
/// the registered URI. The suite's oidcc-rp-initiated-logout-no-params and -only-state.
async fn signs_out_after_confirming(app: &TestApp) {
    let (c, browser, _) = signed_in_with_id_token(app).await;
    for pairs in [vec![], vec![("state", "s")]] {
        asks_first(logout(app, &browser, &pairs).await, &pairs).await;
        assert!(me(app, &browser).await.is_some(), "{pairs:?}: asked first");
        says_signed_out(confirm(app, &browser, &app.base).await).await;
        assert!(me(app, &browser).await.is_none(), "{pairs:?}");
        let error = prompt_none_error(app, &browser, &c).await;
        assert_eq!(error.as_deref(), Some("login_required"), "{pairs:?}");
        password_sign_in(app, &browser, "alice").await;
    }
}
both_backends!(signs_out_after_confirming);
