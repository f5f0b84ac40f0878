//! Sessions: a user's own (Profile → Sessions) and, for administrators, anyone's (the users
//! page). Sessions are named by their handle, never by their id (`manage::handle`).

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::sessions::SessionView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionsData {
    pub sessions: Vec<SessionView>,
    pub messages: Messages,
}

#[server(endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<SessionsData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::manage;
    as_user(async move |cx, user| {
        let this = cx.session.id();
        let sessions = manage::list(&cx.state.db, Some(&user.id), this.as_deref()).await?;
        let messages = cx.messages().await;
        Ok(SessionsData { sessions, messages })
    })
    .await
}

/// What "no such session" says: the same whether the handle is unknown or someone else's,
/// so a handle cannot be probed.
#[cfg(feature = "ssr")]
fn not_found() -> AppError {
    AppError::NotFound("That session has already ended.".into())
}

/// Ends one of the caller's own sessions ("Sign out" on a row of the sessions page).
#[server(endpoint = "account/end_session")]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::manage;
    as_user(async move |cx, user| {
        let this = cx.session.id();
        let ended = manage::end(
            &cx.state.db,
            &handle,
            Some(&user.id),
            this.as_deref(),
            &actor(&user).await,
        )
        .await?
        .ok_or_else(not_found)?;
        tracing::info!(user = ?user.username, session = ?handle, "signed out a session");
        if ended.was_current {
            cx.session.sign_out().await?;
        } else {
            cx.session.set_notice("That session is signed out.").await?;
        }
        Ok(())
    })
    .await
}

/// "Sign out everywhere else": every session of the caller but this one.
#[server(endpoint = "account/end_other_sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::manage;
    as_user(async move |cx, user| {
        let this = cx.session.id().ok_or(AppError::Unauthorized)?;
        let n = manage::end_others(&cx.state.db, &user.id, &this, &actor(&user).await).await?;
        tracing::info!(user = ?user.username, ended = n, "signed out everywhere else");
        let message = match n {
            0 => "There were no other sessions.".to_owned(),
            1 => "Signed out 1 other session.".to_owned(),
            n => format!("Signed out {n} other sessions."),
        };
        cx.session.set_notice(&message).await?;
        Ok(())
    })
    .await
}

/// Ends any user's session (the users page). An administrator ending their own current
/// session is signed out like anyone else.
#[server(endpoint = "admin/end_session")]
pub async fn admin_end_session(user_id: String, handle: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::manage;
    as_admin(async move |cx, admin| {
        let this = cx.session.id();
        let ended = manage::end(&cx.state.db, &handle, Some(&user_id), this.as_deref(), &actor(&admin).await)
            .await?
            .ok_or_else(not_found)?;
        tracing::info!(admin = ?admin.username, user = ?user_id, session = ?handle, "administrator ended a session");
        if ended.was_current {
            cx.session.sign_out().await?;
        }
        Ok(())
    })
    .await
}
