//! The one error type every server function and route returns, and the one boundary where
//! errors become answers.
//!
//! A `?` on a database or HTTP error must not put its raw message in the browser, so every
//! conversion into these variants is here (the `From` impls below); [`AppError::internal`]
//! logs the cause with a reference id and hands the browser only the id.
//!
//! How an error is answered ([`AppError::answer`]): the API (`/api/v1`, the hydrated app's
//! server-function calls) gets one JSON shape; a plain form post gets an HTML page
//! ([`AppError::page`]); a server function posted as a plain form goes back to the form's
//! page with the error as a one-time flash (`auth::respond`). Deliberate exceptions, each
//! answering someone who is not our page: back-channel logout answers the provider with the
//! OAuth error body its specification asks for (`server/src/logout.rs`); forward auth
//! answers the reverse proxy with statuses and small pages it shows for the application
//! (`server/src/forward_auth.rs`).

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
    /// Signed in with one factor where two are required (the step-up at `/second-factor`).
    #[error("This needs a second factor: give it, then try again.")]
    SecondFactorRequired,
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
            AppError::Forbidden | AppError::Denied(_) | AppError::SecondFactorRequired => 403,
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
            AppError::SecondFactorRequired => "second_factor_required",
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
mod ssr;
