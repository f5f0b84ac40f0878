//! Linked Accounts: the signed-in user's identities at OpenID Connect providers.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::identity::LinkedIdentity;
use portcullis::provider::LoginProvider;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedAccountsData {
    pub links: Vec<LinkedIdentity>,
    /// Enabled providers this user has not linked yet.
    pub available: Vec<LoginProvider>,
    /// Carried by "Link Account" links (see `auth::link_token`).
    pub link_token: String,
    pub messages: Messages,
}

#[server(endpoint = "account/linked_accounts")]
pub async fn linked_accounts() -> Result<LinkedAccountsData, AppError> {
    use crate::auth::*;
    as_user(async move |cx, user| {
        let db = &cx.state.db;
        let links = portcullis::ssr::identities::links_for_user(db, &user.id).await?;
        let available = portcullis::ssr::providers::login_providers(db)
            .await?
            .into_iter()
            .filter(|p| !links.iter().any(|l| l.provider_slug == p.slug))
            .collect();
        let messages = cx.messages().await;
        Ok(LinkedAccountsData {
            links,
            available,
            link_token: cx.session.link_token().await?,
            messages,
        })
    })
    .await
}

#[server(endpoint = "account/unlink")]
pub async fn unlink(slug: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::identities;
    as_user(async move |cx, user| {
        let this = cx.session.id();
        identities::unlink(
            &cx.state.db,
            &user.id,
            &slug,
            this.as_deref(),
            &actor(&user).await,
        )
        .await?;
        tracing::info!(user = ?user.username, provider = ?slug, "unlinked an identity");
        Ok(())
    })
    .await
}
