//! Everything a request handler or server function needs, provided by `leptos_routes`.

use crate::limiter::LoginLimiter;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use portcullis::ssr::db::Db;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub limiter: Arc<LoginLimiter>,
    /// The externally visible base URL, without a trailing slash (redirect URIs, cookies).
    pub public_url: Arc<str>,
}
