//! Limits and leftovers of the sign-in hardening: client addresses behind trusted proxies,
//! failed-only password limits per account, sign-in start budgets, signing out forgets the
//! browser's attempts, and an issuer change that would orphan links asks first.

mod common;

use common::flow::*;
use common::{Backend, TestApp};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

async fn login_from(app: &TestApp, forwarded_for: &str, who: &str, password: &str) -> StatusCode {
    app.browser()
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .form(&[("identifier", who), ("password", password)])
        .send()
        .await
        .unwrap()
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
    for i in 0..app::limiter::PER_ADDRESS_PER_MINUTE {
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
    for _ in 0..app::limiter::PER_ACCOUNT_PER_MINUTE {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_starts_have_a_budget_per_client_sqlite() {
    sign_in_starts_have_a_budget_per_client(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_starts_have_a_budget_per_client_postgres() {
    sign_in_starts_have_a_budget_per_client(Backend::Postgres).await;
}

/// Signing out ends what the browser had started: its attempts are forgotten and its
/// binding cookie cleared, so a callback arriving later finds nothing to finish.
async fn signing_out_forgets_the_browsers_attempts(app: &TestApp) {
    let idp = start_idp(app, &["idp"]).await;
    add_provider(app, &idp.issuer, "idp", true).await;
    app.add_user("gina", "gina password", false).await;
    let b = signed_in(app, "gina").await;
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
    app.add_user("root", "root password", true).await;
    let admin = signed_in(app, "root").await;
    let form = |confirm: bool| {
        let mut f = vec![
            ("original_slug", "idp".to_owned()),
            ("draft[name]", "Test IdP".to_owned()),
            ("draft[slug]", "idp".to_owned()),
            ("draft[issuer_url]", b.issuer.clone()),
            ("draft[client_id]", "portcullis-basic".to_owned()),
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
