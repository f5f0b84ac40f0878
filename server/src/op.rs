//! Portcullis as an OpenID Provider: its routes (`docs/openid-provider.md` §3.3). Slice 1:
//! the discovery document (also at RFC 8414's name) and the JWKS. Slice 3: the authorization
//! code flow: `/oauth2/authorize` (GET, and POST answered 303 to the GET),
//! `/oauth2/continue/{id}` (after sign-in), `/oauth2/token` (`authorization_code` with PKCE),
//! `/oauth2/userinfo`. Slice 5: `refresh_token` at the token endpoint, `/oauth2/revoke`
//! (RFC 7009) and `/oauth2/introspect` (RFC 7662). The rules live in `portcullis::ssr::op`; these handlers read the
//! request and write the answer. Errors are OAuth's (a JSON body, or a redirect to the
//! client's registered redirect URI), not `AppError`'s: a relying party reads them.

use app::extract::ClientAddr;
use app::html::{Onward, Question, continue_page, message_page, question_page};
use app::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA,
    WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use openidconnect::StandardErrorResponse;
use openidconnect::core::CoreErrorResponseType;
use portcullis::apps::client::AuthMethod;
use portcullis::ssr::op::authorize::{self, AuthError, AuthRequest, Params, Untrusted};
use portcullis::ssr::op::clients::{self, OpClient, secret_matches};
use portcullis::ssr::op::grants::{self, ExchangeError, SignedIn};
use portcullis::ssr::op::metadata::{
    AUTHORIZE_PATH, CONTINUE_PATH, DISCOVERY_PATH, END_SESSION_CONFIRM_PATH, END_SESSION_PATH,
    INTROSPECT_PATH, JWKS_PATH, OAUTH_METADATA_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
    provider_metadata,
};
use portcullis::ssr::op::{end_session, id_token};
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
        .route(
            END_SESSION_PATH,
            get(end_session_get).post(answered_as_get(END_SESSION_PATH)),
        )
        .route(END_SESSION_CONFIRM_PATH, post(end_session_confirm))
        .merge(cross_origin)
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
fn trouble(e: impl std::fmt::Debug) -> Response {
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
    let request = match authorize::validate(&params, client, redirect_uri.clone()) {
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
    let data = match session.data().await {
        Ok(d) => d,
        Err(e) => return trouble(e),
    };
    if data.user_id.is_none() {
        if request.prompt_none {
            return refuse(
                &state,
                &request,
                "login_required",
                "the person is not signed in to Portcullis",
            );
        }
        return match authorize::store_request(&state.db, &client.app_id, &request).await {
            Ok(id) => to_login(&id),
            Err(e) => trouble(e),
        };
    }
    issue(&state, &session, client, &request).await
}

/// To the login page, which comes back to `/oauth2/continue/<id>` once signed in.
fn to_login(id: &str) -> Response {
    to_page("/login", id)
}

/// To `page` here (the login or the second-factor page), which comes back to
/// `/oauth2/continue/<id>` when done.
fn to_page(page: &str, id: &str) -> Response {
    let next = format!("{CONTINUE_PATH}/{id}");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &next)
        .finish();
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
    let (who, app) = match (
        portcullis::ssr::groups::identity(db, &user_id).await,
        portcullis::ssr::apps::get(db, &client.app_id).await,
    ) {
        (Ok(who), Ok(app)) => (who, app),
        (Err(e), _) | (_, Err(e)) => return trouble(e),
    };
    let requirement = match state.apps.requirement(db).await {
        Ok(r) => r,
        Err(e) => return trouble(e),
    };
    let (allowed, two_required) = match (&who, &app) {
        (Some(who), Some(app)) => (
            app.allows(who.is_admin, &who.username, &who.groups),
            requirement.applies(who.is_admin, app.require_second_factor),
        ),
        _ => (false, false),
    };
    if !allowed {
        tracing::info!(user = ?user_id, client = ?client.view.client_id, "OpenID sign-in refused: the user may not open the application");
        return refuse(
            state,
            request,
            "access_denied",
            "this account may not open the application",
        );
    }
    if two_required && !data.two_factors() {
        // The step-up, as forward auth sends people to it: the request waits meanwhile.
        if request.prompt_none {
            return refuse(
                state,
                request,
                "interaction_required",
                "the application requires a second factor, and this session has shown one",
            );
        }
        return match authorize::store_request(db, &client.app_id, request).await {
            Ok(id) => to_page("/second-factor", &id),
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
        auth_time: data.signed_in_at,
        amr: id_token::amr_of(&data),
    };
    match grants::issue_code(db, &client.app_id, request, &signed_in).await {
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
        Ok(Some(user)) => sign_out(&state, &session, &user, addr, None).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    match ended {
        Ok(()) => signed_out_page(),
        Err(e) => trouble(e),
    }
}

/// Ends `user`'s session at an application's request, recorded in the audit log as a
/// sign-out (with the client, when the request named one).
async fn sign_out(
    state: &AppState,
    session: &AuthSession,
    user: &str,
    addr: Option<std::net::IpAddr>,
    client_id: Option<&str>,
) -> Result<(), portcullis::ssr::session::SessionError> {
    use portcullis::audit::EventKind;
    use portcullis::ssr::audit::{Actor, Entry, record};
    session.sign_out().await?;
    // Named as stored when the event is written: no read of the user here.
    let mut entry = Entry::new(EventKind::SignOut, &Actor::user_id_at(user, addr))
        .detail("via", "end_session_endpoint");
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

/// `GET /oauth2/continue/{id}`: a request that waited while the person signed in. Answered
/// with a page that moves on by itself (the login form's post may not redirect to another
/// origin under the pages' `form-action 'self'`).
async fn continue_request(
    State(state): State<AppState>,
    session: AuthSession,
    Path(id): Path<String>,
) -> Response {
    let gone = || {
        message_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request has expired",
            "Go back to the application and sign in again.",
        )
    };
    let (app_id, request) = match authorize::peek_request(&state.db, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(),
        Err(e) => return trouble(e),
    };
    match session.user_id().await {
        Ok(Some(_)) => {}
        Ok(None) => return to_login(&id),
        Err(e) => return trouble(e),
    }
    match authorize::take_request(&state.db, &id).await {
        Ok(true) => {}
        Ok(false) => return gone(),
        Err(e) => return trouble(e),
    }
    let client = match clients::get(&state.db, &app_id).await {
        Ok(Some(c)) if c.view.client_id == request.client_id => c,
        Ok(_) => return gone(),
        Err(e) => return trouble(e),
    };
    let res = issue(&state, &session, &client, &request).await;
    continue_page(
        res,
        Onward {
            title: "Continuing",
            lead: "Signed in. Continuing to the application… ",
        },
    )
}

/// An OAuth error body (RFC 6749 §5.2), never cached.
fn oauth_error(status: StatusCode, error: CoreErrorResponseType, why: &str) -> Response {
    let body = StandardErrorResponse::new(error, Some(why.to_owned()), None);
    (status, no_store(), axum::Json(body)).into_response()
}

fn no_store() -> [(http::HeaderName, HeaderValue); 2] {
    [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

fn invalid_request(why: &str) -> Response {
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

/// The client a token request authenticates as (§3.5): its registered method only.
async fn authenticate(
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
    let client = match clients::by_client_id(&state.db, &id).await {
        Ok(Some(c)) => c,
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
    if client.view.auth_method != method {
        return Err(invalid_client(
            basic,
            &format!(
                "this client authenticates with {}",
                client.view.auth_method.as_str()
            ),
        ));
    }
    if let Some(secret) = secret {
        let ok = client
            .secret_hash
            .as_deref()
            .is_some_and(|hash| secret_matches(hash, &secret));
        if !ok {
            return Err(invalid_client(basic, "wrong client secret"));
        }
    }
    Ok(client)
}

/// `POST /oauth2/token`: `authorization_code` (with PKCE when the request had a challenge)
/// and `refresh_token` (rotated on every use).
async fn token(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let params = Params::parse(&body);
    let client = match authenticate(&state, &headers, &params).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let names = [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
    ];
    let Ok(
        [
            grant_type,
            code,
            redirect_uri,
            verifier,
            refresh_token,
            scope,
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
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                CoreErrorResponseType::UnsupportedGrantType,
                "only authorization_code and refresh_token are supported",
            );
        }
    };
    let tokens = match used {
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
    let who = match portcullis::ssr::groups::identity(&state.db, &tokens.grant.who.user_id).await {
        Ok(Some(w)) => w,
        Ok(None) => return invalid_grant("the user no longer exists"),
        Err(e) => return trouble_json(e),
    };
    // A refresh is a new decision: someone since removed from "who may open it" gets no
    // token, and the grant ends.
    if grant_type == Some("refresh_token") {
        let allowed = match portcullis::ssr::apps::get(&state.db, &client.app_id).await {
            Ok(app) => app.is_some_and(|a| a.allows(who.is_admin, &who.username, &who.groups)),
            Err(e) => return trouble_json(e),
        };
        if !allowed {
            if let Err(e) = grants::revoke_grant(&state.db, &tokens.grant.id).await {
                return trouble_json(e);
            }
            return invalid_grant("this account may no longer open the application");
        }
    }
    match id_token::token_response(
        &state.op_keys,
        &state.public_url,
        &client.view.client_id,
        &client.view.id_token_alg,
        &tokens,
        &who,
    ) {
        Ok(body) => {
            let grant = match grant_type {
                Some("refresh_token") => "refresh_token",
                _ => "authorization_code",
            };
            portcullis::ssr::metrics::op_tokens_issued(&client.app_id, grant);
            (no_store(), axum::Json(body)).into_response()
        }
        Err(e) => trouble_json(e),
    }
}

fn invalid_grant(why: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        CoreErrorResponseType::InvalidGrant,
        why,
    )
}

/// A revocation or introspection request: the client, authenticated as at the token
/// endpoint, and its `token` parameter (required, once).
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &str,
) -> Result<(OpClient, String), Response> {
    let params = Params::parse(body);
    let client = authenticate(state, headers, &params).await?;
    match params.one("token") {
        Ok(Some(t)) => Ok((client, t.to_owned())),
        Ok(None) => Err(invalid_request("token is missing")),
        Err(_) => Err(invalid_request("token is repeated")),
    }
}

/// `POST /oauth2/revoke` (RFC 7009): the client authenticates as at the token endpoint; an
/// access token is revoked, a refresh token revokes its grant; an unknown token is 200 too.
async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let (client, token) = match client_and_token(&state, &headers, &body).await {
        Ok(x) => x,
        Err(res) => return res,
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
async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let (client, token) = match client_and_token(&state, &headers, &body).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let token = token.as_str();
    let found = match grants::introspect(&state.db, &client, token).await {
        Ok(f) => f,
        Err(e) => return trouble_json(e),
    };
    let res = id_token::introspection(&state.public_url, &client.view.client_id, found);
    (no_store(), axum::Json(res)).into_response()
}

fn trouble_json(e: impl std::fmt::Debug) -> Response {
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
    match portcullis::ssr::groups::identity(&state.db, &grant.who.user_id).await {
        Ok(Some(who)) => (no_store(), axum::Json(id_token::userinfo(&grant, &who))).into_response(),
        Ok(None) => bearer_refused(Some("invalid_token")),
        Err(e) => trouble_json(e),
    }
}
