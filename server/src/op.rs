//! Portcullis as an OpenID Provider: its routes (`docs/openid-provider.md` §3.3). Slice 1:
//! the discovery document (also at RFC 8414's name) and the JWKS. Slice 3: the authorization
//! code flow: `/oauth2/authorize` (GET, and POST answered 303 to the GET),
//! `/oauth2/continue/{id}` (after sign-in), `/oauth2/token` (`authorization_code` with PKCE),
//! `/oauth2/userinfo`. Slice 4: `prompt`, `max_age`, `id_token_hint` and `login_hint`
//! (the rule: `op::prompt::decide`), the account choice and the consent page
//! (both post to `/oauth2/answer/{id}`). Slice 5: `refresh_token` at the token endpoint, `/oauth2/revoke`
//! (RFC 7009) and `/oauth2/introspect` (RFC 7662). Slice 7: the device code grant at the token
//! endpoint (its other routes: `crate::op_device`). The rules live in `portcullis::ssr::op`; these handlers read the
//! request and write the answer. Errors are OAuth's (a JSON body, or a redirect to the
//! client's registered redirect URI), not `AppError`'s: a relying party reads them.

use app::extract::ClientAddr;
use app::html::{
    Choice, Onward, Question, choice_page, continue_page, message_page, question_page,
};
use app::state::AppState;
use axum::Router;
use axum::extract::{
    DefaultBodyLimit, Form, FromRequest, FromRequestParts, Path, RawQuery, Request, State,
};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA,
    WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{ErrorResponseType, StandardErrorResponse};
use portcullis::apps::client::AuthMethod;
use portcullis::ssr::groups::Identity;
use portcullis::ssr::op::authorize::{self, AuthError, AuthRequest, Params, Untrusted, Waits};
use portcullis::ssr::op::clients::{self, OpClient, secret_matches};
use portcullis::ssr::op::grants::{self, ExchangeError, SignedIn};
use portcullis::ssr::op::metadata::{
    ANSWER_PATH, AUTHORIZE_PATH, CONTINUE_PATH, DISCOVERY_PATH, END_SESSION_CONFIRM_PATH,
    END_SESSION_PATH, INTROSPECT_PATH, JWKS_PATH, OAUTH_METADATA_PATH, REVOKE_PATH, TOKEN_PATH,
    USERINFO_PATH, provider_metadata,
};
use portcullis::ssr::op::prompt::{self, Next, Person};
use portcullis::ssr::op::{device, end_session, id_token};
use portcullis::ssr::session::AuthSession;
use tower_http::cors::{Any, CorsLayer};

/// The largest body an OpenID Provider POST takes.
const BODY_MAX: usize = 8 * 1024;

pub fn routes() -> Router<AppState> {
    // Browser apps (public clients with PKCE) call these from their own origin. They read no
    // cookie (the client or the access token authenticates each request), so any origin may
    // call them, without credentials (no Access-Control-Allow-Credentials): a page elsewhere
    // gains nothing it could not do from a server.
    let cross_origin = Router::new()
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
        .route(INTROSPECT_PATH, post(introspect))
        .route(USERINFO_PATH, get(userinfo).post(userinfo))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([AUTHORIZATION, CONTENT_TYPE])
                .max_age(std::time::Duration::from_secs(600)),
        );
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(OAUTH_METADATA_PATH, get(discovery))
        .route(JWKS_PATH, get(jwks))
        .route(
            AUTHORIZE_PATH,
            get(authorize_get).post(answered_as_get(AUTHORIZE_PATH)),
        )
        .route(&format!("{CONTINUE_PATH}/{{id}}"), get(continue_request))
        .route(&format!("{ANSWER_PATH}/{{id}}"), post(answered))
        .route(
            END_SESSION_PATH,
            get(end_session_get).post(answered_as_get(END_SESSION_PATH)),
        )
        .route(END_SESSION_CONFIRM_PATH, post(end_session_confirm))
        .merge(cross_origin)
        .merge(crate::op_device::routes())
        .layer(DefaultBodyLimit::max(BODY_MAX))
}

/// Public and the same for everyone: any origin may read it (browser-based relying parties),
/// and caches may keep it five minutes (a rotation publishes the next key a day ahead).
fn public_json(body: String) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        body,
    )
        .into_response()
}

/// `GET /.well-known/openid-configuration` (and `/.well-known/oauth-authorization-server`):
/// the issuer is the public URL.
async fn discovery(State(state): State<AppState>) -> Response {
    match provider_metadata(&state.public_url)
        .and_then(|m| serde_json::to_string(&m).map_err(|e| e.to_string()))
    {
        Ok(body) => public_json(body),
        Err(e) => {
            tracing::error!(error = %e, "the discovery document");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /oauth2/jwks`: the next, current and retired public keys, as this replica last loaded
/// them (`OpKeys`, reloaded every minute).
async fn jwks(State(state): State<AppState>) -> Response {
    public_json(state.op_keys.get().jwks_json().to_owned())
}

/// A failure of ours (the database): a page, never a redirect with half a result.
pub(crate) fn trouble(e: impl std::fmt::Debug) -> Response {
    tracing::error!(error = ?e, "OpenID Provider");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Portcullis could not complete the sign-in request. Try again in a moment.",
    )
}

/// `GET /oauth2/authorize` (§3.4): an error page when the client or its redirect URI cannot
/// be trusted; every other error back at the redirect URI; then sign-in, access, the code.
async fn authorize_get(
    State(state): State<AppState>,
    session: AuthSession,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    // Read, not taken from the cache the token endpoint uses: a setting that asks more of
    // the person (consent, a redirect URI removed) counts at the next request, whichever
    // process changed it.
    let client = match authorize::client_id(&params) {
        Some(id) => match clients::by_client_id(&state.db, id).await {
            Ok(c) => c,
            Err(e) => return trouble(e),
        },
        None => None,
    };
    let (client, redirect_uri) = match authorize::redirect_target(&params, client.as_ref()) {
        Ok(found) => found,
        Err(Untrusted(why)) => {
            return message_page(StatusCode::BAD_REQUEST, "Sign-in request refused", why);
        }
    };
    let mut request = match authorize::validate(&params, client, redirect_uri.clone()) {
        Ok(r) => r,
        Err(e) => {
            let back = authorize::state(&params);
            return Redirect::to(&authorize::error_redirect(
                &redirect_uri,
                &e,
                back.as_deref(),
                &state.public_url,
            ))
            .into_response();
        }
    };
    // Repeated parameters were refused above: one value or none.
    if let Ok(Some(token)) = params.one("id_token_hint") {
        let keys = state.op_keys.get();
        match end_session::hint(&keys, &state.public_url, token) {
            Some(h) if h.client_id == client.view.client_id => request.hint_sub = Some(h.sub),
            _ => {
                return refuse(
                    &state,
                    &request,
                    "invalid_request",
                    "id_token_hint is not an ID token Portcullis issued to this application",
                );
            }
        }
    }
    proceed(&state, &session, client, request, None).await
}

/// What the request needs from this browser now (`prompt::decide`): sign in (again), the
/// account choice, the consent page, an error for the client, or the code. `waiting`: the
/// id under which the request waits already (the continue step), whose answers are pages
/// that move on by themselves.
async fn proceed(
    state: &AppState,
    session: &AuthSession,
    client: &OpClient,
    mut request: AuthRequest,
    waiting: Option<&str>,
) -> Response {
    let db = &state.db;
    let data = match session.data().await {
        Ok(d) => d,
        Err(e) => return trouble(e),
    };
    let marker = authorize::session_marker(session.id().as_deref());
    if waiting.is_some() {
        let signed_in_at = data.user_id.as_ref().map(|_| data.signed_in_at);
        request.progress.note(marker.as_deref(), signed_in_at);
    }
    let person = data.user_id.as_deref().map(|user_id| Person {
        user_id,
        fresh_at: data.authenticated_at(),
    });
    let consent_needed = match person {
        Some(p) if client.view.settings.consent => {
            match prompt::covered(db, p.user_id, &client.app_id, &request.scope).await {
                Ok(covered) => !covered,
                Err(e) => return trouble(e),
            }
        }
        _ => false,
    };
    let next = prompt::decide(
        &request,
        person,
        portcullis::ssr::clock::now(),
        consent_needed,
    );
    if let (Next::Consent, Some(p)) = (&next, person) {
        // Nobody is asked to share with an application they may not open.
        match access(state, p.user_id, client).await {
            Ok(a) if a.allowed => {}
            Ok(_) => return finish(state, waiting, async { denied(state, &request) }).await,
            Err(res) => return res,
        }
    }
    match next {
        Next::Issue => finish(state, waiting, issue(state, session, client, &request)).await,
        Next::Refuse(e) => {
            let answer = async { refuse(state, &request, e.error, &e.description) };
            finish(state, waiting, answer).await
        }
        Next::SignIn | Next::ChooseAccount | Next::Consent => {
            request.progress.session = marker;
            request.progress.waits = match next {
                Next::SignIn => Waits::SignIn,
                Next::ChooseAccount => Waits::Account,
                _ => Waits::Consent,
            };
            let id = match waiting {
                Some(id) => match authorize::update_request(db, id, &request).await {
                    Ok(true) => id.to_owned(),
                    Ok(false) => return gone(),
                    Err(e) => return trouble(e),
                },
                None => match authorize::store_request(db, &client.app_id, &request).await {
                    Ok(id) => id,
                    Err(e) => return trouble(e),
                },
            };
            let user = person.map(|p| p.user_id).unwrap_or_default();
            match next {
                Next::SignIn => to_login(&id, request.login_hint.as_deref()),
                Next::ChooseAccount => account_page(state, &id, user).await,
                _ => consent_page(state, &id, client, &request).await,
            }
        }
    }
}

/// A code or an error for the client (`answer`): from the continue step, the request is
/// used up first (one caller gets it), and the answer is a page that moves on by itself.
async fn finish(
    state: &AppState,
    waiting: Option<&str>,
    answer: impl Future<Output = Response>,
) -> Response {
    let Some(id) = waiting else {
        return answer.await;
    };
    match authorize::take_request(&state.db, id).await {
        Ok(true) => {}
        Ok(false) => return gone(),
        Err(e) => return trouble(e),
    }
    continue_page(
        answer.await,
        Onward {
            title: "Continuing",
            lead: "Continuing to the application… ",
        },
    )
}

fn gone() -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        "This sign-in request has expired",
        "Go back to the application and sign in again.",
    )
}

/// "Continue as <username>" or "Use another account".
async fn account_page(state: &AppState, id: &str, user_id: &str) -> Response {
    let who = match portcullis::ssr::groups::identity(&state.db, user_id).await {
        Ok(Some(who)) => who,
        Ok(None) => return gone(),
        Err(e) => return trouble(e),
    };
    let action = format!("{ANSWER_PATH}/{id}");
    let stay = format!("Continue as {}", who.username);
    choice_page(Choice {
        title: "Choose an account",
        message: &format!(
            "An application asks which account to sign in with. You are signed in to Portcullis as {}.",
            who.username
        ),
        items: &[],
        action: &action,
        choices: &[("continue", &stay), ("other", "Use another account")],
    })
}

/// What the application will receive, Allow or Deny.
async fn consent_page(
    state: &AppState,
    id: &str,
    client: &OpClient,
    request: &AuthRequest,
) -> Response {
    let name = match portcullis::ssr::apps::get(&state.db, &client.app_id).await {
        Ok(Some(app)) => app.settings.name,
        Ok(None) => return gone(),
        Err(e) => return trouble(e),
    };
    let action = format!("{ANSWER_PATH}/{id}");
    let items = prompt::scope_words(&request.scope);
    let message = match items.is_empty() {
        true => "It will know who you are (an identifier of your account), nothing more.",
        false => "It will know who you are, and receive:",
    };
    let title = format!("Share your account with {name}?");
    choice_page(Choice {
        title: &title,
        message,
        items: &items,
        action: &action,
        choices: &[("allow", "Allow"), ("deny", "Deny")],
    })
}

/// To the login page, which comes back to `/oauth2/continue/<id>` once signed in; a
/// `login_hint` fills its username (nothing else trusts it).
fn to_login(id: &str, login_hint: Option<&str>) -> Response {
    to_page("/login", id, login_hint)
}

/// To `page` here (the login or the second-factor page), which comes back to
/// `/oauth2/continue/<id>` when done; with `login_hint` for the login page.
fn to_page(page: &str, id: &str, login_hint: Option<&str>) -> Response {
    let next = format!("{CONTINUE_PATH}/{id}");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", &next);
    if let Some(hint) = login_hint {
        query.append_pair("login_hint", hint);
    }
    let query = query.finish();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

/// An error for the client, at its redirect URI.
fn refuse(state: &AppState, request: &AuthRequest, error: &'static str, why: &str) -> Response {
    let e = AuthError {
        error,
        description: why.to_owned(),
    };
    Redirect::to(&authorize::error_redirect(
        &request.redirect_uri,
        &e,
        request.state.as_deref(),
        &state.public_url,
    ))
    .into_response()
}

/// The signed-in person may open the application (its "who may open it" rule): a code, back
/// at the redirect URI with `state` and `iss`. Otherwise `access_denied`.
async fn issue(
    state: &AppState,
    session: &AuthSession,
    client: &OpClient,
    request: &AuthRequest,
) -> Response {
    let db = &state.db;
    let data = match session.data().await {
        Ok(d) => d,
        Err(e) => return trouble(e),
    };
    let Some(user_id) = data.user_id.clone() else {
        return refuse(state, request, "login_required", "not signed in");
    };
    let access = match access(state, &user_id, client).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let Some(identity) = access.identity.filter(|_| access.allowed) else {
        return denied(state, request);
    };
    if access.two_required && !data.two_factors() {
        // The step-up, as forward auth sends people to it: the request waits meanwhile.
        if request.prompt_none {
            return refuse(
                state,
                request,
                "interaction_required",
                "the application requires a second factor, and this session has not shown one",
            );
        }
        return match authorize::store_request(db, &client.app_id, request).await {
            Ok(id) => to_page("/second-factor", &id, None),
            Err(e) => trouble(e),
        };
    }
    let sid = match session.op_sid().await {
        Ok(s) => s,
        Err(e) => return trouble(e),
    };
    let signed_in = SignedIn {
        user_id,
        sid,
        auth_time: data.auth_time(),
        amr: id_token::amr_of(&data),
    };
    match grants::issue_code(db, &client.app_id, request, &signed_in, &identity).await {
        Ok(code) => Redirect::to(&authorize::redirect_with(
            &request.redirect_uri,
            &[
                ("code", Some(&code)),
                ("state", request.state.as_deref()),
                ("iss", Some(&state.public_url)),
            ],
        ))
        .into_response(),
        Err(e) => trouble(e),
    }
}

/// What `user_id` may do with `client`'s application.
pub(crate) struct Access {
    /// Its "who may open it" rule lets them in.
    pub(crate) allowed: bool,
    /// A second factor is required for it (the application's or everyone's requirement).
    pub(crate) two_required: bool,
    /// Who they are (`None`: no such user any more).
    pub(crate) identity: Option<Identity>,
}

pub(crate) async fn access(
    state: &AppState,
    user_id: &str,
    client: &OpClient,
) -> Result<Access, Response> {
    access_to(state, user_id, &client.app_id, Read::Cached)
        .await
        .map_err(trouble)
}

/// Where [`access_to`] reads the application.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// From the applications' cache, as forward auth decides with it.
    Cached,
    /// From its row: a refresh (not a sign-in's hot path) sees an edit made by another
    /// process at once.
    Row,
}

pub(crate) async fn access_to(
    state: &AppState,
    user_id: &str,
    app_id: &str,
    read: Read,
) -> Result<Access, sqlx::Error> {
    let db = &state.db;
    let who = portcullis::ssr::groups::identity(db, user_id).await?;
    // The applications as forward auth decides with them (the same cache, so both gates
    // agree and a sign-in reads no application row); one added since the cache was loaded
    // (by the command line, another process) is read.
    let (apps, requirement) = state.apps.gate(db).await?;
    let cached = apps.iter().find(|a| a.id == app_id);
    let app = match cached {
        Some(app) if read == Read::Cached => Some(app.clone()),
        _ => portcullis::ssr::apps::get(db, app_id).await?,
    };
    let (allowed, two_required) = match (&who, &app) {
        (Some(who), Some(app)) => (
            app.allows(who.is_admin, &who.username, &who.groups),
            requirement.applies(who.is_admin, app.settings.require_second_factor),
        ),
        _ => (false, false),
    };
    if !allowed {
        tracing::info!(user = ?user_id, app = ?app_id, "OpenID sign-in or token refused: the user may not open the application");
    }
    Ok(Access {
        allowed,
        two_required,
        identity: who,
    })
}

fn denied(state: &AppState, request: &AuthRequest) -> Response {
    refuse(
        state,
        request,
        "access_denied",
        "this account may not open the application",
    )
}

/// `GET /oauth2/logout` (RP-Initiated Logout 1.0; the rules: `end_session`): a valid hint
/// for the signed-in user signs out at once and goes back to a registered URI with `state`;
/// anything less certain asks first. The session ends here only (not at an upstream
/// provider: the application asked to sign out of Portcullis).
async fn end_session_get(
    State(state): State<AppState>,
    session: AuthSession,
    ClientAddr(addr): ClientAddr,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    let names = [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ];
    let Ok([hint, client_id, uri, st]) = params.ones(names) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Sign-out request refused",
            "A parameter is repeated. Go back to the application and sign out again.",
        );
    };
    let keys = state.op_keys.get();
    let hint = hint.and_then(|t| end_session::hint(&keys, &state.public_url, t));
    let client = match client_id.or(hint.as_ref().map(|h| h.client_id.as_str())) {
        Some(id) => match clients::by_client_id(&state.db, id).await {
            Ok(c) => c,
            Err(e) => return trouble(e),
        },
        None => None,
    };
    let data = match session.data().await {
        Ok(d) => d,
        Err(e) => return trouble(e),
    };
    let user = data.user_id.clone();
    let current = user.as_deref().map(|user| end_session::Current {
        user,
        sid: data.sid.as_deref(),
    });
    match end_session::decide(hint.as_ref(), client.as_ref(), current, uri, st) {
        end_session::Decision::SignOut { then } => {
            if let Some(user) = &user
                && let Err(e) = sign_out(
                    &state,
                    &session,
                    user,
                    addr,
                    client.as_ref().map(|c| c.view.client_id.as_str()),
                    END_SESSION,
                )
                .await
            {
                return trouble(e);
            }
            match then {
                Some(to) => Redirect::to(&to).into_response(),
                None => signed_out_page(),
            }
        }
        end_session::Decision::Confirm if user.is_none() => signed_out_page(),
        end_session::Decision::Confirm => question_page(Question {
            title: "Sign out of Portcullis?",
            message: "An application asks to sign you out of Portcullis: you will be signed \
                      out of every application that uses it in this browser.",
            action: END_SESSION_CONFIRM_PATH,
            button: "Sign out",
            back: ("/", "Stay signed in"),
        }),
    }
}

/// `POST /oauth2/logout/confirm`: the person confirmed on our own page (the cross-site check
/// refuses a post from elsewhere); signed out, never redirected.
async fn end_session_confirm(
    State(state): State<AppState>,
    session: AuthSession,
    ClientAddr(addr): ClientAddr,
) -> Response {
    let ended = match session.user_id().await {
        Ok(Some(user)) => sign_out(&state, &session, &user, addr, None, END_SESSION).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    match ended {
        Ok(()) => signed_out_page(),
        Err(e) => trouble(e),
    }
}

/// How the end-session endpoint's sign-outs are named in the audit log.
const END_SESSION: &str = "end_session_endpoint";

/// Ends `user`'s session at an application's request, recorded in the audit log as a
/// sign-out `via` that route (with the client, when the request named one).
async fn sign_out(
    state: &AppState,
    session: &AuthSession,
    user: &str,
    addr: Option<std::net::IpAddr>,
    client_id: Option<&str>,
    via: &str,
) -> Result<(), portcullis::ssr::session::SessionError> {
    use portcullis::audit::EventKind;
    use portcullis::ssr::audit::{Actor, Entry, record};
    session.sign_out().await?;
    // Named as stored when the event is written: no read of the user here.
    let mut entry =
        Entry::new(EventKind::SignOut, &Actor::user_id_at(user, addr)).detail("via", via);
    if let Some(client) = client_id {
        entry = entry.detail("client_id", client);
    }
    record(&state.db, entry).await;
    Ok(())
}

fn signed_out_page() -> Response {
    message_page(
        StatusCode::OK,
        "Signed out",
        "You are signed out of Portcullis. You can close this page.",
    )
}

/// `POST /oauth2/authorize` and `POST /oauth2/logout`: answered 303 to the GET at `path` with
/// the same parameters, so that the SameSite=Lax session cookie comes along and one handler
/// judges both.
fn answered_as_get(
    path: &'static str,
) -> impl Fn(String) -> std::future::Ready<Redirect> + Clone + Send + Sync + 'static {
    move |body| {
        let params = Params::parse(&body);
        std::future::ready(Redirect::to(&format!("{path}?{}", params.query())))
    }
}

/// `GET /oauth2/continue/{id}`: a request that waited while the person signed in, chose
/// the account or consented; decided again (`proceed`). A code or an error is answered with
/// a page that moves on by itself (the login form's post may not redirect to another
/// origin under the pages' `form-action 'self'`).
async fn continue_request(
    State(state): State<AppState>,
    session: AuthSession,
    Path(id): Path<String>,
) -> Response {
    match waiting(&state, &id).await {
        Ok((client, request)) => proceed(&state, &session, &client, request, Some(&id)).await,
        Err(res) => res,
    }
}

/// The request waiting as `id`, and its client.
async fn waiting(state: &AppState, id: &str) -> Result<(OpClient, AuthRequest), Response> {
    let (app_id, request) = match authorize::peek_request(&state.db, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(gone()),
        Err(e) => return Err(trouble(e)),
    };
    match clients::get(&state.db, &app_id).await {
        Ok(Some(c)) if authorize::still_fits(&request, &c) => Ok((c, request)),
        Ok(_) => Err(gone()),
        Err(e) => Err(trouble(e)),
    }
}

/// The answer of the account choice, the consent page or the device flow's question.
#[derive(serde::Deserialize)]
pub(crate) struct Answer {
    pub(crate) choice: String,
}

/// The request waiting as `id` for an answer from this very browser session (the one it
/// was shown in), signed in as the person asked. The cross-site check has refused posts
/// from elsewhere; the request's id is known only to the page that showed the question.
async fn answering(
    state: &AppState,
    session: &AuthSession,
    id: &str,
) -> Result<(OpClient, AuthRequest, String), Response> {
    let (client, request) = waiting(state, id).await?;
    let marker = authorize::session_marker(session.id().as_deref());
    let user = session.user_id().await.map_err(trouble)?;
    match user {
        Some(user) if marker.is_some() && request.progress.session == marker => {
            Ok((client, request, user))
        }
        _ => Err(gone()),
    }
}

/// `POST /oauth2/answer/{id}`: the answer to what the request waits for. The account
/// choice (`prompt=select_account`): `continue` goes on as the signed-in person, `other`
/// signs this browser out of Portcullis and goes to the login page with the request
/// waiting. The consent page: `allow` remembers the consent (per user and application,
/// for these scopes) and goes on, `deny` sends `access_denied` to the application.
async fn answered(
    State(state): State<AppState>,
    session: AuthSession,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<String>,
    Form(answer): Form<Answer>,
) -> Response {
    let (client, mut request, user) = match answering(&state, &session, &id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match (request.progress.waits, answer.choice.as_str()) {
        (Waits::Account, "continue") => {
            request.progress.chosen = true;
            onward(&state, &id, &request).await
        }
        (Waits::Account, "other") => {
            let client_id = Some(client.view.client_id.as_str());
            match sign_out(&state, &session, &user, addr, client_id, "account_choice").await {
                Ok(()) => to_login(&id, request.login_hint.as_deref()),
                Err(e) => trouble(e),
            }
        }
        (Waits::Consent, "allow") => {
            let remembered = prompt::remember(&state.db, &user, &client.app_id, &request.scope);
            if let Err(e) = remembered.await {
                return trouble(e);
            }
            request.progress.consented = true;
            onward(&state, &id, &request).await
        }
        (Waits::Consent, "deny") => {
            let why = "the person did not allow it";
            let answer = async { refuse(&state, &request, "access_denied", why) };
            finish(&state, Some(&id), answer).await
        }
        _ => message_page(
            StatusCode::BAD_REQUEST,
            "Unknown answer",
            "Choose one of the buttons.",
        ),
    }
}

/// Saves the request's progress and goes on to its continue step.
async fn onward(state: &AppState, id: &str, request: &AuthRequest) -> Response {
    match authorize::update_request(&state.db, id, request).await {
        Ok(true) => Redirect::to(&format!("{CONTINUE_PATH}/{id}")).into_response(),
        Ok(false) => gone(),
        Err(e) => trouble(e),
    }
}

/// An OAuth error body (RFC 6749 §5.2), never cached.
pub(crate) fn oauth_error<T: ErrorResponseType + serde::Serialize>(
    status: StatusCode,
    error: T,
    why: &str,
) -> Response {
    let body = StandardErrorResponse::new(error, Some(why.to_owned()), None);
    (status, no_store(), axum::Json(body)).into_response()
}

pub(crate) fn no_store() -> [(http::HeaderName, HeaderValue); 2] {
    [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

pub(crate) fn invalid_request(why: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        CoreErrorResponseType::InvalidRequest,
        why,
    )
}

/// `invalid_client`, 401; with the Basic challenge when Basic was tried (RFC 6749 §5.2).
fn invalid_client(basic: bool, why: &str) -> Response {
    let mut res = oauth_error(
        StatusCode::UNAUTHORIZED,
        CoreErrorResponseType::InvalidClient,
        why,
    );
    if basic {
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portcullis\""),
        );
    }
    res
}

/// `Authorization: Basic` as (client_id, secret), both form-urlencoded before base64
/// (RFC 6749 §2.3.1). `Err` for a malformed header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ()> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let Some((scheme, b64)) = value.split_once(' ') else {
        return Err(());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| ())?;
    let text = String::from_utf8(bytes).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    let decode = |s: &str| -> Result<String, ()> {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| ())
    };
    Ok(Some((decode(id)?, decode(secret)?)))
}

/// A client's own request (to the token, device authorization, revocation or introspection
/// endpoint): its form's parameters, and the client they authenticate as ([`authenticate`]).
/// Refused with the OAuth error response.
pub(crate) struct ClientRequest {
    pub client: OpClient,
    pub params: Params,
}

impl FromRequest<AppState> for ClientRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(addr) = ClientAddr::from_request_parts(&mut parts, state).await;
        let headers = parts.headers.clone();
        let body = String::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = Params::parse(&body);
        let client = authenticate(state, &addr, &headers, &params).await?;
        Ok(ClientRequest { client, params })
    }
}

impl ClientRequest {
    /// A revocation or introspection request's client and its `token` parameter (required,
    /// once); what is wrong with it otherwise.
    fn token(self) -> Result<(OpClient, String), &'static str> {
        match self.params.one("token") {
            Ok(Some(t)) => Ok((self.client, t.to_owned())),
            Ok(None) => Err("token is missing"),
            Err(_) => Err("token is repeated"),
        }
    }
}

/// The client a token request from `addr` authenticates as (§3.5): its registered method
/// only. Failures (`invalid_client`) count against the address; once its budget is spent
/// (`LoginLimiter::client_auth_check`), the request is refused before anything is read.
async fn authenticate(
    state: &AppState,
    addr: &ClientAddr,
    headers: &HeaderMap,
    params: &Params,
) -> Result<OpClient, Response> {
    let key = addr.key();
    if let Err(wait) = state.limiter.client_auth_check(key) {
        tracing::warn!(client = ?addr.0, wait, "client authentication rate limited");
        return Err(too_many_failures(wait));
    }
    let found = authenticated_client(state, headers, params).await;
    // `invalid_client` is the only 401 an authentication answers (RFC 6749 §5.2).
    if let Err(res) = &found
        && res.status() == StatusCode::UNAUTHORIZED
    {
        state.limiter.client_auth_failed(key);
    }
    found
}

/// Too many failed client authentications from one address. RFC 6749 has no error for a
/// client that must wait (`slow_down` is the device flow's polling only), so the status says
/// it: 429 Too Many Requests with `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3), and the
/// §5.2 body's `invalid_client`, as the authentication is not even tried.
fn too_many_failures(wait: u64) -> Response {
    let why = format!(
        "too many failed client authentications from this address: try again in {wait} seconds"
    );
    let mut res = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        CoreErrorResponseType::InvalidClient,
        &why,
    );
    res.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

/// [`authenticate`]'s check itself.
async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<OpClient, Response> {
    let form_id = params
        .one("client_id")
        .map_err(|_| invalid_request("client_id is repeated"))?;
    let form_secret = params
        .one("client_secret")
        .map_err(|_| invalid_request("client_secret is repeated"))?;
    let basic = basic_credentials(headers)
        .map_err(|_| invalid_client(true, "the Authorization header is not HTTP Basic"))?;
    let (method, id, secret) = match (basic, form_secret) {
        (Some(_), Some(_)) => {
            return Err(invalid_request(
                "two client authentication methods in one request (Basic and client_secret)",
            ));
        }
        (Some((id, secret)), None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(invalid_request(
                    "client_id in the form differs from the Basic credentials'",
                ));
            }
            (AuthMethod::Basic, id, Some(secret))
        }
        (None, Some(secret)) => {
            let id = form_id.ok_or_else(|| invalid_client(false, "client_id is missing"))?;
            (AuthMethod::Post, id.to_owned(), Some(secret.to_owned()))
        }
        (None, None) => {
            let id = form_id.ok_or_else(|| invalid_client(false, "no client authentication"))?;
            (AuthMethod::None, id.to_owned(), None)
        }
    };
    let basic = method == AuthMethod::Basic;
    let judge = |c: &OpClient| client_check(c, method, secret.as_deref());
    let (client, verdict) = match state.apps.client(&state.db, &id, judge).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(invalid_client(basic, "unknown client")),
        Err(e) => {
            tracing::error!(error = ?e, "token endpoint");
            return Err(oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                CoreErrorResponseType::Extension("server_error".into()),
                "try again later",
            ));
        }
    };
    verdict.map_err(|why| invalid_client(basic, &why))?;
    Ok(client)
}

/// Whether `client` authenticates with `method` and, when one is given, `secret`; else why
/// not.
fn client_check(client: &OpClient, method: AuthMethod, secret: Option<&str>) -> Result<(), String> {
    if client.view.settings.auth_method != method {
        return Err(format!(
            "this client authenticates with {}",
            client.view.settings.auth_method.as_str()
        ));
    }
    if let Some(secret) = secret {
        let ok = client
            .secret_hash
            .as_deref()
            .is_some_and(|hash| secret_matches(hash, secret));
        if !ok {
            return Err("wrong client secret".into());
        }
    }
    Ok(())
}

/// `POST /oauth2/token`: `authorization_code` (with PKCE when the request had a challenge)
/// and `refresh_token` (rotated on every use).
async fn token(
    State(state): State<AppState>,
    ClientRequest { client, params }: ClientRequest,
) -> Response {
    let names = [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "device_code",
    ];
    let Ok(
        [
            grant_type,
            code,
            redirect_uri,
            verifier,
            refresh_token,
            scope,
            device_code,
        ],
    ) = params.ones(names)
    else {
        return invalid_request("a parameter is repeated");
    };
    let used = match grant_type {
        None => return invalid_request("grant_type is missing"),
        Some("authorization_code") => {
            let Some(code) = code else {
                return invalid_request("code is missing");
            };
            grants::exchange(&state.db, &client, code, redirect_uri, verifier).await
        }
        Some("refresh_token") => {
            let Some(token) = refresh_token else {
                return invalid_request("refresh_token is missing");
            };
            grants::refresh(&state.db, &client, token, scope).await
        }
        Some(device::GRANT_TYPE) => match device_poll(&state, &client, device_code).await {
            Ok(x) => Ok(x),
            Err(res) => return res,
        },
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                CoreErrorResponseType::UnsupportedGrantType,
                "only authorization_code, refresh_token and the device code are supported",
            );
        }
    };
    let mut tokens = match used {
        Ok(x) => x,
        Err(ExchangeError::InvalidGrant(why)) => return invalid_grant(why),
        Err(e @ ExchangeError::InvalidScope) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                CoreErrorResponseType::InvalidScope,
                &e.to_string(),
            );
        }
        Err(ExchangeError::Db(e)) => return trouble_json(e),
    };
    // A refresh is a new decision, on the application and client as they are now: the
    // grant ends, and no token is issued, for someone since removed from "who may open it",
    // for a grant without two factors where two are required now, and for scopes the
    // client may no longer ask for (the application signs in again and gets what it may).
    let who = if grant_type == Some("refresh_token") {
        let a = match access_to(&state, &tokens.grant.who.user_id, &client.app_id, Read::Row).await
        {
            Ok(a) => a,
            Err(e) => return trouble_json(e),
        };
        let g = &tokens.grant;
        let why = if !a.allowed {
            Some("this account may no longer open the application")
        } else if a.two_required && !g.who.two_factors() {
            Some("the application now requires two factors: sign in again")
        } else if !g
            .scope
            .iter()
            .all(|s| client.view.settings.scopes.contains(s))
        {
            Some("the application may no longer ask for every scope of this grant: sign in again")
        } else {
            None
        };
        match (a.identity, why) {
            (Some(who), None) => who,
            (who, why) => {
                if let Err(e) = grants::revoke_grant(&state.db, &g.id).await {
                    return trouble_json(e);
                }
                return invalid_grant(if who.is_none() {
                    "the user no longer exists"
                } else {
                    why.unwrap_or_default()
                });
            }
        }
    } else {
        match tokens.identity.take() {
            Some(w) => w,
            None => match portcullis::ssr::groups::identity(&state.db, &tokens.grant.who.user_id)
                .await
            {
                Ok(Some(w)) => w,
                Ok(None) => return invalid_grant("the user no longer exists"),
                Err(e) => return trouble_json(e),
            },
        }
    };
    match id_token::token_response(
        &state.op_keys,
        &state.public_url,
        &client.view.client_id,
        &client.view.settings.id_token_alg,
        &tokens,
        &who,
    ) {
        Ok(body) => {
            let grant = match grant_type {
                Some("refresh_token") => "refresh_token",
                Some(device::GRANT_TYPE) => "device_code",
                _ => "authorization_code",
            };
            portcullis::ssr::metrics::op_tokens_issued(&client.app_id, grant);
            (no_store(), axum::Json(body)).into_response()
        }
        Err(e) => trouble_json(e),
    }
}

/// A poll of the device flow (RFC 8628 §3.4) by `client`: the tokens once approved, else
/// the error §3.5 names (`slow_down`'s description says how long to wait now).
async fn device_poll(
    state: &AppState,
    client: &OpClient,
    device_code: Option<&str>,
) -> Result<grants::Exchanged, Response> {
    use openidconnect::DeviceCodeErrorResponseType as E;
    use portcullis::ssr::op::device::PollError;
    if !client.view.settings.device_flow {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            CoreErrorResponseType::UnauthorizedClient,
            "this client may not use the device flow",
        ));
    }
    let Some(device_code) = device_code else {
        return Err(invalid_request("device_code is missing"));
    };
    let e = match device::poll(&state.db, client, device_code).await {
        Ok(x) => return Ok(x),
        Err(e) => e,
    };
    let why = e.to_string();
    let error = match e {
        PollError::Pending => E::AuthorizationPending,
        PollError::SlowDown(_) => E::SlowDown,
        PollError::Denied => E::AccessDenied,
        PollError::Expired => E::ExpiredToken,
        PollError::InvalidGrant(why) => return Err(invalid_grant(why)),
        PollError::Db(e) => return Err(trouble_json(e)),
    };
    Err(oauth_error(StatusCode::BAD_REQUEST, error, &why))
}

fn invalid_grant(why: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        CoreErrorResponseType::InvalidGrant,
        why,
    )
}

/// `POST /oauth2/revoke` (RFC 7009): the client authenticates as at the token endpoint; an
/// access token is revoked, a refresh token revokes its grant; an unknown token is 200 too.
async fn revoke(State(state): State<AppState>, req: ClientRequest) -> Response {
    let (client, token) = match req.token() {
        Ok(x) => x,
        Err(why) => return invalid_request(why),
    };
    let token = token.as_str();
    match grants::revoke(&state.db, &client, token).await {
        Ok(grants::Revoked::Done) => (StatusCode::OK, no_store()).into_response(),
        // RFC 7009 §2.1: refused, and the client told (Keycloak's answer too).
        Ok(grants::Revoked::OtherClient) => oauth_error(
            StatusCode::BAD_REQUEST,
            CoreErrorResponseType::UnauthorizedClient,
            "the token was issued to another client",
        ),
        Err(e) => trouble_json(e),
    }
}

/// `POST /oauth2/introspect` (RFC 7662): for the authenticated client's own tokens; any
/// other token, live or not, is `{"active": false}`.
async fn introspect(State(state): State<AppState>, req: ClientRequest) -> Response {
    let (client, token) = match req.token() {
        Ok(x) => x,
        Err(why) => return invalid_request(why),
    };
    let token = token.as_str();
    let found = match grants::introspect(&state.db, &client, token).await {
        Ok(f) => f,
        Err(e) => return trouble_json(e),
    };
    let res = id_token::introspection(&state.public_url, &client.view.client_id, found);
    (no_store(), axum::Json(res)).into_response()
}

pub(crate) fn trouble_json(e: impl std::fmt::Debug) -> Response {
    tracing::error!(error = ?e, "OpenID Provider");
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        CoreErrorResponseType::Extension("server_error".into()),
        "try again later",
    )
}

/// 401 with RFC 6750's challenge: `invalid_token` when a token was given.
fn bearer_refused(error: Option<&str>) -> Response {
    let challenge = match error {
        Some(e) => format!("Bearer realm=\"portcullis\", error=\"{e}\""),
        None => "Bearer realm=\"portcullis\"".to_owned(),
    };
    let mut res = (StatusCode::UNAUTHORIZED, no_store()).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    res
}

/// `GET` or `POST /oauth2/userinfo`: the access token in the Authorization header (Bearer)
/// or, on a POST, as the form's `access_token`; never both (RFC 6750 §2).
async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim().to_owned())
        });
    let form = if method == Method::POST {
        match Params::parse(&body).one("access_token") {
            Ok(t) => t.map(str::to_owned),
            Err(_) => return bearer_refused(Some("invalid_request")),
        }
    } else {
        None
    };
    let token = match (header, form) {
        (Some(_), Some(_)) => {
            let mut res = bearer_refused(Some("invalid_request"));
            *res.status_mut() = StatusCode::BAD_REQUEST;
            return res;
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return bearer_refused(None),
    };
    let grant = match grants::by_access_token(&state.db, &token).await {
        Ok(Some(g)) => g,
        Ok(None) => return bearer_refused(Some("invalid_token")),
        Err(e) => return trouble_json(e),
    };
    // Decided again, as forward auth does on every request (the application from the
    // cache): someone the application no longer lets in reads nothing with a token issued
    // before.
    let a = match access_to(&state, &grant.who.user_id, &grant.app_id, Read::Cached).await {
        Ok(a) => a,
        Err(e) => return trouble_json(e),
    };
    match a.identity {
        Some(who) if a.allowed && (!a.two_required || grant.who.two_factors()) => {
            (no_store(), axum::Json(id_token::userinfo(&grant, &who))).into_response()
        }
        _ => bearer_refused(Some("invalid_token")),
    }
}
