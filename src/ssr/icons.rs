//! The selfh.st icon catalogue, fetched from upstream at most once per TTL and kept on disk
//! in its compact form, precompressed (brotli and gzip) for the browser.
//!
//! The last good copy is always served: when the catalogue is older than the TTL, one
//! background refresh runs while the old copy answers; when upstream is down or sends junk,
//! the old copy stays (also across restarts, since it lives in the data directory). Only when
//! no copy was ever fetched does the caller get an error, which the picker shows.

use crate::icons::{Catalogue, parse_index};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Mutex;

/// After a failed fetch, upstream is left alone this long (or the TTL, if shorter); the
/// error or the last good copy answers meanwhile.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// The upstream index is ~0.8 MB; anything far larger is not the index.
const MAX_UPSTREAM_BYTES: usize = 16 * 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

pub struct IconIndex {
    index_url: String,
    base_url: String,
    dir: PathBuf,
    /// How long a fetched catalogue counts as fresh.
    ttl: Duration,
    http: reqwest::Client,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the copy on disk was fetched (None: there is none).
    fetched: Option<SystemTime>,
    refreshing: bool,
    last_failure: Option<(Instant, String)>,
}

impl std::fmt::Debug for IconIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IconIndex")
            .field("index_url", &self.index_url)
            .finish_non_exhaustive()
    }
}

impl IconIndex {
    /// `dir` holds the compact copy (`catalogue.json`, `.br`, `.gz`); one left there by an
    /// earlier run is served until it is refreshed.
    pub fn new(index_url: &str, base_url: &str, dir: &Path, ttl: Duration) -> Self {
        let path = dir.join("catalogue.json");
        let fetched = [
            path.with_extension("json.br"),
            path.with_extension("json.gz"),
            path,
        ]
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .min()
        .flatten();
        Self {
            index_url: index_url.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            dir: dir.to_owned(),
            ttl,
            http: crate::ssr::oidc::http::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("HTTP client"),
            state: Mutex::new(State {
                fetched,
                ..State::default()
            }),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The icon host's origin when it is plain http (a LAN mirror): the one plain-http
    /// origin the pages' Content-Security-Policy allows images from.
    pub fn http_origin(&self) -> Option<String> {
        let base = url::Url::parse(&self.base_url).ok()?;
        crate::icons::http_origin(&base)
    }

    /// The compact catalogue file (serve it with its `.br`/`.gz` siblings). Fetches when
    /// there is no copy yet; refreshes in the background when the copy is stale.
    pub async fn catalogue(self: &Arc<Self>) -> Result<PathBuf, String> {
        let path = self.dir.join("catalogue.json");
        let mut state = self.state.lock().await;
        if let Some(fetched) = state.fetched {
            let stale = fetched.elapsed().map_or(true, |age| age >= self.ttl);
            if stale && !state.refreshing && !self.failed_recently(&state) {
                state.refreshing = true;
                let this = self.clone();
                tokio::spawn(async move { this.refresh().await });
            }
            return Ok(path);
        }
        if let Some((_, reason)) = state
            .last_failure
            .as_ref()
            .filter(|_| self.failed_recently(&state))
        {
            return Err(reason.clone());
        }
        // No copy at all: fetch now, holding the lock so concurrent callers wait for this
        // one fetch instead of each asking upstream.
        let result = self.fetch().await;
        self.record(&mut state, &result, "icon catalogue unavailable");
        result.map(|()| path)
    }

    /// Notes a fetch's outcome: a new copy's time, or the failure (which pauses retries).
    fn record(&self, state: &mut State, result: &Result<(), String>, failure: &str) {
        match result {
            Ok(()) => {
                state.fetched = Some(SystemTime::now());
                state.last_failure = None;
            }
            Err(reason) => {
                tracing::warn!(url = %self.index_url, ?reason, "{failure}");
                state.last_failure = Some((Instant::now(), reason.clone()));
            }
        }
    }

    fn failed_recently(&self, state: &State) -> bool {
        state
            .last_failure
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < RETRY_AFTER.min(self.ttl))
    }

    async fn refresh(&self) {
        let result = self.fetch().await;
        let mut state = self.state.lock().await;
        state.refreshing = false;
        self.record(
            &mut state,
            &result,
            "icon catalogue refresh failed; serving the last good copy",
        );
    }

    /// Downloads, checks and stores the catalogue; the copy on disk changes only on success.
    async fn fetch(&self) -> Result<(), String> {
        let mut response = self.http.get(&self.index_url).send().await.map_err(|e| {
            format!(
                "{} could not be reached ({})",
                self.index_url,
                without_url(&e)
            )
        })?;
        if !response.status().is_success() {
            return Err(format!("{} answered {}", self.index_url, response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {} failed ({})", self.index_url, without_url(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_UPSTREAM_BYTES {
                return Err(format!("{} sent more than 16 MB", self.index_url));
            }
        }
        let text =
            String::from_utf8(body).map_err(|_| format!("{} did not send text", self.index_url))?;
        let parsed = parse_index(&text).map_err(|e| format!("{}: {e}", self.index_url))?;
        let json = serde_json::to_vec(&Catalogue {
            base: self.base_url.clone(),
            icons: parsed.icons,
        })
        .map_err(|e| e.to_string())?;
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || store(&dir, &json))
            .await
            .map_err(|e| e.to_string())?;
        written.map_err(|e| format!("storing the icon catalogue failed: {e}"))?;
        tracing::info!(url = %self.index_url, skipped = parsed.skipped, "icon catalogue fetched");
        Ok(())
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" for url ({url})"), "");
    }
    s
}

/// Writes the three files next to each other, each atomically (temp file, then rename).
fn store(dir: &Path, json: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(json)?;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(json)?;
    let gz = gz.finish()?;
    for (name, bytes) in [
        ("catalogue.json.br", &br[..]),
        ("catalogue.json.gz", &gz[..]),
        ("catalogue.json", json),
    ] {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, dir.join(name))?;
    }
    Ok(())
}
