//! The sign-in page going straight to one provider (issue 11 part 3, auto-redirect): fresh
//! visits and bounces with `next` go to the provider and come back to where they were
//! going; `?choose`, a waiting message, a visit from our own pages (signing out) and a
//! disabled provider show the page; the break-glass turns it off.

use crate::common;

use common::TestApp;
use common::flow::*;
use portcullis::ssr::providers;
use reqwest::StatusCode;

async fn setup(app: &TestApp) -> common::idp::Idp {
    let idp = start_idp(app, &["idp"]).await;
    add_provider(app, &idp.issuer, "idp", true).await;
    app.add_user("root", "root password", true).await;
    idp
}

/// Sets the auto-redirect as the settings page does (which also refreshes the sign-in
/// page at once).
async fn choose(app: &TestApp, slug: &str) {
    let admin = signed_in(app, "root").await;
    let res = app
        .call(&admin, "admin/set_auto_redirect", &[("slug", slug)])
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
}

/// Whether this answer to `/login...` goes to the provider (a sign-in start).
fn to_provider(res: &reqwest::Response, idp: &common::idp::Idp) -> bool {
    res.status().is_redirection() && location(res).starts_with(&idp.issuer)
}

async fn goes_straight_to_the_chosen_provider_and_back(app: &TestApp) {
    let idp = setup(app).await;
    let b = app.browser();
    let res = visit(app, &b, "/login").await;
    assert_eq!(res.status(), StatusCode::OK, "off by default: the page");

    choose(app, "idp").await;
    let res = visit(app, &b, "/login?next=/profile/settings").await;
    assert!(
        to_provider(&res, &idp),
        "{} {:?}",
        res.status(),
        res.headers()
    );
    // Through the provider and back where the person was going.
    let done = finish(app, &b, res, "alice").await;
    assert_eq!(raw_location(&done), "/profile/settings");
    assert_eq!(me(app, &b).await.unwrap()["username"], "alice");

    // A fresh browser typing /login goes too; ?choose shows the page, once.
    let fresh = app.browser();
    assert!(to_provider(&visit(app, &fresh, "/login").await, &idp));
    let html = body_with(visit(app, &fresh, "/login?choose").await, StatusCode::OK).await;
    assert!(html.contains("Test IdP"), "the buttons show");
    assert!(to_provider(&visit(app, &fresh, "/login").await, &idp));
}
both_backends!(goes_straight_to_the_chosen_provider_and_back);

async fn never_after_sign_out_a_failure_or_for_a_disabled_provider(app: &TestApp) {
    let _idp = setup(app).await;
    choose(app, "idp").await;

    // Coming from one of our own pages without a place to return to (signing out lands
    // there): the page, or the person would be signed straight back in.
    let b = app.browser();
    let res = b
        .get(app.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A failed sign-in's message is shown, not skipped by going to the provider again.
    let shady = app.browser();
    let res = visit(app, &shady, "/login/idp?code=x&state=unknown").await;
    assert!(
        res.status().is_redirection(),
        "a bad answer goes back to /login"
    );
    let again = visit(app, &shady, "/login").await;
    assert_eq!(again.status(), StatusCode::OK, "the error is shown");
    assert!(alert(&again.text().await.unwrap()) != "(no alert)");

    // A provider that is disabled (or OpenID Connect turned off) never traps anyone.
    providers::set_enabled(&app.running.db, "idp", false, &common::by_cli())
        .await
        .unwrap();
    // Another process's change (this one's storage call) shows within the page's TTL.
    tokio::time::sleep(portcullis::ssr::login_page::TTL + std::time::Duration::from_millis(100))
        .await;
    assert_eq!(
        visit(app, &app.browser(), "/login").await.status(),
        StatusCode::OK
    );
}
both_backends!(never_after_sign_out_a_failure_or_for_a_disabled_provider);

async fn only_an_enabled_provider_can_be_chosen_and_the_break_glass_clears_it(app: &TestApp) {
    let _idp = setup(app).await;
    let admin = signed_in(app, "root").await;
    let res = app
        .call(&admin, "admin/set_auto_redirect", &[("slug", "nope")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("auto_redirect") && body.contains("not an enabled provider"),
        "{body}"
    );
    assert_eq!(
        providers::auto_redirect(&app.running.db).await.unwrap(),
        None
    );

    let user = { add_signed_in(app, "bob", false).await };
    assert_eq!(
        app.call_status(&user, "admin/set_auto_redirect", &[("slug", "idp")])
            .await,
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        app.call_status(&admin, "admin/set_auto_redirect", &[("slug", "idp")])
            .await,
        StatusCode::OK
    );
    assert_eq!(
        providers::auto_redirect(&app.running.db)
            .await
            .unwrap()
            .as_deref(),
        Some("idp")
    );

    // The break-glass (`login-methods local enable`) turns it off with password sign-in on.
    let (ok, out) = cli(app, &["login-methods", "local", "enable"]);
    assert!(ok, "{out}");
    assert!(out.contains("auto-redirect off"), "{out}");
    assert_eq!(
        providers::auto_redirect(&app.running.db).await.unwrap(),
        None
    );
}
both_backends!(only_an_enabled_provider_can_be_chosen_and_the_break_glass_clears_it);

/// The real CLI against `app`'s database: (succeeded, what it printed).
fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let run = app.cli(args);
    (run.ok, run.text())
}
