//! Limits and leftovers of the sign-in hardening: client addresses behind trusted proxies
//! (IPv6 by /64), failed-only password limits per account, device cookies that strangers'
//! failures cannot lock out, sign-in start budgets, attempts in progress capped per client
//! and per browser below a global ceiling, signing out forgets the browser's attempts, and
//! an issuer change that would orphan links asks first.

use crate::common;

use common::flow::*;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

async fn login_from(app: &TestApp, forwarded_for: &str, who: &str, password: &str) -> StatusCode {
    login_in(app, &app.browser(), forwarded_for, who, password)
        .await
        .status()
}

/// Dave signs in from `forwarded_for` after every address `spent_from(i)` names has failed
/// once, a whole per-address budget of failures in all.
async fn dave_after_failures(
    app: &TestApp,
    spent_from: impl Fn(u32) -> String,
    forwarded_for: &str,
) -> StatusCode {
    app.add_user("dave", "dave password", false).await;
    for i in 0..portcullis::ssr::limiter::PER_ADDRESS_PER_MINUTE {
        let status = login_from(app, &spent_from(i), &format!("nobody{i}"), "x").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    login_from(app, forwarded_for, "dave", "dave password").await
}

/// Behind a trusted proxy each client has its own budget; without one, `X-Forwarded-For`
/// is ignored (a client cannot pick the address its failures count against).
async fn forwarded_for_counts_only_through_trusted_proxies(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let one_client = |_| "198.51.100.1".to_owned();
    let status = dave_after_failures(&app, one_client, "198.51.100.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "that client waits");
    let status = login_from(&app, "198.51.100.2", "dave", "dave password").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client behind the proxy does not"
    );
    app.stop().await;

    let app = TestApp::spawn(backend).await;
    let many_clients = |i| format!("198.51.100.{i}");
    let status = dave_after_failures(&app, many_clients, "203.0.113.50").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "untrusted X-Forwarded-For is ignored: the peer's budget is spent"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_through_trusted_proxies_sqlite() {
    forwarded_for_counts_only_through_trusted_proxies(Backend::Sqlite).await;
}

/// Behind a trusted proxy, with a test-sized sign-in start budget.
async fn proxied(backend: Backend, starts_per_minute: u32) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.sign_in_starts_per_minute = starts_per_minute;
    })
    .await
}

/// A password sign-in by `browser` (its own cookies) from client `forwarded_for`.
async fn login_in(
    app: &TestApp,
    browser: &reqwest::Client,
    forwarded_for: &str,
    who: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("identifier", who), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// One IPv6 client usually holds a whole /64: failures and sign-in starts from any of its
/// addresses count against one budget, and the next /64 is another client.
async fn an_ipv6_64_is_one_client(backend: Backend) {
    const BUDGET: u32 = 20;
    let app = proxied(backend, BUDGET).await;
    let same_64 = |i: u32| format!("2001:db8:5:6:{:x}::{:x}", i, i + 1);
    let status = dave_after_failures(&app, same_64, "2001:db8:5:6:ffff::1").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "another address of that /64 waits"
    );
    let status = login_from(&app, "2001:db8:5:7::1", "dave", "dave password").await;
    assert_eq!(status, StatusCode::OK, "the next /64 does not");

    let idp = start_idp(&app, &["idp"]).await;
    add_provider(&app, &idp.issuer, "idp", true).await;
    let start_from = |forwarded_for: String| {
        let b = app.browser();
        let url = app.url("/login?provider=idp");
        async move {
            let res = b
                .get(url)
                .header("x-forwarded-for", forwarded_for)
                .send()
                .await
                .unwrap();
            raw_location(&res)
        }
    };
    for i in 0..BUDGET {
        let to = start_from(format!("2001:db8:7:8::{:x}", i + 1)).await;
        assert!(to.starts_with(&idp.issuer), "{to}");
    }
    let to = start_from("2001:db8:7:8:abcd::1".to_owned()).await;
    assert_eq!(to, "/login", "the /64's start budget is spent");
    let to = start_from("2001:db8:7:9::1".to_owned()).await;
    assert!(to.starts_with(&idp.issuer), "the next /64's is not: {to}");
    app.stop().await;
}

each_backend!(an_ipv6_64_is_one_client);

/// A stranger's failures lock an account for browsers that never signed in to it, but a
/// browser that has (its device cookie) still gets in with the right password; its own
/// failures count against its own budget, and its cookie vouches for that account only.
async fn strangers_cannot_lock_out_the_right_password(backend: Backend) {
    let app = proxied(
        backend,
        portcullis::ssr::limiter::STARTS_PER_ADDRESS_PER_MINUTE,
    )
    .await;
    app.add_user("root", "root password", true).await;
    app.add_user("erin", "erin password", false).await;
    let mine = app.browser();
    let res = login_in(&app, &mine, "198.51.100.7", "root", "root password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let device = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("portcullis_device="))
        .expect("a device cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(device.contains(attribute), "{attribute}: {device}");
    }
    assert!(!device.contains("Secure"), "plain http here: {device}");
    assert_eq!(
        app.call(&mine, "auth/logout", &[]).await.status(),
        StatusCode::OK
    );

    // A stranger guesses both accounts from another address.
    for who in ["root", "erin"] {
        for _ in 0..20 {
            let status = login_from(&app, "203.0.113.66", who, "guess").await;
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status),
                "{status}"
            );
        }
    }
    let elsewhere = login_from(&app, "198.51.100.8", "root", "root password").await;
    assert_eq!(
        elsewhere,
        StatusCode::TOO_MANY_REQUESTS,
        "the account's lock holds for a browser without its device cookie"
    );
    let res = login_in(&app, &mine, "198.51.100.7", "root", "root password").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the browser that signed in before gets in"
    );
    assert_eq!(me(&app, &mine).await.unwrap()["username"], "root");
    let res = login_in(&app, &mine, "198.51.100.7", "erin", "erin password").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the cookie vouches for root only"
    );

    // The device's own failures: its own budget, then it waits too.
    for _ in 0..portcullis::ssr::limiter::PER_DEVICE_PER_MINUTE {
        let res = login_in(&app, &mine, "198.51.100.7", "root", "typo").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_in(&app, &mine, "198.51.100.7", "root", "root password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let text = res.text().await.unwrap();
    assert!(text.contains("RateLimited"), "{text}");
    app.stop().await;
}

each_backend!(strangers_cannot_lock_out_the_right_password);

/// The browser that set the installation up is trusted for its administrator from then on.
async fn the_setup_browser_is_trusted_for_its_administrator(app: &TestApp) {
    let mine = app.browser();
    let form = [
        ("username", "root"),
        ("email", "root@example.com"),
        ("display_name", "The Admin"),
        ("password", "a long password"),
    ];
    assert_eq!(
        app.call(&mine, "auth/setup", &form).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(&mine, "auth/logout", &[]).await.status(),
        StatusCode::OK
    );
    for _ in 0..portcullis::ssr::limiter::PER_ACCOUNT_PER_MINUTE {
        let res = app.login(&app.browser(), "root", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login(&app.browser(), "root", "a long password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = app.login(&mine, "root", "a long password").await;
    assert_eq!(res.status(), StatusCode::OK);
}
both_backends!(the_setup_browser_is_trusted_for_its_administrator);

async fn pending_for(app: &TestApp, client_key: &str) -> i64 {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_pending WHERE client_key = $1")
        .bind(client_key)
        .fetch_one(pool)
        .await)
    .unwrap()
}

/// Attempts in progress are capped per client, far below the global ceiling: one client
/// filling its share cannot make anyone else's sign-in start answer "Busy". A browser's
/// new attempt replaces its oldest beyond its own cap, so it never waits on itself.
async fn one_client_cannot_fill_everyones_sign_ins(backend: Backend) {
    use portcullis::ssr::oidc::pending::{MAX_PENDING, MAX_PER_BROWSER, MAX_PER_CLIENT};
    let app = proxied(
        backend,
        portcullis::ssr::limiter::STARTS_PER_ADDRESS_PER_MINUTE,
    )
    .await;
    let idp = start_idp(&app, &["idp"]).await;
    add_provider(&app, &idp.issuer, "idp", true).await;
    app.add_user("root", "root password", true).await; // past first-run setup
    let start_from = |b: &reqwest::Client, forwarded_for: &str| {
        b.get(app.url("/login?provider=idp"))
            .header("x-forwarded-for", forwarded_for)
            .send()
    };
    // A flood without cookies: a new browser binding every time.
    let flood = crate::common::no_redirects().build().unwrap();
    for _ in 0..MAX_PER_CLIENT {
        let res = start_from(&flood, "198.51.100.1").await.unwrap();
        assert!(raw_location(&res).starts_with(&idp.issuer));
    }
    let b = app.browser();
    let res = start_from(&b, "198.51.100.1").await.unwrap();
    assert_eq!(raw_location(&res), "/login", "that client holds its share");
    let page = page_text(&app, &b, "/login").await;
    assert!(
        shows(&page, "Too many sign-ins from your network are in progress"),
        "{}",
        alert(&page)
    );
    let other = app.browser();
    let res = start_from(&other, "198.51.100.2").await.unwrap();
    assert!(
        raw_location(&res).starts_with(&idp.issuer),
        "another client still starts"
    );
    let res = finish(&app, &other, res, "alice").await;
    assert_eq!(raw_location(&res), "/", "and finishes");

    // One browser starting again and again holds its own few, and its latest finishes.
    let again = app.browser();
    let mut last = None;
    for _ in 0..MAX_PER_BROWSER + 5 {
        last = Some(start_from(&again, "198.51.100.3").await.unwrap());
    }
    assert_eq!(pending_for(&app, "198.51.100.3").await, MAX_PER_BROWSER);
    let res = finish(&app, &again, last.unwrap(), "bob").await;
    assert_eq!(raw_location(&res), "/");

    // The global ceiling still holds when many clients fill it.
    let t = portcullis::ssr::clock::now();
    portcullis::on_pool!(&app.running.db, pool => sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO oidc_pending (state, binding_hash, provider_slug, nonce, pkce_verifier, \
         mode, created_at, expires_at, client_key) \
         SELECT 'filler' || i, 'b' || i, 'idp', 'n', 'v', 'sign_in', $2, $3, 'c' || (i % 1000) FROM n")
        .bind(MAX_PENDING)
        .bind(t)
        .bind(t + 600)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let b = app.browser();
    let res = start_from(&b, "198.51.100.4").await.unwrap();
    assert_eq!(raw_location(&res), "/login");
    let page = page_text(&app, &b, "/login").await;
    assert!(
        shows(&page, "Too many sign-ins are in progress right now"),
        "{}",
        alert(&page)
    );
    app.stop().await;
}

each_backend!(one_client_cannot_fill_everyones_sign_ins);

/// Username and email share one budget; correct passwords do not spend it.
async fn password_limits_count_failures_per_account(app: &TestApp) {
    app.add_user("erin", "erin password", false).await;
    for _ in 0..10 {
        assert_eq!(
            app.login(&app.browser(), "erin", "erin password")
                .await
                .status(),
            StatusCode::OK,
            "successes are not counted"
        );
    }
    for _ in 0..portcullis::ssr::limiter::PER_ACCOUNT_PER_MINUTE {
        assert_eq!(
            app.login(&app.browser(), "erin", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let by_email = app
        .login(&app.browser(), "erin@example.com", "erin password")
        .await;
    assert_eq!(by_email.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another account is not affected.
    app.add_user("frank", "frank password", false).await;
    assert_eq!(
        app.login(&app.browser(), "frank", "frank password")
            .await
            .status(),
        StatusCode::OK
    );
}
both_backends!(password_limits_count_failures_per_account);

/// Unauthenticated sign-in starts cost a provider round trip and a stored attempt: each
/// client address has a budget (`--sign-in-starts-per-minute`, small here).
async fn sign_in_starts_have_a_budget_per_client(backend: Backend) {
    const BUDGET: u32 = 20;
    let app = TestApp::spawn_with(backend, |c| c.sign_in_starts_per_minute = BUDGET).await;
    let idp = start_idp(&app, &["idp"]).await;
    add_provider(&app, &idp.issuer, "idp", true).await;
    app.add_user("root", "root password", true).await; // past first-run setup
    let b = app.browser();
    for _ in 0..BUDGET {
        let res = start(&app, &b, "idp").await;
        assert!(raw_location(&res).starts_with(&idp.issuer));
    }
    let res = start(&app, &b, "idp").await;
    assert_eq!(raw_location(&res), "/login");
    let page = page_text(&app, &b, "/login").await;
    assert!(shows(&page, "Too many attempts"), "{}", alert(&page));
    app.stop().await;
}

each_backend!(sign_in_starts_have_a_budget_per_client);

/// Signing out ends what the browser had started: its attempts are forgotten and its
/// binding cookie cleared, so a callback arriving later finds nothing to finish.
async fn signing_out_forgets_the_browsers_attempts(app: &TestApp) {
    let idp = start_idp(app, &["idp"]).await;
    add_provider(app, &idp.issuer, "idp", true).await;
    let b = add_signed_in(app, "gina", false).await;
    let callback = link_callback(app, &b, "idp", "alice").await;
    let out = app.call(&b, "auth/logout", &[]).await;
    let cleared = out
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("portcullis_oidc=;"));
    assert!(cleared, "the binding cookie is cleared");
    let res = b.get(&callback).send().await.unwrap();
    assert_eq!(raw_location(&res), "/login");
    assert!(shows(
        &page_text(app, &b, "/login").await,
        "already been used or was never started"
    ));
    let pending: i64 = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_pending").fetch_one(pool).await)
    .unwrap();
    assert_eq!(pending, 0);
}
both_backends!(signing_out_forgets_the_browsers_attempts);

/// Changing a provider's issuer while accounts are linked through the old one asks first,
/// saying how many; once saved, the provider list counts them as unmatched.
async fn an_issuer_change_that_orphans_links_asks_first(app: &TestApp) {
    let a = start_idp(app, &["idp"]).await;
    add_provider(app, &a.issuer, "idp", true).await;
    let res = sign_in(app, &app.browser(), "idp", "alice").await;
    assert_eq!(raw_location(&res), "/");
    let b = start_idp(app, &["idp"]).await;
    let admin = add_signed_in(app, "root", true).await;
    let form = |confirm: bool| {
        let mut f = vec![
            ("original_slug", "idp".to_owned()),
            ("draft[name]", "Test IdP".to_owned()),
            ("draft[slug]", "idp".to_owned()),
            ("draft[issuer_url]", b.issuer.clone()),
            ("draft[client_id]", "portcullis-basic".to_owned()),
            // A new issuer asks for the client secret again (issue 18.10).
            ("draft[client_secret]", "basic-secret".to_owned()),
            ("draft[scopes]", "openid, profile, email".to_owned()),
            ("draft[allow_new_users]", "true".to_owned()),
            ("draft[enabled]", "true".to_owned()),
            ("draft[token_auth_method]", "auto".to_owned()),
        ];
        if confirm {
            f.push(("confirm", "true".to_owned()));
        }
        f
    };
    let call = |confirm: bool| {
        let form = form(confirm);
        let admin = &admin;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(admin, "admin/save_provider", &pairs).await
        }
    };
    let text = body_with(call(false).await, StatusCode::CONFLICT).await;
    assert!(
        text.contains("1 linked account(s) belong to the current issuer"),
        "{text}"
    );
    assert!(text.contains("stop working"), "{text}");
    assert_eq!(call(true).await.status(), StatusCode::OK);
    let settings = call_json(app, &admin, "admin/oidc_settings").await;
    let p = &settings["providers"][0];
    assert_eq!(p["linked_accounts"], 1);
    assert_eq!(p["unmatched_links"], 1);
    assert_eq!(p["redirect_uri"], app.url("/login/idp"));
}
both_backends!(an_issuer_change_that_orphans_links_asks_first);
