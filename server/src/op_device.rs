//! The device authorization grant's routes (RFC 8628; the rules: `portcullis::ssr::op::device`,
//! `docs/openid-provider.md` §3.9): `POST /oauth2/device_authorization` (the device asks;
//! the client authenticates as at the token endpoint), `/device` (a server-rendered page with
//! plain forms: the person types the user code, then approves or denies on
//! `/device/answer/<code>`). The token endpoint (`crate::op`) answers the device's polls.
//! Who may approve is the application's "who may open it", with its second-factor step-up.

use crate::op::{
    Answer, ClientRequest, access, invalid_request, no_store, oauth_error, trouble, trouble_json,
};
use app::extract::ClientAddr;
use app::html::{Choice, Field, choice_page, field_page, message_page};
use app::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::StatusCode;
use openidconnect::core::CoreErrorResponseType;
use portcullis::ssr::limiter::ClientKey;
use portcullis::ssr::op::authorize::{self, Params};
use portcullis::ssr::op::clients::{self, OpClient};
use portcullis::ssr::op::device::{
    self, DEVICE_ANSWER_PATH, DEVICE_PATH, Decision, Waiting, display, normalise,
};
use portcullis::ssr::op::grants::SignedIn;
use portcullis::ssr::op::metadata::DEVICE_AUTHORIZATION_PATH;
use portcullis::ssr::op::{id_token, prompt};
use portcullis::ssr::session::AuthSession;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(DEVICE_AUTHORIZATION_PATH, post(device_authorization))
        .route(DEVICE_PATH, get(code_form).post(code_entered))
        .route(&format!("{DEVICE_ANSWER_PATH}/{{code}}"), post(answered))
}

/// `POST /oauth2/device_authorization` (RFC 8628 §3.1): for a client with the device flow
/// on; the scope is granted as at the authorization endpoint.
async fn device_authorization(
    State(state): State<AppState>,
    addr: ClientAddr,
    ClientRequest { client, params }: ClientRequest,
) -> Response {
    if !client.view.settings.device_flow {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            CoreErrorResponseType::UnauthorizedClient,
            "this client may not use the device flow: turn it on for the application \
             (portcullis app update <app> --device-flow true)",
        );
    }
    let Ok(asked) = params.one("scope") else {
        return invalid_request("scope is repeated");
    };
    let scope = match authorize::granted_scope(asked, &client) {
        Ok(s) => s,
        Err(e) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                CoreErrorResponseType::InvalidScope,
                &e.description,
            );
        }
    };
    if let Err(wait) = state
        .limiter
        .device_start(addr.key(), &client.view.client_id)
    {
        tracing::warn!(client = ?client.view.client_id, address = ?addr.0, "device authorization refused: this address asked for too many");
        return try_later(wait, "too many device codes asked for from this address");
    }
    match device::start(&state.db, &client, &scope, &state.public_url).await {
        Ok(Some(body)) => (no_store(), axum::Json(body)).into_response(),
        Ok(None) => {
            tracing::warn!(client = ?client.view.client_id, "device authorization refused: too many codes waiting");
            try_later(
                60,
                "too many codes of this client are waiting to be entered",
            )
        }
        Err(e) => trouble_json(e),
    }
}

/// 429 with `Retry-After: wait` and `temporarily_unavailable` (RFC 8628 names no error for
/// a device authorization that must wait; RFC 6585 §4 gives the status).
fn try_later(wait: u64, why: &str) -> Response {
    let mut res = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        CoreErrorResponseType::Extension("temporarily_unavailable".into()),
        &format!("{why}: try again in {wait} seconds"),
    );
    res.headers_mut()
        .insert(http::header::RETRY_AFTER, http::HeaderValue::from(wait));
    res
}

/// `/device` with `code` (as typed) in its query, for the way back from a sign-in.
fn device_path(code: &str) -> String {
    match code.is_empty() {
        true => DEVICE_PATH.to_owned(),
        false => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("user_code", code)
                .finish();
            format!("{DEVICE_PATH}?{query}")
        }
    }
}

/// To `page` (the login or the second-factor page), which comes back to `/device` with the
/// code filled in.
fn via(page: &str, code: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &device_path(code))
        .finish();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

const CODE_TITLE: &str = "Sign in on a device";

/// The code entry form, with `code` in the field and `error` by it.
fn form(status: StatusCode, code: &str, error: Option<&str>) -> Response {
    field_page(
        status,
        Field {
            title: CODE_TITLE,
            message: "Enter the code your TV, console or command-line tool shows.",
            action: (DEVICE_PATH, "Continue"),
            input: ("Code", "user_code", code),
            error,
        },
    )
}

/// The signed-in user and this browser session's marker; `None` when signed out.
async fn signed_in(session: &AuthSession) -> Result<Option<(String, String)>, Response> {
    let user = session.user_id().await.map_err(trouble)?;
    let marker = authorize::session_marker(session.id().as_deref());
    Ok(user.zip(marker))
}

/// `GET /device` (`?user_code=` from `verification_uri_complete`): the form, filled in;
/// a signed-out person signs in first and comes back.
async fn code_form(session: AuthSession, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    let code = params.one("user_code").ok().flatten().unwrap_or("");
    match signed_in(&session).await {
        Ok(Some(_)) => form(StatusCode::OK, code, None),
        Ok(None) => via("/login", code),
        Err(res) => res,
    }
}

#[derive(serde::Deserialize)]
struct Entered {
    #[serde(default)]
    user_code: String,
}

const NOT_VALID: &str = "This code is not valid or has expired. Check the code your device \
                         shows, or start again on the device.";

/// `POST /device`: the typed code (wrong ones are limited per client and per session; none
/// says more than "not valid or expired"); then, for someone the application lets in (with
/// its second factor), "Sign in to <App> on your device?".
async fn code_entered(
    State(state): State<AppState>,
    session: AuthSession,
    ClientAddr(addr): ClientAddr,
    Form(entered): Form<Entered>,
) -> Response {
    let typed = entered.user_code.trim();
    let (user, marker) = match signed_in(&session).await {
        Ok(Some(x)) => x,
        Ok(None) => return via("/login", typed),
        Err(res) => return res,
    };
    let client_key = addr.map(ClientKey::from);
    if let Err(wait) = state.limiter.user_code_check(client_key, &marker) {
        let why =
            format!("Too many codes that are not valid were entered. Try again in {wait} seconds.");
        return form(StatusCode::TOO_MANY_REQUESTS, typed, Some(&why));
    }
    let found = match normalise(typed) {
        Some(code) => match device::show(&state.db, &code, &marker).await {
            Ok(found) => found.map(|w| (code, w)),
            Err(e) => return trouble(e),
        },
        None => None,
    };
    let Some((code, waiting)) = found else {
        state.limiter.user_code_failed(client_key, &marker);
        return form(StatusCode::BAD_REQUEST, typed, Some(NOT_VALID));
    };
    let (client, name) = match application(&state, &waiting).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    if let Some(res) = admitted(&state, &session, &user, &client, &code, &marker).await {
        return res;
    }
    let items = prompt::scope_words(&waiting.scope);
    let title = format!("Sign in to {name} on your device?");
    let message = format!(
        "Only if your device shows the code {}. {name} will know who you are{}",
        display(&code),
        match items.is_empty() {
            true => " (an identifier of your account), nothing more.",
            false => ", and receive:",
        }
    );
    let action = format!("{DEVICE_ANSWER_PATH}/{code}");
    choice_page(Choice {
        title: &title,
        message: &message,
        items: &items,
        action: &action,
        choices: &[("approve", "Approve"), ("deny", "Deny")],
    })
}

/// The waiting code's client and application name.
async fn application(state: &AppState, waiting: &Waiting) -> Result<(OpClient, String), Response> {
    let client = clients::get(&state.db, &waiting.app_id).await;
    let app = portcullis::ssr::apps::get(&state.db, &waiting.app_id).await;
    match (client, app) {
        (Ok(Some(c)), Ok(Some(a))) => Ok((c, a.settings.name)),
        (Ok(_), Ok(_)) => Err(form(StatusCode::BAD_REQUEST, "", Some(NOT_VALID))),
        (Err(e), _) | (_, Err(e)) => Err(trouble(e)),
    }
}

/// `None` when `user` may answer for `client`'s application now; otherwise the answer: the
/// code denied (the device stops polling) for someone it does not let in, or the
/// second-factor step-up, back to `/device` after.
async fn admitted(
    state: &AppState,
    session: &AuthSession,
    user: &str,
    client: &OpClient,
    code: &str,
    marker: &str,
) -> Option<Response> {
    let a = match access(state, user, client).await {
        Ok(a) => a,
        Err(res) => return Some(res),
    };
    if !a.allowed {
        let denied = device::decide(&state.db, code, &client.app_id, marker, &Decision::Deny).await;
        return Some(match denied {
            Ok(_) => message_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your account may not open this application, so it cannot sign in with it. \
                 The device is told so.",
            ),
            Err(e) => trouble(e),
        });
    }
    if a.two_required {
        match session.data().await {
            Ok(data) if data.two_factors() => {}
            Ok(_) => return Some(via("/second-factor", &display(code))),
            Err(e) => return Some(trouble(e)),
        }
    }
    None
}

/// `POST /device/answer/<code>`: Approve or Deny, from the browser session the question was
/// shown in (the cross-site check has refused posts from elsewhere). Approval records who
/// signed in and how (the session's `sid`, `auth_time`, `amr`) for the device's tokens.
async fn answered(
    session: AuthSession,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(answer): Form<Answer>,
) -> Response {
    let (user, marker) = match signed_in(&session).await {
        Ok(Some(x)) => x,
        Ok(None) => return via("/login", ""),
        Err(res) => return res,
    };
    let waiting = match normalise(&code) {
        Some(code) => match device::shown(&state.db, &code, &marker).await {
            Ok(w) => w.map(|w| (code, w)),
            Err(e) => return trouble(e),
        },
        None => None,
    };
    let Some((code, waiting)) = waiting else {
        return form(StatusCode::BAD_REQUEST, "", Some(NOT_VALID));
    };
    let (client, name) = match application(&state, &waiting).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (decision, title, message) = match answer.choice.as_str() {
        "approve" => {
            if let Some(res) = admitted(&state, &session, &user, &client, &code, &marker).await {
                return res;
            }
            let (data, sid) = match (session.data().await, session.op_sid().await) {
                (Ok(d), Ok(s)) => (d, s),
                (Err(e), _) | (_, Err(e)) => return trouble(e),
            };
            let who = SignedIn {
                user_id: user,
                sid,
                auth_time: data.auth_time(),
                amr: id_token::amr_of(&data),
            };
            (
                Decision::Approve(who),
                "Device signed in",
                format!("{name} on your device is signed in. You can close this page."),
            )
        }
        "deny" => (
            Decision::Deny,
            "Sign-in refused",
            format!("{name} on your device was not signed in. You can close this page."),
        ),
        _ => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Unknown answer",
                "Choose one of the buttons.",
            );
        }
    };
    match device::decide(&state.db, &code, &client.app_id, &marker, &decision).await {
        Ok(true) => message_page(StatusCode::OK, title, &message),
        Ok(false) => form(StatusCode::BAD_REQUEST, "", Some(NOT_VALID)),
        Err(e) => trouble(e),
    }
}
