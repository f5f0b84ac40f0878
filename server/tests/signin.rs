//! Sign-in and linking with OpenID Connect against a real OpenID Provider (npm
//! `oidc-provider`), on SQLite and PostgreSQL.

mod common;

use common::TestApp;
use common::idp::Idp;
use portcullis::provider::ProviderDraft;
use reqwest::header::{LOCATION, REFERRER_POLICY};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

const SLUG: &str = "idp";

struct Setup {
    idp: Idp,
}

async fn setup(app: &TestApp, allow_new_users: bool, required_claims: &str) -> Setup {
    // Each provider entry has its own redirect URI (`/login/<slug>`).
    let uris: Vec<String> = ["idp", "idp-post", "idp-wrong", "idp2"]
        .iter()
        .map(|slug| format!("{}/login/{slug}", app.base))
        .collect();
    let idp = Idp::start(&uris).await;
    add_provider(app, &idp, SLUG, allow_new_users, required_claims).await;
    portcullis::ssr::providers::set_oidc_enabled(&app.running.db, true)
        .await
        .unwrap();
    Setup { idp }
}

async fn add_provider(
    app: &TestApp,
    idp: &Idp,
    slug: &str,
    allow_new_users: bool,
    required_claims: &str,
) {
    let client = ("portcullis-basic", "basic-secret", "auto");
    add_client(app, idp, slug, allow_new_users, required_claims, client).await
}

/// A provider entry for one of the test provider's clients: (id, secret, auth method).
async fn add_client(
    app: &TestApp,
    idp: &Idp,
    slug: &str,
    allow_new_users: bool,
    required_claims: &str,
    client: (&str, &str, &str),
) {
    app.add_provider(ProviderDraft {
        name: "Test IdP".into(),
        slug: slug.into(),
        issuer_url: idp.issuer.clone(),
        client_id: client.0.into(),
        client_secret: client.1.into(),
        token_auth_method: client.2.into(),
        scopes: "openid, profile, email, portcullis".into(),
        required_claims: required_claims.into(),
        allow_new_users,
        enabled: true,
        ..Default::default()
    })
    .await;
}

fn location(res: &Response) -> String {
    let loc = res
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on {} {}", res.status(), res.url()))
        .to_str()
        .unwrap();
    res.url().join(loc).unwrap().to_string()
}

/// Runs the provider's side for `user`: from Portcullis's redirect to the provider, through
/// its login form, back to the callback URL on Portcullis (returned, not followed).
async fn at_provider(client: &Client, app_base: &str, start: Response, user: &str) -> String {
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

/// The whole round trip; returns Portcullis's answer to the callback. A start path with
/// `link=<token>` links instead, as the Linked Accounts page does: a form post to
/// `/login/<slug>/link` (the token never travels in a URL).
async fn sign_in(app: &TestApp, client: &Client, start_path: &str, user: &str) -> Response {
    let start = start_request(app, client, start_path).await;
    let callback = at_provider(client, &app.base, start, user).await;
    client.get(&callback).send().await.unwrap()
}

async fn start_request(app: &TestApp, client: &Client, start_path: &str) -> Response {
    let url = url::Url::parse(&app.url(start_path)).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match (param("provider"), param("link")) {
        (Some(slug), Some(token)) => {
            let res = client
                .post(app.url(&format!("/login/{slug}/link")))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            common::continue_page_as_redirect(res).await
        }
        _ => client.get(url).send().await.unwrap(),
    }
}

async fn me(app: &TestApp, client: &Client) -> Option<Value> {
    let res = client.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    (res.status() == StatusCode::OK).then_some(res.json().await.unwrap())
}

/// The message the next page would show (flash), as the login page renders it.
async fn shown_error(app: &TestApp, client: &Client, page: &str) -> String {
    app.page(client, page).await.text().await.unwrap()
}

async fn user_count(app: &TestApp) -> i64 {
    portcullis::ssr::users::count(&app.running.db)
        .await
        .unwrap()
}

async fn link_token(app: &TestApp, client: &Client) -> String {
    let res = app.call(client, "account/linked_accounts", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    v["link_token"].as_str().unwrap().to_owned()
}

async fn link_then_sign_in(app: &TestApp) {
    let _s = setup(app, false, "portcullis_user").await;
    app.add_user("alice-local", "alice password", false).await;

    // Not linked yet, new users off: refused, nothing created.
    let b = app.browser();
    let res = sign_in(app, &b, "/login?provider=idp", "alice").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[REFERRER_POLICY], "no-referrer");
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(me(app, &b).await.is_none());
    assert!(
        shown_error(app, &b, "/login")
            .await
            .contains("No account is linked to this Test IdP identity")
    );
    assert_eq!(user_count(app).await, 1);

    // Link from the profile.
    assert_eq!(
        app.login(&b, "alice-local", "alice password")
            .await
            .status(),
        StatusCode::OK
    );
    let token = link_token(app, &b).await;
    let bad = start_request(app, &b, "/login?provider=idp&link=forged").await;
    assert_eq!(
        bad.headers()[LOCATION],
        "/profile/settings/linked-accounts",
        "a forged link token does not start a link"
    );
    let res = sign_in(
        app,
        &b,
        &format!("/login?provider=idp&link={token}"),
        "alice",
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/profile/settings/linked-accounts");
    let page = shown_error(app, &b, "/profile/settings/linked-accounts").await;
    assert!(
        page.contains("Your Test IdP account is now linked."),
        "{page}"
    );
    let v: Value = app
        .call(&b, "account/linked_accounts", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["links"][0]["provider_slug"], "idp");
    assert_eq!(v["links"][0]["label"], "alice");
    assert_eq!(v["available"].as_array().unwrap().len(), 0);

    // Sign in with it from a fresh browser: the session is the linked user's.
    let fresh = app.browser();
    let res = sign_in(
        app,
        &fresh,
        "/login?provider=idp&next=%2Fprofile%2Fsettings",
        "alice",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION],
        "/profile/settings",
        "returns where it was asked to"
    );
    assert_eq!(me(app, &fresh).await.unwrap()["username"], "alice-local");

    // Another local user cannot link the same identity.
    app.add_user("mallory", "mallory password", false).await;
    let m = app.browser();
    assert_eq!(
        app.login(&m, "mallory", "mallory password").await.status(),
        StatusCode::OK
    );
    let token = link_token(app, &m).await;
    let res = sign_in(
        app,
        &m,
        &format!("/login?provider=idp&link={token}"),
        "alice",
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/profile/settings/linked-accounts");
    assert!(
        shown_error(app, &m, "/profile/settings/linked-accounts")
            .await
            .contains("already linked to another account")
    );
    assert_eq!(
        me(app, &m).await.unwrap()["username"],
        "mallory",
        "the session never switches users"
    );

    // Required claims apply to linking too: bob's claim is false (a fresh browser, so the
    // provider asks who is signing in).
    app.add_user("nina", "nina password", false).await;
    let n = app.browser();
    assert_eq!(
        app.login(&n, "nina", "nina password").await.status(),
        StatusCode::OK
    );
    let token = link_token(app, &n).await;
    let _ = sign_in(app, &n, &format!("/login?provider=idp&link={token}"), "bob").await;
    assert!(
        shown_error(app, &n, "/profile/settings/linked-accounts")
            .await
            .contains("not allowed to sign in here")
    );

    // Unlink (alice-local has a password, so it is allowed).
    let res = app.call(&b, "account/unlink", &[("slug", "idp")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = app.browser();
    let _ = sign_in(app, &again, "/login?provider=idp", "alice").await;
    assert!(
        me(app, &again).await.is_none(),
        "unlinked identities no longer sign in"
    );
}
both_backends!(link_then_sign_in);

async fn new_users_and_required_claims(app: &TestApp) {
    let _s = setup(app, true, "portcullis_user").await;
    app.add_user("erin-local", "erin password", false).await;
    // erin-local's email is erin-local@example.com; make an IdP email clash:
    portcullis::on_pool!(&app.running.db, pool => sqlx::query("UPDATE users SET email = 'taken@example.com' WHERE username = 'erin-local'").execute(pool).await.map(|_| ())).unwrap();
    let before = user_count(app).await;
    for (user, expect) in [
        ("bob", "not allowed to sign in here"),   // claim false
        ("carol", "not allowed to sign in here"), // claim missing
        ("dave", "not allowed to sign in here"),  // claim "true" (a string, not a boolean)
        ("erin", "already exists here"),          // email belongs to another account
    ] {
        let b = app.browser();
        let res = sign_in(app, &b, "/login?provider=idp", user).await;
        assert_eq!(res.headers()[LOCATION], "/login", "{user}");
        assert!(me(app, &b).await.is_none(), "{user}");
        let page = shown_error(app, &b, "/login").await;
        assert!(page.contains(expect), "{user}: {page}");
        assert!(page.contains("Test IdP"), "names the provider");
    }
    assert_eq!(user_count(app).await, before, "nothing created");

    // Alice is allowed and new: an account is created and linked.
    let b = app.browser();
    let res = sign_in(app, &b, "/login?provider=idp", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/");
    let user = me(app, &b).await.unwrap();
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@idp.example");
    assert_eq!(user["display_name"], "Alice Idp");
    assert_eq!(user["admin"], false);
    assert_eq!(user_count(app).await, before + 1);

    // Her second sign-in finds the same account.
    let b2 = app.browser();
    let _ = sign_in(app, &b2, "/login?provider=idp", "alice").await;
    assert_eq!(me(app, &b2).await.unwrap()["id"], user["id"]);
    assert_eq!(user_count(app).await, before + 1);

    // She has no password: unlinking her only identity is refused.
    let res = app.call(&b2, "account/unlink", &[("slug", "idp")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("only way to sign in"));

    // Deleting the provider deletes the link; re-creating the slug does not revive it.
    portcullis::ssr::providers::delete(&app.running.db, SLUG)
        .await
        .unwrap();
    add_provider(app, &_s.idp, SLUG, false, "").await;
    let b3 = app.browser();
    let _ = sign_in(app, &b3, "/login?provider=idp", "alice").await;
    assert!(me(app, &b3).await.is_none());
    assert!(
        shown_error(app, &b3, "/login")
            .await
            .contains("No account is linked")
    );
}
both_backends!(new_users_and_required_claims);

async fn state_is_single_use_and_bound_to_the_browser(app: &TestApp) {
    let _s = setup(app, true, "").await;
    // Browser A starts and logs in at the provider; browser B gets the callback URL.
    let a = app.browser();
    let start = a.get(app.url("/login?provider=idp")).send().await.unwrap();
    let callback = at_provider(&a, &app.base, start, "alice").await;
    let b = app.browser();
    let res = b.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(me(app, &b).await.is_none());
    assert!(
        shown_error(app, &b, "/login")
            .await
            .contains("started in another browser")
    );

    // A finishes normally; replaying the same callback fails.
    let res = a.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/");
    assert_eq!(me(app, &a).await.unwrap()["username"], "alice");
    let replay = app.browser();
    let _ = replay
        .get(app.url("/login?provider=idp"))
        .send()
        .await
        .unwrap(); // gets a binding cookie
    let res = a.get(&callback).send().await.unwrap();
    assert_eq!(
        res.headers()[LOCATION],
        "/profile/settings/linked-accounts",
        "signed in: errors go to the profile"
    );
    assert!(
        shown_error(app, &a, "/profile/settings/linked-accounts")
            .await
            .contains("already been used")
    );

    // Unknown state, no state, and an error from the provider.
    let c = app.browser();
    for (query, expect) in [
        (
            "/login?code=x&state=made-up",
            "already been used or was never started",
        ),
        (
            "/login?error=access_denied&state=made-up",
            "already been used or was never started",
        ),
    ] {
        let res = c.get(app.url(query)).send().await.unwrap();
        assert_eq!(res.headers()[LOCATION], "/login", "{query}");
        assert!(
            shown_error(app, &c, "/login").await.contains(expect),
            "{query}"
        );
    }

    // A mix-up: the callback claims another issuer (RFC 9207).
    let d = app.browser();
    let start = d.get(app.url("/login?provider=idp")).send().await.unwrap();
    let callback = at_provider(&d, &app.base, start, "alice").await;
    let forged = callback.replace("iss=http", "iss=https");
    assert_ne!(forged, callback, "the provider sends iss: {callback}");
    let _ = d.get(&forged).send().await.unwrap();
    assert!(me(app, &d).await.is_none());
    assert!(
        shown_error(app, &d, "/login")
            .await
            .contains("issuer mismatch")
    );
    // Without iss at all, from a provider that advertises it: refused too.
    let e = app.browser();
    let start = e.get(app.url("/login?provider=idp")).send().await.unwrap();
    let callback = at_provider(&e, &app.base, start, "alice").await;
    let mut url = url::Url::parse(&callback).unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let _ = e.get(url.as_str()).send().await.unwrap();
    assert!(me(app, &e).await.is_none());
}
both_backends!(state_is_single_use_and_bound_to_the_browser);

async fn provider_down_is_a_clear_error(app: &TestApp) {
    let s = setup(app, true, "").await;
    app.add_user("root", "root password", true).await;
    drop(s); // the provider stops
    let b = app.browser();
    let res = b.get(app.url("/login?provider=idp")).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(
        shown_error(app, &b, "/login")
            .await
            .contains("Test IdP could not be reached")
    );
    assert_eq!(
        app.page(&b, "/login").await.status(),
        StatusCode::OK,
        "the app stays up"
    );
}
both_backends!(provider_down_is_a_clear_error);

#[tokio::test]
async fn two_servers_share_one_postgres_database() {
    let a = TestApp::spawn_with(common::Backend::Postgres, |c| {
        c.secret_key = Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into());
    })
    .await;
    let _s = setup(&a, true, "").await;
    // Replica B: same database and key, same public URL (behind one load balancer).
    let b = a
        .replica(|c| {
            c.public_url = Some(url::Url::parse(&a.base).unwrap());
        })
        .await;
    let browser = a.browser();
    let start = browser
        .get(a.url("/login?provider=idp"))
        .send()
        .await
        .unwrap();
    let callback = at_provider(&browser, &a.base, start, "alice").await;
    let on_b = callback.replace(&a.base, &format!("http://{}", b.addr));
    let res = browser.get(&on_b).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/", "finished on the other server");
    let me_b = browser
        .get(format!("http://{}/api/v1/auth/me", b.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(me_b.status(), StatusCode::OK);
    b.stop().await;
    a.stop().await;
}

async fn client_secret_post_when_configured(app: &TestApp) {
    let s = setup(app, true, "").await;
    app.add_user("root", "root password", true).await;
    // The provider's "portcullis-post" client accepts only client_secret_post.
    add_client(
        app,
        &s.idp,
        "idp-post",
        true,
        "",
        ("portcullis-post", "post-secret", "client_secret_post"),
    )
    .await;
    add_client(
        app,
        &s.idp,
        "idp-wrong",
        true,
        "",
        ("portcullis-post", "not-the-secret", "client_secret_post"),
    )
    .await;
    let b = app.browser();
    let res = sign_in(app, &b, "/login?provider=idp-post", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/");
    assert_eq!(me(app, &b).await.unwrap()["username"], "alice");

    // A wrong client secret is refused at the token endpoint: a clear error, no session.
    let w = app.browser();
    let res = sign_in(app, &w, "/login?provider=idp-wrong", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(me(app, &w).await.is_none());
    let page = shown_error(app, &w, "/login").await;
    let alert = page
        .find("role=\"alert\"")
        .map_or("", |k| &page[k..(k + 300).min(page.len())]);
    assert!(page.contains("did not complete the sign-in"), "{alert}");
}
both_backends!(client_secret_post_when_configured);

async fn admins_unlink_other_users_identities(app: &TestApp) {
    let _s = setup(app, true, "").await;
    app.add_user("root", "root password", true).await;
    app.add_user("gus", "gus password", false).await;
    // Gus links the provider's alice identity.
    let g = app.browser();
    assert_eq!(
        app.login(&g, "gus", "gus password").await.status(),
        StatusCode::OK
    );
    let token = link_token(app, &g).await;
    let _ = sign_in(
        app,
        &g,
        &format!("/login?provider=idp&link={token}"),
        "alice",
    )
    .await;
    let gus_id = me(app, &g).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Gus himself may not use the admin function.
    let res = app
        .call(
            &g,
            "admin/unlink_user",
            &[("user_id", &gus_id), ("slug", "idp")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let root = app.browser();
    assert_eq!(
        app.login(&root, "root", "root password").await.status(),
        StatusCode::OK
    );
    let settings: Value = app
        .call(&root, "admin/users_settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["links"][0][0], gus_id.as_str());
    assert_eq!(settings["links"][0][1]["label"], "alice");
    let page = app
        .page(&root, "/settings/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Unlink Test IdP from gus"));
    let res = app
        .call(
            &root,
            "admin/unlink_user",
            &[("user_id", &gus_id), ("slug", "idp")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let settings: Value = app
        .call(&root, "admin/users_settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["links"].as_array().unwrap().len(), 0);

    // An OIDC-only account keeps its last way in, even against an admin.
    let a = app.browser();
    let _ = sign_in(app, &a, "/login?provider=idp", "bob").await;
    let bob_id = me(app, &a).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .call(
            &root,
            "admin/unlink_user",
            &[("user_id", &bob_id), ("slug", "idp")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}
both_backends!(admins_unlink_other_users_identities);
