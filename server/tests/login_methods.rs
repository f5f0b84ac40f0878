//! `portcullis login-methods`: the break-glass that restores password sign-in from the
//! server's shell (issue 11, part 3), and the guards it shares with the users page (the
//! last way in; an administrator who can sign in through a provider). Both backends.

use crate::common;

use common::TestApp;
use common::flow::{add_provider, password_sign_in_is_off};
use reqwest::StatusCode;

fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let run = app.cli(args);
    (run.ok, run.text())
}

async fn break_glass_restores_password_sign_in(app: &TestApp) {
    app.add_user("root", "root password", true).await;
    // Password sign-in is the only way in: the CLI cannot turn it off either.
    let (ok, out) = cli(app, &["login-methods", "local", "disable"]);
    assert!(!ok && out.contains("At least one login method"), "{out}");

    // With a provider (nothing here talks to it), password sign-in goes off once an
    // administrator can sign in through it; the guard says which condition fails.
    add_provider(app, "http://127.0.0.1:9", "only", false).await;
    let (ok, out) = cli(app, &["login-methods", "local", "disable"]);
    assert!(
        !ok && out.contains("until an administrator can sign in through an enabled provider"),
        "{out}"
    );
    app.link_root("only").await;
    let (ok, out) = cli(app, &["login-methods", "local", "disable"]);
    assert!(ok, "{out}");
    assert!(out.contains("local (password) sign-in: off"), "{out}");
    let b = app.browser();
    password_sign_in_is_off(app, &b, "root").await;

    // The break-glass, on the server: password sign-in works again at once.
    let (ok, out) = cli(app, &["login-methods", "local", "enable"]);
    assert!(ok, "{out}");
    assert!(out.contains("local (password) sign-in: on"), "{out}");
    assert!(
        out.contains("OpenID Connect sign-in: on (1 enabled provider)"),
        "{out}"
    );
    let res = app.login(&b, "root", "root password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (ok, out) = cli(app, &["login-methods", "show"]);
    assert!(ok && out.contains("local (password) sign-in: on"), "{out}");
}
both_backends!(break_glass_restores_password_sign_in);
