//! The authorization request's parameters that change who must sign in, and consent
//! (`docs/openid-provider.md` §3.4 steps 4–6; OpenID Connect Core 1.0 §3.1.2.1, §3.1.2.3):
//! `prompt=login`, `max_age`, `prompt=none` (never a page), `prompt=select_account`,
//! `id_token_hint`, `login_hint`, and the consent page of applications that ask first or
//! of `prompt=consent`.

use crate::common;
use base64::Engine;
use common::TestApp;
use common::flow::{me, password_sign_in, signed_in};
use common::op::{
    TestClient, add_client, authorize, client_draft, code_for, counts, exchange, id_token_claims,
    id_token_for, other_client, param, redirected, request, store_client,
};
use reqwest::{Client, Response};

const CB: &str = "https://wiki.example/cb";

async fn setup(app: &TestApp) -> TestClient {
    app.add_local("alice", "alice@example.com", false).await;
    app.add_local("bob", "bob@example.com", false).await;
    add_client(app, "Wiki", CB, "basic", "users", "").await
}

/// A client whose application asks people before sharing.
async fn asking_client(app: &TestApp) -> TestClient {
    let mut draft = client_draft("Wiki", CB, "basic", "users", "");
    draft.client.consent = true;
    store_client(app, draft).await
}

/// The answer was a redirect to the client with `error`, `state` and `iss`, and no code.
fn refused(app: &TestApp, res: &Response, error: &str) {
    assert!(res.status().is_redirection(), "{error}: {}", res.status());
    let (to, got) = redirected(res);
    assert_eq!(to, CB, "{error}");
    assert_eq!(param(&got, "error"), Some(error), "{got:?}");
    assert!(param(&got, "error_description").is_some());
    assert_eq!(param(&got, "state"), Some("st"));
    assert_eq!(param(&got, "iss"), Some(app.running.public_url.as_ref()));
    assert!(param(&got, "code").is_none());
}

/// The answer sends the browser to sign in; gives the continue step's path.
fn to_login(res: &Response) -> String {
    assert_eq!(res.status(), 303);
    let (to, got) = redirected(res);
    assert!(to.ends_with("/login"), "{to}");
    let next = param(&got, "next").unwrap();
    assert!(next.starts_with("/oauth2/continue/"), "{next}");
    next.to_owned()
}

/// Follows a continue step (its page moves on by itself) to the client: the code.
async fn code_at(app: &TestApp, browser: &Client, path: &str) -> String {
    let res = browser.get(app.url(path)).send().await.unwrap();
    let res = common::continue_page_as_redirect(res).await;
    let (to, got) = redirected(&res);
    assert_eq!(to, CB);
    assert_eq!(param(&got, "state"), Some("st"));
    param(&got, "code")
        .unwrap_or_else(|| panic!("a code: {got:?}"))
        .to_owned()
}

/// The claims of the ID token a code is exchanged for.
async fn claims_for(app: &TestApp, c: &TestClient, code: &str) -> serde_json::Value {
    let (status, body) = exchange(app, c, code, None).await;
    assert_eq!(status, 200, "{body}");
    id_token_claims(body["id_token"].as_str().unwrap())
}

/// `name` signs in on `browser`; the request waiting at `next` goes on with a code for them.
async fn signs_in_and_goes_on(
    app: &TestApp,
    browser: &Client,
    c: &TestClient,
    next: &str,
    name: &str,
) {
    password_sign_in(app, browser, name).await;
    let code = code_at(app, browser, next).await;
    let claims = claims_for(app, c, &code).await;
    assert_eq!(claims["sub"], app.user_id(name).await.as_str());
}

/// The page's HTML (200).
async fn page(res: Response) -> String {
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The action of the page's form.
fn form_action(html: &str) -> String {
    common::quoted_after(html, "action=\"").unwrap().to_owned()
}

/// Posts `choice` to `action` from our own page.
async fn answer(app: &TestApp, browser: &Client, action: &str, choice: &str) -> Response {
    browser
        .post(app.url(action))
        .header("origin", app.url(""))
        .form(&[("choice", choice)])
        .send()
        .await
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `prompt=login` with a session: to the login page with the request waiting, which shows
/// its form to the signed-in browser. The continue step without a new sign-in goes back to
/// sign in (no code, however often); after it, the code, whose `auth_time` is the new
/// sign-in's.
async fn prompt_login(app: &TestApp) {
    let c = setup(app).await;
    let browser = signed_in(app, "alice").await;
    let res = authorize(app, &browser, &request(&c, &[("prompt", "login")])).await;
    let next = to_login(&res);
    assert_eq!(counts(app).await, [1, 0, 0, 0, 0]);
    for _ in 0..2 {
        let res = browser.get(app.url(&next)).send().await.unwrap();
        assert_eq!(to_login(&res), next, "not signed in again: no code");
    }
    assert_eq!(counts(app).await, [1, 0, 0, 0, 0]);
    let login = format!(
        "/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let html = page(app.page(&browser, &login).await).await;
    assert!(html.contains("name=\"identifier\""), "the form: {html}");
    // Without a waiting request, a signed-in browser is not offered the form.
    let res = app
        .page(&browser, "/login?next=/oauth2/continue/nothing")
        .await;
    let moved_on = res.status().is_redirection();
    let html = res.text().await.unwrap();
    assert!(moved_on || !html.contains("name=\"identifier\""), "{html}");

    let before = now();
    password_sign_in(app, &browser, "alice").await;
    let code = code_at(app, &browser, &next).await;
    let claims = claims_for(app, &c, &code).await;
    assert!(claims["auth_time"].as_i64().unwrap() >= before, "{claims}");
    assert_eq!(counts(app).await[0], 0, "the request is used up");
}
both_backends!(prompt_login);

/// A request that waited while the person signed in meets its client as it is now: a
/// redirect URI or a scope removed meanwhile (by another process: the database changed
/// under the server) ends it with a page, and no code goes anywhere.
async fn a_waiting_request_meets_the_client_as_it_is_now(app: &TestApp) {
    setup(app).await;
    for (name, change) in [
        (
            "Wikione",
            "UPDATE op_clients SET redirect_uris = 'https://wiki.example/other' WHERE client_id = $1",
        ),
        (
            "Wikitwo",
            "UPDATE op_clients SET scopes = 'openid' WHERE client_id = $1",
        ),
    ] {
        let c = add_client(app, name, CB, "basic", "users", "").await;
        let browser = signed_in(app, "alice").await;
        let res = authorize(app, &browser, &request(&c, &[("prompt", "login")])).await;
        let next = to_login(&res);
        portcullis::exec!(&app.running.db, change, &c.client_id).unwrap();
        password_sign_in(app, &browser, "alice").await;
        let res = browser.get(app.url(&next)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{name}");
        let html = res.text().await.unwrap();
        assert!(html.contains("has expired"), "{name}: {html}");
        assert_eq!(counts(app).await[1], 0, "{name}: no code");
    }
}
both_backends!(a_waiting_request_meets_the_client_as_it_is_now);

/// `max_age`: a sign-in older than it is `prompt=login` (with `prompt=none`,
/// `login_required`); a recent one gives the code at once, with `auth_time`. `max_age=0`
/// is `prompt=login`.
async fn max_age(app: &TestApp) {
    let c = setup(app).await;
    let browser = signed_in(app, "alice").await;
    let signed_in_at = now();
    let res = authorize(app, &browser, &request(&c, &[("max_age", "3600")])).await;
    let (_, got) = redirected(&res);
    let code = param(&got, "code").unwrap().to_owned();
    let claims = claims_for(app, &c, &code).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!((auth_time - signed_in_at).abs() <= 2, "{claims}");

    to_login(&authorize(app, &browser, &request(&c, &[("max_age", "0")])).await);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let next = to_login(&authorize(app, &browser, &request(&c, &[("max_age", "1")])).await);
    let none = [("max_age", "1"), ("prompt", "none")];
    let before = counts(app).await;
    refused(
        app,
        &authorize(app, &browser, &request(&c, &none)).await,
        "login_required",
    );
    assert_eq!(counts(app).await, before, "writes nothing");
    // Signed in again: the waiting request goes on, and the next one needs no sign-in.
    password_sign_in(app, &browser, "alice").await;
    let code = code_at(app, &browser, &next).await;
    let claims = claims_for(app, &c, &code).await;
    assert!(
        claims["auth_time"].as_i64().unwrap() > auth_time,
        "{claims}"
    );
    let res = authorize(app, &browser, &request(&c, &none)).await;
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");
}
both_backends!(max_age);

/// `prompt=none` with a session never shows a page: what would need one is an error at the
/// redirect URI, with `state` and `iss`, and nothing written.
async fn prompt_none_never_a_page(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = asking_client(app).await;
    let browser = signed_in(app, "alice").await;
    let before = counts(app).await;
    for (extra, error) in [
        (&[("prompt", "none")][..], "consent_required"),
        (
            &[("prompt", "none"), ("max_age", "0")][..],
            "login_required",
        ),
    ] {
        refused(
            app,
            &authorize(app, &browser, &request(&c, extra)).await,
            error,
        );
    }
    assert_eq!(counts(app).await, before, "writes nothing");
}
both_backends!(prompt_none_never_a_page);

/// `prompt=select_account`: "Continue as alice" goes on as alice; "Use another account"
/// signs this browser out and goes to sign in with the request waiting, then on as whoever
/// signed in. Another browser cannot answer.
async fn select_account(app: &TestApp) {
    let c = setup(app).await;
    let browser = signed_in(app, "alice").await;
    let choose = [("prompt", "select_account")];
    let html = page(authorize(app, &browser, &request(&c, &choose)).await).await;
    assert!(html.contains("Continue as alice"), "{html}");
    assert!(html.contains("Use another account"), "{html}");
    assert!(!html.contains("<script"), "no script needed");
    let action = form_action(&html);
    // Another browser (bob's) and another site cannot answer for alice.
    let bob = signed_in(app, "bob").await;
    assert_eq!(answer(app, &bob, &action, "continue").await.status(), 400);
    let forged = browser
        .post(app.url(&action))
        .header("origin", "https://evil.example")
        .form(&[("choice", "continue")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let res = answer(app, &browser, &action, "continue").await;
    assert_eq!(res.status(), 303);
    let next = res.headers()["location"].to_str().unwrap().to_owned();
    let code = code_at(app, &browser, &next).await;
    let claims = claims_for(app, &c, &code).await;
    assert_eq!(claims["sub"], app.user_id("alice").await.as_str());

    let html = page(authorize(app, &browser, &request(&c, &choose)).await).await;
    let res = answer(app, &browser, &form_action(&html), "other").await;
    let next = to_login(&res);
    assert!(me(app, &browser).await.is_none(), "signed out");
    signs_in_and_goes_on(app, &browser, &c, &next, "bob").await;
}
both_backends!(select_account);

/// `id_token_hint`: one of ours for the signed-in person goes on; for someone else,
/// `login_required` with `prompt=none`, else sign in again; one we did not sign, or issued
/// to another client, is `invalid_request` (redirected, nothing written).
async fn id_token_hint(app: &TestApp) {
    let c = setup(app).await;
    let other = other_client(app).await;
    let alice = signed_in(app, "alice").await;
    let hint = id_token_for(app, &alice, &c).await;
    let others = id_token_for(app, &alice, &other).await;
    let res = authorize(
        app,
        &alice,
        &request(&c, &[("id_token_hint", &hint), ("prompt", "none")]),
    )
    .await;
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");

    let bob = signed_in(app, "bob").await;
    let before = counts(app).await;
    let none = [("id_token_hint", hint.as_str()), ("prompt", "none")];
    refused(
        app,
        &authorize(app, &bob, &request(&c, &none)).await,
        "login_required",
    );
    assert_eq!(counts(app).await, before);
    let next = to_login(&authorize(app, &bob, &request(&c, &[("id_token_hint", &hint)])).await);
    signs_in_and_goes_on(app, &bob, &c, &next, "alice").await;

    // A signature that does not hold, or another client's token.
    let mut parts: Vec<String> = hint.split('.').map(str::to_owned).collect();
    let mut payload = id_token_claims(&hint);
    payload["sub"] = serde_json::json!(app.user_id("bob").await);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    let forged = parts.join(".");
    let before = counts(app).await;
    for bad in [forged.as_str(), others.as_str(), "not a token"] {
        let res = authorize(app, &alice, &request(&c, &[("id_token_hint", bad)])).await;
        refused(app, &res, "invalid_request");
    }
    assert_eq!(counts(app).await, before, "writes nothing");
}
both_backends!(id_token_hint);

/// `login_hint` fills the login page's username, escaped, and is used for nothing else.
async fn login_hint(app: &TestApp) {
    let c = setup(app).await;
    let browser = app.browser();
    let hint = "bob\"><script>alert(1)</script>";
    let res = authorize(app, &browser, &request(&c, &[("login_hint", hint)])).await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, got) = redirected(&res);
    assert_eq!(param(&got, "login_hint"), Some(hint));
    let html = page(app.page(&browser, &location).await).await;
    assert!(!html.contains("<script>alert"), "escaped: {html}");
    assert!(html.contains("value=\"bob&quot;"), "prefilled: {html}");
    // The hint names bob; alice signs in, and alice it is.
    let next = param(&got, "next").unwrap().to_owned();
    signs_in_and_goes_on(app, &browser, &c, &next, "alice").await;
}
both_backends!(login_hint);

/// An application that asks first: the consent page lists what is shared; Deny sends
/// `access_denied`; Allow gives the code and is remembered, until a wider scope asks
/// again. `prompt=consent` asks every time, also for an application that does not ask.
async fn consent(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    app.add_local("bob", "bob@example.com", false).await;
    let c = asking_client(app).await;
    let first_party = other_client(app).await;
    let browser = signed_in(app, "alice").await;
    let mut narrow = request(&c, &[]);
    narrow[3].1 = "openid profile";
    let html = page(authorize(app, &browser, &narrow).await).await;
    assert!(html.contains("Share your account with Wiki?"), "{html}");
    assert!(html.contains("Your name and username"), "{html}");
    assert!(!html.contains("Your email address"), "{html}");
    let action = form_action(&html);
    let bob = signed_in(app, "bob").await;
    assert_eq!(
        answer(app, &bob, &action, "allow").await.status(),
        400,
        "another browser"
    );
    let res = answer(app, &browser, &action, "deny").await;
    let res = common::continue_page_as_redirect(res).await;
    refused(app, &res, "access_denied");
    assert_eq!(
        counts(app).await[..2],
        [0, 0],
        "no code, the request used up"
    );

    let html = page(authorize(app, &browser, &narrow).await).await;
    let res = answer(app, &browser, &form_action(&html), "allow").await;
    assert_eq!(res.status(), 303);
    let next = res.headers()["location"].to_str().unwrap().to_owned();
    code_at(app, &browser, &next).await;
    // Remembered: no page, and prompt=none gets the code.
    narrow.push(("prompt", "none"));
    let res = authorize(app, &browser, &narrow).await;
    let (_, got) = redirected(&res);
    assert!(param(&got, "code").is_some(), "{got:?}");
    // A wider scope asks again.
    let html = page(authorize(app, &browser, &request(&c, &[])).await).await;
    assert!(html.contains("Your email address"), "{html}");
    assert!(html.contains("The groups you belong to"), "{html}");

    // prompt=consent asks every time, for a first-party application too.
    for _ in 0..2 {
        let res = authorize(
            app,
            &browser,
            &request(&first_party, &[("prompt", "consent")]),
        )
        .await;
        let html = page(res).await;
        assert!(html.contains("Share your account with Other?"), "{html}");
    }
    let res = authorize(app, &browser, &request(&first_party, &[])).await;
    let (_, got) = redirected(&res);
    assert!(
        param(&got, "code").is_some(),
        "first party: no page {got:?}"
    );
}
both_backends!(consent);

/// Someone the application's "who may open it" leaves out is never asked to consent:
/// `access_denied`.
async fn consent_only_for_those_who_may_open_it(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let mut draft = client_draft("Wiki", CB, "basic", "listed", "bob");
    draft.client.consent = true;
    let c = store_client(app, draft).await;
    let browser = signed_in(app, "alice").await;
    refused(
        app,
        &authorize(app, &browser, &request(&c, &[])).await,
        "access_denied",
    );
}
both_backends!(consent_only_for_those_who_may_open_it);

/// "Ask people before sharing" set with the CLI (`--consent`) takes effect at the next
/// request, and off again, no page.
async fn consent_set_by_the_cli(app: &TestApp) {
    let c = setup(app).await;
    let browser = signed_in(app, "alice").await;
    code_for(app, &browser, &c, None).await;
    let run = app.cli(&["app", "update", "Wiki", "--consent", "true"]);
    assert!(run.ok, "{}", run.text());
    let html = page(authorize(app, &browser, &request(&c, &[])).await).await;
    assert!(html.contains("Share your account with Wiki?"), "{html}");
    let run = app.cli(&["app", "update", "Wiki", "--consent", "false"]);
    assert!(run.ok, "{}", run.text());
    code_for(app, &browser, &c, None).await;
}
both_backends!(consent_set_by_the_cli);

/// A sign-in through a provider that does not say when the person signed in there (the test
/// provider sends no `auth_time` unless asked), made apart from an application's request
/// for a new sign-in, does not meet it: its single sign-on may rest on any older sign-in.
/// Asked for through the request, the provider is asked too and its sign-in counts.
async fn a_provider_sign_in_of_unknown_time_is_no_new_sign_in(app: &TestApp) {
    let idp = common::flow::start_idp(app, &["idp"]).await;
    common::flow::add_provider(app, &idp.issuer, "idp", true).await;
    common::flow::enable_oidc(app).await;
    let c = add_client(app, "Wiki", CB, "basic", "users", "").await;
    let browser = app.browser();
    let res = authorize(app, &browser, &request(&c, &[("prompt", "login")])).await;
    let next = to_login(&res);
    let done = common::flow::sign_in(app, &browser, "idp", "alice").await;
    assert!(done.status().is_redirection(), "{}", done.status());
    assert!(
        me(app, &browser).await.is_some(),
        "signed in through the provider"
    );
    let res = browser.get(app.url(&next)).send().await.unwrap();
    assert_eq!(
        to_login(&res),
        next,
        "no code: the provider did not say when"
    );
    // Through the request: the provider is asked for prompt=login and taken at its word.
    let start = format!(
        "/login?provider=idp&next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let started = browser.get(app.url(&start)).send().await.unwrap();
    let done = common::flow::finish(app, &browser, started, "alice").await;
    assert!(done.status().is_redirection(), "{}", done.status());
    code_at(app, &browser, &next).await;
}
both_backends!(a_provider_sign_in_of_unknown_time_is_no_new_sign_in);
