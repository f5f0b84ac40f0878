//! The JSON API for scripts and tests: `/api/v1/...`.

use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/icons", get(icons))
        .route("/api/v1/providers/{slug}/logo", get(provider_logo))
}

/// A provider's uploaded logo (stored as a data URI), for the sign-in page: public like the
/// page itself, cached for good (the URL carries the provider's edit time). SVG is sent with
/// a CSP that lets it draw but never run script, even when opened directly.
async fn provider_logo(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    match portcullis::ssr::providers::uploaded_logo(&state.db, &slug).await {
        Ok(Some((mime, bytes))) => {
            let Ok(content_type) = HeaderValue::from_str(&mime) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=31536000, immutable"),
                    ),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(
                            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                        ),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &e.to_string(),
        ),
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

/// The icon catalogue for the logo picker (`portcullis::icons::Catalogue` as JSON), for
/// administrators. Served precompressed (brotli or gzip, as the browser accepts) with
/// Last-Modified, so a revisit costs a 304. 503 with a message when no copy could be fetched.
async fn icons(State(state): State<AppState>, session: Session, request: Request) -> Response {
    match app::auth::session_user(&session, &state.db).await {
        Ok(Some(user)) if user.is_admin => {}
        Ok(Some(_)) => {
            return error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only administrators can browse the icon catalogue.",
            );
        }
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "unauthorized", "Sign in first."),
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &e.to_string(),
            );
        }
    }
    match state.icons.catalogue().await {
        Ok(path) => {
            let served = ServeFile::new(path)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(request)
                .await;
            let Ok(mut response) = served;
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            response.map(Body::new)
        }
        Err(reason) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "icons_unavailable",
            &format!("The icon catalogue could not be loaded: {reason}."),
        ),
    }
}

/// `{id, username, email, display_name, admin}` for a signed-in session, else 401.
async fn me(State(state): State<AppState>, session: Session) -> Response {
    match app::auth::session_user(&session, &state.db).await {
        Ok(Some(user)) => Json(user.view()).into_response(),
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "unauthorized", "message": "Sign in first." })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "internal", "message": e.to_string() })),
        )
            .into_response(),
    }
}
