//! The icon catalogue endpoint (`/api/v1/icons`) against an upstream the test controls: it
//! serves a sample of the real selfh.st index (fixtures/selfhst), junk, or errors. Caching,
//! compression, access, the last good copy (also across a restart) and the message when there
//! never was one.

use crate::common;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{Backend, TestApp};
use portcullis::icons::Catalogue;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, IF_MODIFIED_SINCE, LAST_MODIFIED};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const OK: usize = 0;
const JUNK: usize = 1;
const DOWN: usize = 2;

#[derive(Default)]
struct Upstream {
    mode: AtomicUsize,
    hits: AtomicUsize,
}

/// The repository's sample of the selfh.st index (fixtures/selfhst, 326 entries).
fn sample() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/selfhst/index.json"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Serves `/index.json` as the mode says; returns its base URL.
async fn upstream(state: Arc<Upstream>) -> String {
    async fn index(State(up): State<Arc<Upstream>>) -> axum::response::Response {
        up.hits.fetch_add(1, Ordering::SeqCst);
        match up.mode.load(Ordering::SeqCst) {
            OK => sample().into_response(),
            JUNK => "<html>maintenance</html>".into_response(),
            _ => StatusCode::BAD_GATEWAY.into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/index.json", get(index))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn app_with(up: &str, ttl: u64, data_dir: Option<&std::path::Path>) -> TestApp {
    let index = format!("{up}/index.json");
    let dir = data_dir.map(|d| d.to_owned());
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        c.icon_index_url = index.parse().unwrap();
        c.icon_base_url = "https://icons.example/selfhst@main".parse().unwrap();
        c.icon_index_ttl = ttl;
        if let Some(dir) = dir {
            c.data_dir = dir;
        }
    })
    .await;
    app.add_user("root", "root password", true).await;
    app.add_user("user", "user password", false).await;
    app
}

async fn get_icons(app: &TestApp, who: &str, encoding: &str) -> reqwest::Response {
    let b = app.browser();
    app.login(&b, who, &format!("{who} password")).await;
    b.get(app.url("/api/v1/icons"))
        .header(ACCEPT_ENCODING, encoding)
        .send()
        .await
        .unwrap()
}

fn catalogue(encoding: &str, body: &[u8]) -> Catalogue {
    let mut json = Vec::new();
    match encoding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut json)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut json)
            .unwrap(),
        _ => {
            json = body.to_vec();
            0
        }
    };
    serde_json::from_slice(&json).unwrap()
}

async fn wait_for_hits(up: &Upstream, n: usize) {
    for _ in 0..100 {
        if up.hits.load(Ordering::SeqCst) >= n {
            // Let the background refresh finish storing (or failing).
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("upstream was not asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_get_the_compact_catalogue_once_fetched() {
    let up = Arc::new(Upstream::default());
    let base = upstream(up.clone()).await;
    let app = app_with(&base, 3600, None).await;

    let anonymous = app
        .browser()
        .get(app.url("/api/v1/icons"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_icons(&app, "user", "br").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        0,
        "refusals cost upstream nothing"
    );

    let r = get_icons(&app, "root", "br, gzip").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_ENCODING], "br");
    let modified = r.headers()[LAST_MODIFIED].clone();
    let br = r.bytes().await.unwrap();
    assert!(
        br.len() <= 120 * 1024,
        "compressed catalogue: {} bytes",
        br.len()
    );
    let cat = catalogue("br", &br);
    let entries = serde_json::from_str::<Vec<serde_json::Value>>(&sample())
        .unwrap()
        .len();
    assert_eq!(cat.icons.len(), entries, "every entry of the sample");
    assert_eq!(cat.base, "https://icons.example/selfhst@main");
    let keycloak = cat
        .icons
        .iter()
        .find(|i| i.reference() == "keycloak")
        .unwrap();
    assert_eq!(keycloak.name(), "Keycloak");

    let r = get_icons(&app, "root", "gzip").await;
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(catalogue("gzip", &r.bytes().await.unwrap()), cat);
    let r = get_icons(&app, "root", "identity").await;
    assert!(r.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(catalogue("", &r.bytes().await.unwrap()), cat);

    // A revisit revalidates for free.
    let b = app.browser();
    app.login(&b, "root", "root password").await;
    let again = b
        .get(app.url("/api/v1/icons"))
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        1,
        "fetched once within the TTL"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_good_copy_outlives_junk_outages_and_restarts() {
    let up = Arc::new(Upstream::default());
    let base = upstream(up.clone()).await;
    let data = tempfile::tempdir().unwrap();
    // TTL 0: every visit finds the copy stale and refreshes in the background.
    let app = app_with(&base, 0, Some(data.path())).await;
    let good = catalogue(
        "br",
        &get_icons(&app, "root", "br").await.bytes().await.unwrap(),
    );

    for (mode, hits) in [(JUNK, 2), (DOWN, 3)] {
        up.mode.store(mode, Ordering::SeqCst);
        // Served at once from the copy; the refresh runs behind it and fails.
        let r = get_icons(&app, "root", "br").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(catalogue("br", &r.bytes().await.unwrap()), good);
        wait_for_hits(&up, hits).await;
        // The failed refresh kept the copy.
        let r = get_icons(&app, "root", "br").await;
        assert_eq!(catalogue("br", &r.bytes().await.unwrap()), good);
        wait_for_hits(&up, hits + 1).await;
        up.hits.store(hits, Ordering::SeqCst);
    }
    app.stop().await;

    // A restart with upstream still down serves the copy in the data directory.
    let restarted = app_with(&base, 3600, Some(data.path())).await;
    let r = get_icons(&restarted, "root", "gzip").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(catalogue("gzip", &r.bytes().await.unwrap()), good);
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_copy_the_picker_is_told_why() {
    let up = Arc::new(Upstream::default());
    let base = upstream(up.clone()).await;
    for (mode, says) in [(JUNK, "not a JSON array"), (DOWN, "502")] {
        up.mode.store(mode, Ordering::SeqCst);
        let app = app_with(&base, 3600, None).await;
        let r = get_icons(&app, "root", "br").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = r.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&format!("{base}/index.json")), "{message}");
        assert!(message.contains(says), "{message}");
        // The failure is remembered for a while instead of asking upstream on every visit.
        let hits = up.hits.load(Ordering::SeqCst);
        let again = get_icons(&app, "root", "br").await;
        assert_eq!(again.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(up.hits.load(Ordering::SeqCst), hits, "no retry storm");
        app.stop().await;
    }
    // Nothing listening at all.
    let app = app_with("http://127.0.0.1:9", 3600, None).await;
    let r = get_icons(&app, "root", "br").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{body}"
    );
    app.stop().await;
}
