//! Accounts and sessions over HTTP, on SQLite and PostgreSQL: first-run setup, sign-in,
//! sign-out, `/api/v1/auth/me`, admin refusal, bad input, forms without JavaScript.

use crate::common;

use common::TestApp;
use common::flow::{add_signed_in, body_with, call_json, signed_in, user_count};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

const SESSION: &str = "portcullis_session";

async fn me(app: &TestApp, client: &Client) -> (StatusCode, Value) {
    let res = client.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Adds user `name` (not an admin, password `<name> password`); a fresh browser, signed out.
async fn user_browser(app: &TestApp, name: &str) -> Client {
    app.add_user(name, &format!("{name} password"), false).await;
    app.browser()
}

/// First-run setup as `client` with (username, email, display name, password).
async fn run_setup(app: &TestApp, client: &Client, account: [&str; 4]) -> Response {
    let [username, email, display_name, password] = account;
    let form = [
        ("username", username),
        ("email", email),
        ("display_name", display_name),
        ("password", password),
    ];
    app.call(client, "auth/setup", &form).await
}

/// `/api/v1/auth/me`'s status for a fresh browser that presents session cookie `cookie`.
async fn me_with_cookie(app: &TestApp, cookie: &str) -> StatusCode {
    let req = app.browser().get(app.url("/api/v1/auth/me"));
    req.header("cookie", cookie).send().await.unwrap().status()
}

fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(SESSION))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn first_run_setup_creates_one_admin_once(app: &TestApp) {
    let browser = app.browser();
    assert_eq!(me(app, &browser).await.0, StatusCode::UNAUTHORIZED);

    // A new installation sends everyone to /setup.
    let res = app.page(&browser, "/login").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[LOCATION], "/setup");

    let bad = run_setup(app, &browser, ["", "nope", "", "short"]).await;
    let body = body_with(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["username", "email", "password"] {
        assert!(
            body.contains(&format!("\"field\":\"{field}\"")),
            "{field} in {body}"
        );
    }
    assert_eq!(user_count(app).await, 0);

    let ok = run_setup(
        app,
        &browser,
        ["root", "root@example.com", "The Admin", "a long password"],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK, "{:?}", ok.text().await);
    let (status, user) = me(app, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["username"], "root");
    assert_eq!(user["email"], "root@example.com");
    assert_eq!(user["display_name"], "The Admin");
    assert_eq!(user["admin"], true);
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        user.as_object().unwrap().len(),
        5,
        "exactly the contract: {user}"
    );

    // A second visitor cannot run setup again.
    let intruder = app.browser();
    let again = run_setup(
        app,
        &intruder,
        ["mallory", "m@example.com", "", "another password"],
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Setup is already complete")
    );
    assert_eq!(me(app, &intruder).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(user_count(app).await, 1);
    let page = app.page(&intruder, "/setup").await.text().await.unwrap();
    assert!(page.contains("Setup is complete"));
}
both_backends!(first_run_setup_creates_one_admin_once);

async fn login_rotates_the_session_and_logout_destroys_it(app: &TestApp) {
    let browser = user_browser(app, "alice").await;
    // An anonymous session exists before login (flash storage would create one, too).
    let before = app.login(&browser, "alice", "wrong password").await;
    assert_eq!(before.status(), StatusCode::UNAUTHORIZED);
    assert!(before.text().await.unwrap().contains("InvalidCredentials"));

    let unknown = app.login(&browser, "nobody", "wrong password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(
        unknown.text().await.unwrap().contains("InvalidCredentials"),
        "same answer"
    );

    let ok = app
        .login(&browser, "ALICE@example.com", "alice password")
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = session_cookie(&ok).expect("a session cookie is set at login");
    let raw = ok
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Lax"), "{raw}");
    assert!(
        !raw.contains("Secure"),
        "plain-http public URL: no Secure flag: {raw}"
    );
    let (status, user) = me(app, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["admin"], false);

    // Logging in again issues a new id: the old cookie no longer works.
    let again = app.login(&browser, "alice", "alice password").await;
    let rotated = session_cookie(&again).unwrap();
    assert_ne!(cookie, rotated, "session id rotates at login");
    let replay = me_with_cookie(app, &cookie).await;
    assert_eq!(replay, StatusCode::UNAUTHORIZED, "old id is dead");

    assert_eq!(
        app.call_status(&browser, "auth/logout", &[]).await,
        StatusCode::OK
    );
    assert_eq!(me(app, &browser).await.0, StatusCode::UNAUTHORIZED);
    let replay = me_with_cookie(app, &rotated).await;
    assert_eq!(
        replay,
        StatusCode::UNAUTHORIZED,
        "logout destroys it server-side"
    );
}
both_backends!(login_rotates_the_session_and_logout_destroys_it);

async fn non_admins_are_refused(app: &TestApp) {
    app.add_user("root", "root password", true).await;
    let bob = add_signed_in(app, "bob", false).await;
    assert_eq!(
        app.call_status(&bob, "admin/users_settings", &[]).await,
        StatusCode::FORBIDDEN
    );
    // Every time: a page's own server calls must not change its status or redirect it.
    for _ in 0..15 {
        let page = app.page(&bob, "/settings/users").await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        assert!(page.headers().get(LOCATION).is_none());
        assert!(page.text().await.unwrap().contains("Administrators only"));
    }

    let anonymous = app.browser();
    assert_eq!(
        app.call_status(&anonymous, "admin/users_settings", &[])
            .await,
        StatusCode::UNAUTHORIZED
    );
    for path in [
        "/settings/users",
        "/settings/users/oidc",
        "/profile/settings/linked-accounts",
    ] {
        for _ in 0..5 {
            let page = app.page(&anonymous, path).await;
            assert_eq!(page.status(), StatusCode::FOUND, "{path}");
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            assert_eq!(
                page.headers()[LOCATION],
                format!("/login?next={next}").as_str()
            );
        }
    }

    let root = signed_in(app, "root").await;
    let body = call_json(app, &root, "admin/users_settings").await;
    assert_eq!(body["users"].as_array().unwrap().len(), 2);
    assert!(
        !body.to_string().contains("argon2"),
        "no hashes leave the server"
    );
    let page = body_with(app.page(&root, "/settings/users").await, StatusCode::OK).await;
    assert!(page.contains("Login Methods"));
}
both_backends!(non_admins_are_refused);

async fn bad_login_input_is_named_and_changes_nothing(app: &TestApp) {
    let browser = user_browser(app, "carol").await;
    let res = app.login(&browser, " ", "").await;
    let body = body_with(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body.contains("Enter your username or email address."),
        "{body}"
    );
    assert!(body.contains("Enter your password."), "{body}");
    let long = "x".repeat(2000);
    let res = app.login(&browser, &long, "pw").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(me(app, &browser).await.0, StatusCode::UNAUTHORIZED);
}
both_backends!(bad_login_input_is_named_and_changes_nothing);

async fn repeated_failures_are_slowed_down(app: &TestApp) {
    let browser = user_browser(app, "dave").await;
    for _ in 0..portcullis::ssr::limiter::PER_ACCOUNT_PER_MINUTE {
        assert_eq!(
            app.login(&browser, "dave", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.login(&browser, "dave", "dave password").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.text().await.unwrap().contains("RateLimited"));
    assert_eq!(me(app, &browser).await.0, StatusCode::UNAUTHORIZED);
}
both_backends!(repeated_failures_are_slowed_down);

async fn forms_work_without_javascript(app: &TestApp) {
    let browser = user_browser(app, "erin").await;
    let page = app
        .page(&browser, "/login?next=%2Fprofile%2Fsettings")
        .await;
    let html = body_with(page, StatusCode::OK).await;
    assert!(
        html.contains("action=\"/api/auth/login\""),
        "a real form: {html}"
    );
    assert!(
        html.contains("value=\"/profile/settings\""),
        "next kept in the form"
    );

    let wrong = app
        .post_form(
            &browser,
            "auth/login",
            "/login",
            &[("identifier", "erin"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FOUND);
    assert_eq!(
        wrong.headers()[LOCATION],
        "/login",
        "back to the form, no error in the URL"
    );
    let html = app.page(&browser, "/login").await.text().await.unwrap();
    assert!(
        html.contains("Wrong username, email or password."),
        "{html}"
    );
    let html = app.page(&browser, "/login").await.text().await.unwrap();
    assert!(
        !html.contains("Wrong username, email or password."),
        "the message shows once"
    );

    let ok = app
        .post_form(
            &browser,
            "auth/login",
            "/login",
            &[
                ("identifier", "erin"),
                ("password", "erin password"),
                ("next", "/profile/settings"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::FOUND);
    assert_eq!(ok.headers()[LOCATION], "/profile/settings");
    let home = app.page(&browser, "/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("You are signed in as"));

    // An open redirect through `next` is not possible.
    let other = app.browser();
    let res = app
        .post_form(
            &other,
            "auth/login",
            "/login",
            &[
                ("identifier", "erin"),
                ("password", "erin password"),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/");

    let out = app.post_form(&browser, "auth/logout", "/", &[]).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(out.headers()[LOCATION], "/login");
    assert_eq!(me(app, &browser).await.0, StatusCode::UNAUTHORIZED);
}
both_backends!(forms_work_without_javascript);

async fn pages_carry_security_headers(app: &TestApp) {
    app.add_user("frank", "frank password", false).await;
    let res = app.page(&app.browser(), "/login").await;
    let csp = res.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers().contains_key("referrer-policy"));
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("<script nonce=\"{nonce}\"")).count()
            + html
                .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                .count(),
        scripts,
        "every inline script carries this response's nonce"
    );
    let other = app.page(&app.browser(), "/login").await;
    assert_ne!(
        other.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap(),
        csp,
        "a fresh nonce per response"
    );
}
both_backends!(pages_carry_security_headers);

/// The nonce of `res`'s Content-Security-Policy, and its page; every script of the page
/// carries that nonce.
async fn nonce_and_page(res: reqwest::Response) -> (String, String) {
    let csp = res.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{html}"
    );
    (nonce, html)
}

/// First visits to `/login` get the page rendered once (bench #2), each with a nonce of its
/// own in the policy and on every script, and what the page shows follows the sign-in
/// page's data (here a provider added behind the server's back: within its second).
async fn first_visits_share_one_render_with_their_own_nonces(app: &TestApp) {
    app.add_user("frank", "frank password", false).await;
    let (first, page) = nonce_and_page(app.page(&app.browser(), "/login").await).await;
    for _ in 0..3 {
        let (nonce, again) = nonce_and_page(app.page(&app.browser(), "/login").await).await;
        assert_ne!(nonce, first, "a fresh nonce per response");
        assert!(
            !again.contains(&first),
            "no trace of another response's nonce"
        );
        assert_eq!(
            again.replace(&nonce, &first),
            page,
            "the same page otherwise"
        );
    }
    let idp = common::flow::start_idp(app, &["idp"]).await;
    common::flow::add_provider(app, &idp.issuer, "idp", false).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let (_, html) = nonce_and_page(app.page(&app.browser(), "/login").await).await;
        if html.contains("/login?provider=idp") {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the new provider's button: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
both_backends!(first_visits_share_one_render_with_their_own_nonces);

async fn health_and_not_found(app: &TestApp) {
    let c = app.browser();
    let res = c.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.page(&c, "/no/such/page").await.status(),
        StatusCode::NOT_FOUND
    );
}
both_backends!(health_and_not_found);

async fn profile_pages_render(app: &TestApp) {
    let b = add_signed_in(app, "gina", false).await;
    for path in ["/profile/settings", "/profile/settings/linked-accounts"] {
        let res = app.page(&b, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}
both_backends!(profile_pages_render);
