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
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` server-side under a fresh reference id; the browser sees only the id.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        tracing::error!(ref_id = %id, "internal error: {cause}");
        AppError::Internal(id)
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
