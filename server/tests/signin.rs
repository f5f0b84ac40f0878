//! Sign-in and linking with OpenID Connect against a real OpenID Provider (npm
//! `oidc-provider`), on SQLite and PostgreSQL.

use crate::common;

use common::TestApp;
use common::flow::{
    LINKED_ACCOUNTS, add_signed_in, alert, at_provider, call_json, draft, enable_oidc, finish,
    link, link_token, me, page_text, sign_in, signed_in, start, start_idp, start_link, user_count,
    visit,
};
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
    let idp = start_idp(app, &["idp", "idp-post", "idp-wrong", "idp2"]).await;
    add_provider(app, &idp, SLUG, allow_new_users, required_claims).await;
    enable_oidc(app).await;
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
    let mut d = ProviderDraft {
        client_id: client.0.into(),
        client_secret: client.1.into(),
        ..draft(&idp.issuer, slug, allow_new_users)
    };
    d.settings.token_auth_method = client.2.into();
    d.settings.required_claims = required_claims.into();
    app.add_provider(d).await;
}

async fn link_then_sign_in(app: &TestApp) {
    let _s = setup(app, false, "portcullis_user").await;
    app.add_user("alice-local", "alice password", false).await;

    // Not linked yet, new users off: refused, nothing created.
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[REFERRER_POLICY], "no-referrer");
    assert_refused(
        app,
        &b,
        &res,
        "No account is linked to this Test IdP identity",
    )
    .await;
    assert_eq!(user_count(app).await, 1);

    // Link from the profile.
    assert_eq!(
        app.login(&b, "alice-local", "alice password")
            .await
            .status(),
        StatusCode::OK
    );
    let token = link_token(app, &b).await;
    let bad = start_link(app, &b, "idp", "forged").await;
    assert_eq!(
        bad.headers()[LOCATION],
        LINKED_ACCOUNTS,
        "a forged link token does not start a link"
    );
    let res = finish(app, &b, start_link(app, &b, "idp", &token).await, "alice").await;
    assert_eq!(res.headers()[LOCATION], LINKED_ACCOUNTS);
    let page = page_text(app, &b, LINKED_ACCOUNTS).await;
    assert!(
        page.contains("Your Test IdP account is now linked."),
        "{page}"
    );
    let v = call_json(app, &b, "account/linked_accounts").await;
    assert_eq!(v["links"][0]["provider_slug"], "idp");
    assert_eq!(v["links"][0]["label"], "alice");
    assert_eq!(v["available"].as_array().unwrap().len(), 0);

    // Sign in with it from a fresh browser: the session is the linked user's.
    let fresh = app.browser();
    let started = visit(
        app,
        &fresh,
        "/login?provider=idp&next=%2Fprofile%2Fsettings",
    )
    .await;
    let res = finish(app, &fresh, started, "alice").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION],
        "/profile/settings",
        "returns where it was asked to"
    );
    assert_eq!(me(app, &fresh).await.unwrap()["username"], "alice-local");

    // Another local user cannot link the same identity.
    let m = add_signed_in(app, "mallory", false).await;
    let res = link(app, &m, "idp", "alice").await;
    assert_eq!(res.headers()[LOCATION], LINKED_ACCOUNTS);
    assert!(
        page_text(app, &m, LINKED_ACCOUNTS)
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
    let n = add_signed_in(app, "nina", false).await;
    let _ = link(app, &n, "idp", "bob").await;
    assert!(
        page_text(app, &n, LINKED_ACCOUNTS)
            .await
            .contains("not allowed to sign in here")
    );

    // Unlink (alice-local has a password, so it is allowed).
    assert_eq!(
        app.call_status(&b, "account/unlink", &[("slug", "idp")])
            .await,
        StatusCode::OK
    );
    let again = app.browser();
    let _ = sign_in(app, &again, "idp", "alice").await;
    assert!(
        me(app, &again).await.is_none(),
        "unlinked identities no longer sign in"
    );

    // The audit log: the link and the unlink, by alice-local herself; the refused sign-ins.
    use portcullis::audit::EventKind;
    let linked = app.events_of(EventKind::IdentityLinked).await;
    assert_eq!(linked.len(), 1, "{linked:#?}");
    assert_eq!(linked[0].by.actor, "alice-local");
    assert_eq!(linked[0].details["how"], "by_user");
    let unlinked = app.events_of(EventKind::IdentityUnlinked).await;
    assert_eq!(unlinked.len(), 1, "{unlinked:#?}");
    assert_eq!(unlinked[0].target.as_deref(), Some("alice-local"));
    assert_eq!(unlinked[0].details["provider"], "idp");
    let refused = app.events_of(EventKind::SignInFailed).await;
    assert!(
        refused
            .iter()
            .any(|e| e.details["reason"] == "identity_refused" && e.details["provider"] == "idp"),
        "{refused:#?}"
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
        let res = sign_in(app, &b, "idp", user).await;
        assert_eq!(res.headers()[LOCATION], "/login", "{user}");
        assert!(me(app, &b).await.is_none(), "{user}");
        let page = page_text(app, &b, "/login").await;
        assert!(page.contains(expect), "{user}: {page}");
        assert!(page.contains("Test IdP"), "names the provider");
    }
    assert_eq!(user_count(app).await, before, "nothing created");

    // Alice is allowed and new: an account is created and linked.
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/");
    let user = me(app, &b).await.unwrap();
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@idp.example");
    assert_eq!(user["display_name"], "Alice Idp");
    assert_eq!(user["admin"], false);
    assert_eq!(user_count(app).await, before + 1);

    // Her second sign-in finds the same account.
    let b2 = app.browser();
    let _ = sign_in(app, &b2, "idp", "alice").await;
    assert_eq!(me(app, &b2).await.unwrap()["id"], user["id"]);
    assert_eq!(user_count(app).await, before + 1);

    // She has no password: unlinking her only identity is refused.
    let res = app.call(&b2, "account/unlink", &[("slug", "idp")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("only way to sign in"));

    // Deleting the provider deletes the link; re-creating the slug does not revive it.
    portcullis::ssr::providers::delete(&app.running.db, SLUG, &common::by_cli())
        .await
        .unwrap();
    add_provider(app, &_s.idp, SLUG, false, "").await;
    let b3 = app.browser();
    let _ = sign_in(app, &b3, "idp", "alice").await;
    assert!(me(app, &b3).await.is_none());
    assert!(
        page_text(app, &b3, "/login")
            .await
            .contains("No account is linked")
    );
}
both_backends!(new_users_and_required_claims);

async fn state_is_single_use_and_bound_to_the_browser(app: &TestApp) {
    let _s = setup(app, true, "").await;
    // Browser A starts and logs in at the provider; browser B gets the callback URL.
    let a = app.browser();
    let started = start(app, &a, "idp").await;
    let callback = at_provider(&a, &app.base, started, "alice").await;
    let b = app.browser();
    let res = b.get(&callback).send().await.unwrap();
    assert_refused(app, &b, &res, "started in another browser").await;

    // A finishes normally; replaying the same callback fails.
    let res = a.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/");
    assert_eq!(me(app, &a).await.unwrap()["username"], "alice");
    let replay = app.browser();
    let _ = start(app, &replay, "idp").await; // gets a binding cookie
    let res = a.get(&callback).send().await.unwrap();
    assert_eq!(
        res.headers()[LOCATION],
        LINKED_ACCOUNTS,
        "signed in: errors go to the profile"
    );
    assert!(
        page_text(app, &a, LINKED_ACCOUNTS)
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
            page_text(app, &c, "/login").await.contains(expect),
            "{query}"
        );
    }

    // A mix-up: the callback claims another issuer (RFC 9207).
    let d = app.browser();
    let started = start(app, &d, "idp").await;
    let callback = at_provider(&d, &app.base, started, "alice").await;
    let forged = callback.replace("iss=http", "iss=https");
    assert_ne!(forged, callback, "the provider sends iss: {callback}");
    let _ = d.get(&forged).send().await.unwrap();
    assert!(me(app, &d).await.is_none());
    assert!(
        page_text(app, &d, "/login")
            .await
            .contains("issuer mismatch")
    );
    // Without iss at all, from a provider that advertises it: refused too.
    let e = app.browser();
    let started = start(app, &e, "idp").await;
    let callback = at_provider(&e, &app.base, started, "alice").await;
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
    let res = start(app, &b, "idp").await;
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(
        page_text(app, &b, "/login")
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
    let started = start(&a, &browser, "idp").await;
    let callback = at_provider(&browser, &a.base, started, "alice").await;
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
    let res = sign_in(app, &b, "idp-post", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/");
    assert_eq!(me(app, &b).await.unwrap()["username"], "alice");

    // A wrong client secret is refused at the token endpoint: a clear error, no session.
    let w = app.browser();
    let res = sign_in(app, &w, "idp-wrong", "alice").await;
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(me(app, &w).await.is_none());
    let page = page_text(app, &w, "/login").await;
    assert!(
        page.contains("did not complete the sign-in"),
        "{}",
        alert(&page)
    );
}
both_backends!(client_secret_post_when_configured);

/// A refused sign-in: back to the login page, nobody signed in, `message` shown there.
async fn assert_refused(app: &TestApp, client: &Client, res: &Response, message: &str) {
    assert_eq!(res.headers()[LOCATION], "/login");
    assert!(me(app, client).await.is_none());
    let page = page_text(app, client, "/login").await;
    assert!(page.contains(message), "{message}: {}", alert(&page));
}

/// The id of the user `client` is signed in as.
async fn user_id(app: &TestApp, client: &Client) -> String {
    me(app, client).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `admin/unlink_user` for the `idp` identity of user `user_id`, as `client`.
async fn unlink_user(app: &TestApp, client: &Client, user_id: &str) -> StatusCode {
    let form = [("user_id", user_id), ("slug", "idp")];
    app.call(client, "admin/unlink_user", &form).await.status()
}

async fn users_settings(app: &TestApp, client: &Client) -> Value {
    call_json(app, client, "admin/users_settings").await
}

async fn admins_unlink_other_users_identities(app: &TestApp) {
    let _s = setup(app, true, "").await;
    app.add_user("root", "root password", true).await;
    app.add_user("gus", "gus password", false).await;
    // Gus links the provider's alice identity.
    let g = signed_in(app, "gus").await;
    let _ = link(app, &g, "idp", "alice").await;
    let gus_id = user_id(app, &g).await;

    // Gus himself may not use the admin function.
    assert_eq!(unlink_user(app, &g, &gus_id).await, StatusCode::FORBIDDEN);

    let root = signed_in(app, "root").await;
    let settings = users_settings(app, &root).await;
    assert_eq!(settings["links"][0][0], gus_id.as_str());
    assert_eq!(settings["links"][0][1]["label"], "alice");
    let page = page_text(app, &root, "/settings/users").await;
    assert!(page.contains("Unlink Test IdP from gus"));
    assert_eq!(unlink_user(app, &root, &gus_id).await, StatusCode::OK);
    let settings = users_settings(app, &root).await;
    assert_eq!(settings["links"].as_array().unwrap().len(), 0);

    // An OIDC-only account keeps its last way in, even against an admin.
    let a = app.browser();
    let _ = sign_in(app, &a, "idp", "bob").await;
    let bob_id = user_id(app, &a).await;
    assert_eq!(unlink_user(app, &root, &bob_id).await, StatusCode::CONFLICT);
}
both_backends!(admins_unlink_other_users_identities);
