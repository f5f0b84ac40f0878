//! Applications behind forward authentication, the start-page portal, and assigned groups.
//!
//! For the UI (Settings → Applications, the portal on `/`):
//! - `list_apps()` → [`AppsSettingsData`]: every application in start-page order (admins).
//! - `app(id)` → one [`AppView`] (admins); `AppView::draft()` gives the editor's starting
//!   [`AppDraft`]; `AppDraft::new_default()` a new one. Validate as the admin types with
//!   `AppDraft::validate()` (pure, `portcullis::apps`); field names are the draft's:
//!   `name`, `urls`, `icon`, `access`, `users`, `groups`.
//! - `save_app(id, draft)`: creates (`id` empty) or updates; errors are
//!   `AppError::Validation(field errors)` like the provider editor's (a taken name is a
//!   `name` field error). On success a form post lands on [`APPS_PAGE`].
//!   The "OpenID Connect" fields are the draft's too (`portcullis::apps::ClientDraft`,
//!   flattened: `oidc`, `client_id`, `redirect_uris`, ...); saving a confidential client
//!   that has no secret yet makes one, shown once as the applications page's notice.
//! - `rotate_client_secret(id)`: a new secret at once, shown once the same way.
//! - `delete_app(id)`; reordering is `api::order::move_entry`, shared with the providers.
//! - `my_apps()` → the signed-in user's tiles ([`AppTile`]: name, url, icon URL), in order;
//!   an uploaded icon is served at `/api/v1/apps/<id>/icon?v=...`.
//! - `group_assignments(user_id)` (empty: everyone), `assign_group(user_id, group)`,
//!   `unassign_group(user_id, group)` (admins). Groups from providers' claims are not listed
//!   here (they are refreshed at each sign-in and cannot be edited).
//!
//! Every function goes through `auth::as_admin` or `auth::as_user`.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::apps::client::ClientView;
use portcullis::apps::{AppDraft, AppTile, AppView, GroupAssignment};
use serde::{Deserialize, Serialize};

/// Where the applications settings page lives.
pub const APPS_PAGE: &str = "/settings/applications";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppsSettingsData {
    pub apps: Vec<AppView>,
    /// With a new client secret as the notice, shown this once.
    pub messages: Messages,
    /// The applications that are OpenID Connect clients: (application id, client).
    pub clients: Vec<(String, ClientView)>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    /// Shows a client's new secret on the next page, once. The session row holds it until
    /// that page is read (then the notice is gone); it is never logged.
    pub async fn show_secret(
        cx: &crate::auth::Ctx,
        app_name: &str,
        secret: &str,
    ) -> Result<(), AppError> {
        cx.session
            .set_notice(&format!(
                "The client secret of {app_name} is {secret} — copy it into the application now: it is shown only this once."
            ))
            .await?;
        Ok(())
    }

    /// An application id that exists, or 404.
    pub async fn known_app(
        db: &portcullis::ssr::db::Db,
        id: &str,
    ) -> Result<portcullis::apps::App, AppError> {
        portcullis::ssr::apps::get(db, id)
            .await?
            .ok_or_else(|| AppError::NotFound("There is no such application.".into()))
    }

    /// A user id that exists, or 404.
    pub async fn known_user(
        db: &portcullis::ssr::db::Db,
        user_id: &str,
    ) -> Result<portcullis::ssr::users::UserRow, AppError> {
        portcullis::ssr::users::get(db, user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("There is no such user.".into()))
    }
}

#[server(endpoint = "admin/apps")]
pub async fn list_apps() -> Result<AppsSettingsData, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let apps = portcullis::ssr::apps::list(&cx.state.db).await?;
        Ok(AppsSettingsData {
            apps: apps.iter().map(|a| a.view()).collect(),
            messages: cx.messages().await,
            clients: portcullis::ssr::op::clients::list(&cx.state.db)
                .await?
                .into_iter()
                .map(|c| (c.app_id, c.view))
                .collect(),
        })
    })
    .await
}

#[server(endpoint = "admin/app")]
pub async fn app(id: String) -> Result<AppView, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| Ok(ssr::known_app(&cx.state.db, &id).await?.view())).await
}

/// Creates (`id` empty) or updates an application.
#[server(endpoint = "admin/save_app")]
pub async fn save_app(id: String, draft: AppDraft) -> Result<AppView, AppError> {
    use crate::auth::*;
    use portcullis::ssr::apps;
    use portcullis::ssr::op::clients;
    as_admin(async move |cx, admin| {
        let st = &cx.state;
        let mut draft = draft;
        draft.http_image_origin = st.icons.http_origin();
        let valid = draft.validate().map_err(AppError::Validation)?;
        if let Some(c) = &valid.client {
            clients::check(&st.db, (!id.is_empty()).then_some(id.as_str()), c).await?;
        }
        let saved = if id.is_empty() {
            apps::create(&st.db, &valid, &actor(&admin).await).await?
        } else {
            apps::update(&st.db, &id, &valid, &actor(&admin).await).await?
        };
        let secret = clients::save(&st.db, &saved.id, &saved.settings.name, valid.client.as_ref()).await;
        // After both writes: a load that began between them would keep the old client.
        st.apps.invalidate();
        let secret = secret?;
        if let Some(secret) = secret {
            ssr::show_secret(&cx, &saved.settings.name, &secret).await?;
        }
        tracing::info!(admin = ?admin.username, app = ?saved.settings.name, id = ?saved.id, "application saved");
        leptos_axum::redirect(APPS_PAGE);
        Ok(saved.view())
    })
    .await
}

/// A new client secret for application `id`, replacing the old one at once; shown once on
/// the applications page.
#[server(endpoint = "admin/rotate_client_secret")]
pub async fn rotate_client_secret(id: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_admin(async move |cx, admin| {
        let app = ssr::known_app(&cx.state.db, &id).await?;
        let secret =
            portcullis::ssr::op::clients::rotate_secret(&cx.state.db, &id, &actor(&admin).await)
                .await;
        // The old secret stops working at once here (the cache keeps clients).
        cx.state.apps.invalidate();
        let secret = secret?;
        ssr::show_secret(&cx, &app.settings.name, &secret).await?;
        tracing::info!(admin = ?admin.username, app = ?app.settings.name, "client secret rotated");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/delete_app")]
pub async fn delete_app(id: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_admin(async move |cx, admin| {
        portcullis::ssr::apps::delete(&cx.state.db, &id, &actor(&admin).await).await?;
        cx.state.apps.invalidate();
        tracing::info!(admin = ?admin.username, id = ?id, "application deleted");
        Ok(())
    })
    .await
}

/// The applications the signed-in user may open, as start-page tiles.
#[server(endpoint = "my_apps")]
pub async fn my_apps() -> Result<Vec<AppTile>, AppError> {
    use crate::auth::*;
    as_user(async move |cx, user| {
        let apps = portcullis::ssr::apps::visible_to(&cx.state.db, &user).await?;
        Ok(apps.iter().map(|a| a.tile()).collect())
    })
    .await
}

/// Assigned groups of one user, or of everyone when `user_id` is empty.
#[server(endpoint = "admin/group_assignments")]
pub async fn group_assignments(user_id: String) -> Result<Vec<GroupAssignment>, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let user = (!user_id.is_empty()).then_some(user_id.as_str());
        Ok(portcullis::ssr::groups::assignments(&cx.state.db, user).await?)
    })
    .await
}

#[server(endpoint = "admin/assign_group")]
pub async fn assign_group(user_id: String, group: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::field::FieldError;
    as_admin(async move |cx, admin| {
        let group = group.trim().to_owned();
        portcullis::apps::check_group(&group)
            .map_err(|m| AppError::Validation(vec![FieldError::new("group", m)]))?;
        let user = ssr::known_user(&cx.state.db, &user_id).await?;
        portcullis::ssr::groups::assign(&cx.state.db, &user.id, &group, &actor(&admin).await).await?;
        tracing::info!(admin = ?admin.username, user = ?user.username, group = ?group, "group assigned");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/unassign_group")]
pub async fn unassign_group(user_id: String, group: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_admin(async move |cx, admin| {
        let user = ssr::known_user(&cx.state.db, &user_id).await?;
        portcullis::ssr::groups::unassign(&cx.state.db, &user.id, group.trim(), &actor(&admin).await).await?;
        tracing::info!(admin = ?admin.username, user = ?user.username, group = ?group, "group unassigned");
        Ok(())
    })
    .await
}
