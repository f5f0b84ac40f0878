//! One-time codes (TOTP) as a second factor: the sign-in's second step (after a right
//! password, `auth::login` leaves the browser waiting here, not signed in), and the owner's
//! Security section (set up, confirm, recovery codes shown once, remove). Every check of a
//! code or a password here is limited as passwords are (`portcullis::ssr::limiter`).

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::second_factor::TotpStatus;
use serde::{Deserialize, Serialize};

/// What the second-factor page (`/second-factor`) needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorPageData {
    /// A right password is waiting for its code in this browser.
    pub pending: bool,
    /// Signed in with one factor: the step-up, and what this account can give.
    pub step_up: Option<StepUp>,
    /// Signed in with two factors already: nothing to give.
    pub two_factors: bool,
    pub messages: Messages,
}

/// The second factors a signed-in account can give to step up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepUp {
    pub username: String,
    pub one_time_codes: bool,
    /// The account has a passkey and passkeys can be used here.
    pub passkeys: bool,
}

/// Profile → Security.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityData {
    /// Whether the account has a password (one-time codes guard password sign-in only).
    pub has_password: bool,
    pub totp: TotpStatus,
    /// The account's passkeys.
    pub passkeys: Vec<portcullis::passkeys::PasskeyView>,
    /// Passkeys can be used here (the public URL has a host name).
    pub passkeys_available: bool,
    /// Recovery codes just made: shown this once, never again.
    pub fresh_recovery_codes: Option<Vec<String>>,
    pub messages: Messages,
}

#[server(endpoint = "auth/second_factor_page")]
pub async fn second_factor_page() -> Result<SecondFactorPageData, AppError> {
    use crate::auth::*;
    public(async move |cx| {
        let st = &cx.state;
        let data = cx.session.data().await?;
        let user = match &data.user_id {
            Some(id) => portcullis::ssr::users::get(&st.db, id).await?,
            None => None,
        };
        let step_up = match &user {
            Some(user) if !data.two_factors() => Some(StepUp {
                username: user.username.clone(),
                one_time_codes: portcullis::ssr::totp::enabled(&st.db, &user.id).await?,
                passkeys: st.passkeys.is_some()
                    && !portcullis::ssr::passkeys::list(&st.db, &user.id)
                        .await?
                        .is_empty(),
            }),
            _ => None,
        };
        Ok(SecondFactorPageData {
            pending: cx.session.pending_second_factor().await?.is_some(),
            two_factors: user.is_some() && data.two_factors(),
            step_up,
            messages: cx.flash().await,
        })
    })
    .await
}

/// A one-time code (or a recovery code), for one of two things: the sign-in's second step,
/// for the account whose password this browser gave in the last five minutes (right: signed
/// in, on to where the password sign-in was going); or the step-up of a session signed in
/// with one factor, which an application requires two of (right: the session counts as two
/// factors from now on, and goes on to `next`, judged as a sign-in's target).
#[server(endpoint = "auth/second_factor")]
pub async fn second_factor(code: String, next: Option<String>) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::SignedInVia;
    public(async move |cx| {
        let st = &cx.state;
        if let Some(pending) = cx.session.pending_second_factor().await? {
            let user_id = pending.user_id.clone();
            let how = checked_code(st, &user_id, &code).await?;
            let user = portcullis::ssr::users::get(&st.db, &user_id)
                .await?
                .ok_or(AppError::InvalidCredentials)?;
            sign_in(&cx.session, &user.id, SignedInVia::Password { otp: true }).await?;
            tracing::info!(user = ?user.username, recovery_code = how == Verified::Recovery, "signed in with password and one-time code");
            let details = [("method", "password"), ("second_factor", method(how))];
            audit_sign_in(&st.db, &actor(&user).await, &details).await;
            crate::api::auth::remember_device(st, &user.id);
            leptos_axum::redirect(&crate::api::auth::continue_to(&pending.next));
            return Ok(());
        }
        let data = cx.session.data().await?;
        let Some(user_id) = data.user_id.clone() else {
            return Err(AppError::Denied(
                "No sign-in is waiting for a code here (it waits 5 minutes). Sign in again."
                    .into(),
            ));
        };
        if data.two_factors() {
            return Err(AppError::Denied(
                "This session already has a second factor: there is nothing to give.".into(),
            ));
        }
        let how = checked_code(st, &user_id, &code).await?;
        let user = portcullis::ssr::users::get(&st.db, &user_id)
            .await?
            .ok_or(AppError::InvalidCredentials)?;
        if !cx.session.step_up().await? {
            // Signed out meanwhile (another tab): nothing was given, nothing is recorded.
            return Err(AppError::Denied(
                "This session is no longer signed in. Sign in again.".into(),
            ));
        }
        tracing::info!(user = ?user.username, recovery_code = how == Verified::Recovery, "second factor given (step-up)");
        audit_step_up(&st.db, &actor(&user).await, &[("second_factor", method(how))]).await;
        let target = sign_in_target(st, next.as_deref()).await;
        leptos_axum::redirect(&crate::api::auth::continue_to(&target));
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
use portcullis::ssr::totp::Verified;

/// `code` checked for `user_id` within the failed-password limits; a refusal is audited.
#[cfg(feature = "ssr")]
async fn checked_code(
    st: &crate::state::AppState,
    user_id: &str,
    code: &str,
) -> Result<Verified, AppError> {
    use crate::auth::*;
    let how = limited(st, user_id, async {
        Ok(
            match portcullis::ssr::totp::verify(&st.db, &st.secrets, user_id, code).await? {
                v @ (Verified::Code | Verified::Recovery) => Ok(v),
                Verified::Replayed => Err(REPLAYED),
                Verified::Wrong => Err(WRONG_CODE),
            },
        )
    })
    .await;
    if let Err(e) = &how {
        let reason = match e {
            AppError::RateLimited(_) => "rate_limited",
            AppError::Validation(_) => "wrong_code",
            _ => "error",
        };
        let mut by = portcullis::ssr::audit::Actor::user_id(user_id);
        by.client = client_ip().await.map(|c| c.to_string());
        let details = [("method", "one_time_code"), ("reason", reason)];
        audit_refused(&st.db, &by, Some(user_id), &details).await;
    }
    how
}

/// How a code was given, as the audit log names it.
#[cfg(feature = "ssr")]
fn method(how: Verified) -> &'static str {
    if how == Verified::Recovery {
        "recovery_code"
    } else {
        "one_time_code"
    }
}

#[cfg(feature = "ssr")]
const WRONG_CODE: &str = "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes.";
#[cfg(feature = "ssr")]
const REPLAYED: &str =
    "That code was already used. Wait for the next code your authenticator app shows.";

/// Runs `check` (a code or a password for `user_id`) within the failed-password limits:
/// refused while they are spent, and an `Err(message)` of `check` counts as a failure and is
/// the `code` field's error.
#[cfg(feature = "ssr")]
async fn limited<T>(
    st: &crate::state::AppState,
    user_id: &str,
    check: impl Future<Output = Result<Result<T, &'static str>, AppError>>,
) -> Result<T, AppError> {
    use portcullis::ssr::limiter::{Attempt, ClientKey};
    let ip = crate::auth::client_ip().await;
    let cookie = crate::api::auth::device_cookie(st);
    let device_id = portcullis::ssr::device::recognise(&st.secrets, cookie.as_deref(), user_id);
    let attempt = Attempt {
        account: user_id,
        client: ip.map(ClientKey::from),
        device: device_id.as_deref(),
    };
    st.limiter.check(&attempt).map_err(|wait| {
        tracing::warn!(user = ?user_id, client = ?ip, wait, "one-time code rate limited");
        AppError::RateLimited(wait)
    })?;
    match check.await? {
        Ok(v) => Ok(v),
        Err(message) => {
            tracing::info!(user = ?user_id, client = ?ip, "failed one-time code");
            st.limiter.failed(&attempt);
            Err(AppError::Validation(vec![
                portcullis::field::FieldError::new("code", message),
            ]))
        }
    }
}

/// After the owner turned one-time codes on or off: the notice for the Security page, which
/// is also the log line.
#[cfg(feature = "ssr")]
async fn changed(
    cx: &crate::auth::Ctx,
    user: &portcullis::ssr::users::UserRow,
    notice: &str,
) -> Result<(), AppError> {
    cx.session.set_notice(notice).await?;
    tracing::info!(user = ?user.username, "{notice}");
    Ok(())
}

#[server(endpoint = "account/security")]
pub async fn security() -> Result<SecurityData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::ShownOnce;
    as_user(async move |cx, user| {
        let st = &cx.state;
        let totp =
            portcullis::ssr::totp::status(&st.db, &st.secrets, &user.id, &user.username).await?;
        let messages = cx.messages().await;
        Ok(SecurityData {
            has_password: user.password_hash.is_some(),
            totp,
            passkeys: portcullis::ssr::passkeys::list(&st.db, &user.id).await?,
            passkeys_available: st.passkeys.is_some(),
            fresh_recovery_codes: cx.session.take_shown_once(ShownOnce::recovery_codes).await,
            messages,
        })
    })
    .await
}

/// What the enrolment link's page (`/passkey-enrolment?token=`) needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentPageData {
    /// The account the link adds a passkey to; `None` when the link does not work (unknown,
    /// expired or used).
    pub username: Option<String>,
    /// Passkeys can be used here (the public URL has a host name).
    pub passkeys_available: bool,
}

#[server(endpoint = "auth/enrolment_page")]
pub async fn enrolment_page(token: String) -> Result<EnrolmentPageData, AppError> {
    use crate::auth::*;
    public(async move |cx| {
        let st = &cx.state;
        let user_id = portcullis::ssr::passkeys::enrolment_user(&st.db, &token).await?;
        let user = match user_id {
            Some(id) => portcullis::ssr::users::get(&st.db, &id).await?,
            None => None,
        };
        Ok(EnrolmentPageData {
            username: user.map(|u| u.username),
            passkeys_available: st.passkeys.is_some(),
        })
    })
    .await
}

/// Removes one of the account's passkeys: it signs in no more.
#[server(endpoint = "account/passkey_remove")]
pub async fn passkey_remove(id: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_user(async move |cx, user| {
        may_change_factors(&cx.state, &cx.session, &user).await?;
        let by = actor(&user).await;
        let name = portcullis::ssr::passkeys::remove(&cx.state.db, &user.id, &id, &by).await?;
        changed(
            &cx,
            &user,
            &format!("Passkey \u{201c}{name}\u{201d} removed: it signs in no more."),
        )
        .await
    })
    .await
}

/// "Set up one-time codes": a fresh secret, shown until a code confirms it.
#[server(endpoint = "account/totp_start")]
pub async fn totp_start() -> Result<(), AppError> {
    use crate::auth::*;
    as_user(async move |cx, user| {
        if user.password_hash.is_none() {
            return Err(AppError::Denied(
                "One-time codes guard password sign-in, and this account has no password: it signs in through its identity providers.".into(),
            ));
        }
        if portcullis::ssr::totp::enabled(&cx.state.db, &user.id).await? {
            return Err(AppError::Conflict(
                "One-time codes are already on. Remove them first to set up a new app.".into(),
            ));
        }
        may_change_factors(&cx.state, &cx.session, &user).await?;
        portcullis::ssr::totp::start(&cx.state.db, &cx.state.secrets, &user.id).await?;
        tracing::info!(user = ?user.username, "started setting up one-time codes");
        Ok(())
    })
    .await
}

/// Confirms the set-up with a code from the app: the codes are on, and the recovery codes
/// are shown once.
#[server(endpoint = "account/totp_confirm")]
pub async fn totp_confirm(code: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::ShownOnce;
    as_user(async move |cx, user| {
        let st = &cx.state;
        let codes = limited(st, &user.id, async {
            let confirmed = portcullis::ssr::totp::confirm(
                &st.db,
                &st.secrets,
                &user.id,
                &user.username,
                code.trim(),
                &actor(&user).await,
            )
            .await?;
            Ok(confirmed.ok_or("That code is not right. Enter the 6-digit code your authenticator app shows now (check that the device's clock is right)."))
        })
        .await?;
        cx.session
            .set_shown_once(ShownOnce::RecoveryCodes(codes))
            .await?;
        changed(&cx, &user, "One-time codes are on: every password sign-in now asks for one.").await
    })
    .await
}

/// Removes the account's one-time codes (or a set-up not yet confirmed). Once they are on,
/// it asks for a current code, a recovery code or the password.
#[server(endpoint = "account/totp_remove")]
pub async fn totp_remove(code: Option<String>) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::totp::{self, Verified};
    as_user(async move |cx, user| {
        let st = &cx.state;
        if totp::enabled(&st.db, &user.id).await? {
            // As for passkeys: while a second factor is required anywhere, one factor (a
            // stolen password) cannot take the codes away and set up its own.
            may_change_factors(st, &cx.session, &user).await?;
            let proof = code.unwrap_or_default();
            limited(st, &user.id, async {
                let by_code = totp::verify(&st.db, &st.secrets, &user.id, &proof).await?;
                let ok = matches!(by_code, Verified::Code | Verified::Recovery)
                    || portcullis::ssr::password::verify(proof.clone(), user.password_hash.clone())
                        .await;
                Ok(if ok { Ok(()) } else { Err("Enter a current code from your authenticator app, a recovery code or your password to remove one-time codes.") })
            })
            .await?;
        }
        totp::remove(&st.db, &user.id, &actor(&user).await).await?;
        changed(&cx, &user, "One-time codes are off: password sign-in no longer asks for one.").await
    })
    .await
}
