//! The authorization endpoint's refusals (`docs/openid-provider.md` §3.4): an unknown client
//! or an unregistered redirect URI gets an error page, never a redirect; every other error
//! goes back to the redirect URI with `error`, `state` and `iss` and writes nothing.

use crate::common;
use common::TestApp;
use common::flow::signed_in;
use common::op::{
    CHALLENGE, TestClient, add_client, authorize, counts, get_userinfo, id_token_claims, param,
    redirected, request, tokens_at,
};

const CB: &str = "https://wiki.example/cb";

async fn setup(app: &TestApp, auth: &str) -> TestClient {
    app.add_local("alice", "alice@example.com", false).await;
    add_client(app, "Wiki", CB, auth, "users", "").await
}

/// `pairs` (from a signed-in browser) are refused with `error`, redirected to the client with
/// its state and `iss`, and nothing is written.
async fn refused_with(app: &TestApp, pairs: &[(&str, &str)], error: &str) {
    let browser = signed_in(app, "alice").await;
    let before = counts(app).await;
    let res = authorize(app, &browser, pairs).await;
    assert!(res.status().is_redirection(), "{error}: {}", res.status());
    let (to, got) = redirected(&res);
    assert_eq!(to, CB, "{error}");
    assert_eq!(param(&got, "error"), Some(error), "{got:?}");
    assert!(param(&got, "error_description").is_some());
    assert_eq!(param(&got, "state"), Some("st"), "{error}");
    assert_eq!(param(&got, "iss"), Some(app.running.public_url.as_ref()));
    assert!(param(&got, "code").is_none());
    assert_eq!(counts(app).await, before, "{error}: writes nothing");
}

/// An error page (400), no redirect, nothing written.
async fn page_for(app: &TestApp, pairs: &[(&str, &str)], says: &str) {
    let browser = signed_in(app, "alice").await;
    let before = counts(app).await;
    let res = authorize(app, &browser, pairs).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    let body = res.text().await.unwrap();
    assert!(body.contains(says), "{body}");
    assert_eq!(counts(app).await, before);
}

async fn unknown_client(app: &TestApp) {
    let c = setup(app, "basic").await;
    let mut pairs = request(&c, &[]);
    pairs[0].1 = "nobody";
    page_for(app, &pairs, "not known to Portcullis").await;
    pairs.remove(0);
    page_for(app, &pairs, "not known to Portcullis").await;
    let twice = request(&c, &[("client_id", c.client_id.as_str())]);
    page_for(app, &twice, "not known to Portcullis").await;
}
both_backends!(unknown_client);

async fn unregistered_redirect_uri(app: &TestApp) {
    let c = setup(app, "basic").await;
    for uri in [
        "https://evil.example/cb",
        "https://wiki.example/cb/",
        "https://wiki.example/cb?x=1",
    ] {
        let mut pairs = request(&c, &[]);
        pairs[1].1 = uri;
        page_for(app, &pairs, "not registered").await;
    }
    let mut pairs = request(&c, &[]);
    pairs.remove(1);
    page_for(app, &pairs, "not registered").await;
    page_for(app, &request(&c, &[("redirect_uri", CB)]), "not registered").await;
}
both_backends!(unregistered_redirect_uri);

async fn refusals(app: &TestApp) {
    let c = setup(app, "basic").await;
    refused_with(app, &request(&c, &[("scope", "openid")]), "invalid_request").await;
    let mut no_type = request(&c, &[]);
    no_type.retain(|(k, _)| *k != "response_type");
    refused_with(app, &no_type, "invalid_request").await;
    let mut token = request(&c, &[]);
    token[2].1 = "token";
    refused_with(app, &token, "unsupported_response_type").await;
    let mut no_openid = request(&c, &[]);
    no_openid[3].1 = "profile email";
    refused_with(app, &no_openid, "invalid_scope").await;
    let plain = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "plain"),
    ];
    refused_with(app, &request(&c, &plain), "invalid_request").await;
    let refused: [(&[(&str, &str)], &str); 4] = [
        (
            &[("request", "eyJhbGciOiJub25lIn0.e30.")],
            "request_not_supported",
        ),
        (
            &[("request_uri", "https://wiki.example/req")],
            "request_uri_not_supported",
        ),
        (&[("response_mode", "fragment")], "invalid_request"),
        (&[("prompt", "none login")], "invalid_request"),
    ];
    for (extra, error) in refused {
        refused_with(app, &request(&c, extra), error).await;
    }
}
both_backends!(refusals);

/// A public client must use PKCE.
async fn public_client_without_pkce(app: &TestApp) {
    let c = setup(app, "none").await;
    refused_with(app, &request(&c, &[]), "invalid_request").await;
    let browser = signed_in(app, "alice").await;
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let res = authorize(app, &browser, &request(&c, &pkce)).await;
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");
}
both_backends!(public_client_without_pkce);

/// Signed out: the request waits (one row) and the browser goes to sign in; with
/// `prompt=none`, `login_required` and nothing written.
async fn signed_out(app: &TestApp) {
    let c = setup(app, "basic").await;
    let browser = app.browser();
    let res = authorize(app, &browser, &request(&c, &[("prompt", "none")])).await;
    let (to, got) = redirected(&res);
    assert_eq!(to, CB);
    assert_eq!(param(&got, "error"), Some("login_required"));
    assert_eq!(param(&got, "state"), Some("st"));
    assert_eq!(counts(app).await, [0; 5]);

    let res = authorize(app, &browser, &request(&c, &[])).await;
    assert_eq!(res.status(), 303);
    let (to, got) = redirected(&res);
    assert!(to.ends_with("/login"), "{to}");
    let next = param(&got, "next").unwrap().to_owned();
    assert_eq!(counts(app).await, [1, 0, 0, 0, 0]);
    // Still signed out: back to the login page, the request kept.
    let res = browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(counts(app).await, [1, 0, 0, 0, 0]);
    common::flow::password_sign_in(app, &browser, "alice").await;
    let res = browser.get(app.url(&next)).send().await.unwrap();
    let res = common::continue_page_as_redirect(res).await;
    let (to, got) = redirected(&res);
    assert_eq!(to, CB);
    assert!(param(&got, "code").is_some());
    assert_eq!(param(&got, "state"), Some("st"));
    assert_eq!(counts(app).await, [0, 1, 0, 0, 0], "the request is used up");
    let res = browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(res.status(), 400, "single use");
}
both_backends!(signed_out);

/// Someone the application's "who may open it" rule leaves out gets `access_denied`.
async fn access_denied(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    app.add_local("bob", "bob@example.com", false).await;
    let c = add_client(app, "Wiki", CB, "basic", "listed", "bob").await;
    refused_with(app, &request(&c, &[]), "access_denied").await;
    let bob = signed_in(app, "bob").await;
    let res = authorize(app, &bob, &request(&c, &[])).await;
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");
}
both_backends!(access_denied);

/// A POST is answered 303 to the GET with the same parameters, which goes on to the code
/// (the conformance suite's oidcc-ensure-post-request-succeeds).
async fn post_request(app: &TestApp) {
    let c = setup(app, "basic").await;
    let browser = signed_in(app, "alice").await;
    let res = browser
        .post(app.url("/oauth2/authorize"))
        .header("origin", "https://wiki.example")
        .form(&request(&c, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/oauth2/authorize?client_id="),
        "{location}"
    );
    let res = browser.get(app.url(&location)).send().await.unwrap();
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");
    assert_eq!(param(&got, "state"), Some("st"));
}
both_backends!(post_request);

/// What Portcullis does not act on is ignored and the flow goes on as without it: unknown
/// parameters, `display` (page, popup), `ui_locales`, `claims_locales`, `acr_values`,
/// `login_hint` for a signed-in browser, and the `claims` parameter (discovery says
/// `claims_parameter_supported: false`): an essential `name` without the `profile` scope
/// is not added (the suite's oidcc-claims-essential only warns). The conformance suite's
/// oidcc-display-page, -display-popup, -ui-locales, -claims-locales,
/// -ensure-request-with-acr-values-succeeds, -ensure-request-with-unknown-parameter-succeeds.
async fn ignored_parameters(app: &TestApp) {
    let c = setup(app, "basic").await;
    let browser = signed_in(app, "alice").await;
    for display in ["page", "popup"] {
        let extra = [
            ("display", display),
            ("ui_locales", "de fr-CA"),
            ("claims_locales", "de"),
            ("acr_values", "urn:mace:incommon:iap:silver"),
            ("extra", "foobar"),
            ("login_hint", "alice"),
        ];
        let body = tokens_at(app, &browser, &c, &request(&c, &extra)).await;
        let claims = id_token_claims(body["id_token"].as_str().unwrap());
        assert_eq!(claims["nonce"], "n", "{display}: {claims}");
        assert_eq!(claims["preferred_username"], "alice");
        assert!(claims.get("acr").is_none(), "no acr is claimed: {claims}");
    }
    let essential = r#"{"userinfo":{"name":{"essential":true}}}"#;
    let mut pairs = request(&c, &[("claims", essential)]);
    pairs[3].1 = "openid";
    let body = tokens_at(app, &browser, &c, &pairs).await;
    let (status, info) = get_userinfo(app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{info}");
    assert!(
        info["sub"].is_string() && info.get("name").is_none(),
        "{info}"
    );
}
both_backends!(ignored_parameters);

/// A code request without `nonce` succeeds (Core §3.1.2.1: optional in the code flow), and
/// its ID token carries none; scopes Portcullis does not grant (`phone`, `address`) are
/// dropped without an error. The suite's
/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
async fn without_nonce(app: &TestApp) {
    let c = setup(app, "basic").await;
    let browser = signed_in(app, "alice").await;
    let mut no_nonce = request(&c, &[("scope", "openid phone address")]);
    no_nonce.retain(|(k, v)| *k != "nonce" && !(*k == "scope" && v.contains("profile")));
    let res = authorize(app, &browser, &no_nonce).await;
    let (_, got) = redirected(&res);
    let code = param(&got, "code").unwrap_or_else(|| panic!("a code: {got:?}"));
    let (status, body) = common::op::exchange(app, &c, code, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid", "phone and address dropped: {body}");
    let claims = id_token_claims(body["id_token"].as_str().unwrap());
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(claims["sub"].is_string(), "{claims}");
}
both_backends!(without_nonce);

/// Neither the order of the parameters nor that of the scope's values matters (RFC 6749
/// §3.3): the request in reverse order with `scope=email openid` gets the email claims.
/// The suite's oidcc-alternate-happy-flow (named oidcc-ensure-other-scope-order-succeeds in
/// later plans).
async fn parameter_order(app: &TestApp) {
    let c = setup(app, "basic").await;
    let browser = signed_in(app, "alice").await;
    let mut pairs = request(&c, &[]);
    pairs[3].1 = "email openid";
    pairs.reverse();
    assert_eq!(pairs[0].0, "nonce");
    let body = tokens_at(app, &browser, &c, &pairs).await;
    assert_eq!(body["scope"], "openid email", "{body}");
    let claims = id_token_claims(body["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], "alice@example.com", "{claims}");
    assert_eq!(claims["email_verified"], true);
    let (_, info) = get_userinfo(app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["email"], "alice@example.com", "{info}");
}
both_backends!(parameter_order);
