//! The JSON API for scripts and tests: `/api/v1/...`. Errors are `AppError`'s one JSON
//! shape.

use app::error::AppError;
use app::extract::{Admin, SignedIn};
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::ServeFile;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/icons", get(icons))
        .route("/api/v1/providers/{slug}/logo", get(provider_logo))
        .route("/api/v1/apps/{id}/icon", get(app_icon))
        .route(AUDIT_EXPORT_PATH, get(audit_export))
}

/// A provider's uploaded logo (stored as a data URI), for the sign-in page: public like the
/// page itself, cached for good (the URL carries the provider's edit time). SVG is sent with
/// a CSP that lets it draw but never run script, even when opened directly.
async fn provider_logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let missing = || AppError::NotFound(format!("Provider \"{slug}\" has no uploaded logo."));
    let uploaded = portcullis::ssr::providers::uploaded_logo(&state.db, &slug).await?;
    image(uploaded.ok_or_else(missing)?).ok_or_else(missing)
}

/// An application's uploaded icon (the start page's tiles), served like provider logos.
async fn app_icon(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let missing = || AppError::NotFound("This application has no uploaded icon.".into());
    let uploaded = portcullis::ssr::apps::uploaded_icon(&state.db, &id).await?;
    image(uploaded.ok_or_else(missing)?).ok_or_else(missing)
}

/// An uploaded image, cached for good (its URL carries the edit time). SVG is sent with a
/// CSP that lets it draw but never run script, even when opened directly.
fn image((mime, bytes): (String, Vec<u8>)) -> Option<Response> {
    let content_type = HeaderValue::from_str(&mime).ok()?;
    Some(
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
            .into_response(),
    )
}

/// The icon catalogue for the logo picker (`portcullis::icons::Catalogue` as JSON), for
/// administrators. Served precompressed (brotli or gzip, as the browser accepts) with
/// Last-Modified, so a revisit costs a 304. 503 with a message when no copy could be fetched.
async fn icons(
    State(state): State<AppState>,
    _: Admin,
    request: Request,
) -> Result<Response, AppError> {
    let path = state.icons.catalogue().await.map_err(|reason| {
        AppError::Unavailable(format!("The icon catalogue could not be loaded: {reason}."))
    })?;
    let Ok(mut response) = ServeFile::new(path)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response.map(Body::new))
}

/// Settings → Audit log's export: the events the page's filters select (every page of
/// them), as JSON Lines, for administrators.
pub const AUDIT_EXPORT_PATH: &str = "/api/v1/audit.jsonl";

async fn audit_export(
    State(state): State<AppState>,
    _: Admin,
    Query(query): Query<app::api::audit::AuditQuery>,
) -> Result<Response, AppError> {
    let filter = query
        .filter(portcullis::audit::MAX_LIMIT)
        .map_err(AppError::Validation)?;
    let events = portcullis::ssr::audit::all(&state.db, &filter, u64::MAX).await?;
    let mut res = portcullis::ssr::audit::json_lines(&events).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.jsonl\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `{id, username, email, display_name, admin}` for a signed-in session, else 401.
async fn me(SignedIn { user, .. }: SignedIn) -> Response {
    let mut res = Json(user.view()).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
