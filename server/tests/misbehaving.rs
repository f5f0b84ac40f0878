//! What a real provider will not do on demand, from a deliberately broken one
//! (`end2end/oidc/misbehaving.mjs`): every bad ID token is refused with a clear message,
//! key rotation works without a restart, and the app stays up.

use crate::common;

use common::TestApp;
use common::flow::{alert, enable_oidc, finish, shady_draft, start};
use common::idp::Idp;
use common::net::take_stats;
use reqwest::StatusCode;

async fn setup(app: &TestApp) -> Idp {
    setup_with(app, &[]).await
}

async fn setup_with(app: &TestApp, env: &[(&str, &str)]) -> Idp {
    let idp = Idp::start_script_with("misbehaving.mjs", &[], env).await;
    app.add_provider(shady_draft(&idp.issuer)).await;
    enable_oidc(app).await;
    app.add_user("root", "root password", true).await;
    idp
}

/// One sign-in with the provider in `mode`; returns (signed in?, message on /login).
async fn attempt(app: &TestApp, idp: &Idp, mode: &str) -> (bool, String) {
    idp.http()
        .get(format!("{}/control?mode={mode}", idp.issuer))
        .send()
        .await
        .unwrap();
    let b = app.browser();
    // The provider sends the browser straight back, without a login form.
    let done = finish(app, &b, start(app, &b, "shady").await, "").await;
    assert!(
        done.status().is_redirection(),
        "{mode}: callback {}",
        done.status()
    );
    let me = b.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    let page = app.page(&b, "/login").await.text().await.unwrap();
    (me.status() == StatusCode::OK, page)
}

async fn bad_tokens_are_refused(app: &TestApp) {
    let idp = setup(app).await;
    for mode in [
        "bad-signature",
        "wrong-iss",
        "wrong-aud",
        "wrong-nonce",
        "expired",
        "future-iat",
        "none",
        "hs256",
    ] {
        let (signed_in, page) = attempt(app, &idp, mode).await;
        assert!(!signed_in, "{mode} must not sign in");
        assert!(
            page.contains("Shady IdP sent an identity token that failed verification"),
            "{mode}: {}",
            alert(&page)
        );
    }
    let (signed_in, page) = attempt(app, &idp, "userinfo-mismatch").await;
    assert!(!signed_in);
    assert!(page.contains("inconsistent account information"));
    assert_eq!(
        portcullis::ssr::users::count(&app.running.db)
            .await
            .unwrap(),
        1,
        "nobody created"
    );

    // A good token works; then the provider rotates its key: the new kid triggers one
    // JWKS refresh and the sign-in succeeds without a restart.
    let (signed_in, _) = attempt(app, &idp, "ok").await;
    assert!(signed_in, "a good token signs in");
    let (signed_in, page) = attempt(app, &idp, "rotated").await;
    assert!(signed_in, "after key rotation: {}", alert(&page));
}
both_backends!(bad_tokens_are_refused);

async fn a_slow_provider_times_out_and_the_app_stays_up(app: &TestApp) {
    let idp = setup(app).await;
    let started = std::time::Instant::now();
    let (signed_in, page) = attempt(app, &idp, "slow").await;
    assert!(!signed_in);
    assert!(
        page.contains("Shady IdP could not be reached"),
        "{}",
        alert(&page)
    );
    assert!(started.elapsed().as_secs() < 14, "the 10 s timeout applies");
    assert_eq!(
        app.page(&app.browser(), "/healthz").await.status(),
        StatusCode::OK
    );
}
both_backends!(a_slow_provider_times_out_and_the_app_stays_up);

/// At steady state a sign-in costs the provider exactly the token and userinfo requests:
/// discovery and keys come from the cache (the browser's own visit to /authorize aside).
async fn steady_state_makes_two_provider_requests(app: &TestApp) {
    steady_state(app, &[], 3).await;
}
both_backends!(steady_state_makes_two_provider_requests);

/// Without a userinfo endpoint, the token request is the only one.
async fn steady_state_without_userinfo_makes_one_request(app: &TestApp) {
    steady_state(app, &[("OIDC_NO_USERINFO", "1")], 0).await;
}
both_backends!(steady_state_without_userinfo_makes_one_request);

async fn steady_state(app: &TestApp, env: &[(&str, &str)], userinfo: usize) {
    let idp = setup_with(app, env).await;
    let (signed_in, _) = attempt(app, &idp, "ok").await;
    assert!(signed_in);
    take_stats(&idp.http(), &idp.issuer).await;
    for _ in 0..3 {
        let (signed_in, _) = attempt(app, &idp, "ok").await;
        assert!(signed_in);
    }
    let counts = take_stats(&idp.http(), &idp.issuer).await;
    let mut expected = serde_json::json!({"/control": 3, "/authorize": 3, "/token": 3});
    if userinfo > 0 {
        expected["/userinfo"] = userinfo.into();
    }
    assert_eq!(
        counts, expected,
        "per sign-in: one token request, and one userinfo request where there is an endpoint"
    );
}
