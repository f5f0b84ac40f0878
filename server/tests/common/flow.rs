//! A browser's way through OpenID Connect sign-in and linking against the test provider,
//! shared by the test files that drive it.

use super::TestApp;
use super::idp::Idp;
use portcullis::provider::{ProviderDraft, ProviderSettings};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub const LINKED_ACCOUNTS: &str = "/profile/settings/linked-accounts";

/// The test provider, accepting the redirect URIs of providers `slugs` on `app`.
pub async fn start_idp(app: &TestApp, slugs: &[&str]) -> Idp {
    let uris: Vec<String> = slugs
        .iter()
        .map(|slug| app.url(&format!("/login/{slug}")))
        .collect();
    Idp::start(&uris).await
}

/// Provider `slug` at `issuer` as the test provider's basic client (`Test IdP`).
pub fn draft(issuer: &str, slug: &str, allow_new_users: bool) -> ProviderDraft {
    ProviderDraft {
        name: "Test IdP".into(),
        slug: slug.into(),
        issuer_url: issuer.into(),
        client_id: "portcullis-basic".into(),
        client_secret: "basic-secret".into(),
        settings: ProviderSettings {
            token_auth_method: "auto".into(),
            scopes: "openid, profile, email, portcullis".into(),
            allow_new_users,
            enabled: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The misbehaving provider (`end2end/oidc/misbehaving.mjs`) at `issuer`, as `shady`.
pub fn shady_draft(issuer: &str) -> ProviderDraft {
    ProviderDraft {
        name: "Shady IdP".into(),
        slug: "shady".into(),
        issuer_url: issuer.into(),
        client_id: "portcullis-basic".into(),
        client_secret: "basic-secret".into(),
        settings: ProviderSettings {
            scopes: "openid, profile, email".into(),
            allow_new_users: true,
            enabled: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub async fn enable_oidc(app: &TestApp) {
    portcullis::ssr::providers::set_oidc_enabled(&app.running.db, true, &super::by_cli())
        .await
        .unwrap();
}

/// Adds provider `slug` at `issuer` and turns OpenID Connect sign-in on.
pub async fn add_provider(app: &TestApp, issuer: &str, slug: &str, allow_new_users: bool) {
    app.add_provider(draft(issuer, slug, allow_new_users)).await;
    enable_oidc(app).await;
}

/// The test provider as provider `idp` (Allow New Users on, then changed by `adjust`), with
/// OpenID Connect sign-in on and the administrator `root` (so past first-run setup); returns
/// the provider (stopped when dropped) and the draft as stored.
pub async fn idp_provider(
    app: &TestApp,
    adjust: impl FnOnce(&mut ProviderDraft),
) -> (Idp, ProviderDraft) {
    let idp = start_idp(app, &["idp"]).await;
    let mut d = draft(&idp.issuer, "idp", true);
    adjust(&mut d);
    app.add_provider(d.clone()).await;
    enable_oidc(app).await;
    app.add_user("root", "root password", true).await;
    (idp, d)
}

/// The Location header, resolved against the request's URL.
pub fn location(res: &Response) -> String {
    res.url().join(&raw_location(res)).unwrap().to_string()
}

/// The Location header as sent (relative paths stay relative).
pub fn raw_location(res: &Response) -> String {
    res.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on {} {}", res.status(), res.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Runs the provider's side for `user`: from Portcullis's redirect to the provider, through
/// its login form, back to the callback URL on Portcullis (returned, not followed).
pub async fn at_provider(client: &Client, app_base: &str, start: Response, user: &str) -> String {
    assert!(
        start.status().is_redirection(),
        "start: {} {:?}",
        start.status(),
        start.text().await
    );
    let mut url = location(&start);
    for _ in 0..20 {
        if url.starts_with(app_base) {
            return url;
        }
        let res = client.get(&url).send().await.unwrap();
        if res.status().is_redirection() {
            url = location(&res);
            continue;
        }
        assert_eq!(res.status(), StatusCode::OK, "at the provider: {url}");
        assert!(
            res.url().path().starts_with("/interaction/"),
            "{}",
            res.url()
        );
        let posted = client
            .post(res.url().clone())
            .form(&[("prompt", "login"), ("login", user), ("password", "any")])
            .send()
            .await
            .unwrap();
        assert!(
            posted.status().is_redirection(),
            "login form: {}",
            posted.status()
        );
        url = location(&posted);
    }
    panic!("the provider never sent the browser back");
}

/// Gets `path` on the app as a link or redirect would (a sign-in start such as
/// `/login?provider=<slug>&next=...`, or a callback).
pub async fn visit(app: &TestApp, client: &Client, path: &str) -> Response {
    client.get(app.url(path)).send().await.unwrap()
}

/// Starts a sign-in with provider `slug`.
pub async fn start(app: &TestApp, client: &Client, slug: &str) -> Response {
    visit(app, client, &format!("/login?provider={slug}")).await
}

/// Starts a link as the Linked Accounts page does: a form post with the token.
pub async fn start_link(app: &TestApp, client: &Client, slug: &str, token: &str) -> Response {
    let res = client
        .post(app.url(&format!("/login/{slug}/link")))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    super::continue_page_as_redirect(res).await
}

/// From a start to Portcullis's answer to the callback, logging in as `user`.
pub async fn finish(app: &TestApp, client: &Client, start: Response, user: &str) -> Response {
    let callback = at_provider(client, &app.base, start, user).await;
    client.get(&callback).send().await.unwrap()
}

/// A whole sign-in with provider `slug` as `user`; returns Portcullis's answer to the
/// callback.
pub async fn sign_in(app: &TestApp, client: &Client, slug: &str, user: &str) -> Response {
    finish(app, client, start(app, client, slug).await, user).await
}

/// A sign-in with provider `slug` as `user` in `client` that is refused: back on the login
/// page, not signed in, the page showing `says`. Returns that page.
pub async fn refused_sign_in(
    app: &TestApp,
    client: &Client,
    slug: &str,
    user: &str,
    says: &str,
) -> String {
    let res = sign_in(app, client, slug, user).await;
    assert_eq!(raw_location(&res), "/login", "{slug} {user}: refused");
    assert!(
        me(app, client).await.is_none(),
        "{slug} {user}: not signed in"
    );
    let page = page_text(app, client, "/login").await;
    assert!(shows(&page, says), "{slug} {user}: {}", alert(&page));
    page
}

/// A signed-in browser starts a link with provider `slug` (a fresh token from the Linked
/// Accounts page) and logs in there as `user`; returns the callback URL, not followed.
pub async fn link_callback(app: &TestApp, client: &Client, slug: &str, user: &str) -> String {
    let token = link_token(app, client).await;
    let started = start_link(app, client, slug, &token).await;
    at_provider(client, &app.base, started, user).await
}

/// A whole link with provider `slug` as `user`; returns Portcullis's answer to the
/// callback.
pub async fn link(app: &TestApp, client: &Client, slug: &str, user: &str) -> Response {
    let callback = link_callback(app, client, slug, user).await;
    client.get(&callback).send().await.unwrap()
}

/// Who the browser is signed in as (`None` when signed out).
pub async fn me(app: &TestApp, client: &Client) -> Option<Value> {
    let res = client.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    match res.status() {
        StatusCode::OK => Some(res.json().await.unwrap()),
        StatusCode::UNAUTHORIZED => None,
        other => panic!("/api/v1/auth/me answered {other}"),
    }
}

/// The page as rendered (with the message a callback or form post left for it).
pub async fn page_text(app: &TestApp, client: &Client, path: &str) -> String {
    app.page(client, path).await.text().await.unwrap()
}

/// Whether `page` shows `text` (an apostrophe may be written as an HTML entity).
pub fn shows(page: &str, text: &str) -> bool {
    ["'", "&#x27;", "&#39;", "&apos;"]
        .iter()
        .any(|q| page.contains(&text.replace('\'', q)))
}

/// The alert part of a page, for assertion messages.
pub fn alert(page: &str) -> &str {
    page.find("role=\"alert\"")
        .map_or("(no alert)", |k| &page[k..(k + 400).min(page.len())])
}

/// Server function `endpoint` called as `client` with no arguments: its JSON answer.
pub async fn call_json(app: &TestApp, client: &Client, endpoint: &str) -> Value {
    let res = app.call(client, endpoint, &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "{endpoint}");
    res.json().await.unwrap()
}

/// The body of an answer that must have `status`.
pub async fn body_with(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status, "{}", res.url());
    res.text().await.unwrap()
}

pub async fn link_token(app: &TestApp, client: &Client) -> String {
    let v = call_json(app, client, "account/linked_accounts").await;
    v["link_token"].as_str().unwrap().to_owned()
}

/// Signs `client` in as `name` with the password `<name> password`.
pub async fn password_sign_in(app: &TestApp, client: &Client, name: &str) {
    let res = app.login(client, name, &format!("{name} password")).await;
    assert_eq!(res.status(), StatusCode::OK, "{name} signs in");
}

/// Password sign-in as `name` (password `<name> password`) is refused: it is turned off.
pub async fn password_sign_in_is_off(app: &TestApp, client: &Client, name: &str) {
    let res = app.login(client, name, &format!("{name} password")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
    let body = res.text().await.unwrap();
    assert!(body.contains("Password sign-in is turned off"), "{body}");
}

/// A fresh browser signed in as `name` (password `<name> password`).
pub async fn signed_in(app: &TestApp, name: &str) -> Client {
    let client = app.browser();
    password_sign_in(app, &client, name).await;
    client
}

/// Adds user `name` (password `<name> password`; an administrator when `admin`): a fresh
/// browser signed in as them.
pub async fn add_signed_in(app: &TestApp, name: &str, admin: bool) -> Client {
    app.add_user(name, &format!("{name} password"), admin).await;
    signed_in(app, name).await
}

pub async fn user_count(app: &TestApp) -> i64 {
    portcullis::ssr::users::count(&app.running.db)
        .await
        .unwrap()
}
