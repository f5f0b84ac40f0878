//! The one error type every server function returns.
//!
//! A `?` on a database or HTTP error must not put its raw message in the browser, so server
//! code maps causes into these variants; [`AppError::internal`] logs the cause with a
//! reference id and hands the browser only the id.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use portcullis::field::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please correct the highlighted fields.")]
    Validation(Vec<FieldError>),
    #[error("Wrong username, email or password.")]
    InvalidCredentials,
    #[error("Too many attempts. Wait {0} seconds, then try again.")]
    RateLimited(u64),
    #[error("Sign in to continue.")]
    Unauthorized,
    #[error("Only administrators can do this.")]
    Forbidden,
    /// Not allowed, with the reason in words (e.g. a login method that is turned off).
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The request is valid but risky; repeat it with confirmation to go ahead.
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error(
        "Something went wrong on the server. If it keeps happening, give your administrator this reference: {0}."
    )]
    Internal(String),
    /// The database did not answer (an outage, not a fault of what was asked); the id
    /// finds the cause in the server log.
    #[error(
        "The server's database is not answering. Try again in a moment; if it keeps happening, give your administrator this reference: {0}."
    )]
    Database(String),
    /// Something the server relies on (e.g. the icon catalogue's host) is down; says what.
    #[error("{0}")]
    Unavailable(String),
    #[error("The server could not be reached or answered oddly: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

impl AppError {
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation(errors) => errors,
            _ => &[],
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::InvalidCredentials | AppError::Unauthorized => 401,
            AppError::RateLimited(_) => 429,
            AppError::Forbidden | AppError::Denied(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::NeedsConfirmation(_) => 409,
            AppError::Internal(_) | AppError::Transport(_) => 500,
            AppError::Database(_) | AppError::Unavailable(_) => 503,
        }
    }

    /// The machine-readable name of the kind, for the JSON API's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::RateLimited(_) => "rate_limited",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Denied(_) => "denied",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::NeedsConfirmation(_) => "needs_confirmation",
            AppError::Internal(_) => "internal",
            AppError::Transport(_) => "transport",
            AppError::Database(_) => "database_unavailable",
            AppError::Unavailable(_) => "unavailable",
        }
    }
}

#[cfg(feature = "ssr")]
fn ref_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` server-side under a fresh reference id; the browser sees only the id.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = ref_id();
        tracing::error!(ref_id = %id, cause = ?cause.to_string(), "internal error");
        AppError::Internal(id)
    }
}

/// A database error: an outage (connection, pool, I/O) is [`AppError::Database`], anything
/// else a fault of ours ([`AppError::Internal`]); either way logged, never sent.
#[cfg(feature = "ssr")]
impl From<portcullis::ssr::db::SqlxError> for AppError {
    fn from(e: portcullis::ssr::db::SqlxError) -> Self {
        use portcullis::ssr::db::SqlxError as E;
        match e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                let id = ref_id();
                tracing::error!(ref_id = %id, error = ?e, "database unavailable");
                AppError::Database(id)
            }
            other => AppError::internal(other),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<portcullis::ssr::session::SessionError> for AppError {
    fn from(e: portcullis::ssr::session::SessionError) -> Self {
        AppError::internal(e)
    }
}

/// The one JSON shape of every `/api/v1` error: `{"error": <code>, "message": <words>}`,
/// plus `"fields"` for validation errors.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        if let AppError::Validation(fields) = &self {
            body["fields"] = serde_json::to_value(fields).unwrap_or_default();
        }
        let mut res = (status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        res
    }
}

#[cfg(feature = "ssr")]
impl From<portcullis::ssr::identities::UnlinkError> for AppError {
    fn from(e: portcullis::ssr::identities::UnlinkError) -> Self {
        use portcullis::ssr::identities::UnlinkError;
        match e {
            UnlinkError::NotLinked => AppError::NotFound(e.to_string()),
            UnlinkError::LastWay => AppError::Conflict(e.to_string()),
            UnlinkError::Db(e) => AppError::internal(e),
        }
    }
}
