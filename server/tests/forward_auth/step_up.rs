//! Second factors at the gate (issue 22 item 3): an application that requires two factors,
//! and the administrator's policy (administrators, everyone), send a session signed in with
//! one factor to `/second-factor` first (the step-up), and on to the exact URL once it gave
//! the second; personal access tokens made with one factor do not open such applications;
//! a provider's sign-in counts as its `second_factor` setting says; a one-factor session
//! cannot swap the account's second factors. Through real Caddy and the browser's passkey:
//! `end2end/tests/step-up.spec.ts`.

use super::*;
use crate::totp::{away_from_a_step_edge, code, enrol, wrong};

const VAULT: &str = "http://vault.portcullis.test/secrets?page=2";

/// "Vault" (two factors required, tokens allowed) at [`VAULT`] and "Echo" (neither) at
/// [`APP`], both for every signed-in user.
async fn vault_and_echo(app: &TestApp) -> String {
    add_app(app, "Echo", APP, "users", "").await;
    app.add_app(AppDraft {
        name: "Vault".into(),
        urls: "http://vault.portcullis.test".into(),
        access: "users".into(),
        allow_tokens: true,
        require_second_factor: true,
        ..AppDraft::default()
    })
    .await
}

/// The step-up page for `url` (as forward auth reads it: normalised), as forward auth
/// names it.
fn step_up_for(app: &TestApp, url: &str) -> String {
    let url = match url::Url::parse(url) {
        Ok(u) => u.to_string(),
        Err(_) => url.to_owned(),
    };
    let next: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("{}/second-factor?next={next}", app.running.public_url)
}

/// Both checks send `client` to give its second factor before `url`: Caddy's 302 and nginx's
/// 401, each to the step-up page, with no identity header.
async fn sent_to_step_up(app: &TestApp, client: &Client, url: &str) {
    let res = check(app, client, url).await;
    assert_eq!(res.status(), StatusCode::FOUND, "{url}");
    assert_eq!(header(&res, "location"), Some(step_up_for(app, url)));
    assert!(header(&res, "remote-user").is_none());
    let res = check_nginx(app, client, url).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "nginx {url}");
    assert_eq!(header(&res, "location"), Some(step_up_for(app, url)));
}

/// Where a refused step-up goes: back to its page (a plain form post), which shows why.
fn back_to_step_up(app: &TestApp) -> String {
    step_up_for(app, VAULT)[app.running.public_url.len()..].to_owned()
}

async fn opens_as(app: &TestApp, client: &Client, url: &str, user: &str) {
    let res = check(app, client, url).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    assert_eq!(header(&res, "remote-user").as_deref(), Some(user));
}

/// The step-up's form, posted as a browser without JavaScript.
async fn step_up(app: &TestApp, b: &Client, code: &str, next: &str) -> Response {
    let page = step_up_for(app, next);
    let from = page.strip_prefix(&app.running.public_url).unwrap();
    app.post_form(
        b,
        "auth/second_factor",
        from,
        &[("code", code), ("next", next)],
    )
    .await
}

async fn an_application_asks_for_the_second_factor(app: &TestApp) {
    vault_and_echo(app).await;
    // Three browsers signed in with the password, then one-time codes set up in the first:
    // each session has shown one factor.
    app.add_user("gus", "gus password", false).await;
    let gus = signed_in(app, "gus").await;
    let other = signed_in(app, "gus").await;
    let third = signed_in(app, "gus").await;
    let (secret, recovery) = enrol(app, &gus).await;
    opens_as(app, &gus, APP, "gus").await;
    sent_to_step_up(app, &gus, VAULT).await;

    let page = page_text(
        app,
        &gus,
        &step_up_for(app, VAULT)[app.running.public_url.len()..],
    )
    .await;
    assert!(page.contains("id=\"step-up\""), "{page}");
    assert!(page.contains("Signed in as gus"), "{page}");
    assert!(page.contains("name=\"next\""), "{page}");

    away_from_a_step_edge().await;
    let right = code(&secret, 0);
    let res = step_up(app, &gus, &wrong(&right), VAULT).await;
    assert_eq!(raw_location(&res), back_to_step_up(app), "a wrong code");
    sent_to_step_up(app, &gus, VAULT).await;

    let res = step_up(app, &gus, &right, VAULT).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = raw_location(&res);
    let next: String = url::form_urlencoded::byte_serialize(VAULT.as_bytes()).collect();
    assert_eq!(
        to,
        format!("/api/v1/forward-auth/continue?next={next}"),
        "on to the exact URL"
    );
    opens_as(app, &gus, VAULT, "gus").await;
    opens_as(app, &gus, APP, "gus").await;

    // Another one-factor session of the same account is asked again; the code just used is
    // not taken twice, a recovery code is.
    sent_to_step_up(app, &other, VAULT).await;
    let res = step_up(app, &other, &right, VAULT).await;
    assert_eq!(raw_location(&res), back_to_step_up(app), "a used code");
    sent_to_step_up(app, &other, VAULT).await;
    let res = step_up(app, &other, &recovery[0], VAULT).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    opens_as(app, &other, VAULT, "gus").await;

    // An address that is not an application's is not where the step-up goes.
    let res = step_up(app, &third, &recovery[1], "https://evil.example/").await;
    assert_eq!(raw_location(&res), "/");

    let kinds = audit_kinds(app).await;
    assert!(
        kinds.iter().filter(|k| *k == "stepped_up").count() >= 3,
        "{kinds:?}"
    );
}
proxied!(an_application_asks_for_the_second_factor);

async fn audit_kinds(app: &TestApp) -> Vec<String> {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar::<_, String>(
        "SELECT event FROM audit_events").fetch_all(pool).await)
    .unwrap()
}

async fn requirement(app: &TestApp) -> portcullis::second_factor::Requirement {
    portcullis::ssr::settings::second_factor_requirement(&app.running.db)
        .await
        .unwrap()
}

async fn require(app: &TestApp, admin: &Client, who: &str) -> Response {
    let form = [("requirement", who)];
    app.post_form(
        admin,
        "admin/set_second_factor_requirement",
        "/settings/users",
        &form,
    )
    .await
}

async fn the_policy_for_administrators_and_everyone(app: &TestApp) {
    use portcullis::second_factor::Requirement;
    add_app(app, "Echo", APP, "users", "").await;
    let (root, alice) = root_and_alice(app).await;

    // An administrator with no second factor of their own cannot ask one of administrators:
    // these settings would then lock them out.
    require(app, &root, "administrators").await;
    assert_eq!(requirement(app).await, Requirement::Nobody);
    let page = page_text(app, &root, "/settings/users").await;
    assert!(
        page.contains("Add a passkey or one-time codes to your own account first"),
        "{page}"
    );

    let (secret, _) = enrol(app, &root).await;
    let res = require(app, &root, "administrators").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(requirement(app).await, Requirement::Administrators);
    sent_to_step_up(app, &root, APP).await;
    opens_as(app, &alice, APP, "alice").await;

    // The settings ask the administrator too, and take them back to the page after.
    let res = app.page(&root, "/settings/users").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"step-up-needed\""), "{page}");
    // Every way in for administrators asks alike: the audit export too.
    let export = |c: &Client| c.get(app.url("/api/v1/audit.jsonl")).send();
    assert_eq!(export(&root).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(
        page.contains("/second-factor?next=%2Fsettings%2Fusers"),
        "{page}"
    );
    away_from_a_step_edge().await;
    let res = step_up(app, &root, &code(&secret, 0), "/settings/users").await;
    assert_eq!(raw_location(&res), "/settings/users");
    let res = app.page(&root, "/settings/users").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(export(&root).await.unwrap().status(), StatusCode::OK);
    opens_as(app, &root, APP, "root").await;

    let res = require(app, &root, "everyone").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    sent_to_step_up(app, &alice, APP).await;
    opens_as(app, &root, APP, "root").await;
    // alice has no second factor: the step-up says how to get one.
    let page = page_text(
        app,
        &alice,
        &step_up_for(app, APP)[app.running.public_url.len()..],
    )
    .await;
    assert!(
        page.contains("This account has no second factor yet"),
        "{page}"
    );

    // The break-glass: from the server's shell, whatever the sessions.
    let run = app.cli(&["login-methods", "second-factor", "nobody"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("second factor required of: nobody"),
        "{}",
        run.stdout
    );
    // Other servers (and this one, whose cache the command line cannot clear) follow
    // within the cache's five seconds.
    let until = Instant::now() + Duration::from_secs(8);
    while check(app, &alice, APP).await.status() != StatusCode::OK {
        assert!(Instant::now() < until, "the policy change did not arrive");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
proxied!(the_policy_for_administrators_and_everyone);

/// A token made on the Tokens page (a plain form post); the token shown once.
async fn token_made_by(app: &TestApp, b: &Client, app_id: &str) -> String {
    let form = [
        ("draft[name]", "sync"),
        ("draft[expires_in_days]", "30"),
        ("draft[apps][0]", app_id),
    ];
    let res = app
        .post_form(b, "account/create_token", "/profile/settings/tokens", &form)
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let page = page_text(app, b, "/profile/settings/tokens").await;
    let at = page
        .find("pc_pat_")
        .unwrap_or_else(|| panic!("a token in {page}"));
    page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

async fn with_token(app: &TestApp, url: &str, token: &str) -> Response {
    let bearer = format!("Bearer {token}");
    check_at(
        &app.base,
        &app.browser(),
        url,
        &[("Authorization", &bearer)],
    )
    .await
}

async fn tokens_carry_how_they_were_made(app: &TestApp) {
    let vault = vault_and_echo(app).await;
    app.add_user("gus", "gus password", false).await;
    let gus = signed_in(app, "gus").await;
    let (secret, _) = enrol(app, &gus).await;
    let one = token_made_by(app, &gus, &vault).await;
    let res = with_token(app, VAULT, &one).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "made with one factor");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("requires a second factor")
    );

    away_from_a_step_edge().await;
    let res = step_up(app, &gus, &code(&secret, 0), VAULT).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let two = token_made_by(app, &gus, &vault).await;
    let res = with_token(app, VAULT, &two).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user").as_deref(), Some("gus"));
    // The one-factor token stays what it was.
    let res = with_token(app, VAULT, &one).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
proxied!(tokens_carry_how_they_were_made);

/// `portcullis provider update --slug idp --second-factor <how>`.
fn counts_as(app: &TestApp, how: &str) -> common::CliRun {
    app.cli(&[
        "provider",
        "update",
        "--slug",
        "idp",
        "--second-factor",
        how,
    ])
}

async fn a_provider_sign_in_counts_as_its_setting_says(app: &TestApp) {
    let (_idp, _) =
        common::flow::idp_provider(app, |d| d.settings.second_factor = "always".into()).await;
    vault_and_echo(app).await;
    let c = app.browser();
    common::flow::sign_in(app, &c, "idp", "alice").await;
    opens_as(app, &c, VAULT, "alice").await;

    // As the provider says: the test provider sends no amr, so one factor.
    let run = counts_as(app, "amr");
    assert!(run.ok, "{}", run.stderr);
    let c = app.browser();
    common::flow::sign_in(app, &c, "idp", "alice").await;
    sent_to_step_up(app, &c, VAULT).await;
    let run = counts_as(app, "often");
    assert!(!run.ok);
    assert!(run.stderr.contains("--second-factor"), "{}", run.stderr);
}
proxied!(a_provider_sign_in_counts_as_its_setting_says);

/// While an application requires two factors, someone holding only the password cannot add
/// a passkey to an account that has one-time codes (and pass it with their own), nor remove
/// the codes' way around: they are asked for the second factor first.
async fn one_factor_cannot_swap_the_factors(app: &TestApp) {
    vault_and_echo(app).await;
    app.add_user("gus", "gus password", false).await;
    let gus = signed_in(app, "gus").await;
    let thief = signed_in(app, "gus").await;
    enrol(app, &gus).await;
    let res = thief
        .post(app.url("/api/v1/passkeys/register/start"))
        .json(&serde_json::json!({ "name": "mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "second_factor_required", "{body}");
    // Nor take the codes away with the password, to set up their own.
    let status = app
        .call_status(&thief, "account/totp_remove", &[("code", "gus password")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let gus_id = app.user_id("gus").await;
    assert!(
        portcullis::ssr::totp::enabled(&app.running.db, &gus_id)
            .await
            .unwrap(),
        "the codes stay"
    );
}
proxied!(one_factor_cannot_swap_the_factors);

/// An application signing in through Portcullis (OpenID Connect) that requires two factors:
/// `prompt=none` gets `interaction_required`; otherwise the request waits while the person
/// steps up, then goes on to the application with its code.
async fn an_openid_client_asks_for_the_second_factor(app: &TestApp) {
    use common::op::{authorize, param, redirected, request};
    let mut draft = common::op::client_draft(
        "Wiki",
        "https://wiki.example/callback",
        "client_secret_basic",
        "users",
        "",
    );
    draft.require_second_factor = true;
    let c = common::op::store_client(app, draft).await;
    app.add_user("gus", "gus password", false).await;
    let gus = signed_in(app, "gus").await;
    let (secret, _) = enrol(app, &gus).await;

    let res = authorize(app, &gus, &request(&c, &[("prompt", "none")])).await;
    let (to, pairs) = redirected(&res);
    assert_eq!(to, "https://wiki.example/callback");
    assert_eq!(param(&pairs, "error"), Some("interaction_required"));
    assert_eq!(param(&pairs, "state"), Some("st"));

    let res = authorize(app, &gus, &request(&c, &[])).await;
    let (to, pairs) = redirected(&res);
    assert!(to.ends_with("/second-factor"), "{to}");
    let next = param(&pairs, "next").unwrap().to_owned();
    assert!(next.starts_with("/oauth2/continue/"), "{next}");
    away_from_a_step_edge().await;
    let res = step_up(app, &gus, &code(&secret, 0), &next).await;
    assert_eq!(raw_location(&res), next);
    let page = page_text(app, &gus, &next).await;
    assert!(
        page.contains("https://wiki.example/callback?code="),
        "{page}"
    );
}
proxied!(an_openid_client_asks_for_the_second_factor);
