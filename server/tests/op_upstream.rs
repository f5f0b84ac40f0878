//! One Portcullis is another's upstream provider (issue 21): the downstream adds the
//! upstream through its own provider settings, as it would add Keycloak, and its people sign
//! in with their upstream accounts: name, trusted email and groups come across, and
//! "who may open it" at the upstream decides who may. The two run side by side on SQLite or
//! on PostgreSQL; the browser reaches the upstream as 127.0.0.1 and the downstream as
//! localhost, so each keeps its own session cookie.

use crate::common;

use common::flow::{draft, enable_oidc, raw_location};
use common::op::{client_draft, store_client};
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

async fn one_portcullis_signs_in_to_another(backend: Backend) {
    let up = TestApp::spawn(backend).await;
    let port = free_port();
    let down = TestApp::spawn_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some(format!("http://localhost:{port}").parse().unwrap());
    })
    .await;
    let down_url = format!("http://localhost:{port}");

    // The upstream: ursula (in group media) may use the downstream, victor may not.
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
