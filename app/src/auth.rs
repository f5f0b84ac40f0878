//! Who is calling: the session, the signed-in user, and the checks every server function
//! makes before it does anything.

use crate::components::page::Messages;
use crate::error::AppError;
use crate::state::AppState;
use http::request::Parts;
use leptos::prelude::*;
use portcullis::ssr::db::Db;
use portcullis::ssr::session::{AuthSession, SignedInVia};
use portcullis::ssr::users::{self, UserRow};

/// The server's state, provided to every request's reactive owner. Rendering without one
/// (Leptos walks the app once at startup to list its routes, running resources as it goes)
/// is an error for that render, not a panic of the server.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::Transport("no request to serve".into()))
}

/// The calling request's session.
pub async fn session() -> Result<AuthSession, AppError> {
    // A page render whose client went away can still run its resources for a moment after
    // the request is gone; that is no server fault, so it is not logged as one.
    if use_context::<Parts>().is_none() {
        tracing::debug!("session asked for after its request ended");
        return Err(AppError::Transport("the request ended".into()));
    }
    leptos_axum::extract_with_state::<AuthSession, _>(&state()?)
        .await
        .map_err(AppError::internal)
}

/// The user a session belongs to, read fresh from the database so that a deleted user or a
/// revoked admin flag takes effect at once.
pub async fn session_user(session: &AuthSession, db: &Db) -> Result<Option<UserRow>, AppError> {
    match session.user_id().await? {
        Some(id) => Ok(users::get(db, &id).await?),
        None => Ok(None),
    }
}

/// The signed-in user behind a session: 401 when there is none. What `as_user` and the
/// `SignedIn` extractor both ask.
pub async fn signed_in_user(session: &AuthSession, db: &Db) -> Result<UserRow, AppError> {
    session_user(session, db)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// The user, when an administrator: 403 otherwise. What `as_admin` and the `Admin`
/// extractor both ask.
pub fn administrator(user: UserRow) -> Result<UserRow, AppError> {
    if user.is_admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether a session may add or remove one of the account's second factors while a second
/// factor is required anywhere (the policy applies to this account, or an application
/// requires one): always when the session showed two factors; with one factor only while
/// the account has none (its first passkey or one-time codes: nothing to prove it with yet).
/// Otherwise someone holding only the password (or only the upstream account) could swap in
/// a factor of their own, or remove the owner's and then add one, and pass every application
/// that requires two. Where nothing requires two factors, they only guard sign-in, and the
/// signed-in owner manages them freely.
pub async fn may_change_factors(
    st: &AppState,
    session: &AuthSession,
    user: &UserRow,
) -> Result<(), AppError> {
    if session.data().await?.two_factors() {
        return Ok(());
    }
    if !has_second_factor(st, &user.id).await? {
        return Ok(());
    }
    let required = st
        .apps
        .requirement(&st.db)
        .await?
        .applies(user.is_admin, false)
        || st
            .apps
            .get(&st.db)
            .await?
            .iter()
            .any(|a| a.settings.require_second_factor);
    if required {
        return Err(AppError::SecondFactorRequired);
    }
    Ok(())
}

/// Whether `user_id` has a second factor: one-time codes on, or a passkey.
pub async fn has_second_factor(st: &AppState, user_id: &str) -> Result<bool, AppError> {
    Ok(portcullis::ssr::totp::enabled(&st.db, user_id).await?
        || !portcullis::ssr::passkeys::list(&st.db, user_id)
            .await?
            .is_empty())
}

/// Where a sign-in (or a step-up) goes on to: `next` when it is a path here or the exact URL
/// of a configured application (forward auth sends people with it), else the start page.
pub async fn sign_in_target(st: &AppState, next: Option<&str>) -> String {
    let apps = st.apps.get(&st.db).await.unwrap_or_default();
    next.and_then(|n| portcullis::return_path::safe_return_to(n, &apps))
        .unwrap_or_else(|| "/".to_owned())
}

/// What a server function body works with.
pub struct Ctx {
    pub state: AppState,
    pub session: AuthSession,
}

/// Runs a server function that anyone may call, then [`respond`]s.
pub async fn public<T, Fut>(body: impl FnOnce(Ctx) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = async { body(Ctx::new().await?).await }.await;
    respond(result).await
}

/// Runs a server function for a signed-in user (401 otherwise), then [`respond`]s.
pub async fn as_user<T, Fut>(body: impl FnOnce(Ctx, UserRow) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = async {
        let cx = Ctx::new().await?;
        let user = signed_in_user(&cx.session, &cx.state.db).await?;
        body(cx, user).await
    }
    .await;
    respond(result).await
}

/// Runs a server function for an administrator (401 or 403 otherwise), then [`respond`]s.
pub async fn as_admin<T, Fut>(body: impl FnOnce(Ctx, UserRow) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    as_user(async move |cx, user| {
        let admin = administering(&cx.state, &cx.session, user).await?;
        body(cx, admin).await
    })
    .await
}

/// `user` acting as an administrator in `session`, for every administrator's way in (server
/// functions and the extractor alike): refused when not one, and when the policy asks
/// administrators for two factors and this session has shown only one.
pub async fn administering(
    st: &AppState,
    session: &AuthSession,
    user: UserRow,
) -> Result<UserRow, AppError> {
    let admin = administrator(user)?;
    let requirement = st.apps.requirement(&st.db).await?;
    if requirement.applies(true, false) && !session.data().await?.two_factors() {
        return Err(AppError::SecondFactorRequired);
    }
    Ok(admin)
}

impl Ctx {
    async fn new() -> Result<Ctx, AppError> {
        // The session first: it is what tells a render with no request behind it.
        let session = session().await?;
        Ok(Ctx {
            state: state()?,
            session,
        })
    }

    /// The error a plain form post (or a sign-in callback) left for this page, once.
    pub async fn take_flash(&self) -> Option<AppError> {
        self.session.take_flash().await
    }

    /// What this page shows once: the notice and the error left for it.
    pub async fn messages(&self) -> Messages {
        Messages {
            notice: self.session.take_notice().await,
            flash: self.take_flash().await,
        }
    }

    /// The flash alone, for a page that shows no notice (a notice waits for one that does).
    pub async fn flash(&self) -> Messages {
        Messages {
            notice: None,
            flash: self.take_flash().await,
        }
    }
}

/// Who acts in this request, for the audit log: `user`, at this request's client address.
pub async fn actor(user: &UserRow) -> portcullis::ssr::audit::Actor {
    portcullis::ssr::audit::Actor::user(&user.id, &user.username, client_ip().await)
}

/// A sign-in for the audit log, by `by`, with how (`method`: `password` or `provider`, and
/// which). Written after the session store wrote the session (not a transaction of ours).
pub async fn audit_sign_in(db: &Db, by: &portcullis::ssr::audit::Actor, details: &[(&str, &str)]) {
    audit_sign_in_event(db, portcullis::audit::EventKind::SignIn, by, None, details).await
}

/// A signed-in session that gave its second factor (the step-up), for the audit log.
pub async fn audit_step_up(db: &Db, by: &portcullis::ssr::audit::Actor, details: &[(&str, &str)]) {
    use portcullis::audit::EventKind::SteppedUp;
    audit_sign_in_event(db, SteppedUp, by, None, details).await
}

/// A refused sign-in for the audit log: by whom (what was typed, or the account), the
/// account it concerns when known, and why.
pub async fn audit_refused(
    db: &Db,
    by: &portcullis::ssr::audit::Actor,
    account: Option<&str>,
    details: &[(&str, &str)],
) {
    use portcullis::audit::EventKind::SignInFailed;
    audit_sign_in_event(db, SignInFailed, by, account, details).await
}

async fn audit_sign_in_event(
    db: &Db,
    kind: portcullis::audit::EventKind,
    by: &portcullis::ssr::audit::Actor,
    account: Option<&str>,
    details: &[(&str, &str)],
) {
    use portcullis::ssr::audit::{Entry, record};
    let mut entry = Entry::new(kind, by);
    if let Some(id) = account {
        entry.user_id = Some(id.to_owned());
    }
    for (k, v) in details {
        entry = entry.detail(k, *v);
    }
    record(db, entry).await;
}

/// Signs `user_id` in on this request's session, recording how (and the browser, from the
/// session's User-Agent).
pub async fn sign_in(
    session: &AuthSession,
    user_id: &str,
    via: SignedInVia,
) -> Result<(), AppError> {
    Ok(session.sign_in(user_id, via).await?)
}

/// How the current server function was reached.
#[derive(PartialEq)]
enum Caller {
    /// A plain HTML form post (JavaScript off).
    FormPost,
    /// The hydrated app's fetch.
    App,
    /// Called directly while the server renders a page: the page decides its own status.
    PageRender,
}

fn caller() -> Caller {
    match use_context::<Parts>() {
        Some(parts) if crate::html::is_form_post(&parts) => Caller::FormPost,
        Some(parts) if parts.method == http::Method::POST => Caller::App,
        _ => Caller::PageRender,
    }
}

/// Whether the current server function was reached by a plain form post
/// ([`crate::html::is_form_post`]): its answer must be a page or a same-origin redirect.
pub fn plain_form_post() -> bool {
    caller() == Caller::FormPost
}

/// Finishes a server function. Errors get their HTTP status for the hydrated app. A plain
/// form post is sent back to the form's page; its error travels in the session (a one-time
/// flash), not in the URL as server_fn would do it, so nobody can craft a link that shows a
/// message of their choosing on our pages.
pub async fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        match caller() {
            Caller::FormPost => {
                if let Ok(session) = session().await {
                    let _ = session.set_flash(error).await;
                }
                leptos_axum::redirect(&referring_page());
            }
            Caller::App => {
                if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                    res.set_status(
                        http::StatusCode::from_u16(error.status())
                            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                    );
                }
            }
            Caller::PageRender => {}
        }
    }
    result
}

/// The same-origin page a form was posted from, without server_fn's error parameters.
fn referring_page() -> String {
    let referer = use_context::<Parts>().and_then(|p| {
        p.headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let path = referer.and_then(|r| url::Url::parse(&r).ok()).map(|mut u| {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "__err" && k != "__path")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.set_query(None);
        if !kept.is_empty() {
            u.query_pairs_mut().extend_pairs(kept);
        }
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    });
    path.as_deref()
        .and_then(portcullis::return_path::safe_return_path)
        .unwrap_or_else(|| "/".to_owned())
}

/// A cookie of the calling request.
pub fn request_cookie(name: &str) -> Option<String> {
    crate::extract::cookie(&use_context::<Parts>()?.headers, name)
}

/// The calling client's address (through `--trusted-proxies`), when the server was started
/// with connection info.
pub async fn client_ip() -> Option<std::net::IpAddr> {
    leptos_axum::extract_with_state::<crate::extract::ClientAddr, _>(&state().ok()?)
        .await
        .ok()?
        .0
}
