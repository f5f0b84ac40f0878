//! One-time codes (TOTP, RFC 6238) as a second factor for password accounts: enrolment on
//! Profile → Security (QR code and the secret as text, confirmed with a code), the sign-in's
//! second step, replays refused, recovery codes used once, the failed-password limits, the
//! break-glass CLI, and a half-done sign-in that is no session for anything. Codes are
//! computed by `totp-rs` from the secret the enrolment page shows, at the real time: no clock
//! is set. On SQLite and PostgreSQL.

use crate::common;

use common::flow::{body_with, me, page_text, raw_location, shows};
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A request header, as a reverse proxy sends it.
type Header = (&'static str, &'static str);

const SECURITY: &str = "/profile/settings/security";
const STEP: u64 = 30;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits out the last seconds of a time step, so that codes computed now are judged by the
/// server in the same step (a test computes, then posts).
pub(crate) async fn away_from_a_step_edge() {
    let into = unix_now() % STEP;
    if into >= STEP - 4 {
        tokio::time::sleep(Duration::from_secs(STEP - into + 1)).await;
    }
}

/// The RFC 6238 code for `secret` (base32, as the page shows it) at `offset` steps from now.
pub(crate) fn code(secret: &str, offset: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    let t = unix_now() as i64 + offset * STEP as i64;
    totp.generate(t as u64).to_string()
}

/// A code that is not `right` (each digit moved on by one).
pub(crate) fn wrong(right: &str) -> String {
    right
        .chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect()
}

/// The text of the element `id` on `page` (the first text after its start tag).
fn text_of(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let rest = &page[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_owned())
}

/// The recovery codes shown on `page` (none when it shows none).
fn recovery_codes(page: &str) -> Vec<String> {
    let Some(at) = page.find("id=\"recovery-codes\"") else {
        return Vec::new();
    };
    let list = &page[at..page[at..].find("</ul>").unwrap() + at];
    list.split("<code>")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_owned())
        .collect()
}

/// The users page's "Second factor" cell of `user`.
fn second_factor_cell(page: &str, user: &str) -> String {
    let marker = format!("data-user=\"{user}\" class=\"second-factor\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in {page}"));
    let rest = &page[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..start + rest[start..].find('<').unwrap()].to_owned()
}

/// Posts a Security form as a browser without JavaScript, which is sent back to the page;
/// returns the page as it then shows.
async fn posted(app: &TestApp, b: &Client, endpoint: &str, form: &[(&str, &str)]) -> String {
    let res = app.post_form(b, endpoint, SECURITY, form).await;
    assert_eq!(res.status(), StatusCode::FOUND, "{endpoint}");
    page_text(app, b, SECURITY).await
}

/// Starts the set-up on the Security page (a plain form) and returns the page showing it.
async fn start(app: &TestApp, b: &Client) -> String {
    posted(app, b, "account/totp_start", &[]).await
}

/// Sets one-time codes up for the signed-in `b` (confirmed with the previous step's code, so
/// the current step's is still unused); returns the secret and the recovery codes shown.
pub(crate) async fn enrol(app: &TestApp, b: &Client) -> (String, Vec<String>) {
    let page = start(app, b).await;
    let secret = text_of(&page, "totp-secret").expect("the page shows the secret");
    away_from_a_step_edge().await;
    let page = posted(
        app,
        b,
        "account/totp_confirm",
        &[("code", &code(&secret, -1))],
    )
    .await;
    let codes = recovery_codes(&page);
    assert_eq!(codes.len(), 10, "{page}");
    (secret, codes)
}

/// `name` (password `<name> password`) signed in, with one-time codes set up.
async fn enrolled(app: &TestApp, name: &str) -> (Client, String, Vec<String>) {
    app.add_user(name, &format!("{name} password"), false).await;
    let b = common::flow::signed_in(app, name).await;
    let (secret, codes) = enrol(app, &b).await;
    (b, secret, codes)
}

/// A fresh browser that gave `name`'s right password and was sent to the second step.
async fn password_only(app: &TestApp, name: &str) -> Client {
    let b = app.browser();
    let password = format!("{name} password");
    let res = app
        .post_form(
            &b,
            "auth/login",
            "/login",
            &[("identifier", name), ("password", &password)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(raw_location(&res), "/second-factor");
    b
}

/// Posts the second step's form as a browser without JavaScript.
async fn second_step(app: &TestApp, b: &Client, code: &str) -> reqwest::Response {
    app.post_form(b, "auth/second_factor", "/second-factor", &[("code", code)])
        .await
}

async fn username(app: &TestApp, b: &Client) -> Option<String> {
    me(app, b)
        .await
        .map(|v| v["username"].as_str().unwrap().to_owned())
}

async fn confirmed_rows(app: &TestApp) -> (i64, i64) {
    portcullis::on_pool!(&app.running.db, pool => async {
        let on: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_totp WHERE confirmed_at IS NOT NULL")
            .fetch_one(pool).await.unwrap();
        let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_recovery_codes")
            .fetch_one(pool).await.unwrap();
        (on, codes)
    }.await)
}

async fn enrol_confirm_and_sign_in(app: &TestApp) {
    let b = common::flow::add_signed_in(app, "alice", false).await;
    let page = page_text(app, &b, SECURITY).await;
    assert!(page.contains("id=\"totp-start\""), "{page}");

    let page = start(app, &b).await;
    let secret = text_of(&page, "totp-secret").unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(
        page.contains("src=\"data:image/svg+xml;base64,"),
        "the QR code, drawn here"
    );
    assert!(shows(&page, "Not on yet"));
    // The stored secret is sealed: not the text shown.
    let stored: String = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT secret_enc FROM user_totp").fetch_one(pool).await)
    .unwrap();
    assert!(!stored.contains(&secret));

    // A wrong code saves nothing.
    away_from_a_step_edge().await;
    let page = posted(
        app,
        &b,
        "account/totp_confirm",
        &[("code", &wrong(&code(&secret, 0)))],
    )
    .await;
    assert!(
        shows(&page, "That code is not right"),
        "{}",
        common::flow::alert(&page)
    );
    assert_eq!(
        text_of(&page, "totp-secret").as_deref(),
        Some(secret.as_str())
    );
    assert_eq!(confirmed_rows(app).await, (0, 0));
    // Still off: the password alone signs in.
    let other = app.browser();
    common::flow::password_sign_in(app, &other, "alice").await;
    assert_eq!(username(app, &other).await.as_deref(), Some("alice"));

    // The right one turns them on and shows ten recovery codes, once.
    let page = posted(
        app,
        &b,
        "account/totp_confirm",
        &[("code", &code(&secret, -1))],
    )
    .await;
    assert_eq!(recovery_codes(&page).len(), 10, "{page}");
    assert!(shows(&page, "One-time codes are on"), "{page}");
    assert_eq!(confirmed_rows(app).await, (1, 10));
    let again = page_text(app, &b, SECURITY).await;
    assert!(recovery_codes(&again).is_empty(), "shown once");
    assert!(shows(&again, "10 unused recovery codes left"), "{again}");
    assert!(!again.contains(&secret), "the secret is not shown once on");

    // Sign-in now asks for the code; the password alone is no session.
    let c = password_only(app, "alice").await;
    assert_eq!(username(app, &c).await, None);
    let page = page_text(app, &c, "/second-factor").await;
    assert!(page.contains("id=\"field-code\""), "{page}");
    assert!(page.contains("autocomplete=\"one-time-code\""));
    let now = code(&secret, 0);
    let res = second_step(app, &c, &now).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(raw_location(&res), "/");
    assert_eq!(username(app, &c).await.as_deref(), Some("alice"));

    // The same code again (another browser, same step) is refused.
    let d = password_only(app, "alice").await;
    let res = second_step(app, &d, &now).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(raw_location(&res), "/second-factor");
    let page = page_text(app, &d, "/second-factor").await;
    assert!(
        shows(&page, "That code was already used"),
        "{}",
        common::flow::alert(&page)
    );
    assert_eq!(username(app, &d).await, None);
    // The next step's code (one step of skew) is fresh: in.
    let res = second_step(app, &d, &code(&secret, 1)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(username(app, &d).await.as_deref(), Some("alice"));
}
both_backends!(enrol_confirm_and_sign_in);

/// With JavaScript (the app's fetch): the answers are JSON and the redirects are headers.
async fn the_second_step_answers_the_app(app: &TestApp) {
    let (_, secret, _) = enrolled(app, "jo").await;
    let b = app.browser();
    let res = app.login(&b, "jo", "jo password").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/second-factor")
    );
    let res = app
        .call(&b, "auth/second_factor", &[("code", "12345")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("not right"), "{body}");
    assert_eq!(
        app.call_status(&b, "auth/second_factor", &[("code", &code(&secret, 0))])
            .await,
        StatusCode::OK
    );
    assert_eq!(username(app, &b).await.as_deref(), Some("jo"));
    // Used up: a second post has nothing to finish.
    assert_eq!(
        app.call_status(&b, "auth/second_factor", &[("code", "123456")])
            .await,
        StatusCode::FORBIDDEN
    );
}
both_backends!(the_second_step_answers_the_app);

async fn a_recovery_code_works_once(app: &TestApp) {
    let (_, _, codes) = enrolled(app, "bob").await;
    let first = codes[0].to_uppercase();
    let b = password_only(app, "bob").await;
    let res = second_step(app, &b, &first).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(username(app, &b).await.as_deref(), Some("bob"));
    let page = page_text(app, &b, SECURITY).await;
    assert!(shows(&page, "9 unused recovery codes left"), "{page}");

    let c = password_only(app, "bob").await;
    let res = second_step(app, &c, &first).await;
    assert_eq!(raw_location(&res), "/second-factor");
    assert_eq!(username(app, &c).await, None);
    let res = second_step(app, &c, &codes[1]).await;
    assert_eq!(raw_location(&res), "/");
    assert_eq!(username(app, &c).await.as_deref(), Some("bob"));
}
both_backends!(a_recovery_code_works_once);

/// Wrong codes spend the account's failed-password budget: then even the right code waits.
async fn wrong_codes_are_limited(app: &TestApp) {
    let (_, secret, _) = enrolled(app, "carol").await;
    let b = password_only(app, "carol").await;
    away_from_a_step_edge().await;
    let bad = wrong(&code(&secret, 0));
    for _ in 0..portcullis::ssr::limiter::PER_ACCOUNT_PER_MINUTE {
        assert_eq!(
            app.call_status(&b, "auth/second_factor", &[("code", &bad)])
                .await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        app.call_status(&b, "auth/second_factor", &[("code", &code(&secret, 0))])
            .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(username(app, &b).await, None);
}
both_backends!(wrong_codes_are_limited);

/// Removing asks for a proof; the break-glass CLI needs none. The users page shows who has
/// one-time codes.
async fn remove_and_reset(app: &TestApp) {
    let admin = common::flow::add_signed_in(app, "root", true).await;
    let (b, _, _) = enrolled(app, "dave").await;
    let users = page_text(app, &admin, "/settings/users").await;
    assert_eq!(second_factor_cell(&users, "dave"), "One-time codes");
    assert_eq!(second_factor_cell(&users, "root"), "None");

    let page = posted(
        app,
        &b,
        "account/totp_remove",
        &[("code", "not my password")],
    )
    .await;
    assert!(
        shows(&page, "Enter a current code"),
        "{}",
        common::flow::alert(&page)
    );
    assert_eq!(confirmed_rows(app).await, (1, 10));
    let page = posted(app, &b, "account/totp_remove", &[("code", "dave password")]).await;
    assert!(shows(&page, "One-time codes are off"), "{page}");
    assert_eq!(confirmed_rows(app).await, (0, 0));

    // Again, and this time lost: the administrator's CLI turns them off.
    enrol(app, &b).await;
    password_only(app, "dave").await;
    let run = app.cli(&["user", "reset-second-factor", "--user", "dave"]);
    assert!(run.ok, "{}", run.text());
    assert!(
        run.stdout.contains("removed the one-time codes of dave"),
        "{}",
        run.text()
    );
    assert_eq!(confirmed_rows(app).await, (0, 0));
    let c = app.browser();
    common::flow::password_sign_in(app, &c, "dave").await;
    assert_eq!(username(app, &c).await.as_deref(), Some("dave"));
    let users = page_text(app, &admin, "/settings/users").await;
    assert_eq!(second_factor_cell(&users, "dave"), "None");
    let run = app.cli(&["user", "reset-second-factor", "--user", "nobody"]);
    assert!(!run.ok);
    assert!(run.stderr.contains("no user \"nobody\""), "{}", run.text());

    // The audit log, newest first: dave on and off twice, the second time off by the CLI.
    let events = app.events_about("dave").await;
    let codes: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.event.name().starts_with("second_factor"))
        .map(|e| (e.event.name(), e.by.actor.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("second_factor_removed", "cli"),
            ("second_factor_enabled", "dave"),
            ("second_factor_removed", "dave"),
            ("second_factor_enabled", "dave"),
        ]
    );
}
both_backends!(remove_and_reset);

/// A browser that gave the password but not yet the code is signed out for everything:
/// forward auth sends it to sign in, server functions and the JSON API refuse it, pages
/// treat it as signed out.
async fn a_half_done_sign_in_is_no_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = vec![portcullis::ssr::client_ip::parse_net("127.0.0.1").unwrap()];
    })
    .await;
    app.add_app(portcullis::apps::AppDraft {
        name: "Echo".into(),
        urls: "http://app.portcullis.test".into(),
        access: "users".into(),
        ..Default::default()
    })
    .await;
    enrolled(&app, "erin").await;
    let b = password_only(&app, "erin").await;
    // As Caddy (Traefik) and nginx ask: both send it to sign in, with no identity.
    let caddy = [
        ("X-Forwarded-Method", "GET"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Host", "app.portcullis.test"),
        ("X-Forwarded-Uri", "/"),
    ];
    let nginx = [("X-Original-URL", "http://app.portcullis.test/")];
    let asks: [(&str, &[Header], StatusCode); 2] = [
        ("/api/v1/forward-auth", &caddy, StatusCode::FOUND),
        (
            "/api/v1/forward-auth/nginx",
            &nginx,
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (path, headers, status) in asks {
        let mut req = b.get(app.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert!(raw_location(&res).contains("/login?next="), "{path}");
        assert!(res.headers().get("remote-user").is_none(), "{path}");
    }
    for endpoint in [
        "account/sessions",
        "account/security",
        "account/linked_accounts",
    ] {
        let res = app.call(&b, endpoint, &[]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{endpoint}");
    }
    let res = app.call(&b, "auth/me", &[]).await;
    assert_eq!(body_with(res, StatusCode::OK).await, "null");
    assert_eq!(username(&app, &b).await, None);
    let page = page_text(&app, &b, "/profile/settings").await;
    assert!(!page.contains("erin"), "{page}");
    app.stop().await;
}
each_backend!(a_half_done_sign_in_is_no_session);

/// The real binary's log, through enrolment and a sign-in with a code and a recovery code:
/// no secret, code or recovery code in it.
async fn no_secret_in_logs(backend: Backend) {
    use std::process::{Command, Stdio};
    // The tests' server makes the database and the secret key; the real binary serves the
    // same, on its own port, and every request goes to it.
    let mut app = TestApp::spawn(backend).await;
    let port = common::net::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let db_url = app.config.database_url.clone().unwrap();
    let log_file = app.config.data_dir.join("server.log");
    let err_file = app.config.data_dir.join("server.err");
    let mut server = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &db_url])
        .arg("--data-dir")
        .arg(&app.config.data_dir)
        .env("PORTCULLIS_LOG", "debug")
        .env("PORTCULLIS_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(std::fs::File::create(&log_file).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_file).unwrap()))
        .spawn()
        .unwrap();
    let http = crate::common::http();
    let started = std::time::Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.base = base;
    let (_, secret, codes) = enrolled(&app, "fay").await;
    let b = password_only(&app, "fay").await;
    let used = code(&secret, 0);
    assert_eq!(raw_location(&second_step(&app, &b, &used).await), "/");
    let c = password_only(&app, "fay").await;
    assert_eq!(raw_location(&second_step(&app, &c, &codes[3]).await), "/");
    server.kill().unwrap();
    let _ = server.wait();
    let log =
        std::fs::read_to_string(&log_file).unwrap() + &std::fs::read_to_string(&err_file).unwrap();
    assert!(
        log.contains("signed in with password and one-time code"),
        "{log}"
    );
    assert!(!log.contains(&secret), "the secret in the log");
    assert!(!log.contains(&used), "a code in the log");
    for c in &codes {
        assert!(!log.contains(c.as_str()), "a recovery code in the log");
        assert!(
            !log.contains(&c.replace('-', "")),
            "a recovery code in the log"
        );
    }
    app.stop().await;
}
each_backend!(no_secret_in_logs);

/// One-time codes guard password sign-in only: the same account signing in through a linked
/// provider is signed in at once (the provider's own factors apply).
async fn provider_sign_in_is_not_asked(app: &TestApp) {
    let idp = common::flow::start_idp(app, &["idp"]).await;
    common::flow::add_provider(app, &idp.issuer, "idp", false).await;
    let (b, _, _) = enrolled(app, "gus").await;
    let _ = common::flow::link(app, &b, "idp", "alice").await;
    let c = app.browser();
    let res = common::flow::sign_in(app, &c, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/");
    assert_eq!(username(app, &c).await.as_deref(), Some("gus"));
    // The password still asks.
    password_only(app, "gus").await;
}
both_backends!(provider_sign_in_is_not_asked);
