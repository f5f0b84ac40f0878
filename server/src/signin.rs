//! Signing in and linking with OpenID Connect, as plain axum routes:
//!
//! - `GET /login` ([`login`]) is one of four things: the login page (the Leptos app), a
//!   sign-in start (`?provider=<slug>[&next=<path>]`), the auto-redirect to the one provider
//!   the page goes straight to, or an answer on the old shared redirect URI, refused;
//! - `POST /login/<slug>/link` (form field `token`) starts linking that provider to the
//!   signed-in account; the token never travels in a URL;
//! - `GET /login/<slug>?code=...&state=...` (or `?error=...`) is provider `<slug>`'s own
//!   redirect URI, where its answer comes back; without an answer it goes to the login page;
//! - `POST /settings/users/oidc/test-sign-in` is Test sign-in (`test_sign_in.rs`).
//!
//! Signing out at the provider is `logout.rs`. The protocol lives in
//! `portcullis::ssr::oidc::flow`; what a verified identity means here in
//! `portcullis::ssr::identities`. This module only moves between HTTP and those.

use crate::login_html::LoginHtml;
use app::auth::{audit_refused, audit_sign_in, session_user, sign_in};
use app::error::AppError;
use app::extract::{Binding, ClientAddr, SignedIn};
use app::html::{Onward, continue_page};
use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Uri};
use portcullis::identity::decision::Purpose;
use portcullis::return_path::safe_return_to;
use portcullis::ssr::audit::Actor;
use portcullis::ssr::client_ip::ClientKey;
use portcullis::ssr::clock::now;
use portcullis::ssr::identities::{self, Outcome};
use portcullis::ssr::metrics;
use portcullis::ssr::oidc::flow::{Attempt, Callback, DEFAULT_TIMEOUT, Rp, Verified};
use portcullis::ssr::oidc::pending::{Mode, Starter, new_binding};
use portcullis::ssr::op::authorize;
use portcullis::ssr::session::{AuthSession, SignedInVia};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINKED_ACCOUNTS: &str = "/profile/settings/linked-accounts";

/// The words of the page that moves a browser on to its provider (a form post may not
/// redirect there).
pub(crate) const TO_PROVIDER: Onward = Onward {
    title: "Continuing to your provider",
    lead: "Continuing to your identity provider… ",
};

/// The sign-in routes; `page` renders the login page (the Leptos app) for a plain `/login`.
pub fn routes<P, F>(page: P) -> Router<AppState>
where
    P: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let page = LoginPage {
        render: Arc::new(move |req| Box::pin(page(req))),
        kept: Arc::default(),
    };
    Router::new()
        .route("/login", get(login).layer(Extension(page)))
        .route("/login/{slug}", get(callback))
        .route("/login/{slug}/link", post(start_link))
        .route(
            portcullis::test_sign_in::START_PATH,
            crate::test_sign_in::route(),
        )
}

/// The login page as the Leptos app renders it, and as a first-time visitor gets it.
#[derive(Clone)]
struct LoginPage {
    render: Arc<dyn Fn(Request) -> PageFuture + Send + Sync>,
    kept: Arc<LoginHtml>,
}

impl LoginPage {
    /// The page for `req`: the kept render for a visitor with no session and no query
    /// (`login_html`), else rendered.
    async fn show(&self, state: &AppState, session: &AuthSession, req: Request) -> Response {
        let first_visit = session.id().is_none() && req.uri().query().is_none();
        let snapshot = match first_visit {
            true => state.login_page.get(&state.db).await.ok(),
            false => None,
        };
        let Some(snapshot) = snapshot else {
            return (self.render)(req).await;
        };
        if let Some(res) = self.kept.get(&snapshot) {
            return res;
        }
        let res = (self.render)(req).await;
        self.kept.keep(snapshot, res).await
    }
}

type PageFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// `/login`'s query, as far as a sign-in reads it.
#[derive(Debug, Default, Deserialize)]
struct Start {
    provider: Option<String>,
    link: Option<String>,
    next: Option<String>,
    /// `/login?choose`: show the page even when it goes straight to a provider.
    choose: Option<String>,
}

/// A query as far as it can be read; anything it cannot read is left out.
fn query<T: DeserializeOwned + Default>(uri: &Uri) -> T {
    axum::extract::Query::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// `GET /login`: which of its jobs this visit is.
async fn login(
    State(state): State<AppState>,
    session: AuthSession,
    client: ClientAddr,
    Binding(binding): Binding,
    Extension(page): Extension<LoginPage>,
    req: Request,
) -> Response {
    let callback: Callback = query(req.uri());
    if callback.is_callback() {
        return refuse_shared_callback(&state, &session, &callback, binding, client.0).await;
    }
    let start: Start = query(req.uri());
    let starter = SignInStart {
        state: &state,
        session: &session,
        next: start.next.as_deref(),
        client: client.key(),
        binding,
    };
    match start.provider.as_deref() {
        Some(slug) if !slug.is_empty() => {
            if start.link.is_some() {
                // Link tokens are no longer accepted in URLs (they leak through history and
                // logs); the Linked Accounts page posts them.
                let signed_in = session_user(&session, &state.db).await;
                return link_expired(&session, matches!(signed_in, Ok(Some(_)))).await;
            }
            starter
                .sign_in(slug)
                .await
                .unwrap_or_else(|| with_provider_wait(redirect("/login"), Duration::ZERO))
        }
        _ => {
            let direct = direct_visit(req.headers());
            match auto_redirect_target(&state, &session, &start, direct).await {
                Some(slug) => match starter.sign_in(&slug).await {
                    Some(res) => res,
                    None => page.show(&state, &session, req).await,
                },
                None => page.show(&state, &session, req).await,
            }
        }
    }
}

/// An answer on `/login`, the old shared redirect URI. Answers come back on each provider's
/// own redirect URI; one arriving here was not sent by any attempt this version started, so
/// it is refused (after using up its state, so it cannot be replayed on the right URI
/// either).
async fn refuse_shared_callback(
    state: &AppState,
    session: &AuthSession,
    callback: &Callback,
    binding: Option<String>,
    client: Option<IpAddr>,
) -> Response {
    finish(state, session, None, callback, binding.as_deref(), client).await
}

/// A sign-in about to start: who asks, and where they go afterwards.
struct SignInStart<'a> {
    state: &'a AppState,
    session: &'a AuthSession,
    /// `next`: a path here, or the exact URL of a configured application (forward auth).
    next: Option<&'a str>,
    client: Option<ClientKey>,
    binding: Option<String>,
}

impl SignInStart<'_> {
    /// Starts signing in with `slug`; `None` when this client has started too many (the wait
    /// is left for the login page).
    async fn sign_in(self, slug: &str) -> Option<Response> {
        let state = self.state;
        if let Err(wait) = state.limiter.start(self.client) {
            flash(self.session, &AppError::RateLimited(wait)).await;
            return None;
        }
        let apps = state.apps.get(&state.db).await.unwrap_or_default();
        let return_to = self.next.and_then(|n| safe_return_to(n, &apps));
        // An application signing someone in through Portcullis asked for a fresh sign-in:
        // the provider is asked too (`conclude` holds it to that).
        let fresh = authorize::fresh_sign_in(&state.db, return_to.as_deref()).await;
        let attempt = Attempt {
            mode: &Mode::SignIn,
            return_to: return_to.as_deref(),
            fresh,
        };
        let started = begin(
            state,
            self.session,
            slug,
            attempt,
            self.binding,
            self.client,
        );
        Some(started.await)
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
fn direct_visit(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|s| s == "none")
}

#[derive(Deserialize)]
struct LinkForm {
    token: String,
}

/// `POST /login/<slug>/link`: the signed-in user links provider `slug` (single-use token
/// from the Linked Accounts page).
async fn start_link(
    State(state): State<AppState>,
    session: AuthSession,
    caller: Result<SignedIn, Response>,
    Path(slug): Path<String>,
    client: ClientAddr,
    Binding(binding): Binding,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Response {
    let signed_in = caller.is_ok();
    let (Ok(Form(form)), Ok(SignedIn { user, .. })) = (form, caller) else {
        return link_expired(&session, signed_in).await;
    };
    if !session.take_link_token(&form.token).await.unwrap_or(false) {
        return link_expired(&session, signed_in).await;
    }
    let mode = Mode::Link { user_id: user.id };
    let attempt = Attempt {
        mode: &mode,
        return_to: None,
        fresh: None,
    };
    let started = begin(&state, &session, &slug, attempt, binding, client.key()).await;
    to_provider(started)
}

/// A sign-in or link start posted as a form goes on to the provider through a page: a form
/// post must not redirect to another origin (the pages' CSP, `form-action 'self'`, makes the
/// browser block it). A redirect back here stays a redirect.
pub(crate) fn to_provider(res: Response) -> Response {
    let elsewhere = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l.starts_with("https://") || l.starts_with("http://"));
    if elsewhere {
        continue_page(res, TO_PROVIDER)
    } else {
        res
    }
}

/// `signed_in`: the `SignedIn` extractor's answer, so the user is not read again.
async fn link_expired(session: &AuthSession, signed_in: bool) -> Response {
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
    session: AuthSession,
    Path(slug): Path<String>,
    Binding(binding): Binding,
    client: ClientAddr,
    uri: Uri,
) -> Response {
    let callback: Callback = query(&uri);
    if !callback.is_callback() {
        return Redirect::to("/login").into_response();
    }
    finish(
        &state,
        &session,
        Some(&slug),
        &callback,
        binding.as_deref(),
        client.0,
    )
    .await
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
    attempt: Attempt<'_>,
    binding: Option<String>,
    client: Option<ClientKey>,
) -> Response {
    let binding = binding.unwrap_or_else(new_binding);
    let starter = Starter {
        binding: &binding,
        client,
    };
    match rp(state).start(slug, attempt, starter).await {
        Ok(url) => {
            let res = with_binding(state, Redirect::to(&url).into_response(), &binding);
            with_provider_wait(no_referrer(res), Duration::ZERO)
        }
        Err(e) => {
            tracing::warn!(provider = ?slug, kind = ?e.kind, detail = ?e.detail, "OpenID Connect start failed");
            flash(session, &AppError::from(e)).await;
            let back = if matches!(attempt.mode, Mode::Link { .. }) {
                LINKED_ACCOUNTS
            } else {
                "/login"
            };
            with_provider_wait(redirect(back), Duration::ZERO)
        }
    }
}

/// Sets the browser-binding cookie (`binding`) on `res`.
pub(crate) fn with_binding(state: &AppState, mut res: Response, binding: &str) -> Response {
    if let Some(cookie) = Binding::set(state, binding) {
        res.headers_mut().append(SET_COOKIE, cookie);
    }
    res
}

async fn finish(
    state: &AppState,
    session: &AuthSession,
    arrived_on: Option<&str>,
    callback: &Callback,
    binding: Option<&str>,
    client: Option<IpAddr>,
) -> Response {
    let signed_in = session.user_id().await.ok().flatten().is_some();
    let fail_to = if signed_in { LINKED_ACCOUNTS } else { "/login" };
    let rp = rp(state);
    // The provider counted (a stored one's slug, from the attempt; never the URL's).
    let mut counted_as = None;
    let attempt = match rp.take_attempt(callback, binding).await {
        // An administrator's test sign-in: a report, never a sign-in.
        Ok(pending) if pending.is_test() => {
            return crate::test_sign_in::callback(
                state, session, arrived_on, callback, pending, binding,
            )
            .await;
        }
        Ok(pending) => {
            counted_as = Some(pending.provider_slug.clone());
            rp.finish_attempt(arrived_on, callback, pending).await
        }
        Err(e) => Err(e),
    };
    let verified = match attempt {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(provider = ?e.provider, kind = ?e.kind, detail = ?e.detail, "OpenID Connect sign-in failed");
            let slug = counted_as.as_deref().unwrap_or("unknown");
            metrics::provider_sign_in(slug, e.kind.class());
            let by = Actor::unknown("-", client);
            let details = [
                ("method", "provider"),
                ("provider", slug),
                ("reason", e.kind.class()),
            ];
            audit_refused(&state.db, &by, None, &details).await;
            flash(session, &AppError::from(e)).await;
            return with_provider_wait(redirect(fail_to), Duration::ZERO);
        }
    };
    let provider_time = verified.provider_time;
    let slug = verified.provider.slug.clone();
    let (res, outcome) = conclude(state, session, verified, fail_to, client).await;
    metrics::provider_sign_in(&slug, outcome);
    with_provider_wait(res, provider_time)
}

/// Signs in (or links) the verified identity; the response, and the outcome as counted.
async fn conclude(
    state: &AppState,
    session: &AuthSession,
    verified: Verified,
    fail_to: &str,
    client: Option<IpAddr>,
) -> (Response, &'static str) {
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
            return (redirect(fail_to), "link_refused");
        }
    }
    let fresh = match verified.purpose {
        Purpose::SignIn => authorize::fresh_sign_in(&state.db, verified.return_to.as_deref()).await,
        _ => None,
    };
    if let Some(fresh) = fresh
        && let Err(why) = fresh.met_by(verified.auth_time, now())
    {
        tracing::info!(provider = ?verified.provider.slug, auth_time = ?verified.auth_time, "the provider's sign-in is not the fresh one an application asked for; refused");
        flash(session, &AppError::Denied(why.into())).await;
        let again = match verified.return_to.as_deref() {
            Some(next) => format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
            None => "/login".to_owned(),
        };
        return (redirect(&again), "not_fresh");
    }
    match identities::resolve(&state.db, &verified).await {
        Ok(Outcome::SignedIn(user_id)) | Ok(Outcome::Created(user_id)) => {
            let via = SignedInVia::Provider {
                slug: verified.provider.slug.clone(),
                issuer: verified.issuer.clone(),
                subject: verified.subject.clone(),
                at_provider: verified.at_provider.clone(),
                two_factors: verified.two_factors,
                // When the person signed in there: as the provider says; or now, when it
                // was asked for a new sign-in and says nothing (`Fresh::met_by` took it at
                // its word); otherwise unknown, which no `prompt=login` or `max_age` counts.
                auth_time: verified
                    .auth_time
                    .or(fresh.filter(|f| f.login).map(|_| now())),
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
                return (redirect("/login"), "error");
            }
            // The provider's Admin Claims and the display name, before the session exists: a
            // role that cannot be brought up to date is no sign-in (fail closed).
            if let Err(e) =
                portcullis::ssr::admin_sync::at_sign_in(&state.db, &verified, &user_id).await
            {
                flash(session, &AppError::from(e)).await;
                return (redirect("/login"), "error");
            }
            if let Err(e) = sign_in(session, &user_id, via).await {
                flash(session, &e).await;
                return (redirect("/login"), "error");
            }
            tracing::info!(provider = ?verified.provider.slug, user = ?user_id, "signed in with OpenID Connect");
            let by = Actor::user(&user_id, "", client);
            let details = [
                ("method", "provider"),
                ("provider", verified.provider.slug.as_str()),
            ];
            audit_sign_in(&state.db, &by, &details).await;
            let to = verified.return_to.unwrap_or_else(|| "/".to_owned());
            (redirect(&to), "success")
        }
        Ok(Outcome::Linked(user_id)) => {
            tracing::info!(provider = ?verified.provider.slug, user = ?user_id, "linked an OpenID Connect identity");
            let _ = session
                .set_notice(&format!("Your {provider} account is now linked."))
                .await;
            (redirect(LINKED_ACCOUNTS), "linked")
        }
        Err(e) => {
            let outcome = if let identities::IdentityError::Db(_) = e {
                "error"
            } else {
                tracing::info!(provider = ?verified.provider.slug, reason = ?e.to_string(), "OpenID Connect identity refused");
                "identity_refused"
            };
            let by = Actor::unknown("-", client);
            let slug = verified.provider.slug.as_str();
            let details = [
                ("method", "provider"),
                ("provider", slug),
                ("reason", outcome),
            ];
            audit_refused(&state.db, &by, None, &details).await;
            flash(session, &AppError::from(e)).await;
            let to = if link_mode { LINKED_ACCOUNTS } else { fail_to };
            (redirect(to), outcome)
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

/// How long a sign-in response waited for the provider, for [`server_timing`].
#[derive(Clone, Copy)]
struct ProviderWait(Duration);

fn with_provider_wait(mut res: Response, wait: Duration) -> Response {
    res.extensions_mut().insert(ProviderWait(wait));
    res
}

/// The local sign-ins [`server_timing`] times besides the provider's (which wait for no
/// provider): the password form and a passkey's two steps.
const LOCAL_SIGN_INS: [&str; 3] = [
    "/api/auth/login",
    "/api/v1/passkeys/sign-in/start",
    "/api/v1/passkeys/sign-in/finish",
];

/// With `--server-timing`, sign-in responses (a provider's starts and callbacks, the password
/// form, a passkey's start and finish) get `Server-Timing: app;dur=<ours>,
/// provider;dur=<waiting for the provider>` in milliseconds. A layer outside the session
/// layer, so "app" includes saving the session.
pub async fn server_timing(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let local = LOCAL_SIGN_INS.contains(&path);
    if !state.server_timing || !(local || path.starts_with("/login")) {
        return next.run(req).await;
    }
    let began = Instant::now();
    let mut res = next.run(req).await;
    let waited = res.extensions().get::<ProviderWait>().copied();
    if let Some(ProviderWait(provider)) = waited.or(local.then_some(ProviderWait(Duration::ZERO))) {
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

#[cfg(test)]
mod tests {
    use super::query;
    use portcullis::ssr::oidc::flow::Callback;

    fn callback(uri: &str) -> Callback {
        query(&uri.parse().unwrap())
    }

    /// A callback reads as the provider sent it, and a query with a repeated parameter is
    /// no callback at all (as any query that does not read), never half of one.
    #[test]
    fn a_callback_reads_whole_or_not_at_all() {
        let refused = callback("/login?state=S&error=access_denied&x=1");
        assert!(refused.is_callback());
        assert_eq!(refused.error.error.as_deref(), Some("access_denied"));
        assert_eq!(refused.error.error_description, None);
        let code = callback("/login?code=C&state=S&iss=https%3A%2F%2Fi");
        assert!(code.is_callback() && code.error.error.is_none());
        assert_eq!(code.code.as_deref(), Some("C"));
        for repeated in [
            "/login?state=S&error=a&error=b",
            "/login?code=C&state=S&error=x&error=y",
            "/login?code=C&state=S&error_description=a&error_description=b",
            "/login?code=C&code=D&state=S",
        ] {
            assert!(!callback(repeated).is_callback(), "{repeated}");
        }
    }
}
