//! Test sign-in (issue 13): an administrator runs the real authorization-code flow with the
//! provider editor's values, saved or not, against the real test provider and the
//! misbehaving one, and reads a report; nothing is written (no user, link, session change).

use crate::common;

use common::TestApp;
use common::flow::{
    add_provider, add_signed_in, at_provider, body_with, draft, enable_oidc, location, me,
    page_text, raw_location, shady_draft, shows, sign_in, signed_in, start_idp,
};
use common::idp::Idp;
use portcullis::provider::{DEFAULT_GROUPS_CLAIM, ProviderDraft, ProviderSettings, Typed};
use portcullis::test_sign_in::{REPORT_PATH, START_PATH};
use reqwest::header::{ACCEPT, ORIGIN};
use reqwest::{Client, Response, StatusCode};

/// The editor's form as the browser posts it (Save's fields, to the test route).
fn form(original_slug: &str, d: &ProviderDraft) -> Vec<(String, String)> {
    common::editor_form(original_slug, d)
}

/// Posts the editor's form to the test route as a browser does.
async fn post_test(
    app: &TestApp,
    client: &Client,
    original_slug: &str,
    d: &ProviderDraft,
) -> Response {
    client
        .post(app.url(START_PATH))
        .header(ORIGIN, &app.base)
        .header(ACCEPT, "text/html")
        .form(&form(original_slug, d))
        .send()
        .await
        .unwrap()
}

/// A whole test sign-in, logging in at the provider as `user` when it gets there; returns
/// the report page's HTML.
async fn run_test(
    app: &TestApp,
    client: &Client,
    original_slug: &str,
    d: &ProviderDraft,
    user: &str,
) -> String {
    let res = post_test(app, client, original_slug, d).await;
    let res = common::continue_page_as_redirect(res).await;
    let to_report = if raw_location(&res).starts_with(REPORT_PATH) {
        res
    } else {
        let callback = at_provider(client, &app.base, res, user).await;
        client.get(&callback).send().await.unwrap()
    };
    assert!(
        to_report.status().is_redirection(),
        "{}",
        to_report.status()
    );
    let report = location(&to_report);
    assert!(report.starts_with(&app.url(REPORT_PATH)), "{report}");
    let page = client
        .get(&report)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    body_with(page, StatusCode::OK).await
}

/// What must not change: users, links, sessions (each row's owner and data).
async fn snapshot(app: &TestApp) -> (i64, i64, Vec<(String, String, Option<String>)>) {
    let db = &app.running.db;
    let count = |table: &'static str| async move {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        portcullis::on_pool!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await)
            .unwrap()
    };
    let sessions: Vec<(String, String, Option<String>)> = portcullis::on_pool!(db, pool =>
        sqlx::query_as("SELECT id, data, user_id FROM sessions ORDER BY id").fetch_all(pool).await)
    .unwrap();
    (
        count("users").await,
        count("linked_identities").await,
        sessions,
    )
}

/// The report's main part, for assertion messages.
fn main_of(page: &str) -> &str {
    let from = page.find("<main").unwrap_or(0);
    let to = page.find("test-report-json\"").unwrap_or(page.len());
    &page[from..to.max(from)]
}

/// How the report marks step `name` as `status` (`passed`, `failed`).
fn step(name: &str, status: &str) -> String {
    format!("data-step=\"{name}\" data-status=\"{status}\"")
}

/// The report shows every one of `texts`.
fn assert_report(page: &str, texts: &[&str]) {
    for text in texts {
        assert!(page.contains(text), "{text}: {}", main_of(page));
    }
}

/// The report at `report` (a URL on `app`), as `client` sees it.
async fn report_page(app: &TestApp, client: &Client, report: &str) -> String {
    page_text(app, client, &report[app.base.len()..]).await
}

/// OpenID Connect sign-in on, and the administrator `root` signed in.
async fn admin(app: &TestApp) -> Client {
    app.add_user("root", "root password", true).await;
    enable_oidc(app).await;
    signed_in(app, "root").await
}

/// The test provider, accepting the redirect URIs of providers `slugs`, and [`admin`].
async fn setup(app: &TestApp, slugs: &[&str]) -> (Idp, Client) {
    let idp = start_idp(app, slugs).await;
    (idp, admin(app).await)
}

async fn a_good_test_sign_in_reports_everything_and_writes_nothing(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    let before = snapshot(app).await;
    let mut d = draft(&idp.issuer, "kc", true);
    d.settings.required_claims =
        "portcullis_user, groups=media-users, realm_access.roles=portcullis".into();
    // Not saved: the values exist only in the form.
    let page = run_test(app, &admin, "", &d, "alice").await;
    let steps = [
        "Discovery",
        "Authorization request",
        "Authorization response",
        "Token request",
        "ID token validation",
        "Userinfo",
    ]
    .map(|name| step(name, "passed"));
    assert_report(&page, &steps.each_ref().map(String::as_str));
    let jwks = format!("from {}/jwks", idp.issuer);
    assert_report(
        &page,
        &[
            "every step passed",
            "client_secret_basic (Automatic, from the provider",
            "Verified by",
            &jwks,
            "RS256",
            "alice@idp.example",
            "media-users",
            "data-rule=\"groups=media-users\" data-holds=\"true\"",
            "data-rule=\"realm_access.roles=portcullis\" data-holds=\"true\"",
            "Create a new account",
            "<dd>alice<",
            "<dd>Alice Idp<",
        ],
    );
    assert!(
        !page.contains("access_token") && !page.contains("basic-secret"),
        "no tokens, no secret"
    );
    assert!(shows(&page, "This provider is not saved yet"));
    assert_eq!(
        snapshot(app).await,
        before,
        "no user, link or session written"
    );
    assert_eq!(
        me(app, &admin).await.unwrap()["username"],
        "root",
        "still the administrator"
    );

    // A report is shown once, and only to the browser that ran the test.
    let again = run_test(app, &admin, "", &d, "alice").await;
    assert_report(&again, &["every step passed"]);

    // Saved, with alice linked by a real sign-in: the test says it would sign her in, with
    // the stored secret when the field is left empty.
    add_provider(app, &idp.issuer, "kc", true).await;
    let alice = app.browser();
    assert!(
        sign_in(app, &alice, "kc", "alice")
            .await
            .status()
            .is_redirection()
    );
    let before = snapshot(app).await;
    let mut d = draft(&idp.issuer, "kc", false);
    d.client_secret = String::new();
    let page = run_test(app, &admin, "kc", &d, "alice").await;
    assert_report(&page, &["Sign in as the linked account alice"]);
    assert_eq!(snapshot(app).await, before);

    // The stored secret never goes to another issuer or client: with the field empty, the
    // test stops at the settings and asks for the secret, before any request.
    let elsewhere = format!("{}/elsewhere", idp.issuer.trim_end_matches('/'));
    for (issuer, client_id) in [
        (elsewhere.as_str(), "portcullis-basic"),
        (idp.issuer.as_str(), "another-client"),
    ] {
        let mut d = draft(issuer, "kc", false);
        d.client_secret = String::new();
        d.client_id = client_id.into();
        let page = run_test(app, &admin, "kc", &d, "alice").await;
        assert!(
            page.contains("no request was made")
                && page.contains("client_secret: Enter the client secret"),
            "{issuer} {client_id}: {}",
            main_of(&page)
        );
    }
    assert_eq!(snapshot(app).await, before);

    // Each test is in the audit log, by the administrator, naming the provider tested.
    let tests = app
        .events_of(portcullis::audit::EventKind::TestSignIn)
        .await;
    assert_eq!(tests.len(), 5, "{tests:#?}");
    assert_eq!(tests[0].by.actor, "root");
    assert_eq!(tests[0].target_id.as_deref(), Some("kc"));
}
both_backends!(a_good_test_sign_in_reports_everything_and_writes_nothing);

async fn provider_and_configuration_failures_are_explained(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    let before = snapshot(app).await;

    // (First: the provider remembers who logged in in this browser.)
    // A required claim the person does not have: the verdict, the value seen, a refusal.
    let mut d = draft(&idp.issuer, "kc", true);
    d.settings.required_claims = "portcullis_user, groups=family".into();
    let page = run_test(app, &admin, "", &d, "bob").await;
    assert_report(
        &page,
        &[
            "data-rule=\"portcullis_user\" data-holds=\"false\"",
            "data-rule=\"groups=family\" data-holds=\"true\"",
            "<code>false<", // the value seen
            "Refuse the sign-in",
            "Required Claims not met: portcullis_user",
        ],
    );

    // A wrong client secret: the token endpoint says invalid_client.
    let mut d = draft(&idp.issuer, "kc", true);
    d.client_secret = "not-the-secret".into();
    let page = run_test(app, &admin, "", &d, "alice").await;
    let failed = step("Token request", "failed");
    let texts = [failed.as_str(), "invalid_client", "client secret is wrong"];
    assert_report(&page, &texts);
    assert_report(&page, &["client_secret_basic"]);

    // A redirect URI the provider does not know: its refusal is read before the browser
    // is sent there, and the fix names the exact URI to register.
    let d = draft(&idp.issuer, "unregistered", true);
    let page = run_test(app, &admin, "", &d, "alice").await;
    let failed = step("Authorization request", "failed");
    let fix = format!("Register `{}` exactly", app.url("/login/unregistered"));
    assert_report(&page, &[&failed, "invalid_redirect_uri", &fix]);

    // An error the provider sends back on the redirect is shown in full (the public login
    // page keeps it generic).
    let d = draft(&idp.issuer, "kc", true);
    let started = common::continue_page_as_redirect(post_test(app, &admin, "", &d).await).await;
    let authorize = url::Url::parse(&location(&started)).unwrap();
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let mut back = url::Url::parse(&app.url("/login/kc")).unwrap();
    back.query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("iss", &idp.issuer)
        .append_pair("error", "access_denied")
        .append_pair(
            "error_description",
            "The user is not assigned to the client (AADSTS50105)",
        );
    let res = admin.get(back.as_str()).send().await.unwrap();
    let page = report_page(app, &admin, &location(&res)).await;
    let failed = step("Authorization response", "failed");
    let texts = [
        failed.as_str(),
        "access_denied",
        "not assigned to the client (AADSTS50105)",
    ];
    assert_report(&page, &texts);

    // Incomplete values: no request at all, the fields named.
    let mut d = draft(&idp.issuer, "kc", true);
    d.client_id = String::new();
    let page = run_test(app, &admin, "", &d, "alice").await;
    assert_report(&page, &[&step("Editor values", "failed"), "client_id"]);

    assert_eq!(snapshot(app).await, before);
}
both_backends!(provider_and_configuration_failures_are_explained);

async fn bad_tokens_are_explained(app: &TestApp) {
    let idp = Idp::start_script("misbehaving.mjs", &[]).await;
    let admin = admin(app).await;
    let before = snapshot(app).await;
    let d = shady_draft(&idp.issuer);
    // The report of a test sign-in while the provider misbehaves as `mode` says.
    let report_in = async |mode: &str| {
        idp.http()
            .get(format!("{}/control?mode={mode}", idp.issuer))
            .send()
            .await
            .unwrap();
        run_test(app, &admin, "", &d, "").await
    };

    let page = report_in("bad-signature").await;
    let failed = step("ID token validation", "failed");
    let texts = [failed.as_str(), "does not verify with the provider", "`k1`"];
    assert_report(&page, &texts);
    // The claims as sent.
    assert_report(&page, &["NOT verified", "mallory-1@bad.example"]);

    let page = report_in("wrong-iss").await;
    let iss = &idp.issuer;
    assert!(
        shows(
            &page,
            &format!(
                "The ID token's issuer is `{iss}/other` but the provider is configured with `{iss}`."
            )
        ),
        "{}",
        main_of(&page)
    );

    let page = report_in("hs256").await;
    assert_report(&page, &["HS256", "not accepted"]);

    let page = report_in("ok").await;
    let texts = ["every step passed", "kid k1 (RSA, RS256)", "<dd>mallory-1<"];
    assert_report(&page, &texts);

    assert_eq!(snapshot(app).await, before);
}
both_backends!(bad_tokens_are_explained);

async fn an_email_match_is_reported_as_link_or_refusal(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    // erin's verified email at the provider is taken@example.com, a local account's.
    app.add_user("taken", "taken password", false).await;
    let before = snapshot(app).await;
    let mut d = draft(&idp.issuer, "kc", true);
    d.settings.link_by_email = true;
    let page = run_test(app, &admin, "", &d, "erin").await;
    let link = "by its verified email taken@example.com to the existing account taken";
    assert_report(&page, &[link]);
    d.settings.link_by_email = false;
    let page = run_test(app, &admin, "", &d, "erin").await;
    assert_report(
        &page,
        &["Refuse the sign-in", "belongs to the account taken"],
    );
    assert_eq!(
        snapshot(app).await,
        before,
        "nothing linked, nobody created"
    );
}
both_backends!(an_email_match_is_reported_as_link_or_refusal);

/// Issue 18 item 5: the report judges an email match as a sign-in would. erin's account was
/// created through `open`, which does not link by email, so its email is not trusted: a
/// provider that links by email would not be joined to it.
async fn an_untrusted_email_is_reported_as_refusal(app: &TestApp) {
    let (idp, admin) = setup(app, &["open", "kc"]).await;
    let mut open = draft(&idp.issuer, "open", true);
    open.name = "Open IdP".into();
    app.add_provider(open).await;
    let res = sign_in(app, &app.browser(), "open", "erin").await;
    assert_eq!(raw_location(&res), "/", "erin's account, from open");
    let before = snapshot(app).await;
    let mut d = draft(&idp.issuer, "kc", true);
    d.settings.link_by_email = true;
    let page = run_test(app, &admin, "", &d, "erin").await;
    let texts = [
        "Refuse the sign-in",
        "belongs to the account erin",
        "whose email is not trusted",
    ];
    assert_report(&page, &texts);
    assert_eq!(snapshot(app).await, before, "nothing linked");
}
both_backends!(an_untrusted_email_is_reported_as_refusal);

/// The report judges Admin Claims and shows the administrator flag a sign-in would set, and
/// (issue 18 item 9) shows the groups a sign-in would bring as applications will see them:
/// `<slug>:<group>` for a provider whose groups are not authoritative (the default), as sent
/// when they are. Each case is a test of provider `kc`'s new values, changed as it says.
async fn admin_claims_and_groups_are_reported_as_a_sign_in_would_see_them(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    let before = snapshot(app).await;
    type Change = fn(&mut ProviderSettings<Typed>);
    let cases: [(&str, Change, &[&str]); 4] = [
        (
            "admin claims that hold",
            |s| s.admin_claims = "realm_access.roles=portcullis".into(),
            &[
                "<td>Admin Claims<",
                "data-rule=\"realm_access.roles=portcullis\" data-holds=\"true\"",
                "<dt>Administrator</dt><dd>yes<",
            ],
        ),
        (
            "admin claims that do not hold",
            |s| s.admin_claims = "groups=admins".into(),
            &[
                "data-rule=\"groups=admins\" data-holds=\"false\"",
                "<dt>Administrator</dt><dd>no<",
            ],
        ),
        (
            "groups, not authoritative",
            |s| s.groups_claim = DEFAULT_GROUPS_CLAIM.into(),
            &[
                "data-groups=\"kc:family,kc:media-users\"",
                "kc:family, kc:media-users",
            ],
        ),
        (
            "groups, authoritative",
            |s| {
                s.groups_claim = DEFAULT_GROUPS_CLAIM.into();
                s.groups_authoritative = true;
            },
            &["data-groups=\"family,media-users\""],
        ),
    ];
    for (case, change, texts) in cases {
        let mut d = draft(&idp.issuer, "kc", true);
        change(&mut d.settings);
        let page = run_test(app, &admin, "", &d, "alice").await;
        for text in texts {
            assert!(page.contains(text), "{case}: {text}: {}", main_of(&page));
        }
    }
    assert_eq!(snapshot(app).await, before, "no administrator made");
}
both_backends!(admin_claims_and_groups_are_reported_as_a_sign_in_would_see_them);

async fn only_the_administrator_who_ran_it_sees_it(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    let eve = add_signed_in(app, "eve", false).await;
    let d = draft(&idp.issuer, "kc", true);
    let res = post_test(app, &eve, "", &d).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "non-admins are refused"
    );
    let res = post_test(app, &app.browser(), "", &d).await;
    assert_eq!(raw_location(&res), "/login", "visitors are sent to sign in");

    // The admin's attempt, finished in another browser (with its binding cookie stolen
    // or not), does not produce a report there; the state is bound to the admin's browser.
    let started = common::continue_page_as_redirect(post_test(app, &admin, "", &d).await).await;
    let callback = at_provider(&admin, &app.base, started, "alice").await;
    let other = app.browser();
    let res = other.get(&callback).send().await.unwrap();
    assert!(!raw_location(&res).starts_with(REPORT_PATH));
    // The admin's own browser still finishes it; the report is for the admin's browser only.
    let res = admin.get(&callback).send().await.unwrap();
    let report = location(&res);
    assert!(report.starts_with(&app.url(REPORT_PATH)), "{report}");
    let root_elsewhere = signed_in(app, "root").await;
    let page = report_page(app, &root_elsewhere, &report).await;
    assert!(
        page.contains("shown already or has expired"),
        "another browser: {page}"
    );
    let page = report_page(app, &admin, &report).await;
    assert_report(&page, &["every step passed"]);
    let page = report_page(app, &admin, &report).await;
    assert!(
        page.contains("shown already or has expired"),
        "shown once: {page}"
    );
}
both_backends!(only_the_administrator_who_ran_it_sees_it);

/// The provider's extra authorization parameters go with the test's request too, and the
/// report's authorization step lists them.
async fn a_test_sign_in_sends_the_extra_authorization_parameters(app: &TestApp) {
    let (idp, admin) = setup(app, &["kc"]).await;
    let mut d = draft(&idp.issuer, "kc", true);
    d.settings.auth_params = "prompt=login\nui_locales=de-CH fr".into();
    // Not saved: the values exist only in the form.
    let page = run_test(app, &admin, "", &d, "alice").await;
    let listed = ["prompt=login", "ui_locales=de-CH fr"]
        .map(|fact| format!("<dt>Extra parameter<!></dt><dd>{fact}<!></dd>"));
    let passed = step("Authorization request", "passed");
    assert_report(&page, &[&passed, &listed[0], &listed[1]]);
    let got = idp.last_authorization().await;
    assert_eq!(got["prompt"], "login", "{got}");
    assert_eq!(got["ui_locales"], "de-CH fr", "{got}");
}
both_backends!(a_test_sign_in_sends_the_extra_authorization_parameters);

/// The test route answers a plain form post, so what it refuses it refuses with a page that
/// says why (never plain text or JSON).
async fn its_refusals_are_pages(app: &TestApp) {
    app.add_user("root", "root password", true).await;
    app.add_user("eve", "eve password", false).await;
    let admin = signed_in(app, "root").await;
    let eve = signed_in(app, "eve").await;
    let post = |client: &Client, body: Vec<u8>| {
        client
            .post(app.url(START_PATH))
            .header(ORIGIN, &app.base)
            .header(ACCEPT, "text/html")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
    };
    let cases = [
        (&eve, b"original_slug=".to_vec(), 403, "Only administrators"),
        (
            &admin,
            vec![0xff, 0xfe],
            400,
            "Not the provider editor's form.",
        ),
        (
            &admin,
            vec![b'a'; 600 * 1024],
            413,
            "larger than any provider editor",
        ),
    ];
    for (client, body, status, words) in cases {
        let res = post(client, body).await.unwrap();
        assert_eq!(res.status().as_u16(), status);
        let content_type = res.headers()[reqwest::header::CONTENT_TYPE].clone();
        assert!(content_type.to_str().unwrap().starts_with("text/html"));
        let page = res.text().await.unwrap();
        assert!(page.contains(words), "{page}");
    }
}
both_backends!(its_refusals_are_pages);
