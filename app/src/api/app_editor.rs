//! What the application editor page loads (administrators): the application, the one
//! plain-http image origin the server accepts for icons (so the live check agrees with the
//! server's), and the error a form posted without JavaScript left for the page. The saving
//! itself is `api::apps::save_app`.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::apps::AppView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEditorData {
    /// `None` for a new application.
    pub app: Option<AppView>,
    pub http_image_origin: Option<String>,
    pub flash: Option<AppError>,
}

/// The editor's data for application `id` (empty: a new one).
#[server(endpoint = "admin/app_editor")]
pub async fn app_editor(id: String) -> Result<AppEditorData, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
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
            http_image_origin: cx.state.icons.http_origin(),
            flash: cx.take_flash().await,
        })
    })
    .await
}
