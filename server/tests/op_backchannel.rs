//! Sign-out reaches every application (Back-Channel Logout 1.0 sent by Portcullis): alice
//! signs in to two relying parties nobody here wrote (npm `openid-client`, whose `jose`
//! verifies the logout token, and Python `authlib` with `joserfc`) through one Portcullis
//! session; however that session ends (sign-out, ended on the sessions page, her user
//! deleted, RP-initiated logout, the upstream provider's own back-channel logout), each RP
//! receives a logout token it verifies against the JWKS, for her `sid` and `sub`. The
//! sessions page names the applications. A client that hangs delays no sign-out, and a
//! client that fails is tried again. On SQLite and PostgreSQL.

use crate::common;
use crate::op_rp::{alice_id, land, start, wiki_and_rp};
use common::TestApp;
use common::flow::{call_json, me, page_text, password_sign_in};
use common::op::{TestClient, client_draft, code_for, exchange, store_client};
use common::rp::{Rp, RpKind};
use portcullis::ssr::oidc::logout::BACKCHANNEL_EVENT;
use reqwest::Client;
use serde_json::Value;
use std::time::{Duration, Instant};

const SCOPE: &str = "openid profile";

/// Both relying parties, each an application with a back-channel URI.
async fn both_rps(app: &TestApp) -> Vec<(TestClient, Rp)> {
    vec![
        wiki_and_rp(app, RpKind::OpenidClient, "basic", "RS256", SCOPE).await,
        wiki_and_rp(app, RpKind::Authlib, "post", "ES256", SCOPE).await,
    ]
}

/// `browser` (signed in at Portcullis) signs in to each RP; gives the session's `sid` (one
/// for all) and the first ID token.
async fn sign_in_to(browser: &Client, rps: &[(TestClient, Rp)]) -> (String, String) {
    let mut sid = None;
    let mut id_token = None;
    for (_, rp) in rps {
        let (status, body) = land(browser, start(browser, rp, "").await).await;
        assert_eq!(status, 200, "{body}");
        let this = body["claims"]["sid"].as_str().unwrap().to_owned();
        assert_eq!(
            sid.get_or_insert(this.clone()),
            &this,
            "one session, one sid"
        );
        id_token.get_or_insert(body["id_token"].as_str().unwrap().to_owned());
    }
    (sid.unwrap(), id_token.unwrap())
}

/// What `rp` has received and verified so far.
async fn received(rp: &Rp) -> Vec<Value> {
    reqwest::get(rp.url("/received"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The first logout token `rp` verified, waiting up to `within`.
async fn first_logout_token(rp: &Rp, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(first) = received(rp).await.into_iter().next() {
            return first;
        }
        assert!(
            Instant::now() < deadline,
            "no logout token at {} within {within:?}",
            rp.base
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn count(app: &TestApp, sql: &str, sid: &str) -> i64 {
    portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar(sql).bind(sid).fetch_one(pool).await)
    .unwrap()
}

/// Each RP verified one logout token (within `within`) for session `sid` of `sub`, addressed
/// to it.
async fn rps_told(
    app: &TestApp,
    rps: &[(TestClient, Rp)],
    (sid, sub): (&str, &str),
    within: Duration,
) {
    for (c, rp) in rps {
        let claims = first_logout_token(rp, within).await;
        assert_eq!(claims["sid"], sid, "{claims}");
        assert_eq!(claims["sub"], sub, "{claims}");
        assert_eq!(claims["aud"], serde_json::json!([c.client_id]), "{claims}");
        assert_eq!(claims["iss"], app.running.public_url.as_str());
        assert!(claims["events"][BACKCHANNEL_EVENT].is_object(), "{claims}");
        assert!(claims.get("nonce").is_none(), "{claims}");
        assert_eq!(received(rp).await.len(), 1, "told once");
    }
}

/// [`rps_told`] within 15 s; then nothing is left to send and the session's grants are
/// revoked.
async fn each_rp_was_told(app: &TestApp, rps: &[(TestClient, Rp)], sid: &str, sub: &str) {
    rps_told(app, rps, (sid, sub), Duration::from_secs(15)).await;
    let outbox = "SELECT COUNT(*) FROM op_logout_outbox WHERE sid = $1";
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(app, outbox, sid).await > 0 {
        assert!(Instant::now() < deadline, "the outbox empties");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (_, rp) in rps {
        assert_eq!(received(rp).await.len(), 1, "still told once");
    }
    let clients = "SELECT COUNT(*) FROM op_session_clients WHERE sid = $1";
    assert_eq!(count(app, clients, sid).await, 0);
    let live = "SELECT COUNT(*) FROM op_grants WHERE sid = $1 AND revoked_at IS NULL";
    assert_eq!(
        count(app, live, sid).await,
        0,
        "the session's grants are revoked"
    );
}

/// alice signed in at Portcullis and, through that session, to both RPs.
async fn alice_in_both(app: &TestApp) -> (Client, Vec<(TestClient, Rp)>, String, String, String) {
    let sub = alice_id(app).await;
    let rps = both_rps(app).await;
    let browser = app.browser();
    password_sign_in(app, &browser, "alice").await;
    let (sid, id_token) = sign_in_to(&browser, &rps).await;
    (browser, rps, sid, sub, id_token)
}

/// Signing out tells both applications; the RPs' access tokens stop working at once. Before,
/// the sessions page and its JSON name the applications of the session that used them, and
/// not of another.
async fn sign_out_tells_every_app(app: &TestApp) {
    let (browser, rps, sid, sub, _) = alice_in_both(app).await;
    let other = app.browser();
    password_sign_in(app, &other, "alice").await;

    let list = call_json(app, &other, "account/sessions").await["sessions"].clone();
    let names = |current: bool| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == current)
            .unwrap()["apps"]
            .clone()
    };
    assert_eq!(
        names(false),
        serde_json::json!(["Wiki-Authlib", "Wiki-OpenidClient"])
    );
    assert_eq!(names(true), serde_json::json!([]));
    let page = page_text(app, &other, "/profile/settings/sessions").await;
    assert!(page.contains("Signed in to"), "{page}");
    assert!(page.contains("Wiki-Authlib, Wiki-OpenidClient"), "{page}");

    let res = app.call(&browser, "auth/logout", &[]).await;
    assert!(res.status().is_success(), "{}", res.status());
    each_rp_was_told(app, &rps, &sid, &sub).await;
    let info = browser.get(rps[0].1.url("/userinfo")).send().await.unwrap();
    assert_eq!(info.status(), 400, "the RP's access token is dead");
    assert!(me(app, &other).await.is_some(), "the other session lives");
}
both_backends!(sign_out_tells_every_app);

/// Ending the session from another browser's sessions page tells its applications, once
/// each, though a second replica (the same public URL, so the same issuer) sweeps and
/// delivers from the same database too.
async fn ending_a_session_from_the_list_tells_its_apps(app: &TestApp) {
    let (_browser, rps, sid, sub, _) = alice_in_both(app).await;
    let issuer = url::Url::parse(&app.running.public_url).unwrap();
    let replica = app.replica(|c| c.public_url = Some(issuer)).await;
    let other = app.browser();
    password_sign_in(app, &other, "alice").await;
    let list = call_json(app, &other, "account/sessions").await;
    let handle = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .call(&other, "account/end_session", &[("handle", &handle)])
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    each_rp_was_told(app, &rps, &sid, &sub).await;
    replica.stop().await;
}
both_backends!(ending_a_session_from_the_list_tells_its_apps);

/// A deleted user's sessions go with her row (`ON DELETE CASCADE`); the sweep finds them
/// (every 30 s on every replica; woken here so the test need not wait).
async fn deleting_the_user_tells_her_apps(app: &TestApp) {
    let (_browser, rps, sid, sub, _) = alice_in_both(app).await;
    portcullis::exec!(&app.running.db, "DELETE FROM users WHERE id = $1", &sub).unwrap();
    portcullis::ssr::op::logout::wake();
    each_rp_was_told(app, &rps, &sid, &sub).await;
}
both_backends!(deleting_the_user_tells_her_apps);

/// RP-initiated logout at one application (its ID token as the hint) tells both.
async fn rp_initiated_logout_tells_every_app(app: &TestApp) {
    let (browser, rps, sid, sub, id_token) = alice_in_both(app).await;
    let res = common::op::get_with(
        app,
        &browser,
        "/oauth2/logout",
        &[("id_token_hint", id_token.as_str())],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(me(app, &browser).await.is_none());
    each_rp_was_told(app, &rps, &sid, &sub).await;
}
both_backends!(rp_initiated_logout_tells_every_app);

/// RP-initiated logout as the suite's oidcc-backchannel-rp-initiated-logout runs it: the
/// hint, the registered post-logout URI and `state` go back there with `state`; both RPs
/// verify their logout tokens; then `prompt=none` for each client finds nobody signed in
/// (`login_required`).
async fn backchannel_then_prompt_none_fails(app: &TestApp) {
    let (browser, rps, sid, sub, id_token) = alice_in_both(app).await;
    let bye = rps[0].0.redirect_uri.replace("/callback", "/signed-out");
    let pairs = [
        ("id_token_hint", id_token.as_str()),
        ("post_logout_redirect_uri", bye.as_str()),
        ("state", "bye"),
    ];
    let res = common::op::get_with(app, &browser, "/oauth2/logout", &pairs).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("{bye}?state=bye"));
    each_rp_was_told(app, &rps, &sid, &sub).await;
    for (c, _) in &rps {
        let error = common::op::prompt_none_error(app, &browser, c).await;
        assert_eq!(error.as_deref(), Some("login_required"), "{}", c.client_id);
    }
}
both_backends!(backchannel_then_prompt_none_fails);

/// The chain: alice signed in to Portcullis through the upstream provider (npm
/// `oidc-provider`) and to both RPs through Portcullis; she signs out at the provider, whose
/// logout token ends the Portcullis session, and both RPs are told.
async fn upstream_logout_reaches_the_apps(app: &TestApp) {
    use crate::logout::{confirm_at_provider, setup_with_backchannel, signed_in_at_idp};
    let idp = setup_with_backchannel(app).await;
    let rps = both_rps(app).await;
    let browser = signed_in_at_idp(app).await;
    let sub = me(app, &browser).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (sid, _) = sign_in_to(&browser, &rps).await;
    // She signs out at the provider itself (not through Portcullis).
    confirm_at_provider(&browser, &idp, &format!("{}/session/end", idp.issuer)).await;
    assert!(me(app, &browser).await.is_none(), "ended by the provider");
    each_rp_was_told(app, &rps, &sid, &sub).await;
}
both_backends!(upstream_logout_reaches_the_apps);

/// A back-channel URI that accepts connections and never answers: sign-out stays fast (no
/// delivery is waited for), the attempt times out and is counted for a retry. An RP that
/// answers 500 once gets the token on the next attempt.
async fn a_hanging_app_delays_no_sign_out_and_failures_are_retried(app: &TestApp) {
    let sub = alice_id(app).await;
    let (c, rp) = wiki_and_rp(app, RpKind::OpenidClient, "basic", "RS256", SCOPE).await;
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging_uri = format!("http://{}/backchannel", hanging.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = hanging.accept().await {
            open.push(conn);
        }
    });
    let mut draft = client_draft("Hangs", "https://hangs.example/cb", "basic", "users", "");
    draft.client.backchannel_logout_uri = hanging_uri;
    let hangs = store_client(app, draft).await;

    let browser = app.browser();
    password_sign_in(app, &browser, "alice").await;
    let rps = vec![(c, rp)];
    let (sid, _) = sign_in_to(&browser, &rps).await;
    let code = code_for(app, &browser, &hangs, None).await;
    let (status, body) = exchange(app, &hangs, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let fail = reqwest::get(rps[0].1.url("/backchannel/fail?times=1"))
        .await
        .unwrap();
    assert!(fail.status().is_success());

    let began = Instant::now();
    let res = app.call(&browser, "auth/logout", &[]).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "sign-out took {:?}",
        began.elapsed()
    );
    // 500 first, then the retry 5 s later (after the hanging client's 5 s timeout).
    rps_told(app, &rps, (&sid, &sub), Duration::from_secs(25)).await;
    let attempts: i64 = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT attempts FROM op_logout_outbox WHERE sid = $1 AND app_id = $2")
        .bind(&sid)
        .bind(&hangs.app_id)
        .fetch_one(pool)
        .await)
    .unwrap();
    assert!(attempts >= 1, "the hanging client waits for its retry");
    held.abort();
}
both_backends!(a_hanging_app_delays_no_sign_out_and_failures_are_retried);

/// Signing in again as the same person in the same browser renews the session's id but
/// keeps its `sid`: for a moment the session looks gone, yet nobody is told, and the
/// applications keep the same `sid`. The users page names them for an administrator.
async fn signing_in_again_tells_nobody(app: &TestApp) {
    let (browser, rps, sid, _, _) = alice_in_both(app).await;
    password_sign_in(app, &browser, "alice").await;
    let grace = portcullis::ssr::op::logout::GRACE as u64;
    tokio::time::sleep(Duration::from_secs(2 * grace + 1)).await;
    for (_, rp) in &rps {
        assert_eq!(received(rp).await, Vec::<Value>::new(), "{}", rp.base);
    }
    let (again, _) = sign_in_to(&browser, &rps).await;
    assert_eq!(again, sid, "the same sid");
    let live = "SELECT COUNT(*) FROM op_session_clients WHERE sid = $1 AND gone_at IS NULL";
    assert_eq!(count(app, live, &sid).await, 2);

    let admin = common::flow::add_signed_in(app, "root", true).await;
    let page = page_text(app, &admin, "/settings/users").await;
    assert!(
        page.contains("signed in to Wiki-Authlib, Wiki-OpenidClient"),
        "{page}"
    );
}
both_backends!(signing_in_again_tells_nobody);

/// `portcullis session list` names the applications; `portcullis session revoke` ends the
/// session from another process, whose end no server hears of: the periodic sweep (every
/// 30 s) finds it, and both RPs are told.
async fn revoked_by_the_cli_tells_its_apps(app: &TestApp) {
    let (_browser, rps, sid, sub, _) = alice_in_both(app).await;
    let list = app.cli(&["session", "list", "--user", "alice"]);
    assert!(list.ok, "{}", list.text());
    assert!(
        list.stdout.contains("Wiki-Authlib, Wiki-OpenidClient"),
        "{}",
        list.stdout
    );
    let revoke = app.cli(&["session", "revoke", "--user", "alice", "--all"]);
    assert!(revoke.ok, "{}", revoke.text());
    let within = portcullis::ssr::op::logout::SWEEP_EVERY + Duration::from_secs(15);
    rps_told(app, &rps, (&sid, &sub), within).await;
}
both_backends!(revoked_by_the_cli_tells_its_apps);
