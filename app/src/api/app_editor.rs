//! What the application editor page loads (administrators): the application, the one
//! plain-http image origin the server accepts for icons (so the live check agrees with the
//! server's), and the error a form posted without JavaScript left for the page. The saving
//! itself is `api::apps::save_app`.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::apps::AppView;
use portcullis::apps::client::ClientView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEditorData {
    /// `None` for a new application.
    pub app: Option<AppView>,
    /// Its OpenID Connect client, if it is one.
    pub client: Option<ClientView>,
    /// The discovery URL applications are given (the issuer's).
    pub discovery_url: String,
    pub http_image_origin: Option<String>,
    pub messages: Messages,
}

/// The editor's data for application `id` (empty: a new one).
#[server(endpoint = "admin/app_editor")]
pub async fn app_editor(id: String) -> Result<AppEditorData, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let db = &cx.state.db;
        let client = if id.is_empty() {
            None
        } else {
            portcullis::ssr::op::clients::get(db, &id)
                .await?
                .map(|c| c.view)
        };
        let app = if id.is_empty() {
            None
        } else {
            let app = portcullis::ssr::apps::get(&cx.state.db, &id).await?;
            Some(
                app.map(|a| a.view())
                    .ok_or_else(|| AppError::NotFound("There is no such application.".into()))?,
            )
        };
        Ok(AppEditorData {
            app,
            client,
            discovery_url: format!(
                "{}{}",
                cx.state.public_url,
                portcullis::ssr::op::metadata::DISCOVERY_PATH
            ),
            http_image_origin: cx.state.icons.http_origin(),
            messages: cx.flash().await,
        })
    })
    .await
}
