//! The passkey ceremonies' JSON routes, called by `public/pkg/passkey.js` (WebAuthn needs
//! JavaScript: `navigator.credentials`). Each ceremony is a start (the options for the
//! browser, and the ceremony's id) and a finish (the browser's answer); the rules are in
//! `portcullis::ssr::passkeys`. Handlers answer `Result<Response, AppError>`: errors are
//! `AppError`'s JSON.
//!
//! - `POST /api/v1/passkeys/register/start` and `.../register/finish` (signed in): add a
//!   passkey to the account, under a name (Profile → Security).
//! - `POST /api/v1/passkeys/sign-in/start` and `.../sign-in/finish`: sign in with a
//!   discoverable passkey (the login page's button and the username field's autofill). Starts
//!   are limited per client as sign-in starts are; every refusal reads the same.
//! - `POST /api/v1/passkeys/enrol/start` and `.../enrol/finish`: the same registration
//!   through an administrator's one-time enrolment link (`token`, 24 hours, used up by the
//!   finish), which then signs the browser in with the new passkey.
//! - `POST /api/v1/passkeys/setup`: first-run setup's other way: the administrator without a
//!   password, and the enrolment link for their first passkey, which the browser opens next.

use app::auth::sign_in;
use app::error::AppError;
use app::extract::{Binding, ClientAddr, SignedIn};
use app::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::HeaderValue;
use http::request::Parts;
use portcullis::ssr::audit::Actor;
use portcullis::ssr::passkeys::{self, PasskeyError, Passkeys};
use portcullis::ssr::passkeys::{PublicKeyCredential, RegisterPublicKeyCredential};
use portcullis::ssr::session::{AuthSession, SignedInVia};
use portcullis::ssr::users::UserRow;
use serde::Deserialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;

pub const REGISTER_START: &str = "/api/v1/passkeys/register/start";
pub const REGISTER_FINISH: &str = "/api/v1/passkeys/register/finish";
pub const SIGN_IN_START: &str = "/api/v1/passkeys/sign-in/start";
pub const SIGN_IN_FINISH: &str = "/api/v1/passkeys/sign-in/finish";
pub const ENROL_START: &str = "/api/v1/passkeys/enrol/start";
pub const ENROL_FINISH: &str = "/api/v1/passkeys/enrol/finish";
pub const SETUP: &str = "/api/v1/passkeys/setup";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(REGISTER_START, post(register_start))
        .route(REGISTER_FINISH, post(register_finish))
        .route(SIGN_IN_START, post(sign_in_start))
        .route(SIGN_IN_FINISH, post(sign_in_finish))
        .route(ENROL_START, post(enrol_start))
        .route(ENROL_FINISH, post(enrol_finish))
        .route(SETUP, post(setup))
}

fn relying_party(state: &AppState) -> Result<&Arc<Passkeys>, AppError> {
    state.passkeys.as_ref().ok_or_else(|| {
        AppError::Unavailable(
            "Passkeys need a host name in this server's public URL (--public-url), not an IP address."
                .into(),
        )
    })
}

/// What every ceremony reads besides its form: the relying party (503 while the public URL
/// has no host name), this browser's binding cookie and the client's address.
struct Ceremony {
    state: AppState,
    rp: Arc<Passkeys>,
    binding: Option<String>,
    ip: Option<IpAddr>,
}

impl FromRequestParts<AppState> for Ceremony {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let rp = relying_party(state)?.clone();
        let Ok(Binding(binding)) = Binding::from_request_parts(parts, state).await;
        let Ok(ClientAddr(ip)) = ClientAddr::from_request_parts(parts, state).await;
        Ok(Ceremony {
            state: state.clone(),
            rp,
            binding,
            ip,
        })
    }
}

/// The browser's binding cookie, made now when it has none (then also set on the answer).
fn binding_or_new(state: &AppState, binding: Option<String>) -> (String, Option<HeaderValue>) {
    match binding {
        Some(b) => (b, None),
        None => {
            let fresh = portcullis::ssr::oidc::pending::new_binding();
            let set = Binding::set(state, &fresh);
            (fresh, set)
        }
    }
}

/// A start's answer: the ceremony's id and the options for the browser, with the binding
/// cookie when it was made now.
fn started(
    challenge: String,
    options: impl serde::Serialize,
    cookie: Option<HeaderValue>,
) -> Response {
    let mut res = Json(json!({ "challenge": challenge, "options": options })).into_response();
    if let Some(cookie) = cookie {
        res.headers_mut().append(http::header::SET_COOKIE, cookie);
    }
    res
}

/// A finish's answer: where the browser goes next.
fn go_to(target: &str) -> Response {
    Json(json!({ "redirect": target })).into_response()
}

#[derive(Deserialize)]
struct RegisterStart {
    name: String,
}

async fn register_start(
    State(state): State<AppState>,
    SignedIn { user, session }: SignedIn,
    Binding(binding): Binding,
    Json(form): Json<RegisterStart>,
) -> Result<Response, AppError> {
    app::auth::may_change_factors(&state, &session, &user).await?;
    begin_registration(&state, binding, &user, &form.name).await
}

/// A registration's start for `user`, in this browser, of a passkey to be named `name`.
async fn begin_registration(
    state: &AppState,
    binding: Option<String>,
    user: &UserRow,
    name: &str,
) -> Result<Response, AppError> {
    let rp = relying_party(state)?;
    checked_name(name)?;
    let (binding, cookie) = binding_or_new(state, binding);
    let (id, options) = passkeys::start_registration(
        rp,
        &state.db,
        &binding,
        &user.id,
        &user.username,
        &user.display_name,
    )
    .await?;
    Ok(started(id, options, cookie))
}

fn checked_name(name: &str) -> Result<String, AppError> {
    portcullis::passkeys::check_passkey_name(name).map_err(|e| AppError::Validation(vec![e]))
}

#[derive(Deserialize)]
struct EnrolStart {
    token: String,
    name: String,
}

/// An enrolment link's registration: no one is signed in; the link names the account.
async fn enrol_start(
    State(state): State<AppState>,
    Binding(binding): Binding,
    Json(form): Json<EnrolStart>,
) -> Result<Response, AppError> {
    let user = enrolment_account(&state, &form.token).await?;
    begin_registration(&state, binding, &user, &form.name).await
}

/// The account whose enrolment link `token` is, while the link works.
async fn enrolment_account(state: &AppState, token: &str) -> Result<UserRow, AppError> {
    let user_id = passkeys::enrolment_user(&state.db, token).await?;
    let user = match user_id {
        Some(id) => portcullis::ssr::users::get(&state.db, &id).await?,
        None => None,
    };
    user.ok_or_else(|| PasskeyError::Link.into())
}

/// A registration's finish as the browser posts it (through an enrolment link, with the
/// link's `token` beside it).
#[derive(Deserialize)]
struct RegisterFinish {
    challenge: String,
    name: String,
    credential: RegisterPublicKeyCredential,
}

impl RegisterFinish {
    /// The answer for the ceremony, from this browser (`binding`), its name checked.
    fn answer<'a>(&'a self, binding: Option<&'a str>) -> Result<passkeys::Answer<'a>, AppError> {
        Ok(passkeys::Answer {
            binding,
            challenge: &self.challenge,
            name: checked_name(&self.name)?,
            credential: &self.credential,
        })
    }
}

#[derive(Deserialize)]
struct EnrolFinish {
    token: String,
    #[serde(flatten)]
    finish: RegisterFinish,
}

/// The link is used up, the passkey stored, and this browser signed in with it.
async fn enrol_finish(
    c: Ceremony,
    session: AuthSession,
    Json(form): Json<EnrolFinish>,
) -> Result<Response, AppError> {
    let answer = form.finish.answer(c.binding.as_deref())?;
    let (user_id, added) =
        passkeys::finish_enrolment(&c.rp, &c.state.db, &form.token, answer, c.ip)
            .await
            .inspect_err(|e| tracing::info!(error = %e, "passkey enrolment refused"))?;
    sign_in(
        &session,
        &user_id,
        SignedInVia::Passkey {
            synced: added.backed_up,
        },
    )
    .await?;
    added_notice(&session, &added.name).await?;
    tracing::info!(user = ?user_id, passkey = ?added.name, "enrolled a passkey through a link");
    Ok(go_to("/"))
}

/// The notice after a passkey was added (also its log line's subject).
async fn added_notice(session: &AuthSession, name: &str) -> Result<(), AppError> {
    let notice = format!("Passkey \u{201c}{name}\u{201d} added: you can sign in with it.");
    Ok(session.set_notice(&notice).await?)
}

async fn register_finish(
    SignedIn { user, session }: SignedIn,
    c: Ceremony,
    Json(form): Json<RegisterFinish>,
) -> Result<Response, AppError> {
    // Decided again at the finish: the ceremony may have begun under other facts (the
    // session's factors, the requirement) up to its lifetime ago.
    app::auth::may_change_factors(&c.state, &session, &user).await?;
    let answer = form.answer(c.binding.as_deref())?;
    let by = Actor::user(&user.id, &user.username, c.ip);
    let added = passkeys::finish_registration(&c.rp, &c.state.db, &user.id, answer, &by)
        .await
        .inspect_err(
            |e| tracing::info!(user = ?user.username, error = %e, "passkey not registered"),
        )?;
    added_notice(&session, &added.name).await?;
    tracing::info!(user = ?user.username, passkey = ?added.name, "added a passkey");
    Ok(go_to("/profile/settings/security"))
}

async fn sign_in_start(c: Ceremony) -> Result<Response, AppError> {
    c.state
        .limiter
        .start(c.ip.map(portcullis::ssr::limiter::ClientKey::from))
        .map_err(AppError::RateLimited)?;
    let (binding, cookie) = binding_or_new(&c.state, c.binding);
    let (id, options) = passkeys::start_sign_in(&c.rp, &c.state.db, &binding).await?;
    Ok(started(id, options, cookie))
}

#[derive(Deserialize)]
struct SignInFinish {
    challenge: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    next: Option<String>,
}

async fn sign_in_finish(
    c: Ceremony,
    session: AuthSession,
    Json(form): Json<SignInFinish>,
) -> Result<Response, AppError> {
    let who = passkeys::finish_sign_in(
        &c.rp,
        &c.state.db,
        c.binding.as_deref(),
        &form.challenge,
        &form.credential,
    )
    .await
    .inspect_err(|e| tracing::info!(client = ?c.ip, error = %e, "passkey sign-in refused"))?;
    let user = portcullis::ssr::users::get(&c.state.db, &who.user_id)
        .await?
        .ok_or_else(|| {
            AppError::from(PasskeyError::Refused {
                why: "account gone".into(),
            })
        })?;
    sign_in(
        &session,
        &user.id,
        SignedInVia::Passkey { synced: who.synced },
    )
    .await?;
    let by = Actor::user(&user.id, &user.username, c.ip);
    app::auth::audit_sign_in(&c.state.db, &by, &[("method", "passkey")]).await;
    tracing::info!(user = ?user.username, synced = who.synced, "signed in with a passkey");
    let target = app::auth::sign_in_target(&c.state, form.next.as_deref()).await;
    Ok(go_to(&target))
}

#[derive(Deserialize)]
struct SetupForm {
    username: String,
    email: String,
    #[serde(default)]
    display_name: String,
}

/// First-run setup with a passkey: while setup is open, the administrator is made without a
/// password (once, as the password setup: `users::create` closes setup in the same
/// transaction), and the browser goes on to the account's enrolment link to add the passkey
/// and be signed in. A browser that leaves before adding it gets in through
/// `portcullis user passkey-link`.
async fn setup(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    Json(SetupForm {
        username,
        email,
        display_name,
    }): Json<SetupForm>,
) -> Result<Response, AppError> {
    relying_party(&state)?;
    let account = portcullis::account::NewAccount {
        username,
        email,
        display_name,
        password: String::new(),
    }
    .validate_passkey_only()
    .map_err(AppError::Validation)?;
    let by = Actor::unknown(&account.username, ip);
    let user = portcullis::ssr::users::create(&state.db, &account, true, true, &by).await?;
    state.login_page.invalidate();
    let token = passkeys::new_enrolment(&state.db, &user.id, &by).await?;
    tracing::info!(user = ?user.username, "first-run setup created the administrator, passkey to follow");
    Ok(go_to(&format!(
        "{}?token={token}",
        passkeys::ENROLMENT_PATH
    )))
}
