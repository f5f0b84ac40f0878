//! The server side of [`AppError`]: every conversion into it (causes are logged with a
//! reference id, never sent), and how it is answered (see the parent module).

use super::AppError;
use portcullis::field::FieldError;
use portcullis::ssr::apps::AppsError;
use portcullis::ssr::op::clients::ClientsError;
use portcullis::ssr::providers::ProviderError;

fn ref_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

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

impl From<portcullis::ssr::session::SessionError> for AppError {
    fn from(e: portcullis::ssr::session::SessionError) -> Self {
        AppError::internal(e)
    }
}

impl From<portcullis::ssr::totp::TotpError> for AppError {
    fn from(e: portcullis::ssr::totp::TotpError) -> Self {
        match e {
            portcullis::ssr::totp::TotpError::Db(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

/// A passkey ceremony that did not pass: one answer for every refused sign-in (the cause is
/// logged where it happened), so the flow tells no one which accounts or passkeys exist.
impl From<portcullis::ssr::passkeys::PasskeyError> for AppError {
    fn from(e: portcullis::ssr::passkeys::PasskeyError) -> Self {
        use portcullis::ssr::passkeys::PasskeyError as E;
        match e {
            E::Db(e) => e.into(),
            E::Challenge => AppError::Denied(
                "This passkey request has expired or was already used (it waits five minutes, in the browser that began it). Try again.".into(),
            ),
            E::Refused { .. } => AppError::Denied(
                "That passkey was not accepted. Try again, or sign in another way.".into(),
            ),
            E::Duplicate => AppError::Conflict(
                "This passkey is registered already: your authenticator holds one for this account.".into(),
            ),
            E::TooMany => AppError::Conflict(format!("{e}: remove one you no longer use first.")),
            E::Malformed => AppError::internal(e),
            E::Link => AppError::Denied(
                "This enrolment link has expired or was used already (it works once, for 24 hours). Ask your administrator for a new one.".into(),
            ),
            E::Busy => AppError::Unavailable(
                "Too many passkey sign-ins are in progress here. Try again in a few minutes.".into(),
            ),
        }
    }
}

impl From<portcullis::ssr::passkeys::RemoveError> for AppError {
    fn from(e: portcullis::ssr::passkeys::RemoveError) -> Self {
        use portcullis::ssr::passkeys::RemoveError;
        match e {
            RemoveError::NotFound => AppError::NotFound(e.to_string()),
            RemoveError::LastWay => AppError::Conflict(e.to_string()),
            RemoveError::Db(e) => e.into(),
        }
    }
}

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

/// A verified identity that may not sign in or link: the reason in words.
impl From<portcullis::ssr::identities::IdentityError> for AppError {
    fn from(e: portcullis::ssr::identities::IdentityError) -> Self {
        match e {
            portcullis::ssr::identities::IdentityError::Db(e) => e.into(),
            other => AppError::Denied(other.to_string()),
        }
    }
}

/// A sign-in that failed: its words for the person signing in (the detail is for the log).
impl From<portcullis::ssr::oidc::flow::FlowError> for AppError {
    fn from(e: portcullis::ssr::oidc::flow::FlowError) -> Self {
        AppError::Denied(e.to_string())
    }
}

impl From<portcullis::ssr::users::CreateUserError> for AppError {
    fn from(e: portcullis::ssr::users::CreateUserError) -> Self {
        use portcullis::ssr::users::CreateUserError;
        match e {
            CreateUserError::SetupDone => AppError::Conflict(
                "Setup is already complete. Sign in with an existing account.".into(),
            ),
            CreateUserError::Taken(field) => {
                AppError::Conflict(format!("That {field} is already taken."))
            }
            other => AppError::internal(other),
        }
    }
}

impl From<ProviderError> for AppError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::NotFound(slug) => not_found("provider", &slug),
            ProviderError::SlugTaken(slug) => field(
                "slug",
                format!("Another provider already uses the slug \"{slug}\": choose another."),
            ),
            ProviderError::SlugImmutable => field(
                "slug",
                "The slug cannot change after creation (linked accounts refer to it). Delete the provider and add it again to use another slug.",
            ),
            ProviderError::SecretRequired => field(
                "client_secret",
                "Enter the client secret the provider issued for this client.",
            ),
            ProviderError::SecretAgain => {
                field("client_secret", portcullis::provider::SECRET_AGAIN)
            }
            ProviderError::BadOrder => list_changed("provider"),
            ProviderError::Lockout(l) => AppError::Conflict(l.to_string()),
            ProviderError::NotEnabled(slug) => field(
                "auto_redirect",
                format!(
                    "\"{slug}\" is not an enabled provider: enable it before sending the sign-in page straight to it."
                ),
            ),
            ProviderError::Db(e) => e.into(),
        }
    }
}

impl From<AppsError> for AppError {
    fn from(e: AppsError) -> Self {
        match e {
            AppsError::Db(e) => e.into(),
            AppsError::NotFound(id) => not_found("application", &id),
            AppsError::NameTaken(name) => field(
                "name",
                format!("Another application is already called \"{name}\": choose another name."),
            ),
            AppsError::UrlTaken(url, other) => field(
                "urls",
                format!(
                    "{other} lists {url} already (the gate compares paths without case): one application per URL. Remove it here or there."
                ),
            ),
            AppsError::BadOrder => list_changed("application"),
        }
    }
}

impl From<portcullis::ssr::tokens::TokenError> for AppError {
    fn from(e: portcullis::ssr::tokens::TokenError) -> Self {
        use portcullis::ssr::tokens::TokenError;
        match e {
            TokenError::Db(e) => e.into(),
            TokenError::TooMany => AppError::Conflict(e.to_string()),
            // The same whether unknown or someone else's: an id cannot be probed.
            TokenError::NotFound(_) => AppError::NotFound("That token is already revoked.".into()),
        }
    }
}

impl From<ClientsError> for AppError {
    fn from(e: ClientsError) -> Self {
        match e {
            ClientsError::Db(e) => e.into(),
            e @ (ClientsError::ClientIdTaken(_) | ClientsError::ClientIdFrozen(_)) => {
                field("client_id", format!("{}.", capitalised(&e.to_string())))
            }
            e @ (ClientsError::NotAClient | ClientsError::Public) => {
                AppError::Conflict(format!("{}.", capitalised(&e.to_string())))
            }
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// One field of a form in error.
fn field(name: &str, message: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new(name, message)])
}

fn not_found(what: &str, name: &str) -> AppError {
    AppError::NotFound(format!("There is no {what} \"{name}\"."))
}

/// A reorder that crossed another change.
fn list_changed(what: &str) -> AppError {
    AppError::Conflict(format!(
        "The {what} list changed meanwhile; reload and try again."
    ))
}

/// The one JSON shape of every API error: `{"error": <code>, "message": <words>}`, plus
/// `"fields"` for validation errors.
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

impl AppError {
    /// The answer to a request that failed: a page for a plain form post
    /// ([`crate::html::is_form_post`]), the API's JSON otherwise.
    pub fn answer(self, form_post: bool) -> axum::response::Response {
        use axum::response::IntoResponse;
        if form_post {
            self.page()
        } else {
            self.into_response()
        }
    }

    /// As a plain form post gets it: a page with the status, a heading and the words; the
    /// login page when nobody is signed in.
    pub fn page(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        if self == AppError::Unauthorized {
            return axum::response::Redirect::to("/login").into_response();
        }
        let status = http::StatusCode::from_u16(self.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let title = match self {
            AppError::Validation(_) => "Please check the form",
            AppError::InvalidCredentials | AppError::Unauthorized => "Sign in to continue",
            AppError::RateLimited(_) => "Too many attempts",
            AppError::Forbidden | AppError::Denied(_) => "Not allowed",
            AppError::SecondFactorRequired => "Second factor required",
            AppError::NotFound(_) => "Not found",
            AppError::Conflict(_) | AppError::NeedsConfirmation(_) => "Not done",
            AppError::Internal(_) | AppError::Transport(_) => "Something went wrong",
            AppError::Database(_) | AppError::Unavailable(_) => "Try again in a moment",
        };
        crate::html::message_page(status, title, &self.to_string())
    }
}
