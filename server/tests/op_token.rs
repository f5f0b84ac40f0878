//! The token endpoint (`docs/openid-provider.md` §3.5): codes are single use (a second use
//! revokes what the first gave), expire after 60 s, belong to one client and redirect URI,
//! and carry PKCE; clients authenticate only with their registered method.

use crate::common;
use common::flow::signed_in;
use common::op::{
    CHALLENGE, TestClient, VERIFIER, add_client, client_draft, client_post, client_request,
    code_for, counts, exchange, get_userinfo, id_token_claims, make_client, other_client,
    store_client, token, tokens_for, userinfo_status,
};
use common::{Backend, TestApp};

const CB: &str = "https://wiki.example/cb";

async fn setup(app: &TestApp, auth: &str) -> (TestClient, reqwest::Client) {
    app.add_local("alice", "alice@example.com", false).await;
    let c = add_client(app, "Wiki", CB, auth, "users", "").await;
    (c, signed_in(app, "alice").await)
}

fn error(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// A code works once; the second use is `invalid_grant` and revokes the first access token,
/// at once and 30 seconds later (the code's row aged by SQL; the conformance suite's
/// oidcc-codereuse and oidcc-codereuse-30seconds).
async fn code_reuse_revokes(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    for (revoked, age) in [(1, 0_i64), (2, 30)] {
        let code = code_for(app, &browser, &c, None).await;
        let (status, body) = exchange(app, &c, &code, None).await;
        assert_eq!(status, 200, "{body}");
        let access = body["access_token"].as_str().unwrap().to_owned();
        assert!(body["id_token"].is_string());
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(userinfo_status(app, &access).await, 200);
        let aged = "UPDATE op_codes SET expires_at = expires_at - $1";
        portcullis::exec!(&app.running.db, aged, age).unwrap();
        let (status, body) = exchange(app, &c, &code, None).await;
        assert_eq!(
            (status, error(&body)),
            (400, "invalid_grant"),
            "{age}: {body}"
        );
        assert_eq!(userinfo_status(app, &access).await, 401, "{age}: revoked");
        assert_eq!(counts(app).await[4], revoked, "the grant is revoked");
    }
}
both_backends!(code_reuse_revokes);

/// A code whose Portcullis session has ended (signed out within the code's minute) is
/// refused, and makes no grant: the session's sign-out would never reach it, and with
/// `offline_access` it would outlive the session by design.
async fn a_code_outliving_its_session(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    assert_eq!(app.call_status(&browser, "auth/logout", &[]).await, 200);
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("session")),
        "{body}"
    );
    assert_eq!(counts(app).await[2], 0, "no grant");
    // Used up all the same: a second try is refused as a used code.
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
}
both_backends!(a_code_outliving_its_session);

async fn expired_code(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    portcullis::exec!(
        &app.running.db,
        "UPDATE op_codes SET expires_at = expires_at - 61"
    )
    .unwrap();
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await, [0, 1, 0, 0, 0]);

    // The cleanup keeps a code ten minutes past its expiry (a replay still revokes), and a
    // live grant with its token; then they go.
    use portcullis::ssr::op::grants::{CODE_KEPT, delete_expired};
    let code = code_for(app, &browser, &c, None).await;
    assert_eq!(exchange(app, &c, &code, None).await.0, 200);
    let now = portcullis::ssr::clock::now();
    assert_eq!(delete_expired(&app.running.db, now).await.unwrap(), 0);
    delete_expired(&app.running.db, now + CODE_KEPT)
        .await
        .unwrap();
    assert_eq!(counts(app).await, [0, 1, 1, 1, 0], "the expired code went");
    delete_expired(&app.running.db, now + 31 * 86_400)
        .await
        .unwrap();
    assert_eq!(counts(app).await, [0; 5]);
}
both_backends!(expired_code);

async fn pkce(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    // Wrong verifier, missing verifier.
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let wrong = VERIFIER.replace('d', "e");
    let (status, body) = exchange(app, &c, &code, Some(&wrong)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    // A verifier for a code issued without a challenge: the downgrade of RFC 9700 §4.8.2.
    let code = code_for(app, &browser, &c, None).await;
    let (status, body) = exchange(app, &c, &code, Some(VERIFIER)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[2], 0, "no grant");
    let code = code_for(app, &browser, &c, Some(CHALLENGE)).await;
    let (status, body) = exchange(app, &c, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
}
both_backends!(pkce);

/// The authorization-code grant's form for `code` sent to `redirect_uri`.
fn code_grant<'a>(code: &'a str, redirect_uri: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ]
}

async fn wrong_redirect_uri_and_another_clients_code(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let form = code_grant(&code, "https://wiki.example/other");
    let (status, body) = token(app, Some((&c.client_id, &c.secret)), &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");

    let other = other_client(app).await;
    let code = code_for(app, &browser, &c, None).await;
    let form = code_grant(&code, CB);
    let (status, body) = token(app, Some((&other.client_id, &other.secret)), &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[2], 0, "no grant");
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!(status, 200, "another client's try used nothing up: {body}");
    // The used code replayed by another client revokes nothing (its own client's replay
    // does: `code_reuse_revokes`).
    let at = text(&body, "access_token").to_owned();
    let (status, again) = token(app, Some((&other.client_id, &other.secret)), &form).await;
    assert_eq!((status, error(&again)), (400, "invalid_grant"), "{again}");
    assert_eq!(userinfo_status(app, &at).await, 200, "the grant stands");
}
both_backends!(wrong_redirect_uri_and_another_clients_code);

/// Only the registered method authenticates: a Basic client posting its secret, a wrong
/// secret, an unknown client, two methods at once, no authentication.
async fn client_authentication(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let base = code_grant(&code, CB);
    let with = |extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&str, String)> = base.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let post = with(&[("client_id", &c.client_id), ("client_secret", &c.secret)]);
    let post: Vec<(&str, &str)> = post.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(app, None, &post).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some((&c.client_id, "pc_cs_wrong")), &base).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some(("nobody", &c.secret)), &base).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    let (status, body) = token(app, Some((&c.client_id, &c.secret)), &post).await;
    assert_eq!((status, error(&body)), (400, "invalid_request"), "{body}");
    let none = with(&[("client_id", &c.client_id)]);
    let none: Vec<(&str, &str)> = none.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(app, None, &none).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "{body}");
    assert_eq!(
        counts(app).await,
        [0, 1, 0, 0, 0],
        "the code is still unused"
    );
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token(
        app,
        Some((&c.client_id, &c.secret)),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, error(&body)),
        (400, "unsupported_grant_type"),
        "{body}"
    );
}
both_backends!(client_authentication);

/// Userinfo takes the token as Bearer (GET or POST) or in a POST's form, never both; each
/// way answers the ID token's `sub` (the conformance suite's oidcc-userinfo-get,
/// -post-header and -post-body); no or a bad token is 401 with `WWW-Authenticate`; a token
/// dies with its Portcullis session.
async fn userinfo(app: &TestApp) {
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let (_, body) = exchange(app, &c, &code, None).await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let sub = id_token_claims(text(&body, "id_token"))["sub"].clone();
    assert!(sub.is_string(), "{body}");
    let (status, info) = get_userinfo(app, &access).await;
    assert_eq!((status, &info["sub"]), (200, &sub), "GET, Bearer: {info}");
    assert_eq!(info["preferred_username"], "alice");
    let http = crate::common::http();
    let url = app.url("/oauth2/userinfo");
    let form = [("access_token", &access)];
    let res = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let info: serde_json::Value = res.json().await.unwrap();
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["sub"], sub, "POST, access_token in the form");
    let res = http.post(&url).bearer_auth(&access).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let info: serde_json::Value = res.json().await.unwrap();
    assert_eq!(info["sub"], sub, "POST, Bearer");
    let both = http.post(&url).bearer_auth(&access).form(&form);
    let res = both.send().await.unwrap();
    assert_eq!(res.status(), 400);
    let challenge = |res: &reqwest::Response| {
        assert_eq!(res.status(), 401);
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let res = http.get(&url).send().await.unwrap();
    assert!(challenge(&res).starts_with("Bearer"));
    let res = http.get(&url).bearer_auth("pc_at_nothing");
    let res = res.send().await.unwrap();
    assert!(challenge(&res).contains("error=\"invalid_token\""));
    // Signed out at Portcullis: the session is gone, and with it the token.
    portcullis::exec!(&app.running.db, "DELETE FROM sessions").unwrap();
    assert_eq!(userinfo_status(app, &access).await, 401);
}
both_backends!(userinfo);

/// A client allowed `offline_access` (listed: alice only), and alice signed in.
async fn offline_client(app: &TestApp) -> (TestClient, reqwest::Client) {
    app.add_local("alice", "alice@example.com", false).await;
    let mut draft = client_draft("Wiki", CB, "basic", "listed", "alice");
    draft.client.client_scopes = "openid profile offline_access".into();
    (
        store_client(app, draft).await,
        signed_in(app, "alice").await,
    )
}

/// [`offline_client`] and the access and refresh tokens of a code with `offline_access`.
async fn offline(app: &TestApp) -> (TestClient, String, String) {
    let (c, browser) = offline_client(app).await;
    let body = tokens_for(app, &c, &browser, "openid profile offline_access").await;
    let token = |name| text(&body, name).to_owned();
    (c, token("access_token"), token("refresh_token"))
}

/// `c`'s credentials for HTTP Basic.
fn basic_of(c: &TestClient) -> Option<(&str, &str)> {
    Some((&c.client_id, &c.secret))
}

async fn refresh(app: &TestApp, c: &TestClient, refresh: &str) -> (u16, serde_json::Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    token(app, Some((&c.client_id, &c.secret)), &form).await
}

fn text<'a>(body: &'a serde_json::Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: {body}"))
}

/// Refresh tokens come only with `offline_access`; each use gives a new pair and retires the
/// old one (the old access token stops working); the refreshed ID token keeps `sub` and
/// `auth_time` and carries no nonce; the grant outlives the Portcullis session.
async fn refresh_rotates(app: &TestApp) {
    let (c2, browser) = offline_client(app).await;
    let body = tokens_for(app, &c2, &browser, "openid profile").await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    let first = tokens_for(app, &c2, &browser, "openid profile offline_access").await;
    assert_eq!(text(&first, "scope"), "openid profile offline_access");
    let rt1 = text(&first, "refresh_token").to_owned();
    assert!(rt1.starts_with("pc_rt_"), "{rt1}");
    let at1 = text(&first, "access_token").to_owned();
    let (status, second) = refresh(app, &c2, &rt1).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = text(&second, "refresh_token").to_owned();
    let at2 = text(&second, "access_token").to_owned();
    assert_ne!(rt2, rt1);
    assert_eq!(
        userinfo_status(app, &at1).await,
        401,
        "the old access token is gone"
    );
    assert_eq!(userinfo_status(app, &at2).await, 200);
    let claims = |body: &serde_json::Value| {
        let jwt = text(body, "id_token");
        let payload = jwt.split('.').nth(1).unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    let (a, b) = (claims(&first), claims(&second));
    assert_eq!(a["sub"], b["sub"]);
    assert_eq!(a["auth_time"], b["auth_time"]);
    assert_eq!(a["nonce"], "n");
    assert!(b.get("nonce").is_none(), "{b}");
    // Offline: signed out at Portcullis, the grant lives on.
    portcullis::exec!(&app.running.db, "DELETE FROM sessions").unwrap();
    assert_eq!(userinfo_status(app, &at2).await, 200);
    let (status, third) = refresh(app, &c2, &rt2).await;
    assert_eq!(status, 200, "{third}");
    // More scope may not be asked for (and the token stays usable); less may.
    let rt3 = text(&third, "refresh_token");
    let c2 = &c2;
    let asking = |scope| {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", rt3),
            ("scope", scope),
        ];
        async move { token(app, Some((&c2.client_id, &c2.secret)), &form).await }
    };
    let (status, body) = asking("openid email").await;
    assert_eq!((status, error(&body)), (400, "invalid_scope"), "{body}");
    let (status, body) = asking("openid").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text(&body, "scope"), "openid profile offline_access");
}
both_backends!(refresh_rotates);

/// A rotated refresh token presented again revokes the whole family (RFC 9700 §4.14.2);
/// another client cannot use one, nor revoke it by trying.
async fn refresh_reuse_and_other_client(app: &TestApp) {
    let (c, _, rt1) = offline(app).await;
    let other = other_client(app).await;
    let (status, body) = refresh(app, &other, &rt1).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    let (status, second) = refresh(app, &c, &rt1).await;
    assert_eq!(status, 200, "another client's try used nothing: {second}");
    let at2 = text(&second, "access_token").to_owned();
    let rt2 = text(&second, "refresh_token").to_owned();
    // Used again, even asking for a scope the grant lacks: the reuse is what counts.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt1.as_str()),
        ("scope", "openid email"),
    ];
    let (status, body) = token(app, basic_of(&c), &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(
        userinfo_status(app, &at2).await,
        401,
        "the family is revoked"
    );
    let (status, body) = refresh(app, &c, &rt2).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[4], 1);
}
both_backends!(refresh_reuse_and_other_client);

/// Someone removed from the application's "who may open it" gets no new tokens.
async fn refresh_checks_access_again(app: &TestApp) {
    let (c, _, rt) = offline(app).await;
    refused_once_changed(app, &c, &rt, "allowed_users = ''", 1).await;
}

/// After `change` (SQL `SET` clauses) to `c`'s application row, refreshing `rt` is
/// `invalid_grant` and the grant ends (`revoked` grants revoked by then).
async fn refused_once_changed(app: &TestApp, c: &TestClient, rt: &str, change: &str, revoked: i64) {
    portcullis::exec!(
        &app.running.db,
        &format!("UPDATE applications SET {change} WHERE id = $1"),
        &c.app_id
    )
    .unwrap();
    let (status, body) = refresh(app, c, rt).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[4], revoked, "and the grant ends");
}
both_backends!(refresh_checks_access_again);

/// A refresh meets the application and its client as they are now: a grant without two
/// factors where the application has come to require them, and a grant holding a scope the
/// client may no longer ask for, end (`invalid_grant`) and give no tokens.
async fn refresh_meets_the_application_as_it_is_now(app: &TestApp) {
    let (c, _, rt) = offline(app).await;
    refused_once_changed(app, &c, &rt, "require_second_factor = TRUE", 1).await;
    portcullis::exec!(
        &app.running.db,
        "UPDATE applications SET require_second_factor = FALSE WHERE id = $1",
        &c.app_id
    )
    .unwrap();
    let browser = signed_in(app, "alice").await;
    let body = tokens_for(app, &c, &browser, "openid profile offline_access").await;
    let rt = text(&body, "refresh_token").to_owned();
    // The administrator takes `offline_access` from the client in the editor.
    let root = common::flow::add_signed_in(app, "root", true).await;
    edit_offline_client(app, &root, &c, ("listed", "openid profile", false)).await;
    let (status, body) = refresh(app, &c, &rt).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
    assert_eq!(counts(app).await[4], 2, "and that grant ends too");
}
both_backends!(refresh_meets_the_application_as_it_is_now);

/// Administrator `root` saves [`offline_client`]'s application `c` in the editor, with
/// `access`, the client's `scopes`, and a second factor required or not.
async fn edit_offline_client(
    app: &TestApp,
    root: &reqwest::Client,
    c: &TestClient,
    (access, scopes, second_factor): (&str, &str, bool),
) {
    let mut draft = client_draft("Wiki", CB, "basic", access, "alice");
    draft.client.client_scopes = scopes.into();
    draft.client.client_id = c.client_id.clone();
    draft.require_second_factor = second_factor;
    let form = common::draft_form(("id", &c.app_id), &draft);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = app.call(root, "admin/save_app", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// Userinfo decides again too, as forward auth does on every request: with a token got
/// before, someone the application no longer lets in reads nothing, nor does a grant of one
/// factor once the application requires two.
async fn userinfo_checks_access_again(app: &TestApp) {
    let all = "openid profile offline_access";
    let (c, at, _) = offline(app).await;
    let root = common::flow::add_signed_in(app, "root", true).await;
    assert_eq!(userinfo_status(app, &at).await, 200);
    edit_offline_client(app, &root, &c, ("listed", all, true)).await;
    assert_eq!(userinfo_status(app, &at).await, 401, "two factors now");
    edit_offline_client(app, &root, &c, ("listed", all, false)).await;
    assert_eq!(userinfo_status(app, &at).await, 200);
    edit_offline_client(app, &root, &c, ("admins", all, false)).await;
    assert_eq!(userinfo_status(app, &at).await, 401, "not let in now");
}
both_backends!(userinfo_checks_access_again);

/// Ending every session of someone (a security reset) ends the grants applications got
/// through them, `offline_access` ones included; a plain sign-out leaves those
/// (`refresh_rotates`).
async fn ending_every_session_ends_offline_grants(app: &TestApp) {
    let (c, at, rt) = offline(app).await;
    let db = &app.running.db;
    let alice = portcullis::ssr::users::find_by_identifier(db, "alice")
        .await
        .unwrap()
        .unwrap();
    let by = portcullis::ssr::audit::Actor::cli();
    let ended = portcullis::ssr::session::manage::end_others(db, &alice.id, "", &by)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    gone(app, &c, &at, &rt).await;
}

/// Access token `at` no longer reads userinfo, and refresh token `rt` gets nothing for `c`.
async fn gone(app: &TestApp, c: &TestClient, at: &str, rt: &str) {
    assert_eq!(userinfo_status(app, at).await, 401);
    let (status, body) = refresh(app, c, rt).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "{body}");
}
both_backends!(ending_every_session_ends_offline_grants);

/// An application that stops being a client takes its grants with it: made a client again
/// (a new client ID and secret), the old refresh token gets nothing.
async fn a_removed_client_takes_its_grants(app: &TestApp) {
    let (c, at, rt) = offline(app).await;
    let db = &app.running.db;
    let stored = portcullis::ssr::apps::get(db, &c.app_id)
        .await
        .unwrap()
        .unwrap();
    portcullis::ssr::op::clients::save(db, &c.app_id, &stored.settings.name, None)
        .await
        .unwrap();
    assert_eq!(&counts(app).await[2..4], [0, 0]);
    let mut draft = client_draft("Wiki", CB, "basic", "listed", "alice");
    draft.client.client_scopes = "openid profile offline_access".into();
    let c2 = make_client(app, &c.app_id, draft).await;
    assert_ne!(c2.client_id, c.client_id);
    gone(app, &c2, &at, &rt).await;
}
both_backends!(a_removed_client_takes_its_grants);

/// RFC 7009: an access token revokes itself, a refresh token its grant; unknown tokens are
/// 200; another client's token is refused and stays live; the client must authenticate.
async fn revocation(app: &TestApp) {
    let (c, at, rt) = offline(app).await;
    let (basic, at, rt) = (basic_of(&c), at.as_str(), rt.as_str());
    let other = other_client(app).await;
    let as_other = basic_of(&other);
    let (status, body) = client_post(app, "/oauth2/revoke", as_other, &[("token", at)]).await;
    assert_eq!(
        (status, error(&body)),
        (400, "unauthorized_client"),
        "{body}"
    );
    let wrong = Some((c.client_id.as_str(), "pc_cs_wrong"));
    let (status, _) = client_post(app, "/oauth2/revoke", wrong, &[("token", at)]).await;
    assert_eq!(status, 401);
    assert_eq!(userinfo_status(app, at).await, 200);
    let (status, body) = client_post(app, "/oauth2/revoke", basic, &[]).await;
    assert_eq!((status, error(&body)), (400, "invalid_request"), "{body}");

    let (status, _) = client_post(app, "/oauth2/revoke", basic, &[("token", "pc_at_x")]).await;
    assert_eq!(status, 200);
    let form = [("token", at), ("token_type_hint", "access_token")];
    assert_eq!(
        client_post(app, "/oauth2/revoke", basic, &form).await.0,
        200
    );
    assert_eq!(userinfo_status(app, at).await, 401);
    let (status, body) = refresh(app, &c, rt).await;
    assert_eq!(status, 200, "an access token revokes only itself: {body}");
    let at2 = text(&body, "access_token");
    let rt2 = text(&body, "refresh_token");
    assert_eq!(
        client_post(app, "/oauth2/revoke", basic, &[("token", rt2)])
            .await
            .0,
        200
    );
    assert_eq!(userinfo_status(app, at2).await, 401, "the grant is revoked");
    assert_eq!(refresh(app, &c, rt2).await.0, 400);
}
both_backends!(revocation);

/// RFC 7662: a live token of the asking client is described; anything else is inactive.
async fn introspection(app: &TestApp) {
    let (c, at, rt) = offline(app).await;
    let (basic, at, rt) = (basic_of(&c), at.as_str(), rt.as_str());
    let (status, body) = client_post(app, "/oauth2/introspect", basic, &[("token", at)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["scope"], "openid profile offline_access");
    assert_eq!(body["client_id"], c.client_id.as_str());
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["iss"], app.running.public_url.as_str());
    assert!(body["sub"].is_string() && body["exp"].as_i64() > body["iat"].as_i64());
    let (_, body) = client_post(app, "/oauth2/introspect", basic, &[("token", rt)]).await;
    assert_eq!(body["active"], true, "{body}");
    assert!(body.get("token_type").is_none(), "{body}");

    let other = other_client(app).await;
    let as_other = basic_of(&other);
    let (status, body) = client_post(app, "/oauth2/introspect", as_other, &[("token", at)]).await;
    assert_eq!((status, body), (200, serde_json::json!({"active": false})));
    let (_, body) = client_post(app, "/oauth2/introspect", basic, &[("token", "pc_at_x")]).await;
    assert_eq!(body, serde_json::json!({"active": false}));
    let (status, _) = client_post(app, "/oauth2/introspect", None, &[("token", at)]).await;
    assert_eq!(status, 401, "the client must authenticate");
    // A used refresh token is inactive.
    assert_eq!(refresh(app, &c, rt).await.0, 200);
    let (_, body) = client_post(app, "/oauth2/introspect", basic, &[("token", rt)]).await;
    assert_eq!(body["active"], false, "{body}");
}
both_backends!(introspection);

/// Browser apps call the token, userinfo, revocation and introspection endpoints from their
/// own origin: the preflight is answered, every answer may be read from any origin, and
/// never with credentials (no cookie is read there).
async fn cross_origin(app: &TestApp) {
    let (c, at, _) = offline(app).await;
    let http = crate::common::http();
    let origin = "https://spa.example";
    for path in [
        "/oauth2/token",
        "/oauth2/userinfo",
        "/oauth2/revoke",
        "/oauth2/introspect",
    ] {
        let res = http
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        let allowed = h["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization"), "{path}: {allowed}");
        assert!(
            h.get("access-control-allow-credentials").is_none(),
            "{path}"
        );
    }
    let res = http
        .get(app.url("/oauth2/userinfo"))
        .header("origin", origin)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let (status, _) = client_post(app, "/oauth2/introspect", basic_of(&c), &[("token", &at)]).await;
    assert_eq!(status, 200);
    // The authorization endpoint is a browser navigation, not an API: no CORS there.
    let res = http
        .request(reqwest::Method::OPTIONS, app.url("/oauth2/authorize"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
both_backends!(cross_origin);

/// Failed client authentications are limited per client address (`portcullis::ssr::limiter`): behind a
/// trusted proxy, an address that spent its budget on an unknown client and wrong secrets
/// is answered 429 with `Retry-After` at the token, revocation, introspection and device
/// authorization endpoints, even with the right secret, and nothing is read or written;
/// the same client from another address goes on.
async fn failed_client_authentications_are_limited(backend: Backend) {
    let proxied = TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let app = &proxied;
    let (c, browser) = setup(app, "basic").await;
    let code = code_for(app, &browser, &c, None).await;
    let grant = code_grant(&code, CB);
    let from = async |address: &str, path: &str, basic: Option<(&str, &str)>| {
        let req = client_request(app, path, basic, &grant);
        let res = req.header("x-forwarded-for", address).send().await.unwrap();
        let wait = res.headers().get("retry-after").map(|v| v.to_owned());
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.unwrap();
        (status, wait, body)
    };
    let guesser = "198.51.100.7";
    let right = Some((c.client_id.as_str(), c.secret.as_str()));
    for i in 0..portcullis::ssr::limiter::CLIENT_AUTH_FAILURES_PER_MINUTE {
        let wrong = match i % 2 {
            0 => ("nobody", c.secret.as_str()),
            _ => (c.client_id.as_str(), "pc_cs_wrong"),
        };
        let (status, wait, body) = from(guesser, "/oauth2/token", Some(wrong)).await;
        assert_eq!(
            (status, error(&body)),
            (401, "invalid_client"),
            "{i}: {body}"
        );
        assert!(wait.is_none());
    }
    let before = counts(app).await;
    for path in [
        "/oauth2/token",
        "/oauth2/revoke",
        "/oauth2/introspect",
        "/oauth2/device_authorization",
    ] {
        let (status, wait, body) = from(guesser, path, right).await;
        assert_eq!(
            (status, error(&body)),
            (429, "invalid_client"),
            "{path}: {body}"
        );
        let wait: u64 = wait
            .expect("Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{path}: {wait}");
    }
    assert_eq!(counts(app).await, before, "nothing read or written");
    let (status, _, body) = from("198.51.100.8", "/oauth2/token", right).await;
    assert_eq!(status, 200, "another address: {body}");
    proxied.stop().await;
}
each_backend!(failed_client_authentications_are_limited);
