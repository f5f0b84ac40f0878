//! `GET /login?provider=<slug>` starts a sign-in (or, with `link=<token>`, a link) and
//! `GET /login?code=...&state=...` (or `?error=...`) finishes it: the one redirect URI of
//! the installation. Every other `/login` goes on to the login page.

use app::auth::{link_token, session_user, set_flash, set_notice, sign_in};
use app::error::AppError;
use app::state::AppState;
use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{CACHE_CONTROL, COOKIE, REFERRER_POLICY, SET_COOKIE};
use http::{HeaderValue, Method};
use portcullis::provider::redirect_uri;
use portcullis::return_path::safe_return_path;
use portcullis::ssr::identities::{self, Outcome};
use portcullis::ssr::oidc::flow::{Callback, DEFAULT_TIMEOUT, Rp};
use portcullis::ssr::oidc::pending::{Mode, new_binding};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite};

const BINDING_COOKIE: &str = "portcullis_oidc";
const LINKED_ACCOUNTS: &str = "/profile/settings/linked-accounts";

#[derive(Debug, Default, Deserialize)]
struct Start {
    provider: Option<String>,
    link: Option<String>,
    next: Option<String>,
}

pub async fn intercept(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET || req.uri().path() != "/login" {
        return next.run(req).await;
    }
    let callback: Callback = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let binding = binding_cookie(&req);
    if callback.is_callback() {
        let (res, provider_time) = finish(&state, &session, &callback, binding.as_deref()).await;
        return with_provider_wait(res, provider_time);
    }
    let start_params: Start = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    match start_params.provider.as_deref() {
        Some(slug) if !slug.is_empty() => {
            let res = start(&state, &session, slug, &start_params, binding).await;
            with_provider_wait(res, Duration::ZERO)
        }
        _ => next.run(req).await,
    }
}

/// How long a sign-in response waited for the provider, for [`server_timing`].
#[derive(Clone, Copy)]
struct ProviderWait(Duration);

fn with_provider_wait(mut res: Response, wait: Duration) -> Response {
    res.extensions_mut().insert(ProviderWait(wait));
    res
}

/// With `--server-timing`, sign-in responses (`/login` with a provider or a callback) get
/// `Server-Timing: app;dur=<ours>, provider;dur=<waiting for the provider>` in milliseconds.
/// Added outside the session layer, so "app" includes saving the session.
pub async fn server_timing(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.server_timing || req.uri().path() != "/login" {
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

/// The relying party, with the redirect URI from the configured public URL (never from
/// the request's Host header).
fn rp(state: &AppState) -> Rp<'_> {
    Rp {
        db: &state.db,
        secrets: &state.secrets,
        cache: &state.oidc_cache,
        redirect_uri: redirect_uri(&state.public_url),
        timeout: DEFAULT_TIMEOUT,
    }
}

async fn start(
    state: &AppState,
    session: &Session,
    slug: &str,
    params: &Start,
    binding: Option<String>,
) -> Response {
    let user = session_user(session, &state.db).await.ok().flatten();
    let mode = match &params.link {
        Some(token) => {
            let valid = match &user {
                Some(_) => link_token(session).await.is_ok_and(|t| t == *token),
                None => false,
            };
            match (valid, &user) {
                (true, Some(u)) => Mode::Link {
                    user_id: u.id.clone(),
                },
                _ => {
                    set_flash(
                        session,
                        &AppError::Denied(
                            "That link has expired. Open Linked Accounts and try again.".into(),
                        ),
                    )
                    .await;
                    return no_referrer(
                        Redirect::to(if user.is_some() {
                            LINKED_ACCOUNTS
                        } else {
                            "/login"
                        })
                        .into_response(),
                    );
                }
            }
        }
        None => Mode::SignIn,
    };
    let return_to = params.next.as_deref().and_then(safe_return_path);
    let binding = binding.unwrap_or_else(new_binding);
    match rp(state)
        .start(slug, &mode, return_to.as_deref(), &binding)
        .await
    {
        Ok(url) => {
            let mut res = Redirect::to(&url).into_response();
            let cookie = Cookie::build((BINDING_COOKIE, binding))
                .path("/login")
                .http_only(true)
                .secure(state.public_url.starts_with("https://"))
                .same_site(SameSite::Lax)
                .max_age(tower_sessions::cookie::time::Duration::minutes(10))
                .build();
            if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
                res.headers_mut().append(SET_COOKIE, v);
            }
            no_referrer(res)
        }
        Err(e) => {
            tracing::warn!(provider = slug, kind = ?e.kind, detail = %e.detail, "OpenID Connect start failed");
            set_flash(session, &AppError::Denied(e.to_string())).await;
            let back = if matches!(mode, Mode::Link { .. }) {
                LINKED_ACCOUNTS
            } else {
                "/login"
            };
            no_referrer(Redirect::to(back).into_response())
        }
    }
}

async fn finish(
    state: &AppState,
    session: &Session,
    callback: &Callback,
    binding: Option<&str>,
) -> (Response, Duration) {
    let signed_in = session_user(session, &state.db)
        .await
        .ok()
        .flatten()
        .is_some();
    let fail_to = if signed_in { LINKED_ACCOUNTS } else { "/login" };
    let verified = match rp(state).finish(callback, binding).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(provider = ?e.provider, kind = ?e.kind, detail = %e.detail, "OpenID Connect sign-in failed");
            set_flash(session, &AppError::Denied(e.to_string())).await;
            return (
                no_referrer(Redirect::to(fail_to).into_response()),
                Duration::ZERO,
            );
        }
    };
    let provider_time = verified.provider_time;
    let res = conclude(state, session, verified, fail_to).await;
    (res, provider_time)
}

async fn conclude(
    state: &AppState,
    session: &Session,
    verified: portcullis::ssr::oidc::flow::Verified,
    fail_to: &str,
) -> Response {
    let provider = verified.provider.name.clone();
    let link_mode = matches!(verified.mode, Mode::Link { .. });
    match identities::resolve(&state.db, &verified).await {
        Ok(Outcome::SignedIn(user_id)) | Ok(Outcome::Created(user_id)) => {
            if let Err(e) = sign_in(session, &user_id).await {
                set_flash(session, &e).await;
                return no_referrer(Redirect::to("/login").into_response());
            }
            tracing::info!(provider = %verified.provider.slug, user = %user_id, "signed in with OpenID Connect");
            let to = verified.return_to.unwrap_or_else(|| "/".to_owned());
            no_referrer(Redirect::to(&to).into_response())
        }
        Ok(Outcome::Linked(user_id)) => {
            tracing::info!(provider = %verified.provider.slug, user = %user_id, "linked an OpenID Connect identity");
            set_notice(session, &format!("Your {provider} account is now linked.")).await;
            no_referrer(Redirect::to(LINKED_ACCOUNTS).into_response())
        }
        Err(e) => {
            let error = match e {
                identities::IdentityError::Db(db) => AppError::internal(db),
                other => {
                    tracing::info!(provider = %verified.provider.slug, "OpenID Connect identity refused: {other}");
                    AppError::Denied(other.to_string())
                }
            };
            set_flash(session, &error).await;
            let back = if link_mode { LINKED_ACCOUNTS } else { fail_to };
            no_referrer(Redirect::to(back).into_response())
        }
    }
}

/// The callback URL carried a code: never let it leak through Referer, nor be cached.
fn no_referrer(mut res: Response) -> Response {
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn binding_cookie(req: &Request) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == BINDING_COOKIE)
        .map(|c| c.value().to_owned())
}
