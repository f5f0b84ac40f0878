//! Security headers on every response. HTML pages set their own Content-Security-Policy with
//! a per-response nonce (see `app::shell`); everything else gets the strictest one.

use axum::Router;
use http::HeaderValue;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// `https`: the public URL is https, so browsers are told to stay on https (HSTS, without
/// `includeSubDomains`: other apps on sibling hosts are not ours to decide for).
pub fn add<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    let router = if https {
        router.layer(SetResponseHeaderLayer::overriding(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    router
        .layer(axum::middleware::map_response(no_store_for_personal))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

/// Pages and API answers may show who is signed in and their data: never stored by a
/// browser or proxy cache, unless the handler chose a caching policy itself (the icon
/// catalogue, uploaded logos). Static assets keep theirs.
async fn no_store_for_personal(mut res: axum::response::Response) -> axum::response::Response {
    let personal = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"));
    if personal && !res.headers().contains_key(CACHE_CONTROL) {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
