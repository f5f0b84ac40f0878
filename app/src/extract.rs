//! Who is calling, as axum extractors: for the server's own routes, and for server functions
//! through `leptos_axum::extract_with_state`. A refusal is the answer the request gets
//! ([`AppError::answer`]): a plain form post a page, anything else the API's JSON.

use crate::auth::signed_in_user;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::Response;
use http::HeaderValue;
use http::request::Parts;
use portcullis::ssr::client_ip::ClientKey;
use portcullis::ssr::oidc::pending;
use portcullis::ssr::session::AuthSession;
use portcullis::ssr::users::UserRow;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite, time};

/// A signed-in user (read fresh, so a deleted user or a revoked admin flag counts at once)
/// and their session. Refused with [`AppError::Unauthorized`].
pub struct SignedIn {
    pub session: AuthSession,
    pub user: UserRow,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        signed_in(parts, state)
            .await
            .map_err(|e| e.answer(crate::html::is_form_post(parts)))
    }
}

/// The request's session, with the browser's User-Agent (recorded if it signs in).
impl FromRequestParts<AppState> for AuthSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| AppError::internal(why))?;
        let agent = parts.headers.get(http::header::USER_AGENT);
        let agent = agent.and_then(|v| v.to_str().ok());
        Ok(AuthSession::from(session).with_user_agent(agent))
    }
}

async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<SignedIn, AppError> {
    let session = AuthSession::from_request_parts(parts, state).await?;
    let user = signed_in_user(&session, &state.db).await?;
    Ok(SignedIn { session, user })
}

/// A signed-in administrator ([`crate::auth::administering`]: two factors where the policy
/// asks administrators for them). Refused with [`AppError::Unauthorized`] or
/// [`AppError::Forbidden`].
pub struct Admin(pub SignedIn);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let admin = async {
            let SignedIn { session, user } = signed_in(parts, state).await?;
            let user = crate::auth::administering(state, &session, user).await?;
            Ok(Admin(SignedIn { session, user }))
        };
        admin
            .await
            .map_err(|e: AppError| e.answer(crate::html::is_form_post(parts)))
    }
}

/// The client's address, as every limit counts it: the connection's peer, or behind
/// `--trusted-proxies` the address they name in `X-Forwarded-For`
/// ([`portcullis::ssr::client_ip::resolve`]). `None` when the server runs without
/// connection info.
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client of a request from `peer` with `headers`: for a handler that reads it only
    /// sometimes (forward auth, on a refusal).
    pub fn of(peer: IpAddr, headers: &http::HeaderMap, state: &AppState) -> ClientAddr {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        ClientAddr(Some(portcullis::ssr::client_ip::resolve(
            peer,
            &forwarded,
            &state.trusted_proxies,
        )))
    }

    /// What the limits count: the address, IPv6 by /64.
    pub fn key(&self) -> Option<ClientKey> {
        self.0.map(ClientKey::from)
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientAddr(None));
        };
        Ok(ClientAddr::of(peer.ip(), &parts.headers, state))
    }
}

/// The browser's binding cookie ([`pending::binding_cookie`]: it ties a sign-in attempt to
/// the browser that started it), as sent; set and cleared only through [`Binding::set`] and
/// [`Binding::clear`].
pub struct Binding(pub Option<String>);

impl FromRequestParts<AppState> for Binding {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Binding(cookie(&parts.headers, spec(state).name)))
    }
}

impl Binding {
    /// `Set-Cookie` for `value`, for the 10 minutes an attempt lives.
    pub fn set(state: &AppState, value: &str) -> Option<HeaderValue> {
        set_cookie(state, value, time::Duration::minutes(10))
    }

    /// `Set-Cookie` that removes it (sign-out).
    pub fn clear(state: &AppState) -> Option<HeaderValue> {
        set_cookie(state, "", time::Duration::ZERO)
    }
}

fn spec(state: &AppState) -> pending::BindingCookie {
    pending::binding_cookie(state.public_url.starts_with("https://"))
}

fn set_cookie(state: &AppState, value: &str, max_age: time::Duration) -> Option<HeaderValue> {
    let spec = spec(state);
    let cookie = Cookie::build((spec.name, value))
        .path(spec.path)
        .http_only(true)
        .secure(spec.secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The value of the request's cookie `name`.
pub fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}
