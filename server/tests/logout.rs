//! Signing out at the provider too (OpenID Connect RP-Initiated Logout 1.0) and sessions
//! ended by the provider (Back-Channel Logout 1.0), against the real test provider (npm
//! `oidc-provider`) and, for logout tokens it will not send, the misbehaving one. On SQLite
//! and PostgreSQL.

use crate::common;

use common::TestApp;
use common::flow::{
    draft, enable_oidc, finish, location, me, page_text, shady_draft, shows, sign_in, start,
};
use common::idp::Idp;
use portcullis::ssr::oidc::logout::BACKCHANNEL_EVENT;
use reqwest::header::CACHE_CONTROL;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const SLUG: &str = "idp";

/// The test provider as `idp`, with "Sign out at the provider too" on.
async fn setup(app: &TestApp, env: &[(&str, &str)]) -> Idp {
    let uris = vec![app.url(&format!("/login/{SLUG}"))];
    let idp = Idp::start_script_with("provider.mjs", &uris, env).await;
    let mut d = draft(&idp.issuer, SLUG, true);
    d.settings.sign_out_at_provider = true;
    app.add_provider(d).await;
    enable_oidc(app).await;
    idp
}

/// A browser signed in through `idp` as alice.
pub(crate) async fn signed_in_at_idp(app: &TestApp) -> Client {
    let b = app.browser();
    let done = sign_in(app, &b, SLUG, "alice").await;
    assert!(done.status().is_redirection(), "callback {}", done.status());
    assert!(me(app, &b).await.is_some(), "signed in");
    b
}

/// Confirms the provider's "Do you want to sign out?" form (its end_session page) and
/// returns where it sends the browser.
pub(crate) async fn confirm_at_provider(b: &Client, idp: &Idp, end_session: &str) -> String {
    let page = b.get(end_session).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "end_session page");
    let html = page.text().await.unwrap();
    let xsrf = common::quoted_after(&html, "name=\"xsrf\" value=\"")
        .unwrap_or_else(|| panic!("a logout form: {html}"))
        .to_owned();
    let done = b
        .post(format!("{}/session/end/confirm", idp.issuer))
        .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")])
        .send()
        .await
        .unwrap();
    assert!(done.status().is_redirection(), "confirm: {}", done.status());
    location(&done)
}

/// Whether a sign-in start sends the browser to the provider's login form (true) or
/// straight back (false: still signed in there).
async fn provider_asks_to_log_in(app: &TestApp, b: &Client) -> bool {
    let mut res = start(app, b, SLUG).await;
    for _ in 0..20 {
        if !res.status().is_redirection() {
            return res.url().path().starts_with("/interaction/");
        }
        let to = location(&res);
        if to.starts_with(&app.base) {
            return false;
        }
        res = b.get(&to).send().await.unwrap();
    }
    panic!("too many redirects");
}

fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn sign_out_at_provider_round_trip(app: &TestApp) {
    let idp = setup(app, &[]).await;
    let b = signed_in_at_idp(app).await;
    assert!(
        !provider_asks_to_log_in(app, &b).await,
        "signed in at the provider"
    );
    let b = signed_in_at_idp(app).await;

    // Without JavaScript: the form post goes to a page of ours that moves on.
    let out = app.post_form(&b, "auth/logout", "/", &[]).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    let page = b.get(location(&out)).send().await.unwrap();
    assert!(
        page.url()
            .path()
            .ends_with(&format!("/login/{SLUG}/sign-out"))
    );
    let to_provider = location(&common::continue_page_as_redirect(page).await);
    assert!(me(app, &b).await.is_none(), "the local session ended first");
    assert!(
        to_provider.starts_with(&format!("{}/session/end", idp.issuer)),
        "{to_provider}"
    );
    let q = query(&to_provider);
    assert!(param(&q, "id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(param(&q, "client_id"), Some("portcullis-basic"));
    let back = app.url(&format!("/login/{SLUG}/signed-out"));
    assert_eq!(param(&q, "post_logout_redirect_uri"), Some(back.as_str()));
    let state = param(&q, "state").expect("a state").to_owned();

    let returned = confirm_at_provider(&b, &idp, &to_provider).await;
    assert!(returned.starts_with(&back), "{returned}");
    assert_eq!(param(&query(&returned), "state"), Some(state.as_str()));
    let landed = b.get(&returned).send().await.unwrap();
    assert_eq!(location(&landed), app.url("/login"));
    let login = page_text(app, &b, "/login").await;
    assert!(
        shows(&login, "You are signed out of Test IdP too."),
        "{login}"
    );
    // The state works once.
    let again = b.get(&returned).send().await.unwrap();
    assert_eq!(location(&again), app.url("/login"));
    assert!(!shows(
        &page_text(app, &b, "/login").await,
        "signed out of Test IdP"
    ));
    // An unknown state just lands on the login page.
    let forged = b
        .get(app.url(&format!("/login/{SLUG}/signed-out?state=forged")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&forged), app.url("/login"));
    assert!(!shows(
        &page_text(app, &b, "/login").await,
        "signed out of Test IdP"
    ));

    // The next "Sign in with" asks to log in at the provider again.
    assert!(provider_asks_to_log_in(app, &b).await);

    // With JavaScript the server function names the provider's URL directly.
    let b = signed_in_at_idp(app).await;
    let out = app.call(&b, "auth/logout", &[]).await;
    let to = out
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        to.starts_with(&format!("{}/session/end?", idp.issuer)),
        "{to}"
    );
    assert!(me(app, &b).await.is_none());
}
both_backends!(sign_out_at_provider_round_trip);

async fn a_provider_that_is_down_never_prevents_the_local_sign_out(app: &TestApp) {
    let idp = setup(app, &[]).await;
    let b = signed_in_at_idp(app).await;
    drop(idp);
    // An edit (on any replica) makes the cached discovery stale: it is asked again, fails.
    use portcullis::on_pool;
    let db = &app.running.db;
    on_pool!(db, pool => sqlx::query("UPDATE oidc_providers SET updated_at = updated_at + 1")
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    let out = app.post_form(&b, "auth/logout", "/", &[]).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), app.url("/login"));
    assert!(me(app, &b).await.is_none());
}
both_backends!(a_provider_that_is_down_never_prevents_the_local_sign_out);

/// [`setup`] with the provider sending its logout tokens to Portcullis's back-channel URI.
pub(crate) async fn setup_with_backchannel(app: &TestApp) -> Idp {
    let uri = app.url(&format!("/api/v1/oidc/{SLUG}/backchannel-logout"));
    setup(app, &[("OIDC_BACKCHANNEL_URI", &uri)]).await
}

async fn a_session_ended_at_the_provider_ends_here_through_the_back_channel(app: &TestApp) {
    let idp = setup_with_backchannel(app).await;
    let alice = signed_in_at_idp(app).await;
    let other = signed_in_at_idp(app).await;
    // Alice signs out at the provider itself (not through Portcullis).
    confirm_at_provider(&alice, &idp, &format!("{}/session/end", idp.issuer)).await;
    assert!(
        me(app, &alice).await.is_none(),
        "ended through the back channel"
    );
    assert!(me(app, &other).await.is_some(), "only the session it named");
}
both_backends!(a_session_ended_at_the_provider_ends_here_through_the_back_channel);

/// Signs `claims` with the misbehaving provider's key (or a `stranger` key).
async fn signed(idp: &Idp, claims: &Value, key: &str) -> String {
    let res: Value = idp
        .http()
        .post(format!("{}/sign", idp.issuer))
        .body(json!({ "claims": claims, "key": key }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["token"].as_str().unwrap().to_owned()
}

async fn post_logout_token(app: &TestApp, token: &str) -> Response {
    crate::common::http()
        .post(app.url("/api/v1/oidc/shady/backchannel-logout"))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap()
}

async fn malformed_logout_tokens_are_refused_and_end_nothing(app: &TestApp) {
    let idp = Idp::start_script("misbehaving.mjs", &[]).await;
    app.add_provider(shady_draft(&idp.issuer)).await;
    enable_oidc(app).await;
    let b = app.browser();
    let done = finish(app, &b, start(app, &b, "shady").await, "").await;
    assert!(done.status().is_redirection());
    assert!(me(app, &b).await.is_some());

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let good = |jti: &str| {
        json!({
            "iss": idp.issuer, "aud": "portcullis-basic", "iat": now, "exp": now + 120,
            "jti": jti, "sub": "mallory-1", "events": { BACKCHANNEL_EVENT: {} },
        })
    };
    let change = |jti: &str, f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = good(jti);
        f(c.as_object_mut().unwrap());
        c
    };
    // A valid token that names someone else: accepted, ends nothing, uses up jti "seen".
    let other = change("seen", &|c| _ = c.insert("sub".into(), json!("nobody")));
    let res = post_logout_token(app, &signed(&idp, &other, "k1").await).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(res.text().await.unwrap(), "");

    let cases: Vec<(&str, Value, &str)> = vec![
        ("bad signature", good("j1"), "stranger"),
        (
            "wrong aud",
            change("j2", &|c| _ = c.insert("aud".into(), json!("other"))),
            "k1",
        ),
        (
            "missing events",
            change("j3", &|c| _ = c.remove("events")),
            "k1",
        ),
        (
            "with nonce",
            change("j4", &|c| _ = c.insert("nonce".into(), json!("n"))),
            "k1",
        ),
        ("replayed jti", good("seen"), "k1"),
        (
            "neither sid nor sub",
            change("j5", &|c| _ = c.remove("sub")),
            "k1",
        ),
    ];
    for (name, claims, key) in cases {
        let res = post_logout_token(app, &signed(&idp, &claims, key).await).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store", "{name}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{name}");
        assert!(body["error_description"].is_string(), "{name}");
        assert!(me(app, &b).await.is_some(), "{name} ended nothing");
    }
    let res = post_logout_token(app, "not-a-jwt").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The same token, valid, ends the session; sent again it is a replay.
    let token = signed(&idp, &good("last"), "k1").await;
    assert_eq!(
        post_logout_token(app, &token).await.status(),
        StatusCode::OK
    );
    assert!(me(app, &b).await.is_none());
    assert_eq!(
        post_logout_token(app, &token).await.status(),
        StatusCode::BAD_REQUEST
    );
}
both_backends!(malformed_logout_tokens_are_refused_and_end_nothing);
