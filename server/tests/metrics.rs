//! Prometheus metrics (issue 23): off by default, on their own listener or behind a bearer
//! token, and the figures move with what happens (sign-ins, forward-auth checks, requests to
//! the test provider), without a name, an email or a secret in them.
//!
//! The tests of this binary share one process, and so one recorder: counters are compared
//! before and after (other tests may add to the shared series), or read for an application
//! only this test has (its id).

use crate::common;

use common::flow::{add_provider, sign_in, signed_in, start_idp};
use common::{Backend, Fresh, TestApp};
use portcullis::apps::AppDraft;
use portcullis_server::config::MetricsToken;
use portcullis_server::serve;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

const TOKEN: &str = "3f9c1e6b2a7d4058b1c9e2f3a4d5c6b7e8f9a0b1";
const CHECK: &str = "/api/v1/forward-auth";

fn url_of(app: &str) -> String {
    format!("http://{}.metrics.test/", app.to_lowercase())
}

/// A token file in `dir`, holding `token` (and a newline, as `echo` writes it).
fn token_file(dir: &std::path::Path, token: &str) -> std::path::PathBuf {
    let path = dir.join("metrics.token");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path
}

/// A server with metrics on its own listener, this machine its trusted proxy.
async fn with_own_listener(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        c.trusted_proxies = vec![portcullis::ssr::client_ip::parse_net("127.0.0.1").unwrap()];
    })
    .await
}

async fn scrape_at(url: &str) -> String {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let kind = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    res.text().await.unwrap()
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.running.metrics_addr.expect("a metrics listener");
    scrape_at(&format!("http://{addr}/metrics")).await
}

/// The sum of series `name` whose labels include every one of `labels` (0 when none).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, v) = l.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            (n == name).then_some((rest.trim_end_matches('}'), v))
        })
        .filter(|(set, _)| {
            let have: Vec<&str> = set.split(',').collect();
            labels
                .iter()
                .all(|(k, v)| have.contains(&format!("{k}=\"{v}\"").as_str()))
        })
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum()
}

async fn off_by_default(app: &TestApp) {
    assert!(app.running.metrics_addr.is_none());
    let res = app.browser().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
both_backends!(off_by_default);

async fn behind_a_bearer_token(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = token_file(dir.path(), TOKEN);
    let app = TestApp::spawn_with(backend, |c| {
        c.metrics_token = Some(MetricsToken::File(file));
    })
    .await;
    assert!(app.running.metrics_addr.is_none(), "no listener of its own");
    let http = crate::common::http();
    let url = app.url("/metrics");
    for sent in [
        None,
        Some("Bearer wrong-token".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
    ] {
        let mut req = http.get(&url);
        if let Some(v) = &sent {
            req = req.header(AUTHORIZATION, v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{sent:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body = res.text().await.unwrap();
        assert!(!body.contains("portcullis_"), "{sent:?}: {body}");
    }
    let res = http
        .get(&url)
        .header(AUTHORIZATION, format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for gauge in [
        "portcullis_build_info{version=\"",
        "portcullis_db_pool_connections{state=\"in_use\"}",
        "portcullis_db_pool_connections{state=\"idle\"}",
        "portcullis_db_pool_max_connections ",
        "portcullis_active_sessions ",
    ] {
        assert!(text.contains(gauge), "{gauge} in\n{text}");
    }
    assert!(!text.contains(TOKEN), "the token is not in the figures");
    app.stop().await;
}
each_backend!(behind_a_bearer_token);

/// Why `config` does not start.
async fn start_fails(config: &portcullis_server::config::Config) -> String {
    let refused = serve::start(config).await.err();
    refused.expect("the start is refused").to_string()
}

/// A short token, or a token file that cannot be read, stops the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_token_stops_the_start() {
    let fresh = Fresh::new(Backend::Sqlite).await;
    let mut config = fresh.config.clone();
    let short = token_file(fresh.dir.path(), "short-token");
    config.metrics_token = Some(MetricsToken::File(short));
    let err = start_fails(&config).await;
    assert!(err.contains("32 characters"), "{err}");
    let missing = fresh.dir.path().join("missing");
    config.metrics_token = Some(MetricsToken::File(missing));
    let err = start_fails(&config).await;
    assert!(err.contains("--metrics-token-file"), "{err}");
}

async fn on_its_own_listener(backend: Backend) {
    let app = with_own_listener(backend).await;
    let addr = app.running.metrics_addr.unwrap();
    let text = scrape(&app).await;
    assert!(text.contains("portcullis_build_info"), "{text}");
    // Nothing else is served there, and `/metrics` is not on the main listener.
    let http = crate::common::http();
    for path in ["/", "/healthz", "/login", "/metrics/x"] {
        let res = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let main = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    let main = http
        .get(app.url("/metrics"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
each_backend!(on_its_own_listener);

/// The forward-auth check for `url`, as Caddy asks it.
async fn check(app: &TestApp, client: &reqwest::Client, url: &str) -> StatusCode {
    let u = url::Url::parse(url).unwrap();
    client
        .get(app.url(CHECK))
        .header("X-Forwarded-Proto", u.scheme())
        .header("X-Forwarded-Host", u.host_str().unwrap())
        .header("X-Forwarded-Uri", u.path())
        .send()
        .await
        .unwrap()
        .status()
}

/// Application `name` at `http://<name>.metrics.test` (lower case) for `access`; returns its
/// id.
async fn add_app(app: &TestApp, name: &str, access: &str) -> String {
    app.add_app(AppDraft {
        name: name.into(),
        urls: url_of(name),
        access: access.into(),
        ..AppDraft::default()
    })
    .await
}

async fn counters_move(backend: Backend) {
    let app = with_own_listener(backend).await;
    let idp = start_idp(&app, &["idp"]).await;
    add_provider(&app, &idp.issuer, "idp", true).await;
    app.add_user("metricsuser", "metricsuser password", false)
        .await;
    let open = add_app(&app, "Open", "users").await;
    let admins = add_app(&app, "Admins", "admins").await;
    let before = scrape(&app).await;
    let sign_ins =
        |text: &str, labels: &[(&str, &str)]| value(text, "portcullis_sign_ins_total", labels);
    let password_ok = [("method", "password"), ("outcome", "success")];
    let password_bad = [("method", "password"), ("outcome", "invalid_credentials")];
    let provider_ok = [
        ("method", "provider"),
        ("provider", "idp"),
        ("outcome", "success"),
    ];

    // Password: a failure, then a success.
    let client = app.browser();
    let res = app.login(&client, "metricsuser", "not the password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let client = signed_in(&app, "metricsuser").await;
    // Forward auth: allowed, denied, signed out.
    assert_eq!(check(&app, &client, &url_of("Open")).await, StatusCode::OK);
    assert_eq!(
        check(&app, &client, &url_of("Admins")).await,
        StatusCode::FORBIDDEN
    );
    let nobody = app.browser();
    assert_eq!(
        check(&app, &nobody, &url_of("Open")).await,
        StatusCode::FOUND
    );
    // A provider sign-in.
    let res = sign_in(&app, &app.browser(), "idp", "alice").await;
    assert_eq!(res.headers()["location"], "/", "alice signed in");

    let after = scrape(&app).await;
    assert!(sign_ins(&after, &password_ok) > sign_ins(&before, &password_ok));
    assert!(sign_ins(&after, &password_bad) > sign_ins(&before, &password_bad));
    assert!(sign_ins(&after, &provider_ok) > sign_ins(&before, &provider_ok));
    let checks = |app: &str, outcome: &str| {
        value(
            &after,
            "portcullis_forward_auth_checks_total",
            &[("app", app), ("outcome", outcome)],
        )
    };
    assert_eq!(checks(&open, "allowed"), 1.0, "{after}");
    assert_eq!(checks(&open, "signed_out"), 1.0);
    assert_eq!(checks(&open, "denied"), 0.0);
    assert_eq!(checks(&admins, "denied"), 1.0);
    assert_eq!(checks(&admins, "allowed"), 0.0);
    let count = "portcullis_forward_auth_duration_seconds_count";
    assert!(
        value(&after, count, &[("outcome", "allowed")]) >= 1.0,
        "{after}"
    );
    assert!(
        after.contains(
            "portcullis_forward_auth_duration_seconds_bucket{outcome=\"allowed\",le=\"0.001\"}"
        ),
        "{after}"
    );
    for endpoint in ["discovery", "jwks", "token", "userinfo"] {
        let ok = [
            ("provider", "idp"),
            ("endpoint", endpoint),
            ("result", "ok"),
        ];
        let before_n = value(&before, "portcullis_upstream_requests_total", &ok);
        let after_n = value(&after, "portcullis_upstream_requests_total", &ok);
        assert!(after_n > before_n, "{endpoint}: {after}");
        let took = [("provider", "idp"), ("endpoint", endpoint)];
        let n = value(
            &after,
            "portcullis_upstream_request_duration_seconds_count",
            &took,
        );
        assert!(n >= 1.0, "{endpoint}");
    }
    assert!(
        value(&after, "portcullis_active_sessions", &[]) >= 2.0,
        "{after}"
    );
    // No one's name, email or secret.
    for secret in [
        "metricsuser",
        "alice",
        "@example.com",
        "@idp.example",
        "basic-secret",
        "not the password",
    ] {
        assert!(!after.contains(secret), "{secret} in\n{after}");
    }
    drop(idp);
    app.stop().await;
}
each_backend!(counters_move);

/// Portcullis as an OpenID Provider counts the token responses it gives, by application and
/// grant: a code's exchange and a refresh.
async fn op_tokens_counted(backend: Backend) {
    use common::op::{authorize, client_draft, exchange, param, redirected, request, store_client};
    let app = with_own_listener(backend).await;
    app.add_local("alice", "alice@example.com", false).await;
    let mut draft = client_draft("Wiki", "https://wiki.example/cb", "basic", "users", "");
    draft.client.client_scopes = "openid offline_access".into();
    let c = store_client(&app, draft).await;
    let browser = signed_in(&app, "alice").await;
    let mut pairs = request(&c, &[]);
    pairs.retain(|(k, _)| *k != "scope");
    pairs.push(("scope", "openid offline_access"));
    let (_, query) = redirected(&authorize(&app, &browser, &pairs).await);
    let code = param(&query, "code").expect("a code").to_owned();
    let (status, body) = exchange(&app, &c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", body["refresh_token"].as_str().unwrap()),
    ];
    let basic = Some((c.client_id.as_str(), c.secret.as_str()));
    let (status, body) = common::op::token(&app, basic, &form).await;
    assert_eq!(status, 200, "{body}");
    // A refused exchange (the code again) is no token.
    assert_eq!(exchange(&app, &c, &code, None).await.0, 400);

    let text = scrape(&app).await;
    let issued = |grant| {
        value(
            &text,
            "portcullis_op_tokens_issued_total",
            &[("app", &c.app_id), ("grant", grant)],
        )
    };
    assert_eq!(issued("authorization_code"), 1.0, "{text}");
    assert_eq!(issued("refresh_token"), 1.0, "{text}");
    app.stop().await;
}
each_backend!(op_tokens_counted);

/// The Grafana dashboard (`deploy/grafana-dashboard.json`) shows every metric Portcullis
/// exports, and names none it does not: a new metric needs its panel.
#[test]
fn the_dashboard_shows_every_metric() {
    use portcullis::ssr::metrics::*;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/grafana-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    let exported = [
        SIGN_INS,
        FORWARD_AUTH_CHECKS,
        FORWARD_AUTH_DURATION,
        UPSTREAM_REQUESTS,
        UPSTREAM_DURATION,
        OP_TOKENS,
        // server/src/metrics.rs: the gauges read at each scrape.
        "portcullis_build_info",
        "portcullis_db_pool_connections",
        "portcullis_db_pool_max_connections",
        "portcullis_active_sessions",
    ];
    for name in exported {
        assert!(
            exprs.iter().any(|e| e.contains(name)),
            "no panel shows {name}"
        );
    }
    for expr in &exprs {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let Some(name) = word.strip_prefix("portcullis_").map(|_| word) else {
                continue;
            };
            let family = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            assert!(
                exported.contains(&family),
                "the dashboard names {name}, which Portcullis does not export"
            );
        }
    }
}
