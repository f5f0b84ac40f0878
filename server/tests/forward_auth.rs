//! Forward authentication (issue 14): the check endpoints as reverse proxies call them,
//! against the real server on SQLite and PostgreSQL, with groups from the real test
//! provider's claims. The same rules through real Caddy and nginx: `proxies.rs`.

use crate::common;

use common::flow::*;
use common::{Backend, TestApp};
use portcullis::apps::AppDraft;
use portcullis::provider::{DEFAULT_GROUPS_CLAIM, ProviderDraft};
use reqwest::{Client, Response, StatusCode};
use std::time::{Duration, Instant};

const APP: &str = "http://app.portcullis.test";
const CHECK: &str = "/api/v1/forward-auth";
const NGINX: &str = "/api/v1/forward-auth/nginx";

/// A server whose reverse proxy is this machine (the tests call as the proxy would).
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.trusted_proxies = vec![portcullis::ssr::client_ip::parse_net("127.0.0.1").unwrap()];
    })
    .await
}

async fn run<F: AsyncFnOnce(&TestApp)>(backend: Backend, body: F) {
    let app = spawn(backend).await;
    tokio::time::timeout(Duration::from_secs(120), body(&app))
        .await
        .expect("test body did not finish within 120 s");
    app.stop().await;
}

/// `both_backends!` with this machine as the trusted proxy.
macro_rules! proxied {
    ($name:ident) => {
        mod $name {
            use super::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run(Backend::Sqlite, super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::run(Backend::Postgres, super::$name).await;
            }
        }
    };
}

async fn add_app(app: &TestApp, name: &str, urls: &str, access: &str, groups: &str) -> String {
    app.add_app(AppDraft {
        name: name.into(),
        urls: urls.into(),
        access: access.into(),
        groups: groups.into(),
        ..AppDraft::default()
    })
    .await
}

/// Application "Echo" at `urls` for every signed-in user, and the user alice; returns a
/// browser signed in as alice.
async fn echo_and_alice(app: &TestApp, urls: &str) -> Client {
    add_app(app, "Echo", urls, "users", "").await;
    add_signed_in(app, "alice", false).await
}

/// What Caddy's `forward_auth` (and Traefik's ForwardAuth) send for a request to `url`.
async fn check_at(base: &str, client: &Client, url: &str, extra: &[(&str, &str)]) -> Response {
    let u = url::Url::parse(url).unwrap();
    let host = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap()),
        None => u.host_str().unwrap().to_owned(),
    };
    let uri = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    };
    let mut req = client
        .get(format!("{base}{CHECK}"))
        .header("X-Forwarded-Method", "GET")
        .header("X-Forwarded-Proto", u.scheme())
        .header("X-Forwarded-Host", host)
        .header("X-Forwarded-Uri", uri);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn check(app: &TestApp, client: &Client, url: &str) -> Response {
    check_at(&app.base, client, url, &[]).await
}

/// What the nginx configuration sends: the original URL in `X-Original-URL`.
async fn check_nginx(app: &TestApp, client: &Client, url: &str) -> Response {
    client
        .get(app.url(NGINX))
        .header("X-Original-URL", url)
        .send()
        .await
        .unwrap()
}

/// Both checks (Caddy's and nginx's) answer `status` for `client` at `url`, with no identity
/// header.
async fn refused_by_both(app: &TestApp, client: &Client, url: &str, status: StatusCode) {
    let res = check(app, client, url).await;
    assert_eq!(res.status(), status, "{url}");
    for name in ["remote-user", "remote-groups"] {
        assert!(header(&res, name).is_none(), "{url}: {name}");
    }
    let nginx = check_nginx(app, client, url).await.status();
    assert_eq!(nginx, status, "nginx {url}");
}

fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The sign-in form as alice, who then goes on to `next`.
fn alice_going_to(next: &str) -> [(&str, &str); 3] {
    [
        ("identifier", "alice"),
        ("password", "alice password"),
        ("next", next),
    ]
}

fn login_for(app: &TestApp, url: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("{}/login?next={next}", app.running.public_url)
}

async fn allowed_with_identity_headers(app: &TestApp) {
    let alice = echo_and_alice(app, APP).await;
    assign(app, "alice", "media").await;
    // A client-sent identity header has no say in the answer: the proxy should have dropped
    // it, so the check refuses (fail closed) rather than answer for a request that carries it.
    for forged in [
        "Remote-User",
        "remote-groups",
        "Remote_User",
        "Remote.User",
        "REMOTE_EMAIL",
    ] {
        let res = check_at(
            &app.base,
            &alice,
            &format!("{APP}/page"),
            &[(forged, "root")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{forged}");
        assert!(header(&res, "remote-user").is_none(), "{forged}");
    }
    let res = check_at(&app.base, &alice, &format!("{APP}/page?x=1"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user").as_deref(), Some("alice"));
    assert_eq!(
        header(&res, "remote-name").as_deref(),
        Some("alice display")
    );
    assert_eq!(
        header(&res, "remote-email").as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(header(&res, "remote-groups").as_deref(), Some("media"));
    assert!(
        res.headers().get("set-cookie").is_none(),
        "a check writes no cookie"
    );
    let res = check_nginx(app, &alice, &format!("{APP}/page")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user").as_deref(), Some("alice"));
}
proxied!(allowed_with_identity_headers);

/// The check judges the request line; an app that reads its URL from a header would be told
/// another (`GET /` with `X-Rewrite-URL: /admin`), and an upgrade other than WebSocket turns
/// the connection into a tunnel no check sees. A check that still carries either (the proxy
/// should have dropped it) is refused, in every spelling; what proxies write themselves
/// passes.
async fn url_headers_and_upgrades_from_the_client_are_refused(app: &TestApp) {
    let alice = echo_and_alice(app, APP).await;
    let page = format!("{APP}/page");
    let (refused, passes) = (StatusCode::BAD_REQUEST, StatusCode::OK);
    const DEST: &str = "Destination";
    for (name, value, status) in [
        ("X-Original-URL", "/admin", refused),
        ("x-original-uri", "/admin", refused),
        ("X_Original_URL", "/admin", refused),
        ("X-Rewrite-URL", "/admin", refused),
        ("X_REWRITE_URL", "/admin", refused),
        ("X-Forwarded-Prefix", "/admin", refused),
        ("X-Forwarded-Path", "/admin", refused),
        ("X_Forwarded_Host", "other.test", refused),
        ("X_Forwarded_Uri", "/admin", refused),
        ("X.Rewrite.URL", "/admin", refused),
        ("X-Original.URL", "/admin", refused),
        ("X~Forwarded~Prefix", "/admin", refused),
        ("X-Forwarded-Host.", "other.test", refused),
        ("X-Script-Name", "/x", refused),
        ("SCRIPT_NAME", "/x", refused),
        ("X-Host", "other.test", refused),
        ("X-Forwarded-Method", "CONNECT", refused),
        ("Forwarded", "host=other.test;proto=https", refused),
        ("Upgrade", "h2c", refused),
        ("Upgrade", "websocket, h2c", refused),
        ("HTTP2-Settings", "AAMAAABkAAQAAP__", refused),
        ("X-Accel-Mapping", ".*=/admin", refused),
        ("X-Sendfile-Type", "X-Accel-Redirect", refused),
        // WebDAV's Destination: in the same application, or refused.
        (DEST, "http://other.test/page", refused),
        (DEST, "http://app.portcullis.test/a/../../b", refused),
        (DEST, "//other.test/page", refused),
        (DEST, "http://app.portcullis.test/other", passes),
        (DEST, "/other", passes),
        // Another spelling of the request's origin (a port mapping, TLS offload): its path
        // is judged on the request's own.
        (DEST, "https://app.portcullis.test:8443/other", passes),
        (DEST, "http://alice@app.portcullis.test/other", refused),
        // What proxies write themselves, a WebSocket, and a header naming no URL pass.
        ("X-Forwarded-For", "192.0.2.1", passes),
        ("X-Forwarded-Port", "443", passes),
        ("X-Forwarded-Server", "traefik", passes),
        ("X-Forwarded-Ssl", "on", passes),
        ("X-Forwarded-Scheme", "https", passes),
        ("X-Original-Method", "GET", passes),
        ("Upgrade", "WebSocket", passes),
        ("X-Request-Id", "/admin", passes),
    ] {
        let res = check_at(&app.base, &alice, &page, &[(name, value)]).await;
        assert_eq!(res.status(), status, "{name}: {value}");
        assert_eq!(
            header(&res, "remote-user").is_some(),
            status == passes,
            "{name}"
        );
    }
    // nginx's block writes X-Original-URL for the check itself; the client's other URL
    // headers still refuse it.
    let res = check_nginx(app, &alice, &page).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = alice
        .get(app.url(NGINX))
        .header("X-Original-URL", &page)
        .header("X-Rewrite-URL", "/admin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
proxied!(url_headers_and_upgrades_from_the_client_are_refused);

/// Two applications listing the same place (the gate compares paths without case) could
/// not be told apart but by their order: the second is refused where it is saved, naming
/// the other; the gate refuses such a path too (`src/apps/tests.rs`).
async fn one_application_per_url(app: &TestApp) {
    add_app(app, "Admin", "https://h.test/admin", "admins", "").await;
    let save = |name: &str, urls: &str| {
        let valid = AppDraft {
            name: name.into(),
            urls: urls.into(),
            access: "users".into(),
            ..AppDraft::default()
        }
        .validate()
        .unwrap();
        let db = app.running.db.clone();
        async move { portcullis::ssr::apps::create(&db, &valid, &common::by_cli()).await }
    };
    let err = save("Users", "https://h.test/other\nhttps://H.test/Admin/")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, portcullis::ssr::apps::AppsError::UrlTaken(url, other) if url == "https://h.test/Admin" && other == "Admin"),
        "{err}"
    );
    // A path below it, or the same path on another scheme, is another place.
    save("Below", "https://h.test/admin/reports").await.unwrap();
    save("Plain", "http://h.test/admin").await.unwrap();
}
proxied!(one_application_per_url);

/// The test provider as `idp` with its groups in claim `claim`, marked authoritative (sent to
/// applications as they are: `claim_groups_are_kept_apart`), and the administrator `root`.
async fn groups_as_sent(app: &TestApp, claim: &str) -> common::idp::Idp {
    let (idp, _) = idp_provider(app, |d| {
        d.settings.groups_claim = claim.into();
        d.settings.groups_authoritative = true;
    })
    .await;
    idp
}

/// The groups the application at `url` is told `client` is in (the check lets them in).
async fn groups_at(app: &TestApp, client: &Client, url: &str) -> Option<String> {
    let res = check(app, client, url).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    header(&res, "remote-groups")
}

async fn user_id(app: &TestApp, name: &str) -> String {
    app.user_id(name).await
}

/// Assigns `group` to user `name` in storage (as the CLI would).
async fn assign(app: &TestApp, name: &str, group: &str) {
    let id = user_id(app, name).await;
    let by = common::by_cli();
    portcullis::ssr::groups::assign(&app.running.db, &id, group, &by)
        .await
        .unwrap();
}

/// A group whose name an application could read as more than one group (Grafana splits
/// `Remote-Groups` on white space too: `media admins` would put alice in `admins`) stays out
/// of the header, and still counts for Portcullis's own rule.
async fn groups_that_would_split_stay_out_of_the_header(app: &TestApp) {
    add_app(app, "Media", APP, "listed", "media admins").await;
    let alice = add_signed_in(app, "alice", false).await;
    for group in [
        "media",
        "media admins",
        "x;admins",
        "a\u{2020}admins",
        "[\"admins\"]",
    ] {
        assign(app, "alice", group).await;
    }
    let res = check(app, &alice, &format!("{APP}/page")).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the rule names `media admins`"
    );
    assert_eq!(header(&res, "remote-groups").as_deref(), Some("media"));
}
proxied!(groups_that_would_split_stay_out_of_the_header);

/// Signed out: Caddy's contract is a redirect to the login page, nginx's a 401 with the
/// same URL in Location; after a password sign-in the browser lands on the exact URL.
async fn signed_out_goes_to_login_and_back(app: &TestApp) {
    echo_and_alice(app, APP).await;
    let asked = format!("{APP}/media/show?id=3&q=a%20b");
    let browser = app.browser();
    let res = check(app, &browser, &asked).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(raw_location(&res), login_for(app, &asked));
    assert!(res.headers().get("remote-user").is_none());
    let res = check_nginx(app, &browser, &asked).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(raw_location(&res), login_for(app, &asked));

    // Without JavaScript: the form post goes through a same-origin page (form-action
    // 'self' covers redirects) that moves on to the exact URL.
    let res = app
        .post_form(&browser, "auth/login", "/login", &alice_going_to(&asked))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let cont = raw_location(&res);
    assert!(
        cont.starts_with("/api/v1/forward-auth/continue?next="),
        "{cont}"
    );
    let page = body_with(visit(app, &browser, &cont).await, StatusCode::OK).await;
    let escaped = asked.replace('&', "&amp;");
    assert!(
        page.contains(&format!("content=\"0;url={escaped}\"")),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"{escaped}\"")));
    assert_eq!(check(app, &browser, &asked).await.status(), StatusCode::OK);

    // With JavaScript: the app is told to go to the exact URL.
    let js = app.browser();
    let res = app.call(&js, "auth/login", &alice_going_to(&asked)).await;
    assert_eq!(header(&res, "location").as_deref(), Some(asked.as_str()));
}
proxied!(signed_out_goes_to_login_and_back);

/// `next` never leaves for a place that is not a configured application.
async fn no_open_redirect(app: &TestApp) {
    echo_and_alice(app, &format!("{APP}/media")).await;
    for bad in [
        "//evil.example",
        "https://evil.example/",
        "http://app.portcullis.test.evil.example/media",
        "https://app.portcullis.test/media",
        "http://app.portcullis.test/mediaplayer",
        "http://app.portcullis.test/",
        "http://evil.example@app.portcullis.test/media",
        "http://app.portcullis.test\\@evil.example/media",
        "javascript:alert(1)//app.portcullis.test/media",
        "http:app.portcullis.test/media",
    ] {
        let browser = app.browser();
        let res = app
            .post_form(&browser, "auth/login", "/login", &alice_going_to(bad))
            .await;
        assert_eq!(raw_location(&res), "/", "{bad}");
        let res = visit(
            app,
            &browser,
            &format!(
                "/api/v1/forward-auth/continue?next={}",
                url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
            ),
        )
        .await;
        assert_eq!(raw_location(&res), "/", "continue {bad}");
    }
}
proxied!(no_open_redirect);

/// Groups from the provider's claim decide a listed application; the provider sign-in
/// comes back to the exact URL.
async fn groups_from_claims(app: &TestApp) {
    let _idp = groups_as_sent(app, DEFAULT_GROUPS_CLAIM).await;
    add_app(app, "Media", APP, "listed", "media-users").await;
    let asked = format!("{APP}/library?sort=new");

    let alice = app.browser();
    let next: String = url::form_urlencoded::byte_serialize(asked.as_bytes()).collect();
    let started = visit(app, &alice, &format!("/login?provider=idp&next={next}")).await;
    let res = finish(app, &alice, started, "alice").await;
    assert_eq!(raw_location(&res), asked, "back to the exact URL");
    assert_eq!(
        groups_at(app, &alice, &asked).await.as_deref(),
        Some("family,media-users")
    );

    let bob = app.browser();
    sign_in(app, &bob, "idp", "bob").await;
    let res = check(app, &bob, &asked).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(header(&res, "remote-user").is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("signed in as bob"), "{page}");
    let res = check_nginx(app, &bob, &asked).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // An assigned group lets bob in too.
    assign(app, "bob", "media-users").await;
    assert_eq!(check(app, &bob, &asked).await.status(), StatusCode::OK);
}
proxied!(groups_from_claims);

/// Issue 18 item 5: `Remote-Email` carries only a trusted email (applications take it as the
/// user's address). alice's account, created through a provider that does not link by
/// email, holds an address nobody the administrator trusts vouched for: none is sent. Once
/// the provider links by email (the administrator's word that it verifies addresses), the
/// same session's check sends it, and no longer once that is off again: judged at each
/// check. (A password account's email, typed by an administrator, is sent:
/// `allowed_with_identity_headers`.)
async fn remote_email_only_when_trusted(app: &TestApp) {
    let idp = start_idp(app, &["idp"]).await;
    app.add_provider(draft(&idp.issuer, "idp", true)).await;
    enable_oidc(app).await;
    app.add_user("root", "root password", true).await; // past first-run setup
    add_app(app, "Echo", APP, "users", "").await;
    let link_by_email = |on: &str| {
        let run = app.cli(&[
            "provider",
            "--allow-insecure-issuers",
            "update",
            "--slug",
            "idp",
            "--link-by-email",
            on,
        ]);
        assert!(run.ok, "{}", run.text());
    };
    let alice = app.browser();
    let res = sign_in(app, &alice, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/");
    let url = format!("{APP}/inbox");
    let untrusted = async || {
        for res in [
            check(app, &alice, &url).await,
            check_nginx(app, &alice, &url).await,
        ] {
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(header(&res, "remote-user").as_deref(), Some("alice"));
            let email = header(&res, "remote-email");
            assert!(
                email.as_deref().unwrap_or_default().is_empty(),
                "no untrusted email: {email:?}"
            );
        }
    };
    untrusted().await;

    link_by_email("true");
    for res in [
        check(app, &alice, &url).await,
        check_nginx(app, &alice, &url).await,
    ] {
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header(&res, "remote-email").as_deref(),
            Some("alice@idp.example")
        );
    }

    link_by_email("false");
    untrusted().await;
}
proxied!(remote_email_only_when_trusted);

/// Groups from a provider's claim do not outlive the link or the provider: alice (who also
/// has a password) is refused a listed application once her link to the provider goes, and
/// again (after signing in through it anew) once the provider is disabled.
async fn claim_groups_go_with_the_provider(app: &TestApp) {
    let _idp = groups_as_sent(app, DEFAULT_GROUPS_CLAIM).await;
    add_app(app, "Media", APP, "listed", "media-users").await;
    let asked = format!("{APP}/library");
    let db = &app.running.db;

    let res = sign_in(app, &app.browser(), "idp", "alice").await;
    assert_eq!(raw_location(&res), "/");
    let alice = user_id(app, "alice").await;
    // alice gets a password too (root's), and a session that does not go through the provider.
    let by_password = with_roots_password(app, &alice).await;
    assert_eq!(
        check(app, &by_password, &asked).await.status(),
        StatusCode::OK
    );

    // alice's groups went (her password session is refused).
    let went = async |why: &str| {
        let status = check(app, &by_password, &asked).await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    };
    portcullis::ssr::identities::unlink(db, &alice, "idp", None, &common::by_cli())
        .await
        .unwrap();
    went("unlinked: the provider's groups went with the link").await;

    // The groups back, as a sign-in through the provider would bring them.
    let regrant = async || {
        portcullis::ssr::groups::set_from_provider(db, &alice, "idp", &["media-users".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            check(app, &by_password, &asked).await.status(),
            StatusCode::OK
        );
    };
    regrant().await;
    portcullis::ssr::providers::set_enabled(db, "idp", false, &common::by_cli())
        .await
        .unwrap();
    went("disabled: the provider's groups went with it").await;

    regrant().await;
    portcullis::ssr::providers::delete(db, "idp", &common::by_cli())
        .await
        .unwrap();
    went("deleted: the provider's groups went with it").await;
}
proxied!(claim_groups_go_with_the_provider);

/// Issue 18 item 9: a provider's groups reach applications as `<slug>:<group>`, so a
/// group a user can name at the provider (a Forgejo or Gitea organisation `media-users`)
/// never stands in for the assigned group of that name; as sent only once the
/// administrator marks the provider's groups authoritative (through the editor, at once,
/// no new sign-in needed). The users page shows them as applications do.
async fn claim_groups_are_kept_apart(app: &TestApp) {
    const OTHER: &str = "http://other.portcullis.test";
    // A new provider: its groups not authoritative.
    let (_idp, mut d) = idp_provider(app, |d| {
        d.settings.groups_claim = DEFAULT_GROUPS_CLAIM.into()
    })
    .await;
    add_app(app, "Assigned", APP, "listed", "media-users").await;
    add_app(app, "From the provider", OTHER, "listed", "idp:media-users").await;

    // `who` gets into the application at `url` with `groups`, and not into the one at `not`.
    let only = async |who: &Client, url: &str, groups: &str, not: &str| {
        assert_eq!(groups_at(app, who, url).await.as_deref(), Some(groups));
        let status = check(app, who, not).await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{not}");
    };

    // alice's provider says media-users: not the assigned group media-users.
    let alice = app.browser();
    sign_in(app, &alice, "idp", "alice").await;
    refused_by_both(app, &alice, APP, StatusCode::FORBIDDEN).await;
    assert_eq!(
        groups_at(app, &alice, OTHER).await.as_deref(),
        Some("idp:family,idp:media-users")
    );
    // bob has the assigned group: the application that lists it lets him in.
    app.add_user("bob", "bob password", false).await;
    assign(app, "bob", "media-users").await;
    let bob = signed_in(app, "bob").await;
    only(&bob, APP, "media-users", OTHER).await;

    // The users page shows each account's groups as applications see them.
    let root = signed_in(app, "root").await;
    let page = page_text(app, &root, "/settings/users").await;
    assert!(
        page.contains("data-user=\"alice\" class=\"user-groups\">idp:family, idp:media-users<")
            && page.contains("data-user=\"bob\" class=\"user-groups\">media-users<"),
        "{page}"
    );

    // The administrator marks the provider's groups authoritative (the editor's Save):
    // alice's groups count as sent from the next check on.
    d.client_secret = String::new(); // kept: same issuer and client
    d.settings.groups_authoritative = true;
    save_provider(app, &root, &d).await;
    only(&alice, APP, "family,media-users", OTHER).await;
}
proxied!(claim_groups_are_kept_apart);

/// Saves provider `idp` as `d` through the editor as `admin` (confirmed: no question about
/// discovery or linked accounts).
async fn save_provider(app: &TestApp, admin: &Client, d: &ProviderDraft) {
    let (status, answer) = app.save_provider(admin, "idp", d).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Issue 18 item 8: a provider's groups go whenever it is disabled (the editor's Save,
/// `provider update --enabled false`, not only the list's switch) and when its issuer
/// changes (another authority: its users are other people), through the editor and the
/// CLI alike. alice keeps a password session throughout, so only her groups decide.
async fn groups_go_when_the_provider_is_disabled_or_changes_issuer(app: &TestApp) {
    let (idp, d) = idp_provider(app, |d| {
        d.settings.groups_claim = DEFAULT_GROUPS_CLAIM.into()
    })
    .await;
    add_app(app, "Media", APP, "listed", "idp:media-users").await;
    let db = &app.running.db;
    let root = signed_in(app, "root").await;

    sign_in(app, &app.browser(), "idp", "alice").await;
    let alice = user_id(app, "alice").await;
    let by_password = with_roots_password(app, &alice).await;
    let elsewhere = format!("{}/elsewhere", idp.issuer.trim_end_matches('/'));
    let save = async |d: ProviderDraft| save_provider(app, &root, &d).await;
    let cli = |args: &[&str], input: &str| {
        let run = app.cli_with_input(
            &[&["provider", "update", "--slug", "idp"], args].concat(),
            input,
        );
        assert!(run.ok, "{}", run.text());
    };
    let restore = async || {
        portcullis::ssr::providers::set_enabled(db, "idp", true, &common::by_cli())
            .await
            .unwrap();
        portcullis::ssr::groups::set_from_provider(db, &alice, "idp", &["media-users".to_owned()])
            .await
            .unwrap();
        assert_eq!(check(app, &by_password, APP).await.status(), StatusCode::OK);
    };
    // alice's groups went (her password session is refused).
    let went = async |why: &str| {
        let status = check(app, &by_password, APP).await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    };
    assert_eq!(check(app, &by_password, APP).await.status(), StatusCode::OK);

    // Disabled through the editor (Enabled unticked, secret kept).
    let mut off = d.clone();
    off.client_secret = String::new();
    off.settings.enabled = false;
    save(off).await;
    went("disabled in the editor: its groups went").await;

    // Disabled through the CLI.
    restore().await;
    cli(&["--enabled", "false"], "");
    went("disabled with provider update: its groups went").await;

    // Another issuer through the editor (the secret typed again, as it must be).
    restore().await;
    let mut moved = d.clone();
    moved.issuer_url = elsewhere.clone();
    save(moved).await;
    went("a new issuer in the editor: the old one's groups went").await;

    // And back through the CLI.
    restore().await;
    cli(
        &["--issuer-url", &idp.issuer, "--client-secret-stdin"],
        "basic-secret\n",
    );
    went("a new issuer with provider update: the old one's groups went").await;

    // Anything else (here the name) leaves them.
    restore().await;
    cli(&["--name", "Renamed"], "");
    assert_eq!(check(app, &by_password, APP).await.status(), StatusCode::OK);
}
proxied!(groups_go_when_the_provider_is_disabled_or_changes_issuer);

/// An application stored under older rules with a URL today's refuse (here a `;` in its
/// path) keeps it as stored, and every request to its host is refused (400) until an
/// administrator edits it: dropped, its requests would go to the wider application.
async fn a_stored_url_that_no_longer_reads_refuses_its_host(app: &TestApp) {
    // Stored before anything loads the applications (as an older version left the row).
    let id = add_app(app, "Tools", &format!("{APP}/tools"), "admins", "").await;
    portcullis::exec!(
        &app.running.db,
        "UPDATE applications SET urls = $1 WHERE id = $2",
        format!("{APP}/tools;v=2"),
        &id
    )
    .unwrap();
    let alice = echo_and_alice(app, APP).await;
    let apps = portcullis::ssr::apps::list(&app.running.db).await.unwrap();
    let tools = apps.iter().find(|a| a.id == id).unwrap();
    assert_eq!(tools.view().settings.urls, [format!("{APP}/tools;v=2")]);
    for path in ["/tools", "/tools/x", "/", "/page"] {
        refused_by_both(
            app,
            &alice,
            &format!("{APP}{path}"),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}
proxied!(a_stored_url_that_no_longer_reads_refuses_its_host);

async fn unknown_hosts_and_bad_requests_are_refused(app: &TestApp) {
    let alice = echo_and_alice(app, &format!("{APP}/media")).await;
    for url in [
        "http://other.portcullis.test/media",
        "http://app.portcullis.test/",
        "http://app.portcullis.test/mediaplayer",
        "https://app.portcullis.test/media",
        "http://app.portcullis.test:8080/media",
    ] {
        refused_by_both(app, &alice, url, StatusCode::FORBIDDEN).await;
    }
    // Nothing says which URL, or it is not one.
    let res = alice.get(app.url(CHECK)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for (host, uri) in [
        ("app.portcullis.test@evil.example", "/media"),
        ("evil.example/app.portcullis.test", "/media"),
        ("app.portcullis.test", "media"),
    ] {
        let res = alice
            .get(app.url(CHECK))
            .header("X-Forwarded-Proto", "http")
            .header("X-Forwarded-Host", host)
            .header("X-Forwarded-Uri", uri)
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::BAD_REQUEST || res.status() == StatusCode::FORBIDDEN,
            "{host} {uri}: {}",
            res.status()
        );
        assert!(header(&res, "remote-user").is_none());
    }
    let res = check_nginx(app, &alice, "javascript:alert(1)").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
proxied!(unknown_hosts_and_bad_requests_are_refused);

/// From an address not in --trusted-proxies the forwarded headers are not believed: refused.
async fn untrusted_forwarded_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = echo_and_alice(&app, APP).await;
    refused_by_both(&app, &alice, APP, StatusCode::FORBIDDEN).await;
    app.stop().await;
}

each_backend!(untrusted_forwarded_headers);

/// The administrator root and the user alice, each signed in (in that order).
async fn root_and_alice(app: &TestApp) -> (Client, Client) {
    app.add_user("root", "root password", true).await;
    app.add_user("alice", "alice password", false).await;
    (signed_in(app, "root").await, signed_in(app, "alice").await)
}

async fn admins_only(app: &TestApp) {
    add_app(app, "Admin", APP, "admins", "").await;
    let (root, alice) = root_and_alice(app).await;
    assert_eq!(check(app, &root, APP).await.status(), StatusCode::OK);
    assert_eq!(
        check(app, &alice, APP).await.status(),
        StatusCode::FORBIDDEN
    );
}
proxied!(admins_only);

/// Signing out ends access to every application at once; so does ending the user's
/// sessions elsewhere. A second process on the same database sees both at once, and an
/// application added on one within the cache bound on the other.
async fn sign_out_ends_access_on_every_replica(app: &TestApp) {
    let alice = echo_and_alice(app, APP).await;
    let replica = app
        .replica(|c| {
            c.listen = "127.0.0.1:0".parse().unwrap();
        })
        .await;
    let other = format!("http://{}", replica.addr);

    assert_eq!(
        check_at(&other, &alice, APP, &[]).await.status(),
        StatusCode::OK
    );
    let out = app.call(&alice, "auth/logout", &[]).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    assert_eq!(check(app, &alice, APP).await.status(), StatusCode::FOUND);
    assert_eq!(
        check_at(&other, &alice, APP, &[]).await.status(),
        StatusCode::FOUND,
        "the other process refuses the signed-out session at once"
    );

    let alice = signed_in(app, "alice").await;
    assert_eq!(
        check_at(&other, &alice, APP, &[]).await.status(),
        StatusCode::OK
    );
    portcullis::ssr::session::store::end::for_user(&app.running.db, &user_id(app, "alice").await)
        .await
        .unwrap();
    assert_eq!(
        check_at(&other, &alice, APP, &[]).await.status(),
        StatusCode::FOUND,
        "a revoked session is refused at once"
    );

    // An application added through this process: the other sees it within the bound.
    let alice = signed_in(app, "alice").await;
    let second = "http://second.portcullis.test";
    assert_eq!(
        check_at(&other, &alice, second, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    add_app(app, "Second", second, "users", "").await;
    let added = Instant::now();
    let bound = portcullis::ssr::apps::CACHE_TTL;
    loop {
        let status = check_at(&other, &alice, second, &[]).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            added.elapsed() < bound + Duration::from_millis(500),
            "not seen within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "an application added on one process reached the other after {:?} (bound {bound:?})",
        added.elapsed()
    );
    replica.stop().await;
}
proxied!(sign_out_ends_access_on_every_replica);

/// A check that changes nothing writes nothing: the session row is untouched.
async fn a_check_writes_nothing(app: &TestApp) {
    let alice = echo_and_alice(app, APP).await;
    let before = sessions_snapshot(app).await;
    for _ in 0..5 {
        assert_eq!(check(app, &alice, APP).await.status(), StatusCode::OK);
    }
    assert_eq!(sessions_snapshot(app).await, before);
}
proxied!(a_check_writes_nothing);

async fn sessions_snapshot(app: &TestApp) -> Vec<(String, String, i64, i64)> {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_as(
        "SELECT id, data, last_seen_at, expires_at FROM sessions ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap())
}

/// With the database gone the check cannot know: 503, never 200.
async fn database_outage_fails_closed(app: &TestApp) {
    let alice = echo_and_alice(app, APP).await;
    assert_eq!(check(app, &alice, APP).await.status(), StatusCode::OK);
    app.running.db.close().await;
    refused_by_both(app, &alice, APP, StatusCode::SERVICE_UNAVAILABLE).await;
}
proxied!(database_outage_fails_closed);

/// `--cookie-domain`: the session cookie carries the Domain, so the applications under it
/// receive it.
async fn cookie_domain(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        // The public URL must lie under the cookie domain.
        c.public_url = Some("http://auth.portcullis.test".parse().unwrap());
        c.cookie_domain = Some("portcullis.test".into());
    })
    .await;
    app.add_user("alice", "alice password", false).await;
    let res = app.login(&app.browser(), "alice", "alice password").await;
    // The session cookie among those set (the device cookie stays host-only).
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("portcullis_session="))
        .unwrap_or_default();
    assert!(cookie.starts_with("portcullis_session="), "{cookie}");
    assert!(cookie.contains("Domain=portcullis.test"), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn cookie_domain_sqlite() {
    cookie_domain(Backend::Sqlite).await;
}

/// `portcullis app ...` and `portcullis group ...` against the running server's database:
/// what the CLI adds, the check endpoint enforces (within the cache bound).
async fn cli_manages_apps_and_groups(app: &TestApp) {
    app.add_user("alice", "alice password", false).await;
    let cli = |args: &[&str]| {
        let run = app.cli(args);
        (run.ok, run.stdout, run.stderr)
    };
    let (ok, _, err) = cli(&["app", "add", "--name", "Media", "--url", "media.test"]);
    assert!(
        !ok && err.contains("--url:") && err.contains("https://"),
        "{err}"
    );
    let (ok, out, err) = cli(&[
        "app",
        "add",
        "--name",
        "Media",
        "--url",
        APP,
        "--url",
        "https://media.test/x",
        "--group",
        "media",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("added application Media"), "{out}");
    let (ok, out, _) = cli(&["app", "list", "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["access"], "listed");
    assert_eq!(list[0]["groups"][0], "media");
    assert_eq!(list[0]["urls"][1], "https://media.test/x");

    let alice = signed_in(app, "alice").await;
    // The CLI is another process: this server sees its change within the cache bound.
    tokio::time::sleep(portcullis::ssr::apps::CACHE_TTL).await;
    assert_eq!(
        check(app, &alice, APP).await.status(),
        StatusCode::FORBIDDEN
    );
    let (ok, _, err) = cli(&["group", "assign", "--user", "alice", "--group", "media"]);
    assert!(ok, "{err}");
    assert_eq!(check(app, &alice, APP).await.status(), StatusCode::OK);
    let (ok, out, _) = cli(&["group", "list", "--user", "alice", "--json"]);
    assert!(ok);
    assert!(out.contains("\"group\": \"media\""), "{out}");
    let (ok, _, err) = cli(&["group", "assign", "--user", "alice", "--group", "a,b"]);
    assert!(!ok && err.contains("commas"), "{err}");
    let (ok, _, _) = cli(&["group", "unassign", "--user", "alice", "--group", "media"]);
    assert!(ok);
    assert_eq!(
        check(app, &alice, APP).await.status(),
        StatusCode::FORBIDDEN
    );

    let (ok, _, err) = cli(&["app", "update", "media", "--access", "users"]);
    assert!(ok, "{err}");
    let (ok, out, _) = cli(&["app", "list"]);
    assert!(ok && out.contains("users"), "{out}");
    let (ok, _, err) = cli(&["app", "remove", "Media"]);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["app", "remove", "Media"]);
    assert!(!ok && err.contains("no application"), "{err}");
}
proxied!(cli_manages_apps_and_groups);

/// The provider's Groups claim may name a nested claim; it is stored and shown as typed,
/// and decides which groups a sign-in brings.
async fn groups_from_a_nested_claim(app: &TestApp) {
    let _idp = groups_as_sent(app, "realm_access.roles").await;
    let view = portcullis::ssr::providers::get_view(&app.running.db, "idp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.settings.groups_claim, "realm_access.roles");
    assert_eq!(view.draft().settings.groups_claim, "realm_access.roles");
    add_app(app, "Media", APP, "listed", "portcullis").await;

    let alice = app.browser();
    sign_in(app, &alice, "idp", "alice").await;
    assert_eq!(
        groups_at(app, &alice, APP).await.as_deref(),
        Some("offline_access,portcullis")
    );
    let bob = app.browser();
    sign_in(app, &bob, "idp", "bob").await;
    assert_eq!(check(app, &bob, APP).await.status(), StatusCode::FORBIDDEN);
}
proxied!(groups_from_a_nested_claim);

/// A check that does not say which path was asked for is refused, never judged as `/`
/// (issue 18.4): here `/` is open to every user, so judging it as `/` would let alice in.
async fn no_path_is_refused_not_judged_as_root(app: &TestApp) {
    add_app(app, "Open", APP, "users", "").await;
    add_app(app, "Admin", &format!("{APP}/admin"), "admins", "").await;
    let alice = add_signed_in(app, "alice", false).await;
    // Proto and host, but no X-Forwarded-Uri (or an empty one).
    for uri in [None, Some(""), Some("  ")] {
        let mut req = alice
            .get(app.url(CHECK))
            .header("X-Forwarded-Proto", "http")
            .header("X-Forwarded-Host", "app.portcullis.test");
        if let Some(uri) = uri {
            req = req.header("X-Forwarded-Uri", uri);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri:?}");
        assert!(header(&res, "remote-user").is_none(), "{uri:?}");
    }
    // nginx without X-Original-URL and without the fallback's path: the same.
    let res = alice
        .get(app.url(NGINX))
        .header("X-Forwarded-Proto", "http")
        .header("X-Forwarded-Host", "app.portcullis.test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // With the path, the same request is judged as usual.
    assert_eq!(check(app, &alice, APP).await.status(), StatusCode::OK);
}
proxied!(no_path_is_refused_not_judged_as_root);

/// Gives `user_id` root's password and signs in with it in a new browser: a session that does
/// not go through the provider.
async fn with_roots_password(app: &TestApp, user_id: &str) -> reqwest::Client {
    portcullis::exec!(
        &app.running.db,
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'root') \
         WHERE id = $1",
        user_id
    )
    .unwrap();
    let username = portcullis::ssr::users::get(&app.running.db, user_id)
        .await
        .unwrap()
        .unwrap()
        .username;
    let browser = app.browser();
    app.login(&browser, &username, "root password").await;
    browser
}

mod step_up;
mod tokens;

/// A refusal is counted in the audit log, one row per minute, application, user and reason
/// (a flood adds to a count, not rows); an allowed check writes nothing.
async fn denials_are_counted(app: &TestApp) {
    use portcullis::audit::EventKind;
    let media = add_app(app, "Media", APP, "listed", "media").await;
    add_app(app, "Open", "http://open.portcullis.test", "users", "").await;
    let alice = add_signed_in(app, "alice", false).await;
    let before = app.events(Default::default()).await.len();
    for _ in 0..5 {
        let res = check(app, &alice, "http://open.portcullis.test/").await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let after = app.events(Default::default()).await.len();
    assert_eq!(before, after, "allowed checks write no event");
    for _ in 0..4 {
        refused_by_both(app, &alice, APP, StatusCode::FORBIDDEN).await;
    }
    let rows = app.events_of(EventKind::ForwardAuthDenied).await;
    // Eight refusals (Caddy's and nginx's check each), in one row unless a minute turned.
    assert!(!rows.is_empty() && rows.len() <= 2, "{rows:#?}");
    assert_eq!(rows.iter().map(|r| r.count).sum::<i64>(), 8, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.by.actor, "alice");
    assert_eq!(row.target_id.as_deref(), Some(media.as_str()));
    assert_eq!(row.details["reason"], "not_allowed");
    assert_eq!(row.at % 60, 0, "the minute it began");
    assert_eq!(row.by.client.as_deref(), Some("127.0.0.1"));
}
proxied!(denials_are_counted);
