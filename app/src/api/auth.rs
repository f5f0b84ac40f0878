//! Sign-in, sign-out, first-run setup and "who am I".

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::user::UserView;
use serde::{Deserialize, Serialize};

/// What the login page needs to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginPageData {
    pub setup_open: bool,
    pub signed_in: bool,
    pub local_login: bool,
    pub providers: Vec<portcullis::provider::LoginProvider>,
    /// Passkeys can sign in here (the public URL has a host name).
    #[serde(default)]
    pub passkeys: bool,
    /// The notice: a confirmation left for the login page (e.g. signed out at the provider too).
    pub messages: Messages,
}

/// What the setup page needs to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupPageData {
    pub open: bool,
    /// Passkeys can be used here: the administrator may be made with one instead.
    #[serde(default)]
    pub passkeys: bool,
    pub messages: Messages,
}

#[server(endpoint = "auth/me")]
pub async fn me() -> Result<Option<UserView>, AppError> {
    use crate::auth::*;
    public(async move |cx| {
        Ok(session_user(&cx.session, &cx.state.db)
            .await?
            .map(|u| u.view()))
    })
    .await
}

/// `next`: where the page goes once signed in. A signed-in browser gets the form too when
/// `next` is an OpenID Provider request waiting for it to sign in again (`prompt=login`,
/// `max_age`, an `id_token_hint` for someone else).
#[server(endpoint = "auth/login_page")]
pub async fn login_page(next: Option<String>) -> Result<LoginPageData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::op::authorize;
    public(async move |cx| {
        let snapshot = cx.state.login_page.get(&cx.state.db).await?;
        let messages = cx.messages().await;
        let signed_in = cx.session.user_id().await?.is_some() && {
            let marker = authorize::session_marker(cx.session.id().as_deref());
            !authorize::waits_for_sign_in(&cx.state.db, next.as_deref(), marker.as_deref()).await
        };
        Ok(LoginPageData {
            setup_open: snapshot.setup_open,
            local_login: snapshot.local_login,
            providers: snapshot.providers.clone(),
            passkeys: cx.state.passkeys.is_some(),
            signed_in,
            messages,
        })
    })
    .await
}

#[server(endpoint = "auth/login")]
pub async fn login(
    identifier: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::limiter::{Attempt, ClientKey};
    use portcullis::ssr::session::SignedInVia;
    use portcullis::ssr::{password, users};
    let typed = identifier.trim().to_owned();
    public(async move |cx| {
        let st = cx.state.clone();
        // Counted once it is decided, as the refusal's class (never who it was).
        let outcome = async move {
            portcullis::account::check_login(&identifier, &password).map_err(AppError::Validation)?;
            let st = &cx.state;
            let methods = portcullis::ssr::providers::login_methods(&st.db).await?;
            if !methods.local {
                return Err(AppError::Denied(
                    "Password sign-in is turned off here. Use one of the sign-in buttons.".into(),
                ));
            }
            let identifier = identifier.trim();
            let user = users::find_by_identifier(&st.db, identifier).await?;
            // One budget per account however it is named (username or email); an unknown
            // name gets its own, so refusals look the same whether or not it exists.
            let key = user
                .as_ref()
                .map_or_else(|| identifier.to_lowercase(), |u| u.id.clone());
            let ip = client_ip().await;
            // A browser that signed in to this account before is judged by its own budget
            // (its device cookie), so strangers' failures do not keep it out.
            let device_id = user.as_ref().and_then(|u| {
                portcullis::ssr::device::recognise(&st.secrets, device_cookie(st).as_deref(), &u.id)
            });
            let attempt = Attempt {
                account: &key,
                client: ip.map(ClientKey::from),
                device: device_id.as_deref(),
            };
            st.limiter.check(&attempt).map_err(|wait| {
                tracing::warn!(identifier = ?identifier, client = ?ip, trusted_device = device_id.is_some(), wait, "login rate limited");
                AppError::RateLimited(wait)
            })?;
            let hash = user.as_ref().and_then(|u| u.password_hash.clone());
            let user = match (password::verify(password, hash).await, user) {
                (true, Some(user)) => user,
                _ => {
                    tracing::info!(identifier = ?identifier, client = ?ip, trusted_device = device_id.is_some(), "failed login");
                    st.limiter.failed(&attempt);
                    return Err(AppError::InvalidCredentials);
                }
            };
            // A path here, or the exact URL of a configured application (forward auth).
            let target = sign_in_target(st, next.as_deref()).await;
            // An account with one-time codes is not signed in yet: the browser waits for
            // the code (`api::second_factor`), which then goes on to the same target.
            if portcullis::ssr::totp::enabled(&st.db, &user.id).await? {
                cx.session.await_second_factor(&user.id, &target).await?;
                tracing::info!(user = ?user.username, "password right, asking for a one-time code");
                leptos_axum::redirect("/second-factor");
                return Ok(());
            }
            sign_in(&cx.session, &user.id, SignedInVia::Password { otp: false }).await?;
            tracing::info!(user = ?user.username, "signed in with password");
            audit_sign_in(&st.db, &actor(&user).await, &[("method", "password")]).await;
            remember_device(st, &user.id);
            leptos_axum::redirect(&continue_to(&target));
            Ok(())
        }
        .await;
        let decided = outcome.as_ref().map(|_| ()).map_err(counted);
        portcullis::ssr::metrics::password_sign_in(decided);
        if let Err(refusal) = decided {
            // The account the name stands for, when there is one: its events show it.
            let account = users::find_by_identifier(&st.db, &typed).await.ok().flatten();
            let by = portcullis::ssr::audit::Actor::unknown(&typed, client_ip().await);
            let id = account.as_ref().map(|u| u.id.as_str());
            let details = [("method", "password"), ("reason", refusal.class())];
            audit_refused(&st.db, &by, id, &details).await;
        }
        outcome
    })
    .await
}

/// A refused password sign-in as counted.
#[cfg(feature = "ssr")]
fn counted(e: &AppError) -> portcullis::ssr::metrics::PasswordRefusal {
    use portcullis::ssr::metrics::PasswordRefusal::*;
    match e {
        AppError::InvalidCredentials => InvalidCredentials,
        AppError::RateLimited(_) => RateLimited,
        AppError::Denied(_) => MethodOff,
        AppError::Validation(_) => Invalid,
        _ => Error,
    }
}

/// This browser's device cookie (`portcullis::ssr::device`), as sent.
#[cfg(feature = "ssr")]
pub(crate) fn device_cookie(state: &crate::state::AppState) -> Option<String> {
    let https = state.public_url.starts_with("https://");
    crate::auth::request_cookie(portcullis::ssr::device::cookie_name(https))
}

/// After a password sign-in (or setting the password up): this browser's device cookie
/// vouches for `account_id` from now on, beside the other accounts it already held.
#[cfg(feature = "ssr")]
pub(crate) fn remember_device(state: &crate::state::AppState, account_id: &str) {
    use portcullis::ssr::device;
    let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let value = device::issue(&state.secrets, device_cookie(state).as_deref(), account_id);
    let https = state.public_url.starts_with("https://");
    if let Ok(v) = http::HeaderValue::from_str(&device::set_cookie(https, &value)) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}

/// Where a successful sign-in redirects to. A plain form post may not redirect to another
/// origin (the pages' `form-action 'self'` covers redirects too), so an application's URL is
/// reached through a same-origin page that moves on by itself
/// (`/api/v1/forward-auth/continue`); the hydrated app navigates there directly.
#[cfg(feature = "ssr")]
pub(crate) fn continue_to(target: &str) -> String {
    if target.starts_with('/') || !crate::auth::plain_form_post() {
        return target.to_owned();
    }
    let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    format!("/api/v1/forward-auth/continue?next={next}")
}

#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::*;
    use crate::extract::Binding;
    public(async move |cx| {
        // What the session was signed in through decides where the browser goes next.
        let data = cx.session.data().await?;
        cx.session.sign_out().await?;
        if let Some(user) = match &data.user_id {
            Some(id) => portcullis::ssr::users::get(&cx.state.db, id).await?,
            None => None,
        } {
            let entry = portcullis::ssr::audit::Entry::new(
                portcullis::audit::EventKind::SignOut,
                &actor(&user).await,
            );
            portcullis::ssr::audit::record(&cx.state.db, entry).await;
        }
        // Sign-ins, links and passkey ceremonies this browser started and has not finished
        // end with it, and its binding cookie goes too.
        let binding = leptos_axum::extract_with_state::<Binding, _>(&cx.state).await;
        if let Ok(Binding(Some(binding))) = binding {
            portcullis::ssr::oidc::pending::forget_browser(&cx.state.db, &binding).await?;
            portcullis::ssr::passkeys::forget_browser(&cx.state.db, &binding).await?;
            let res = use_context::<leptos_axum::ResponseOptions>();
            if let (Some(res), Some(gone)) = (res, Binding::clear(&cx.state)) {
                res.append_header(http::header::SET_COOKIE, gone);
            }
        }
        leptos_axum::redirect(&after_sign_out(&cx.state, data.via).await);
        Ok(())
    })
    .await
}

/// Where a browser goes once its session has ended: `/login`, or, for a session signed in
/// through a provider set to "Sign out at the provider too" that has an
/// end_session_endpoint, on to sign out there (RP-Initiated Logout). A browser without
/// JavaScript posted a form, and a form post may not be redirected to another origin (the
/// pages' CSP `form-action 'self'`): it goes to `/login/<slug>/sign-out`, a page of ours
/// that moves on to the provider. The local sign-out never waits on a provider that is down.
#[cfg(feature = "ssr")]
async fn after_sign_out(
    state: &crate::state::AppState,
    via: Option<portcullis::ssr::session::SignedInVia>,
) -> String {
    use portcullis::ssr::oidc::{flow, logout};
    use portcullis::ssr::session::SignedInVia;
    let Some(SignedInVia::Provider {
        slug, at_provider, ..
    }) = via
    else {
        return "/login".to_owned();
    };
    let rp = flow::Rp {
        db: &state.db,
        secrets: &state.secrets,
        cache: &state.oidc_cache,
        public_url: &state.public_url,
        timeout: flow::DEFAULT_TIMEOUT,
    };
    match logout::end_session(&rp, &slug, at_provider.id_token.as_deref()).await {
        Ok(Some(end)) => {
            if crate::auth::plain_form_post() {
                format!("/login/{slug}/sign-out?state={}", end.state)
            } else {
                end.url
            }
        }
        Ok(None) => "/login".to_owned(),
        Err(e) => {
            tracing::warn!(provider = ?slug, error = ?e, "sign-out stays local");
            "/login".to_owned()
        }
    }
}

#[server(endpoint = "auth/setup_page")]
pub async fn setup_page() -> Result<SetupPageData, AppError> {
    use crate::auth::*;
    public(async move |cx| {
        Ok(SetupPageData {
            open: portcullis::ssr::users::setup_open(&cx.state.db).await?,
            passkeys: cx.state.passkeys.is_some(),
            messages: cx.flash().await,
        })
    })
    .await
}

/// Creates the first administrator, only while no user exists, and signs them in.
#[server(endpoint = "auth/setup")]
pub async fn setup(
    username: String,
    email: String,
    display_name: String,
    password: String,
) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::account::NewAccount;
    use portcullis::ssr::session::SignedInVia;
    use portcullis::ssr::users;
    public(async move |cx| {
        let account = NewAccount {
            username,
            email,
            display_name,
            password,
        }
        .validate()
        .map_err(AppError::Validation)?;
        let by = portcullis::ssr::audit::Actor::unknown(&account.username, client_ip().await);
        let user = users::create(&cx.state.db, &account, true, true, &by).await?;
        cx.state.login_page.invalidate();
        sign_in(&cx.session, &user.id, SignedInVia::Password { otp: false }).await?;
        remember_device(&cx.state, &user.id);
        tracing::info!(user = ?user.username, "first-run setup created the administrator");
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}
