//! One Portcullis is another's upstream provider (issue 21): the downstream adds the
//! upstream through its own provider settings, as it would add Keycloak, and its people sign
//! in with their upstream accounts: name, trusted email and groups come across, and
//! "who may open it" at the upstream decides who may. The two run side by side on SQLite or
//! on PostgreSQL; the browser reaches the upstream as 127.0.0.1 and the downstream as
//! localhost, so each keeps its own session cookie.

use crate::common;

use common::flow::{draft, enable_oidc, raw_location};
use common::op::{client_draft, param, redirected, request, store_client};

const CB: &str = "https://wiki.example/cb";
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};

/// Who `browser` is signed in as at the server at `base` (`None`: nobody).
async fn me_at(browser: &Client, base: &str) -> Option<serde_json::Value> {
    let res = browser
        .get(format!("{base}/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    (res.status() == StatusCode::OK).then_some(res.json().await.unwrap())
}

/// A port nothing listens on now, for a server whose public URL must name it beforehand.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Follows `url`'s redirects in `browser` until an answer that is not one; gives the last
/// URL asked and the answer.
async fn follow(browser: &Client, mut url: String) -> (String, reqwest::Response) {
    for _ in 0..10 {
        let res = browser.get(&url).send().await.unwrap();
        if !res.status().is_redirection() {
            return (url, res);
        }
        url = res.url().join(&raw_location(&res)).unwrap().to_string();
    }
    panic!("more than 10 redirects from {url}");
}

/// Two Portcullis side by side: the upstream, where ursula (in group media) may use the
/// downstream and victor may not, and the downstream, which has the upstream as provider
/// `up`; with the downstream's URL (as the browser reaches it).
async fn up_and_down(backend: Backend) -> (TestApp, TestApp, String) {
    let up = TestApp::spawn(backend).await;
    let port = free_port();
    let down = TestApp::spawn_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some(format!("http://localhost:{port}").parse().unwrap());
    })
    .await;
    let down_url = format!("http://localhost:{port}");

    up.add_user("ursula", "ursula password", false).await;
    up.add_user("victor", "victor password", false).await;
    let run = up.cli(&["group", "assign", "--user", "ursula", "--group", "media"]);
    assert!(run.ok, "{}", run.stderr);
    let redirect_uri = format!("{down_url}/login/up");
    let client = store_client(
        &up,
        client_draft(
            "Downstream",
            &redirect_uri,
            "client_secret_basic",
            "listed",
            "ursula",
        ),
    )
    .await;

    // The downstream adds the upstream as a provider, as an administrator would.
    let mut provider = draft(&up.base, "up", true);
    provider.name = "Upstream Portcullis".into();
    provider.client_id = client.client_id.clone();
    provider.client_secret = client.secret.clone();
    provider.settings.scopes = "openid, profile, email, groups".into();
    provider.settings.groups_claim = "groups".into();
    down.add_provider(provider).await;
    enable_oidc(&down).await;
    (up, down, down_url)
}

async fn one_portcullis_signs_in_to_another(backend: Backend) {
    let (up, down, down_url) = up_and_down(backend).await;

    // Signed in at the upstream, one click at the downstream signs in there.
    let browser = up.browser();
    let res = up.login(&browser, "ursula", "ursula password").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (at, res) = follow(&browser, format!("{down_url}/login?provider=up")).await;
    assert_eq!(res.status(), StatusCode::OK, "{at}");
    assert_eq!(
        url::Url::parse(&at).unwrap().path(),
        "/",
        "home at the downstream"
    );
    let who = me_at(&browser, &down_url)
        .await
        .expect("signed in downstream");
    assert_eq!(who["username"], "ursula");
    assert_eq!(
        who["display_name"], "ursula display",
        "the upstream's name claim"
    );
    assert_eq!(
        who["email"], "ursula@example.com",
        "a trusted email, verified upstream"
    );
    let id = down.user_id("ursula").await;
    let seen = portcullis::ssr::groups::identity(&down.running.db, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seen.groups,
        vec!["up:media".to_owned()],
        "the upstream's groups, namespaced"
    );

    // Someone the upstream does not let use the downstream comes back refused, signed in
    // nowhere downstream.
    let other = up.browser();
    assert_eq!(
        up.login(&other, "victor", "victor password").await.status(),
        StatusCode::OK
    );
    let (at, _) = follow(&other, format!("{down_url}/login?provider=up")).await;
    assert_eq!(url::Url::parse(&at).unwrap().path(), "/login", "{at}");
    assert!(me_at(&other, &down_url).await.is_none());
    assert!(down.events(Default::default()).await.iter().any(|e| {
        e.event == portcullis::audit::EventKind::SignInFailed
            && e.details.get("provider").and_then(|v| v.as_str()) == Some("up")
    }));

    down.stop().await;
    up.stop().await;
}
each_backend!(one_portcullis_signs_in_to_another);

/// A fresh sign-in an application asks for (`prompt=login`) reaches the upstream provider:
/// the downstream asks it for `prompt=login` too, and holds its ID token to it. With the
/// parameter stripped on the way (what the person at the keyboard can do, or an upstream
/// that ignores it), the upstream's silent single sign-on, made before the application
/// asked, is refused, and a sign-in started apart from the request does not count either;
/// with it, the upstream asks for the password again and the application gets its code.
async fn a_fresh_sign_in_reaches_the_upstream_provider(backend: Backend) {
    let (up, down, down_url) = up_and_down(backend).await;
    let wiki = store_client(&down, client_draft("Wiki", CB, "basic", "users", "")).await;
    let browser = up.browser();
    assert_eq!(
        up.login(&browser, "ursula", "ursula password")
            .await
            .status(),
        StatusCode::OK
    );
    let (_, res) = follow(&browser, format!("{down_url}/login?provider=up")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        me_at(&browser, &down_url).await.is_some(),
        "signed in downstream"
    );

    // The application asks the downstream for a fresh sign-in; the person is sent to sign in.
    let get = async |url: &str| browser.get(url).send().await.unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(request(&wiki, &[("prompt", "login")]))
        .finish();
    let res = get(&format!("{down_url}/oauth2/authorize?{query}")).await;
    let (to, pairs) = redirected(&res);
    assert!(to.ends_with("/login"), "{to}");
    let next = param(&pairs, "next").unwrap().to_owned();
    let next_q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let start = format!("{down_url}/login?provider=up&next={next_q}");

    // The downstream asks the upstream for prompt=login.
    let to_up = raw_location(&get(&start).await);
    let asked = url::Url::parse(&to_up).unwrap();
    let prompt = asked.query_pairs().find(|(k, _)| k == "prompt");
    assert_eq!(
        prompt.map(|(_, v)| v.into_owned()).as_deref(),
        Some("login"),
        "{to_up}"
    );

    // Stripped: the upstream signs ursula in silently, on her sign-in there ten minutes
    // before the request.
    age_sessions(&up, "ursula", 600).await;
    let mut stripped = asked.clone();
    let kept: Vec<(String, String)> = asked
        .query_pairs()
        .filter(|(k, _)| k != "prompt")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    stripped.query_pairs_mut().clear().extend_pairs(&kept);
    let (at, res) = follow(&browser, stripped.to_string()).await;
    assert_eq!(url::Url::parse(&at).unwrap().path(), "/login", "{at}");
    let page = res.text().await.unwrap();
    assert!(page.contains("earlier sign-in"), "{page}");

    // Nor does a sign-in started without the request (no `next`): the session now rests on
    // the upstream's older sign-in, and the request still asks for a new one.
    let (at, _) = follow(&browser, format!("{down_url}/login?provider=up")).await;
    assert_eq!(url::Url::parse(&at).unwrap().path(), "/", "{at}");
    let res = get(&format!("{down_url}{next}")).await;
    let (to, _) = redirected(&res);
    assert!(to.ends_with("/login"), "asked to sign in again: {to}");

    // Asked as sent: the upstream wants the password again, then the application gets
    // its code.
    let (at, _) = follow(&browser, start.clone()).await;
    let at = url::Url::parse(&at).unwrap();
    assert_eq!(
        at.origin(),
        url::Url::parse(&up.base).unwrap().origin(),
        "{at}"
    );
    assert_eq!(at.path(), "/login", "the upstream asks again: {at}");
    let up_next = at
        .query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        up.login(&browser, "ursula", "ursula password")
            .await
            .status(),
        StatusCode::OK
    );
    let mut url = up.url(&up_next);
    for _ in 0..10 {
        let res = common::continue_page_as_redirect(get(&url).await).await;
        assert!(res.status().is_redirection(), "{url}: {}", res.status());
        url = url::Url::parse(&url)
            .unwrap()
            .join(&raw_location(&res))
            .unwrap()
            .to_string();
        if url.starts_with(CB) {
            break;
        }
    }
    let back = url::Url::parse(&url).unwrap();
    assert!(back.query_pairs().any(|(k, _)| k == "code"), "{url}");

    down.stop().await;
    up.stop().await;
}
each_backend!(a_fresh_sign_in_reaches_the_upstream_provider);

/// Moves every session of `user` at `app` `secs` into the past, as if signed in then.
async fn age_sessions(app: &TestApp, user: &str, secs: i64) {
    let db = &app.running.db;
    let id = app.user_id(user).await;
    let rows: Vec<(String, String)> = portcullis::on_pool!(db, pool =>
        sqlx::query_as("SELECT id, data FROM sessions WHERE user_id = $1")
            .bind(&id)
            .fetch_all(pool)
            .await)
    .unwrap();
    assert!(!rows.is_empty());
    for (sid, data) in rows {
        let mut data: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&data).unwrap();
        for v in data.values_mut() {
            if let Some(at) = v.get("signed_in_at").and_then(|t| t.as_i64()) {
                v["signed_in_at"] = (at - secs).into();
            }
        }
        let data = serde_json::Value::Object(data).to_string();
        portcullis::exec!(
            db,
            "UPDATE sessions SET data = $1 WHERE id = $2",
            &data,
            &sid
        )
        .unwrap();
    }
}
