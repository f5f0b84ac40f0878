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
    // (header, value, whether a value the handler set itself stands)
    let headers = [
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
            true,
        ),
        (X_CONTENT_TYPE_OPTIONS, "nosniff", false),
        (REFERRER_POLICY, "strict-origin-when-cross-origin", true),
        (X_FRAME_OPTIONS, "DENY", false),
    ];
    let hsts = (STRICT_TRANSPORT_SECURITY, "max-age=31536000", false);
    let router = router.layer(axum::middleware::map_response(no_store_for_personal));
    headers.into_iter().chain(https.then_some(hsts)).fold(
        router,
        |router, (name, value, handler_may_set)| {
            let value = HeaderValue::from_static(value);
            router.layer(if handler_may_set {
                SetResponseHeaderLayer::if_not_present(name, value)
            } else {
                SetResponseHeaderLayer::overriding(name, value)
            })
        },
    )
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
