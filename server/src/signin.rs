//! Every entry point of signing in and linking with OpenID Connect, as plain axum routes:
//!
//! - `GET /login?provider=<slug>[&next=<path>]` starts a sign-in (without `provider`, the
//!   login page renders as usual);
//! - `POST /login/<slug>/link` (form field `token`) starts linking that provider to the
//!   signed-in account; the token never travels in a URL;
//! - `GET /login/<slug>?code=...&state=...` (or `?error=...`) is provider `<slug>`'s own
//!   redirect URI, where its answer comes back; without an answer it shows the login page;
//! - `GET /login/<slug>/sign-out?state=...` moves a browser that signed out without
//!   JavaScript on to the provider's end_session_endpoint, and
//!   `GET /login/<slug>/signed-out?state=...` is where the provider sends it back
//!   (RP-Initiated Logout);
//! - `POST /api/v1/oidc/<slug>/backchannel-logout` (form field `logout_token`) is where the
//!   provider ends sessions (Back-Channel Logout).
//!
//! The protocol lives in `portcullis::ssr::oidc::flow`; what a verified identity means here
//! in `portcullis::ssr::identities`. This module only moves between HTTP and those.

use app::auth::{session_user, sign_in};
use app::error::AppError;
use app::state::AppState;
use axum::Router;
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, COOKIE, REFERRER_POLICY, SET_COOKIE};
use portcullis::identity::decision::Purpose;
use portcullis::return_path::safe_return_to;
use portcullis::ssr::client_ip::ClientKey;
use portcullis::ssr::identities::{self, Outcome};
use portcullis::ssr::oidc::flow::{Callback, DEFAULT_TIMEOUT, Rp, Verified};
use portcullis::ssr::oidc::logout;
use portcullis::ssr::oidc::pending::{self, Mode, Starter, new_binding};
use portcullis::ssr::session::{AuthSession, SignedInVia};
use serde::Deserialize;
use std::future::Future;
use std::time::{Duration, Instant};
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite};

pub(crate) fn binding_spec(state: &AppState) -> pending::BindingCookie {
    pending::binding_cookie(state.public_url.starts_with("https://"))
}

const LINKED_ACCOUNTS: &str = "/profile/settings/linked-accounts";

/// The sign-in routes; `page` renders the login page (the Leptos app) for a plain `/login`.
pub fn routes<P, F>(page: P) -> Router<AppState>
where
    P: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    Router::new()
        .route(
            "/login",
            get(
                move |State(state): State<AppState>, session: Session, req: Request| {
                    let page = page.clone();
                    async move { login(state, session.into(), req, page).await }
                },
            ),
        )
        .route("/login/{slug}", get(callback))
        .route("/login/{slug}/link", post(start_link))
        .route("/login/{slug}/sign-out", get(sign_out_continue))
        .route("/login/{slug}/signed-out", get(signed_out))
        .route(
            portcullis::test_sign_in::START_PATH,
            post(crate::test_sign_in::start),
        )
        .route(
            "/api/v1/oidc/{slug}/backchannel-logout",
            post(backchannel_logout),
        )
}

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
        Ok(Some(url)) => no_referrer(continue_page(Redirect::to(&url).into_response())),
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
    session: Session,
    Path(slug): Path<String>,
    Query(q): Query<LogoutState>,
) -> Response {
    let session = AuthSession::from(session);
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

#[derive(Debug, Default, Deserialize)]
struct LogoutTokenForm {
    #[serde(default)]
    logout_token: String,
}

/// `POST /api/v1/oidc/<slug>/backchannel-logout`: OpenID Connect Back-Channel Logout 1.0
/// §2.5-2.8. 200 with an empty body when the token is valid (the sessions it names are
/// ended), 400 with `{"error":"invalid_request","error_description":...}` otherwise; never
/// cached.
async fn backchannel_logout(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    let token = match Form::<LogoutTokenForm>::from_request(req, &()).await {
        Ok(Form(f)) if !f.logout_token.is_empty() => f.logout_token,
        _ => return logout_refused("logout_token is missing"),
    };
    let mut res = match logout::backchannel(&rp(&state), &slug, &token).await {
        Ok(_) => http::StatusCode::OK.into_response(),
        Err(logout::BackchannelError::Invalid(why)) => {
            tracing::info!(provider = ?slug, why = ?why, "logout token refused");
            return logout_refused(&why);
        }
        Err(logout::BackchannelError::Db(e)) => {
            tracing::error!(provider = ?slug, error = ?e, "back-channel logout");
            http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn logout_refused(why: &str) -> Response {
    let body = serde_json::json!({ "error": "invalid_request", "error_description": why });
    let mut res = (http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Default, Deserialize)]
struct Start {
    provider: Option<String>,
    link: Option<String>,
    next: Option<String>,
    /// `/login?choose`: show the page even when it goes straight to a provider.
    choose: Option<String>,
}

/// `/login`: a sign-in start, an answer on the old shared redirect URI, or the page.
async fn login<P, F>(state: AppState, session: AuthSession, req: Request, page: P) -> Response
where
    P: Fn(Request) -> F,
    F: Future<Output = Response>,
{
    let callback: Callback = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    if callback.is_callback() {
        // Answers come back on each provider's own redirect URI; one arriving here was not
        // sent by any attempt this version started, so it is refused (after using up its
        // state, so it cannot be replayed on the right URI either).
        let binding = binding_cookie(&state, &req);
        return finish(&state, &session, None, &callback, binding.as_deref()).await;
    }
    let start: Start = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    match start.provider.as_deref() {
        Some(slug) if !slug.is_empty() => {
            if start.link.is_some() {
                // Link tokens are no longer accepted in URLs (they leak through history and
                // logs); the Linked Accounts page posts them.
                return link_expired(&state, &session).await;
            }
            let client = client(&state, &req);
            if let Err(wait) = state.limiter.start(client) {
                flash(&session, &AppError::RateLimited(wait)).await;
                return with_provider_wait(redirect("/login"), Duration::ZERO);
            }
            let binding = binding_cookie(&state, &req);
            // A path here, or the exact URL of a configured application (forward auth).
            let apps = state.apps.get(&state.db).await.unwrap_or_default();
            let return_to = start.next.as_deref().and_then(|n| safe_return_to(n, &apps));
            let mode = Mode::SignIn;
            begin(&state, &session, slug, mode, return_to, binding, client).await
        }
        _ => match auto_redirect_target(&state, &session, &start, direct_visit(&req)).await {
            Some(slug) => {
                let client = client(&state, &req);
                if let Err(wait) = state.limiter.start(client) {
                    flash(&session, &AppError::RateLimited(wait)).await;
                    return page(req).await;
                }
                let binding = binding_cookie(&state, &req);
                let apps = state.apps.get(&state.db).await.unwrap_or_default();
                let return_to = start.next.as_deref().and_then(|n| safe_return_to(n, &apps));
                let mode = Mode::SignIn;
                begin(&state, &session, &slug, mode, return_to, binding, client).await
            }
            None => page(req).await,
        },
    }
}

/// The provider this visit of `/login` goes straight to, if any (the rule:
/// [`portcullis::login_methods::auto_redirect`]). Anything it cannot read shows the page.
async fn auto_redirect_target(
    state: &AppState,
    session: &AuthSession,
    start: &Start,
    direct: bool,
) -> Option<String> {
    let snapshot = state.login_page.get(&state.db).await.ok()?;
    let target = snapshot.auto_redirect.as_deref()?;
    let data = session.data().await.ok()?;
    let visit = portcullis::login_methods::LoginVisit {
        signed_in: data.user_id.is_some(),
        message_waiting: data.flash.is_some() || data.notice.is_some(),
        choose: start.choose.is_some(),
        has_next: start.next.as_deref().is_some_and(|n| !n.is_empty()),
        direct,
    };
    portcullis::login_methods::auto_redirect(Some(target), visit).map(str::to_owned)
}

/// Typed, a bookmark, or a program: `Sec-Fetch-Site: none`, or no such header.
fn direct_visit(req: &Request) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|s| s == "none")
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    #[serde(default)]
    token: String,
}

/// `POST /login/<slug>/link`: the signed-in user links provider `slug` (single-use token
/// from the Linked Accounts page).
async fn start_link(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    let session = AuthSession::from(session);
    let binding = binding_cookie(&state, &req);
    let client = client(&state, &req);
    let Ok(Form(form)) = Form::<LinkForm>::from_request(req, &()).await else {
        return link_expired(&state, &session).await;
    };
    let user = session_user(&session, &state.db).await.ok().flatten();
    let valid = match &user {
        Some(_) => session.take_link_token(&form.token).await.unwrap_or(false),
        None => false,
    };
    match (valid, user) {
        (true, Some(u)) => {
            let mode = Mode::Link { user_id: u.id };
            continue_page(begin(&state, &session, &slug, mode, None, binding, client).await)
        }
        _ => link_expired(&state, &session).await,
    }
}

/// A form post must not redirect to another origin: the pages' CSP (`form-action 'self'`)
/// makes the browser block it. So a link start answers with a page that moves on to the
/// provider by itself (a meta refresh, no script) and offers the same as a link.
pub(crate) fn continue_page(res: Response) -> Response {
    let Some(to) = res
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .map(str::to_owned)
    else {
        return res;
    };
    let to = escape_attr(&to);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>Continuing to your provider</title>\
         </head><body><main><p>Continuing to your identity provider… \
         <a href=\"{to}\">Continue</a></p></main></body></html>"
    );
    let (mut parts, _) = res.into_parts();
    parts.status = http::StatusCode::OK;
    parts.headers.remove(http::header::LOCATION);
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Escapes a URL for a double-quoted HTML attribute.
fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn link_expired(state: &AppState, session: &AuthSession) -> Response {
    let signed_in = session_user(session, &state.db)
        .await
        .ok()
        .flatten()
        .is_some();
    flash(
        session,
        &AppError::Denied("That link has expired. Open Linked Accounts and try again.".into()),
    )
    .await;
    redirect(if signed_in { LINKED_ACCOUNTS } else { "/login" })
}

/// `GET /login/<slug>`: provider `slug`'s redirect URI.
async fn callback(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    let agent = req.headers().get(http::header::USER_AGENT);
    let agent = agent.and_then(|v| v.to_str().ok());
    let session = AuthSession::from(session).with_user_agent(agent);
    let callback: Callback = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    if !callback.is_callback() {
        return Redirect::to("/login").into_response();
    }
    let binding = binding_cookie(&state, &req);
    finish(&state, &session, Some(&slug), &callback, binding.as_deref()).await
}

/// The relying party; redirect URIs come from the configured public URL (never from the
/// request's Host header).
pub(crate) fn rp(state: &AppState) -> Rp<'_> {
    Rp {
        db: &state.db,
        secrets: &state.secrets,
        cache: &state.oidc_cache,
        public_url: &state.public_url,
        timeout: DEFAULT_TIMEOUT,
    }
}

async fn begin(
    state: &AppState,
    session: &AuthSession,
    slug: &str,
    mode: Mode,
    return_to: Option<String>,
    binding: Option<String>,
    client: Option<ClientKey>,
) -> Response {
    let binding = binding.unwrap_or_else(new_binding);
    let starter = Starter {
        binding: &binding,
        client,
    };
    match rp(state)
        .start(slug, &mode, return_to.as_deref(), starter)
        .await
    {
        Ok(url) => {
            let res = with_binding(state, Redirect::to(&url).into_response(), binding);
            with_provider_wait(no_referrer(res), Duration::ZERO)
        }
        Err(e) => {
            tracing::warn!(provider = ?slug, kind = ?e.kind, detail = ?e.detail, "OpenID Connect start failed");
            flash(session, &AppError::Denied(e.to_string())).await;
            let back = if matches!(mode, Mode::Link { .. }) {
                LINKED_ACCOUNTS
            } else {
                "/login"
            };
            with_provider_wait(redirect(back), Duration::ZERO)
        }
    }
}

/// Sets the browser-binding cookie (`binding`) on `res`.
pub(crate) fn with_binding(state: &AppState, mut res: Response, binding: String) -> Response {
    let spec = binding_spec(state);
    let cookie = Cookie::build((spec.name, binding))
        .path(spec.path)
        .http_only(true)
        .secure(spec.secure)
        .same_site(SameSite::Lax)
        .max_age(tower_sessions::cookie::time::Duration::minutes(10))
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

async fn finish(
    state: &AppState,
    session: &AuthSession,
    arrived_on: Option<&str>,
    callback: &Callback,
    binding: Option<&str>,
) -> Response {
    let signed_in = session.user_id().await.ok().flatten().is_some();
    let fail_to = if signed_in { LINKED_ACCOUNTS } else { "/login" };
    let rp = rp(state);
    let attempt = match rp.take_attempt(callback, binding).await {
        // An administrator's test sign-in: a report, never a sign-in.
        Ok(pending) if pending.is_test() => {
            return crate::test_sign_in::callback(
                state, session, arrived_on, callback, pending, binding,
            )
            .await;
        }
        Ok(pending) => rp.finish_attempt(arrived_on, callback, pending).await,
        Err(e) => Err(e),
    };
    let verified = match attempt {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(provider = ?e.provider, kind = ?e.kind, detail = ?e.detail, "OpenID Connect sign-in failed");
            flash(session, &AppError::Denied(e.to_string())).await;
            return with_provider_wait(redirect(fail_to), Duration::ZERO);
        }
    };
    let provider_time = verified.provider_time;
    with_provider_wait(
        conclude(state, session, verified, fail_to).await,
        provider_time,
    )
}

async fn conclude(
    state: &AppState,
    session: &AuthSession,
    verified: Verified,
    fail_to: &str,
) -> Response {
    let provider = verified.provider.name.clone();
    let link_mode = matches!(verified.purpose, Purpose::Link { .. });
    if let Purpose::Link { user_id } = &verified.purpose {
        // A link finishes only in the session that started it, still signed in as the same
        // user: signing out (or in as someone else) in between abandons it.
        if session.user_id().await.ok().flatten().as_deref() != Some(user_id.as_str()) {
            tracing::info!(provider = ?verified.provider.slug, "link finished by another session; refused");
            flash(
                session,
                &AppError::Denied(
                    "This link was started by another sign-in. Sign in and start it again from Linked Accounts."
                        .into(),
                ),
            )
            .await;
            return redirect(fail_to);
        }
    }
    match identities::resolve(&state.db, &verified).await {
        Ok(Outcome::SignedIn(user_id)) | Ok(Outcome::Created(user_id)) => {
            let via = SignedInVia::Provider {
                slug: verified.provider.slug.clone(),
                issuer: verified.issuer.clone(),
                subject: verified.subject.clone(),
                sid: verified.sid.clone(),
                id_token: verified.id_token.clone(),
            };
            // The groups this provider vouches for now (its groups claim), before the
            // session exists: a sign-in whose groups cannot be stored must not grant access
            // on groups the provider no longer sends.
            if let Err(e) = portcullis::ssr::groups::refresh_from_claims(
                &state.db,
                &user_id,
                &verified.provider.slug,
                &verified.provider.settings.groups_claim,
                &verified.claims,
            )
            .await
            {
                flash(session, &AppError::from(e)).await;
                return redirect("/login");
            }
            // The provider's Admin Claims and the display name, before the session exists: a
            // role that cannot be brought up to date is no sign-in (fail closed).
            if let Err(e) =
                portcullis::ssr::admin_sync::at_sign_in(&state.db, &verified, &user_id).await
            {
                flash(session, &AppError::from(e)).await;
                return redirect("/login");
            }
            if let Err(e) = sign_in(session, &user_id, via).await {
                flash(session, &e).await;
                return redirect("/login");
            }
            tracing::info!(provider = ?verified.provider.slug, user = ?user_id, "signed in with OpenID Connect");
            let to = verified.return_to.unwrap_or_else(|| "/".to_owned());
            redirect(&to)
        }
        Ok(Outcome::Linked(user_id)) => {
            tracing::info!(provider = ?verified.provider.slug, user = ?user_id, "linked an OpenID Connect identity");
            let _ = session
                .set_notice(&format!("Your {provider} account is now linked."))
                .await;
            redirect(LINKED_ACCOUNTS)
        }
        Err(e) => {
            let error = match e {
                identities::IdentityError::Db(db) => AppError::from(db),
                other => {
                    tracing::info!(provider = ?verified.provider.slug, reason = ?other.to_string(), "OpenID Connect identity refused");
                    AppError::Denied(other.to_string())
                }
            };
            flash(session, &error).await;
            redirect(if link_mode { LINKED_ACCOUNTS } else { fail_to })
        }
    }
}

async fn flash(session: &AuthSession, error: &AppError) {
    if let Err(e) = session.set_flash(error).await {
        tracing::warn!(error = ?e, "could not keep a message for the next page");
    }
}

/// A redirect after sign-in work: the URL may have carried a code, so it must not leak
/// through Referer, nor be cached.
pub(crate) fn redirect(to: &str) -> Response {
    no_referrer(Redirect::to(to).into_response())
}

pub(crate) fn no_referrer(mut res: Response) -> Response {
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The client, as every limit counts it: its address (through `--trusted-proxies`), IPv6
/// by /64.
pub(crate) fn client(state: &AppState, req: &Request) -> Option<ClientKey> {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    Some(app::auth::resolve_client(state, peer, req.headers()).into())
}

/// The browser's binding cookie, under the one name this installation uses.
pub(crate) fn binding_cookie(state: &AppState, req: &Request) -> Option<String> {
    let name = binding_spec(state).name;
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// How long a sign-in response waited for the provider, for [`server_timing`].
#[derive(Clone, Copy)]
struct ProviderWait(Duration);

fn with_provider_wait(mut res: Response, wait: Duration) -> Response {
    res.extensions_mut().insert(ProviderWait(wait));
    res
}

/// With `--server-timing`, sign-in responses (starts and callbacks) get
/// `Server-Timing: app;dur=<ours>, provider;dur=<waiting for the provider>` in milliseconds.
/// A layer outside the session layer, so "app" includes saving the session.
pub async fn server_timing(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.server_timing || !req.uri().path().starts_with("/login") {
        return next.run(req).await;
    }
    let began = Instant::now();
    let mut res = next.run(req).await;
    if let Some(ProviderWait(provider)) = res.extensions().get::<ProviderWait>().copied() {
        let ours = began.elapsed().saturating_sub(provider);
        let value = format!(
            "app;dur={:.3}, provider;dur={:.3}",
            ours.as_secs_f64() * 1000.0,
            provider.as_secs_f64() * 1000.0
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert("server-timing", v);
        }
    }
    res
}
