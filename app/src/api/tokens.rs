//! Profile → Tokens: the caller's personal access tokens (forward auth reads them from
//! `Authorization`; `portcullis::tokens`). Made here (shown once), listed without the
//! token, revoked.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::tokens::{TokenDraft, TokenView};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensData {
    pub tokens: Vec<TokenView>,
    /// The applications a new token may name: those that allow tokens and the caller may
    /// open, as (id, name).
    pub apps: Vec<(String, String)>,
    /// A token just made, as (name, token): shown this once, never again.
    pub new_token: Option<(String, String)>,
    pub messages: Messages,
}

/// The applications `user` may name in a token, among `apps`.
#[cfg(feature = "ssr")]
async fn token_apps(
    st: &crate::state::AppState,
    user: &portcullis::ssr::users::UserRow,
    apps: Vec<portcullis::apps::App>,
) -> Result<Vec<portcullis::apps::App>, AppError> {
    let visible = portcullis::ssr::apps::visible_among(&st.db, user, apps).await?;
    Ok(visible
        .into_iter()
        .filter(|a| a.settings.allow_tokens)
        .collect())
}

#[server(endpoint = "account/tokens")]
pub async fn my_tokens() -> Result<TokensData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::ShownOnce;
    as_user(async move |cx, user| {
        let st = &cx.state;
        let all = portcullis::ssr::apps::list(&st.db).await?;
        let name = |id: &str| {
            all.iter()
                .find(|a| a.id == id)
                .map(|a| a.settings.name.clone())
        };
        let tokens = portcullis::ssr::tokens::list(&st.db, &user.id, name).await?;
        // One read of the applications: the tokens' names, and those a new one may open.
        let apps = token_apps(st, &user, all)
            .await?
            .into_iter()
            .map(|a| (a.id, a.settings.name))
            .collect();
        let messages = cx.messages().await;
        Ok(TokensData {
            tokens,
            apps,
            new_token: cx.session.take_shown_once(ShownOnce::token).await,
            messages,
        })
    })
    .await
}

/// Makes a token for the caller, for applications that allow tokens and the caller may
/// open; the Tokens page shows it once.
#[server(endpoint = "account/create_token")]
pub async fn create_token(draft: TokenDraft) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::session::ShownOnce;
    as_user(async move |cx, user| {
        let st = &cx.state;
        let valid = draft.validate().map_err(AppError::Validation)?;
        let all = portcullis::ssr::apps::list(&st.db).await?;
        let offered = token_apps(st, &user, all).await?;
        if let Some(other) = valid.apps.iter().find(|id| !offered.iter().any(|a| &a.id == *id)) {
            tracing::info!(user = ?user.username, app = ?other, "token for an application not offered; refused");
            return Err(AppError::Validation(vec![portcullis::field::FieldError::new(
                "apps",
                "Choose among the applications listed: only those that allow tokens and that you may open.",
            )]));
        }
        let two_factors = cx.session.data().await?.two_factors();
        let (view, token) = portcullis::ssr::tokens::create(&st.db, &user.id, &valid, two_factors, &actor(&user).await).await?;
        tracing::info!(user = ?user.username, token = ?view.id, apps = ?view.apps, "personal access token made");
        cx.session
            .set_shown_once(ShownOnce::Token {
                name: view.name,
                token,
            })
            .await?;
        Ok(())
    })
    .await
}

/// Revokes one of the caller's tokens.
#[server(endpoint = "account/revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_user(async move |cx, user| {
        portcullis::ssr::tokens::revoke(&cx.state.db, &id, Some(&user.id), &actor(&user).await)
            .await?;
        tracing::info!(user = ?user.username, token = ?id, "personal access token revoked");
        cx.session.set_notice("The token is revoked.").await?;
        Ok(())
    })
    .await
}
