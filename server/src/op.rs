//! Portcullis as an OpenID Provider: its routes (`docs/openid-provider.md` §3.3). Slice 1
//! serves the public discovery surface: the discovery document (also at RFC 8414's name) and
//! the JWKS. The authorization and token endpoints are routed because the document must name
//! them; until slice 3 they answer 501 with the OAuth error `temporarily_unavailable`.
//! Answers are OAuth's JSON bodies, not `AppError`'s (a relying party reads them).

use app::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use openidconnect::StandardErrorResponse;
use openidconnect::core::CoreErrorResponseType;
use portcullis::ssr::op::metadata::{
    AUTHORIZE_PATH, DISCOVERY_PATH, JWKS_PATH, OAUTH_METADATA_PATH, TOKEN_PATH, provider_metadata,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(OAUTH_METADATA_PATH, get(discovery))
        .route(JWKS_PATH, get(jwks))
        .route(AUTHORIZE_PATH, get(not_yet).post(not_yet))
        .route(TOKEN_PATH, axum::routing::post(not_yet))
}

/// Public and the same for everyone: any origin may read it (browser-based relying parties),
/// and caches may keep it five minutes (a rotation publishes the next key a day ahead).
fn public_json(body: String) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        body,
    )
        .into_response()
}

/// `GET /.well-known/openid-configuration` (and `/.well-known/oauth-authorization-server`):
/// the issuer is the public URL.
async fn discovery(State(state): State<AppState>) -> Response {
    match provider_metadata(&state.public_url)
        .and_then(|m| serde_json::to_string(&m).map_err(|e| e.to_string()))
    {
        Ok(body) => public_json(body),
        Err(e) => {
            tracing::error!(error = %e, "the discovery document");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /oauth2/jwks`: the next, current and retired public keys, as this replica last loaded
/// them (`OpKeys`, reloaded every minute).
async fn jwks(State(state): State<AppState>) -> Response {
    public_json(state.op_keys.get().jwks_json().to_owned())
}

/// The authorization and token endpoints until slice 3: no client exists yet, so nothing can
/// be checked and nothing redirects (an authorization error may only go back to a registered
/// redirect URI); a plain 501 with the OAuth error body says what is going on.
async fn not_yet() -> Response {
    let body = StandardErrorResponse::new(
        CoreErrorResponseType::Extension("temporarily_unavailable".to_owned()),
        Some(
            "Portcullis does not issue tokens yet: its OpenID Provider publishes discovery \
             and keys only (issue 21, slice 1)"
                .to_owned(),
        ),
        None,
    );
    (
        StatusCode::NOT_IMPLEMENTED,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response()
}
