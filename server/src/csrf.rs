//! Cross-site request refusal: a state-changing request (anything but GET, HEAD and
//! OPTIONS) must come from a page of this installation. SameSite=Lax cookies alone let a
//! form on another site post a login (login CSRF), and a sibling subdomain counts as the
//! same site. Browsers say where a request comes from in `Origin` (every cross-origin POST)
//! or `Sec-Fetch-Site`; a request with neither did not come from a browser page (scripts,
//! the CLI's HTTP calls) and carries no ambient authority to abuse.

use app::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

/// Requests that may come from anywhere because they are not a browser's: a provider's
/// server-to-server calls (back-channel logout, [`crate::logout::BACKCHANNEL_PATH`])
/// authenticate themselves.
fn exempt(path: &str) -> bool {
    use portcullis::ssr::op::metadata::{
        AUTHORIZE_PATH, DEVICE_AUTHORIZATION_PATH, END_SESSION_PATH, INTROSPECT_PATH, REVOKE_PATH,
        TOKEN_PATH, USERINFO_PATH,
    };
    (path.starts_with("/api/v1/oidc/") && path.ends_with("/backchannel-logout"))
        // The OpenID Provider's token, revocation, introspection, userinfo and device
        // authorization endpoints are
        // called server to server (the client or its token authenticates itself; a browser
        // app's public client may call them too), and a POST to its authorization endpoint
        // acts on nothing before it is answered, nor does one to the end-session endpoint
        // (303 to its GET; the sign-out it may ask for posts to its own confirm path, which
        // this check guards): docs/openid-provider.md §3.3.
        || [
            TOKEN_PATH,
            REVOKE_PATH,
            INTROSPECT_PATH,
            USERINFO_PATH,
            AUTHORIZE_PATH,
            END_SESSION_PATH,
            DEVICE_AUTHORIZATION_PATH,
        ]
        .contains(&path)
}

pub async fn same_origin_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || exempt(req.uri().path())
    {
        return next.run(req).await;
    }
    let ours = public_origin(&state.public_url);
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    let allowed = match (origin, fetch_site) {
        (Some(origin), _) => origin == ours,
        (None, Some(site)) => site == "same-origin" || site == "none",
        (None, None) => true,
    };
    if allowed {
        return next.run(req).await;
    }
    tracing::warn!(
        origin = ?origin,
        sec_fetch_site = ?fetch_site,
        path = ?req.uri().path(),
        "refused a cross-site request"
    );
    let from = origin.unwrap_or("another site");
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        format!(
            "Refused: this request came from {from}, not from a page of {ours}. \
             If you opened Portcullis at another address, use {ours} (or set --public-url to \
             the address your browser uses)."
        ),
    )
        .into_response()
}

/// `scheme://host[:port]` of the public URL, as browsers write `Origin`.
pub fn public_origin(public_url: &str) -> String {
    url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| public_url.trim_end_matches('/').to_owned())
}
