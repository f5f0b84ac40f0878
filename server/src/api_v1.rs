//! The JSON API for scripts and tests: `/api/v1/...`.

use app::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/auth/me", get(me))
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
