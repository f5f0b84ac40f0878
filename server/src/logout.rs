//! Signing out at the provider too, as plain axum routes (the local sign-out is the server
//! function `auth/logout`, `app/src/api/auth.rs`):
//!
//! - `GET /login/<slug>/sign-out?state=...` moves a browser that signed out without
//!   JavaScript on to the provider's end_session_endpoint, and
//!   `GET /login/<slug>/signed-out?state=...` is where the provider sends it back
//!   (RP-Initiated Logout);
//! - `POST /api/v1/oidc/<slug>/backchannel-logout` (form field `logout_token`) is where the
//!   provider ends sessions (Back-Channel Logout).
//!
//! The rules live in `portcullis::ssr::oidc::logout`.

use crate::signin::{TO_PROVIDER, redirect, rp};
use app::html::continue_page;
use app::state::AppState;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::header::CACHE_CONTROL;
use http::{HeaderValue, StatusCode};
use portcullis::ssr::oidc::logout;
use portcullis::ssr::session::AuthSession;
use serde::Deserialize;

/// Where providers post logout tokens (exempt from the cross-site check: the token
/// authenticates itself).
pub const BACKCHANNEL_PATH: &str = "/api/v1/oidc/{slug}/backchannel-logout";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/{slug}/sign-out", get(sign_out_continue))
        .route("/login/{slug}/signed-out", get(signed_out))
        .route(BACKCHANNEL_PATH, post(backchannel_logout))
}

/// The `state` this server sent with a sign-out (empty when missing).
#[derive(Debug, Default, Deserialize)]
struct LogoutState {
    #[serde(default)]
    state: String,
}

/// `GET /login/<slug>/sign-out?state=...`: a sign-out posted without JavaScript continues to
/// the provider from here (a form post may not redirect to another origin).
async fn sign_out_continue(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LogoutState>,
) -> Response {
    match logout::continue_url(&state.db, &slug, &q.state).await {
        Ok(Some(url)) => continue_page(Redirect::to(&url).into_response(), TO_PROVIDER),
        Ok(None) => redirect("/login"),
        Err(e) => {
            tracing::warn!(provider = ?slug, error = ?e, "sign-out continue");
            redirect("/login")
        }
    }
}

/// `GET /login/<slug>/signed-out?state=...`: back from signing out at the provider. With the
/// state this server sent, the login page says so; otherwise it is just the login page.
async fn signed_out(
    State(state): State<AppState>,
    session: AuthSession,
    Path(slug): Path<String>,
    Query(q): Query<LogoutState>,
) -> Response {
    if !q.state.is_empty()
        && logout::take_state(&state.db, &slug, &q.state)
            .await
            .unwrap_or(false)
        && let Ok(Some(provider)) = portcullis::ssr::providers::get(&state.db, &slug).await
    {
        let _ = session
            .set_notice(&format!("You are signed out of {} too.", provider.name))
            .await;
    }
    redirect("/login")
}

/// The back-channel logout request's body.
#[derive(Deserialize)]
struct LogoutToken {
    logout_token: String,
}

/// `POST /api/v1/oidc/<slug>/backchannel-logout`: OpenID Connect Back-Channel Logout 1.0
/// §2.5-2.8. 200 with an empty body when the token is valid (the sessions it names are
/// ended), 400 with `{"error":"invalid_request","error_description":...}` otherwise; never
/// cached. Deliberately not `AppError`'s JSON: the provider reads the OAuth error shape the
/// specification asks for.
async fn backchannel_logout(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    form: Result<Form<LogoutToken>, FormRejection>,
) -> Response {
    let token = match form {
        Ok(Form(f)) if !f.logout_token.is_empty() => f.logout_token,
        _ => return refused("logout_token is missing"),
    };
    let res = match logout::backchannel(&rp(&state), &slug, &token).await {
        Ok(ended) => {
            if ended > 0 {
                use portcullis::ssr::audit::{Actor, Entry, record};
                let entry = Entry::new(
                    portcullis::audit::EventKind::SessionEnded,
                    &Actor::provider(&slug),
                )
                .detail("reason", "back_channel_logout")
                .detail("sessions", ended);
                record(&state.db, entry).await;
            }
            StatusCode::OK.into_response()
        }
        Err(logout::BackchannelError::Invalid(why)) => {
            tracing::info!(provider = ?slug, why = ?why, "logout token refused");
            return refused(&why);
        }
        Err(logout::BackchannelError::Db(e)) => {
            tracing::error!(provider = ?slug, error = ?e, "back-channel logout");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    no_store(res)
}

fn refused(why: &str) -> Response {
    let body = serde_json::json!({ "error": "invalid_request", "error_description": why });
    no_store((StatusCode::BAD_REQUEST, axum::Json(body)).into_response())
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
