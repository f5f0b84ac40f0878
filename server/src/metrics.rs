//! Prometheus metrics (issue 23), off unless `--metrics-listen` or a metrics token is given.
//!
//! Counters and histograms are recorded where things happen
//! ([`portcullis::ssr::metrics`]: sign-ins, forward-auth checks, requests to providers).
//! Here the recorder is installed, and `/metrics` answered: on its own listener
//! (`--metrics-listen`, nothing else served there), or on the main one to a scraper that sends
//! `Authorization: Bearer <token>` (compared in constant time). The gauges are read when
//! scraped: sessions from the database (the same figure on every replica: take `max`, not
//! `sum`, across them), this replica's database pool, the build.

use crate::config::Config;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use portcullis::ssr::db::Db;
use portcullis::ssr::metrics::{FORWARD_AUTH_DURATION, UPSTREAM_DURATION};
use portcullis::ssr::session::store::count_signed_in;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const PATH: &str = "/metrics";

/// A check is two small queries: most take a millisecond or less.
const CHECK_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// A provider answers in tens to hundreds of milliseconds; the timeout is 10 s.
const UPSTREAM_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Histogram observations wait in lock-free buckets until a scrape or this upkeep folds
/// them in (so they do not pile up when nobody scrapes).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, installed by the first server that turns metrics on. One per
/// process, like the `metrics` facade's global recorder: a server process has one
/// configuration (the integration tests run many servers in one process, which then share
/// the counters).
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The build as `portcullis_build_info` names it: the version, and the commit when the
/// build set PORTCULLIS_GIT_COMMIT (scripts/image.sh does).
const VERSION: &str = env!("CARGO_PKG_VERSION");
const COMMIT: Option<&str> = option_env!("PORTCULLIS_GIT_COMMIT");

/// Installs the recorder (once per process) and starts counting, when the configuration
/// turns metrics on; `None` otherwise (nothing is recorded then).
pub fn turn_on(config: &Config) -> Option<PrometheusHandle> {
    if config.metrics_listen.is_none() && config.metrics_token.is_none() {
        return None;
    }
    let handle = HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(FORWARD_AUTH_DURATION.into()), CHECK_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(UPSTREAM_DURATION.into()), UPSTREAM_BUCKETS)
            })
            .expect("non-empty bucket lists")
            .build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; Portcullis's figures stay empty"
            );
        }
        portcullis::ssr::metrics::turn_on();
        handle
    });
    Some(handle.clone())
}

/// Folds histogram observations in every [`UPKEEP_EVERY`], forever (run it in a task).
pub async fn upkeep(handle: PrometheusHandle) {
    let mut tick = tokio::time::interval(UPKEEP_EVERY);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// What answers `/metrics`: the recorder's handle, the database (the gauges), and the token
/// a scraper must send (`None` on `--metrics-listen`'s own address).
#[derive(Clone)]
struct Scraper {
    handle: PrometheusHandle,
    db: Db,
    token: Option<Arc<str>>,
}

/// `/metrics` alone: the router of `--metrics-listen`.
fn own_listener(handle: PrometheusHandle, db: Db) -> Router {
    let scraper = Scraper {
        handle,
        db,
        token: None,
    };
    Router::new().route(PATH, get(answer)).with_state(scraper)
}

/// `/metrics` on the main listener, for a scraper that sends `token` (merged after the
/// main router's layers: a scrape touches no session).
pub fn behind_token(handle: PrometheusHandle, db: Db, token: String) -> Router {
    let scraper = Scraper {
        handle,
        db,
        token: Some(token.into()),
    };
    Router::new().route(PATH, get(answer)).with_state(scraper)
}

async fn answer(State(scraper): State<Scraper>, headers: HeaderMap) -> Response {
    if let Some(token) = &scraper.token
        && !bearer_matches(&headers, token)
    {
        let mut res = (StatusCode::UNAUTHORIZED, "metrics need the bearer token\n").into_response();
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    scrape(&scraper.handle, &scraper.db).await
}

/// Whether the request's `Authorization: Bearer <token>` is `token`, compared in constant
/// time (only a difference in length shows, which the 32-character minimum makes moot).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let sent = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    bool::from(sent.as_bytes().ct_eq(token.as_bytes()))
}

/// The text format: what was recorded, then the gauges read now.
async fn scrape(handle: &PrometheusHandle, db: &Db) -> Response {
    let mut text = handle.render();
    gauges(&mut text, db).await;
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn gauges(out: &mut String, db: &Db) {
    let mut gauge = |name: &str, help: &str, samples: &[(&str, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let commit: String = COMMIT
        .unwrap_or("unknown")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    gauge(
        "portcullis_build_info",
        "The running build: version and commit (always 1).",
        &[(
            format!("{{version=\"{VERSION}\",commit=\"{commit}\"}}").as_str(),
            "1".into(),
        )],
    );
    let (open, idle, max) = db.pool_use();
    let in_use = (open as usize).saturating_sub(idle);
    gauge(
        "portcullis_db_pool_connections",
        "This replica's database connections, in use and idle.",
        &[
            ("{state=\"in_use\"}", in_use.to_string()),
            ("{state=\"idle\"}", idle.to_string()),
        ],
    );
    gauge(
        "portcullis_db_pool_max_connections",
        "The most database connections this replica opens.",
        &[("", max.to_string())],
    );
    match count_signed_in(db).await {
        Ok(n) => gauge(
            "portcullis_active_sessions",
            "Signed-in sessions not yet expired, all replicas together (read from the database).",
            &[("", n.to_string())],
        ),
        Err(e) => tracing::warn!(error = ?e, "metrics: could not count the sessions"),
    }
}

/// Binds `--metrics-listen` (when given) and serves `/metrics` there in a task, until the
/// sender returned with its address is used or dropped.
pub async fn serve_own(
    config: &Config,
    handle: PrometheusHandle,
    db: Db,
) -> anyhow::Result<Option<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)>> {
    use anyhow::Context;
    let Some(addr) = config.metrics_listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-listen {addr}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = own_listener(handle, db);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = ?e, "the metrics listener stopped");
        }
    });
    tracing::info!(%addr, "metrics at http://{addr}{PATH}");
    Ok(Some((addr, tx)))
}

#[cfg(test)]
mod tests {
    use super::bearer_matches;
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn only_the_bearer_token_itself() {
        let token = "0123456789abcdef0123456789abcdef";
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
            bearer_matches(&h, token)
        };
        assert!(with(&format!("Bearer {token}")));
        assert!(with(&format!("bearer  {token}")));
        assert!(!with(token));
        assert!(!with(&format!("Basic {token}")));
        assert!(!with(&format!("Bearer {token}0")));
        assert!(!with(&format!("Bearer {}", &token[1..])));
        assert!(!with("Bearer "));
        assert!(!bearer_matches(&HeaderMap::new(), token));
    }
}
