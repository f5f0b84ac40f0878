//! The device authorization grant (RFC 8628; `docs/openid-provider.md` §3.9): a device asks
//! for codes, polls the token endpoint while a signed-in browser approves through `/device`'s
//! plain forms; `slow_down`, denied, expired, reused and mistyped codes, another client, a
//! client without the device flow, a person the application does not let in, the
//! second-factor step-up; and a real relying party (npm `openid-client`'s
//! `initiateDeviceAuthorization` and `pollDeviceAuthorizationGrant`) polling while the
//! browser approves.

use crate::common;
use common::TestApp;
use common::flow::signed_in;
use common::op::{
    TestClient, client_draft, client_post, counts, get_userinfo, id_token_claims, store_client,
    token, userinfo_status,
};
use reqwest::{Client, Response};

const CB: &str = "https://tv.example/cb";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Application "TV" as a public client (`none`) with the device flow on (or off), for
/// `access`/`users`; with offline_access among its scopes.
async fn tv(app: &TestApp, device_flow: bool, access: &str, users: &str) -> TestClient {
    let mut draft = client_draft("TV", CB, "none", access, users);
    draft.client.device_flow = device_flow;
    draft.client.client_scopes = "openid profile email groups offline_access".into();
    store_client(app, draft).await
}

/// `POST /oauth2/device_authorization` for public client `c` with `scope`.
async fn start(app: &TestApp, c: &TestClient, scope: &str) -> (u16, serde_json::Value) {
    client_post(
        app,
        "/oauth2/device_authorization",
        None,
        &[("client_id", c.client_id.as_str()), ("scope", scope)],
    )
    .await
}

/// A poll of the token endpoint by client `client_id` (public) with `device_code`: the
/// status and the body.
async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> (u16, serde_json::Value) {
    token(
        app,
        None,
        &[
            ("grant_type", GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    )
    .await
}

fn error(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// A 400 with OAuth error `want`.
fn refused(got: (u16, serde_json::Value), want: &str) {
    let (status, body) = got;
    assert_eq!((status, error(&body)), (400, want), "{body}");
}

/// Forgets the last poll, so the next is not too soon.
async fn wait_out(app: &TestApp) {
    portcullis::exec!(
        &app.running.db,
        "UPDATE op_device_codes SET last_poll_at = last_poll_at - 60"
    )
    .unwrap();
}

/// Posts `form` to `path` from our own page.
async fn post(app: &TestApp, browser: &Client, path: &str, form: &[(&str, &str)]) -> Response {
    browser
        .post(app.url(path))
        .header("origin", app.url(""))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Enters `code` at `/device` as `browser`: the status and the page.
async fn enter(app: &TestApp, browser: &Client, code: &str) -> (u16, String) {
    let res = post(app, browser, "/device", &[("user_code", code)]).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

fn form_action(html: &str) -> String {
    common::quoted_after(html, "action=\"").unwrap().to_owned()
}

/// The code a device got, and its body.
async fn started(app: &TestApp, c: &TestClient, scope: &str) -> (String, String) {
    let (status, body) = start(app, c, scope).await;
    assert_eq!(status, 200, "{body}");
    (
        body["device_code"].as_str().unwrap().to_owned(),
        body["user_code"].as_str().unwrap().to_owned(),
    )
}

/// The whole flow: the device starts, polls (`authorization_pending`, then `slow_down` when
/// too fast, with a longer interval), a signed-out person is sent to sign in and back with
/// the code filled in, enters it in lower case, sees the application and what it gets,
/// approves; the device's next poll gets the tokens once, a second redemption is refused.
async fn approved_once(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, "users", "").await;
    let (status, body) = start(app, &c, "openid profile offline_access").await;
    assert_eq!(status, 200, "{body}");
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    let device_code = body["device_code"].as_str().unwrap().to_owned();
    let public = app.running.public_url.clone();
    assert_eq!(body["verification_uri"], format!("{public}/device"));
    assert_eq!(
        body["verification_uri_complete"],
        format!("{public}/device?user_code={user_code}")
    );
    assert_eq!(
        (body["expires_in"].as_i64(), body["interval"].as_i64()),
        (Some(600), Some(5))
    );
    assert!(
        user_code.len() == 9
            && user_code.chars().enumerate().all(|(i, ch)| match i {
                4 => ch == '-',
                _ => "BCDFGHJKLMNPQRSTVWXZ".contains(ch),
            }),
        "{user_code}"
    );
    let stored: String = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT device_code_hash FROM op_device_codes").fetch_one(pool).await)
    .unwrap();
    assert_ne!(stored, device_code, "stored hashed");

    refused(
        poll(app, &c.client_id, &device_code).await,
        "authorization_pending",
    );
    refused(poll(app, &c.client_id, &device_code).await, "slow_down");
    let interval: i64 = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT interval_secs FROM op_device_codes").fetch_one(pool).await)
    .unwrap();
    assert_eq!(interval, 10, "the interval grew by 5 s");

    // Signed out: to the login page, and back to /device with the code.
    let browser = app.browser();
    let complete = format!("/device?user_code={user_code}");
    let res = browser.get(app.url(&complete)).send().await.unwrap();
    assert!(res.status().is_redirection());
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let next = url::Url::parse("http://x.invalid")
        .unwrap()
        .join(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned());
    assert!(to.starts_with("/login?"), "{to}");
    assert_eq!(next.as_deref(), Some(complete.as_str()));
    common::flow::password_sign_in(app, &browser, "alice").await;
    let res = browser.get(app.url(&complete)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{user_code}\"")),
        "prefilled: {html}"
    );
    assert!(html.contains("<label for=\"field\">Code</label>"), "{html}");

    let (status, html) = enter(app, &browser, &user_code.to_lowercase().replace('-', "")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Sign in to TV on your device?"), "{html}");
    assert!(html.contains(&user_code), "the code to compare: {html}");
    assert!(html.contains("Your name and username"), "{html}");
    let action = form_action(&html);
    // Another signed-in browser cannot answer the question shown here.
    app.add_local("bob", "bob@example.com", false).await;
    let bob = signed_in(app, "bob").await;
    let res = post(app, &bob, &action, &[("choice", "approve")]).await;
    assert_eq!(res.status(), 400, "another browser session");
    let res = post(app, &browser, &action, &[("choice", "approve")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Device signed in"));

    wait_out(app).await;
    let (status, body) = poll(app, &c.client_id, &device_code).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    assert!(body["id_token"].is_string());
    assert!(body["refresh_token"].is_string(), "offline_access: {body}");
    assert_eq!(userinfo_status(app, access).await, 200);
    let (status, info) = get_userinfo(app, access).await;
    assert_eq!(
        (status, info["preferred_username"].as_str()),
        (200, Some("alice"))
    );
    // The ID token names the approving session's sign-in.
    let claims = id_token_claims(body["id_token"].as_str().unwrap());
    assert_eq!(claims["aud"], serde_json::json!([c.client_id]));
    assert!(
        claims["auth_time"].is_i64() && claims["sid"].is_string(),
        "{claims}"
    );
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims.get("nonce").is_none());

    wait_out(app).await;
    refused(poll(app, &c.client_id, &device_code).await, "invalid_grant");
    // The code is answered: entering it again is "not valid".
    let (status, html) = enter(app, &browser, &user_code).await;
    assert_eq!(status, 400);
    assert!(html.contains("not valid or has expired"), "{html}");
}
both_backends!(approved_once);

/// Alice, signed in, enters the user code of a device of application "TV" (`access`,
/// `users`) that asked for `openid`: the client, the device code, her browser, and the
/// page's status and text.
async fn alice_enters(
    app: &TestApp,
    access: &str,
    users: &str,
) -> (TestClient, String, Client, (u16, String)) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, access, users).await;
    let (device_code, user_code) = started(app, &c, "openid").await;
    let browser = signed_in(app, "alice").await;
    let entered = enter(app, &browser, &user_code).await;
    (c, device_code, browser, entered)
}

/// Alice enters the code of a device of "TV" (open to every user) and answers `choice`:
/// the client, the device code, her browser, the page she answered on, the form's action
/// and the answer.
async fn alice_answers(
    app: &TestApp,
    choice: &str,
) -> (TestClient, String, Client, String, String, Response) {
    let (c, device_code, browser, (status, html)) = alice_enters(app, "users", "").await;
    assert_eq!(status, 200, "{html}");
    let action = form_action(&html);
    let res = post(app, &browser, &action, &[("choice", choice)]).await;
    assert_eq!(res.status(), 200);
    (c, device_code, browser, html, action, res)
}

/// Deny: the device gets `access_denied`, the code cannot be approved after.
async fn denied(app: &TestApp) {
    let (c, device_code, browser, html, action, res) = alice_answers(app, "deny").await;
    assert!(html.contains("nothing more"), "openid alone: {html}");
    assert!(res.text().await.unwrap().contains("Sign-in refused"));
    refused(poll(app, &c.client_id, &device_code).await, "access_denied");
    let res = post(app, &browser, &action, &[("choice", "approve")]).await;
    assert_eq!(res.status(), 400, "answered already");
    wait_out(app).await;
    refused(poll(app, &c.client_id, &device_code).await, "access_denied");
}
both_backends!(denied);

/// Approved, then the session that approved it ends (alice signs out) before the device
/// polls: no grant, no tokens (a grant would outlive the session its back-channel logout
/// reaches; with `offline_access`, by 30 days).
async fn approved_in_a_session_that_ended(app: &TestApp) {
    let (c, device_code, browser, ..) = alice_answers(app, "approve").await;
    assert_eq!(app.call_status(&browser, "auth/logout", &[]).await, 200);
    refused(poll(app, &c.client_id, &device_code).await, "invalid_grant");
    assert_eq!(counts(app).await[2], 0, "no grant");
}
both_backends!(approved_in_a_session_that_ended);

/// Device authorizations are bounded, as anyone with a public client's ID can ask for them
/// and each waiting code is a user code a guess may hit: a client may have 1000 codes
/// waiting, and one address may ask for 10 at once, then 2 a minute. Beyond either, the
/// answer is 429 `temporarily_unavailable` and nothing is written.
async fn waiting_codes_are_bounded(app: &TestApp) {
    let c = tv(app, true, "users", "").await;
    let db = &app.running.db;
    let waiting = async || -> i64 {
        portcullis::on_pool!(db, pool =>
            sqlx::query_scalar("SELECT COUNT(*) FROM op_device_codes").fetch_one(pool).await)
        .unwrap()
    };
    // Others' 1000 codes wait: the client is full.
    for i in 0..1000 {
        portcullis::exec!(
            db,
            "INSERT INTO op_device_codes (device_code_hash, user_code, app_id, scope, status, \
             interval_secs, created_at, expires_at) VALUES ($1, $2, $3, 'openid', 'pending', 5, 0, $4)",
            format!("h{i}"),
            format!("U{i:07}"),
            &c.app_id,
            portcullis::ssr::clock::now() + 600
        )
        .unwrap();
    }
    try_later(start(app, &c, "openid").await, "waiting");
    assert_eq!(waiting().await, 1000, "nothing written");
    // They expire: this address may ask for 9 more now (the refused one counted), then must
    // wait.
    portcullis::exec!(db, "UPDATE op_device_codes SET expires_at = 0").unwrap();
    for _ in 0..9 {
        started(app, &c, "openid").await;
    }
    try_later(start(app, &c, "openid").await, "this address");
    assert_eq!(waiting().await, 1009, "nothing written");
}

/// A 429 `temporarily_unavailable` whose description says `why`.
fn try_later((status, body): (u16, serde_json::Value), why: &str) {
    assert_eq!(
        (status, error(&body)),
        (429, "temporarily_unavailable"),
        "{body}"
    );
    let said = body["error_description"].as_str().unwrap_or_default();
    assert!(said.contains(why), "{body}");
}
both_backends!(waiting_codes_are_bounded);

/// An expired code: `expired_token` to the device, "not valid" at `/device`; the sweep
/// deletes it.
async fn expired(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, "users", "").await;
    let (device_code, user_code) = started(app, &c, "openid").await;
    portcullis::exec!(
        &app.running.db,
        "UPDATE op_device_codes SET expires_at = expires_at - 601"
    )
    .unwrap();
    refused(poll(app, &c.client_id, &device_code).await, "expired_token");
    let browser = signed_in(app, "alice").await;
    let (status, html) = enter(app, &browser, &user_code).await;
    assert_eq!(status, 400);
    assert!(html.contains("not valid or has expired"), "{html}");
    let now = portcullis::ssr::clock::now();
    portcullis::ssr::op::grants::delete_expired(&app.running.db, now)
        .await
        .unwrap();
    let left: i64 = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT COUNT(*) FROM op_device_codes").fetch_one(pool).await)
    .unwrap();
    assert_eq!(left, 0);
}
both_backends!(expired);

/// Wrong codes say only "not valid or expired"; after ten a minute in one session the page
/// refuses, even the right code, with a clear message.
async fn mistyped_codes_are_limited(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, "users", "").await;
    let (_, user_code) = started(app, &c, "openid").await;
    let browser = signed_in(app, "alice").await;
    let (status, html) = enter(app, &browser, "not a code").await;
    assert_eq!(status, 400);
    assert!(html.contains("not valid or has expired"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    for _ in 1..portcullis::ssr::limiter::USER_CODES_PER_MINUTE {
        let (status, _) = enter(app, &browser, "BCDF-GHJK").await;
        assert_eq!(status, 400);
    }
    let (status, html) = enter(app, &browser, &user_code).await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("Too many codes that are not valid"), "{html}");
}
both_backends!(mistyped_codes_are_limited);

/// Another client cannot redeem a device code (nor use it up); a client without the device
/// flow is `unauthorized_client` at both endpoints; `openid` is required.
async fn clients_are_checked(app: &TestApp) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, "users", "").await;
    let mut draft = client_draft("Radio", "https://radio.example/cb", "none", "users", "");
    draft.client.device_flow = true;
    let other = store_client(app, draft).await;
    let plain = tv_without_device_flow(app).await;
    refused(start(app, &plain, "openid").await, "unauthorized_client");
    refused(start(app, &c, "profile").await, "invalid_scope");

    let (device_code, user_code) = started(app, &c, "openid").await;
    let browser = signed_in(app, "alice").await;
    let (_, html) = enter(app, &browser, &user_code).await;
    let res = post(app, &browser, &form_action(&html), &[("choice", "approve")]).await;
    assert_eq!(res.status(), 200);
    refused(
        poll(app, &other.client_id, &device_code).await,
        "invalid_grant",
    );
    refused(
        poll(app, &plain.client_id, &device_code).await,
        "unauthorized_client",
    );
    let (status, body) = poll(app, &c.client_id, &device_code).await;
    assert_eq!(status, 200, "still there for its own client: {body}");
    refused(
        poll(app, &c.client_id, "pc_dc_unknown").await,
        "invalid_grant",
    );
}
both_backends!(clients_are_checked);

async fn tv_without_device_flow(app: &TestApp) -> TestClient {
    let draft = client_draft("Plain", "https://plain.example/cb", "none", "users", "");
    store_client(app, draft).await
}

/// Someone the application does not let in cannot approve: the page says so, the device
/// gets `access_denied`.
async fn only_those_it_lets_in(app: &TestApp) {
    let (c, device_code, _, (status, html)) = alice_enters(app, "listed", "bob").await;
    assert_eq!(status, 403, "{html}");
    assert!(!html.contains("Approve"), "{html}");
    refused(poll(app, &c.client_id, &device_code).await, "access_denied");
}
both_backends!(only_those_it_lets_in);

/// A relying party nobody here wrote (npm `openid-client`) starts the device flow and polls
/// on its own while the browser approves; its library validates the ID token; then, once
/// denied, it reports `access_denied`.
async fn openid_client_polls(app: &TestApp) {
    use common::rp::{Rp, RpConfig, RpKind};
    app.add_local("alice", "alice@example.com", false).await;
    let c = tv(app, true, "users", "").await;
    let (port, _) = Rp::port();
    let issuer = app.running.public_url.clone();
    let config = RpConfig {
        issuer: &issuer,
        client_id: &c.client_id,
        secret: "",
        auth: "none",
        scope: "openid profile offline_access",
        id_token_alg: "RS256",
    };
    let rp = Rp::start(RpKind::OpenidClient, port, config).await;
    let http = crate::common::http();
    let get = |path: &str| {
        let req = http.get(rp.url(path));
        async move {
            let res = req.send().await.unwrap();
            let body: serde_json::Value = res.json().await.unwrap();
            body
        }
    };
    let browser = signed_in(app, "alice").await;
    for (choice, approves) in [("approve", true), ("deny", false)] {
        let started = get("/device/start").await;
        let user_code = started["user_code"].as_str().unwrap().to_owned();
        assert_eq!(
            started["verification_uri"],
            format!("{issuer}/device"),
            "{started}"
        );
        let (status, html) = enter(app, &browser, &user_code).await;
        assert_eq!(status, 200, "{html}");
        let res = post(app, &browser, &form_action(&html), &[("choice", choice)]).await;
        assert_eq!(res.status(), 200);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        let result = loop {
            let result = get("/device/result").await;
            if result["done"] == true {
                break result;
            }
            assert!(std::time::Instant::now() < deadline, "still polling");
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        };
        if approves {
            assert_eq!(result["claims"]["preferred_username"], "alice", "{result}");
            assert_eq!(
                result["claims"]["aud"],
                serde_json::json!([c.client_id]),
                "{result}"
            );
            assert!(result["refresh_token"].is_string(), "{result}");
            assert_eq!(
                userinfo_status(app, result["access_token"].as_str().unwrap()).await,
                200
            );
        } else {
            assert_eq!(result["error"], "access_denied", "{result}");
        }
    }
}
both_backends!(openid_client_polls);

/// An application that requires two factors: a one-factor session is sent to the step-up
/// (and back to `/device` with the code) before it may approve; the device's ID token then
/// says `mfa`.
async fn the_second_factor_first(app: &TestApp) {
    use crate::totp::{away_from_a_step_edge, code, enrol};
    app.add_local("alice", "alice@example.com", false).await;
    let mut draft = client_draft("TV", CB, "none", "users", "");
    draft.client.device_flow = true;
    draft.require_second_factor = true;
    let c = store_client(app, draft).await;
    let (device_code, user_code) = started(app, &c, "openid").await;
    let browser = signed_in(app, "alice").await;
    let (secret, _) = enrol(app, &browser).await;
    let res = post(app, &browser, "/device", &[("user_code", &user_code)]).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = format!("/device?user_code={user_code}");
    let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    assert_eq!(
        common::flow::raw_location(&res),
        format!("/second-factor?next={next}")
    );
    refused(
        poll(app, &c.client_id, &device_code).await,
        "authorization_pending",
    );

    away_from_a_step_edge().await;
    let from = format!("/second-factor?next={next}");
    let right = code(&secret, 0);
    let form = [("code", right.as_str()), ("next", back.as_str())];
    let res = app
        .post_form(&browser, "auth/second_factor", &from, &form)
        .await;
    assert_eq!(common::flow::raw_location(&res), back, "back to /device");
    let (status, html) = enter(app, &browser, &user_code).await;
    assert_eq!(status, 200, "{html}");
    let res = post(app, &browser, &form_action(&html), &[("choice", "approve")]).await;
    assert_eq!(res.status(), 200);
    wait_out(app).await;
    let (status, body) = poll(app, &c.client_id, &device_code).await;
    assert_eq!(status, 200, "{body}");
    let claims = id_token_claims(body["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "mfa"]), "{claims}");
}
both_backends!(the_second_factor_first);
